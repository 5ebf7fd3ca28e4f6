//! Plain words instead of debug text: `watch` into a pipe tells of an opening breaker in a
//! sentence, and the human `status` shows everything `status --json` has (breaker, rate limit,
//! validation, problems), with an open breaker never reading `ok`.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::support::fake_provider::{FakeProvider, Fault, FaultRule, Source};
use crate::support::on_a_terminal;
use crate::support::{bin, wait_until, Daemon};

/// One failed file request opens the wikimedia breaker; retries come quickly.
fn breaker_config(recovery_secs: u64) -> String {
    format!(
        "retry_base_ms = 50\nbreaker_failures = 1\nbreaker_recovery_secs = {recovery_secs}\ndownload_tries = 10\n"
    )
}

/// A daemon whose first wikimedia file request gets a 500.
fn failing_once(theme: &str, recovery_secs: u64) -> (FakeProvider, Daemon) {
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Wikimedia, theme, 1);
    provider.fault(FaultRule::times(
        "/files/wikimedia",
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        1,
    ));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], &breaker_config(recovery_secs));
    (provider, daemon)
}

/// Collects everything a child writes to one stream.
fn collect(mut stream: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (text, reader)
}

/// `vfetchctl watch` for everything, stdout and stderr into pipes.
fn spawn_watch(daemon: &Daemon) -> Child {
    Command::new(bin("vfetchctl"))
        .arg("--config")
        .arg(&daemon.config_path)
        .arg("--no-autostart")
        .arg("watch")
        .env_remove("VFETCH_SOCKET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vfetchctl watch")
}

#[test]
fn watch_tells_of_an_opening_breaker_in_a_sentence_not_debug_text() {
    let (_provider, daemon) = failing_once("storm front", 2);
    let mut watch = spawn_watch(&daemon);
    let (out, out_reader) = collect(watch.stdout.take().expect("stdout"));
    let (err, err_reader) = collect(watch.stderr.take().expect("stderr"));
    // The idle notice comes after the subscription, so no event of the job can be missed.
    wait_until(Duration::from_secs(20), "watch to subscribe", || {
        err.lock().unwrap().contains("waiting for work")
    });
    let id = daemon.add(&["storm front", "1"]);
    wait_until(Duration::from_secs(60), "the job to end", || {
        daemon.show(id)["job"]["state"] == "done"
    });
    // Its last line, whatever its wording, names the job and "done".
    wait_until(
        Duration::from_secs(20),
        "watch to show the job done",
        || {
            let text = out.lock().unwrap();
            text.lines()
                .any(|l| l.starts_with(&format!("job {id}")) && l.contains("done"))
        },
    );
    let _ = watch.kill();
    let _ = watch.wait();
    let _ = out_reader.join();
    let _ = err_reader.join();
    let text = out.lock().unwrap().clone();
    println!("watch printed:\n{text}");

    let opened = text
        .lines()
        .find(|l| l.starts_with("wikimedia is failing: pausing requests"))
        .unwrap_or_else(|| panic!("no sentence for the open breaker:\n{text}"));
    assert!(opened.ends_with(", then trying again"), "{opened}");
    // The daemon announces the trial after the pause (it used to go from open to closed).
    let trial = text
        .find("wikimedia: pause over; trying a few requests")
        .unwrap_or_else(|| panic!("no sentence for the half-open breaker:\n{text}"));
    let closed = text
        .find("wikimedia works again: requests resume")
        .unwrap_or_else(|| panic!("no sentence for the closed breaker:\n{text}"));
    assert!(
        trial < closed,
        "the trial comes before the recovery:\n{text}"
    );
    assert!(text.contains(&format!("job {id}: done (1/1)")), "{text}");
    for artefact in ["Breaker {", "BreakerChange", "Some(", "None", "{", "}"] {
        assert!(
            !text.contains(artefact),
            "{artefact:?} in watch output:\n{text}"
        );
    }
}

#[test]
fn add_wait_on_a_terminal_prints_sentences_above_the_bars_not_debug_text() {
    let (provider, daemon) = failing_once("night ferry", 2);
    // A slow search leaves `add --wait` ample time to subscribe before the breaker opens.
    provider.fault(FaultRule::times(
        "/w/api.php",
        Fault::Latency(Duration::from_secs(2)),
        1,
    ));
    let line = format!(
        "stty cols 200 2>/dev/null; {}",
        daemon.ctl_line("add 'night ferry' 1 --wait")
    );
    let out = on_a_terminal(&line, 90).output().expect("run script");
    let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    println!("terminal showed:\n{shown}");
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    assert!(
        shown.contains("wikimedia is failing: pausing requests for "),
        "no sentence for the open breaker:\n{shown}"
    );
    for artefact in ["Breaker {", "BreakerChange", "Some(", "None"] {
        assert!(
            !shown.contains(artefact),
            "{artefact:?} on the terminal:\n{shown}"
        );
    }
}

/// The row of `source` in the human status table.
fn row<'a>(human: &'a str, source: &str) -> &'a str {
    human
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{source} ")))
        .unwrap_or_else(|| panic!("no row for {source}:\n{human}"))
}

/// The number after `label` in `line`, if any.
fn number_after(line: &str, label: &str) -> Option<u64> {
    let rest = &line[line.find(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
}

/// Asserts the human row shows `key` of one source's JSON.
fn source_field_shown(human: &str, source: &Value, key: &str) {
    let name = source["source"].as_str().expect("source name");
    let line = row(human, name);
    let value = &source[key];
    match key {
        "source" => {}
        "state" => {
            let words = match value.as_str().expect("state") {
                "ok" => " ok ",
                "disabled" => "disabled",
                "failing" => "failing",
                "recovering" => "recovering",
                "waiting" => "waiting",
                other => panic!("source state {other:?} has no words"),
            };
            assert!(line.contains(words), "{name}: {words:?} not in {line:?}");
        }
        "reason" => {
            if let Some(reason) = value.as_str() {
                assert!(line.contains(reason), "{name}: {reason:?} not in {line:?}");
            }
        }
        "base_url" => {
            let url = value.as_str().expect("base url");
            assert!(line.contains(url), "{url} not in {line:?}");
        }
        "breaker" => {
            let words = match value["state"].as_str().expect("breaker state") {
                "closed" => "closed",
                "open" => "open",
                "half_open" => "half-open",
                other => panic!("breaker state {other:?} has no words"),
            };
            assert!(line.contains(words), "{words} not in {line:?}");
            match value["next_trial_secs"].as_u64() {
                // The human status was asked for after the JSON, so its wait may be shorter.
                Some(n) => {
                    let shown = number_after(line, "next trial in ")
                        .unwrap_or_else(|| panic!("no next trial in {line:?}"));
                    assert!(shown <= n && shown + 3 >= n, "{shown} vs {n}: {line:?}");
                }
                None => assert!(!line.contains("next trial"), "{line:?}"),
            }
        }
        "waiting_secs" => {
            assert_eq!(
                line.contains("next request in"),
                !value.is_null(),
                "waiting {value} vs {line:?}"
            );
        }
        "rate_limit" => {
            for window in value["windows"].as_array().expect("rate-limit windows") {
                // The room used may have moved between the two calls; the limit has not.
                let limit = &window["limit"];
                assert!(
                    line.contains(&format!(" of {limit} ")),
                    "{window}: {line:?}"
                );
            }
        }
        other => panic!("status --json key sources[].{other} has no counterpart in `status`"),
    }
}

/// Asserts the human status shows top-level `key` of the JSON.
fn field_shown(human: &str, json: &Value, key: &str) {
    let value = &json[key];
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    match key {
        // Which schema the JSON speaks: nothing for people to read.
        "schema_version" => {}
        "validation" => {
            let expected = value["detail"]
                .as_str()
                .or(value["state"].as_str())
                .expect("validation detail or state");
            assert!(
                human.contains(expected),
                "validation {expected:?} not in:\n{human}"
            );
        }
        "daemon_version" | "socket" | "database" | "library_dir" => {
            let expected = text(value);
            assert!(
                human.contains(&expected),
                "{key} {expected:?} not in:\n{human}"
            );
        }
        "protocol_version" => assert!(human.contains(&format!("(protocol {value})")), "{human}"),
        "pid" => assert!(human.contains(&format!("pid  {value}\n")), "{human}"),
        "web_url" => match value.as_str() {
            Some(url) => assert!(human.contains(&format!("web  {url}\n")), "{human}"),
            None => assert!(human.contains("       web  off\n"), "{human}"),
        },
        "uptime_secs" => assert!(human.contains("    uptime  "), "{human}"),
        "jobs" => {
            let line = human
                .lines()
                .find(|l| l.trim_start().starts_with("jobs  "))
                .unwrap_or_else(|| panic!("no jobs line:\n{human}"));
            for state in value.as_object().expect("jobs by state").keys() {
                assert!(
                    number_after(line, &format!("{state} ")).is_some(),
                    "{state} not in {line:?}"
                );
            }
        }
        "active_downloads" => assert!(human.contains(" active of "), "{human}"),
        "parallel_downloads" => {
            assert!(human.contains(&format!(" of {value} parallel")), "{human}")
        }
        "problems" => {
            let problems = value.as_array().expect("problems");
            if problems.is_empty() {
                assert!(human.contains("  problems  none\n"), "{human}");
            }
            for problem in problems {
                assert!(human.contains(&text(problem)), "{problem} not in:\n{human}");
            }
        }
        "sources" => {
            for source in value.as_array().expect("sources") {
                for key in source.as_object().expect("a source").keys() {
                    source_field_shown(human, source, key);
                }
            }
        }
        other => panic!("status --json key {other} has no counterpart in `status`"),
    }
}

#[test]
fn status_shows_an_open_breaker_and_every_json_field_in_words() {
    let (_provider, daemon) = failing_once("harbour fog", 120);
    daemon.add(&["harbour fog", "1"]);
    let mut json = Value::Null;
    wait_until(
        Duration::from_secs(30),
        "the wikimedia breaker to open",
        || {
            json = daemon.ctl_json(&["status"]);
            json["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["source"] == "wikimedia" && s["breaker"]["state"] == "open")
        },
    );
    let out = daemon.ctl(&["status"]);
    assert!(out.status.success(), "{out:?}");
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("status printed:\n{human}");

    let wiki = row(&human, "wikimedia");
    assert!(
        !wiki.contains(" ok "),
        "an open breaker must not read ok: {wiki:?}"
    );
    assert!(wiki.contains("failing"), "{wiki:?}");
    assert!(wiki.contains("open, next trial in "), "{wiki:?}");
    // The rate limit with its room used, as the JSON counts it ("2 of 10000 this second").
    let used = wiki
        .split(" of 10000 this second")
        .next()
        .and_then(|before| before.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(
        wiki.contains(" of 10000 this second") && used.is_some(),
        "{wiki:?}"
    );
    let keys: Vec<String> = json
        .as_object()
        .expect("status object")
        .keys()
        .cloned()
        .collect();
    for key in &keys {
        field_shown(&human, &json, key);
    }
}
