//! Applying a tool's response shaping ([`Shape`]) to a JSON answer: keep the selected fields,
//! cap the list with a note that stays inside the declared output schema, render the concise
//! text and the extra content blocks. `structuredContent` always carries the shaped data.

use rmcp::model::{ContentBlock, ResourceContents};
use serde_json::{Map, Value, json};

pub use crate::gateway::selection::{TRUNCATED, Under, under};
use crate::gateway::{BlockKind, Shape};

/// The shaped body and how many items were cut from its list.
pub fn shape_value(shape: &Shape, body: Value) -> (Value, Option<(usize, usize)>) {
    let mut cut = None;
    let mut body = body;
    if let Some(list) = &shape.list {
        if let Some(Value::Array(items)) = body.pointer_mut(list) {
            if let Some(max) = shape.max_items
                && items.len() > max
            {
                cut = Some((max, items.len() - max));
                items.truncate(max);
            }
            if let Some(select) = &shape.select {
                for item in items.iter_mut() {
                    *item = project(item, select);
                }
            }
        }
    } else if let Some(select) = &shape.select {
        body = project(&body, select);
    }
    (body, cut)
}

/// The note an agent reads when a list was cut.
pub fn truncation_note(shown: usize, more: usize) -> String {
    format!(
        "{more} more item{} not shown (this tool returns at most {shown}); narrow the request, e.g. with filters or a page parameter, to see them.",
        if more == 1 { "" } else { "s" }
    )
}

/// The `_truncated` value of `structuredContent`.
pub fn truncation_value(shown: usize, more: usize) -> Value {
    json!({"shown": shown, "more": more, "note": truncation_note(shown, more)})
}

/// Renders the text block and content blocks for the shaped `data` (the value
/// `structuredContent` carries, whose fields are the templates' variables).
pub fn render_blocks(shape: &Shape, data: &Value) -> Vec<ContentBlock> {
    let ctx = context(data);
    let mut out = Vec::new();
    if shape.text {
        out.push(ContentBlock::text(render(shape, "text", &ctx)));
    }
    for (i, block) in shape.blocks.iter().enumerate() {
        match &block.kind {
            BlockKind::Text => {
                out.push(ContentBlock::text(render(
                    shape,
                    &format!("block{i}"),
                    &ctx,
                )));
            }
            BlockKind::Image { data: at } | BlockKind::Audio { data: at } => {
                let Some(b64) = data.pointer(at).and_then(Value::as_str) else {
                    out.push(ContentBlock::text(format!(
                        "[the answer has no {} data at `{at}`]",
                        block.kind.label(),
                    )));
                    continue;
                };
                let mime = mime_of(block.mime_type.as_deref(), data);
                out.push(match block.kind {
                    BlockKind::Audio { .. } => ContentBlock::audio(b64.to_string(), mime),
                    _ => ContentBlock::image(b64.to_string(), mime),
                });
            }
            BlockKind::Resource { json_at } => {
                let uri = render(shape, &format!("uri{i}"), &ctx);
                let (text, default_mime) = match json_at {
                    Some(at) => (
                        data.pointer(at)
                            .map(|v| serde_json::to_string(v).unwrap_or_default())
                            .unwrap_or_else(|| "null".to_string()),
                        "application/json",
                    ),
                    None => (render(shape, &format!("block{i}"), &ctx), "text/plain"),
                };
                let mime = block
                    .mime_type
                    .as_deref()
                    .map(|m| mime_of(Some(m), data))
                    .unwrap_or_else(|| default_mime.to_string());
                out.push(ContentBlock::resource(
                    ResourceContents::text(text, uri).with_mime_type(mime),
                ));
            }
        }
    }
    out
}

/// A literal MIME type, or one read from the answer when it starts with `/`.
fn mime_of(spec: Option<&str>, data: &Value) -> String {
    match spec {
        Some(p) if p.starts_with('/') => data
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream")
            .to_string(),
        Some(m) => m.to_string(),
        None => "application/octet-stream".to_string(),
    }
}

/// Template variables: the fields of an object answer; a list answer is `result`.
fn context(data: &Value) -> Value {
    match data {
        Value::Object(_) => data.clone(),
        other => json!({ "result": other }),
    }
}

fn render(shape: &Shape, name: &str, ctx: &Value) -> String {
    match shape.templates.get_template(name) {
        Ok(t) => t
            .render(minijinja::value::Serde(ctx))
            .unwrap_or_else(|e| format!("[template `{name}` failed: {e}]")),
        Err(e) => format!("[template `{name}` missing: {e}]"),
    }
}

/// `value` reduced to the `paths` (split JSON pointers); arrays are projected item by item.
pub fn project(value: &Value, paths: &[Vec<String>]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|i| project(i, paths)).collect()),
        Value::Object(obj) => {
            let mut out = Map::new();
            for (key, child) in obj {
                match under(paths, key) {
                    Under::Nothing => {}
                    Under::Whole => {
                        out.insert(key.clone(), child.clone());
                    }
                    Under::Parts(rests) => {
                        out.insert(key.clone(), project(child, &rests));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &[&str]) -> Vec<Vec<String>> {
        p.iter()
            .map(|p| p.split('/').skip(1).map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn projection_keeps_only_the_selected_paths_through_arrays() {
        let v = json!({"id": 1, "name": "Rex", "owner": {"id": 7, "email": "x"}, "tags": [{"id": 1, "name": "a"}]});
        let p = project(&v, &segs(&["/id", "/owner/id", "/tags/name"]));
        assert_eq!(
            p,
            json!({"id": 1, "owner": {"id": 7}, "tags": [{"name": "a"}]})
        );
    }

    #[test]
    fn missing_fields_are_left_out_not_invented() {
        let p = project(&json!({"id": 1}), &segs(&["/id", "/name"]));
        assert_eq!(p, json!({"id": 1}));
    }
}
