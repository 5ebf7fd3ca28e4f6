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

/// Why a rate-limit text does not parse; each names the part it stumbled on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    #[error("expected REQUESTS/SECONDS, got {0:?}")]
    NoSlash(String),
    #[error("bad request count in {0:?}")]
    BadCount(String),
    #[error("bad seconds in {0:?}")]
    BadSeconds(String),
    #[error("{0:?}: both numbers must be at least 1")]
    Zero(String),
}

/// Parses `"200/3600, 20000/2592000"` (requests/seconds, comma-separated); empty means none.
pub fn parse(text: &str) -> Result<Vec<Window>, RateLimitError> {
    let mut windows = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (limit, secs) = part
            .split_once('/')
            .ok_or_else(|| RateLimitError::NoSlash(part.to_string()))?;
        let limit: u32 = limit
            .trim()
            .parse()
            .map_err(|_| RateLimitError::BadCount(part.to_string()))?;
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| RateLimitError::BadSeconds(part.to_string()))?;
        if limit == 0 || secs == 0 {
            return Err(RateLimitError::Zero(part.to_string()));
        }
        windows.push(Window {
            limit,
            per: Duration::from_secs(secs),
        });
    }
    Ok(windows)
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
}
