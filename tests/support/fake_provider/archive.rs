//! The Internet Archive format: `GET /advancedsearch.php` (items), `GET /metadata/{identifier}`
//! (the item's files with MD5 and SHA-1, non-video files listed first) and
//! `GET /download/{identifier}/{name}`, which redirects to the byte-serving path.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::checksums::{md5_hex, sha1_hex};
use super::files::file_path;
use super::response::Response;
use super::routes::{page_slice, search};
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::{license_url, pct_path};
use super::{Source, Video};

/// `GET /advancedsearch.php`: matching items with the fields `fl[]` asks for.
pub(super) fn archive_search(shared: &Shared, req: &Request) -> Response {
    let q = req.param("q").unwrap_or("");
    let theme: Vec<&str> = q
        .split(" AND ")
        .filter(|part| !part.contains("mediatype:"))
        .collect();
    let theme: String = theme
        .join(" ")
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '"'))
        .collect();
    if req.param("output") != Some("json") {
        return Response::new(
            200,
            "text/xml; charset=utf-8",
            "<?xml version=\"1.0\"?><response><result name=\"response\"/></response>",
        );
    }
    let rows = req.num("rows").unwrap_or(50).clamp(0, 10_000) as usize;
    let page = req.num("page").unwrap_or(1).max(1) as usize;
    let all = if theme.trim().is_empty() {
        Vec::new()
    } else {
        search(shared, Source::Archive, &theme)
    };
    let start = (page - 1) * rows;
    let fields: Vec<&str> = req.params("fl[]");
    let want = |f: &str| fields.is_empty() || fields.contains(&f);
    let docs: Vec<Value> = page_slice(&all, start, rows)
        .iter()
        .map(|e| {
            let v = &e.video;
            let mut doc = Map::new();
            if want("identifier") {
                doc.insert("identifier".into(), json!(v.id));
            }
            if want("title") {
                doc.insert("title".into(), json!(v.title));
            }
            if want("creator") && !v.author.is_empty() {
                doc.insert("creator".into(), json!(v.author));
            }
            let url = license_url(&v.license);
            if want("licenseurl") && !url.is_empty() {
                doc.insert("licenseurl".into(), json!(url));
            }
            Value::Object(doc)
        })
        .collect();
    Response::json(&json!({
        "responseHeader": {
            "status": 0,
            "QTime": 1,
            "params": {
                "query": q,
                "qin": q,
                "fields": fields.join(","),
                "wt": "json",
                "rows": rows.to_string(),
                "start": start,
            },
        },
        "response": {"numFound": all.len(), "start": start, "docs": docs},
    }))
}

/// The Archive video with this identifier.
fn archive_entry(shared: &Shared, identifier: &str) -> Option<Arc<Entry>> {
    shared
        .state()
        .videos
        .iter()
        .find(|e| e.video.source == Source::Archive && e.video.id == identifier)
        .cloned()
}

/// The file name of an item's video.
pub(super) fn archive_name(v: &Video) -> String {
    format!("{}.{}", v.id, v.ext)
}

/// `GET /metadata/{identifier}`: the item's files and metadata.
pub(super) fn archive_metadata(shared: &Shared, identifier: &str) -> Response {
    let Some(e) = archive_entry(shared, identifier) else {
        // The real API answers 200 with an empty object for unknown identifiers.
        return Response::json(&json!({}));
    };
    let v = &e.video;
    let id = &v.id;
    let thumb = format!("thumbnail of {id}").into_bytes();
    let meta_xml = format!("<metadata><identifier>{id}</identifier></metadata>").into_bytes();
    let torrent = format!("d8:announce0:4:info{id}e").into_bytes();
    let small = |name: String, source: &str, format: &str, data: &[u8]| {
        json!({
            "name": name,
            "source": source,
            "format": format,
            "mtime": "1704164645",
            "size": data.len().to_string(),
            "md5": md5_hex(data),
            "sha1": sha1_hex(data),
        })
    };
    let format = match v.ext.as_str() {
        "mp4" => "MPEG4",
        "webm" => "WebM",
        "ogv" => "Ogg Video",
        "mkv" => "Matroska",
        other => other,
    };
    let files = vec![
        // Not a video: listed first so adapters have to skip it.
        small("__ia_thumb.jpg".into(), "original", "Item Tile", &thumb),
        json!({
            "name": archive_name(v),
            "source": "original",
            "format": format,
            "mtime": "1704164645",
            "size": v.data.len().to_string(),
            "length": format!("{:.2}", v.duration),
            "width": v.width.to_string(),
            "height": v.height.to_string(),
            "md5": e.md5,
            "sha1": e.sha1,
        }),
        small(format!("{id}_meta.xml"), "original", "Metadata", &meta_xml),
        small(
            format!("{id}_archive.torrent"),
            "metadata",
            "Archive BitTorrent",
            &torrent,
        ),
    ];
    let mut metadata = Map::new();
    metadata.insert("identifier".into(), json!(id));
    metadata.insert("title".into(), json!(v.title));
    if !v.author.is_empty() {
        metadata.insert("creator".into(), json!(v.author));
    }
    let url = license_url(&v.license);
    if !url.is_empty() {
        metadata.insert("licenseurl".into(), json!(url));
    }
    metadata.insert("mediatype".into(), json!("movies"));
    metadata.insert("subject".into(), json!(v.tags.join("; ")));
    Response::json(&json!({
        "created": 1_704_164_645u64,
        "d1": "127.0.0.1",
        "dir": format!("/items/{id}"),
        "files": files,
        "files_count": 4,
        "item_last_updated": 1_704_164_645u64,
        "item_size": v.data.len() + thumb.len() + meta_xml.len() + torrent.len(),
        "metadata": metadata,
        "server": "127.0.0.1",
        "uniq": 1_000_000 + e.num,
        "workable_servers": ["127.0.0.1"],
    }))
}

/// `GET /download/{identifier}/{name}`: 302 to the byte-serving path.
pub(super) fn archive_download(shared: &Shared, rest: &str) -> Response {
    let Some((identifier, name)) = rest.split_once('/') else {
        return Response::text(404, "Not Found\n");
    };
    match archive_entry(shared, identifier) {
        Some(e) if archive_name(&e.video) == name => {
            let location = format!("{}{}", shared.base, pct_path(&file_path(&e.video)));
            Response::new(
                302,
                "text/html; charset=UTF-8",
                format!("<html><body>Moved <a href=\"{location}\">here</a></body></html>"),
            )
            .with("Location", location)
        }
        _ => Response::text(404, "Not Found\n"),
    }
}
