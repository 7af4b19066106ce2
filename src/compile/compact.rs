//! Output schemas made smaller without becoming false.
//!
//! Real specs describe answers in tens of kilobytes (Spotify's search: 44 KB of `outputSchema`),
//! and every byte of a definition is read by the model on every turn. A *looser* schema is still
//! true of every answer, so compaction only ever removes constraints, in this order, stopping as
//! soon as the schema fits:
//!
//! 1. annotations no client needs in an output (`example`, `examples`, `$comment`, `deprecated`,
//!    `readOnly`, `writeOnly`, …);
//! 2. descriptions, titles and defaults below the answer's own fields, deepest first;
//! 3. whole subtrees, deepest first: a subtree becomes `{"type": …}` (its type kept) or `{}`;
//! 4. at the most, the answer's own fields with their types and nothing deeper.
//!
//! Only subschemas in *positive* positions (`properties`, `items`, `allOf`, `anyOf`, …) are
//! replaced: loosening a subschema there loosens the whole. A `oneOf` is made an `anyOf` before
//! anything beneath it is loosened (two loosened branches might both match); `not`, `if`/`then`/
//! `else` and `contains` are dropped whole rather than loosened inside; a schema that uses
//! `unevaluatedProperties`/`unevaluatedItems` only loses annotations. `$defs` are never
//! loosened, only pruned when nothing refers to them any more. [`super::loosen::check`]
//! verifies the result independently before it is declared.

use serde_json::{Map, Value};

/// Limits for one output schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Depth described (1: the answer's own fields, each reduced to its type); deeper subtrees
    /// are collapsed.
    pub(crate) max_depth: Option<usize>,
    /// Target size in bytes of compact JSON.
    pub(crate) max_bytes: usize,
}

/// Annotations dropped first: they never help an agent read an answer.
const NOISE: &[&str] = &[
    "example",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "xml",
    "discriminator",
];
/// Annotations dropped deepest first when the schema is still too big.
const PROSE: &[&str] = &["description", "title", "default"];

/// Keywords whose value is a map of subschemas for deeper parts of the instance.
const DEEPER_MAPS: &[&str] = &["properties", "patternProperties"];
/// Keywords whose value is one subschema for deeper parts of the instance.
const DEEPER_ONE: &[&str] = &["items", "additionalProperties", "propertyNames"];
/// Keywords whose value is a list of subschemas for the same instance, all in positive position.
const SAME_LISTS: &[&str] = &["allOf", "anyOf"];
/// Keywords whose subschemas are not in positive position: dropped whole, never loosened inside.
const OPAQUE: &[&str] = &["not", "if", "then", "else", "contains", "oneOf"];

/// `schema` compacted to `limits`; unchanged when it already fits and no depth is forced.
pub(crate) fn compact(schema: &Value, limits: Limits) -> Value {
    if limits.max_depth.is_none() && size(schema) <= limits.max_bytes {
        return schema.clone();
    }
    let mut s = schema.clone();
    strip(&mut s, NOISE, 0, 0);
    let loosenable = !mentions_unevaluated(&s);
    if let (Some(d), true) = (limits.max_depth, loosenable) {
        collapse(&mut s, 0, d.max(1) - 1);
        prune_defs(&mut s);
    }
    if size(&s) <= limits.max_bytes {
        return s;
    }
    let deepest = depth_of(&s, 0);
    let fits = |s: &Value| size(s) <= limits.max_bytes;
    for d in (2..=deepest).rev() {
        strip(&mut s, PROSE, 0, d);
        if fits(&s) {
            return s;
        }
    }
    if !loosenable {
        return s;
    }
    for d in (1..deepest).rev() {
        collapse(&mut s, 0, d);
        prune_defs(&mut s);
        if fits(&s) {
            return s;
        }
    }
    // Last resort: the answer's own fields with their types, and nothing deeper.
    strip(&mut s, PROSE, 0, 1);
    if !fits(&s) {
        collapse(&mut s, 0, 0);
        prune_defs(&mut s);
    }
    s
}

/// Removes descriptions, titles and examples deeper than `keep` (an annotation never changes
/// what validates: used to trim input schemas, which are never loosened).
pub(crate) fn trim_prose(schema: &mut Value, keep: usize) {
    // Defaults stay: the agent relies on them to know what an omitted argument means.
    strip(
        schema,
        &["description", "title", "example", "examples"],
        0,
        keep + 1,
    );
}

/// Bytes of compact JSON, as a definition carries it.
pub(crate) fn size(v: &Value) -> usize {
    serde_json::to_string(v).map_or(0, |s| s.len())
}

/// Calls `f(child, child_depth)` for every subschema of `node` (including `$defs`, counted one
/// level down).
fn children(node: &mut Map<String, Value>, depth: usize, f: &mut impl FnMut(&mut Value, usize)) {
    for (k, v) in node.iter_mut() {
        let k = k.as_str();
        if DEEPER_MAPS.contains(&k) || k == "$defs" {
            if let Value::Object(m) = v {
                m.values_mut().for_each(|c| f(c, depth + 1));
            }
        } else if k == "dependentSchemas" {
            if let Value::Object(m) = v {
                m.values_mut().for_each(|c| f(c, depth));
            }
        } else if DEEPER_ONE.contains(&k) || k == "unevaluatedProperties" || k == "unevaluatedItems"
        {
            f(v, depth + 1);
        } else if k == "prefixItems" {
            if let Value::Array(a) = v {
                a.iter_mut().for_each(|c| f(c, depth + 1));
            }
        } else if SAME_LISTS.contains(&k) || k == "oneOf" {
            if let Value::Array(a) = v {
                a.iter_mut().for_each(|c| f(c, depth));
            }
        } else if OPAQUE.contains(&k) {
            f(v, if k == "contains" { depth + 1 } else { depth });
        }
    }
}

/// Removes the keywords `keys` from every subschema at depth `min_depth` or deeper.
fn strip(v: &mut Value, keys: &[&str], depth: usize, min_depth: usize) {
    let Value::Object(o) = v else { return };
    if depth >= min_depth {
        o.retain(|k, _| !keys.contains(&k.as_str()) && !k.starts_with("x-"));
    }
    children(o, depth, &mut |c, d| strip(c, keys, d, min_depth));
}

/// The deepest subschema's depth.
fn depth_of(v: &Value, depth: usize) -> usize {
    let o = match v {
        Value::Object(o) => o,
        // A list of branches (`oneOf`) is as deep as its deepest branch.
        Value::Array(a) => return a.iter().map(|c| depth_of(c, depth)).max().unwrap_or(depth),
        _ => return depth,
    };
    let mut deepest = depth;
    for (k, c) in o {
        let k = k.as_str();
        let mut visit = |c: &Value, d: usize| deepest = deepest.max(depth_of(c, d));
        match c {
            Value::Object(m) if DEEPER_MAPS.contains(&k) || k == "$defs" => {
                m.values().for_each(|c| visit(c, depth + 1));
            }
            Value::Object(m) if k == "dependentSchemas" => m.values().for_each(|c| visit(c, depth)),
            Value::Array(a) if k == "prefixItems" => a.iter().for_each(|c| visit(c, depth + 1)),
            Value::Array(a) if SAME_LISTS.contains(&k) || k == "oneOf" => {
                a.iter().for_each(|c| visit(c, depth));
            }
            _ if DEEPER_ONE.contains(&k) || k == "contains" || k.starts_with("unevaluated") => {
                visit(c, depth + 1);
            }
            _ if OPAQUE.contains(&k) => visit(c, depth),
            _ => {}
        }
    }
    deepest
}

fn mentions_unevaluated(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.iter().any(|(k, c)| {
            k == "unevaluatedProperties" || k == "unevaluatedItems" || mentions_unevaluated(c)
        }),
        Value::Array(a) => a.iter().any(mentions_unevaluated),
        _ => false,
    }
}

/// Replaces every subschema deeper than `keep` (reached through positive positions) by its
/// collapsed form.
fn collapse(v: &mut Value, depth: usize, keep: usize) {
    if depth > keep {
        *v = collapsed(v);
        return;
    }
    if depth_of(v, depth) <= keep {
        return;
    }
    let Value::Object(o) = v else { return };
    // Constraints that cannot be loosened from inside go whole: dropping one only loosens.
    let too_deep = |c: &Value, d: usize| depth_of(c, d) > keep;
    if o.get("not").is_some_and(|c| too_deep(c, depth)) {
        o.remove("not");
    }
    if ["if", "then", "else"]
        .iter()
        .any(|k| o.get(*k).is_some_and(|c| too_deep(c, depth)))
    {
        for k in ["if", "then", "else"] {
            o.remove(k);
        }
    }
    if o.get("contains").is_some_and(|c| too_deep(c, depth + 1)) {
        for k in ["contains", "minContains", "maxContains"] {
            o.remove(k);
        }
    }
    // `anyOf` is looser than `oneOf` (at least one instead of exactly one), and loosening its
    // branches is safe; with an `anyOf` already there the `oneOf` is kept as written.
    if !o.contains_key("anyOf")
        && let Some(branches) = o.get("oneOf").filter(|b| too_deep(b, depth))
    {
        let branches = branches.clone();
        o.remove("oneOf");
        o.insert("anyOf".into(), branches);
    }
    for (k, c) in o.iter_mut() {
        let k = k.as_str();
        if DEEPER_MAPS.contains(&k) {
            if let Value::Object(m) = c {
                m.values_mut().for_each(|s| collapse(s, depth + 1, keep));
            }
        } else if k == "dependentSchemas" {
            if let Value::Object(m) = c {
                m.values_mut().for_each(|s| collapse(s, depth, keep));
            }
        } else if DEEPER_ONE.contains(&k) {
            collapse(c, depth + 1, keep);
        } else if k == "prefixItems" {
            if let Value::Array(a) = c {
                a.iter_mut().for_each(|s| collapse(s, depth + 1, keep));
            }
        } else if SAME_LISTS.contains(&k)
            && let Value::Array(a) = c
        {
            a.iter_mut().for_each(|s| collapse(s, depth, keep));
        }
    }
}

/// A subschema reduced to its type (a constraint the original has too), or to `{}`.
fn collapsed(v: &Value) -> Value {
    let mut out = Map::new();
    if let Some(t) = v.get("type") {
        out.insert("type".into(), t.clone());
    }
    match v {
        Value::Bool(false) => Value::Bool(false),
        _ => Value::Object(out),
    }
}

/// Drops `$defs` entries that nothing outside `$defs` refers to, directly or through other defs.
fn prune_defs(root: &mut Value) {
    let Some(Value::Object(defs)) = root.get("$defs").cloned() else {
        return;
    };
    let mut without = root.clone();
    if let Value::Object(o) = &mut without {
        o.remove("$defs");
    }
    let mut live: Vec<String> = Vec::new();
    let mut todo = refs(&without);
    while let Some(name) = todo.pop() {
        if live.contains(&name) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            todo.extend(refs(def));
        }
        live.push(name);
    }
    if let Value::Object(o) = root {
        if live.is_empty() {
            o.remove("$defs");
        } else if let Some(Value::Object(d)) = o.get_mut("$defs") {
            d.retain(|k, _| live.contains(k));
        }
    }
}

/// Names `X` of every `"$ref": "#/$defs/X"` in `v`.
fn refs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str)
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    out.push(crate::manifest::unescape_segment(name));
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(max_bytes: usize) -> Limits {
        Limits {
            max_depth: None,
            max_bytes,
        }
    }

    #[test]
    fn a_schema_that_fits_is_left_as_written() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string", "example": "x"}}});
        assert_eq!(compact(&s, limits(10_000)), s);
    }

    #[test]
    fn examples_go_first_and_a_property_named_example_stays() {
        let s = json!({"type": "object", "properties": {
            "example": {"type": "string", "examples": ["a long example value"], "description": "kept"}}});
        let out = compact(&s, limits(100));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"example": {"type": "string", "description": "kept"}}})
        );
    }

    #[test]
    fn deep_subtrees_collapse_to_their_type_and_top_fields_stay() {
        let s = json!({"type": "object", "properties": {
            "user": {"type": "object", "description": "who", "properties": {
                "login": {"type": "string", "description": "the login"},
                "plan": {"type": ["object", "null"], "properties": {"name": {"type": "string"}}}}}}});
        let out = compact(
            &s,
            Limits {
                max_depth: Some(2),
                max_bytes: usize::MAX,
            },
        );
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"user": {"type": "object", "description": "who", "properties": {
                "login": {"type": "string"}, "plan": {"type": ["object", "null"]}}}}})
        );
    }

    #[test]
    fn one_of_becomes_any_of_before_its_branches_loosen() {
        let s = json!({"type": "object", "properties": {"pet": {"oneOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "object", "properties": {"x": {"type": "string"}}}}},
            {"type": "object", "required": ["b"]}]}}});
        let out = compact(
            &s,
            Limits {
                max_depth: Some(3),
                max_bytes: usize::MAX,
            },
        );
        assert!(out.pointer("/properties/pet/oneOf").is_none());
        assert_eq!(
            out.pointer("/properties/pet/anyOf/0/properties/a/properties/x"),
            Some(&json!({"type": "string"}))
        );
        assert!(super::super::loosen::check(&out, &s).is_ok());
    }

    #[test]
    fn defs_nothing_refers_to_any_more_are_pruned() {
        let s = json!({"type": "object", "properties": {"node": {"type": "object", "properties": {
            "child": {"$ref": "#/$defs/Node"}}}}, "$defs": {"Node": {"type": "object", "properties": {
                "child": {"$ref": "#/$defs/Node"}}}}});
        let out = compact(
            &s,
            Limits {
                max_depth: Some(1),
                max_bytes: usize::MAX,
            },
        );
        assert!(out.get("$defs").is_none(), "{out}");
    }
}
