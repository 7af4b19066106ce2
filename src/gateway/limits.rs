//! The compiled limits of a gateway (`upstream.max_concurrent`, `upstream.circuit_breaker`,
//! `limits.per_caller`, `tools[].rate_limit`): plain settings. Their running state (semaphore,
//! breaker, token buckets) lives in [`crate::limit`], built from these.

use std::collections::HashMap;
use std::time::Duration;

/// Every limit of one gateway.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Limits {
    /// At most this many upstream requests at once; more wait in a queue.
    pub max_concurrent: usize,
    /// How long a call waits for a slot before it is answered "saturated".
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub queue_timeout: Duration,
    /// When to stop calling a failing upstream; `None`: never.
    pub breaker: Option<Breaker>,
    /// A token bucket per caller, across all tools.
    pub per_caller: Option<RateLimit>,
    /// A token bucket per tool (tool name → limit), shared by all callers.
    #[serde(serialize_with = "super::compiled::with::sorted")]
    pub per_tool: HashMap<String, RateLimit>,
}

/// Default cap on concurrent upstream requests of one gateway: far above what one API usually
/// serves well from one client, low enough that a stampede of callers cannot open thousands of
/// connections to it.
pub const DEFAULT_MAX_CONCURRENT: usize = 100;

/// Default wait for a slot: long enough to ride out a burst, short enough that an agent hears
/// "saturated" well before its own client times out.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            breaker: Some(Breaker::default()),
            per_caller: None,
            per_tool: HashMap::new(),
        }
    }
}

/// Circuit breaker settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Breaker {
    /// Open after this many failures in a row.
    pub consecutive_failures: u32,
    /// Open when at least this share of the calls in `window` failed (0–1), once the window
    /// holds `min_calls` calls.
    pub failure_rate: Option<f64>,
    /// Calls a window needs before `failure_rate` applies.
    pub min_calls: u32,
    /// The failure-rate window.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub window: Duration,
    /// How long it stays open before probing.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub open_for: Duration,
    /// Calls let through at once while half-open.
    pub half_open_probes: u32,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: None,
            min_calls: 20,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
            half_open_probes: 1,
        }
    }
}

/// A token bucket: `requests` per `per`, bursts of up to `burst`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RateLimit {
    /// Calls allowed per `per`.
    pub requests: u32,
    /// The period.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub per: Duration,
    /// Bucket size.
    pub burst: u32,
}

impl RateLimit {
    /// Tokens added per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.per.as_secs_f64()
    }
}
