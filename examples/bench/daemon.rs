//! The daemon under test: locating its binaries, its config, starting and stopping it, and
//! the IPC helpers the scenarios use to add and follow jobs.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use vfetch::ipc::client::Client;
use vfetch::job::{Job, JobId, JobOptions, NewJob};
use vfetch::protocol::{Event, Request, Response};
use vfetch::source_kind::SourceKind;

use crate::procs::{clean_env, Proc};

#[derive(Clone)]
pub(crate) enum V {
    S(String),
    I(i64),
    B(bool),
}

/// Keys that newer or older daemons may not know; dropped (with a notice) if the daemon refuses.
fn optional_key(key: &str) -> bool {
    key.ends_with(".rate_limit")
        || key == "stall_timeout_secs"
        || key == "per_source_downloads"
        || key == "allow_private_addresses"
}

pub(crate) struct Bins {
    vfetchd: PathBuf,
    vfetchctl: PathBuf,
}

pub(crate) static BINS: OnceLock<Bins> = OnceLock::new();

fn bins() -> &'static Bins {
    BINS.get().expect("binaries located")
}

pub(crate) struct Daemon {
    name: String,
    dir: PathBuf,
    config: PathBuf,
    pub(crate) socket: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) library: PathBuf,
    log: PathBuf,
    entries: Vec<(String, V)>,
    proc: Option<Proc>,
}

impl Daemon {
    /// A daemon in `<root>/<name>` with these config entries (plus socket, state and library).
    pub(crate) fn new(root: &Path, name: &str, entries: Vec<(String, V)>) -> Result<Daemon> {
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
    pub(crate) fn start(&mut self) -> Result<Duration> {
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

    pub(crate) fn pid(&self) -> i32 {
        self.proc.as_ref().map(|p| p.pid()).unwrap_or(-1)
    }

    /// SIGTERM and wait (up to 20 s, then SIGKILL); true if it exited by itself.
    pub(crate) fn stop(&mut self) -> bool {
        match self.proc.take() {
            Some(mut p) => p.stop(libc::SIGTERM, Duration::from_secs(20)).is_some(),
            None => true,
        }
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.state.join("vfetch.db")
    }

    pub(crate) fn ctl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&bins().vfetchctl);
        clean_env(&mut cmd)
            .arg("--config")
            .arg(&self.config)
            .arg("--no-autostart")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    pub(crate) fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Removes the daemon's directory (after stopping it).
    pub(crate) fn remove(mut self) {
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
pub(crate) fn wikimedia_only(base: &str, top: &[(&str, V)]) -> Vec<(String, V)> {
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

/// Config for a daemon whose only source is `base` (a tarpit: nothing to download), with
/// validation off and the HTTP listener on a free loopback port: what the HTTP scenarios time.
pub(crate) fn idle_web(base: &str) -> Vec<(String, V)> {
    wikimedia_only(
        base,
        &[
            ("validate", V::S("off".into())),
            ("web_listen", V::S("127.0.0.1:0".into())),
        ],
    )
}

/// What `vfetchctl web --json` says of a daemon's HTTP listener, with the API token.
pub(crate) struct WebAccess {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// A one-time login link for a browser.
    pub(crate) login_url: String,
    /// The Bearer token from `<state_dir>/web.token`.
    pub(crate) token: String,
}

impl WebAccess {
    /// `127.0.0.1:PORT`, for a client that speaks HTTP over a raw socket.
    pub(crate) fn addr(&self) -> Result<String> {
        Ok(self
            .url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("unexpected web url {}", self.url))?
            .trim_end_matches('/')
            .to_string())
    }
}

impl Daemon {
    /// The HTTP listener's address, a login link and the token (`vfetchctl web --json`).
    pub(crate) fn web(&self) -> Result<WebAccess> {
        let out = self.ctl(&["web", "--json"]).output()?;
        if !out.status.success() {
            bail!(
                "vfetchctl web failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let link: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let field = |name: &str| {
            link[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("vfetchctl web --json has no {name}"))
        };
        let token = fs::read_to_string(self.state.join("web.token"))
            .map_err(|e| anyhow!("web.token: {e}"))?;
        Ok(WebAccess {
            url: field("url")?,
            login_url: field("login_url")?,
            token: token.trim().to_string(),
        })
    }
}

pub(crate) async fn connect(socket: &Path) -> Result<Client> {
    Client::connect(socket)
        .await
        .map_err(|e| anyhow!("connect {}: {e}", socket.display()))
}

pub(crate) async fn add_job(
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
pub(crate) async fn subscribe(socket: &Path) -> Result<Client> {
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
pub(crate) async fn wait_job(
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

pub(crate) fn locate_bins(build: bool) -> Result<Bins> {
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
            // `--examples` too: it unifies dependency features the way the example's own build
            // (and `cargo test`) did, so cargo reuses those artefacts instead of compiling the
            // whole dependency graph a second time (which filled a CI machine's disk).
            say!(
                "building the binaries: cargo build --bins --examples{}",
                if release { " --release" } else { "" }
            );
            let mut cmd = Command::new(cargo);
            cmd.arg("build")
                .arg("--bins")
                .arg("--examples")
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status()?;
            if !status.success() {
                bail!("cargo build --bins --examples failed ({status})");
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
