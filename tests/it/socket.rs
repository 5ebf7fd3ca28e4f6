//! The socket: one daemon per socket, stale sockets, permissions, and abuse that must not hurt.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::frames::{
    self, connect, handshake, is_closed, read_frame, read_response, write_frame,
};
use crate::support::{wait_until, Daemon};
use vfetch::protocol::{self, ErrorKind, Hello, HelloReply, Request, Response, MAX_FRAME_BYTES};

/// The daemon still answers a normal client.
fn still_serving(daemon: &Daemon) {
    let status = daemon.ctl_json(&["status"]);
    assert_eq!(status["daemon_version"], env!("CARGO_PKG_VERSION"));
}

fn expect_protocol_error(stream: &mut std::os::unix::net::UnixStream) {
    match read_response(stream) {
        Some(Response::Error(e)) => assert_eq!(e.kind, ErrorKind::Protocol, "{e:?}"),
        other => panic!("expected a protocol error frame, got {other:?}"),
    }
    assert!(
        is_closed(stream),
        "connection must be closed after a protocol error"
    );
}

#[test]
fn socket_is_private_to_its_owner() {
    let daemon = Daemon::start();
    let mode = std::fs::metadata(&daemon.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(daemon.socket.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn a_second_daemon_on_the_same_socket_refuses_to_start() {
    let daemon = Daemon::start();
    let out = daemon.command().output().expect("run second vfetchd");
    assert!(!out.status.success());
    let log = daemon.log();
    assert!(
        log.contains("already") && (log.contains("answering") || log.contains("state directory")),
        "second daemon must say why:\n{log}"
    );
    still_serving(&daemon);

    // Same socket, different state dir: the socket check itself refuses.
    let other_state = daemon.dir.path().join("other-state");
    let mut second = daemon.command();
    second.arg("--state-dir").arg(&other_state);
    let out = second.output().expect("run");
    assert!(!out.status.success());
    assert!(
        daemon
            .log()
            .contains("another vfetchd is already answering"),
        "{}",
        daemon.log()
    );
    still_serving(&daemon);
}

#[test]
fn a_stale_socket_left_by_a_killed_daemon_is_replaced() {
    let mut daemon = Daemon::start();
    let id = daemon.add(&["stale", "1"]);
    daemon.kill9();
    assert!(
        crate::support::exists(&daemon.socket),
        "kill -9 leaves the socket file behind"
    );
    daemon.spawn();
    assert_eq!(daemon.show(id)["job"]["theme"], "stale");
    assert!(daemon.log().contains("replacing stale socket"));
}

#[test]
fn random_bytes_close_only_that_connection() {
    let daemon = Daemon::start();
    let mut stream = connect(&daemon.socket);
    // A length of 0x00000005 followed by garbage that is not a Hello.
    stream
        .write_all(&[0, 0, 0, 5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb])
        .unwrap();
    expect_protocol_error(&mut stream);
    still_serving(&daemon);
}

#[test]
fn an_oversized_length_prefix_is_refused_without_allocating() {
    let daemon = Daemon::start();
    let mut stream = handshake(&daemon.socket);
    let too_big = (MAX_FRAME_BYTES as u32 + 1).to_be_bytes();
    stream.write_all(&too_big).unwrap();
    expect_protocol_error(&mut stream);

    let mut raw = connect(&daemon.socket);
    raw.write_all(&u32::MAX.to_be_bytes()).unwrap();
    expect_protocol_error(&mut raw);
    still_serving(&daemon);
}

#[test]
fn a_truncated_frame_closes_the_connection() {
    let daemon = Daemon::start();
    let mut stream = handshake(&daemon.socket);
    stream.write_all(&100u32.to_be_bytes()).unwrap();
    stream.write_all(&[1, 2, 3]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    // Whatever the daemon says (an error frame or nothing), it closes and keeps serving.
    let _ = read_frame(&mut stream);
    assert!(is_closed(&mut stream));
    still_serving(&daemon);
}

#[test]
fn an_unknown_request_variant_is_a_protocol_error() {
    let daemon = Daemon::start();
    let mut stream = handshake(&daemon.socket);
    // Variant index 200 does not exist in `Request`.
    write_frame(&mut stream, &[200]);
    expect_protocol_error(&mut stream);
    still_serving(&daemon);
}

#[test]
fn a_valid_request_with_bad_values_is_refused_by_the_daemon_too() {
    let daemon = Daemon::start();
    let mut stream = handshake(&daemon.socket);
    let bad = Request::Add(vfetch::job::NewJob {
        theme: " \t ".into(),
        count: 0,
        priority: 0,
        options: Default::default(),
    });
    write_frame(&mut stream, &protocol::encode(&bad).unwrap());
    match read_response(&mut stream) {
        Some(Response::Error(e)) => assert_eq!(e.kind, ErrorKind::BadRequest),
        other => panic!("expected bad request, got {other:?}"),
    }
    // The connection stays usable after a refused request.
    write_frame(&mut stream, &protocol::encode(&Request::Status).unwrap());
    assert!(matches!(
        read_response(&mut stream),
        Some(Response::Status(_))
    ));
    assert_eq!(daemon.ctl_json(&["list"]), serde_json::json!([]));
}

#[test]
fn a_wrong_protocol_version_names_both_versions() {
    let daemon = Daemon::start();
    let mut stream = connect(&daemon.socket);
    let hello = Hello {
        protocol_version: 999,
        client_version: "9.9.9".into(),
    };
    write_frame(&mut stream, &protocol::encode(&hello).unwrap());
    let reply: HelloReply = protocol::decode(&read_frame(&mut stream).unwrap()).unwrap();
    match reply {
        HelloReply::VersionMismatch {
            daemon_protocol_version,
            message,
            ..
        } => {
            assert_eq!(daemon_protocol_version, protocol::PROTOCOL_VERSION);
            assert!(
                message.contains("999")
                    && message.contains(&protocol::PROTOCOL_VERSION.to_string()),
                "{message}"
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(is_closed(&mut stream));
    still_serving(&daemon);
}

#[test]
fn a_silent_client_neither_blocks_others_nor_lives_forever() {
    let daemon = Daemon::start();
    let mut silent = connect(&daemon.socket);
    still_serving(&daemon);
    silent
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = std::time::Instant::now();
    // The daemon gives up on a client that never says Hello.
    let _ = frames::read_frame(&mut silent);
    assert!(is_closed(&mut silent));
    assert!(
        started.elapsed() < Duration::from_secs(19),
        "silent client was never dropped"
    );
    still_serving(&daemon);
}

#[test]
fn sigterm_and_shutdown_both_stop_the_daemon_cleanly() {
    let mut daemon = Daemon::start();
    assert_eq!(daemon.terminate().code(), Some(0));
    assert!(!crate::support::exists(&daemon.socket));
    daemon.spawn();
    let out = daemon.ctl(&["shutdown"]);
    assert!(out.status.success());
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0));
    wait_until(Duration::from_secs(5), "socket removal", || {
        !crate::support::exists(&daemon.socket)
    });
}

#[test]
fn state_changes_are_logged_with_the_peer_credentials() {
    let daemon = Daemon::start();
    let id = daemon.add(&["who did this", "1"]);
    daemon.ctl_json(&["pause", &id.to_string()]);
    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("Pause("))
        .expect("pause request logged");
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    assert!(
        line.contains(&format!("uid={uid}")) && line.contains("pid="),
        "{line}"
    );
}
