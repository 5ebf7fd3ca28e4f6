//! Name resolution for the shared HTTP client: hickory-resolver (the resolver reqwest's own
//! `hickory-dns` feature uses) with the egress filter on top.
//!
//! hickory reads the system's configuration (/etc/resolv.conf: name servers, search domains,
//! ndots, timeout, attempts; /etc/hosts) and caches each answer for its record's TTL, so a
//! provider that moves its hosts is followed as soon as its DNS says so, and a long-running
//! daemon that opens many connections to the same few hosts does not ask for each one.
//!
//! Every answer, cached or fresh, then passes the [`EgressPolicy`]: a name that resolves only to
//! internal addresses is refused here, and since the connection goes to what this returns, the
//! addresses checked are the addresses reached.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::TokioResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::OnceCell;

use crate::egress::EgressPolicy;

/// Where the resolver sends its questions.
#[derive(Debug, Clone, Copy)]
enum Upstream {
    /// The name servers of /etc/resolv.conf, after /etc/hosts.
    System,
    /// Only the name server at this address (UDP, then TCP for truncated answers).
    At(SocketAddr),
}

/// Resolves through hickory (answers cached for their TTL) and filters every answer through the
/// egress policy. Cheap to clone: clones share one resolver and its cache.
#[derive(Clone)]
pub struct CachingResolver {
    /// Built on first use, inside the runtime that runs the lookups (hickory's sockets belong
    /// to a tokio runtime, and the client may be built before one is running).
    resolver: Arc<OnceCell<TokioResolver>>,
    upstream: Upstream,
    egress: EgressPolicy,
}

impl CachingResolver {
    /// A resolver configured like the system's, whose answers obey `egress` (as it is at each
    /// lookup).
    pub fn new(egress: EgressPolicy) -> CachingResolver {
        CachingResolver::asking(Upstream::System, egress)
    }

    /// A resolver that asks only the name server at `server` and ignores /etc/hosts: for tests
    /// (a DNS server on a local port) and for embedders that choose their own server.
    pub fn with_name_server(server: SocketAddr, egress: EgressPolicy) -> CachingResolver {
        CachingResolver::asking(Upstream::At(server), egress)
    }

    fn asking(upstream: Upstream, egress: EgressPolicy) -> CachingResolver {
        CachingResolver {
            resolver: Arc::default(),
            upstream,
            egress,
        }
    }

    async fn resolver(&self) -> Result<&TokioResolver, NetError> {
        self.resolver
            .get_or_try_init(|| async { build(self.upstream) })
            .await
    }
}

/// Builds hickory's resolver for `upstream`.
fn build(upstream: Upstream) -> Result<TokioResolver, NetError> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = match upstream {
        Upstream::System => TokioResolver::builder_tokio().unwrap_or_else(|error| {
            // What the C library does without a usable resolv.conf: ask a name server on
            // this machine. /etc/hosts is still read (below, by `build`).
            tracing::warn!(
                %error,
                "cannot use /etc/resolv.conf; asking the name server on 127.0.0.1"
            );
            let local = NameServerConfig::udp_and_tcp(IpAddr::V4(Ipv4Addr::LOCALHOST));
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![local]),
                provider.clone(),
            )
        }),
        Upstream::At(server) => {
            let mut config = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut config.connections {
                connection.port = server.port();
            }
            let mut builder = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![config]),
                provider,
            );
            builder.options_mut().use_hosts_file = ResolveHosts::Never;
            builder
        }
    };
    let options: &mut ResolverOpts = builder.options_mut();
    // Both families, as getaddrinfo gives them: the egress filter must see every address a
    // connection may go to, and reqwest's happy eyeballs picks among them.
    options.ip_strategy = LookupIpStrategy::Ipv6AndIpv4;
    builder.build()
}

impl Resolve for CachingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str();
            let lookup = this.resolver().await?.lookup_ip(host).await?;
            // Port 0: reqwest puts the URL's port in afterwards.
            let addrs: Vec<SocketAddr> = lookup.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            // The refusal itself becomes the boxed error (not wrapped in io::Error, whose
            // source() would skip it), so callers find it in the error chain.
            let allowed = this.egress.filter(host, addrs)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn localhost_resolves_through_the_hosts_file() {
        let resolver = CachingResolver::new(EgressPolicy::new(true, [""; 0]));
        let name = Name::from_str("localhost").unwrap();
        let addrs: Vec<_> = resolver.resolve(name).await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
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
