//! The Pixabay format: `GET /api/videos/?key=…` with Pixabay's parameter checks (plain-text
//! `[ERROR 400] …` answers), its 500-hit cap and one rendition slot per size.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::files::listed_link;
use super::response::Response;
use super::routes::{page_slice, search};
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::slug;
use super::Source;

/// The key the fake expects in the `key` parameter.
pub(super) const PIXABAY_KEY: &str = "test-pixabay-key";

/// `GET /api/videos/`: a page of matching hits, or 400 for what Pixabay refuses.
pub(super) fn pixabay_search(shared: &Shared, req: &Request) -> Response {
    if req.param("key") != Some(PIXABAY_KEY) {
        return Response::text(400, "[ERROR 400] Invalid or missing API key");
    }
    let q = req.param("q").unwrap_or("");
    if q.chars().count() > 100 {
        return Response::text(
            400,
            "[ERROR 400] \"q\" exceeds the maximum allowed length of 100 characters.",
        );
    }
    let per_page = req.num("per_page").unwrap_or(20);
    if !(3..=200).contains(&per_page) {
        return Response::text(400, "[ERROR 400] \"per_page\" is out of valid range.");
    }
    let per_page = per_page as usize;
    let page = req.num("page").unwrap_or(1);
    if page < 1 {
        return Response::text(400, "[ERROR 400] \"page\" is out of valid range.");
    }
    let page = page as usize;
    let min_width = req.num("min_width").unwrap_or(0).max(0) as u32;
    let min_height = req.num("min_height").unwrap_or(0).max(0) as u32;
    let only_id = req.param("id").filter(|s| !s.is_empty());
    let all: Vec<Arc<Entry>> = search(shared, Source::Pixabay, q)
        .into_iter()
        .filter(|e| e.video.width >= min_width && e.video.height >= min_height)
        .filter(|e| only_id.is_none_or(|id| e.video.id == id))
        .collect();
    let total_hits = all.len().min(500);
    if page > 1 && (page - 1) * per_page >= total_hits {
        return Response::text(400, "[ERROR 400] \"page\" is out of valid range.");
    }
    let base = &shared.base;
    let hits: Vec<Value> = page_slice(&all[..total_hits], (page - 1) * per_page, per_page)
        .iter()
        .map(|e| pixabay_hit(base, e))
        .collect();
    let resp = Response::json(&json!({"total": all.len(), "totalHits": total_hits, "hits": hits}));
    resp.with("X-RateLimit-Limit", "100")
        .with("X-RateLimit-Remaining", "99")
        .with("X-RateLimit-Reset", "60")
}

/// A hit as Pixabay describes it (the file in the slot its width falls in).
fn pixabay_hit(base: &str, e: &Entry) -> Value {
    let v = &e.video;
    let id: u64 = v.id.parse().unwrap_or(0);
    let slot = if v.width >= 1920 {
        "large"
    } else if v.width >= 1280 {
        "medium"
    } else if v.width >= 640 {
        "small"
    } else {
        "tiny"
    };
    let mut videos = Map::new();
    for name in ["large", "medium", "small", "tiny"] {
        let value = if name == slot {
            json!({
                "url": listed_link(base, e),
                "width": v.width,
                "height": v.height,
                "size": v.data.len(),
                "thumbnail": format!("{base}/images/pixabay/{id}_{name}.jpg"),
            })
        } else {
            json!({"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""})
        };
        videos.insert(name.to_string(), value);
    }
    json!({
        "id": id,
        "pageURL": format!("{base}/videos/{}-{id}/", slug(&v.title)),
        "type": "film",
        "tags": v.tags.join(", "),
        "duration": v.duration.round() as u64,
        "videos": videos,
        "views": 1000 + e.num * 7,
        "downloads": 300 + e.num * 3,
        "likes": 10 + e.num,
        "comments": e.num % 5,
        "user_id": 800_000 + e.num,
        "user": v.author,
        "userImageURL": format!("{base}/images/pixabay/user-{}.png", 800_000 + e.num),
    })
}
