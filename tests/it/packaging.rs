//! The systemd units, the Debian packaging and the docs generator, checked without root and
//! without the network: `systemd-analyze verify` accepts every unit, `systemd-analyze security`
//! rates the system unit at most 3.0, `examples/gen-docs.rs` (the generator of
//! `vfetchctl completions` and `vfetchctl manpages`) writes the man pages and completions the
//! package ships, the default config is accepted by the daemon's parser and
//! documents every key, and the package metadata names only files that exist.
//!
//! The end-to-end check of the built package (install, run, remove) needs root and lives in
//! `packaging/ci-deb-check.sh`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vfetch::config::{Config, Mode, Overrides};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// `systemd-analyze` from PATH, or `None` after printing why the test is skipped.
fn systemd_analyze(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("systemd-analyze"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "NOTICE: {test} skipped: systemd-analyze is not installed (apt-get install systemd)"
        );
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of a unit whose executables exist on this machine: `verify` refuses a unit whose
/// ExecStart= binary is missing, and the tests must not need the package installed.
fn unit_for_verify(rel: &str) -> String {
    let unit = read(rel);
    assert!(
        unit.contains("ExecStart=/usr/bin/vfetchd"),
        "{rel} must start /usr/bin/vfetchd, where the package installs it"
    );
    let unit = unit.replace("/usr/bin/vfetchd", env!("CARGO_BIN_EXE_vfetchd"));
    if Path::new("/bin/kill").exists() {
        unit
    } else {
        eprintln!("NOTICE: /bin/kill is missing (apt-get install procps); verifying {rel} with /bin/sh in its place");
        unit.replace("/bin/kill", "/bin/sh")
    }
}

/// Runs `systemd-analyze verify` on the units of `dir` (system or user) and insists on silence:
/// `verify` exits 0 even for unknown keys and bad values, which it only reports on stderr.
fn verify_units(analyze: &Path, dir: &str, user: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["verify".to_string(), "--man=no".to_string()];
    if user {
        args.push("--user".to_string());
    }
    for name in ["vfetchd.service", "vfetchd.socket"] {
        let rel = format!("{dir}{name}");
        let unit = if name.ends_with(".service") {
            unit_for_verify(&rel)
        } else {
            read(&rel)
        };
        let path = tmp.path().join(name);
        fs::write(&path, unit).unwrap();
        args.push(path.display().to_string());
    }
    let runtime = tempfile::tempdir().unwrap();
    let out = run(Command::new(analyze)
        .args(&args)
        // A user manager needs a runtime directory even to verify (%t).
        .env("XDG_RUNTIME_DIR", runtime.path()));
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze {} failed ({}):\n{stderr}{}",
        args.join(" "),
        out.status,
        text(&out.stdout)
    );
}

#[test]
fn systemd_analyze_verify_accepts_the_system_units() {
    let Some(analyze) = systemd_analyze("verify of systemd/*.service|socket") else {
        return;
    };
    verify_units(&analyze, "systemd/", false);
}

#[test]
fn systemd_analyze_verify_accepts_the_user_units() {
    let Some(analyze) = systemd_analyze("verify of systemd/user/*") else {
        return;
    };
    verify_units(&analyze, "systemd/user/", true);
}

/// The major version from `systemd-analyze --version` ("systemd 252 (252.38-1~deb12u1)").
fn systemd_version(analyze: &Path) -> Option<u32> {
    let out = run(Command::new(analyze).arg("--version"));
    text(&out.stdout)
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
}

#[test]
fn system_unit_exposure_is_at_most_3() {
    let Some(analyze) = systemd_analyze("security of systemd/vfetchd.service") else {
        return;
    };
    match systemd_version(&analyze) {
        Some(v) if v >= 252 => {}
        other => {
            eprintln!("NOTICE: security check skipped: `systemd-analyze security --offline` needs systemd 252 or later (found {other:?})");
            return;
        }
    }
    let unit = repo().join("systemd/vfetchd.service");
    let out = run(Command::new(&analyze)
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "systemd-analyze security failed ({}):\n{}{stdout}",
        out.status,
        text(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no overall exposure line in:\n{stdout}"));
    // "→ Overall exposure level for vfetchd.service: 1.4 OK 🙂"
    let score: f64 = line
        .rsplit_once(": ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the score in {line:?}"));
    println!("{}", line.trim());
    assert!(
        score <= 3.0,
        "exposure {score} is above 3.0: {line}\n{stdout}"
    );
}

#[test]
fn units_describe_the_daemon_contract() {
    let system = read("systemd/vfetchd.service");
    for line in [
        "Type=notify",
        "ExecStart=/usr/bin/vfetchd --system",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=vfetchd",
        "Group=vfetch",
        "StateDirectory=vfetchd",
        "RuntimeDirectory=vfetchd",
        "RuntimeDirectoryMode=0750",
        "RuntimeDirectoryPreserve=yes",
        "WatchdogSec=30",
        "ProtectSystem=strict",
    ] {
        assert!(
            system.lines().any(|l| l == line),
            "systemd/vfetchd.service lacks `{line}`"
        );
    }
    let socket = read("systemd/vfetchd.socket");
    for line in [
        "ListenStream=/run/vfetchd/vfetchd.sock",
        "SocketMode=0660",
        "SocketGroup=vfetch",
    ] {
        assert!(
            socket.lines().any(|l| l == line),
            "systemd/vfetchd.socket lacks `{line}`"
        );
    }
    let user_socket = read("systemd/user/vfetchd.socket");
    assert!(user_socket
        .lines()
        .any(|l| l == "ListenStream=%t/vfetchd.sock"));
    assert!(user_socket.lines().any(|l| l == "SocketMode=0600"));
    // The socket the units create is the daemon's default one.
    let env = |_: &str| -> Option<String> { None };
    let defaults = Config::defaults(Mode::System, &env);
    assert_eq!(defaults.socket, Path::new("/run/vfetchd/vfetchd.sock"));
    assert_eq!(defaults.state_dir, Path::new("/var/lib/vfetchd"));
}

/// Runs the generator into a temp dir and returns it.
fn generate_docs() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let result = run(Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--offline", "--example", "gen-docs", "--"])
        .arg(out.path())
        .current_dir(repo()));
    assert!(
        result.status.success(),
        "cargo run --example gen-docs failed ({}):\n{}",
        result.status,
        text(&result.stderr)
    );
    out
}

#[test]
fn gen_docs_writes_man_pages_and_completions() {
    let out = generate_docs();
    let man = |name: &str| {
        let path = out.path().join("man").join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };

    let daemon = man("vfetchd.8");
    assert!(daemon.contains(".TH vfetchd 8 "), "{daemon}");
    assert!(
        daemon.contains("\"vfetch 0."),
        "no version in the page: {daemon}"
    );
    for flag in ["system", "state\\-dir", "parallel\\-downloads"] {
        assert!(daemon.contains(flag), "vfetchd.8 lacks {flag}:\n{daemon}");
    }
    let client = man("vfetchctl.1");
    assert!(client.contains(".TH vfetchctl 1 "), "{client}");
    let subcommands = [
        "add", "list", "show", "pause", "resume", "cancel", "priority", "status", "shutdown",
    ];
    for sub in subcommands {
        assert!(
            client.contains(&format!("vfetchctl\\-{sub}(1)")),
            "vfetchctl.1 does not list {sub}:\n{client}"
        );
        let page = man(&format!("vfetchctl-{sub}.1"));
        assert!(page.contains(&format!(".TH vfetchctl-{sub} 1 ")), "{page}");
    }
    assert!(man("vfetchctl-add.1").contains("\\-\\-max\\-size"));
    // The config file's page, and the sections a man page is expected to have.
    assert!(man("vfetchd.toml.5").contains(".TH vfetchd.toml 5 "));
    for page in [&daemon, &client] {
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(page.contains(section), "no {section}:\n{page}");
        }
    }
    assert!(man("vfetchctl-priority.1").contains("PRIORITY"));

    for (file, needle) in [
        ("vfetchctl.bash", "priority"),
        ("_vfetchctl", "#compdef vfetchctl"),
        ("vfetchctl.fish", "complete -c vfetchctl"),
        ("vfetchd.bash", "--state-dir"),
        ("_vfetchd", "#compdef vfetchd"),
        ("vfetchd.fish", "complete -c vfetchd"),
    ] {
        let path = out.path().join("completions").join(file);
        let script =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(script.contains(needle), "{file} lacks {needle:?}");
        if file.starts_with("vfetchctl") {
            for sub in subcommands {
                assert!(script.contains(sub), "{file} does not complete {sub}");
            }
        }
    }

    // Every `man:` page a unit points to is one the package ships.
    for unit in [
        "systemd/vfetchd.service",
        "systemd/vfetchd.socket",
        "systemd/user/vfetchd.service",
        "systemd/user/vfetchd.socket",
    ] {
        for doc in read(unit)
            .lines()
            .filter_map(|l| l.strip_prefix("Documentation="))
            .flat_map(str::split_whitespace)
            .filter_map(|d| d.strip_prefix("man:"))
        {
            // "vfetchd(8)" -> "vfetchd.8"
            let file = doc.replace('(', ".").replace(')', "");
            assert!(
                out.path().join("man").join(&file).is_file(),
                "{unit} points to man:{doc}, which gen-docs does not write"
            );
        }
    }
}

/// The package's config: `#key = value` lines are settings, `# ...` lines prose.
fn uncommented_config() -> String {
    read("packaging/config.toml")
        .lines()
        .filter_map(|l| {
            l.strip_prefix('#')
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '['))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn default_config_is_all_defaults_and_documents_every_key() {
    // As shipped (everything commented out) the daemon gets its built-in system defaults.
    let env = |_: &str| -> Option<String> { None };
    let dir = tempfile::tempdir().unwrap();
    let shipped = dir.path().join("shipped.toml");
    fs::copy(repo().join("packaging/config.toml"), &shipped).unwrap();
    let overrides = |file: &Path| Overrides {
        config_file: Some(file.to_path_buf()),
        ..Overrides::default()
    };
    let loaded = Config::load(Mode::System, &overrides(&shipped), &env).expect("shipped config");
    let mut defaults = Config::defaults(Mode::System, &env);
    defaults.file = Some(shipped.clone());
    assert_eq!(loaded, defaults);

    // Every setting shown, once uncommented, is accepted...
    let uncommented = uncommented_config();
    let all = dir.path().join("uncommented.toml");
    fs::write(&all, &uncommented).unwrap();
    let loaded = Config::load(Mode::System, &overrides(&all), &env)
        .unwrap_or_else(|e| panic!("uncommented packaging/config.toml: {e}\n{uncommented}"));
    // ...and changes nothing, apart from the two keys whose default is "unset" and which show
    // a value (`database`: the path it defaults to; `default_quality`: an example).
    let table: toml::Table = uncommented.parse().unwrap();
    let mut expected = defaults.clone();
    expected.file = Some(all.clone());
    for key in ["database", "default_quality"] {
        let value = table[key].as_str().unwrap();
        expected.set(key, value, "test").unwrap();
    }
    assert_eq!(
        loaded, expected,
        "a value shown is not the built-in default"
    );
    assert_eq!(loaded.database(), defaults.database());

    // ...and every key the daemon knows is documented.
    let mut shown = BTreeSet::new();
    for (key, value) in &table {
        match value {
            toml::Value::Table(sources) => {
                for (name, fields) in sources {
                    for field in fields.as_table().unwrap().keys() {
                        shown.insert(format!("{key}.{name}.{field}"));
                    }
                }
            }
            _ => {
                shown.insert(key.clone());
            }
        }
    }
    let known: BTreeSet<String> = Config::keys().into_iter().collect();
    assert_eq!(
        shown, known,
        "packaging/config.toml must show every key once"
    );
}

#[test]
fn deb_metadata_names_existing_files() {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let scripts = deb["maintainer-scripts"].as_str().unwrap();
    for script in ["postinst", "prerm", "postrm"] {
        let path = repo().join(scripts).join(script);
        assert!(path.is_file(), "{} is missing", path.display());
    }
    let depends = deb["depends"].as_str().unwrap();
    assert!(
        depends.contains("$auto") && depends.contains("adduser"),
        "{depends}"
    );

    // The system units are installed by cargo-deb's systemd-units (dh_installsystemd naming:
    // `UNIT-NAME.service` in `unit-scripts`), to usr/lib/systemd/system/.
    let units = deb["systemd-units"]
        .as_table()
        .expect("[package.metadata.deb.systemd-units]");
    let unit_dir = units["unit-scripts"].as_str().unwrap();
    let unit_name = units["unit-name"].as_str().unwrap();
    for ext in ["service", "socket"] {
        let path = repo().join(unit_dir).join(format!("{unit_name}.{ext}"));
        assert!(path.is_file(), "{} is missing", path.display());
    }
    let mut dests = BTreeSet::new();
    dests.insert("usr/lib/systemd/system/".to_string());

    let generated = generate_docs();
    for asset in deb["assets"].as_array().unwrap() {
        let asset = asset.as_array().unwrap();
        let (src, dest) = (asset[0].as_str().unwrap(), asset[1].as_str().unwrap());
        dests.insert(dest.to_string());
        if let Some(bin) = src.strip_prefix("target/release/") {
            assert!(
                ["vfetchd", "vfetchctl"].contains(&bin),
                "unknown binary {src}"
            );
        } else if let Some(rel) = src.strip_prefix("target/packaging/") {
            // Written by gen-docs; a `*.N` glob must match at least one page.
            let path = generated.path().join(rel);
            let matched = match rel.split_once("/*") {
                Some((dir, ext)) => fs::read_dir(generated.path().join(dir))
                    .unwrap()
                    .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(ext)),
                None => path.is_file(),
            };
            assert!(matched, "gen-docs writes nothing for the asset {src}");
        } else {
            assert!(repo().join(src).is_file(), "asset {src} does not exist");
        }
    }
    for dest in [
        "usr/bin/",
        "usr/lib/systemd/system/",
        "usr/lib/systemd/user/",
        "etc/vfetchd/config.toml",
        "usr/share/man/man1/",
        "usr/share/man/man8/",
        "usr/share/man/man5/",
        "usr/share/bash-completion/completions/vfetchctl",
        "usr/share/zsh/vendor-completions/",
        "usr/share/fish/vendor_completions.d/",
    ] {
        assert!(dests.contains(dest), "no asset goes to {dest}");
    }
}

#[test]
fn packaging_scripts_are_executable_and_parse() {
    use std::os::unix::fs::PermissionsExt;
    for (script, shell) in [
        ("packaging/debian/postinst", "sh"),
        ("packaging/debian/prerm", "sh"),
        ("packaging/debian/postrm", "sh"),
        ("packaging/build-deb.sh", "bash"),
        ("packaging/ci-deb-check.sh", "bash"),
    ] {
        let path = repo().join(script);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{script} is not executable ({mode:o})");
        let out = run(Command::new(shell).arg("-n").arg(&path));
        assert!(
            out.status.success(),
            "{shell} -n {script}: {}",
            text(&out.stderr)
        );
    }
}
