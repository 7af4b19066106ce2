//! Resource reads: URI variables → operation arguments, and the upstream's answer →
//! `resources/read` contents (text with its media type, anything else base64 `blob`).

use base64::Engine as _;
use rmcp::model::ResourceContents;
use serde_json::{Map, Value};

use super::UpstreamError;
use super::answer::{ERROR_EXCERPT_BYTES, UpstreamResponse, excerpt, is_json, is_text, media};
use crate::gateway::ResourceCall;
use crate::gateway::invalid::{ArgumentErrors, NOTHING_SENT};

/// Why a resource could not be read. The handler maps these to JSON-RPC errors: the first two
/// are the caller's (invalid params / not found), the rest the upstream's.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The URI's values do not fit the operation's parameters.
    #[error("{0}")]
    Arguments(String),
    /// The upstream says the resource does not exist (404 or 410).
    #[error("the upstream has no such resource (it answered {0})")]
    NotFound(u16),
    /// The upstream answered with another error status.
    #[error("the upstream answered {status}{body}")]
    Status {
        /// Status code.
        status: u16,
        /// An excerpt of the body, prefixed with `: `, or empty.
        body: String,
    },
    /// The body was larger than the gateway keeps.
    #[error("the resource is larger than this gateway's upstream.max_response_bytes")]
    TooLarge,
    /// No answer.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// The arguments of a read: the manifest's fixed ones plus the URI's variables, each read as
/// the type its parameter declares (a URI is all text), then validated like a tool call.
pub fn resource_arguments(
    uri: &str,
    call: &ResourceCall,
    vars: &[(String, String)],
) -> Result<Map<String, Value>, ReadError> {
    let mut args = call.fixed.clone();
    for (name, raw) in vars {
        let ty = call
            .input_schema
            .get("properties")
            .and_then(|p| p.get(name))
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str);
        let value = match ty {
            Some("integer" | "number" | "boolean") => serde_json::from_str(raw)
                .ok()
                .filter(|v: &Value| !v.is_string())
                .unwrap_or_else(|| Value::String(raw.clone())),
            _ => Value::String(raw.clone()),
        };
        args.insert(name.clone(), value);
    }
    let instance = Value::Object(args);
    let found = crate::gateway::invalid::problems(&call.validator, &instance, 11);
    let known: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(e) =
        ArgumentErrors::of_schema("resource", uri.to_string(), &found, &known, NOTHING_SENT)
    {
        return Err(ReadError::Arguments(e.to_string()));
    }
    match instance {
        Value::Object(args) => Ok(args),
        _ => Ok(Map::new()),
    }
}

/// The contents of `uri` from the upstream's answer, with `mime_type` as the fallback media
/// type when the upstream sends none.
pub fn contents(
    uri: &str,
    resp: &UpstreamResponse,
    mime_type: Option<&str>,
) -> Result<ResourceContents, ReadError> {
    let status = resp.status.as_u16();
    if matches!(status, 404 | 410) {
        return Err(ReadError::NotFound(status));
    }
    if !resp.status.is_success() {
        let body = if resp.body.is_empty() {
            String::new()
        } else {
            format!(": {}", excerpt(&resp.body, ERROR_EXCERPT_BYTES))
        };
        return Err(ReadError::Status { status, body });
    }
    if resp.truncated {
        // Half a document would be read as the whole one.
        return Err(ReadError::TooLarge);
    }
    let m = match media(resp.content_type.as_deref()) {
        m if m.is_empty() => mime_type.map(str::to_string).unwrap_or_default(),
        m => m,
    };
    Ok(body_contents(uri, &resp.body, &m))
}

/// `body` as the contents of `uri`: text when the media type is textual and the bytes are
/// UTF-8, otherwise a base64 blob.
pub fn body_contents(uri: &str, body: &[u8], media_type: &str) -> ResourceContents {
    let textual = is_json(media_type) || is_text(media_type) || media_type.is_empty();
    match std::str::from_utf8(body) {
        Ok(text) if textual => {
            let m = if media_type.is_empty() {
                "text/plain"
            } else {
                media_type
            };
            ResourceContents::text(text, uri).with_mime_type(m)
        }
        _ => {
            let blob = base64::engine::general_purpose::STANDARD.encode(body);
            let m = if media_type.is_empty() {
                "application/octet-stream"
            } else {
                media_type
            };
            ResourceContents::blob(blob, uri).with_mime_type(m)
        }
    }
}
