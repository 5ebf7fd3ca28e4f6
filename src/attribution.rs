//! Who made a video and under what terms, as its source described it: shared by a search's
//! candidates, the history's rows and the export's records, so credit travels with the file
//! unchanged.
//!
//! Candidates and export records keep these fields flat beside their others on the wire and in
//! `export` (bincode's serde has no `flatten`), so they serialise through flat mirrors; a
//! history row carries the attribution as one nested value.

use serde::{Deserialize, Serialize};

use crate::source_kind::SourceKind;

/// The credit a video carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub source: SourceKind,
    /// The provider's id for the video (untrusted text; sanitised before use in a path).
    pub source_id: String,
    pub title: String,
    /// The video's page at the provider.
    pub page_url: Option<String>,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub license: Option<String>,
}

impl Attribution {
    /// A copy with `clean` applied to every text field (e.g. to drop NUL before writing).
    pub fn map_text(&self, clean: impl Fn(&str) -> String) -> Attribution {
        let clean_opt = |v: &Option<String>| v.as_deref().map(&clean);
        Attribution {
            source: self.source,
            source_id: clean(&self.source_id),
            title: clean(&self.title),
            page_url: clean_opt(&self.page_url),
            author_name: clean_opt(&self.author_name),
            author_url: clean_opt(&self.author_url),
            license: clean_opt(&self.license),
        }
    }
}
