//! The HTTP face of inbound authorization: the admission every request to `/mcp` passes after
//! the `Host` check (`super::routes`; both the fast path and rmcp sit behind it), and the
//! Protected Resource Metadata document (RFC 9728). Token verification itself is
//! [`crate::auth`]'s.
//!
//! The admission reads the served snapshot per request, so a reload that adds, changes or
//! removes `auth:` takes effect on the next request. It removes the `Authorization` header before
//! anything else sees the request, so the caller's token cannot travel further by accident.
//!
//! Per-tool scopes need the tool name, which lives in the JSON-RPC body. The admission reads
//! the body (already bounded by the body limit) and answers a `tools/call` the token may not make
//! with 403 `insufficient_scope`, which only HTTP can express and which MCP clients use to step
//! up. This is the simplest robust place: it sees every transport mode alike. Parsing is a
//! shallow look at `method` and `params.name`; should it ever disagree with rmcp's parse, the
//! same check runs again inside the tool call ([`crate::mcp`]'s `run_tool`), so a disagreement
//! can only turn a 403 into an error result, never let a call through.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Auth;
pub use crate::auth::METADATA_PATH;
use crate::auth::http::{Caller, challenge};
use crate::mcp::Shared;
use crate::telemetry::{AuthRefusal, Era, Outcome};

/// The admission's state: the gateway and the body limit it reads up to.
#[derive(Debug, Clone)]
pub struct Guard {
    shared: Arc<Shared>,
    max_body_bytes: usize,
}

impl Guard {
    /// A guard over `shared` reading at most `max_body_bytes` of a request.
    pub fn new(shared: Arc<Shared>, max_body_bytes: usize) -> Self {
        Self {
            shared,
            max_body_bytes,
        }
    }
}

/// The admission: strip `Authorization`, verify it when the gateway has `auth:`, and refuse a
/// `tools/call` the token lacks the scopes for. `Ok` is the request to serve, with its
/// [`Caller`]; `Err` the refusal to answer instead.
pub async fn admit(guard: &Guard, mut req: Request) -> Result<Request, Response> {
    let presented = req.headers_mut().remove(header::AUTHORIZATION);
    let g = guard.shared.gateway.load_full();
    let Some(auth) = g.auth.as_ref() else {
        req.extensions_mut().insert(Caller::Anonymous);
        return Ok(req);
    };
    if req.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    }) {
        tracing::info!("request refused: access token in the query string");
        guard
            .shared
            .telemetry
            .auth_refused(AuthRefusal::TokenInQuery);
        return Err(refuse(
            auth,
            StatusCode::UNAUTHORIZED,
            Some("invalid_request"),
            "access tokens are accepted only in the Authorization header",
            &auth.default_scopes,
        ));
    }
    let token = presented
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
        });
    let Some(token) = token else {
        // RFC 6750 §3.1: no error code when the request carries no credentials.
        guard
            .shared
            .telemetry
            .auth_refused(AuthRefusal::MissingToken);
        return Err(refuse(
            auth,
            StatusCode::UNAUTHORIZED,
            None,
            "this endpoint requires an access token",
            &auth.default_scopes,
        ));
    };
    let caches = g.running.auth.as_ref();
    let principal = match auth
        .verify(caches, token, guard.shared.upstream.http())
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(reason = %e, "request refused: invalid token");
            guard
                .shared
                .telemetry
                .auth_refused(AuthRefusal::InvalidToken);
            return Err(refuse(
                auth,
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                &e.to_string(),
                &auth.default_scopes,
            ));
        }
    };
    if req.method() == http::Method::POST {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, guard.max_body_bytes).await {
            Ok(b) => b,
            Err(_) => return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response()),
        };
        let mut needed: Vec<String> = Vec::new();
        let mut denied: Vec<&str> = Vec::new();
        for name in called_tools(&bytes) {
            if let Some(tool) = g.tool(&name)
                && !auth.may_call(&principal, tool)
            {
                denied.push(&tool.name);
                for s in &tool.scopes {
                    if !needed.contains(s) {
                        needed.push(s.clone());
                    }
                }
            }
        }
        if !denied.is_empty() {
            tracing::info!(subject = principal.subject.as_deref().unwrap_or("-"), tools = %denied.join(","), "call refused: insufficient scope");
            let t = &guard.shared.telemetry;
            t.auth_refused(AuthRefusal::InsufficientScope);
            let era = if parts
                .headers
                .get("mcp-protocol-version")
                .is_some_and(|v| v == "2026-07-28")
            {
                Era::Stateless
            } else {
                Era::Legacy
            };
            for name in &denied {
                t.tool(name).refused(era, Outcome::RefusedByAuth);
            }
            return Err(refuse(
                auth,
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                &format!(
                    "calling {} needs the scopes: {}",
                    denied.join(", "),
                    needed.join(" ")
                ),
                &needed,
            ));
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(Caller::Verified(principal));
    Ok(req)
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<CallParams<'a>>,
}

#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

/// The tool names of the `tools/call` requests in a JSON-RPC body (one message or a batch).
/// A batch is told by its first byte rather than by an untagged enum, which would buffer the
/// whole body as a tree first to try each form.
fn called_tools(body: &[u8]) -> Vec<Cow<'_, str>> {
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let messages = if batch {
        serde_json::from_slice::<Vec<Message<'_>>>(body).unwrap_or_default()
    } else {
        serde_json::from_slice::<Message<'_>>(body).map_or_else(|_| Vec::new(), |m| vec![m])
    };
    messages
        .into_iter()
        .filter(|m| m.method.as_deref() == Some("tools/call"))
        .filter_map(|m| m.params.and_then(|p| p.name))
        .collect()
}

/// A 401 or 403 with its `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1) and the same
/// error as a JSON body.
fn refuse(
    auth: &Auth,
    status: StatusCode,
    error: Option<&str>,
    description: &str,
    scopes: &[String],
) -> Response {
    let value = challenge(auth, error, description, scopes);
    let body = json!({
        "error": error.unwrap_or("unauthorized"),
        "error_description": description,
    });
    let mut resp = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// `GET /.well-known/oauth-protected-resource` and its path-inserted forms
/// (`…/oauth-protected-resource/mcp`, and the resource's own path when it is served behind a
/// prefix). The document follows the current snapshot, so a reload changes it.
pub fn metadata_routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(METADATA_PATH, get(metadata_root))
        .route(
            &format!("{METADATA_PATH}/{{*path}}"),
            get(metadata_for_path),
        )
        .with_state(shared)
}

async fn metadata_root(State(shared): State<Arc<Shared>>) -> Response {
    metadata(&shared, None)
}

async fn metadata_for_path(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Response {
    metadata(&shared, Some(path))
}

fn metadata(shared: &Shared, path: Option<String>) -> Response {
    let g = shared.gateway.load_full();
    let Some((auth, oauth, resource)) = g
        .auth
        .as_ref()
        .and_then(|a| Some((a, a.oauth.as_ref()?, a.resource.as_ref()?)))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(p) = path {
        let p = p.trim_matches('/');
        if p != "mcp" && p != resource.path().trim_matches('/') {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    let doc = json!({
        "resource": resource.as_str(),
        "authorization_servers": [oauth.issuer],
        "scopes_supported": auth.scopes_supported,
        "bearer_methods_supported": ["header"],
        "resource_name": g.title.clone().unwrap_or_else(|| g.name.clone()),
    });
    (
        // Public metadata: browser-based clients read it cross-origin.
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        axum::Json(doc),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_peek_finds_every_called_tool_and_nothing_else() {
        let one = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":[1,{"name":"z"}]}}}"#;
        assert_eq!(called_tools(one), ["a"]);
        let batch = br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},
                        {"jsonrpc":"2.0","id":2,"method":"tools/list"},
                        {"jsonrpc":"2.0","method":"notifications/initialized"},
                        {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b"}}]"#;
        assert_eq!(called_tools(batch), ["a", "b"]);
        assert!(called_tools(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).is_empty());
        assert!(called_tools(b"not json").is_empty());
    }
}
