//! The request body of one tool: which media type is sent, the arguments it becomes (the
//! properties of an object body flattened into top-level arguments, or one `body` argument),
//! how each property is written on the wire, and when the body is sent at all.
//!
//! When an optional body is flattened, the body's own `required` list still applies as soon as
//! the agent sends any of its properties: the input schema says so with `dependentRequired`, so
//! clients and the gateway's validator refuse a half body before anything is sent.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::tool::{Problem, annotate, problem, set};
use super::values::{self, ValueCheck};
use crate::diag::Diagnostic;
use crate::gateway::{BodyEncoding, BodyField, BodyPlan, BodySource, FieldEncoding, ParamStyle};
use crate::manifest::{ParamOverride, pointer_segment};
use crate::openapi::schema::{Converter, Mode, Root};
use crate::openapi::{Operation, PropertyEncoding, RawSchema};

/// The tool's argument list while it is being built, and what building it found.
pub(super) struct Inputs<'a, 'o> {
    pub(super) overrides: &'o IndexMap<String, ParamOverride>,
    pub(super) used_overrides: &'a mut Vec<&'o str>,
    pub(super) properties: &'a mut Map<String, Value>,
    pub(super) required: &'a mut Vec<Value>,
    /// `dependentRequired` of the input schema (an optional body's required properties).
    pub(super) dependent: &'a mut Map<String, Value>,
    pub(super) checks: &'a mut Vec<ValueCheck>,
    pub(super) errors: &'a mut Vec<Problem>,
    /// Whether an object body's top-level constraints may be kept (`schemas: {keep_2020_12}`).
    pub(super) keep_constraints: bool,
    /// Keywords for the input schema's root: the body's constraints, when kept.
    pub(super) root_keywords: &'a mut Map<String, Value>,
}

/// The body's call plan, adding its arguments to `inputs`.
pub(super) fn plan(
    conv: &mut Converter<'_>,
    root: &mut Root,
    op: &Operation,
    inputs: &mut Inputs<'_, '_>,
) -> Option<BodyPlan> {
    let body = op.body.as_ref()?;
    let (encoding, media, schema) = body_schema(conv, root, op, inputs)?;
    let property_encodings: &[PropertyEncoding] = body
        .encodings
        .iter()
        .find(|(m, _)| m == media)
        .map(|(_, list)| list.as_slice())
        .unwrap_or_default();
    let mut constraints = None;
    let flat = matches!(
        encoding,
        BodyEncoding::Json(_) | BodyEncoding::Form | BodyEncoding::Multipart
    )
    .then(|| {
        flatten_object(&schema).or_else(|| {
            let (flat, kept) = inputs
                .keep_constraints
                .then(|| constrained_object(&schema))
                .flatten()?;
            constraints = Some(kept);
            Some(flat)
        })
    })
    .flatten();
    let Some((props, req)) = flat else {
        return whole(op, body, encoding, schema, root, inputs);
    };
    let keyed = keyed_overrides(inputs, op, &props);
    if let Some(kept) = constraints {
        // The constraints name body properties; they hold of the arguments only when every
        // property is an argument of its own name and the body is always sent.
        let intact = body.required
            && keyed.iter().all(|(_, taken, ov)| {
                !taken
                    && ov.is_none_or(|o| {
                        o.rename.is_none() && o.fixed.is_none() && !o.hide && o.ask.is_none()
                    })
            });
        if !intact {
            return whole(op, body, encoding, schema, root, inputs);
        }
        inputs.root_keywords.extend(kept);
    }
    // The manifest filling a property makes the body present on every call.
    let always = body.required
        || keyed
            .iter()
            .any(|(_, _, ov)| ov.is_some_and(|o| o.fixed.is_some() || o.default.is_some()));
    let mut fx = Fields {
        overrides: inputs.overrides,
        encoding: &encoding,
        property_encodings,
        required: &req,
        always,
        group: Vec::new(),
        visible: Vec::new(),
    };
    let fields: Vec<BodyField> = props
        .into_iter()
        .zip(keyed)
        .filter_map(|(p, k)| field(inputs, &mut fx, root, p, k))
        .collect();
    require_together(inputs, &fx.group, &fx.visible);
    Some(BodyPlan {
        content_type: encoding,
        source: BodySource::Fields(fields),
        required: always,
    })
}

/// The body's encoding, media type and argument schema; `None` when there is no body the
/// gateway can send (an error when the operation needs one) or nothing to send in it.
fn body_schema<'o>(
    conv: &mut Converter<'_>,
    root: &mut Root,
    op: &'o Operation,
    inputs: &mut Inputs<'_, '_>,
) -> Option<(BodyEncoding, &'o str, Value)> {
    let body = op.body.as_ref()?;
    let Some((encoding, media, raw)) = pick_body(&body.content) else {
        if !body.content.is_empty() && body.required {
            inputs.errors.push(problem(
                "/operation",
                Diagnostic::error(
                    "unsupported-body",
                    format!(
                        "{} needs a request body in a media type the gateway cannot send",
                        op.label()
                    ),
                ),
            ));
        }
        return None;
    };
    let schema = match raw {
        Some(raw) => conv.convert(root, raw, Mode::Input),
        None => Ok(json!({})),
    };
    let schema = match schema {
        Ok(s) => s,
        Err(e) => {
            inputs.errors.push(problem(
                "/operation",
                Diagnostic::error("bad-schema", format!("request body of {}: {e}", op.label())),
            ));
            return None;
        }
    };
    if is_empty_object(&schema) {
        // `{type: object, properties: {}, additionalProperties: false}`: nothing can be sent
        // (real specs declare it on GET operations), so there is no argument for it either.
        return None;
    }
    Some((encoding, media, schema))
}

/// The override of each property: `body.<prop>`, else the bare name unless a parameter already
/// has it; with whether the bare name is taken.
fn keyed_overrides<'o>(
    inputs: &Inputs<'_, 'o>,
    op: &Operation,
    props: &[(String, Value)],
) -> Vec<(String, bool, Option<&'o ParamOverride>)> {
    let overrides = inputs.overrides;
    props
        .iter()
        .map(|(prop, _)| {
            let qualified = format!("body.{prop}");
            let taken =
                inputs.properties.contains_key(prop) || op.params.iter().any(|p| &p.name == prop);
            match overrides.get(&qualified) {
                Some(ov) => (qualified, taken, Some(ov)),
                None if !taken => (prop.clone(), taken, overrides.get(prop)),
                None => (qualified, taken, None),
            }
        })
        .collect()
}

/// Properties of an optional body that the body requires: each visible argument needs the
/// others of `group` (`dependentRequired`), so a call sends all of them or none.
fn require_together(inputs: &mut Inputs<'_, '_>, group: &[String], visible: &[String]) {
    if group.is_empty() {
        return;
    }
    for arg in visible {
        let others: Vec<Value> = group
            .iter()
            .filter(|g| *g != arg)
            .map(|g| Value::String(g.clone()))
            .collect();
        if !others.is_empty() {
            inputs.dependent.insert(arg.clone(), Value::Array(others));
        }
    }
}

/// What the fields of one flattened body share while each becomes an argument.
struct Fields<'x, 'o> {
    overrides: &'o IndexMap<String, ParamOverride>,
    encoding: &'x BodyEncoding,
    property_encodings: &'x [PropertyEncoding],
    /// The body's own `required` properties.
    required: &'x [String],
    /// Whether the body is sent on every call.
    always: bool,
    /// Required properties of an optional body (each argument needs the others).
    group: Vec<String>,
    /// The arguments the fields became.
    visible: Vec<String>,
}

/// One property of a flattened body → its argument (unless fixed or hidden) and its field;
/// `None` when it cannot be one (the problem is reported).
fn field<'o>(
    inputs: &mut Inputs<'_, 'o>,
    fx: &mut Fields<'_, 'o>,
    root: &mut Root,
    (prop, mut pschema): (String, Value),
    (key, taken, ov): (String, bool, Option<&ParamOverride>),
) -> Option<BodyField> {
    if let Some(k) = fx.overrides.get_key_value(&key).map(|(k, _)| k.as_str()) {
        inputs.used_overrides.push(k);
    }
    let ptr = format!("/params/{}", pointer_segment(&key));
    let spec_required = fx.required.contains(&prop);
    let fixed = ov.and_then(|o| o.fixed.clone());
    if ov.is_some_and(|o| o.hide) && fixed.is_none() && spec_required {
        inputs.errors.push(problem(
            format!("{ptr}/hide"),
            Diagnostic::error(
                "hide-required",
                format!("cannot hide `{prop}`: the request body requires it"),
            )
            .with_hint("give it a value with `fixed: …` instead of `hide: true`"),
        ));
        return None;
    }
    let field_encoding = field_encoding(fx.encoding, &prop, &pschema, fx.property_encodings, root);
    if matches!(field_encoding, FieldEncoding::Part { binary: true, .. }) {
        mark_base64(&mut pschema);
    }
    let default = ov.and_then(|o| o.default.clone());
    values::queue(inputs.checks, &ptr, &key, &pschema, ov);
    let hidden = fixed.is_some() || ov.is_some_and(|o| o.hide);
    let arg = if hidden {
        None
    } else {
        let default_arg = if taken {
            format!("body_{prop}")
        } else {
            prop.clone()
        };
        Some(ov.and_then(|o| o.rename.clone()).unwrap_or(default_arg))
    };
    if let Some(arg) = &arg {
        if let Some(d) = ov.and_then(|o| o.description.as_deref()) {
            annotate(&mut pschema, Some(d));
        }
        if let Some(d) = &default {
            set(&mut pschema, "default", d.clone());
        }
        if inputs.properties.contains_key(arg) {
            inputs.errors.push(problem(
                ptr,
                Diagnostic::error(
                    "duplicate-argument",
                    format!("two arguments would both be called `{arg}`"),
                )
                .with_hint("give one of them a different `rename:`"),
            ));
            return None;
        }
        match ov.and_then(|o| o.required) {
            Some(true) => inputs.required.push(Value::String(arg.clone())),
            Some(false) => {}
            None if spec_required && fx.always => inputs.required.push(Value::String(arg.clone())),
            None if spec_required && default.is_none() => fx.group.push(arg.clone()),
            None => {}
        }
        fx.visible.push(arg.clone());
        inputs.properties.insert(arg.clone(), pschema);
    }
    Some(BodyField {
        arg,
        property: prop,
        fixed,
        default,
        encoding: field_encoding,
    })
}

/// A body that is not a plain object: one argument, `body` unless a parameter has that name,
/// curated with `params: {body: …}` like any parameter.
fn whole(
    op: &Operation,
    body: &crate::openapi::RequestBody,
    encoding: BodyEncoding,
    mut schema: Value,
    root: &Root,
    inputs: &mut Inputs<'_, '_>,
) -> Option<BodyPlan> {
    let overrides = inputs.overrides;
    let ov = overrides.get_key_value("body");
    if let Some((k, _)) = ov {
        inputs.used_overrides.push(k.as_str());
    }
    let ov = ov.map(|(_, o)| o);
    let encoding = match encoding {
        BodyEncoding::Raw(mime) if is_binary(&schema, root) || binary_media(&mime) => {
            BodyEncoding::Binary(mime)
        }
        other => other,
    };
    match &encoding {
        BodyEncoding::Binary(mime) => {
            set(&mut schema, "type", json!("string"));
            if let Value::Object(o) = &mut schema {
                o.shift_remove("format");
                o.insert("contentEncoding".into(), json!("base64"));
                o.insert("contentMediaType".into(), json!(mime));
            }
        }
        BodyEncoding::Raw(_) if schema.get("type").is_none() => {
            set(&mut schema, "type", json!("string"))
        }
        _ => {}
    }
    let fixed = ov.and_then(|o| o.fixed.clone());
    let default = ov.and_then(|o| o.default.clone());
    if ov.is_some_and(|o| o.hide) && fixed.is_none() && body.required {
        inputs.errors.push(problem(
            "/params/body/hide",
            Diagnostic::error(
                "hide-required",
                format!("cannot hide `body`: {} requires a request body", op.label()),
            )
            .with_hint("give it a value with `fixed: …` instead of `hide: true`"),
        ));
        return None;
    }
    if ov.is_some_and(|o| o.hide) && fixed.is_none() {
        return None; // an optional body nobody may send
    }
    values::queue(inputs.checks, "/params/body", "body", &schema, ov);
    let arg = if fixed.is_some() {
        None
    } else {
        let default_arg = if inputs.properties.contains_key("body") {
            "request_body"
        } else {
            "body"
        };
        Some(
            ov.and_then(|o| o.rename.clone())
                .unwrap_or_else(|| default_arg.to_string()),
        )
    };
    if let Some(arg) = &arg {
        annotate(
            &mut schema,
            ov.and_then(|o| o.description.as_deref())
                .or(body.description.as_deref()),
        );
        if let Some(d) = &default {
            set(&mut schema, "default", d.clone());
        }
        if inputs.properties.contains_key(arg) {
            inputs.errors.push(problem(
                "/params/body",
                Diagnostic::error(
                    "duplicate-argument",
                    format!("two arguments would both be called `{arg}`"),
                )
                .with_hint("give one of them a different `rename:`"),
            ));
            return None;
        }
        if ov.and_then(|o| o.required).unwrap_or(body.required) {
            inputs.required.push(Value::String(arg.clone()));
        }
        inputs.properties.insert(arg.clone(), schema);
    }
    Some(BodyPlan {
        content_type: encoding,
        source: BodySource::Whole(Box::new(BodyField {
            arg,
            property: "body".into(),
            fixed,
            default,
            encoding: FieldEncoding::Json,
        })),
        required: body.required,
    })
}

/// How property `prop` (schema `schema`) is written in a body of `encoding`, following the
/// spec's `encoding` entry or OpenAPI's defaults.
fn field_encoding(
    encoding: &BodyEncoding,
    prop: &str,
    schema: &Value,
    declared: &[PropertyEncoding],
    root: &Root,
) -> FieldEncoding {
    let declared = declared.iter().find(|e| e.property == prop);
    match encoding {
        BodyEncoding::Form => {
            let style = declared.and_then(|e| e.style);
            let json = style.is_none()
                && declared.is_none_or(|e| e.explode.is_none())
                && declared
                    .and_then(|e| e.content_type.as_deref())
                    .is_some_and(crate::openapi::is_json);
            let style = style.unwrap_or(ParamStyle::Form);
            FieldEncoding::Form {
                style,
                explode: declared
                    .and_then(|e| e.explode)
                    .unwrap_or(style == ParamStyle::Form),
                json,
            }
        }
        BodyEncoding::Multipart => {
            let item = match resolve(schema, root).get("type") {
                Some(t) if t == "array" => resolve(schema, root)
                    .get("items")
                    .cloned()
                    .unwrap_or(json!({})),
                _ => schema.clone(),
            };
            let binary = is_binary(&item, root);
            let default = if binary {
                "application/octet-stream"
            } else if has_type(resolve(&item, root), "object") {
                "application/json"
            } else {
                "text/plain"
            };
            let content_type = declared
                .and_then(|e| e.content_type.as_deref())
                // `image/png, image/jpeg`: the first is what the gateway sends.
                .and_then(|c| c.split(',').next())
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.contains('*'))
                .unwrap_or(default)
                .to_string();
            FieldEncoding::Part {
                content_type,
                binary,
                deep: declared.and_then(|e| e.style) == Some(ParamStyle::DeepObject),
            }
        }
        _ => FieldEncoding::Json,
    }
}

/// A `$ref` into the tool's `$defs`, followed once; anything else as it is.
fn resolve<'v>(schema: &'v Value, root: &'v Root) -> &'v Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.def(name))
        .unwrap_or(schema)
}

fn has_type(schema: &Value, t: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|x| x == t),
        None => t == "object" && schema.get("properties").is_some(),
        _ => false,
    }
}

/// `format: binary` (3.0, and Swagger's `type: file` after conversion) or a non-text
/// `contentMediaType` (3.1).
fn is_binary(schema: &Value, root: &Root) -> bool {
    let s = resolve(schema, root);
    s.get("format").and_then(Value::as_str) == Some("binary")
        || s.get("contentMediaType")
            .and_then(Value::as_str)
            .is_some_and(binary_media)
            && s.get("contentEncoding").is_none()
}

/// Media types whose content is bytes rather than text.
fn binary_media(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    !(m.starts_with("text/")
        || m.contains("json")
        || m.contains("xml")
        || m.contains("yaml")
        || m.contains("csv")
        || m == "application/x-www-form-urlencoded"
        || m == "application/javascript"
        || m == "application/graphql"
        || m == "application/sql")
}

/// Advertises a binary value as base64 text (what an agent can send in JSON).
fn mark_base64(schema: &mut Value) {
    let target = match schema.get("type") {
        Some(t) if t == "array" => schema.get_mut("items"),
        _ => Some(schema),
    };
    if let Some(Value::Object(o)) = target {
        o.shift_remove("format");
        o.insert("type".into(), json!("string"));
        o.insert("contentEncoding".into(), json!("base64"));
    }
}

fn is_empty_object(schema: &Value) -> bool {
    let Some(o) = schema.as_object() else {
        return false;
    };
    o.get("additionalProperties") == Some(&json!(false))
        && o.get("properties")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        && ["allOf", "anyOf", "oneOf", "patternProperties", "$ref"]
            .iter()
            .all(|k| !o.contains_key(*k))
}

/// The body encoding to use (JSON first, then form, then multipart, then any other type), the
/// media type as the spec wrote it, and its schema.
fn pick_body(
    content: &[(String, Option<RawSchema>)],
) -> Option<(BodyEncoding, &str, Option<&RawSchema>)> {
    let base = |m: &str| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    if let Some((m, s)) = content
        .iter()
        .find(|(m, _)| crate::openapi::is_json(m) && base(m) != "*/*")
    {
        return Some((BodyEncoding::Json(base(m)), m, s.as_ref()));
    }
    if let Some((m, s)) = content
        .iter()
        .find(|(m, _)| base(m) == "application/x-www-form-urlencoded")
    {
        return Some((BodyEncoding::Form, m, s.as_ref()));
    }
    if let Some((m, s)) = content
        .iter()
        .find(|(m, _)| base(m) == "multipart/form-data")
    {
        return Some((BodyEncoding::Multipart, m, s.as_ref()));
    }
    if let Some((m, s)) = content.iter().find(|(m, _)| base(m) == "*/*") {
        return Some((
            BodyEncoding::Json("application/json".to_string()),
            m,
            s.as_ref(),
        ));
    }
    content
        .first()
        .map(|(m, s)| (BodyEncoding::Raw(base(m)), m.as_str(), s.as_ref()))
}

/// An object body's properties and the names of the required ones.
type FlatObject = (Vec<(String, Value)>, Vec<String>);

/// An object body with top-level constraints: its properties, and the constraints
/// (`if`/`then`/`else`, `allOf` members without properties) to keep at the input schema's root.
fn constrained_object(schema: &Value) -> Option<(FlatObject, Map<String, Value>)> {
    let mut rest = schema.as_object()?.clone();
    let mut kept = Map::new();
    for k in ["if", "then", "else"] {
        if let Some(v) = rest.remove(k) {
            kept.insert(k.into(), v);
        }
    }
    if let Some(Value::Array(all)) = rest.get("allOf").cloned() {
        let (objects, only): (Vec<Value>, Vec<Value>) = all
            .into_iter()
            .partition(|p| p.get("properties").is_some() || flatten_object(p).is_some());
        if !only.is_empty() {
            kept.insert("allOf".into(), Value::Array(only));
            if objects.is_empty() {
                rest.remove("allOf");
            } else {
                rest.insert("allOf".into(), Value::Array(objects));
            }
        }
    }
    if kept.is_empty() {
        return None;
    }
    Some((flatten_object(&Value::Object(rest))?, kept))
}

/// The properties and required names of an object body, if it is a plain object (or an `allOf`
/// of plain objects, merged). Anything else is sent whole.
fn flatten_object(schema: &Value) -> Option<FlatObject> {
    let obj = schema.as_object()?;
    if ["oneOf", "anyOf", "not", "if", "$ref", "patternProperties"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return None;
    }
    if obj
        .get("additionalProperties")
        .is_some_and(|a| a != &json!(false))
    {
        return None; // free-form maps cannot be flattened into named arguments
    }
    let type_ok = match obj.get("type") {
        None => obj.contains_key("properties") || obj.contains_key("allOf"),
        Some(t) => t == "object",
    };
    if !type_ok {
        return None;
    }
    let mut props: Vec<(String, Value)> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let absorb =
        |o: &Map<String, Value>, props: &mut Vec<(String, Value)>, required: &mut Vec<String>| {
            if let Some(p) = o.get("properties").and_then(Value::as_object) {
                for (k, v) in p {
                    match props.iter_mut().find(|(n, _)| n == k) {
                        Some(existing) => {
                            existing.1 = json!({"allOf": [existing.1.clone(), v.clone()]})
                        }
                        None => props.push((k.clone(), v.clone())),
                    }
                }
            }
            if let Some(r) = o.get("required").and_then(Value::as_array) {
                required.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
            }
        };
    absorb(obj, &mut props, &mut required);
    if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        for part in all {
            let (p, r) = flatten_object(part)?;
            let o = json!({"properties": Map::from_iter(p), "required": r});
            absorb(o.as_object()?, &mut props, &mut required);
        }
    }
    if props.is_empty() {
        return None;
    }
    Some((props, required))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_of_object_bodies_flatten_and_unions_do_not() {
        let (props, req) = flatten_object(&json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}}]}))
        .unwrap();
        assert_eq!(
            props.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(req, ["a"]);
        assert!(flatten_object(&json!({"oneOf": [{"type": "object"}]})).is_none());
        assert!(flatten_object(&json!({"type": "array"})).is_none());
        assert!(
            flatten_object(&json!({"type": "object", "additionalProperties": {"type": "string"}}))
                .is_none()
        );
    }

    #[test]
    fn form_fields_default_to_exploded_form_and_follow_declared_encodings() {
        let root = Root::default();
        let declared = [
            PropertyEncoding {
                property: "metadata".into(),
                content_type: None,
                style: Some(ParamStyle::DeepObject),
                explode: Some(true),
            },
            PropertyEncoding {
                property: "payload".into(),
                content_type: Some("application/json".into()),
                style: None,
                explode: None,
            },
        ];
        let enc = |p: &str| {
            field_encoding(
                &BodyEncoding::Form,
                p,
                &json!({"type": "object"}),
                &declared,
                &root,
            )
        };
        assert_eq!(
            enc("address"),
            FieldEncoding::Form {
                style: ParamStyle::Form,
                explode: true,
                json: false
            }
        );
        assert_eq!(
            enc("metadata"),
            FieldEncoding::Form {
                style: ParamStyle::DeepObject,
                explode: true,
                json: false
            }
        );
        assert_eq!(
            enc("payload"),
            FieldEncoding::Form {
                style: ParamStyle::Form,
                explode: true,
                json: true
            }
        );
    }

    #[test]
    fn multipart_parts_get_openapi_default_content_types() {
        let root = Root::default();
        let part =
            |schema: Value| field_encoding(&BodyEncoding::Multipart, "p", &schema, &[], &root);
        let ct = |schema: Value| match part(schema) {
            FieldEncoding::Part {
                content_type,
                binary,
                ..
            } => (content_type, binary),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ct(json!({"type": "string", "format": "binary"})),
            ("application/octet-stream".into(), true)
        );
        assert_eq!(
            ct(json!({"type": "object", "properties": {}})),
            ("application/json".into(), false)
        );
        assert_eq!(ct(json!({"type": "integer"})), ("text/plain".into(), false));
        assert_eq!(
            ct(json!({"type": "array", "items": {"type": "string", "format": "binary"}})),
            ("application/octet-stream".into(), true)
        );
    }
}
