//! Patterns every client can compile. A JSON Schema `pattern` is an ECMA-262 regular
//! expression, and clients compile it with their own engine: JavaScript with the `u` flag
//! (Unicode mode, where an identity escape such as `\:` is a syntax error) and Python's `re`
//! (the official Python SDK, which has no `\p{…}`). In what is advertised, a pattern that one of
//! them cannot compile is rewritten when a portable spelling means the same (needless escapes
//! dropped), and otherwise removed with a `schema-repaired` warning: dropping it only loosens
//! the schema. The gateway's own validator keeps the original.

use std::borrow::Cow;

use serde_json::Value;

/// ECMA-262 syntax characters: the only punctuation an identity escape may name in Unicode
/// mode (plus `-` inside a class).
const SYNTAX: &str = "^$\\.*+?()[]{}|/";

/// Makes every `pattern` in `schema` portable; returns what was dropped, for warnings.
pub(super) fn make_portable(schema: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    walk(schema, &mut String::new(), &mut dropped);
    dropped
}

fn walk(v: &mut Value, at: &mut String, dropped: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(p)) = o.get("pattern") {
                match portable(p) {
                    Ok(Cow::Borrowed(_)) => {}
                    Ok(Cow::Owned(rewritten)) => {
                        o.insert("pattern".into(), Value::String(rewritten));
                    }
                    Err(reason) => {
                        dropped.push(format!("`{at}/pattern` {reason}"));
                        o.shift_remove("pattern");
                    }
                }
            }
            for (k, child) in o.iter_mut() {
                // Instances, not schemas: a `pattern` member there is data.
                if matches!(k.as_str(), "examples" | "default" | "const" | "enum") {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(k);
                walk(child, at, dropped);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                walk(child, at, dropped);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// `p` if every client compiles it, else a portable rewrite, else why not.
pub fn portable(p: &str) -> Result<Cow<'_, str>, String> {
    if compiles_everywhere(p).is_ok() {
        return Ok(Cow::Borrowed(p));
    }
    let rewritten = drop_identity_escapes(p);
    match compiles_everywhere(&rewritten) {
        Ok(()) => Ok(Cow::Owned(rewritten)),
        Err(reason) => Err(reason),
    }
}

/// Whether `p` compiles as ECMA-262 in Unicode mode and in Python's `re`.
pub fn compiles_everywhere(p: &str) -> Result<(), String> {
    regress::Regex::with_flags(p, "u")
        .map_err(|e| format!("is not an ECMA-262 (Unicode mode) pattern: {e}"))?;
    match python_problem(p) {
        Some(why) => Err(format!("cannot be compiled by Python's `re`: {why}")),
        None => Ok(()),
    }
}

/// `\:`, `\@`, `\#`… mean the character itself everywhere but are errors in Unicode mode.
fn drop_identity_escapes(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e)
                    if e.is_ascii_punctuation()
                        && !SYNTAX.contains(e)
                        && !(in_class && e == '-') =>
                {
                    out.push(e)
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// What Python's `re` refuses among the patterns ECMA-262 accepts.
fn python_problem(p: &str) -> Option<&'static str> {
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                match b.get(i + 1) {
                    Some(b'p' | b'P') => return Some("no Unicode property escapes (`\\p{…}`)"),
                    Some(b'k') => return Some("no `\\k<name>` backreferences"),
                    Some(b'c') => return Some("no `\\cX` control escapes"),
                    Some(b'u') if b.get(i + 2) == Some(&b'{') => {
                        return Some("no `\\u{…}` escapes");
                    }
                    _ => {}
                }
                i += 2;
            }
            b'(' if b.get(i + 1) == Some(&b'?')
                && b.get(i + 2) == Some(&b'<')
                && !matches!(b.get(i + 3), Some(b'=' | b'!')) =>
            {
                return Some("named groups are written `(?P<name>…)`");
            }
            b'[' if matches!(&b[i + 1..], [b']', ..] | [b'^', b']', ..]) => {
                return Some("`[]` and `[^]` mean something else");
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needless_escapes_are_dropped_and_what_python_cannot_compile_is_refused() {
        assert_eq!(portable("^[a-z]+$").unwrap(), "^[a-z]+$");
        assert_eq!(portable(r"^\d+\:\d+$").unwrap(), r"^\d+:\d+$");
        assert_eq!(portable(r"^[\w\-\.\@]+$").unwrap(), r"^[\w\-\.@]+$");
        assert!(portable(r"^\p{L}+$").unwrap_err().contains("Python"));
        assert!(portable(r"(?<year>\d{4})").unwrap_err().contains("Python"));
        assert!(portable(r"^\p{XDigit}$").is_err());
        assert!(portable(r"a{,5}").is_err());
    }

    #[test]
    fn patterns_are_made_portable_in_schemas_but_not_in_data() {
        let mut s = serde_json::json!({
            "properties": {
                "a": {"type": "string", "pattern": r"^\:$"},
                "b": {"type": "string", "pattern": r"^\p{Lu}$"},
                "pattern": {"type": "string", "examples": [{"pattern": r"\p{L}"}]},
            }
        });
        let dropped = make_portable(&mut s);
        assert_eq!(s["properties"]["a"]["pattern"], "^:$");
        assert!(s["properties"]["b"].get("pattern").is_none());
        assert_eq!(
            s["properties"]["pattern"]["examples"][0]["pattern"],
            r"\p{L}"
        );
        assert_eq!(dropped.len(), 1);
        assert!(dropped[0].starts_with("`/properties/b/pattern`"));
    }
}
