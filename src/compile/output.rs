//! The output side of a tool: which success answer its schema comes from, and whether that
//! schema is an object (`structuredContent` as is) or must be wrapped.

use serde_json::{Map, Value};

use crate::openapi::{Operation, RawSchema};

/// The JSON schema of the first successful response (200 first, then other 2xx in order).
pub(super) fn success_schema(op: &Operation) -> Option<&RawSchema> {
    fn json_schema(r: &crate::openapi::Response) -> Option<&RawSchema> {
        r.content
            .iter()
            .find(|(m, _)| crate::openapi::is_json(m))
            .and_then(|(_, s)| s.as_ref())
            // Bytes labelled JSON (Swagger 2.0's global `produces` over a `type: file` or
            // `format: binary` answer, such as Docker's log stream) are not a JSON document.
            .filter(|s| {
                let v = &s.value;
                !(v["type"] == "file" || (v["type"] == "string" && v["format"] == "binary"))
            })
    }
    let candidates = op.responses.iter().filter(|r| r.status == "200").chain(
        op.responses
            .iter()
            .filter(|r| r.status.starts_with('2') && r.status != "200"),
    );
    for r in candidates {
        if let Some(s) = json_schema(r) {
            return Some(s);
        }
        if r.content.iter().any(|(m, _)| !crate::openapi::is_json(m)) || r.status == "204" {
            return None; // the success answer is not JSON: no structured output
        }
    }
    None
}

/// A root that is only `{"$ref": "#/$defs/X"}` (a recursive schema) is replaced by X's body,
/// keeping X in `$defs` for the inner references, so an object stays recognisably an object.
pub(super) fn unwrap_recursive_root(schema: Value, defs: Option<&mut Map<String, Value>>) -> Value {
    let name = match schema.as_object() {
        Some(o) if o.len() == 1 => o
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(str::to_string),
        _ => None,
    };
    match (name, defs) {
        (Some(name), Some(defs)) => defs.get(&name).cloned().unwrap_or(schema),
        _ => schema,
    }
}

pub(super) fn is_object_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(t) => t == "object",
        None if ["oneOf", "anyOf"].iter().any(|k| schema.get(*k).is_some()) => false,
        // "Paging object + items": every part of an `allOf` is an object, so the answer is.
        None => match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) => !parts.is_empty() && parts.iter().all(is_object_schema),
            None => schema.get("properties").is_some(),
        },
    }
}
