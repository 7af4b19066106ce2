//! The rmcp `ServerHandler` of a gateway: tools, prompts, resources and completions served from
//! one snapshot of the compiled gateway per request.
//!
//! The handler holds the gateway in an `ArcSwap`, so a reload swaps what every later request
//! sees while requests in flight finish on the snapshot they started with.

// MCP logging is deprecated by the 2026-07-28 revision (SEP-2577) but still part of every
// 2025-era client and of the conformance suite, so the gateway keeps serving it.
#![allow(deprecated)]

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use rmcp::model::SubscriptionFilter;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CancelTaskParams, CompleteRequestParams,
    CompleteResult, ErrorData, GetPromptRequestParams, GetPromptResponse, GetTaskParams,
    GetTaskResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, Tool as McpTool, UnsubscribeRequestParams,
};
use rmcp::service::{
    NotificationContext, Peer, RequestContext, SubscriptionContext, SubscriptionSink,
};
use rmcp::{RoleServer, ServerHandler};

pub(crate) use super::call::{CallContext, run_tool};
use super::catalog;
use super::confirm::{self, Gate};
use super::definition;
use super::subscriptions::{Session, Subscriptions, spawn_poller};
use crate::auth::http::{Caller, caller_of, may_list};
use crate::gateway::Tool;
use crate::runtime::Served;
use crate::telemetry::{Era, Outcome};
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
    /// The gateway being served, with its running parts (one snapshot: a request loads both).
    pub gateway: ArcSwap<Served>,
    /// The upstream connection pool.
    pub upstream: UpstreamClient,
    /// Clients to tell when a reload changes what is listed.
    pub listeners: Listeners,
    /// Resource subscriptions of 2025-era sessions, and the poller's state.
    pub subscriptions: Subscriptions,
    /// Call metrics and throttled warnings.
    pub telemetry: crate::telemetry::Telemetry,
    /// The running concurrency cap, circuit breaker and rate limits.
    pub limiter: crate::limit::Limiter,
    /// Requests answered by the `/mcp` fast path and by rmcp.
    pub paths: PathCounters,
}

/// Calls answered by each path, for `/metrics` (`mcp_gateway_requests_total`), so an operator
/// and a test can see which one a deployment's clients take.
#[derive(Debug, Default)]
pub struct PathCounters {
    /// `tools/call` requests answered by the fast path.
    pub fast: AtomicU64,
    /// Requests of any method handed to rmcp.
    pub rmcp: AtomicU64,
}

impl Shared {
    /// State serving `gateway` through `upstream`, with nobody listening yet.
    pub fn new(gateway: Served, upstream: UpstreamClient) -> Self {
        Self {
            limiter: crate::limit::Limiter::new(gateway.limits.clone()),
            telemetry: crate::telemetry::Telemetry::default(),
            gateway: ArcSwap::from_pointee(gateway),
            upstream,
            listeners: Listeners::default(),
            subscriptions: Subscriptions::default(),
            paths: PathCounters::default(),
        }
    }
}

/// Which lists a reload changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    /// `tools/list`.
    pub tools: bool,
    /// `prompts/list`.
    pub prompts: bool,
    /// `resources/list` or `resources/templates/list`.
    pub resources: bool,
}

impl Changed {
    /// Whether anything changed.
    pub fn any(self) -> bool {
        self.tools || self.prompts || self.resources
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
    /// Cancelled when `/mcp` stops: listen streams then end with their final result.
    ended: tokio_util::sync::CancellationToken,
}

impl Listeners {
    /// Ends every `subscriptions/listen` stream, open or yet to open, with the final result
    /// that tells the client the server ended it (`super::stop`).
    pub(crate) fn end(&self) {
        self.ended.cancel();
    }

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

    /// The 2026 `subscriptions/listen` streams open now.
    pub(crate) fn sinks(&self) -> Vec<SubscriptionSink> {
        self.sinks.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends the `list_changed` notifications of what `changed` names to every listener (a
    /// 2026 stream only gets those it opted in to); forgets closed ones.
    pub async fn lists_changed(&self, changed: Changed) {
        let peers: Vec<Peer<RoleServer>> = self
            .peers
            .lock()
            .map(|mut p| {
                p.retain(|p| !p.is_transport_closed());
                p.clone()
            })
            .unwrap_or_default();
        // A slow or gone client must not hold up the others (or the reload): each send is
        // bounded, and a failure only means that client re-lists on its own.
        let bound = std::time::Duration::from_secs(2);
        for p in peers {
            if changed.tools {
                let _ = tokio::time::timeout(bound, p.notify_tool_list_changed()).await;
            }
            if changed.prompts {
                let _ = tokio::time::timeout(bound, p.notify_prompt_list_changed()).await;
            }
            if changed.resources {
                let _ = tokio::time::timeout(bound, p.notify_resource_list_changed()).await;
            }
        }
        for s in self.sinks() {
            let f = s.accepted();
            let mut results = Vec::new();
            if changed.tools && f.tools_list_changed == Some(true) {
                results.push(tokio::time::timeout(bound, s.notify_tool_list_changed()).await);
            }
            if changed.prompts && f.prompts_list_changed == Some(true) {
                results.push(tokio::time::timeout(bound, s.notify_prompt_list_changed()).await);
            }
            if changed.resources && f.resources_list_changed == Some(true) {
                results.push(tokio::time::timeout(bound, s.notify_resource_list_changed()).await);
            }
            if results.iter().any(|r| {
                matches!(
                    r,
                    Ok(Err(
                        rmcp::service::SubscriptionSendError::SubscriptionClosed
                    ))
                )
            }) {
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
    /// This session's `resources/subscribe` URIs, registered with [`Shared`] on first use.
    session: Arc<OnceLock<Arc<Session>>>,
}

/// The error for a call of a tool the gateway does not serve, naming the ones it does.
fn unknown_tool(g: &Served, name: &str) -> ErrorData {
    let mut names: Vec<&str> = g.tools.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    ErrorData::invalid_params(
        format!(
            "Unknown tool: `{name}`. Available tools: {}",
            names.join(", ")
        ),
        None,
    )
}

/// Whether a call of `tool` may go ahead: at once, with what the user supplied when the tool
/// asks first (`confirm:`, `ask:`), or not (a question to return, or a stop).
async fn gate(
    g: &Served,
    tool: &Tool,
    args: &serde_json::Map<String, serde_json::Value>,
    call: &super::call::CallContext<'_>,
    era: Era,
    // The 2026-07-28 answers to an earlier question: `inputResponses` and `requestState`.
    (responses, state): (Option<&rmcp::model::InputResponses>, Option<&str>),
    cx: &RequestContext<RoleServer>,
) -> Result<Gate, ErrorData> {
    let Some(i) = &tool.interaction else {
        return Ok(Gate::Proceed(Default::default()));
    };
    // A call that would be refused anyway (caller, arguments) is refused before the user is
    // troubled with it.
    if crate::auth::http::refusal(g, tool, call.caller).is_some()
        || super::call::argument_errors(tool, &serde_json::Value::Object(args.clone())).is_some()
    {
        return Ok(Gate::Proceed(Default::default()));
    }
    if era == Era::Stateless {
        confirm::stateless(
            g,
            tool,
            i,
            args,
            responses,
            state,
            cx.client_capabilities().as_ref(),
        )
    } else {
        // stdio, or an HTTP request on a session, can carry a request to the client.
        let parts = cx.extensions.get::<http::request::Parts>();
        let session = parts.is_none_or(|p| p.headers.contains_key("mcp-session-id"));
        Ok(confirm::with_session(tool, i, args, &cx.peer, session).await)
    }
}

impl Handler {
    /// A handler over `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            log_level: Arc::new(Mutex::new(None)),
            session: Arc::new(OnceLock::new()),
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
    pub(super) async fn stage(&self, progress: f64, level: LoggingLevel, message: String) {
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

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let g = self.shared.gateway.load();
        let mut caps = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_logging()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_resources_subscribe()
            .enable_completions()
            .build();
        // Only what the manifest offers is advertised (rmcp refuses the methods of what is not).
        let c = &g.catalog;
        if c.prompts.is_empty() {
            caps.prompts = None;
        }
        // Any tool may answer with a file too large to return inline, read by link.
        if c.resources.is_empty() && c.templates.is_empty() && g.tools.is_empty() {
            caps.resources = None;
        }
        if c.prompts.is_empty() && c.templates.is_empty() {
            caps.completions = None;
        }
        // Slow operations are offered as tasks (2026-07-28 extension) when a tool has one.
        if g.tools.iter().any(|t| t.async_op.is_some()) {
            caps.extensions.get_or_insert_with(Default::default).insert(
                rmcp::model::TASKS_EXTENSION_ID.to_string(),
                rmcp::model::JsonObject::new(),
            );
        }
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
        // Resource subscriptions are kept for the URIs this gateway serves; others are dropped
        // from the acknowledged filter, which tells the client.
        let mut accepted = requested.clone();
        let g = self.shared.gateway.load();
        accepted.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|u| {
            u.iter()
                .filter(|u| g.catalog.resolve(u).is_some())
                .cloned()
                .collect()
        });
        Some(accepted)
    }

    async fn listen(&self, cx: SubscriptionContext) -> Result<(), ErrorData> {
        let sink = cx.sink().clone();
        self.shared.listeners.add_sink(sink.clone());
        if sink
            .accepted()
            .resource_subscriptions
            .as_ref()
            .is_some_and(|u| !u.is_empty())
        {
            self.ensure_poller();
        }
        // The client closing the stream cancels it (no answer is owed then); the gateway
        // stopping ends it with the final result, so the client knows to listen elsewhere.
        tokio::select! {
            () = cx.cancelled() => {}
            () = self.shared.listeners.ended.cancelled() => {}
        }
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
        let (range, next) = page(visible.len(), request)?;
        // `schemas: {keep_2020_12}`: 2026-07-28 clients take `$ref`, `$defs` and `$schema`.
        let modern = cx.protocol_version() == Some(rmcp::model::ProtocolVersion::V_2026_07_28);
        let tools: Vec<McpTool> = visible[range]
            .iter()
            .map(|t| {
                let mut d = definition(t);
                if modern && let Some(s) = &t.input_schema_2026 {
                    d.input_schema = s.clone();
                }
                d
            })
            .collect();
        // With `auth:` the list depends on the caller's scopes: no shared caches.
        let scope = if g.auth.is_some() {
            CacheScope::Private
        } else {
            CacheScope::Public
        };
        let mut result = ListToolsResult::with_all_items(tools)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(scope);
        result.next_cursor = next;
        Ok(result)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let g = self.shared.gateway.load_full();
        let (range, next) = page(g.catalog.prompts.len(), request)?;
        let items: Vec<_> = g.catalog.prompts[range]
            .iter()
            .map(catalog::prompt_definition)
            .collect();
        let mut result = ListPromptsResult::with_all_items(items)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(CacheScope::Public);
        result.next_cursor = next;
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let g = self.shared.gateway.load_full();
        let caller = verified(&cx);
        catalog::get_prompt(
            &self.shared,
            &g,
            &request.name,
            request.arguments,
            caller,
            current_span(&cx),
        )
        .await
        .map(Into::into)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let g = self.shared.gateway.load_full();
        let (range, next) = page(g.catalog.resources.len(), request)?;
        let items: Vec<_> = g.catalog.resources[range]
            .iter()
            .map(catalog::resource_definition)
            .collect();
        let mut result = ListResourcesResult::with_all_items(items)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(CacheScope::Public);
        result.next_cursor = next;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let g = self.shared.gateway.load_full();
        let (range, next) = page(g.catalog.templates.len(), request)?;
        let items: Vec<_> = g.catalog.templates[range]
            .iter()
            .map(catalog::template_definition)
            .collect();
        let mut result = ListResourceTemplatesResult::with_all_items(items)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(CacheScope::Public);
        result.next_cursor = next;
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let g = self.shared.gateway.load_full();
        let caller = verified(&cx);
        let contents =
            catalog::read(&self.shared, &g, &request.uri, caller, current_span(&cx)).await?;
        Ok(catalog::read_result(contents))
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let g = self.shared.gateway.load_full();
        if g.catalog.resolve(&request.uri).is_none() {
            return Err(ErrorData::resource_not_found(
                format!("Resource not found: `{}`", request.uri),
                Some(serde_json::json!({ "uri": request.uri })),
            ));
        }
        let session = self.session.get_or_init(|| {
            let s = Arc::new(Session::new(cx.peer.clone()));
            self.shared.subscriptions.add_session(s.clone());
            s
        });
        session.add(request.uri);
        self.ensure_poller();
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Some(s) = self.session.get() {
            s.remove(&request.uri);
        }
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let g = self.shared.gateway.load_full();
        let caller = verified(&cx);
        catalog::complete(&self.shared, &g, &request, caller, current_span(&cx)).await
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        super::tasks::get(&self.shared, &request.task_id, verified(&cx)).await
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        super::tasks::cancel(&self.shared, &request.task_id, verified(&cx)).await
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
        let era = if cx.protocol_version() == Some(rmcp::model::ProtocolVersion::V_2026_07_28) {
            Era::Stateless
        } else {
            Era::Legacy
        };
        let Some(tool) = g.tool(&request.name) else {
            self.shared
                .telemetry
                .unknown_tool()
                .refused(era, Outcome::ProtocolError);
            return Err(unknown_tool(&g, &request.name));
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
        let answers = (
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        );
        let args = request.arguments.unwrap_or_default();
        let parts = cx.extensions.get::<http::request::Parts>();
        let mut call = CallContext::of(parts, era);
        // The 2026-07-28 `_meta.traceparent` names the MCP request's own context: it wins
        // over a transport header.
        if let Some(p) = cx
            .meta
            .get_traceparent()
            .and_then(crate::telemetry::trace::TraceParent::parse)
        {
            call.parent = Some(p);
        }
        // A 2026-07-28 client that negotiated tasks (for the session or this request) gets a
        // slow operation as a task; every other client waits for it.
        let slot = super::tasks::Slot::new();
        if era == Era::Stateless && cx.client_capabilities().is_some_and(|c| c.supports_tasks()) {
            call.tasks = Some(&slot);
        } else if tool.async_op.as_ref().is_some_and(|op| op.require_tasks) {
            // `async.require_tasks`: a job too long to wait for is only served as a task.
            self.shared
                .telemetry
                .tool(&tool.name)
                .refused(era, Outcome::ProtocolError);
            return Err(ErrorData::missing_required_client_capability(
                rmcp::model::ClientCapabilities::builder()
                    .enable_tasks()
                    .build(),
            ));
        }
        let run = async {
            match gate(&g, tool, &args, &call, era, answers, &cx).await? {
                Gate::Proceed(supplied) => {
                    let result = run_tool(
                        &self.shared,
                        &g,
                        tool,
                        args.clone(),
                        supplied,
                        Some(&reporter),
                        call,
                    )
                    .await;
                    Ok(match slot.get() {
                        Some(task) => CallToolResponse::Task(task.clone()),
                        None => result.into_result().into(),
                    })
                }
                Gate::Ask(r) => Ok(r.into()),
                Gate::Stop(r) => {
                    self.shared
                        .telemetry
                        .tool(&tool.name)
                        .refused(era, Outcome::ToolError);
                    tracing::info!(
                        target: "mcp_gateway::call",
                        gateway = %g.name,
                        tool = %tool.name,
                        era = era.label(),
                        "tool call stopped before the upstream: the user did not agree, or could not be asked"
                    );
                    Ok(r.into())
                }
            }
        };
        tokio::select! {
            r = run => r,
            () = cx.ct.cancelled() => {
                self.shared.telemetry.tool(&tool.name).refused(era, Outcome::ProtocolError);
                Err(ErrorData::internal_error("the call was cancelled by the client", None))
            }
        }
    }
}

impl Handler {
    /// Starts the gateway's resource poller if it is not running yet.
    fn ensure_poller(&self) {
        if self.shared.subscriptions.start_polling() {
            spawn_poller(&self.shared);
        }
    }
}

/// The context of the request's server span, when tracing.
fn current_span(cx: &RequestContext<RoleServer>) -> Option<crate::telemetry::trace::TraceParent> {
    cx.extensions
        .get::<http::request::Parts>()
        .and_then(span_of)
}

/// The context of the server span of the request with `parts` ([`super::traced`]), when
/// tracing: the parent of its upstream calls' spans.
pub(crate) fn span_of(
    parts: &http::request::Parts,
) -> Option<crate::telemetry::trace::TraceParent> {
    parts
        .extensions
        .get::<crate::telemetry::trace::Current>()
        .map(|c| c.0)
}

/// The verified caller of a request, whose claims fill `upstream.identity_headers`.
fn verified(cx: &RequestContext<RoleServer>) -> Option<&crate::auth::Principal> {
    cx.extensions
        .get::<http::request::Parts>()
        .and_then(verified_by)
}

/// [`verified`] of the request with `parts`.
pub(crate) fn verified_by(parts: &http::request::Parts) -> Option<&crate::auth::Principal> {
    match parts.extensions.get::<Caller>() {
        Some(Caller::Verified(p)) => Some(p),
        _ => None,
    }
}

/// Which items of a list of `len` one page holds, and the cursor of the next page. The cursor
/// is the index of the page's first item; one that is not a valid index is refused.
fn page(
    len: usize,
    request: Option<PaginatedRequestParams>,
) -> Result<(std::ops::Range<usize>, Option<String>), ErrorData> {
    let start = match request.and_then(|r| r.cursor) {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&i| i < len)
            .ok_or_else(|| ErrorData::invalid_params(format!("invalid cursor `{c}`"), None))?,
    };
    let end = (start + PAGE_SIZE).min(len);
    Ok((start..end, (end < len).then(|| end.to_string())))
}
