//! Runtime settings made with `vfetchctl config set`, kept over the config file across restarts.

use rusqlite::{params, Connection};

use super::{Store, StoreError};

impl Store {
    /// Every stored runtime setting, by key.
    pub async fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|db| all(db)).await
    }

    /// Stores (or replaces) one runtime setting.
    pub async fn set_setting(&self, key: String, value: String) -> Result<(), StoreError> {
        self.run(move |db| set(db, &key, &value)).await
    }

    /// Removes one runtime setting; returns whether it existed.
    pub async fn unset_setting(&self, key: String) -> Result<bool, StoreError> {
        self.run(move |db| unset(db, &key)).await
    }
}

/// Every stored setting, by key.
pub(super) fn all(db: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut statement = db.prepare("SELECT key, value FROM settings ORDER BY key")?;
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores (or replaces) one setting.
pub(super) fn set(db: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Removes one setting; returns whether it existed.
pub(super) fn unset(db: &Connection, key: &str) -> Result<bool, StoreError> {
    Ok(db.execute("DELETE FROM settings WHERE key = ?1", [key])? > 0)
}
