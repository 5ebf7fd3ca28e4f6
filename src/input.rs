//! Rejected user input: the one error every vocabulary type's parser returns.
//!
//! It lives apart from `job` so that `source_kind`, `download` and `candidate` can parse their
//! names without depending on the job module (which itself uses `SourceKind`): no import cycle.

use thiserror::Error;

/// Rejected user input, with a one-line message that names the problem.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// Joins names for "expected one of a, b, c" messages.
pub(crate) fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}
