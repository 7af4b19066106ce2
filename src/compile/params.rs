//! A tool's parameters → its arguments and their bindings: what `params:` does to each
//! (`rename`, `fixed`, `hide`, `default`, `required`, `description`), the location suffix of a
//! name used twice, path parameters the spec forgot, and `params:` entries that match nothing.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::tool::{Cx, annotate, location_word, problem, set};
use super::values::{self, ValueCheck};
use crate::diag::Diagnostic;
use crate::gateway::{BodyPlan, BodySource, ParamBinding, PathPart};
use crate::manifest::{ParamOverride, pointer_segment};
use crate::openapi::Parameter;
use crate::openapi::schema::{Converter, Mode, Root};

/// The arguments being assembled: the input schema's properties and required names, each
/// parameter's binding, and the `fixed:`/`default:` values to check against their schemas.
#[derive(Default)]
pub(super) struct Arguments {
    pub(super) properties: Map<String, Value>,
    pub(super) required: Vec<Value>,
    pub(super) bindings: Vec<ParamBinding>,
    pub(super) checks: Vec<ValueCheck>,
}

/// Every parameter of the operation.
pub(super) fn parameters<'o>(
    cx: &mut Cx<'o>,
    conv: &mut Converter<'_>,
    root: &mut Root,
    overrides: &'o IndexMap<String, ParamOverride>,
    used: &mut Vec<&'o str>,
    args: &mut Arguments,
) {
    let op = cx.op;
    for p in &op.params {
        parameter(cx, conv, root, p, overrides, used, args);
    }
}

/// Parameter `p` → its argument (unless fixed or hidden) and its binding.
fn parameter<'o>(
    cx: &mut Cx<'_>,
    conv: &mut Converter<'_>,
    root: &mut Root,
    p: &'o Parameter,
    overrides: &'o IndexMap<String, ParamOverride>,
    used: &mut Vec<&'o str>,
    args: &mut Arguments,
) {
    let key = p.name.as_str();
    let ov = overrides.get(key);
    if ov.is_some() {
        used.push(key);
    }
    let ptr = format!("/params/{}", pointer_segment(key));
    let schema = match conv.convert(root, &p.schema, Mode::Input) {
        Ok(s) => s,
        Err(e) => {
            cx.errors.push(problem(
                "/operation",
                Diagnostic::error(
                    "bad-schema",
                    format!("parameter `{key}` of {}: {e}", cx.op.label()),
                )
                .with_hint("fix the schema in the spec, or hide the parameter with `fixed:`"),
            ));
            return;
        }
    };
    let fixed = ov.and_then(|o| o.fixed.clone());
    values::queue(&mut args.checks, &ptr, key, &schema, ov);
    let hidden = fixed.is_some() || ov.is_some_and(|o| o.hide);
    if ov.is_some_and(|o| o.hide) && fixed.is_none() && p.required {
        cx.errors.push(problem(
            format!("{ptr}/hide"),
            Diagnostic::error(
                "hide-required",
                format!("cannot hide `{key}`: the operation requires it"),
            )
            .with_hint("give it a value with `fixed: …` instead of `hide: true`"),
        ));
        return;
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
        if args.properties.contains_key(&a)
            && ov.and_then(|o| o.rename.as_ref()).is_none()
            && !args.properties.contains_key(&alt)
        {
            cx.warnings.push(problem(
                ptr.clone(),
                Diagnostic::warning(
                    "renamed-argument",
                    format!(
                        "{} has two parameters called `{a}`; the {} one is exposed as `{alt}`",
                        cx.op.label(),
                        location_word(p.location)
                    ),
                )
                .with_hint("give it a clearer name with `rename:`"),
            ));
            arg = Some(alt);
        }
    }
    if let Some(a) = &arg
        && !argument(cx, p, ov, a, schema, args)
    {
        return;
    }
    args.bindings.push(ParamBinding {
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

/// Adds the argument `arg` for parameter `p` to the input schema, described, defaulted and
/// required as the manifest says; `false` when the name is taken (nothing is bound then).
fn argument(
    cx: &mut Cx<'_>,
    p: &Parameter,
    ov: Option<&ParamOverride>,
    arg: &str,
    mut schema: Value,
    args: &mut Arguments,
) -> bool {
    let key = p.name.as_str();
    let ptr = format!("/params/{}", pointer_segment(key));
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
        cx.warnings.push(problem(
            format!("{ptr}/required"),
            Diagnostic::warning(
                "optional-required",
                format!("`{key}` is required by the spec but optional here"),
            )
            .with_hint("add a `default:` so calls that omit it still reach the upstream intact"),
        ));
    }
    if args.properties.contains_key(arg) {
        cx.errors.push(problem(
            ptr.clone(),
            Diagnostic::error(
                "duplicate-argument",
                format!("two parameters would both be called `{arg}`"),
            )
            .with_hint("give one of them a different `rename:`"),
        ));
        return false;
    }
    if is_required {
        args.required.push(Value::String(arg.to_string()));
    }
    args.properties.insert(arg.to_string(), schema);
    true
}

/// The path template, with a required string argument for each `{name}` the spec forgot to
/// declare (so calls still work).
pub(super) fn path(cx: &mut Cx<'_>, args: &mut Arguments) -> Vec<PathPart> {
    let path = parse_path(&cx.op.path);
    for part in &path {
        if let PathPart::Param(wire) = part
            && !args
                .bindings
                .iter()
                .any(|b| &b.wire == wire && b.location == crate::gateway::ParamLocation::Path)
        {
            // The spec forgot to declare it: expose it as a required string so calls work.
            cx.warnings.push(problem(
                    "/operation",
                    Diagnostic::warning(
                        "undeclared-path-parameter",
                        format!("{} uses `{{{wire}}}` but does not declare it; exposed as a required string", cx.op.label()),
                    )
                    .with_hint("declare the path parameter in the spec"),
                ));
            if !args.properties.contains_key(wire) {
                args.properties
                    .insert(wire.clone(), json!({"type": "string"}));
                args.required.push(Value::String(wire.clone()));
            }
            args.bindings.push(ParamBinding {
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
    path
}

/// An error for each `params:` entry that names no parameter or body property.
pub(super) fn unmatched(
    cx: &mut Cx<'_>,
    overrides: &IndexMap<String, ParamOverride>,
    used: &[&str],
    body_plan: Option<&BodyPlan>,
) {
    let mut known: Vec<String> = cx.op.params.iter().map(|p| p.name.clone()).collect();
    if let Some(BodyPlan {
        source: BodySource::Fields(fields),
        ..
    }) = body_plan
    {
        for f in fields {
            known.push(f.property.clone());
            known.push(format!("body.{}", f.property));
        }
    } else if cx.op.body.is_some() {
        known.push("body".to_string());
    }
    for key in overrides.keys() {
        if !used.contains(&key.as_str()) {
            let mut d = Diagnostic::error(
                "unknown-parameter",
                format!(
                    "{} has no parameter or body property `{key}`",
                    cx.op.label()
                ),
            );
            d.hint =
                crate::diag::did_you_mean(key, known.iter().map(String::as_str)).or_else(|| {
                    Some(if known.is_empty() {
                        "this operation has no parameters".to_string()
                    } else {
                        format!("its parameters are: {}", known.join(", "))
                    })
                });
            cx.errors
                .push(problem(format!("/params/{}", pointer_segment(key)), d));
        }
    }
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
