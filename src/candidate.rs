//! The candidate vocabulary: one video a source returned for a job's theme, with attribution.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::job::{names, InvalidInput};
use crate::source_kind::SourceKind;

/// A candidate's identity in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CandidateId(pub i64);

impl fmt::Display for CandidateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A checksum a provider publishes for its file, verified after download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Checksum {
    Sha1(String),
    Md5(String),
}

impl Checksum {
    /// `sha1:<hex>` / `md5:<hex>`, as stored.
    pub fn to_stored(&self) -> String {
        match self {
            Checksum::Sha1(hex) => format!("sha1:{hex}"),
            Checksum::Md5(hex) => format!("md5:{hex}"),
        }
    }

    /// Reads the stored form; anything else is `None`.
    pub fn from_stored(text: &str) -> Option<Checksum> {
        let (kind, hex) = text.split_once(':')?;
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match kind {
            "sha1" if hex.len() == 40 => Some(Checksum::Sha1(hex.to_ascii_lowercase())),
            "md5" if hex.len() == 32 => Some(Checksum::Md5(hex.to_ascii_lowercase())),
            _ => None,
        }
    }
}

/// A video as a source described it, after the adapter chose a rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub source: SourceKind,
    /// The provider's id for the video (untrusted text; sanitised before use in a path).
    pub source_id: String,
    pub title: String,
    /// Attribution link: the video's page at the provider.
    pub page_url: Option<String>,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub license: Option<String>,
    pub tags: Vec<String>,
    /// Seconds.
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    /// Bytes, when the provider says.
    pub size: Option<u64>,
    /// The chosen rendition's URL.
    pub url: String,
    pub mime: Option<String>,
    pub checksum: Option<Checksum>,
}

/// Where a stored candidate is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateState {
    /// Found, not yet tried.
    New,
    /// A download exists for it.
    Taken,
    /// Its download failed, was invalid or a duplicate.
    Rejected,
}

impl CandidateState {
    /// Every state.
    pub const ALL: [CandidateState; 3] = [
        CandidateState::New,
        CandidateState::Taken,
        CandidateState::Rejected,
    ];

    /// The lower-case name used in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateState::New => "new",
            CandidateState::Taken => "taken",
            CandidateState::Rejected => "rejected",
        }
    }
}

impl FromStr for CandidateState {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CandidateState::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown candidate state {s:?}: expected one of {}",
                    names(CandidateState::ALL.iter().map(|c| c.as_str()))
                ))
            })
    }
}

/// A candidate as stored for a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCandidate {
    pub id: CandidateId,
    pub state: CandidateState,
    /// Order in which the scheduler tries candidates (search rank across sources).
    pub rank: u32,
    pub video: Candidate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_round_trip_and_reject_junk() {
        let sha1 = Checksum::Sha1("a".repeat(40));
        assert_eq!(Checksum::from_stored(&sha1.to_stored()), Some(sha1));
        assert_eq!(Checksum::from_stored("sha1:xyz"), None);
        assert_eq!(Checksum::from_stored("md5:abc"), None);
        assert_eq!(Checksum::from_stored("crc:00"), None);
    }
}
