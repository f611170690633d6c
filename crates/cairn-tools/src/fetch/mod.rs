//! An HTTP(S) fetcher a model may drive without reaching what it must not (SSRF).
//!
//! Every hop of a fetch, the first request and each redirect, is checked in order:
//! 1. the scheme is http or https;
//! 2. the host is on the operator's allow-list ([`FetchPolicy::allow_hosts`]);
//! 3. every address the host stands for is public or inside
//!    [`FetchPolicy::allow_networks`] ([`is_public`]): IP literals in the URL (the URL parser
//!    has already turned `2130706433`, `0x7f.1` or `127.1` into `127.0.0.1`) are checked
//!    here, names are resolved and checked by the client's own resolver, and the client
//!    connects only to the addresses that resolver returned.
//!
//! Redirects are followed by this code, not by the client, so each target goes through the
//! same checks. System proxies are ignored: through a proxy the address checks would say
//! nothing about where the request goes. One timeout covers the whole fetch.

mod address;
mod policy;
mod resolve;

use std::{net::IpAddr, sync::Arc};

use reqwest::{StatusCode, Url, header};

pub use address::is_public;
pub use policy::FetchPolicy;
pub use resolve::{Resolver, SystemResolver};

use crate::ToolError;
use policy::HostPattern;
use resolve::GuardedResolver;

/// What a fetch returns. `text` is the body decoded as UTF-8 (invalid bytes replaced).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FetchedPage {
    /// The URL after redirects.
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    /// The body was longer than [`FetchPolicy::max_bytes`] and was cut.
    pub truncated: bool,
}

/// Fetches pages under a [`FetchPolicy`]. Cheap to share: hold one and call [`Fetcher::fetch`]
/// concurrently.
pub struct Fetcher {
    policy: FetchPolicy,
    hosts: Vec<HostPattern>,
    client: reqwest::Client,
}

impl Fetcher {
    /// A fetcher that resolves names with the system resolver.
    pub fn new(policy: FetchPolicy) -> Result<Fetcher, ToolError> {
        Fetcher::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A fetcher that resolves names with `resolver` (its answers are still checked).
    pub fn with_resolver(
        policy: FetchPolicy,
        resolver: Arc<dyn Resolver>,
    ) -> Result<Fetcher, ToolError> {
        let hosts = policy
            .allow_hosts
            .iter()
            .map(|entry| HostPattern::parse(entry))
            .collect::<Result<_, _>>()?;
        let guard = GuardedResolver {
            inner: resolver,
            allow_networks: policy.allow_networks.clone().into(),
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(guard))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(policy.timeout)
            .user_agent(concat!("cairn-fetch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                ToolError::Http(format!("could not set up the HTTP client: {error}"))
            })?;
        Ok(Fetcher {
            policy,
            hosts,
            client,
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Fetches `url` with GET, following allowed redirects.
    pub async fn fetch(&self, url: &str) -> Result<FetchedPage, ToolError> {
        let timeout = self.policy.timeout;
        tokio::time::timeout(timeout, self.fetch_within_timeout(url))
            .await
            .map_err(|_| ToolError::FetchTimeout(timeout))?
    }

    async fn fetch_within_timeout(&self, url: &str) -> Result<FetchedPage, ToolError> {
        let mut url = Url::parse(url.trim()).map_err(|error| ToolError::InvalidUrl {
            url: url.to_string(),
            reason: error.to_string(),
        })?;
        let mut redirects = 0;
        loop {
            self.check(&url)?;
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(request_error)?;
            let Some(next) = redirect_target(&url, &response)? else {
                return read_page(url, response, self.policy.max_bytes).await;
            };
            if redirects == self.policy.max_redirects {
                return Err(ToolError::TooManyRedirects(redirects));
            }
            redirects += 1;
            url = next;
        }
    }

    /// Scheme, allow-list and (for IP literals) address checks of one hop.
    fn check(&self, url: &Url) -> Result<(), ToolError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ToolError::SchemeNotAllowed(url.scheme().to_string()));
        }
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| ToolError::InvalidUrl {
                url: url.to_string(),
                reason: "no host".into(),
            })?;
        let host = policy::normalize(host);
        if !self.hosts.iter().any(|pattern| pattern.matches(&host)) {
            return Err(ToolError::HostNotAllowed(host));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            // The client would connect to a name that parses as an address without asking
            // the resolver; the URL parser should never leave one, but check anyway.
            Some(url::Host::Domain(name)) => name.parse().ok(),
            None => None,
        };
        match literal {
            Some(ip) => address::check(&host, ip, &self.policy.allow_networks),
            None => Ok(()),
        }
    }
}

/// The next URL when `response` is a redirect with a Location header.
fn redirect_target(current: &Url, response: &reqwest::Response) -> Result<Option<Url>, ToolError> {
    let redirect = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .filter(|_| redirect)
    else {
        return Ok(None);
    };
    let invalid = |reason: String| ToolError::InvalidUrl {
        url: format!("{location:?}"),
        reason,
    };
    let location = location
        .to_str()
        .map_err(|_| invalid("the redirect's Location is not text".into()))?;
    current
        .join(location)
        .map(Some)
        .map_err(|error| invalid(error.to_string()))
}

/// Streams the body up to `max_bytes`.
async fn read_page(
    url: Url,
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<FetchedPage, ToolError> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        let room = max_bytes - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FetchedPage {
        final_url: url.to_string(),
        status,
        content_type,
        text: decode(&body),
        truncated,
    })
}

/// UTF-8 with invalid bytes replaced; a character cut in half at the size cap is dropped.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(error) if error.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..error.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The guard's own refusal when the client failed in the resolver, else a plain HTTP error
/// with the innermost cause (which says what actually happened: refused, reset, TLS...).
fn request_error(error: reqwest::Error) -> ToolError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut innermost = error.to_string();
    while let Some(current) = source {
        if let Some(refusal) = current.downcast_ref::<ToolError>() {
            return clone_refusal(refusal);
        }
        innermost = current.to_string();
        source = current.source();
    }
    ToolError::Http(innermost)
}

/// The refusals the resolver raises; ToolError is not Clone (it need not be elsewhere).
fn clone_refusal(error: &ToolError) -> ToolError {
    match error {
        ToolError::AddressNotAllowed { host, addr } => ToolError::AddressNotAllowed {
            host: host.clone(),
            addr: *addr,
        },
        ToolError::Resolve { host, reason } => ToolError::Resolve {
            host: host.clone(),
            reason: reason.clone(),
        },
        other => ToolError::Http(other.to_string()),
    }
}
