//! The `/mcp` entry: every POST body is read once and checked as JSON-RPC ([`super::jsonrpc`]);
//! then a lean path answers the methods that call upstream, `tools/call`, `resources/read` and
//! `prompts/get`, over Streamable HTTP in both protocol eras (stateless, and inside a 2025
//! session that [`super::sessions`] says it may serve), and rmcp serves everything else.
//!
//! Why: measured under load (benches/call.rs), rmcp's stateless service costs more CPU per call
//! than the whole rest of the gateway (it builds a service loop per request, and a 2026-07-28
//! request several times over). This path takes only the exact happy-path shape and hands
//! everything else, byte for byte, to rmcp: any other method, a session rmcp has not served
//! lately or whose client set a log level, a progress token or log level (which need SSE
//! notifications), an `Origin` header, an `Accept`/`Content-Type` with parameters, an unknown
//! tool, unknown params, a Base64-encoded `Mcp-Name`, every 2026-07-28 request whose headers
//! and `_meta` rmcp would refuse, and every tool that asks the user first (`confirm:`, `ask:`).
//! So rmcp stays the one source of protocol behaviour: [`eligible`] is the one copy of the
//! rules that say a request is one rmcp would serve, [`reply`] the one copy of the per-era
//! rewrite its handler makes to a result or an error, and `tests/fast_path.rs` sends the same
//! valid and invalid requests down both paths and compares the bytes. What a method does is
//! shared with rmcp's handler ([`super::handler::run_tool`], [`super::catalog::read`],
//! [`super::catalog::get_prompt`]), and the reply is rmcp's own message type.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    ErrorCode, ErrorData, JsonRpcError, JsonRpcResponse, JsonRpcVersion2_0, ProtocolVersion,
    RequestId, RequestMetaObject, ServerJsonRpcMessage, ServerResult,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use tower::ServiceExt as _;

use super::catalog;
use super::handler::{CallContext, Shared, run_tool, span_of, verified_by};
use super::jsonrpc::{self, Envelope};
use super::sessions::{Served, Sessions};
use crate::upstream::{Answered, RawStructured};

/// What the entry needs: the gateway, the limits and host list it enforces, and the rmcp
/// service everything else goes to.
pub(crate) struct FastPath<S> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) rmcp: S,
    /// The hosts accepted in `Host` (the same list rmcp enforces).
    pub(crate) hosts: super::host::Allowed,
    pub(crate) max_body_bytes: usize,
    /// Whether requests may be answered here (off with `--no-fast-path`); the JSON-RPC
    /// envelope check applies either way.
    pub(crate) enabled: bool,
    /// In session mode (`--sessions`), the sessions whose calls may be answered here.
    pub(crate) sessions: Option<Arc<Sessions>>,
    /// The requests rmcp is answering, which stopping waits for ([`super::stop`]).
    pub(crate) answering: Arc<super::stop::Answering>,
}

/// The params of a `tools/call` or `prompts/get` the fast path takes: nothing but these fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedParams {
    name: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    #[serde(rename = "_meta", default)]
    meta: Option<Map<String, Value>>,
}

/// The params of a `resources/read` the fast path takes: nothing but these fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadParams {
    uri: String,
    #[serde(rename = "_meta", default)]
    meta: Option<Map<String, Value>>,
}

/// The era of a request the fast path serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Era {
    /// 2024-11-05 … 2025-11-25: no per-request metadata, no `resultType`.
    Legacy,
    /// 2026-07-28: stateless, `_meta` and `Mcp-*` headers on every request.
    Y2026,
}

/// The only value of header `name`, if it is there once and is text.
fn single<'h>(h: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ()> {
    let mut all = h.get_all(name).iter();
    let Some(v) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(());
    }
    v.to_str().map(Some).map_err(|_| ())
}

/// Whether rmcp would read the body of a POST with these headers: an allowed `Host`, no
/// `Origin` (left to rmcp's origin rules), an `Accept` naming both JSON and SSE and a JSON
/// `Content-Type`. Only plain forms are recognised (no parameters or q-values), which rmcp
/// reads the same way; any other form goes to rmcp untouched.
fn plain_headers(h: &HeaderMap, hosts: &super::host::Allowed) -> bool {
    if h.contains_key(http::header::ORIGIN) {
        return false;
    }
    let Ok(Some(accept)) = single(h, "accept") else {
        return false;
    };
    if accept.contains([';', '"']) {
        return false;
    }
    let (mut json, mut sse) = (false, false);
    for essence in accept.split(',').map(str::trim) {
        json |= essence.eq_ignore_ascii_case("application/json");
        sse |= essence.eq_ignore_ascii_case("text/event-stream");
    }
    if !(json && sse) {
        return false;
    }
    let Ok(Some(ct)) = single(h, "content-type") else {
        return false;
    };
    let essence = ct.split_once(';').map_or(ct, |(e, _)| e);
    if !essence.trim().eq_ignore_ascii_case("application/json") {
        return false;
    }
    // The same check the layer in front of `/mcp` made (`super::host`); kept so this path can
    // never serve a request that rmcp would refuse.
    super::host::check(h, hosts).is_ok()
}

/// The `_meta` keys a 2026-07-28 `tools/call` may carry on the fast path: the required client
/// context and the client's name. Anything else (a progress token, a log level, an extension)
/// changes what rmcp does, so it goes there.
const PLAIN_META_KEYS: [&str; 3] = [
    RequestMetaObject::DRAFT_REQUIRED_KEYS[0],
    RequestMetaObject::DRAFT_REQUIRED_KEYS[1],
    "io.modelcontextprotocol/clientInfo",
];

/// The era of a request whose headers and `_meta` rmcp 3.11 serves without comment, or `None`
/// for anything else (which then goes to rmcp, to be served or refused there). The one copy of
/// rmcp's per-request version rules; each clause names the rmcp check it stands for.
/// `method` and `name`: the body's method and the value `Mcp-Name` repeats (a tool's name, a
/// resource's URI); `schema`: for `tools/call`, the tool's input schema, whose `x-mcp-header`
/// annotations rmcp checks `Mcp-Param-*` headers against. `sessions`: whether the server runs
/// in session mode, where rmcp serves a 2025-era request only inside a session (and whether
/// that session may be served here is [`Sessions`]'s to say); a 2026-07-28 request has no
/// session in either mode.
fn eligible(
    h: &HeaderMap,
    method: &str,
    name: &str,
    meta: &mut Option<Map<String, Value>>,
    schema: Option<&Map<String, Value>>,
    sessions: bool,
) -> Option<Era> {
    let era = era(h, method, name, meta, schema)?;
    let in_session = h.contains_key("mcp-session-id");
    (in_session == (sessions && era == Era::Legacy)).then_some(era)
}

/// [`eligible`]'s era, sessions aside.
fn era(
    h: &HeaderMap,
    method: &str,
    name: &str,
    meta: &mut Option<Map<String, Value>>,
    schema: Option<&Map<String, Value>>,
) -> Option<Era> {
    // `validate_protocol_version_header`: one known version; absent means 2025-03-26.
    let version = single(h, "mcp-protocol-version").ok()?;
    let plain = meta.as_ref().filter(|m| !m.is_empty());
    match version {
        None => plain.is_none().then_some(Era::Legacy),
        Some(v) if v < ProtocolVersion::V_2026_07_28.as_str() => {
            // A legacy request with per-request metadata negotiates inline in rmcp.
            let known = ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .any(|k| k.as_str() == v);
            (known && plain.is_none()).then_some(Era::Legacy)
        }
        Some(v) if v == ProtocolVersion::V_2026_07_28.as_str() => {
            // `validate_request_protocol_version_meta` + the handler's inline negotiation:
            // `_meta` names the header's version and carries every required key.
            if !plain?.keys().all(|k| PLAIN_META_KEYS.contains(&k.as_str())) {
                return None;
            }
            // Taken, not copied: nothing after this check reads the request's `_meta`.
            let typed = RequestMetaObject::from(rmcp::model::MetaObject(meta.take()?));
            if typed.protocol_version()? != ProtocolVersion::V_2026_07_28
                || !typed
                    .missing_required_keys(&ProtocolVersion::V_2026_07_28)
                    .is_empty()
            {
                return None;
            }
            // `validate_standard_headers`: `Mcp-Method` and `Mcp-Name` once each, equal to the
            // body (a Base64-encoded name is left to rmcp's decoder), and no `Mcp-Param-*`
            // header or `x-mcp-header` annotation to check against the arguments.
            if single(h, "mcp-method").ok()?? != method {
                return None;
            }
            let named = single(h, "mcp-name").ok()??;
            if named != name || named.starts_with("=?") {
                return None;
            }
            if h.keys().any(|k| k.as_str().starts_with("mcp-param-"))
                || schema.is_some_and(annotated)
            {
                return None;
            }
            Some(Era::Y2026)
        }
        Some(_) => None,
    }
}

/// Whether an input schema declares `x-mcp-header` on a property (rmcp then checks
/// `Mcp-Param-*` headers against the arguments).
fn annotated(schema: &Map<String, Value>) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|props| {
            props
                .values()
                .filter_map(Value::as_object)
                .any(|p| p.contains_key("x-mcp-header") || annotated(p))
        })
}

/// The `/mcp` endpoint: the JSON-RPC envelope check, then the fast path when it applies and
/// rmcp otherwise.
pub(crate) async fn entry<S, B>(
    State(fast): State<Arc<FastPath<S>>>,
    req: Request<Body>,
) -> Response
where
    S: tower::Service<
            Request<Body>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if req.method() != Method::POST
        || declared.is_some_and(|n| n > fast.max_body_bytes)
        || !plain_headers(req.headers(), &fast.hosts)
    {
        return forward(&fast, req, None).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, fast.max_body_bytes).await else {
        // rmcp's own answer to an over-long body, so both paths say the same.
        return (
            http::StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Payload Too Large: request body exceeds {} bytes",
                fast.max_body_bytes
            ),
        )
            .into_response();
    };
    let env = match jsonrpc::envelope(&bytes) {
        Ok(env) => env,
        Err(rejection) => return rejection.into_response(),
    };
    if fast.enabled
        && let Some(reply) = serve(&fast.shared, fast.sessions.as_deref(), &parts, &env).await
    {
        fast.shared.paths.fast.fetch_add(1, Ordering::Relaxed);
        return reply;
    }
    if let Err(rejection) = jsonrpc::check_typed(&bytes, &env) {
        return rejection.into_response();
    }
    let sets_level = env.method.as_deref() == Some("logging/setLevel");
    drop(env);
    let req = Request::from_parts(parts, Body::from(bytes));
    forward(&fast, req, Some(sets_level)).await
}

/// Answers `env` when it is a request of the exact shape this path serves (a `tools/call`,
/// `resources/read` or `prompts/get`), else `None`.
async fn serve(
    shared: &Shared,
    sessions: Option<&Sessions>,
    parts: &http::request::Parts,
    env: &Envelope<'_>,
) -> Option<Response> {
    let method = env.method.as_deref()?;
    if !matches!(method, "tools/call" | "resources/read" | "prompts/get") {
        return None;
    }
    let id = env.id.clone()?;
    let params = env.params?.get();
    match method {
        "tools/call" => call(shared, sessions, parts, id, params).await,
        "resources/read" => read(shared, sessions, parts, id, params).await,
        _ => prompt(shared, sessions, parts, id, params).await,
    }
}

/// A `tools/call`: the tool's own checks and upstream call ([`run_tool`]), rmcp's reply.
async fn call(
    shared: &Shared,
    sessions: Option<&Sessions>,
    parts: &http::request::Parts,
    id: RequestId,
    params: &str,
) -> Option<Response> {
    let mut params: NamedParams = serde_json::from_str(params).ok()?;
    let g = shared.gateway.load_full();
    let tool = g.tool(&params.name)?;
    // A tool that asks the user (`confirm:`, `ask:`) answers with elicitation or an
    // `InputRequiredResult`, which only rmcp's handler produces.
    if tool.interaction.is_some() {
        return None;
    }
    // A slow operation (`async:`) may become a task or report progress while it waits: rmcp's.
    if tool.async_op.is_some() {
        return None;
    }
    let era = admit(
        parts,
        sessions,
        "tools/call",
        &params.name,
        &mut params.meta,
        Some(&tool.input_schema),
    )
    .await?;
    let result = run_tool(
        shared,
        &g,
        tool,
        params.arguments.unwrap_or_default(),
        serde_json::Map::new(),
        None,
        CallContext::of(
            Some(parts),
            match era {
                Era::Legacy => crate::telemetry::Era::Legacy,
                Era::Y2026 => crate::telemetry::Era::Stateless,
            },
        ),
    )
    .await;
    Some(reply_call(id, era, result))
}

/// A `resources/read`: the handler's own read ([`catalog::read`]), rmcp's reply.
async fn read(
    shared: &Shared,
    sessions: Option<&Sessions>,
    parts: &http::request::Parts,
    id: RequestId,
    params: &str,
) -> Option<Response> {
    let mut params: ReadParams = serde_json::from_str(params).ok()?;
    let era = admit(
        parts,
        sessions,
        "resources/read",
        &params.uri,
        &mut params.meta,
        None,
    )
    .await?;
    let g = shared.gateway.load_full();
    let result = catalog::read(shared, &g, &params.uri, verified_by(parts), span_of(parts))
        .await
        .map(|contents| ServerResult::from(catalog::read_result(contents)));
    Some(reply(id, era, result, None))
}

/// A `prompts/get`: the handler's own rendering ([`catalog::get_prompt`]), rmcp's reply.
async fn prompt(
    shared: &Shared,
    sessions: Option<&Sessions>,
    parts: &http::request::Parts,
    id: RequestId,
    params: &str,
) -> Option<Response> {
    let mut params: NamedParams = serde_json::from_str(params).ok()?;
    let era = admit(
        parts,
        sessions,
        "prompts/get",
        &params.name,
        &mut params.meta,
        None,
    )
    .await?;
    let g = shared.gateway.load_full();
    let result = catalog::get_prompt(
        shared,
        &g,
        &params.name,
        params.arguments,
        verified_by(parts),
        span_of(parts),
    )
    .await
    .map(|got| ServerResult::from(rmcp::model::GetPromptResponse::from(got)));
    Some(reply(id, era, result, None))
}

/// The era of a request this path may serve ([`eligible`]'s arguments), once in session mode
/// a 2025-era request's session is one rmcp has served lately ([`Sessions::servable`]).
async fn admit(
    parts: &http::request::Parts,
    sessions: Option<&Sessions>,
    method: &str,
    name: &str,
    meta: &mut Option<Map<String, Value>>,
    schema: Option<&Map<String, Value>>,
) -> Option<Era> {
    let h = &parts.headers;
    let era = eligible(h, method, name, meta, schema, sessions.is_some())?;
    if let Some(sessions) = sessions
        && era == Era::Legacy
    {
        let id = single(h, "mcp-session-id").ok()??;
        if !sessions.servable(id, Instant::now()).await {
            return None;
        }
    }
    Some(era)
}

/// The reply rmcp would send for a tool's `answered`. A `structuredContent` still in the
/// upstream's text is written as that text, in the place rmcp's serialisation gives it,
/// without becoming a tree first.
fn reply_call(id: RequestId, era: Era, answered: Answered) -> Response {
    let Answered {
        result: mut call,
        raw,
    } = answered;
    if raw.is_some() {
        call.structured_content = Some(RawStructured::placeholder());
        call.content.insert(
            0,
            rmcp::model::ContentBlock::text(RawStructured::TEXT_PLACEHOLDER),
        );
    }
    reply(id, era, Ok(ServerResult::CallToolResult(call)), raw)
}

/// The reply rmcp would send for `result`: its own message type, with its handler's per-era
/// rewrite (2025-era peers get no `resultType` and only object `structuredContent`, 2026-07-28
/// peers get cache hints and `INVALID_PARAMS` for a resource not found). `raw`: the answer to
/// splice in for [`reply_call`]'s placeholders.
fn reply(
    id: RequestId,
    era: Era,
    result: Result<ServerResult, ErrorData>,
    raw: Option<RawStructured>,
) -> Response {
    let message = match result {
        Ok(mut result) => {
            match era {
                Era::Legacy => {
                    result.strip_result_type_for_legacy_peer();
                    result.strip_non_object_output_for_legacy_peer();
                }
                Era::Y2026 => result.fill_missing_cache_hints(),
            }
            ServerJsonRpcMessage::Response(JsonRpcResponse {
                jsonrpc: JsonRpcVersion2_0,
                id,
                result,
            })
        }
        Err(mut error) => {
            if era == Era::Y2026 && error.code == ErrorCode::RESOURCE_NOT_FOUND {
                error.code = ErrorCode::INVALID_PARAMS;
            }
            ServerJsonRpcMessage::Error(JsonRpcError {
                jsonrpc: JsonRpcVersion2_0,
                id: Some(id),
                error,
            })
        }
    };
    // Room for the message while it holds the placeholders (the answer is then spliced into a
    // buffer sized for it), so serialising a typed answer's message does not regrow; a reply
    // that carries its content as values may still grow past it.
    let mut body = Vec::with_capacity(512);
    let written = serde_json::to_writer(&mut body, &message).is_ok()
        && raw.is_none_or(|raw| raw.splice(&mut body));
    if !written {
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Hands `req` to rmcp, and in session mode notes what became of its session.
/// `sets_level`: whether the body is a `logging/setLevel`, or `None` when it was not read.
async fn forward<S, B>(fast: &FastPath<S>, req: Request<Body>, sets_level: Option<bool>) -> Response
where
    S: tower::Service<
            Request<Body>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    fast.shared.paths.rmcp.fetch_add(1, Ordering::Relaxed);
    let session = fast.sessions.as_ref().and_then(|s| {
        let id = single(req.headers(), "mcp-session-id").ok()??;
        Some((s, id.to_owned(), req.method().clone()))
    });
    // A POST is a request whose answer stopping waits for; a GET is a 2025 session's stream,
    // which no call waits on.
    let answer = (req.method() == Method::POST).then(|| fast.answering.start());
    let resp = match fast.rmcp.clone().oneshot(req).await {
        Ok(resp) => resp.map(|body| match answer {
            // The guard lives in the body (the closure owns it), so it is dropped when the
            // answer has been written to its end, or abandoned.
            Some(answer) => Body::new(http_body_util::BodyExt::map_frame(body, move |f| {
                let _written_with = &answer;
                f
            })),
            None => Body::new(body),
        }),
        Err(never) => match never {},
    };
    if let Some((sessions, id, method)) = session {
        let served = Served::of(&method, resp.status(), sets_level);
        sessions.served(&id, served, Instant::now());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const OK: [(&str, &str); 3] = [
        ("host", "127.0.0.1:8000"),
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];

    fn hosts() -> crate::mcp::host::Allowed {
        crate::mcp::host::Allowed::new(&["127.0.0.1".into(), "localhost".into(), "::1".into()])
    }

    #[test]
    fn only_plain_headers_have_their_body_read_here() {
        assert!(plain_headers(&headers(&OK), &hosts()));
        assert!(plain_headers(
            &headers(&[("host", "[::1]:9"), OK[1], OK[2]]),
            &hosts()
        ));
        assert!(plain_headers(
            &headers(&[
                OK[0],
                OK[1],
                ("content-type", "application/json; charset=utf-8")
            ]),
            &hosts()
        ));
        for (name, value) in [
            ("origin", "http://127.0.0.1:8000"),
            ("host", "evil.example.com"),
            ("accept", "application/json"),
            ("accept", "application/json;q=0, text/event-stream"),
            ("content-type", "text/plain"),
        ] {
            let mut h = headers(&OK);
            h.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
            assert!(
                !plain_headers(&h, &hosts()),
                "{name}: {value} must go to rmcp"
            );
        }
        let mut two = headers(&OK);
        two.append("accept", "text/event-stream".parse().unwrap());
        assert!(
            !plain_headers(&two, &hosts()),
            "two Accept headers go to rmcp"
        );
    }

    /// [`eligible`] for a `tools/call` of `get_pet` with `meta` and `schema`.
    fn call_era(
        h: &[(&str, &str)],
        meta: Value,
        schema: &Map<String, Value>,
        sessions: bool,
    ) -> Option<Era> {
        let mut meta = serde_json::from_value(meta).unwrap();
        eligible(
            &headers(h),
            "tools/call",
            "get_pet",
            &mut meta,
            Some(schema),
            sessions,
        )
    }

    fn meta_2026() -> Value {
        serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        })
    }

    #[test]
    fn each_era_is_recognised_and_every_deviation_declined() {
        let schema = Map::new();
        let h2026 = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get_pet"),
        ];
        let era = |h: &[(&str, &str)], meta: Value| call_era(h, meta, &schema, false);
        assert_eq!(era(&[], serde_json::json!({})), Some(Era::Legacy));
        assert_eq!(
            era(&[("mcp-protocol-version", "2025-11-25")], Value::Null),
            Some(Era::Legacy)
        );
        assert_eq!(era(&h2026, meta_2026()), Some(Era::Y2026));

        assert_eq!(
            era(&[("mcp-protocol-version", "2025-01-01")], Value::Null),
            None
        );
        assert_eq!(
            era(&[("mcp-protocol-version", "2027-01-01")], Value::Null),
            None
        );
        assert_eq!(
            era(&[], meta_2026()),
            None,
            "inline negotiation without the header"
        );
        assert_eq!(era(&[("mcp-session-id", "x")], Value::Null), None);
        assert_eq!(era(&h2026, Value::Null), None, "2026 without _meta");
        let mut m = meta_2026();
        m["progressToken"] = 1.into();
        assert_eq!(era(&h2026, m), None, "a progress token needs SSE");
        let mut m = meta_2026();
        m["io.modelcontextprotocol/protocolVersion"] = "2025-11-25".into();
        assert_eq!(era(&h2026, m), None, "header and _meta disagree");
        let mut m = meta_2026();
        m.as_object_mut()
            .unwrap()
            .remove("io.modelcontextprotocol/clientCapabilities");
        assert_eq!(era(&h2026, m), None, "capabilities are required");
        let mut m = meta_2026();
        m["io.modelcontextprotocol/clientCapabilities"] = "all".into();
        assert_eq!(era(&h2026, m), None, "capabilities must decode");
        for (i, bad) in [
            ("mcp-method", "tools/list"),
            ("mcp-name", "other"),
            ("mcp-name", "=?base64?Z2V0X3BldA==?="),
            ("mcp-param-x", "1"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut h: Vec<(&str, &str)> = h2026.to_vec();
            h.retain(|(k, _)| *k != bad.0);
            h.push(bad);
            assert_eq!(era(&h, meta_2026()), None, "case {i}: {bad:?}");
        }
        let mut h: Vec<(&str, &str)> = h2026.to_vec();
        h.push(("mcp-name", "get_pet"));
        assert_eq!(era(&h, meta_2026()), None, "a duplicate Mcp-Name");
        let annotated: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}
        }))
        .unwrap();
        assert_eq!(call_era(&h2026, meta_2026(), &annotated, false), None);
    }

    #[test]
    fn a_resource_read_is_named_by_its_uri_and_its_method() {
        let uri = "petstore://pets/7";
        let era = |method: &str, name: &str| {
            let h = [
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", method),
                ("mcp-name", name),
            ];
            let mut meta = serde_json::from_value(meta_2026()).unwrap();
            eligible(&headers(&h), "resources/read", uri, &mut meta, None, false)
        };
        assert_eq!(era("resources/read", uri), Some(Era::Y2026));
        assert_eq!(era("tools/call", uri), None);
        assert_eq!(era("resources/read", "petstore://pets/8"), None);
        assert_eq!(era("resources/read", "get_pet"), None);
    }

    #[test]
    fn in_session_mode_a_2025_call_needs_a_session_and_a_2026_call_has_none() {
        let schema = Map::new();
        let era = |h: &[(&str, &str)], meta: Value| call_era(h, meta, &schema, true);
        let session = ("mcp-session-id", "3f1c");
        let v2025 = ("mcp-protocol-version", "2025-11-25");
        assert_eq!(era(&[session, v2025], Value::Null), Some(Era::Legacy));
        assert_eq!(era(&[session], Value::Null), Some(Era::Legacy));
        assert_eq!(
            era(&[v2025], Value::Null),
            None,
            "rmcp refuses a 2025-era call outside a session"
        );
        let h2026 = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get_pet"),
        ];
        assert_eq!(era(&h2026, meta_2026()), Some(Era::Y2026));
        let mut with_session = h2026.to_vec();
        with_session.push(session);
        assert_eq!(era(&with_session, meta_2026()), None);
        assert_eq!(
            era(
                &[session, ("mcp-protocol-version", "2027-01-01")],
                Value::Null
            ),
            None
        );
    }
}
