//! The running side of a gateway's limits: the upstream's concurrency cap (a semaphore with a
//! queue deadline), its circuit breaker, and the token buckets of callers and tools.
//!
//! Built from the compiled [`Limits`] and kept across reloads that do not change them (a call
//! compares the snapshot's `Arc<Limits>` by pointer, then by value): a reload that edits a
//! description keeps every bucket and the breaker's state; one that changes a limit starts
//! them afresh.

mod breaker;
mod bucket;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use breaker::{BreakerState, Probe};
use bucket::Buckets;

use crate::gateway::{Limits, RateLimit};

/// Who a per-caller limit counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// A verified token's `sub`, or an API key's name.
    Subject(String),
    /// An unauthenticated client, by IP address (without port: one client, many connections).
    Address(IpAddr),
    /// stdio: the local user.
    Local,
}

impl std::fmt::Display for CallerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subject(s) => write!(f, "`{s}`"),
            Self::Address(a) => write!(f, "the client at {a}"),
            Self::Local => f.write_str("the local client"),
        }
    }
}

/// Why a call was not sent upstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The caller's bucket is empty.
    CallerRate {
        /// Who.
        caller: CallerKey,
        /// Their limit.
        limit: RateLimit,
        /// Until a token is back.
        wait: Duration,
    },
    /// The tool's bucket is empty.
    ToolRate {
        /// Its limit.
        limit: RateLimit,
        /// Until a token is back.
        wait: Duration,
    },
    /// No upstream slot freed up within the queue deadline.
    Saturated {
        /// The cap.
        max: usize,
        /// How long the call waited.
        waited: Duration,
    },
    /// The breaker is open.
    CircuitOpen {
        /// Until it lets a probe through.
        retry_in: Duration,
    },
}

impl Refusal {
    /// The `limit` label of `mcp_gateway_limited_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::CallerRate { .. } => "caller_rate",
            Self::ToolRate { .. } => "tool_rate",
            Self::Saturated { .. } => "saturated",
            Self::CircuitOpen { .. } => "circuit_open",
        }
    }

    /// The error result's text for the agent: what happened, and when to call again.
    pub fn message(&self, tool: &str, host: &str) -> String {
        match self {
            Self::CallerRate {
                caller,
                limit,
                wait,
            } => format!(
                "Rate limit: {caller} may make {} calls per {}; wait {} and call again. Nothing was sent to the API.",
                limit.requests,
                humantime::format_duration(limit.per),
                seconds(*wait)
            ),
            Self::ToolRate { limit, wait } => format!(
                "Rate limit: `{tool}` may be called {} times per {}; wait {} and call again. Nothing was sent to the API.",
                limit.requests,
                humantime::format_duration(limit.per),
                seconds(*wait)
            ),
            Self::Saturated { max, waited } => format!(
                "The API {host} is saturated: {max} calls to it are already in flight and this one waited {} for a slot. Nothing was sent; retry in a few seconds.",
                seconds(*waited)
            ),
            Self::CircuitOpen { retry_in } => format!(
                "The API {host} is failing, so the gateway has stopped calling it for a while. Nothing was sent; retry in {}.",
                seconds(*retry_in)
            ),
        }
    }
}

/// `1.3s`, rounded up to a tenth so "wait 0.0s" never happens.
fn seconds(d: Duration) -> String {
    let tenths = d.as_millis().div_ceil(100).max(1);
    format!("{}.{}s", tenths / 10, tenths % 10)
}

/// One gateway's limiter.
#[derive(Debug)]
pub struct Limiter {
    running: ArcSwap<Running>,
}

#[derive(Debug)]
struct Running {
    settings: Arc<Limits>,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    slots: Arc<Semaphore>,
    breaker: breaker::Breaker,
    callers: Buckets<CallerKey>,
    tools: Buckets<String>,
}

impl State {
    fn new(limits: &Limits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrent)),
            breaker: breaker::Breaker::default(),
            callers: Buckets::default(),
            tools: Buckets::default(),
        }
    }
}

/// Permission to send one call upstream: holds its slot until dropped, and says whether it is
/// a half-open probe (see [`Limiter::record`]).
#[derive(Debug)]
pub struct Admitted {
    _slot: OwnedSemaphorePermit,
    /// The breaker ticket.
    pub probe: Probe,
    state: Arc<State>,
    settings: Arc<Limits>,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: Arc<Limits>) -> Self {
        let state = Arc::new(State::new(&limits));
        Self {
            running: ArcSwap::from_pointee(Running {
                settings: limits,
                state,
            }),
        }
    }

    fn running(&self, limits: &Arc<Limits>) -> Arc<Running> {
        let cur = self.running.load_full();
        if Arc::ptr_eq(&cur.settings, limits) {
            return cur;
        }
        // A reload: the same settings keep their state, changed ones start afresh.
        let state = if *cur.settings == **limits {
            cur.state.clone()
        } else {
            Arc::new(State::new(limits))
        };
        let next = Arc::new(Running {
            settings: limits.clone(),
            state,
        });
        self.running.store(next.clone());
        next
    }

    /// Takes a token from the caller's and the tool's buckets, or says how long to wait.
    pub fn rate(
        &self,
        limits: &Arc<Limits>,
        caller: &CallerKey,
        tool: &str,
    ) -> Result<(), Refusal> {
        if limits.per_caller.is_none() && limits.per_tool.is_empty() {
            return Ok(());
        }
        let r = self.running(limits);
        let now = Instant::now();
        if let Some(limit) = &limits.per_caller
            && let Err(wait) = r.state.callers.take(caller, limit, now)
        {
            return Err(Refusal::CallerRate {
                caller: caller.clone(),
                limit: limit.clone(),
                wait,
            });
        }
        if let Some(limit) = limits.per_tool.get(tool)
            && let Err(wait) = r.state.tools.take(tool, limit, now)
        {
            return Err(Refusal::ToolRate {
                limit: limit.clone(),
                wait,
            });
        }
        Ok(())
    }

    /// Asks the breaker, then waits (up to the queue deadline) for an upstream slot.
    pub async fn admit(&self, limits: &Arc<Limits>) -> Result<Admitted, Refusal> {
        let r = self.running(limits);
        let probe = match &limits.breaker {
            None => Probe::Untracked,
            Some(b) => r
                .state
                .breaker
                .admit(b, Instant::now())
                .map_err(|retry_in| Refusal::CircuitOpen { retry_in })?,
        };
        let slot = match r.state.slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) => {
                match tokio::time::timeout(
                    limits.queue_timeout,
                    r.state.slots.clone().acquire_owned(),
                )
                .await
                {
                    Ok(Ok(s)) => s,
                    _ => {
                        r.state.breaker.release(probe);
                        return Err(Refusal::Saturated {
                            max: limits.max_concurrent,
                            waited: limits.queue_timeout,
                        });
                    }
                }
            }
        };
        Ok(Admitted {
            _slot: slot,
            probe,
            state: r.state.clone(),
            settings: r.settings.clone(),
        })
    }

    /// The breaker's state now, for `/metrics`.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        let r = self.running.load();
        r.settings.breaker.as_ref()?;
        Some(r.state.breaker.state(Instant::now()))
    }

    /// Upstream calls holding a slot now.
    pub fn in_use(&self) -> usize {
        let r = self.running.load();
        r.settings
            .max_concurrent
            .saturating_sub(r.state.slots.available_permits())
    }
}

impl Admitted {
    /// Frees the slot without telling the breaker anything: the request never reached the
    /// upstream (its arguments could not form one), so it says nothing about the upstream's
    /// health, and a probe is given back for another call.
    pub fn release(self) {
        self.state.breaker.release(self.probe);
    }

    /// Tells the breaker how the call went (`failed`: no answer, or 500/502/503/504), and
    /// frees the slot.
    pub fn record(self, failed: bool) {
        if let Some(b) = &self.settings.breaker {
            self.state
                .breaker
                .record(b, self.probe, failed, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_caller: Option<RateLimit>) -> Arc<Limits> {
        Arc::new(Limits {
            per_caller,
            ..Limits::default()
        })
    }

    #[test]
    fn a_reload_with_the_same_limits_keeps_the_buckets() {
        let rl = RateLimit {
            requests: 1,
            per: Duration::from_secs(60),
            burst: 1,
        };
        let a = limits(Some(rl.clone()));
        let l = Limiter::new(a.clone());
        let me = CallerKey::Local;
        assert!(l.rate(&a, &me, "t").is_ok());
        assert!(l.rate(&a, &me, "t").is_err());
        let same = limits(Some(rl));
        assert!(
            l.rate(&same, &me, "t").is_err(),
            "same settings, same bucket"
        );
        let changed = limits(Some(RateLimit {
            requests: 2,
            per: Duration::from_secs(60),
            burst: 2,
        }));
        assert!(
            l.rate(&changed, &me, "t").is_ok(),
            "new settings start afresh"
        );
    }

    #[test]
    fn waits_are_rounded_up_to_a_tenth() {
        assert_eq!(seconds(Duration::from_millis(1)), "0.1s");
        assert_eq!(seconds(Duration::from_millis(1250)), "1.3s");
        assert_eq!(seconds(Duration::from_secs(30)), "30.0s");
    }
}
