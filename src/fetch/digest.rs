//! The hashes computed in the same pass as the write: SHA-256 always, and the provider's
//! checksum (SHA-1 or MD5) when it published one.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::candidate::Checksum;

/// Running hashes over the bytes of one file.
#[derive(Clone)]
pub struct Digests {
    sha256: Sha256,
    provider: Option<Provider>,
}

#[derive(Clone)]
enum Provider {
    Sha1(Sha1, String),
    Md5(Md5, String),
}

impl Digests {
    /// Starts empty, also computing `checksum`'s algorithm if given.
    pub fn new(checksum: Option<&Checksum>) -> Digests {
        let provider = checksum.map(|c| match c {
            Checksum::Sha1(hex) => Provider::Sha1(Sha1::new(), hex.clone()),
            Checksum::Md5(hex) => Provider::Md5(Md5::new(), hex.clone()),
        });
        Digests {
            sha256: Sha256::new(),
            provider,
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        match &mut self.provider {
            Some(Provider::Sha1(h, _)) => h.update(bytes),
            Some(Provider::Md5(h, _)) => h.update(bytes),
            None => {}
        }
    }

    /// The SHA-256 (hex) and whether the provider's checksum matched (`None` if there was none).
    pub fn finish(self) -> (String, Option<bool>) {
        let sha256 = hex::encode(self.sha256.finalize());
        let matched = self.provider.map(|p| match p {
            Provider::Sha1(h, want) => hex::encode(h.finalize()) == want,
            Provider::Md5(h, want) => hex::encode(h.finalize()) == want,
        });
        (sha256, matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let mut d = Digests::new(Some(&Checksum::Sha1(
            "a9993e364706816aba3e25717850c26c9cd0d89d".into(),
        )));
        d.update(b"ab");
        d.update(b"c");
        let (sha256, matched) = d.finish();
        assert_eq!(
            sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(matched, Some(true));
        let mut d = Digests::new(Some(&Checksum::Md5("0".repeat(32))));
        d.update(b"abc");
        assert_eq!(d.finish().1, Some(false));
    }
}
