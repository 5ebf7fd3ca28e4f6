//! Search history: one row per request sent to a source.

use rusqlite::{params, Connection};

use super::StoreError;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// Records one search request and what it returned (or why it failed).
pub fn record(
    db: &Connection,
    theme: &str,
    source: SourceKind,
    page: u32,
    results: u32,
    error: Option<&str>,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO searches (theme, source, page, results, error, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![theme, source.as_str(), page, results, error, Timestamp::now().0],
    )?;
    Ok(())
}

/// How many searches were recorded for a theme (for tests and stats).
pub fn count_for_theme(db: &Connection, theme: &str) -> Result<u64, StoreError> {
    let n: i64 = db.query_row(
        "SELECT COUNT(*) FROM searches WHERE theme = ?1",
        [theme],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}
