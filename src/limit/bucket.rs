//! Token buckets keyed by caller or tool.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::gateway::RateLimit;

/// Buckets kept before idle (full) ones are forgotten: bounds memory when many clients come
/// and go (each unauthenticated client address is a caller).
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug)]
pub(super) struct Buckets<K> {
    map: Mutex<HashMap<K, Bucket>>,
}

impl<K> Default for Buckets<K> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, limit: &RateLimit, now: Instant) {
        let added = now.duration_since(self.at).as_secs_f64() * limit.per_second();
        self.tokens = (self.tokens + added).min(f64::from(limit.burst));
        self.at = now;
    }
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// Takes one token from `key`'s bucket, or says how long until one is back.
    pub(super) fn take<Q>(&self, key: &Q, limit: &RateLimit, now: Instant) -> Result<(), Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let Ok(mut map) = self.map.lock() else {
            return Ok(());
        };
        if !map.contains_key(key) && map.len() >= MAX_BUCKETS {
            map.retain(|_, b| {
                b.refill(limit, now);
                b.tokens < f64::from(limit.burst)
            });
        }
        let b = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            at: now,
        });
        b.refill(limit, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - b.tokens) / limit.per_second(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limit = RateLimit {
            requests: 2,
            per: Duration::from_secs(1),
            burst: 3,
        };
        let (b, t0) = (Buckets::<String>::default(), Instant::now());
        for _ in 0..3 {
            assert!(b.take("a", &limit, t0).is_ok());
        }
        assert_eq!(b.take("a", &limit, t0), Err(Duration::from_millis(500)));
        assert!(b.take("b", &limit, t0).is_ok(), "buckets are per key");
        assert!(b.take("a", &limit, t0 + Duration::from_millis(500)).is_ok());
    }
}
