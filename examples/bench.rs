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
//! `queue`, `resume`. Options: `--smoke`, `--reps N`, `--out FILE` (also write the table as
//! Markdown), `--strict` (exit 1 when a target is missed), `--no-build` (do not run
//! `cargo build --bins` first). The table goes to stdout; progress goes to stderr.
//!
//! The daemon and client are the real binaries next to this example (`target/<profile>/vfetchd`
//! and `vfetchctl`); when run through `cargo run`, the bench first runs `cargo build --bins` in
//! the same profile so they match the sources. Every process the bench starts is in its own
//! process group, dies with the bench (PR_SET_PDEATHSIG), is killed by a Drop guard, and is
//! killed by the bench's SIGINT/SIGTERM handler; everything lives in one temp directory that is
//! removed at the end.

#[path = "../tests/support/fake_provider.rs"]
mod fake_provider;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use vfetch::ipc::client::Client;
use vfetch::job::{Job, JobId, JobOptions, JobState, NewJob};
use vfetch::protocol::{Event, ListQuery, Request, Response};
use vfetch::source_kind::SourceKind;

const MIB: u64 = 1 << 20;
const GIB: f64 = (1u64 << 30) as f64;

// =============================================================================================
// Options and sizes
// =============================================================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Bulk,
    Memory,
    Fanout,
    Rpc,
    Queue,
    Resume,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::Bulk,
        Scenario::Memory,
        Scenario::Fanout,
        Scenario::Rpc,
        Scenario::Queue,
        Scenario::Resume,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Bulk => "bulk",
            Scenario::Memory => "memory",
            Scenario::Fanout => "fanout",
            Scenario::Rpc => "rpc",
            Scenario::Queue => "queue",
            Scenario::Resume => "resume",
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

/// Every size the scenarios use; `--smoke` shrinks them so the whole run takes seconds.
struct Sizes {
    bulk_files: usize,
    bulk_file_bytes: u64,
    ceiling_bytes: u64,
    mem_levels: Vec<u32>,
    mem_rate: u64,
    mem_window: Duration,
    fanout_latency: Duration,
    status_runs: usize,
    rpc_window: Duration,
    rpc_downloads: u32,
    rpc_conns: usize,
    queue_jobs: u32,
    queue_per_job: u32,
    queue_api_cap: Duration,
    resume_bytes: u64,
    resume_rate: u64,
}

impl Sizes {
    fn new(smoke: bool) -> Sizes {
        if smoke {
            Sizes {
                bulk_files: 10,
                bulk_file_bytes: 256 << 10,
                ceiling_bytes: 16 * MIB,
                mem_levels: vec![10, 32],
                mem_rate: 256 << 10,
                mem_window: Duration::from_millis(600),
                fanout_latency: Duration::from_millis(300),
                status_runs: 10,
                rpc_window: Duration::from_millis(300),
                rpc_downloads: 20,
                rpc_conns: 50,
                queue_jobs: 20,
                queue_per_job: 100,
                queue_api_cap: Duration::from_secs(20),
                resume_bytes: 16 * MIB,
                resume_rate: 4 * MIB,
            }
        } else {
            Sizes {
                bulk_files: 200,
                bulk_file_bytes: 8 * MIB,
                ceiling_bytes: 1024 * MIB,
                mem_levels: vec![10, 32],
                mem_rate: MIB,
                mem_window: Duration::from_secs(3),
                fanout_latency: Duration::from_millis(300),
                status_runs: 200,
                rpc_window: Duration::from_secs(2),
                rpc_downloads: 20,
                rpc_conns: 50,
                queue_jobs: 1000,
                queue_per_job: 100,
                queue_api_cap: Duration::from_secs(180),
                resume_bytes: 512 * MIB,
                resume_rate: 64 * MIB,
            }
        }
    }
}

fn usage() -> &'static str {
    "usage: bench [all | bulk | memory | fanout | rpc | queue | resume]... \
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

// =============================================================================================
// Results
// =============================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Met,
    Missed,
    Info,
    Skipped,
    Error,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::Info => "-",
            Verdict::Skipped => "skipped",
            Verdict::Error => "ERROR",
        }
    }
}

#[derive(Clone, Debug)]
struct Row {
    scenario: &'static str,
    metric: String,
    vfetch: String,
    peer: String,
    ratio: String,
    target: String,
    verdict: Verdict,
}

impl Row {
    fn info(scenario: &'static str, metric: impl Into<String>, vfetch: impl Into<String>) -> Row {
        Row {
            scenario,
            metric: metric.into(),
            vfetch: vfetch.into(),
            peer: String::new(),
            ratio: String::new(),
            target: String::new(),
            verdict: Verdict::Info,
        }
    }

    fn peer(mut self, peer: impl Into<String>) -> Row {
        self.peer = peer.into();
        self
    }

    fn ratio(mut self, ratio: f64) -> Row {
        self.ratio = format!("{ratio:.2}x");
        self
    }

    /// Sets the target text and whether `ok` met it.
    fn target(mut self, target: impl Into<String>, ok: bool) -> Row {
        self.target = target.into();
        self.verdict = if ok { Verdict::Met } else { Verdict::Missed };
        self
    }

    fn note_target(mut self, target: impl Into<String>) -> Row {
        self.target = target.into();
        self
    }
}

fn table(rows: &[Row]) -> String {
    let header = [
        "scenario", "metric", "vfetch", "peer", "ratio", "target", "result",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.to_string(),
                r.metric.clone(),
                r.vfetch.clone(),
                r.peer.clone(),
                r.ratio.clone(),
                r.target.clone(),
                r.verdict.label().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.len());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::from("|");
        for (c, w) in cols.iter().zip(widths.iter()) {
            let pad = w - c.chars().count();
            let _ = write!(s, " {c}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(String::from));
    out.push('|');
    for w in &widths {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let idx = ((v.len() - 1) as f64 * p).round() as usize;
    v[idx.min(v.len() - 1)]
}

fn ms(d: f64) -> String {
    if d < 1.0 {
        format!("{d:.3} ms")
    } else {
        format!("{d:.1} ms")
    }
}

fn secs(d: f64) -> String {
    format!("{d:.2} s")
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / MIB as f64)
}

/// Progress on stderr, so stdout keeps only the tables.
macro_rules! say {
    ($($arg:tt)*) => {{
        eprintln!("[bench {:>7.1}s] {}", started().elapsed().as_secs_f64(), format!($($arg)*));
    }};
}

fn started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

// =============================================================================================
// Child processes: own process group, die with the bench, killed on Drop and on signals
// =============================================================================================

static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static ROOT: OnceLock<PathBuf> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn kill_all_children() {
    for pid in lock(&CHILDREN).drain(..) {
        // SAFETY: kill(2) on a process group we created; at worst ESRCH.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

fn install_signal_cleanup() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("install signal handlers")?;
    std::thread::Builder::new()
        .name("bench-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                eprintln!("bench: caught signal {sig}; killing child processes and cleaning up");
                kill_all_children();
                if let Some(root) = ROOT.get() {
                    let _ = fs::remove_dir_all(root);
                }
                std::process::exit(128 + sig);
            }
        })
        .context("spawn signal thread")?;
    Ok(())
}

#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    user: f64,
    sys: f64,
}

impl Cpu {
    fn total(self) -> f64 {
        self.user + self.sys
    }
}

/// A child process (and its process group) that is killed when dropped.
struct Proc {
    child: std::process::Child,
    name: String,
    reaped: bool,
}

impl Proc {
    /// Must be called from the main thread (PR_SET_PDEATHSIG follows the spawning thread).
    fn spawn(cmd: &mut Command, name: &str) -> Result<Proc> {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", cmd.get_program()))?;
        lock(&CHILDREN).push(child.id() as i32);
        Ok(Proc {
            child,
            name: name.to_string(),
            reaped: false,
        })
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, sig: i32) {
        if !self.reaped {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(self.pid(), sig) };
        }
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.reaped = true;
                self.unregister();
                Some(status)
            }
            _ => None,
        }
    }

    /// Waits with wait4(2) and returns the CPU time of the child and its waited-for descendants.
    fn wait_rusage(&mut self) -> Result<(ExitStatus, Cpu)> {
        use std::os::unix::process::ExitStatusExt;
        let mut status = 0;
        // SAFETY: zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: wait4 on our own child with valid out-pointers.
            let rc = unsafe { libc::wait4(self.pid(), &mut status, 0, &mut usage) };
            if rc == self.pid() {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                bail!("wait4 {}: {err}", self.name);
            }
        }
        self.reaped = true;
        self.unregister();
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok((
            ExitStatus::from_raw(status),
            Cpu {
                user: tv(usage.ru_utime),
                sys: tv(usage.ru_stime),
            },
        ))
    }

    /// Sends `sig`, waits up to `grace`, then SIGKILLs the group.
    fn stop(&mut self, sig: i32, grace: Duration) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        self.signal(sig);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait() {
                self.kill_group();
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill();
        None
    }

    fn kill_group(&self) {
        // SAFETY: the group we created for this child (its pid); leftovers die with it.
        unsafe { libc::kill(-self.pid(), libc::SIGKILL) };
    }

    fn kill(&mut self) {
        if self.reaped {
            return;
        }
        self.kill_group();
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
        self.unregister();
    }

    fn unregister(&self) {
        let pid = self.pid();
        lock(&CHILDREN).retain(|p| *p != pid);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Removes the bench's own environment influence from a child (config comes from files only).
fn clean_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("VFETCH_")
            || k.starts_with("VIDEO_")
            || matches!(
                k.as_ref(),
                "PEXELS_API_KEY"
                    | "PIXABAY_API_KEY"
                    | "RUST_LOG"
                    | "JOURNAL_STREAM"
                    | "NOTIFY_SOCKET"
                    | "LISTEN_FDS"
                    | "LISTEN_PID"
                    | "WATCHDOG_USEC"
                    | "http_proxy"
                    | "https_proxy"
                    | "HTTP_PROXY"
                    | "HTTPS_PROXY"
                    | "ALL_PROXY"
                    | "all_proxy"
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_PROXY", "*")
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// CPU seconds (user, sys) a live process has used, from /proc/<pid>/stat.
fn proc_cpu(pid: i32) -> Result<Cpu> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').ok_or_else(|| anyhow!("bad stat"))? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 14 (utime) and 15 (stime) of stat(5); `after` starts at field 3.
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow!("short stat"))?
            .parse::<f64>()?)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(Cpu {
        user: ticks(11)? / hz,
        sys: ticks(12)? / hz,
    })
}

/// (VmRSS, VmHWM) in bytes.
fn proc_mem(pid: i32) -> Result<(u64, u64)> {
    Ok((
        proc_status_kib(pid, "VmRSS:")?,
        proc_status_kib(pid, "VmHWM:")?,
    ))
}

/// One `kB` field of /proc/<pid>/status, in bytes.
fn proc_status_kib(pid: i32, name: &str) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/status"))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib * 1024)
    };
    field(name)
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("timed out after {limit:?} waiting for {what}")
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn count_files(path: &Path) -> usize {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => count_files(&e.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

fn sync_disks() {
    // SAFETY: sync(2) has no preconditions.
    unsafe { libc::sync() };
}

// =============================================================================================
// Deterministic pseudo-random content (distinct per seed, random access)
// =============================================================================================

fn mix(seed: u64, word: u64) -> u64 {
    // splitmix64's finaliser over (seed, word index): every 8-byte word is independent.
    let mut z = seed
        .wrapping_mul(0xD6E8_FEB8_6659_FD93)
        .wrapping_add(word.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `buf` with the bytes of file `seed` starting at `offset`.
fn fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() && !pos.is_multiple_of(8) {
        buf[i] = mix(seed, pos / 8).to_le_bytes()[(pos % 8) as usize];
        i += 1;
        pos += 1;
    }
    while buf.len() - i >= 8 {
        buf[i..i + 8].copy_from_slice(&mix(seed, pos / 8).to_le_bytes());
        i += 8;
        pos += 8;
    }
    while i < buf.len() {
        buf[i] = mix(seed, pos / 8).to_le_bytes()[(pos % 8) as usize];
        i += 1;
        pos += 1;
    }
}

fn write_content_file(path: &Path, seed: u64, size: u64) -> Result<()> {
    let mut file = io::BufWriter::with_capacity(
        4 * MIB as usize,
        fs::File::create(path).with_context(|| format!("create {}", path.display()))?,
    );
    let mut buf = vec![0u8; MIB as usize];
    let mut pos = 0;
    while pos < size {
        let n = (size - pos).min(buf.len() as u64) as usize;
        fill(seed, pos, &mut buf[..n]);
        file.write_all(&buf[..n])?;
        pos += n as u64;
    }
    file.flush()?;
    Ok(())
}

fn content_sha256(seed: u64, size: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    let mut pos = 0;
    while pos < size {
        let n = (size - pos).min(buf.len() as u64) as usize;
        fill(seed, pos, &mut buf[..n]);
        h.update(&buf[..n]);
        pos += n as u64;
    }
    hex::encode(h.finalize())
}

// =============================================================================================
// The bench's own HTTP server: a Wikimedia-API catalogue plus virtual, throttleable files
// =============================================================================================

/// One search result the catalogue lists.
#[derive(Clone)]
struct Item {
    /// File title without `File:`, e.g. `Bulk 001.mp4`.
    title: String,
    url: String,
    size: u64,
}

#[derive(Clone, Copy)]
struct VFile {
    seed: u64,
    size: u64,
}

/// One file request as served.
struct FileReq {
    path: String,
    range_start: Option<u64>,
    status: u16,
    at: Instant,
    sent: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
}

struct SrvShared {
    base: String,
    stop: AtomicBool,
    catalogue: Mutex<HashMap<String, Arc<Vec<Item>>>>,
    files: Mutex<HashMap<String, VFile>>,
    /// Bytes per second per connection for files; 0 = unthrottled.
    throttle: AtomicU64,
    api_requests: AtomicU64,
    active_files: AtomicUsize,
    max_active_files: AtomicUsize,
    log: Mutex<Vec<FileReq>>,
}

struct Srv {
    addr: SocketAddr,
    shared: Arc<SrvShared>,
    accept: Option<JoinHandle<()>>,
}

const LAST_MODIFIED: &str = "Tue, 02 Jan 2024 03:04:05 GMT";

impl Srv {
    fn start() -> Result<Srv> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(SrvShared {
            base: format!("http://{addr}"),
            stop: AtomicBool::new(false),
            catalogue: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            throttle: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
            active_files: AtomicUsize::new(0),
            max_active_files: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let accept = std::thread::Builder::new()
            .name("bench-http".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let s2 = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("bench-http-conn".into())
                        .spawn(move || {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                handle_conn(&s2, stream)
                            }));
                        });
                }
            })?;
        Ok(Srv {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    fn base(&self) -> String {
        self.shared.base.clone()
    }

    /// Lists `items` for searches whose theme (lower-cased, `filetype:` removed) is `theme`.
    fn add_theme(&self, theme: &str, items: Vec<Item>) {
        lock(&self.shared.catalogue).insert(theme.to_lowercase(), Arc::new(items));
    }

    /// Serves `size` bytes of content `seed` at `/files/<name>`; returns its URL.
    fn add_file(&self, name: &str, seed: u64, size: u64) -> String {
        let path = format!("/files/{name}");
        lock(&self.shared.files).insert(path.clone(), VFile { seed, size });
        format!("{}{path}", self.shared.base)
    }

    fn set_throttle(&self, bytes_per_sec: u64) {
        self.shared.throttle.store(bytes_per_sec, Ordering::SeqCst);
    }

    fn active_files(&self) -> usize {
        self.shared.active_files.load(Ordering::SeqCst)
    }

    fn file_requests(&self) -> Vec<(String, Option<u64>, u16, Instant, u64, bool)> {
        lock(&self.shared.log)
            .iter()
            .map(|r| {
                (
                    r.path.clone(),
                    r.range_start,
                    r.status,
                    r.at,
                    r.sent.load(Ordering::SeqCst),
                    r.done.load(Ordering::SeqCst),
                )
            })
            .collect()
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn handle_conn(sh: &SrvShared, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if path == "/w/api.php" {
        sh.api_requests.fetch_add(1, Ordering::SeqCst);
        let body = wikimedia_answer(sh, &query);
        send_simple(
            &mut stream,
            200,
            "application/json; charset=utf-8",
            body.as_bytes(),
        );
    } else if path.starts_with("/files/") {
        serve_file(sh, &mut stream, path, &headers, method == "HEAD");
    } else {
        send_simple(&mut stream, 404, "text/plain", b"not found\n");
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Drain briefly so the close is a FIN, not a reset.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.read(&mut chunk);
}

fn send_simple(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        if status == 200 { "OK" } else { "Not Found" },
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// The MediaWiki search API, as the Wikimedia adapter reads it (formatversion=2).
fn wikimedia_answer(sh: &SrvShared, query: &[(String, String)]) -> String {
    let param = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let theme: String = param("gsrsearch")
        .unwrap_or("")
        .split_whitespace()
        .filter(|w| !w.to_ascii_lowercase().starts_with("filetype:"))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let limit = match param("gsrlimit") {
        Some("max") => 50,
        Some(v) => v.parse::<usize>().unwrap_or(10).clamp(1, 50),
        None => 10,
    };
    let offset = param("gsroffset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let items = lock(&sh.catalogue).get(&theme).cloned();
    let Some(items) = items else {
        return json!({"batchcomplete": true}).to_string();
    };
    let shown: Vec<Value> = items
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(i, it)| {
            json!({
                "pageid": 1_000_000 + i,
                "ns": 6,
                "title": format!("File:{}", it.title),
                "index": i + 1,
                "imageinfo": [{
                    "url": it.url,
                    "descriptionurl": format!("{}/wiki/File:{}", sh.base, it.title.replace(' ', "_")),
                    "size": it.size,
                    "width": 1920,
                    "height": 1080,
                    "duration": 10.0,
                    "mime": "video/mp4",
                    "mediatype": "VIDEO",
                }],
            })
        })
        .collect();
    let mut body = json!({"batchcomplete": true});
    if offset + limit < items.len() {
        body["continue"] = json!({"gsroffset": offset + limit, "continue": "gsroffset||"});
    }
    if !shown.is_empty() {
        body["query"] = json!({ "pages": shown });
    }
    body.to_string()
}

fn serve_file(
    sh: &SrvShared,
    stream: &mut TcpStream,
    path: &str,
    headers: &[(String, String)],
    head_only: bool,
) {
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let Some(vf) = lock(&sh.files).get(path).copied() else {
        send_simple(stream, 404, "text/plain", b"not found\n");
        return;
    };
    let etag = format!("\"v{:x}-{}\"", vf.seed, vf.size);
    let range = header("range").and_then(|r| {
        let spec = r.trim().strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        let start: u64 = a.trim().parse().ok()?;
        let end: Option<u64> = if b.trim().is_empty() {
            None
        } else {
            Some(b.trim().parse().ok()?)
        };
        Some((start, end))
    });
    let if_range_ok = header("if-range").is_none_or(|v| v == etag || v == LAST_MODIFIED);
    let (status, start, end) = match range.filter(|_| if_range_ok) {
        Some((s, e)) if s < vf.size => (206u16, s, e.map_or(vf.size, |e| (e + 1).min(vf.size))),
        Some(_) => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                vf.size
            );
            let _ = stream.write_all(head.as_bytes());
            return;
        }
        None => (200u16, 0, vf.size),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\nConnection: close\r\n",
        if status == 200 { "OK" } else { "Partial Content" },
        end - start
    );
    if status == 206 {
        let _ = write!(
            head,
            "Content-Range: bytes {start}-{}/{}\r\n",
            end - 1,
            vf.size
        );
    }
    head.push_str("\r\n");
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    lock(&sh.log).push(FileReq {
        path: path.to_string(),
        range_start: range.filter(|_| if_range_ok).map(|(s, _)| s),
        status,
        at: Instant::now(),
        sent: sent.clone(),
        done: done.clone(),
    });
    if stream.write_all(head.as_bytes()).is_err() || head_only {
        done.store(true, Ordering::SeqCst);
        return;
    }
    let active = sh.active_files.fetch_add(1, Ordering::SeqCst) + 1;
    sh.max_active_files.fetch_max(active, Ordering::SeqCst);
    let rate = sh.throttle.load(Ordering::SeqCst);
    let piece = if rate == 0 {
        256 << 10
    } else {
        (rate / 50).clamp(4 << 10, 256 << 10) as usize
    };
    let mut buf = vec![0u8; piece];
    let t0 = Instant::now();
    let mut pos = start;
    while pos < end && !sh.stop.load(Ordering::SeqCst) {
        let n = (end - pos).min(piece as u64) as usize;
        fill(vf.seed, pos, &mut buf[..n]);
        if rate > 0 {
            let due = t0 + Duration::from_secs_f64((pos - start) as f64 / rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if stream.write_all(&buf[..n]).is_err() {
            break;
        }
        pos += n as u64;
        sent.fetch_add(n as u64, Ordering::SeqCst);
    }
    sh.active_files.fetch_sub(1, Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
}

/// Accepts connections into its backlog and never answers them: downloads pointed here hang.
struct Tarpit {
    listener: TcpListener,
}

impl Tarpit {
    fn start() -> Result<Tarpit> {
        Ok(Tarpit {
            listener: TcpListener::bind("127.0.0.1:0")?,
        })
    }

    fn base(&self) -> String {
        format!(
            "http://{}",
            self.listener.local_addr().expect("tarpit address")
        )
    }
}

// =============================================================================================
// nginx
// =============================================================================================

struct Nginx {
    proc: Proc,
    port: u16,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, root: &Path) -> Result<Nginx> {
        fs::create_dir_all(dir)?;
        let port = free_port()?;
        let compiled = Command::new(bin)
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        let mut temp_paths = String::new();
        for (module, directive) in [
            ("client-body", "client_body_temp_path"),
            ("proxy", "proxy_temp_path"),
            ("fastcgi", "fastcgi_temp_path"),
            ("uwsgi", "uwsgi_temp_path"),
            ("scgi", "scgi_temp_path"),
        ] {
            if compiled.contains(&format!("--http-{module}-temp-path")) {
                let _ = writeln!(
                    temp_paths,
                    "    {directive} {};",
                    dir.join(format!("tmp-{module}")).display()
                );
            }
        }
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;\n"
        } else {
            ""
        };
        let conf = format!(
            "worker_processes 2;\n{user}pid {pid};\nerror_log {err} warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n    access_log off;\n    sendfile on;\n    tcp_nopush on;\n    \
             keepalive_requests 10000;\n    types {{ video/mp4 mp4; }}\n    default_type video/mp4;\n\
             {temp_paths}    server {{\n        listen 127.0.0.1:{port};\n        root {root};\n        \
             location / {{ }}\n    }}\n}}\n",
            pid = dir.join("nginx.pid").display(),
            err = dir.join("error.log").display(),
            root = root.display(),
        );
        let conf_path = dir.join("nginx.conf");
        fs::write(&conf_path, conf)?;
        let mut cmd = Command::new(bin);
        cmd.arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-g")
            .arg("daemon off;")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut proc = Proc::spawn(&mut cmd, "nginx")?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let up = wait_for(Duration::from_secs(10), "nginx to listen", || {
            TcpStream::connect(addr).is_ok()
        });
        if up.is_err() || proc.try_wait().is_some() {
            let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            bail!("nginx did not start:\n{log}");
        }
        Ok(Nginx { proc, port })
    }

    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: graceful stop of master and workers; the group kill mops up after.
        self.proc.stop(libc::SIGQUIT, Duration::from_secs(5));
    }
}

// =============================================================================================
// The daemon under test
// =============================================================================================

#[derive(Clone)]
enum V {
    S(String),
    I(i64),
    B(bool),
}

/// Keys that newer or older daemons may not know; dropped (with a notice) if the daemon refuses.
fn optional_key(key: &str) -> bool {
    key.ends_with(".rate_limit") || key == "stall_timeout_secs" || key == "per_source_downloads"
}

struct Bins {
    vfetchd: PathBuf,
    vfetchctl: PathBuf,
}

static BINS: OnceLock<Bins> = OnceLock::new();

fn bins() -> &'static Bins {
    BINS.get().expect("binaries located")
}

struct Daemon {
    name: String,
    dir: PathBuf,
    config: PathBuf,
    socket: PathBuf,
    state: PathBuf,
    library: PathBuf,
    log: PathBuf,
    entries: Vec<(String, V)>,
    proc: Option<Proc>,
}

impl Daemon {
    /// A daemon in `<root>/<name>` with these config entries (plus socket, state and library).
    fn new(root: &Path, name: &str, entries: Vec<(String, V)>) -> Result<Daemon> {
        let dir = root.join(name);
        fs::create_dir_all(&dir)?;
        let d = Daemon {
            name: name.to_string(),
            socket: dir.join("run").join("vfetchd.sock"),
            state: dir.join("state"),
            library: dir.join("library"),
            config: dir.join("config.toml"),
            log: dir.join("vfetchd.log"),
            dir,
            entries,
            proc: None,
        };
        d.write_config()?;
        Ok(d)
    }

    fn write_config(&self) -> Result<()> {
        let render = |v: &V| match v {
            V::S(s) => format!("{s:?}"),
            V::I(i) => i.to_string(),
            V::B(b) => b.to_string(),
        };
        let mut text = format!(
            "socket = {:?}\nstate_dir = {:?}\nlibrary_dir = {:?}\n",
            self.socket, self.state, self.library
        );
        for (k, v) in self.entries.iter().filter(|(k, _)| !k.contains('.')) {
            let _ = writeln!(text, "{k} = {}", render(v));
        }
        let mut sections: Vec<&str> = Vec::new();
        for (k, _) in &self.entries {
            if let Some((section, _)) = k.rsplit_once('.') {
                if !sections.contains(&section) {
                    sections.push(section);
                }
            }
        }
        for section in sections {
            let _ = writeln!(text, "\n[{section}]");
            for (k, v) in &self.entries {
                if let Some((s, field)) = k.rsplit_once('.') {
                    if s == section {
                        let _ = writeln!(text, "{field} = {}", render(v));
                    }
                }
            }
        }
        fs::write(&self.config, text)?;
        Ok(())
    }

    /// Starts the process; returns the time from spawn until the socket accepts a connection.
    fn start(&mut self) -> Result<Duration> {
        for _ in 0..8 {
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)?;
            let mut cmd = Command::new(&bins().vfetchd);
            clean_env(&mut cmd)
                .arg("--config")
                .arg(&self.config)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log);
            let t0 = Instant::now();
            let mut proc = Proc::spawn(&mut cmd, &format!("vfetchd ({})", self.name))?;
            let mut exited = None;
            while t0.elapsed() < Duration::from_secs(30) {
                if UnixStream::connect(&self.socket).is_ok() {
                    let up = t0.elapsed();
                    self.proc = Some(proc);
                    return Ok(up);
                }
                if let Some(status) = proc.try_wait() {
                    exited = Some(status);
                    break;
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            if exited.is_some() {
                // An older or newer daemon that does not know a key the bench sets: drop it.
                if let Some(key) = log
                    .rsplit("unknown key `")
                    .next()
                    .filter(|_| log.contains("unknown key `"))
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_string)
                {
                    if optional_key(&key) && self.entries.iter().any(|(k, _)| *k == key) {
                        say!("note: this vfetchd does not know `{key}`; running without it");
                        self.entries.retain(|(k, _)| *k != key);
                        self.write_config()?;
                        fs::write(&self.log, "")?;
                        continue;
                    }
                }
            }
            let tail: String = log
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            bail!(
                "vfetchd ({}) did not start ({exited:?}); log:\n{tail}",
                self.name
            );
        }
        bail!("vfetchd ({}) refused too many config keys", self.name)
    }

    fn pid(&self) -> i32 {
        self.proc.as_ref().map(|p| p.pid()).unwrap_or(-1)
    }

    /// SIGTERM and wait (up to 20 s, then SIGKILL); true if it exited by itself.
    fn stop(&mut self) -> bool {
        match self.proc.take() {
            Some(mut p) => p.stop(libc::SIGTERM, Duration::from_secs(20)).is_some(),
            None => true,
        }
    }

    fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    fn db(&self) -> PathBuf {
        self.state.join("vfetch.db")
    }

    fn ctl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&bins().vfetchctl);
        clean_env(&mut cmd)
            .arg("--config")
            .arg(&self.config)
            .arg("--no-autostart")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Removes the daemon's directory (after stopping it).
    fn remove(mut self) {
        self.kill9();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Config entries: the given top-level ones, `wikimedia` at `base` and the other sources off.
fn wikimedia_only(base: &str, top: &[(&str, V)]) -> Vec<(String, V)> {
    let mut entries: Vec<(String, V)> = top
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    for kind in SourceKind::ALL {
        let name = kind.as_str();
        let on = kind == SourceKind::Wikimedia;
        entries.push((format!("sources.{name}.enabled"), V::B(on)));
        if on {
            entries.push((format!("sources.{name}.base_url"), V::S(base.to_string())));
            entries.push((
                format!("sources.{name}.rate_limit"),
                V::S("1000000/1".into()),
            ));
        }
    }
    entries
}

async fn connect(socket: &Path) -> Result<Client> {
    Client::connect(socket)
        .await
        .map_err(|e| anyhow!("connect {}: {e}", socket.display()))
}

async fn add_job(
    client: &mut Client,
    theme: &str,
    count: u32,
    sources: Vec<SourceKind>,
) -> Result<Job> {
    let request = Request::Add(NewJob {
        theme: theme.to_string(),
        count,
        priority: 0,
        options: JobOptions {
            sources,
            ..Default::default()
        },
    });
    match client
        .request(&request)
        .await
        .map_err(|e| anyhow!("add: {e}"))?
    {
        Response::Job(job) => Ok(job),
        other => bail!("add: unexpected answer {other:?}"),
    }
}

async fn show_job(client: &mut Client, id: JobId) -> Result<Job> {
    match client
        .request(&Request::Show(id))
        .await
        .map_err(|e| anyhow!("show: {e}"))?
    {
        Response::Detail(d) => Ok(d.job),
        other => bail!("show: unexpected answer {other:?}"),
    }
}

/// Subscribes (before anything is added, so nothing is missed).
async fn subscribe(socket: &Path) -> Result<Client> {
    let mut events = connect(socket).await?;
    match events
        .request(&Request::Subscribe { job: None })
        .await
        .map_err(|e| anyhow!("subscribe: {e}"))?
    {
        Response::Subscribed => Ok(events),
        other => bail!("subscribe: unexpected answer {other:?}"),
    }
}

/// Waits for job `id` to reach a terminal state, following events and re-reading it every second.
async fn wait_job(
    events: &mut Client,
    client: &mut Client,
    id: JobId,
    limit: Duration,
) -> Result<Job> {
    let deadline = Instant::now() + limit;
    let mut job = show_job(client, id).await?;
    while !job.state.is_terminal() {
        if Instant::now() > deadline {
            bail!(
                "job {id:?} not finished within {limit:?} (state {:?}, done {}/{})",
                job.state,
                job.done,
                job.count
            );
        }
        match tokio::time::timeout(Duration::from_secs(1), events.next_event()).await {
            Ok(Ok(Some(Event::Job(changed)))) if changed.id == id => job = changed,
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => bail!("the daemon closed the event stream"),
            Ok(Err(e)) => bail!("events: {e}"),
            Err(_) => job = show_job(client, id).await?,
        }
    }
    Ok(job)
}

// =============================================================================================
// Scenario 1: bulk throughput
// =============================================================================================

struct Ctx {
    smoke: bool,
    root: PathBuf,
    sizes: Sizes,
    reps: usize,
    rt: tokio::runtime::Runtime,
}

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

fn bulk(ctx: &Ctx) -> Result<Vec<Row>> {
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

// =============================================================================================
// Scenario 2: memory
// =============================================================================================

fn memory(ctx: &Ctx) -> Result<Vec<Row>> {
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

// =============================================================================================
// Scenario 3: search fan-out
// =============================================================================================

fn fanout(ctx: &Ctx) -> Result<Vec<Row>> {
    use fake_provider::{FakeProvider, Fault, FaultRule, Source};
    const S: &str = "fanout";
    let latency = ctx.sizes.fanout_latency;
    let fake = FakeProvider::start();
    for path in [
        "/videos/search",
        "/api/videos",
        "/w/api.php",
        "/advancedsearch.php",
    ] {
        fake.fault(FaultRule::always(path, Fault::Latency(latency)));
    }
    let mut entries = vec![
        ("validate".to_string(), V::S("off".into())),
        ("parallel_downloads".to_string(), V::I(4)),
    ];
    for source in Source::ALL {
        let name = source.name();
        entries.push((format!("sources.{name}.enabled"), V::B(true)));
        entries.push((format!("sources.{name}.base_url"), V::S(fake.base_url())));
        entries.push((
            format!("sources.{name}.rate_limit"),
            V::S("1000000/1".into()),
        ));
        let key = fake.api_key(source);
        if !key.is_empty() {
            entries.push((format!("sources.{name}.api_key"), V::S(key.into())));
        }
    }
    let mut d = Daemon::new(&ctx.root, "fanout", entries)?;
    d.start()?;
    let kinds = [
        (Source::Pexels, SourceKind::Pexels),
        (Source::Pixabay, SourceKind::Pixabay),
        (Source::Wikimedia, SourceKind::Wikimedia),
        (Source::Archive, SourceKind::Archive),
    ];
    let per_source = 3;
    let db = d.db();
    let mut run_no = 0;
    // One run: a fresh theme with `per_source` videos at each source; time from add until every
    // wanted candidate is in the database.
    let mut run = |wanted: &[(Source, SourceKind)]| -> Result<f64> {
        run_no += 1;
        let theme = format!("fanout{run_no}");
        for (source, _) in kinds {
            fake.add_fixtures(source, &theme, per_source);
        }
        let sources: Vec<SourceKind> = wanted.iter().map(|(_, k)| *k).collect();
        let expect = per_source * wanted.len();
        let socket = d.socket.clone();
        let (t0, id) = ctx.rt.block_on(async {
            let mut client = connect(&socket).await?;
            let t0 = Instant::now();
            let job = add_job(&mut client, &theme, 1, sources).await?;
            anyhow::Ok((t0, job.id))
        })?;
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mut stmt = conn.prepare("SELECT COUNT(*) FROM candidates WHERE job_id = ?1")?;
        loop {
            let n: i64 = stmt.query_row([id.0], |r| r.get(0))?;
            if n as usize >= expect {
                return Ok(t0.elapsed().as_secs_f64());
            }
            if t0.elapsed() > Duration::from_secs(30) {
                bail!(
                    "fan-out: only {n} of {expect} candidates stored after 30 s\n{}",
                    d.log_tail()
                );
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    };
    let mut all = Vec::new();
    let mut single: HashMap<&'static str, Vec<f64>> = HashMap::new();
    let mut ratios = Vec::new();
    // A warm-up run so connection set-up in the first measured run is not special.
    run(&kinds)?;
    for rep in 0..ctx.reps {
        let mut order: Vec<Option<usize>> = vec![None, Some(0), Some(1), Some(2), Some(3)];
        let len = order.len();
        order.rotate_left(rep % len);
        let mut slowest = 0.0f64;
        let mut together = 0.0;
        for o in order {
            match o {
                None => {
                    together = run(&kinds)?;
                    all.push(together);
                }
                Some(i) => {
                    let t = run(&kinds[i..=i])?;
                    slowest = slowest.max(t);
                    single.entry(kinds[i].0.name()).or_default().push(t);
                }
            }
        }
        say!(
            "fanout rep {}: four sources {:.0} ms, slowest single {:.0} ms",
            rep + 1,
            together * 1e3,
            slowest * 1e3
        );
        ratios.push(together / slowest);
    }
    d.remove();
    drop(fake);
    let slowest_med = kinds
        .iter()
        .map(|(s, _)| median(&single[s.name()]))
        .fold(0.0, f64::max);
    let r = median(&ratios);
    let mut rows = vec![Row::info(
        S,
        format!(
            "four sources, each answering after {} ms: add -> all candidates stored",
            latency.as_millis()
        ),
        ms(median(&all) * 1e3),
    )
    .peer(format!("{} (slowest single source)", ms(slowest_med * 1e3)))
    .ratio(r)
    .target("<= 1.2x slowest", r <= 1.2)];
    for (s, _) in kinds {
        rows.push(Row::info(
            S,
            format!("only {}", s.name()),
            ms(median(&single[s.name()]) * 1e3),
        ));
    }
    Ok(rows)
}

// =============================================================================================
// Scenario 4: RPC
// =============================================================================================

fn rpc(ctx: &Ctx) -> Result<Vec<Row>> {
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

// =============================================================================================
// Scenario 5: queue scale
// =============================================================================================

fn queue(ctx: &Ctx) -> Result<Vec<Row>> {
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
            format!("scheduler pick, {queued_now} queued (store::downloads::pick_next)"),
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
                Response::Jobs(jobs) if !jobs.is_empty() => {}
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

/// Times `store::downloads::pick_next` on a copy of the database: picking the next download,
/// and finding nothing because the only source with queued work is at its limit.
fn pick_with_library(db: &Path, root: &Path) -> Result<(f64, f64)> {
    use vfetch::source_kind::SourceKind;
    use vfetch::store::downloads::pick_next;
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
            store.run_blocking(|c| pick_next(c, full))?;
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

// =============================================================================================
// Scenario 6: resume cost
// =============================================================================================

fn resume(ctx: &Ctx) -> Result<Vec<Row>> {
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
                Response::Jobs(j) => j,
                other => bail!("list: {other:?}"),
            };
            let id = jobs.first().ok_or_else(|| anyhow!("no job"))?.id;
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

// =============================================================================================
// Main
// =============================================================================================

fn locate_bins(build: bool) -> Result<Bins> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/bench -> target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(|p| p.parent())
        .ok_or_else(|| anyhow!("cannot tell the target directory from {}", exe.display()))?
        .to_path_buf();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    if build {
        if let Some(cargo) = std::env::var_os("CARGO") {
            say!(
                "building the binaries: cargo build --bins{}",
                if release { " --release" } else { "" }
            );
            let mut cmd = Command::new(cargo);
            cmd.arg("build")
                .arg("--bins")
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status()?;
            if !status.success() {
                bail!("cargo build --bins failed ({status})");
            }
        }
    }
    let bins = Bins {
        vfetchd: profile_dir.join("vfetchd"),
        vfetchctl: profile_dir.join("vfetchctl"),
    };
    for b in [&bins.vfetchd, &bins.vfetchctl] {
        if !b.is_file() {
            bail!(
                "{} is missing; build it with `cargo build{} --bins` (or run the bench through `cargo run`)",
                b.display(),
                if release { " --release" } else { "" }
            );
        }
    }
    Ok(bins)
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
                        match scenario {
                            Scenario::Bulk => "bulk",
                            Scenario::Memory => "memory",
                            Scenario::Fanout => "fanout",
                            Scenario::Rpc => "rpc",
                            Scenario::Queue => "queue",
                            Scenario::Resume => "resume",
                        },
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
