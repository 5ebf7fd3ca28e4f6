//! One running download, from the first byte to a validated, de-duplicated file in the library.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::shared::Shared;
use super::validation::{self, Checked};
use crate::candidate::Checksum;
use crate::download::{DownloadId, DownloadState, FailureKind, Validation};
use crate::fetch::{self, Checkpoint, Digests, FetchError, Fetched, Resume, Target};
use crate::library;
use crate::protocol::{Event, Retry};
use crate::retry::RetryPolicy;
use crate::sources::gate::Use;
use crate::store::{CheckpointRecord, Outcome, Settled, Work};
use crate::text::for_log;
use crate::validate::Verdict;

/// Full downloads of a body whose provider checksum disagrees: one retry (the bytes may have been
/// damaged on the way), then the candidate is dropped (the provider serves what it does not
/// describe).
const CHECKSUM_TRIES: u32 = 2;

/// Runs `work` to its end and records the outcome; the caller already marked it running.
/// `received` and `total` are its live bytes and size (0 = unknown), read by progress events.
pub(super) async fn run(
    shared: Arc<Shared>,
    work: Work,
    cancel: CancellationToken,
    received: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) {
    let id = work.download;
    let outcome = match download(&shared, &work, &cancel, &received, &total).await {
        Ok(Some(fetched)) => finish(&shared, &work, fetched, &cancel).await,
        Ok(None) => None,
        Err(outcome) => Some(outcome),
    };
    let mut job = None;
    if let Some(outcome) = outcome {
        if matches!(outcome, Outcome::Failed { .. }) {
            // Nothing will resume it: the candidate is replaced by another.
            let _ =
                tokio::fs::remove_file(shared.config().staging_dir().join(format!("{id}.part")))
                    .await;
        }
        tracing::info!(download = %id, job = %work.job, source = %work.candidate.attribution.source, outcome = ?outcome_name(&outcome), "download finished");
        // A paused outcome pauses the whole job in the same transaction: it waits for the user
        // (space, a writable library), and `vfetchctl resume` continues from the kept offsets
        // and staged files.
        match shared.store.finish_download(id, work.job, outcome).await {
            Ok(Settled {
                download,
                job: settled,
            }) => {
                if let Some(row) = download {
                    if row.state == DownloadState::Done {
                        run_hooks(&shared, &work, &row);
                        make_thumbnails(&shared, &work, &row);
                    }
                    shared.publish(Event::Download(row));
                }
                job = settled;
            }
            Err(e) => tracing::error!(download = %id, error = %e, "cannot record download outcome"),
        }
    } else {
        discard_if_cancelled(&shared, id).await;
    }
    shared.running.remove(id);
    let job = match job {
        Some(job) => Some(job),
        None => shared.store.job(work.job).await.ok(),
    };
    if let Some(job) = job {
        shared.publish(Event::Job(job));
    }
    shared.wake.notify_one();
}

/// Fetches with retries. `Ok(None)`: stopped by pause, cancel or shutdown (offset persisted).
async fn download(
    shared: &Arc<Shared>,
    work: &Work,
    cancel: &CancellationToken,
    received: &AtomicU64,
    total: &AtomicU64,
) -> Result<Option<Fetched>, Outcome> {
    let id = work.download;
    let mut resume = Resume {
        offset: work.offset,
        etag: work.etag.clone(),
        last_modified: work.last_modified.clone(),
        sums: work.chunk_sums.clone(),
    };
    let policy = RetryPolicy {
        max_tries: shared.config().download_tries,
        base: shared.config().retry_base,
        ..RetryPolicy::DOWNLOAD
    };
    let source = work.candidate.attribution.source;
    let gate = shared.gate(source);
    let mut tries = 0;
    let mut checksum_failures = 0;
    let part = shared.config().staging_dir().join(format!("{id}.part"));
    // Every byte was stored before (it stopped in validation or placement): no request needed.
    if work.offset > 0 && work.total == Some(work.offset) {
        if let Some(fetched) =
            staged(part.clone(), work.offset, work.candidate.checksum.clone()).await
        {
            if fetched.checksum_ok != Some(false) {
                tracing::info!(download = %id, "complete file found in staging; not fetched again");
                return Ok(Some(fetched));
            }
            // Damaged on disk or never right: fetched afresh below, as one checksum failure.
            checksum_failures += 1;
            resume = Resume::default();
        }
    }
    loop {
        if let Some(gate) = &gate {
            if let Some(wait) = gate.closed_for() {
                // Do not hold a slot while the source is out: other sources carry on.
                return Err(Outcome::Requeued {
                    reason: format!(
                        "{source} circuit breaker is open; next trial in {}s",
                        wait.as_secs()
                    ),
                });
            }
            if let Err(e) = gate.admit(Use::File).await {
                tracing::warn!(download = %id, error = %e, "rate-limit bookkeeping failed");
            }
        }
        let target = Target {
            url: work.candidate.url.clone(),
            part: part.clone(),
            resume: resume.clone(),
            max_bytes: work.max_file_size_mb.map(|mb| mb.saturating_mul(1 << 20)),
            checksum: work.candidate.checksum.clone(),
            stall_timeout: shared.config().stall_timeout,
        };
        let before = resume.offset;
        let mut last = None::<Checkpoint>;
        let result = fetch::fetch(&shared.http, &target, received, cancel, |cp: Checkpoint| {
            // The server's size, known from the response headers on the first checkpoint.
            if let Some(t) = cp.total {
                total.store(t, Ordering::Relaxed);
            }
            last = Some(cp.clone());
            let store = shared.store.clone();
            async move {
                if let Err(e) = store.checkpoint(id, CheckpointRecord::from(cp)).await {
                    tracing::warn!(download = %id, error = %e, "cannot store offset");
                }
            }
        })
        .instrument(tracing::info_span!("fetch", download = %id))
        .await;
        if let Some(cp) = last {
            resume = Resume {
                offset: cp.offset,
                etag: cp.etag,
                last_modified: cp.last_modified,
                sums: Some(cp.sums),
            };
        }
        if let Some(gate) = &gate {
            match &result {
                Ok(_) => gate.succeeded(),
                Err(FetchError::Cancelled) => {}
                Err(e) => {
                    // 429 means "slow down", not "broken": it holds requests back without tripping.
                    let counts =
                        e.is_retryable() && !matches!(e, FetchError::Status { status: 429, .. });
                    gate.failed(e.retry_after(), counts);
                }
            }
        }
        tries += 1;
        let result = match result {
            Ok(fetched) if fetched.checksum_ok == Some(false) => Err(FetchError::ChecksumMismatch),
            other => other,
        };
        let error = match result {
            Ok(fetched) => return Ok(Some(fetched)),
            Err(FetchError::Cancelled) => return Ok(None),
            Err(FetchError::DiskFull(message)) => {
                tracing::error!(download = %id, "disk full; download paused with its offset kept");
                return Err(Outcome::Paused {
                    kind: FailureKind::DiskFull,
                    reason: format!("disk full: {message}"),
                });
            }
            Err(e) => e,
        };
        // Only a stop has no kind, and it was handled above.
        let Some(kind) = error.failure_kind() else {
            return Ok(None);
        };
        let reason = error.to_string();
        tracing::info!(download = %id, job = %work.job, source = %work.candidate.attribution.source, tries, error = %for_log(&reason), "download attempt failed");
        let _ = shared.store.attempt_failed(id, reason.clone()).await;
        if error == FetchError::ChecksumMismatch {
            // The whole body arrived but is not what the provider describes: start over, once.
            resume = Resume::default();
            checksum_failures += 1;
            if checksum_failures >= CHECKSUM_TRIES {
                return Err(Outcome::Failed {
                    kind,
                    reason: format!("{reason} ({checksum_failures} tries); candidate dropped"),
                });
            }
        } else if !error.is_retryable() {
            return Err(Outcome::Failed { kind, reason });
        }
        if resume.offset > before {
            // Progress was made: this try does not count against the budget.
            tries -= 1;
        }
        if !policy.may_retry(tries) {
            return Err(Outcome::Failed {
                kind,
                reason: format!("gave up after {tries} tries: {reason}"),
            });
        }
        let wait = policy.delay(tries.max(1), error.retry_after());
        shared.publish(Event::from(Retry {
            source,
            job: Some(work.job),
            download: Some(id),
            attempt: tries,
            wait_ms: wait.as_millis() as u64,
            error: reason.clone(),
        }));
        tokio::select! {
            _ = cancel.cancelled() => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Validation, de-duplication and placement of a complete `.part`, one download at a time so two
/// identical files finishing together cannot both enter the library.
async fn finish(
    shared: &Arc<Shared>,
    work: &Work,
    fetched: Fetched,
    cancel: &CancellationToken,
) -> Option<Outcome> {
    let id = work.download;
    let part = shared.config().staging_dir().join(format!("{id}.part"));
    let started = Instant::now();
    let verdict = match validation::check(shared, work, &part, cancel).await {
        Checked::Verdict(verdict) => verdict,
        Checked::Stopped => return None,
    };
    let (validation, probe) = match verdict {
        Verdict::Valid(probe) => (Validation::Valid, Some(probe)),
        Verdict::NotValidated(why) => (Validation::NotValidated(why), None),
        Verdict::Invalid(reason) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Some(Outcome::Invalid {
                reason: format!("invalid video: {reason}"),
            });
        }
    };
    let _turn = shared.finishing.lock().await;
    match shared.store.holder_of(fetched.sha256.clone()).await {
        Ok(Some(of)) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Some(Outcome::Duplicate {
                sha256: fetched.sha256,
                of,
            });
        }
        Ok(None) => {}
        Err(e) => {
            return Some(Outcome::Failed {
                kind: FailureKind::Internal,
                reason: e.to_string(),
            })
        }
    }
    let ext = library::extension(work.candidate.mime.as_deref(), &work.candidate.url);
    let name = library::file_name(
        work.candidate.attribution.source,
        &work.candidate.attribution.source_id,
        ext,
    );
    let (library_dir, theme, sha) = (
        shared.config().library_dir.clone(),
        work.theme.clone(),
        fetched.sha256.clone(),
    );
    let placed = tokio::task::spawn_blocking(move || {
        library::place(&part, &library_dir, &theme, &name, &sha)
    })
    .await;
    let path = match placed {
        Ok(Ok(path)) => path,
        Ok(Err(e)) => {
            // The file is good and stays in staging: the library must be fixed, not the file.
            let full = matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT));
            let (kind, prefix) = match full {
                true => (FailureKind::DiskFull, "disk full: "),
                false => (FailureKind::LibraryUnwritable, ""),
            };
            tracing::error!(download = %id, error = %e, "cannot move into the library; job paused with the file kept in staging");
            return Some(Outcome::Paused {
                kind,
                reason: format!("{prefix}cannot move into the library: {e}"),
            });
        }
        Err(e) => {
            return Some(Outcome::Failed {
                kind: FailureKind::Internal,
                reason: format!("cannot move into the library: {e}"),
            })
        }
    };
    let elapsed = shared
        .running
        .started(id)
        .map(|s| s.elapsed())
        .unwrap_or_else(|| started.elapsed());
    Some(Outcome::Done {
        sha256: fetched.sha256,
        path: path.display().to_string(),
        bytes: fetched.bytes,
        elapsed_ms: u64::try_from(elapsed.as_millis())
            .unwrap_or(u64::MAX)
            .max(1),
        validation,
        probe,
    })
}

/// The `.part` of a download whose bytes were all stored before, hashed again (SHA-256 and the
/// provider's checksum); `None` when the file on disk is not that complete body.
async fn staged(part: PathBuf, bytes: u64, checksum: Option<Checksum>) -> Option<Fetched> {
    let hashed = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&part).ok()?;
        if file.metadata().ok()?.len() != bytes {
            return None;
        }
        let mut digests = Digests::new(checksum.as_ref());
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buffer).ok()?;
            if n == 0 {
                break;
            }
            digests.update(&buffer[..n]);
        }
        Some(digests.finish())
    })
    .await
    .ok()
    .flatten();
    let (sha256, checksum_ok) = hashed?;
    Some(Fetched {
        bytes,
        sha256,
        checksum_ok,
        transferred: 0,
        restarted: false,
    })
}

/// Starts the completion hooks for a finished download, in the background.
fn run_hooks(shared: &Arc<Shared>, work: &Work, row: &crate::download::Download) {
    let hooks = shared.config().hooks.clone();
    if hooks.is_empty() {
        return;
    }
    let c = &work.candidate.attribution;
    let payload = serde_json::json!({
        "download": row.id.0,
        "job": work.job.0,
        "theme": work.theme,
        "source": c.source.as_str(),
        "source_id": c.source_id,
        "title": c.title,
        "page_url": c.page_url,
        "author_name": c.author_name,
        "author_url": c.author_url,
        "license": c.license,
        "path": row.path,
        "sha256": row.sha256,
        "bytes": row.bytes,
        // The one-line text hooks have always received ("valid", "not validated: …").
        "validation": row.validation.as_ref().map(ToString::to_string),
        "probe": row.probe,
    });
    shared.workers.spawn(crate::hooks::announce(
        hooks,
        shared.http.client().clone(),
        payload,
    ));
}

/// Makes a finished video's thumbnails in the background, off the download's path: the job
/// moves on at once, and a failure is only logged and recorded (`thumbnails --missing` tries
/// again). Shutdown abandons it, killing ffmpeg; the backfill makes it later.
fn make_thumbnails(shared: &Arc<Shared>, work: &Work, row: &crate::download::Download) {
    let Some(video) = row.path.clone() else {
        return;
    };
    let subject = crate::thumbnail::Subject {
        download: row.id,
        video: video.into(),
        duration: row
            .probe
            .as_ref()
            .map(|p| p.duration)
            .or(work.candidate.duration),
        recorded: None,
    };
    let config = shared.config();
    let (thumbnailer, stop) = (shared.thumbnailer.clone(), shared.shutdown.clone());
    shared.workers.spawn(async move {
        let make = thumbnailer.make(&config.ffmpeg, &config.state_dir, &subject);
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = make => {}
        }
    });
}

/// A cancelled job's partial files are of no further use.
async fn discard_if_cancelled(shared: &Shared, id: DownloadId) {
    let state = shared.store.download_state(id).await;
    if matches!(state, Ok(Some(DownloadState::Cancelled))) {
        let _ =
            tokio::fs::remove_file(shared.config().staging_dir().join(format!("{id}.part"))).await;
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done { .. } => "done",
        Outcome::Duplicate { .. } => "duplicate",
        Outcome::Invalid { .. } => "invalid",
        Outcome::Failed { .. } => "failed",
        Outcome::Paused { .. } => "paused",
        Outcome::Requeued { .. } => "requeued",
    }
}

/// The fetcher's checkpoint in the store's terms.
impl From<Checkpoint> for CheckpointRecord {
    fn from(cp: Checkpoint) -> Self {
        CheckpointRecord {
            offset: cp.offset,
            total: cp.total,
            etag: cp.etag,
            last_modified: cp.last_modified,
            sums: cp.sums,
        }
    }
}
