//! `upstream.max_concurrent`, `upstream.queue_timeout`, `upstream.circuit_breaker`,
//! `limits.per_caller` and `tools[].rate_limit` → [`Limits`].

use std::collections::HashMap;
use std::time::Duration;

use super::parse_duration;
use crate::diag::Diagnostic;
use crate::gateway::{Breaker, DEFAULT_MAX_CONCURRENT, DEFAULT_QUEUE_TIMEOUT, Limits, RateLimit};
use crate::manifest::{LoadedManifest, RateLimitConfig};

/// The gateway's limits; `tools` maps each compiled tool's name to its index in `tools:`.
pub(super) fn compile(
    loaded: &LoadedManifest,
    tools: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) -> Limits {
    let m = &loaded.manifest;
    let u = &m.upstream;
    let mut duration =
        |text: Option<&str>, default: Duration, ptr: &str| match text.map(parse_duration) {
            None => default,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                diags.push(loaded.diag_at(Diagnostic::error("invalid-duration", e), ptr));
                default
            }
        };
    let queue_timeout = duration(
        u.queue_timeout.as_deref(),
        DEFAULT_QUEUE_TIMEOUT,
        "/upstream/queue_timeout",
    );
    let breaker = match &u.circuit_breaker {
        Some(c) if c.enabled == Some(false) => None,
        None => Some(Breaker::default()),
        Some(c) => {
            let d = Breaker::default();
            Some(Breaker {
                consecutive_failures: c.consecutive_failures.unwrap_or(d.consecutive_failures),
                failure_rate: c.failure_rate.map(|p| f64::from(p.clamp(1, 100)) / 100.0),
                min_calls: c.min_calls.unwrap_or(d.min_calls).max(1),
                window: duration(
                    c.window.as_deref(),
                    d.window,
                    "/upstream/circuit_breaker/window",
                ),
                open_for: duration(
                    c.open_for.as_deref(),
                    d.open_for,
                    "/upstream/circuit_breaker/open_for",
                ),
                half_open_probes: c.half_open_probes.unwrap_or(d.half_open_probes).max(1),
            })
        }
    };
    let per_caller = m
        .limits
        .per_caller
        .as_ref()
        .and_then(|r| rate_limit(loaded, r, "/limits/per_caller", diags));
    let mut per_tool = HashMap::new();
    for (name, &i) in tools {
        if let Some(r) = m.tools.get(i).and_then(|t| t.rate_limit.as_ref())
            && let Some(limit) = rate_limit(loaded, r, &format!("/tools/{i}/rate_limit"), diags)
        {
            per_tool.insert(name.clone(), limit);
        }
    }
    Limits {
        max_concurrent: u
            .max_concurrent
            .map_or(DEFAULT_MAX_CONCURRENT, |n| n.max(1) as usize),
        queue_timeout,
        breaker,
        per_caller,
        per_tool,
    }
}

fn rate_limit(
    loaded: &LoadedManifest,
    r: &RateLimitConfig,
    ptr: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<RateLimit> {
    let per = match parse_duration(&r.per) {
        Ok(d) => d,
        Err(e) => {
            let e = e.replace("a timeout of zero", "a period of zero");
            diags.push(loaded.diag_at(
                Diagnostic::error("invalid-duration", e),
                &format!("{ptr}/per"),
            ));
            return None;
        }
    };
    if r.requests == 0 {
        diags.push(
            loaded.diag_at(
                Diagnostic::error(
                    "invalid-rate-limit",
                    "`requests: 0` would refuse every call",
                )
                .with_hint("allow at least 1 request per period, or remove the limit"),
                &format!("{ptr}/requests"),
            ),
        );
        return None;
    }
    Some(RateLimit {
        requests: r.requests,
        per,
        burst: r.burst.unwrap_or(r.requests).max(1),
    })
}
