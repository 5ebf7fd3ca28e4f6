//! Scenario 5: queue scale.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use vfetch::job::JobOptions;
use vfetch::protocol::{ListQuery, Request, Response};
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv, Tarpit};
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, wikimedia_only, Daemon, V};
use crate::table::{median, mib, ms, secs, Row};
use crate::util::MIB;

pub(crate) fn queue(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "queue";
    let sz = &ctx.sizes;
    let jobs = sz.queue_jobs;
    let per = sz.queue_per_job;
    let total = u64::from(jobs) * u64::from(per);
    let tarpit = Tarpit::start()?;
    let srv = Srv::start()?;
    for j in 0..jobs {
        srv.add_theme(
            &format!("queue {j}"),
            (0..per)
                .map(|i| Item {
                    title: format!("Queue {j} {i}.mp4"),
                    url: format!("{}/q/{j}/{i}.mp4", tarpit.base()),
                    size: 8 * MIB,
                })
                .collect(),
        );
    }
    let mut d = Daemon::new(
        &ctx.root,
        "queue",
        wikimedia_only(
            &srv.base(),
            &[
                ("validate", V::S("off".into())),
                ("parallel_downloads", V::I(4)),
                ("per_source_downloads", V::I(2)),
                ("stall_timeout_secs", V::I(3600)),
            ],
        ),
    )?;
    d.start()?;
    let socket = d.socket.clone();
    let db = d.db();
    say!("queue: adding {jobs} jobs x {per} downloads through the API");
    let t0 = Instant::now();
    let add_secs = ctx.rt.block_on(async {
        let mut client = connect(&socket).await?;
        for j in 0..jobs {
            add_job(
                &mut client,
                &format!("queue {j}"),
                per,
                vec![SourceKind::Wikimedia],
            )
            .await?;
        }
        anyhow::Ok(t0.elapsed().as_secs_f64())
    })?;
    let count_downloads = |db: &Path| -> Result<u64> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(conn.query_row("SELECT COUNT(*) FROM downloads", [], |r| r.get::<_, i64>(0))? as u64)
    };
    let mut queued = 0;
    let mut last_report = Instant::now();
    while t0.elapsed() < sz.queue_api_cap {
        queued = count_downloads(&db)?;
        if queued >= total {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            say!(
                "queue: {queued} of {total} downloads queued after {:.0} s",
                t0.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let api_secs = t0.elapsed().as_secs_f64();
    let api_queued = queued;
    let mut rows = Vec::new();
    rows.push(Row::info(
        S,
        format!("add {jobs} jobs (Request::Add on one connection)"),
        format!(
            "{:.2} s ({:.0} jobs/s)",
            add_secs,
            f64::from(jobs) / add_secs
        ),
    ));
    if api_queued >= total {
        rows.push(Row::info(
            S,
            format!("{total} downloads queued through the API (search + top-up)"),
            format!(
                "{} ({:.0} downloads/s)",
                secs(api_secs),
                api_queued as f64 / api_secs
            ),
        ));
    } else {
        rows.push(Row::info(
            S,
            format!(
                "downloads queued through the API in {:.0} s (cap)",
                sz.queue_api_cap.as_secs_f64()
            ),
            format!(
                "{api_queued} of {total} ({:.0}/s)",
                api_queued as f64 / api_secs
            ),
        ));
    }
    say!(
        "queue: {api_queued} downloads queued via the API in {api_secs:.1} s; stopping the daemon"
    );
    if !d.stop() {
        say!("queue: the daemon did not stop within 20 s of SIGTERM (killed)");
    }
    if api_queued < total {
        let filled_directly = fill_directly(&db, total - api_queued)?;
        rows.push(Row::info(
            S,
            "rest inserted directly with SQL (daemon stopped)",
            format!("{filled_directly} downloads"),
        ));
    }
    let conn = rusqlite::Connection::open(&db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let rows_now: i64 = conn.query_row("SELECT COUNT(*) FROM downloads", [], |r| r.get(0))?;
    let queued_now: i64 = conn.query_row(
        "SELECT COUNT(*) FROM downloads WHERE state = 'queued'",
        [],
        |r| r.get(0),
    )?;
    drop(conn);
    let bytes: u64 = ["", "-wal", "-shm"]
        .iter()
        .map(|s| {
            fs::metadata(format!("{}{s}", db.display()))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    let per_dl = bytes as f64 / rows_now as f64;
    rows.push(
        Row::info(
            S,
            format!(
                "database bytes per download ({rows_now} downloads with their jobs and candidates)"
            ),
            format!("{per_dl:.0} B"),
        )
        .peer(mib(bytes as f64))
        .target("<= 1 KiB", per_dl <= 1024.0),
    );

    // The scheduler's pick: the library's own `pick_next`, on a copy of the daemon's database
    // (each pick marks a download running, so the daemon's file is left alone).
    let (pick_ms, pick_full_ms) = pick_with_library(&db, &ctx.root)?;
    rows.push(
        Row::info(
            S,
            format!("scheduler pick, {queued_now} queued (Store::pick_next)"),
            ms(pick_ms),
        )
        .target("<= 1 ms", pick_ms <= 1.0),
    );
    rows.push(
        Row::info(
            S,
            "pick when the only queued source is at its limit (finds nothing)",
            ms(pick_full_ms),
        )
        .target("<= 1 ms", pick_full_ms <= 1.0),
    );

    // Start-up (recovery) time, then `list` on the running daemon.
    let mut up = Vec::new();
    let mut answered = Vec::new();
    for _ in 0..ctx.reps.max(2) {
        let t0 = Instant::now();
        let socket_up = d.start()?;
        let socket = d.socket.clone();
        ctx.rt.block_on(async {
            let mut c = connect(&socket).await?;
            c.request(&Request::Status)
                .await
                .map_err(|e| anyhow!("status: {e}"))?;
            anyhow::Ok(())
        })?;
        answered.push(t0.elapsed().as_secs_f64() * 1e3);
        up.push(socket_up.as_secs_f64() * 1e3);
        if up.len() < ctx.reps.max(2) {
            d.stop();
        }
    }
    let start_ms = median(&answered);
    rows.push(
        Row::info(
            S,
            format!("start-up to first status answer, {rows_now} downloads"),
            ms(start_ms),
        )
        .peer(format!("socket accepting: {}", ms(median(&up))))
        .target("<= 1 s", start_ms <= 1000.0),
    );
    let socket = d.socket.clone();
    let list_ms = ctx.rt.block_on(async {
        let mut c = connect(&socket).await?;
        let mut t = Vec::new();
        for _ in 0..50 {
            let t0 = Instant::now();
            match c
                .request(&Request::List(ListQuery {
                    states: Vec::new(),
                    limit: 50,
                    offset: 0,
                }))
                .await
                .map_err(|e| anyhow!("list: {e}"))?
            {
                Response::JobList(jobs) if !jobs.is_empty() => {}
                other => bail!("list: unexpected answer {other:?}"),
            }
            t.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        anyhow::Ok(median(&t))
    })?;
    let mut cli_ms = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let out = d
            .ctl(&["list"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        cli_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        if !out.status.success() {
            bail!(
                "vfetchctl list failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let cli = median(&cli_ms);
    rows.push(
        Row::info(
            S,
            format!("`list` first page (50 of {jobs} jobs), request on an open connection"),
            ms(list_ms),
        )
        .peer(format!("`vfetchctl list` whole process: {}", ms(cli)))
        .target("<= 20 ms", list_ms <= 20.0 && cli <= 20.0),
    );
    d.remove();
    drop(srv);
    drop(tarpit);
    Ok(rows)
}

/// Times `Store::pick_next` on a copy of the database: picking the next download,
/// and finding nothing because the only source with queued work is at its limit.
fn pick_with_library(db: &Path, root: &Path) -> Result<(f64, f64)> {
    use vfetch::source_kind::SourceKind;
    let copy = root.join("pick-copy.db");
    fs::copy(db, &copy)?;
    // The daemon may still hold recent writes in its write-ahead log: take it along.
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if wal.exists() {
        fs::copy(&wal, root.join("pick-copy.db-wal"))?;
    }
    let store = vfetch::store::Store::open(&copy)?;
    let time = |full: &[SourceKind], runs: usize| -> Result<f64> {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            store.pick_next_blocking(full)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        Ok(median(&times))
    };
    let next = time(&[SourceKind::Pexels], 1000)?;
    let nothing = time(&[SourceKind::Wikimedia], 200)?;
    drop(store);
    let _ = fs::remove_file(&copy);
    Ok((next, nothing))
}

/// Adds `n` queued downloads (with their jobs and candidates) straight into the daemon's schema
/// while it is stopped: jobs of 100, ids continuing after what is there.
fn fill_directly(db: &Path, n: u64) -> Result<u64> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    let now: i64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let mut added = 0u64;
    let base: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM jobs", [], |r| r.get(0))?;
    let options = serde_json::to_string(&JobOptions {
        sources: vec![SourceKind::Wikimedia],
        ..Default::default()
    })?;
    {
        let mut job_stmt = tx.prepare(
            "INSERT INTO jobs (theme, count, priority, state, options, errors, created_at, updated_at)
             VALUES (?1, ?2, 0, 'downloading', ?3, '[]', ?4, ?4)",
        )?;
        let mut cand_stmt = tx.prepare(
            "INSERT INTO candidates (job_id, source, source_id, title, page_url, author_name, license,
                 duration, width, height, size, url, mime, rank, state, created_at)
             VALUES (?1, 'wikimedia', ?2, ?3, ?4, 'Bench Author', 'CC BY-SA 4.0', 10.0, 1920, 1080,
                 8388608, ?5, 'video/mp4', ?6, 'taken', ?7)",
        )?;
        let mut dl_stmt = tx.prepare(
            "INSERT INTO downloads (job_id, candidate_id, source, state, priority, job_created_at,
                 total, created_at, updated_at)
             VALUES (?1, ?2, 'wikimedia', 'queued', 0, ?3, 8388608, ?3, ?3)",
        )?;
        let mut j = 0i64;
        while added < n {
            j += 1;
            let count = (n - added).min(100);
            let created = now + j;
            let theme = format!("direct {}", base + j);
            job_stmt.execute(rusqlite::params![theme, count as i64, options, created])?;
            let job_id = tx.last_insert_rowid();
            for i in 0..count {
                let title = format!("Direct {} {i}.mp4", base + j);
                cand_stmt.execute(rusqlite::params![
                    job_id,
                    title,
                    title.trim_end_matches(".mp4"),
                    format!("http://127.0.0.1:9/wiki/File:{}", title.replace(' ', "_")),
                    format!("http://127.0.0.1:9/files/{}", title.replace(' ', "_")),
                    i as i64,
                    created
                ])?;
                let cand = tx.last_insert_rowid();
                dl_stmt.execute(rusqlite::params![job_id, cand, created])?;
                added += 1;
            }
        }
    }
    tx.commit()?;
    Ok(added)
}
