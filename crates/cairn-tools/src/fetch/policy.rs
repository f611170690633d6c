//! What an operator allows the fetcher to reach.

use std::time::Duration;

use ipnet::IpNet;

use crate::ToolError;

/// The fetch tool's limits. The defaults allow no host at all: an operator opts sites in.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Hosts that may be fetched: `example.com` (exactly that host), `*.example.com` (any
    /// subdomain, not the apex itself), or `*` (any host; the address rules still apply).
    /// Empty allows none.
    pub allow_hosts: Vec<String>,
    /// The body is cut after this many bytes (and the page marked truncated).
    pub max_bytes: usize,
    /// Covers the whole fetch: every lookup, connection, redirect and the body.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Networks the operator allows although they are not public (an intranet wiki, say).
    pub allow_networks: Vec<IpNet>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_hosts: Vec::new(),
            max_bytes: 1024 * 1024,
            timeout: Duration::from_secs(20),
            max_redirects: 5,
            allow_networks: Vec::new(),
        }
    }
}

/// One compiled `allow_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`, stored as `.example.com`.
    Subdomains(String),
}

impl HostPattern {
    /// Parses an entry the way URLs are parsed, so `Example.COM.`, `bücher.de` and
    /// `[::1]` compare equal to the host of a URL that names them.
    pub(crate) fn parse(entry: &str) -> Result<HostPattern, ToolError> {
        let entry = entry.trim();
        if entry == "*" {
            return Ok(HostPattern::Any);
        }
        let (wildcard, host) = match entry.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let invalid = |reason: &str| {
            ToolError::InvalidInput(format!("allow_hosts entry {entry:?}: {reason}"))
        };
        let url = reqwest::Url::parse(&format!("http://{host}/"))
            .map_err(|error| invalid(&error.to_string()))?;
        if url.port().is_some() || url.path() != "/" || !url.username().is_empty() {
            return Err(invalid("expected a host name only"));
        }
        let host = normalize(url.host_str().ok_or_else(|| invalid("no host"))?);
        Ok(if wildcard {
            HostPattern::Subdomains(format!(".{host}"))
        } else {
            HostPattern::Exact(host)
        })
    }

    pub(crate) fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Exact(exact) => host == exact,
            HostPattern::Subdomains(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
        }
    }
}

/// A URL's host as compared with the allow-list: lowercase (the URL parser already did
/// that), no trailing dot, IPv6 without brackets.
pub(crate) fn normalize(host: &str) -> String {
    host.trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}
