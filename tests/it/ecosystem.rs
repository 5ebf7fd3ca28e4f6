//! What a Unix user expects of an installed tool, for every install (not only the .deb):
//! shell completions and man pages from the binary itself (`vfetchctl completions`,
//! `vfetchctl manpages`), completions that offer the values an option takes, man pages with the
//! conventional sections and a page for the config file, and metrics that Prometheus' own
//! checker accepts.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use vfetch::config::Config;

use crate::support::bin;

/// Runs vfetchctl without a daemon in reach: these commands must never need one.
fn ctl(args: &[&str]) -> Output {
    let runtime = tempfile::tempdir().unwrap();
    Command::new(bin("vfetchctl"))
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("VFETCH_NO_AUTOSTART", "true")
        .output()
        .unwrap_or_else(|e| panic!("vfetchctl {args:?}: {e}"))
}

fn stdout_of(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SUBCOMMANDS: [&str; 20] = [
    "add",
    "list",
    "show",
    "pause",
    "resume",
    "cancel",
    "priority",
    "status",
    "stats",
    "history",
    "suggest",
    "themes",
    "export",
    "cleanup",
    "watch",
    "metrics",
    "config",
    "shutdown",
    "completions",
    "manpages",
];

#[test]
fn completions_print_a_script_for_each_shell() {
    let bash = stdout_of(&ctl(&["completions", "bash"]), "completions bash");
    assert!(
        bash.contains("_vfetchctl()"),
        "no completion function:\n{bash}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            bash.contains(&format!("vfetchctl,{sub})")),
            "bash completion does not know {sub}"
        );
    }
    assert!(
        bash.contains("\"sd hd uhd best\""),
        "bash completion does not offer the qualities"
    );
    let zsh = stdout_of(&ctl(&["completions", "zsh"]), "completions zsh");
    assert!(zsh.starts_with("#compdef vfetchctl"), "{zsh}");
    let fish = stdout_of(&ctl(&["completions", "fish"]), "completions fish");
    assert!(fish.contains("complete -c vfetchctl"), "{fish}");
    assert!(
        fish.contains("-l quality") && fish.contains("uhd\\t"),
        "{fish}"
    );
}

/// What bash offers for the word after `words` (the last word being completed is empty).
fn bash_offers(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prev = words.last().copied().unwrap_or_default();
    let program = format!(
        "source '{}'; COMP_WORDS=({} ''); COMP_CWORD={}; _vfetchctl vfetchctl '' '{prev}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len(),
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    stdout_of(&out, &program)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_option_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("vfetchctl.bash");
    fs::write(
        &script,
        stdout_of(&ctl(&["completions", "bash"]), "completions"),
    )
    .unwrap();

    let words = |w: &[&str]| bash_offers(&script, w);
    assert_eq!(
        words(&["vfetchctl", "add", "x", "1", "-q"]),
        ["sd", "hd", "uhd", "best"]
    );
    assert_eq!(
        words(&["vfetchctl", "add", "x", "1", "--orientation"]),
        ["landscape", "portrait", "square"]
    );
    assert_eq!(
        words(&["vfetchctl", "add", "x", "1", "--source"]),
        ["pexels", "pixabay", "wikimedia", "archive"]
    );
    assert_eq!(
        words(&["vfetchctl", "list", "--state"]),
        [
            "queued",
            "searching",
            "downloading",
            "paused",
            "done",
            "failed",
            "cancelled"
        ]
    );
    assert_eq!(words(&["vfetchctl", "export", "--format"]), ["json", "csv"]);
    assert_eq!(
        words(&["vfetchctl", "stats", "--by"]),
        ["day", "week", "month"]
    );
    // A positional: the shells, besides the global options.
    let shells = words(&["vfetchctl", "completions"]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|w| w == shell), "{shells:?}");
    }
}

#[test]
fn bad_values_still_name_what_is_expected() {
    let out = ctl(&["add", "x", "1", "-q", "8k"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown quality \"8k\": expected one of sd, hd, uhd, best"),
        "{stderr}"
    );
}

fn section_names(page: &str) -> Vec<String> {
    page.lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .map(|s| s.trim_matches('"').to_owned())
        .collect()
}

#[test]
fn manpages_writes_the_pages_with_conventional_sections() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet is created.
    let out_dir = dir.path().join("share/man");
    let listed = stdout_of(&ctl(&["manpages", out_dir.to_str().unwrap()]), "manpages");
    let read = |name: &str| {
        let path = out_dir.join(name);
        assert!(
            listed.lines().any(|l| Path::new(l) == path),
            "manpages did not report {name}:\n{listed}"
        );
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };

    for (name, th) in [
        ("vfetchctl.1", ".TH vfetchctl 1 "),
        ("vfetchd.8", ".TH vfetchd 8 "),
    ] {
        let page = read(name);
        assert!(page.contains(th), "{name}:\n{page}");
        let sections = section_names(&page);
        for wanted in [
            "NAME",
            "SYNOPSIS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "SEE ALSO",
        ] {
            assert!(
                sections.iter().any(|s| s == wanted),
                "{name} has no {wanted} section: {sections:?}"
            );
        }
        assert!(
            page.contains("vfetchd.toml(5)"),
            "{name} does not point to the config page"
        );
    }
    let client = read("vfetchctl.1");
    // The exit statuses are listed, one per line.
    for status in [
        "0  success",
        "3  the daemon is unreachable",
        "5  the daemon speaks",
    ] {
        assert!(
            client.contains(status),
            "vfetchctl.1 lacks {status:?}:\n{client}"
        );
    }
    assert!(client.contains("VFETCH_SOCKET"));
    let daemon = read("vfetchd.8");
    assert!(daemon.contains("VFETCH_<KEY>") && daemon.contains("PEXELS_API_KEY"));
    assert!(read("vfetchctl-add.1").contains(".TH vfetchctl-add 1 "));

    // The config page documents every key, each section's keys under their [header].
    let config = read("vfetchd.toml.5");
    assert!(config.contains(".TH vfetchd.toml 5 "), "{config}");
    let sections = section_names(&config);
    for wanted in ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"] {
        assert!(sections.iter().any(|s| s == wanted), "{sections:?}");
    }
    for key in Config::keys() {
        let found = match key.rsplit_once('.') {
            None => config.contains(&format!("\\fB{key} = ")),
            Some((table, field)) => config
                .split_once(&format!(".SS [{table}]\n"))
                .and_then(|(_, rest)| rest.split(".SS ").next())
                .is_some_and(|body| body.contains(&format!("\\fB{field} = "))),
        };
        assert!(found, "vfetchd.toml.5 does not document {key}:\n{config}");
    }
    // Prose from the reference config comes along.
    assert!(config.contains("Downloads running at once, over all sources"));
}
