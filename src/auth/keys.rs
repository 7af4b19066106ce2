//! Static API keys, for internal deployments without an authorization server. Only their SHA-256
//! digests are kept (read from env or a file at compile time), and a presented key is compared
//! against every digest in constant time, so neither the stored form nor the timing reveals it.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One accepted key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Who holds it (the caller's subject).
    pub name: String,
    /// SHA-256 of the key.
    pub digest: [u8; 32],
    /// Scopes it grants.
    pub scopes: Vec<String>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Parses a digest written as 64 hex digits (`sha256sum` output; anything after the first
    /// whitespace, such as sha256sum's `  -`, is ignored).
    pub fn parse_digest(text: &str) -> Option<[u8; 32]> {
        let hex = text.split_whitespace().next()?;
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }
}

/// The key whose digest matches `presented`. Every digest is compared (no early exit), each in
/// constant time.
pub(super) fn find<'k>(keys: &'k [ApiKey], presented: &str) -> Option<&'k ApiKey> {
    if keys.is_empty() {
        return None;
    }
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for key in keys {
        if bool::from(key.digest.ct_eq(&digest)) && found.is_none() {
            found = Some(key);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_from_sha256sum_output_and_keys_match_only_exactly() {
        // `sha256sum` output: the digest, two spaces, the file name (`-` for stdin).
        let hex: String = Sha256::digest(b"k-123")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let digest: [u8; 32] = Sha256::digest(b"k-123").into();
        assert_eq!(ApiKey::parse_digest(&format!("{hex}  -")), Some(digest));
        assert_eq!(ApiKey::parse_digest(&hex.to_uppercase()), Some(digest));
        assert_eq!(ApiKey::parse_digest("abc"), None);
        assert_eq!(ApiKey::parse_digest(&"zz".repeat(32)), None);
        let key = ApiKey {
            name: "ci".into(),
            digest: Sha256::digest(b"k-123").into(),
            scopes: vec![],
        };
        let keys = [key];
        assert_eq!(find(&keys, "k-123").map(|k| k.name.as_str()), Some("ci"));
        assert!(find(&keys, "k-124").is_none());
        assert!(find(&keys, "").is_none());
    }
}
