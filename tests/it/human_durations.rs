//! Durations in the config file as people write them (`"45s"`, `"100/1m"`), beside the whole
//! numbers they always took; `config get` prints the whole-number form.

use std::time::{Duration, Instant};

use crate::support::{sources_config, Daemon};

/// Every source off, at an address nothing is sent to (no job is added).
fn quiet_sources() -> String {
    sources_config("http://127.0.0.1:9", &[], "", "")
}

#[test]
fn human_durations_in_the_config_file_print_as_whole_numbers() {
    let sources = quiet_sources().replacen(
        "rate_limit = \"10000/1\"",
        "rate_limit = \"100/1m, 20000/30d\"",
        1,
    );
    assert!(sources.contains("[sources.pexels]\n"), "{sources}");
    let daemon = Daemon::start_with(&format!(
        "stall_timeout_secs = \"45s\"\n\
         breaker_recovery_secs = \"1h 30m\"\n\
         retry_base_ms = \"2s\"\n\
         backup_interval_hours = \"2d\"\n\
         {sources}"
    ));
    let out = daemon.ctl(&["config", "get"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    for line in [
        "stall_timeout_secs = 45\n",
        "breaker_recovery_secs = 5400\n",
        "retry_base_ms = 2000\n",
        "backup_interval_hours = 48\n",
        "sources.pexels.rate_limit = \"100/60,20000/2592000\"\n",
    ] {
        assert!(text.contains(line), "expected {line:?} in:\n{text}");
    }
    // The printed form is TOML that reads back.
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("`config get` is not TOML ({e}):\n{text}"));
}

#[test]
fn a_bad_duration_stops_vfetchd_naming_the_key_and_both_forms() {
    let daemon = Daemon::configure(&format!(
        "stall_timeout_secs = \"soon\"\n{}",
        quiet_sources()
    ));
    let mut child = daemon.command().spawn().expect("spawn vfetchd");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "vfetchd accepted stall_timeout_secs = \"soon\":\n{}",
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = daemon.log();
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains(
            "key `stall_timeout_secs`: expected a whole number of seconds (45) or a duration \
             (\"45s\", \"2m\" or \"1h 30m\"), got \"soon\""
        ),
        "{log}"
    );
}
