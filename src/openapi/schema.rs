//! OpenAPI schemas → self-contained JSON Schema 2020-12.
//!
//! Every `$ref` is inlined, because several MCP clients reject schemas with `$ref`; only a
//! recursive schema keeps `$defs` + `$ref` (it cannot be inlined). Dialects are normalised on
//! the way: 3.0 `nullable` becomes a type array (or `anyOf` with `null`), boolean
//! `exclusiveMinimum`/`exclusiveMaximum` become numeric, `example` becomes `examples`, Swagger's
//! `type: file` and `x-nullable` are translated. Combinators (`allOf`/`oneOf`/`anyOf`) are kept
//! as they are, never flattened to a string. Keywords that are not JSON Schema (`xml`,
//! `externalDocs`, `discriminator`, `x-*`) are dropped; a discriminator is mentioned in the
//! description instead.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::{DocId, DocStore, RawSchema, RefError, SpecVersion};

/// Which side of the API a schema describes: input schemas drop `readOnly` properties, output
/// schemas drop `writeOnly` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Tool arguments (request side).
    Input,
    /// Tool results (response side).
    Output,
}

/// Nesting deeper than this is treated as malformed rather than followed (a non-recursive spec
/// never gets near it; it bounds the work on hostile input).
const MAX_DEPTH: usize = 96;

/// How many schema objects one root (an input or output schema) may inline before further
/// references go through `$defs` instead. Inlining a schema graph that shares subschemas heavily
/// (Stripe's expandable objects, Microsoft Graph, DocuSign) grows exponentially with depth; past
/// this budget (a few hundred KB of JSON, far more than an agent should read) each shared schema
/// is emitted once under `$defs`, which keeps the size linear.
pub const MAX_INLINE_NODES: usize = 1_000;

/// The most schema objects one root may hold in all, `$defs` included; past it, references are
/// left unexpanded (and compile warns). Only giant specs reach it.
pub const MAX_ROOT_NODES: usize = 2_500;

/// Keywords copied as they are (their values are not schemas).
const PLAIN_KEYWORDS: &[&str] = &[
    "title",
    "description",
    "default",
    "enum",
    "const",
    "format",
    "pattern",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "maxContains",
    "minContains",
    "required",
    "deprecated",
    "readOnly",
    "writeOnly",
    "examples",
    "contentMediaType",
    "contentEncoding",
    "dependentRequired",
];

/// Keywords whose value is one schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];

/// Keywords whose value is a list of schemas.
const LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// Keywords whose value maps names to schemas.
const MAP_KEYWORDS: &[&str] = &["patternProperties", "dependentSchemas"];

/// A schema that could not be converted.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// A reference that does not resolve.
    #[error(transparent)]
    Ref(#[from] RefError),
    /// Too deeply nested.
    #[error("schema nesting exceeds {MAX_DEPTH} levels")]
    TooDeep,
    /// Something that is not a schema where one is required.
    #[error("expected a schema object, found {0}")]
    NotASchema(String),
}

/// Converts schemas of one spec. Non-recursive results are cached by reference target and mode,
/// so a schema used by many operations is converted once (this is what keeps compiling GitHub's
/// 13 MB spec fast).
#[derive(Debug)]
pub struct Converter<'a> {
    docs: &'a DocStore,
    version: SpecVersion,
    /// Converted, self-contained schemas by reference target, with their size in schema objects.
    cache: HashMap<(String, Mode), (Value, usize)>,
    /// Emit every reference as `$ref` into the root's `$defs` (keeping `$anchor`), instead of
    /// inlining it: the form 2026-07-28 clients are shown with `schemas: {keep_2020_12: true}`.
    pub keep_refs: bool,
}

/// State of one root schema being built (its `$defs` for recursive parts).
#[derive(Debug, Default)]
pub struct Root {
    stack: Vec<String>,
    recursive: HashSet<String>,
    recursion_hits: usize,
    /// Schema objects emitted so far (the size of the inlined result, roughly).
    nodes: usize,
    /// Inlining has exceeded [`MAX_INLINE_NODES`]: further references go through `$defs`.
    def_mode: bool,
    /// [`MAX_ROOT_NODES`] was reached and some references were left unexpanded.
    truncated: bool,
    /// Names already used in `defs`.
    used_names: HashSet<String>,
    names: HashMap<String, String>,
    defs: IndexMap<String, Value>,
}

impl Root {
    /// Whether some references were left unexpanded because the schema is too large.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The definition `$defs/{name}` made so far, if any.
    pub fn def(&self, name: &str) -> Option<&Value> {
        self.defs.get(name)
    }

    /// The `$defs` needed by the schemas converted into this root, if any.
    pub fn take_defs(&mut self) -> Option<Map<String, Value>> {
        if self.defs.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.defs).into_iter().collect())
    }

    fn def_name(&mut self, key: &str) -> String {
        if let Some(n) = self.names.get(key) {
            return n.clone();
        }
        let base: String = key
            .rsplit('/')
            .next()
            .unwrap_or("schema")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = if base.is_empty() {
            "schema".to_string()
        } else {
            base
        };
        let mut name = base.clone();
        let mut i = 2;
        while self.used_names.contains(&name) {
            name = format!("{base}{i}");
            i += 1;
        }
        self.used_names.insert(name.clone());
        self.names.insert(key.to_string(), name.clone());
        name
    }
}

impl<'a> Converter<'a> {
    /// A converter for the documents of one spec.
    pub fn new(docs: &'a DocStore, version: SpecVersion) -> Self {
        Self {
            docs,
            version,
            cache: HashMap::new(),
            keep_refs: false,
        }
    }

    /// Converts `schema` for `mode` within `root`.
    pub fn convert(
        &mut self,
        root: &mut Root,
        schema: &RawSchema,
        mode: Mode,
    ) -> Result<Value, SchemaError> {
        if self.keep_refs {
            root.def_mode = true;
        }
        self.node(root, schema.doc, &schema.value, mode, 0)
    }

    /// Whether the (possibly referenced) schema is `readOnly` (for input) or `writeOnly`
    /// (for output), i.e. must be left out of that side.
    fn excluded(&self, doc: DocId, schema: &Value, mode: Mode) -> bool {
        let key = match mode {
            Mode::Input => "readOnly",
            Mode::Output => "writeOnly",
        };
        if schema.get(key).and_then(Value::as_bool) == Some(true) {
            return true;
        }
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self
                .docs
                .deref(doc, &json!({"$ref": r}))
                .map(|t| t.value.get(key).and_then(Value::as_bool) == Some(true))
                .unwrap_or(false),
            None => false,
        }
    }

    fn node(
        &mut self,
        root: &mut Root,
        doc: DocId,
        schema: &Value,
        mode: Mode,
        depth: usize,
    ) -> Result<Value, SchemaError> {
        if depth > MAX_DEPTH {
            return Err(SchemaError::TooDeep);
        }
        let obj = match schema {
            Value::Bool(_) => return Ok(schema.clone()),
            Value::Object(o) => o,
            // Some specs write `schema: null` or a bare type name; accept anything rather than
            // fail the operation, which is what the absence of a schema means.
            Value::Null => return Ok(json!({})),
            other => return Err(SchemaError::NotASchema(short(other))),
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let mut out = self.reference(root, doc, reference, mode, depth)?;
            // OpenAPI 3.1 allows keywords beside `$ref` (3.0 ignores them, but users write
            // `description` there expecting it to show, so keep the annotations).
            // `nullable` beside a `$ref` (Twilio's enums, Docker's `x-nullable`) makes the
            // referenced schema nullable, enum included: applied to the merged result, not to
            // the siblings alone.
            let nullable = (self.version != SpecVersion::OpenApi31
                && obj.get("nullable").and_then(Value::as_bool) == Some(true))
                || obj.get("x-nullable").and_then(Value::as_bool) == Some(true);
            let siblings: Map<String, Value> = obj
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "$ref" | "nullable" | "x-nullable"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !siblings.is_empty() {
                let extra = self.keywords(root, doc, &siblings, mode, depth)?;
                if let (Value::Object(o), Value::Object(e)) = (&mut out, extra) {
                    if o.contains_key("$ref") {
                        // A recursive reference: keep it intact, annotate beside it.
                        for (k, v) in e {
                            if matches!(
                                k.as_str(),
                                "description" | "title" | "default" | "examples" | "deprecated"
                            ) {
                                o.insert(k, v);
                            }
                        }
                    } else {
                        for (k, v) in e {
                            o.insert(k, v);
                        }
                    }
                }
            }
            if nullable {
                out = make_nullable(out);
            }
            return Ok(out);
        }
        self.keywords(root, doc, obj, mode, depth)
    }

    /// `{"$ref": "#/$defs/Name"}` for a schema shared through this root's `$defs` (converted
    /// once per root), used once inlining has exhausted the size budget.
    fn shared_def(
        &mut self,
        root: &mut Root,
        key: &str,
        target: super::Target<'_>,
        mode: Mode,
        depth: usize,
    ) -> Result<Value, SchemaError> {
        root.recursion_hits += 1;
        let name = root.def_name(key);
        if !root.defs.contains_key(&name) && !root.stack.iter().any(|k| k == key) {
            root.stack.push(key.to_string());
            let result = self.node(root, target.doc, target.value, mode, depth + 1);
            root.stack.pop();
            root.defs.insert(name.clone(), result?);
        }
        Ok(json!({"$ref": format!("#/$defs/{name}")}))
    }

    fn reference(
        &mut self,
        root: &mut Root,
        doc: DocId,
        reference: &str,
        mode: Mode,
        depth: usize,
    ) -> Result<Value, SchemaError> {
        let (target, key) = self.docs.resolve(doc, reference)?;
        if root.nodes > MAX_ROOT_NODES {
            // A hard stop for schema graphs whose reachable part alone is enormous (Microsoft
            // Graph): the rest is left open rather than expanded.
            root.truncated = true;
            root.recursion_hits += 1;
            return Ok(
                json!({"description": "Not expanded: the schema is too large to describe here."}),
            );
        }
        if root.stack.contains(&key) {
            root.recursive.insert(key.clone());
            root.recursion_hits += 1;
            let name = root.def_name(&key);
            return Ok(json!({"$ref": format!("#/$defs/{name}")}));
        }
        // With `keep_refs`, a parameter's or body's own schema is still expanded (its
        // properties become arguments); what it references goes through `$defs`.
        if root.def_mode && !(self.keep_refs && depth == 0) {
            return self.shared_def(root, &key, target, mode, depth);
        }
        // The cache holds inlined results; `keep_refs` expands only this level.
        if let Some((hit, size)) = self
            .cache
            .get(&(key.clone(), mode))
            .filter(|_| !self.keep_refs)
        {
            if root.nodes + size <= MAX_INLINE_NODES {
                root.nodes += size;
                return Ok(hit.clone());
            }
            root.def_mode = true;
            return self.shared_def(root, &key, target, mode, depth);
        }
        let hits_before = root.recursion_hits;
        let nodes_before = root.nodes;
        root.stack.push(key.clone());
        let result = self.node(root, target.doc, target.value, mode, depth + 1);
        root.stack.pop();
        let value = result?;
        if root.recursive.contains(&key) {
            let name = root.def_name(&key);
            root.defs.insert(name.clone(), value);
            return Ok(json!({"$ref": format!("#/$defs/{name}")}));
        }
        // Only a self-contained result can be reused elsewhere: one that references this
        // root's `$defs` (recursion, or the size budget running out) cannot.
        if root.recursion_hits == hits_before && !root.def_mode {
            self.cache
                .insert((key, mode), (value.clone(), root.nodes - nodes_before));
        }
        Ok(value)
    }

    /// [`Self::node`] of each schema in a list.
    fn nodes(
        &mut self,
        root: &mut Root,
        doc: DocId,
        list: &[Value],
        mode: Mode,
        depth: usize,
    ) -> Result<Vec<Value>, SchemaError> {
        list.iter()
            .map(|s| self.node(root, doc, s, mode, depth))
            .collect()
    }

    /// Converts the keywords of one schema object, in the order the spec wrote them.
    fn keywords(
        &mut self,
        root: &mut Root,
        doc: DocId,
        obj: &Map<String, Value>,
        mode: Mode,
        depth: usize,
    ) -> Result<Value, SchemaError> {
        root.nodes += 1;
        let mut out = Map::new();
        let legacy = self.version != SpecVersion::OpenApi31;
        let mut dropped_props: Vec<String> = Vec::new();
        for (k, v) in obj {
            let k = k.as_str();
            match k {
                "type" => match v {
                    // Swagger 2.0 `type: file`: an uploaded file's content.
                    Value::String(t) if t == "file" => {
                        out.insert("type".into(), json!("string"));
                        out.insert("format".into(), json!("binary"));
                    }
                    Value::String(_) | Value::Array(_) => {
                        out.insert("type".into(), v.clone());
                    }
                    _ => {}
                },
                "format" if out.contains_key("format") => {}
                // 3.0 has no schema-level `examples`; keep the values of a map written there.
                "examples" => match v {
                    Value::Array(_) => {
                        out.insert(k.into(), v.clone());
                    }
                    Value::Object(m) => {
                        out.insert(k.into(), Value::Array(m.values().cloned().collect()));
                    }
                    _ => {}
                },
                "example" if !obj.contains_key("examples") => {
                    out.insert("examples".into(), Value::Array(vec![v.clone()]));
                }
                // Swagger-style `required: true` on a property means nothing in JSON Schema.
                "required" if !v.is_array() => {}
                // Boolean modifiers of minimum/maximum in 2.0/3.0, numbers in 3.1.
                "exclusiveMinimum" | "exclusiveMaximum" if v.is_number() => {
                    out.insert(k.into(), v.clone());
                }
                "properties" => {
                    let Some(props) = v.as_object() else { continue };
                    let mut converted = Map::new();
                    for (name, p) in props {
                        if self.excluded(doc, p, mode) {
                            dropped_props.push(name.clone());
                            continue;
                        }
                        converted.insert(name.clone(), self.node(root, doc, p, mode, depth + 1)?);
                    }
                    out.insert("properties".into(), Value::Object(converted));
                }
                "items" => match v {
                    Value::Array(tuple) => {
                        let items = self.nodes(root, doc, tuple, mode, depth + 1)?;
                        out.insert("prefixItems".into(), Value::Array(items));
                    }
                    _ => {
                        out.insert("items".into(), self.node(root, doc, v, mode, depth + 1)?);
                    }
                },
                "additionalProperties" => {
                    let conv = match v {
                        Value::Bool(_) => v.clone(),
                        _ => self.node(root, doc, v, mode, depth + 1)?,
                    };
                    out.insert(k.into(), conv);
                }
                "discriminator" => {
                    let prop = v.get("propertyName").or(Some(v)).and_then(Value::as_str);
                    if let Some(prop) = prop {
                        let note = format!("The `{prop}` property selects the variant.");
                        let desc = match out.get("description").and_then(Value::as_str) {
                            Some(existing) => format!("{existing}\n\n{note}"),
                            None => note,
                        };
                        out.insert("description".into(), Value::String(desc));
                    }
                }
                // Only where each definition appears once: inlined copies would repeat it.
                "$anchor" if self.keep_refs => {
                    out.insert(k.into(), v.clone());
                }
                _ if PLAIN_KEYWORDS.contains(&k) => {
                    out.insert(k.into(), v.clone());
                }
                _ if SCHEMA_KEYWORDS.contains(&k) => {
                    out.insert(k.into(), self.node(root, doc, v, mode, depth + 1)?);
                }
                _ if LIST_KEYWORDS.contains(&k) => {
                    if let Value::Array(list) = v {
                        let items = self.nodes(root, doc, list, mode, depth + 1)?;
                        out.insert(k.into(), Value::Array(items));
                    }
                }
                _ if MAP_KEYWORDS.contains(&k) => {
                    if let Value::Object(m) = v {
                        let mut conv = Map::new();
                        for (name, s) in m {
                            conv.insert(name.clone(), self.node(root, doc, s, mode, depth + 1)?);
                        }
                        out.insert(k.into(), Value::Object(conv));
                    }
                }
                // `xml`, `externalDocs`, `nullable`, `x-*`, `$schema`, `$id`, `$defs` (its
                // members were inlined where referenced) and anything unknown.
                _ => {}
            }
        }
        Ok(finished(obj, out, &dropped_props, legacy))
    }
}

/// A converted schema object, finished: 2.0/3.0 boolean exclusive bounds as 3.1 numbers,
/// `required` without the properties this side dropped, `nullable` as a `null` type.
fn finished(
    obj: &Map<String, Value>,
    mut out: Map<String, Value>,
    dropped_props: &[String],
    legacy: bool,
) -> Value {
    for (ex, plain) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if obj.get(ex) == Some(&Value::Bool(true))
            && let Some(bound) = out.remove(plain)
        {
            out.insert(ex.into(), bound);
        }
    }
    if let Some(Value::Array(req)) = out.get_mut("required") {
        req.retain(|r| {
            r.as_str()
                .is_none_or(|r| !dropped_props.iter().any(|d| d == r))
        });
        if req.is_empty() {
            out.remove("required");
        }
    }
    let nullable = (legacy && obj.get("nullable").and_then(Value::as_bool) == Some(true))
        || obj.get("x-nullable").and_then(Value::as_bool) == Some(true);
    let mut out = Value::Object(out);
    if nullable {
        out = make_nullable(out);
    }
    out
}

/// Adds `null` to what a schema accepts, keeping the rest of it exact.
fn make_nullable(schema: Value) -> Value {
    let Value::Object(mut o) = schema else {
        return schema;
    };
    match o.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            o.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        _ => {
            // No `type` (a combinator or a bare reference): wrap instead of guessing one.
            return json!({"anyOf": [Value::Object(o), {"type": "null"}]});
        }
    }
    if let Some(Value::Array(values)) = o.get_mut("enum")
        && !values.iter().any(Value::is_null)
    {
        values.push(Value::Null);
    }
    Value::Object(o)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(37).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
