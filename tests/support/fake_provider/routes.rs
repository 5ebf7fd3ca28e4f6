//! Which answer a request gets: redirects first, then each provider format's paths, then the
//! file bytes; and the catalogue search every format answers from.

use std::sync::Arc;

use super::archive::{archive_download, archive_metadata, archive_search};
use super::files::serve_file;
use super::pexels::{pexels_one, pexels_search};
use super::pixabay::pixabay_search;
use super::response::Response;
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::words;
use super::wikimedia::wikimedia_api;
use super::{Source, Video};

/// The answer to `req` (`ignore_range`: serve files whole, as the `IgnoreRange` fault asks).
pub(super) fn route(shared: &Shared, req: &Request, ignore_range: bool) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        return Response::text(405, "method not allowed\n").with("Allow", "GET, HEAD");
    }
    let path = req.path.as_str();
    let redirect = shared.state().redirects.get(path).cloned();
    if let Some(location) = redirect {
        return Response::text(302, "Found\n").with("Location", location);
    }
    let trimmed = path.strip_prefix("/v1").unwrap_or(path);
    if trimmed == "/videos/search" || trimmed == "/videos/search/" {
        return pexels_search(shared, req);
    }
    if let Some(id) = trimmed.strip_prefix("/videos/videos/") {
        return pexels_one(shared, req, id.trim_end_matches('/'));
    }
    if path == "/api/videos/" || path == "/api/videos" {
        return pixabay_search(shared, req);
    }
    if path == "/w/api.php" {
        return wikimedia_api(shared, req);
    }
    if path == "/advancedsearch.php" {
        return archive_search(shared, req);
    }
    if let Some(id) = path.strip_prefix("/metadata/") {
        return archive_metadata(shared, id.trim_end_matches('/'));
    }
    if let Some(rest) = path.strip_prefix("/download/") {
        return archive_download(shared, rest);
    }
    if path.starts_with("/files/") {
        return serve_file(shared, req, ignore_range);
    }
    Response::text(404, "Not Found\n")
}

/// Videos of `source` matching `query`, in insertion order.
pub(super) fn search(shared: &Shared, source: Source, query: &str) -> Vec<Arc<Entry>> {
    let wanted = words(query);
    shared
        .state()
        .videos
        .iter()
        .filter(|e| e.video.source == source && matches_words(&e.video, &wanted))
        .cloned()
        .collect()
}

/// Whether every wanted word is in the title or the tags.
fn matches_words(video: &Video, wanted: &[String]) -> bool {
    let mut have = words(&video.title);
    for tag in &video.tags {
        have.extend(words(tag));
    }
    wanted.iter().all(|w| have.contains(w))
}

/// At most `limit` items from `offset` on.
pub(super) fn page_slice<T: Clone>(items: &[T], offset: usize, limit: usize) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}
