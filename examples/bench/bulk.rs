//! Scenario 1: bulk throughput against aria2c and curl on nginx.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use vfetch::job::JobState;
use vfetch::source_kind::SourceKind;

use crate::catalogue::{Item, Srv};
use crate::content::write_content_file;
use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, subscribe, wait_job, wikimedia_only, Daemon, V};
use crate::nginx::Nginx;
use crate::procs::{proc_cpu, Proc};
use crate::table::{median, mib, secs, Row, Verdict};
use crate::util::{count_files, dir_size, sync_disks, which, GIB, MIB};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Vfetch,
    Aria2,
    Curl,
}

#[derive(Clone, Copy, Default)]
struct Sample {
    wall: f64,
    cpu: f64,
}

pub(crate) fn bulk(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "bulk";
    let sz = &ctx.sizes;
    let Some(nginx_bin) = which("nginx") else {
        say!("nginx not found: skipping the bulk scenario (apt-get install nginx-light)");
        return Ok(vec![Row {
            verdict: Verdict::Skipped,
            ..Row::info(
                S,
                "bulk throughput",
                "nginx not installed (apt-get install nginx-light)",
            )
        }]);
    };
    let aria2 = which("aria2c");
    let curl = which("curl");
    let xargs = which("xargs");
    if aria2.is_none() {
        say!("aria2c not found: the aria2c peer is skipped (apt-get install aria2)");
    }
    if curl.is_none() || xargs.is_none() {
        say!("curl or xargs not found: the curl peer is skipped (apt-get install curl)");
    }
    let dir = ctx.root.join("bulk");
    let www = dir.join("www");
    fs::create_dir_all(&www)?;
    for d in [&ctx.root, &dir, &www] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755))?;
    }
    let n = sz.bulk_files;
    let size = sz.bulk_file_bytes;
    say!(
        "bulk: writing {n} files of {} and one of {} for nginx",
        mib(size as f64),
        mib(sz.ceiling_bytes as f64)
    );
    let names: Vec<String> = (0..n).map(|i| format!("f{i:03}.mp4")).collect();
    for (i, name) in names.iter().enumerate() {
        write_content_file(&www.join(name), 1000 + i as u64, size)?;
    }
    write_content_file(&www.join("big.mp4"), 999, sz.ceiling_bytes)?;
    sync_disks();
    let nginx = {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Nginx::start(&nginx_bin, &dir.join(format!("nginx-{attempt}")), &www) {
                Ok(n) => break n,
                Err(e) if attempt < 3 => say!("nginx did not start ({e:#}); trying another port"),
                Err(e) => return Err(e),
            }
        }
    };
    let urls: Vec<String> = names.iter().map(|n| nginx.url(n)).collect();
    let list = dir.join("urls.txt");
    fs::write(&list, urls.join("\n") + "\n")?;
    let srv = Srv::start()?;
    srv.add_theme(
        "bulk",
        names
            .iter()
            .zip(&urls)
            .enumerate()
            .map(|(i, (_, url))| Item {
                title: format!("Bulk {i:03}.mp4"),
                url: url.clone(),
                size,
            })
            .collect(),
    );
    let total = n as f64 * size as f64;

    let mut tools = vec![Tool::Vfetch];
    if aria2.is_some() {
        tools.push(Tool::Aria2);
    }
    if curl.is_some() && xargs.is_some() {
        tools.push(Tool::Curl);
    }
    let mut samples: HashMap<&'static str, Vec<Sample>> = HashMap::new();
    // An unmeasured round first (full size only): the first run after the files were written is
    // consistently slower for whichever tool goes first.
    let warmup = if ctx.smoke { 0 } else { 1 };
    for round in 0..warmup + ctx.reps {
        let measured = round >= warmup;
        let rep = round.saturating_sub(warmup);
        let mut order = tools.clone();
        order.rotate_left(rep % tools.len());
        for tool in order {
            let out = dir.join(format!("out-{round}-{tool:?}"));
            let sample = match tool {
                Tool::Vfetch => bulk_vfetch(ctx, &srv, n, size, round)?,
                Tool::Aria2 => {
                    fs::create_dir_all(&out)?;
                    let mut cmd = Command::new(aria2.as_ref().expect("aria2c"));
                    cmd.args(["-j8", "-x1", "--file-allocation=none", "-q"])
                        .args(["--allow-overwrite=true", "--auto-file-renaming=false"])
                        .args(["--summary-interval=0", "--console-log-level=error"])
                        .arg("-i")
                        .arg(&list)
                        .arg("-d")
                        .arg(&out)
                        .stdin(Stdio::null());
                    run_peer(&mut cmd, "aria2c", &out, n, size)?
                }
                Tool::Curl => {
                    fs::create_dir_all(&out)?;
                    let mut cmd = Command::new(xargs.as_ref().expect("xargs"));
                    cmd.args(["-P8", "-n1"])
                        .arg(curl.as_ref().expect("curl"))
                        .arg("-sO")
                        .current_dir(&out)
                        .stdin(fs::File::open(&list)?);
                    run_peer(&mut cmd, "xargs -P8 curl", &out, n, size)?
                }
            };
            let _ = fs::remove_dir_all(&out);
            sync_disks();
            say!(
                "bulk {} {}: {tool:?} {:.2} s, {:.0} MiB/s, {:.2} CPU s/GiB",
                if measured { "rep" } else { "warm-up" },
                rep + 1,
                sample.wall,
                total / MIB as f64 / sample.wall,
                sample.cpu / (total / GIB)
            );
            if measured {
                samples.entry(tool_name(tool)).or_default().push(sample);
            }
        }
    }
    // Loopback ceiling: one big file into /dev/null.
    let mut ceiling = Vec::new();
    if let Some(curl) = &curl {
        for _ in 0..ctx.reps {
            let mut cmd = Command::new(curl);
            cmd.args(["-s", "-o", "/dev/null"])
                .arg(nginx.url("big.mp4"))
                .stdin(Stdio::null());
            let t0 = Instant::now();
            let mut p = Proc::spawn(&mut cmd, "curl")?;
            let (status, cpu) = p.wait_rusage()?;
            if !status.success() {
                bail!("curl of the big file failed: {status}");
            }
            ceiling.push(Sample {
                wall: t0.elapsed().as_secs_f64(),
                cpu: cpu.total(),
            });
        }
    }
    drop(nginx);
    drop(srv);
    let _ = fs::remove_dir_all(&dir);

    let med = |tool: &str, f: fn(&Sample) -> f64| -> Option<f64> {
        samples
            .get(tool)
            .map(|v| median(&v.iter().map(f).collect::<Vec<_>>()))
    };
    let wall = |t| med(t, |s| s.wall);
    let cpu = |t| med(t, |s| s.cpu);
    let v_wall = wall("vfetch").expect("vfetch ran");
    let v_cpu = cpu("vfetch").expect("vfetch ran") / (total / GIB);
    let rate = |w: f64| format!("{:.0} MiB/s", total / MIB as f64 / w);
    let mut rows = Vec::new();
    let label = format!("{n} x {} files, 8 parallel", mib(size as f64));
    rows.push(Row::info(S, "workload", label));
    for peer in ["aria2c", "xargs -P8 curl"] {
        if let Some(pw) = wall(peer) {
            rows.push(
                Row::info(S, format!("wall time vs {peer}"), secs(v_wall))
                    .peer(secs(pw))
                    .ratio(v_wall / pw),
            );
            rows.push(
                Row::info(S, format!("throughput vs {peer}"), rate(v_wall))
                    .peer(rate(pw))
                    .ratio(pw / v_wall),
            );
        }
    }
    let fastest = [wall("aria2c"), wall("xargs -P8 curl")]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    if fastest.is_finite() {
        let r = v_wall / fastest;
        rows.push(
            Row::info(S, "wall time vs the faster peer", secs(v_wall))
                .peer(secs(fastest))
                .ratio(r)
                .target("<= 1.0x", r <= 1.0),
        );
    }
    for peer in ["aria2c", "xargs -P8 curl"] {
        if let Some(pc) = cpu(peer) {
            let pc = pc / (total / GIB);
            let mut row = Row::info(S, format!("CPU s/GiB vs {peer}"), format!("{v_cpu:.2} s"))
                .peer(format!("{pc:.2} s"))
                .ratio(v_cpu / pc);
            if peer.contains("curl") {
                row = row.target("<= 1.0x curl", v_cpu / pc <= 1.0);
            }
            rows.push(row);
        }
    }
    if !ceiling.is_empty() {
        let w = median(&ceiling.iter().map(|s| s.wall).collect::<Vec<_>>());
        let c = median(&ceiling.iter().map(|s| s.cpu).collect::<Vec<_>>());
        let bytes = sz.ceiling_bytes as f64;
        rows.push(
            Row::info(
                S,
                format!(
                    "loopback ceiling: curl -o /dev/null, one {} file",
                    mib(bytes)
                ),
                rate(v_wall),
            )
            .peer(format!(
                "{:.0} MiB/s, {:.2} CPU s/GiB",
                bytes / MIB as f64 / w,
                c / (bytes / GIB)
            ))
            .ratio((total / v_wall) / (bytes / w)),
        );
    }
    Ok(rows)
}

fn tool_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Vfetch => "vfetch",
        Tool::Aria2 => "aria2c",
        Tool::Curl => "xargs -P8 curl",
    }
}

fn run_peer(cmd: &mut Command, name: &str, out: &Path, n: usize, size: u64) -> Result<Sample> {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let t0 = Instant::now();
    let mut p = Proc::spawn(cmd, name)?;
    let (status, cpu) = p.wait_rusage()?;
    let wall = t0.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{name} failed: {status}");
    }
    let files = count_files(out);
    let bytes = dir_size(out);
    if files < n || bytes != n as u64 * size {
        bail!(
            "{name} left {files} files / {bytes} bytes, expected {n} / {}",
            n as u64 * size
        );
    }
    Ok(Sample {
        wall,
        cpu: cpu.total(),
    })
}

fn bulk_vfetch(ctx: &Ctx, srv: &Srv, n: usize, size: u64, rep: usize) -> Result<Sample> {
    let mut d = Daemon::new(
        &ctx.root,
        &format!("bulk-vfetch-{rep}"),
        wikimedia_only(
            &srv.base(),
            &[
                ("validate", V::S("off".into())),
                ("parallel_downloads", V::I(8)),
                ("per_source_downloads", V::I(8)),
                // The files are on nginx, another port of 127.0.0.1 than the catalogue, and
                // the egress guard refuses loopback links off the configured base URL.
                ("allow_private_addresses", V::B(true)),
            ],
        ),
    )?;
    d.start()?;
    std::thread::sleep(Duration::from_millis(200));
    let pid = d.pid();
    let socket = d.socket.clone();
    // VFETCH_BENCH_PERF=DIR: record a CPU profile of the daemon during each run (perf must work).
    let mut perf = match (std::env::var_os("VFETCH_BENCH_PERF"), which("perf")) {
        (Some(dir), Some(perf)) => {
            let out = PathBuf::from(dir).join(format!("bulk-vfetch-{rep}.perf.data"));
            let mut cmd = Command::new(perf);
            cmd.args(["record", "-F", "999", "-g", "-o"])
                .arg(&out)
                .arg("-p")
                .arg(pid.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let p = Proc::spawn(&mut cmd, "perf")?;
            std::thread::sleep(Duration::from_millis(300));
            say!("perf: recording the daemon into {}", out.display());
            Some(p)
        }
        _ => None,
    };
    let cpu0 = proc_cpu(pid)?;
    let (wall, job) = ctx.rt.block_on(async {
        let mut events = subscribe(&socket).await?;
        let mut client = connect(&socket).await?;
        let t0 = Instant::now();
        let job = add_job(&mut client, "bulk", n as u32, vec![SourceKind::Wikimedia]).await?;
        let job = wait_job(&mut events, &mut client, job.id, Duration::from_secs(300)).await?;
        anyhow::Ok((t0.elapsed().as_secs_f64(), job))
    })?;
    let cpu1 = proc_cpu(pid)?;
    if let Some(p) = perf.as_mut() {
        p.stop(libc::SIGINT, Duration::from_secs(20));
    }
    if job.state != JobState::Done || job.done as usize != n {
        bail!(
            "vfetch bulk job ended {:?} with {}/{} done: {:?}\n{}",
            job.state,
            job.done,
            n,
            job.errors,
            d.log_tail()
        );
    }
    let files = count_files(&d.library);
    let bytes = dir_size(&d.library);
    if files != n || bytes != n as u64 * size {
        bail!(
            "vfetch library holds {files} files / {bytes} bytes, expected {n} / {}",
            n as u64 * size
        );
    }
    d.remove();
    Ok(Sample {
        wall,
        cpu: cpu1.total() - cpu0.total(),
    })
}
