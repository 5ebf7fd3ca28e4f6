//! Serving a video's bytes at `/files/{source}/{name}`: ETag and Last-Modified per generation
//! (see `change_etag`), single byte ranges, `If-Range`, and 416 for ranges past the end.

use std::time::{Duration, UNIX_EPOCH};

use super::response::Response;
use super::server::Request;
use super::state::{Entry, Shared};
use super::text::pct_path;
use super::{Source, Video};

/// Last-Modified of generation 0; each `change_etag` adds a day.
const BASE_MTIME_SECS: u64 = 1_704_164_645; // 2024-01-02T03:04:05Z

/// The file link a search answer lists for a video: its override, else this server's file URL.
pub(super) fn listed_link(base: &str, e: &Entry) -> String {
    e.link
        .clone()
        .unwrap_or_else(|| format!("{base}{}", pct_path(&file_path(&e.video))))
}

/// The byte-serving path (decoded form) of a video's file.
pub(super) fn file_path(v: &Video) -> String {
    let name = match v.source {
        Source::Wikimedia => {
            let name = v.id.replace(' ', "_");
            if name
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", v.ext.to_ascii_lowercase()))
            {
                name
            } else {
                format!("{name}.{}", v.ext)
            }
        }
        _ => format!("{}.{}", v.id, v.ext),
    };
    format!("/files/{}/{name}", v.source.name())
}

/// The ETag (with quotes) of a file in a generation.
pub(super) fn etag_of(e: &Entry, generation: u64) -> String {
    format!("\"{}-g{generation}\"", &e.sha256[..16])
}

/// The Last-Modified of a file in a generation.
fn last_modified_of(generation: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(BASE_MTIME_SECS + generation * 86_400))
}

/// `GET`/`HEAD` of a file, whole or one range of it.
pub(super) fn serve_file(shared: &Shared, req: &Request, ignore_range: bool) -> Response {
    let found = {
        let state = shared.state();
        state
            .videos
            .iter()
            .find(|e| file_path(&e.video) == req.path)
            .map(|e| {
                let generation = state
                    .generations
                    .get(&(e.video.source, e.video.id.clone()))
                    .copied()
                    .unwrap_or(0);
                (e.clone(), generation)
            })
    };
    let Some((e, generation)) = found else {
        return Response::text(404, "Not Found\n");
    };
    let data = &e.video.data;
    let total = data.len() as u64;
    let etag = etag_of(&e, generation);
    let last_modified = last_modified_of(generation);
    let base = |status: u16, body: &[u8]| {
        Response::new(status, &e.video.mime, body.to_vec())
            .with("Accept-Ranges", "bytes")
            .with("ETag", etag.clone())
            .with("Last-Modified", last_modified.clone())
            .with("Cache-Control", "public, max-age=31536000")
    };
    let range = if ignore_range {
        None
    } else {
        req.header("range")
    };
    let if_range_ok = match req.header("if-range") {
        None => true,
        Some(v) => v == etag || v == last_modified,
    };
    let Some(range) = range.filter(|_| if_range_ok) else {
        return base(200, data);
    };
    match parse_range(range, total) {
        RangeSpec::Whole => base(200, data),
        RangeSpec::Unsatisfiable => Response::text(416, "Range Not Satisfiable\n")
            .with("Content-Range", format!("bytes */{total}"))
            .with("Accept-Ranges", "bytes")
            .with("ETag", etag.clone()),
        RangeSpec::Part(start, end) => base(206, &data[start as usize..=end as usize])
            .with("Content-Range", format!("bytes {start}-{end}/{total}")),
    }
}

/// What a `Range` header asks for.
enum RangeSpec {
    /// No usable range (syntax not understood, several ranges): send everything.
    Whole,
    Unsatisfiable,
    /// Inclusive.
    Part(u64, u64),
}

/// Reads a `Range` header against a file of `total` bytes.
fn parse_range(value: &str, total: u64) -> RangeSpec {
    let Some(spec) = value
        .trim()
        .strip_prefix("bytes=")
        .or_else(|| value.trim().strip_prefix("Bytes="))
    else {
        return RangeSpec::Whole;
    };
    if spec.contains(',') {
        return RangeSpec::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeSpec::Whole;
        };
        if n == 0 || total == 0 {
            return RangeSpec::Unsatisfiable;
        }
        return RangeSpec::Part(total - n.min(total), total - 1);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeSpec::Whole;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return RangeSpec::Whole,
        }
    };
    if start >= total {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Part(start, end.min(total - 1))
}
