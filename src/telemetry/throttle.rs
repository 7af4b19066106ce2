//! Rate-limiting identical warnings: a down upstream fails every call the same way, and one
//! 300-byte WARN per failed call is 16 MB of log in 5 s at 10,000 calls/s. The first warning of
//! a kind is logged at once; identical ones within [`WINDOW`] are counted, and the next one
//! logged after it says how many were held back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long identical warnings are held back after one is logged: short enough that a
/// recovering upstream shows up quickly, long enough to turn a flood into a line every few
/// seconds.
const WINDOW: Duration = Duration::from_secs(10);

/// Kinds of warnings tracked at once; past it the table is cleared (a flood of distinct
/// messages is rare, and forgetting only means one more line).
const MAX_KINDS: usize = 1024;

/// Identical-warning throttle.
#[derive(Debug, Default)]
pub struct Throttle {
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Throttle {
    /// Whether to log a warning of kind `key` now; `Some(n)`: log it, saying `n` identical
    /// ones were held back since the last one logged.
    pub fn admit(&self, key: &str, now: Instant) -> Option<u64> {
        let Ok(mut seen) = self.seen.lock() else {
            return Some(0);
        };
        if let Some((logged, held)) = seen.get_mut(key) {
            if now.duration_since(*logged) < WINDOW {
                *held += 1;
                return None;
            }
            let n = *held;
            *logged = now;
            *held = 0;
            return Some(n);
        }
        if seen.len() >= MAX_KINDS {
            seen.clear();
        }
        seen.insert(key.to_string(), (now, 0));
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_warnings_are_counted_not_repeated() {
        let (t, t0) = (Throttle::default(), Instant::now());
        assert_eq!(t.admit("a", t0), Some(0));
        assert_eq!(t.admit("a", t0 + Duration::from_secs(1)), None);
        assert_eq!(t.admit("a", t0 + Duration::from_secs(2)), None);
        assert_eq!(t.admit("b", t0), Some(0), "another kind is logged");
        assert_eq!(t.admit("a", t0 + WINDOW), Some(2));
    }
}
