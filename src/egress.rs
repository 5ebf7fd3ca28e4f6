//! Which addresses outgoing requests may reach.
//!
//! A provider's answer is hostile: a file link (or a redirect) that points at `127.0.0.1`,
//! `169.254.169.254` or a machine on the local network would turn the daemon into a proxy into
//! places only it can reach (server-side request forgery). So every request and every redirect
//! hop is checked *after* name resolution: loopback, private, link-local, unique-local,
//! multicast and unspecified addresses are refused, unless `allow_private_addresses` is set.
//!
//! What the user configured is trusted: the sources' base URLs and the webhook, and links on
//! exactly their scheme, host and port (a local mirror, or a test server serving its own files).
//!
//! The check has two halves because reqwest does not ask the resolver about IP-literal hosts:
//! [`EgressPolicy::check_url`] runs before each request and hop (IP literals, trusted hosts on
//! another port), and [`EgressPolicy::filter`] runs inside the client's resolver, so a connection
//! only ever goes to an address that was checked — there is no second lookup to race.

use std::collections::HashSet;
use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use thiserror::Error;
use url::{Host, Url};

use crate::config::Config;

/// Longest host name shown in a refusal; a provider chooses it.
const MAX_HOST_CHARS: usize = 100;

/// The kinds of address an outgoing request must not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// `0.0.0.0/8`, `::`: "this host", which Linux connects to as loopback.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`, and the old IPv6 site-local `fec0::/10`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT: another operator's inside.
    Shared,
    /// `169.254/16` (where cloud metadata services answer), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240/4` and IPv4-compatible IPv6 (`::/96`): never a public host.
    Reserved,
}

impl AddressKind {
    /// The kind, with its article, for a sentence ("a loopback address").
    pub fn describe(self) -> &'static str {
        match self {
            AddressKind::Unspecified => "an unspecified address",
            AddressKind::Loopback => "a loopback address",
            AddressKind::Private => "a private address",
            AddressKind::Shared => "a shared (carrier-grade NAT) address",
            AddressKind::LinkLocal => "a link-local address",
            AddressKind::UniqueLocal => "a unique-local address",
            AddressKind::Multicast => "a multicast address",
            AddressKind::Broadcast => "a broadcast address",
            AddressKind::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why an address may not be reached, or `None` for a public one.
pub fn is_forbidden(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, ..] = ip.octets();
    let kind = match (a, b) {
        (0, _) => AddressKind::Unspecified,
        (10, _) | (172, 16..=31) | (192, 168) => AddressKind::Private,
        (100, 64..=127) => AddressKind::Shared,
        (127, _) => AddressKind::Loopback,
        (169, 254) => AddressKind::LinkLocal,
        (224..=239, _) => AddressKind::Multicast,
        _ if ip.is_broadcast() => AddressKind::Broadcast,
        (240..=255, _) => AddressKind::Reserved,
        _ => return None,
    };
    Some(kind)
}

fn v6_kind(ip: Ipv6Addr) -> Option<AddressKind> {
    if ip.is_unspecified() {
        return Some(AddressKind::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressKind::Loopback);
    }
    // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d, and so does 64:ff9b::a.b.c.d through NAT64.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_kind(Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7])));
    }
    let kind = match s[0] {
        _ if s[..6] == [0; 6] => AddressKind::Reserved,
        0xfc00..=0xfdff => AddressKind::UniqueLocal,
        0xfe80..=0xfebf => AddressKind::LinkLocal,
        0xfec0..=0xfeff => AddressKind::Private,
        0xff00..=0xffff => AddressKind::Multicast,
        _ => return None,
    };
    Some(kind)
}

/// An outgoing request refused because its destination is not public.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("refused: the link points to {}, {kind}", self.target())]
pub struct Refused {
    /// The host as the link named it (a name or an address), shortened.
    pub host: String,
    /// The address it is, or resolved to.
    pub address: IpAddr,
    /// Why that address is off limits.
    pub kind: AddressKind,
}

impl Refused {
    fn new(host: &str, address: IpAddr, kind: AddressKind) -> Refused {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut short: String = host
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_HOST_CHARS)
            .collect();
        if host.chars().count() > MAX_HOST_CHARS {
            short.push('…');
        }
        Refused {
            host: short,
            address,
            kind,
        }
    }

    /// "127.0.0.1", or "localhost (127.0.0.1)" when a name led there.
    fn target(&self) -> String {
        if self.host.parse::<IpAddr>().ok() == Some(self.address) {
            self.address.to_string()
        } else {
            format!("{} ({})", self.host, self.address)
        }
    }
}

/// The refusal somewhere in an error's chain of causes (the resolver's refusal reaches the
/// caller wrapped in reqwest's and hyper's connect errors).
pub fn refusal(error: &(dyn StdError + 'static)) -> Option<Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        current = e.source();
    }
    None
}

/// Scheme, host and port: what a configured base URL vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }
}

/// The rules in force; replaced whole on reload.
#[derive(Debug, Default)]
struct Rules {
    allow_private: bool,
    trusted: HashSet<Origin>,
}

/// Which addresses outgoing requests may reach. Cheap to clone; every clone sees
/// [`EgressPolicy::configure`].
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    rules: Arc<RwLock<Rules>>,
}

impl EgressPolicy {
    /// A policy trusting the origins of `trusted` (URLs that do not parse are ignored).
    pub fn new<S: AsRef<str>>(
        allow_private: bool,
        trusted: impl IntoIterator<Item = S>,
    ) -> EgressPolicy {
        let policy = EgressPolicy::default();
        policy.configure(allow_private, trusted);
        policy
    }

    /// The policy a configuration asks for.
    pub fn from_config(config: &Config) -> EgressPolicy {
        let policy = EgressPolicy::default();
        policy.configure_from(config);
        policy
    }

    /// Replaces the rules with those of `config` (on reload and `config set`).
    pub fn configure_from(&self, config: &Config) {
        self.configure(config.allow_private_addresses, trusted_urls(config));
    }

    /// Replaces the rules.
    pub fn configure<S: AsRef<str>>(
        &self,
        allow_private: bool,
        trusted: impl IntoIterator<Item = S>,
    ) {
        let trusted = trusted
            .into_iter()
            .filter_map(|u| Url::parse(u.as_ref()).ok())
            .filter_map(|u| Origin::of(&u))
            .collect();
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Rules {
            allow_private,
            trusted,
        };
    }

    fn rules(&self) -> std::sync::RwLockReadGuard<'_, Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `host` is the host of some trusted origin (on whatever scheme or port).
    fn is_trusted_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.rules().trusted.iter().any(|o| o.host == host)
    }

    /// Checks a URL before it is requested. Trusted origins pass; an IP literal is classified;
    /// a trusted host on another scheme or port is resolved and checked here, because the
    /// resolver lets that name through; any other name is left to [`EgressPolicy::filter`].
    pub async fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let trusted_host = {
            let rules = self.rules();
            if rules.allow_private || Origin::of(url).is_some_and(|o| rules.trusted.contains(&o)) {
                return Ok(());
            }
            url.host_str().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                rules.trusted.iter().any(|o| o.host == h)
            })
        };
        match url.host() {
            Some(Host::Ipv4(ip)) => check_ip(&ip.to_string(), IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => check_ip(&ip.to_string(), IpAddr::V6(ip)),
            Some(Host::Domain(name)) if trusted_host => {
                let port = url.port_or_known_default().unwrap_or(0);
                // A failed lookup is not ours to report: the request fails on its own.
                let Ok(addrs) = tokio::net::lookup_host((name, port)).await else {
                    return Ok(());
                };
                for addr in addrs {
                    check_ip(name, addr.ip())?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The resolver's answer for `host` with forbidden addresses removed (all of them kept for
    /// trusted hosts or when private addresses are allowed). When every address is forbidden,
    /// the refusal names the first.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        if self.rules().allow_private || self.is_trusted_host(host) {
            return Ok(addrs);
        }
        let mut first_refusal = None;
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match check_ip(host, a.ip()) {
                Ok(()) => true,
                Err(refused) => {
                    first_refusal.get_or_insert(refused);
                    false
                }
            })
            .collect();
        match first_refusal {
            Some(refused) if allowed.is_empty() => Err(refused),
            _ => Ok(allowed),
        }
    }
}

fn check_ip(host: &str, ip: IpAddr) -> Result<(), Refused> {
    match is_forbidden(ip) {
        Some(kind) => Err(Refused::new(host, ip, kind)),
        None => Ok(()),
    }
}

/// What the user configured, and so vouches for: the sources' base URLs, the webhook, and the
/// proxy reqwest takes from the environment (often on the local network; without trusting it
/// every request through it would be refused).
fn trusted_urls(config: &Config) -> Vec<String> {
    config
        .sources
        .values()
        .map(|s| s.base_url.clone())
        .chain(config.hooks.webhook_url.clone())
        .chain(proxy_urls(&|name| std::env::var(name).ok()))
        .collect()
}

/// The proxies named in the environment, as URLs (`proxy:3128` means `http://proxy:3128`).
/// Through a proxy the target's name is resolved by the proxy, so only IP-literal targets are
/// checked here.
fn proxy_urls(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
        .into_iter()
        .flat_map(|name| [env(name), env(&name.to_ascii_lowercase())])
        .flatten()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if v.contains("://") {
                v
            } else {
                format!("http://{v}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<AddressKind> {
        is_forbidden(text.parse().unwrap())
    }

    #[test]
    fn internal_ipv4_addresses_are_classified() {
        use AddressKind::*;
        for (ip, want) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("10.0.0.1", Private),
            ("100.64.0.1", Shared),
            ("100.127.255.254", Shared),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("169.254.169.254", LinkLocal),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
        ] {
            assert_eq!(kind(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn internal_ipv6_addresses_are_classified() {
        use AddressKind::*;
        for (ip, want) in [
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.1.2.3", Private),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("::127.0.0.1", Reserved),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Private),
            ("ff02::1", Multicast),
        ] {
            assert_eq!(kind(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "169.253.1.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2001:db8::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn a_refusal_names_the_host_and_the_kind() {
        let by_address = Refused::new(
            "127.0.0.1",
            "127.0.0.1".parse().unwrap(),
            AddressKind::Loopback,
        );
        assert_eq!(
            by_address.to_string(),
            "refused: the link points to 127.0.0.1, a loopback address"
        );
        let by_name = Refused::new("localhost", "::1".parse().unwrap(), AddressKind::Loopback);
        assert_eq!(
            by_name.to_string(),
            "refused: the link points to localhost (::1), a loopback address"
        );
        let v6 = Refused::new("[::1]", "::1".parse().unwrap(), AddressKind::Loopback);
        assert_eq!(
            v6.to_string(),
            "refused: the link points to ::1, a loopback address"
        );
    }

    #[tokio::test]
    async fn only_the_exact_trusted_origin_may_be_internal() {
        let policy = EgressPolicy::new(false, ["http://127.0.0.1:8080"]);
        let check = |u: &str| {
            let policy = policy.clone();
            let url = Url::parse(u).unwrap();
            async move { policy.check_url(&url).await }
        };
        assert_eq!(check("http://127.0.0.1:8080/files/a.mp4").await, Ok(()));
        let other_port = check("http://127.0.0.1:8081/internal-admin")
            .await
            .unwrap_err();
        assert_eq!(other_port.kind, AddressKind::Loopback);
        assert!(check("https://127.0.0.1:8080/").await.is_err());
        let metadata = check("http://169.254.169.254/latest/meta-data/")
            .await
            .unwrap_err();
        assert_eq!(metadata.kind, AddressKind::LinkLocal);
        assert!(check("http://[::ffff:127.0.0.1]:8080/").await.is_err());
        assert_eq!(check("https://example.org/a.mp4").await, Ok(()));
        policy.configure(true, ["http://127.0.0.1:8080"]);
        assert_eq!(check("http://127.0.0.1:8081/internal-admin").await, Ok(()));
    }

    #[test]
    fn resolved_answers_keep_only_public_addresses() {
        let policy = EgressPolicy::new(false, ["http://mirror.lan:8080"]);
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let refused = policy
            .filter("evil.example", vec![addr("127.0.0.1:0"), addr("[::1]:0")])
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "refused: the link points to evil.example (127.0.0.1), a loopback address"
        );
        assert_eq!(
            policy.filter("mixed.example", vec![addr("10.0.0.1:0"), addr("8.8.8.8:0")]),
            Ok(vec![addr("8.8.8.8:0")])
        );
        // The configured host itself is trusted, whatever it resolves to.
        assert_eq!(
            policy.filter("mirror.lan", vec![addr("192.168.1.5:0")]),
            Ok(vec![addr("192.168.1.5:0")])
        );
    }

    #[test]
    fn environment_proxies_are_trusted_hosts() {
        let env = |name: &str| match name {
            "https_proxy" => Some("proxy.lan:3128".to_string()),
            "ALL_PROXY" => Some("socks5://10.0.0.9:1080".to_string()),
            _ => None,
        };
        let urls = proxy_urls(&env);
        assert_eq!(urls, ["http://proxy.lan:3128", "socks5://10.0.0.9:1080"]);
        let policy = EgressPolicy::new(false, urls);
        let addr: SocketAddr = "10.0.0.8:0".parse().unwrap();
        assert_eq!(policy.filter("proxy.lan", vec![addr]), Ok(vec![addr]));
    }

    #[test]
    fn a_refusal_is_found_inside_wrapping_errors() {
        #[derive(Debug, Error)]
        #[error("connect error")]
        struct Wrapper(#[source] Box<dyn StdError + Send + Sync>);
        let refused = Refused::new("x", "10.0.0.1".parse().unwrap(), AddressKind::Private);
        let wrapped = Wrapper(Box::new(refused.clone()));
        assert_eq!(refusal(&wrapped), Some(refused));
        let plain = std::io::Error::other("nothing to see");
        assert_eq!(refusal(&plain), None);
    }
}
