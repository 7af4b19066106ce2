//! Prompts, resources and completions as MCP serves them: list definitions, `prompts/get`
//! (rendering the compiled templates), `resources/read` (a file, or the bound GET operation)
//! and `completion/complete`.
//!
//! Errors follow the spec: an unknown prompt, a missing or unknown argument, a URI that names no
//! resource are the caller's (`-32602`; not-found is `-32002` for 2025 peers and becomes
//! `-32602` for 2026 ones in rmcp); an upstream failure is an internal error naming it.

use rmcp::model::{
    CacheScope, CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock, ErrorData,
    GetPromptResult, PromptMessage, ReadResourceResponse, ReadResourceResult, Reference,
    ResourceContents, Role,
};
use serde_json::{Map, Value, json};

use super::client_span::ClientSpan;
use super::handler::Shared;
use crate::auth::Principal;
use crate::gateway::invalid::{ArgumentErrors, unknown_arguments};
use crate::gateway::{Completion, MessageContent, Resolved, ResourceSource, templates};
use crate::runtime::Served;
use crate::telemetry::trace::TraceParent;
use crate::upstream::{ReadError, UpstreamError, contents, resource_arguments};

pub use crate::gateway::{prompt_definition, resource_definition, template_definition};

fn not_found(uri: &str, why: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!("Resource not found: `{uri}` {why}"),
        Some(json!({ "uri": uri })),
    )
}

/// The answer to a `resources/read` whose read gave `contents` (rmcp's handler and the fast
/// path both send this). Resources are read live from the upstream: clients should not hold
/// them for long.
pub(crate) fn read_result(contents: ResourceContents) -> ReadResourceResponse {
    ReadResourceResult::new(vec![contents])
        .with_ttl_ms(0)
        .with_cache_scope(CacheScope::Private)
        .into()
}

/// Reads `uri` on snapshot `g`.
pub(crate) async fn read(
    shared: &Shared,
    g: &Served,
    uri: &str,
    caller: Option<&Principal>,
    parent: Option<TraceParent>,
) -> Result<ResourceContents, ErrorData> {
    if uri.starts_with(super::files::BLOB_PREFIX) {
        return super::files::read(shared, g, uri, caller).await;
    }
    let Some(resolved) = g.catalog.resolve(uri) else {
        return Err(not_found(
            uri,
            "is not one of this server's resources and matches none of its templates (see resources/list and resources/templates/list)",
        ));
    };
    let (call, vars, mime) = match resolved {
        Resolved::Static(r) => match &r.source {
            ResourceSource::File { data, mime_type } => {
                return Ok(crate::upstream::body_contents(uri, data, mime_type));
            }
            ResourceSource::Upstream(call) => (call, Vec::new(), r.mime_type.as_deref()),
        },
        Resolved::Template(t, vars) => (&t.call, vars, t.mime_type.as_deref()),
    };
    let data = Some(json!({ "uri": uri }));
    let result = async {
        let args = resource_arguments(uri, call, &vars)?;
        let span = ClientSpan::start(parent, g, &call.plan);
        let answer = shared
            .upstream
            .send(g, &call.plan, call.timeout, &args, caller, &span.headers())
            .await;
        span.finish(&answer, 0);
        contents(uri, &answer?, mime)
    }
    .await;
    result.map_err(|e| match e {
        ReadError::Arguments(m) => ErrorData::invalid_params(m, data),
        // A value that cannot go into the request (`..` as a path segment, a line break in
        // a header) is the caller's mistake, like a value of the wrong type.
        ReadError::Upstream(UpstreamError::Build(b)) => {
            ErrorData::invalid_params(format!("`{uri}` cannot be read: {b}"), data)
        }
        ReadError::NotFound(_) => not_found(uri, &format!("({e})")),
        other => {
            tracing::warn!(uri, error = %other, "resource read failed");
            ErrorData::internal_error(format!("Reading `{uri}` failed: {other}"), data)
        }
    })
}

/// What a prompt call with invalid arguments did.
const PROMPT_NOT_RENDERED: &str = "The prompt was not rendered and nothing was sent to the API; fix the arguments and call again.";

/// `prompts/get`: checks the arguments and renders every message.
pub(crate) async fn get_prompt(
    shared: &Shared,
    g: &Served,
    name: &str,
    given: Option<Map<String, Value>>,
    caller: Option<&Principal>,
    parent: Option<TraceParent>,
) -> Result<GetPromptResult, ErrorData> {
    let Some(prompt) = g.catalog.prompt(name) else {
        let names: Vec<&str> = g.catalog.prompts.iter().map(|p| p.name.as_str()).collect();
        return Err(ErrorData::invalid_params(
            format!(
                "Unknown prompt: `{name}`. Available prompts: {}",
                names.join(", ")
            ),
            None,
        ));
    };
    let given = given.unwrap_or_default();
    // Every problem at once, worded as a tool's arguments are (`gateway::invalid`).
    let names: Vec<&str> = prompt.arguments.iter().map(|a| a.name.as_str()).collect();
    let mut lines = Vec::new();
    let mut unknown: Vec<&str> = given
        .keys()
        .map(String::as_str)
        .filter(|k| !names.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        lines.push(unknown_arguments("prompt", &unknown, &names));
    }
    // Missing optional arguments render as empty text, so `{% if x %}` works on them.
    let mut ctx = Map::new();
    for a in &prompt.arguments {
        let value = match given.get(&a.name) {
            None | Some(Value::Null) if a.required => {
                lines.push(format!("missing required argument `{}`", a.name));
                continue;
            }
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if !a.allowed.is_empty() && !value.is_empty() && !a.allowed.contains(&value) {
            lines.push(format!(
                "argument `{}`: {} is not one of the allowed values: {}",
                a.name,
                Value::String(value),
                a.allowed
                    .iter()
                    .map(|v| Value::String(v.clone()).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        ctx.insert(a.name.clone(), Value::String(value));
    }
    if let Some(e) = ArgumentErrors::new("prompt", name.to_string(), lines, PROMPT_NOT_RENDERED) {
        return Err(ErrorData::invalid_params(e.to_string(), None));
    }
    let ctx = Value::Object(ctx);
    let render = |source: &str| {
        templates()
            .render_str(source, minijinja::value::Serde(&ctx))
            .map_err(|e| ErrorData::internal_error(format!("prompt `{name}`: {e}"), None))
    };
    let mut messages = Vec::new();
    for m in &prompt.messages {
        let role = if m.assistant {
            Role::Assistant
        } else {
            Role::User
        };
        let content = match &m.content {
            MessageContent::Text(t) => ContentBlock::text(render(t)?),
            MessageContent::Image { data, mime_type } => {
                ContentBlock::image(data.clone(), mime_type.clone())
            }
            MessageContent::Resource(u) => {
                let uri = render(u)?;
                ContentBlock::resource(read(shared, g, uri.trim(), caller, parent).await?)
            }
            MessageContent::ImageResource { uri, mime_type } => {
                let uri = render(uri)?;
                match read(shared, g, uri.trim(), caller, parent).await? {
                    ResourceContents::BlobResourceContents {
                        blob, mime_type: m, ..
                    } => ContentBlock::image(
                        blob,
                        mime_type
                            .clone()
                            .or(m)
                            .unwrap_or_else(|| "image/png".into()),
                    ),
                    _ => {
                        return Err(ErrorData::internal_error(
                            format!("prompt `{name}`: the resource `{uri}` is text, not an image"),
                            None,
                        ));
                    }
                }
            }
        };
        messages.push(PromptMessage::new(role, content));
    }
    let mut result = GetPromptResult::new(messages);
    result.description = Some(prompt.description.clone());
    Ok(result)
}

/// Most values one completion answer carries (the protocol's limit).
const MAX_COMPLETIONS: usize = CompletionInfo::MAX_VALUES;

/// `completion/complete`.
pub(crate) async fn complete(
    shared: &Shared,
    g: &Served,
    req: &CompleteRequestParams,
    caller: Option<&Principal>,
    parent: Option<TraceParent>,
) -> Result<CompleteResult, ErrorData> {
    let arg = &req.argument.name;
    let completion = match &req.r#ref {
        Reference::Prompt(p) => {
            let prompt = g.catalog.prompt(&p.name).ok_or_else(|| {
                ErrorData::invalid_params(format!("Unknown prompt: `{}`", p.name), None)
            })?;
            let a = prompt
                .arguments
                .iter()
                .find(|a| &a.name == arg)
                .ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("Prompt `{}` has no argument `{arg}`", p.name),
                        None,
                    )
                })?;
            a.completion.as_ref()
        }
        Reference::Resource(r) => {
            let t = g
                .catalog
                .templates
                .iter()
                .find(|t| t.template.as_str() == r.uri)
                .ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("Unknown resource template: `{}`", r.uri),
                        None,
                    )
                })?;
            if !t.template.variables().any(|v| v == arg) {
                return Err(ErrorData::invalid_params(
                    format!("Resource template `{}` has no variable `{arg}`", r.uri),
                    None,
                ));
            }
            t.completions.get(arg)
        }
        _ => None,
    };
    let typed = req.argument.value.as_str();
    let (listed, upstream) = match completion {
        None => (Vec::new(), None),
        Some(Completion::Values(v)) => (prefixed(v, typed), None),
        Some(Completion::Upstream {
            values,
            call,
            argument,
            pointer,
            field,
        }) => (
            prefixed(values, typed),
            Some((call, argument, pointer, field)),
        ),
    };
    let mut values = listed;
    if let Some((call, argument, pointer, field)) = upstream {
        let mut args = call.fixed.clone();
        if let Some(a) = argument {
            args.insert(a.clone(), Value::String(typed.to_string()));
        }
        let typed_lower = typed.to_lowercase();
        let span = ClientSpan::start(parent, g, &call.plan);
        let answer = shared
            .upstream
            .send(g, &call.plan, call.timeout, &args, caller, &span.headers())
            .await;
        span.finish(&answer, 0);
        match answer {
            Ok(resp) if resp.status.is_success() => {
                let found = serde_json::from_slice::<Value>(&resp.body)
                    .ok()
                    .and_then(|v| v.pointer(pointer).cloned());
                for item in found
                    .as_ref()
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let v = match item.pointer(field) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => continue,
                        Some(other) => other.to_string(),
                    };
                    // A search endpoint has matched already; a plain list is matched here.
                    let matches = argument.is_some() || v.to_lowercase().starts_with(&typed_lower);
                    if matches && !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
            // Completion is a convenience: an upstream failure leaves the listed values.
            Ok(resp) => tracing::debug!(status = resp.status.as_u16(), "completion lookup failed"),
            Err(e) => tracing::debug!(error = %e, "completion lookup failed"),
        }
    }
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    let info =
        CompletionInfo::with_pagination(values, u32::try_from(total).ok(), total > MAX_COMPLETIONS)
            .map_err(|e| ErrorData::internal_error(e, None))?;
    Ok(CompleteResult::new(info))
}

/// The values that start with what was typed (case-insensitively).
fn prefixed(values: &[String], typed: &str) -> Vec<String> {
    let typed = typed.to_lowercase();
    values
        .iter()
        .filter(|v| v.to_lowercase().starts_with(&typed))
        .cloned()
        .collect()
}
