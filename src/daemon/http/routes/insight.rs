//! What happened and how the daemon is: `GET /api/status`, `/api/stats`, `/api/history`,
//! `/api/themes`, and `POST /api/cleanup`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::parse;
use crate::daemon::http::extract::{Body, Params};
use crate::daemon::http::json;
use crate::daemon::http::openapi::{json_schema, problems};
use crate::daemon::http::problem::Problem;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::insight::{
    CleanupQuery, CleanupReport, HistoryQuery, HistoryRow, Period, Stats, ThemeCount,
};
use crate::protocol::{Request, StatsQuery, StatusView, ThemesQuery};
use crate::schema;

/// Defaults as `vfetchctl stats`, `history` and `themes` have them.
const DEFAULT_DAYS: u32 = 30;
const DEFAULT_HISTORY: u32 = 20;
const DEFAULT_THEMES: u32 = 20;

/// The insight routes.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; status))
        .routes(routes!(build; stats))
        .routes(routes!(build; history))
        .routes(routes!(build; themes))
        .routes(routes!(build; cleanup))
}

/// The daemon's health and queue summary (as `vfetchctl status`).
#[utoipa::path(get, path = "/api/status", tag = "insight",
    responses(
        (status = 200, description = "The daemon's status", body = schema::Status),
        problems::Unauthenticated, problems::Unavailable,
    ))]
async fn status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let status: StatusView = call(&state, peer, Request::Status).await?;
    Ok(Json(json::status(&status)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsParams {
    /// Over the last this many days (default 30).
    days: Option<u32>,
    /// Periods of `day` (default), `week` or `month`.
    by: Option<String>,
}

/// `?days=30&by=day`: `stats --json`'s shape and the original's keys in one document.
#[utoipa::path(get, path = "/api/stats", tag = "insight", params(StatsParams),
    responses(
        (status = 200, description = "Statistics", body = schema::StatsAnswer),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryParams {
    /// At most this many (default 20).
    limit: Option<u32>,
    /// Only downloads of jobs with this theme.
    theme: Option<String>,
    /// Only downloads in this state.
    state: Option<String>,
}

/// Finished downloads, newest first (as `vfetchctl history`).
#[utoipa::path(get, path = "/api/history", tag = "insight", params(HistoryParams),
    responses(
        (status = 200, description = "Finished downloads, newest first", body = Vec<schema::HistoryEntry>),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ThemesParams {
    /// Only themes starting with this.
    prefix: Option<String>,
    /// At most this many (default 20).
    limit: Option<u32>,
}

/// Searched themes, most used first (as `vfetchctl themes`).
#[utoipa::path(get, path = "/api/themes", tag = "insight", params(ThemesParams),
    responses(
        (status = 200, description = "Themes with their counts", body = Vec<schema::ThemeCount>),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
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
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CleanupBody {
    /// Records last changed more than this many days ago.
    #[serde(alias = "days")]
    older_than_days: u32,
    /// Only failed and cancelled jobs and unsuccessful downloads.
    #[serde(default)]
    failed_only: bool,
    /// Show what would be removed, remove nothing.
    #[serde(default)]
    dry_run: bool,
    /// Also delete the removed downloads' files from the library.
    #[serde(default)]
    delete_files: bool,
}

json_schema!(Deserialize: CleanupBody);

/// Removes old records (as `vfetchctl cleanup`); also the original's `/api/cleanup`.
#[utoipa::path(post, path = "/api/cleanup", tag = "insight", request_body = CleanupBody,
    responses(
        (status = 200, description = "What was (or would be) removed", body = schema::CleanupReport),
        problems::BadBody, problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
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
