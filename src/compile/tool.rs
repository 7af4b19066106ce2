//! One operation → one tool: the input schema (parameters plus a flattened or whole body), the
//! output schema, annotations, and the call plan that `upstream` executes.
//!
//! Argument naming rule (documented in the README): parameters keep their spec names (or their
//! `rename`); properties of an object JSON/form body become top-level arguments too, and a body
//! property whose name is already taken by a parameter is exposed as `body_<name>`. A body that
//! is not a plain object (array, scalar, `oneOf`…) is one argument named `body`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::values::{ValueCheck, check_values};
use crate::diag::Diagnostic;
use crate::gateway::{
    Annotations, BodyPlan, BodySource, CallPlan, OutputShape, ParamBinding, PathPart, Tool,
};
use crate::manifest::{ToolConfig, pointer_segment};
use crate::openapi::schema::{Converter, Mode, Root};
use crate::openapi::{Operation, RawSchema};

/// A problem with one tool, located relative to its manifest entry (`/params/petId`).
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) pointer: String,
    pub(crate) diag: Diagnostic,
}

pub(crate) fn problem(pointer: impl Into<String>, diag: Diagnostic) -> Problem {
    Problem {
        pointer: pointer.into(),
        diag,
    }
}

/// Descriptions longer than this are flagged: every tool definition is paid for in the agent's
/// context on every turn.
pub(crate) const LONG_DESCRIPTION: usize = 1024;

/// Words that tell an agent what a destructive tool destroys.
const DESTRUCTIVE_WORDS: &[&str] = &[
    "delete",
    "remove",
    "destroy",
    "erase",
    "overwrite",
    "replace",
    "purge",
    "drop",
    "revoke",
    "cancel",
    "permanent",
    "wipe",
    "discard",
    "irreversibl",
];

/// Builds the tool for `op`, shaped by `cfg` (absent for `inspect --spec`). Returns the tool and
/// its warnings, or every problem found.
pub(crate) fn build(
    conv: &mut Converter<'_>,
    op: &Operation,
    cfg: Option<&ToolConfig>,
    name: String,
    timeout: Option<Duration>,
    opts: super::ToolOptions,
) -> Result<(Tool, Vec<Problem>), Vec<Problem>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let empty = indexmap::IndexMap::new();
    let overrides = cfg.map(|c| &c.params).unwrap_or(&empty);
    let mut used_overrides: Vec<&str> = Vec::new();

    let mut root = Root::default();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut bindings = Vec::new();
    let mut checks: Vec<ValueCheck> = Vec::new();

    // Parameters.
    for p in &op.params {
        let key = p.name.as_str();
        let ov = overrides.get(key);
        if ov.is_some() {
            used_overrides.push(key);
        }
        let ptr = format!("/params/{}", pointer_segment(key));
        let mut schema = match conv.convert(&mut root, &p.schema, Mode::Input) {
            Ok(s) => s,
            Err(e) => {
                errors.push(problem(
                    "/operation",
                    Diagnostic::error(
                        "bad-schema",
                        format!("parameter `{key}` of {}: {e}", op.label()),
                    )
                    .with_hint("fix the schema in the spec, or hide the parameter with `fixed:`"),
                ));
                continue;
            }
        };
        let fixed = ov.and_then(|o| o.fixed.clone());
        for (what, v) in [
            ("fixed", &fixed),
            ("default", &ov.and_then(|o| o.default.clone())),
        ] {
            if let Some(v) = v {
                checks.push(ValueCheck {
                    pointer: format!("{ptr}/{what}"),
                    name: key.to_string(),
                    what,
                    schema: schema.clone(),
                    value: v.clone(),
                });
            }
        }
        let hidden = fixed.is_some() || ov.is_some_and(|o| o.hide);
        if ov.is_some_and(|o| o.hide) && fixed.is_none() && p.required {
            errors.push(problem(
                format!("{ptr}/hide"),
                Diagnostic::error(
                    "hide-required",
                    format!("cannot hide `{key}`: the operation requires it"),
                )
                .with_hint("give it a value with `fixed: …` instead of `hide: true`"),
            ));
            continue;
        }
        let mut arg = if hidden {
            None
        } else {
            Some(
                ov.and_then(|o| o.rename.clone())
                    .unwrap_or_else(|| p.name.clone()),
            )
        };
        // Two parameters with one name in different places (`id` in the path and the query):
        // the later one is told apart by its location, unless the manifest renamed it.
        if let Some(a) = arg.clone() {
            let alt = format!("{a}_{}", location_word(p.location));
            if properties.contains_key(&a)
                && ov.and_then(|o| o.rename.as_ref()).is_none()
                && !properties.contains_key(&alt)
            {
                warnings.push(problem(
                    ptr.clone(),
                    Diagnostic::warning(
                        "renamed-argument",
                        format!(
                            "{} has two parameters called `{a}`; the {} one is exposed as `{alt}`",
                            op.label(),
                            location_word(p.location)
                        ),
                    )
                    .with_hint("give it a clearer name with `rename:`"),
                ));
                arg = Some(alt);
            }
        }
        if let Some(arg) = &arg {
            annotate(
                &mut schema,
                ov.and_then(|o| o.description.as_deref())
                    .or(p.description.as_deref()),
            );
            if p.deprecated {
                set(&mut schema, "deprecated", json!(true));
            }
            if !p.examples.is_empty() && schema.get("examples").is_none() {
                set(&mut schema, "examples", Value::Array(p.examples.clone()));
            }
            if let Some(d) = ov.and_then(|o| o.default.clone()) {
                set(&mut schema, "default", d);
            }
            let is_required = ov.and_then(|o| o.required).unwrap_or(p.required);
            if p.required && !is_required && ov.and_then(|o| o.default.as_ref()).is_none() {
                warnings.push(problem(
                    format!("{ptr}/required"),
                    Diagnostic::warning(
                        "optional-required",
                        format!("`{key}` is required by the spec but optional here"),
                    )
                    .with_hint(
                        "add a `default:` so calls that omit it still reach the upstream intact",
                    ),
                ));
            }
            if properties.contains_key(arg) {
                errors.push(problem(
                    ptr.clone(),
                    Diagnostic::error(
                        "duplicate-argument",
                        format!("two parameters would both be called `{arg}`"),
                    )
                    .with_hint("give one of them a different `rename:`"),
                ));
                continue;
            }
            if is_required {
                required.push(Value::String(arg.clone()));
            }
            properties.insert(arg.clone(), schema);
        }
        bindings.push(ParamBinding {
            arg,
            wire: p.name.clone(),
            location: p.location,
            style: p.style,
            explode: p.explode,
            allow_reserved: p.allow_reserved,
            fixed,
            default: ov.and_then(|o| o.default.clone()),
            json_encoded: p.json_content,
        });
    }

    // Path template.
    let path = parse_path(&op.path);
    for part in &path {
        if let PathPart::Param(wire) = part
            && !bindings
                .iter()
                .any(|b| &b.wire == wire && b.location == crate::gateway::ParamLocation::Path)
        {
            // The spec forgot to declare it: expose it as a required string so calls work.
            warnings.push(problem(
                    "/operation",
                    Diagnostic::warning(
                        "undeclared-path-parameter",
                        format!("{} uses `{{{wire}}}` but does not declare it; exposed as a required string", op.label()),
                    )
                    .with_hint("declare the path parameter in the spec"),
                ));
            if !properties.contains_key(wire) {
                properties.insert(wire.clone(), json!({"type": "string"}));
                required.push(Value::String(wire.clone()));
            }
            bindings.push(ParamBinding {
                arg: Some(wire.clone()),
                wire: wire.clone(),
                location: crate::gateway::ParamLocation::Path,
                style: crate::gateway::ParamStyle::Simple,
                explode: false,
                allow_reserved: false,
                fixed: None,
                default: None,
                json_encoded: false,
            });
        }
    }

    // Request body.
    let mut dependent = Map::new();
    let mut root_keywords = Map::new();
    let body_plan = super::body::plan(
        conv,
        &mut root,
        op,
        &mut super::body::Inputs {
            overrides,
            used_overrides: &mut used_overrides,
            properties: &mut properties,
            required: &mut required,
            dependent: &mut dependent,
            checks: &mut checks,
            errors: &mut errors,
            keep_constraints: opts.keep_2020_12,
            root_keywords: &mut root_keywords,
        },
    );

    // Overrides that matched nothing.
    let mut known: Vec<String> = op.params.iter().map(|p| p.name.clone()).collect();
    if let Some(BodyPlan {
        source: BodySource::Fields(fields),
        ..
    }) = &body_plan
    {
        for f in fields {
            known.push(f.property.clone());
            known.push(format!("body.{}", f.property));
        }
    } else if op.body.is_some() {
        known.push("body".to_string());
    }
    for key in overrides.keys() {
        if !used_overrides.contains(&key.as_str()) {
            let mut d = Diagnostic::error(
                "unknown-parameter",
                format!("{} has no parameter or body property `{key}`", op.label()),
            );
            d.hint =
                crate::diag::did_you_mean(key, known.iter().map(String::as_str)).or_else(|| {
                    Some(if known.is_empty() {
                        "this operation has no parameters".to_string()
                    } else {
                        format!("its parameters are: {}", known.join(", "))
                    })
                });
            errors.push(problem(format!("/params/{}", pointer_segment(key)), d));
        }
    }

    let asks = super::interact::params(
        overrides,
        &bindings,
        body_plan.as_ref(),
        &mut properties,
        &mut required,
        &mut errors,
    );
    let mut arguments: Vec<String> = properties.keys().cloned().collect();
    arguments.extend(asks.iter().map(|a| a.arg.clone()));

    // Input schema.
    let mut input = Map::new();
    input.insert("type".into(), json!("object"));
    input.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        input.insert("required".into(), Value::Array(required));
    }
    if !dependent.is_empty() {
        input.insert("dependentRequired".into(), Value::Object(dependent));
    }
    input.insert("additionalProperties".into(), json!(false));
    input.extend(root_keywords);
    if root.truncated() {
        warnings.push(problem(
            "/operation",
            Diagnostic::warning(
                "schema-truncated",
                format!("the input schema of {} is too large to describe in full; deep parts are left open", op.label()),
            )
            .with_hint("hide or fix the parameters the agent does not need"),
        ));
    }
    if let Some(defs) = root.take_defs() {
        input.insert("$defs".into(), Value::Object(defs));
    }
    errors.extend(check_values(checks, input.get("$defs")));

    // Output schema.
    let (output_schema, output) = if cfg
        .and_then(|c| c.output_schema)
        .is_some_and(|o| !o.enabled())
    {
        (None, OutputShape::None)
    } else {
        match success_schema(op) {
            None => (None, OutputShape::None),
            Some(raw) => {
                let mut out_root = Root::default();
                match conv.convert(&mut out_root, raw, Mode::Output) {
                    Err(e) => {
                        warnings.push(problem(
                            "/operation",
                            Diagnostic::warning("bad-output-schema", format!("response schema of {}: {e}; no output schema declared", op.label()))
                                .with_hint("fix the response schema in the spec, or set `output_schema: false`"),
                        ));
                        (None, OutputShape::None)
                    }
                    Ok(schema) if schema == json!({}) || schema == json!(true) => {
                        (None, OutputShape::None)
                    }
                    Ok(schema) => {
                        if out_root.truncated() {
                            warnings.push(problem(
                                "/operation",
                                Diagnostic::warning(
                                    "schema-truncated",
                                    format!("the response schema of {} is too large to describe in full; deep parts are left open", op.label()),
                                )
                                .with_hint("set `output_schema: false` for this tool, or accept the partial schema"),
                            ));
                        }
                        let mut defs = out_root.take_defs();
                        let schema = unwrap_recursive_root(schema, defs.as_mut());
                        let (mut obj, shape) = if is_object_schema(&schema) {
                            // MCP wants `type: object` at the root (an `allOf` of objects has none).
                            let mut o = Map::new();
                            o.insert("type".into(), json!("object"));
                            o.extend(schema.as_object().cloned().unwrap_or_default());
                            (o, OutputShape::Object)
                        } else {
                            let mut o = Map::new();
                            o.insert("type".into(), json!("object"));
                            o.insert("properties".into(), json!({"result": schema}));
                            o.insert("required".into(), json!(["result"]));
                            (o, OutputShape::Wrapped)
                        };
                        if let Some(defs) = defs {
                            obj.insert("$defs".into(), Value::Object(defs));
                        }
                        (Some(obj), shape)
                    }
                }
            }
        }
    };

    // Description, never empty.
    let description = match cfg.and_then(|c| c.description.clone()) {
        Some(d) => d.trim().to_string(),
        None => default_description(op),
    };
    if description.is_empty() {
        warnings.push(problem(
            "/description",
            Diagnostic::warning("empty-description", "the description is empty")
                .with_hint("say what the tool does and when to use it"),
        ));
    }
    let description = if description.is_empty() {
        default_description(op)
    } else {
        description
    };
    if description.chars().count() > LONG_DESCRIPTION {
        warnings.push(problem(
            if cfg.and_then(|c| c.description.as_ref()).is_some() { "/description" } else { "/operation" },
            Diagnostic::warning(
                "long-description",
                format!("the description is {} characters; agents read it on every turn", description.chars().count()),
            )
            .with_hint(format!("keep it under {LONG_DESCRIPTION} characters: what the tool does, when to use it, what it returns")),
        ));
    }

    // Annotations.
    let ann = cfg.map(|c| &c.annotations);
    let m = &op.method;
    let read_only = ann
        .and_then(|a| a.read_only)
        .unwrap_or(matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS"));
    let annotations = Annotations {
        title: ann.and_then(|a| a.title.clone()),
        read_only_hint: read_only,
        destructive_hint: ann
            .and_then(|a| a.destructive)
            .unwrap_or(!read_only && m == http::Method::DELETE),
        idempotent_hint: ann
            .and_then(|a| a.idempotent)
            .unwrap_or(read_only || m == http::Method::PUT || m == http::Method::DELETE),
        open_world_hint: ann.and_then(|a| a.open_world).unwrap_or(true),
    };
    if annotations.destructive_hint {
        let lower = description.to_lowercase();
        if !DESTRUCTIVE_WORDS.iter().any(|w| lower.contains(w)) {
            warnings.push(problem(
                if cfg.and_then(|c| c.description.as_ref()).is_some() {
                    "/description"
                } else {
                    "/operation"
                },
                Diagnostic::warning(
                    "destructive-undescribed",
                    format!(
                        "`{name}` is destructive but its description does not say what it destroys"
                    ),
                )
                .with_hint("say what is deleted or overwritten and whether it can be undone"),
            ));
        }
    }

    let interaction = super::interact::finish(
        cfg,
        asks,
        &annotations,
        opts.confirm_destructive,
        &arguments,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut input_value = Value::Object(input);
    super::page::input(cfg.and_then(|c| c.response.as_ref()), &mut input_value)?;
    let input_validator = match repaired_validator(&mut input_value) {
        Ok((v, dropped)) => {
            for d in dropped {
                warnings.push(problem("/operation", repaired(op, "input", d)));
            }
            Arc::new(v)
        }
        Err(e) => {
            return Err(vec![problem(
                "/operation",
                Diagnostic::error(
                    "bad-schema",
                    format!(
                        "the input schema of {} is not valid JSON Schema: {e}",
                        op.label()
                    ),
                ),
            )]);
        }
    };
    // What clients compile may differ from what the gateway validates with (see `patterns`).
    for d in super::patterns::make_portable(&mut input_value) {
        warnings.push(problem("/operation", unportable(op, "input", d)));
    }
    // Response shaping rewrites the output schema, so it runs before the validator is built.
    let mut output_schema = output_schema;
    let shape = match cfg.and_then(|c| c.response.as_ref()) {
        None => None,
        Some(r) => match super::shape::build(r, output_schema.as_mut(), output) {
            Ok(s) => Some(Arc::new(s)),
            Err(problems) => return Err(problems),
        },
    };
    let mut output_value = output_schema.map(Value::Object);
    let output_validator = match output_value.as_mut() {
        Some(s) => match repaired_validator(s) {
            Ok((v, dropped)) => {
                for d in dropped {
                    warnings.push(problem("/operation", repaired(op, "output", d)));
                }
                Some(Arc::new(v))
            }
            Err(e) => {
                return Err(vec![problem(
                    "/operation",
                    Diagnostic::error(
                        "bad-schema",
                        format!(
                            "the output schema of {} is not valid JSON Schema: {e}",
                            op.label()
                        ),
                    )
                    .with_hint("set `output_schema: false` on this tool"),
                )]);
            }
        },
        None => None,
    };
    if let Some(out) = output_value.as_mut() {
        for d in super::patterns::make_portable(out) {
            warnings.push(problem("/operation", unportable(op, "output", d)));
        }
    }
    let into_obj = |v: Value| match v {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    Ok((
        Tool {
            name,
            title: cfg.and_then(|c| c.title.clone()),
            description,
            input_schema: Arc::new(into_obj(input_value)),
            output_schema: output_value.map(|v| Arc::new(into_obj(v))),
            output,
            annotations,
            input_validator,
            output_validator,
            plan: CallPlan {
                method: op.method.clone(),
                path,
                params: bindings,
                body: body_plan,
                // Set by compile once the upstream is known.
                base_url: None,
                credentials: true,
            },
            timeout,
            // Set by compile once the upstream is known.
            retry: crate::gateway::RetryPolicy::default(),
            idempotency_key: None,
            // Set by compile once `auth:` is known.
            scopes: Vec::new(),
            shape,
            interaction,
            // Set by compile when the manifest keeps 2020-12 structure.
            input_schema_2026: None,
        },
        warnings,
    ))
}

/// How many broken keywords one schema may lose before it is rejected outright.
const MAX_REPAIRS: usize = 16;

/// Builds the validator for `schema`, dropping keywords the JSON Schema 2020-12 meta-schema or
/// the regex engine rejects (real specs carry Java-style `\p{XDigit}` patterns, numbers where
/// strings belong, …). Dropping a keyword only loosens the schema, so the tool stays honest:
/// it accepts at least what the upstream documents. Returns what was dropped, for warnings.
fn repaired_validator(schema: &mut Value) -> Result<(jsonschema::Validator, Vec<String>), String> {
    let mut dropped = Vec::new();
    loop {
        let err = match jsonschema::validator_for(schema) {
            Ok(v) => return Ok((v, dropped)),
            Err(e) => e,
        };
        let pointer = err.instance_path().as_str().to_string();
        let message = err.to_string();
        if pointer.is_empty() || dropped.len() >= MAX_REPAIRS || !remove_at(schema, &pointer) {
            return Err(message);
        }
        dropped.push(format!(
            "`{}` {message}",
            crate::manifest::unescape_segment(&pointer)
        ));
    }
}

/// Removes the value at a JSON pointer (an object member or an array element).
fn remove_at(root: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let last = crate::manifest::unescape_segment(last);
    match root.pointer_mut(parent) {
        Some(Value::Object(o)) => o.shift_remove(&last).is_some(),
        Some(Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn repaired(op: &Operation, side: &str, what: String) -> Diagnostic {
    Diagnostic::warning(
        "schema-repaired",
        format!(
            "the {side} schema of {} is not valid JSON Schema at {what}; that keyword was dropped",
            op.label()
        ),
    )
    .with_hint("fix the schema in the spec")
}

fn unportable(op: &Operation, side: &str, what: String) -> Diagnostic {
    Diagnostic::warning(
        "schema-repaired",
        format!(
            "the {side} schema of {} has a pattern that clients cannot all compile: {what}; it is not advertised (the gateway still checks it)",
            op.label()
        ),
    )
    .with_hint("write the pattern in the common subset of ECMA-262 (Unicode mode) and Python's `re`")
}

pub(crate) fn location_word(l: crate::gateway::ParamLocation) -> &'static str {
    match l {
        crate::gateway::ParamLocation::Path => "path",
        crate::gateway::ParamLocation::Query => "query",
        crate::gateway::ParamLocation::Header => "header",
        crate::gateway::ParamLocation::Cookie => "cookie",
    }
}

pub(super) fn set(schema: &mut Value, key: &str, v: Value) {
    match schema {
        Value::Object(o) => {
            o.insert(key.to_string(), v);
        }
        Value::Bool(true) => {
            let mut o = Map::new();
            o.insert(key.to_string(), v);
            *schema = Value::Object(o);
        }
        _ => {}
    }
}

pub(super) fn annotate(schema: &mut Value, description: Option<&str>) {
    if let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) {
        set(schema, "description", Value::String(d.to_string()));
    }
}

/// `summary` + `description`, or the method and path: never empty.
pub(crate) fn default_description(op: &Operation) -> String {
    let parts: Vec<&str> = [op.summary.as_deref(), op.description.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut text = match parts.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [summary, description, ..] if description.starts_with(summary) => description.to_string(),
        [summary, description, ..] => format!("{summary}\n\n{description}"),
    };
    if text.is_empty() {
        text = format!("Calls {} {}.", op.method, op.path);
    }
    if op.deprecated {
        text.push_str("\n\nDeprecated by the API.");
    }
    text
}

fn parse_path(path: &str) -> Vec<PathPart> {
    let mut parts = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        match rest[open..].find('}') {
            Some(close) => {
                if open > 0 {
                    parts.push(PathPart::Literal(rest[..open].to_string()));
                }
                parts.push(PathPart::Param(rest[open + 1..open + close].to_string()));
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        parts.push(PathPart::Literal(rest.to_string()));
    }
    parts
}

/// The JSON schema of the first successful response (200 first, then other 2xx in order).
fn success_schema(op: &Operation) -> Option<&RawSchema> {
    fn json_schema(r: &crate::openapi::Response) -> Option<&RawSchema> {
        r.content
            .iter()
            .find(|(m, _)| crate::openapi::is_json(m))
            .and_then(|(_, s)| s.as_ref())
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
fn unwrap_recursive_root(schema: Value, defs: Option<&mut Map<String, Value>>) -> Value {
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

fn is_object_schema(schema: &Value) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates_split_into_literals_and_params() {
        assert_eq!(
            parse_path("/pets/{petId}/photos/{n}"),
            vec![
                PathPart::Literal("/pets/".into()),
                PathPart::Param("petId".into()),
                PathPart::Literal("/photos/".into()),
                PathPart::Param("n".into()),
            ]
        );
    }
}
