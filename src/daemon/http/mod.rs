//! The HTTP transport, a sibling of the socket's (`server.rs`): every route turns into a
//! [`protocol::Request`](crate::protocol::Request) answered by the same
//! [`handlers::handle`](super::handlers::handle) the socket uses, and the answer into JSON
//! (`json.rs`) or a problem document (`problem.rs`). Routes hold no business logic.
//!
//! This file binds the listener, assembles the router from each `routes/` file's `routes()`,
//! and serves until the daemon's shutdown token is cancelled. The routes are utoipa-axum
//! `OpenApiRouter`s, so the same lists give the OpenAPI description (`openapi.rs`); the router
//! served is built without it (`register.rs`).

pub mod access;
mod auth;
mod extract;
mod host;
mod json;
mod openapi;
mod problem;
mod register;
mod routes;
mod state;
mod throttle;

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;

use super::Shared;
use crate::config::{Config, WebListen};
use extract::MAX_BODY_BYTES;
use host::Hosts;
use problem::{Problem, ProblemKind};
use register::Build;
use state::{ApiState, Inner};
use throttle::Throttle;

/// How long shutdown waits for HTTP requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the HTTP listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen for HTTP on {addr} (web_listen): {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot use the HTTP socket passed by systemd: {0}")]
    Inherited(std::io::Error),
    #[error("cannot create the HTTP API token in {path}: {source}")]
    Token {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A bound HTTP listener, not yet serving.
pub struct Listener {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
}

/// Binds `web_listen` (or takes the socket systemd passed), creates the token, and enables the
/// API's access state; `None` when HTTP is off, or when the default address is taken.
pub async fn bind(
    config: &Config,
    inherited: Option<OwnedFd>,
    shared_access: &access::WebAccess,
) -> Result<Option<Listener>, WebError> {
    let listener = match (inherited, config.web_listen) {
        (Some(fd), _) => {
            let std = std::net::TcpListener::from(fd);
            std.set_nonblocking(true).map_err(WebError::Inherited)?;
            tokio::net::TcpListener::from_std(std).map_err(WebError::Inherited)?
        }
        (None, WebListen::Off) => return Ok(None),
        (None, WebListen::Default(addr)) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                // A user daemon must not fail over a busy default port: run without HTTP.
                tracing::warn!(%addr, error = %e, "HTTP API off: cannot listen on the default address; set web_listen to another address or \"off\"");
                return Ok(None);
            }
        },
        (None, WebListen::Configured(addr)) => tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| WebError::Bind { addr, source })?,
    };
    let local = listener.local_addr().map_err(WebError::Inherited)?;
    let token =
        access::load_or_create_token(&config.state_dir).map_err(|source| WebError::Token {
            path: config.state_dir.join(access::TOKEN_FILE),
            source,
        })?;
    shared_access.enable(token, url_of(local));
    if !local.ip().is_loopback() {
        tracing::warn!(address = %local, "the HTTP API is reachable from other hosts over plain HTTP: put a TLS reverse proxy in front of it");
    }
    tracing::info!(url = %url_of(local), "HTTP API listening");
    Ok(Some(Listener { listener, local }))
}

/// `http://<address>` for a bound address; an unspecified one (0.0.0.0) is shown as loopback,
/// the address a local browser can use.
fn url_of(local: SocketAddr) -> String {
    let mut shown = local;
    if local.ip().is_unspecified() {
        shown.set_ip(match local {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{shown}")
}

/// Builds the router now, then returns what serves HTTP until the daemon's shutdown token is
/// cancelled and lets requests in flight finish for a moment. Building before the task runs
/// lets the daemon hand start-up's freed memory back in one go (`daemon::memory`).
pub fn serve(listener: Listener, shared: Arc<Shared>) -> impl Future<Output = ()> + Send {
    let remote = shared.config().web_allow_remote;
    let state = ApiState(Arc::new(Inner {
        hosts: Hosts::new(listener.local, remote),
        local: listener.local,
        throttle: Throttle::default(),
        shared: Arc::clone(&shared),
    }));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    async move {
        let shutdown = shared.shutdown.clone();
        let server = axum::serve(listener.listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await });
        let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
        tokio::select! {
            result = &mut server => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "the HTTP listener stopped");
                }
                return;
            }
            _ = shared.shutdown.cancelled() => {}
        }
        // Long-lived responses (event streams) would hold a graceful stop forever: bound it.
        if tokio::time::timeout(DRAIN_TIMEOUT, server).await.is_err() {
            tracing::warn!(
                "some HTTP requests did not finish within {DRAIN_TIMEOUT:?}; closing them"
            );
        }
    }
}

/// The routes that need the token or a session (`auth::require`).
fn protected_routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .merge(routes::jobs::routes(build))
        .merge(routes::control::routes(build))
        .merge(routes::insight::routes(build))
        .merge(routes::config::routes(build))
        .merge(routes::original::routes(build))
        .merge(routes::metrics::routes(build))
        .merge(routes::openapi::routes(build))
        .merge(routes::events::routes(build))
        .merge(routes::media::routes(build))
        .merge(routes::export::routes(build))
        .merge(routes::library::routes(build))
}

/// The routes anyone who can reach the listener may use; they say nothing secret.
fn public_routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .merge(routes::health::routes(build))
        .merge(routes::login::routes(build))
}

/// Every route, behind the checks that apply to it (no description: see [`Build::Serve`]).
fn router(state: ApiState) -> Router {
    let (protected, _) = protected_routes(Build::Serve)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require))
        .split_for_parts();
    let (public, _) = public_routes(Build::Serve).split_for_parts();
    Router::new()
        .merge(protected)
        .merge(public)
        // The dashboard's pages and files: not API operations, so not in the description.
        .merge(routes::ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::check_host,
        ))
        // Answers are data, never pages to render or to cache.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

async fn not_found() -> Problem {
    Problem::new(ProblemKind::NotFound, "no such route")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        ProblemKind::MethodNotAllowed,
        "this route does not take that method",
    )
}
