//! The persisted sliding window: one row per request a source was sent.

use std::time::Duration;

use rusqlite::{params, Connection};

use super::{Store, StoreError};
use crate::ratelimit::{Window, WindowUse};
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

impl Store {
    /// How many requests each source sent inside each of its windows up to now (for `status`),
    /// in the order given.
    pub async fn window_use(
        &self,
        sources: Vec<(SourceKind, Vec<Window>)>,
    ) -> Result<Vec<Vec<WindowUse>>, StoreError> {
        self.run(move |db| {
            let now = Timestamp::now().0;
            let mut all = Vec::with_capacity(sources.len());
            for (source, windows) in &sources {
                let mut uses = Vec::with_capacity(windows.len());
                for window in windows {
                    let per_ms = i64::try_from(window.per.as_millis()).unwrap_or(i64::MAX);
                    let count: i64 = db.query_row(
                        "SELECT COUNT(*) FROM source_requests WHERE source = ?1 AND at > ?2",
                        params![source.as_str(), now.saturating_sub(per_ms)],
                        |r| r.get(0),
                    )?;
                    uses.push(WindowUse {
                        window: *window,
                        used: u32::try_from(count).unwrap_or(u32::MAX),
                    });
                }
                all.push(uses);
            }
            Ok(all)
        })
        .await
    }

    /// Takes a place for one request to `source` if every window has room; otherwise takes
    /// nothing and returns how long until the fullest window frees a place.
    pub async fn take_request_slot(
        &self,
        source: SourceKind,
        windows: Vec<Window>,
    ) -> Result<Option<Duration>, StoreError> {
        self.run(move |db| try_take(db, source, &windows)).await
    }
}

/// Records a request to `source` if every window has room; otherwise records nothing and
/// returns how long until the fullest window frees a place. One transaction, so concurrent
/// callers cannot both take the last place.
pub(super) fn try_take(
    db: &mut Connection,
    source: SourceKind,
    windows: &[Window],
) -> Result<Option<Duration>, StoreError> {
    let tx = db.transaction()?;
    let now = Timestamp::now().0;
    let mut wait_ms: i64 = 0;
    for w in windows {
        let per_ms = i64::try_from(w.per.as_millis()).unwrap_or(i64::MAX);
        let since = now.saturating_sub(per_ms);
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM source_requests WHERE source = ?1 AND at > ?2",
            params![source.as_str(), since],
            |r| r.get(0),
        )?;
        if count >= i64::from(w.limit) {
            // The request that must age out before one more fits.
            let oldest: i64 = tx.query_row(
                "SELECT at FROM source_requests WHERE source = ?1 AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
                params![source.as_str(), since, i64::from(w.limit) - 1],
                |r| r.get(0),
            )?;
            wait_ms = wait_ms.max(oldest + per_ms - now + 1);
        }
    }
    if wait_ms > 0 {
        return Ok(Some(Duration::from_millis(
            u64::try_from(wait_ms).unwrap_or(0),
        )));
    }
    tx.execute(
        "INSERT INTO source_requests (source, at) VALUES (?1, ?2)",
        params![source.as_str(), now],
    )?;
    let longest = windows.iter().map(|w| w.per).max().unwrap_or_default();
    let horizon = now.saturating_sub(i64::try_from(longest.as_millis()).unwrap_or(i64::MAX));
    tx.execute(
        "DELETE FROM source_requests WHERE source = ?1 AND at <= ?2",
        params![source.as_str(), horizon],
    )?;
    tx.commit()?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_full_window_says_how_long_to_wait() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let windows = [Window {
            limit: 2,
            per: Duration::from_secs(10),
        }];
        store
            .run_blocking(|db| {
                assert_eq!(try_take(db, SourceKind::Pexels, &windows)?, None);
                assert_eq!(try_take(db, SourceKind::Pexels, &windows)?, None);
                let wait = try_take(db, SourceKind::Pexels, &windows)?.expect("full");
                assert!(
                    wait > Duration::from_secs(9) && wait <= Duration::from_millis(10_010),
                    "{wait:?}"
                );
                // Other sources have their own window.
                assert_eq!(try_take(db, SourceKind::Archive, &windows)?, None);
                Ok(())
            })
            .unwrap();
    }
}
