//! The library's layering, checked from its source: the scheduler knows nothing of the daemon
//! that hosts it (it is given a `scheduler::Context` and handed back a `Scheduler` handle), no
//! import cycle runs between top-level modules, and none between the files of `src/daemon/` or
//! `src/scheduler/`. A cycle there would make
//! the scheduler impossible to host anywhere else (a second transport, a cluster node).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

#[test]
fn scheduler_names_nothing_of_the_daemon() {
    let mut offending = Vec::new();
    for file in rust_files(&repo().join("src/scheduler")) {
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {file:?}: {e}"));
        for (n, line) in text.lines().enumerate() {
            // Comments may mention the daemon; code may not reach into it.
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("daemon::") {
                offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "the scheduler must get what it needs through scheduler::Context, not from the daemon:\n{}",
        offending.join("\n")
    );
}

#[test]
fn daemon_and_scheduler_form_no_import_cycle() {
    let script = repo().join("scripts/import-cycles.py");
    let output = match Command::new("python3")
        .arg(&script)
        .arg(repo().join("src"))
        .args(["--focus", "daemon,scheduler"])
        .output()
    {
        Ok(output) => output,
        // CI installs python3 (.ci/run), so there the check never skips.
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("NOTICE: daemon_and_scheduler_form_no_import_cycle skipped: python3: {e}");
            return;
        }
        Err(e) => panic!("python3 is needed for the import-cycle check (CI is set): {e}"),
    };
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "import cycles between top-level modules or through src/daemon or src/scheduler:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
