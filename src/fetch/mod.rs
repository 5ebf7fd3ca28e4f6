//! One HTTP download into a `.part` file: resumed from a durable offset with `Range`/`If-Range`,
//! hashed in the same pass, bounded in size and type, and cancellable at a clean offset.

mod chunks;
mod digest;
mod writer;

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{
    HeaderMap, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE,
};
use reqwest::{Response, StatusCode};
use thiserror::Error;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use digest::Digests;
pub use writer::{FLUSH_BYTES, FLUSH_INTERVAL};

use crate::candidate::Checksum;
use crate::chunk_sums::{ChunkSums, CHUNK_BYTES};
use crate::download::FailureKind;
use crate::egress::Refused;
use crate::sources::http::{retry_after, HttpClient, SendError};
use chunks::ChunkSummer;
use writer::Durable;

/// What to fetch and where a previous attempt left off.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub part: PathBuf,
    pub resume: Resume,
    /// Largest body accepted, in bytes.
    pub max_bytes: Option<u64>,
    pub checksum: Option<Checksum>,
    /// No byte for this long counts as a stall.
    pub stall_timeout: Duration,
}

/// The durable state of an earlier attempt, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    pub offset: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The chunk sums stored with `offset`; `None` for a download stored before they existed,
    /// whose prefix is then trusted unchecked.
    pub sums: Option<ChunkSums>,
}

/// Progress the caller must persist; `offset` bytes are durably in the `.part` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub offset: u64,
    pub total: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Chunk sums of exactly `[0, offset)`, to verify the prefix before resuming from it.
    pub sums: ChunkSums,
}

/// A complete body in the `.part` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub bytes: u64,
    pub sha256: String,
    /// Whether the provider's checksum matched; `None` when it published none.
    pub checksum_ok: Option<bool>,
    /// Bytes that came over the network in this attempt (the rest was resumed).
    pub transferred: u64,
    /// The server ignored or refused the range (or the file changed): started from zero.
    pub restarted: bool,
}

/// Why an attempt ended without a complete body. The `.part` file keeps its durable prefix.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FetchError {
    #[error("HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("network error: {0}")]
    Network(String),
    #[error("no data for {0:?}")]
    Stalled(Duration),
    #[error("body ended after {got} of {expected} bytes")]
    Short { got: u64, expected: u64 },
    #[error("body is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not a video (Content-Type {0})")]
    NotVideo(String),
    #[error("disk full: {0}")]
    DiskFull(String),
    /// The whole body arrived but its hash is not the one the provider published.
    #[error("checksum published by the provider does not match")]
    ChecksumMismatch,
    #[error("file error: {0}")]
    Io(String),
    #[error("stopped")]
    Cancelled,
    /// The link, or a redirect, points where outgoing requests may not go: the candidate is
    /// dropped, never retried.
    #[error(transparent)]
    Refused(Refused),
    /// A redirect that cannot be followed (a loop, or not to a web address).
    #[error("{0}")]
    Redirect(String),
}

impl FetchError {
    /// Whether trying again (from the durable offset) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => matches!(status, 408 | 429) || *status >= 500,
            FetchError::Network(_) | FetchError::Stalled(_) | FetchError::Short { .. } => true,
            _ => false,
        }
    }

    /// The code stored for a download that ended with this error; `None` for a stop, which
    /// ends no download.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        Some(match self {
            FetchError::Status { .. } => FailureKind::HttpStatus,
            FetchError::Network(_) | FetchError::Stalled(_) | FetchError::Short { .. } => {
                FailureKind::Network
            }
            FetchError::TooLarge { .. } => FailureKind::TooLarge,
            FetchError::NotVideo(_) => FailureKind::NotAVideo,
            FetchError::DiskFull(_) => FailureKind::DiskFull,
            FetchError::ChecksumMismatch => FailureKind::ChecksumMismatch,
            FetchError::Io(_) => FailureKind::FileError,
            FetchError::Refused(_) => FailureKind::RefusedAddress,
            FetchError::Redirect(_) => FailureKind::BadRedirect,
            FetchError::Cancelled => return None,
        })
    }

    /// A server-requested wait before the next try.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl From<io::Error> for FetchError {
    fn from(e: io::Error) -> Self {
        if e.raw_os_error() == Some(libc::ENOSPC) {
            FetchError::DiskFull(e.to_string())
        } else {
            FetchError::Io(e.to_string())
        }
    }
}

/// Downloads `target`, calling `persist` with every durable checkpoint (and once at the end,
/// whatever the outcome), and counting received bytes into `received` for live progress.
pub async fn fetch<F, Fut>(
    client: &HttpClient,
    target: &Target,
    received: &AtomicU64,
    cancel: &CancellationToken,
    mut persist: F,
) -> Result<Fetched, FetchError>
where
    F: FnMut(Checkpoint) -> Fut,
    Fut: Future<Output = ()>,
{
    let part = target.part.clone();
    let (resume_offset, checksum) = (target.resume.offset, target.checksum.clone());
    let stored_sums = target.resume.sums.clone();
    let (mut file, mut offset, mut digests, mut sums) = blocking(move || {
        prepare(
            &part,
            resume_offset,
            stored_sums.as_ref(),
            checksum.as_ref(),
        )
    })
    .await?;
    if offset < resume_offset {
        // The caller's span names the download.
        tracing::warn!(
            stored = resume_offset,
            offset,
            "partial file differs from what was written; cut back to its last good chunk"
        );
    }
    // Without a validator a range could splice two versions of a file together: start over.
    let validator = target
        .resume
        .etag
        .clone()
        .or_else(|| target.resume.last_modified.clone());
    let mut restarted = offset == 0 && resume_offset > 0;
    if offset > 0 && validator.is_none() {
        (file, offset, digests, sums) = restart(file, target.checksum.as_ref()).await?;
        restarted = true;
    }

    let mut response = request(client, &target.url, offset, validator.as_deref(), cancel).await?;
    if offset > 0 {
        match response.status() {
            StatusCode::PARTIAL_CONTENT if range_start(response.headers()) == Some(offset) => {}
            // 200: the range was ignored or the file changed (If-Range); 416 or a range that does
            // not start where we are: our prefix is useless. Either way, from zero.
            status => {
                (file, offset, digests, sums) = restart(file, target.checksum.as_ref()).await?;
                restarted = true;
                if status != StatusCode::OK {
                    response = request(client, &target.url, 0, None, cancel).await?;
                }
            }
        }
    }
    if !response.status().is_success() {
        return Err(FetchError::Status {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
        });
    }
    check_type(response.headers())?;
    let total = total_size(&response, offset);
    if let (Some(limit), Some(total)) = (target.max_bytes, total) {
        if total > limit {
            return Err(FetchError::TooLarge { limit });
        }
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let checkpoint = |durable: Durable| Checkpoint {
        offset: durable.offset,
        total,
        etag: etag.clone(),
        last_modified: last_modified.clone(),
        sums: durable.sums,
    };
    let start = Durable {
        offset,
        sums: sums.snapshot(),
    };
    persist(checkpoint(start.clone())).await;
    received.store(offset, Ordering::Relaxed);

    let (chunks, chunk_rx) = mpsc::channel(writer::CHANNEL_CHUNKS);
    let (synced_tx, mut synced) = watch::channel(start);
    let writer = tokio::task::spawn_blocking(move || {
        writer::run(file, digests, sums, offset, chunk_rx, synced_tx)
    });

    let mut got = offset;
    let outcome: Result<(), FetchError> = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break Err(FetchError::Cancelled),
            Ok(()) = synced.changed() => {
                let at = synced.borrow_and_update().clone();
                persist(checkpoint(at)).await;
            }
            next = tokio::time::timeout(target.stall_timeout, response.chunk()) => match next {
                Err(_) => break Err(FetchError::Stalled(target.stall_timeout)),
                // The client's own read timeout is a stall too.
                Ok(Err(e)) if e.is_timeout() => break Err(FetchError::Stalled(target.stall_timeout)),
                Ok(Err(e)) => break Err(FetchError::Network(root_cause(&e.without_url()))),
                Ok(Ok(None)) => break Ok(()),
                Ok(Ok(Some(bytes))) => {
                    got += bytes.len() as u64;
                    if let Some(limit) = target.max_bytes.filter(|l| got > *l) {
                        break Err(FetchError::TooLarge { limit });
                    }
                    if let Some(total) = total.filter(|t| got > *t) {
                        break Err(FetchError::TooLarge { limit: total });
                    }
                    received.store(got, Ordering::Relaxed);
                    if chunks.send(bytes).await.is_err() {
                        // The writer stopped: its own error (joined below) says why.
                        break Ok(());
                    }
                }
            }
        }
    };
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| FetchError::Io(format!("writer task failed: {e}")))?;
    let written = match written {
        Ok(written) => written,
        Err(e) => {
            let at = synced.borrow().clone();
            persist(checkpoint(at)).await;
            return Err(e.into());
        }
    };
    persist(checkpoint(Durable {
        offset: written.offset,
        sums: written.sums,
    }))
    .await;
    outcome?;
    if let Some(total) = total {
        if written.offset < total {
            return Err(FetchError::Short {
                got: written.offset,
                expected: total,
            });
        }
    }
    let (sha256, checksum_ok) = written.digests.finish();
    Ok(Fetched {
        bytes: written.offset,
        sha256,
        checksum_ok,
        transferred: written.offset - offset.min(written.offset),
        restarted,
    })
}

async fn request(
    client: &HttpClient,
    url: &str,
    offset: u64,
    validator: Option<&str>,
    cancel: &CancellationToken,
) -> Result<Response, FetchError> {
    let mut request = client.get(url);
    if offset > 0 {
        request = request.header(RANGE, format!("bytes={offset}-"));
        if let Some(v) = validator {
            request = request.header(IF_RANGE, v);
        }
    }
    tokio::select! {
        _ = cancel.cancelled() => Err(FetchError::Cancelled),
        sent = client.send(request) => sent.map_err(|e| match e {
            SendError::Refused(refused) => FetchError::Refused(refused),
            SendError::Redirect(message) => FetchError::Redirect(message),
            SendError::Http(e) => FetchError::Network(root_cause(&e.without_url())),
        }),
    }
}

/// Opens the `.part` file at the stored offset and re-hashes the prefix that is already there,
/// checking it chunk by chunk against the stored `sums` in the same read: the file is cut back to
/// the start of the first chunk that does not match, and the returned offset says where it now
/// ends.
fn prepare(
    part: &Path,
    offset: u64,
    sums: Option<&ChunkSums>,
    checksum: Option<&Checksum>,
) -> io::Result<(File, u64, Digests, ChunkSummer)> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(part)?;
    let on_disk = file.metadata()?.len();
    // Fewer bytes than stored means the file was damaged or replaced: trust nothing in it.
    let offset = if on_disk < offset { 0 } else { offset };
    file.set_len(offset)?;
    let mut digests = Digests::new(checksum);
    let mut summer = ChunkSummer::new();
    file.seek(SeekFrom::Start(0))?;
    let mut chunk = vec![0u8; CHUNK_BYTES as usize];
    let (mut good, mut index) = (0u64, 0usize);
    while good < offset {
        let want = chunk
            .len()
            .min(usize::try_from(offset - good).unwrap_or(usize::MAX));
        let n = read_full(&mut file, &mut chunk[..want])?;
        if n < want || !chunks::chunk_is_good(sums, index, &chunk[..n]) {
            break;
        }
        digests.update(&chunk[..n]);
        summer.update(&chunk[..n]);
        good += n as u64;
        index += 1;
    }
    if good < offset {
        file.set_len(good)?;
    }
    file.seek(SeekFrom::Start(good))?;
    Ok((file, good, digests, summer))
}

/// Reads until `buffer` is full or the file ends; the bytes read.
fn read_full(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

async fn restart(
    file: File,
    checksum: Option<&Checksum>,
) -> Result<(File, u64, Digests, ChunkSummer), FetchError> {
    let checksum = checksum.cloned();
    blocking(move || {
        let mut file = file;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, 0, Digests::new(checksum.as_ref()), ChunkSummer::new()))
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, FetchError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FetchError::Io(format!("file task failed: {e}")))?
        .map_err(FetchError::from)
}

/// Video types, and the generic binary type some CDNs use; a page or JSON error is refused.
fn check_type(headers: &HeaderMap) -> Result<(), FetchError> {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("video/")
        || mime == "application/octet-stream"
        || mime == "binary/octet-stream"
        || mime.is_empty()
    {
        Ok(())
    } else {
        Err(FetchError::NotVideo(mime))
    }
}

/// `bytes START-END/TOTAL` → START.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let spec = value.trim().strip_prefix("bytes ")?;
    spec.split('-').next()?.trim().parse().ok()
}

/// The whole file's size: from Content-Range's total, else offset + Content-Length.
fn total_size(response: &Response, offset: u64) -> Option<u64> {
    let from_range = response
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('/').next())
        .and_then(|t| t.trim().parse::<u64>().ok());
    from_range.or_else(|| response.content_length().map(|len| offset + len))
}

fn root_cause(error: &dyn std::error::Error) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_truncates_to_the_offset_and_rehashes_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.part");
        std::fs::write(&part, b"abcdefgh").unwrap();
        let (_, offset, digests, _) = prepare(&part, 3, None, None).unwrap();
        assert_eq!(offset, 3);
        assert_eq!(std::fs::read(&part).unwrap(), b"abc");
        assert_eq!(
            digests.finish().0,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // A file shorter than the stored offset is not trusted.
        let (_, offset, _, _) = prepare(&part, 100, None, None).unwrap();
        assert_eq!(offset, 0);
    }

    /// A `.part` of `len` bytes and the sums recorded while it was written.
    fn written_part(dir: &Path, len: usize) -> (PathBuf, Vec<u8>, ChunkSums) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let part = dir.join("1.part");
        std::fs::write(&part, &bytes).unwrap();
        let mut summer = ChunkSummer::new();
        summer.update(&bytes);
        (part, bytes, summer.snapshot())
    }

    fn sha256_of(bytes: &[u8]) -> String {
        let mut d = Digests::new(None);
        d.update(bytes);
        d.finish().0
    }

    #[test]
    fn prepare_cuts_back_to_the_start_of_the_first_damaged_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = CHUNK_BYTES as usize;
        let len = 3 * chunk + 1000;
        let (part, bytes, sums) = written_part(dir.path(), len);
        // Damage in chunks 1 and 2: the first bad one decides.
        let mut damaged = bytes.clone();
        damaged[chunk + 17] ^= 0xff;
        damaged[2 * chunk + 5] ^= 0xff;
        std::fs::write(&part, &damaged).unwrap();
        let (_, offset, digests, summer) = prepare(&part, len as u64, Some(&sums), None).unwrap();
        assert_eq!(offset, CHUNK_BYTES);
        assert_eq!(std::fs::metadata(&part).unwrap().len(), CHUNK_BYTES);
        assert_eq!(digests.finish().0, sha256_of(&bytes[..chunk]));
        assert_eq!(summer.snapshot().as_slice(), &sums.as_slice()[..1]);
    }

    #[test]
    fn prepare_drops_a_damaged_tail_and_keeps_the_complete_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = CHUNK_BYTES as usize;
        let len = 2 * chunk + 1000;
        let (part, mut bytes, sums) = written_part(dir.path(), len);
        bytes[len - 1] ^= 1;
        std::fs::write(&part, &bytes).unwrap();
        let (_, offset, _, _) = prepare(&part, len as u64, Some(&sums), None).unwrap();
        assert_eq!(offset, 2 * CHUNK_BYTES);
    }

    #[test]
    fn prepare_keeps_an_intact_prefix_and_continues_its_sums() {
        let dir = tempfile::tempdir().unwrap();
        let len = 2 * CHUNK_BYTES as usize + 1000;
        let (part, bytes, sums) = written_part(dir.path(), len);
        // More on disk than stored (written after the last sync): cut to the stored offset.
        let stored = len as u64 - 10;
        let prefix_sums = {
            let mut s = ChunkSummer::new();
            s.update(&bytes[..stored as usize]);
            s.snapshot()
        };
        let (_, offset, digests, summer) =
            prepare(&part, stored, Some(&prefix_sums), None).unwrap();
        assert_eq!(offset, stored);
        assert_eq!(digests.finish().0, sha256_of(&bytes[..stored as usize]));
        let mut summer = summer;
        summer.update(&bytes[stored as usize..]);
        assert_eq!(summer.snapshot(), sums);
    }

    #[test]
    fn prepare_trusts_a_prefix_stored_before_chunk_sums_existed() {
        let dir = tempfile::tempdir().unwrap();
        let len = CHUNK_BYTES as usize + 1000;
        let (part, mut bytes, sums) = written_part(dir.path(), len);
        bytes[10] ^= 1;
        std::fs::write(&part, &bytes).unwrap();
        let (_, offset, _, summer) = prepare(&part, len as u64, None, None).unwrap();
        assert_eq!(offset, len as u64, "no sums recorded: today's behaviour");
        // From here on it has sums (of what is there).
        assert_eq!(summer.snapshot().as_slice().len(), sums.as_slice().len());
        // Recorded but empty sums (stored at offset 0) trust nothing beyond them.
        let (_, offset, _, _) =
            prepare(&part, len as u64, Some(&ChunkSums::default()), None).unwrap();
        assert_eq!(offset, 0);
    }

    #[tokio::test]
    async fn a_restart_from_zero_starts_new_sums() {
        let dir = tempfile::tempdir().unwrap();
        let (part, _, sums) = written_part(dir.path(), 5000);
        let (file, _, _, summer) = prepare(&part, 5000, Some(&sums), None).unwrap();
        assert_eq!(summer.snapshot(), sums);
        let (_, offset, _, summer) = restart(file, None).await.unwrap();
        assert_eq!(offset, 0);
        assert_eq!(summer.snapshot(), ChunkSums::default());
        assert_eq!(std::fs::metadata(&part).unwrap().len(), 0);
    }

    #[test]
    fn content_range_and_types_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_RANGE, "bytes 100-199/200".parse().unwrap());
        assert_eq!(range_start(&headers), Some(100));
        headers.insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
        assert!(matches!(check_type(&headers), Err(FetchError::NotVideo(_))));
        headers.insert(CONTENT_TYPE, "video/webm".parse().unwrap());
        assert!(check_type(&headers).is_ok());
    }
}
