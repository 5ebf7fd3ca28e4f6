//! The checks in front of the routes: the `Host` check (every route), and authentication of `/api`, `/media` and `/metrics`: the Bearer token or a login session's
//! cookie, the CSRF check for cookie-authenticated changes, and a growing delay (`throttle.rs`)
//! for a peer that keeps presenting bad credentials.
//!
//! Decisions use the socket's peer address and the request's own credentials, never a header a
//! client could forge to look local (`X-Forwarded-For`: Miniflux CVE-2023-27591).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::host::same_site;
use super::problem::{Problem, ProblemKind};
use super::state::ApiState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vfetch_session";
/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Bearer,
    Cookie,
}

/// Lets a request through only with a valid token or session (and, for a cookie that changes
/// state, from this listener's own pages).
pub async fn require(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/metrics" && metrics_open(&state) {
        return next.run(request).await;
    }
    let delay = state.throttle.delay(peer.ip());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let credential = match credential(&state, request.headers()) {
        Ok(credential) => credential,
        Err(problem) => {
            state.throttle.failed(peer.ip());
            tracing::debug!(peer = %peer.ip(), "refused an HTTP request without valid credentials");
            return problem.into_response();
        }
    };
    state.throttle.succeeded(peer.ip());
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if credential == Credential::Cookie && !safe && !same_site(&state.hosts, request.headers()) {
        return Problem::new(
            ProblemKind::Forbidden,
            "a change made with the session cookie must come from this server's own pages \
             (Origin or Sec-Fetch-Site); scripts use Authorization: Bearer instead",
        )
        .into_response();
    }
    next.run(request).await
}

/// `/metrics` answers without credentials when `metrics_public` is on and only this host can
/// reach the listener.
fn metrics_open(state: &ApiState) -> bool {
    state.shared.config().metrics_public && state.local.ip().is_loopback()
}

fn credential(state: &ApiState, headers: &HeaderMap) -> Result<Credential, Problem> {
    let access = &state.shared.web;
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        return match token {
            Some(token) if access.token_matches(token) => Ok(Credential::Bearer),
            _ => Err(Problem::new(
                ProblemKind::Unauthenticated,
                "the Bearer token is not the one in the daemon's web.token",
            )),
        };
    }
    match session_cookie(headers) {
        Some(session) if access.session_valid(session) => Ok(Credential::Cookie),
        Some(_) => Err(Problem::new(
            ProblemKind::Unauthenticated,
            "the session has ended; open a new link from `vfetchctl web`",
        )),
        None => Err(Problem::new(
            ProblemKind::Unauthenticated,
            "send Authorization: Bearer <token> (the token is in the daemon's web.token) or \
             log in with the link `vfetchctl web` prints",
        )),
    }
}

/// Whether the request carries a live browser session (the dashboard decides which page `/`
/// is by it).
pub fn has_session(state: &ApiState, headers: &HeaderMap) -> bool {
    session_cookie(headers).is_some_and(|s| state.shared.web.session_valid(s))
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Refuses (421) a request whose `Host` does not name this listener.
pub async fn check_host(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        Some(host) if state.hosts.accepts(host) => next.run(request).await,
        _ => Problem::new(
            ProblemKind::MisdirectedRequest,
            "the Host header does not name this server; use the address `vfetchctl web` prints",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; vfetch_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&headers), Some("abc"));
    }
}
