//! The endpoints the original Video Fetcher Pro (Flask) offered, with its request and response
//! shapes, so its scripts keep working: `POST /api/fetch`, `GET /api/status/{id}`,
//! `/api/search/suggestions`, `/api/themes/popular`, `/api/export/metadata/{id}`. Its
//! `/api/stats`, `/api/history` and `/api/cleanup` are the resource routes (`insight.rs`),
//! whose answers carry the original's keys too.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::jobs::NewJobBody;
use crate::daemon::http::extract::{Body, JobPath, Params};
use crate::daemon::http::json;
use crate::daemon::http::openapi::problems;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::insight::ThemeCount;
use crate::job::Job;
use crate::protocol::{ExportPage, ExportPageQuery, JobDetail, Request, ThemesQuery};
use crate::schema;

/// Suggestions and popular themes when `limit` is not given.
const DEFAULT_SUGGESTIONS: u32 = 10;
/// Export records asked for per page.
const EXPORT_PAGE: u32 = 200;

/// The original's routes.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; fetch))
        .routes(routes!(build; job_status))
        .routes(routes!(build; suggestions))
        .routes(routes!(build; popular))
        .routes(routes!(build; export_metadata))
}

/// `{"theme","count","sources":"all"|"pexels,pixabay","quality","orientation"}`: queues a job
/// exactly as `POST /api/jobs` does.
#[utoipa::path(post, path = "/api/fetch", tag = "original", request_body = NewJobBody,
    responses(
        (status = 202, description = "The job, queued", body = schema::FetchAccepted,
            headers(("Location" = String, description = "The job's `/api/status/{id}`"))),
        problems::BadBody, problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
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

/// One job's progress, in the original's shape.
#[utoipa::path(get, path = "/api/status/{id}", tag = "original", params(JobPath),
    responses(
        (status = 200, description = "The job's progress", body = schema::JobProgress),
        problems::NotFound, problems::Unauthenticated, problems::Unavailable,
    ))]
async fn job_status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    let detail: JobDetail = call(&state, peer, Request::Show(id)).await?;
    Ok(Json(json::job_status(&detail)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SuggestParams {
    /// What the user typed so far.
    #[serde(default)]
    q: String,
    /// At most this many (default 10).
    limit: Option<u32>,
}

/// Searched themes starting with `q`, most used first.
#[utoipa::path(get, path = "/api/search/suggestions", tag = "original", params(SuggestParams),
    responses(
        (status = 200, description = "Themes", body = schema::Suggestions),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PopularParams {
    /// At most this many (default 10).
    limit: Option<u32>,
}

/// The most searched themes.
#[utoipa::path(get, path = "/api/themes/popular", tag = "original", params(PopularParams),
    responses(
        (status = 200, description = "Themes with their counts", body = schema::PopularThemes),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
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
#[utoipa::path(get, path = "/api/export/metadata/{id}", tag = "original", params(JobPath),
    responses(
        (status = 200, description = "The job's videos", body = schema::ExportMetadata),
        problems::NotFound, problems::Unauthenticated, problems::Unavailable,
    ))]
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
    Ok(Json(json::export_metadata(id, records)))
}
