//! The gallery's data: `GET /api/library` (a page of finished videos) and the thumbnails,
//! `GET /thumbs/{download}` (the poster) and `GET /thumbs/{download}/sprite` (the hover sprite).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::parse;
use crate::daemon::http::extract::Params;
use crate::daemon::http::json;
use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::state::{call, ApiState};
use crate::download::DownloadId;
use crate::gallery::{LibraryPage, LibraryQuery, ThumbKind, ThumbnailImage, DEFAULT_PAGE};
use crate::protocol::Request;

/// Thumbnails change only when remade; a browser may keep them a day and then revalidate.
const THUMB_CACHE: &str = "private, max-age=86400";

/// The gallery's routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/library", get(library))
        .route("/thumbs/{download}", get(poster))
        .route("/thumbs/{download}/sprite", get(sprite))
}

#[derive(Deserialize)]
struct LibraryParams {
    theme: Option<String>,
    source: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<i64>,
    limit: Option<u32>,
}

/// `?theme=&source=&since=&until=&cursor=&limit=`: `library --json`'s page.
async fn library(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<LibraryParams>,
) -> Result<Json<Value>, Problem> {
    let empty_is_none = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let query = LibraryQuery {
        theme: empty_is_none(params.theme),
        source: empty_is_none(params.source)
            .as_deref()
            .map(parse)
            .transpose()?,
        since: empty_is_none(params.since)
            .as_deref()
            .map(parse)
            .transpose()?,
        until: empty_is_none(params.until)
            .as_deref()
            .map(parse)
            .transpose()?,
        cursor: params.cursor,
        limit: params.limit.unwrap_or(DEFAULT_PAGE),
    };
    let page: LibraryPage = call(&state, peer, query.into()).await?;
    Ok(Json(json::library(&page)))
}

async fn poster(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(download): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    thumbnail(&state, peer, &download, ThumbKind::Poster, &headers).await
}

async fn sprite(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(download): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    thumbnail(&state, peer, &download, ThumbKind::Sprite, &headers).await
}

/// The image with its validator and caching policy, or 304 when the client's copy is current.
async fn thumbnail(
    state: &ApiState,
    peer: SocketAddr,
    download: &str,
    kind: ThumbKind,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let download = download.parse::<i64>().map(DownloadId).map_err(|_| {
        Problem::new(
            ProblemKind::NotFound,
            "no such thumbnail: a download id is a number",
        )
    })?;
    let image: ThumbnailImage = call(state, peer, Request::Thumbnail { download, kind }).await?;
    let etag = HeaderValue::from_str(&image.etag)
        .map_err(|_| Problem::new(ProblemKind::Internal, "the thumbnail has no usable ETag"))?;
    let cache = HeaderValue::from_static(THUMB_CACHE);
    if matches_etag(headers, &image.etag) {
        let headers = [(header::ETAG, etag), (header::CACHE_CONTROL, cache)];
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let content_type = HeaderValue::from_str(&image.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::ETAG, etag),
        (header::CACHE_CONTROL, cache),
    ];
    Ok((headers, image.bytes).into_response())
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak forms compare equal (RFC 9110 13.1.2).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(matches_etag(&headers, "\"b\""));
        assert!(matches_etag(&headers, "\"a\""));
        assert!(!matches_etag(&headers, "\"c\""));
        assert!(!matches_etag(&HeaderMap::new(), "\"a\""));
    }
}
