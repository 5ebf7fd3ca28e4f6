//! library, thumbnail, thumbnails --missing: the gallery's data, read from the store and the
//! thumbnails directory, and the backfill of thumbnails a library made before lacks.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::daemon::Shared;
use crate::download::DownloadId;
use crate::gallery::{
    LibraryPage, LibraryQuery, ThumbKind, ThumbnailImage, ThumbnailReport, MAX_PAGE,
};
use crate::ipc::{Connection, IpcError};
use crate::protocol::{ErrorKind, Response, RpcError};
use crate::thumbnail::{self, ThumbnailError};

/// Thumbnails are a few KiB; anything larger in their place is not ours to send.
const MAX_IMAGE_BYTES: u64 = 4 << 20;
/// Finished downloads read per store call during the backfill.
const BACKFILL_PAGE: u32 = 500;
/// How often a backfill tells its client how far it got.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// One page of the library, newest first; `next_cursor` is set only when more follow (one row
/// more than asked is read to know), so a client never fetches an empty last page.
pub async fn library(shared: &Arc<Shared>, mut query: LibraryQuery) -> Result<Response, RpcError> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    query.limit = limit + 1;
    query.theme = query.theme.filter(|t| !t.trim().is_empty());
    let mut videos = shared.store.library_page(query).await?;
    let more = videos.len() > limit as usize;
    videos.truncate(limit as usize);
    let next_cursor = match videos.last() {
        Some(last) if more => Some(last.download),
        _ => None,
    };
    Ok(Response::Library(LibraryPage {
        videos,
        next_cursor,
    }))
}

/// One thumbnail's bytes with a validator of its content, found by the download id alone.
pub async fn thumbnail(
    shared: &Arc<Shared>,
    download: DownloadId,
    kind: ThumbKind,
) -> Result<Response, RpcError> {
    let path = thumbnail::path(&shared.config().state_dir, download, kind);
    let not_found = || {
        RpcError::new(
            ErrorKind::NotFound,
            format!("no thumbnail for download {download} (no such video, or not made yet)"),
        )
    };
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| not_found())?;
    let mut bytes = Vec::new();
    let read = file.take(MAX_IMAGE_BYTES + 1).read_to_end(&mut bytes).await;
    if read.is_err() || bytes.is_empty() || bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(not_found());
    }
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..12]));
    Ok(Response::Thumbnail(ThumbnailImage {
        content_type: thumbnail::CONTENT_TYPE.to_string(),
        etag,
        bytes,
    }))
}

/// Runs the backfill for one client: [`Response::ThumbnailsProgress`] every few seconds (so a
/// large library never leaves the client waiting past its reply timeout), then
/// [`Response::Thumbnails`] or the refusal. A client that leaves stops the backfill.
pub async fn stream_missing(
    shared: &Arc<Shared>,
    connection: &mut Connection,
) -> Result<(), IpcError> {
    let (progress, seen) = watch::channel(ThumbnailReport::default());
    let work = make_missing(shared, &progress);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            result = &mut work => {
                let answer = match result {
                    Ok(report) => Response::Thumbnails(report),
                    Err(e) => Response::Error(e),
                };
                return connection.send(&answer).await;
            }
            _ = tick.tick() => {
                let now = *seen.borrow();
                connection.send(&Response::ThumbnailsProgress(now)).await?;
            }
        }
    }
}

/// Walks every finished download and makes the thumbnails that are missing, a few at once (the
/// thumbnailer's bound, shared with new downloads), publishing the counts on `progress` as
/// they grow; returns them once all were tried.
async fn make_missing(
    shared: &Arc<Shared>,
    progress: &watch::Sender<ThumbnailReport>,
) -> Result<ThumbnailReport, RpcError> {
    let config = shared.config();
    let mut report = ThumbnailReport::default();
    let mut after = 0;
    loop {
        let page = shared
            .store
            .thumbnail_subjects(after, BACKFILL_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.download.0;
        report.checked += page.len() as u64;
        progress.send_replace(report);
        let state_dir = config.state_dir.clone();
        // Checking a page's files is a few hundred stats: off the async threads.
        let missing = tokio::task::spawn_blocking(move || {
            page.into_iter()
                .filter(|s| thumbnail::is_missing(&state_dir, s))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| RpcError::new(ErrorKind::Internal, format!("internal error: {e}")))?;
        let mut tries = JoinSet::new();
        for subject in missing {
            let (thumbnailer, config) = (shared.thumbnailer.clone(), Arc::clone(&config));
            tries.spawn(async move {
                thumbnailer
                    .make(&config.ffmpeg, &config.state_dir, &subject)
                    .await
            });
        }
        while let Some(done) = tries.join_next().await {
            match done {
                Ok(Ok(_)) => report.made += 1,
                Ok(Err(ThumbnailError::Missing(at))) => {
                    // Nothing can be made: say so instead of counting every video as failed.
                    return Err(RpcError::new(
                        ErrorKind::Conflict,
                        format!(
                            "ffmpeg not found at {at}: install ffmpeg or set `ffmpeg` to its path"
                        ),
                    ));
                }
                Ok(Err(_)) | Err(_) => report.failed += 1,
            }
            progress.send_replace(report);
        }
        if shared.shutdown.is_cancelled() {
            return Err(RpcError::new(
                ErrorKind::ShuttingDown,
                "the daemon is stopping",
            ));
        }
    }
    tracing::info!(
        checked = report.checked,
        made = report.made,
        failed = report.failed,
        "thumbnails backfilled"
    );
    Ok(report)
}
