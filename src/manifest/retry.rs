//! What a manifest says about calling again: the gateway's own retries (`retry:`) and
//! idempotency keys (`idempotency_key:`), on the upstream and per tool.

use schemars::JsonSchema;
use serde::Deserialize;

/// When the gateway sends a call again by itself. Only a retry-safe call is sent again after
/// the request may have reached the API (idempotent method, `annotations: {idempotent: true}`,
/// or an `idempotency_key`): after no answer, a dropped connection, or a 502, 503, 504 or 429.
/// A connection that could not be made carried nothing and is tried once more for any tool.
/// All attempts share the tool's timeout. Per tool, each field given replaces the upstream's.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Most times a call is sent, the first included; `1` turns retries off. Default 3.
    #[serde(default)]
    #[schemars(range(min = 1, max = 10))]
    pub attempts: Option<u32>,
    /// Pause before the first retry, doubled for each further one and jittered (a random
    /// half to all of it), e.g. `100ms` (the default).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub base_delay: Option<String>,
    /// Longest pause between two attempts, e.g. `2s` (the default).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub max_delay: Option<String>,
    /// Longest `Retry-After` (on a 429 or 503) the gateway waits for before sending again,
    /// e.g. `5s` (the default); `0s` never waits for one. A longer wait, or one past the tool's
    /// timeout, goes back to the agent with how many seconds to wait.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub max_retry_after: Option<String>,
}

/// A fresh random key sent with each call (and reused on the gateway's own retries of it), for
/// APIs that deduplicate writes by key: such a call becomes safe for the gateway to send again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyKeyConfig {
    /// The request header that carries the key, e.g. `Idempotency-Key`. The gateway owns it:
    /// no argument can set it, and a spec parameter of that name is not offered to the agent.
    pub header: String,
}
