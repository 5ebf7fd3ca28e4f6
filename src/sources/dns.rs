//! A small cache in front of the system resolver, so a long-running daemon that opens many
//! connections to the same few provider hosts does not ask `getaddrinfo` for each one.
//!
//! The system resolver is kept (it honours /etc/hosts, nsswitch and the local stub resolver
//! exactly as every other program on the machine does); only successful answers are cached,
//! and only for [`TTL`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long an answer is reused; short enough to follow a provider moving its hosts.
pub const TTL: Duration = Duration::from_secs(300);

/// When an answer was fetched, and the addresses.
type Answer = (Instant, Vec<SocketAddr>);

/// Caches system-resolver answers by host name.
#[derive(Default, Clone)]
pub struct CachingResolver {
    cache: Arc<Mutex<HashMap<String, Answer>>>,
}

impl CachingResolver {
    fn cached(&self, host: &str) -> Option<Vec<SocketAddr>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(host)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, addrs)| addrs.clone())
    }
}

impl Resolve for CachingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let this = self.clone();
        Box::pin(async move {
            if let Some(addrs) = this.cached(&host) {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            // Port 0: reqwest puts the URL's port in afterwards.
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !addrs.is_empty() {
                let mut cache = this.cache.lock().unwrap_or_else(|p| p.into_inner());
                cache.insert(host, (Instant::now(), addrs.clone()));
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn answers_are_cached() {
        let resolver = CachingResolver::default();
        let name = Name::from_str("localhost").unwrap();
        let first: Vec<_> = resolver.resolve(name).await.unwrap().collect();
        assert!(!first.is_empty());
        assert_eq!(resolver.cached("localhost"), Some(first));
    }
}
