//! Per-call telemetry: the counters and histograms behind `/metrics`, the one log line per
//! call, throttled upstream-failure warnings, and OpenTelemetry traces ([`trace`]).
//!
//! A small registry of atomics rather than a metrics crate: a call costs the gateway about
//! 40 µs of CPU and is benchmarked, and every series here is known in advance (tools come from
//! the manifest, never from a request: a call naming an unknown tool counts as `_unknown`), so
//! a recorded call is a few relaxed atomic adds and one read-locked map lookup.

mod client_gone;
mod expose;
mod histogram;
pub mod log_writer;
mod throttle;
pub mod trace;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use client_gone::ClientGone;
pub use expose::{Exposition, escape};
pub use histogram::{BOUNDS, Histogram};
pub use throttle::Throttle;

/// The tool label of calls naming a tool the gateway does not serve.
pub const UNKNOWN_TOOL: &str = "_unknown";

/// Which protocol era a call came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 … 2025-11-25 (initialize; stdio, sessions or stateless HTTP).
    Legacy,
    /// 2026-07-28 (stateless, `server/discover`).
    Stateless,
}

impl Era {
    const ALL: [Era; 2] = [Era::Legacy, Era::Stateless];

    /// The `era` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Legacy => "2025",
            Self::Stateless => "2026",
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A result without `isError`.
    Ok,
    /// A result with `isError` (bad arguments, upstream 4xx/5xx, timeout, a limit).
    ToolError,
    /// A JSON-RPC error (unknown tool, cancelled).
    ProtocolError,
    /// Refused for the caller's credentials or scopes.
    RefusedByAuth,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::ProtocolError,
        Outcome::RefusedByAuth,
    ];

    /// The `result` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool-error",
            Self::ProtocolError => "protocol-error",
            Self::RefusedByAuth => "refused-by-auth",
        }
    }
}

/// Why the HTTP layer refused a request before any tool ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRefusal {
    /// No bearer token.
    MissingToken,
    /// A token that did not verify (signature, expiry, audience, unknown key).
    InvalidToken,
    /// A token in the query string.
    TokenInQuery,
    /// A valid token without a called tool's scopes.
    InsufficientScope,
}

impl AuthRefusal {
    const ALL: [AuthRefusal; 4] = [
        AuthRefusal::MissingToken,
        AuthRefusal::InvalidToken,
        AuthRefusal::TokenInQuery,
        AuthRefusal::InsufficientScope,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::TokenInQuery => "token_in_query",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// The `limit` label values of `mcp_gateway_limited_total`, in [`crate::limit::Refusal::label`]
/// order.
const LIMITS: [&str; 4] = ["caller_rate", "tool_rate", "saturated", "circuit_open"];

/// The `class` label values of `mcp_gateway_upstream_responses_total`: HTTP status classes,
/// and `none` for no answer (refused connection, timeout, TLS).
const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];

/// One tool's series.
#[derive(Debug, Default)]
pub struct ToolMetrics {
    calls: [[AtomicU64; 4]; 2],
    duration: Histogram,
    upstream: Histogram,
    classes: [AtomicU64; 6],
    timeouts: AtomicU64,
    retries: AtomicU64,
    limited: [AtomicU64; 4],
}

impl ToolMetrics {
    /// Counts a finished call and its duration.
    pub fn call(&self, era: Era, outcome: Outcome, took: Duration) {
        let e = Era::ALL.iter().position(|&x| x == era).unwrap_or(0);
        let o = Outcome::ALL.iter().position(|&x| x == outcome).unwrap_or(0);
        self.calls[e][o].fetch_add(1, Ordering::Relaxed);
        self.duration.observe(took);
    }

    /// Counts a call that was refused before it ran (no duration: nothing ran).
    pub fn refused(&self, era: Era, outcome: Outcome) {
        let e = Era::ALL.iter().position(|&x| x == era).unwrap_or(0);
        let o = Outcome::ALL.iter().position(|&x| x == outcome).unwrap_or(0);
        self.calls[e][o].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one upstream request: its status (`None`: no answer), duration, whether it
    /// timed out, and how many retries it took.
    pub fn upstream(&self, status: Option<u16>, took: Duration, timed_out: bool, retries: u32) {
        let class = match status {
            Some(s @ 100..=599) => usize::from(s / 100 - 1),
            _ => CLASSES.len() - 1,
        };
        self.classes[class].fetch_add(1, Ordering::Relaxed);
        self.upstream.observe(took);
        if timed_out {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        if retries > 0 {
            self.retries
                .fetch_add(u64::from(retries), Ordering::Relaxed);
        }
    }

    /// Counts a call a limit refused (`limit` is a [`crate::limit::Refusal::label`]).
    pub fn limited(&self, limit: &str) {
        if let Some(i) = LIMITS.iter().position(|&l| l == limit) {
            self.limited[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Calls counted with `era` and `outcome` (for tests and `inspect`).
    pub fn calls(&self, era: Era, outcome: Outcome) -> u64 {
        let e = Era::ALL.iter().position(|&x| x == era).unwrap_or(0);
        let o = Outcome::ALL.iter().position(|&x| x == outcome).unwrap_or(0);
        self.calls[e][o].load(Ordering::Relaxed)
    }
}

/// One gateway's telemetry (every replica of the handler shares it through `Shared`).
#[derive(Debug)]
pub struct Telemetry {
    tools: RwLock<HashMap<String, Arc<ToolMetrics>>>,
    unknown: Arc<ToolMetrics>,
    in_flight: AtomicI64,
    auth: [AtomicU64; 4],
    /// Identical upstream-failure warnings, throttled.
    pub failures: Throttle,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            tools: RwLock::new(HashMap::new()),
            unknown: Arc::new(ToolMetrics::default()),
            in_flight: AtomicI64::new(0),
            auth: Default::default(),
            failures: Throttle::default(),
        }
    }
}

/// Counts a call as in flight until dropped (so a cancelled call is counted out too).
#[derive(Debug)]
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Telemetry {
    /// The series of the manifest tool `name` (the caller has looked the tool up: names that
    /// reach here come from the manifest).
    pub fn tool(&self, name: &str) -> Arc<ToolMetrics> {
        if let Some(m) = self.tools.read().ok().and_then(|t| t.get(name).cloned()) {
            return m;
        }
        match self.tools.write() {
            Ok(mut t) => t.entry(name.to_string()).or_default().clone(),
            Err(_) => self.unknown.clone(),
        }
    }

    /// The series of calls naming a tool the gateway does not serve.
    pub fn unknown_tool(&self) -> &ToolMetrics {
        &self.unknown
    }

    /// Marks a call in flight.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Counts a request the HTTP layer refused.
    pub fn auth_refused(&self, reason: AuthRefusal) {
        if let Some(i) = AuthRefusal::ALL.iter().position(|&r| r == reason) {
            self.auth[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Appends this gateway's call series to `out`: every tool in `served` (so a tool's series
    /// exist before its first call, as Prometheus' `rate()` wants), every tool called before.
    pub fn write<'a>(
        &self,
        gateway: &str,
        served: impl Iterator<Item = &'a str>,
        out: &mut Exposition,
    ) {
        for name in served {
            self.tool(name);
        }
        let g = escape(gateway);
        out.sample(
            "mcp_gateway_calls_in_flight",
            "gauge",
            "Tool calls being served now.",
            &format!("gateway=\"{g}\""),
            self.in_flight.load(Ordering::Relaxed),
        );
        for (i, reason) in AuthRefusal::ALL.iter().enumerate() {
            out.sample(
                "mcp_gateway_auth_refusals_total",
                "counter",
                "HTTP requests refused by inbound authorization, by reason.",
                &format!("gateway=\"{g}\",reason=\"{}\"", reason.label()),
                self.auth[i].load(Ordering::Relaxed),
            );
        }
        let tools = self.tools.read().map(|t| {
            let mut v: Vec<(String, Arc<ToolMetrics>)> =
                t.iter().map(|(k, m)| (k.clone(), m.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        });
        let tools = tools.unwrap_or_default();
        let all = tools
            .iter()
            .map(|(n, m)| (n.as_str(), m.as_ref()))
            .chain(std::iter::once((UNKNOWN_TOOL, self.unknown.as_ref())));
        for (name, m) in all {
            let labels = format!("gateway=\"{g}\",tool=\"{}\"", escape(name));
            for (e, era) in Era::ALL.iter().enumerate() {
                for (o, outcome) in Outcome::ALL.iter().enumerate() {
                    let n = m.calls[e][o].load(Ordering::Relaxed);
                    // Series that never happened are left out (an unknown-tool `ok` cannot).
                    if n == 0 && (name == UNKNOWN_TOOL || *outcome != Outcome::Ok) {
                        continue;
                    }
                    out.sample(
                        "mcp_gateway_calls_total",
                        "counter",
                        "Tool calls by tool, result (ok, tool-error, protocol-error, refused-by-auth) and protocol era (2025, 2026).",
                        &format!("{labels},result=\"{}\",era=\"{}\"", outcome.label(), era.label()),
                        n,
                    );
                }
            }
            if name == UNKNOWN_TOOL {
                continue;
            }
            m.duration.write(
                "mcp_gateway_call_duration_seconds",
                &labels,
                out.family(
                    "mcp_gateway_call_duration_seconds",
                    "histogram",
                    "Time from a tool call's start to its result, limits and upstream included.",
                ),
            );
            m.upstream.write(
                "mcp_gateway_upstream_duration_seconds",
                &labels,
                out.family(
                    "mcp_gateway_upstream_duration_seconds",
                    "histogram",
                    "Time of a tool's upstream request until its body is read (retries included).",
                ),
            );
            for (i, class) in CLASSES.iter().enumerate() {
                out.sample(
                    "mcp_gateway_upstream_responses_total",
                    "counter",
                    "Upstream answers by status class; `none` is no answer (refused, timeout, TLS).",
                    &format!("{labels},class=\"{class}\""),
                    m.classes[i].load(Ordering::Relaxed),
                );
            }
            out.sample(
                "mcp_gateway_upstream_timeouts_total",
                "counter",
                "Upstream requests that got no answer within the timeout.",
                &labels,
                m.timeouts.load(Ordering::Relaxed),
            );
            out.sample(
                "mcp_gateway_upstream_retries_total",
                "counter",
                "Upstream requests the gateway sent again by itself after a failed attempt (retry:).",
                &labels,
                m.retries.load(Ordering::Relaxed),
            );
            for (i, limit) in LIMITS.iter().enumerate() {
                out.sample(
                    "mcp_gateway_limited_total",
                    "counter",
                    "Calls answered with an error by a limit instead of being sent upstream.",
                    &format!("{labels},limit=\"{limit}\""),
                    m.limited[i].load(Ordering::Relaxed),
                );
            }
        }
    }
}
