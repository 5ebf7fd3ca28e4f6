//! Generates the man pages and shell completions of `vfetchd` and `vfetchctl` from their clap
//! definitions, for the Debian package (see `packaging/build-deb.sh`).
//!
//! Usage: `cargo run --example gen-docs -- OUT_DIR` writes
//!
//! - `OUT_DIR/man/vfetchd.8` (a daemon: section 8), `OUT_DIR/man/vfetchctl.1` and one page per
//!   subcommand (`vfetchctl-add.1`, `vfetchctl-pause.1`, ...);
//! - `OUT_DIR/completions/{NAME.bash,_NAME,NAME.fish}` for both programs.
//!
//! The output depends only on the sources, so rebuilding the package gives the same files.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use vfetch::cli::Cli;
use vfetch::daemon::args::DaemonArgs;

/// The manual every page says it belongs to (the centre of the page header).
const MANUAL: &str = "vfetch manual";

/// The page date, `YYYY-MM-DD`: from `SOURCE_DATE_EPOCH` when set (reproducible builds; the
/// package build sets it to the last commit's time), else today. clap_mangen writes an empty
/// date unquoted, which shifts the other `.TH` fields, so a date is always given.
fn page_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match generate(Path::new(&out)) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes every page and completion script under `out`, returning the paths written.
fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let man_dir = out.join("man");
    let completions_dir = out.join("completions");
    fs::create_dir_all(&man_dir)?;
    fs::create_dir_all(&completions_dir)?;

    let mut written = Vec::new();
    written.extend(man_pages(
        <DaemonArgs as CommandFactory>::command(),
        "8",
        &man_dir,
    )?);
    written.extend(man_pages(
        <Cli as CommandFactory>::command(),
        "1",
        &man_dir,
    )?);
    for cmd in [
        <DaemonArgs as CommandFactory>::command(),
        <Cli as CommandFactory>::command(),
    ] {
        written.extend(completions(cmd, &completions_dir)?);
    }
    Ok(written)
}

/// Renders the page of `cmd` and, recursively, one page per visible subcommand, all in
/// `section`. Subcommand pages are named `PARENT-SUB.SECTION` (clap's display name).
fn man_pages(cmd: Command, section: &str, dir: &Path) -> io::Result<Vec<PathBuf>> {
    // `help` is a clap built-in, not a page of its own; `build` fills in display names.
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    // Subcommands have no version of their own: every page names the program's.
    let source = format!("vfetch {}", cmd.get_version().unwrap_or_default());
    let mut written = Vec::new();
    render_tree(&cmd, section, &page_date(), &source, dir, &mut written)?;
    Ok(written)
}

fn render_tree(
    cmd: &Command,
    section: &str,
    date: &str,
    source: &str,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .section(section)
        .date(date)
        .manual(MANUAL)
        .source(source);
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)?;
    write_file(&path, &page)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_tree(sub, section, date, source, dir, written)?;
    }
    Ok(())
}

/// Writes bash, zsh and fish completions for `cmd` under their conventional file names:
/// `NAME.bash`, `_NAME` and `NAME.fish`.
fn completions(mut cmd: Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let name = cmd.get_name().to_owned();
    let mut written = Vec::new();
    for (shell, file) in [
        (Shell::Bash, format!("{name}.bash")),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, &name, &mut script);
        let path = dir.join(file);
        write_file(&path, &script)?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    file.write_all(bytes)?;
    file.flush()
}
