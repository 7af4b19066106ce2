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

/// Lines of an argument report shown before the rest are counted as omitted.
const LINES_SHOWN: usize = 10;

/// What is wrong with the arguments of one request (a tool call, a prompt, a resource URI's
/// values), rendered the same way for each:
///
/// ```text
/// Invalid arguments for tool `add_thing`:
/// - missing required property `attributes.parent.id`
/// - argument `colour`: "teal" is not one of the allowed values: …
/// Nothing was sent to the API; fix the arguments and call again.
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentErrors {
    /// What takes the arguments: `tool`, `prompt`, `resource`.
    pub kind: &'static str,
    /// Its name (a resource's URI).
    pub name: String,
    /// One line per problem.
    pub lines: Vec<String>,
    /// What happened because of them, and what to do.
    pub outcome: &'static str,
}

/// The outcome of arguments refused before anything reached the upstream.
pub const NOTHING_SENT: &str = "Nothing was sent to the API; fix the arguments and call again.";

impl ArgumentErrors {
    /// The report for `kind` `name`, or `None` without problems.
    pub fn new(
        kind: &'static str,
        name: String,
        lines: Vec<String>,
        outcome: &'static str,
    ) -> Option<Self> {
        (!lines.is_empty()).then_some(Self {
            kind,
            name,
            lines,
            outcome,
        })
    }

    /// The report of schema problems `found` (as [`problems`] gives them, up to one more than
    /// are shown); `known` names the arguments there are, for an unknown one.
    pub fn of_schema(
        kind: &'static str,
        name: String,
        found: &[Invalid],
        known: &[&str],
        outcome: &'static str,
    ) -> Option<Self> {
        let lines = found.iter().map(|p| line(kind, p, known)).collect();
        Self::new(kind, name, lines, outcome)
    }
}

impl std::fmt::Display for ArgumentErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Invalid arguments for {} `{}`:", self.kind, self.name)?;
        for l in self.lines.iter().take(LINES_SHOWN) {
            write!(f, "\n- {l}")?;
        }
        if self.lines.len() > LINES_SHOWN {
            write!(f, "\n(further errors omitted)")?;
        }
        write!(f, "\n{}", self.outcome)
    }
}

/// One problem as a line of an [`ArgumentErrors`].
fn line(kind: &str, p: &Invalid, known: &[&str]) -> String {
    match &p.kind {
        InvalidKind::Unknown(unexpected) if p.path.is_empty() => unknown_arguments(
            kind,
            &unexpected.iter().map(String::as_str).collect::<Vec<_>>(),
            known,
        ),
        InvalidKind::Missing if !p.path.contains('.') => {
            format!("missing required argument `{}`", p.path)
        }
        InvalidKind::Missing => format!("missing required property `{}`", p.path),
        _ if p.path.is_empty() => format!("arguments: {}", p.message),
        _ => format!("argument `{}`: {}", p.path, p.message),
    }
}

/// `` unknown argument `x`; this tool takes: a, b ``.
pub fn unknown_arguments(kind: &str, unexpected: &[&str], known: &[&str]) -> String {
    format!(
        "unknown argument{} {}; this {kind} takes: {}",
        if unexpected.len() == 1 { "" } else { "s" },
        unexpected
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if known.is_empty() {
            "no arguments".to_string()
        } else {
            known.join(", ")
        }
    )
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
    fn every_argument_report_has_one_form() {
        let found = vec![
            Invalid {
                path: "id".into(),
                kind: InvalidKind::Missing,
                message: String::new(),
            },
            Invalid {
                path: String::new(),
                kind: InvalidKind::Unknown(vec!["x".into()]),
                message: String::new(),
            },
            Invalid {
                path: "a.b".into(),
                kind: InvalidKind::Missing,
                message: String::new(),
            },
            Invalid {
                path: "n".into(),
                kind: InvalidKind::Other,
                message: "\"z\" is not of type \"integer\"".into(),
            },
        ];
        let e = ArgumentErrors::of_schema("tool", "t".into(), &found, &["id", "n"], NOTHING_SENT)
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Invalid arguments for tool `t`:\n\
             - missing required argument `id`\n\
             - unknown argument `x`; this tool takes: id, n\n\
             - missing required property `a.b`\n\
             - argument `n`: \"z\" is not of type \"integer\"\n\
             Nothing was sent to the API; fix the arguments and call again."
        );
        let many: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        let text = ArgumentErrors::new("prompt", "p".into(), many, NOTHING_SENT)
            .unwrap()
            .to_string();
        assert!(text.contains("- p9\n(further errors omitted)\n"), "{text}");
        assert!(!text.contains("p10"), "{text}");
        assert!(ArgumentErrors::new("tool", "t".into(), Vec::new(), NOTHING_SENT).is_none());
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
