//! Server-side request forgery: a provider's answer that links (or redirects) to loopback,
//! link-local or other internal addresses is refused without a connection, the candidate is
//! dropped with a note, and the job completes from its other candidates — unless the user
//! turned the guard off with `allow_private_addresses = true`.
//!
//! Every daemon here runs with `validate = "off"`, so nothing but the guard stands between an
//! internal answer and the library.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::support::fake_provider::{sha256_hex, FakeProvider, Source, Video};
use crate::support::{wait_until, Daemon};

/// What the "internal admin" service answers: not a fixture, so it is recognisable anywhere.
const INTERNAL_BODY: &[u8] = b"internal admin secrets, served as if they were a video";

/// A service on 127.0.0.1 that only the daemon's machine can reach: counts connections and
/// answers every request with [`INTERNAL_BODY`] as `video/mp4`.
struct Internal {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Internal {
    fn start() -> Internal {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind internal service");
        let port = listener.local_addr().expect("internal address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (Arc::clone(&connections), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                answer(stream);
            }
        });
        Internal {
            port,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            INTERNAL_BODY.len()
        )
        .as_bytes(),
    );
    let _ = stream.write_all(INTERNAL_BODY);
}

impl Drop for Internal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let woke = TcpStream::connect(("127.0.0.1", self.port)).is_ok();
        if let (true, Some(thread)) = (woke, self.thread.take()) {
            let _ = thread.join();
        }
    }
}

/// Three Pexels results for "sunset"; the first (best ranked, so tried first) links to `link`.
fn provider_with_bad_first(link: impl FnOnce(&FakeProvider) -> String) -> (FakeProvider, Video) {
    let provider = FakeProvider::start();
    let videos = provider.add_fixtures(Source::Pexels, "sunset", 3);
    let bad = videos[0].clone();
    let target = link(&provider);
    provider.set_link(&bad, &target);
    (provider, bad)
}

fn daemon(provider: &FakeProvider, extra: &str) -> Daemon {
    // One counted failure opens the breaker for ten minutes, so a refusal that counted against
    // the source would show (see the end of config_set_turns_the_guard_off_and_on_…).
    Daemon::for_provider(
        provider,
        &["pexels"],
        &format!(
            "validate = \"off\"\nretry_base_ms = 50\nbreaker_failures = 1\n\
             breaker_recovery_secs = 600\n{extra}"
        ),
    )
}

/// Adds a job for two "sunset" videos and waits until it is done or failed.
fn run_job(daemon: &Daemon) -> Value {
    let id = daemon.add(&["sunset", "2"]);
    let mut shown = Value::Null;
    wait_until(Duration::from_secs(60), "the job to finish", || {
        shown = daemon.show(id);
        matches!(shown["job"]["state"].as_str(), Some("done" | "failed"))
    });
    shown
}

fn download_of<'a>(shown: &'a Value, video: &Video) -> &'a Value {
    shown["downloads"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["source_id"] == video.id.as_str()))
        .unwrap_or_else(|| panic!("no download of {} in {shown:#}", video.id))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn internal_answer_in_library(daemon: &Daemon) -> bool {
    let internal = sha256_hex(INTERNAL_BODY);
    files(&daemon.dir.path().join("library"))
        .iter()
        .any(|f| std::fs::read(f).is_ok_and(|b| sha256_hex(&b) == internal))
}

/// The refused candidate failed with `note` in its error, nothing internal was stored, and the
/// job still finished from the two good candidates.
fn assert_refused(daemon: &Daemon, shown: &Value, bad: &Video, note: &[&str]) {
    let refused = download_of(shown, bad);
    assert_eq!(refused["error"]["kind"], "refused_address", "{refused:#}");
    let error = refused["error"]["message"].as_str().unwrap_or("");
    assert_eq!(
        refused["state"],
        "failed",
        "{refused:#}\nlog:\n{}",
        daemon.log()
    );
    assert!(
        error.starts_with("refused: the link points to"),
        "error: {error:?}"
    );
    for part in note {
        assert!(error.contains(part), "{part:?} missing from {error:?}");
    }
    // Refused once, not retried.
    assert_eq!(refused["attempts"].as_u64(), Some(1), "{refused:#}");
    assert!(
        !internal_answer_in_library(daemon),
        "internal answer stored"
    );
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let done = shown["downloads"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["state"] == "done").count())
        .unwrap_or(0);
    assert_eq!(done, 2, "{shown:#}");
}

#[test]
fn a_link_to_a_loopback_port_is_refused_and_the_job_moves_on() {
    let internal = Internal::start();
    let (provider, bad) = provider_with_bad_first(|_| internal.url("127.0.0.1", "/internal-admin"));
    let daemon = daemon(&provider, "");
    let shown = run_job(&daemon);
    println!(
        "internal connections: {}; refused download: {}",
        internal.connections(),
        download_of(&shown, &bad)
    );
    assert_eq!(
        internal.connections(),
        0,
        "the internal service was reached"
    );
    assert_refused(&daemon, &shown, &bad, &["127.0.0.1", "a loopback address"]);
    // The key-bearing URL is not in the log; the host is.
    assert!(daemon
        .log()
        .contains("refused: the link points to 127.0.0.1"));
}

#[test]
fn a_redirect_from_the_trusted_origin_to_an_internal_address_is_refused_at_the_hop() {
    let internal = Internal::start();
    let (provider, bad) = provider_with_bad_first(|p| format!("{}/hop/sunset.mp4", p.base_url()));
    provider.redirect(
        "/hop/sunset.mp4",
        &internal.url("127.0.0.1", "/internal-admin"),
    );
    let daemon = daemon(&provider, "");
    let shown = run_job(&daemon);
    assert_eq!(
        provider.requests_to("/hop/sunset.mp4").len(),
        1,
        "the first hop is on the trusted origin and is asked once"
    );
    assert_eq!(internal.connections(), 0, "the redirect was followed");
    assert_refused(&daemon, &shown, &bad, &["127.0.0.1", "a loopback address"]);
}

#[test]
fn a_name_that_resolves_to_loopback_is_refused() {
    let internal = Internal::start();
    let (provider, bad) = provider_with_bad_first(|_| internal.url("localhost", "/x"));
    let daemon = daemon(&provider, "");
    let shown = run_job(&daemon);
    assert_eq!(internal.connections(), 0, "localhost was connected to");
    assert_refused(
        &daemon,
        &shown,
        &bad,
        &["localhost (", "a loopback address"],
    );
}

#[test]
fn the_cloud_metadata_address_is_refused_without_a_connection_attempt() {
    // 169.254.169.254 answers nothing here: a connection attempt would end in a network error
    // (and retries), not in the refusal note.
    let (provider, bad) =
        provider_with_bad_first(|_| "http://169.254.169.254/latest/meta-data/".to_string());
    let daemon = daemon(&provider, "connect_timeout_secs = 2\ndownload_tries = 2\n");
    let shown = run_job(&daemon);
    assert_refused(
        &daemon,
        &shown,
        &bad,
        &["169.254.169.254", "a link-local address"],
    );
}

#[test]
fn a_search_redirected_to_an_internal_address_is_refused_and_not_retried() {
    let internal = Internal::start();
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Pexels, "sunset", 2);
    provider.redirect(
        "/videos/search",
        &internal.url("127.0.0.1", "/internal-admin"),
    );
    let daemon = daemon(&provider, "");
    let shown = run_job(&daemon);
    assert_eq!(
        internal.connections(),
        0,
        "the search redirect was followed"
    );
    assert_eq!(
        provider.requests_to("/videos/search").len(),
        1,
        "a refused search is not retried"
    );
    let errors = shown["job"]["errors"].to_string();
    assert!(
        errors.contains("pexels: refused: the link points to 127.0.0.1, a loopback address"),
        "{shown:#}"
    );
}

#[test]
fn allow_private_addresses_lets_the_same_link_through() {
    let internal = Internal::start();
    let (provider, bad) = provider_with_bad_first(|_| internal.url("127.0.0.1", "/internal-admin"));
    let daemon = daemon(&provider, "allow_private_addresses = true\n");
    let shown = run_job(&daemon);
    assert!(internal.connections() >= 1, "{shown:#}");
    let reached = download_of(&shown, &bad);
    assert_eq!(reached["state"], "done", "{reached:#}");
    assert!(internal_answer_in_library(&daemon));
}

#[test]
fn config_set_turns_the_guard_off_and_on_while_the_daemon_runs() {
    let internal = Internal::start();
    let (provider, bad) = provider_with_bad_first(|_| internal.url("127.0.0.1", "/internal-admin"));
    let daemon = daemon(&provider, "");
    let set = |value: &str| {
        let out = daemon.ctl(&["config", "set", "allow_private_addresses", value]);
        assert!(out.status.success(), "{out:?}");
    };
    set("true");
    let shown = run_job(&daemon);
    assert_eq!(download_of(&shown, &bad)["state"], "done", "{shown:#}");
    let reached = internal.connections();
    assert!(reached >= 1);

    set("false");
    let more = provider.add_fixtures(Source::Pexels, "harbour", 1);
    // Another path: the daemon skips links it has already downloaded.
    provider.set_link(&more[0], &internal.url("127.0.0.1", "/internal-admin/2"));
    let id = daemon.add(&["harbour", "1"]);
    let mut shown = Value::Null;
    wait_until(Duration::from_secs(60), "the harbour job to end", || {
        shown = daemon.show(id);
        matches!(shown["job"]["state"].as_str(), Some("done" | "failed"))
    });
    let refused = download_of(&shown, &more[0]);
    assert_eq!(refused["state"], "failed", "{refused:#}");
    assert_eq!(
        internal.connections(),
        reached,
        "reached after the guard was back on"
    );
    // With breaker_failures = 1, a counted refusal (the last thing pexels did) would open it.
    let status = daemon.ctl_json(&["status"]);
    let pexels = status["sources"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["source"] == "pexels"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(pexels["breaker"]["state"], "closed", "{status:#}");
}
