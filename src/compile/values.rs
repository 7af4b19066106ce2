//! Manifest `default:` and `fixed:` values, checked against their parameter's schema: a value
//! of the wrong type passes no client-side check (the agent never sends it), so without this
//! every call would be refused upstream for an argument nobody can see.

use serde_json::Value;

use super::tool::{Problem, problem};
use crate::diag::Diagnostic;
use crate::manifest::ParamOverride;

/// A manifest `default:` or `fixed:` value, checked against its parameter's schema once the
/// tool's `$defs` are known: a value of the wrong type would make every call fail upstream for
/// an argument the agent never sent.
#[derive(Debug)]
pub(super) struct ValueCheck {
    /// Where it is in the manifest entry (`/params/limit/default`).
    pub(super) pointer: String,
    /// The parameter's key in `params`.
    pub(super) name: String,
    /// `default` or `fixed`.
    pub(super) what: &'static str,
    /// The parameter's schema.
    pub(super) schema: Value,
    /// The value.
    pub(super) value: Value,
}

/// Queues the `fixed:` and `default:` values that an override gives one parameter (manifest
/// entry `ptr`, key `name` in `params`) to be checked against the parameter's `schema`.
pub(super) fn queue(
    checks: &mut Vec<ValueCheck>,
    ptr: &str,
    name: &str,
    schema: &Value,
    ov: Option<&ParamOverride>,
) {
    let Some(ov) = ov else {
        return;
    };
    for (what, v) in [("fixed", &ov.fixed), ("default", &ov.default)] {
        if let Some(v) = v {
            checks.push(ValueCheck {
                pointer: format!("{ptr}/{what}"),
                name: name.to_string(),
                what,
                schema: schema.clone(),
                value: v.clone(),
            });
        }
    }
}

/// Each manifest value that its parameter's schema refuses, as an error naming what is wrong.
pub(super) fn check_values(checks: Vec<ValueCheck>, defs: Option<&Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for c in checks {
        let mut schema = c.schema;
        if let (Some(defs), Value::Object(o)) = (defs, &mut schema) {
            o.insert("$defs".into(), defs.clone());
        }
        // A schema the validator cannot compile is reported (or repaired) with the tool's
        // input schema; here it cannot judge the value.
        let Ok(validator) = jsonschema::validator_for(&schema) else {
            continue;
        };
        let Some(first) = validator.iter_errors(&c.value).next() else {
            continue;
        };
        let at = first.instance_path().as_str();
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" at `{at}`")
        };
        problems.push(problem(
            c.pointer,
            Diagnostic::error(
                "bad-value",
                format!(
                    "the `{}` value of `{}` does not match its schema{at}: {first}",
                    c.what, c.name
                ),
            )
            .with_hint(format!(
                "give a value the spec accepts for `{}` (its schema: {})",
                c.name,
                short_schema(&schema_without_defs(&schema))
            )),
        ));
    }
    problems
}

fn schema_without_defs(schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Value::Object(o) = &mut s {
        o.shift_remove("$defs");
        o.shift_remove("description");
        o.shift_remove("examples");
    }
    s
}

/// A schema in one line, cut to a readable length.
fn short_schema(schema: &Value) -> String {
    let text = schema.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}
