//! The rmcp `ServerHandler` of a gateway: `tools/list` and `tools/call` served from one
//! snapshot of the compiled gateway per request.
//!
//! The handler holds the gateway in an `ArcSwap`, so a reload swaps what every later request
//! sees while requests in flight finish on the snapshot they started with.

// MCP logging is deprecated by the 2026-07-28 revision (SEP-2577) but still part of every
// 2025-era client and of the conformance suite, so the gateway keeps serving it.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rmcp::model::SubscriptionFilter;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    Implementation, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, Tool as McpTool,
};
use rmcp::service::{
    NotificationContext, Peer, RequestContext, SubscriptionContext, SubscriptionSink,
};
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;

use super::definition;
use crate::auth::http::{Caller, caller_of, may_list, refusal};
use crate::gateway::{Gateway, Tool};
use crate::upstream::UpstreamClient;

/// How many tools one `tools/list` page holds. Curated gateways have 5–15, so this only
/// matters for `inspect --spec`-sized gateways; it keeps one response bounded.
const PAGE_SIZE: usize = 100;

/// How long clients may cache list results (2026-07-28 `ttlMs`). Short, because a reload can
/// change the list at any time.
const LIST_TTL_MS: u64 = 10_000;

/// The shared, swappable state every handler instance reads.
#[derive(Debug)]
pub struct Shared {
    /// The gateway being served.
    pub gateway: ArcSwap<Gateway>,
    /// The upstream connection pool.
    pub upstream: UpstreamClient,
    /// Clients to tell when a reload changes what is listed.
    pub listeners: Listeners,
}

impl Shared {
    /// State serving `gateway` through `upstream`, with nobody listening yet.
    pub fn new(gateway: Gateway, upstream: UpstreamClient) -> Self {
        Self {
            gateway: ArcSwap::from_pointee(gateway),
            upstream,
            listeners: Listeners::default(),
        }
    }
}

/// The clients that can be pushed a `list_changed`: 2025-era peers with a stream of their own
/// (sessions over HTTP, stdio) and 2026-07-28 `subscriptions/listen` streams. Stateless
/// 2025-era HTTP clients have no stream to push on; they see changes when they list again
/// (2026 list results also carry a short `ttlMs`).
#[derive(Debug, Default)]
pub struct Listeners {
    peers: Mutex<Vec<Peer<RoleServer>>>,
    sinks: Mutex<Vec<SubscriptionSink>>,
}

impl Listeners {
    fn add_peer(&self, peer: Peer<RoleServer>) {
        if let Ok(mut peers) = self.peers.lock() {
            peers.retain(|p| !p.is_transport_closed());
            peers.push(peer);
        }
    }

    fn add_sink(&self, sink: SubscriptionSink) {
        if let Ok(mut sinks) = self.sinks.lock() {
            sinks.push(sink);
        }
    }

    fn remove_sink(&self, sink: &SubscriptionSink) {
        if let Ok(mut sinks) = self.sinks.lock() {
            sinks.retain(|s| s.id() != sink.id());
        }
    }

    /// How many clients would be told of a change now.
    pub fn len(&self) -> usize {
        self.peers.lock().map(|p| p.len()).unwrap_or(0)
            + self.sinks.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether nobody is listening.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends `notifications/tools/list_changed` to every listener; forgets closed ones.
    pub async fn tools_changed(&self) {
        let peers: Vec<Peer<RoleServer>> = self
            .peers
            .lock()
            .map(|mut p| {
                p.retain(|p| !p.is_transport_closed());
                p.clone()
            })
            .unwrap_or_default();
        let sinks: Vec<SubscriptionSink> = self.sinks.lock().map(|s| s.clone()).unwrap_or_default();
        // A slow or gone client must not hold up the others (or the reload): each send is
        // bounded, and a failure only means that client re-lists on its own.
        let bound = std::time::Duration::from_secs(2);
        for p in peers {
            let _ = tokio::time::timeout(bound, p.notify_tool_list_changed()).await;
        }
        for s in sinks {
            if let Ok(Err(rmcp::service::SubscriptionSendError::SubscriptionClosed)) =
                tokio::time::timeout(bound, s.notify_tool_list_changed()).await
            {
                self.remove_sink(&s);
            }
        }
    }
}

/// One handler instance: rmcp creates one per session (session mode) or per request
/// (stateless mode); all share [`Shared`].
#[derive(Debug, Clone)]
pub struct Handler {
    shared: Arc<Shared>,
    /// Minimum log level the client asked for with `logging/setLevel` (session mode only; in
    /// stateless mode each request is a new handler and 2026 clients send the level per request).
    log_level: Arc<Mutex<Option<LoggingLevel>>>,
}

impl Handler {
    /// A handler over `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            log_level: Arc::new(Mutex::new(None)),
        }
    }
}

fn level_rank(l: LoggingLevel) -> u8 {
    match l {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// Sends the call's progress and log notifications, when the client asked for them.
pub(crate) struct Reporter<'a> {
    cx: &'a RequestContext<RoleServer>,
    progress: Option<ProgressToken>,
    level: Option<LoggingLevel>,
    tool: &'a str,
}

impl Reporter<'_> {
    async fn stage(&self, progress: f64, level: LoggingLevel, message: String) {
        if let Some(token) = &self.progress {
            let p = ProgressNotificationParam::new(token.clone(), progress)
                .with_total(100.0)
                .with_message(message.clone());
            // A client that went away cannot be notified; the call itself decides the outcome.
            let _ = self.cx.peer.notify_progress(p).await;
        }
        if let Some(min) = self.level
            && level_rank(level) >= level_rank(min)
        {
            let data = serde_json::json!({"tool": self.tool, "message": message});
            let _ = self
                .cx
                .peer
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(level, data).with_logger("mcp-gateway"),
                )
                .await;
        }
    }
}

/// Turns validation errors into one message an agent can act on.
fn argument_errors(tool: &Tool, args: &Value) -> Option<String> {
    let mut lines = Vec::new();
    for err in tool.input_validator.iter_errors(args) {
        let path = err.instance_path().as_str();
        let location = if path.is_empty() {
            "arguments".to_string()
        } else {
            format!(
                "argument `{}`",
                path.trim_start_matches('/').replace('/', ".")
            )
        };
        let msg = match err.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known: Vec<&str> = tool
                    .input_schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                format!(
                    "unknown argument{} {}; this tool takes: {}",
                    if unexpected.len() == 1 { "" } else { "s" },
                    unexpected
                        .iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if known.is_empty() {
                        "no arguments".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
            jsonschema::error::ValidationErrorKind::Required { property } => {
                format!(
                    "missing required argument `{}`",
                    property.as_str().unwrap_or_default()
                )
            }
            _ => format!("{location}: {err}"),
        };
        lines.push(msg);
        if lines.len() >= 10 {
            lines.push("(further errors omitted)".to_string());
            break;
        }
    }
    if lines.is_empty() {
        None
    } else {
        Some(format!(
            "Invalid arguments for `{}`:\n- {}\nNothing was sent to the API; fix the arguments and call again.",
            tool.name,
            lines.join("\n- ")
        ))
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let g = self.shared.gateway.load();
        let caps = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_logging()
            .build();
        let mut info = Implementation::new(g.name.clone(), g.version.clone());
        info.title = g.title.clone();
        let mut config = ServerConfig::new(caps).with_server_info(info);
        if let Some(i) = &g.instructions {
            config = config.with_instructions(i.clone());
        }
        config
    }

    async fn on_initialized(&self, cx: NotificationContext<RoleServer>) {
        // Only peers with a stream of their own reach here (sessions, stdio): a stateless
        // HTTP `notifications/initialized` is acknowledged without a handler.
        self.shared.listeners.add_peer(cx.peer);
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // rmcp intersects this with what was requested and what `get_info` advertises.
        let mut accepted = requested.clone();
        accepted.resource_subscriptions = None;
        Some(accepted)
    }

    async fn listen(&self, cx: SubscriptionContext) -> Result<(), ErrorData> {
        let sink = cx.sink().clone();
        self.shared.listeners.add_sink(sink.clone());
        cx.cancelled().await;
        self.shared.listeners.remove_sink(&sink);
        Ok(())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Ok(mut l) = self.log_level.lock() {
            *l = Some(request.level);
        }
        Ok(())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let g = self.shared.gateway.load_full();
        let caller = caller_of(&cx);
        let visible: Vec<&Tool> = g
            .tools
            .iter()
            .filter(|t| may_list(&g, caller.as_ref(), t))
            .collect();
        let start = match request.and_then(|r| r.cursor) {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|&i| i < visible.len())
                .ok_or_else(|| ErrorData::invalid_params(format!("invalid cursor `{c}`"), None))?,
        };
        let end = (start + PAGE_SIZE).min(visible.len());
        let tools: Vec<McpTool> = visible[start..end].iter().map(|t| definition(t)).collect();
        // With `auth:` the list depends on the caller's scopes: no shared caches.
        let scope = if g.auth.is_some() {
            CacheScope::Private
        } else {
            CacheScope::Public
        };
        let mut result = ListToolsResult::with_all_items(tools)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(scope);
        if end < visible.len() {
            result.next_cursor = Some(end.to_string());
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<McpTool> {
        self.shared.gateway.load().tool(name).map(definition)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // One snapshot for the whole call: a reload mid-call does not change what it runs.
        let g = self.shared.gateway.load_full();
        let Some(tool) = g.tool(&request.name) else {
            let mut names: Vec<&str> = g.tools.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            return Err(ErrorData::invalid_params(
                format!(
                    "Unknown tool: `{}`. Available tools: {}",
                    request.name,
                    names.join(", ")
                ),
                None,
            ));
        };
        let level = cx
            .meta
            .log_level()
            .or_else(|| self.log_level.lock().ok().and_then(|l| *l));
        let reporter = Reporter {
            cx: &cx,
            progress: cx.meta.get_progress_token(),
            level,
            tool: &tool.name,
        };
        let args = request.arguments.unwrap_or_default();
        let caller = caller_of(&cx);
        tokio::select! {
            r = run_tool(&self.shared, &g, tool, args, Some(&reporter), caller.as_ref()) => Ok(r.into()),
            () = cx.ct.cancelled() => Err(ErrorData::internal_error("the call was cancelled by the client", None)),
        }
    }
}

/// Runs one call of `tool`: check the caller's scopes, validate the arguments, call the
/// upstream, map the answer. The one implementation of tool semantics, used by the rmcp handler
/// and by the HTTP fast path.
pub(crate) async fn run_tool(
    shared: &Shared,
    g: &Gateway,
    tool: &Tool,
    args: serde_json::Map<String, Value>,
    reporter: Option<&Reporter<'_>>,
    caller: Option<&Caller>,
) -> CallToolResult {
    if let Some(message) = refusal(g, tool, caller) {
        return CallToolResult::error(vec![ContentBlock::text(message)]);
    }
    let principal = match caller {
        Some(Caller::Verified(p)) => Some(p),
        _ => None,
    };
    let args = Value::Object(args);
    if let Some(message) = argument_errors(tool, &args) {
        return CallToolResult::error(vec![ContentBlock::text(message)]);
    }
    let Value::Object(args) = args else {
        return CallToolResult::error(vec![ContentBlock::text("arguments must be an object")]);
    };
    if let Some(r) = reporter {
        r.stage(
            0.0,
            LoggingLevel::Info,
            format!("calling {} {}", tool.plan.method, path_of(tool)),
        )
        .await;
    }
    let result = match shared.upstream.call(g, tool, &args, principal).await {
        Ok(resp) => {
            let status = resp.status;
            if let Some(r) = reporter {
                r.stage(
                    50.0,
                    LoggingLevel::Info,
                    format!("upstream answered {status}"),
                )
                .await;
            }
            let result = crate::upstream::to_result(tool, resp);
            tracing::debug!(tool = %tool.name, status = status.as_u16(), is_error = result.is_error.unwrap_or(false), "upstream call");
            result
        }
        Err(e) => {
            if let Some(r) = reporter {
                r.stage(50.0, LoggingLevel::Warning, format!("upstream failed: {e}"))
                    .await;
            }
            tracing::warn!(tool = %tool.name, error = %e, "upstream call failed");
            crate::upstream::error_result(&e)
        }
    };
    if let Some(r) = reporter {
        r.stage(100.0, LoggingLevel::Info, "done".to_string()).await;
    }
    result
}

fn path_of(tool: &Tool) -> String {
    tool.plan
        .path
        .iter()
        .map(|p| match p {
            crate::gateway::PathPart::Literal(s) => s.clone(),
            crate::gateway::PathPart::Param(s) => format!("{{{s}}}"),
        })
        .collect()
}
