//! vfetchd as a systemd service: notify protocol, watchdog, socket activation, reload, runtime
//! settings.

use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{assert_fails, bin, wait_until, Daemon};

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on our own child with a valid signal number.
    unsafe { libc::kill(pid as i32, sig) };
}

#[test]
fn notifies_ready_after_the_socket_accepts_then_status_watchdog_and_stopping() {
    let mut daemon = Daemon::configure("");
    let notify_path = daemon.dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, String, bool)>();
    let socket = daemon.socket.clone();
    let listener = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(n) = notify.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                // Checked at the moment READY arrives: the socket must already answer.
                let answering = UnixStream::connect(&socket).is_ok();
                let stop = text.contains("STOPPING=1");
                if tx.send((Instant::now(), text, answering)).is_err() || stop {
                    return;
                }
            }
        }
    });
    let mut command = daemon.command();
    command
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "400000");
    let mut child = command.spawn().unwrap();

    let mut messages = Vec::new();
    let collect_until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < collect_until {
        if let Ok(m) = rx.recv_timeout(Duration::from_millis(100)) {
            messages.push(m);
        }
    }
    let ready = messages
        .iter()
        .find(|m| m.1.contains("READY=1"))
        .expect("READY=1 sent");
    assert!(
        ready.2,
        "READY=1 came before the socket accepted connections"
    );
    assert!(
        messages.iter().any(|m| m.1.contains("STATUS=")),
        "{messages:?}"
    );
    let pings: Vec<Instant> = messages
        .iter()
        .filter(|m| m.1.contains("WATCHDOG=1"))
        .map(|m| m.0)
        .collect();
    // Every 200 ms (half of WATCHDOG_USEC) over ~2.5 s: about 12; allow a loaded machine slack.
    assert!(
        (5..=20).contains(&pings.len()),
        "{} watchdog pings",
        pings.len()
    );

    signal(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stopping = false;
    while let Ok(m) = rx.recv_timeout(Duration::from_secs(2)) {
        stopping |= m.1.contains("STOPPING=1");
    }
    assert!(stopping, "STOPPING=1 not sent on SIGTERM");
    let _ = listener.join();
    daemon.kill9();
}

#[test]
fn uses_a_socket_passed_by_systemd() {
    let daemon = Daemon::configure("");
    let activated = daemon.dir.path().join("activated.sock");
    let listener = UnixListener::bind(&activated).unwrap();
    let fd = listener.as_raw_fd();
    let log = std::fs::File::create(daemon.log_path()).unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --config \"$1\"")
        .arg(bin("vfetchd"))
        .arg(&daemon.config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    // SAFETY: dup2 is async-signal-safe; fd 3 is where sd_listen_fds expects the first socket.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    drop(listener);
    let out = (|| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new(bin("vfetchctl"))
                .args(["--no-autostart", "--socket"])
                .arg(&activated)
                .args(["status", "--json"])
                .output()
                .unwrap();
            if out.status.success() || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    assert!(
        daemon.log().contains("socket activation"),
        "{}",
        daemon.log()
    );
    assert!(
        !daemon.socket.exists(),
        "the daemon bound its own socket too"
    );
}

#[test]
fn sighup_reloads_the_file_and_a_broken_file_keeps_the_old_config() {
    let daemon = Daemon::start();
    let get = |key: &str| {
        daemon.ctl_json(&["config", "get", key])["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(get("parallel_downloads"), "4");
    let original = std::fs::read_to_string(&daemon.config_path).unwrap();
    std::fs::write(
        &daemon.config_path,
        format!("parallel_downloads = 7\n{original}"),
    )
    .unwrap();
    let pid = daemon.pid();
    signal(pid, libc::SIGHUP);
    wait_until(Duration::from_secs(10), "reloaded value", || {
        get("parallel_downloads") == "7"
    });

    std::fs::write(
        &daemon.config_path,
        format!("parallel_downloads = 0\n{original}"),
    )
    .unwrap();
    signal(pid, libc::SIGHUP);
    wait_until(
        Duration::from_secs(10),
        "the reload failure in the log",
        || daemon.log().contains("config reload failed"),
    );
    assert_eq!(get("parallel_downloads"), "7");
    assert!(
        daemon.log().contains("parallel_downloads"),
        "the log names the bad key"
    );
}

#[test]
fn runtime_settings_are_validated_applied_and_kept_across_restarts() {
    let mut daemon = Daemon::start();
    let set = daemon.ctl_json(&["config", "set", "parallel_downloads", "9"]);
    assert_eq!(set["value"], "9");
    assert_eq!(set["runtime"], true);
    assert_eq!(daemon.ctl_json(&["status"])["parallel_downloads"], 9);

    assert_fails(
        &daemon.ctl(&["config", "set", "parallel_downloads", "99"]),
        4,
        "between 1 and 32",
    );
    assert_fails(
        &daemon.ctl(&["config", "set", "socket", "/tmp/x.sock"]),
        4,
        "restart",
    );
    assert_fails(
        &daemon.ctl(&["config", "set", "no_such_key", "1"]),
        4,
        "unknown key",
    );
    assert_fails(
        &daemon.ctl(&["config", "get", "no_such_key"]),
        4,
        "unknown key",
    );

    daemon.ctl_json(&[
        "config",
        "set",
        "sources.pexels.api_key",
        "RUNTIME-SECRET-77",
    ]);
    let key = daemon.ctl_json(&["config", "get", "sources.pexels.api_key"]);
    assert_eq!(key["value"], "***");

    daemon.kill9();
    daemon.spawn();
    let all = daemon.ctl_json(&["config", "get"]);
    let find = |k: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == k)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("parallel_downloads")["value"], "9");
    assert_eq!(find("sources.pexels.api_key")["value"], "***");

    let unset = daemon.ctl_json(&["config", "unset", "parallel_downloads"]);
    assert_eq!(unset["value"], "4");
    assert_eq!(unset["runtime"], false);
    assert!(
        !daemon.log().contains("RUNTIME-SECRET-77"),
        "the key leaked into the log"
    );
}

#[test]
fn a_log_file_is_written_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let daemon = Daemon::start_with(&format!("log_file = {:?}\n", logs.join("vfetchd.log")));
    daemon.ctl_json(&["status"]);
    wait_until(Duration::from_secs(5), "a log file", || {
        std::fs::read_dir(&logs).unwrap().any(|e| {
            let path = e.unwrap().path();
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vfetchd.log")
                && std::fs::read_to_string(&path)
                    .unwrap_or_default()
                    .contains("vfetchd ready")
        })
    });
}
