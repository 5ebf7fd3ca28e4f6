//! `GET /media/{download_id}`: a finished video from the library, with what a browser's
//! `<video>` needs to seek (`Range`/206, `Accept-Ranges`), revalidate (`ETag`, `Last-Modified`,
//! 304) and play (`Content-Type` from the file's extension), all by tower-http's `ServeFile`.
//!
//! The path segment is only ever read as a number; the file is the one the handler finds for
//! that download id in the store.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeFile;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::extract::DownloadPath;
use crate::daemon::http::openapi::problems;
use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::{MediaFile, Request as DaemonRequest};

/// The media route.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(build; media))
}

/// A finished video from the library, whole or a `Range` of it, by download id.
#[utoipa::path(get, path = "/media/{id}", tag = "media", params(DownloadPath),
    responses(
        (status = 200, description = "The whole file, typed by its extension", body = Vec<u8>,
            content_type = "video/*"),
        (status = 206, description = "The requested byte range (`Range: bytes=…`)", body = Vec<u8>,
            content_type = "video/*"),
        (status = 304, description = "Unchanged since the `ETag` or date the client has"),
        (status = 416, description = "The range lies outside the file"),
        problems::NoDownload, problems::Unfinished, problems::Unauthenticated,
        problems::Unavailable,
    ))]
async fn media(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    DownloadPath(id): DownloadPath,
    request: Request,
) -> Result<Response, Problem> {
    let file: MediaFile = call(&state, peer, DaemonRequest::Media(id)).await?;
    let response = ServeFile::new(&file.path)
        .try_call(request)
        .await
        .map_err(|e| {
            tracing::warn!(download = %id, error = %e, "cannot stream a library file");
            Problem::new(ProblemKind::Internal, "the file cannot be read")
        })?;
    if response.status() == StatusCode::NOT_FOUND {
        // Removed between the handler's look and the open.
        return Err(Problem::new(
            ProblemKind::NotFound,
            format!("the file of download {id} is no longer in the library"),
        ));
    }
    let mut response = response.map(Body::new).into_response();
    // Private (it needs the token) but worth keeping: a browser revalidates with the ETag
    // instead of fetching a whole video again.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
