//! `vfetchctl`'s command line, in the library so man pages and completions come from it.

use std::path::PathBuf;

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::download::DownloadState;
use crate::insight::Period;
use crate::job::{JobId, JobState, Orientation, Quality, MAX_COUNT};
use crate::source_kind::SourceKind;

/// Control the vfetch daemon: queue video jobs, watch and steer them.
#[derive(Debug, Parser)]
#[command(
    name = "vfetchctl",
    version,
    long_about = "vfetchctl talks to vfetchd over its local socket. If no daemon answers on the \
                  user-mode default socket, vfetchctl starts one in the background (see \
                  --no-autostart).",
    after_help = "EXIT STATUS:\n  0  success\n  1  the job failed or was cancelled (add --wait, watch ID), or an internal error\n  \
                  2  usage error: bad arguments or values\n  3  the daemon is unreachable, does not answer within 5 s, or is too busy\n  \
                  4  the daemon refused the request (unknown id, illegal state change, bad value)\n  \
                  5  the daemon speaks another protocol version\n\n\
                  EXAMPLES:\n  vfetchctl add \"sunset timelapse\" 10 --wait\n  vfetchctl list --state queued --json\n  \
                  vfetchctl pause 3\n  vfetchctl priority 3 10"
)]
pub struct Cli {
    /// Socket of the daemon [default: $XDG_RUNTIME_DIR/vfetchd.sock, or
    /// /tmp/vfetchd-<uid>/vfetchd.sock when XDG_RUNTIME_DIR is unset; /run/vfetchd/vfetchd.sock
    /// with --system]
    #[arg(long, global = true, env = "VFETCH_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Config file to read the socket path from (and to pass to an autostarted daemon)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Talk to the system service instead of the per-user daemon
    #[arg(long, global = true)]
    pub system: bool,

    /// Never start a daemon; fail with exit status 3 if none answers
    #[arg(long, global = true, env = "VFETCH_NO_AUTOSTART")]
    pub no_autostart: bool,

    /// Print machine-readable JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What to ask the daemon.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Queue a job: find COUNT videos about THEME and download them
    #[command(allow_negative_numbers = true)]
    Add(AddArgs),
    /// List jobs in queue order (highest priority first, then oldest)
    List(ListArgs),
    /// Show one job with its downloads and their progress
    Show {
        /// Job id, as printed by `add` and `list`
        id: JobId,
    },
    /// Pause a job (or all jobs); running downloads stop at a clean offset
    Pause(TargetArgs),
    /// Resume a paused job (or all paused jobs) from where it stopped
    Resume(TargetArgs),
    /// Cancel a job for good
    Cancel {
        /// Job id
        id: JobId,
    },
    /// Change a job's priority; a larger number runs first
    #[command(allow_negative_numbers = true)]
    Priority {
        /// Job id
        id: JobId,
        /// New priority
        priority: i32,
    },
    /// Show the daemon's version, uptime, paths, queue depth and sources
    Status,
    /// Download statistics: totals, success rate, bytes, speed, per source and per period
    Stats {
        /// Look back this many days
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Rows per day, week or month
        #[arg(long, default_value = "day", value_parser = Choices::<Period>::new(["day", "week", "month"]), hide_possible_values = true)]
        by: Period,
    },
    /// Recent finished downloads (newest first)
    History {
        /// How many
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: u32,
        /// Only this theme (exact)
        #[arg(long)]
        theme: Option<String>,
        /// Only this state: done, failed, duplicate, invalid, cancelled
        #[arg(long, value_parser = Choices::<DownloadState>::new(DownloadState::ALL.map(DownloadState::as_str)), hide_possible_values = true)]
        state: Option<DownloadState>,
    },
    /// Themes from the search history that start with PREFIX, most used first
    Suggest {
        /// The beginning of a theme (any case)
        prefix: String,
        /// How many
        #[arg(short = 'n', long, default_value_t = 10)]
        limit: u32,
    },
    /// The most searched themes, with their counts and last use
    Themes {
        /// How many
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: u32,
    },
    /// One record per downloaded video with attribution (author, license, page URL) and file facts
    Export {
        /// Only this job [default: every job]
        job: Option<JobId>,
        /// Output format: json or csv
        #[arg(short, long, default_value = "json", value_parser = Choices::<ExportFormat>::new(["json", "csv"]), hide_possible_values = true)]
        format: ExportFormat,
        /// Write to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Remove old records (and their partial files); library files only with --delete-files
    Cleanup {
        /// Records last changed more than this many days ago
        #[arg(long, value_name = "DAYS")]
        older_than: u32,
        /// Only failed and cancelled jobs and unsuccessful downloads
        #[arg(long)]
        failed_only: bool,
        /// Show what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
        /// Also delete the removed downloads' files from the library
        #[arg(long)]
        delete_files: bool,
    },
    /// The library's finished videos, newest first, with file facts, credit and thumbnails
    Library {
        /// Only this theme (any case)
        #[arg(long)]
        theme: Option<String>,
        /// Only this source: pexels, pixabay, wikimedia, archive
        #[arg(short, long, value_parser = Choices::<SourceKind>::new(SourceKind::ALL.map(SourceKind::as_str)), hide_possible_values = true)]
        source: Option<SourceKind>,
        /// How many
        #[arg(short = 'n', long, default_value_t = 50)]
        limit: u32,
        /// Videos older than this download id (the previous page's `next_cursor`)
        #[arg(long, value_name = "DOWNLOAD")]
        cursor: Option<i64>,
    },
    /// Make the thumbnails (poster and hover sprite) that finished videos lack
    #[command(
        long_about = "Make the thumbnails that finished videos lack. vfetchd makes a poster frame \
                      and a hover-preview sprite of every video when its download finishes, under \
                      <state_dir>/thumbnails/; a library that existed before, a video whose \
                      thumbnails failed (no ffmpeg then) or were deleted has none. --missing finds \
                      those and makes them, a few at once, and reports how many were made and how \
                      many failed (the daemon's log says why)."
    )]
    Thumbnails {
        /// Make every missing thumbnail (required: it names what the command does)
        #[arg(long, required = true)]
        missing: bool,
    },
    /// Follow live progress (one job, or everything); --json prints one event per line
    Watch {
        /// Only this job; the watch ends when it does
        job: Option<JobId>,
    },
    /// Figures in the Prometheus text format (for node_exporter's textfile collector)
    Metrics,
    /// Read or change settings of the running daemon (changes persist across restarts)
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Stop the daemon gracefully (downloads stop at clean offsets and resume on next start)
    Shutdown,
    /// Print the HTTP dashboard's address with a one-time login link (valid two minutes)
    Web {
        /// Open the login link in a browser (xdg-open)
        #[arg(long)]
        open: bool,
    },
    /// Print vfetchctl's completion script for SHELL; e.g. `source <(vfetchctl completions bash)`
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of every --json output and watch --json line (schema/vfetch.schema.json)
    Schema,
    /// Write the man pages (vfetchctl.1 and its subcommands', vfetchd.8, vfetchd.toml.5) into DIR
    Manpages {
        /// Directory to write the pages to (created if missing)
        dir: PathBuf,
    },
}

/// Arguments of `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// What the videos should show, e.g. "sunset timelapse"
    pub theme: String,
    #[arg(value_parser = clap::value_parser!(i64), help = format!("How many distinct, valid videos to collect (1-{MAX_COUNT})"))]
    pub count: i64,
    /// Larger runs first; may be negative
    #[arg(short, long, default_value_t = 0)]
    pub priority: i32,
    /// Search only this source: pexels, pixabay, wikimedia, archive (repeatable) [default: every enabled source]
    #[arg(short, long = "source", value_name = "SOURCE", value_parser = Choices::<SourceKind>::new(SourceKind::ALL.map(SourceKind::as_str)), hide_possible_values = true)]
    pub sources: Vec<SourceKind>,
    /// Preferred rendition size: sd, hd, uhd, best [default: config `default_quality`, else best fit]
    #[arg(short, long, value_parser = Choices::<Quality>::new(Quality::ALL.map(Quality::as_str)), hide_possible_values = true)]
    pub quality: Option<Quality>,
    /// Frame shape: landscape, portrait, square
    #[arg(short, long, value_parser = Choices::<Orientation>::new(Orientation::ALL.map(Orientation::as_str)), hide_possible_values = true)]
    pub orientation: Option<Orientation>,
    /// Shortest accepted clip, seconds
    #[arg(long, value_name = "SECONDS")]
    pub min_duration: Option<u32>,
    /// Longest accepted clip, seconds
    #[arg(long, value_name = "SECONDS")]
    pub max_duration: Option<u32>,
    /// Narrowest accepted frame, pixels
    #[arg(long, value_name = "PIXELS")]
    pub min_width: Option<u32>,
    /// Lowest accepted frame, pixels
    #[arg(long, value_name = "PIXELS")]
    pub min_height: Option<u32>,
    /// Largest accepted file, MiB
    #[arg(long = "max-size", value_name = "MIB")]
    pub max_file_size_mb: Option<u64>,
    /// Block until the job is done or failed; exit 1 if it failed
    #[arg(short, long)]
    pub wait: bool,
}

/// Arguments of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only jobs in this state: queued, searching, downloading, paused, done, failed, cancelled (repeatable)
    #[arg(short, long = "state", value_name = "STATE", value_parser = Choices::<JobState>::new(JobState::ALL.map(JobState::as_str)), hide_possible_values = true)]
    pub states: Vec<JobState>,
    /// Page size
    #[arg(short = 'n', long, default_value_t = 50)]
    pub limit: u32,
    /// Jobs to skip (for paging)
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

/// One job id, or `--all`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// Job id
    pub id: Option<JobId>,
    /// Every job
    #[arg(long)]
    pub all: bool,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show one setting, or all of them (API keys show as ***)
    Get {
        /// A key such as parallel_downloads or sources.pexels.base_url
        key: Option<String>,
    },
    /// Change a setting now; it is validated, applied live and kept over the config file
    Set {
        /// The key, as in the config file (sections joined with dots)
        key: String,
        /// The new value
        value: String,
    },
    /// Drop a runtime setting so the config file's value applies again
    Unset {
        /// The key
        key: String,
    },
}

/// `export` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = crate::job::InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(crate::job::InvalidInput(format!(
                "unknown format {other:?}: expected json or csv"
            ))),
        }
    }
}

/// Parses a value with its `FromStr` (so the error names the value and what is expected, as
/// before) and tells clap the accepted names, so shell completions offer them
/// (`vfetchctl add x 1 -q <TAB>`). The names stay out of `--help`: each help line lists them.
#[derive(Clone)]
struct Choices<T> {
    names: Vec<&'static str>,
    parsed: PhantomData<fn() -> T>,
}

impl<T> Choices<T> {
    fn new(names: impl IntoIterator<Item = &'static str>) -> Self {
        Choices {
            names: names.into_iter().collect(),
            parsed: PhantomData,
        }
    }
}

impl<T> TypedValueParser for Choices<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        clap::builder::StringValueParser::new()
            .try_map(|s| s.parse::<T>())
            .parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names.iter().map(|n| PossibleValue::new(*n))))
    }
}
