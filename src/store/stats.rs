//! Aggregates for `stats`, `history`, `suggest` and `themes`, computed by indexed SQL.

use rusqlite::{params, Connection, Row};

use std::collections::BTreeMap;

use super::{jobs, Store, StoreError};
use crate::attribution::Attribution;
use crate::input::InvalidInput;
use crate::insight::{HistoryQuery, HistoryRow, Period, SourceStats, Stats, ThemeCount, Totals};
use crate::timestamp::Timestamp;

impl Store {
    /// Totals, per source and per period over downloads finished in the last `days`.
    pub async fn stats(&self, days: u32, by: Period) -> Result<Stats, StoreError> {
        self.run(move |db| stats(db, days, by)).await
    }

    /// Recent finished downloads, as `query` selects them.
    pub async fn history(&self, query: HistoryQuery) -> Result<Vec<HistoryRow>, StoreError> {
        self.run(move |db| history(db, &query)).await
    }

    /// Searched themes starting with `prefix`, most searched and most recent first.
    pub async fn themes(&self, prefix: String, limit: u32) -> Result<Vec<ThemeCount>, StoreError> {
        self.run(move |db| themes(db, &prefix, limit)).await
    }

    /// Job counts by state and downloads per (source, state), read together for `metrics`.
    pub async fn metrics_facts(
        &self,
    ) -> Result<(BTreeMap<String, u64>, Vec<SourceOutcome>), StoreError> {
        self.run(|db| {
            let tx = db.transaction()?;
            let facts = (jobs::count_by_state(&tx)?, outcomes(&tx)?);
            tx.commit()?;
            Ok(facts)
        })
        .await
    }
}

const TOTALS: &str = "SELECT
        COUNT(*),
        COALESCE(SUM(state = 'done'), 0),
        COALESCE(SUM(state = 'failed'), 0),
        COALESCE(SUM(state = 'duplicate'), 0),
        COALESCE(SUM(state = 'invalid'), 0),
        COALESCE(SUM(CASE WHEN state = 'done' THEN offset END), 0),
        COALESCE(SUM(CASE WHEN state = 'done' THEN json_extract(probe, '$.duration') END), 0),
        AVG(CASE WHEN state = 'done' AND elapsed_ms > 0 THEN offset * 1000.0 / elapsed_ms END)
     FROM downloads INDEXED BY downloads_by_finished
     WHERE finished_at >= ?1";

/// A count column (SQLite integers are signed; counts never are).
fn u(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(index)?).unwrap_or(0))
}

/// Reads the columns of [`TOTALS`], starting at column `first`.
fn totals_from(row: &Row<'_>, first: usize) -> rusqlite::Result<Totals> {
    let total = u(row, first)?;
    let done = u(row, first + 1)?;
    Ok(Totals {
        downloads: total,
        done,
        failed: u(row, first + 2)?,
        duplicates: u(row, first + 3)?,
        invalid: u(row, first + 4)?,
        success_rate: if total == 0 {
            0.0
        } else {
            done as f64 / total as f64
        },
        bytes: u(row, first + 5)?,
        video_seconds: row.get(first + 6)?,
        avg_speed: row.get(first + 7)?,
        median_speed: None,
    })
}

/// Totals, per source and per period over downloads finished in the last `days`.
fn stats(db: &Connection, days: u32, by: Period) -> Result<Stats, StoreError> {
    let since = Timestamp::now().0 - i64::from(days) * 86_400_000;
    let mut totals = db.query_row(TOTALS, [since], |r| totals_from(r, 0))?;
    let done = i64::try_from(totals.done).unwrap_or(i64::MAX);
    totals.median_speed = if done == 0 {
        None
    } else {
        db.query_row(
            "SELECT offset * 1000.0 / elapsed_ms FROM downloads INDEXED BY downloads_by_finished
             WHERE finished_at >= ?1 AND state = 'done' AND elapsed_ms > 0
             ORDER BY offset * 1000.0 / elapsed_ms LIMIT 1 OFFSET ?2",
            params![since, done / 2],
            |r| r.get(0),
        )
        .ok()
    };
    let mut per_source = Vec::new();
    {
        let mut statement = db.prepare(
            "SELECT source, COUNT(*), COALESCE(SUM(state = 'done'), 0),
                COALESCE(SUM(CASE WHEN state = 'done' THEN offset END), 0)
             FROM downloads INDEXED BY downloads_by_finished WHERE finished_at >= ?1
             GROUP BY source ORDER BY source",
        )?;
        let rows = statement.query_map([since], |r| {
            Ok(SourceStats {
                source: r.get(0)?,
                downloads: u(r, 1)?,
                done: u(r, 2)?,
                bytes: u(r, 3)?,
            })
        })?;
        for row in rows {
            per_source.push(row?);
        }
    }
    let format = match by {
        Period::Day => "%Y-%m-%d",
        Period::Week => "%Y-W%W",
        Period::Month => "%Y-%m",
    };
    let mut periods = Vec::new();
    {
        let mut statement = db.prepare(&format!(
            "SELECT strftime('{format}', finished_at / 1000, 'unixepoch') AS period, {}
             FROM downloads INDEXED BY downloads_by_finished WHERE finished_at >= ?1
             GROUP BY period ORDER BY period",
            &TOTALS["SELECT".len()..TOTALS.find("FROM").unwrap_or(0)]
        ))?;
        // The period label, then the same columns as the totals.
        let rows = statement.query_map([since], |r| {
            Ok((r.get::<_, String>(0)?, totals_from(r, 1)?))
        })?;
        for row in rows {
            periods.push(row?);
        }
    }
    Ok(Stats {
        days,
        by,
        totals,
        per_source,
        periods,
    })
}

/// Recent downloads, newest first.
fn history(db: &Connection, query: &HistoryQuery) -> Result<Vec<HistoryRow>, StoreError> {
    let mut sql = String::from(
        "SELECT d.id, j.id, j.theme, c.source, c.source_id, d.state, d.offset, d.elapsed_ms, d.path, d.error, d.finished_at,
            COALESCE(c.title, ''), c.page_url, c.author_name, c.author_url, c.license
         FROM downloads d JOIN jobs j ON j.id = d.job_id JOIN candidates c ON c.id = d.candidate_id
         WHERE d.finished_at IS NOT NULL",
    );
    if query.theme.is_some() {
        sql.push_str(" AND j.theme = ?1");
    }
    if query.state.is_some() {
        sql.push_str(" AND d.state = ?2");
    }
    sql.push_str(" ORDER BY d.finished_at DESC, d.id DESC LIMIT ?3");
    let mut statement = db.prepare(&sql)?;
    let rows = statement.query_map(
        params![query.theme, query.state.map(|s| s.as_str()), query.limit],
        |r| {
            let bytes = u(r, 6)?;
            let elapsed: Option<i64> = r.get(7)?;
            Ok(HistoryRow {
                download: r.get(0)?,
                job: r.get(1)?,
                theme: r.get(2)?,
                attribution: Attribution {
                    source: parsed(r, 3)?,
                    source_id: r.get(4)?,
                    title: r.get(11)?,
                    page_url: r.get(12)?,
                    author_name: r.get(13)?,
                    author_url: r.get(14)?,
                    license: r.get(15)?,
                },
                state: parsed(r, 5)?,
                bytes,
                speed: elapsed
                    .filter(|ms| *ms > 0)
                    .map(|ms| bytes as f64 * 1000.0 / ms as f64),
                path: r.get(8)?,
                error: r.get(9)?,
                finished_at: Timestamp(r.get(10)?),
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A text column read as one of our names (a source, a state); anything else is a conversion
/// failure, as for any column of the wrong type.
fn parsed<T>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = InvalidInput>,
{
    let text: String = row.get(index)?;
    text.parse().map_err(|e: InvalidInput| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Themes from the search history starting with `prefix` (any case), most searched and most
/// recent first. A search counts once per source, on its first page.
fn themes(db: &Connection, prefix: &str, limit: u32) -> Result<Vec<ThemeCount>, StoreError> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let mut statement = db.prepare(
        "SELECT theme, COUNT(*) AS searches, MAX(created_at) AS last
         FROM searches WHERE page = 1 AND theme LIKE ?1 || '%' ESCAPE '\\'
         GROUP BY theme COLLATE NOCASE ORDER BY searches DESC, last DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![escaped, limit], |r| {
        Ok(ThemeCount {
            theme: r.get(0)?,
            searches: u(r, 1)?,
            last_used: Timestamp(r.get(2)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Downloads of one source in one state, for `metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOutcome {
    pub source: String,
    pub state: String,
    pub downloads: u64,
    pub bytes: u64,
    pub failed_attempts: u64,
}

/// Downloads per (source, state), with their bytes and failed attempts.
fn outcomes(db: &Connection) -> Result<Vec<SourceOutcome>, StoreError> {
    let mut statement = db.prepare(
        "SELECT source, state, COUNT(*), COALESCE(SUM(offset), 0), COALESCE(SUM(attempts), 0)
         FROM downloads GROUP BY source, state ORDER BY source, state",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(SourceOutcome {
            source: r.get(0)?,
            state: r.get(1)?,
            downloads: u(r, 2)?,
            bytes: u(r, 3)?,
            failed_attempts: u(r, 4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn stats_and_history_use_indexes_on_a_large_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        store
            .run_blocking(|db| {
                let tx = db.transaction()?;
                tx.execute(
                    "INSERT INTO jobs (theme, count, priority, state, options, created_at, updated_at)
                     VALUES ('t', 1, 0, 'done', '{}', 0, 0)",
                    [],
                )?;
                for i in 0..100_000i64 {
                    tx.execute(
                        "INSERT INTO candidates (job_id, source, source_id, title, tags, url, rank, state, created_at)
                         VALUES (1, 'archive', ?1, 't', '[]', ?2, ?1, 'taken', 0)",
                        params![i, format!("http://x/{i}")],
                    )?;
                    tx.execute(
                        "INSERT INTO downloads (job_id, candidate_id, source, state, priority, job_created_at,
                            offset, elapsed_ms, created_at, updated_at, finished_at)
                         VALUES (1, ?1, 'archive', ?2, 0, 0, 1000, 10, 0, 0, ?3)",
                        params![i + 1, if i % 10 == 0 { "failed" } else { "done" }, Timestamp::now().0 - i * 1000],
                    )?;
                }
                tx.commit()?;
                let plan = |sql: &str| -> String {
                    let mut s = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let rows = s.query_map([], |r| r.get::<_, String>(3)).unwrap();
                    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
                };
                let totals = plan(&TOTALS.replace("?1", "0"));
                assert!(totals.contains("USING INDEX downloads_by_finished"), "{totals}");
                let recent = plan(
                    "SELECT d.id FROM downloads d WHERE d.finished_at IS NOT NULL ORDER BY d.finished_at DESC, d.id DESC LIMIT 20",
                );
                assert!(recent.contains("downloads_by_finished"), "{recent}");
                let stats = stats(db, 1, Period::Day)?;
                // One row per second back from now: a day holds about 86,400 of them.
                assert!((86_390..=86_401).contains(&stats.totals.downloads), "{}", stats.totals.downloads);
                assert!(stats.totals.done > 0 && stats.totals.failed > 0);
                let rows = history(db, &HistoryQuery { limit: 5, theme: None, state: None })?;
                assert_eq!(rows.len(), 5);
                Ok(())
            })
            .unwrap();
    }
}
