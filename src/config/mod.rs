//! Configuration: built-in defaults < config file (TOML) < environment < command-line flags.
//!
//! Every key is parsed by one function, [`Config::set`], whatever its origin, so the file, the
//! environment and the flags accept the same values and refuse bad ones with the same message.
//! Those per-key parsers live in `keys.rs`; this file resolves where values come from.

mod keys;
mod live;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::breaker::BreakerPolicy;
use crate::hooks::Hooks;
use crate::job::{JobOptions, Orientation, Quality};
use crate::ratelimit::{self, Window};
use crate::source_kind::{SourceKind, SourceOff};
use crate::validate::ValidateMode;

pub use keys::ValueKind;
pub use live::Live;

/// Bounds of `parallel_downloads`.
pub const PARALLEL_RANGE: std::ops::RangeInclusive<u32> = 1..=32;
/// Bounds of `max_connections`.
pub const CONNECTIONS_RANGE: std::ops::RangeInclusive<u32> = 1..=65_536;

/// Whether the daemon runs for one user or as a system service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// XDG directories, `$XDG_RUNTIME_DIR/vfetchd.sock`.
    User,
    /// `/etc/vfetchd`, `/var/lib/vfetchd`, `/run/vfetchd/vfetchd.sock`.
    System,
}

impl Mode {
    /// The state directory's mode: the owner alone, or with the service group in system mode.
    pub fn private_dir_mode(self) -> u32 {
        match self {
            Mode::User => 0o700,
            Mode::System => 0o750,
        }
    }

    /// The database's (and its backups') mode: it holds API keys set at run time.
    pub fn private_file_mode(self) -> u32 {
        match self {
            Mode::User => 0o600,
            Mode::System => 0o640,
        }
    }
}

/// The port the HTTP API listens on by default in user mode (the one the original Flask
/// application used).
pub const DEFAULT_WEB_PORT: u16 = 5001;

/// Where the HTTP API listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebListen {
    /// No HTTP listener.
    Off,
    /// The built-in default: when the address is taken the daemon runs without HTTP (and says
    /// so) instead of failing, so a user daemon never breaks over a busy port.
    Default(SocketAddr),
    /// Set in the file, the environment or at run time: failing to bind it stops the daemon.
    Configured(SocketAddr),
}

impl WebListen {
    /// The address to bind, unless off.
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            WebListen::Off => None,
            WebListen::Default(addr) | WebListen::Configured(addr) => Some(addr),
        }
    }
}

impl fmt::Display for WebListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr() {
            None => f.write_str("off"),
            Some(addr) => write!(f, "{addr}"),
        }
    }
}

/// A value that must never be printed: API keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that sends it to a provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub enabled: bool,
    pub api_key: Option<Secret>,
    /// Scheme and host (and port); the adapter appends its documented paths.
    pub base_url: String,
    /// API requests allowed per window; persisted, so restarts do not reset them.
    pub rate_limit: Vec<Window>,
}

impl SourceConfig {
    /// Why this source will not be searched, if it will not.
    pub fn disabled_reason(&self, kind: SourceKind) -> Option<SourceOff> {
        if !self.enabled {
            Some(SourceOff::InConfig)
        } else if kind.needs_api_key() && self.api_key.is_none() {
            Some(SourceOff::NoApiKey)
        } else {
            None
        }
    }
}

/// Options a job gets when its `add` did not say otherwise.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobDefaults {
    pub quality: Option<Quality>,
    pub orientation: Option<Orientation>,
    pub min_width: Option<u32>,
    pub min_height: Option<u32>,
    pub min_duration: Option<u32>,
    pub max_duration: Option<u32>,
    pub max_file_size_mb: Option<u64>,
}

impl JobDefaults {
    /// Fills the options a user left out, so a stored job is complete on its own.
    pub fn apply(&self, options: &mut JobOptions) {
        options.quality = options.quality.or(self.quality);
        options.orientation = options.orientation.or(self.orientation);
        options.min_width = options.min_width.or(self.min_width);
        options.min_height = options.min_height.or(self.min_height);
        options.min_duration = options.min_duration.or(self.min_duration);
        options.max_duration = options.max_duration.or(self.max_duration);
        options.max_file_size_mb = options.max_file_size_mb.or(self.max_file_size_mb);
    }
}

/// The daemon's (and the client's) resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mode: Mode,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    pub socket: PathBuf,
    pub state_dir: PathBuf,
    pub library_dir: PathBuf,
    /// Explicit database path; otherwise `<state_dir>/vfetch.db`.
    database: Option<PathBuf>,
    pub parallel_downloads: u32,
    /// Downloads from one source running at once.
    pub per_source_downloads: u32,
    /// A transfer with no byte for this long is a stall (and retried).
    pub stall_timeout: Duration,
    /// Whether finished files are checked with ffprobe.
    pub validate: ValidateMode,
    pub connect_timeout: Duration,
    /// Let requests reach loopback, private and link-local addresses that came from a
    /// provider's answer (off: such links are refused, see `egress`).
    pub allow_private_addresses: bool,
    /// Longest a single search request may take.
    pub search_timeout: Duration,
    /// Tries per search request, the first included.
    pub search_tries: u32,
    /// Tries per download without progress, the first included.
    pub download_tries: u32,
    /// The first backoff's upper bound; each retry doubles it (with full jitter).
    pub retry_base: Duration,
    pub breaker: BreakerPolicy,
    /// What runs after each finished download.
    pub hooks: Hooks,
    /// Client connections open at once; beyond it the longest-idle one makes room.
    pub max_connections: u32,
    /// A client that sends no request for this long after its Hello is disconnected
    /// (subscribers excepted).
    pub client_idle_timeout: Duration,
    /// Log here (rotated daily, a week kept) instead of stderr, when not under journald.
    pub log_file: Option<PathBuf>,
    /// The ffprobe program (a name on PATH or a path).
    pub ffprobe: PathBuf,
    /// How often the database is copied to `<database>.backup-1`; `None`: never.
    pub backup_interval: Option<Duration>,
    /// One ffprobe run longer than this is killed; the validation is then retried.
    pub ffprobe_timeout: Duration,
    /// The ffmpeg program (a name on PATH or a path) that makes thumbnails.
    pub ffmpeg: PathBuf,
    pub defaults: JobDefaults,
    pub sources: BTreeMap<SourceKind, SourceConfig>,
    /// Where the HTTP API listens (`web_listen`).
    pub web_listen: WebListen,
    /// Whether `web_listen` may name an address other hosts can reach.
    pub web_allow_remote: bool,
    /// Whether `/metrics` answers without the token on a loopback listener (for scrapers).
    pub metrics_public: bool,
}

/// A bad key or value, naming both and where it came from.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{origin}: key `{key}`: {message}")]
    Value {
        origin: String,
        key: String,
        message: String,
    },
    #[error(
        "{origin}: unknown key {key}{} (`vfetchctl config get` lists every key)",
        did_you_mean(suggestion.as_deref())
    )]
    UnknownKey {
        origin: String,
        key: String,
        /// The known key closest to `key`, when one is close enough to be a likely typo.
        suggestion: Option<String>,
    },
    #[error("cannot read config file {path}: {message}")]
    File { path: PathBuf, message: String },
}

impl ConfigError {
    /// `key` is not a setting; names `origin` and suggests the closest known key.
    pub fn unknown_key(origin: &str, key: &str) -> ConfigError {
        ConfigError::UnknownKey {
            origin: origin.to_string(),
            key: key.to_string(),
            suggestion: Config::closest_key(key),
        }
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean {s}?"))
}

/// Where the environment's values come from; a function so tests need not touch the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Flags given on the command line, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub library_dir: Option<PathBuf>,
    pub parallel_downloads: Option<u32>,
}

/// Environment names kept for users of the tool vfetch replaces.
const LEGACY_ENV: [(&str, &str); 3] = [
    ("VIDEO_PARALLEL_DOWNLOADS", "parallel_downloads"),
    ("VIDEO_MAX_FILE_SIZE_MB", "max_file_size_mb"),
    ("VIDEO_DB_PATH", "database"),
];

impl Config {
    /// Built-in defaults for `mode`, before any file, environment or flag.
    pub fn defaults(mode: Mode, env: EnvLookup<'_>) -> Config {
        let (socket, state_dir, library_dir) = match mode {
            Mode::System => (
                PathBuf::from("/run/vfetchd/vfetchd.sock"),
                PathBuf::from("/var/lib/vfetchd"),
                PathBuf::from("/var/lib/vfetchd/library"),
            ),
            Mode::User => {
                let home = env("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."));
                (
                    user_socket(env),
                    xdg_dir(env, "XDG_STATE_HOME", &home, ".local/state").join("vfetchd"),
                    home.join("Videos").join("vfetch"),
                )
            }
        };
        let sources = SourceKind::ALL
            .into_iter()
            .map(|kind| {
                (
                    kind,
                    SourceConfig {
                        enabled: true,
                        api_key: None,
                        base_url: kind.default_base_url().to_string(),
                        rate_limit: ratelimit::parse(default_rate_limit(kind)).unwrap_or_default(),
                    },
                )
            })
            .collect();
        Config {
            mode,
            file: None,
            socket,
            state_dir,
            library_dir,
            database: None,
            parallel_downloads: 4,
            per_source_downloads: 4,
            stall_timeout: Duration::from_secs(30),
            validate: ValidateMode::Auto,
            connect_timeout: Duration::from_secs(10),
            allow_private_addresses: false,
            search_timeout: Duration::from_secs(20),
            search_tries: 3,
            download_tries: 5,
            retry_base: Duration::from_millis(500),
            breaker: BreakerPolicy::default(),
            log_file: None,
            hooks: Hooks {
                on_complete: Vec::new(),
                webhook_url: None,
                timeout: Duration::from_secs(30),
            },
            max_connections: 256,
            client_idle_timeout: Duration::from_secs(60),
            ffprobe: PathBuf::from("ffprobe"),
            backup_interval: Some(Duration::from_secs(24 * 3600)),
            ffprobe_timeout: crate::validate::DEFAULT_TIMEOUT,
            ffmpeg: PathBuf::from("ffmpeg"),
            defaults: JobDefaults::default(),
            sources,
            // A system service is reachable by every local user: it listens only when asked.
            web_listen: match mode {
                Mode::User => {
                    WebListen::Default(SocketAddr::from(([127, 0, 0, 1], DEFAULT_WEB_PORT)))
                }
                Mode::System => WebListen::Off,
            },
            web_allow_remote: false,
            metrics_public: false,
        }
    }

    /// Resolves the whole configuration: defaults, then the file, the environment, the flags.
    pub fn load(
        mode: Mode,
        overrides: &Overrides,
        env: EnvLookup<'_>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::defaults(mode, env);
        let explicit = overrides.config_file.clone();
        let path = explicit
            .clone()
            .unwrap_or_else(|| default_config_file(mode, env));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                config.apply_toml(&text, &path)?;
                config.file = Some(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {}
            Err(e) => {
                return Err(ConfigError::File {
                    path,
                    message: e.to_string(),
                })
            }
        }
        config.apply_env(env)?;
        config.apply_overrides(overrides)?;
        config.check_web_listen()?;
        Ok(config)
    }

    /// Only where the daemon lives (socket, state directory), read leniently: a client must
    /// still reach a running daemon when some other key in the file is broken.
    pub fn load_locations(mode: Mode, overrides: &Overrides, env: EnvLookup<'_>) -> Config {
        let mut config = Config::defaults(mode, env);
        let path = overrides
            .config_file
            .clone()
            .unwrap_or_else(|| default_config_file(mode, env));
        let table = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .unwrap_or_default();
        for key in ["socket", "state_dir"] {
            if let Some(value) = table.get(key).and_then(toml::Value::as_str) {
                let _ = config.set(key, value, "config file");
            }
            if let Some(value) = env(&env_name(key)) {
                let _ = config.set(key, &value, "environment");
            }
        }
        if let Some(socket) = &overrides.socket {
            config.socket = socket.clone();
        }
        config
    }

    /// Refuses a `web_listen` other hosts could reach unless `web_allow_remote` says so.
    pub fn check_web_listen(&self) -> Result<(), ConfigError> {
        match self.web_listen.addr() {
            Some(addr) if !addr.ip().is_loopback() && !self.web_allow_remote => {
                Err(ConfigError::Value {
                    origin: "configuration".to_string(),
                    key: "web_listen".to_string(),
                    message: format!(
                        "{addr} is reachable from other hosts; set web_allow_remote = true to \
                         allow that (and put a TLS reverse proxy in front), or listen on 127.0.0.1"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.state_dir.join("vfetch.db"))
    }

    /// Where partial downloads live until they are complete and validated.
    pub fn staging_dir(&self) -> PathBuf {
        self.state_dir.join("staging")
    }

    /// Where an autostarted daemon writes its log.
    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("vfetchd.log")
    }

    /// One source's settings (every source always has an entry).
    pub fn source(&self, kind: SourceKind) -> &SourceConfig {
        &self.sources[&kind]
    }

    fn apply_toml(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let origin = path.display().to_string();
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::File {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        self.apply_table("", &table, &origin)
    }

    fn apply_table(
        &mut self,
        prefix: &str,
        table: &toml::Table,
        origin: &str,
    ) -> Result<(), ConfigError> {
        for (name, value) in table {
            let key = format!("{prefix}{name}");
            let text = match value {
                toml::Value::Table(inner) => {
                    if key == "sources" || key.starts_with("sources.") {
                        self.apply_table(&format!("{key}."), inner, origin)?;
                        continue;
                    }
                    return Err(ConfigError::unknown_key(origin, &key));
                }
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                // Lists (on_complete) travel as JSON text, the form `config set` takes too.
                toml::Value::Array(items) => serde_json::to_string(items).unwrap_or_default(),
                other => {
                    return Err(ConfigError::Value {
                        origin: origin.to_string(),
                        key,
                        message: format!("unsupported value type {}", other.type_str()),
                    })
                }
            };
            self.set(&key, &text, origin)?;
        }
        Ok(())
    }

    fn apply_env(&mut self, env: EnvLookup<'_>) -> Result<(), ConfigError> {
        for (name, key) in LEGACY_ENV {
            if let Some(value) = env(name) {
                self.set(key, &value, &format!("environment variable {name}"))?;
            }
        }
        for (name, kind) in [
            ("PEXELS_API_KEY", SourceKind::Pexels),
            ("PIXABAY_API_KEY", SourceKind::Pixabay),
        ] {
            if let Some(value) = env(name) {
                self.set(
                    &format!("sources.{kind}.api_key"),
                    &value,
                    &format!("environment variable {name}"),
                )?;
            }
        }
        for key in Config::keys() {
            let name = env_name(&key);
            if let Some(value) = env(&name) {
                self.set(&key, &value, &format!("environment variable {name}"))?;
            }
        }
        Ok(())
    }

    fn apply_overrides(&mut self, overrides: &Overrides) -> Result<(), ConfigError> {
        if let Some(p) = &overrides.socket {
            self.socket = p.clone();
        }
        if let Some(p) = &overrides.state_dir {
            self.state_dir = p.clone();
        }
        if let Some(p) = &overrides.library_dir {
            self.library_dir = p.clone();
        }
        if let Some(n) = overrides.parallel_downloads {
            self.set("parallel_downloads", &n.to_string(), "--parallel-downloads")?;
        }
        Ok(())
    }
}

/// The environment variable that overrides `key`: `VFETCH_` and the key in upper case, dots as
/// underscores (`sources.pexels.base_url` → `VFETCH_SOURCES_PEXELS_BASE_URL`).
pub fn env_name(key: &str) -> String {
    format!("VFETCH_{}", key.to_ascii_uppercase().replace('.', "_"))
}

/// The config file read when `--config` is not given.
pub fn default_config_file(mode: Mode, env: EnvLookup<'_>) -> PathBuf {
    match mode {
        Mode::System => PathBuf::from("/etc/vfetchd/config.toml"),
        Mode::User => {
            let home = env("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            xdg_dir(env, "XDG_CONFIG_HOME", &home, ".config")
                .join("vfetchd")
                .join("config.toml")
        }
    }
}

/// `$XDG_RUNTIME_DIR/vfetchd.sock`, or a per-user directory under /tmp when there is none.
pub fn user_socket(env: EnvLookup<'_>) -> PathBuf {
    match env("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("vfetchd.sock"),
        None => {
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            PathBuf::from(format!("/tmp/vfetchd-{uid}")).join("vfetchd.sock")
        }
    }
}

fn xdg_dir(env: EnvLookup<'_>, var: &str, home: &Path, fallback: &str) -> PathBuf {
    env(var)
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(fallback))
}

/// Polite defaults: the providers' documented quotas, and a modest pace for the keyless ones.
fn default_rate_limit(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Pexels => "200/3600,20000/2592000",
        SourceKind::Pixabay => "100/60",
        SourceKind::Wikimedia | SourceKind::Archive => "100/60",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let overrides = Overrides {
            config_file: Some(path),
            ..Default::default()
        };
        Config::load(Mode::User, &overrides, &env_of(env))
    }

    #[test]
    fn file_then_environment_then_flags() {
        let config = load_text(
            "parallel_downloads = 3\n[sources.pexels]\napi_key = \"k1\"\nbase_url = \"http://127.0.0.1:9/\"\n",
            &[("VFETCH_PARALLEL_DOWNLOADS", "5"), ("HOME", "/home/u")],
        )
        .unwrap();
        assert_eq!(config.parallel_downloads, 5);
        assert_eq!(
            config.source(SourceKind::Pexels).base_url,
            "http://127.0.0.1:9"
        );
        assert_eq!(
            config.source(SourceKind::Pexels).api_key,
            Some(Secret("k1".into()))
        );
        assert!(config
            .source(SourceKind::Pixabay)
            .disabled_reason(SourceKind::Pixabay)
            .is_some());
    }

    #[test]
    fn legacy_and_key_environment_names_are_read() {
        let config = load_text(
            "",
            &[
                ("VIDEO_DB_PATH", "/data/v.db"),
                ("VIDEO_MAX_FILE_SIZE_MB", "50"),
                ("PIXABAY_API_KEY", "pk"),
            ],
        )
        .unwrap();
        assert_eq!(config.database(), PathBuf::from("/data/v.db"));
        assert_eq!(config.defaults.max_file_size_mb, Some(50));
        assert!(config.source(SourceKind::Pixabay).api_key.is_some());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_key_and_origin() {
        let err = load_text("paralel_downloads = 3", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("paralel_downloads") && err.contains("config.toml"),
            "{err}"
        );
        let err = load_text("parallel_downloads = 0", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("parallel_downloads") && err.contains("between 1 and 32"),
            "{err}"
        );
        let err = load_text("[sources.pexels]\nbase_url = \"ftp://x\"", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sources.pexels.base_url"), "{err}");
        let err = load_text("[sources.flickr]\nenabled = true", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sources.flickr.enabled"), "{err}");
        let err = load_text("", &[("VFETCH_DEFAULT_QUALITY", "8k")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("VFETCH_DEFAULT_QUALITY") && err.contains("8k"),
            "{err}"
        );
    }

    #[test]
    fn web_listen_defaults_to_loopback_for_users_and_off_for_the_system() {
        let user = load_text("", &[]).unwrap();
        assert_eq!(user.get("web_listen").unwrap(), "127.0.0.1:5001");
        assert!(matches!(user.web_listen, WebListen::Default(_)));
        let system = Config::defaults(Mode::System, &env_of(&[]));
        assert_eq!(system.web_listen, WebListen::Off);
        let set = load_text("web_listen = \"[::1]:0\"", &[]).unwrap();
        assert_eq!(
            set.web_listen,
            WebListen::Configured("[::1]:0".parse().unwrap())
        );
        let off = load_text("web_listen = \"off\"", &[]).unwrap();
        assert_eq!(off.get("web_listen").unwrap(), "off");
        let err = load_text("web_listen = \"somewhere\"", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("web_listen") && err.contains("127.0.0.1:5001"),
            "{err}"
        );
    }

    #[test]
    fn a_remote_web_listener_needs_web_allow_remote() {
        let err = load_text("web_listen = \"0.0.0.0:5001\"", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("web_listen") && err.contains("web_allow_remote"),
            "{err}"
        );
        let allowed = load_text(
            "web_listen = \"0.0.0.0:5001\"\nweb_allow_remote = true",
            &[],
        )
        .unwrap();
        assert_eq!(
            allowed.web_listen.addr(),
            Some("0.0.0.0:5001".parse().unwrap())
        );
    }

    #[test]
    fn secrets_never_print() {
        let config = load_text("", &[("PEXELS_API_KEY", "SECRET-123")]).unwrap();
        assert!(!format!("{config:?}").contains("SECRET-123"));
    }

    #[test]
    fn user_mode_defaults_follow_xdg() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "/home/u")]);
        let config = Config::defaults(Mode::User, &env);
        assert_eq!(config.socket, PathBuf::from("/run/user/7/vfetchd.sock"));
        assert_eq!(
            config.state_dir,
            PathBuf::from("/home/u/.local/state/vfetchd")
        );
        assert_eq!(
            config.database(),
            PathBuf::from("/home/u/.local/state/vfetchd/vfetch.db")
        );
    }
}
