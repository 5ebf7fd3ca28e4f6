//! axum's extractors with their refusals as problem documents (axum's own are plain text).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::problem::{Problem, ProblemKind};
use crate::download::DownloadId;
use crate::job::JobId;

/// The largest request body accepted (JSON bodies are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body: 400 when it is not JSON, 415 when not sent as JSON, 413 when too large, 422
/// when it is JSON of the wrong shape.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Body(value))
            .map_err(json_problem)
    }
}

/// The query string: 422 when a parameter has the wrong form.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Params(value))
            .map_err(query_problem)
    }
}

/// A job id from the path (`/api/jobs/{id}`): anything but a whole number names no job (404).
pub struct JobPath(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for JobPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::new(ProblemKind::NotFound, "no such job"))?;
        text.parse::<JobId>()
            .map(JobPath)
            .map_err(|_| Problem::new(ProblemKind::NotFound, "no such job: a job id is a number"))
    }
}

/// Describes the path parameter to the OpenAPI description: `params(JobPath)`.
impl utoipa::IntoParams for JobPath {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![id_parameter("A job's id, as `vfetchctl list` shows it")]
    }
}

/// A download id from the path (`/media/{id}`): anything but a positive whole number
/// (`..%2F..`, `abc`) names no download (404), so nothing else from the path is ever used.
pub struct DownloadPath(pub DownloadId);

impl<S: Send + Sync> FromRequestParts<S> for DownloadPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let no_such = || {
            Problem::new(
                ProblemKind::NotFound,
                "no such download: a download id is a number",
            )
        };
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| no_such())?;
        match text.parse::<i64>() {
            Ok(n) if n > 0 => Ok(DownloadPath(DownloadId(n))),
            _ => Err(no_such()),
        }
    }
}

/// Describes the path parameter to the OpenAPI description: `params(DownloadPath)`.
impl utoipa::IntoParams for DownloadPath {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![id_parameter(
            "A download's id, as `vfetchctl show JOB` and the export show it",
        )]
    }
}

/// The `{id}` path parameter: a positive 64-bit integer.
fn id_parameter(description: &str) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{KnownFormat, ObjectBuilder, Required, SchemaFormat, Type};
    let schema = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1));
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A JSON body's refusal as a problem.
fn json_problem(rejection: JsonRejection) -> Problem {
    {
        // The rejection's own text may quote the body; say what was wrong, not what was sent.
        match rejection {
            JsonRejection::JsonDataError(e) => {
                Problem::new(ProblemKind::BadValue, data_error(&e.body_text()))
            }
            JsonRejection::JsonSyntaxError(_) => {
                Problem::new(ProblemKind::MalformedJson, "the body is not valid JSON")
            }
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                ProblemKind::UnsupportedMediaType,
                "send the body as Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Problem::new(
                    ProblemKind::TooLarge,
                    format!("the body is larger than {} bytes", MAX_BODY_BYTES),
                )
            }
            other => Problem::new(ProblemKind::MalformedJson, other.body_text()),
        }
    }
}

fn query_problem(rejection: QueryRejection) -> Problem {
    {
        Problem::new(ProblemKind::BadValue, rejection.body_text())
    }
}

/// serde's message for a body that is JSON but not the expected shape, without the leading
/// "Failed to deserialize the JSON body into the target type: " axum adds.
fn data_error(text: &str) -> String {
    text.split_once("target type: ")
        .map_or(text, |(_, rest)| rest)
        .to_string()
}
