//! The gateway's own retries of a tool call: which failures are sent again (only those where
//! nothing reached the API, or where the tool is retry-safe), how long to pause (jittered
//! exponential backoff, or the API's `Retry-After` up to a cap), all inside the tool's one
//! timeout; and the idempotency key a call carries through its retries.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::{UpstreamClient, UpstreamError, UpstreamResponse};
use crate::auth::Principal;
use crate::gateway::{CallPlan, RetryPolicy, Tool};
use crate::runtime::Served;

/// What the gateway's own retries of one call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retries {
    /// Why each retry was sent, in order.
    pub after: Vec<After>,
}

/// What a retry was sent after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The connection dropped after the request was sent, before a whole answer came.
    Reset,
    /// The API answered this status (429, 502, 503 or 504).
    Status(u16),
}

impl std::fmt::Display for After {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect => f.write_str("connect"),
            Self::Reset => f.write_str("reset"),
            Self::Status(s) => write!(f, "{s}"),
        }
    }
}

impl Retries {
    /// The reasons as a list, for logs and messages: `503, 503`.
    pub fn reasons(&self, separator: &str) -> String {
        self.after
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(separator)
    }
}

impl Retries {
    /// How many retries were sent.
    pub fn count(&self) -> u32 {
        u32::try_from(self.after.len()).unwrap_or(u32::MAX)
    }
}

/// The least share of the tool's timeout an attempt must still have: a retry with less would
/// most likely time out, and the agent would get "no answer" instead of the API's own error.
const MIN_ATTEMPT_SHARE: u32 = 10;

impl UpstreamClient {
    /// Builds, sends and reads one call of `tool`, sending it again where that is safe (see the
    /// module doc). `caller` is the verified MCP caller, whose claims fill
    /// `upstream.identity_headers`; its token is not available here at all. `extra` are headers
    /// of the gateway's own (the trace context). Returns the last attempt's outcome and what
    /// was retried.
    pub async fn call(
        &self,
        gateway: &Served,
        tool: &Tool,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> (Result<UpstreamResponse, UpstreamError>, Retries) {
        self.call_plan(gateway, tool, &tool.plan, args, caller, extra)
            .await
    }

    /// [`Self::call`] with `plan` in place of the tool's own (the next page of a paged list).
    pub async fn call_plan(
        &self,
        gateway: &Served,
        tool: &Tool,
        plan: &CallPlan,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> (Result<UpstreamResponse, UpstreamError>, Retries) {
        let timeout = tool.timeout.unwrap_or(gateway.upstream.timeout);
        let started = Instant::now();
        let headers = call_headers(tool, extra);
        let mut retries = Retries::default();
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let r = match self
                .send_once(gateway, plan, left, args, caller, &headers)
                .await
            {
                // The agent is told the tool's timeout, not what was left of it.
                Err(UpstreamError::Timeout { host, .. }) => {
                    Err(UpstreamError::Timeout { host, timeout })
                }
                other => other,
            };
            let Some((why, pause)) = again(&r, tool.retry_safe(), &tool.retry, retries.count())
            else {
                return (r, retries);
            };
            let left = timeout.saturating_sub(started.elapsed());
            if pause + timeout / MIN_ATTEMPT_SHARE > left {
                return (r, retries);
            }
            let pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
            if why == After::Connect {
                tracing::info!(gateway = %gateway.name, tool = %tool.name, pause_ms, "connecting failed before anything was sent; trying once more");
            } else {
                tracing::info!(gateway = %gateway.name, tool = %tool.name, after = %why, pause_ms, "sending the call again");
            }
            tokio::time::sleep(pause).await;
            retries.after.push(why);
        }
    }
}

impl UpstreamClient {
    /// One call of `tool` whose body is `streamed` (a fetched file sent on as it arrives). Sent
    /// once: the file cannot be read again, so the gateway does not retry it.
    #[allow(clippy::too_many_arguments)]
    pub async fn call_streamed(
        &self,
        gateway: &Served,
        tool: &Tool,
        plan: &CallPlan,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
        streamed: super::fetch::Streamed,
    ) -> (Result<UpstreamResponse, UpstreamError>, Retries) {
        let timeout = tool.timeout.unwrap_or(gateway.upstream.timeout);
        let headers = call_headers(tool, extra);
        let r = match self
            .send_with(
                gateway,
                plan,
                timeout,
                args,
                caller,
                &headers,
                Some(streamed),
            )
            .await
        {
            Err(UpstreamError::Timeout { host, .. }) => {
                Err(UpstreamError::Timeout { host, timeout })
            }
            other => other,
        };
        (r, Retries::default())
    }
}

/// The gateway's own headers of one call of `tool`: `extra`, and a fresh idempotency key when
/// the tool has one. One key per call, the same on every retry of it: that is what lets the API
/// tell a retry from a second call.
fn call_headers(
    tool: &Tool,
    extra: &[(http::HeaderName, http::HeaderValue)],
) -> Vec<(http::HeaderName, http::HeaderValue)> {
    let mut headers = extra.to_vec();
    if let Some(name) = &tool.idempotency_key {
        headers.push((name.clone(), idempotency_key()));
    }
    headers
}

/// Whether the outcome `r` of attempt `done + 1` is worth another attempt, and why and after
/// which pause; `None` when it stands.
fn again(
    r: &Result<UpstreamResponse, UpstreamError>,
    safe: bool,
    policy: &RetryPolicy,
    done: u32,
) -> Option<(After, Duration)> {
    let more = done + 1 < policy.attempts;
    let backoff = || backoff(policy, done, random_u64());
    match r {
        // Nothing was sent, whatever the method: once for any tool, as often as the policy
        // allows for a retry-safe one.
        Err(UpstreamError::Connect { .. }) if done == 0 || (safe && more) => {
            Some((After::Connect, backoff()))
        }
        // The request may have been received: only a retry-safe call is sent again. (A
        // timeout is not retried: the attempt had all the time that was left.)
        Err(UpstreamError::Other { .. }) if safe && more => Some((After::Reset, backoff())),
        Ok(resp) if safe && more && matches!(resp.status.as_u16(), 429 | 502..=504) => {
            let pause = match super::advice::retry_after(&resp.headers) {
                // The API said when; longer than the cap is the agent's decision, not ours.
                Some(d) if d > policy.max_retry_after => return None,
                Some(d) => d,
                None => backoff(),
            };
            Some((After::Status(resp.status.as_u16()), pause))
        }
        _ => None,
    }
}

/// The pause before retry `done + 1`: `base_delay` doubled per retry already sent, capped at
/// `max_delay`, then "equal jitter" (a random point in its upper half), so callers that failed
/// together do not come back together, and the pause never collapses to nothing.
fn backoff(policy: &RetryPolicy, done: u32, random: u64) -> Duration {
    let full = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(done.min(16)))
        .min(policy.max_delay);
    let half = full / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    let jitter = if nanos == 0 { 0 } else { random % (nanos + 1) };
    full - half + Duration::from_nanos(jitter)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom as _;
    let mut out = [0u8; N];
    // The system's random source; should it ever fail, the clock's nanoseconds keep keys
    // distinct per call (the jitter does not need more).
    if ring::rand::SystemRandom::new().fill(&mut out).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes();
        for (o, b) in out.iter_mut().zip(t.iter().cycle()) {
            *o = *b;
        }
    }
    out
}

fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}

/// A fresh idempotency key: a random (version 4) UUID, the form APIs that take keys expect.
pub(crate) fn idempotency_key() -> http::HeaderValue {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    // Hex digits and dashes only: always a valid header value.
    http::HeaderValue::from_str(&text).unwrap_or_else(|_| http::HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(5),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_within_its_upper_half() {
        let p = policy();
        assert_eq!(backoff(&p, 0, 0), Duration::from_millis(50));
        assert_eq!(
            backoff(&p, 0, u64::MAX),
            Duration::from_millis(50) + Duration::from_nanos(u64::MAX % 50_000_001)
        );
        assert_eq!(backoff(&p, 1, 0), Duration::from_millis(100));
        assert_eq!(
            backoff(&p, 2, 0),
            Duration::from_millis(150),
            "capped at max_delay"
        );
        assert_eq!(backoff(&p, 40, 0), Duration::from_millis(150));
        for r in [1, 7, 1 << 40, u64::MAX] {
            let d = backoff(&p, 1, r);
            assert!(
                d >= Duration::from_millis(100) && d <= Duration::from_millis(200),
                "{d:?}"
            );
        }
    }

    #[test]
    fn keys_are_version_4_uuids_and_differ() {
        let a = idempotency_key();
        let b = idempotency_key();
        assert_ne!(a, b);
        let a = a.to_str().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    fn answer(status: u16, retry_after: Option<&str>) -> Result<UpstreamResponse, UpstreamError> {
        let mut headers = http::HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(http::header::RETRY_AFTER, v.parse().unwrap());
        }
        Ok(UpstreamResponse {
            status: http::StatusCode::from_u16(status).unwrap(),
            content_type: None,
            body: bytes::Bytes::new(),
            truncated: false,
            headers,
        })
    }

    #[test]
    fn only_safe_calls_are_sent_again_after_the_request_may_have_arrived() {
        let p = policy();
        let reset = || {
            Err(UpstreamError::Other {
                host: "h".into(),
                reason: "closed".into(),
            })
        };
        let refused = || {
            Err(UpstreamError::Connect {
                host: "h".into(),
                reason: "refused".into(),
            })
        };
        let why = |r, safe, done| again(&r, safe, &p, done).map(|(w, _)| w);
        assert_eq!(why(reset(), true, 0), Some(After::Reset));
        assert_eq!(why(reset(), false, 0), None);
        assert_eq!(why(refused(), false, 0), Some(After::Connect));
        assert_eq!(why(refused(), false, 1), None, "once for an unsafe call");
        assert_eq!(why(refused(), true, 3), Some(After::Connect));
        assert_eq!(why(refused(), true, 4), None, "attempts: 5");
        for s in [429, 502, 503, 504] {
            assert_eq!(why(answer(s, None), true, 0), Some(After::Status(s)));
            assert_eq!(why(answer(s, None), false, 0), None);
        }
        assert_eq!(why(answer(500, None), true, 0), None);
        assert_eq!(
            again(&answer(429, Some("2")), true, &p, 0),
            Some((After::Status(429), Duration::from_secs(2)))
        );
        assert_eq!(
            again(&answer(503, Some("6")), true, &p, 0),
            None,
            "over the cap"
        );
    }
}
