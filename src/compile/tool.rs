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

use super::output::{is_object_schema, success_schema, unwrap_recursive_root};
use super::params::Arguments;
use super::values::check_values;
use crate::diag::Diagnostic;
use crate::gateway::{Annotations, CallPlan, OutputShape, Shape, Tool, Validator};
use crate::manifest::ToolConfig;
use crate::openapi::Operation;
use crate::openapi::schema::{Converter, Mode, Root};

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

/// What the stages of one tool's compilation share: its operation, its manifest entry and the
/// problems found so far (errors stop the tool; warnings go with it).
pub(super) struct Cx<'a> {
    pub(super) op: &'a Operation,
    pub(super) cfg: Option<&'a ToolConfig>,
    pub(super) errors: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
}

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
    let mut cx = Cx {
        op,
        cfg,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let empty = indexmap::IndexMap::new();
    let overrides = cfg.map(|c| &c.params).unwrap_or(&empty);
    let mut used: Vec<&str> = Vec::new();
    let mut root = Root::default();
    let mut args = Arguments::default();
    super::params::parameters(&mut cx, conv, &mut root, overrides, &mut used, &mut args);
    let path = super::params::path(&mut cx, &mut args);
    let mut dependent = Map::new();
    let mut root_keywords = Map::new();
    let body_plan = super::body::plan(
        conv,
        &mut root,
        op,
        &mut super::body::Inputs {
            overrides,
            used_overrides: &mut used,
            properties: &mut args.properties,
            required: &mut args.required,
            dependent: &mut dependent,
            checks: &mut args.checks,
            errors: &mut cx.errors,
            keep_constraints: opts.keep_2020_12,
            root_keywords: &mut root_keywords,
        },
    );
    super::params::unmatched(&mut cx, overrides, &used, body_plan.as_ref());
    let asks = super::interact::params(
        overrides,
        &args.bindings,
        body_plan.as_ref(),
        &mut args.properties,
        &mut args.required,
        &mut cx.errors,
    );
    let mut arguments: Vec<String> = args.properties.keys().cloned().collect();
    arguments.extend(asks.iter().map(|a| a.arg.clone()));
    let checks = std::mem::take(&mut args.checks);
    let input = input_schema(
        &mut cx,
        &mut root,
        args.properties,
        args.required,
        dependent,
        root_keywords,
    );
    cx.errors.extend(check_values(checks, input.get("$defs")));
    let (output_schema, output) = output_schema(&mut cx, conv);
    let description = description(&mut cx);
    let annotations = annotations(&mut cx, &name, &description);
    let interaction = super::interact::finish(
        cfg,
        asks,
        &annotations,
        opts.confirm_destructive,
        &arguments,
        &mut cx.errors,
    );
    if !cx.errors.is_empty() {
        return Err(cx.errors);
    }
    let checked = checked(&mut cx, input, output_schema, output)?;
    Ok((
        Tool {
            name,
            title: cfg.and_then(|c| c.title.clone()),
            description,
            input_schema: Arc::new(checked.input),
            output_schema: checked.output.map(Arc::new),
            output,
            annotations,
            input_validator: checked.input_validator,
            output_validator: checked.output_validator,
            plan: CallPlan {
                method: op.method.clone(),
                path,
                params: args.bindings,
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
            shape: checked.shape,
            interaction,
            // Set by compile when the manifest keeps 2020-12 structure.
            input_schema_2026: None,
            max_inline_bytes: cfg
                .and_then(|c| c.response.as_ref())
                .and_then(|r| r.max_inline_bytes)
                .map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
            // Set by compile once the spec's other operations are known (`async.cancel`).
            async_op: None,
        },
        cx.warnings,
    ))
}

/// A tool's schemas once its arguments compiled, each with the validator the gateway checks
/// with, and the response shaping that rewrote the output schema.
struct Checked {
    input: Map<String, Value>,
    input_validator: Validator,
    output: Option<Map<String, Value>>,
    output_validator: Option<Validator>,
    shape: Option<Arc<Shape>>,
}

/// The input schema with the paging cursor, and the output schema reshaped by `response:`,
/// each validated and made portable.
fn checked(
    cx: &mut Cx<'_>,
    input: Map<String, Value>,
    mut output_schema: Option<Map<String, Value>>,
    output: OutputShape,
) -> Result<Checked, Vec<Problem>> {
    let response = cx.cfg.and_then(|c| c.response.as_ref());
    let mut input_value = Value::Object(input);
    super::page::input(response, &mut input_value)?;
    let (input_value, input_validator) = validated(cx, input_value, "input")?;
    // Response shaping rewrites the output schema, so it runs before the validator is built.
    // `response: {max_inline_bytes}` alone caps binary answers and shapes no JSON.
    let shape = match response.filter(|r| !r.only_inline_cap()) {
        None => None,
        Some(r) => Some(Arc::new(super::shape::build(
            r,
            output_schema.as_mut(),
            output,
        )?)),
    };
    let (output_value, output_validator) = match output_schema {
        Some(s) => {
            let (v, validator) = validated(cx, Value::Object(s), "output")?;
            (Some(v), Some(validator))
        }
        None => (None, None),
    };
    let into_obj = |v: Value| match v {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    Ok(Checked {
        input: into_obj(input_value),
        input_validator,
        output: output_value.map(into_obj),
        output_validator,
        shape,
    })
}

/// The input schema: the arguments, with the body's `dependentRequired` and kept root keywords,
/// closed to unknown arguments.
fn input_schema(
    cx: &mut Cx<'_>,
    root: &mut Root,
    properties: Map<String, Value>,
    required: Vec<Value>,
    dependent: Map<String, Value>,
    root_keywords: Map<String, Value>,
) -> Map<String, Value> {
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
        cx.warnings.push(problem(
            "/operation",
            Diagnostic::warning(
                "schema-truncated",
                format!("the input schema of {} is too large to describe in full; deep parts are left open", cx.op.label()),
            )
            .with_hint("hide or fix the parameters the agent does not need"),
        ));
    }
    if let Some(defs) = root.take_defs() {
        input.insert("$defs".into(), Value::Object(defs));
    }
    input
}

/// The validator of one side's schema (keywords it cannot use dropped, with a warning), and the
/// schema as advertised (patterns clients cannot compile made portable, see `patterns`).
fn validated(
    cx: &mut Cx<'_>,
    mut schema: Value,
    side: &str,
) -> Result<(Value, Validator), Vec<Problem>> {
    let op = cx.op;
    let validator = match repaired_validator(&mut schema) {
        Ok((v, dropped)) => {
            for d in dropped {
                cx.warnings
                    .push(problem("/operation", repaired(op, side, d)));
            }
            Validator::new(schema.clone(), v)
        }
        Err(e) => {
            let mut d = Diagnostic::error(
                "bad-schema",
                format!(
                    "the {side} schema of {} is not valid JSON Schema: {e}",
                    op.label()
                ),
            );
            if side == "output" {
                d = d.with_hint("set `output_schema: false` on this tool");
            }
            return Err(vec![problem("/operation", d)]);
        }
    };
    // What clients compile may differ from what the gateway validates with.
    for d in super::patterns::make_portable(&mut schema) {
        cx.warnings
            .push(problem("/operation", unportable(op, side, d)));
    }
    Ok((schema, validator))
}

/// The output schema from the first JSON success answer, as an object (`structuredContent` as
/// is) or wrapped as `{result: …}`; none when turned off, when the answer is not JSON, or for
/// `response: {as: text}`.
fn output_schema(
    cx: &mut Cx<'_>,
    conv: &mut Converter<'_>,
) -> (Option<Map<String, Value>>, OutputShape) {
    let as_text = cx
        .cfg
        .and_then(|c| c.response.as_ref())
        .is_some_and(|r| r.answer_as == Some(crate::manifest::AnswerAs::Text));
    if as_text
        || cx
            .cfg
            .and_then(|c| c.output_schema)
            .is_some_and(|o| !o.enabled())
    {
        (None, OutputShape::None)
    } else {
        match success_schema(cx.op) {
            None => (None, OutputShape::None),
            Some(raw) => {
                let mut out_root = Root::default();
                match conv.convert(&mut out_root, raw, Mode::Output) {
                    Err(e) => {
                        cx.warnings.push(problem(
                            "/operation",
                            Diagnostic::warning("bad-output-schema", format!("response schema of {}: {e}; no output schema declared", cx.op.label()))
                                .with_hint("fix the response schema in the spec, or set `output_schema: false`"),
                        ));
                        (None, OutputShape::None)
                    }
                    Ok(schema) if schema == json!({}) || schema == json!(true) => {
                        (None, OutputShape::None)
                    }
                    Ok(schema) => {
                        if out_root.truncated() {
                            cx.warnings.push(problem(
                                "/operation",
                                Diagnostic::warning(
                                    "schema-truncated",
                                    format!("the response schema of {} is too large to describe in full; deep parts are left open", cx.op.label()),
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
    }
}

/// The tool's description: the manifest's, else one from the spec; never empty.
fn description(cx: &mut Cx<'_>) -> String {
    let description = match cx.cfg.and_then(|c| c.description.clone()) {
        Some(d) => d.trim().to_string(),
        None => default_description(cx.op),
    };
    if description.is_empty() {
        cx.warnings.push(problem(
            "/description",
            Diagnostic::warning("empty-description", "the description is empty")
                .with_hint("say what the tool does and when to use it"),
        ));
    }
    let description = if description.is_empty() {
        default_description(cx.op)
    } else {
        description
    };
    if description.chars().count() > LONG_DESCRIPTION {
        cx.warnings.push(problem(
            if cx.cfg.and_then(|c| c.description.as_ref()).is_some() { "/description" } else { "/operation" },
            Diagnostic::warning(
                "long-description",
                format!("the description is {} characters; agents read it on every turn", description.chars().count()),
            )
            .with_hint(format!("keep it under {LONG_DESCRIPTION} characters: what the tool does, when to use it, what it returns")),
        ));
    }
    description
}

/// MCP annotations: from the method, overridden by the manifest, every hint explicit; a
/// destructive tool whose description does not say what it destroys is warned about.
fn annotations(cx: &mut Cx<'_>, name: &str, description: &str) -> Annotations {
    let ann = cx.cfg.map(|c| &c.annotations);
    let m = &cx.op.method;
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
            cx.warnings.push(problem(
                if cx.cfg.and_then(|c| c.description.as_ref()).is_some() {
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
    annotations
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

/// The spec's own problems with `op` (found while reading it), located at the tool's entry.
pub(super) fn spec_problems(
    loaded: &crate::manifest::LoadedManifest,
    spec: &crate::openapi::Spec,
    op: &crate::openapi::Operation,
    op_ptr: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let label = op.label();
    for p in spec.problems.iter().filter(|p| {
        p.operation.as_deref() == Some(&label) || p.operation.as_deref() == Some(&op.path)
    }) {
        let message = format!("{label}: {}", p.message);
        let d = if p.warning {
            Diagnostic::warning("spec", message)
        } else {
            Diagnostic::error("spec", message)
        };
        diags.push(loaded.diag_at(d.with_hint("fix the operation in the spec"), op_ptr));
    }
}

/// The tool's own `timeout:`, if it sets a valid one.
pub(super) fn timeout(
    loaded: &crate::manifest::LoadedManifest,
    cfg: &crate::manifest::ToolConfig,
    base: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<std::time::Duration> {
    match cfg.timeout.as_deref().map(super::parse_duration)? {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(loaded.diag_at(
                Diagnostic::error("invalid-duration", e),
                &format!("{base}/timeout"),
            ));
            None
        }
    }
}
