//! A hostile world: clients that connect and sit idle by the thousand, a daemon that accepts and
//! never answers, client and provider text that tries to forge log lines or take over the
//! terminal, and hooks that would like to read the API keys.

use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::fake_provider::{fixtures, video_from_fixture, FakeProvider, Source};
use crate::support::frames::{connect, handshake, read_frame, read_response, write_frame};
use crate::support::{bin, sources_config, wait_until, Daemon};
use vfetch::protocol::{self, Hello, HelloReply, Request, Response, PROTOCOL_VERSION};

/// Raises this test process's soft open-files limit to at least `needed` (within the hard one).
fn raise_own_open_files(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < needed {
            limit.rlim_cur = limit.rlim_max.min(needed.max(limit.rlim_cur));
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(
        limit.rlim_cur >= needed,
        "this test needs {needed} open files; the hard limit is {}",
        limit.rlim_max
    );
}

/// Descriptors the process `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Runs `command` to completion, failing the test (and killing it) if it takes over `limit`.
fn run_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{command:?} still running after {limit:?}; stderr so far: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ctl_command(daemon: &Daemon, args: &[&str]) -> Command {
    let mut command = Command::new(bin("vfetchctl"));
    command
        .arg("--config")
        .arg(&daemon.config_path)
        .arg("--no-autostart")
        .args(args)
        .env_remove("VFETCH_SOCKET");
    command
}

fn send_hello(stream: &mut UnixStream, client_version: &str, protocol_version: u32) {
    let hello = Hello {
        protocol_version,
        client_version: client_version.into(),
    };
    write_frame(stream, &protocol::encode(&hello).expect("encode"));
}

/// Opens a connection that completes the handshake and subscribes to every event.
fn subscriber(daemon: &Daemon) -> UnixStream {
    let mut stream = handshake(&daemon.socket);
    write_frame(
        &mut stream,
        &protocol::encode(&Request::Subscribe { job: None }).expect("encode"),
    );
    assert_eq!(read_response(&mut stream), Some(Response::Subscribed));
    stream
}

/// Whether the peer closed `stream`, looking for at most `wait`; frames that arrive meanwhile
/// (events) are read and ignored.
fn closed_within(stream: &mut UnixStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => return true,
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn thousands_of_idle_clients_neither_lock_out_vfetchctl_nor_exhaust_descriptors() {
    const CLIENTS: usize = 2000;
    const LIMIT: usize = 50;
    raise_own_open_files(CLIENTS as u64 + 512);
    // The idle timeout stays at its default of a minute: only the cap can make this pass.
    let daemon = Daemon::start_with(&format!("max_connections = {LIMIT}\n"));
    let pid = daemon.pid();
    let baseline = open_fds(pid);
    let mut idle = Vec::with_capacity(CLIENTS);
    let mut most = baseline;
    for i in 0..CLIENTS {
        let mut stream = UnixStream::connect(&daemon.socket).expect("connect");
        send_hello(&mut stream, "idle", PROTOCOL_VERSION);
        idle.push(stream);
        if i % 50 == 0 {
            most = most.max(open_fds(pid));
        }
    }
    // A person's vfetchctl still gets through, while all of them are connected.
    let out = run_within(
        &mut ctl_command(&daemon, &["status", "--json"]),
        Duration::from_secs(20),
    );
    assert!(
        out.status.success(),
        "status failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    most = most.max(open_fds(pid));
    // Room for the cap, a few "busy" answers in flight and the odd descriptor of the daemon's own.
    let bound = baseline + LIMIT + 24;
    println!("daemon descriptors: {baseline} idle, at most {most} with {CLIENTS} clients (bound {bound})");
    assert!(
        most <= bound,
        "the daemon held {most} descriptors with {CLIENTS} idle clients (baseline {baseline}, cap {LIMIT})"
    );
    drop(idle);
}

#[test]
fn idle_clients_are_closed_after_the_timeout_but_subscribers_are_not() {
    let daemon = Daemon::start_with("client_idle_timeout_secs = 1\n");
    let mut watcher = subscriber(&daemon);
    let mut idle = handshake(&daemon.socket);
    assert!(
        closed_within(&mut idle, Duration::from_secs(15)),
        "an idle client was never closed"
    );
    // Well past the timeout, the subscriber is still there and still gets events.
    assert!(
        !closed_within(&mut watcher, Duration::from_secs(3)),
        "the subscriber was closed as idle"
    );
    let id = daemon.add(&["still watching", "1"]);
    watcher
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut seen = false;
    for _ in 0..50 {
        match read_response(&mut watcher) {
            Some(Response::Event(vfetch::protocol::Event::Job(job))) if job.id.0 == id => {
                seen = true;
                break;
            }
            Some(_) => continue,
            None => break,
        }
    }
    assert!(seen, "the subscriber got no event for job {id}");
}

#[test]
fn a_full_daemon_tells_a_newcomer_it_is_busy() {
    let daemon = Daemon::start_with("max_connections = 2\n");
    // Subscribers are never closed to make room.
    let _watchers = [subscriber(&daemon), subscriber(&daemon)];
    let out = run_within(
        &mut ctl_command(&daemon, &["status"]),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("busy") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    // The raw frame is a handshake reply any client version can decode.
    let mut raw = connect(&daemon.socket);
    send_hello(&mut raw, "raw", PROTOCOL_VERSION);
    let reply: HelloReply = protocol::decode(&read_frame(&mut raw).expect("a reply")).unwrap();
    assert!(matches!(reply, HelloReply::Busy { .. }), "{reply:?}");
}

#[test]
fn vfetchctl_gives_up_on_a_socket_that_accepts_but_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mute.sock");
    let listener = UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok((stream, _)) = listener.accept() {
                    held.push(stream);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let out = run_within(
        Command::new(bin("vfetchctl"))
            .arg("--socket")
            .arg(&path)
            .arg("--no-autostart")
            .arg("status"),
        Duration::from_secs(30),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = acceptor.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("vfetchctl gave up after {:?}: {stderr}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(stderr.contains("did not answer"), "{stderr}");
}

#[test]
fn the_daemon_raises_its_soft_open_files_limit_to_the_hard_one() {
    let mut daemon = Daemon::configure("");
    let mut command = daemon.command();
    // SAFETY: the closure runs in the forked child before exec and only calls setrlimit, which
    // is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur = limit.rlim_max.min(256);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
            Ok(())
        });
    }
    daemon.spawn_command(command);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", daemon.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("open files line");
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers.len(), 2, "{line}");
    assert_eq!(numbers[0], numbers[1], "soft limit not raised: {line}");
}

#[test]
fn a_forged_client_version_cannot_forge_log_lines() {
    let daemon = Daemon::start();
    let mut stream = connect(&daemon.socket);
    send_hello(
        &mut stream,
        "1.0\n2026-01-01T00:00:00Z ERROR forged\x1b[2J\u{9b}2J\u{202e}",
        999,
    );
    let _ = read_frame(&mut stream);
    wait_until(Duration::from_secs(10), "the refusal in the log", || {
        daemon
            .log()
            .contains("refused client speaking another protocol")
    });
    let log = daemon.log();
    assert!(!log.contains('\x1b'), "raw ESC in the log:\n{log}");
    assert!(!log.contains('\u{9b}'), "raw CSI in the log:\n{log}");
    assert!(
        !log.contains('\u{202e}'),
        "raw bidi override in the log:\n{log}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line:\n{log}"
    );
    assert!(
        log.contains("forged\\x1b[2J"),
        "escaped form missing:\n{log}"
    );
}

/// Title, author and tag of a provider that would like to take over the user's terminal.
const HOSTILE: &str = "evil\x1b[2J\x1b]0;pwned\x07 nul\0here \u{202e}4pm.exe";

fn hostile_library() -> (FakeProvider, Daemon) {
    let provider = FakeProvider::start();
    let mut video = video_from_fixture(Source::Archive, "hostile-0", "hostile", &fixtures()[0]);
    video.title = format!("hostile {HOSTILE}");
    video.author = HOSTILE.to_string();
    provider.add(video);
    let daemon = Daemon::for_provider(&provider, &["archive"], "retry_base_ms = 50\n");
    let out = daemon.ctl(&["add", "hostile", "1", "--wait"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    (provider, daemon)
}

/// Runs `vfetchctl <args>` with a pseudo-terminal as its stdout (through util-linux `script`).
fn on_a_terminal(daemon: &Daemon, args: &str) -> String {
    let out = crate::support::on_a_terminal(&daemon.ctl_line(args), 30)
        .output()
        .expect("run script");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn exports_neutralise_escapes_on_a_terminal_and_keep_data_in_files() {
    let (_provider, daemon) = hostile_library();

    let file = daemon.dir.path().join("export.csv");
    let out = daemon.ctl(&["export", "--format", "csv", "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains('\0'), "NUL in the file");
    assert!(
        text.contains("evil\x1b[2J\x1b]0;pwned\x07 nulhere \u{202e}4pm.exe"),
        "the file must keep the data (minus NUL): {text:?}"
    );

    let csv = on_a_terminal(&daemon, "export --format csv");
    assert!(csv.contains("hostile evil"), "{csv:?}");
    for bad in ['\x1b', '\u{202e}', '\u{7}', '\0'] {
        assert!(!csv.contains(bad), "{bad:?} reached the terminal: {csv:?}");
    }
    assert!(csv.contains("\\x1b[2J"), "no visible escape: {csv:?}");

    let json = on_a_terminal(&daemon, "export");
    for bad in ['\x1b', '\u{202e}', '\u{7}', '\0'] {
        assert!(
            !json.contains(bad),
            "{bad:?} reached the terminal: {json:?}"
        );
    }
    // Escaped the JSON way, so the data is still all there for whoever parses it.
    let records: serde_json::Value = serde_json::from_str(&json.replace("\r\n", "\n")).unwrap();
    assert_eq!(records[0]["author_name"], HOSTILE, "{json}");

    // A pipe is not a terminal: faithful data, minus NUL.
    let piped = daemon.ctl(&["export", "--format", "csv"]);
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(
        piped.contains("evil\x1b[2J") && !piped.contains('\0'),
        "{piped:?}"
    );
}

#[test]
fn hooks_get_a_clean_environment_without_api_keys() {
    let provider = FakeProvider::start();
    provider.add(video_from_fixture(
        Source::Wikimedia,
        "hooked env 0.mp4",
        "hooked env 0",
        &fixtures()[0],
    ));
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("env.txt");
    let mut daemon = Daemon::configure(&format!(
        "on_complete = [\"/bin/sh\", \"-c\", \"env > {}\"]\n{}",
        dump.display(),
        sources_config(&provider.base_url(), &["wikimedia"], "", "")
    ));
    let mut command = daemon.command();
    command
        .env("PEXELS_API_KEY", "pexels-secret-123")
        .env("VFETCH_SOURCES_PIXABAY_API_KEY", "pixabay-secret-456")
        .env("DATABASE_PASSWORD", "hunter2");
    daemon.spawn_command(command);
    let result = daemon.ctl(&["add", "hooked env", "1", "--wait"]);
    assert!(result.status.success(), "{}", daemon.log());
    wait_until(Duration::from_secs(10), "the hook's dump", || {
        std::fs::read_to_string(&dump).is_ok_and(|t| t.contains("VFETCH_BYTES="))
    });
    let env = std::fs::read_to_string(&dump).unwrap();
    for secret in [
        "pexels-secret-123",
        "pixabay-secret-456",
        "hunter2",
        "VFETCH_SOURCES_",
    ] {
        assert!(!env.contains(secret), "{secret} reached the hook:\n{env}");
    }
    for wanted in [
        "PATH=",
        "HOME=",
        "VFETCH_SHA256=",
        "VFETCH_PATH=",
        "VFETCH_THEME=hooked env",
    ] {
        assert!(
            env.lines().any(|l| l.starts_with(wanted)),
            "{wanted} missing:\n{env}"
        );
    }
}
