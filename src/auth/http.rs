//! Inbound authorization as HTTP requests carry it: who the caller of a request is (a
//! [`Caller`] the middleware in [`crate::server`] puts in the request's extensions), what a caller
//! may list and call, and the `WWW-Authenticate` challenge of a refusal (RFC 6750, RFC 9728).
//! The middleware and the Protected Resource Metadata routes are serving glue and live in
//! `server::auth`.

use rmcp::RoleServer;
use rmcp::service::RequestContext;

pub use super::METADATA_PATH;
use super::{Auth, Principal};
use crate::gateway::{Gateway, Tool};

/// What the middleware established about an HTTP request, put in its extensions. Absent on
/// stdio, where authorization does not apply (the MCP spec: credentials come from the
/// environment).
#[derive(Debug, Clone)]
pub enum Caller {
    /// The gateway had no `auth:` when the request arrived.
    Anonymous,
    /// A verified token (shared with the cache of verified tokens, so a request's copy costs
    /// no allocation).
    Verified(std::sync::Arc<Principal>),
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
}
