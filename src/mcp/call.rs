//! One tool call, end to end: authorization, rate limits, argument validation, the circuit
//! breaker and concurrency cap, the upstream request, the result; with its metrics, its log
//! line and its throttled failure warning. The one implementation of tool semantics, used by
//! the rmcp handler and by the HTTP fast path.

// Progress log notifications use MCP logging, deprecated by 2026-07-28 but still served (see
// the handler).
#![allow(deprecated)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, ContentBlock, LoggingLevel};
use serde_json::Value;

use super::client_span::{ClientSpan, template};
use super::handler::{Reporter, Shared};
use crate::auth::http::{Caller, refusal};
use crate::gateway::{Gateway, Tool};
use crate::limit::CallerKey;
use crate::runtime::Served;
use crate::telemetry::trace::{Attr, Span, TraceParent};
use crate::telemetry::{Era, Outcome, ToolMetrics};
use crate::upstream::{Answered, Retries, UpstreamError};

/// Who a call comes from and how: for authorization, limits, metrics and the log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallContext<'a> {
    /// What the auth middleware established (`None` on stdio).
    pub(crate) caller: Option<&'a Caller>,
    /// The client's address (HTTP).
    pub(crate) client: Option<IpAddr>,
    /// The protocol era of the request.
    pub(crate) era: Era,
    /// The caller's trace context (`traceparent` header, or `_meta.traceparent`).
    pub(crate) parent: Option<TraceParent>,
    /// Where a slow operation's task goes, when the client negotiated tasks (`async:`).
    pub(crate) tasks: Option<&'a super::tasks::Slot>,
}

impl<'a> CallContext<'a> {
    /// The context of an HTTP request (`None`: stdio).
    pub(crate) fn of(parts: Option<&'a http::request::Parts>, era: Era) -> Self {
        Self {
            caller: parts.and_then(|p| p.extensions.get::<Caller>()),
            client: parts
                .and_then(|p| p.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>())
                .map(|c| c.0.ip()),
            era,
            parent: parts
                .and_then(|p| p.headers.get("traceparent"))
                .and_then(|v| v.to_str().ok())
                .and_then(TraceParent::parse),
            tasks: None,
        }
    }

    fn subject(&self) -> Option<&'a str> {
        match self.caller {
            Some(Caller::Verified(p)) => p.subject.as_deref(),
            _ => None,
        }
    }

    fn key(&self) -> CallerKey {
        match (self.subject(), self.client) {
            (Some(s), _) => CallerKey::Subject(s.to_string()),
            (None, Some(ip)) => CallerKey::Address(ip),
            (None, None) => CallerKey::Local,
        }
    }
}

/// What one call did, for its metrics and log line.
struct Ran {
    result: Answered,
    outcome: Outcome,
    /// The upstream's status, when it answered.
    status: Option<u16>,
    /// Time spent on the upstream request, when one was sent.
    upstream: Option<Duration>,
    /// What the gateway sent again by itself.
    retries: Retries,
    /// The limit that refused the call, if one did.
    limited: Option<&'static str>,
}

impl Ran {
    /// A call a limit refused, with the limit's message.
    fn limited(message: String, limit: &'static str) -> Self {
        let mut ran = Self::early(error(message), Outcome::ToolError);
        ran.limited = Some(limit);
        ran
    }

    fn early(result: CallToolResult, outcome: Outcome) -> Self {
        Self {
            result: result.into(),
            outcome,
            status: None,
            upstream: None,
            retries: Retries::default(),
            limited: None,
        }
    }
}

fn error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// Milliseconds to a tenth, for the log line.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Runs one call of `tool` and records it (metrics, one log line at `info`).
pub(crate) async fn run_tool(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    args: serde_json::Map<String, Value>,
    supplied: serde_json::Map<String, Value>,
    reporter: Option<&Reporter<'_>>,
    cx: CallContext<'_>,
) -> Answered {
    let started = Instant::now();
    let _in_flight = shared.telemetry.enter();
    let mut span = Span::server(|| format!("tools/call {}", tool.name), cx.parent);
    let metrics = shared.telemetry.tool(&tool.name);
    let ran = execute(
        shared,
        g,
        tool,
        args,
        supplied,
        reporter,
        &cx,
        span.as_ref(),
        &metrics,
    )
    .await;
    let took = started.elapsed();
    if let Some(mut s) = span.take() {
        s.set("mcp.method.name", Attr::Str("tools/call".into()));
        s.set("gen_ai.operation.name", Attr::Str("execute_tool".into()));
        s.set("gen_ai.tool.name", Attr::Str(tool.name.clone()));
        s.set("mcp_gateway.gateway", Attr::Str(g.name.clone()));
        s.set("mcp_gateway.result", Attr::Str(ran.outcome.label().into()));
        if let Some(ip) = cx.client {
            s.set("client.address", Attr::Str(ip.to_string()));
        }
        if let Some(limit) = ran.limited {
            s.set("mcp_gateway.limited", Attr::Str(limit.into()));
        }
        if ran.outcome != Outcome::Ok {
            s.fail(ran.outcome.label());
        }
        s.end();
    }
    metrics.call(cx.era, ran.outcome, took);
    if let Some(limit) = ran.limited {
        metrics.limited(limit);
    }
    tracing::info!(
        target: "mcp_gateway::call",
        gateway = %g.name,
        tool = %tool.name,
        method = %tool.plan.method,
        path = %template(&tool.plan),
        status = ran.status,
        result = ran.outcome.label(),
        duration_ms = ms(took),
        upstream_ms = ran.upstream.map(ms),
        retries = ran.retries.count(),
        retried_after = (!ran.retries.after.is_empty()).then(|| ran.retries.reasons(",")),
        limited = ran.limited,
        caller = cx.subject(),
        client = cx.client.map(tracing::field::display),
        era = cx.era.label(),
        "tool call"
    );
    ran.result
}

// The call's parts are passed as they are rather than bundled for this one private callee.
#[allow(clippy::too_many_arguments)]
async fn execute(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    args: serde_json::Map<String, Value>,
    supplied: serde_json::Map<String, Value>,
    reporter: Option<&Reporter<'_>>,
    cx: &CallContext<'_>,
    span: Option<&Span>,
    metrics: &ToolMetrics,
) -> Ran {
    if let Some(message) = refusal(g, tool, cx.caller) {
        return Ran::early(error(message), Outcome::RefusedByAuth);
    }
    let host = || {
        let base = &g.upstream.base_url;
        base[url::Position::BeforeHost..url::Position::AfterPort].to_string()
    };
    if let Err(r) = shared.limiter.rate(&g.limits, &cx.key(), &tool.name) {
        return Ran::limited(r.message(&tool.name, &host()), r.label());
    }
    let principal = match cx.caller {
        Some(Caller::Verified(p)) => Some(&**p),
        _ => None,
    };
    let (args, paged, streamed) =
        match arguments(shared, g, tool, args, supplied, principal, cx.parent).await {
            Ok(ready) => ready,
            Err(message) => return Ran::early(error(message), Outcome::ToolError),
        };
    let admitted = match shared.limiter.admit(&g.limits).await {
        Ok(a) => a,
        Err(r) => return Ran::limited(r.message(&tool.name, &host()), r.label()),
    };
    if let Some(r) = reporter {
        r.stage(
            0.0,
            LoggingLevel::Info,
            format!("calling {} {}", tool.plan.method, template(&tool.plan)),
        )
        .await;
    }
    let client = ClientSpan::start(span.map(Span::context), g, &tool.plan);
    let extra = client.headers();
    let sent = Instant::now();
    let next_plan = paged
        .as_ref()
        .and_then(|p| crate::upstream::page::plan_for(tool, p));
    let plan = next_plan.as_ref().unwrap_or(&tool.plan);
    let up = &shared.upstream;
    let (answer, retries) = match streamed {
        Some(body) => (up.call_streamed(g, tool, plan, &args, principal, &extra, body)).await,
        None => up.call_plan(g, tool, plan, &args, principal, &extra).await,
    };
    let upstream = sent.elapsed();
    client.finish(&answer, retries.count());
    let (result, status) = match answer {
        Ok(resp) => {
            let status = resp.status;
            admitted.record(matches!(status.as_u16(), 500 | 502 | 503 | 504));
            metrics.upstream(Some(status.as_u16()), upstream, false, retries.count());
            if let Some(r) = reporter {
                r.stage(
                    50.0,
                    LoggingLevel::Info,
                    format!("upstream answered {status}"),
                )
                .await;
            }
            let result = match (&paged, tool.async_op.as_deref()) {
                // A job the API accepted: a task, or its result once waited for.
                (_, Some(op)) if status == http::StatusCode::ACCEPTED => super::tasks::accepted(
                    shared, g, tool, op, &resp, cx.tasks, reporter, principal, sent,
                )
                .await
                .into(),
                (Some(p), _) => crate::upstream::page::to_result(g, tool, resp, p).into(),
                (None, _) => super::files::answer(g, tool, &args, resp, principal),
            };
            (result, Some(status.as_u16()))
        }
        Err(e) => {
            // A request the arguments could not form never reached the upstream.
            if matches!(e, UpstreamError::Build(_)) {
                admitted.release();
            } else {
                admitted.record(true);
                let timed_out = matches!(e, UpstreamError::Timeout { .. });
                metrics.upstream(None, upstream, timed_out, retries.count());
            }
            (failed(shared, g, tool, &e, reporter).await.into(), None)
        }
    };
    if let Some(r) = reporter {
        r.stage(100.0, LoggingLevel::Info, "done".to_string()).await;
    }
    let result = with_retries(result, &retries);
    let outcome = if result.result.is_error == Some(true) {
        Outcome::ToolError
    } else {
        Outcome::Ok
    };
    Ran {
        result,
        outcome,
        status,
        upstream: Some(upstream),
        retries,
        limited: None,
    }
}

/// The result of a call that got no answer, after telling a listening client and the log.
async fn failed(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    e: &UpstreamError,
    reporter: Option<&Reporter<'_>>,
) -> CallToolResult {
    if let Some(r) = reporter {
        r.stage(50.0, LoggingLevel::Warning, format!("upstream failed: {e}"))
            .await;
    }
    warn_throttled(shared, g, tool, e);
    crate::upstream::error_result(g, tool, e)
}

/// The arguments as the upstream request is built from them: checked against the tool's
/// schema, a paged tool's cursor opened, the user's answers added, and a file argument given as
/// a resource URI or a URL turned into the file's bytes (or a stream of them, for a whole
/// binary body).
async fn arguments(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    args: serde_json::Map<String, Value>,
    supplied: serde_json::Map<String, Value>,
    principal: Option<&crate::auth::Principal>,
    parent: Option<TraceParent>,
) -> Result<
    (
        serde_json::Map<String, Value>,
        Option<crate::upstream::page::Paged<'static>>,
        Option<crate::upstream::fetch::Streamed>,
    ),
    String,
> {
    let (mut args, paged) = checked_arguments(g, tool, args, supplied)?;
    let streamed =
        super::files::resolve_inputs(shared, g, tool, &mut args, principal, parent).await?;
    Ok((args, paged, streamed))
}

/// The arguments as the call sends them: checked against the tool's schema, a paged tool's
/// `cursor` turned into the API's own position, and what the user supplied (`ask:`) added; or
/// what the agent is told instead.
fn checked_arguments(
    g: &Served,
    tool: &Tool,
    args: serde_json::Map<String, Value>,
    supplied: serde_json::Map<String, Value>,
) -> Result<
    (
        serde_json::Map<String, Value>,
        Option<crate::upstream::page::Paged<'static>>,
    ),
    String,
> {
    let args = Value::Object(args);
    if let Some(message) = argument_errors(tool, &args) {
        return Err(message);
    }
    let Value::Object(mut args) = args else {
        return Err("arguments must be an object".into());
    };
    // A paged tool's `cursor` becomes the API's own position (bound to the other arguments).
    let paged = match crate::upstream::page::of(tool) {
        Some((_, paging)) => match crate::upstream::page::resume(
            g,
            tool,
            paging,
            &mut args,
            super::confirm::codec(),
            |a| super::confirm::binding(g, tool, a),
        ) {
            Ok(p) => Some(p),
            Err(message) => return Err(message),
        },
        None => None,
    };
    // What the user supplied (`ask:`) was checked against its own schema when given, and
    // is not part of the schema the model's arguments are held to.
    args.extend(supplied.into_iter().filter(|(_, v)| !v.is_null()));
    Ok((args, paged))
}

/// The `_meta` key of a result that says how many times the gateway sent the call again.
pub(crate) const RETRIES_META_KEY: &str = "io.mcp-gateway/retries";

/// `result` telling what the gateway retried: the count in `_meta` (for clients and tests to
/// read; `structuredContent` and its schema are left alone), and on an error a sentence, so the
/// agent weighs the failure knowing the gateway already tried again.
fn with_retries(mut answered: Answered, retries: &Retries) -> Answered {
    let n = retries.count();
    if n == 0 {
        return answered;
    }
    let result = &mut answered.result;
    result
        .meta
        .get_or_insert_with(Default::default)
        .insert(RETRIES_META_KEY.to_string(), Value::from(n));
    if result.is_error == Some(true) {
        result.content.push(ContentBlock::text(format!(
            "The gateway made {} attempts (after {}) before this answer.",
            n + 1,
            retries.reasons(", ")
        )));
    }
    answered
}

/// Logs an upstream failure, unless an identical one was logged moments ago (then it is
/// counted, and the next one logged says how many were held back).
fn warn_throttled(shared: &Shared, g: &Gateway, tool: &Tool, e: &UpstreamError) {
    let message = e.to_string();
    let key = format!("{}\u{0}{message}", tool.name);
    if let Some(held_back) = shared.telemetry.failures.admit(&key, Instant::now()) {
        if held_back == 0 {
            tracing::warn!(gateway = %g.name, tool = %tool.name, error = %message, "upstream call failed");
        } else {
            tracing::warn!(gateway = %g.name, tool = %tool.name, error = %message, held_back, "upstream call failed (and {held_back} more like it since the last warning)");
        }
    }
}

/// Turns validation errors into one message an agent can act on.
pub(crate) fn argument_errors(tool: &Tool, args: &Value) -> Option<String> {
    use crate::gateway::invalid::{ArgumentErrors, NOTHING_SENT, problems};
    // Valid arguments, the common case, take the short-circuiting check: collecting errors
    // builds error state even when there is nothing to report.
    if tool.input_validator.is_valid(args) {
        return None;
    }
    // One more than is shown, to know whether some were left out.
    let found = problems(&tool.input_validator, args, 11);
    let known: Vec<&str> = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    ArgumentErrors::of_schema("tool", tool.name.clone(), &found, &known, NOTHING_SENT)
        .map(|e| e.to_string())
}
