//! The web dashboard's files: `/` and `/assets/*`, from the `web/` folder embedded in the binary
//! (no CDN, nothing read from disk, works offline). Not part of the API: no data is served here,
//! the pages fetch it from `/api` like any client.
//!
//! `/` is the dashboard for a browser with a live session and a page saying how to log in for
//! any other, so an unauthenticated visitor sees no data and the app's scripts never have to
//! guess. Every answer carries a strict Content-Security-Policy: the pages use no inline script
//! or style, so a provider string that slipped into the DOM as markup still could not run.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::Embed;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::daemon::http::auth::has_session;
use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::state::ApiState;

/// The policy every dashboard answer carries: only this server's own files, no inline code, no
/// framing, no foreign form targets.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The dashboard's files, taken into the binary at build time.
#[derive(Embed)]
#[folder = "web/"]
struct Assets;

/// `/` and `/assets/*`, gzipped when the browser takes it (text only: the layer's default
/// predicate leaves images and tiny bodies alone).
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{*path}", get(asset))
        .layer(CompressionLayer::new().gzip(true))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
}

/// The dashboard with a session, the login hint without; never cached, as it depends on the
/// cookie.
async fn home(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let page = if has_session(&state, &headers) {
        "index.html"
    } else {
        "login.html"
    };
    let mut response = file(page, &headers, "no-store");
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Cookie"));
    response
}

/// One embedded file; revalidated on each use (`no-cache` + ETag) so a new daemon's files are
/// picked up at once while an unchanged file costs a 304.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    file(&format!("assets/{path}"), &headers, "no-cache")
}

fn file(path: &str, headers: &HeaderMap, cache: &'static str) -> Response {
    let Some(content_type) = content_type(path) else {
        return not_found();
    };
    let Some(file) = Assets::get(path) else {
        return not_found();
    };
    // Weak: the bytes on the wire differ when gzipped, the content does not.
    let etag = format!("W/\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let cache = HeaderValue::from_static(cache);
    let etag_value = HeaderValue::from_str(&etag).ok();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, cache);
    if let Some(etag) = etag_value {
        out.insert(header::ETAG, etag);
    }
    response
}

/// The media type of the kinds of file `web/` holds; anything else is not served.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn not_found() -> Response {
    Problem::new(ProblemKind::NotFound, "no such file in the dashboard").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_and_their_scripts_are_embedded_with_types() {
        for path in [
            "index.html",
            "login.html",
            "assets/app.js",
            "assets/app.css",
        ] {
            assert!(Assets::get(path).is_some(), "{path} is embedded");
            assert!(content_type(path).is_some(), "{path} has a type");
        }
        assert_eq!(content_type("assets/x.exe"), None);
        assert_eq!(content_type("assets/noextension"), None);
    }

    #[test]
    fn no_page_carries_inline_script_or_style() {
        // The CSP would block them; a test catches one before a browser silently does.
        for path in Assets::iter().filter(|p| p.ends_with(".html")) {
            let text = String::from_utf8(Assets::get(&path).unwrap().data.into_owned()).unwrap();
            for (i, _) in text.match_indices("<script") {
                let tag = &text[i..i + text[i..].find('>').unwrap()];
                assert!(tag.contains("src="), "{path}: inline <script>");
            }
            assert!(!text.contains("<style"), "{path}: inline <style>");
            assert!(!text.contains(" style="), "{path}: style attribute");
            let handler = text.match_indices(" on").any(|(i, _)| {
                let rest = &text[i + 3..];
                let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                name_len > 0 && rest[name_len..].starts_with('=')
            });
            assert!(!handler, "{path}: inline event handler attribute");
        }
    }
}
