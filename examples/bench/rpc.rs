//! Scenario 4: RPC.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use vfetch::protocol::Request;
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv};
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, wikimedia_only, Daemon, V};
use crate::table::{median, ms, percentile, Row};
use crate::util::{wait_for, which, MIB};

pub(crate) fn rpc(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "rpc";
    let sz = &ctx.sizes;
    let srv = Srv::start()?;
    srv.set_throttle(2 * MIB);
    let n = sz.rpc_downloads;
    srv.add_theme(
        "rpc load",
        (0..n)
            .map(|i| Item {
                title: format!("Rpc {i:03}.mp4"),
                url: srv.add_file(&format!("r{i}.mp4"), 7000 + u64::from(i), 1024 * MIB),
                size: 1024 * MIB,
            })
            .collect(),
    );
    let mut d = Daemon::new(
        &ctx.root,
        "rpc",
        wikimedia_only(
            &srv.base(),
            &[
                ("validate", V::S("off".into())),
                ("parallel_downloads", V::I(i64::from(n))),
                ("per_source_downloads", V::I(i64::from(n))),
            ],
        ),
    )?;
    d.start()?;
    let socket = d.socket.clone();
    ctx.rt.block_on(async {
        let mut client = connect(&socket).await?;
        add_job(&mut client, "rpc load", n, vec![SourceKind::Wikimedia]).await?;
        anyhow::Ok(())
    })?;
    if let Err(e) = wait_for(Duration::from_secs(30), "downloads to run", || {
        srv.active_files() >= n as usize
    }) {
        bail!("{e}\n{}", d.log_tail());
    }
    say!(
        "rpc: {} downloads running; timing `vfetchctl status` x{}",
        srv.active_files(),
        sz.status_runs
    );

    // Whole-process status round trips, alternating with a bare process start as the floor.
    let truebin = which("true").unwrap_or_else(|| PathBuf::from("/bin/true"));
    let mut status_ms = Vec::new();
    let mut floor_ms = Vec::new();
    for _ in 0..sz.status_runs {
        let t0 = Instant::now();
        let out = d
            .ctl(&["status"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        status_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        if !out.status.success() {
            bail!(
                "vfetchctl status failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let t0 = Instant::now();
        Command::new(&truebin).stdin(Stdio::null()).status()?;
        floor_ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let window = sz.rpc_window;
    let conns = sz.rpc_conns;
    let (one_rps, one_lat, many_rps) = ctx.rt.block_on(async {
        // One connection, back to back.
        let mut client = connect(&socket).await?;
        let mut lat = Vec::new();
        let t0 = Instant::now();
        while t0.elapsed() < window {
            let t = Instant::now();
            client
                .request(&Request::Status)
                .await
                .map_err(|e| anyhow!("status: {e}"))?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let one_rps = lat.len() as f64 / t0.elapsed().as_secs_f64();
        // Many connections at once.
        let mut clients = Vec::new();
        for _ in 0..conns {
            clients.push(connect(&socket).await?);
        }
        let count = Arc::new(AtomicU64::new(0));
        let go = Arc::new(tokio::sync::Barrier::new(conns + 1));
        let mut tasks = Vec::new();
        for mut c in clients {
            let count = count.clone();
            let go = go.clone();
            tasks.push(tokio::spawn(async move {
                go.wait().await;
                let t0 = Instant::now();
                while t0.elapsed() < window {
                    if c.request(&Request::Status).await.is_err() {
                        return Err(anyhow!("status failed on a concurrent connection"));
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            }));
        }
        go.wait().await;
        let t0 = Instant::now();
        for t in tasks {
            t.await??;
        }
        let many_rps = count.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
        anyhow::Ok((one_rps, median(&lat), many_rps))
    })?;
    let still = srv.active_files();
    d.remove();
    drop(srv);
    let st = median(&status_ms);
    let floor = median(&floor_ms);
    Ok(vec![
        Row::info(
            S,
            format!(
                "`vfetchctl status` whole process, median of {} ({n} downloads running)",
                status_ms.len()
            ),
            ms(st),
        )
        .peer(format!("{} (spawn of `true`)", ms(floor)))
        .ratio(st / floor)
        .target("<= 5 ms", st <= 5.0),
        Row::info(
            S,
            "`vfetchctl status` p95",
            ms(percentile(&status_ms, 0.95)),
        ),
        Row::info(
            S,
            "status requests/s, one connection",
            format!("{one_rps:.0}/s"),
        )
        .peer(format!("median {}", ms(one_lat))),
        Row::info(
            S,
            format!("status requests/s, {conns} concurrent connections"),
            format!("{many_rps:.0}/s"),
        )
        .peer(format!("{still} downloads still running after")),
    ])
}
