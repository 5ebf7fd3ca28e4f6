//! The HTTP API, through the real daemon and a real HTTP client: the same answers as the CLI on
//! the same daemon, and clear problem documents for every refusal.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fake_provider::{fixtures, video_from_fixture, FakeProvider, Source};
use crate::support::web::{send, Web, WEB_ON};
use crate::support::{wait_until, Daemon};

/// Waits until job `id` is in `state` as `GET /api/jobs/{id}` shows it; returns the detail.
fn wait_for_state(web: &Web, id: i64, state: &str) -> Value {
    let mut detail = Value::Null;
    wait_until(
        Duration::from_secs(90),
        &format!("job {id} {state}"),
        || {
            let reply = web.get(&format!("/api/jobs/{id}"));
            assert_eq!(reply.status, 200, "{}", reply.body);
            detail = reply.json();
            detail["job"]["state"] == state
        },
    );
    detail
}

#[test]
fn status_over_http_is_the_status_the_cli_sees() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    assert!(web.url.starts_with("http://127.0.0.1:"), "{}", web.url);
    let reply = web.get("/api/status");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let http = reply.json();
    let cli = daemon.ctl_json(&["status"]);
    for key in [
        "daemon_version",
        "pid",
        "socket",
        "database",
        "library_dir",
        "jobs",
    ] {
        assert_eq!(http[key], cli[key], "{key}");
    }
    assert_eq!(cli["web_url"], Value::String(web.url.clone()));
    let human = String::from_utf8_lossy(&daemon.ctl(&["status"]).stdout).to_string();
    assert!(
        human.contains(&format!("       web  {}\n", web.url)),
        "{human}"
    );
}

/// Three wikimedia videos about "ocean waves", two archive videos about "forest rain".
fn provider() -> FakeProvider {
    let provider = FakeProvider::start();
    let all = fixtures();
    for (i, fixture) in all.iter().take(3).enumerate() {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("Ocean waves {i}.mp4"),
            &format!("ocean waves {i}"),
            fixture,
        ));
    }
    for (i, fixture) in all.iter().skip(3).take(2).enumerate() {
        provider.add(video_from_fixture(
            Source::Archive,
            &format!("forest-rain-{i}"),
            &format!("forest rain {i}"),
            fixture,
        ));
    }
    provider
}

#[test]
fn jobs_created_over_http_finish_and_every_view_agrees_with_the_cli() {
    let provider = provider();
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia", "archive"],
        &format!("retry_base_ms = 50\n{WEB_ON}"),
    );
    let web = daemon.web();

    let created = web.post(
        "/api/jobs",
        &json!({"theme": "ocean waves", "count": 3, "sources": ["wikimedia"], "priority": 2}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let job = created.json();
    let ocean = job["id"].as_i64().expect("an id");
    assert_eq!(job["theme"], "ocean waves");
    assert_eq!(job["priority"], 2);
    assert_eq!(created.header("location"), format!("/api/jobs/{ocean}"));

    // The original's shape: sources as "all" or a comma-separated string.
    let fetched = web.post(
        "/api/fetch",
        &json!({"theme": "forest rain", "count": 2, "sources": "archive", "quality": "best"}),
    );
    assert_eq!(fetched.status, 202, "{}", fetched.body);
    let forest = fetched.json()["job_id"].as_i64().expect("job_id");
    assert_eq!(fetched.json()["theme"], "forest rain");

    let detail = wait_for_state(&web, ocean, "done");
    assert_eq!(detail["job"]["done"], 3, "{detail:#}");
    wait_for_state(&web, forest, "done");
    let original = web.get(&format!("/api/status/{forest}")).json();
    assert_eq!(original["status"], "done");
    assert_eq!(original["downloaded"], 2);
    assert_eq!(original["progress"], 100.0);

    // The same daemon through the CLI: the same jobs, detail, stats, history and themes.
    assert_eq!(web.get("/api/jobs").json(), daemon.ctl_json(&["list"]));
    assert_eq!(
        web.get("/api/jobs?state=done&limit=1&offset=1").json(),
        daemon.ctl_json(&["list", "--state", "done", "-n", "1", "--offset", "1"])
    );
    let shown = daemon.show(ocean);
    assert_eq!(
        web.get(&format!("/api/jobs/{ocean}")).json()["downloads"],
        shown["downloads"]
    );
    let history = web.get("/api/history?limit=10").json();
    assert_eq!(history, daemon.ctl_json(&["history", "-n", "10"]));
    assert_eq!(
        web.get("/api/history?theme=forest%20rain&state=done")
            .json(),
        daemon.ctl_json(&["history", "--theme", "forest rain", "--state", "done"])
    );

    // Stats: the CLI's document, and the original's keys with the files' real sizes.
    let stats = web.get("/api/stats?days=7").json();
    let cli_stats = daemon.ctl_json(&["stats", "--days", "7"]);
    assert_eq!(stats["totals"], cli_stats["totals"]);
    assert_eq!(stats["per_source"], cli_stats["per_source"]);
    let on_disk: u64 = history
        .as_array()
        .expect("history rows")
        .iter()
        .map(|row| {
            let path = row["path"].as_str().expect("a finished file");
            std::fs::metadata(path).expect("the file exists").len()
        })
        .sum();
    assert_eq!(stats["total_downloads"], 5, "{stats:#}");
    assert_eq!(stats["successful"], 5);
    assert_eq!(stats["failed"], 0);
    assert_eq!(stats["total_size_bytes"], on_disk);
    assert_eq!(stats["sources"]["wikimedia"]["successful"], 3);
    assert_eq!(stats["sources"]["archive"]["count"], 2);
    assert!(stats["avg_speed_mbps"].as_f64().expect("a number") > 0.0);
    let hours = stats["total_duration_hours"].as_f64().expect("a number");
    let seconds = cli_stats["totals"]["video_seconds"]
        .as_f64()
        .expect("seconds");
    assert!(
        hours > 0.0 && (hours * 3600.0 - seconds).abs() < 0.01,
        "{hours} h vs {seconds} s"
    );
    let daily = stats["daily"].as_array().expect("daily rows");
    let per_day: u64 = daily
        .iter()
        .map(|d| d["successful"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(per_day, 5, "{daily:?}");
    assert_eq!(
        web.get("/api/stats?days=7&by=week").json()["by"],
        daemon.ctl_json(&["stats", "--days", "7", "--by", "week"])["by"]
    );

    // Suggestions and themes.
    let suggestions = web.get("/api/search/suggestions?q=OCE").json();
    assert_eq!(
        suggestions["suggestions"],
        json!(["ocean waves"]),
        "{suggestions}"
    );
    let cli_suggest = daemon.ctl_json(&["suggest", "oce"]);
    assert_eq!(cli_suggest[0]["theme"], "ocean waves");
    assert_eq!(
        web.get("/api/themes?prefix=for").json(),
        daemon.ctl_json(&["suggest", "for"])
    );
    let popular = web.get("/api/themes/popular").json();
    let names: Vec<&str> = popular["themes"]
        .as_array()
        .expect("themes")
        .iter()
        .filter_map(|t| t["theme"].as_str())
        .collect();
    assert!(
        names.contains(&"ocean waves") && names.contains(&"forest rain"),
        "{popular}"
    );

    // One job's metadata: every finished video, with attribution and its file's real size.
    let metadata = web.get(&format!("/api/export/metadata/{ocean}")).json();
    assert_eq!(metadata["count"], 3, "{metadata:#}");
    for video in metadata["videos"].as_array().expect("videos") {
        assert_eq!(video["source"], "wikimedia");
        assert_eq!(video["theme"], "ocean waves");
        let path = video["path"].as_str().expect("a path");
        assert_eq!(video["size"], std::fs::metadata(path).expect("file").len());
    }
    let unknown = web.get("/api/export/metadata/999");
    unknown.assert_problem(404);
}

#[test]
fn pause_resume_priority_and_cancel_change_state_and_refuse_illegal_moves() {
    // Sources that never answer: jobs stay searching.
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let id = web
        .post("/api/jobs", &json!({"theme": "harbour fog", "count": 2}))
        .json()["id"]
        .as_i64()
        .expect("id");
    let paused = web.post(&format!("/api/jobs/{id}/pause"), &json!({}));
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.json()["state"], "paused");
    assert_eq!(daemon.show(id)["job"]["state"], "paused");
    let again = web.post(&format!("/api/jobs/{id}/pause"), &json!({}));
    let detail = again.assert_problem(409);
    assert!(detail.contains("paused"), "{detail}");

    let resumed = web.post(&format!("/api/jobs/{id}/resume"), &json!({}));
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_ne!(resumed.json()["state"], "paused");

    let moved = web.send_json(
        Method::PUT,
        &format!("/api/jobs/{id}/priority"),
        &json!({"priority": 7}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["priority"], 7);
    assert_eq!(daemon.show(id)["job"]["priority"], 7);

    let other = daemon.add(&["misty pier", "1"]);
    let all = web.post("/api/pause", &json!({}));
    assert_eq!(all.status, 200, "{}", all.body);
    let ids: Vec<i64> = all
        .json()
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["id"].as_i64())
        .collect();
    assert!(ids.contains(&id) && ids.contains(&other), "{ids:?}");
    assert_eq!(daemon.show(other)["job"]["state"], "paused");
    let all = web.post("/api/resume", &json!({}));
    assert_eq!(
        all.json().as_array().expect("jobs").len(),
        2,
        "{}",
        all.body
    );

    let cancelled = send(web.request(Method::DELETE, &format!("/api/jobs/{id}")));
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["state"], "cancelled");
    assert_eq!(daemon.show(id)["job"]["state"], "cancelled");
    web.post(&format!("/api/jobs/{id}/resume"), &json!({}))
        .assert_problem(409);

    web.get("/api/jobs/4242").assert_problem(404);
    web.post("/api/jobs/4242/pause", &json!({}))
        .assert_problem(404);
    web.get("/api/jobs/not-a-number").assert_problem(404);
    // The same validation as `add`.
    let bad = web.post("/api/jobs", &json!({"theme": "  ", "count": 1}));
    assert!(bad.assert_problem(422).contains("theme"), "{}", bad.body);
    let bad = web.post(
        "/api/jobs",
        &json!({"theme": "x", "count": 1, "sources": "flickr"}),
    );
    assert!(bad.assert_problem(422).contains("flickr"), "{}", bad.body);
    web.get("/api/jobs?state=sleeping").assert_problem(422);
}

#[test]
fn config_changes_are_checked_whole_and_keys_stay_masked() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let typo = web.send_json(
        Method::PATCH,
        "/api/config",
        &json!({"paralel_downloads": 3}),
    );
    let detail = typo.assert_problem(422);
    assert!(
        detail.contains("did you mean parallel_downloads"),
        "{detail}"
    );
    // One bad key changes nothing, not even the good one beside it.
    let mixed = web.send_json(
        Method::PATCH,
        "/api/config",
        &json!({"parallel_downloads": 3, "stall_timeout_secs": "soon"}),
    );
    assert!(
        mixed.assert_problem(422).contains("stall_timeout_secs"),
        "{}",
        mixed.body
    );
    assert_eq!(
        daemon.ctl_json(&["config", "get", "parallel_downloads"])["value"],
        "4"
    );

    let changed = web.send_json(
        Method::PATCH,
        "/api/config",
        &json!({"parallel_downloads": 3, "sources.pexels.api_key": "hunter2"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(!changed.body.contains("hunter2"), "{}", changed.body);
    assert_eq!(
        daemon.ctl_json(&["config", "get", "parallel_downloads"])["value"],
        "3"
    );
    let all = web.get("/api/config");
    assert!(!all.body.contains("hunter2"), "{}", all.body);
    let pexels = all
        .json()
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["key"] == "sources.pexels.api_key")
        .cloned();
    assert_eq!(pexels.expect("the key")["value"], "***");

    // The original's setup, with its key names.
    let setup = web.post("/api/setup", &json!({"pixabay_api_key": "pk-1"}));
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert_eq!(setup.json()["status"], "ok");
    assert_eq!(
        daemon.ctl_json(&["config", "get", "sources.pixabay.api_key"])["value"],
        "***"
    );
    let restart = web.send_json(Method::PATCH, "/api/config", &json!({"web_listen": "off"}));
    assert!(
        restart.assert_problem(422).contains("restart"),
        "{}",
        restart.body
    );
}

#[test]
fn bad_requests_get_problem_documents_and_the_daemon_carries_on() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();

    let none = send(web.bare(Method::GET, "/api/status"));
    none.assert_problem(401);
    assert!(
        none.header("www-authenticate").starts_with("Bearer"),
        "{:?}",
        none.headers
    );
    let wrong = send(
        web.bare(Method::GET, "/api/jobs")
            .bearer_auth("0".repeat(64)),
    );
    wrong.assert_problem(401);
    assert!(!wrong.body.contains(&web.token));
    send(web.bare(Method::GET, "/metrics")).assert_problem(401);

    // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own Host.
    let port = web.url.rsplit(':').next().expect("a port").to_string();
    let foreign = send(
        web.request(Method::GET, "/api/status")
            .header("Host", format!("evil.example:{port}")),
    );
    foreign.assert_problem(421);
    let foreign = send(
        web.bare(Method::GET, "/health")
            .header("Host", format!("evil.example:{port}")),
    );
    foreign.assert_problem(421);
    let localhost = send(
        web.request(Method::GET, "/api/status")
            .header("Host", format!("localhost:{port}")),
    );
    assert_eq!(localhost.status, 200, "{}", localhost.body);

    let malformed = send(
        web.request(Method::POST, "/api/jobs")
            .header("content-type", "application/json")
            .body("{\"theme\": \"x\", \"count\": "),
    );
    let detail = malformed.assert_problem(400);
    assert!(
        !detail.contains("\"theme\""),
        "the body is not echoed: {detail}"
    );
    let plain = send(
        web.request(Method::POST, "/api/jobs")
            .header("content-type", "text/plain")
            .body("theme=x"),
    );
    plain.assert_problem(415);
    let huge = json!({"theme": "x".repeat(100 * 1024), "count": 1});
    web.post("/api/jobs", &huge).assert_problem(413);
    let shape = web.post("/api/jobs", &json!({"theme": "x", "count": "many"}));
    shape.assert_problem(422);
    let unknown_field = web.post(
        "/api/jobs",
        &json!({"theme": "x", "count": 1, "colour": "red"}),
    );
    assert!(
        unknown_field.assert_problem(422).contains("colour"),
        "{}",
        unknown_field.body
    );
    web.get("/api/nothing-here").assert_problem(404);
    send(web.request(Method::DELETE, "/api/status")).assert_problem(405);
    web.get("/api/stats?days=0").assert_problem(422);

    // Still answering, and nothing was queued by the refused requests.
    let status = web.get("/api/status");
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(daemon.ctl_json(&["list"]), json!([]));
}

#[test]
fn repeated_bad_tokens_are_slowed_down_and_a_good_one_still_works() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let bad = || send(web.bare(Method::GET, "/api/status").bearer_auth("guess"));
    for _ in 0..4 {
        bad().assert_problem(401);
    }
    // Four failures: the next request waits at least half a second before it is looked at.
    let started = Instant::now();
    bad().assert_problem(401);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(web.get("/api/status").status, 200);
    // The good token cleared the count: no delay now.
    bad().assert_problem(401);
}

#[test]
fn a_login_link_sets_a_strict_cookie_once_and_cookie_changes_need_our_origin() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let link = daemon.ctl_json(&["web"]);
    let login_url = link["login_url"].as_str().expect("login_url").to_string();
    assert!(
        login_url.starts_with(&format!("{}/login?code=", web.url)),
        "{login_url}"
    );
    let human = String::from_utf8_lossy(&daemon.ctl(&["web"]).stdout).to_string();
    assert!(
        human.contains(&web.url) && human.contains("/login?code="),
        "{human}"
    );

    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let first = send(client.get(&login_url));
    assert_eq!(first.status, 303, "{}", first.body);
    let cookie = first.header("set-cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().expect("name=value").to_string();
    assert!(!session.contains(&web.token), "the cookie is not the token");
    send(client.get(&login_url)).assert_problem(401);

    let with_cookie = |method: Method, path: &str| {
        client
            .request(method, format!("{}{path}", web.url))
            .header("cookie", &session)
    };
    assert_eq!(send(with_cookie(Method::GET, "/api/status")).status, 200);
    // A cross-site form post carries the cookie but not our Origin.
    send(with_cookie(Method::POST, "/api/pause")).assert_problem(403);
    send(with_cookie(Method::POST, "/api/pause").header("origin", "http://evil.example"))
        .assert_problem(403);
    let ours = send(with_cookie(Method::POST, "/api/pause").header("origin", web.url.as_str()));
    assert_eq!(ours.status, 200, "{}", ours.body);
    let fetch =
        send(with_cookie(Method::POST, "/api/resume").header("sec-fetch-site", "same-origin"));
    assert_eq!(fetch.status, 200, "{}", fetch.body);
    send(
        client
            .get(format!("{}/api/status", web.url))
            .header("cookie", "vfetch_session=forged"),
    )
    .assert_problem(401);
}

#[test]
fn health_needs_no_token_and_metrics_need_one_unless_made_public() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    daemon.add(&["quiet lake", "1"]);
    let health = send(web.bare(Method::GET, "/health"));
    assert_eq!(health.status, 200, "{}", health.body);
    let doc = health.json();
    assert_eq!(doc["status"], "healthy");
    assert_eq!(doc["database"], "connected");
    assert_eq!(doc["jobs_count"], 1);
    assert!(doc["timestamp"].is_string());
    for secret in [web.token.as_str(), "socket", "state"] {
        assert!(!health.body.contains(secret), "{secret} in {}", health.body);
    }
    send(web.bare(Method::GET, "/metrics")).assert_problem(401);
    let metrics = web.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        metrics.headers
    );
    assert!(
        metrics.body.contains("vfetch_jobs{state=\"searching\"} 1")
            || metrics.body.contains("vfetch_jobs{state=\"queued\"} 1"),
        "{}",
        metrics.body
    );

    let public = Daemon::start_with(&format!("{WEB_ON}metrics_public = true\n"));
    let open = public.web();
    let metrics = send(open.bare(Method::GET, "/metrics"));
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(metrics.body.contains("# TYPE vfetch_jobs gauge"));
    send(open.bare(Method::GET, "/api/status")).assert_problem(401);
}

#[test]
fn web_off_and_refused_remote_binding_are_explained() {
    let daemon = Daemon::start();
    let out = daemon.ctl(&["web"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("web_listen"), "{stderr}");
    assert_eq!(daemon.ctl_json(&["status"])["web_url"], Value::Null);

    let remote = Daemon::configure("web_listen = \"0.0.0.0:0\"\n");
    let status = remote.command().status().expect("run vfetchd");
    assert!(!status.success());
    let log = remote.log();
    assert!(
        log.contains("web_listen") && log.contains("web_allow_remote"),
        "{log}"
    );

    let allowed = Daemon::start_with("web_listen = \"0.0.0.0:0\"\nweb_allow_remote = true\n");
    assert!(
        allowed.log().contains("TLS reverse proxy"),
        "{}",
        allowed.log()
    );
    let web = allowed.web();
    assert_eq!(web.get("/api/status").status, 200);
}

#[test]
fn an_http_socket_passed_by_systemd_is_served_beside_the_unix_one() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    let daemon = Daemon::configure("");
    let unix = std::os::unix::net::UnixListener::bind(daemon.dir.path().join("activated.sock"))
        .expect("bind unix");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
    let port = tcp.local_addr().expect("address").port();
    let (unix_fd, tcp_fd) = (unix.as_raw_fd(), tcp.as_raw_fd());
    let log = std::fs::File::create(daemon.log_path()).expect("log");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=vfetchd.socket:http exec \"$0\" --config \"$1\"")
        .arg(crate::support::bin("vfetchd"))
        .arg(&daemon.config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    // SAFETY: only dup2 (async-signal-safe) between fork and exec. The sockets go through high
    // numbers first, so placing one at 3 or 4 cannot overwrite the other.
    unsafe {
        command.pre_exec(move || {
            for (from, to) in [(unix_fd, 900), (tcp_fd, 901), (900, 3), (901, 4)] {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn vfetchd");
    drop((unix, tcp));
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let mut health = None;
    wait_until(
        Duration::from_secs(15),
        "the passed HTTP socket answers",
        || {
            health = client
                .get(format!("{url}/health"))
                .send()
                .ok()
                .map(|r| r.status().as_u16());
            health.is_some()
        },
    );
    let link = Command::new(crate::support::bin("vfetchctl"))
        .args(["--no-autostart", "--socket"])
        .arg(daemon.dir.path().join("activated.sock"))
        .args(["web", "--json"])
        .output()
        .expect("vfetchctl");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health, Some(200), "{}", daemon.log());
    let link: Value = serde_json::from_slice(&link.stdout).unwrap_or(Value::Null);
    assert_eq!(link["url"], url, "{}", daemon.log());
    assert!(
        !daemon.socket.exists(),
        "the daemon bound its own socket too"
    );
}

#[test]
fn every_curl_example_in_the_readme_works_against_a_daemon() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## HTTP API\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has an HTTP API section");
    assert!(section.contains("TOKEN=$(cat ~/.local/state/vfetchd/web.token)"));
    let examples: Vec<&str> = section.lines().filter(|l| l.starts_with("curl ")).collect();
    assert!(examples.len() >= 20, "{examples:?}");
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    for example in &examples {
        let out = std::process::Command::new("sh")
            .args(["-c", example])
            .env("URL", &web.url)
            .env("TOKEN", &web.token)
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{example}\nstdout: {stdout}\nstderr: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            daemon.log()
        );
        if !example.contains("/metrics") {
            serde_json::from_str::<Value>(&stdout)
                .unwrap_or_else(|e| panic!("{example} printed no JSON ({e}): {stdout}"));
        }
    }
    // The examples did what they say: job 1 cancelled, job 2 queued by /api/fetch.
    assert_eq!(daemon.show(1)["job"]["state"], "cancelled");
    assert_eq!(daemon.show(1)["job"]["priority"], 5);
    assert_eq!(daemon.show(2)["job"]["theme"], "city night");
    assert_eq!(
        daemon.ctl_json(&["config", "get", "parallel_downloads"])["value"],
        "2"
    );
}

#[test]
fn web_open_hands_a_working_login_link_to_xdg_open() {
    use std::os::unix::fs::PermissionsExt;

    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let tools = daemon.dir.path().join("tools");
    std::fs::create_dir(&tools).expect("tools dir");
    let opened = daemon.dir.path().join("opened");
    let script = tools.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {:?}\n", opened),
    )
    .expect("fake xdg-open");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new(crate::support::bin("vfetchctl"))
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["--no-autostart", "web", "--open"])
        .env("PATH", path)
        .output()
        .expect("vfetchctl web --open");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = std::fs::read_to_string(&opened).expect("xdg-open was run");
    assert!(
        link.starts_with(&format!("{}/login?code=", web.url)),
        "{link}"
    );
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    assert_eq!(send(client.get(&link)).status, 303);
}
