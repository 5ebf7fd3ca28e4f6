//! Scenario 7: the HTTP API. What the listener costs an idle daemon (VmRSS with `web_listen`
//! on against off), and `GET /api/jobs`'s first page on a big queue, on one keep-alive
//! connection, against the same `list` on the socket.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use vfetch::job::JobOptions;
use vfetch::protocol::{ListQuery, Request, Response};
use vfetch::source_kind::SourceKind;

use crate::ctx::Ctx;
use crate::daemon::{connect, wikimedia_only, Daemon, V};
use crate::procs::proc_mem;
use crate::table::{median, mib, ms, Row};
use crate::util::MIB;

/// Job states the seeded queue cycles through: all at rest, so nothing runs while it is timed.
const STATES: [&str; 4] = ["done", "failed", "cancelled", "paused"];

pub(crate) fn http(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "http";
    let sz = &ctx.sizes;
    let mut rows = Vec::new();

    // Idle VmRSS, listener off and on, alternating which goes first.
    let mut off = Vec::new();
    let mut on = Vec::new();
    for rep in 0..ctx.reps {
        let order = if rep % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for listen in order {
            let rss = idle_rss(ctx, listen, rep)?;
            if listen {
                on.push(rss);
            } else {
                off.push(rss);
            }
        }
    }
    let (on, off) = (median(&on), median(&off));
    say!(
        "http: idle VmRSS {} with the listener, {} without",
        mib(on),
        mib(off)
    );
    rows.push(
        Row::info(
            S,
            "idle VmRSS, web_listen on (fresh daemon, 1 s after start)",
            mib(on),
        )
        .peer(format!("web_listen off: {}", mib(off)))
        .target("<= 12 MiB", on <= 12.0 * MIB as f64),
    );
    rows.push(
        Row::info(S, "idle VmRSS the listener adds (on - off)", mib(on - off))
            .target("<= 2 MiB", on - off <= 2.0 * MIB as f64),
    );

    // GET /api/jobs at a big queue.
    let jobs = sz.http_jobs;
    let mut d = Daemon::new(&ctx.root, "http-jobs", config("127.0.0.1:0"))?;
    d.start()?;
    d.stop();
    say!("http: inserting {jobs} jobs directly with SQL (daemon stopped)");
    seed_jobs(&d.db(), jobs)?;
    d.start()?;
    let web = d.web()?;
    let (url, token) = (web.url, web.token);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let page = format!("{url}/api/jobs");
    let get = || -> Result<usize> {
        let reply = client.get(&page).bearer_auth(&token).send()?;
        let status = reply.status();
        let body = reply.text()?;
        if !status.is_success() {
            bail!("GET /api/jobs: {status}: {body}");
        }
        let doc: serde_json::Value = serde_json::from_str(&body)?;
        Ok(doc.as_array().map_or(0, Vec::len))
    };
    // The first request opens the connection; the timed ones reuse it (keep-alive).
    let first = get()?;
    if first != 50.min(jobs as usize) {
        bail!("GET /api/jobs answered {first} jobs, expected a page of 50");
    }
    let mut times = Vec::new();
    for _ in 0..sz.http_requests {
        let t0 = Instant::now();
        get()?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let http_ms = median(&times);
    let socket = d.socket.clone();
    let requests = sz.http_requests;
    let socket_ms = ctx.rt.block_on(async {
        let mut c = connect(&socket).await?;
        let mut t = Vec::new();
        for _ in 0..requests {
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
    rows.push(
        Row::info(
            S,
            format!(
                "GET /api/jobs first page (50 of {jobs} jobs), median of {} on one keep-alive connection",
                sz.http_requests
            ),
            ms(http_ms),
        )
        .peer(format!("socket `list`, same page: {}", ms(socket_ms)))
        .ratio(http_ms / socket_ms)
        .target("<= 20 ms", http_ms <= 20.0),
    );
    d.remove();
    Ok(rows)
}

/// Config of an HTTP bench daemon: sources pointed nowhere (nothing is searched).
fn config(web_listen: &str) -> Vec<(String, V)> {
    wikimedia_only(
        "http://127.0.0.1:9",
        &[
            ("validate", V::S("off".into())),
            ("web_listen", V::S(web_listen.into())),
        ],
    )
}

/// A fresh daemon's VmRSS 1 s after start, with or without the HTTP listener.
fn idle_rss(ctx: &Ctx, listen: bool, rep: usize) -> Result<f64> {
    let (name, web) = if listen {
        (format!("http-on-{rep}"), "127.0.0.1:0")
    } else {
        (format!("http-off-{rep}"), "off")
    };
    let mut d = Daemon::new(&ctx.root, &name, config(web))?;
    d.start()?;
    if listen {
        // Only counts if the listener is really up.
        d.web()?;
    }
    std::thread::sleep(Duration::from_secs(1));
    let (rss, _) = proc_mem(d.pid())?;
    d.remove();
    Ok(rss as f64)
}

/// Adds `n` jobs at rest straight into the stopped daemon's schema, as the queue scenario
/// fills downloads it could not queue in time.
fn seed_jobs(db: &Path, n: u32) -> Result<()> {
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
    {
        let mut stmt = tx.prepare(
            "INSERT INTO jobs (theme, count, priority, state, options, errors, created_at, updated_at)
             VALUES (?1, 10, ?2, ?3, ?4, '[]', ?5, ?5)",
        )?;
        for i in 0..n {
            stmt.execute(rusqlite::params![
                format!("http theme {i}"),
                i64::from(i % 3),
                STATES[i as usize % STATES.len()],
                options,
                now + i64::from(i)
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
