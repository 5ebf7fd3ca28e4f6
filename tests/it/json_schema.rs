//! Every `--json` output and every `watch --json` line, from a real daemon against the fake
//! provider, validates against the checked-in schema/vfetch.schema.json, and carries the
//! values the schema promises: a `hello` first, states as enums with separate reasons.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::fake_provider::{FakeProvider, Fault, FaultRule};
use crate::support::{add_big, bin, sources_config, wait_until, Daemon};

/// The checked-in schema.
pub(crate) fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/vfetch.schema.json");
    let text = std::fs::read_to_string(path).expect("schema/vfetch.schema.json is checked in");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Asserts `value` validates against the schema's definition `def` (e.g. "StatusOutput").
pub(crate) fn assert_valid(schema: &Value, def: &str, value: &Value) {
    let mut root = schema.clone();
    let map = root.as_object_mut().expect("schema object");
    map.remove("anyOf");
    map.insert("$ref".into(), json!(format!("#/$defs/{def}")));
    let validator = jsonschema::draft202012::new(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{def} does not match the schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// The fake provider's sources, with pexels switched on but given no API key.
fn config(provider: &FakeProvider) -> String {
    let sources = sources_config(&provider.base_url(), &["wikimedia", "pexels"], "", "k")
        .replace("api_key = \"\"\n", "");
    format!("retry_base_ms = 50\nbreaker_failures = 1\nbreaker_recovery_secs = 6\ndownload_tries = 10\n{sources}")
}

#[test]
fn every_json_output_and_watch_event_matches_the_checked_in_schema() {
    let schema = schema();
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Schema big.mp4", "schema river");
    // The first file request fails (the breaker opens, the download is retried); then the file
    // comes slowly enough for progress events.
    provider.fault(FaultRule::times(
        "/files/",
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        1,
    ));
    provider.fault(FaultRule::always(
        "/files/",
        Fault::Throttle(video.data.len() as u64 / 2),
    ));
    let daemon = Daemon::start_with(&config(&provider));

    // watch --json, following everything.
    let mut watch = Command::new(bin("vfetchctl"))
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["--no-autostart", "watch", "--json"])
        .env_remove("VFETCH_SOCKET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run vfetchctl watch --json");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let stdout = watch.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    // The hello comes after the subscription, so no event of the job is missed.
    wait_until(Duration::from_secs(20), "the hello line", || {
        !lines.lock().unwrap().is_empty()
    });

    let added = daemon.ctl_json(&["add", "schema river", "1"]);
    assert_valid(&schema, "AddOutput", &added);
    let id = added["id"].as_i64().expect("a numeric id");

    // status while the breaker is open: the open source and the one without a key.
    let mut status = Value::Null;
    wait_until(Duration::from_secs(30), "the breaker to open", || {
        status = daemon.ctl_json(&["status"]);
        assert_valid(&schema, "StatusOutput", &status);
        status["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["source"] == "wikimedia" && s["breaker"]["state"] == "open")
    });
    assert_eq!(status["schema_version"], 1);
    let source = |name: &str| {
        status["sources"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["source"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {status}"))
    };
    let wiki = source("wikimedia");
    assert_eq!(wiki["state"], "failing", "{wiki}");
    assert!(wiki["breaker"]["next_trial_secs"].is_u64(), "{wiki}");
    let pexels = source("pexels");
    assert_eq!(pexels["state"], "disabled", "{pexels}");
    assert_eq!(pexels["reason"], "no API key", "{pexels}");
    // The harness allows 10000 requests a second; the search took at least one.
    let window = &wiki["rate_limit"]["windows"][0];
    assert_eq!(
        (window["limit"].clone(), window["per_secs"].clone()),
        (json!(10000), json!(1))
    );
    assert!(window["used"].is_u64(), "{wiki}");

    wait_until(Duration::from_secs(90), "the job to finish", || {
        daemon.show(id)["job"]["state"] == "done"
    });
    wait_until(
        Duration::from_secs(20),
        "watch to show the job done",
        || {
            lines.lock().unwrap().iter().any(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_default();
                v["type"] == "job" && v["id"] == id && v["state"] == "done"
            })
        },
    );
    let _ = watch.kill();
    let _ = watch.wait();
    let _ = reader.join();

    let show = daemon.show(id);
    assert_valid(&schema, "ShowOutput", &show);
    let download = &show["downloads"][0];
    assert_eq!(download["state"], "done", "{download}");
    assert!(
        ["valid", "not_validated"]
            .contains(&download["validation"]["state"].as_str().unwrap_or("")),
        "{download}"
    );
    assert!(
        show["candidates"][0]["attribution"]["source"] == "wikimedia",
        "{show}"
    );

    for (args, def) in [
        (vec!["list"], "JobsOutput"),
        (vec!["stats"], "StatsOutput"),
        (vec!["history"], "HistoryOutput"),
        (vec!["themes"], "ThemesOutput"),
        (vec!["config", "get"], "ConfigOutput"),
        (vec!["config", "get", "parallel_downloads"], "ConfigOutput"),
        (
            vec!["cleanup", "--dry-run", "--older-than", "0"],
            "CleanupOutput",
        ),
    ] {
        let out = daemon.ctl_json(&args);
        assert_valid(&schema, def, &out);
    }
    let history = daemon.ctl_json(&["history"]);
    assert_eq!(history[0]["state"], "done", "{history}");
    let credit = &history[0]["attribution"];
    assert_eq!(credit["source"], "wikimedia", "{history}");
    assert!(
        credit["title"].is_string() && credit["source_id"].is_string(),
        "{history}"
    );

    let lines = lines.lock().unwrap().clone();
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events[0]["type"], "hello", "{}", lines[0]);
    assert_eq!(events[0]["schema_version"], 1);
    assert!(events[0]["daemon_version"].is_string());
    for event in &events {
        assert_valid(&schema, "WatchLine", event);
    }
    let seen: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for kind in ["job", "download", "progress", "breaker", "retry"] {
        assert!(
            seen.contains(&kind),
            "no {kind} event in:\n{}",
            lines.join("\n")
        );
    }
    let opened = events
        .iter()
        .find(|e| e["type"] == "breaker" && e["state"] == "open")
        .unwrap_or_else(|| panic!("no open breaker in:\n{}", lines.join("\n")));
    assert_eq!(opened["source"], "wikimedia");
    assert!(opened["next_trial_secs"].is_u64(), "{opened}");
    let failed = events
        .iter()
        .find(|e| e["type"] == "download" && e["error"]["kind"].is_string());
    if let Some(failed) = failed {
        println!("a download error with its kind: {failed}");
    }
}
