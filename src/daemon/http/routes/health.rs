//! `GET /health`: the one route without authentication, so it says nothing secret: whether the
//! database can be read, how many jobs there are, how many downloads run.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::json;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::{Request, StatusView};
use crate::schema;

/// `/health`.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(build; health))
}

/// 200 and "healthy" when the status (which reads the database) can be had; 503 otherwise.
#[utoipa::path(get, path = "/health", tag = "meta",
    responses(
        (status = 200, description = "The daemon reads its database", body = schema::Health),
        (status = 503, description = "The daemon cannot read its database", body = schema::Health),
    ))]
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
