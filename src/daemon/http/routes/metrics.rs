//! `GET /metrics`: the Prometheus text format, for scraping the daemon directly.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::daemon::http::problem::Problem;
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::Request;

/// The exposition format's media type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics`.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<impl IntoResponse, Problem> {
    let text: String = call(&state, peer, Request::Metrics).await?;
    Ok(([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], text))
}
