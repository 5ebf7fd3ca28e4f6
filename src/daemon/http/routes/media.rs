//! `GET /media/{download_id}`: a finished video from the library, with what a browser's
//! `<video>` needs to seek (`Range`/206, `Accept-Ranges`), revalidate (`ETag`, `Last-Modified`,
//! 304) and play (`Content-Type` from the file's extension), all by tower-http's `ServeFile`.
//!
//! The path segment is only ever read as a number; the file is the one the handler finds for
//! that download id in the store.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeFile;

use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::state::{call, ApiState};
use crate::download::DownloadId;
use crate::protocol::{MediaFile, Request as DaemonRequest};

/// The media route.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/media/{id}", get(media))
}

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

/// A download id from the path: anything but a positive whole number (`..%2F..`, `abc`)
/// names no download (404).
struct DownloadPath(DownloadId);

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
