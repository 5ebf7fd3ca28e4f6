//! Who made a video and under what terms, as its source described it: shared by a search's
//! candidates and the export's records, so credit travels with the file unchanged.
//!
//! The wire and `--json` keep these fields flat beside the record's others (bincode's serde has
//! no `flatten`), so the records that hold an [`Attribution`] serialise through flat mirrors.

use crate::source_kind::SourceKind;

/// The credit a video carries.
#[derive(Debug, Clone, PartialEq, Eq)]
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
