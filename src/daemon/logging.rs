//! Logs go to journald when stderr is the journal, otherwise human-readable to stderr or a file.

use std::path::Path;

use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `verbosity` counts `-v` flags and `RUST_LOG` overrides it.
pub fn init(verbosity: u8, log_file: Option<&Path>) {
    let default = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // Dependencies (TLS, HTTP) are noisy below info; keep them quiet unless asked by RUST_LOG.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,vfetch={default},vfetchd={default}")));
    let registry = tracing_subscriber::registry().with(filter);

    if stderr_is_journal() {
        if let Ok(journald) = tracing_journald::layer() {
            registry
                .with(journald.with_syslog_identifier("vfetchd".into()))
                .init();
            return;
        }
    }
    if let Some(path) = log_file {
        if let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(std::sync::Mutex::new(file)),
                )
                .init();
            return;
        }
    }
    // Colours only for a person at a terminal, never in a log file an autostart redirected to,
    // and never when NO_COLOR asks not to (https://no-color.org: any non-empty value).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = wants_colour(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        no_color,
    );
    registry
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .with_writer(std::io::stderr),
        )
        .init();
}

/// Whether the stderr log is coloured: only on a terminal, and not when `NO_COLOR` is set.
fn wants_colour(stderr_is_terminal: bool, no_color: bool) -> bool {
    stderr_is_terminal && !no_color
}

/// systemd sets `JOURNAL_STREAM=<dev>:<inode>` of the stream it connected to stderr.
fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some((dev, ino)) = std::env::var("JOURNAL_STREAM").ok().and_then(|v| {
        v.split_once(':')
            .map(|(d, i)| (d.to_string(), i.to_string()))
    }) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    dev.parse::<u64>().is_ok_and(|d| d == meta.dev())
        && ino.parse::<u64>().is_ok_and(|i| i == meta.ino())
}
