//! The gallery's backend through the real daemon: every finished download gets a poster and a
//! hover sprite served over HTTP with caching headers; `thumbnails --missing` makes exactly the
//! missing ones; `/api/library` pages the library once over, filtered, with the facts `export`
//! reports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::json_schema::{assert_valid, schema};
use crate::support::fake_provider::{fixtures, video_from_fixture, FakeProvider, Source};
use crate::support::web::{send, Web, WEB_ON};
use crate::support::{assert_fails, wait_until, Daemon};

/// Fixture indices (sorted by name): 640x360 mp4, 180x320 mp4, 320x180 webm.
const WIDE: usize = 5;
const PORTRAIT: usize = 6;
const WEBM: usize = 1;

/// Offers fixture `index` at `source` as "`theme` `n`".
fn offer(provider: &FakeProvider, source: Source, theme: &str, n: usize, index: usize) {
    let id = match source {
        Source::Wikimedia => format!("{theme} {n}.{}", fixtures()[index].ext),
        _ => format!("{}-{n}", theme.replace(' ', "-")),
    };
    let video = video_from_fixture(source, &id, &format!("{theme} {n}"), &fixtures()[index]);
    provider.add(video);
}

/// Adds a job and waits for it to be done.
fn collect(daemon: &Daemon, args: &[&str]) {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    all.push("--wait");
    let out = daemon.ctl(&all);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
}

/// Every page of `/api/library` with `query` (plus `limit`), in order.
fn pages(web: &Web, query: &str, limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let reply = web.get(&format!("/api/library?limit={limit}{query}{cursor}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = reply.json();
        out.push(page.clone());
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return out,
        }
    }
    panic!("the library never ended: {out:?}");
}

/// The library's videos, all pages joined.
fn videos(web: &Web, query: &str) -> Vec<Value> {
    pages(web, query, 500)
        .iter()
        .flat_map(|p| p["videos"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// An image fetched whole as bytes.
struct Image {
    status: u16,
    content_type: String,
    etag: String,
    cache: String,
    bytes: Vec<u8>,
}

fn image(web: &Web, path: &str, if_none_match: Option<&str>) -> Image {
    let mut request = web.request(Method::GET, path);
    if let Some(tag) = if_none_match {
        request = request.header("If-None-Match", tag);
    }
    let response = request.send().expect("HTTP request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (content_type, etag, cache) = (
        header("content-type"),
        header("etag"),
        header("cache-control"),
    );
    Image {
        status: response.status().as_u16(),
        content_type,
        etag,
        cache,
        bytes: response.bytes().expect("body").to_vec(),
    }
}

/// Width and height from a JPEG's start-of-frame marker.
fn jpeg_size(data: &[u8]) -> (u32, u32) {
    assert!(data.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut i = 2;
    while i + 9 < data.len() {
        let (marker, len) = (data[i + 1], u16::from_be_bytes([data[i + 2], data[i + 3]]));
        if (0xC0..=0xC3).contains(&marker) {
            let height = u16::from_be_bytes([data[i + 5], data[i + 6]]);
            let width = u16::from_be_bytes([data[i + 7], data[i + 8]]);
            return (u32::from(width), u32::from(height));
        }
        i += 2 + usize::from(len);
    }
    panic!("no frame header in the JPEG");
}

fn thumbnail_files(daemon: &Daemon) -> BTreeSet<String> {
    match std::fs::read_dir(daemon.state_dir().join("thumbnails")) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// Waits until every library video has a poster and a sprite (they are made in the
/// background); returns the videos.
fn wait_for_thumbnails(daemon: &Daemon, web: &Web, count: usize) -> Vec<Value> {
    let mut found = Vec::new();
    wait_until(Duration::from_secs(30), "thumbnails of every video", || {
        found = videos(web, "");
        found.len() == count
            && found
                .iter()
                .all(|v| v["thumbnail"] == true && v["sprite_frames"].as_u64().is_some())
    });
    let _ = daemon;
    found
}

#[test]
fn finished_downloads_get_a_poster_and_a_sprite_served_with_caching() {
    let provider = FakeProvider::start();
    for (n, index) in [WIDE, PORTRAIT, WEBM].into_iter().enumerate() {
        offer(&provider, Source::Wikimedia, "ocean waves", n, index);
    }
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], WEB_ON);
    collect(&daemon, &["ocean waves", "3"]);
    let web = daemon.web();
    let library = wait_for_thumbnails(&daemon, &web, 3);

    let mut widths = BTreeSet::new();
    let mut expected_files = BTreeSet::new();
    for video in &library {
        let id = video["download"].as_i64().expect("a download id");
        expected_files.insert(format!("{id}.jpg"));
        expected_files.insert(format!("{id}-sprite.jpg"));
        let poster = image(&web, &format!("/thumbs/{id}"), None);
        assert_eq!(
            poster.status,
            200,
            "{}",
            String::from_utf8_lossy(&poster.bytes)
        );
        assert_eq!(poster.content_type, "image/jpeg");
        assert_eq!(poster.cache, "private, max-age=86400");
        let (width, height) = jpeg_size(&poster.bytes);
        assert!(width <= 320 && height > 0, "poster {width}x{height}");
        // The aspect is kept: a portrait clip gives a portrait poster.
        let source_wide = video["width"].as_u64() > video["height"].as_u64();
        assert_eq!(width > height, source_wide, "{video}");
        widths.insert(width);
        // The client's copy is current: 304, no body, the same validator.
        let again = image(&web, &format!("/thumbs/{id}"), Some(&poster.etag));
        assert_eq!(again.status, 304);
        assert!(again.bytes.is_empty());
        assert_eq!(again.etag, poster.etag);
        let stale = image(&web, &format!("/thumbs/{id}"), Some("\"something-else\""));
        assert_eq!(stale.status, 200);

        let sprite = image(&web, &format!("/thumbs/{id}/sprite"), None);
        assert_eq!(sprite.status, 200);
        assert_eq!(sprite.content_type, "image/jpeg");
        assert_ne!(sprite.etag, poster.etag);
        let frames = video["sprite_frames"].as_u64().expect("sprite frames") as u32;
        let (sprite_width, _) = jpeg_size(&sprite.bytes);
        assert!(frames >= 2, "{video}");
        assert_eq!(sprite_width % frames, 0, "equal frames in one row");
        assert!(
            sprite_width / frames <= 160,
            "sprite frame {}",
            sprite_width / frames
        );
    }
    // The 640-pixel clip was scaled down to exactly 320; the narrower ones kept their size.
    assert!(widths.contains(&320) && widths.contains(&180), "{widths:?}");
    assert_eq!(thumbnail_files(&daemon), expected_files);

    let unknown = web.get("/thumbs/999999");
    unknown.assert_problem(404);
    web.get("/thumbs/999999/sprite").assert_problem(404);
    web.get("/thumbs/..%2Fweb.token").assert_problem(404);
    web.get("/thumbs/1abc").assert_problem(404);
    let id = library[0]["download"].as_i64().unwrap_or_default();
    send(web.bare(Method::GET, &format!("/thumbs/{id}"))).assert_problem(401);
    send(web.bare(Method::GET, "/api/library")).assert_problem(401);
}

#[test]
fn thumbnails_missing_makes_exactly_the_missing_ones() {
    let provider = FakeProvider::start();
    for (n, index) in [WIDE, PORTRAIT, WEBM].into_iter().enumerate() {
        offer(&provider, Source::Wikimedia, "city night", n, index);
    }
    // No ffmpeg where the daemon looks: the downloads finish anyway, without thumbnails.
    let extra = format!("{WEB_ON}ffmpeg = \"/nonexistent/ffmpeg\"\n");
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], &extra);
    collect(&daemon, &["city night", "3"]);
    let web = daemon.web();
    assert_eq!(videos(&web, "").len(), 3);
    let refused = daemon.ctl(&["thumbnails", "--missing"]);
    assert_fails(&refused, 4, "ffmpeg not found");
    assert!(thumbnail_files(&daemon).is_empty());
    let usage = daemon.ctl(&["thumbnails"]);
    assert_fails(&usage, 2, "--missing");

    let set = daemon.ctl(&["config", "set", "ffmpeg", "ffmpeg"]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let report = daemon.ctl_json(&["thumbnails", "--missing"]);
    assert_valid(&schema(), "ThumbnailsOutput", &report);
    assert_eq!(
        report,
        serde_json::json!({"checked": 3, "made": 3, "failed": 0})
    );
    let library = videos(&web, "");
    assert!(
        library.iter().all(|v| v["thumbnail"] == true),
        "{library:?}"
    );
    assert_eq!(thumbnail_files(&daemon).len(), 6);

    // Nothing is missing now; then one poster is deleted and exactly that one is made again.
    let report = daemon.ctl_json(&["thumbnails", "--missing"]);
    assert_eq!(
        report,
        serde_json::json!({"checked": 3, "made": 0, "failed": 0})
    );
    let id = library[1]["download"].as_i64().unwrap_or_default();
    let poster = daemon.state_dir().join(format!("thumbnails/{id}.jpg"));
    let before = std::fs::read(&poster).expect("the poster exists");
    std::fs::remove_file(&poster).expect("delete the poster");
    let report = daemon.ctl_json(&["thumbnails", "--missing"]);
    assert_eq!(
        report,
        serde_json::json!({"checked": 3, "made": 1, "failed": 0})
    );
    assert_eq!(std::fs::read(&poster).expect("made again"), before);
    let text = daemon.ctl(&["thumbnails", "--missing"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("checked 3 videos: made thumbnails for 0, 0 failed"),
        "{text}"
    );

    // Videos that leave the library take their thumbnails along.
    let cleaned = daemon.ctl(&["cleanup", "--older-than", "0", "--delete-files"]);
    assert!(
        cleaned.status.success(),
        "{}",
        String::from_utf8_lossy(&cleaned.stderr)
    );
    assert!(videos(&web, "").is_empty());
    assert!(
        thumbnail_files(&daemon).is_empty(),
        "{:?}",
        thumbnail_files(&daemon)
    );
}

/// The file name of an export record's path.
fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn library_pages_cover_each_video_once_newest_first_with_exports_facts() {
    let provider = FakeProvider::start();
    for (n, index) in [0, 2, 3].into_iter().enumerate() {
        offer(&provider, Source::Wikimedia, "desert dunes", n, index);
    }
    for (n, index) in [4, 8, 9].into_iter().enumerate() {
        offer(&provider, Source::Archive, "forest rain", n, index);
    }
    let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], WEB_ON);
    collect(&daemon, &["desert dunes", "3", "-s", "wikimedia"]);
    collect(&daemon, &["forest rain", "3", "-s", "archive"]);
    let web = daemon.web();
    let schema = schema();

    // Pages of two cover the six videos once each, newest (largest id) first.
    let pages = pages(&web, "", 2);
    assert_eq!(pages.len(), 3, "{pages:?}");
    let mut ids = Vec::new();
    for page in &pages {
        assert_valid(&schema, "LibraryOutput", page);
        for video in page["videos"].as_array().expect("videos") {
            ids.push(video["download"].as_i64().expect("id"));
        }
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "each once, newest first");
    assert_eq!(ids.len(), 6);
    assert!(pages[2]["next_cursor"].is_null());

    // Filters.
    let theme = |t: &str| videos(&web, &format!("&theme={t}"));
    let forest = theme("Forest%20Rain");
    assert_eq!(forest.len(), 3);
    assert!(
        forest.iter().all(|v| v["theme"] == "forest rain"),
        "{forest:?}"
    );
    let wikimedia = videos(&web, "&source=wikimedia");
    assert_eq!(wikimedia.len(), 3);
    assert!(wikimedia
        .iter()
        .all(|v| v["attribution"]["source"] == "wikimedia"));
    assert!(videos(&web, "&source=archive&theme=desert%20dunes").is_empty());
    assert!(videos(&web, "&since=2999-01-01").is_empty());
    assert_eq!(videos(&web, "&until=2999-01-01").len(), 6);
    web.get("/api/library?source=youtube").assert_problem(422);
    web.get("/api/library?since=yesterday").assert_problem(422);

    // The CLI face gives the same page.
    let cli = daemon.ctl_json(&["library", "-n", "2"]);
    assert_eq!(cli, pages[0]);
    let cli_forest = daemon.ctl_json(&["library", "--theme", "forest rain", "-s", "archive"]);
    assert_eq!(cli_forest["videos"].as_array().map(Vec::len), Some(3));

    // Every field agrees with `export` and `show` for the same download.
    let export = daemon.ctl_json(&["export"]);
    let all = videos(&web, "");
    for video in &all {
        let record = export
            .as_array()
            .expect("export records")
            .iter()
            .find(|r| file_name(r["path"].as_str().unwrap_or_default()) == video["file_name"])
            .unwrap_or_else(|| panic!("no export record for {video}"));
        for (ours, theirs) in [
            ("job", "job"),
            ("theme", "theme"),
            ("size", "size"),
            ("duration", "duration"),
            ("width", "width"),
            ("height", "height"),
            ("fps", "fps"),
            ("codec", "codec"),
            ("finished_at", "downloaded_at"),
        ] {
            assert_eq!(video[ours], record[theirs], "{ours} of {video} vs {record}");
        }
        for field in [
            "source",
            "source_id",
            "title",
            "page_url",
            "author_name",
            "author_url",
            "license",
        ] {
            assert_eq!(video["attribution"][field], record[field], "{field}");
        }
        let shown = daemon.show(video["job"].as_i64().unwrap_or_default());
        let download = shown["downloads"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["id"] == video["download"]).cloned())
            .expect("the download in show");
        assert_eq!(video["size"], download["bytes"]);
        assert_eq!(video["bitrate"], download["probe"]["bitrate"]);
        assert_eq!(video["codec"], download["probe"]["codec"]);
        let path = PathBuf::from(download["path"].as_str().unwrap_or_default());
        assert_eq!(video["file_name"], file_name(&path.to_string_lossy()));
        assert!(video["bitrate"].as_u64().is_some_and(|b| b > 0), "{video}");
    }
}
