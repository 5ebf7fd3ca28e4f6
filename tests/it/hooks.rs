//! Completion hooks: a program and a webhook per finished download, with timeouts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::fake_provider::{
    fixtures, sha256_hex, video_from_fixture, FakeProvider, Source,
};
use crate::support::{wait_until, Daemon};
use serde_json::Value;

fn provider_with(n: usize, theme: &str) -> FakeProvider {
    let provider = FakeProvider::start();
    for i in 0..n {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("{theme} {i}.mp4"),
            &format!("{theme} {i}"),
            &fixtures()[i],
        ));
    }
    provider
}

#[test]
fn the_program_gets_the_download_as_json_and_in_its_environment() {
    let provider = provider_with(2, "hooked");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().display().to_string();
    let hooks = format!(
        "on_complete = [\"/bin/sh\", \"-c\", \"cat > {dir}/$VFETCH_DOWNLOAD_ID.json; printf %s \\\"$VFETCH_SHA256\\\" > {dir}/$VFETCH_DOWNLOAD_ID.sha\"]\n"
    );
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], &hooks);
    let result = daemon.ctl(&["add", "hooked", "2", "--wait"]);
    assert!(result.status.success(), "{}", daemon.log());
    wait_until(Duration::from_secs(10), "both hooks", || {
        std::fs::read_dir(out.path()).unwrap().count() == 4
    });
    let served: Vec<String> = fixtures()[..2]
        .iter()
        .map(|f| sha256_hex(&f.data))
        .collect();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(json["theme"], "hooked");
            assert_eq!(json["source"], "wikimedia");
            let sha = json["sha256"].as_str().unwrap();
            assert!(served.contains(&sha.to_string()));
            assert!(std::path::Path::new(json["path"].as_str().unwrap()).exists());
            let env_sha = std::fs::read_to_string(path.with_extension("sha")).unwrap();
            assert_eq!(env_sha, sha);
        }
    }
}

#[test]
fn a_hanging_hook_is_killed_after_its_timeout() {
    let provider = provider_with(1, "hanging");
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia"],
        "on_complete = [\"/bin/sleep\", \"107.25\"]\nhook_timeout_secs = 1\n",
    );
    assert!(daemon
        .ctl(&["add", "hanging", "1", "--wait"])
        .status
        .success());
    wait_until(Duration::from_secs(10), "the timeout in the log", || {
        daemon.log().contains("timed out and was killed")
    });
    let still = std::process::Command::new("pgrep")
        .args(["-f", "sleep 107.25"])
        .output();
    if let Ok(still) = still {
        assert!(still.stdout.is_empty(), "the hook is still running");
    }
    // The daemon is fine.
    assert!(daemon.ctl(&["status"]).status.success());
}

#[test]
fn the_webhook_receives_the_post() {
    let provider = provider_with(1, "posted");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = Vec::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            head.push(line);
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let _ = tx.send((head, body));
    });
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia"],
        &format!("webhook_url = \"{url}\"\n"),
    );
    assert!(daemon
        .ctl(&["add", "posted", "1", "--wait"])
        .status
        .success());
    let (head, body) = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the webhook was called");
    assert!(head[0].starts_with("POST /hook"), "{head:?}");
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["sha256"], sha256_hex(&fixtures()[0].data));
    assert_eq!(json["theme"], "posted");
}
