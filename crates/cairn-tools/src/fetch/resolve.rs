//! Name resolution for the fetcher, and the guard that makes it the only way to connect.
//!
//! The HTTP client is given [`GuardedResolver`] as its DNS resolver: every connection it
//! opens goes to addresses this guard returned, and the guard returns addresses only after
//! checking all of them. Checking and connecting therefore use the same answer; there is no
//! second lookup a rebinding DNS server could answer differently.

use std::{io, net::IpAddr, net::SocketAddr, sync::Arc};

use async_trait::async_trait;
use ipnet::IpNet;

use super::address;
use crate::ToolError;

/// Turns a host name into addresses. Injectable so tests (and operators with their own
/// DNS needs) can decide what a name resolves to.
#[async_trait]
pub trait Resolver: Send + Sync {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver (getaddrinfo, through tokio's blocking pool).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        Ok(addrs.map(|addr| addr.ip()).collect())
    }
}

/// Resolves through the inner resolver and refuses the whole answer if any address in it
/// is not allowed: a name that mixes a public and a private address is a rebinding trick,
/// not a site to fetch.
pub(crate) struct GuardedResolver {
    pub(crate) inner: Arc<dyn Resolver>,
    pub(crate) allow_networks: Arc<[IpNet]>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let inner = Arc::clone(&self.inner);
        let allow_networks = Arc::clone(&self.allow_networks);
        let host = name.as_str().to_string();
        Box::pin(async move {
            guarded_lookup(&*inner, &host, &allow_networks)
                .await
                .map_err(|refusal| {
                    // Boxed as a ToolError itself (not a Box of one) so the fetcher can find it
                    // again in the client's error chain.
                    let boxed: Box<dyn std::error::Error + Send + Sync> = refusal.into();
                    boxed
                })
        })
    }
}

async fn guarded_lookup(
    inner: &dyn Resolver,
    host: &str,
    allow_networks: &[IpNet],
) -> Result<reqwest::dns::Addrs, ToolError> {
    let addrs = inner
        .lookup(host)
        .await
        .map_err(|error| ToolError::Resolve {
            host: host.to_string(),
            reason: error.to_string(),
        })?;
    if addrs.is_empty() {
        return Err(ToolError::Resolve {
            host: host.to_string(),
            reason: "no addresses".into(),
        });
    }
    for &ip in &addrs {
        address::check(host, ip, allow_networks)?;
    }
    // Port 0 is replaced by the URL's port by the client.
    Ok(Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0))))
}
