//! Static API keys, for internal deployments without an authorization server. Only their SHA-256
//! digests are kept (read from env or a file at compile time), and a presented key is compared
//! against every digest in constant time, so neither the stored form nor the timing reveals it.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiKey;

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
