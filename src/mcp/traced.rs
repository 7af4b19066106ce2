//! A server span for every MCP request on `/mcp` other than `tools/call`, whose span
//! [`super::call::run_tool`] records with its upstream call under it. The span's context goes
//! into the request's extensions ([`Current`]) for handlers that call upstream. With tracing off this is
//! one atomic load per request; with it on, the body is read once here to learn the method.

use std::borrow::Cow;
use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::telemetry::trace::{Attr, Current, Span, TraceParent};

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    params: Option<Params>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(rename = "_meta", default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    traceparent: Option<String>,
}

/// Runs `next` on `req` inside the request's span: `max_body_bytes` bounds the body read (the
/// same limit the endpoint enforces).
pub(crate) async fn layer<F, Fut>(max_body_bytes: usize, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    if !crate::telemetry::trace::enabled() || req.method() != http::Method::POST {
        return next(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, max_body_bytes).await else {
        return http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let message = serde_json::from_slice::<Message<'_>>(&bytes).ok();
    let method = message
        .as_ref()
        .and_then(|m| m.method.as_deref())
        .map(str::to_string);
    // The 2026-07-28 `_meta.traceparent` first, else the HTTP header, as tool calls do.
    let parent = message
        .as_ref()
        .and_then(|m| m.params.as_ref()?.meta.as_ref()?.traceparent.as_deref())
        .and_then(TraceParent::parse)
        .or_else(|| {
            parts
                .headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .and_then(TraceParent::parse)
        });
    let mut req = Request::from_parts(parts, Body::from(bytes));
    let Some(method) = method.filter(|m| m != "tools/call") else {
        return next(req).await;
    };
    let Some(mut span) = Span::server(|| method.clone(), parent) else {
        return next(req).await;
    };
    span.set("mcp.method.name", Attr::Str(method));
    req.extensions_mut().insert(Current(span.context()));
    let resp = next(req).await;
    let status = resp.status();
    span.set(
        "http.response.status_code",
        Attr::Int(i64::from(status.as_u16())),
    );
    if status.is_client_error() || status.is_server_error() {
        span.fail(format!("HTTP {}", status.as_u16()));
    }
    span.end();
    resp
}
