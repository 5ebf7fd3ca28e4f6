//! Rate-limit windows: "at most N requests per T seconds", several per source (Pexels has an
//! hourly and a monthly quota). The counting itself lives in the store, so a restart inside a
//! window does not reset it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// At most `limit` requests in any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub limit: u32,
    pub per: Duration,
}

/// One window with how much of it is taken right now, for `status` ("183 of 200 this hour").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowUse {
    pub window: Window,
    /// Requests sent inside the window up to now.
    pub used: u32,
}

/// Why a rate-limit text does not parse; each names the part it stumbled on and shows the
/// forms a window takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    #[error("expected REQUESTS/WINDOW (200/3600 or 200/1h), got {0:?}")]
    NoSlash(String),
    #[error("bad request count in {0:?}: expected a whole number, as in 200/3600 or 200/1h")]
    BadCount(String),
    #[error(
        "bad window in {0:?}: expected whole seconds (200/3600) or a duration (200/1h, 20000/30d)"
    )]
    BadWindow(String),
    #[error("{0:?}: the window must be a whole number of seconds, as in 200/3600 or 200/1h")]
    NotWholeSeconds(String),
    #[error("{0:?}: both numbers must be at least 1")]
    Zero(String),
}

/// Parses `"200/3600, 20000/2592000"` or `"200/1h, 20000/30d"`: comma-separated windows of
/// requests per whole seconds or per a humantime duration; empty means none.
pub fn parse(text: &str) -> Result<Vec<Window>, RateLimitError> {
    let mut windows = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (limit, per) = part
            .split_once('/')
            .ok_or_else(|| RateLimitError::NoSlash(part.to_string()))?;
        let limit: u32 = limit
            .trim()
            .parse()
            .map_err(|_| RateLimitError::BadCount(part.to_string()))?;
        let per = window_length(per.trim(), part)?;
        if limit == 0 || per.is_zero() {
            return Err(RateLimitError::Zero(part.to_string()));
        }
        windows.push(Window { limit, per });
    }
    Ok(windows)
}

/// A window's length: whole seconds (`3600`) or a humantime duration (`1h`) of whole seconds,
/// the precision [`format`] prints.
fn window_length(text: &str, part: &str) -> Result<Duration, RateLimitError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| RateLimitError::BadWindow(part.to_string()));
    }
    let per =
        humantime::parse_duration(text).map_err(|_| RateLimitError::BadWindow(part.to_string()))?;
    if per.subsec_nanos() != 0 {
        return Err(RateLimitError::NotWholeSeconds(part.to_string()));
    }
    Ok(per)
}

/// The text form of windows, as `config get` shows it.
pub fn format(windows: &[Window]) -> String {
    windows
        .iter()
        .map(|w| format!("{}/{}", w.limit, w.per.as_secs()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_print() {
        let w = parse("200/3600, 20000/2592000").unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(format(&w), "200/3600,20000/2592000");
        assert!(parse("").unwrap().is_empty());
        assert!(parse("0/10").is_err());
        assert!(parse("5 per 10").is_err());
    }

    #[test]
    fn windows_take_human_durations_and_print_in_seconds() {
        let w = parse("200/1h, 20000/30d").unwrap();
        assert_eq!(format(&w), "200/3600,20000/2592000");
        assert_eq!(format(&parse("100/1m").unwrap()), "100/60");
        assert_eq!(format(&parse("5/1h 30m").unwrap()), "5/5400");
        assert_eq!(parse("5/0s"), Err(RateLimitError::Zero("5/0s".to_string())));
        assert_eq!(
            parse("5/1500ms"),
            Err(RateLimitError::NotWholeSeconds("5/1500ms".to_string()))
        );
        let err = parse("5/soon").unwrap_err().to_string();
        assert!(err.contains("200/3600") && err.contains("200/1h"), "{err}");
    }
}
