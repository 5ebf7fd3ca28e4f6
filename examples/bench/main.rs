//! The vfetch benchmark: one command that sets everything up on 127.0.0.1, runs each scenario
//! several times (alternating vfetch and its peer), and prints a table of medians and ratios.
//!
//! ```sh
//! apt-get install -y nginx-light aria2 curl        # the peers (Debian package names)
//! cargo run --release --example bench -- all       # full size, ~5-8 minutes on 2 cores
//! cargo run --release --example bench -- --smoke   # tiny sizes, for CI (also works in debug)
//! cargo run --release --example bench -- bulk rpc  # some scenarios only
//! ```
//!
//! Scenarios: `bulk` (throughput against aria2c and curl on nginx), `memory`, `fanout`, `rpc`,
//! `queue`, `resume`, `http` (the HTTP API's idle memory and `GET /api/jobs` at 10,000 jobs),
//! `gallery`, `sse` (event stream latency, and 1,000 connected SSE clients during a bulk
//! download), `web` (the dashboard in headless Chromium). Options: `--smoke`, `--reps N`, `--out FILE` (also write the table as
//! Markdown), `--strict` (exit 1 when a target is missed), `--no-build` (do not run
//! `cargo build --bins` first). The table goes to stdout; progress goes to stderr.
//!
//! The daemon and client are the real binaries next to this example (`target/<profile>/vfetchd`
//! and `vfetchctl`); when run through `cargo run`, the bench first runs `cargo build --bins` in
//! the same profile so they match the sources. Every process the bench starts is in its own
//! process group, dies with the bench (PR_SET_PDEATHSIG), is killed by a Drop guard, and is
//! killed by the bench's SIGINT/SIGTERM handler; everything lives in one temp directory that is
//! removed at the end.

#[path = "../../tests/support/fake_provider/mod.rs"]
mod fake_provider;

// First, so that its `say!` macro is visible in every module below.
#[macro_use]
mod util;

mod bulk;
mod catalogue;
mod content;
mod ctx;
mod daemon;
mod fanout;
mod gallery;
mod http;
mod memory;
mod nginx;
mod procs;
mod queue;
mod resume;
mod rpc;
mod sse;
mod table;
mod web;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use crate::bulk::bulk;
use crate::ctx::{Ctx, Sizes};
use crate::daemon::{locate_bins, BINS};
use crate::fanout::fanout;
use crate::gallery::gallery;
use crate::http::http;
use crate::memory::memory;
use crate::procs::{install_signal_cleanup, kill_all_children, ROOT};
use crate::queue::queue;
use crate::resume::resume;
use crate::rpc::rpc;
use crate::sse::sse;
use crate::table::{table, Row, Verdict};
use crate::util::{started, which};
use crate::web::web;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Bulk,
    Memory,
    Fanout,
    Rpc,
    Queue,
    Resume,
    Http,
    Gallery,
    Sse,
    Web,
}

impl Scenario {
    const ALL: [Scenario; 10] = [
        Scenario::Bulk,
        Scenario::Memory,
        Scenario::Fanout,
        Scenario::Rpc,
        Scenario::Queue,
        Scenario::Resume,
        Scenario::Http,
        Scenario::Gallery,
        Scenario::Sse,
        Scenario::Web,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Bulk => "bulk",
            Scenario::Memory => "memory",
            Scenario::Fanout => "fanout",
            Scenario::Rpc => "rpc",
            Scenario::Queue => "queue",
            Scenario::Resume => "resume",
            Scenario::Http => "http",
            Scenario::Gallery => "gallery",
            Scenario::Sse => "sse",
            Scenario::Web => "web",
        }
    }
}

struct Opts {
    smoke: bool,
    reps: usize,
    scenarios: Vec<Scenario>,
    out: Option<PathBuf>,
    strict: bool,
    build: bool,
}

fn usage() -> &'static str {
    "usage: bench [all | bulk | memory | fanout | rpc | queue | resume | http | gallery | sse | web]... \
     [--smoke] [--reps N] [--out FILE] [--strict] [--no-build]"
}

fn parse_args() -> Result<Opts> {
    let mut opts = Opts {
        smoke: false,
        reps: 0,
        scenarios: Vec::new(),
        out: None,
        strict: false,
        build: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => opts.smoke = true,
            "--strict" => opts.strict = true,
            "--no-build" => opts.build = false,
            "--reps" => {
                let n = args
                    .next()
                    .ok_or_else(|| anyhow!("--reps needs a number"))?;
                opts.reps = n.parse().map_err(|_| anyhow!("--reps: bad number {n:?}"))?;
                if opts.reps == 0 {
                    bail!("--reps must be at least 1");
                }
            }
            "--out" => {
                opts.out = Some(PathBuf::from(
                    args.next().ok_or_else(|| anyhow!("--out needs a file"))?,
                ))
            }
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            "all" => opts.scenarios.extend(Scenario::ALL),
            name => match Scenario::ALL.iter().find(|s| s.name() == name) {
                Some(s) => opts.scenarios.push(*s),
                None => bail!("unknown argument {name:?}\n{}", usage()),
            },
        }
    }
    if opts.scenarios.is_empty() {
        opts.scenarios.extend(Scenario::ALL);
    }
    opts.scenarios.dedup();
    if opts.reps == 0 {
        opts.reps = if opts.smoke { 1 } else { 5 };
    }
    Ok(opts)
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|k| k.parse::<u64>().ok())
        .map(|k| format!("{:.1} GiB RAM", k as f64 / 1048576.0))
        .unwrap_or_default();
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = |bin: &str, arg: &str| -> String {
        which(bin)
            .and_then(|p| Command::new(p).arg(arg).output().ok())
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|| format!("{bin}: not installed"))
    };
    format!(
        "{cpu}, {cores} cores, {mem}, Linux {}; {}; {}; {}; bench built {}",
        kernel.trim(),
        version("nginx", "-v"),
        version("aria2c", "--version"),
        version("curl", "--version")
            .split(" (")
            .next()
            .unwrap_or(""),
        if cfg!(debug_assertions) {
            "in debug (numbers are not representative)"
        } else {
            "in release"
        }
    )
}

fn main() -> ExitCode {
    started();
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = install_signal_cleanup() {
        eprintln!("bench: {e}");
        return ExitCode::from(2);
    }
    let bins = match locate_bins(opts.build) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _ = BINS.set(bins);
    let base = std::env::var_os("VFETCH_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let root = match tempfile::Builder::new()
        .prefix("vfetch-bench-")
        .tempdir_in(&base)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: cannot create a temp dir in {}: {e}", base.display());
            return ExitCode::from(2);
        }
    };
    let _ = ROOT.set(root.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ctx = Ctx {
        smoke: opts.smoke,
        root: root.path().to_path_buf(),
        sizes: Sizes::new(opts.smoke),
        reps: opts.reps,
        rt,
    };
    let machine = machine();
    let command: Vec<String> = std::env::args().skip(1).collect();
    say!("machine: {machine}");
    say!(
        "size: {}, {} repetition(s); work dir {}",
        if opts.smoke { "smoke" } else { "full" },
        opts.reps,
        ctx.root.display()
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = 0;
    for scenario in &opts.scenarios {
        say!("== {} == (load average {})", scenario.name(), loadavg());
        let t0 = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match scenario {
            Scenario::Bulk => bulk(&ctx),
            Scenario::Memory => memory(&ctx),
            Scenario::Fanout => fanout(&ctx),
            Scenario::Rpc => rpc(&ctx),
            Scenario::Queue => queue(&ctx),
            Scenario::Resume => resume(&ctx),
            Scenario::Http => http(&ctx),
            Scenario::Gallery => gallery(&ctx),
            Scenario::Sse => sse(&ctx),
            Scenario::Web => web(&ctx),
        }));
        let result = match result {
            Ok(r) => r,
            Err(p) => Err(anyhow!(
                "panicked: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        match result {
            Ok(r) => {
                println!(
                    "\n{} ({:.0} s)\n{}",
                    scenario.name(),
                    t0.elapsed().as_secs_f64(),
                    table(&r)
                );
                rows.extend(r);
            }
            Err(e) => {
                errors += 1;
                eprintln!("bench: scenario {} failed: {e:#}", scenario.name());
                rows.push(Row {
                    verdict: Verdict::Error,
                    ..Row::info(
                        scenario.name(),
                        "scenario failed",
                        format!("{e}").lines().next().unwrap_or("").to_string(),
                    )
                });
            }
        }
        // Anything a scenario left behind (it should not) goes now.
        kill_all_children();
    }
    let missed = rows.iter().filter(|r| r.verdict == Verdict::Missed).count();
    let met = rows.iter().filter(|r| r.verdict == Verdict::Met).count();
    let summary = format!(
        "{met} targets met, {missed} missed, {errors} scenario(s) failed; {:.0} s in all",
        started().elapsed().as_secs_f64()
    );
    let summary = if opts.smoke {
        format!("{summary} (smoke sizes: met/missed are indicative only)")
    } else {
        summary
    };
    let full = table(&rows);
    println!(
        "\n## All results\n\nMachine: {machine}\nCommand: bench {}\n\n{full}\n{summary}",
        command.join(" ")
    );
    if let Some(out) = &opts.out {
        let text = format!(
            "Machine: {machine}\n\nCommand: `cargo run --release --example bench -- {}`\n\n{full}\n{summary}\n",
            command.join(" ")
        );
        if let Err(e) = fs::write(out, text) {
            eprintln!("bench: cannot write {}: {e}", out.display());
        }
    }
    drop(ctx);
    drop(root);
    if errors > 0 {
        ExitCode::from(1)
    } else if opts.strict && missed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
