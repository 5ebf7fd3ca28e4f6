//! Scenario 2: memory.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv};
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, wikimedia_only, Daemon, V};
use crate::procs::{proc_mem, proc_status_kib};
use crate::table::{median, mib, Row};
use crate::util::{wait_for, MIB};

pub(crate) fn memory(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "memory";
    let sz = &ctx.sizes;
    let srv = Srv::start()?;
    srv.set_throttle(sz.mem_rate);
    let max_parallel = *vfetch::config::PARALLEL_RANGE.end();
    let mut rows = Vec::new();
    let mut idle_rss = Vec::new();
    let mut idle_hwm = Vec::new();
    let mut idle_anon = Vec::new();
    let mut idle_file = Vec::new();
    let mut level_anon = Vec::new();
    let mut at_level: Vec<(u32, u32, u64, u64, usize)> = Vec::new();
    for (li, &want) in sz.mem_levels.iter().enumerate() {
        let level = want.min(max_parallel);
        let theme = format!("memory {li}");
        let items: Vec<Item> = (0..level)
            .map(|i| Item {
                title: format!("Memory {li} {i:03}.mp4"),
                url: srv.add_file(
                    &format!("m{li}-{i}.mp4"),
                    5000 + u64::from(li as u32 * 1000 + i),
                    256 * MIB,
                ),
                size: 256 * MIB,
            })
            .collect();
        srv.add_theme(&theme, items);
        let mut d = Daemon::new(
            &ctx.root,
            &format!("memory-{level}"),
            wikimedia_only(
                &srv.base(),
                &[
                    ("validate", V::S("off".into())),
                    // The daemon alone, as before the HTTP API: the http scenario measures
                    // what the listener adds (the default listens on 127.0.0.1:5001).
                    ("web_listen", V::S("off".into())),
                    ("parallel_downloads", V::I(i64::from(level))),
                    ("per_source_downloads", V::I(i64::from(level))),
                ],
            ),
        )?;
        d.start()?;
        std::thread::sleep(Duration::from_secs(1));
        let pid = d.pid();
        let (rss, hwm) = proc_mem(pid)?;
        idle_rss.push(rss as f64);
        idle_hwm.push(hwm as f64);
        idle_anon.push(proc_status_kib(pid, "RssAnon:").unwrap_or(0) as f64);
        idle_file.push(proc_status_kib(pid, "RssFile:").unwrap_or(0) as f64);
        let socket = d.socket.clone();
        ctx.rt.block_on(async {
            let mut client = connect(&socket).await?;
            add_job(&mut client, &theme, level, vec![SourceKind::Wikimedia]).await?;
            anyhow::Ok(())
        })?;
        if let Err(e) = wait_for(Duration::from_secs(30), "all downloads to run", || {
            srv.active_files() >= level as usize
        }) {
            bail!(
                "{e} ({} of {level} running)\n{}",
                srv.active_files(),
                d.log_tail()
            );
        }
        let t0 = Instant::now();
        let mut max_rss = 0;
        while t0.elapsed() < sz.mem_window {
            max_rss = max_rss.max(proc_mem(pid)?.0);
            std::thread::sleep(Duration::from_millis(50));
        }
        let (rss, hwm) = proc_mem(pid)?;
        max_rss = max_rss.max(rss);
        level_anon.push(proc_status_kib(pid, "RssAnon:").unwrap_or(0));
        let concurrent = srv.active_files();
        say!(
            "memory: {level} downloads ({concurrent} concurrent at the server): VmRSS max {}, VmHWM {}",
            mib(max_rss as f64),
            mib(hwm as f64)
        );
        at_level.push((want, level, max_rss, hwm, concurrent));
        d.remove();
        // Let the server's connection threads notice the closed sockets.
        let _ = wait_for(
            Duration::from_secs(5),
            "server connections to close",
            || srv.active_files() == 0,
        );
    }
    let idle = median(&idle_rss);
    rows.push(
        Row::info(S, "idle VmRSS (fresh daemon, 1 s after start)", mib(idle))
            .peer("")
            .target("<= 10 MiB", idle <= 10.0 * MIB as f64),
    );
    rows.push(
        Row::info(S, "idle VmHWM", mib(median(&idle_hwm))).peer(format!(
            "RssAnon {}, RssFile {}",
            mib(median(&idle_anon)),
            mib(median(&idle_file))
        )),
    );
    for (i, (want, level, rss, hwm, concurrent)) in at_level.iter().enumerate() {
        let name = if want != level {
            format!("{want} downloads asked, {level} run (parallel_downloads max {max_parallel}); VmRSS max / VmHWM")
        } else {
            format!("{level} concurrent downloads: VmRSS max / VmHWM")
        };
        let mut row = Row::info(
            S,
            name,
            format!("{} / {}", mib(*rss as f64), mib(*hwm as f64)),
        )
        .peer(format!(
            "{concurrent} running at the server; RssAnon {}",
            mib(level_anon.get(i).copied().unwrap_or(0) as f64)
        ));
        if *want >= 32 || *level == max_parallel {
            row = row.target("<= 40 MiB (at 100)", (*hwm as f64) <= 40.0 * MIB as f64);
        }
        rows.push(row);
    }
    if at_level.len() >= 2 {
        let (_, l1, _, h1, _) = at_level[0];
        let (_, l2, _, h2, _) = at_level[at_level.len() - 1];
        if l2 > l1 {
            let per = (h2 as f64 - h1 as f64) / f64::from(l2 - l1);
            let projected = h2 as f64 + per * f64::from(100u32.saturating_sub(l2));
            rows.push(
                Row::info(
                    S,
                    "VmHWM per extra download; projected at 100 (linear)",
                    format!("{:.0} KiB; {}", per / 1024.0, mib(projected)),
                )
                .note_target(format!(
                    "<= 40 MiB (projection; config caps at {max_parallel})"
                )),
            );
        }
    }
    Ok(rows)
}
