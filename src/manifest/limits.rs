//! Limits a manifest sets: the circuit breaker of its upstream and token-bucket rate limits.

use schemars::JsonSchema;
use serde::Deserialize;

/// Rate limits across tools.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// A token bucket for each caller, across all tools: the token's `sub`, the API key's name,
    /// or (without `auth:`) the client's IP address. A call over the limit is an error result
    /// that says how long to wait; nothing is sent upstream.
    #[serde(default)]
    pub per_caller: Option<RateLimitConfig>,
}

/// A token bucket: `requests` calls per `per`, in bursts of at most `burst`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Calls allowed per period.
    #[schemars(range(min = 1))]
    pub requests: u32,
    /// The period, e.g. `1s`, `1m`, `1h`.
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub per: String,
    /// Most calls allowed at once after a quiet spell (the bucket's size). Default `requests`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub burst: Option<u32>,
}

/// When the gateway stops calling a failing upstream. A failure is no answer (refused
/// connection, timeout, TLS error) or a 500, 502, 503 or 504; a 4xx is the caller's problem and
/// does not count. While open, calls are answered at once with an error result saying when to
/// retry; after `open_for`, `half_open_probes` calls go through, and the first success closes
/// it again (a failure reopens it).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakerConfig {
    /// Set `false` to never stop calling the upstream. Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Open after this many failures in a row. Default 5.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub consecutive_failures: Option<u32>,
    /// Also open when at least this percentage of the calls in `window` failed (once the window
    /// holds `min_calls` calls). Off by default.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub failure_rate: Option<u32>,
    /// Calls a window needs before `failure_rate` applies. Default 20.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub min_calls: Option<u32>,
    /// The window `failure_rate` is measured over, e.g. `60s` (the default).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub window: Option<String>,
    /// How long the breaker stays open before it lets probes through. Default `30s`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub open_for: Option<String>,
    /// Calls let through at once while probing (half-open). Default 1.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub half_open_probes: Option<u32>,
}
