//! One parser and one printer per configuration key: the file, the environment, the flags and
//! `vfetchctl config` all go through [`Config::set`] and [`Config::get`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Config, ConfigError, Secret, WebListen, CONNECTIONS_RANGE, PARALLEL_RANGE};
use crate::ratelimit;
use crate::source_kind::SourceKind;

/// The longest `backup_interval_hours`: a year.
const MAX_BACKUP_INTERVAL_HOURS: u64 = 24 * 366;

/// How a key's value is written in a TOML config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A string (paths, URLs, names, rate limits).
    Text,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A list of strings (`on_complete`).
    List,
    /// An API key: shown only as set or unset, never written out.
    Secret,
}

impl Config {
    /// How `key`'s value is written in TOML (unknown keys count as text).
    pub fn value_kind(key: &str) -> ValueKind {
        match key {
            "parallel_downloads"
            | "per_source_downloads"
            | "stall_timeout_secs"
            | "ffprobe_timeout_secs"
            | "connect_timeout_secs"
            | "search_timeout_secs"
            | "search_tries"
            | "download_tries"
            | "retry_base_ms"
            | "breaker_failures"
            | "breaker_recovery_secs"
            | "breaker_trials"
            | "hook_timeout_secs"
            | "max_connections"
            | "client_idle_timeout_secs"
            | "backup_interval_hours"
            | "min_width"
            | "min_height"
            | "min_duration"
            | "max_duration"
            | "max_file_size_mb" => ValueKind::Integer,
            "allow_private_addresses" | "web_allow_remote" | "metrics_public" => ValueKind::Bool,
            "on_complete" => ValueKind::List,
            _ if key.starts_with("sources.") && key.ends_with(".enabled") => ValueKind::Bool,
            _ if key.starts_with("sources.") && key.ends_with(".api_key") => ValueKind::Secret,
            _ => ValueKind::Text,
        }
    }

    /// Every key [`Config::set`] accepts, in the order `config get` shows them.
    pub fn keys() -> Vec<String> {
        let mut keys: Vec<String> = [
            "socket",
            "state_dir",
            "library_dir",
            "database",
            "parallel_downloads",
            "per_source_downloads",
            "stall_timeout_secs",
            "validate",
            "ffprobe",
            "ffprobe_timeout_secs",
            "ffmpeg",
            "connect_timeout_secs",
            "allow_private_addresses",
            "search_timeout_secs",
            "search_tries",
            "download_tries",
            "retry_base_ms",
            "breaker_failures",
            "breaker_recovery_secs",
            "breaker_trials",
            "on_complete",
            "webhook_url",
            "hook_timeout_secs",
            "max_connections",
            "client_idle_timeout_secs",
            "log_file",
            "backup_interval_hours",
            "default_quality",
            "orientation",
            "min_width",
            "min_height",
            "min_duration",
            "max_duration",
            "max_file_size_mb",
            "web_listen",
            "web_allow_remote",
            "metrics_public",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        for kind in SourceKind::ALL {
            for field in ["enabled", "api_key", "base_url", "rate_limit"] {
                keys.push(format!("sources.{kind}.{field}"));
            }
        }
        keys
    }

    /// Refuses a key that is not a setting, naming `origin` (the command or file that used it).
    pub fn check_key(key: &str, origin: &str) -> Result<(), ConfigError> {
        if Config::keys().iter().any(|k| k == key) {
            Ok(())
        } else {
            Err(ConfigError::unknown_key(origin, key))
        }
    }

    /// The known key most like `key`, if it is close enough to be what a typo meant.
    pub fn closest_key(key: &str) -> Option<String> {
        // Jaro-Winkler favours a shared start, which suits keys that share prefixes
        // (`sources.pexels.`, `min_`); below 0.85 the "closest" key is usually a different idea.
        const LIKELY_TYPO: f64 = 0.85;
        Config::keys()
            .into_iter()
            .map(|k| (strsim::jaro_winkler(key, &k), k))
            .filter(|(score, _)| *score >= LIKELY_TYPO)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k)
    }

    /// Sets one key from its text form; `origin` names where the value came from in errors.
    pub fn set(&mut self, key: &str, value: &str, origin: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Value {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        match key {
            "socket" => self.socket = non_empty_path(value).map_err(|e| bad(e.to_string()))?,
            "state_dir" => self.state_dir = non_empty_path(value).map_err(|e| bad(e.to_string()))?,
            "library_dir" => self.library_dir = non_empty_path(value).map_err(|e| bad(e.to_string()))?,
            "database" => self.database = Some(non_empty_path(value).map_err(|e| bad(e.to_string()))?),
            "parallel_downloads" => {
                let n = parse_u64(value).map_err(|e| bad(e.to_string()))?;
                match u32::try_from(n) {
                    Ok(n) if PARALLEL_RANGE.contains(&n) => self.parallel_downloads = n,
                    _ => {
                        return Err(bad(format!(
                            "must be between {} and {} (got {value})",
                            PARALLEL_RANGE.start(),
                            PARALLEL_RANGE.end()
                        )))
                    }
                }
            }
            "per_source_downloads" => {
                let n = parse_u64(value).map_err(|e| bad(e.to_string()))?;
                match u32::try_from(n) {
                    Ok(n) if PARALLEL_RANGE.contains(&n) => self.per_source_downloads = n,
                    _ => return Err(bad(format!("must be between 1 and 32 (got {value})"))),
                }
            }
            "stall_timeout_secs" => {
                self.stall_timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "validate" => self.validate = value.trim().parse().map_err(|e| bad(format!("{e}")))?,
            "ffprobe" => self.ffprobe = non_empty_path(value).map_err(|e| bad(e.to_string()))?,
            "ffmpeg" => self.ffmpeg = non_empty_path(value).map_err(|e| bad(e.to_string()))?,
            "ffprobe_timeout_secs" => {
                self.ffprobe_timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "connect_timeout_secs" => {
                self.connect_timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "allow_private_addresses" => {
                self.allow_private_addresses = parse_bool(value).map_err(|e| bad(e.to_string()))?
            }
            "search_timeout_secs" => {
                self.search_timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "search_tries" => self.search_tries = small(value).map_err(|e| bad(e.to_string()))?,
            "download_tries" => self.download_tries = small(value).map_err(|e| bad(e.to_string()))?,
            "retry_base_ms" => {
                self.retry_base = Duration::from_millis(at_least_one_of(value, TimeUnit::Millis).map_err(|e| bad(e.to_string()))?)
            }
            "breaker_failures" => self.breaker.failures = small(value).map_err(|e| bad(e.to_string()))?,
            "breaker_recovery_secs" => {
                self.breaker.recovery = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "breaker_trials" => self.breaker.trials = small(value).map_err(|e| bad(e.to_string()))?,
            "on_complete" => {
                self.hooks.on_complete = match optional(value) {
                    None => Vec::new(),
                    Some(v) => serde_json::from_str::<Vec<String>>(v)
                        .map_err(|_| bad(format!("expected a list of strings like [\"/usr/bin/program\", \"arg\"], got {v:?}")))?,
                }
            }
            "webhook_url" => {
                self.hooks.webhook_url = optional(value)
                    .map(|v| parse_base_url(v).map(|_| v.to_string()))
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?
            }
            "hook_timeout_secs" => self.hooks.timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?),
            "max_connections" => {
                let n = parse_u64(value).map_err(|e| bad(e.to_string()))?;
                match u32::try_from(n) {
                    Ok(n) if CONNECTIONS_RANGE.contains(&n) => self.max_connections = n,
                    _ => {
                        return Err(bad(format!(
                            "must be between {} and {} (got {value})",
                            CONNECTIONS_RANGE.start(),
                            CONNECTIONS_RANGE.end()
                        )))
                    }
                }
            }
            "client_idle_timeout_secs" => {
                self.client_idle_timeout = Duration::from_secs(at_least_one_of(value, TimeUnit::Secs).map_err(|e| bad(e.to_string()))?)
            }
            "log_file" => self.log_file = optional(value).map(PathBuf::from),
            "backup_interval_hours" => {
                self.backup_interval = match duration_in(value, TimeUnit::Hours).map_err(|e| bad(e.to_string()))? {
                    0 => None,
                    n @ 1..=MAX_BACKUP_INTERVAL_HOURS => Some(Duration::from_secs(n * 3600)),
                    n => {
                        return Err(bad(format!(
                            "must be between 0 (off) and {MAX_BACKUP_INTERVAL_HOURS} (got {n})"
                        )))
                    }
                }
            }
            "default_quality" => {
                self.defaults.quality = Some(value.parse().map_err(|e| bad(format!("{e}")))?)
            }
            "orientation" => {
                self.defaults.orientation = optional(value)
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| bad(format!("{e}")))?
            }
            "min_width" => self.defaults.min_width = optional_u32(value).map_err(|e| bad(e.to_string()))?,
            "min_height" => self.defaults.min_height = optional_u32(value).map_err(|e| bad(e.to_string()))?,
            "min_duration" => self.defaults.min_duration = optional_u32(value).map_err(|e| bad(e.to_string()))?,
            "max_duration" => self.defaults.max_duration = optional_u32(value).map_err(|e| bad(e.to_string()))?,
            "max_file_size_mb" => {
                self.defaults.max_file_size_mb = match optional(value) {
                    None => None,
                    Some(v) => match parse_u64(v).map_err(|e| bad(e.to_string()))? {
                        0 => return Err(bad("must be at least 1".to_string())),
                        n => Some(n),
                    },
                }
            }
            "web_listen" => self.web_listen = parse_web_listen(value).map_err(|e| bad(e.to_string()))?,
            "web_allow_remote" => self.web_allow_remote = parse_bool(value).map_err(|e| bad(e.to_string()))?,
            "metrics_public" => self.metrics_public = parse_bool(value).map_err(|e| bad(e.to_string()))?,
            _ => return self.set_source_key(key, value, origin),
        }
        Ok(())
    }

    /// One key's value as text, as `config get` shows it; API keys show as `***`.
    pub fn get(&self, key: &str) -> Result<String, ConfigError> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let text = match key {
            "socket" => self.socket.display().to_string(),
            "state_dir" => self.state_dir.display().to_string(),
            "library_dir" => self.library_dir.display().to_string(),
            "database" => self.database().display().to_string(),
            "parallel_downloads" => self.parallel_downloads.to_string(),
            "per_source_downloads" => self.per_source_downloads.to_string(),
            "stall_timeout_secs" => self.stall_timeout.as_secs().to_string(),
            "validate" => self.validate.as_str().to_string(),
            "connect_timeout_secs" => self.connect_timeout.as_secs().to_string(),
            "allow_private_addresses" => self.allow_private_addresses.to_string(),
            "search_timeout_secs" => self.search_timeout.as_secs().to_string(),
            "search_tries" => self.search_tries.to_string(),
            "download_tries" => self.download_tries.to_string(),
            "retry_base_ms" => self.retry_base.as_millis().to_string(),
            "breaker_failures" => self.breaker.failures.to_string(),
            "breaker_recovery_secs" => self.breaker.recovery.as_secs().to_string(),
            "breaker_trials" => self.breaker.trials.to_string(),
            "on_complete" => {
                if self.hooks.on_complete.is_empty() {
                    String::new()
                } else {
                    serde_json::to_string(&self.hooks.on_complete).unwrap_or_default()
                }
            }
            "webhook_url" => opt(self.hooks.webhook_url.clone()),
            "hook_timeout_secs" => self.hooks.timeout.as_secs().to_string(),
            "max_connections" => self.max_connections.to_string(),
            "client_idle_timeout_secs" => self.client_idle_timeout.as_secs().to_string(),
            "log_file" => self
                .log_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            "ffprobe" => self.ffprobe.display().to_string(),
            "ffmpeg" => self.ffmpeg.display().to_string(),
            "backup_interval_hours" => self
                .backup_interval
                .map_or(0, |d| d.as_secs() / 3600)
                .to_string(),
            "ffprobe_timeout_secs" => self.ffprobe_timeout.as_secs().to_string(),
            "default_quality" => opt(self.defaults.quality.map(|q| q.to_string())),
            "orientation" => opt(self.defaults.orientation.map(|o| o.to_string())),
            "min_width" => opt(self.defaults.min_width.map(|v| v.to_string())),
            "min_height" => opt(self.defaults.min_height.map(|v| v.to_string())),
            "min_duration" => opt(self.defaults.min_duration.map(|v| v.to_string())),
            "max_duration" => opt(self.defaults.max_duration.map(|v| v.to_string())),
            "max_file_size_mb" => opt(self.defaults.max_file_size_mb.map(|v| v.to_string())),
            "web_listen" => self.web_listen.to_string(),
            "web_allow_remote" => self.web_allow_remote.to_string(),
            "metrics_public" => self.metrics_public.to_string(),
            _ => {
                let unknown = || ConfigError::unknown_key("config get", key);
                let mut parts = key.splitn(3, '.');
                let (Some("sources"), Some(name), Some(field)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(unknown());
                };
                let kind: SourceKind = name.parse().map_err(|_| unknown())?;
                let source = self.source(kind);
                match field {
                    "enabled" => source.enabled.to_string(),
                    "api_key" => source
                        .api_key
                        .as_ref()
                        .map(|_| "***".to_string())
                        .unwrap_or_default(),
                    "base_url" => source.base_url.clone(),
                    "rate_limit" => ratelimit::format(&source.rate_limit),
                    _ => return Err(unknown()),
                }
            }
        };
        Ok(text)
    }

    fn set_source_key(&mut self, key: &str, value: &str, origin: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Value {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let unknown = || ConfigError::unknown_key(origin, key);
        let mut parts = key.splitn(3, '.');
        let (Some("sources"), Some(name), Some(field)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown());
        };
        let kind: SourceKind = name.parse().map_err(|_| unknown())?;
        let Some(source) = self.sources.get_mut(&kind) else {
            return Err(unknown());
        };
        match field {
            "enabled" => source.enabled = parse_bool(value).map_err(|e| bad(e.to_string()))?,
            "api_key" => source.api_key = optional(value).map(|v| Secret(v.to_string())),
            "base_url" => {
                source.base_url = parse_base_url(value).map_err(|e| bad(e.to_string()))?
            }
            "rate_limit" => {
                source.rate_limit = ratelimit::parse(value).map_err(|e| bad(e.to_string()))?
            }
            _ => return Err(unknown()),
        }
        Ok(())
    }
}

/// An empty string (or "none") clears an optional setting.
fn optional(value: &str) -> Option<&str> {
    let v = value.trim();
    (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then_some(v)
}

/// Why a value is not of the form its key takes; the message is shown with the key and where
/// the value came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueError {
    #[error("must be a path")]
    NotAPath,
    #[error("expected a whole number, got {0:?}")]
    NotANumber(String),
    #[error("{0} is too large")]
    TooLarge(u64),
    #[error("must be at least 1")]
    BelowOne,
    #[error("must be between 1 and 100 (got {0})")]
    NotSmall(u64),
    #[error("expected true or false, got {0:?}")]
    NotABool(String),
    #[error("not a URL ({reason}): {value:?}")]
    NotAUrl { reason: String, value: String },
    #[error("expected an http(s) URL with a host, got {0:?}")]
    NotHttp(String),
    #[error(
        "expected \"off\" or an address with a port like 127.0.0.1:5001 or [::1]:5001, got {0:?}"
    )]
    NotAListenAddress(String),
    #[error(
        "expected a whole number of {} ({}) or a duration ({}), got {value:?}",
        unit.name(),
        unit.examples().0,
        unit.examples().1
    )]
    NotADuration { unit: TimeUnit, value: String },
    #[error(
        "{value:?} is not a whole number of {}: write one as {} or {}",
        unit.name(),
        unit.examples().0,
        unit.examples().1
    )]
    NotWhole { unit: TimeUnit, value: String },
}

fn non_empty_path(value: &str) -> Result<PathBuf, ValueError> {
    optional(value)
        .map(PathBuf::from)
        .ok_or(ValueError::NotAPath)
}

fn parse_u64(value: &str) -> Result<u64, ValueError> {
    value
        .trim()
        .parse::<u64>()
        .map_err(|_| ValueError::NotANumber(value.to_string()))
}

fn optional_u32(value: &str) -> Result<Option<u32>, ValueError> {
    optional(value)
        .map(|v| {
            let n = parse_u64(v)?;
            u32::try_from(n).map_err(|_| ValueError::TooLarge(n))
        })
        .transpose()
}

/// The unit a duration key (`*_ms`, `*_secs`, `*_hours`) counts in, and prints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Millis,
    Secs,
    Hours,
}

impl TimeUnit {
    fn length(self) -> Duration {
        match self {
            TimeUnit::Millis => Duration::from_millis(1),
            TimeUnit::Secs => Duration::from_secs(1),
            TimeUnit::Hours => Duration::from_secs(3600),
        }
    }

    fn name(self) -> &'static str {
        match self {
            TimeUnit::Millis => "milliseconds",
            TimeUnit::Secs => "seconds",
            TimeUnit::Hours => "hours",
        }
    }

    /// One value in each accepted form, for error messages.
    fn examples(self) -> (&'static str, &'static str) {
        match self {
            TimeUnit::Millis => ("250", "\"250ms\" or \"2s\""),
            TimeUnit::Secs => ("45", "\"45s\", \"2m\" or \"1h 30m\""),
            TimeUnit::Hours => ("24", "\"1d\" or \"12h\""),
        }
    }
}

/// A duration key's value in its unit: a whole number counts in that unit (as config files
/// always wrote it); anything else is read by humantime (`"45s"`, `"2m"`, `"1h 30m"`) and must
/// come to a whole number of units, so `config get` can print it back exactly.
fn duration_in(value: &str, unit: TimeUnit) -> Result<u64, ValueError> {
    let text = value.trim();
    let not_a_duration = || ValueError::NotADuration {
        unit,
        value: value.to_string(),
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().map_err(|_| not_a_duration());
    }
    let duration = humantime::parse_duration(text).map_err(|_| not_a_duration())?;
    let length = unit.length().as_nanos();
    let nanos = duration.as_nanos();
    if nanos % length != 0 {
        return Err(ValueError::NotWhole {
            unit,
            value: value.to_string(),
        });
    }
    u64::try_from(nanos / length).map_err(|_| not_a_duration())
}

/// A duration key that must not be zero.
fn at_least_one_of(value: &str, unit: TimeUnit) -> Result<u64, ValueError> {
    match duration_in(value, unit)? {
        0 => Err(ValueError::BelowOne),
        n => Ok(n),
    }
}

/// A count between 1 and 100 (tries, breaker thresholds).
fn small(value: &str) -> Result<u32, ValueError> {
    match parse_u64(value)? {
        n @ 1..=100 => Ok(n as u32),
        n => Err(ValueError::NotSmall(n)),
    }
}

fn parse_bool(value: &str) -> Result<bool, ValueError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(ValueError::NotABool(value.to_string())),
    }
}

/// `off`, or an IP address and port (`localhost:PORT` meaning 127.0.0.1); port 0 lets the
/// system choose one.
fn parse_web_listen(value: &str) -> Result<WebListen, ValueError> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(WebListen::Off);
    }
    let text = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    text.parse::<SocketAddr>()
        .map(WebListen::Configured)
        .map_err(|_| ValueError::NotAListenAddress(value.to_string()))
}

fn parse_base_url(value: &str) -> Result<String, ValueError> {
    let url = url::Url::parse(value.trim()).map_err(|e| ValueError::NotAUrl {
        reason: e.to_string(),
        value: value.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ValueError::NotHttp(value.to_string()));
    }
    Ok(value.trim().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_suggest_the_key_that_was_meant() {
        for (typo, meant) in [
            ("paralel_downloads", "parallel_downloads"),
            ("parallel_download", "parallel_downloads"),
            ("webhook_ulr", "webhook_url"),
            ("sources.pexel.api_key", "sources.pexels.api_key"),
            ("stall_timeout", "stall_timeout_secs"),
        ] {
            assert_eq!(Config::closest_key(typo).as_deref(), Some(meant), "{typo}");
        }
        for unrelated in ["zzz", "colour", ""] {
            assert_eq!(Config::closest_key(unrelated), None, "{unrelated}");
        }
    }

    #[test]
    fn every_number_and_switch_key_prints_as_one() {
        let mut config = Config::defaults(super::super::Mode::User, &|_| None);
        for (key, value) in [
            ("min_width", "1"),
            ("min_height", "1"),
            ("min_duration", "1"),
            ("max_duration", "9"),
            ("max_file_size_mb", "5"),
            ("on_complete", r#"["/bin/true"]"#),
        ] {
            config.set(key, value, "test").unwrap();
        }
        for key in Config::keys() {
            let value = config.get(&key).unwrap();
            match Config::value_kind(&key) {
                ValueKind::Integer => assert!(value.parse::<i64>().is_ok(), "{key} = {value}"),
                ValueKind::Bool => assert!(value.parse::<bool>().is_ok(), "{key} = {value}"),
                ValueKind::List => {
                    assert!(serde_json::from_str::<Vec<String>>(&value).is_ok(), "{key}")
                }
                ValueKind::Text | ValueKind::Secret => {
                    assert!(value.parse::<i64>().is_err(), "{key} = {value} is a number")
                }
            }
        }
    }

    #[test]
    fn durations_take_a_whole_number_in_the_keys_unit_or_a_human_duration() {
        for (text, unit, expected) in [
            ("45", TimeUnit::Secs, 45),
            (" 45 ", TimeUnit::Secs, 45),
            ("45s", TimeUnit::Secs, 45),
            ("2m", TimeUnit::Secs, 120),
            ("1h 30m", TimeUnit::Secs, 5400),
            ("250", TimeUnit::Millis, 250),
            ("250ms", TimeUnit::Millis, 250),
            ("2s", TimeUnit::Millis, 2000),
            ("24", TimeUnit::Hours, 24),
            ("1d", TimeUnit::Hours, 24),
            ("0", TimeUnit::Hours, 0),
        ] {
            assert_eq!(duration_in(text, unit), Ok(expected), "{text}");
        }
        for (text, unit) in [
            ("", TimeUnit::Secs),
            ("-5", TimeUnit::Secs),
            ("45 parsecs", TimeUnit::Secs),
            ("99999999999999999999", TimeUnit::Secs),
        ] {
            assert!(
                matches!(
                    duration_in(text, unit),
                    Err(ValueError::NotADuration { .. })
                ),
                "{text}"
            );
        }
        assert_eq!(
            duration_in("1500ms", TimeUnit::Secs),
            Err(ValueError::NotWhole {
                unit: TimeUnit::Secs,
                value: "1500ms".to_string()
            })
        );
        assert_eq!(
            at_least_one_of("0s", TimeUnit::Secs),
            Err(ValueError::BelowOne)
        );
    }

    #[test]
    fn a_bad_duration_names_the_key_and_shows_both_forms() {
        let mut config = Config::defaults(super::super::Mode::User, &|_| None);
        let err = config
            .set("stall_timeout_secs", "soon", "config file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("stall_timeout_secs"), "{err}");
        assert!(err.contains("(45)") && err.contains("\"45s\""), "{err}");
        config.set("stall_timeout_secs", "1m", "test").unwrap();
        assert_eq!(config.get("stall_timeout_secs").unwrap(), "60");
        config.set("backup_interval_hours", "2d", "test").unwrap();
        assert_eq!(config.get("backup_interval_hours").unwrap(), "48");
        config.set("retry_base_ms", "1s", "test").unwrap();
        assert_eq!(config.get("retry_base_ms").unwrap(), "1000");
    }

    #[test]
    fn unknown_key_names_the_command_and_the_suggestion_not_every_key() {
        let err = Config::check_key("paralel_downloads", "config set")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "config set: unknown key paralel_downloads; did you mean parallel_downloads?"
            ),
            "{err}"
        );
        assert!(!err.contains("sources.archive.rate_limit"), "{err}");
        assert!(Config::check_key("parallel_downloads", "config set").is_ok());
    }
}
