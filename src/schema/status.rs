//! `status`: the daemon's health, each source's state with a separate reason, and how much of
//! each rate-limit window is taken.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::breaker::BreakerState;
use crate::protocol::{SourceStatus as DomainSourceStatus, StatusView};
use crate::ratelimit::WindowUse;
use crate::source_kind::{SourceKind, SourceOff};
use crate::validate::ValidatorStatus;

/// `status`: who the daemon is, where it keeps things, how busy it is and each source's health.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Status {
    /// The version of this schema.
    pub schema_version: u32,
    pub daemon_version: String,
    /// The socket protocol between vfetchctl and vfetchd.
    pub protocol_version: u32,
    pub pid: u32,
    pub uptime_secs: u64,
    pub socket: String,
    pub database: String,
    pub library_dir: String,
    /// Number of jobs in each job state (every state present, zero included).
    pub jobs: BTreeMap<String, u64>,
    pub active_downloads: u32,
    pub parallel_downloads: u32,
    /// Conditions that need the user, one sentence each.
    pub problems: Vec<String>,
    /// How finished files are checked.
    pub validation: Validator,
    pub sources: Vec<Source>,
    /// The HTTP API's address (`http://127.0.0.1:5001`), or null while it is off.
    pub web_url: Option<String>,
}

/// Whether finished files are checked with ffprobe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorState {
    /// ffprobe is found and used; `detail` names its version and path.
    Ffprobe,
    /// Validation is switched off in config.
    Off,
    /// ffprobe is missing; files are kept unchecked (`detail` says why).
    NotValidated,
    /// ffprobe is required but unusable (`detail` says why).
    Error,
}

/// How finished files are checked: a state and the daemon's words about it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Validator {
    pub state: ValidatorState,
    pub detail: Option<String>,
}

impl From<&ValidatorStatus> for Validator {
    fn from(v: &ValidatorStatus) -> Self {
        let (state, detail) = match v {
            // The detail names the version and path, as the human `status` line does.
            ValidatorStatus::Ffprobe { .. } => (ValidatorState::Ffprobe, Some(v.to_string())),
            ValidatorStatus::Off => (ValidatorState::Off, None),
            ValidatorStatus::NotValidated { reason } => {
                (ValidatorState::NotValidated, Some(reason.clone()))
            }
            ValidatorStatus::Error { reason } => (ValidatorState::Error, Some(reason.clone())),
        };
        Validator { state, detail }
    }
}

/// Whether a source takes requests now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Searched, and requests go out.
    Ok,
    /// Not searched (`reason` says why).
    Disabled,
    /// Its breaker is open: requests wait for the next trial.
    Failing,
    /// Its breaker lets trial requests through.
    Recovering,
    /// Requests wait for the rate limit or a Retry-After.
    Waiting,
}

/// One source's health.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Source {
    pub source: SourceKind,
    pub state: SourceState,
    /// Why the source is disabled, e.g. "no API key" (null otherwise).
    pub reason: Option<String>,
    pub base_url: String,
    pub breaker: BreakerStatus,
    /// Seconds until the rate limit (or a Retry-After) lets the next request go.
    pub waiting_secs: Option<u64>,
    pub rate_limit: RateLimit,
}

/// A source's circuit breaker.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BreakerStatus {
    pub state: BreakerState,
    /// Seconds until the next trial call, while open.
    pub next_trial_secs: Option<u64>,
}

/// A source's rate limit: its windows (none means no limit).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RateLimit {
    pub windows: Vec<RateWindow>,
}

/// At most `limit` requests in any `per_secs`; `used` of them are taken now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RateWindow {
    pub limit: u32,
    pub per_secs: u64,
    pub used: u32,
}

impl From<&WindowUse> for RateWindow {
    fn from(u: &WindowUse) -> Self {
        RateWindow {
            limit: u.window.limit,
            per_secs: u.window.per.as_secs(),
            used: u.used,
        }
    }
}

impl From<&DomainSourceStatus> for Source {
    fn from(s: &DomainSourceStatus) -> Self {
        let state = match (s.disabled, s.breaker) {
            (Some(_), _) => SourceState::Disabled,
            (None, BreakerState::Open) => SourceState::Failing,
            (None, BreakerState::HalfOpen) => SourceState::Recovering,
            (None, BreakerState::Closed) if s.waiting_secs.is_some() => SourceState::Waiting,
            (None, BreakerState::Closed) => SourceState::Ok,
        };
        Source {
            source: s.source,
            state,
            reason: s.disabled.map(|off: SourceOff| off.reason().to_string()),
            base_url: s.base_url.clone(),
            breaker: BreakerStatus {
                state: s.breaker,
                next_trial_secs: s.next_trial_secs,
            },
            waiting_secs: s.waiting_secs,
            rate_limit: RateLimit {
                windows: s.rate_limit.iter().map(RateWindow::from).collect(),
            },
        }
    }
}

impl From<&StatusView> for Status {
    fn from(v: &StatusView) -> Self {
        Status {
            schema_version: SCHEMA_VERSION,
            daemon_version: v.daemon_version.clone(),
            protocol_version: v.protocol_version,
            pid: v.pid,
            uptime_secs: v.uptime_secs,
            socket: v.socket.clone(),
            database: v.database.clone(),
            library_dir: v.library_dir.clone(),
            jobs: v.jobs.clone(),
            active_downloads: v.active_downloads,
            parallel_downloads: v.parallel_downloads,
            problems: v.problems.clone(),
            validation: Validator::from(&v.validation),
            sources: v.sources.iter().map(Source::from).collect(),
            web_url: v.web_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_status_becomes_a_state_and_a_detail() {
        let v = Validator::from(&ValidatorStatus::Ffprobe {
            version: Some("6.0".into()),
            path: "/usr/bin/ffprobe".into(),
        });
        assert_eq!(v.state, ValidatorState::Ffprobe);
        assert_eq!(v.detail.as_deref(), Some("ffprobe 6.0 at /usr/bin/ffprobe"));
        let v = Validator::from(&ValidatorStatus::NotValidated {
            reason: "ffprobe not found (ffprobe)".into(),
        });
        assert_eq!(v.state, ValidatorState::NotValidated);
        assert_eq!(v.detail.as_deref(), Some("ffprobe not found (ffprobe)"));
        let v = Validator::from(&ValidatorStatus::Error {
            reason: "not found: the detail may even start with \"off\"".into(),
        });
        assert_eq!(v.state, ValidatorState::Error);
        let v = Validator::from(&ValidatorStatus::Off);
        assert_eq!((v.state, v.detail), (ValidatorState::Off, None));
    }
}
