//! The candidate vocabulary: one video a source returned for a job's theme, with attribution.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::attribution::Attribution;
use crate::input::{names, InvalidInput};
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
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Who made it and under what terms.
    pub attribution: Attribution,
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

/// [`Candidate`] as the wire and `--json` carry it: the attribution's fields flat among the
/// others, in the order they always had.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Candidate")]
struct FlatCandidate {
    source: SourceKind,
    source_id: String,
    title: String,
    page_url: Option<String>,
    author_name: Option<String>,
    author_url: Option<String>,
    license: Option<String>,
    tags: Vec<String>,
    duration: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    size: Option<u64>,
    url: String,
    mime: Option<String>,
    checksum: Option<Checksum>,
}

impl Serialize for Candidate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = &self.attribution;
        FlatCandidate {
            source: a.source,
            source_id: a.source_id.clone(),
            title: a.title.clone(),
            page_url: a.page_url.clone(),
            author_name: a.author_name.clone(),
            author_url: a.author_url.clone(),
            license: a.license.clone(),
            tags: self.tags.clone(),
            duration: self.duration,
            width: self.width,
            height: self.height,
            fps: self.fps,
            size: self.size,
            url: self.url.clone(),
            mime: self.mime.clone(),
            checksum: self.checksum.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Candidate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = FlatCandidate::deserialize(deserializer)?;
        Ok(Candidate {
            attribution: Attribution {
                source: f.source,
                source_id: f.source_id,
                title: f.title,
                page_url: f.page_url,
                author_name: f.author_name,
                author_url: f.author_url,
                license: f.license,
            },
            tags: f.tags,
            duration: f.duration,
            width: f.width,
            height: f.height,
            fps: f.fps,
            size: f.size,
            url: f.url,
            mime: f.mime,
            checksum: f.checksum,
        })
    }
}

/// Where a stored candidate is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
