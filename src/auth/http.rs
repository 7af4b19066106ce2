//! The HTTP face of inbound authorization: a middleware in front of `/mcp` (both the fast path
//! and rmcp sit behind it), and the Protected Resource Metadata document (RFC 9728).
//!
//! The middleware reads the gateway snapshot per request, so a reload that adds, changes or
//! removes `auth:` takes effect on the next request. It removes the `Authorization` header before
//! anything else sees the request, so the caller's token cannot travel further by accident.
//!
//! Per-tool scopes need the tool name, which lives in the JSON-RPC body. The middleware reads
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
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use rmcp::RoleServer;
use rmcp::service::RequestContext;

pub use super::METADATA_PATH;
use super::{Auth, Principal};
use crate::gateway::{Gateway, Tool};
use crate::mcp::Shared;
use crate::telemetry::{AuthRefusal, Era, Outcome};

/// What the middleware established about an HTTP request, put in its extensions. Absent on
/// stdio, where authorization does not apply (the MCP spec: credentials come from the
/// environment).
#[derive(Debug, Clone)]
pub enum Caller {
    /// The gateway had no `auth:` when the request arrived.
    Anonymous,
    /// A verified token.
    Verified(Principal),
}

/// What the middleware established about the request an rmcp handler is serving (`None` on
/// stdio, which has no HTTP request).
pub fn caller_of(cx: &RequestContext<RoleServer>) -> Option<Caller> {
    cx.extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Caller>())
        .cloned()
}

/// Whether `tools/list` shows `tool` to `caller`.
pub fn may_list(g: &Gateway, caller: Option<&Caller>, tool: &Tool) -> bool {
    match (&g.auth, caller) {
        (None, _) | (Some(_), None) => true,
        (Some(auth), Some(Caller::Verified(p))) => auth.may_list(Some(p), tool),
        // Checked against a snapshot without `auth:` that a reload has since replaced.
        (Some(_), Some(Caller::Anonymous)) => false,
    }
}

/// Why `caller` may not call `tool`, if it may not: the message of the error result. The
/// middleware answers such calls with 403 before they reach a tool; this second check keeps the
/// rule in force should one get there without that (a body the peek misread, a reload between
/// the middleware and the handler).
pub fn refusal(g: &Gateway, tool: &Tool, caller: Option<&Caller>) -> Option<String> {
    let auth = g.auth.as_ref()?;
    match caller {
        // stdio: authorization does not apply; the local user runs the gateway.
        None => None,
        Some(Caller::Anonymous) => {
            Some("This gateway requires authorization; reconnect with an access token.".to_string())
        }
        Some(Caller::Verified(p)) if !auth.may_call(p, tool) => Some(format!(
            "Not authorized: `{}` needs the scopes {}; ask for them and call again.",
            tool.name,
            tool.scopes.join(" ")
        )),
        Some(Caller::Verified(_)) => None,
    }
}

/// The middleware's state: the gateway and the body limit it reads up to.
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

/// The middleware: strip `Authorization`, verify it when the gateway has `auth:`, and refuse a
/// `tools/call` the token lacks the scopes for.
pub async fn require(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let presented = req.headers_mut().remove(header::AUTHORIZATION);
    let g = guard.shared.gateway.load_full();
    let Some(auth) = g.auth.as_ref() else {
        req.extensions_mut().insert(Caller::Anonymous);
        return next.run(req).await;
    };
    if req.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    }) {
        tracing::info!("request refused: access token in the query string");
        guard
            .shared
            .telemetry
            .auth_refused(AuthRefusal::TokenInQuery);
        return refuse(
            auth,
            StatusCode::UNAUTHORIZED,
            Some("invalid_request"),
            "access tokens are accepted only in the Authorization header",
            &auth.default_scopes,
        );
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
        return refuse(
            auth,
            StatusCode::UNAUTHORIZED,
            None,
            "this endpoint requires an access token",
            &auth.default_scopes,
        );
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
            return refuse(
                auth,
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                &e.to_string(),
                &auth.default_scopes,
            );
        }
    };
    if req.method() == http::Method::POST {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, guard.max_body_bytes).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
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
            return refuse(
                auth,
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                &format!(
                    "calling {} needs the scopes: {}",
                    denied.join(", "),
                    needed.join(" ")
                ),
                &needed,
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(Caller::Verified(principal));
    next.run(req).await
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Messages<'a> {
    #[serde(borrow)]
    One(Message<'a>),
    Many(Vec<Message<'a>>),
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    params: Option<CallParams>,
}

#[derive(Deserialize)]
struct CallParams {
    #[serde(default)]
    name: Option<String>,
}

/// The tool names of the `tools/call` requests in a JSON-RPC body (one message or a batch).
fn called_tools(body: &[u8]) -> Vec<String> {
    let messages = match serde_json::from_slice::<Messages<'_>>(body) {
        Ok(Messages::One(m)) => vec![m],
        Ok(Messages::Many(ms)) => ms,
        Err(_) => return Vec::new(),
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

/// The challenge text: `Bearer [error="…", ]resource_metadata="…"[, scope="…"][,
/// error_description="…"]`. Scopes were checked at compile time to be valid scope tokens, which
/// cannot contain `"` or `\`; the description is ours, and is cleaned anyway.
pub fn challenge(auth: &Auth, error: Option<&str>, description: &str, scopes: &[String]) -> String {
    let mut params = Vec::new();
    if let Some(e) = error {
        params.push(format!("error=\"{e}\""));
    }
    if let Some(m) = &auth.metadata_url {
        params.push(format!("resource_metadata=\"{m}\""));
    }
    if !scopes.is_empty() {
        params.push(format!("scope=\"{}\"", scopes.join(" ")));
    }
    if error.is_some() {
        let clean: String = description
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '\''
                } else {
                    c
                }
            })
            .collect();
        params.push(format!("error_description=\"{clean}\""));
    }
    if params.is_empty() {
        "Bearer".to_string()
    } else {
        format!("Bearer {}", params.join(", "))
    }
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

    fn auth(metadata: Option<&str>) -> Auth {
        Auth {
            resource: None,
            metadata_url: metadata.map(str::to_string),
            oauth: None,
            api_keys: Vec::new(),
            default_scopes: Vec::new(),
            scopes_supported: Vec::new(),
            filter_list: true,
        }
    }

    #[test]
    fn challenges_follow_rfc_6750_with_the_metadata_url() {
        let a = auth(Some(
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        ));
        let scopes = vec!["a:read".to_string(), "a:write".to_string()];
        assert_eq!(
            challenge(&a, None, "ignored without an error", &scopes),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", scope=\"a:read a:write\""
        );
        assert_eq!(
            challenge(&a, Some("invalid_token"), "bad \"quote\" \\ and\nline", &[]),
            "Bearer error=\"invalid_token\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", error_description=\"bad 'quote' ' and'line\""
        );
        assert_eq!(challenge(&auth(None), None, "", &[]), "Bearer");
    }

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
