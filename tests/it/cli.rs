//! vfetchctl's contract with users and scripts: errors, exit codes, autostart, versions.

use std::process::Command;
use std::time::Duration;

use crate::support::{assert_fails, bin, wait_until, Daemon};

#[test]
fn bad_input_is_refused_with_a_clear_error_and_nothing_is_written() {
    let daemon = Daemon::start();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["add", "", "3"], 2, "theme is empty"),
        (&["add", "   ", "3"], 2, "theme is empty"),
        (&["add", &"x".repeat(201), "3"], 2, "maximum is 200"),
        (&["add", "bell\u{7}ring", "3"], 2, "control character"),
        (&["add", "ocean", "0"], 2, "at least 1"),
        (&["add", "ocean", "-3"], 2, "at least 1"),
        (&["add", "ocean", "1001"], 2, "maximum of 1000"),
        (&["add", "ocean", "many"], 2, "invalid value"),
        (
            &["add", "ocean", "3", "--quality", "8k"],
            2,
            "unknown quality",
        ),
        (
            &["add", "ocean", "3", "--orientation", "round"],
            2,
            "unknown orientation",
        ),
        (
            &["add", "ocean", "3", "--source", "flickr"],
            2,
            "unknown source",
        ),
        (
            &[
                "add",
                "ocean",
                "3",
                "--min-duration",
                "30",
                "--max-duration",
                "5",
            ],
            2,
            "greater than max",
        ),
        (
            &["add", "ocean", "3", "--source", "pexels"],
            4,
            "no API key",
        ),
        (&["show", "999"], 4, "no job with id 999"),
        (&["pause", "999"], 4, "no job with id 999"),
        (&["cancel", "999"], 4, "no job with id 999"),
        (&["priority", "999", "3"], 4, "no job with id 999"),
        (&["show", "abc"], 2, "invalid job id"),
        (&["pause"], 2, "required"),
    ];
    for (args, code, needle) in cases {
        let out = daemon.ctl(args);
        assert_fails(&out, *code, needle);
        let lines = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.is_empty())
            .count();
        if *code == 4 {
            assert_eq!(
                lines,
                1,
                "refusals are one line: {:?}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert_eq!(
        daemon.ctl_json(&["list"]),
        serde_json::json!([]),
        "nothing may be written"
    );
}

#[test]
fn unreachable_daemon_has_its_own_exit_status() {
    let daemon = Daemon::configure("");
    let out = daemon.ctl(&["status"]);
    assert_fails(&out, 3, "cannot reach vfetchd");
}

#[test]
fn versions_are_printed_by_both_binaries_and_status() {
    for name in ["vfetchd", "vfetchctl"] {
        let out = Command::new(bin(name))
            .arg("--version")
            .output()
            .expect("run");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{name}: {text}");
    }
    let daemon = Daemon::start();
    let status = daemon.ctl_json(&["status"]);
    assert_eq!(status["daemon_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        status["protocol_version"],
        vfetch::protocol::PROTOCOL_VERSION
    );
    assert_eq!(status["jobs"]["queued"], 0);
    assert_eq!(status["socket"], daemon.socket.display().to_string());
    let pexels = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "pexels")
        .unwrap();
    assert_eq!(pexels["state"], "disabled");
    assert_eq!(pexels["reason"], "no API key");
}

#[test]
fn status_starts_a_user_daemon_when_none_is_running() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let env = [
        ("HOME", home.path().to_path_buf()),
        ("XDG_RUNTIME_DIR", runtime.clone()),
        ("XDG_STATE_HOME", home.path().join("state")),
        ("XDG_CONFIG_HOME", home.path().join("config")),
    ];
    let ctl = |args: &[&str]| {
        let mut command = Command::new(bin("vfetchctl"));
        command
            .args(args)
            .env_remove("VFETCH_SOCKET")
            .env_remove("VFETCH_NO_AUTOSTART");
        for (k, v) in &env {
            command.env(k, v);
        }
        command.output().expect("run vfetchctl")
    };

    let out = ctl(&["--no-autostart", "status"]);
    assert_fails(&out, 3, "--no-autostart");

    let out = ctl(&["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("started vfetchd"));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let socket = runtime.join("vfetchd.sock");
    assert_eq!(status["socket"], socket.display().to_string());
    let pid = status["pid"].as_i64().unwrap() as i32;
    assert!(home.path().join("state/vfetchd/vfetchd.log").exists());
    assert!(home.path().join("state/vfetchd/vfetch.db").exists());

    // The second call finds the running daemon instead of starting another.
    let again = ctl(&["status", "--json"]);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("started vfetchd"));

    let out = ctl(&["shutdown"]);
    assert!(out.status.success());
    // SAFETY: kill(pid, 0) only probes whether the process exists.
    wait_until(
        Duration::from_secs(10),
        "autostarted daemon to exit",
        || unsafe { libc::kill(pid, 0) != 0 },
    );
    assert!(!socket.exists(), "socket is removed on graceful stop");
}
