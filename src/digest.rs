//! Content digests of input files, so a reload can tell "this file changed" from "an editor
//! touched this directory".
//!
//! Not cryptographic: it only compares a file with its own earlier content inside one process,
//! where SipHash with fixed keys is fast and collisions would need a deliberate attacker who can
//! already write the manifest.

use std::hash::{DefaultHasher, Hasher};

/// Digest of `bytes`.
pub fn of(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}
