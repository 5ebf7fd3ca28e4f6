//! Scenario 7: the gallery's data. `GET /api/library` (first page, a theme-filtered page and a
//! deep page) over HTTP on a library of 10,000 finished videos with thumbnails, seeded straight
//! into the daemon's schema while it is stopped (as `queue` fills its rest).

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use vfetch::job::JobOptions;
use vfetch::source_kind::SourceKind;

use crate::catalogue::Tarpit;
use crate::ctx::Ctx;
use crate::daemon::{idle_web, Daemon};
use crate::table::{median, ms, Row};

/// Videos in the library (`--smoke`: a few hundred).
const VIDEOS: u64 = 10_000;
const SMOKE_VIDEOS: u64 = 300;
/// Themes the videos are spread over (the filtered page finds one in this many).
const THEMES: u64 = 50;
/// The gallery's page size.
const PAGE: u32 = 60;

pub(crate) fn gallery(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "gallery";
    let videos = if ctx.smoke { SMOKE_VIDEOS } else { VIDEOS };
    let tarpit = Tarpit::start()?;
    let mut d = Daemon::new(&ctx.root, "gallery", idle_web(&tarpit.base()))?;
    // The first start makes the schema; the library goes in while the daemon is stopped.
    d.start()?;
    d.stop();
    seed(&d.db(), videos)?;
    d.start()?;
    let web = d.web()?;
    let (url, token) = (web.url, web.token);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let runs = if ctx.smoke { 20 } else { 300 };
    let time = |query: &str| -> Result<f64> {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let reply = client
                .get(format!("{url}/api/library?limit={PAGE}{query}"))
                .bearer_auth(&token)
                .send()?;
            let status = reply.status();
            let body = reply.bytes()?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            // Every answer is checked (outside the timing): a full page of videos.
            let page: serde_json::Value = serde_json::from_slice(&body)?;
            let shown = page["videos"].as_array().map_or(0, Vec::len);
            if !status.is_success() || shown != PAGE as usize {
                return Err(anyhow!("GET /api/library{query}: {status}, {shown} videos"));
            }
        }
        Ok(median(&times))
    };
    say!("gallery: timing GET /api/library on {videos} videos");
    let first = time("")?;
    // A theme that exists at either size (jobs of 100 take the themes in turn).
    let themes = (videos / 100).clamp(1, THEMES);
    let themed = time(&format!("&theme=gallery%20{}", themes / 2))?;
    let deep = time(&format!("&cursor={}", videos / 2))?;
    d.stop();
    drop(tarpit);
    let target = |row: Row, t: f64| row.target("<= 30 ms", t <= 30.0);
    Ok(vec![
        target(
            Row::info(
                S,
                format!("GET /api/library first page ({PAGE} of {videos} videos, HTTP, median)"),
                ms(first),
            ),
            first,
        ),
        Row::info(
            S,
            format!("same, one theme of {themes} (?theme=)"),
            ms(themed),
        ),
        Row::info(S, "same, a page in the middle (?cursor=)", ms(deep)),
    ])
}

/// Adds `n` finished downloads with probe facts and thumbnails, in jobs of 100, spread over
/// [`THEMES`] themes.
pub(crate) fn seed(db: &std::path::Path, n: u64) -> Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let options = serde_json::to_string(&JobOptions {
        sources: vec![SourceKind::Wikimedia],
        ..Default::default()
    })?;
    let probe = r#"{"format":"mov,mp4,m4a,3gp,3g2,mj2","codec":"h264","width":1920,"height":1080,"fps":25.0,"bitrate":8000000,"duration":12.5,"has_audio":false}"#;
    {
        let mut job = tx.prepare(
            "INSERT INTO jobs (theme, count, priority, state, options, errors, created_at, updated_at)
             VALUES (?1, 100, 0, 'done', ?2, '[]', ?3, ?3)",
        )?;
        let mut candidate = tx.prepare(
            "INSERT INTO candidates (job_id, source, source_id, title, page_url, author_name,
                 author_url, license, duration, width, height, size, url, mime, rank, state, created_at)
             VALUES (?1, 'wikimedia', ?2, ?2, ?3, 'Bench Author', 'http://127.0.0.1:9/u',
                 'CC BY-SA 4.0', 12.5, 1920, 1080, 8388608, ?4, 'video/mp4', 0, 'taken', ?5)",
        )?;
        let mut download = tx.prepare(
            "INSERT INTO downloads (job_id, candidate_id, source, state, priority, job_created_at,
                 offset, total, sha256, path, probe, validation, elapsed_ms, created_at, updated_at,
                 finished_at)
             VALUES (?1, ?2, 'wikimedia', 'done', 0, ?3, 8388608, 8388608, ?4, ?5, ?6, 'valid',
                 1000, ?3, ?3, ?3)",
        )?;
        let mut thumbs = tx.prepare(
            "INSERT INTO thumbnails (download_id, poster, sprite_frames, made_at)
             VALUES (?1, 1, 5, ?2)",
        )?;
        let mut job_id = 0;
        for i in 0..n {
            let at = now + i as i64;
            if i % 100 == 0 {
                let theme = format!("gallery {}", (i / 100) % THEMES);
                job.execute(rusqlite::params![theme, options, at])?;
                job_id = tx.last_insert_rowid();
            }
            let name = format!("Gallery {i}.mp4");
            candidate.execute(rusqlite::params![
                job_id,
                name,
                format!("http://127.0.0.1:9/wiki/File:Gallery_{i}.mp4"),
                format!("http://127.0.0.1:9/files/Gallery_{i}.mp4"),
                at
            ])?;
            let candidate_id = tx.last_insert_rowid();
            download.execute(rusqlite::params![
                job_id,
                candidate_id,
                at,
                format!("{i:064x}"),
                format!("/srv/library/gallery/wikimedia-Gallery-{i}.mp4"),
                probe,
            ])?;
            thumbs.execute(rusqlite::params![tx.last_insert_rowid(), at])?;
        }
    }
    tx.commit()?;
    Ok(())
}
