//! `vfetchd`'s command line, in the library so man pages and completions come from it.

use std::path::PathBuf;

use clap::Parser;

use crate::config::Overrides;

/// The vfetch daemon: finds stock videos on a theme and downloads them into a curated library.
#[derive(Debug, Parser)]
#[command(
    name = "vfetchd",
    version,
    long_about = "vfetchd owns a persistent priority queue of video jobs in SQLite and serves \
                  vfetchctl over a local socket. Settings come from built-in defaults, then the \
                  config file, then the environment (PEXELS_API_KEY, PIXABAY_API_KEY, \
                  VFETCH_<KEY>), then these flags.",
    after_help = "FILES (user mode / --system):\n  \
                  config    $XDG_CONFIG_HOME/vfetchd/config.toml  /  /etc/vfetchd/config.toml\n  \
                  state     $XDG_STATE_HOME/vfetchd               /  /var/lib/vfetchd\n  \
                  socket    $XDG_RUNTIME_DIR/vfetchd.sock         /  /run/vfetchd/vfetchd.sock\n            \
                  (/tmp/vfetchd-<uid>/vfetchd.sock when XDG_RUNTIME_DIR is unset)\n\n\
                  database  <state>/vfetch.db, backups <state>/vfetch.db.backup-1 (newest), -2\n\n\
                  SIGNALS:\n  SIGTERM, SIGINT  stop gracefully; downloads resume on the next start\n\n\
                  EXIT STATUS:\n  0 stopped cleanly or recovered, 1 error, 2 bad configuration,\n  \
                  3 the database is damaged or emptied (the message says what to do)"
)]
pub struct DaemonArgs {
    /// Run as the system service (system paths, socket mode 0660 for the vfetch group)
    #[arg(long)]
    pub system: bool,
    /// Config file [default: see FILES]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Socket to listen on [default: $XDG_RUNTIME_DIR/vfetchd.sock, or
    /// /tmp/vfetchd-<uid>/vfetchd.sock when XDG_RUNTIME_DIR is unset; /run/vfetchd/vfetchd.sock
    /// with --system]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Directory for the database, staging area and logs
    #[arg(long, value_name = "PATH")]
    pub state_dir: Option<PathBuf>,
    /// Directory finished videos are placed in
    #[arg(long, value_name = "PATH")]
    pub library_dir: Option<PathBuf>,
    /// Downloads running at once (1-32)
    #[arg(long, value_name = "N")]
    pub parallel_downloads: Option<u32>,
    /// Save what can still be read of a damaged database into a new one, put it in place
    /// (keeping the damaged file as vfetch.db.corrupt-TIME), print what was saved and exit
    #[arg(long)]
    pub recover: bool,
    /// More log detail (-v debug, -vv trace); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl DaemonArgs {
    /// The flags that override the config file and environment.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            socket: self.socket.clone(),
            state_dir: self.state_dir.clone(),
            library_dir: self.library_dir.clone(),
            parallel_downloads: self.parallel_downloads,
        }
    }
}
