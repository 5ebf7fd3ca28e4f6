//! The downloads in flight: who runs, for which job and source, how far each has come. Only the
//! scheduler adds and removes entries; the rest of the daemon reads through the
//! [`Scheduler`](super::Scheduler) handle (live progress, stopping a job, the active count).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::download::{Download, DownloadId};
use crate::job::JobId;
use crate::source_kind::SourceKind;

/// What the scheduler knows about a download while it runs (for show, status, pause).
pub(super) struct Running {
    /// The job it works for, so pausing the job can stop it.
    pub job: JobId,
    /// Where it downloads from, for the per-source limit.
    pub source: SourceKind,
    /// Stops it at its next clean offset.
    pub cancel: CancellationToken,
    /// Bytes received so far, durable or not.
    pub received: Arc<AtomicU64>,
    /// When the current attempt started.
    pub started: Instant,
    /// The offset the current attempt resumed from, so speed counts only this attempt's bytes.
    pub start_offset: u64,
    /// The whole file's size in bytes, 0 while unknown: the source's declared size at first,
    /// the server's (Content-Range, Content-Length) once its answer arrived.
    pub total: Arc<AtomicU64>,
}

impl Running {
    /// Bytes per second since this attempt started.
    pub fn speed(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.received
            .load(Ordering::Relaxed)
            .saturating_sub(self.start_offset) as f64
            / secs
    }

    /// The whole file's size, when known.
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }
}

/// One running download's progress at this instant, for progress events and the status line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveProgress {
    /// The running download.
    pub download: DownloadId,
    /// The job it works for.
    pub job: JobId,
    /// Bytes received so far, durable or not.
    pub bytes: u64,
    /// The whole file's size, when known.
    pub total: Option<u64>,
    /// Bytes per second since the current attempt started.
    pub speed: f64,
}

/// The running downloads by id.
#[derive(Default)]
pub(super) struct RunningTable(Mutex<HashMap<DownloadId, Running>>);

impl RunningTable {
    /// The table itself, for decisions that read several entries at once; never held across an
    /// await, so poisoning cannot leave it torn.
    pub fn lock(&self) -> MutexGuard<'_, HashMap<DownloadId, Running>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a download that starts now.
    pub fn insert(&self, id: DownloadId, running: Running) {
        self.lock().insert(id, running);
    }

    /// Forgets a download that stopped.
    pub fn remove(&self, id: DownloadId) {
        self.lock().remove(&id);
    }

    /// When a running download's current attempt started.
    pub fn started(&self, id: DownloadId) -> Option<Instant> {
        self.lock().get(&id).map(|r| r.started)
    }

    /// How many downloads run now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Stops a job's running downloads at their next clean offset.
    pub fn stop_job(&self, job: JobId) {
        for running in self.lock().values().filter(|r| r.job == job) {
            running.cancel.cancel();
        }
    }

    /// Replaces stored bytes and speed with live ones for downloads that are running.
    pub fn live_progress(&self, downloads: &mut [Download]) {
        let running = self.lock();
        for d in downloads {
            if let Some(r) = running.get(&d.id) {
                d.bytes = r.received.load(Ordering::Relaxed);
                d.speed = Some(r.speed());
                d.total = r.total().or(d.total);
            }
        }
    }

    /// Every running download's progress now.
    pub fn progress(&self) -> Vec<LiveProgress> {
        self.lock()
            .iter()
            .map(|(id, r)| LiveProgress {
                download: *id,
                job: r.job,
                bytes: r.received.load(Ordering::Relaxed),
                total: r.total(),
                speed: r.speed(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(job: i64, received: u64) -> Running {
        Running {
            job: JobId(job),
            source: SourceKind::Pexels,
            cancel: CancellationToken::new(),
            received: Arc::new(AtomicU64::new(received)),
            started: Instant::now(),
            start_offset: 0,
            total: Arc::new(AtomicU64::new(0)),
        }
    }

    #[test]
    fn stopping_a_job_cancels_only_its_own_downloads() {
        let table = RunningTable::default();
        table.insert(DownloadId(1), running(7, 10));
        table.insert(DownloadId(2), running(8, 20));
        table.insert(DownloadId(3), running(7, 30));
        table.stop_job(JobId(7));
        let cancelled = |id| table.lock()[&DownloadId(id)].cancel.is_cancelled();
        assert!(cancelled(1) && cancelled(3));
        assert!(!cancelled(2));
        // Stopping asks; the worker removes its entry once it reached a clean offset.
        assert_eq!(table.len(), 3);
        table.remove(DownloadId(1));
        let mut live: Vec<(DownloadId, JobId, u64)> = table
            .progress()
            .iter()
            .map(|p| (p.download, p.job, p.bytes))
            .collect();
        live.sort_by_key(|(id, _, _)| id.0);
        assert_eq!(
            live,
            vec![(DownloadId(2), JobId(8), 20), (DownloadId(3), JobId(7), 30)]
        );
    }

    #[test]
    fn progress_carries_the_total_once_known_and_none_before() {
        let table = RunningTable::default();
        let entry = running(1, 10);
        let total = Arc::clone(&entry.total);
        table.insert(DownloadId(1), entry);
        assert_eq!(table.progress()[0].total, None, "0 means unknown");
        total.store(5 << 20, Ordering::Relaxed);
        assert_eq!(table.progress()[0].total, Some(5 << 20));
    }
}
