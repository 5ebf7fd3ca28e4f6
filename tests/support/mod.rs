//! Shared test harness: a real `vfetchd` in a temp dir with its own socket and database.
#![allow(dead_code)]

pub mod browser;
pub mod fake_provider;
pub mod frames;
pub mod web;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A real ~5 MiB H.264 video made once per test run with ffmpeg (lossless noise, so it is large).
pub fn big_video() -> &'static [u8] {
    static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BIG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "nullsrc=s=256x144:r=25,geq=random(1)*255:128:128",
                "-t",
                "4",
            ])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-qp",
                "0",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(&path)
            .status()
            .expect("ffmpeg is installed (.ci/run installs it)");
        assert!(status.success());
        let data = std::fs::read(&path).expect("read big video");
        assert!(
            data.len() > 2 << 20,
            "big video is only {} bytes",
            data.len()
        );
        data
    })
}

/// Adds the big generated video to `provider` as a Wikimedia file.
pub fn add_big(
    provider: &fake_provider::FakeProvider,
    id: &str,
    title: &str,
) -> fake_provider::Video {
    let mut video = fake_provider::video_from_fixture(
        fake_provider::Source::Wikimedia,
        id,
        title,
        &fake_provider::fixtures()[0],
    );
    video.data = big_video().to_vec();
    video.width = 256;
    video.height = 144;
    video.duration = 4.0;
    provider.add(video.clone());
    video
}

/// The start offsets of the `Range` requests the provider got for paths containing `path`.
pub fn range_starts(provider: &fake_provider::FakeProvider, path: &str) -> Vec<u64> {
    provider
        .requests_to(path)
        .iter()
        .filter_map(|r| r.header("range").map(str::to_string))
        .filter_map(|r| {
            r.trim_start_matches("bytes=")
                .split('-')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Path of a binary cargo built for these tests.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "vfetchd" => PathBuf::from(env!("CARGO_BIN_EXE_vfetchd")),
        "vfetchctl" => PathBuf::from(env!("CARGO_BIN_EXE_vfetchctl")),
        other => panic!("unknown binary {other}"),
    }
}

/// Waits until `check` holds, or panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// A `[sources.*]` config block: every source at `base_url`, only `enabled` ones switched on,
/// keyed sources with the given keys.
pub fn sources_config(
    base_url: &str,
    enabled: &[&str],
    pexels_key: &str,
    pixabay_key: &str,
) -> String {
    let mut text = String::new();
    for source in ["pexels", "pixabay", "wikimedia", "archive"] {
        text.push_str(&format!(
            "\n[sources.{source}]\nbase_url = \"{base_url}\"\nenabled = {}\nrate_limit = \"10000/1\"\n",
            enabled.contains(&source)
        ));
        match source {
            "pexels" => text.push_str(&format!("api_key = \"{pexels_key}\"\n")),
            "pixabay" => text.push_str(&format!("api_key = \"{pixabay_key}\"\n")),
            _ => {}
        }
    }
    text
}

/// A daemon under test. Dropping it kills the process and removes its directory.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub socket: PathBuf,
    child: Option<Child>,
    /// Accepts connections into its backlog and never answers: searches hang instead of failing,
    /// so queue tests see jobs that stay put.
    _tarpit: Option<std::net::TcpListener>,
}

impl Daemon {
    /// Starts a daemon whose sources all point at a local server that never answers (nothing
    /// leaves the machine, and jobs stay in `searching`).
    pub fn start() -> Daemon {
        Daemon::start_with("")
    }

    /// Starts a daemon with extra TOML appended to its config file.
    pub fn start_with(extra_toml: &str) -> Daemon {
        let mut daemon = Daemon::configure(extra_toml);
        daemon.spawn();
        daemon
    }

    /// Starts a daemon whose sources all point at `provider` (with the keys it expects), only
    /// `enabled` ones switched on; `extra_toml` goes before the `[sources.*]` sections.
    pub fn for_provider(
        provider: &fake_provider::FakeProvider,
        enabled: &[&str],
        extra_toml: &str,
    ) -> Daemon {
        let sources = sources_config(
            &provider.base_url(),
            enabled,
            provider.api_key(fake_provider::Source::Pexels),
            provider.api_key(fake_provider::Source::Pixabay),
        );
        Daemon::start_with(&format!("{extra_toml}\n{sources}"))
    }

    /// Writes the config and directories but does not start the process.
    pub fn configure(extra_toml: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let socket = root.join("run").join("vfetchd.sock");
        let config_path = root.join("config.toml");
        // The test's own state_dir / library_dir (e.g. on a small filesystem) take precedence.
        let mut text = format!("socket = {:?}\n", socket);
        if !extra_toml.contains("state_dir =") {
            text.push_str(&format!("state_dir = {:?}\n", root.join("state")));
        }
        if !extra_toml.contains("library_dir =") {
            text.push_str(&format!("library_dir = {:?}\n", root.join("library")));
        }
        // No test listens on the user default port 5001 unless it asks: HTTP tests use port 0.
        if !extra_toml.contains("web_listen") {
            text.push_str("web_listen = \"off\"\n");
        }
        text.push_str(extra_toml);
        let mut tarpit = None;
        if !extra_toml.contains("[sources.") {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tarpit");
            let base = format!("http://{}", listener.local_addr().expect("tarpit address"));
            text.push_str(&sources_config(
                &base,
                &["pexels", "pixabay", "wikimedia", "archive"],
                "",
                "",
            ));
            tarpit = Some(listener);
        }
        std::fs::write(&config_path, text).expect("write config");
        Daemon {
            dir,
            config_path,
            socket,
            child: None,
            _tarpit: tarpit,
        }
    }

    /// The state directory (database, staging, log).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The daemon's log file (its stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("vfetchd.log")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the process and waits until its socket answers.
    pub fn spawn(&mut self) {
        let command = self.command();
        self.spawn_command(command);
    }

    /// Starts `command` (a [`Daemon::command`] with changes, such as extra environment
    /// variables) as this daemon and waits until its socket answers.
    pub fn spawn_command(&mut self, mut command: Command) {
        assert!(self.child.is_none(), "daemon already running");
        let child = command.spawn().expect("spawn vfetchd");
        self.child = Some(child);
        let socket = self.socket.clone();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if UnixStream::connect(&socket).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("vfetchd exited during start-up ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "vfetchd did not answer on {}:\n{}",
            socket.display(),
            self.log()
        );
    }

    /// A `vfetchd` command for this daemon's config, logging to its log file.
    pub fn command(&self) -> Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open log");
        let mut command = Command::new(bin("vfetchd"));
        command
            .arg("--config")
            .arg(&self.config_path)
            .arg("-v")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        command
    }

    /// The process id, while running.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        // SAFETY: kill(2) on our own child's pid with a valid signal number.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "vfetchd did not stop within 10 s of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit by itself (e.g. after `shutdown`).
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("vfetchd did not exit within {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `vfetchctl` against this daemon (never autostarting another).
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new(bin("vfetchctl"))
            .arg("--config")
            .arg(&self.config_path)
            .arg("--no-autostart")
            .args(args)
            .env_remove("VFETCH_SOCKET")
            .output()
            .expect("run vfetchctl")
    }

    /// The shell text that runs `vfetchctl <args>` against this daemon (for [`on_a_terminal`]).
    pub fn ctl_line(&self, args: &str) -> String {
        format!(
            "{} --config {} --no-autostart {args}",
            bin("vfetchctl").display(),
            self.config_path.display()
        )
    }

    /// Runs `vfetchctl ... --json`, asserts success, and parses its output.
    pub fn ctl_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ctl(&all);
        assert!(
            out.status.success(),
            "vfetchctl {args:?} failed ({}):\nstdout: {}\nstderr: {}\nlog:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "vfetchctl {args:?} printed invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Adds a job through the CLI and returns its id.
    pub fn add(&self, args: &[&str]) -> i64 {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        self.ctl_json(&all)["id"]
            .as_i64()
            .expect("add --json prints an id")
    }

    /// `show <id> --json`.
    pub fn show(&self, id: i64) -> Value {
        self.ctl_json(&["show", &id.to_string()])
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Asserts a command failed with `code` and that stderr mentions `needle`.
pub fn assert_fails(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}; stderr: {stderr}; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "stderr should mention {needle:?}: {stderr}"
    );
}

/// A command that runs the shell text `line` with a pseudo-terminal as its stdin, stdout and
/// stderr (util-linux `script`, which passes on the exit status), killed by coreutils `timeout`
/// after `limit_secs`. Prefix `line` with `stty cols N 2>/dev/null;` for a wider screen.
pub fn on_a_terminal(line: &str, limit_secs: u32) -> Command {
    let mut command = Command::new("timeout");
    command
        .arg(limit_secs.to_string())
        .args(["script", "-qec", line, "/dev/null"])
        .env_remove("VFETCH_SOCKET");
    command
}

/// Whether a path exists (for socket checks).
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}
