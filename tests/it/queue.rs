//! The durable priority queue, driven through the real binaries.

use crate::support::{assert_fails, Daemon};
use serde_json::Value;

fn themes(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|j| j["theme"].as_str().expect("theme").to_string())
        .collect()
}

#[test]
fn jobs_are_listed_in_priority_order_with_their_options() {
    let daemon = Daemon::start();
    daemon.add(&[
        "ocean waves",
        "3",
        "--priority",
        "1",
        "--quality",
        "hd",
        "--orientation",
        "landscape",
    ]);
    daemon.add(&[
        "city night",
        "5",
        "--priority",
        "10",
        "--min-duration",
        "5",
        "--max-duration",
        "30",
        "-s",
        "wikimedia",
    ]);
    daemon.add(&[
        "forest",
        "2",
        "--priority",
        "-4",
        "--min-width",
        "1280",
        "--min-height",
        "720",
        "--max-size",
        "50",
    ]);

    let list = daemon.ctl_json(&["list"]);
    assert_eq!(themes(&list), ["city night", "ocean waves", "forest"]);
    let city = &list[0];
    assert_eq!(city["priority"], 10);
    assert_eq!(city["count"], 5);
    // Its sources never answer in this test, so the job is waiting on its first search.
    assert!(
        city["state"] == "queued" || city["state"] == "searching",
        "{city}"
    );
    assert_eq!(city["options"]["min_duration"], 5);
    assert_eq!(city["options"]["max_duration"], 30);
    assert_eq!(city["options"]["sources"], serde_json::json!(["wikimedia"]));
    assert_eq!(list[1]["options"]["quality"], "hd");
    assert_eq!(list[1]["options"]["orientation"], "landscape");
    assert_eq!(list[2]["options"]["min_width"], 1280);
    assert_eq!(list[2]["options"]["max_file_size_mb"], 50);

    let page = daemon.ctl_json(&["list", "--limit", "1", "--offset", "1"]);
    assert_eq!(themes(&page), ["ocean waves"]);
}

#[test]
fn control_commands_change_state_and_survive_a_restart() {
    let mut daemon = Daemon::start();
    let a = daemon.add(&["alpha", "2"]);
    let b = daemon.add(&["beta", "2"]);
    let c = daemon.add(&["gamma", "2"]);

    assert_eq!(
        daemon.ctl_json(&["pause", &a.to_string()])[0]["state"],
        "paused"
    );
    assert_eq!(
        daemon.ctl_json(&["cancel", &b.to_string()])[0]["state"],
        "cancelled"
    );
    assert_eq!(
        daemon.ctl_json(&["priority", &c.to_string(), "7"])[0]["priority"],
        7
    );
    // A cancelled job cannot be resumed: refused with exit 4, nothing changes.
    assert_fails(&daemon.ctl(&["resume", &b.to_string()]), 4, "cancelled");

    assert_eq!(daemon.terminate().code(), Some(0));
    daemon.spawn();

    assert_eq!(daemon.show(a)["job"]["state"], "paused");
    assert_eq!(daemon.show(b)["job"]["state"], "cancelled");
    assert_eq!(daemon.show(c)["job"]["priority"], 7);
    assert_eq!(
        themes(&daemon.ctl_json(&["list"])),
        ["gamma", "alpha", "beta"]
    );

    let resumed = daemon.ctl_json(&["resume", &a.to_string()]);
    assert_eq!(resumed[0]["state"], "queued");
    let paused_all = daemon.ctl_json(&["pause", "--all"]);
    assert_eq!(paused_all.as_array().map(Vec::len), Some(2), "{paused_all}");
    let queued = daemon.ctl_json(&["list", "--state", "queued"]);
    assert_eq!(queued.as_array().map(Vec::len), Some(0));
    let resumed_all = daemon.ctl_json(&["resume", "--all"]);
    assert_eq!(resumed_all.as_array().map(Vec::len), Some(2));
}

#[test]
fn every_job_survives_kill_9_unchanged() {
    let mut daemon = Daemon::start();
    let a = daemon.add(&["sunset timelapse", "4", "-p", "3", "-q", "uhd"]);
    let b = daemon.add(&["rain on glass", "1"]);
    daemon.ctl_json(&["pause", &b.to_string()]);
    let before = daemon.ctl_json(&["list"]);

    daemon.kill9();
    daemon.spawn();

    let after = daemon.ctl_json(&["list"]);
    // Everything but the time of the last change (interrupted searches restart) is identical.
    let strip = |list: &Value| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|j| {
                let mut j = j.clone();
                j.as_object_mut().unwrap().remove("updated_at");
                let state = j["state"].as_str().unwrap().replace("searching", "queued");
                j["state"] = Value::String(state);
                j
            })
            .collect()
    };
    assert_eq!(strip(&before), strip(&after), "jobs changed across kill -9");
    assert_eq!(daemon.show(a)["job"]["options"]["quality"], "uhd");
}

#[test]
fn hostile_themes_are_stored_and_shown_verbatim() {
    let daemon = Daemon::start();
    let themes = [
        "it's a \"quoted\" theme",
        "100% ; DROP TABLE jobs; '--",
        "../../etc/passwd",
        "Müller über Straße — 東京の夜",
    ];
    for theme in themes {
        let id = daemon.add(&[theme, "1"]);
        assert_eq!(daemon.show(id)["job"]["theme"], theme);
    }
    let human = daemon.ctl(&["list"]);
    let text = String::from_utf8_lossy(&human.stdout);
    for theme in themes {
        assert!(text.contains(theme), "{theme:?} missing from:\n{text}");
    }
}
