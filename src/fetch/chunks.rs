//! Per-chunk checksums computed in the same pass as the write, so a resumed download can tell
//! which part of its `.part` file is still what it wrote.
//!
//! CRC-32 (crc32fast, SIMD) rather than a cryptographic hash: the threat is bad luck (a torn
//! write, a bad sector, a file restored from an old backup) and local tampering to be *detected*,
//! not an adversary to be kept out — whoever can write the `.part` file can write the database
//! too. It costs about a tenth of the SHA-256 already computed over the same bytes.

use crc32fast::Hasher;

use crate::chunk_sums::{ChunkSums, CHUNK_BYTES};

/// The running sums of a file being written: complete chunks, and the chunk being filled.
#[derive(Clone)]
pub struct ChunkSummer {
    complete: Vec<u32>,
    tail: Hasher,
    /// Bytes in the chunk being filled (less than [`CHUNK_BYTES`]).
    in_tail: u64,
}

impl ChunkSummer {
    /// Sums of an empty file.
    pub fn new() -> ChunkSummer {
        ChunkSummer {
            complete: Vec::new(),
            tail: Hasher::new(),
            in_tail: 0,
        }
    }

    /// Continues from `sums` describing exactly `[0, offset)`; `None` if they cannot.
    pub fn resume(sums: &ChunkSums, offset: u64) -> Option<ChunkSummer> {
        let whole = usize::try_from(offset / CHUNK_BYTES).ok()?;
        let in_tail = offset % CHUNK_BYTES;
        let wanted = whole + usize::from(in_tail > 0);
        if sums.as_slice().len() != wanted {
            return None;
        }
        let tail = match in_tail {
            0 => Hasher::new(),
            n => Hasher::new_with_initial_len(sums.get(whole)?, n),
        };
        Some(ChunkSummer {
            complete: sums.as_slice()[..whole].to_vec(),
            tail,
            in_tail,
        })
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = usize::try_from(CHUNK_BYTES - self.in_tail).unwrap_or(usize::MAX);
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.tail.update(now);
            self.in_tail += now.len() as u64;
            if self.in_tail == CHUNK_BYTES {
                let full = std::mem::replace(&mut self.tail, Hasher::new());
                self.complete.push(full.finalize());
                self.in_tail = 0;
            }
            bytes = rest;
        }
    }

    /// The sums of everything fed so far, the partial tail's last.
    pub fn snapshot(&self) -> ChunkSums {
        let mut sums = Vec::with_capacity(self.complete.len() + 1);
        sums.extend_from_slice(&self.complete);
        if self.in_tail > 0 {
            sums.push(self.tail.clone().finalize());
        }
        ChunkSums::new(sums)
    }
}

/// Whether chunk `index` with these bytes is the one recorded in `sums`. Without any recorded
/// sums (a download stored before they existed) the prefix is trusted, as it always was.
pub fn chunk_is_good(sums: Option<&ChunkSums>, index: usize, chunk: &[u8]) -> bool {
    match sums {
        None => true,
        Some(sums) => sums.get(index) == Some(crc32fast::hash(chunk)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_u32;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn reference(bytes: &[u8]) -> ChunkSums {
        ChunkSums::new(
            bytes
                .chunks(CHUNK_BYTES as usize)
                .map(crc32fast::hash)
                .collect(),
        )
    }

    #[test]
    fn sums_over_odd_sized_pieces_equal_sums_in_one_go() {
        let bytes = data(3 * CHUNK_BYTES as usize + 12_345);
        let mut one_go = ChunkSummer::new();
        one_go.update(&bytes);
        assert_eq!(one_go.snapshot(), reference(&bytes));
        assert_eq!(one_go.snapshot().as_slice().len(), 4);

        let mut pieces = ChunkSummer::new();
        let sizes = [
            1,
            7,
            CHUNK_BYTES as usize - 9,
            1,
            65_536,
            3 * 65_521,
            2_000_003,
        ];
        let mut rest = &bytes[..];
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at((*size).min(rest.len()));
            pieces.update(now);
            rest = later;
            // Every prefix's sums, not only the whole file's.
            let done = bytes.len() - rest.len();
            assert_eq!(pieces.snapshot(), reference(&bytes[..done]), "at {done}");
        }
    }

    #[test]
    fn a_prefix_on_a_chunk_boundary_has_no_tail_sum() {
        let bytes = data(2 * CHUNK_BYTES as usize);
        let mut summer = ChunkSummer::new();
        summer.update(&bytes);
        assert_eq!(summer.snapshot().as_slice().len(), 2);
        assert_eq!(ChunkSummer::new().snapshot(), ChunkSums::default());
    }

    #[test]
    fn resuming_from_stored_sums_continues_as_if_never_stopped() {
        let bytes = data(2 * CHUNK_BYTES as usize + 777);
        for cut in [0, 5, CHUNK_BYTES as usize, CHUNK_BYTES as usize + 3] {
            let mut first = ChunkSummer::new();
            first.update(&bytes[..cut]);
            let mut resumed = ChunkSummer::resume(&first.snapshot(), cut as u64).expect("resume");
            resumed.update(&bytes[cut..]);
            assert_eq!(resumed.snapshot(), reference(&bytes), "cut at {cut}");
        }
        // Sums that do not describe the offset are refused.
        let sums = reference(&bytes[..10]);
        assert!(ChunkSummer::resume(&sums, CHUNK_BYTES + 10).is_none());
        assert!(ChunkSummer::resume(&sums, 0).is_none());
    }

    #[test]
    fn a_chunk_is_good_only_when_its_recorded_sum_matches() {
        let bytes = data(100);
        let sums = reference(&bytes);
        assert!(chunk_is_good(Some(&sums), 0, &bytes));
        let mut bad = bytes.clone();
        bad[50] ^= 1;
        assert!(!chunk_is_good(Some(&sums), 0, &bad));
        // No sum recorded for this chunk: not trusted.
        assert!(!chunk_is_good(Some(&sums), 1, &bytes));
        // No sums at all (stored before they existed): trusted.
        assert!(chunk_is_good(None, 0, &bad));
    }
}
