//! Points in time as the store keeps them (milliseconds since the epoch) and as people and
//! scripts read them (RFC 3339, UTC).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the UNIX epoch, shown as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            humantime::format_rfc3339_millis(self.to_system_time())
        )
    }
}

/// In the public JSON schema: an RFC 3339 date-time in UTC, as serialised.
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, UTC, with milliseconds"
        })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let time = humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)?;
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map_err(serde::de::Error::custom)?
            .as_millis();
        Ok(Timestamp(
            i64::try_from(ms).map_err(serde::de::Error::custom)?,
        ))
    }
}

/// An RFC 3339 time (`2026-12-03T10:00:00Z`) or a date (`2026-12-03`, midnight UTC), as a
/// query parameter gives it.
impl std::str::FromStr for Timestamp {
    type Err = crate::input::InvalidInput;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            crate::input::InvalidInput(format!(
                "{text:?} is not a time: expected RFC 3339 (2026-12-03T10:00:00Z) or a date (2026-12-03)"
            ))
        };
        let full = match text.len() {
            10 => format!("{text}T00:00:00Z"),
            _ => text.to_string(),
        };
        let time = humantime::parse_rfc3339_weak(&full).map_err(|_| bad())?;
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| bad())?
            .as_millis();
        Ok(Timestamp(i64::try_from(ms).map_err(|_| bad())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_times_parse_as_dates_or_rfc3339() {
        let day: Timestamp = "2026-12-03".parse().unwrap();
        assert_eq!(day.to_string(), "2026-12-03T00:00:00.000Z");
        let at: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        assert_eq!(at.0 - day.0, 10 * 3_600_000);
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn round_trips_through_rfc3339() {
        let t = Timestamp(1_764_072_000_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-11-25T12:00:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
