//! The blocking side of a download: hash, write, and make bytes durable, off the async threads.
//!
//! The async side hands over body chunks through a bounded channel (so memory per download stays
//! bounded); this thread reports each offset that has been `sync_data`'d, with the chunk sums of
//! exactly that prefix, and only such offsets are ever stored.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::bytes::Bytes;

use super::chunks::ChunkSummer;
use super::digest::Digests;
use crate::chunk_sums::ChunkSums;

/// Sync at most this many bytes apart… (4 MiB: a kill re-downloads at most this much plus what
/// sat in socket buffers, at no measurable cost in throughput.)
pub const FLUSH_BYTES: u64 = 4 << 20;
/// …or this long apart, whichever comes first.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Chunks in flight between the network and the disk.
pub const CHANNEL_CHUNKS: usize = 16;

/// A prefix of the file that is on disk for good, with its chunk sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Durable {
    pub offset: u64,
    /// Covers exactly `[0, offset)`.
    pub sums: ChunkSums,
}

/// What the writer thread ends with.
pub struct Written {
    pub digests: Digests,
    /// Bytes in the file, all synced.
    pub offset: u64,
    /// Chunk sums of those bytes.
    pub sums: ChunkSums,
}

/// Writes every chunk received, syncing by [`FLUSH_BYTES`] / [`FLUSH_INTERVAL`] and publishing
/// synced prefixes; syncs once more when the channel closes.
pub fn run(
    file: File,
    digests: Digests,
    sums: ChunkSummer,
    offset: u64,
    chunks: mpsc::Receiver<Bytes>,
    synced: watch::Sender<Durable>,
) -> io::Result<Written> {
    let handle = file.try_clone()?;
    let result = write_all(file, digests, sums, offset, chunks, &synced);
    if result.is_err() {
        // A failed write (a full disk) may still have put part of the data on disk: keep
        // whatever is there, synced, so the next attempt resumes from it rather than from the
        // last periodic sync.
        if handle.sync_data().is_ok() {
            if let Ok(meta) = handle.metadata() {
                let last = synced.borrow().clone();
                if let Ok(Some(durable)) = extend(&handle, last, meta.len()) {
                    let _ = synced.send(durable);
                }
            }
        }
    }
    result
}

/// `last` grown to `len` bytes: how far part of a buffered write got is only known from the
/// file's length, so the sums of the bytes past `last` are computed from the file itself.
fn extend(file: &File, last: Durable, len: u64) -> io::Result<Option<Durable>> {
    if len <= last.offset {
        return Ok(None);
    }
    let Some(mut sums) = ChunkSummer::resume(&last.sums, last.offset) else {
        return Ok(None);
    };
    let mut buffer = vec![0u8; 64 << 10];
    let mut at = last.offset;
    while at < len {
        let want = buffer
            .len()
            .min(usize::try_from(len - at).unwrap_or(usize::MAX));
        let n = file.read_at(&mut buffer[..want], at)?;
        if n == 0 {
            break;
        }
        sums.update(&buffer[..n]);
        at += n as u64;
    }
    Ok(Some(Durable {
        offset: at,
        sums: sums.snapshot(),
    }))
}

fn write_all(
    file: File,
    mut digests: Digests,
    mut sums: ChunkSummer,
    mut offset: u64,
    mut chunks: mpsc::Receiver<Bytes>,
    synced: &watch::Sender<Durable>,
) -> io::Result<Written> {
    // Turns many small network chunks into few write syscalls; 64 KiB keeps that win while
    // memory per download stays small (1 MiB cost 24 MiB at 32 downloads for no speed).
    let mut out = io::BufWriter::with_capacity(64 << 10, file);
    let mut unsynced = 0u64;
    let mut last_sync = Instant::now();
    while let Some(chunk) = chunks.blocking_recv() {
        digests.update(&chunk);
        sums.update(&chunk);
        out.write_all(&chunk)?;
        offset += chunk.len() as u64;
        unsynced += chunk.len() as u64;
        if unsynced >= FLUSH_BYTES || last_sync.elapsed() >= FLUSH_INTERVAL {
            out.flush()?;
            out.get_ref().sync_data()?;
            let _ = synced.send(Durable {
                offset,
                sums: sums.snapshot(),
            });
            unsynced = 0;
            last_sync = Instant::now();
        }
    }
    out.flush()?;
    out.get_ref().sync_data()?;
    let sums = sums.snapshot();
    let _ = synced.send(Durable {
        offset,
        sums: sums.clone(),
    });
    Ok(Written {
        digests,
        offset,
        sums,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk_sums::CHUNK_BYTES;

    fn sums_of(bytes: &[u8]) -> ChunkSums {
        let mut summer = ChunkSummer::new();
        summer.update(bytes);
        summer.snapshot()
    }

    #[test]
    fn the_last_sync_publishes_the_sums_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.part");
        let bytes: Vec<u8> = (0..CHUNK_BYTES as usize * 2 + 4321)
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let (synced_tx, synced) = watch::channel(Durable {
            offset: 0,
            sums: ChunkSums::default(),
        });
        let pieces: Vec<Bytes> = bytes.chunks(99_991).map(Bytes::copy_from_slice).collect();
        let feeder = std::thread::spawn(move || {
            for piece in pieces {
                tx.blocking_send(piece).unwrap();
            }
        });
        let file = File::create(&path).unwrap();
        let written = run(
            file,
            Digests::new(None),
            ChunkSummer::new(),
            0,
            rx,
            synced_tx,
        )
        .unwrap();
        feeder.join().unwrap();
        assert_eq!(written.offset, bytes.len() as u64);
        assert_eq!(written.sums, sums_of(&bytes));
        assert_eq!(synced.borrow().sums, written.sums);
    }

    #[test]
    fn the_bytes_past_the_last_sync_are_summed_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.part");
        let bytes: Vec<u8> = (0..CHUNK_BYTES as usize + 70_000)
            .map(|i| (i % 241) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let at = CHUNK_BYTES as usize - 3;
        let last = Durable {
            offset: at as u64,
            sums: sums_of(&bytes[..at]),
        };
        let grown = extend(&file, last, bytes.len() as u64).unwrap().unwrap();
        assert_eq!(grown.offset, bytes.len() as u64);
        assert_eq!(grown.sums, sums_of(&bytes));
    }
}
