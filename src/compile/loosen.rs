//! The proof obligation of compaction: a declared output schema must accept every answer the
//! spec's schema accepts. [`check`] decides that structurally, by rules each of which is sound
//! for JSON Schema 2020-12, written apart from [`super::compact`] so that the compactor cannot
//! vouch for itself. `compile` declares a compacted schema only when the check passes, and the
//! corpus test runs it on every output schema of every real spec.
//!
//! `check(c, o)` holds when:
//! - `c` has no assertions left (`true`, `{}`, annotations only), or `o` is `false`; else
//! - every assertion keyword of `c` is in `o`, and, keyword by keyword:
//!   - positive subschemas (`properties`, `patternProperties`, `dependentSchemas`, `items`,
//!     `prefixItems`, `additionalProperties`, `propertyNames`, `allOf`, `anyOf`) are looser,
//!     member by member (an `anyOf` may also stand for `o`'s `oneOf`: at least one is looser
//!     than exactly one);
//!   - `properties`/`patternProperties` keep every key while `additionalProperties` stays (a
//!     dropped entry would fall under it), and `prefixItems` its length while `items` stays;
//!   - `contains` keeps its `minContains` and `maxContains` (dropping `minContains: 0` would
//!     tighten it);
//!   - everything else (`type`, `enum`, `required`, `not`, `oneOf`, `if`, `$ref`, …) is equal,
//!     ignoring annotations;
//! - `$defs` referred to are equal to `o`'s, ignoring annotations, and `$ref`s point into `$defs`;
//! - a schema with `unevaluatedProperties`/`unevaluatedItems` is equal to `o` but for
//!   annotations (their meaning depends on what siblings evaluated).
//!
//! Dropping an assertion never rejects more: that is the whole argument, applied per keyword.

use serde_json::{Map, Value};

/// Keywords that never affect validation.
fn is_annotation(k: &str) -> bool {
    matches!(
        k,
        "description"
            | "title"
            | "default"
            | "example"
            | "examples"
            | "$comment"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "externalDocs"
            | "xml"
            | "discriminator"
            | "contentMediaType"
            | "contentEncoding"
    ) || k.starts_with("x-")
}

/// `Ok` when every instance valid under `original` is valid under `compacted`; else where the
/// rules could not show it.
pub(crate) fn check(compacted: &Value, original: &Value) -> Result<(), String> {
    if has_unevaluated(original) {
        return if bare(compacted) == bare(original) {
            Ok(())
        } else {
            Err("a schema with unevaluated* keywords changed".into())
        };
    }
    if let (Some(Value::Object(cd)), od) = (compacted.get("$defs"), original.get("$defs")) {
        for (name, def) in cd {
            match od.and_then(|d| d.get(name)) {
                Some(o) if bare(o) == bare(def) => {}
                _ => return Err(format!("$defs/{name} differs")),
            }
        }
    }
    looser(compacted, original, "")
}

fn looser(c: &Value, o: &Value, at: &str) -> Result<(), String> {
    if o == &Value::Bool(false) || accepts_all(c) {
        return Ok(());
    }
    let (Value::Object(co), Value::Object(oo)) = (c, o) else {
        return if c == o {
            Ok(())
        } else {
            Err(format!("{at}: a boolean schema changed"))
        };
    };
    for (k, cv) in co {
        if is_annotation(k) || k == "$defs" {
            continue;
        }
        let here = format!("{at}/{k}");
        let ov = match (oo.get(k), k.as_str()) {
            (Some(ov), _) => ov,
            (None, "anyOf") => match oo.get("oneOf") {
                Some(ov) => ov,
                None => return Err(format!("{here}: not in the original")),
            },
            _ => return Err(format!("{here}: not in the original")),
        };
        match k.as_str() {
            "properties" | "patternProperties" | "dependentSchemas" => {
                let (Value::Object(cm), Value::Object(om)) = (cv, ov) else {
                    return Err(format!("{here}: not a map"));
                };
                let closed = k != "dependentSchemas" && co.contains_key("additionalProperties");
                if closed && cm.len() != om.len() {
                    return Err(format!(
                        "{here}: entries dropped under additionalProperties"
                    ));
                }
                for (name, cs) in cm {
                    let os = om
                        .get(name)
                        .ok_or_else(|| format!("{here}/{name}: not in the original"))?;
                    looser(cs, os, &format!("{here}/{name}"))?;
                }
            }
            "items" | "additionalProperties" | "propertyNames" => looser(cv, ov, &here)?,
            "prefixItems" | "allOf" | "anyOf" => {
                let (Value::Array(ca), Value::Array(oa)) = (cv, ov) else {
                    return Err(format!("{here}: not a list"));
                };
                let must_keep_length = k != "prefixItems" || co.contains_key("items");
                if ca.len() > oa.len() || (must_keep_length && ca.len() != oa.len()) {
                    return Err(format!("{here}: length changed"));
                }
                for (i, (cs, os)) in ca.iter().zip(oa).enumerate() {
                    looser(cs, os, &format!("{here}/{i}"))?;
                }
            }
            "contains" => {
                for bound in ["minContains", "maxContains"] {
                    if co.get(bound) != oo.get(bound) {
                        return Err(format!("{at}/{bound}: changed while contains stays"));
                    }
                }
                if bare(cv) != bare(ov) {
                    return Err(format!("{here}: changed"));
                }
            }
            "$ref" if !cv.as_str().is_some_and(|r| r.starts_with("#/$defs/")) => {
                return Err(format!("{here}: points outside $defs"));
            }
            _ => {
                if bare(cv) != bare(ov) {
                    return Err(format!("{here}: changed"));
                }
            }
        }
    }
    Ok(())
}

fn accepts_all(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(o) => o.keys().all(|k| is_annotation(k)),
        _ => false,
    }
}

/// A schema without its annotations, for equality. The names in property maps and the values of
/// `enum` and `const` are data, kept as they are.
fn bare(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, c) in o {
                if is_annotation(k) {
                    continue;
                }
                let c = match (k.as_str(), c) {
                    (
                        "properties" | "patternProperties" | "dependentSchemas" | "$defs",
                        Value::Object(m),
                    ) => Value::Object(m.iter().map(|(n, s)| (n.clone(), bare(s))).collect()),
                    ("enum" | "const", _) => c.clone(),
                    _ => bare(c),
                };
                out.insert(k.clone(), c);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(bare).collect()),
        other => other.clone(),
    }
}

fn has_unevaluated(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.iter().any(|(k, c)| {
            k == "unevaluatedProperties" || k == "unevaluatedItems" || has_unevaluated(c)
        }),
        Value::Array(a) => a.iter().any(has_unevaluated),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dropping_constraints_is_looser_and_adding_one_is_not() {
        let o = json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}});
        assert!(check(&json!({"type": "object", "properties": {"a": {}}}), &o).is_ok());
        assert!(
            check(
                &json!({"type": "object", "required": ["a", "b"], "properties": {"a": {}}}),
                &o
            )
            .is_err()
        );
        assert!(
            check(
                &json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
                &o
            )
            .is_err()
        );
    }

    #[test]
    fn loosening_inside_not_or_one_of_is_refused() {
        let o = json!({"not": {"type": "object", "required": ["a"]}});
        assert!(check(&json!({"not": {"type": "object"}}), &o).is_err());
        let o = json!({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert!(check(&json!({"oneOf": [{"required": ["a"]}, {}]}), &o).is_err());
        assert!(check(&json!({"anyOf": [{"required": ["a"]}, {}]}), &o).is_ok());
    }

    #[test]
    fn a_property_dropped_under_closed_additional_properties_is_refused() {
        let o = json!({"properties": {"a": {}, "b": {}}, "additionalProperties": false});
        assert!(
            check(
                &json!({"properties": {"a": {}}, "additionalProperties": false}),
                &o
            )
            .is_err()
        );
        assert!(check(&json!({"properties": {"a": {}}}), &o).is_ok());
    }

    #[test]
    fn dropping_min_contains_zero_is_refused() {
        let o = json!({"contains": {"type": "string"}, "minContains": 0});
        assert!(check(&json!({"contains": {"type": "string"}}), &o).is_err());
        assert!(check(&json!({}), &o).is_ok());
    }
}
