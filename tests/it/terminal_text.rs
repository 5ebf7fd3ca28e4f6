//! Provider and user text printed for a person: on a terminal, vfetchctl's tables, `show`,
//! `history` and JSON never pass on the characters that would clear the screen, retitle the
//! window, ring the bell or reverse what is shown; into a pipe, JSON stays faithful.

use crate::support::fake_provider::{fixtures, video_from_fixture, FakeProvider, Source};
use crate::support::{sources_config, Daemon};

/// Provider text that would like to take over the terminal: clear screen, an OSC window title
/// ended by BEL, and a right-to-left override.
const HOSTILE: &str = "evil\x1b[2J\x1b]0;pwned\x07 \u{202e}4pm.exe";

/// What must never reach a terminal raw.
const RAW: [char; 3] = ['\x1b', '\u{7}', '\u{202e}'];

/// A theme a user may type (no control characters, which `add` refuses) that still reverses text.
const THEME: &str = "hostile \u{202e}evil";

/// One finished download from a Wikimedia file whose name (its id and title) and author are
/// hostile, for a job whose theme is.
fn hostile_download() -> (FakeProvider, Daemon) {
    let provider = FakeProvider::start();
    let fixture = &fixtures()[0];
    let id = format!("Hostile {HOSTILE}.{}", fixture.ext);
    let mut video = video_from_fixture(
        Source::Wikimedia,
        &id,
        &format!("hostile {HOSTILE}"),
        fixture,
    );
    video.author = HOSTILE.to_string();
    provider.add(video);
    let config = sources_config(&provider.base_url(), &["wikimedia"], "", "");
    let daemon = Daemon::start_with(&format!("retry_base_ms = 50\n{config}"));
    let out = daemon.ctl(&["add", THEME, "1", "--wait"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    (provider, daemon)
}

/// Runs `vfetchctl <args>` with a wide pseudo-terminal as its stdout (util-linux `script`),
/// bounded by coreutils `timeout`.
fn on_a_terminal(daemon: &Daemon, args: &str) -> String {
    let line = format!("stty cols 500 2>/dev/null; {}", daemon.ctl_line(args));
    let out = crate::support::on_a_terminal(&line, 30)
        .output()
        .expect("run script");
    assert!(out.status.success(), "{args}: {out:?}");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

fn assert_neutral(what: &str, shown: &str) {
    for bad in RAW {
        assert!(
            !shown.contains(bad),
            "{bad:?} reached the terminal in `{what}`: {shown:?}"
        );
    }
}

#[test]
fn tables_and_show_neutralise_control_and_bidi_characters_on_a_terminal() {
    let (_provider, daemon) = hostile_download();

    let show = on_a_terminal(&daemon, "show 1");
    assert_neutral("show", &show);
    // Neutralised, not dropped: the file's name is still there, its escapes made visible.
    assert!(
        show.contains("Hostile evil\\x1b[2J\\x1b]0;pwned\\x07"),
        "{show}"
    );

    let list = on_a_terminal(&daemon, "list");
    assert_neutral("list", &list);
    assert!(list.contains("hostile \\u{202e}evil"), "{list}");

    let history = on_a_terminal(&daemon, "history");
    assert_neutral("history", &history);
    assert!(history.contains("hostile \\u{202e}evil"), "{history}");
    assert!(history.contains("\\x1b[2J"), "{history}");
}

#[test]
fn json_on_a_terminal_is_neutral_and_keeps_its_data_and_a_pipe_gets_it_as_it_is() {
    let (_provider, daemon) = hostile_download();

    for args in ["show 1 --json", "list --json", "history --json"] {
        let json = on_a_terminal(&daemon, args);
        assert_neutral(args, &json);
        let value: serde_json::Value = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{args} is not JSON ({e}): {json:?}"));
        // Escaped the JSON way, so whoever parses it still gets every character.
        assert!(has_string(&value, THEME), "{args} lost the theme: {json}");
    }
    let show = on_a_terminal(&daemon, "show 1 --json");
    let detail: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert!(has_string(&detail, HOSTILE), "show lost the author: {show}");

    // A pipe is not a terminal: the same JSON as serde writes it, U+202E and all.
    let piped = daemon.ctl(&["show", "1", "--json"]);
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.contains('\u{202e}'), "{piped}");
    let back: serde_json::Value = serde_json::from_str(&piped).unwrap();
    assert!(has_string(&back, HOSTILE), "{piped}");
}

/// Whether `wanted` is one of the strings anywhere in `value`.
fn has_string(value: &serde_json::Value, wanted: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s == wanted,
        serde_json::Value::Array(items) => items.iter().any(|v| has_string(v, wanted)),
        serde_json::Value::Object(map) => map.values().any(|v| has_string(v, wanted)),
        _ => false,
    }
}
