//! The blocking side of a download: hash, write, and make bytes durable, off the async threads.
//!
//! The async side hands over body chunks through a bounded channel (so memory per download stays
//! bounded); this thread reports each offset that has been `sync_data`'d, and only such offsets
//! are ever stored.

use std::fs::File;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::bytes::Bytes;

use super::digest::Digests;

/// Sync at most this many bytes apart… (4 MiB: a kill re-downloads at most this much plus what
/// sat in socket buffers, at no measurable cost in throughput.)
pub const FLUSH_BYTES: u64 = 4 << 20;
/// …or this long apart, whichever comes first.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Chunks in flight between the network and the disk.
pub const CHANNEL_CHUNKS: usize = 16;

/// What the writer thread ends with.
pub struct Written {
    pub digests: Digests,
    /// Bytes in the file, all synced.
    pub offset: u64,
}

/// Writes every chunk received, syncing by [`FLUSH_BYTES`] / [`FLUSH_INTERVAL`] and publishing
/// synced offsets; syncs once more when the channel closes.
pub fn run(
    file: File,
    digests: Digests,
    offset: u64,
    chunks: mpsc::Receiver<Bytes>,
    synced: watch::Sender<u64>,
) -> io::Result<Written> {
    let handle = file.try_clone()?;
    let result = write_all(file, digests, offset, chunks, &synced);
    if result.is_err() {
        // A failed write (a full disk) may still have put part of the data on disk: keep
        // whatever is there, synced, so the next attempt resumes from it rather than from the
        // last periodic sync.
        if handle.sync_data().is_ok() {
            if let Ok(meta) = handle.metadata() {
                let _ = synced.send(meta.len());
            }
        }
    }
    result
}

fn write_all(
    file: File,
    mut digests: Digests,
    mut offset: u64,
    mut chunks: mpsc::Receiver<Bytes>,
    synced: &watch::Sender<u64>,
) -> io::Result<Written> {
    // Turns many small network chunks into few write syscalls; 64 KiB keeps that win while
    // memory per download stays small (1 MiB cost 24 MiB at 32 downloads for no speed).
    let mut out = io::BufWriter::with_capacity(64 << 10, file);
    let mut unsynced = 0u64;
    let mut last_sync = Instant::now();
    while let Some(chunk) = chunks.blocking_recv() {
        digests.update(&chunk);
        out.write_all(&chunk)?;
        offset += chunk.len() as u64;
        unsynced += chunk.len() as u64;
        if unsynced >= FLUSH_BYTES || last_sync.elapsed() >= FLUSH_INTERVAL {
            out.flush()?;
            out.get_ref().sync_data()?;
            let _ = synced.send(offset);
            unsynced = 0;
            last_sync = Instant::now();
        }
    }
    out.flush()?;
    out.get_ref().sync_data()?;
    let _ = synced.send(offset);
    Ok(Written { digests, offset })
}
