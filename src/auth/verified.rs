//! Tokens this gateway has already verified, so a caller's next request with the same token
//! costs a hash and a lookup instead of a signature check.
//!
//! An agent sends one access token with every call of a session, and an RS256 verification with
//! the pure-Rust backend costs ~150 µs of CPU (`benches/call.rs`): several times the rest of a
//! call. The cache is keyed by the SHA-256 of the whole token, signature included, so only the
//! exact bytes that were verified hit; an entry is used only until the token's `exp` (plus the
//! same leeway verification allows); and it is handed on across a reload only when everything a
//! JWT is checked against (issuer, audience, leeway, where the keys are) is unchanged, so a new
//! issuer or audience starts empty. Revocation is not something a JWT can express; tokens
//! that need it are verified by introspection, which is not cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::Principal;

/// Entries kept at most: a bound on memory whatever callers send.
const CAPACITY: usize = 10_000;

/// A verified token's principal and its `exp`.
type Entry = (Arc<Principal>, u64);

/// Verified tokens by digest.
#[derive(Debug, Default)]
pub struct Verified {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Verified {
    /// The principal of `token`, if it was verified and has not expired since.
    pub fn get(&self, token: &str, leeway: Duration) -> Option<Arc<Principal>> {
        let entries = self.entries.lock().ok()?;
        let (principal, exp) = entries.get(&key(token))?;
        (now() <= exp.saturating_add(leeway.as_secs())).then(|| principal.clone())
    }

    /// Remembers that `token` verified as `principal` (its `exp` from the claims).
    pub fn insert(&self, token: &str, principal: &Arc<Principal>) {
        let Some(exp) = principal
            .claims
            .get("exp")
            .and_then(serde_json::Value::as_u64)
        else {
            return;
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            let t = now();
            entries.retain(|_, (_, e)| *e >= t);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key(token), (principal.clone(), exp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn principal(exp: u64) -> Principal {
        let Value::Object(claims) = json!({"sub": "u", "scope": "a", "exp": exp}) else {
            unreachable!()
        };
        Principal::from_claims(claims)
    }

    #[test]
    fn only_the_exact_token_hits_and_only_until_it_expires() {
        let v = Verified::default();
        v.insert("tok", &Arc::new(principal(now() + 60)));
        assert_eq!(
            v.get("tok", Duration::ZERO).unwrap().subject.as_deref(),
            Some("u")
        );
        assert!(v.get("tok2", Duration::ZERO).is_none());
        v.insert("old", &Arc::new(principal(now() - 120)));
        assert!(v.get("old", Duration::from_secs(60)).is_none());
        assert!(v.get("old", Duration::from_secs(300)).is_some());
    }
}
