//! The compiled retry policy of a tool: how often and how patiently the gateway sends a
//! retry-safe call again by itself (`retry:` in the manifest, upstream-wide and per tool).

use std::time::Duration;

use super::Tool;

/// When and how a call is sent again. Every attempt shares the tool's timeout: a pause or an
/// attempt that would run past it is not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RetryPolicy {
    /// Most sends of one call, the first included (1: no retries).
    pub attempts: u32,
    /// The pause before the first retry, doubled for each further one, before jitter.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub base_delay: Duration,
    /// The longest pause between two attempts.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub max_delay: Duration,
    /// The longest `Retry-After` the gateway waits for itself; a longer one goes back to the
    /// agent.
    #[serde(serialize_with = "super::compiled::with::duration")]
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Modest on purpose: two retries fit an agent's patience and a default 30 s timeout many
    /// times over, smooth over a restarting upstream or a brief overload, and at most triple
    /// the load on an API that is already struggling. A `Retry-After` of up to 5 s is cheaper
    /// to wait for than a round trip through the model; a longer one is the agent's decision.
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

/// Whether the HTTP method itself is idempotent (RFC 9110 §9.2.2).
pub fn idempotent_method(m: &http::Method) -> bool {
    matches!(
        *m,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::PUT
            | http::Method::DELETE
    )
}

impl Tool {
    /// Whether the gateway may send a call of this tool again after the request may have
    /// reached the API: the operation is idempotent (its method, or `annotations.idempotent`,
    /// which defaults from the method), read-only, or carries an idempotency key that the
    /// gateway reuses on its own retries.
    pub fn retry_safe(&self) -> bool {
        self.annotations.idempotent_hint
            || self.annotations.read_only_hint
            || self.idempotency_key.is_some()
    }
}
