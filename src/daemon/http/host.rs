//! The `Host` check against DNS rebinding, and the origin check against cross-site requests.
//!
//! A page on another site may make a browser send requests to `127.0.0.1:5001` (a form post),
//! or rebind its own name to 127.0.0.1 so that its scripts reach the daemon "same-origin". The
//! first is stopped by the CSRF check on cookie-authenticated changes (`Origin` must be this
//! listener's, or `Sec-Fetch-Site: same-origin`), the second by accepting only `Host` headers
//! that name this listener by address or as `localhost`.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};

/// The names a request may give this listener in `Host` (and its origin in `Origin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    bound: SocketAddr,
    /// Whether the listener is reachable from other hosts (`web_allow_remote`).
    remote: bool,
}

impl Hosts {
    /// The names of a listener bound at `bound`.
    pub fn new(bound: SocketAddr, remote: bool) -> Hosts {
        Hosts { bound, remote }
    }

    /// Whether `host` (a `Host` header's value) names this listener: its own address,
    /// `localhost`, `127.0.0.1` or `[::1]` with its port; on a remote listener also any IP
    /// address with its port (never a DNS name, which an attacker could rebind).
    pub fn accepts(&self, host: &str) -> bool {
        let port = self.bound.port();
        let Some((name, given_port)) = split_host(host) else {
            return false;
        };
        if given_port != port {
            return false;
        }
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let Some(ip) = parse_ip(name) else {
            return false;
        };
        ip.is_loopback() || ip == self.bound.ip() || self.remote
    }

    /// Whether `origin` (an `Origin` header's value) is this listener's own origin.
    pub fn same_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.accepts(host))
    }
}

/// `name:port` (`[v6]:port` for IPv6) into its parts; `None` without a port.
fn split_host(host: &str) -> Option<(&str, u16)> {
    let (name, port) = host.rsplit_once(':')?;
    let port = port.parse().ok()?;
    Some((name, port))
}

fn parse_ip(name: &str) -> Option<IpAddr> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse().ok()
}

/// Whether a cookie-authenticated request that changes state comes from this listener's own
/// pages: `Origin` is ours, or the browser says `Sec-Fetch-Site: same-origin`.
pub fn same_site(hosts: &Hosts, headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("same-origin") {
        return true;
    }
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| hosts.same_origin(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_listener_by_address_or_localhost_is_accepted() {
        let hosts = Hosts::new("127.0.0.1:5001".parse().unwrap(), false);
        for good in [
            "127.0.0.1:5001",
            "localhost:5001",
            "LOCALHOST:5001",
            "[::1]:5001",
        ] {
            assert!(hosts.accepts(good), "{good}");
        }
        for bad in [
            "evil.example:5001",
            "127.0.0.1:5002",
            "127.0.0.1",
            "10.0.0.5:5001",
            "",
            "localhost.evil.example:5001",
        ] {
            assert!(!hosts.accepts(bad), "{bad}");
        }
        assert!(hosts.same_origin("http://localhost:5001"));
        assert!(!hosts.same_origin("https://localhost:5001"));
        assert!(!hosts.same_origin("http://evil.example:5001"));
        assert!(!hosts.same_origin("null"));
    }

    #[test]
    fn a_remote_listener_accepts_ip_addresses_but_never_names() {
        let hosts = Hosts::new("0.0.0.0:5001".parse().unwrap(), true);
        assert!(hosts.accepts("192.0.2.7:5001"));
        assert!(hosts.accepts("[2001:db8::1]:5001"));
        assert!(!hosts.accepts("videos.example:5001"));
    }
}
