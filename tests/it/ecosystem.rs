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

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shell code of a maintainer script, without comments.
fn code_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim())
        .filter(|l| !l.starts_with('#') || *l == "#DEBHELPER#")
        .collect()
}

#[test]
fn maintainer_scripts_leave_units_to_deb_systemd_helper_and_keep_the_account() {
    for name in ["postinst", "prerm", "postrm"] {
        let script = repo_file(&format!("packaging/debian/{name}"));
        let code = code_lines(&script);
        // cargo-deb puts the deb-systemd-helper/-invoke snippets in place of this line; a
        // comment naming it would be replaced too and break the script.
        assert_eq!(
            script.matches("#DEBHELPER#").count(),
            1,
            "{name} must hold #DEBHELPER# once, on a line of its own"
        );
        assert!(code.contains(&"#DEBHELPER#"), "{name}:\n{script}");
        for line in &code {
            assert!(
                !line.split_whitespace().any(|w| w == "systemctl"),
                "{name} calls systemctl (lintian: maintainer-script-calls-systemctl): {line}"
            );
        }
    }
    // Debian keeps system accounts on purge.
    let postrm = repo_file("packaging/debian/postrm");
    for line in code_lines(&postrm) {
        assert!(
            !line.contains("deluser") && !line.contains("delgroup"),
            "postrm removes the account: {line}"
        );
    }
    let manifest: toml::Table = repo_file("Cargo.toml").parse().unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let units = &deb["systemd-units"];
    assert_eq!(
        units["enable"].as_bool(),
        Some(false),
        "a fresh install enables nothing"
    );
    assert_eq!(
        units["start"].as_bool(),
        Some(false),
        "a fresh install starts nothing"
    );
}

#[test]
fn debian_metadata_satisfies_lintian() {
    let manifest: toml::Table = repo_file("Cargo.toml").parse().unwrap();
    let package = &manifest["package"];
    let deb = &package["metadata"]["deb"];
    // The synopsis (the package description): short, no leading article, no final full stop.
    let synopsis = package["description"].as_str().unwrap();
    assert!(synopsis.len() <= 80, "synopsis too long: {synopsis}");
    let first = synopsis
        .split_whitespace()
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(!["a", "an", "the"].contains(&first.as_str()), "{synopsis}");
    assert!(!synopsis.ends_with('.'), "{synopsis}");
    // A copyright notice has a year.
    let copyright = deb["copyright"].as_str().unwrap();
    assert!(
        copyright
            .split_whitespace()
            .any(|w| w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit())),
        "copyright without a year: {copyright}"
    );
    // The changelog's newest entry is this version, Debian revision 1.
    let changelog = repo_file(deb["changelog"].as_str().expect("a Debian changelog"));
    let first_line = changelog.lines().next().unwrap_or_default();
    let wanted = format!("vfetch ({}-1) ", env!("CARGO_PKG_VERSION"));
    assert!(
        first_line.starts_with(&wanted),
        "the changelog's newest entry is {first_line:?}, not {wanted:?}"
    );
    // The conffile ships 0644 (lintian: non-standard-file-perm); postinst narrows it to 0640.
    let config_asset = deb["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_array())
        .find(|a| a[1].as_str() == Some("etc/vfetchd/config.toml"))
        .expect("the config asset");
    assert_eq!(config_asset[2].as_str(), Some("644"));
    assert!(repo_file("packaging/debian/postinst")
        .contains("set_perms \"root:$GROUP_NAME\" 0640 \"$CONFIG\""));
    // ci-deb-check runs lintian and fails on errors and warnings; CI installs it.
    let check = repo_file("packaging/ci-deb-check.sh");
    assert!(
        check.contains("lintian --fail-on error,warning"),
        "ci-deb-check.sh runs no lintian"
    );
    assert!(repo_file(".ci/run").contains("need+=(lintian)"));
}

/// `promtool` from PATH. Missing, the test is skipped with a notice, except in CI (`CI` set),
/// where .ci/run installs it and its absence is a failure.
fn promtool() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing (.ci/run installs it from the prometheus package)"
        );
        eprintln!("NOTICE: promtool check skipped: promtool is not installed (see .ci/run)");
    }
    found
}

/// The value of the one sample of `name` (with exactly these `labels`, "" for none).
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let prefix = format!("{name}{labels} ");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no sample {name}{labels} in:\n{text}"));
    line[prefix.len()..]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn metrics_pass_promtool_and_carry_build_info_and_process_figures() {
    let daemon = crate::support::Daemon::start();
    let out = daemon.ctl(&["metrics"]);
    let text = stdout_of(&out, "vfetchctl metrics");

    // Standard names, so dashboards for any exporter work.
    assert_eq!(
        sample(
            &text,
            "vfetch_build_info",
            &format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"))
        ),
        1.0
    );
    for (name, kind) in [
        ("vfetch_build_info", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "no {kind} {name}:\n{text}"
        );
    }
    let rss = sample(&text, "process_resident_memory_bytes", "");
    assert!(rss > 100_000.0, "resident memory {rss}");
    assert!(sample(&text, "process_virtual_memory_bytes", "") >= rss);
    assert!(sample(&text, "process_cpu_seconds_total", "") >= 0.0);
    let open = sample(&text, "process_open_fds", "");
    // stdin/out/err, the database, the socket, ...
    assert!(open >= 4.0, "open fds {open}");
    assert!(sample(&text, "process_max_fds", "") >= open);
    // The daemon started just now (seconds since the epoch; generous bounds, no speed claim).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = sample(&text, "process_start_time_seconds", "");
    assert!(
        started <= now + 5.0 && started > now - 3600.0,
        "start time {started}, now {now}"
    );

    let Some(promtool) = promtool() else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let checked = child.wait_with_output().unwrap();
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && complaints.trim().is_empty(),
        "promtool check metrics ({}):\n{complaints}\n--- metrics:\n{text}",
        checked.status
    );
}
