//! What is wrong with a value that breaks a compiled schema (a tool's arguments or an
//! upstream's answer), said so the reader can find the cause: the full path of a missing nested
//! property (`attributes.parent.id`, not `id`), one line for a problem that every `allOf` level
//! reports again, and every allowed value of an enum (the first ten and a count beyond).

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// Allowed values listed in an enum problem before the rest are counted.
const ENUM_VALUES_SHOWN: usize = 10;

/// One problem of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Dotted path from the root (`attributes.parent.id`); empty for the root itself. For a
    /// missing property, the property's own path.
    pub path: String,
    /// What kind of problem.
    pub kind: InvalidKind,
    /// The problem in words (without the path).
    pub message: String,
}

/// The kinds of problem callers word differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidKind {
    /// A required property is missing.
    Missing,
    /// Properties the schema does not allow.
    Unknown(Vec<String>),
    /// Anything else.
    Other,
}

/// The distinct problems of `value`, at most `max`, in the validator's order.
pub fn problems(validator: &jsonschema::Validator, value: &Value, max: usize) -> Vec<Invalid> {
    let mut out: Vec<Invalid> = Vec::new();
    for err in validator.iter_errors(value) {
        let at: Vec<String> = err
            .instance_path()
            .as_str()
            .split('/')
            .skip(1)
            .map(crate::manifest::unescape_segment)
            .collect();
        let (path, kind, message) = match err.kind() {
            ValidationErrorKind::Required { property } => {
                let name = match property {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let mut full = at.clone();
                full.push(name);
                (
                    full.join("."),
                    InvalidKind::Missing,
                    "missing required property".to_string(),
                )
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => (
                at.join("."),
                InvalidKind::Unknown(unexpected.clone()),
                err.to_string(),
            ),
            ValidationErrorKind::Enum { options } => (
                at.join("."),
                InvalidKind::Other,
                enum_message(err.instance().as_ref(), options),
            ),
            _ => (at.join("."), InvalidKind::Other, err.to_string()),
        };
        let problem = Invalid {
            path,
            kind,
            message,
        };
        // `allOf` levels repeat what their parts found.
        if !out.contains(&problem) {
            out.push(problem);
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

fn enum_message(instance: &Value, options: &Value) -> String {
    let values: &[Value] = options.as_array().map(Vec::as_slice).unwrap_or_default();
    let shown: Vec<String> = values
        .iter()
        .take(ENUM_VALUES_SHOWN)
        .map(Value::to_string)
        .collect();
    let rest = values.len().saturating_sub(ENUM_VALUES_SHOWN);
    let more = if rest > 0 {
        format!(" (and {rest} more)")
    } else {
        String::new()
    };
    format!(
        "{instance} is not one of the allowed values: {}{more}",
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_missing_properties_have_full_paths_and_all_of_repeats_are_one_problem() {
        let v = jsonschema::validator_for(&json!({
            "allOf": [{"allOf": [{
                "type": "object",
                "properties": {"attributes": {"type": "object", "properties": {
                    "parent": {"type": "object", "required": ["id"]}}}}
            }]}]
        }))
        .unwrap();
        let p = problems(&v, &json!({"attributes": {"parent": {}}}), 10);
        assert_eq!(
            p,
            [Invalid {
                path: "attributes.parent.id".into(),
                kind: InvalidKind::Missing,
                message: "missing required property".into()
            }]
        );
    }

    #[test]
    fn enum_problems_list_the_allowed_values() {
        let few = jsonschema::validator_for(&json!({"enum": ["a", "b", "c", "d"]})).unwrap();
        assert_eq!(
            problems(&few, &json!("x"), 10)[0].message,
            r#""x" is not one of the allowed values: "a", "b", "c", "d""#
        );
        let many: Vec<Value> = (0..13).map(|i| json!(i)).collect();
        let many = jsonschema::validator_for(&json!({"enum": many})).unwrap();
        assert_eq!(
            problems(&many, &json!(99), 10)[0].message,
            "99 is not one of the allowed values: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (and 3 more)"
        );
    }
}
