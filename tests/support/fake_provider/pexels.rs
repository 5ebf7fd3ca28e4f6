//! The Pexels format: `GET /videos/search` (and the `/v1/videos/search/` form its `next_page`
//! links use) and `GET /videos/videos/{id}`, keyed by the `Authorization` header, with Pexels'
//! rate-limit headers and an HLS rendition listed first that adapters must skip.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::files::listed_link;
use super::fixtures::orientation;
use super::response::Response;
use super::routes::{page_slice, search};
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::{pct, slug};
use super::Source;

/// The key the fake expects in `Authorization`.
pub(super) const PEXELS_KEY: &str = "test-pexels-key";

/// `None` when the request carries the key, else the 401 to answer.
fn pexels_auth(req: &Request) -> Option<Response> {
    if req.header("authorization") == Some(PEXELS_KEY) {
        None
    } else {
        Some(Response::new(
            401,
            "application/json; charset=utf-8",
            "{\"status\":401,\"code\":\"Unauthorized\",\"error\":\"Unauthorized\"}",
        ))
    }
}

/// Adds the rate-limit headers, counting this call.
fn pexels_ratelimit(shared: &Shared, resp: Response) -> Response {
    let used = {
        let mut state = shared.state();
        state.pexels_calls += 1;
        state.pexels_calls
    };
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    resp.with("X-Ratelimit-Limit", "20000")
        .with(
            "X-Ratelimit-Remaining",
            (20000u64.saturating_sub(used)).to_string(),
        )
        .with("X-Ratelimit-Reset", reset.to_string())
}

/// `GET /videos/search`: a page of matching videos with `next_page`/`prev_page` links.
pub(super) fn pexels_search(shared: &Shared, req: &Request) -> Response {
    if let Some(denied) = pexels_auth(req) {
        return denied;
    }
    let query = req.param("query").unwrap_or("");
    let orientation_filter = req.param("orientation").unwrap_or("").to_ascii_lowercase();
    let page = req.num("page").unwrap_or(1).max(1) as usize;
    let per_page = req.num("per_page").unwrap_or(15).clamp(1, 80) as usize;
    let all: Vec<Arc<Entry>> = search(shared, Source::Pexels, query)
        .into_iter()
        .filter(|e| {
            orientation_filter.is_empty()
                || orientation(e.video.width, e.video.height) == orientation_filter
        })
        .collect();
    let base = &shared.base;
    let shown = page_slice(&all, (page - 1) * per_page, per_page);
    let page_url = |p: usize| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.append_pair("page", &p.to_string());
        ser.append_pair("per_page", &per_page.to_string());
        ser.append_pair("query", query);
        if let Some(o) = req.param("orientation") {
            ser.append_pair("orientation", o);
        }
        if let Some(s) = req.param("size") {
            ser.append_pair("size", s);
        }
        format!("{base}/v1/videos/search/?{}", ser.finish())
    };
    let mut body = Map::new();
    body.insert("page".into(), json!(page));
    body.insert("per_page".into(), json!(per_page));
    body.insert("total_results".into(), json!(all.len()));
    body.insert(
        "url".into(),
        json!(format!("{base}/search/videos/{}/", pct(query))),
    );
    body.insert(
        "videos".into(),
        Value::Array(
            shown
                .iter()
                .map(|e| pexels_video(base, e))
                .collect::<Vec<_>>(),
        ),
    );
    if page * per_page < all.len() {
        body.insert("next_page".into(), json!(page_url(page + 1)));
    }
    if page > 1 {
        body.insert("prev_page".into(), json!(page_url(page - 1)));
    }
    pexels_ratelimit(shared, Response::json(&Value::Object(body)))
}

/// `GET /videos/videos/{id}`: one video, or 404.
pub(super) fn pexels_one(shared: &Shared, req: &Request, id: &str) -> Response {
    if let Some(denied) = pexels_auth(req) {
        return denied;
    }
    let entry = shared
        .state()
        .videos
        .iter()
        .find(|e| e.video.source == Source::Pexels && e.video.id == id)
        .cloned();
    match entry {
        Some(e) => pexels_ratelimit(shared, Response::json(&pexels_video(&shared.base, &e))),
        None => Response::new(
            404,
            "application/json; charset=utf-8",
            "{\"status\":404,\"code\":\"Not Found\"}",
        ),
    }
}

/// A video object as Pexels describes it.
fn pexels_video(base: &str, e: &Entry) -> Value {
    let v = &e.video;
    let id: u64 = v.id.parse().unwrap_or(0);
    let quality = if v.height >= 2160 {
        "uhd"
    } else if v.height >= 720 {
        "hd"
    } else {
        "sd"
    };
    json!({
        "id": id,
        "width": v.width,
        "height": v.height,
        "duration": v.duration.round() as u64,
        "full_res": null,
        "tags": [],
        "url": format!("{base}/video/{}-{id}/", slug(&v.title)),
        "image": format!("{base}/images/pexels/{id}/preview.jpg"),
        "avg_color": null,
        "user": {
            "id": 700_000 + e.num,
            "name": v.author,
            "url": format!("{base}/@{}", slug(&v.author)),
        },
        // The HLS entry comes first: adapters must skip it.
        "video_files": [
            {
                "id": id * 10 + 1,
                "quality": "hls",
                "file_type": "application/x-mpegURL",
                "width": null,
                "height": null,
                "fps": null,
                "link": format!("{base}/hls/pexels/{id}.m3u8"),
            },
            {
                "id": id * 10 + 2,
                "quality": quality,
                "file_type": v.mime,
                "width": v.width,
                "height": v.height,
                "fps": v.fps,
                "link": listed_link(base, e),
                "size": v.data.len(),
            },
        ],
        "video_pictures": [
            {"id": id * 10 + 1, "picture": format!("{base}/images/pexels/{id}/0.jpg"), "nr": 0},
        ],
    })
}
