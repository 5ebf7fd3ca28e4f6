//! Pause, resume and priority: `POST /api/jobs/{id}/pause|resume`, `PUT
//! /api/jobs/{id}/priority`, `POST /api/pause|resume` (every job).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::extract::{Body, JobPath};
use crate::daemon::http::json;
use crate::daemon::http::openapi::{json_schema, problems};
use crate::daemon::http::problem::Problem;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::job::Job;
use crate::protocol::{Request, SetPriority, Target};
use crate::schema;

/// The control routes.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; pause_job))
        .routes(routes!(build; resume_job))
        .routes(routes!(build; priority))
        .routes(routes!(build; pause_all))
        .routes(routes!(build; resume_all))
}

/// Pauses one job (as `vfetchctl pause ID`); answers with the job in its new state.
#[utoipa::path(post, path = "/api/jobs/{id}/pause", tag = "jobs", params(JobPath),
    responses(
        (status = 200, description = "The job, paused", body = schema::Job),
        problems::NotFound, problems::Conflict, problems::Unauthenticated, problems::CrossSite,
        problems::Unavailable,
    ))]
async fn pause_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    one(call(&state, peer, Request::Pause(Target::Job(id))).await?)
}

/// Resumes one paused job (as `vfetchctl resume ID`).
#[utoipa::path(post, path = "/api/jobs/{id}/resume", tag = "jobs", params(JobPath),
    responses(
        (status = 200, description = "The job, queued again", body = schema::Job),
        problems::NotFound, problems::Conflict, problems::Unauthenticated, problems::CrossSite,
        problems::Unavailable,
    ))]
async fn resume_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    one(call(&state, peer, Request::Resume(Target::Job(id))).await?)
}

/// Pauses every job that can be paused (as `vfetchctl pause --all`).
#[utoipa::path(post, path = "/api/pause", tag = "jobs",
    responses(
        (status = 200, description = "The jobs that changed", body = Vec<schema::Job>),
        problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
async fn pause_all(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let jobs: Vec<Job> = call(&state, peer, Request::Pause(Target::All)).await?;
    Ok(Json(json::jobs(&jobs)))
}

/// Resumes every paused job (as `vfetchctl resume --all`).
#[utoipa::path(post, path = "/api/resume", tag = "jobs",
    responses(
        (status = 200, description = "The jobs that changed", body = Vec<schema::Job>),
        problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
async fn resume_all(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let jobs: Vec<Job> = call(&state, peer, Request::Resume(Target::All)).await?;
    Ok(Json(json::jobs(&jobs)))
}

/// The body of `PUT /api/jobs/{id}/priority`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PriorityBody {
    /// Higher runs first.
    priority: i32,
}

json_schema!(Deserialize: PriorityBody);

/// Sets a job's priority (as `vfetchctl priority ID N`).
#[utoipa::path(put, path = "/api/jobs/{id}/priority", tag = "jobs", params(JobPath),
    request_body = PriorityBody,
    responses(
        (status = 200, description = "The job with its new priority", body = schema::Job),
        problems::NotFound, problems::Conflict, problems::BadBody, problems::Unauthenticated,
        problems::CrossSite, problems::Unavailable,
    ))]
async fn priority(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
    Body(PriorityBody { priority }): Body<PriorityBody>,
) -> Result<Json<Value>, Problem> {
    let job: Job = call(&state, peer, SetPriority { id, priority }.into()).await?;
    Ok(Json(json::job(&job)))
}

/// A single-job pause or resume changes exactly that job.
fn one(jobs: Vec<Job>) -> Result<Json<Value>, Problem> {
    match jobs.first() {
        Some(job) => Ok(Json(json::job(job))),
        None => Ok(Json(json::jobs(&jobs))),
    }
}
