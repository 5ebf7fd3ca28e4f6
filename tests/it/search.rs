//! Theme search across the four providers, through the real daemon and the fake provider.

use std::time::{Duration, Instant};

use crate::support::fake_provider::{
    fixtures, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::{sources_config, wait_until, Daemon};
use serde_json::Value;

const ALL: [&str; 4] = ["pexels", "pixabay", "wikimedia", "archive"];

fn candidates(daemon: &Daemon, id: i64) -> Vec<Value> {
    daemon.show(id)["candidates"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the job has `n` candidates or has ended, and returns its `show`.
fn wait_for_candidates(daemon: &Daemon, id: i64, n: usize) -> Value {
    let mut last = Value::Null;
    wait_until(Duration::from_secs(30), "candidates", || {
        last = daemon.show(id);
        let found = last["candidates"].as_array().map_or(0, Vec::len);
        let state = last["job"]["state"].as_str().unwrap_or("");
        found >= n || matches!(state, "done" | "failed" | "cancelled")
    });
    last
}

/// Adds fixtures `indices` as videos of `source` about `theme`.
fn add_videos(provider: &FakeProvider, source: Source, theme: &str, indices: &[usize]) {
    let all = fixtures();
    for (k, i) in indices.iter().enumerate() {
        let id = match source {
            Source::Pexels => format!("{}", 10_000 + i * 10 + k),
            Source::Pixabay => format!("{}", 20_000 + i * 10 + k),
            Source::Wikimedia => format!("{theme} {k}.{}", all[*i].ext),
            Source::Archive => format!("{}-{k}", theme.replace(' ', "-")),
        };
        provider.add(video_from_fixture(
            source,
            &id,
            &format!("{theme} {k}"),
            &all[*i],
        ));
    }
}

#[test]
fn each_source_alone_yields_candidates_with_full_attribution() {
    for (name, source) in ALL.iter().zip(Source::ALL) {
        let provider = FakeProvider::start();
        provider.add_fixtures(source, "ocean waves", 6);
        let daemon = Daemon::for_provider(&provider, &[name], "");
        let id = daemon.add(&["ocean waves", "5"]);
        let shown = wait_for_candidates(&daemon, id, 5);
        let found = shown["candidates"].as_array().expect("candidates");
        assert!(found.len() >= 5, "{name}: {shown:#}");
        for c in found {
            let v = c;
            let a = &c["attribution"];
            assert_eq!(a["source"], *name, "{v}");
            for field in ["source_id", "title", "page_url", "author_name", "license"] {
                let text = a[field].as_str().unwrap_or("");
                assert!(!text.is_empty(), "{name}: {field} missing in {v}");
            }
            for field in ["url", "mime"] {
                let text = v[field].as_str().unwrap_or("");
                assert!(!text.is_empty(), "{name}: {field} missing in {v}");
            }
            assert!(
                v["url"].as_str().unwrap().starts_with(&provider.base_url()),
                "{v}"
            );
            assert!(
                v["width"].as_u64().unwrap_or(0) > 0 && v["height"].as_u64().unwrap_or(0) > 0,
                "{v}"
            );
            assert!(v["duration"].as_f64().unwrap_or(0.0) > 0.0, "{v}");
        }
        // Each request was recorded in the search history.
        assert!(!provider.requests().is_empty());
    }
}

#[test]
fn sources_are_searched_concurrently() {
    // Long enough that searches one after another would start at least this far apart, even
    // on a loaded machine where the daemon takes a while to send four requests.
    let latency = Duration::from_secs(1);
    let provider = FakeProvider::start();
    for (i, source) in Source::ALL.into_iter().enumerate() {
        add_videos(&provider, source, "city lights", &[2 * i, 2 * i + 1]);
    }
    for path in [
        "/videos/search",
        "/api/videos",
        "/w/api.php",
        "/advancedsearch.php",
    ] {
        provider.fault(FaultRule::always(path, Fault::Latency(latency)));
    }
    let daemon = Daemon::for_provider(&provider, &ALL, "");
    let id = daemon.add(&["city lights", "8"]);
    wait_until(
        Duration::from_secs(20),
        "candidates from every source",
        || {
            let found = candidates(&daemon, id);
            ALL.iter()
                .all(|s| found.iter().any(|c| c["attribution"]["source"] == *s))
        },
    );

    let first_search: Vec<Instant> = [
        "/videos/search",
        "/api/videos",
        "/w/api.php",
        "/advancedsearch.php",
    ]
    .iter()
    .map(|p| provider.requests_to(p).first().expect("searched").at)
    .collect();
    let spread = *first_search.iter().max().unwrap() - *first_search.iter().min().unwrap();
    // One after another, each search would start only when the one before had waited out the
    // latency; together, all four start before the first answer. (How much faster that is, is
    // a benchmark's job, not a timed test's.)
    assert!(
        spread < latency,
        "searches went out {spread:?} apart: not concurrent"
    );
}

#[test]
fn every_filter_removes_what_it_should() {
    let provider = FakeProvider::start();
    let all = fixtures();
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
    // (theme, add args, predicate every candidate must meet)
    type Check = fn(&Value) -> bool;
    let cases: Vec<(&str, Vec<&str>, Check)> = vec![
        ("filter portrait", vec!["-o", "portrait"], |v| {
            v["height"].as_u64() > v["width"].as_u64()
        }),
        ("filter square", vec!["-o", "square"], |v| {
            v["height"] == v["width"]
        }),
        ("filter long", vec!["--min-duration", "4"], |v| {
            v["duration"].as_f64().unwrap() >= 4.0
        }),
        ("filter short", vec!["--max-duration", "2"], |v| {
            v["duration"].as_f64().unwrap() <= 2.0
        }),
        ("filter wide", vec!["--min-width", "600"], |v| {
            v["width"].as_u64().unwrap() >= 600
        }),
        ("filter tall", vec!["--min-height", "300"], |v| {
            v["height"].as_u64().unwrap() >= 300
        }),
        ("filter small", vec!["--max-size", "1"], |v| {
            v["size"].as_u64().unwrap() <= 1 << 20
        }),
        ("filter hd", vec!["-q", "hd"], |v| {
            v["height"].as_u64().unwrap() >= 720
        }),
        ("filter sd", vec!["-q", "sd"], |v| {
            v["height"].as_u64().unwrap() < 720
        }),
    ];
    for (theme, args, check) in cases {
        let indices: Vec<usize> = (0..all.len()).collect();
        add_videos(&provider, Source::Wikimedia, theme, &indices);
        // Videos only a working filter removes: large, and high-definition.
        let mut big = video_from_fixture(
            Source::Wikimedia,
            &format!("{theme} big.mp4"),
            &format!("{theme} big"),
            &all[0],
        );
        big.data = vec![7u8; 2 << 20];
        provider.add(big);
        let mut hd = video_from_fixture(
            Source::Wikimedia,
            &format!("{theme} hd.mp4"),
            &format!("{theme} hd"),
            &all[1],
        );
        hd.width = 1280;
        hd.height = 720;
        provider.add(hd);

        let mut add = vec![theme, "20"];
        add.extend(args.iter().copied());
        let id = daemon.add(&add);
        let shown = wait_for_candidates(&daemon, id, 20);
        let found = shown["candidates"].as_array().unwrap();
        assert!(!found.is_empty(), "{theme}: nothing passed: {shown:#}");
        assert!(
            found.len() < all.len() + 2,
            "{theme}: the filter removed nothing"
        );
        for c in found {
            assert!(check(c), "{theme}: {} should have been filtered out", c);
        }
    }
}

#[test]
fn malformed_responses_are_per_source_errors_and_the_job_goes_on() {
    let cases: Vec<(&str, Fault, &str)> = vec![
        ("malformed json", Fault::MalformedJson, "malformed response"),
        ("wrong types", Fault::Body(r#"{"query":{"pages":"not a list"}}"#.into()), "malformed response"),
        ("missing fields", Fault::Body(r#"{"query":{"pages":[{"pageid":1,"ns":6,"title":"File:A.webm"}]}}"#.into()), "no imageinfo"),
        ("negative size", Fault::Body(r#"{"query":{"pages":[{"title":"File:B.webm","imageinfo":[{"url":"http://127.0.0.1:1/b.webm","size":-5,"mime":"video/webm"}]}]}}"#.into()), "skipped"),
        ("non http url", Fault::Body(r#"{"query":{"pages":[{"title":"File:C.webm","imageinfo":[{"url":"file:///etc/passwd","size":5,"mime":"video/webm"}]}]}}"#.into()), "non-HTTP"),
        ("server error", Fault::Status { code: 500, retry_after: None }, "HTTP 500"),
    ];
    for (what, fault, expected) in cases {
        let provider = FakeProvider::start();
        add_videos(&provider, Source::Archive, "forest rain", &[0, 1, 2]);
        add_videos(&provider, Source::Wikimedia, "forest rain", &[3, 4]);
        provider.fault(FaultRule::always("/w/api.php", fault));
        let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], "");
        let id = daemon.add(&["forest rain", "2"]);
        let shown = wait_for_candidates(&daemon, id, 2);
        let mut errors = Vec::new();
        wait_until(
            Duration::from_secs(15),
            "the wikimedia error on the job",
            || {
                errors = daemon.show(id)["job"]["errors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                errors
                    .iter()
                    .any(|e| e.as_str().unwrap_or("").starts_with("wikimedia"))
            },
        );
        let line = errors
            .iter()
            .filter_map(Value::as_str)
            .find(|e| e.starts_with("wikimedia"))
            .unwrap();
        assert!(line.contains(expected), "{what}: {line}");
        let found = shown["candidates"].as_array().unwrap();
        assert!(found.len() >= 2, "{what}: {shown:#}");
        assert!(
            found
                .iter()
                .all(|c| c["attribution"]["source"] == "archive"),
            "{what}: {shown:#}"
        );
    }
}

#[test]
fn with_every_source_unreachable_add_wait_fails_fast_with_a_reason_each() {
    let config = sources_config("http://127.0.0.1:9", &ALL, "some-key", "other-key");
    let daemon = Daemon::start_with(&config);
    let started = Instant::now();
    let out = daemon.ctl(&["add", "northern lights", "3", "--wait"]);
    let elapsed = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("failed"), "{stdout}");
    for source in ALL {
        assert!(
            stdout.contains(&format!("{source}: cannot connect to 127.0.0.1:9")),
            "{source} reason missing:\n{stdout}"
        );
    }
}

#[test]
fn api_keys_never_reach_logs_or_output() {
    let provider = FakeProvider::start();
    add_videos(&provider, Source::Pexels, "snow", &[0, 1]);
    let wrong_pixabay = "SECRET-PIXABAY-0xDEADBEEF";
    let config = sources_config(
        &provider.base_url(),
        &["pexels", "pixabay"],
        provider.api_key(Source::Pexels),
        wrong_pixabay,
    );
    let daemon = Daemon::start_with(&config);
    let id = daemon.add(&["snow", "2"]);
    wait_until(
        Duration::from_secs(15),
        "pixabay's refusal on the job",
        || {
            daemon.show(id)["job"]["errors"]
                .to_string()
                .contains("pixabay")
        },
    );
    let secrets = [provider.api_key(Source::Pexels), wrong_pixabay];
    let outputs = [
        daemon.log(),
        daemon.show(id).to_string(),
        daemon.ctl_json(&["status"]).to_string(),
        String::from_utf8_lossy(&daemon.ctl(&["show", &id.to_string()]).stdout).to_string(),
        String::from_utf8_lossy(&daemon.ctl(&["status"]).stdout).to_string(),
    ];
    assert!(
        daemon.log().contains("DEBUG"),
        "the daemon runs at debug level here"
    );
    for secret in secrets {
        for (i, text) in outputs.iter().enumerate() {
            assert!(!text.contains(secret), "output {i} leaks {secret}:\n{text}");
        }
    }
}
