//! Man pages and shell completions, generated from the clap definitions of both programs and
//! from the commented reference config. The one generator: `vfetchctl completions SHELL`,
//! `vfetchctl manpages DIR` and the package build (`examples/gen-docs.rs`) all call it, so
//! every install can have the same pages and completions as the Debian package.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use roff::{bold, italic, roman, Inline, Roff};

use super::args::Cli;
use crate::daemon::args::DaemonArgs;

/// The manual every page says it belongs to (the centre of the page header).
const MANUAL: &str = "vfetch manual";

/// The commented reference of every config key, rendered into `vfetchd.toml(5)`.
const REFERENCE_CONFIG: &str = include_str!("../../packaging/config.toml");

/// The shells completions are generated for, with their conventional file names.
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "{}.bash"),
    (Shell::Zsh, "_{}"),
    (Shell::Fish, "{}.fish"),
];

/// The two programs' command definitions, daemon first.
fn programs() -> [Command; 2] {
    [DaemonArgs::command(), Cli::command()]
}

/// Writes the completion script of `program` (`vfetchctl` or `vfetchd`) for `shell` to `out`.
pub fn write_completions(shell: Shell, program: &str, out: &mut dyn Write) -> io::Result<()> {
    let Some(mut cmd) = programs().into_iter().find(|c| c.get_name() == program) else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no program named {program}"),
        ));
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, program, &mut script);
    out.write_all(&script)
}

/// Writes every man page into `dir` (created if missing): `vfetchctl.1` and one page per
/// subcommand (`vfetchctl-add.1`, ...), `vfetchd.8` and `vfetchd.toml.5`. `date` is the
/// pages' date (`YYYY-MM-DD`). Returns the paths written.
pub fn write_man_pages(dir: &Path, date: &str) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let [daemon, client] = programs();
    for (cmd, section) in [(daemon, "8"), (client, "1")] {
        // `help` is a clap built-in, not a page of its own; `build` fills in display names.
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        // Subcommands have no version of their own: every page names the program's.
        let source = format!("vfetch {}", cmd.get_version().unwrap_or_default());
        let page = Page {
            section,
            date,
            source: &source,
            dir,
        };
        page.render_tree(&cmd, true, &mut written)?;
    }
    let path = dir.join("vfetchd.toml.5");
    write_file(&path, config_page(date).as_bytes())?;
    written.push(path);
    Ok(written)
}

/// Writes the man pages under `out/man` and both programs' completions under
/// `out/completions` (`NAME.bash`, `_NAME`, `NAME.fish`), as the Debian package ships them.
pub fn write_package_docs(out: &Path, date: &str) -> io::Result<Vec<PathBuf>> {
    let mut written = write_man_pages(&out.join("man"), date)?;
    let completions = out.join("completions");
    fs::create_dir_all(&completions)?;
    for cmd in programs() {
        let name = cmd.get_name().to_owned();
        for (shell, pattern) in SHELLS {
            let mut script = Vec::new();
            write_completions(shell, &name, &mut script)?;
            let path = completions.join(pattern.replace("{}", &name));
            write_file(&path, &script)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The date for generated pages, `YYYY-MM-DD`: from `SOURCE_DATE_EPOCH` when set (reproducible
/// builds), else today. clap_mangen writes an empty date unquoted, which shifts the other
/// `.TH` fields, so a date is always given.
pub fn page_date() -> String {
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

/// What every page of one program shares.
struct Page<'a> {
    section: &'a str,
    date: &'a str,
    source: &'a str,
    dir: &'a Path,
}

impl Page<'_> {
    /// Renders the page of `cmd` and, recursively, one page per visible subcommand. Subcommand
    /// pages are named `PARENT-SUB.SECTION` (clap's display name).
    fn render_tree(&self, cmd: &Command, top: bool, written: &mut Vec<PathBuf>) -> io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone())
            .section(self.section)
            .date(self.date)
            .manual(MANUAL)
            .source(self.source);
        let path = self.dir.join(man.get_filename());
        let mut page = Vec::new();
        man.render_title(&mut page)?;
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut page)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(&mut page)?;
        }
        let mut extra = Roff::new();
        // The --help epilogue ("EXIT STATUS:", "FILES ...:", "EXAMPLES:") as man sections.
        if let Some(after) = cmd.get_after_help() {
            after_help_sections(&mut extra, &after.to_string());
        }
        if top {
            let name = cmd.get_name();
            if name == "vfetchctl" {
                client_sections(&mut extra);
            } else {
                daemon_sections(&mut extra);
            }
        }
        see_also(&mut extra, cmd.get_name());
        extra.to_writer(&mut page)?;
        write_file(&path, &page)?;
        written.push(path);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            self.render_tree(sub, false, written)?;
        }
        Ok(())
    }
}

/// Turns a help epilogue of `HEADING:` lines followed by indented lines into man sections with
/// the indented lines kept as they are (they are aligned tables). A heading such as
/// `FILES (user mode / --system):` becomes `FILES`, its remark the first line of the section.
fn after_help_sections(roff: &mut Roff, text: &str) {
    let mut body: Vec<&str> = Vec::new();
    let flush = |roff: &mut Roff, body: &mut Vec<&str>| {
        while body.last().is_some_and(|l| l.trim().is_empty()) {
            body.pop();
        }
        if body.is_empty() {
            return;
        }
        roff.control("nf", []).control("RS", ["2"]);
        for line in body.drain(..) {
            roff.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
        }
        roff.control("RE", []).control("fi", []);
    };
    for line in text.lines() {
        match line.strip_suffix(':') {
            Some(heading) if !line.starts_with(' ') && !heading.is_empty() => {
                flush(roff, &mut body);
                let (name, remark) = match heading.split_once(" (") {
                    Some((name, rest)) => (name, Some(rest.trim_end_matches(')'))),
                    None => (heading, None),
                };
                roff.control("SH", [name]);
                if let Some(remark) = remark {
                    roff.text([italic(remark)]);
                }
            }
            _ => body.push(line),
        }
    }
    flush(roff, &mut body);
}

/// A tagged paragraph per `(tag, text)`.
fn tagged(roff: &mut Roff, items: &[(&str, &str)]) {
    for (tag, text) in items {
        roff.control("TP", [])
            .text([bold(*tag)])
            .text([roman(*text)]);
    }
}

/// ENVIRONMENT and FILES of `vfetchctl(1)`.
fn client_sections(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    tagged(
        roff,
        &[
            ("VFETCH_SOCKET", "The daemon's socket, as --socket."),
            (
                "VFETCH_NO_AUTOSTART",
                "Set (to true) to never start a daemon, as --no-autostart.",
            ),
            (
                "XDG_RUNTIME_DIR",
                "Holds the per-user daemon's socket, vfetchd.sock. When unset, the socket is \
                 /tmp/vfetchd-UID/vfetchd.sock.",
            ),
            (
                "XDG_CONFIG_HOME",
                "Where the per-user config file is looked for (default ~/.config).",
            ),
        ],
    );
    roff.control("SH", ["FILES"]);
    tagged(
        roff,
        &[
            (
                "$XDG_RUNTIME_DIR/vfetchd.sock",
                "The per-user daemon's socket; vfetchctl starts a daemon there when none \
                 answers.",
            ),
            (
                "/run/vfetchd/vfetchd.sock",
                "The system daemon's socket (--system); members of the group vfetch may use it.",
            ),
            (
                "$XDG_CONFIG_HOME/vfetchd/config.toml",
                "The per-user config file, read for the socket path and passed to an \
                 autostarted daemon; see vfetchd.toml(5).",
            ),
        ],
    );
}

/// ENVIRONMENT of `vfetchd(8)` (its FILES, SIGNALS and EXIT STATUS come from --help).
fn daemon_sections(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    tagged(
        roff,
        &[
            (
                "VFETCH_<KEY>",
                "Any config key: VFETCH_ and the key in upper case, dots as underscores \
                 (VFETCH_PARALLEL_DOWNLOADS, VFETCH_SOURCES_PEXELS_API_KEY). Overrides the \
                 config file; flags override it.",
            ),
            (
                "PEXELS_API_KEY, PIXABAY_API_KEY",
                "The providers' API keys (the system service reads them from \
                 /etc/vfetchd/keys.env).",
            ),
            (
                "XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR, HOME",
                "Where the per-user daemon keeps its config, state and socket (see FILES).",
            ),
            (
                "RUST_LOG",
                "Log filter (for example vfetch=debug); overrides -v.",
            ),
            (
                "NOTIFY_SOCKET, LISTEN_FDS, WATCHDOG_USEC",
                "Set by systemd: readiness and watchdog notifications, socket activation.",
            ),
        ],
    );
}

/// SEE ALSO: the other pages of the set.
fn see_also(roff: &mut Roff, name: &str) {
    let pages: Vec<&str> = ["vfetchctl(1)", "vfetchd(8)", "vfetchd.toml(5)"]
        .into_iter()
        .filter(|p| !p.starts_with(&format!("{name}(")))
        .collect();
    roff.control("SH", ["SEE ALSO"]).text([roman(format!(
        "{}, systemd.service(5), ffprobe(1)",
        pages.join(", ")
    ))]);
}

/// `vfetchd.toml(5)`: the reference config's comments as prose, each key as a tagged paragraph
/// under its section.
fn config_page(date: &str) -> String {
    let mut roff = Roff::new();
    let source = format!("vfetch {}", env!("CARGO_PKG_VERSION"));
    roff.control("TH", ["vfetchd.toml", "5", date, &source, MANUAL])
        .control("SH", ["NAME"])
        .text([roman(
            "vfetchd.toml - configuration file of the vfetch daemon",
        )])
        .control("SH", ["SYNOPSIS"])
        .text([roman(
            "$XDG_CONFIG_HOME/vfetchd/config.toml (per-user daemon), \
             /etc/vfetchd/config.toml (vfetchd --system), or the file given with --config",
        )])
        .control("SH", ["DESCRIPTION"]);
    render_reference(&mut roff, REFERENCE_CONFIG);
    roff.control("SH", ["SEE ALSO"])
        .text([roman("vfetchd(8), vfetchctl(1)")]);
    roff.render()
}

/// One block of the reference config: comment lines, then the settings they describe.
#[derive(Default)]
struct Block<'a> {
    prose: Vec<&'a str>,
    settings: Vec<&'a str>,
}

/// Renders the reference config: its opening comment as the description, `# --- Name ---`
/// rulers as `.SS` headings, comments as prose and `#key = value` lines as tagged paragraphs.
fn render_reference(roff: &mut Roff, text: &str) {
    let mut block = Block::default();
    // The first line names the file the package installs; the synopsis says that already.
    for line in text.lines().skip(1) {
        let Some(rest) = line.strip_prefix('#') else {
            // A blank line ends a block.
            emit_block(roff, std::mem::take(&mut block));
            continue;
        };
        if let Some(ruler) = rest.strip_prefix(" --- ") {
            emit_block(roff, std::mem::take(&mut block));
            let title = ruler.trim_end_matches('-').trim();
            roff.control("SH", [title.to_uppercase().as_str()]);
        } else if rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '[') {
            block.settings.push(rest);
        } else {
            if !block.settings.is_empty() {
                emit_block(roff, std::mem::take(&mut block));
            }
            block.prose.push(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    emit_block(roff, block);
}

fn emit_block(roff: &mut Roff, block: Block<'_>) {
    // Prose paragraphs are separated by lone `#` lines; lines indented further are examples.
    let mut paragraph: Vec<&str> = Vec::new();
    let mut example = false;
    let mut paragraphs: Vec<(bool, Vec<&str>)> = Vec::new();
    for line in &block.prose {
        let is_example = line.starts_with("  ");
        if line.trim().is_empty() || is_example != example {
            if !paragraph.is_empty() {
                paragraphs.push((example, std::mem::take(&mut paragraph)));
            }
            example = is_example;
            if line.trim().is_empty() {
                continue;
            }
        }
        paragraph.push(line);
    }
    if !paragraph.is_empty() {
        paragraphs.push((example, paragraph));
    }

    let mut settings = block.settings.iter().peekable();
    // A `[sources.NAME]` header opens a subsection for the keys below it.
    if let Some(header) = settings.next_if(|s| s.starts_with('[')) {
        roff.control("SS", [*header]);
    }
    if settings.peek().is_some() {
        // The keys, then their description.
        for (i, setting) in settings.enumerate() {
            roff.control(if i == 0 { "TP" } else { "TQ" }, [])
                .text([bold(*setting)]);
        }
        write_paragraphs(roff, &paragraphs, false);
    } else {
        write_paragraphs(roff, &paragraphs, true);
    }
}

fn write_paragraphs(roff: &mut Roff, paragraphs: &[(bool, Vec<&str>)], start_pp: bool) {
    for (i, (example, lines)) in paragraphs.iter().enumerate() {
        if *example {
            roff.control("RS", ["4"]).control("nf", []);
            for line in lines {
                roff.text([roman(line.trim_start())]);
            }
            roff.control("fi", []).control("RE", []);
        } else {
            if start_pp || i > 0 {
                roff.control("PP", []);
            }
            let inline: Vec<Inline> = vec![roman(lines.join(" "))];
            roff.text(inline);
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    file.write_all(bytes)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_help_headings_become_sections() {
        let mut roff = Roff::new();
        after_help_sections(
            &mut roff,
            "FILES (user / system):\n  a  b\n\nEXIT STATUS:\n  0  ok\n",
        );
        let text = roff.to_roff();
        assert!(text.contains(".SH FILES\n"), "{text}");
        assert!(text.contains(".SH \"EXIT STATUS\"\n"), "{text}");
        assert!(text.contains("0  ok"), "{text}");
        assert!(text.contains("user / system"), "{text}");
    }

    #[test]
    fn reference_keys_are_tagged_paragraphs() {
        let mut roff = Roff::new();
        render_reference(
            &mut roff,
            "# head\n# intro\n\n# --- Paths ---\n\n# The socket.\n#socket = \"/s\"\n\n\
             # Pexels.\n#[sources.pexels]\n#enabled = true\n",
        );
        let text = roff.to_roff();
        assert!(text.contains(".SH PATHS\n"), "{text}");
        assert!(
            text.contains(".TP\n\\fBsocket = \"/s\"\\fR\nThe socket.\n"),
            "{text}"
        );
        assert!(text.contains(".SS [sources.pexels]\n"), "{text}");
        assert!(text.contains("\\fBenabled = true\\fR"), "{text}");
    }
}
