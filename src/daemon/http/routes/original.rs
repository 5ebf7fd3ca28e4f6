//! The endpoints the original Video Fetcher Pro (Flask) offered, with its request and response
//! shapes, so its scripts keep working: `POST /api/fetch`, `GET /api/status/{id}`,
//! `/api/search/suggestions`, `/api/themes/popular`, `/api/export/metadata/{id}`. Its
//! `/api/stats`, `/api/history` and `/api/cleanup` are the resource routes (`insight.rs`),
//! whose answers carry the original's keys too.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::jobs::NewJobBody;
use crate::daemon::http::extract::{Body, JobPath, Params};
use crate::daemon::http::json;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::state::{call, ApiState};
use crate::insight::ThemeCount;
use crate::job::Job;
use crate::protocol::{ExportPage, ExportPageQuery, JobDetail, Request, ThemesQuery};

/// Suggestions and popular themes when `limit` is not given.
const DEFAULT_SUGGESTIONS: u32 = 10;
/// Export records asked for per page.
const EXPORT_PAGE: u32 = 200;

/// The original's routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/fetch", post(fetch))
        .route("/api/status/{id}", get(job_status))
        .route("/api/search/suggestions", get(suggestions))
        .route("/api/themes/popular", get(popular))
        .route("/api/export/metadata/{id}", get(export_metadata))
}

/// `{"theme","count","sources":"all"|"pexels,pixabay","quality","orientation"}`: queues a job
/// exactly as `POST /api/jobs` does.
async fn fetch(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<NewJobBody>,
) -> Result<impl IntoResponse, Problem> {
    let job: Job = call(&state, peer, body.into_new_job()?.into()).await?;
    let location = format!("/api/status/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(json::fetch_accepted(&job)),
    ))
}

async fn job_status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    let detail: JobDetail = call(&state, peer, Request::Show(id)).await?;
    Ok(Json(json::job_status(&detail)))
}

#[derive(Deserialize)]
struct SuggestParams {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

async fn suggestions(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<SuggestParams>,
) -> Result<Json<Value>, Problem> {
    let query = ThemesQuery {
        prefix: params.q,
        limit: params.limit.unwrap_or(DEFAULT_SUGGESTIONS),
    };
    let rows: Vec<ThemeCount> = call(&state, peer, query.into()).await?;
    Ok(Json(json::suggestions(&rows)))
}

#[derive(Deserialize)]
struct PopularParams {
    limit: Option<u32>,
}

async fn popular(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<PopularParams>,
) -> Result<Json<Value>, Problem> {
    let query = ThemesQuery {
        prefix: String::new(),
        limit: params.limit.unwrap_or(DEFAULT_SUGGESTIONS),
    };
    let rows: Vec<ThemeCount> = call(&state, peer, query.into()).await?;
    Ok(Json(json::popular(&rows)))
}

/// Every finished video of one job with its attribution, page by page from the handler.
async fn export_metadata(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let query = ExportPageQuery {
            job: Some(id),
            after,
            limit: EXPORT_PAGE,
        };
        let page: ExportPage = call(&state, peer, Request::ExportPage(query)).await?;
        records.extend(page.records);
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(Json(json::export_metadata(id, &records)))
}
