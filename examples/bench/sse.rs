//! Scenario 8: the HTTP event stream (`GET /api/events`, Server-Sent Events). How long a state
//! change takes to reach a client already connected (pause / resume of a job, timed from just
//! before the socket request to the event's arrival), and what 1,000 connected clients cost a
//! bulk download (wall time against no clients, and the daemon's memory).
//!
//! The clients are tokio tasks in this process speaking raw HTTP/1.0 over TCP to 127.0.0.1:
//! HTTP/1.0 makes the server end the body by closing rather than by chunks, so the stream is
//! plain SSE lines. Each client stops by itself: when told, when the server ends the stream,
//! or at a deadline.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use vfetch::job::JobState;
use vfetch::protocol::{Request, Response, Target};
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv, Tarpit};
use crate::content::write_content_file;
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, idle_web, subscribe, wait_job, wikimedia_only, Daemon, V};
use crate::nginx::Nginx;
use crate::procs::{proc_cpu, proc_mem};
use crate::table::{median, mib, ms, percentile, secs, Row, Verdict};
use crate::util::{sync_disks, which, MIB};

/// Longest SSE line a client reads; a snapshot of many jobs is one line.
const MAX_LINE: usize = 1 << 20;
/// No bench client outlives this, whatever happens to the run.
const CLIENT_DEADLINE: Duration = Duration::from_secs(600);
/// Clients connecting at once, so the daemon's listen backlog never overflows.
const CONNECTING: usize = 100;

/// This scenario's sizes (kept here, not in `ctx.rs`, as no other scenario uses them).
struct SseSizes {
    changes: usize,
    clients: usize,
    files: usize,
    file_bytes: u64,
}

impl SseSizes {
    fn new(smoke: bool) -> SseSizes {
        if smoke {
            SseSizes {
                changes: 10,
                clients: 20,
                files: 8,
                file_bytes: 256 << 10,
            }
        } else {
            SseSizes {
                changes: 200,
                clients: 1000,
                files: 200,
                file_bytes: 8 * MIB,
            }
        }
    }
}

pub(crate) fn sse(ctx: &Ctx) -> Result<Vec<Row>> {
    let sz = SseSizes::new(ctx.smoke);
    raise_fd_limit();
    let mut rows = latency(ctx, &sz)?;
    rows.extend(fan_out(ctx, &sz)?);
    Ok(rows)
}

/// Pause / resume of one job, `changes` times, each timed to the SSE client's read.
fn latency(ctx: &Ctx, sz: &SseSizes) -> Result<Vec<Row>> {
    // The job's search goes to a server that never answers, so it stays put between changes.
    let tarpit = Tarpit::start()?;
    let mut d = Daemon::new(&ctx.root, "sse-latency", idle_web(&tarpit.base()))?;
    d.start()?;
    let web = d.web()?;
    let (addr, token) = (web.addr()?, web.token);
    let socket = d.socket.clone();
    let changes = sz.changes;
    let times = ctx.rt.block_on(async {
        let stop = CancellationToken::new();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(client(
            addr.clone(),
            token.clone(),
            stop.clone(),
            Some(tx),
            None,
        ));
        // The snapshot first: the client is connected and following.
        next_event(&mut rx, |v| v["type"] == "snapshot").await?;
        let mut c = connect(&socket).await?;
        let job = add_job(&mut c, "sse latency", 1, vec![SourceKind::Wikimedia]).await?;
        let id = job.id;
        let mut times = Vec::with_capacity(changes);
        for i in 0..changes {
            let pause = i % 2 == 0;
            let request = if pause {
                Request::Pause(Target::Job(id))
            } else {
                Request::Resume(Target::Job(id))
            };
            let t0 = Instant::now();
            match c.request(&request).await.map_err(|e| anyhow!("{e}"))? {
                Response::Jobs(_) => {}
                other => bail!("pause/resume: unexpected answer {other:?}"),
            }
            let at = next_event(&mut rx, |v| {
                v["type"] == "job"
                    && v["id"] == id.0
                    && (v["state"] == "paused") == pause
                    && v["state"] != "done"
            })
            .await?;
            times.push(at.duration_since(t0).as_secs_f64() * 1e3);
            // Let the resumed job settle into its search before the next pause.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        let _ = reader.await;
        anyhow::Ok(times)
    })?;
    d.remove();
    drop(tarpit);
    let med = median(&times);
    let p95 = percentile(&times, 95.0);
    say!("sse: state change -> SSE client: median {med:.2} ms, p95 {p95:.2} ms");
    Ok(vec![Row::info(
        "sse",
        format!(
            "job state change (pause/resume over the socket) -> event read by a connected SSE client, median of {changes}"
        ),
        ms(med),
    )
    .peer(format!("p95 {}", ms(p95)))
    .target("<= 20 ms median", med <= 20.0)])
}

/// Waits (up to 10 s) for the first event that `wanted` accepts; returns when it was read.
async fn next_event(
    rx: &mut mpsc::UnboundedReceiver<(Instant, Value)>,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Instant> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((at, v))) if wanted(&v) => return Ok(at),
            Ok(Some(_)) => {}
            Ok(None) => bail!("the SSE client stopped"),
            Err(_) => bail!("no matching SSE event within 10 s"),
        }
    }
}

/// What one client saw.
#[derive(Default, Clone, Copy)]
struct Seen {
    events: u64,
    lagged: bool,
    /// The server ended the stream before the client was told to stop.
    ended: bool,
}

/// One SSE client: connects, then reads events until `stop`, the end of the stream or
/// [`CLIENT_DEADLINE`]. Each event's data is sent on `events` (when given) with the instant
/// it was read. With `ready`, its first event (the snapshot) counts it as connected and gives
/// back its connecting permit.
async fn client(
    addr: String,
    token: String,
    stop: CancellationToken,
    events: Option<mpsc::UnboundedSender<(Instant, Value)>>,
    mut ready: Option<(Arc<AtomicUsize>, OwnedSemaphorePermit)>,
) -> Result<Seen> {
    let work = async {
        let mut stream = TcpStream::connect(&addr).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET /api/events HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut reader = BufReader::with_capacity(4096, stream);
        let mut line = Vec::new();
        // The status line and headers.
        let mut first = true;
        loop {
            line.clear();
            if read_line(&mut reader, &mut line).await? == 0 {
                bail!("the daemon closed the connection before answering");
            }
            let text = String::from_utf8_lossy(&line);
            if first {
                if !text.starts_with("HTTP/1.") || !text.contains(" 200") {
                    bail!("GET /api/events: {}", text.trim());
                }
                first = false;
            } else if text.to_ascii_lowercase().starts_with("transfer-encoding") {
                bail!("a chunked answer to an HTTP/1.0 request: {}", text.trim());
            } else if text.trim().is_empty() {
                break;
            }
        }
        let mut seen = Seen::default();
        loop {
            line.clear();
            let read = tokio::select! {
                _ = stop.cancelled() => return Ok(seen),
                read = read_line(&mut reader, &mut line) => read?,
            };
            if read == 0 {
                seen.ended = true;
                return Ok(seen);
            }
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let at = Instant::now();
            seen.events += 1;
            if let Some((count, permit)) = ready.take() {
                count.fetch_add(1, Ordering::SeqCst);
                drop(permit);
            }
            if data.windows(17).any(|w| w == b"\"type\":\"lagged\"") {
                seen.lagged = true;
            }
            if let Some(tx) = &events {
                let value: Value = serde_json::from_slice(data.trim_ascii())?;
                let _ = tx.send((at, value));
            }
        }
    };
    match tokio::time::timeout(CLIENT_DEADLINE, work).await {
        Ok(seen) => seen,
        Err(_) => bail!("an SSE client reached its deadline"),
    }
}

/// One line (with its `\n`), refusing lines longer than [`MAX_LINE`].
async fn read_line(reader: &mut BufReader<TcpStream>, line: &mut Vec<u8>) -> Result<usize> {
    let mut limited = (&mut *reader).take(MAX_LINE as u64);
    let n = limited.read_until(b'\n', line).await?;
    if n == MAX_LINE && line.last() != Some(&b'\n') {
        bail!("an SSE line longer than {MAX_LINE} bytes");
    }
    Ok(n)
}

/// One bulk download, with `clients` SSE clients connected throughout (or none).
struct BulkRun {
    wall: f64,
    /// VmRSS after the clients connected, before the download.
    rss_before: u64,
    /// VmHWM at the end of the download.
    hwm: u64,
    /// The daemon's CPU seconds over the download.
    daemon_cpu: f64,
    /// This process's CPU seconds over the download (the clients, and the catalogue).
    bench_cpu: f64,
    seen: Vec<Seen>,
}

/// A bulk download (files on nginx, as the bulk scenario) with and without connected clients.
fn fan_out(ctx: &Ctx, sz: &SseSizes) -> Result<Vec<Row>> {
    const S: &str = "sse";
    let Some(nginx_bin) = which("nginx") else {
        say!("nginx not found: skipping the SSE clients during a bulk download");
        return Ok(vec![Row {
            verdict: Verdict::Skipped,
            ..Row::info(
                S,
                "SSE clients during a bulk download",
                "nginx not installed (apt-get install nginx-light)",
            )
        }]);
    };
    let dir = ctx.root.join("sse-bulk");
    let www = dir.join("www");
    fs::create_dir_all(&www)?;
    for d in [&ctx.root, &dir, &www] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755))?;
    }
    let (n, size) = (sz.files, sz.file_bytes);
    say!("sse: writing {n} files of {} for nginx", mib(size as f64));
    let names: Vec<String> = (0..n).map(|i| format!("s{i:03}.mp4")).collect();
    for (i, name) in names.iter().enumerate() {
        write_content_file(&www.join(name), 3000 + i as u64, size)?;
    }
    sync_disks();
    let nginx = Nginx::start(&nginx_bin, &dir.join("nginx"), &www)?;
    let srv = Srv::start()?;
    srv.add_theme(
        "sse bulk",
        names
            .iter()
            .enumerate()
            .map(|(i, name)| Item {
                title: format!("Sse {i:03}.mp4"),
                url: nginx.url(name),
                size,
            })
            .collect(),
    );
    let mut without = Vec::new();
    let mut with = Vec::new();
    // An unmeasured run first: the first download after the files were written is slower.
    bulk_run(ctx, &srv, n, 0, "warm-up")?;
    for rep in 0..ctx.reps {
        let order = if rep % 2 == 0 {
            [0, sz.clients]
        } else {
            [sz.clients, 0]
        };
        for clients in order {
            let run = bulk_run(ctx, &srv, n, clients, &format!("{rep}-{clients}"))?;
            say!(
                "sse rep {}: {clients} clients, download {:.2} s, VmRSS {} before, VmHWM {}",
                rep + 1,
                run.wall,
                mib(run.rss_before as f64),
                mib(run.hwm as f64)
            );
            if clients == 0 {
                without.push(run);
            } else {
                with.push(run);
            }
        }
    }
    drop(nginx);
    drop(srv);
    let _ = fs::remove_dir_all(&dir);

    let med =
        |runs: &[BulkRun], f: fn(&BulkRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let (w0, w1) = (med(&without, |r| r.wall), med(&with, |r| r.wall));
    let ratio = w1 / w0;
    let (rss0, rss1) = (
        med(&without, |r| r.rss_before as f64),
        med(&with, |r| r.rss_before as f64),
    );
    let (hwm0, hwm1) = (
        med(&without, |r| r.hwm as f64),
        med(&with, |r| r.hwm as f64),
    );
    let (dcpu0, dcpu1) = (
        med(&without, |r| r.daemon_cpu),
        med(&with, |r| r.daemon_cpu),
    );
    let (bcpu0, bcpu1) = (med(&without, |r| r.bench_cpu), med(&with, |r| r.bench_cpu));
    let seen: Vec<Seen> = with.iter().flat_map(|r| r.seen.iter().copied()).collect();
    let lagged = seen.iter().filter(|s| s.lagged).count();
    let ended = seen.iter().filter(|s| s.ended).count();
    let events = median(&seen.iter().map(|s| s.events as f64).collect::<Vec<_>>());
    let c = sz.clients;
    let label = format!("{n} x {} files, 8 parallel", mib(size as f64));
    Ok(vec![
        Row::info(
            S,
            format!("bulk download ({label}) with {c} SSE clients connected"),
            secs(w1),
        )
        .peer(format!("no clients: {}", secs(w0)))
        .ratio(ratio)
        .target("within 5 %", ratio <= 1.05),
        Row::info(
            S,
            format!("daemon CPU over the download, {c} SSE clients"),
            format!("{dcpu1:.2} s"),
        )
        .peer(format!("no clients: {dcpu0:.2} s"))
        .ratio(dcpu1 / dcpu0),
        Row::info(
            S,
            format!("bench process CPU over the download ({c} clients reading)"),
            format!("{bcpu1:.2} s"),
        )
        .peer(format!("no clients: {bcpu0:.2} s")),
        Row::info(
            S,
            format!("daemon VmRSS with {c} SSE clients connected (idle, before the download)"),
            mib(rss1),
        )
        .peer(format!("no clients: {}", mib(rss0))),
        Row::info(
            S,
            format!("daemon VmHWM over the download, {c} SSE clients"),
            mib(hwm1),
        )
        .peer(format!("no clients: {}", mib(hwm0))),
        Row::info(
            S,
            "events each client read (median), clients told they lagged / whose stream ended",
            format!("{events:.0}"),
        )
        .peer(format!("{lagged} lagged, {ended} ended of {}", seen.len())),
    ])
}

/// A fresh daemon, `clients` SSE clients connected to it, then the bulk job timed from add to
/// done.
fn bulk_run(ctx: &Ctx, srv: &Srv, n: usize, clients: usize, name: &str) -> Result<BulkRun> {
    let mut d = Daemon::new(
        &ctx.root,
        &format!("sse-bulk-{name}"),
        wikimedia_only(
            &srv.base(),
            &[
                ("validate", V::S("off".into())),
                ("parallel_downloads", V::I(8)),
                ("per_source_downloads", V::I(8)),
                // The files are on nginx, another port of 127.0.0.1 than the catalogue.
                ("allow_private_addresses", V::B(true)),
                ("web_listen", V::S("127.0.0.1:0".into())),
            ],
        ),
    )?;
    d.start()?;
    let web = d.web()?;
    let (addr, token) = (web.addr()?, web.token);
    let pid = d.pid();
    let socket = d.socket.clone();
    let run = ctx.rt.block_on(async {
        let stop = CancellationToken::new();
        let ready = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(CONNECTING));
        let mut tasks = Vec::with_capacity(clients);
        for _ in 0..clients {
            let (addr, token, stop, ready, gate) = (
                addr.clone(),
                token.clone(),
                stop.clone(),
                ready.clone(),
                gate.clone(),
            );
            tasks.push(tokio::spawn(async move {
                // Held until this client has its snapshot: at most CONNECTING handshakes at once.
                let permit = gate
                    .acquire_owned()
                    .await
                    .map_err(|e| anyhow!("connect gate: {e}"))?;
                client(addr, token, stop, None, Some((ready, permit))).await
            }));
        }
        let t0 = Instant::now();
        while ready.load(Ordering::SeqCst) < clients {
            if t0.elapsed() > Duration::from_secs(120) {
                stop.cancel();
                bail!(
                    "only {} of {clients} SSE clients connected within 120 s\n{}",
                    ready.load(Ordering::SeqCst),
                    d.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if clients > 0 {
            say!(
                "sse: {clients} SSE clients connected in {:.2} s",
                t0.elapsed().as_secs_f64()
            );
        }
        // Settle, so the memory figure is not caught mid-allocation.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rss_before, _) = proc_mem(pid)?;
        let mut events = subscribe(&socket).await?;
        let mut c = connect(&socket).await?;
        let (cpu0, self0) = (proc_cpu(pid)?, self_cpu());
        let t0 = Instant::now();
        let job = add_job(&mut c, "sse bulk", n as u32, vec![SourceKind::Wikimedia]).await?;
        let job = wait_job(&mut events, &mut c, job.id, Duration::from_secs(300)).await?;
        let wall = t0.elapsed().as_secs_f64();
        let (cpu1, self1) = (proc_cpu(pid)?, self_cpu());
        let (_, hwm) = proc_mem(pid)?;
        if job.state != JobState::Done || job.done as usize != n {
            stop.cancel();
            bail!(
                "the bulk job ended {:?} with {}/{n} done: {:?}",
                job.state,
                job.done,
                job.errors
            );
        }
        // Those the daemon let go (lagged, closed) returned already; stop the rest.
        stop.cancel();
        let mut seen = Vec::with_capacity(clients);
        for task in tasks {
            let s = task
                .await
                .map_err(|e| anyhow!("an SSE client task failed: {e}"))?
                .context("an SSE client")?;
            seen.push(s);
        }
        anyhow::Ok(BulkRun {
            wall,
            rss_before,
            hwm,
            daemon_cpu: cpu1.total() - cpu0.total(),
            bench_cpu: self1 - self0,
            seen,
        })
    });
    let run = match run {
        Ok(r) => r,
        Err(e) => bail!("{e:#}\n{}", d.log_tail()),
    };
    d.remove();
    Ok(run)
}

/// 1,000 clients are 1,000 sockets here: raise the soft open-file limit to the hard one.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass, alive for the call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// This process's user + system CPU seconds so far.
fn self_cpu() -> f64 {
    // SAFETY: getrusage writes only into the struct we pass, which lives for the call.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
