//! Files in and out of tool calls.
//!
//! **In**: a file argument (see [`file_arguments`]) holds base64 data, the URI of a resource of
//! this server (read through [`super::catalog::read`], with the caller's own authorization), or
//! an `https://` URL on a host of `upstream.fetch_allow` ([`crate::upstream::fetch`]). A URI or
//! URL is replaced by the file's bytes (as base64, which the body builder decodes) before the
//! request is built, so a refusal leaves nothing sent. The exception is a whole binary body
//! given as a URL whose host declares the file's length: every rule is checked first, then the
//! file is streamed to the API as it arrives, framed by that length (sent once, not retried).
//!
//! **Out**: a file answer larger than the inline cap (`response.max_inline_bytes`, else
//! `upstream.max_inline_bytes`) becomes a `resource_link` to `mcp-gateway://blob/<token>`,
//! read with `resources/read` until the link expires. The token is sealed (HMAC-SHA256, the key
//! of `requestState` and paging: `MCP_GATEWAY_STATE_KEY`) and bound to the gateway and the
//! caller. For a GET tool it carries the tool, the arguments and the file's digest: any replica
//! sharing the key reads it by calling the API again, and refuses bytes that changed. For any
//! other method the bytes stay in a bounded cache of this process ([`CACHE_BYTES`]) and the
//! link only works on the replica that made it (calling a write again to read its answer would
//! repeat the write).

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use rmcp::model::{
    CallToolResult, ContentBlock, ErrorData, Resource, ResourceContents, SealOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::handler::Shared;
use crate::auth::Principal;
use crate::gateway::files::file_arguments;
use crate::gateway::{BodyEncoding, BodySource, Tool};
use crate::runtime::Served;
use crate::telemetry::trace::TraceParent;
use crate::upstream::fetch::{FetchError, Streamed};
use crate::upstream::{Answered, UpstreamResponse};

/// The URI prefix of the links to large file answers.
pub(crate) const BLOB_PREFIX: &str = "mcp-gateway://blob/";

/// How long a link to a file answer works: long enough for an agent to read it within the task
/// that called the tool, short enough that a leaked link soon stops working.
const LINK_TTL: Duration = Duration::from_secs(60 * 60);

/// The bytes of non-GET file answers kept for their links, in all: a few large files, bounded
/// so a burst of downloads cannot grow the process without limit (the oldest go first).
const CACHE_BYTES: usize = 64 * 1024 * 1024;

const NOTHING_SENT: &str = "Nothing was sent to the API.";

/// What a link's token carries.
#[derive(Debug, Serialize, Deserialize)]
enum Link {
    /// A GET tool's answer: call it again with these arguments, expect these bytes.
    #[serde(rename = "g")]
    Get {
        #[serde(rename = "t")]
        tool: String,
        #[serde(rename = "a")]
        args: Map<String, Value>,
        #[serde(rename = "m")]
        mime: String,
        /// SHA-256 of the bytes, hex.
        #[serde(rename = "d")]
        digest: String,
    },
    /// An answer kept in this process's cache under this id.
    #[serde(rename = "c")]
    Cached {
        id: String,
        #[serde(rename = "m")]
        mime: String,
    },
}

/// The bytes a link is bound to: the gateway and the caller it was made for.
fn bound(g: &Served, caller: Option<&Principal>) -> Vec<u8> {
    let subject = caller.and_then(|p| p.subject.as_deref()).unwrap_or("");
    format!("{}\u{0}blob\u{0}{subject}", g.name).into_bytes()
}

fn digest(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Replaces each file argument given as a resource URI or an `https://` URL by the file's bytes
/// (base64). The whole body of a binary media type given as a URL whose host declares the
/// file's length is not read here: it is returned, to stream to the API as it arrives (the
/// argument is left empty). Err: the message of the call's error result (nothing was sent).
pub(crate) async fn resolve_inputs(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    args: &mut Map<String, Value>,
    caller: Option<&Principal>,
    parent: Option<TraceParent>,
) -> Result<Option<Streamed>, String> {
    if let Some(name) = whole_body_argument(tool)
        && let Some(Value::String(url)) = args.get(name)
        && url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    {
        let timeout = tool.timeout.unwrap_or(g.upstream.timeout);
        let opened = crate::upstream::fetch::open(&g.upstream.files, url, timeout)
            .await
            .map_err(|e| refused(g, tool, name, &e))?;
        if let Some(length) = opened.length() {
            args.insert(name.to_string(), Value::String(String::new()));
            return Ok(Some(opened.stream(length)));
        }
        let data = opened
            .read()
            .await
            .map_err(|e| refused(g, tool, name, &e))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data.data);
        args.insert(name.to_string(), Value::String(encoded));
        return Ok(None);
    }
    for name in file_arguments(tool) {
        let Some(value) = args.get_mut(name) else {
            continue;
        };
        let items: Vec<&mut Value> = match value {
            Value::Array(a) => a.iter_mut().collect(),
            other => vec![other],
        };
        for item in items {
            // Base64 has no `:`, so a string with `://` is a URI or URL, never file data.
            let Some(text) = item.as_str().filter(|s| s.contains("://")) else {
                continue;
            };
            let data = file_at(shared, g, tool, text, caller, parent)
                .await
                .map_err(|why| format!("argument `{name}`: {why}. {NOTHING_SENT}"))?;
            *item = Value::String(data);
        }
    }
    Ok(None)
}

/// The argument that is the whole body of a binary media type, if `tool` has one.
fn whole_body_argument(tool: &Tool) -> Option<&str> {
    match &tool.plan.body.as_ref()?.source {
        BodySource::Whole(f)
            if matches!(
                tool.plan.body.as_ref()?.content_type,
                BodyEncoding::Binary(_)
            ) =>
        {
            f.arg.as_deref()
        }
        _ => None,
    }
}

/// The error message of a refused or failed fetch for argument `name`.
fn refused(g: &Served, tool: &Tool, name: &str, e: &FetchError) -> String {
    tracing::info!(gateway = %g.name, tool = %tool.name, error = %e, "file URL refused or failed");
    format!("argument `{name}`: {e}. {NOTHING_SENT}")
}

/// The base64 bytes of the file at `uri`.
async fn file_at(
    shared: &Shared,
    g: &Served,
    tool: &Tool,
    uri: &str,
    caller: Option<&Principal>,
    parent: Option<TraceParent>,
) -> Result<String, String> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        let timeout = tool.timeout.unwrap_or(g.upstream.timeout);
        let fetched = crate::upstream::fetch::fetch(&g.upstream.files, uri, timeout)
            .await
            .map_err(|e| {
                tracing::info!(gateway = %g.name, tool = %tool.name, error = %e, "file URL refused or failed");
                e.to_string()
            })?;
        return Ok(base64::engine::general_purpose::STANDARD.encode(&fetched.data));
    }
    let contents = super::catalog::read(shared, g, uri, caller, parent)
        .await
        .map_err(|e| {
            format!(
                "`{uri}` is not a file this server can read ({}); pass base64 data, the URI of one of its resources, or an https:// URL",
                e.message
            )
        })?;
    Ok(match contents {
        ResourceContents::BlobResourceContents { blob, .. } => blob,
        ResourceContents::TextResourceContents { text, .. } => {
            base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
        }
        _ => return Err(format!("`{uri}` holds no file content")),
    })
}

/// The result for a successful answer of `tool` to `args`: a file larger than the inline cap
/// becomes a link; anything else is [`crate::upstream::to_answer`]'s.
pub(crate) fn answer(
    g: &Served,
    tool: &Tool,
    args: &Map<String, Value>,
    resp: UpstreamResponse,
    caller: Option<&Principal>,
) -> Answered {
    let cap = tool
        .max_inline_bytes
        .unwrap_or(g.upstream.files.max_inline_bytes);
    // A body cut at `max_response_bytes` is not the file: it is returned with its note.
    let mime = match crate::upstream::file_media(tool, &resp) {
        Some(m) if resp.body.len() > cap && !resp.truncated => m,
        _ => return crate::upstream::to_answer(g, tool, resp),
    };
    let link = if tool.plan.method == http::Method::GET {
        Link::Get {
            tool: tool.name.clone(),
            args: args.clone(),
            mime: mime.clone(),
            digest: digest(&resp.body),
        }
    } else {
        match keep(resp.body.clone()) {
            Some(id) => Link::Cached {
                id,
                mime: mime.clone(),
            },
            None => {
                return CallToolResult::error(vec![ContentBlock::text(format!(
                    "The API accepted the call and answered with a {mime} file of {} bytes, more than this gateway keeps for links ({CACHE_BYTES} bytes); it cannot be returned. The call took effect: do not repeat it to retry.",
                    resp.body.len()
                ))])
                .into();
            }
        }
    };
    let token = match super::confirm::codec().seal_json_with(
        &link,
        &SealOptions::new()
            .associated_data(&bound(g, caller))
            .ttl(LINK_TTL),
    ) {
        Ok(t) => t,
        Err(e) => {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "The answer is a {mime} file too large to return inline, and its link could not be made: {e}"
            ))])
            .into();
        }
    };
    let uri = format!("{BLOB_PREFIX}{token}");
    let size = resp.body.len();
    let mut resource = Resource::new(uri, format!("{}-answer", tool.name))
        .with_mime_type(mime.clone())
        .with_size(size as u64);
    resource.description = Some(format!("The {mime} answer of `{}`", tool.name));
    CallToolResult::success(vec![
        ContentBlock::text(format!(
            "The answer is a {mime} file of {size} bytes, more than the {cap} bytes returned inside a result. Read it with resources/read on the linked URI within {}.",
            humantime::format_duration(LINK_TTL)
        )),
        ContentBlock::resource_link(resource),
    ])
    .into()
}

/// `resources/read` of a link to a file answer.
pub(crate) async fn read(
    shared: &Shared,
    g: &Served,
    uri: &str,
    caller: Option<&Principal>,
) -> Result<ResourceContents, ErrorData> {
    let data = Some(json!({ "uri": uri }));
    let token = uri.strip_prefix(BLOB_PREFIX).unwrap_or_default();
    let link: Link = super::confirm::codec()
        .open_json_with(token, &bound(g, caller))
        .map_err(|_| {
            ErrorData::resource_not_found(
                format!("Resource not found: `{uri}` is not a valid link to a file answer of this server: it has expired, was altered, or was made for another caller. Call the tool again for a new link."),
                data.clone(),
            )
        })?;
    let (bytes, mime) = match link {
        Link::Cached { id, mime } => match kept(&id) {
            Some(b) => (b, mime),
            None => {
                return Err(ErrorData::resource_not_found(
                    format!(
                        "Resource not found: the file behind `{uri}` is no longer kept (it expired or was evicted, or the link was made by another replica of this gateway). Call the tool again for a new link."
                    ),
                    data,
                ));
            }
        },
        Link::Get {
            tool,
            args,
            mime,
            digest: expected,
        } => {
            let Some(t) = g.tool(&tool) else {
                return Err(ErrorData::resource_not_found(
                    format!(
                        "Resource not found: the tool `{tool}` behind `{uri}` is no longer served."
                    ),
                    data,
                ));
            };
            if let (Some(auth), Some(p)) = (&g.auth, caller)
                && !auth.may_call(p, t)
            {
                return Err(ErrorData::invalid_params(
                    format!(
                        "Not authorized: reading `{uri}` calls `{tool}`, which needs the scopes {}.",
                        t.scopes.join(" ")
                    ),
                    data,
                ));
            }
            let (answer, _) = shared
                .upstream
                .call_plan(g, t, &t.plan, &args, caller, &[])
                .await;
            let resp = answer.map_err(|e| {
                ErrorData::internal_error(format!("Reading `{uri}` failed: {e}"), data.clone())
            })?;
            if !resp.status.is_success() || resp.truncated || digest(&resp.body) != expected {
                return Err(ErrorData::internal_error(
                    format!(
                        "Reading `{uri}` failed: the API now answers {} with other content than when the link was made. Call `{tool}` again for a new link.",
                        resp.status.as_u16()
                    ),
                    data,
                ));
            }
            (resp.body, mime)
        }
    };
    let blob = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(ResourceContents::blob(blob, uri).with_mime_type(mime))
}

/// One kept answer.
#[derive(Debug)]
struct Kept {
    id: String,
    until: Instant,
    data: Bytes,
}

/// The non-GET file answers behind links, oldest first, with their total size.
static CACHE: LazyLock<Mutex<(VecDeque<Kept>, usize)>> = LazyLock::new(Mutex::default);

/// Keeps `data` for a link; its id, or `None` when it alone exceeds the cache.
fn keep(data: Bytes) -> Option<String> {
    if data.len() > CACHE_BYTES {
        return None;
    }
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).ok()?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let now = Instant::now();
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let (entries, total) = &mut *guard;
    while let Some(front) = entries.front() {
        if front.until > now && *total + data.len() <= CACHE_BYTES {
            break;
        }
        *total -= front.data.len();
        entries.pop_front();
    }
    *total += data.len();
    entries.push_back(Kept {
        id: id.clone(),
        until: now + LINK_TTL,
        data,
    });
    Some(id)
}

/// The kept answer `id`, if it is still there.
fn kept(id: &str) -> Option<Bytes> {
    let guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    guard
        .0
        .iter()
        .find(|k| k.id == id && k.until > Instant::now())
        .map(|k| k.data.clone())
}
