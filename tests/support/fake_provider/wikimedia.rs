//! The Wikimedia Commons format: `GET /w/api.php?action=query&generator=search&…`, honouring
//! `prop` and `iiprop` and answering MediaWiki-style errors and `continue` offsets.

use serde_json::{json, Map, Value};

use super::files::listed_link;
use super::response::Response;
use super::routes::{page_slice, search};
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::{license_url, pct};
use super::{Source, Video};

/// `GET /w/api.php`: a search generator page, with image info when `prop` asks for it.
pub(super) fn wikimedia_api(shared: &Shared, req: &Request) -> Response {
    let error = |code: &str, info: &str| {
        Response::json(&json!({
            "error": {"code": code, "info": info, "docref": "See /w/api.php for API usage."},
            "servedby": "fake-provider",
        }))
        .with("MediaWiki-API-Error", code)
    };
    if req.param("action") != Some("query") {
        return error("badvalue", "Unrecognized value for parameter \"action\".");
    }
    if req.param("format") != Some("json") {
        return Response::new(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body><pre>API help (format=json missing)</pre></body></html>",
        );
    }
    if req.param("generator") != Some("search") {
        return Response::json(&json!({"batchcomplete": true}));
    }
    let Some(search_text) = req.param("gsrsearch").filter(|s| !s.trim().is_empty()) else {
        return error("missingparam", "The \"gsrsearch\" parameter must be set.");
    };
    let theme: String = search_text
        .split_whitespace()
        .filter(|w| !w.to_ascii_lowercase().starts_with("filetype:"))
        .collect::<Vec<_>>()
        .join(" ");
    let limit = match req.param("gsrlimit") {
        Some("max") => 50,
        _ => req.num("gsrlimit").unwrap_or(10).clamp(1, 50) as usize,
    };
    let offset = req.num("gsroffset").unwrap_or(0).max(0) as usize;
    let all = search(shared, Source::Wikimedia, &theme);
    let shown = page_slice(&all, offset, limit);
    let mut body = Map::new();
    body.insert("batchcomplete".into(), json!(true));
    if offset + limit < all.len() {
        body.insert(
            "continue".into(),
            json!({"gsroffset": offset + limit, "continue": "gsroffset||"}),
        );
    }
    if !shown.is_empty() {
        let props: Vec<&str> = req
            .param("prop")
            .unwrap_or("")
            .split('|')
            .filter(|p| !p.is_empty())
            .collect();
        let iiprop: Vec<&str> = req
            .param("iiprop")
            .unwrap_or("timestamp|user")
            .split('|')
            .collect();
        let base = &shared.base;
        let pages: Vec<Value> = shown
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut page = wikimedia_page(base, e, offset + i + 1);
                if props.contains(&"imageinfo") {
                    page["imageinfo"] = json!([wikimedia_imageinfo(base, e, &iiprop)]);
                }
                page
            })
            .collect();
        body.insert("query".into(), json!({"pages": pages}));
    }
    Response::json(&Value::Object(body))
}

/// The file title without `File:` (underscores as spaces).
fn wikimedia_title(v: &Video) -> String {
    v.id.replace('_', " ")
}

/// A page entry of the search generator.
fn wikimedia_page(_base: &str, e: &Entry, index: usize) -> Value {
    json!({
        "pageid": 90_000_000 + e.num,
        "ns": 6,
        "title": format!("File:{}", wikimedia_title(&e.video)),
        "index": index,
    })
}

/// The `imageinfo` of a file, with the fields `iiprop` names.
fn wikimedia_imageinfo(base: &str, e: &Entry, iiprop: &[&str]) -> Value {
    let v = &e.video;
    let mut info = Map::new();
    let has = |p: &str| iiprop.contains(&p);
    if has("timestamp") {
        info.insert("timestamp".into(), json!("2024-01-02T03:04:05Z"));
    }
    if has("user") {
        info.insert("user".into(), json!(v.author));
    }
    if has("size") {
        info.insert("size".into(), json!(v.data.len()));
        info.insert("width".into(), json!(v.width));
        info.insert("height".into(), json!(v.height));
        info.insert("duration".into(), json!(v.duration));
    }
    if has("url") {
        info.insert("url".into(), json!(listed_link(base, e)));
        info.insert(
            "descriptionurl".into(),
            json!(format!(
                "{base}/wiki/File:{}",
                pct(&wikimedia_title(v).replace(' ', "_"))
            )),
        );
        info.insert(
            "descriptionshorturl".into(),
            json!(format!("{base}/w/index.php?curid={}", 90_000_000 + e.num)),
        );
    }
    if has("mime") {
        info.insert("mime".into(), json!(v.mime));
    }
    if has("mediatype") {
        info.insert("mediatype".into(), json!("VIDEO"));
    }
    if has("sha1") {
        info.insert("sha1".into(), json!(e.sha1));
    }
    if has("extmetadata") {
        let field = |value: Value| json!({"value": value, "source": "commons-desc-page"});
        let mut meta = Map::new();
        meta.insert("ObjectName".into(), field(json!(v.title)));
        meta.insert(
            "ImageDescription".into(),
            field(json!(format!("<p>{}</p>", v.title))),
        );
        meta.insert(
            "Artist".into(),
            field(json!(format!(
                "<a href=\"//commons.wikimedia.org/wiki/User:{}\" title=\"User:{}\">{}</a>",
                v.author.replace(' ', "_"),
                v.author,
                v.author
            ))),
        );
        meta.insert(
            "Credit".into(),
            field(json!(
                "<span class=\"int-own-work\" lang=\"en\">Own work</span>"
            )),
        );
        if !v.license.is_empty() {
            meta.insert("LicenseShortName".into(), field(json!(v.license)));
        }
        let url = license_url(&v.license);
        if !url.is_empty() {
            meta.insert("LicenseUrl".into(), field(json!(url)));
        }
        meta.insert(
            "AttributionRequired".into(),
            field(json!(if v.license.to_ascii_lowercase().contains("by") {
                "true"
            } else {
                "false"
            })),
        );
        info.insert("extmetadata".into(), Value::Object(meta));
    }
    Value::Object(info)
}
