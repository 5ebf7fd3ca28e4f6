//! Pause, resume and priority: `POST /api/jobs/{id}/pause|resume`, `PUT
//! /api/jobs/{id}/priority`, `POST /api/pause|resume` (every job).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::daemon::http::extract::{Body, JobPath};
use crate::daemon::http::json;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::state::{call, ApiState};
use crate::job::Job;
use crate::protocol::{Request, SetPriority, Target};

/// The control routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/jobs/{id}/pause", post(pause_job))
        .route("/api/jobs/{id}/resume", post(resume_job))
        .route("/api/jobs/{id}/priority", put(priority))
        .route("/api/pause", post(pause_all))
        .route("/api/resume", post(resume_all))
}

/// Answers with the one job, in its new state.
async fn pause_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    one(call(&state, peer, Request::Pause(Target::Job(id))).await?)
}

async fn resume_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    one(call(&state, peer, Request::Resume(Target::Job(id))).await?)
}

/// Answers with the jobs that changed.
async fn pause_all(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let jobs: Vec<Job> = call(&state, peer, Request::Pause(Target::All)).await?;
    Ok(Json(json::jobs(&jobs)))
}

async fn resume_all(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let jobs: Vec<Job> = call(&state, peer, Request::Resume(Target::All)).await?;
    Ok(Json(json::jobs(&jobs)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriorityBody {
    priority: i32,
}

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
