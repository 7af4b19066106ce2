//! Slow operations (`async:`) served to MCP clients: as tasks of the 2026-07-28 extension
//! `io.modelcontextprotocol/tasks` to a client that negotiated it, and by waiting for the job
//! (polling, with progress notifications when asked) to every other client.
//!
//! A task lives in its id, not in the process: the id is the tool's name, the job's status URL
//! and its creation time, sealed with HMAC-SHA256 under the key of `requestState` and paging
//! tokens ([`super::confirm::codec`], `MCP_GATEWAY_STATE_KEY`), bound to the gateway and the
//! caller, and expiring after the tool's `async.ttl` (`ttlMs`). So any replica sharing the key
//! answers `tasks/get` and `tasks/cancel` for it, an altered or expired id is refused (-32602),
//! and an id can only ever lead the gateway to a URL it checked when the job was accepted, on
//! the upstream's origin and base path (checked again when opened: a reload may have moved
//! the upstream). Each `tasks/get` looks at the status URL once; within the tool's poll
//! interval a replica answers again from what it saw last (`pollIntervalMs`).

#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rmcp::model::{
    CallToolResult, ContentBlock, CreateTaskResult, DetailedTask, ErrorData, GetTaskResult,
    JsonObject, LoggingLevel, SealOptions, Task, TaskPayload, TaskStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::handler::{Reporter, Shared};
use crate::auth::Principal;
use crate::gateway::async_op::AsyncOp;
use crate::gateway::{Gateway, Tool};
use crate::runtime::Served;
use crate::upstream::UpstreamResponse;
use crate::upstream::poll::{Polled, Poller, status_url};

/// Where a call that became a task leaves it, for the handler to answer with.
pub(crate) type Slot = OnceLock<CreateTaskResult>;

/// What a task id carries.
#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    /// The tool.
    #[serde(rename = "t")]
    tool: String,
    /// The job's status URL, checked to be on the upstream.
    #[serde(rename = "u")]
    url: String,
    /// Creation, in milliseconds since the epoch.
    #[serde(rename = "c")]
    created: u64,
}

/// The bytes a task id is bound to: what it is, the gateway, and the caller (a task of one
/// verified subject is no one else's).
fn binding(g: &Gateway, caller: Option<&Principal>) -> Vec<u8> {
    let subject = caller.and_then(|p| p.subject.as_deref()).unwrap_or("");
    format!("task\u{0}{}\u{0}{subject}", g.name).into_bytes()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn task(ticket: &Ticket, id: &str, op: &AsyncOp, status: TaskStatus) -> Task {
    Task::new(id, status, rfc3339(ticket.created), rfc3339(now_ms()))
        .with_ttl_ms(op.ttl.as_millis() as u64)
        .with_poll_interval_ms(op.poll_interval.as_millis().max(1) as u64)
}

/// What a `202 Accepted` of an async tool becomes: a task (`slot`, when the client negotiated
/// tasks), or the job's result once the gateway has waited for it.
// The call's parts are passed as they are, like `call::execute`'s.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accepted(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    op: &AsyncOp,
    resp: &UpstreamResponse,
    slot: Option<&Slot>,
    reporter: Option<&Reporter<'_>>,
    caller: Option<&Principal>,
    sent: Instant,
) -> CallToolResult {
    let url = match status_url(g, tool, op, resp) {
        Ok(u) => u,
        Err(why) => {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "`{}` started a job but the gateway cannot follow it: {why}. The job may be running; check the API before calling again.",
                tool.name
            ))]);
        }
    };
    let poller = Poller {
        client: &shared.upstream,
        gateway: g,
        tool,
        caller,
    };
    if let Some(slot) = slot {
        let ticket = Ticket {
            tool: tool.name.clone(),
            url: url.to_string(),
            created: now_ms(),
        };
        let sealed = super::confirm::codec().seal_json_with(
            &ticket,
            &SealOptions::new()
                .associated_data(&binding(g, caller))
                .ttl(op.ttl),
        );
        match sealed {
            Ok(id) => {
                let _ = slot.set(CreateTaskResult::new(task(
                    &ticket,
                    &id,
                    op,
                    TaskStatus::Working,
                )));
                return CallToolResult::success(Vec::new());
            }
            // Not expected (the ticket is plain data); the client then waits like any other.
            Err(e) => {
                tracing::warn!(tool = %tool.name, error = %e, "cannot seal a task id; waiting for the job instead")
            }
        }
    }
    wait(&poller, op, &url, reporter, sent).await
}

/// Polls the job at `url` until it is over or the tool's timeout (from `sent`) has passed,
/// reporting each look as progress between 50 and 99.
async fn wait(
    poller: &Poller<'_>,
    op: &AsyncOp,
    url: &url::Url,
    reporter: Option<&Reporter<'_>>,
    sent: Instant,
) -> CallToolResult {
    let (g, tool) = (poller.gateway, poller.tool);
    let timeout = tool.timeout.unwrap_or(g.upstream.timeout);
    let deadline = sent + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "`{}` started a job that is still running after the tool's timeout of {}; the gateway stopped waiting. The job was not cancelled: its status is at {url}. Call with a client that supports tasks, or raise the tool's `timeout`.",
                tool.name,
                humantime::format_duration(timeout)
            ))]);
        }
        tokio::time::sleep(op.poll_interval.min(left)).await;
        match poller.poll(op, url).await {
            Polled::Done(result) => return result,
            Polled::Cancelled => {
                return CallToolResult::error(vec![ContentBlock::text(format!(
                    "The job `{}` started was cancelled before it finished.",
                    tool.name
                ))]);
            }
            Polled::Lost(why) => {
                return CallToolResult::error(vec![ContentBlock::text(format!(
                    "`{}` started a job whose outcome cannot be known: {why}",
                    tool.name
                ))]);
            }
            Polled::Working(message) => {
                if let Some(r) = reporter {
                    let spent = sent.elapsed().as_secs_f64() / timeout.as_secs_f64().max(1e-3);
                    let progress = (50.0 + 49.0 * spent.min(1.0)).floor();
                    r.stage(
                        progress,
                        LoggingLevel::Info,
                        message.unwrap_or_else(|| "the job is still running".to_string()),
                    )
                    .await;
                }
            }
        }
    }
}

/// A task id opened: the tool, its async settings and the status URL.
struct Opened<'a> {
    ticket: Ticket,
    tool: &'a Tool,
    op: &'a AsyncOp,
    url: url::Url,
}

fn open<'a>(g: &'a Gateway, id: &str, caller: Option<&Principal>) -> Result<Opened<'a>, ErrorData> {
    let ticket: Ticket = super::confirm::codec()
        .open_json_with(id, &binding(g, caller))
        .map_err(|_| {
            ErrorData::invalid_params(
                "unknown task: the id is not one this gateway issued to this caller, was altered, or has expired (its ttlMs passed)",
                None,
            )
        })?;
    let gone = |why: String| ErrorData::invalid_params(why, None);
    let tool = g.tool(&ticket.tool).ok_or_else(|| {
        gone(format!(
            "unknown task: its tool `{}` is no longer served",
            ticket.tool
        ))
    })?;
    let op = tool.async_op.as_deref().ok_or_else(|| {
        gone(format!(
            "unknown task: `{}` no longer runs as a job",
            ticket.tool
        ))
    })?;
    let parsed = url::Url::parse(&ticket.url).map_err(|e| gone(format!("unknown task: {e}")))?;
    // Checked when sealed; again, as a reload may have moved the upstream since.
    let url = crate::upstream::poll::on_upstream(g, tool, &parsed, ticket.url.as_str())
        .map_err(|why| gone(format!("unknown task: {why}")))?;
    Ok(Opened {
        ticket,
        tool,
        op,
        url,
    })
}

/// What `tasks/get` last answered for each task on this replica, and when.
fn recent() -> &'static Mutex<HashMap<String, (Instant, GetTaskResult)>> {
    static RECENT: OnceLock<Mutex<HashMap<String, (Instant, GetTaskResult)>>> = OnceLock::new();
    RECENT.get_or_init(Default::default)
}

/// Most answers kept for `pollIntervalMs`: beyond it, the oldest are dropped (a client that
/// polls too fast is then served by the upstream, not refused).
const RECENT_CAP: usize = 4096;

/// `tasks/get`: one look at the job's status.
pub(crate) async fn get(
    shared: &Shared,
    id: &str,
    caller: Option<&Principal>,
) -> Result<GetTaskResult, ErrorData> {
    let g = shared.gateway.load_full();
    let o = open(&g, id, caller)?;
    if let Ok(seen) = recent().lock()
        && let Some((at, r)) = seen.get(id)
        && at.elapsed() < o.op.poll_interval
    {
        return Ok(r.clone());
    }
    let poller = Poller {
        client: &shared.upstream,
        gateway: &g,
        tool: o.tool,
        caller,
    };
    let polled = poller.poll(o.op, &o.url).await;
    let base = |s| task(&o.ticket, id, o.op, s);
    let detailed = match polled {
        Polled::Working(message) => {
            let mut t = base(TaskStatus::Working);
            t.status_message = message;
            DetailedTask::new(t, TaskPayload::Working)
        }
        Polled::Done(result) => {
            let result: JsonObject = match serde_json::to_value(&result) {
                Ok(serde_json::Value::Object(o)) => o,
                _ => JsonObject::new(),
            };
            DetailedTask::new(
                base(TaskStatus::Completed),
                TaskPayload::Completed { result },
            )
        }
        Polled::Cancelled => DetailedTask::new(base(TaskStatus::Cancelled), TaskPayload::Cancelled),
        Polled::Lost(why) => {
            let message = format!(
                "`{}` started a job whose outcome cannot be known: {why}",
                o.tool.name
            );
            let mut t = base(TaskStatus::Failed);
            t.status_message = Some(message.clone());
            let error =
                json!({"code": ErrorData::internal_error("", None).code.0, "message": message});
            DetailedTask::new(
                t,
                TaskPayload::Failed {
                    error: error.as_object().cloned().unwrap_or_default(),
                },
            )
        }
    };
    tracing::info!(
        target: "mcp_gateway::task",
        gateway = %g.name,
        tool = %o.tool.name,
        status = ?detailed.status(),
        "task status read"
    );
    let answer = GetTaskResult::new(detailed);
    if let Ok(mut seen) = recent().lock() {
        if seen.len() >= RECENT_CAP {
            let horizon = Duration::from_secs(60);
            seen.retain(|_, (at, _)| at.elapsed() < horizon);
            if seen.len() >= RECENT_CAP {
                seen.clear();
            }
        }
        seen.insert(id.to_string(), (Instant::now(), answer.clone()));
    }
    Ok(answer)
}

/// `tasks/cancel`: the API's cancel operation, when the job is still running.
pub(crate) async fn cancel(
    shared: &Shared,
    id: &str,
    caller: Option<&Principal>,
) -> Result<(), ErrorData> {
    let g = shared.gateway.load_full();
    let o = open(&g, id, caller)?;
    let poller = Poller {
        client: &shared.upstream,
        gateway: &g,
        tool: o.tool,
        caller,
    };
    if let Ok(mut seen) = recent().lock() {
        seen.remove(id);
    }
    let why = match poller.cancel(o.op, &o.url).await {
        Ok(()) => {
            tracing::info!(target: "mcp_gateway::task", gateway = %g.name, tool = %o.tool.name, "task cancelled");
            return Ok(());
        }
        Err(why) => why,
    };
    // Cancelling a job that is already over asks nothing of the API: the same empty answer.
    match poller.poll(o.op, &o.url).await {
        Polled::Working(_) => Err(if o.op.cancel.is_none() {
            ErrorData::invalid_params(format!("this task cannot be cancelled: {why}"), None)
        } else {
            ErrorData::internal_error(format!("the task was not cancelled: {why}"), None)
        }),
        _ => Ok(()),
    }
}
