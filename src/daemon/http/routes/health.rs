//! `GET /health`: the one route without authentication, so it says nothing secret: whether the
//! database can be read, how many jobs there are, how many downloads run.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::daemon::http::json;
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::{Request, StatusView};

/// `/health`.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/health", get(health))
}

/// 200 and "healthy" when the status (which reads the database) can be had; 503 otherwise.
async fn health(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> (StatusCode, Json<Value>) {
    match call::<StatusView>(&state, peer, Request::Status).await {
        Ok(status) => (
            StatusCode::OK,
            Json(json::health(
                true,
                Some(status.jobs.values().sum()),
                status.active_downloads as usize,
            )),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json::health(false, None, 0)),
        ),
    }
}
