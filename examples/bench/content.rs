//! Deterministic pseudo-random content (distinct per seed, random access).

use std::io::Write;
use std::path::Path;
use std::{fs, io};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::util::MIB;

fn mix(seed: u64, word: u64) -> u64 {
    // splitmix64's finaliser over (seed, word index): every 8-byte word is independent.
    let mut z = seed
        .wrapping_mul(0xD6E8_FEB8_6659_FD93)
        .wrapping_add(word.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `buf` with the bytes of file `seed` starting at `offset`.
pub(crate) fn fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() && !pos.is_multiple_of(8) {
        buf[i] = mix(seed, pos / 8).to_le_bytes()[(pos % 8) as usize];
        i += 1;
        pos += 1;
    }
    while buf.len() - i >= 8 {
        buf[i..i + 8].copy_from_slice(&mix(seed, pos / 8).to_le_bytes());
        i += 8;
        pos += 8;
    }
    while i < buf.len() {
        buf[i] = mix(seed, pos / 8).to_le_bytes()[(pos % 8) as usize];
        i += 1;
        pos += 1;
    }
}

pub(crate) fn write_content_file(path: &Path, seed: u64, size: u64) -> Result<()> {
    let mut file = io::BufWriter::with_capacity(
        4 * MIB as usize,
        fs::File::create(path).with_context(|| format!("create {}", path.display()))?,
    );
    let mut buf = vec![0u8; MIB as usize];
    let mut pos = 0;
    while pos < size {
        let n = (size - pos).min(buf.len() as u64) as usize;
        fill(seed, pos, &mut buf[..n]);
        file.write_all(&buf[..n])?;
        pos += n as u64;
    }
    file.flush()?;
    Ok(())
}

pub(crate) fn content_sha256(seed: u64, size: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    let mut pos = 0;
    while pos < size {
        let n = (size - pos).min(buf.len() as u64) as usize;
        fill(seed, pos, &mut buf[..n]);
        h.update(&buf[..n]);
        pos += n as u64;
    }
    hex::encode(h.finalize())
}
