//! Reading a manifest: YAML syntax, then the manifest's own JSON Schema (which reports every
//! unknown field and wrong type at once, each with its position), then serde.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::Manifest;
use super::spans::{SpanIndex, display_path, pointer_segment};
use crate::diag::{Diagnostic, Span, did_you_mean};

/// A manifest that parsed and matched its schema, with what diagnostics need to point into it.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Its directory: relative spec and secret paths are resolved from here.
    pub dir: PathBuf,
    /// The file's text.
    pub text: String,
    /// Positions of its nodes.
    pub spans: SpanIndex,
    /// The parsed manifest.
    pub manifest: Manifest,
}

impl LoadedManifest {
    /// A diagnostic located at the value of `pointer` (e.g. `/tools/2/operation`).
    pub fn diag_at(&self, d: Diagnostic, pointer: &str) -> Diagnostic {
        d.in_file(&self.path)
            .at(display_path(pointer), self.spans.value(pointer))
    }

    /// A diagnostic located at the key of `pointer`.
    pub fn diag_at_key(&self, d: Diagnostic, pointer: &str) -> Diagnostic {
        d.in_file(&self.path)
            .at(display_path(pointer), self.spans.key(pointer))
    }
}

/// Reads and parses the manifest at `path`. I/O problems are a single diagnostic with code `io`.
pub fn load(path: &Path) -> Result<LoadedManifest, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error("io", format!("cannot read manifest: {e}"))
            .in_file(path)
            .with_hint("check the path; `mcp-gateway init --spec SPEC > gateway.yaml` writes a starter manifest")]
    })?;
    load_str(path, text)
}

/// Parses manifest `text` as if read from `path`.
pub fn load_str(path: &Path, text: String) -> Result<LoadedManifest, Vec<Diagnostic>> {
    let value: Value = match yaml_serde::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let span = e.location().map(|l| Span {
                line: l.line(),
                column: l.column(),
                len: 1,
            });
            let mut d = Diagnostic::error(
                "yaml-syntax",
                format!("invalid YAML: {}", strip_location(&e.to_string())),
            )
            .in_file(path);
            d.span = span;
            return Err(vec![d.with_hint(
                "fix the YAML syntax at the marked position (indentation, quoting, a missing `:`)",
            )]);
        }
    };
    let spans = SpanIndex::build(&text);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };

    let mut diags = schema_diagnostics(&value, path, &spans);
    crate::diag::sort(&mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    match serde_json::from_value::<Manifest>(value) {
        Ok(manifest) => Ok(LoadedManifest {
            path: path.to_path_buf(),
            dir,
            text,
            spans,
            manifest,
        }),
        // The schema is generated from these types, so this is a backstop, not the usual path.
        Err(e) => Err(vec![
            Diagnostic::error("manifest-shape", format!("invalid manifest: {e}")).in_file(path),
        ]),
    }
}

fn strip_location(msg: &str) -> String {
    // yaml_serde appends " at line L column C"; the span already says where.
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn manifest_validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&super::json_schema()).ok())
        .as_ref()
}

/// Every way `value` breaks the manifest schema, each located and explained.
fn schema_diagnostics(value: &Value, path: &Path, spans: &SpanIndex) -> Vec<Diagnostic> {
    let Some(validator) = manifest_validator() else {
        return Vec::new();
    };
    if value.is_null() {
        return vec![
            Diagnostic::error("manifest-empty", "the manifest is empty")
                .in_file(path)
                .with_hint(
                    "a manifest needs at least `name:` and `openapi:`; see `mcp-gateway init`",
                ),
        ];
    }
    let schema = super::json_schema();
    let mut out = Vec::new();
    for err in validator.iter_errors(value) {
        explain(&err, &schema, value, path, spans, &mut out);
    }
    out
}

/// The diagnostics of one schema error, appended to `out`.
fn explain(
    err: &jsonschema::ValidationError<'_>,
    schema: &Value,
    value: &Value,
    path: &Path,
    spans: &SpanIndex,
    out: &mut Vec<Diagnostic>,
) {
    let pointer = err.instance_path().as_str().to_string();
    if let ValidationErrorKind::AnyOf { context } = err.kind()
        && let Some(only) = unless_null(context, err.instance())
    {
        // An optional section (`anyOf: [its schema, null]`) that is not null: what is wrong
        // inside it says more than "does not match any allowed form".
        for e in only {
            explain(e, schema, value, path, spans, out);
        }
        return;
    }
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, value, &pointer);
            for key in unexpected {
                let child = format!("{pointer}/{}", pointer_segment(key));
                let mut d = Diagnostic::error("unknown-field", format!("unknown field `{key}`"))
                    .in_file(path)
                    .at(display_path(&child), spans.key(&child));
                let hint =
                    did_you_mean(key, allowed.iter().map(String::as_str)).unwrap_or_else(|| {
                        if allowed.is_empty() {
                            "remove it".to_string()
                        } else {
                            format!("expected one of: {}", allowed.join(", "))
                        }
                    });
                d.hint = Some(hint);
                out.push(d);
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            out.push(
                Diagnostic::error("missing-field", format!("missing required field `{name}`"))
                    .in_file(path)
                    .at(display_path(&pointer), spans.value(&pointer))
                    .with_hint(format!("add `{name}:` here")),
            );
        }
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
        | ValidationErrorKind::AnyOf { .. } => {
            out.push(
                Diagnostic::error(
                    "invalid-value",
                    format!(
                        "{} does not match any allowed form",
                        describe(err.instance())
                    ),
                )
                .in_file(path)
                .at(display_path(&pointer), spans.value(&pointer))
                .with_hint(one_of_hint(&pointer)),
            );
        }
        ValidationErrorKind::Type { .. } => {
            let expected = expected_types(schema, &pointer, value);
            out.push(
                Diagnostic::error(
                    "invalid-value",
                    format!(
                        "expected {expected}, found {}",
                        describe_kind(err.instance())
                    ),
                )
                .in_file(path)
                .at(display_path(&pointer), spans.value(&pointer)),
            );
        }
        _ => {
            out.push(
                Diagnostic::error("invalid-value", err.to_string())
                    .in_file(path)
                    .at(display_path(&pointer), spans.value(&pointer)),
            );
        }
    }
}

/// Of the branches of an `anyOf` that `instance` failed, the errors of the one branch left when
/// the branch that only wanted `null` is set aside; `None` when that is not the shape.
fn unless_null<'a, 'e>(
    branches: &'a [Vec<jsonschema::ValidationError<'e>>],
    instance: &Value,
) -> Option<&'a [jsonschema::ValidationError<'e>]> {
    if instance.is_null() || branches.len() != 2 {
        return None;
    }
    let is_null_branch = |b: &Vec<jsonschema::ValidationError<'e>>| {
        b.len() == 1
            && matches!(
                b[0].kind(),
                ValidationErrorKind::Type {
                    kind: jsonschema::error::TypeKind::Single(jsonschema::JsonType::Null)
                }
            )
    };
    match (is_null_branch(&branches[0]), is_null_branch(&branches[1])) {
        (true, false) => Some(&branches[1]),
        (false, true) => Some(&branches[0]),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(57).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}

/// `a boolean`, `a string or an integer`, from the error's schema types minus `null` (an
/// optional field can be left out; nobody needs to be told it may be null).
fn expected_types(schema: &Value, pointer: &str, instance: &Value) -> String {
    let node = schema_at(schema, instance, pointer);
    let mut types: Vec<String> = Vec::new();
    let mut collect = |n: &Value| match n.get("type") {
        Some(Value::String(t)) => types.push(t.clone()),
        Some(Value::Array(a)) => {
            types.extend(a.iter().filter_map(Value::as_str).map(str::to_string))
        }
        _ => {}
    };
    collect(&node);
    for alt in node
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(&resolve_ref(schema, alt));
    }
    types.retain(|t| t != "null");
    types.dedup();
    if types.is_empty() {
        return "another type".to_string();
    }
    let words: Vec<String> = types.iter().map(|t| article(t)).collect();
    words.join(" or ")
}

fn article(t: &str) -> String {
    match t {
        "integer" => "an integer".to_string(),
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        other => format!("a {other}"),
    }
}

fn describe_kind(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", describe(&Value::String(s.clone()))),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

fn resolve_ref(schema: &Value, n: &Value) -> Value {
    match n.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| schema.get("$defs").and_then(|d| d.get(name)))
            .cloned()
            .unwrap_or(Value::Null),
        None => n.clone(),
    }
}

/// The (resolved) schema node that governs `pointer` in `instance`.
fn schema_at(schema: &Value, instance: &Value, pointer: &str) -> Value {
    let mut current = resolve_ref(schema, schema);
    let mut inst = instance;
    for seg in pointer.split('/').skip(1) {
        inst = match inst {
            Value::Object(m) => m.get(seg).unwrap_or(&Value::Null),
            Value::Array(a) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
        let step = |n: &Value| -> Option<Value> {
            n.get("properties")
                .and_then(|p| p.get(seg))
                .or_else(|| n.get("items"))
                .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))
                .map(|x| resolve_ref(schema, x))
        };
        current = match step(&current) {
            Some(next) => next,
            None => current
                .get("anyOf")
                .or_else(|| current.get("oneOf"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| resolve_ref(schema, a))
                .find_map(|a| step(&a))
                .unwrap_or(Value::Null),
        };
    }
    current
}

fn one_of_hint(pointer: &str) -> String {
    if pointer.ends_with("/auth") {
        "upstream auth is one of: `{type: api_key, in: header|query|cookie, name: …, value: {env: VAR}}`, \
         `{type: bearer, token: {env: VAR}}`, `{type: basic, username: …, password: {env: VAR}}`"
            .to_string()
    } else if pointer.ends_with("/value")
        || pointer.ends_with("/token")
        || pointer.ends_with("/password")
    {
        "secrets are references, never literals: `{env: VARIABLE}` or `{file: path/to/secret}`"
            .to_string()
    } else if pointer.ends_with("/output_schema") {
        "`output_schema` is `true`, `false`, or limits such as `{max_depth: 2, max_bytes: 4000}`"
            .to_string()
    } else if pointer.starts_with("/tools/") && pointer[7..].bytes().all(|b| b.is_ascii_digit()) {
        "a tool entry has either `operation:` (one operation) or `select:` (every match), not both"
            .to_string()
    } else {
        "see `mcp-gateway schema` for the allowed forms".to_string()
    }
}

/// The property names the schema allows at `pointer` (for "did you mean" on unknown fields).
fn allowed_keys(schema: &Value, instance: &Value, pointer: &str) -> Vec<String> {
    let resolve = |n: &Value| resolve_ref(schema, n);
    let inst = instance.pointer(pointer).unwrap_or(&Value::Null);
    let current = schema_at(schema, instance, pointer);
    let node = &current;
    let mut keys: Vec<String> = Vec::new();
    let mut collect = |n: &Value| {
        if let Some(p) = n.get("properties").and_then(Value::as_object) {
            keys.extend(p.keys().cloned());
        }
    };
    collect(node);
    let alts: Vec<Value> = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .map(&resolve)
        .collect();
    for a in &alts {
        // For tagged unions, only the variant the instance names.
        let tag_ok = match (a.pointer("/properties/type/const"), inst.get("type")) {
            (Some(c), Some(t)) => c == t,
            _ => true,
        };
        if tag_ok {
            collect(a);
        }
    }
    keys.sort();
    keys.dedup();
    keys
}
