//! The checksums stored with a partial download so its `.part` file can be checked before it is
//! trusted on resume: one CRC-32 per [`CHUNK_BYTES`] of the durable prefix.
//!
//! Shared vocabulary between `fetch` (which computes and verifies them) and `store` (which keeps
//! them with the offset they describe).

/// Bytes covered by one checksum. Damage costs at most this much plus the damaged span again.
pub const CHUNK_BYTES: u64 = 1 << 20;

/// CRC-32s over a prefix `[0, offset)` of a file: chunk `i` covers
/// `[i * CHUNK_BYTES, min((i + 1) * CHUNK_BYTES, offset))`, so there are `ceil(offset /
/// CHUNK_BYTES)` of them and the last one is the partial tail's when `offset` is not a multiple.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkSums(Vec<u32>);

impl ChunkSums {
    /// Sums in chunk order, the tail's last.
    pub fn new(sums: Vec<u32>) -> ChunkSums {
        ChunkSums(sums)
    }

    /// The sum of chunk `index`, if recorded.
    pub fn get(&self, index: usize) -> Option<u32> {
        self.0.get(index).copied()
    }

    /// The sums in chunk order.
    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    /// The stored form: each sum as 4 little-endian bytes, in chunk order.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// Reads the stored form. Trailing bytes short of a whole sum are dropped: the chunk they
    /// belonged to then has no sum, and a chunk without a sum is not trusted.
    pub fn from_le_bytes(bytes: &[u8]) -> ChunkSums {
        ChunkSums(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_round_trips_and_a_torn_sum_is_dropped() {
        let sums = ChunkSums::new(vec![1, 0xdead_beef, u32::MAX]);
        let bytes = sums.to_le_bytes();
        assert_eq!(&bytes[4..8], &[0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(ChunkSums::from_le_bytes(&bytes), sums);
        let torn = ChunkSums::from_le_bytes(&bytes[..10]);
        assert_eq!(torn.as_slice(), &[1, 0xdead_beef]);
        assert_eq!(torn.get(2), None);
    }
}
