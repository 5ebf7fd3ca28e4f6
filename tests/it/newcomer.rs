//! What a new user meets first: a typo in a config key, `config get` saved as a file, `watch`
//! with nothing to show or a job that already ended, the autostart and `--help` texts, and the
//! foreground daemon's log colours.

use std::process::{Command, Output};
use std::time::Duration;

use crate::support::fake_provider::{fixtures, video_from_fixture, FakeProvider, Source};
use crate::support::on_a_terminal;
use crate::support::{assert_fails, bin, wait_until, Daemon};
use vfetch::config::{Config, Mode, Overrides};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `vfetchctl <args>` for `daemon` with a pseudo-terminal as its stdin, stdout and stderr
/// (util-linux `script`, which passes on the exit status), bounded by coreutils `timeout`.
fn ctl_on_a_terminal(daemon: &Daemon, args: &str) -> Output {
    on_a_terminal(&daemon.ctl_line(args), 30)
        .output()
        .expect("run script")
}

#[test]
fn unknown_config_keys_name_the_command_and_suggest_the_closest_key() {
    let daemon = Daemon::start();
    for (args, command) in [
        (
            &["config", "set", "paralel_downloads", "8"][..],
            "config set",
        ),
        (&["config", "get", "paralel_downloads"][..], "config get"),
        (
            &["config", "unset", "paralel_downloads"][..],
            "config unset",
        ),
    ] {
        let out = daemon.ctl(args);
        assert_fails(
            &out,
            4,
            &format!("{command}: unknown key paralel_downloads; did you mean parallel_downloads?"),
        );
        let message = stderr(&out);
        assert!(message.contains("`vfetchctl config get`"), "{message}");
        // One line that helps, not a dump of every key.
        assert!(!message.contains("sources.archive.rate_limit"), "{message}");
        assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    }
    // Nothing close: no guess, still the pointer to the list.
    let out = daemon.ctl(&["config", "set", "colour", "1"]);
    assert_fails(&out, 4, "config set: unknown key colour (");
    assert!(!stderr(&out).contains("did you mean"), "{}", stderr(&out));
}

#[test]
fn a_mistyped_key_in_the_config_file_stops_the_daemon_with_a_suggestion() {
    let daemon = Daemon::configure("paralel_downloads = 3\n");
    let status = Command::new("timeout")
        .arg("20")
        .arg(daemon.command().get_program())
        .args(daemon.command().get_args())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(daemon.log_path())
                .expect("open log"),
        )
        .status()
        .expect("run vfetchd");
    assert_eq!(status.code(), Some(2), "{}", daemon.log());
    let log = daemon.log();
    let expected = format!(
        "{}: unknown key paralel_downloads; did you mean parallel_downloads?",
        daemon.config_path.display()
    );
    assert!(log.contains(&expected), "{log}");
    assert!(!log.contains("sources.archive.rate_limit"), "{log}");
}

#[test]
fn config_get_prints_toml_that_reads_back_to_the_same_settings() {
    let daemon = Daemon::start();
    for (key, value) in [
        ("parallel_downloads", "7"),
        (
            "on_complete",
            r#"["/bin/echo", "say \"hi\"", "back\\slash"]"#,
        ),
        ("orientation", "landscape"),
        ("allow_private_addresses", "true"),
        ("sources.pexels.api_key", "SECRET-KEY-31337"),
    ] {
        let out = daemon.ctl(&["config", "set", key, value]);
        assert!(out.status.success(), "{key}: {}", stderr(&out));
    }
    let out = daemon.ctl(&["config", "get"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("SECRET-KEY-31337"), "{text}");

    let saved = daemon.dir.path().join("saved.toml");
    std::fs::write(&saved, &text).unwrap();
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("`config get` is not TOML ({e}):\n{text}"));
    assert_eq!(table["parallel_downloads"].as_integer(), Some(7), "{text}");
    assert_eq!(
        table["allow_private_addresses"].as_bool(),
        Some(true),
        "{text}"
    );
    // Unset keys and API keys are comments: saving them never sets "" or the mask.
    assert!(text.contains("# webhook_url = (unset)"), "{text}");
    assert!(!table.contains_key("webhook_url"), "{text}");
    assert!(
        text.contains("# sources.pexels.api_key = \"***\""),
        "{text}"
    );
    assert!(
        table["sources"]["pexels"].get("api_key").is_none(),
        "{text}"
    );

    // The saved file, read as a config file, gives every value the daemon has in force.
    let overrides = Overrides {
        config_file: Some(saved),
        ..Default::default()
    };
    let loaded = Config::load(Mode::User, &overrides, &|_| None)
        .unwrap_or_else(|e| panic!("saved output does not load ({e}):\n{text}"));
    let all = daemon.ctl_json(&["config", "get"]);
    let settings = all.as_array().expect("a list of settings");
    assert_eq!(settings.len(), Config::keys().len());
    for setting in settings {
        let key = setting["key"].as_str().unwrap();
        let value = setting["value"].as_str().unwrap();
        let expected = if key.ends_with(".api_key") { "" } else { value };
        assert_eq!(loaded.get(key).unwrap(), expected, "{key}:\n{text}");
    }
    assert_eq!(
        loaded.get("on_complete").unwrap(),
        r#"["/bin/echo","say \"hi\"","back\\slash"]"#
    );
}

#[test]
fn watch_on_an_idle_daemon_says_it_is_waiting_for_work() {
    let daemon = Daemon::start();
    // SIGINT after 2 s plays the user's Ctrl-C.
    let out = Command::new("timeout")
        .args(["-s", "INT", "2"])
        .arg(bin("vfetchctl"))
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["--no-autostart", "watch"])
        .env_remove("VFETCH_SOCKET")
        .output()
        .expect("run vfetchctl");
    assert!(
        stderr(&out).contains("no active jobs; waiting for work (Ctrl-C to leave)"),
        "{out:?}"
    );

    // On a terminal too, and not once there is work.
    let shown = ctl_on_a_terminal_for(&daemon, "watch", 2);
    assert!(
        shown.contains("no active jobs; waiting for work"),
        "{shown}"
    );
    daemon.add(&["cats", "1"]);
    let shown = ctl_on_a_terminal_for(&daemon, "watch", 2);
    assert!(!shown.contains("no active jobs"), "{shown}");
}

/// Like [`ctl_on_a_terminal`], but stopped with SIGINT after `secs` seconds; its screen.
fn ctl_on_a_terminal_for(daemon: &Daemon, args: &str, secs: u32) -> String {
    let line = format!("timeout -s INT {secs} {}", daemon.ctl_line(args));
    let out = on_a_terminal(&line, 30).output().expect("run script");
    stdout(&out)
}

#[test]
fn watch_of_an_ended_job_prints_its_end_and_exits_with_its_status() {
    let provider = FakeProvider::start();
    provider.add(video_from_fixture(
        Source::Wikimedia,
        "Harbour at dusk.mp4",
        "harbour at dusk",
        &fixtures()[0],
    ));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
    let out = daemon.ctl(&["add", "harbour", "1", "--wait"]);
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    // Cancelled at once, or failed if its search runs dry first: either way it did not succeed.
    let cancelled = daemon.add(&["nothing matches this", "1"]);
    daemon.ctl(&["cancel", &cancelled.to_string()]);
    let state = daemon.show(cancelled)["job"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(state == "cancelled" || state == "failed", "{state}");

    // Through a pipe and on a terminal: the final line, then the job's exit status.
    let out = daemon.ctl(&["watch", "1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains("job 1: done (1/1)"), "{out:?}");
    let out = daemon.ctl(&["watch", &cancelled.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).contains(&format!("job {cancelled}: {state} (0/1)")),
        "{out:?}"
    );

    let out = ctl_on_a_terminal(&daemon, "watch 1");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A whole line: a shell prompt after it starts on a line of its own.
    assert!(stdout(&out).contains("job 1: done (1/1)\r\n"), "{out:?}");
    let out = ctl_on_a_terminal(&daemon, &format!("watch {cancelled}"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains(&state), "{out:?}");
}

#[test]
fn autostart_says_how_to_stop_the_daemon_and_help_says_where_the_socket_goes() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let ctl = |args: &[&str]| {
        Command::new(bin("vfetchctl"))
            .args(args)
            .env_remove("VFETCH_SOCKET")
            .env_remove("VFETCH_NO_AUTOSTART")
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .output()
            .expect("run vfetchctl")
    };
    let out = ctl(&["status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let pid = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["pid"]
        .as_i64()
        .unwrap() as i32;
    let said = stderr(&out);
    let stopped = ctl(&["shutdown"]);
    // SAFETY: kill(pid, 0) only probes whether the process exists.
    wait_until(
        Duration::from_secs(10),
        "autostarted daemon to exit",
        || unsafe { libc::kill(pid, 0) != 0 },
    );
    assert!(stopped.status.success(), "{stopped:?}");
    assert!(
        said.contains(&format!("started vfetchd (pid {pid})")),
        "{said}"
    );
    assert!(said.contains("stop it with `vfetchctl shutdown`"), "{said}");

    for binary in ["vfetchctl", "vfetchd"] {
        let help = Command::new(bin(binary)).arg("--help").output().unwrap();
        let text = stdout(&help)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains("/tmp/vfetchd-<uid>/vfetchd.sock when XDG_RUNTIME_DIR is unset"),
            "{binary} --help:\n{text}"
        );
    }
}

/// The foreground daemon's stderr on a pseudo-terminal for about 3 s (then SIGTERM).
fn foreground_log(no_color: Option<&str>) -> String {
    let daemon = Daemon::configure("");
    let line = format!(
        "timeout -s TERM 3 {} --config {} -v",
        bin("vfetchd").display(),
        daemon.config_path.display()
    );
    let mut command = on_a_terminal(&line, 30);
    command.env_remove("RUST_LOG").env_remove("JOURNAL_STREAM");
    match no_color {
        Some(value) => command.env("NO_COLOR", value),
        None => command.env_remove("NO_COLOR"),
    };
    let out = command.output().expect("run script");
    let log = stdout(&out);
    assert!(log.contains("vfetch"), "the daemon logged nothing: {out:?}");
    log
}

#[test]
fn the_foreground_log_honours_no_color() {
    assert!(
        foreground_log(None).contains("\x1b["),
        "colours on a terminal"
    );
    // An empty NO_COLOR does not count (no-color.org).
    assert!(foreground_log(Some("")).contains("\x1b["));
    let plain = foreground_log(Some("1"));
    assert!(!plain.contains("\x1b["), "{plain:?}");
}
