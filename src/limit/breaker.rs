//! The circuit breaker of one upstream: closed → open (after N failures in a row, or a failure
//! rate over a window) → half-open after `open_for` (a few probes) → closed on a probe's
//! success, open again on its failure.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::gateway::Breaker as Settings;

/// What the breaker let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An ordinary call while closed.
    Closed,
    /// A half-open probe: its outcome decides the breaker's state.
    HalfOpen,
    /// No breaker.
    Untracked,
}

/// The breaker's state, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused.
    Open,
    /// Probes go through.
    HalfOpen,
}

impl BreakerState {
    /// Every state, in the order `/metrics` lists them.
    pub const ALL: [BreakerState; 3] = [Self::Closed, Self::Open, Self::HalfOpen];

    /// The `state` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Breaker {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// `Some` while open: when probing may start.
    open_until: Option<Instant>,
    /// Probes in flight while half-open (`open_until` has passed).
    probes: u32,
    consecutive: u32,
    window_start: Option<Instant>,
    window_calls: u32,
    window_failures: u32,
}

impl Inner {
    fn open(&mut self, s: &Settings, now: Instant) {
        self.open_until = Some(now + s.open_for);
        self.probes = 0;
        self.consecutive = 0;
        self.window_start = None;
        self.window_calls = 0;
        self.window_failures = 0;
    }
}

impl Breaker {
    /// Lets a call through, or says how long until it would.
    pub(super) fn admit(&self, s: &Settings, now: Instant) -> Result<Probe, Duration> {
        let Ok(mut b) = self.inner.lock() else {
            return Ok(Probe::Closed);
        };
        match b.open_until {
            None => Ok(Probe::Closed),
            Some(until) if now < until => Err(until - now),
            Some(_) if b.probes < s.half_open_probes => {
                b.probes += 1;
                Ok(Probe::HalfOpen)
            }
            // Probes are out; their answer is at most one upstream timeout away.
            Some(_) => Err(Duration::from_secs(1)),
        }
    }

    /// Gives back a probe that was never sent (the call was refused for another reason).
    pub(super) fn release(&self, probe: Probe) {
        if probe == Probe::HalfOpen
            && let Ok(mut b) = self.inner.lock()
        {
            b.probes = b.probes.saturating_sub(1);
        }
    }

    pub(super) fn record(&self, s: &Settings, probe: Probe, failed: bool, now: Instant) {
        let Ok(mut b) = self.inner.lock() else {
            return;
        };
        match probe {
            Probe::Untracked => {}
            Probe::HalfOpen if failed => b.open(s, now),
            Probe::HalfOpen => *b = Inner::default(),
            // Calls admitted before the breaker opened tell nothing new.
            Probe::Closed if b.open_until.is_some() => {}
            Probe::Closed => {
                b.consecutive = if failed { b.consecutive + 1 } else { 0 };
                if b.window_start
                    .is_none_or(|start| now.duration_since(start) > s.window)
                {
                    b.window_start = Some(now);
                    b.window_calls = 0;
                    b.window_failures = 0;
                }
                b.window_calls += 1;
                b.window_failures += u32::from(failed);
                let rate_tripped = s.failure_rate.is_some_and(|rate| {
                    b.window_calls >= s.min_calls
                        && f64::from(b.window_failures) >= rate * f64::from(b.window_calls)
                });
                if failed && (b.consecutive >= s.consecutive_failures || rate_tripped) {
                    b.open(s, now);
                }
            }
        }
    }

    pub(super) fn state(&self, now: Instant) -> BreakerState {
        match self.inner.lock().ok().and_then(|b| b.open_until) {
            None => BreakerState::Closed,
            Some(until) if now < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            consecutive_failures: 3,
            failure_rate: Some(0.5),
            min_calls: 4,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(10),
            half_open_probes: 1,
        }
    }

    #[test]
    fn opens_after_consecutive_failures_then_probes_and_closes() {
        let (b, s, t0) = (Breaker::default(), settings(), Instant::now());
        for _ in 0..2 {
            let p = b.admit(&s, t0).unwrap();
            b.record(&s, p, true, t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        let p = b.admit(&s, t0).unwrap();
        b.record(&s, p, true, t0);
        assert_eq!(b.state(t0), BreakerState::Open);
        assert_eq!(b.admit(&s, t0), Err(Duration::from_secs(10)));
        let later = t0 + Duration::from_secs(11);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert_eq!(b.admit(&s, later), Ok(Probe::HalfOpen));
        assert!(b.admit(&s, later).is_err(), "one probe at a time");
        b.record(&s, Probe::HalfOpen, true, later);
        assert_eq!(b.state(later), BreakerState::Open, "a failed probe reopens");
        let again = later + Duration::from_secs(11);
        let p = b.admit(&s, again).unwrap();
        b.record(&s, p, false, again);
        assert_eq!(b.state(again), BreakerState::Closed);
    }

    #[test]
    fn opens_on_the_failure_rate_without_a_streak() {
        let (b, s, t0) = (Breaker::default(), settings(), Instant::now());
        for failed in [true, false, true, false] {
            let p = b.admit(&s, t0).unwrap();
            b.record(&s, p, failed, t0);
        }
        // 2 of 4 failed, but the last call succeeded: the rate is checked on a failure.
        assert_eq!(b.state(t0), BreakerState::Closed);
        let p = b.admit(&s, t0).unwrap();
        b.record(&s, p, true, t0);
        assert_eq!(b.state(t0), BreakerState::Open, "3 of 5 failed");
    }
}
