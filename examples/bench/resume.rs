//! Scenario 6: resume cost.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use sha2::{Digest, Sha256};
use vfetch::job::JobState;
use vfetch::protocol::{ListQuery, Request, Response};
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv};
use crate::content::content_sha256;
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, subscribe, wait_job, wikimedia_only, Daemon, V};
use crate::table::{median, mib, ms, Row};
use crate::util::{wait_for, MIB};

pub(crate) fn resume(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "resume";
    let sz = &ctx.sizes;
    let size = sz.resume_bytes;
    let srv = Srv::start()?;
    srv.set_throttle(sz.resume_rate);
    let mut redownloaded = Vec::new();
    let mut not_durable = Vec::new();
    let mut resume_latency = Vec::new();
    let mut prefix_hash = Vec::new();
    let mut prefixes = Vec::new();
    let mut startups = Vec::new();
    let expected_of = |seed: u64| content_sha256(seed, size);
    for rep in 0..ctx.reps {
        let seed = 9000 + rep as u64;
        let name = format!("resume-{rep}.mp4");
        let url = srv.add_file(&name, seed, size);
        let theme = format!("resume {rep}");
        srv.add_theme(
            &theme,
            vec![Item {
                title: format!("Resume {rep}.mp4"),
                url,
                size,
            }],
        );
        let path = format!("/files/{name}");
        let mut d = Daemon::new(
            &ctx.root,
            &format!("resume-{rep}"),
            wikimedia_only(&srv.base(), &[("validate", V::S("off".into()))]),
        )?;
        d.start()?;
        let socket = d.socket.clone();
        ctx.rt.block_on(async {
            let mut client = connect(&socket).await?;
            add_job(&mut client, &theme, 1, vec![SourceKind::Wikimedia]).await?;
            anyhow::Ok(())
        })?;
        let sent_first = || {
            srv.file_requests()
                .iter()
                .find(|r| r.0 == path)
                .map(|r| r.4)
                .unwrap_or(0)
        };
        if let Err(e) = wait_for(Duration::from_secs(120), "the middle of the file", || {
            sent_first() >= size / 2
        }) {
            bail!("{e}\n{}", d.log_tail());
        }
        d.kill9();
        let staging = d.state.join("staging");
        let part_len = fs::read_dir(&staging)?
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "part"))
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        // Let the server see the closed connection and settle its byte count.
        let _ = wait_for(Duration::from_secs(5), "the first request to end", || {
            srv.file_requests().iter().any(|r| r.0 == path && r.5)
        });
        let sent1 = sent_first();
        let stored_offset: i64 = {
            let conn = rusqlite::Connection::open(d.db())?;
            conn.query_row("SELECT MAX(offset) FROM downloads", [], |r| r.get(0))?
        };
        // The bench's own SHA-256 of the same prefix from the same file: the disk-speed reference.
        let prefix_ref = {
            let part = fs::read_dir(&staging)?
                .flatten()
                .find(|e| e.path().extension().is_some_and(|x| x == "part"))
                .map(|e| e.path())
                .ok_or_else(|| anyhow!("no .part file after the kill"))?;
            let t = Instant::now();
            let mut f = fs::File::open(&part)?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; MIB as usize];
            let mut left = stored_offset as u64;
            while left > 0 {
                let k = f.read(&mut buf[..left.min(MIB) as usize])?;
                if k == 0 {
                    break;
                }
                h.update(&buf[..k]);
                left -= k as u64;
            }
            let _ = h.finalize();
            t.elapsed().as_secs_f64()
        };
        let t_restart = Instant::now();
        let up = d.start()?;
        if let Err(e) = wait_for(Duration::from_secs(60), "the resumed request", || {
            srv.file_requests().iter().filter(|r| r.0 == path).count() >= 2
        }) {
            bail!("{e}\n{}", d.log_tail());
        }
        let reqs: Vec<_> = srv
            .file_requests()
            .into_iter()
            .filter(|r| r.0 == path)
            .collect();
        let second = &reqs[1];
        let latency = second.3.duration_since(t_restart).as_secs_f64();
        // A 200 means the daemon started over (nothing durable, or no validator): all of it counts.
        let range = if second.2 == 206 {
            second.1.unwrap_or(0)
        } else {
            0
        };
        if second.2 != 206 {
            say!(
                "resume: the restarted download sent no usable Range (status {}); it started over",
                second.2
            );
        }
        let socket = d.socket.clone();
        let job = ctx.rt.block_on(async {
            let mut events = subscribe(&socket).await?;
            let mut client = connect(&socket).await?;
            let jobs = match client
                .request(&Request::List(ListQuery {
                    states: Vec::new(),
                    limit: 10,
                    offset: 0,
                }))
                .await
                .map_err(|e| anyhow!("list: {e}"))?
            {
                Response::JobList(j) => j,
                other => bail!("list: {other:?}"),
            };
            let id = jobs.first().ok_or_else(|| anyhow!("no job"))?.job.id;
            wait_job(&mut events, &mut client, id, Duration::from_secs(300)).await
        })?;
        if job.state != JobState::Done {
            bail!(
                "the resumed job ended {:?}: {:?}\n{}",
                job.state,
                job.errors,
                d.log_tail()
            );
        }
        // The finished file must be the original.
        let lib_file = walk_files(&d.library)
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no file in the library"))?;
        let got = file_sha256(&lib_file)?;
        if got != expected_of(seed) {
            bail!("the resumed file's SHA-256 differs from the original");
        }
        let total_sent: u64 = srv
            .file_requests()
            .iter()
            .filter(|r| r.0 == path)
            .map(|r| r.4)
            .sum();
        let re = sent1.saturating_sub(range);
        say!(
            "resume rep {}: killed at {} sent ({} in .part, {} durable); resumed from {} after {:.0} ms; re-downloaded {}; total sent {}",
            rep + 1,
            mib(sent1 as f64),
            mib(part_len as f64),
            mib(stored_offset as f64),
            mib(range as f64),
            latency * 1e3,
            mib(re as f64),
            mib(total_sent as f64)
        );
        redownloaded.push(re as f64);
        not_durable.push(part_len.saturating_sub(range) as f64);
        resume_latency.push(latency);
        prefix_hash.push(prefix_ref);
        prefixes.push(range as f64);
        startups.push(up.as_secs_f64());
        d.remove();
    }
    drop(srv);
    let re = median(&redownloaded);
    let flush = vfetch::fetch::FLUSH_BYTES as f64;
    let prefix = median(&prefixes);
    let lat = median(&resume_latency);
    let href = median(&prefix_hash);
    let startup = median(&startups);
    let rehash = (lat - startup).max(1e-6);
    let mut rate_row = Row::info(
        S,
        "re-hash rate (excluding the socket start-up)",
        format!("{:.0} MiB/s", prefix / MIB as f64 / rehash),
    )
    .peer(format!("{:.0} MiB/s", prefix / MIB as f64 / href))
    .ratio(href / rehash)
    .note_target("at disk speed (>= 0.5x the bench's own read+hash)");
    if prefix >= 64.0 * MIB as f64 {
        // Below that the restart's fixed costs dominate and the rate means little.
        rate_row = rate_row.target(
            "at disk speed (>= 0.5x the bench's own read+hash)",
            href / rehash >= 0.5,
        );
    }
    Ok(vec![
        Row::info(S, format!("file {}, throttled to {}/s, kill -9 at 50%", mib(size as f64), mib(sz.resume_rate as f64)), format!("resumed from {}", mib(prefix)))
            .peer(format!("{:.0}% of the file", prefix / size as f64 * 100.0)),
        Row::info(S, "bytes re-downloaded: server bytes sent before the kill - resume offset (50% is a multiple of the flush size: the worst phase)", mib(re))
            .peer(format!("{} flush interval", mib(flush)))
            .ratio(re / flush)
            .target(format!("<= {} (one flush interval)", mib(flush)), re <= flush),
        Row::info(S, "of which written to the .part but not yet synced (.part length - offset)", mib(median(&not_durable)))
            .peer(format!("{} in socket buffers", mib((re - median(&not_durable)).max(0.0))))
            .target(format!("<= {}", mib(flush)), median(&not_durable) <= flush),
        Row::info(S, "restart -> resumed request (start-up + re-hash of the prefix)", ms(lat * 1e3))
            .peer(format!("bench SHA-256 of the same prefix: {}", ms(href * 1e3)))
            .ratio(lat / href),
        rate_row,
    ])
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
    }
    Ok(hex::encode(h.finalize()))
}

fn walk_files(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(path) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
