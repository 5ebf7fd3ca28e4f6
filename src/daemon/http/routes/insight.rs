//! What happened and how the daemon is: `GET /api/status`, `/api/stats`, `/api/history`,
//! `/api/themes`, and `POST /api/cleanup`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::parse;
use crate::daemon::http::extract::{Body, Params};
use crate::daemon::http::json;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::state::{call, ApiState};
use crate::insight::{
    CleanupQuery, CleanupReport, HistoryQuery, HistoryRow, Period, Stats, ThemeCount,
};
use crate::protocol::{Request, StatsQuery, StatusView, ThemesQuery};

/// Defaults as `vfetchctl stats`, `history` and `themes` have them.
const DEFAULT_DAYS: u32 = 30;
const DEFAULT_HISTORY: u32 = 20;
const DEFAULT_THEMES: u32 = 20;

/// The insight routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/status", get(status))
        .route("/api/stats", get(stats))
        .route("/api/history", get(history))
        .route("/api/themes", get(themes))
        .route("/api/cleanup", post(cleanup))
}

async fn status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let status: StatusView = call(&state, peer, Request::Status).await?;
    Ok(Json(json::status(&status)))
}

#[derive(Deserialize)]
struct StatsParams {
    days: Option<u32>,
    by: Option<String>,
}

/// `?days=30&by=day`: `stats --json`'s shape and the original's keys in one document.
async fn stats(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<StatsParams>,
) -> Result<Json<Value>, Problem> {
    let query = StatsQuery {
        days: params.days.unwrap_or(DEFAULT_DAYS),
        by: params
            .by
            .as_deref()
            .map(parse::<Period>)
            .transpose()?
            .unwrap_or(Period::Day),
    };
    let stats: Stats = call(&state, peer, query.into()).await?;
    Ok(Json(json::stats(&stats)))
}

#[derive(Deserialize)]
struct HistoryParams {
    limit: Option<u32>,
    theme: Option<String>,
    state: Option<String>,
}

async fn history(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<HistoryParams>,
) -> Result<Json<Value>, Problem> {
    let query = HistoryQuery {
        limit: params.limit.unwrap_or(DEFAULT_HISTORY),
        theme: params.theme,
        state: params.state.as_deref().map(parse).transpose()?,
    };
    let rows: Vec<HistoryRow> = call(&state, peer, query.into()).await?;
    Ok(Json(json::history(&rows)))
}

#[derive(Deserialize)]
struct ThemesParams {
    prefix: Option<String>,
    limit: Option<u32>,
}

async fn themes(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<ThemesParams>,
) -> Result<Json<Value>, Problem> {
    let query = ThemesQuery {
        prefix: params.prefix.unwrap_or_default(),
        limit: params.limit.unwrap_or(DEFAULT_THEMES),
    };
    let rows: Vec<ThemeCount> = call(&state, peer, query.into()).await?;
    Ok(Json(json::themes(&rows)))
}

/// `cleanup`'s options; `days` is the original's name for `older_than_days`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CleanupBody {
    #[serde(alias = "days")]
    older_than_days: u32,
    #[serde(default)]
    failed_only: bool,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    delete_files: bool,
}

async fn cleanup(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<CleanupBody>,
) -> Result<Json<Value>, Problem> {
    let query = CleanupQuery {
        older_than_days: body.older_than_days,
        failed_only: body.failed_only,
        dry_run: body.dry_run,
        delete_files: body.delete_files,
    };
    let report: CleanupReport = call(&state, peer, query.into()).await?;
    Ok(Json(json::cleanup(&report)))
}
