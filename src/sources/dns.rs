//! A small cache in front of the system resolver, so a long-running daemon that opens many
//! connections to the same few provider hosts does not ask `getaddrinfo` for each one.
//!
//! The system resolver is kept (it honours /etc/hosts, nsswitch and the local stub resolver
//! exactly as every other program on the machine does); only successful answers are cached,
//! and only for [`TTL`].
//!
//! Every answer, cached or fresh, then passes the [`EgressPolicy`]: a name that resolves only to
//! internal addresses is refused here, and since the connection goes to what this returns, the
//! addresses checked are the addresses reached.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::egress::EgressPolicy;

/// How long an answer is reused; short enough to follow a provider moving its hosts.
pub const TTL: Duration = Duration::from_secs(300);

/// When an answer was fetched, and the addresses.
type Answer = (Instant, Vec<SocketAddr>);

/// Caches system-resolver answers by host name and filters them through the egress policy.
#[derive(Clone)]
pub struct CachingResolver {
    cache: Arc<Mutex<HashMap<String, Answer>>>,
    egress: EgressPolicy,
}

impl CachingResolver {
    /// A resolver whose answers obey `egress` (as it is at each lookup).
    pub fn new(egress: EgressPolicy) -> CachingResolver {
        CachingResolver {
            cache: Arc::default(),
            egress,
        }
    }

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
            let addrs = match this.cached(&host) {
                Some(addrs) => addrs,
                None => {
                    // Port 0: reqwest puts the URL's port in afterwards.
                    let addrs: Vec<SocketAddr> =
                        tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
                    if !addrs.is_empty() {
                        let mut cache = this.cache.lock().unwrap_or_else(|p| p.into_inner());
                        cache.insert(host.clone(), (Instant::now(), addrs.clone()));
                    }
                    addrs
                }
            };
            // The refusal itself becomes the boxed error (not wrapped in io::Error, whose
            // source() would skip it), so callers find it in the error chain.
            let allowed = this.egress.filter(&host, addrs)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn answers_are_cached() {
        let resolver = CachingResolver::new(EgressPolicy::new(true, [""; 0]));
        let name = Name::from_str("localhost").unwrap();
        let first: Vec<_> = resolver.resolve(name).await.unwrap().collect();
        assert!(!first.is_empty());
        assert_eq!(resolver.cached("localhost"), Some(first));
    }

    #[tokio::test]
    async fn a_name_for_internal_addresses_is_refused_unless_allowed() {
        let egress = EgressPolicy::new(false, [""; 0]);
        let resolver = CachingResolver::new(egress.clone());
        let name = || Name::from_str("localhost").unwrap();
        let error = match resolver.resolve(name()).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refused = crate::egress::refusal(error.as_ref()).expect("a refusal");
        assert_eq!(refused.kind, crate::egress::AddressKind::Loopback);
        assert!(refused.to_string().contains("localhost"), "{refused}");
        // The policy is read at each lookup, so a reload applies to cached names too.
        egress.configure(true, [""; 0]);
        assert!(resolver.resolve(name()).await.is_ok());
    }
}
