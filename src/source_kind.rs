//! The names of the providers vfetch knows, shared by config, jobs, the store and the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::input::{names, InvalidInput};

/// One of the video providers vfetch can search.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Pexels,
    Pixabay,
    Wikimedia,
    Archive,
}

impl SourceKind {
    /// Every source, in the order they are shown.
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Pexels,
        SourceKind::Pixabay,
        SourceKind::Wikimedia,
        SourceKind::Archive,
    ];

    /// The lower-case name used in config sections, JSON, file names and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Pexels => "pexels",
            SourceKind::Pixabay => "pixabay",
            SourceKind::Wikimedia => "wikimedia",
            SourceKind::Archive => "archive",
        }
    }

    /// Whether the provider refuses requests without an API key.
    pub fn needs_api_key(self) -> bool {
        matches!(self, SourceKind::Pexels | SourceKind::Pixabay)
    }

    /// The provider's public API host, used unless the config points elsewhere.
    pub fn default_base_url(self) -> &'static str {
        match self {
            SourceKind::Pexels => "https://api.pexels.com",
            SourceKind::Pixabay => "https://pixabay.com",
            SourceKind::Wikimedia => "https://commons.wikimedia.org",
            SourceKind::Archive => "https://archive.org",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown source {s:?}: expected one of {}",
                    names(SourceKind::ALL.iter().map(|k| k.as_str()))
                ))
            })
    }
}
/// Why a source is not searched: a state for `status`, with the words for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceOff {
    /// `enabled = false` in its config section.
    InConfig,
    /// The provider needs an API key and none is configured.
    NoApiKey,
}

impl SourceOff {
    /// Why, in a few words ("no API key").
    pub fn reason(self) -> &'static str {
        match self {
            SourceOff::InConfig => "switched off in config",
            SourceOff::NoApiKey => "no API key",
        }
    }
}

impl fmt::Display for SourceOff {
    /// "disabled: no API key", as logs and refusals say it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "disabled: {}", self.reason())
    }
}
