//! A lean path for the hot method, beside rmcp: a plain 2025-era `tools/call` over stateless
//! Streamable HTTP, answered with one JSON body.
//!
//! Why: measured under load (benches/call.rs), rmcp's stateless service costs more CPU per call
//! than the whole rest of the gateway (it builds a service loop per request). This path takes
//! only the exact happy-path shape and hands everything else, byte for byte, to rmcp: any
//! other method, a session, a 2026-07-28 request (`Mcp-Method` header or `_meta`), a progress
//! token or log level (which need SSE notifications), an `Origin` header, an unexpected
//! `Accept`/`Content-Type`/protocol version, an unknown tool, unknown params. So rmcp stays the
//! one source of protocol behaviour, including every error; the tool semantics themselves are
//! shared ([`super::handler::run_tool`]).

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::model::CallToolResult;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tower::ServiceExt as _;

use super::handler::{CallContext, Shared, run_tool};
use crate::telemetry::Era;

/// Protocol versions the fast path answers; they all share the `tools/call` wire shape.
const LEGACY_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];

/// What the fast path needs: the gateway, the limits and host list it enforces, and the rmcp
/// service everything else goes to.
pub(crate) struct FastPath<S> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) rmcp: S,
    /// Lower-case host names accepted in `Host` (the same list rmcp enforces).
    pub(crate) hosts: Vec<String>,
    pub(crate) max_body_bytes: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    id: Value,
    #[serde(borrow)]
    method: Cow<'a, str>,
    params: Params,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    name: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    /// Only an empty `_meta` is taken: anything in it (progress token, 2026 fields) goes to rmcp.
    #[serde(rename = "_meta", default)]
    meta: Option<Map<String, Value>>,
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: &'a CallToolResult,
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request's headers are the plain stateless 2025-era shape this path serves.
fn headers_eligible(h: &HeaderMap, hosts: &[String]) -> bool {
    if h.contains_key("mcp-session-id") || h.contains_key("mcp-method") || h.contains_key("origin")
    {
        return false;
    }
    if let Some(v) = header(h, "mcp-protocol-version")
        && !LEGACY_VERSIONS.contains(&v)
    {
        return false;
    }
    let accept = header(h, "accept").unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return false;
    }
    if !header(h, "content-type").is_some_and(|c| c.starts_with("application/json")) {
        return false;
    }
    // The same check the layer in front of `/mcp` made (`super::host`); kept so this path can
    // never serve a request that rmcp would refuse.
    super::host::check(h, hosts).is_ok()
}

/// The `/mcp` endpoint: the fast path when it applies, rmcp otherwise.
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
    let small = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n <= fast.max_body_bytes);
    if req.method() != Method::POST || !small || !headers_eligible(req.headers(), &fast.hosts) {
        return forward(&fast.rmcp, req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, fast.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let handled = match serde_json::from_slice::<Envelope<'_>>(&bytes) {
        Ok(env)
            if env.jsonrpc == "2.0"
                && env.method == "tools/call"
                && (env.id.is_number() || env.id.is_string())
                && env.params.meta.as_ref().is_none_or(Map::is_empty) =>
        {
            let g = fast.shared.gateway.load_full();
            match g.tool(&env.params.name) {
                Some(tool) => {
                    let mut result = run_tool(
                        &fast.shared,
                        &g,
                        tool,
                        env.params.arguments.unwrap_or_default(),
                        None,
                        CallContext::of(Some(&parts), Era::Legacy),
                    )
                    .await;
                    // 2025-era peers do not know `resultType` (rmcp strips it for them too).
                    result.result_type = None;
                    let reply = Reply {
                        jsonrpc: "2.0",
                        id: &env.id,
                        result: &result,
                    };
                    Some(serde_json::to_vec(&reply))
                }
                None => None,
            }
        }
        _ => None,
    };
    match handled {
        Some(Ok(body)) => {
            ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Some(Err(_)) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        None => forward(&fast.rmcp, Request::from_parts(parts, Body::from(bytes))).await,
    }
}

async fn forward<S, B>(rmcp: &S, req: Request<Body>) -> Response
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
    match rmcp.clone().oneshot(req).await {
        Ok(resp) => resp.map(Body::new),
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const OK: [(&str, &str); 4] = [
        ("host", "127.0.0.1:8000"),
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2025-11-25"),
    ];

    #[test]
    fn only_the_plain_stateless_2025_shape_is_eligible() {
        let hosts = vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            "::1".to_string(),
        ];
        assert!(headers_eligible(&headers(&OK), &hosts));
        assert!(
            headers_eligible(&headers(&[OK[0], OK[1], OK[2]]), &hosts),
            "no version header means 2025-03-26"
        );
        assert!(headers_eligible(
            &headers(&[("host", "[::1]:9"), OK[1], OK[2]]),
            &hosts
        ));
        for extra in [
            ("mcp-session-id", "abc"),
            ("mcp-method", "tools/call"),
            ("origin", "http://127.0.0.1:8000"),
            ("mcp-protocol-version", "2026-07-28"),
            ("host", "evil.example.com"),
            ("accept", "application/json"),
            ("content-type", "text/plain"),
        ] {
            let mut h = headers(&OK);
            h.insert(
                http::HeaderName::from_bytes(extra.0.as_bytes()).unwrap(),
                extra.1.parse().unwrap(),
            );
            assert!(!headers_eligible(&h, &hosts), "{extra:?} must go to rmcp");
        }
    }
}
