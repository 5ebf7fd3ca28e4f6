//! The HTTP API's live and file routes through the real daemon and a real HTTP client: the
//! event stream (`/api/events`, Server-Sent Events) with reconnects, media seeking
//! (`/media/{id}`) and streamed exports (`/api/export`), checked against what the CLI and the
//! library on disk say.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

use crate::support::fake_provider::{
    fixtures, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::web::{send, Web, WEB_ON};
use crate::support::{wait_until, Daemon};

/// Three Wikimedia videos about "ocean waves".
fn provider() -> FakeProvider {
    let provider = FakeProvider::start();
    for (i, fixture) in fixtures().iter().take(3).enumerate() {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("Ocean waves {i}.mp4"),
            &format!("ocean waves {i}"),
            fixture,
        ));
    }
    provider
}

fn daemon(provider: &FakeProvider) -> Daemon {
    Daemon::for_provider(
        provider,
        &["wikimedia"],
        &format!("retry_base_ms = 50\n{WEB_ON}"),
    )
}

/// Queues "ocean waves" × 3 over HTTP; returns the job id.
fn create_job(web: &Web) -> i64 {
    let created = web.post(
        "/api/jobs",
        &json!({"theme": "ocean waves", "count": 3, "sources": ["wikimedia"]}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_i64().expect("job id")
}

fn wait_done(web: &Web, job: i64) {
    wait_until(Duration::from_secs(90), &format!("job {job} done"), || {
        web.get(&format!("/api/jobs/{job}")).json()["job"]["state"] == "done"
    });
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    id: Option<u64>,
    event: String,
    data: Value,
}

/// An open `/api/events` stream, read line by line as a browser's EventSource would.
struct EventStream {
    lines: BufReader<Response>,
    /// Keep-alive comments arrive every 15 s, so a read never times out by itself: a test that
    /// waits for an event that never comes fails here instead of hanging.
    deadline: Instant,
}

impl EventStream {
    /// Opens `path` with the token, and `Last-Event-ID` when given.
    fn open(web: &Web, path: &str, last_event_id: Option<&str>) -> EventStream {
        let client = Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client");
        let mut request = client
            .get(format!("{}{path}", web.url))
            .bearer_auth(&web.token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().expect("GET /api/events");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        EventStream {
            lines: BufReader::new(response),
            deadline: Instant::now() + Duration::from_secs(90),
        }
    }

    /// The next event; keep-alive comments are skipped. `None` when the stream ended.
    fn next(&mut self) -> Option<Frame> {
        let (mut id, mut event, mut data) = (None, String::new(), String::new());
        loop {
            assert!(
                Instant::now() < self.deadline,
                "no expected event within 90 s"
            );
            let mut line = String::new();
            if self.lines.read_line(&mut line).expect("read the stream") == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data)
                    .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
                return Some(Frame { id, event, data });
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => id = Some(value.parse().expect("numeric id")),
                "event" => event = value.to_string(),
                "data" => data.push_str(value),
                _ => {}
            }
        }
    }

    /// Events until job `job` is done (that event included).
    fn until_done(&mut self, job: i64) -> Vec<Frame> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().expect("the stream ended before the job did");
            let done =
                frame.event == "job" && frame.data["id"] == job && frame.data["state"] == "done";
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }
}

/// The job's and its downloads' state events, in order.
fn state_events(frames: &[Frame], job: i64) -> Vec<Frame> {
    frames
        .iter()
        .filter(|f| {
            (f.event == "job" && f.data["id"] == job)
                || (f.event == "download" && f.data["job_id"] == job)
        })
        .cloned()
        .collect()
}

fn assert_ids_increase(frames: &[Frame]) {
    let ids: Vec<u64> = frames.iter().filter_map(|f| f.id).collect();
    assert_eq!(
        ids.len(),
        frames.len(),
        "every event has an id: {frames:#?}"
    );
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids must strictly increase: {ids:?}"
    );
}

#[test]
fn an_event_stream_follows_a_job_to_the_end_and_a_reconnect_misses_no_state_change() {
    let provider = provider();
    // Slow files, so the job is still running when one client leaves.
    provider.fault(FaultRule::always(
        "/files/",
        Fault::Latency(Duration::from_millis(800)),
    ));
    let daemon = daemon(&provider);
    let web = daemon.web();

    let mut steady = EventStream::open(&web, "/api/events", None);
    let mut leaving = EventStream::open(&web, "/api/events", None);
    for stream in [&mut steady, &mut leaving] {
        let first = stream.next().expect("a first event");
        assert_eq!(first.event, "snapshot", "{first:?}");
        assert_eq!(first.data["type"], "snapshot");
        assert_eq!(first.data["status"]["schema_version"], 1, "{first:?}");
        assert_eq!(first.data["jobs"], json!([]), "{first:?}");
        assert!(first.id.is_some());
    }
    let job = create_job(&web);
    let steady = std::thread::spawn(move || steady.until_done(job));

    // The leaving client goes away at the first download event, mid-job.
    let mut before = Vec::new();
    loop {
        let frame = leaving.next().expect("events before leaving");
        let download = frame.event == "download";
        before.push(frame);
        if download {
            break;
        }
    }
    drop(leaving);
    let left_at = web.get(&format!("/api/jobs/{job}")).json();
    assert_ne!(
        left_at["job"]["state"], "done",
        "the job ended before the client left"
    );
    let last_seen = before.iter().rev().find_map(|f| f.id).expect("an id");

    let steady = steady.join().expect("the steady client");
    let mut back = EventStream::open(&web, "/api/events", Some(&last_seen.to_string()));
    let first = back.next().expect("the missed events");
    assert_ne!(
        first.event, "snapshot",
        "a replay was due, not a snapshot: {first:?}"
    );
    assert!(first.id > Some(last_seen));
    let after = [vec![first], back.until_done(job)].concat();

    assert_ids_increase(&steady);
    assert_ids_increase(&before);
    assert_ids_increase(&after);
    let steady_states = state_events(&steady, job);
    let returned_states = state_events(&[before, after].concat(), job);
    assert_eq!(
        returned_states.iter().map(|f| f.id).collect::<Vec<_>>(),
        steady_states.iter().map(|f| f.id).collect::<Vec<_>>(),
        "the reconnected client must get exactly the state changes the steady one saw"
    );
    assert_eq!(returned_states, steady_states);
    let last = steady_states.last().expect("state events");
    assert_eq!(last.data["state"], "done");
    assert_eq!(last.data["done"], 3);
    let downloads_done = steady_states
        .iter()
        .filter(|f| f.event == "download" && f.data["state"] == "done")
        .count();
    assert_eq!(downloads_done, 3, "{steady_states:#?}");
}

#[test]
fn an_event_stream_starts_from_a_snapshot_when_the_client_is_new_or_too_far_behind() {
    let provider = provider();
    let daemon = daemon(&provider);
    let web = daemon.web();
    let job = create_job(&web);
    wait_done(&web, job);

    // An id from long ago (say, an earlier run of the daemon), and one that is no id at all.
    for last in ["1", "not-a-number"] {
        let mut stream = EventStream::open(&web, "/api/events", Some(last));
        let snapshot = stream.next().expect("a snapshot");
        assert_eq!(snapshot.event, "snapshot", "{snapshot:?}");
        assert!(snapshot.id.expect("the snapshot has an id") > 1);
        // Nothing is unfinished; the status counts the finished job.
        assert_eq!(snapshot.data["jobs"], json!([]), "{snapshot:?}");
        assert_eq!(snapshot.data["status"]["jobs"]["done"], 1, "{snapshot:?}");
    }
    // Following one job: the job and its downloads as `show` has them.
    let mut stream = EventStream::open(&web, &format!("/api/events?job={job}"), Some("1"));
    let snapshot = stream.next().expect("a snapshot");
    assert_eq!(snapshot.event, "snapshot");
    let show = daemon.show(job);
    assert_eq!(snapshot.data["jobs"], json!([show["job"]]));
    assert_eq!(snapshot.data["downloads"], show["downloads"]);
    assert_eq!(snapshot.data["downloads"].as_array().map(Vec::len), Some(3));

    // Refusals are problem documents, before any stream starts.
    web.get("/api/events?job=999").assert_problem(404);
    web.get("/api/events?job=abc").assert_problem(422);
    send(web.bare(reqwest::Method::GET, "/api/events")).assert_problem(401);
    let port = web.url.rsplit(':').next().unwrap_or_default().to_string();
    send(
        web.request(reqwest::Method::GET, "/api/events")
            .header("Host", format!("evil.example:{port}")),
    )
    .assert_problem(421);
}

/// An answer with its body as bytes (a video is not text).
struct Bytes {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Bytes {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

fn send_for_bytes(request: reqwest::blocking::RequestBuilder) -> Bytes {
    let response = request.send().expect("HTTP request");
    Bytes {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().expect("body").to_vec(),
    }
}

#[test]
fn a_finished_video_can_be_seeked_and_revalidated_through_media() {
    let provider = provider();
    let daemon = daemon(&provider);
    let web = daemon.web();
    let job = create_job(&web);
    wait_done(&web, job);
    let show = daemon.show(job);
    let download = &show["downloads"][0];
    let id = download["id"].as_i64().expect("download id");
    let path = download["path"].as_str().expect("a library path");
    let on_disk = std::fs::read(path).expect("the library file");
    assert!(on_disk.len() > 200, "{} bytes", on_disk.len());
    let media = format!("/media/{id}");

    let part = send_for_bytes(
        web.request(reqwest::Method::GET, &media)
            .header("Range", "bytes=100-199"),
    );
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-199/{}", on_disk.len())
    );
    assert_eq!(part.body, on_disk[100..200]);
    let expected_type = if path.ends_with(".webm") {
        "video/webm"
    } else {
        "video/mp4"
    };
    assert_eq!(part.header("content-type"), expected_type, "{path}");
    assert_eq!(part.header("accept-ranges"), "bytes");
    let etag = part.header("etag");
    assert!(etag.starts_with('"'), "ETag {etag:?}");
    assert!(
        httpdate_ok(&part.header("last-modified")),
        "{}",
        part.header("last-modified")
    );

    let whole = send_for_bytes(web.request(reqwest::Method::GET, &media));
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, on_disk);
    assert_eq!(whole.header("etag"), etag);

    let unchanged = send_for_bytes(
        web.request(reqwest::Method::GET, &media)
            .header("If-None-Match", &etag),
    );
    assert_eq!(unchanged.status, 304);
    assert!(unchanged.body.is_empty());

    // Ids only: nothing in the path is ever a file name.
    web.get("/media/999").assert_problem(404);
    for hostile in ["/media/abc", "/media/..%2F..%2Fetc%2Fpasswd", "/media/-1"] {
        let reply = web.get(hostile);
        reply.assert_problem(404);
        assert!(!reply.body.contains("root:"), "{hostile}: {}", reply.body);
    }
    send(web.bare(reqwest::Method::GET, &media)).assert_problem(401);

    // A download still running has no file to play yet.
    provider.fault(FaultRule::always(
        "/files/",
        Fault::Latency(Duration::from_secs(60)),
    ));
    for (i, fixture) in fixtures().iter().skip(3).take(1).enumerate() {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("Forest rain {i}.mp4"),
            &format!("forest rain {i}"),
            fixture,
        ));
    }
    let created = web.post(
        "/api/jobs",
        &json!({"theme": "forest rain", "count": 1, "sources": ["wikimedia"]}),
    );
    let slow = created.json()["id"].as_i64().expect("job id");
    let mut running = None;
    wait_until(Duration::from_secs(30), "a running download", || {
        running = daemon.show(slow)["downloads"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["state"] == "running"))
            .and_then(|d| d["id"].as_i64());
        running.is_some()
    });
    let running = running.expect("a running download");
    let detail = web.get(&format!("/media/{running}")).assert_problem(409);
    assert!(detail.contains("running"), "{detail}");
}

/// Whether an HTTP date header looks like one (`Tue, 01 Dec 2026 10:00:00 GMT`).
fn httpdate_ok(value: &str) -> bool {
    value.ends_with(" GMT") && value.len() == 29
}

#[test]
fn an_http_export_is_the_cli_export_as_a_file_download() {
    let provider = provider();
    let daemon = daemon(&provider);
    let web = daemon.web();
    let job = create_job(&web);
    wait_done(&web, job);

    for format in ["json", "csv"] {
        let reply = send_for_bytes(web.request(
            reqwest::Method::GET,
            &format!("/api/export?job={job}&format={format}"),
        ));
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let cli = daemon.ctl(&["export", &job.to_string(), "--format", format]);
        assert!(cli.status.success(), "{cli:?}");
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            String::from_utf8_lossy(&cli.stdout),
            "{format}"
        );
        assert_eq!(
            reply.header("content-disposition"),
            format!("attachment; filename=\"vfetch-job-{job}.{format}\"")
        );
        let expected_type = if format == "json" {
            "application/json"
        } else {
            "text/csv"
        };
        assert!(
            reply.header("content-type").starts_with(expected_type),
            "{}",
            reply.header("content-type")
        );
    }
    let records: Value = serde_json::from_slice(
        &send_for_bytes(web.request(reqwest::Method::GET, "/api/export")).body,
    )
    .expect("JSON");
    assert_eq!(records.as_array().map(Vec::len), Some(3), "{records:#}");
    let everything = send_for_bytes(web.request(reqwest::Method::GET, "/api/export?format=csv"));
    assert_eq!(
        everything.header("content-disposition"),
        "attachment; filename=\"vfetch-export.csv\""
    );
    assert_eq!(
        String::from_utf8_lossy(&everything.body),
        String::from_utf8_lossy(&daemon.ctl(&["export", "--format", "csv"]).stdout)
    );

    web.get(&format!("/api/export?job={job}&format=xml"))
        .assert_problem(422);
    web.get("/api/export?job=999").assert_problem(404);
    web.get("/api/export?job=abc").assert_problem(422);
    send(web.bare(reqwest::Method::GET, "/api/export")).assert_problem(401);
}
