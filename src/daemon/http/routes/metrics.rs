//! `GET /metrics`: the Prometheus text format, for scraping the daemon directly.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::openapi::problems;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::Request;

/// The exposition format's media type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics`.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(build; metrics))
}

/// The daemon's metrics for Prometheus. Without credentials when `metrics_public` is on and
/// the listener is on loopback.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        problems::Unauthenticated, problems::Unavailable,
    ))]
async fn metrics(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<impl IntoResponse, Problem> {
    let text: String = call(&state, peer, Request::Metrics).await?;
    Ok(([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], text))
}
