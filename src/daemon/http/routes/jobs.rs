//! `GET/POST /api/jobs`, `GET/DELETE /api/jobs/{id}`: the queue, as `list`, `add`, `show` and
//! `cancel` see it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::{parse, parse_list};
use crate::daemon::http::extract::{Body, JobPath, Params};
use crate::daemon::http::json;
use crate::daemon::http::openapi::{json_schema, problems};
use crate::daemon::http::problem::Problem;
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::job::{Job, JobOptions, NewJob};
use crate::protocol::{JobDetail, JobView, ListQuery, Request};
use crate::schema;

/// Page size when `limit` is not given (as `vfetchctl list`).
const DEFAULT_PAGE: u32 = 50;

/// `/api/jobs` and `/api/jobs/{id}`.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; list_jobs, create_job))
        .routes(routes!(build; show_job, cancel_job))
}

/// `?state=queued,paused&limit=50&offset=0`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Only jobs in these states, comma-separated (`queued,paused`).
    state: Option<String>,
    /// Jobs per page (default 50).
    limit: Option<u32>,
    /// Jobs to skip.
    offset: Option<u32>,
}

/// The queue, in the order jobs run, a page at a time (as `vfetchctl list`).
#[utoipa::path(get, path = "/api/jobs", tag = "jobs", params(ListParams),
    responses(
        (status = 200, description = "A page of jobs", body = Vec<schema::Job>),
        problems::BadValue, problems::Unauthenticated, problems::Unavailable,
    ))]
async fn list_jobs(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<ListParams>,
) -> Result<Json<Value>, Problem> {
    let query = ListQuery {
        states: parse_list(params.state.as_deref().unwrap_or(""))?,
        limit: params.limit.unwrap_or(DEFAULT_PAGE),
        offset: params.offset.unwrap_or(0),
    };
    let jobs: Vec<JobView> = call(&state, peer, query.into()).await?;
    Ok(Json(json::job_list(&jobs)))
}

/// The body of `POST /api/jobs`: `add`'s arguments, by their long option names.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJobBody {
    /// What to search for.
    theme: String,
    /// Videos wanted.
    count: u32,
    /// Higher runs first (default 0).
    #[serde(default)]
    priority: i32,
    /// A list of source names, or one comma-separated string; `all` or none for every
    /// enabled source.
    #[serde(default)]
    sources: Option<Sources>,
    /// One of `vfetchctl add --quality`'s values.
    quality: Option<String>,
    /// One of `vfetchctl add --orientation`'s values.
    orientation: Option<String>,
    /// Seconds.
    min_duration: Option<u32>,
    /// Seconds.
    max_duration: Option<u32>,
    /// Pixels.
    min_width: Option<u32>,
    /// Pixels.
    min_height: Option<u32>,
    max_file_size_mb: Option<u64>,
}

/// Sources as a JSON list or as the original's `"pexels,pixabay"` / `"all"` string.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Sources {
    List(Vec<String>),
    Text(String),
}

impl Sources {
    /// The sources named; `all` (or nothing) means every enabled source.
    pub fn parse(&self) -> Result<Vec<crate::source_kind::SourceKind>, Problem> {
        match self {
            Sources::Text(text) if text.trim().eq_ignore_ascii_case("all") => Ok(Vec::new()),
            Sources::Text(text) => parse_list(text),
            Sources::List(names) => names.iter().map(|n| parse(n)).collect(),
        }
    }
}

impl NewJobBody {
    /// The job it asks for; the handler validates it as it does `add`'s.
    pub fn into_new_job(self) -> Result<NewJob, Problem> {
        Ok(NewJob {
            theme: self.theme,
            count: self.count,
            priority: self.priority,
            options: JobOptions {
                sources: self
                    .sources
                    .as_ref()
                    .map_or(Ok(Vec::new()), Sources::parse)?,
                quality: self.quality.as_deref().map(parse).transpose()?,
                orientation: self.orientation.as_deref().map(parse).transpose()?,
                min_duration: self.min_duration,
                max_duration: self.max_duration,
                min_width: self.min_width,
                min_height: self.min_height,
                max_file_size_mb: self.max_file_size_mb,
            },
        })
    }
}

json_schema!(Deserialize: NewJobBody);

/// Queues a job (as `vfetchctl add`): 201 with the job and its `Location`.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = NewJobBody,
    responses(
        (status = 201, description = "The job, queued", body = schema::Job,
            headers(("Location" = String, description = "The job's URL"))),
        problems::BadBody, problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
async fn create_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<NewJobBody>,
) -> Result<impl IntoResponse, Problem> {
    let new = body.into_new_job()?;
    let job: Job = call(&state, peer, new.into()).await?;
    let location = format!("/api/jobs/{}", job.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json::job(&job)),
    ))
}

/// One job with its downloads and candidates (as `vfetchctl show`).
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs", params(JobPath),
    responses(
        (status = 200, description = "The job, its downloads and candidates", body = schema::JobDetail),
        problems::NotFound, problems::Unauthenticated, problems::Unavailable,
    ))]
async fn show_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    let detail: JobDetail = call(&state, peer, Request::Show(id)).await?;
    Ok(Json(json::detail(&detail)))
}

/// Cancels the job (its record stays, as with `vfetchctl cancel`).
#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs", params(JobPath),
    responses(
        (status = 200, description = "The job, cancelled", body = schema::Job),
        problems::NotFound, problems::Conflict, problems::Unauthenticated, problems::CrossSite,
        problems::Unavailable,
    ))]
async fn cancel_job(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JobPath(id): JobPath,
) -> Result<Json<Value>, Problem> {
    let job: Job = call(&state, peer, Request::Cancel(id)).await?;
    Ok(Json(json::job(&job)))
}
