//! The job vocabulary: what a user asked for, its options and its life cycle.
//!
//! These types travel on the wire (see `protocol`), are stored by `store` and rendered by `cli`,
//! so they are plain serde data with validation in constructors, never in the callers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::input::names;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// Longest theme accepted, in characters; providers cap queries near 100, so 200 leaves room.
pub const MAX_THEME_CHARS: usize = 200;
/// Largest number of videos one job may ask for; beyond this a user wants several jobs.
pub const MAX_COUNT: u32 = 1000;

/// A job's identity, as stored in the database and typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for JobId {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(JobId(n)),
            _ => Err(InvalidInput(format!(
                "invalid job id {s:?}: expected a positive whole number"
            ))),
        }
    }
}

pub use crate::input::InvalidInput;

/// Where a job is in its life; the only legal moves are in [`JobState::can_become`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Searching,
    Downloading,
    Paused,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    /// Every state, in life-cycle order (used for listings and status counts).
    pub const ALL: [JobState; 7] = [
        JobState::Queued,
        JobState::Searching,
        JobState::Downloading,
        JobState::Paused,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The lower-case name used in the database, in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Searching => "searching",
            JobState::Downloading => "downloading",
            JobState::Paused => "paused",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// A finished job never changes state again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }

    /// The single rule book for state changes; the store refuses anything it does not allow.
    pub fn can_become(self, next: JobState) -> bool {
        use JobState::*;
        match (self, next) {
            (a, b) if a == b => false,
            (a, _) if a.is_terminal() => false,
            // Work moves forward; searching again is allowed when candidates run low.
            (Queued, Searching | Downloading) => true,
            (Searching, Downloading | Queued) => true,
            (Downloading, Searching | Queued) => true,
            (Queued | Searching | Downloading, Done | Failed) => true,
            (Queued | Searching | Downloading, Paused) => true,
            // Resuming puts the job back in the queue; the scheduler decides what it does next.
            (Paused, Queued) => true,
            (_, Cancelled) => true,
            _ => false,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown job state {s:?}: expected one of {}",
                    names(JobState::ALL.iter().map(|s| s.as_str()))
                ))
            })
    }
}

/// The rendition size a user prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// Standard definition (below 720p).
    Sd,
    /// 720p or 1080p.
    Hd,
    /// 4K.
    Uhd,
    /// The largest rendition that fits the size limits.
    Best,
}

impl Quality {
    /// Every quality, smallest first.
    pub const ALL: [Quality; 4] = [Quality::Sd, Quality::Hd, Quality::Uhd, Quality::Best];

    /// The lower-case name used in config, JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Sd => "sd",
            Quality::Hd => "hd",
            Quality::Uhd => "uhd",
            Quality::Best => "best",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quality {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quality::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown quality {s:?}: expected one of {}",
                    names(Quality::ALL.iter().map(|q| q.as_str()))
                ))
            })
    }
}

/// The frame shape a user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    Landscape,
    Portrait,
    Square,
}

impl Orientation {
    /// Every orientation.
    pub const ALL: [Orientation; 3] = [
        Orientation::Landscape,
        Orientation::Portrait,
        Orientation::Square,
    ];

    /// The lower-case name used in config, JSON, on the command line and by Pexels.
    pub fn as_str(self) -> &'static str {
        match self {
            Orientation::Landscape => "landscape",
            Orientation::Portrait => "portrait",
            Orientation::Square => "square",
        }
    }

    /// Whether a frame of this size has this orientation (square allows 5% slack).
    pub fn matches(self, width: u32, height: u32) -> bool {
        let (w, h) = (f64::from(width), f64::from(height));
        if w <= 0.0 || h <= 0.0 {
            return false;
        }
        let ratio = w / h;
        match self {
            Orientation::Square => (0.95..=1.05).contains(&ratio),
            Orientation::Landscape => ratio > 1.05,
            Orientation::Portrait => ratio < 0.95,
        }
    }
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Orientation {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Orientation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown orientation {s:?}: expected one of {}",
                    names(Orientation::ALL.iter().map(|o| o.as_str()))
                ))
            })
    }
}

/// What a job is restricted to; `None` means "no limit" once the daemon has applied defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobOptions {
    /// Sources to search; empty means every enabled source.
    pub sources: Vec<SourceKind>,
    pub quality: Option<Quality>,
    pub orientation: Option<Orientation>,
    /// Shortest accepted clip, in seconds.
    pub min_duration: Option<u32>,
    /// Longest accepted clip, in seconds.
    pub max_duration: Option<u32>,
    pub min_width: Option<u32>,
    pub min_height: Option<u32>,
    /// Largest accepted file, in MiB.
    pub max_file_size_mb: Option<u64>,
}

impl JobOptions {
    /// Checks that the limits make sense together.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if let (Some(min), Some(max)) = (self.min_duration, self.max_duration) {
            if min > max {
                return Err(InvalidInput(format!(
                    "min duration {min}s is greater than max duration {max}s"
                )));
            }
        }
        if self.max_file_size_mb == Some(0) {
            return Err(InvalidInput(
                "max file size must be at least 1 MiB".to_string(),
            ));
        }
        if self.max_duration == Some(0) {
            return Err(InvalidInput("max duration must be at least 1s".to_string()));
        }
        let mut seen = Vec::new();
        for source in &self.sources {
            if seen.contains(source) {
                return Err(InvalidInput(format!("source {source} is listed twice")));
            }
            seen.push(*source);
        }
        Ok(())
    }
}

/// A request to create a job, as it arrives from a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub theme: String,
    pub count: u32,
    pub priority: i32,
    pub options: JobOptions,
}

impl NewJob {
    /// Rejects themes and counts no provider could serve, before anything is written.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        validate_theme(&self.theme)?;
        validate_count(i64::from(self.count))?;
        self.options.validate()
    }
}

/// A job as stored and as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub theme: String,
    pub count: u32,
    pub priority: i32,
    pub state: JobState,
    pub options: JobOptions,
    /// Downloads that finished valid and unique.
    pub done: u32,
    /// Why the job failed, or what went wrong per source; one line each.
    pub errors: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a theme: not blank, not too long, no control characters. It is otherwise kept verbatim.
pub fn validate_theme(theme: &str) -> Result<(), InvalidInput> {
    if theme.trim().is_empty() {
        return Err(InvalidInput("theme is empty".to_string()));
    }
    let chars = theme.chars().count();
    if chars > MAX_THEME_CHARS {
        return Err(InvalidInput(format!(
            "theme is {chars} characters long; the maximum is {MAX_THEME_CHARS}"
        )));
    }
    if let Some(c) = theme.chars().find(|c| c.is_control()) {
        return Err(InvalidInput(format!(
            "theme contains a control character (U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Checks a wanted count against 1..=[`MAX_COUNT`].
pub fn validate_count(count: i64) -> Result<u32, InvalidInput> {
    if count < 1 {
        return Err(InvalidInput(format!(
            "count must be at least 1 (got {count})"
        )));
    }
    if count > i64::from(MAX_COUNT) {
        return Err(InvalidInput(format!(
            "count {count} is above the maximum of {MAX_COUNT} per job"
        )));
    }
    u32::try_from(count).map_err(|_| InvalidInput(format!("count {count} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_never_change() {
        for from in [JobState::Done, JobState::Failed, JobState::Cancelled] {
            for to in JobState::ALL {
                assert!(!from.can_become(to), "{from} -> {to} must be refused");
            }
        }
    }

    #[test]
    fn pause_and_resume_go_through_the_queue() {
        assert!(JobState::Downloading.can_become(JobState::Paused));
        assert!(JobState::Paused.can_become(JobState::Queued));
        assert!(!JobState::Paused.can_become(JobState::Downloading));
        assert!(!JobState::Paused.can_become(JobState::Paused));
        assert!(JobState::Paused.can_become(JobState::Cancelled));
    }

    #[test]
    fn themes_are_checked_but_kept_verbatim() {
        assert!(validate_theme("  ").is_err());
        assert!(validate_theme("a\u{7}b").is_err());
        assert!(validate_theme(&"x".repeat(201)).is_err());
        assert!(validate_theme(&"é".repeat(200)).is_ok());
        assert!(validate_theme("it's 100% ; '-- ../ \"quoted\" Müller").is_ok());
    }

    #[test]
    fn counts_outside_the_range_are_refused() {
        assert!(validate_count(0).is_err());
        assert!(validate_count(-3).is_err());
        assert!(validate_count(i64::from(MAX_COUNT) + 1).is_err());
        assert_eq!(validate_count(10), Ok(10));
    }

    #[test]
    fn orientation_follows_the_aspect_ratio() {
        assert!(Orientation::Landscape.matches(1920, 1080));
        assert!(Orientation::Portrait.matches(1080, 1920));
        assert!(Orientation::Square.matches(1000, 1020));
        assert!(!Orientation::Square.matches(1920, 1080));
        assert!(!Orientation::Landscape.matches(0, 0));
    }

    #[test]
    fn names_round_trip() {
        for s in JobState::ALL {
            assert_eq!(s.as_str().parse::<JobState>(), Ok(s));
        }
        assert!("fast".parse::<Quality>().is_err());
        assert_eq!("uhd".parse::<Quality>(), Ok(Quality::Uhd));
    }
}
