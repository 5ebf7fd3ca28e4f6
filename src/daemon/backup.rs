//! When the database is backed up: at start when the newest backup is older than
//! `backup_interval_hours` (or missing), then once per interval while the daemon runs. How a
//! backup is made lives in `store::backup`.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::Shared;
use crate::store::backup;

/// How soon a failed backup is tried again, and how often a switched-off schedule is
/// looked at again (`config set backup_interval_hours` takes effect without a restart).
const RECHECK: Duration = Duration::from_secs(3600);

/// Runs the backup schedule until shutdown.
pub fn start(shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let wait = match shared.config().backup_interval {
                None => RECHECK,
                Some(interval) => backup_if_due(&shared, interval).await,
            };
            tokio::select! {
                _ = shared.shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// Makes a backup when the newest is `interval` old or missing; returns how long until the
/// next one is due.
async fn backup_if_due(shared: &Shared, interval: Duration) -> Duration {
    let database = shared.store.path().to_path_buf();
    if let Some(age) = backup::newest_age(&database).filter(|age| *age < interval) {
        return interval - age;
    }
    let mode = shared.config().mode.private_file_mode();
    let made = tokio::task::spawn_blocking(move || backup::make(&database, mode)).await;
    match made {
        Ok(Ok(path)) => {
            tracing::info!(backup = %path.display(), "database backed up");
            interval
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database backup failed; trying again in an hour");
            RECHECK.min(interval)
        }
        Err(e) => {
            tracing::warn!(error = %e, "database backup task failed; trying again in an hour");
            RECHECK.min(interval)
        }
    }
}
