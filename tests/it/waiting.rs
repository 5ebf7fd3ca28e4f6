//! A job that cannot move because every source it still needs is held up says why, in `show`,
//! `list`, their `--json` and the HTTP API: an open circuit breaker ("waiting: wikimedia circuit
//! open, next trial in 29 s") or a used-up rate limit ("rate limit reached, next request in …").

use std::time::Duration;

use serde_json::Value;

use crate::json_schema::{assert_valid, schema};
use crate::support::fake_provider::{FakeProvider, Fault, FaultRule, Source};
use crate::support::web::WEB_ON;
use crate::support::{sources_config, wait_until, Daemon};

/// The one `waiting` entry of `job` (a job object of `list --json` or `show --json`).
fn only_wait(job: &Value) -> &Value {
    let waiting = job["waiting"].as_array().expect("a waiting array");
    assert_eq!(waiting.len(), 1, "{job:#}");
    &waiting[0]
}

/// Asserts one wait on `source` for `reason`, with seconds in `1..=max`.
fn assert_wait(job: &Value, source: &str, reason: &str, max: u64) {
    let wait = only_wait(job);
    assert_eq!(wait["source"], source, "{job:#}");
    assert_eq!(wait["reason"], reason, "{job:#}");
    let secs = wait["seconds"].as_u64().expect("seconds");
    assert!(
        (1..=max).contains(&secs),
        "{secs} s is not plausible: {job:#}"
    );
}

/// The job with `id` in `list --json`.
fn listed(daemon: &Daemon, id: i64) -> Value {
    let jobs = daemon.ctl_json(&["list"]);
    let found = jobs.as_array().unwrap().iter().find(|j| j["id"] == id);
    found.cloned().expect("the job is listed")
}

/// `vfetchctl <args>` as a person sees it.
fn human(daemon: &Daemon, args: &[&str]) -> String {
    let out = daemon.ctl(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_job_held_by_an_open_breaker_says_it_waits_for_the_trial() {
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Wikimedia, "frozen lake", 1);
    // Every file request fails: two failures open the breaker for 30 s.
    provider.fault(FaultRule::always(
        "/files/wikimedia",
        Fault::Status {
            code: 500,
            retry_after: None,
        },
    ));
    let extra = format!(
        "retry_base_ms = 50\nbreaker_failures = 2\nbreaker_recovery_secs = 30\ndownload_tries = 50\n{WEB_ON}"
    );
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], &extra);
    let id = daemon.add(&["frozen lake", "1"]);

    let mut shown = Value::Null;
    wait_until(Duration::from_secs(30), "show to say the job waits", || {
        shown = daemon.show(id);
        shown["job"]["waiting"].is_array()
    });
    assert_wait(&shown["job"], "wikimedia", "circuit_open", 30);
    let schema = schema();
    assert_valid(&schema, "ShowOutput", &shown);
    let jobs = daemon.ctl_json(&["list"]);
    assert_valid(&schema, "JobsOutput", &jobs);
    assert_wait(&listed(&daemon, id), "wikimedia", "circuit_open", 30);

    let show = human(&daemon, &["show", &id.to_string()]);
    assert!(
        show.contains("waiting  wikimedia circuit open, next trial in "),
        "{show}"
    );
    let list = human(&daemon, &["list"]);
    assert!(
        list.contains(&format!(
            "job {id} waiting: wikimedia circuit open, next trial in "
        )),
        "{list}"
    );

    // The HTTP API answers with the same shapes.
    let web = daemon.web();
    let one = web.get(&format!("/api/jobs/{id}")).json();
    assert_wait(&one["job"], "wikimedia", "circuit_open", 30);
    let page = web.get("/api/jobs").json();
    let job = page.as_array().unwrap().iter().find(|j| j["id"] == id);
    assert_wait(
        job.expect("listed over HTTP"),
        "wikimedia",
        "circuit_open",
        30,
    );
}

#[test]
fn a_job_held_by_a_used_up_rate_limit_says_when_the_next_request_goes() {
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Wikimedia, "first light", 1);
    provider.add_fixtures(Source::Wikimedia, "second light", 1);
    // One search a minute: whichever job searches second waits for the window.
    let config = sources_config(&provider.base_url(), &["wikimedia"], "", "")
        .replace("rate_limit = \"10000/1\"", "rate_limit = \"1/60\"");
    let daemon = Daemon::start_with(&format!("retry_base_ms = 50\nvalidate = \"off\"\n{config}"));
    let first = daemon.add(&["first light", "1"]);
    let second = daemon.add(&["second light", "1"]);

    let mut held = None;
    wait_until(
        Duration::from_secs(30),
        "a job to wait on the rate limit",
        || {
            let jobs = daemon.ctl_json(&["list"]);
            held = jobs
                .as_array()
                .unwrap()
                .iter()
                .find(|j| j["waiting"].is_array())
                .cloned();
            held.is_some()
        },
    );
    let held = held.unwrap();
    assert_wait(&held, "wikimedia", "rate_limited", 60);
    let id = held["id"].as_i64().unwrap();
    assert!(id == first || id == second);
    assert_eq!(held["state"], "searching", "{held:#}");
    assert_wait(&daemon.show(id)["job"], "wikimedia", "rate_limited", 60);

    let show = human(&daemon, &["show", &id.to_string()]);
    assert!(
        show.contains("waiting  wikimedia rate limit reached, next request in "),
        "{show}"
    );
    let list = human(&daemon, &["list"]);
    assert!(
        list.contains(&format!(
            "job {id} waiting: wikimedia rate limit reached, next request in "
        )),
        "{list}"
    );
    // The other job found its video with the one search the window allowed: it is not waiting.
    let other = if id == first { second } else { first };
    let other = listed(&daemon, other);
    assert!(other.get("waiting").is_none(), "{other:#}");
}
