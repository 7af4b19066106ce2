//! What a tool asks the user, and what it mirrors into headers: `ask:` and `mcp_header:` on a
//! parameter, `confirm:` on the tool (and `confirm_destructive:` on the manifest), compiled
//! into the tool's [`Interaction`] and input schema.
//!
//! An asked parameter leaves the input schema (the model cannot supply it: an argument of that
//! name is refused as unknown) but keeps its place in the call plan, which the value the user
//! gives fills. The form shown to the user is built from the parameter's own schema, so only
//! what elicitation can render is accepted: one string, number, integer or boolean field.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::tool::{Problem, problem};
use crate::diag::{Diagnostic, did_you_mean};
use crate::gateway::{
    Annotations, Ask, BodyPlan, BodySource, Confirm, Interaction, ParamBinding, Validator,
};
use crate::manifest::{AskConfig, ConfirmConfig, ParamOverride, ToolConfig, pointer_segment};

/// Keywords of a parameter schema that an elicitation form field may carry.
const FORM_KEYWORDS: [&str; 10] = [
    "type",
    "title",
    "description",
    "enum",
    "default",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
];

/// The argument an override key (`petId`, `body.name`, `body`) names, if it has one.
fn argument_of(key: &str, bindings: &[ParamBinding], body: Option<&BodyPlan>) -> Option<String> {
    if let Some(b) = bindings.iter().find(|b| b.wire == key) {
        return b.arg.clone();
    }
    let property = key.strip_prefix("body.").unwrap_or(key);
    match body.map(|b| &b.source) {
        Some(BodySource::Fields(fields)) => fields
            .iter()
            .find(|f| f.property == property)
            .and_then(|f| f.arg.clone()),
        Some(BodySource::Whole(f)) if key == "body" => f.arg.clone(),
        _ => None,
    }
}

/// Applies `ask:` and `mcp_header:` of the tool's parameters: asked arguments leave
/// `properties` and `required`; mirrored ones get `x-mcp-header`. Returns the asks.
pub(super) fn params(
    overrides: &indexmap::IndexMap<String, ParamOverride>,
    bindings: &[ParamBinding],
    body: Option<&BodyPlan>,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
    errors: &mut Vec<Problem>,
) -> Vec<Ask> {
    let mut asks = Vec::new();
    let mut headers: HashSet<String> = HashSet::new();
    for (key, ov) in overrides {
        if ov.ask.is_none() && ov.mcp_header.is_none() {
            continue;
        }
        let ptr = format!("/params/{}", pointer_segment(key));
        let Some(arg) = argument_of(key, bindings, body) else {
            // Hidden, fixed or unknown: the other checks of the entry say which.
            if ov.fixed.is_some() || ov.hide {
                errors.push(problem(
                    ptr,
                    Diagnostic::error(
                        "ask-hidden",
                        format!(
                            "`{key}` is hidden or fixed, so nobody can be asked for it or mirror it"
                        ),
                    )
                    .with_hint("remove `ask:`/`mcp_header:`, or remove `fixed:`/`hide:`"),
                ));
            }
            continue;
        };
        let Some(schema) = properties.get(&arg).cloned() else {
            continue;
        };
        let primitive = schema.get("type").and_then(Value::as_str);
        if let Some(name) = &ov.mcp_header {
            mirror(
                name,
                (&arg, &ptr),
                primitive,
                ov.ask.is_some(),
                &mut headers,
                properties,
                errors,
            );
        }
        let Some(cfg) = &ov.ask else { continue };
        let is_required = required.iter().any(|r| r.as_str() == Some(arg.as_str()));
        let Some(ask) = ask(cfg, &arg, &ptr, &schema, is_required, errors) else {
            continue;
        };
        properties.shift_remove(&arg);
        required.retain(|r| r.as_str() != Some(arg.as_str()));
        asks.push(ask);
    }
    let mut keys = HashSet::new();
    for a in &asks {
        if !keys.insert(a.key.as_str()) {
            errors.push(problem(
                "/params",
                Diagnostic::error(
                    "duplicate-ask-key",
                    format!("two asked parameters use the key `{}`", a.key),
                )
                .with_hint("give each `ask:` a `key:` of its own"),
            ));
        }
    }
    asks
}

/// The question for the argument `arg` (`ask:` at `ptr`): a one-field form the user fills in,
/// checked by the parameter's own `schema`; `None` (with the problem reported) for an argument a
/// user cannot be asked for.
fn ask(
    cfg: &AskConfig,
    arg: &str,
    ptr: &str,
    schema: &Value,
    is_required: bool,
    errors: &mut Vec<Problem>,
) -> Option<Ask> {
    let primitive = schema.get("type").and_then(Value::as_str);
    let (message, key_name, field) = match cfg {
        AskConfig::Message(m) => (m.clone(), None, None),
        AskConfig::Detailed(d) => (d.message.clone(), d.key.clone(), d.field.clone()),
    };
    let field = field.unwrap_or_else(|| arg.to_string());
    if !matches!(primitive, Some("string" | "number" | "integer" | "boolean")) {
        errors.push(problem(
            format!("{ptr}/ask"),
            Diagnostic::error(
                "ask-type",
                format!("`{arg}` is not a string, number, integer or boolean, so a user cannot be asked for it"),
            )
            .with_hint("ask only for single values; let the model supply structured ones"),
        ));
        return None;
    }
    let mut shown: Map<String, Value> = schema
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| FORM_KEYWORDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    shown.entry("title").or_insert_with(|| json!(field));
    let mut form = json!({"type": "object", "properties": {field.clone(): shown}});
    if is_required {
        form["required"] = json!([field]);
    }
    let form = match serde_json::from_value::<rmcp::model::ElicitationSchema>(form.clone()) {
        Ok(_) => form.as_object().cloned().unwrap_or_default(),
        Err(e) => {
            errors.push(problem(
                format!("{ptr}/ask"),
                Diagnostic::error(
                    "ask-form",
                    format!("`{arg}` cannot be shown to the user as a form field: {e}"),
                )
                .with_hint("ask only for plain strings, numbers, integers, booleans and enums"),
            ));
            return None;
        }
    };
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => Validator::new(schema.clone(), v),
        Err(e) => {
            errors.push(problem(
                format!("{ptr}/ask"),
                Diagnostic::error("ask-form", format!("the schema of `{arg}`: {e}")),
            ));
            return None;
        }
    };
    Some(Ask {
        key: key_name.unwrap_or_else(|| arg.to_string()),
        arg: arg.to_string(),
        field,
        message,
        form,
        validator,
    })
}

/// `mcp_header: NAME` on the argument `arg`: a valid, unique header name on a primitive argument
/// the client sends, advertised as `x-mcp-header` in the input schema.
fn mirror(
    name: &str,
    (arg, ptr): (&str, &str),
    primitive: Option<&str>,
    asked: bool,
    headers: &mut HashSet<String>,
    properties: &mut Map<String, Value>,
    errors: &mut Vec<Problem>,
) {
    let token = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if !token {
        errors.push(problem(
            format!("{ptr}/mcp_header"),
            Diagnostic::error(
                "bad-mcp-header",
                format!("`{name}` is not an HTTP header name"),
            )
            .with_hint("use letters, digits and `-`, e.g. `Region`"),
        ));
    } else if !headers.insert(name.to_ascii_lowercase()) {
        errors.push(problem(
            format!("{ptr}/mcp_header"),
            Diagnostic::error(
                "duplicate-mcp-header",
                format!("two arguments of this tool are mirrored into `Mcp-Param-{name}`"),
            )
            .with_hint("give each a header name of its own"),
        ));
    } else if !matches!(primitive, Some("string" | "integer" | "boolean")) {
        errors.push(problem(
            format!("{ptr}/mcp_header"),
            Diagnostic::error(
                "mcp-header-type",
                format!("`{arg}` is not a string, integer or boolean, which is all a client may mirror into a header"),
            )
            .with_hint("remove `mcp_header:` from this parameter"),
        ));
    } else if asked {
        errors.push(problem(
            format!("{ptr}/mcp_header"),
            Diagnostic::error(
                "mcp-header-asked",
                format!("`{arg}` is asked of the user, so the client never sends it"),
            )
            .with_hint("remove `mcp_header:` or `ask:`"),
        ));
    } else if let Some(Value::Object(p)) = properties.get_mut(arg) {
        p.insert("x-mcp-header".into(), Value::String(name.to_string()));
    }
}

/// The tool's interaction: its asks, and the confirmation `confirm:` (or, for a destructive
/// tool, `confirm_destructive`) calls for, whose template may name any of `arguments`.
pub(super) fn finish(
    cfg: Option<&ToolConfig>,
    asks: Vec<Ask>,
    annotations: &Annotations,
    confirm_destructive: bool,
    arguments: &[String],
    errors: &mut Vec<Problem>,
) -> Option<Arc<Interaction>> {
    let source = match cfg.and_then(|c| c.confirm.as_ref()) {
        Some(ConfirmConfig::Message(m)) => Some(m.clone()),
        Some(ConfirmConfig::Enabled(true)) => Some(String::new()),
        Some(ConfirmConfig::Enabled(false)) => None,
        None if confirm_destructive && annotations.destructive_hint => Some(String::new()),
        None => None,
    };
    let confirm = source.and_then(|source| {
        if source.is_empty() {
            // The default message is written at call time from the arguments given.
            return Some(Confirm { templates: None });
        }
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        if let Err(e) = env.add_template_owned("confirm", source) {
            errors.push(problem(
                "/confirm",
                Diagnostic::error(
                    "template-syntax",
                    format!(
                        "template syntax error: {}",
                        e.detail().unwrap_or("invalid syntax")
                    ),
                )
                .with_hint(
                    "the message is a Jinja template of the arguments: `Delete pet {{ pet_id }}?`",
                ),
            ));
            return None;
        }
        let unknown: Vec<String> = env
            .get_template("confirm")
            .map(|t| t.undeclared_variables(false).into_iter().collect())
            .unwrap_or_default();
        let mut unknown: Vec<String> = unknown
            .into_iter()
            .filter(|v| !arguments.contains(v) && v != "tool")
            .collect();
        unknown.sort();
        for v in &unknown {
            let hint = did_you_mean(v, arguments.iter().map(String::as_str)).unwrap_or_else(|| {
                format!(
                    "its variables are the tool's arguments: {}",
                    arguments.join(", ")
                )
            });
            errors.push(problem(
                "/confirm",
                Diagnostic::error(
                    "unknown-variable",
                    format!("the message uses `{v}`, which is not an argument of this tool"),
                )
                .with_hint(hint),
            ));
        }
        unknown.is_empty().then_some(Confirm {
            templates: Some(env.into()),
        })
    });
    let interaction = Interaction { asks, confirm };
    (!interaction.is_empty()).then(|| Arc::new(interaction))
}
