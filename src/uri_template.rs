//! RFC 6570 URI templates, the part resource templates need: literals, simple `{var}` and
//! reserved `{+var}` expressions (levels 1 and 2, one variable per expression), parsed once at
//! compile time and matched against the URIs clients read.
//!
//! Matching is the security-relevant half: a `{var}` never matches across `/`, `?` or `#`, and
//! a matched value is only ever percent-decoded into an argument, which the call plan encodes
//! again as one path segment or query value. So a URI can pick *which* resource, never change
//! the upstream host or path.

use std::borrow::Cow;
use std::fmt;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text that must appear as is.
    Literal(String),
    /// A variable: its name and whether it is reserved (`{+name}`, may contain `/`).
    Var {
        /// Variable name.
        name: String,
        /// `{+name}`: reserved characters (including `/`) are allowed in the value.
        reserved: bool,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{` without `}`, or `}` without `{`.
    #[error("unbalanced braces in `{0}`")]
    Unbalanced(String),
    /// An expression this gateway does not match (`{?q}`, `{a,b}`, `{#x}`, `{x*}`, …).
    #[error(
        "`{{{0}}}` is not supported: use `{{name}}` or `{{+name}}` (one variable per expression)"
    )]
    Unsupported(String),
    /// Two variables with nothing between them cannot be told apart.
    #[error("`{{{0}}}` follows another variable directly: put literal text between them")]
    Adjacent(String),
}

impl UriTemplate {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_string()));
                    break;
                }
                Some(i) if rest.as_bytes()[i] == b'}' => {
                    return Err(TemplateError::Unbalanced(source.to_string()));
                }
                Some(open) => {
                    if open > 0 {
                        parts.push(Part::Literal(rest[..open].to_string()));
                    }
                    let Some(close) = rest[open..].find('}') else {
                        return Err(TemplateError::Unbalanced(source.to_string()));
                    };
                    let expr = &rest[open + 1..open + close];
                    let (reserved, name) = match expr.strip_prefix('+') {
                        Some(n) => (true, n),
                        None => (false, expr),
                    };
                    let valid = !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                    if !valid {
                        return Err(TemplateError::Unsupported(expr.to_string()));
                    }
                    if matches!(parts.last(), Some(Part::Var { .. })) {
                        return Err(TemplateError::Adjacent(expr.to_string()));
                    }
                    parts.push(Part::Var {
                        name: name.to_string(),
                        reserved,
                    });
                    rest = &rest[open + close + 1..];
                }
            }
        }
        Ok(Self {
            source: source.to_string(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { name, .. } => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The variables' (percent-decoded) values if `uri` matches, in template order.
    pub fn match_uri(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Part::Var { name, reserved } => {
                    // The value runs up to the next literal (its first occurrence), or to the
                    // end of the URI when the variable comes last.
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let raw = &rest[..end];
                    let stops: &[char] = if *reserved {
                        &['?', '#']
                    } else {
                        &['/', '?', '#']
                    };
                    if raw.is_empty() || raw.contains(stops) {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(raw)
                        .decode_utf8()
                        .ok()
                        .map(Cow::into_owned)?;
                    out.push((name.clone(), value));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(t: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(t).unwrap().match_uri(uri)
    }

    #[test]
    fn simple_variables_match_one_segment_and_are_decoded() {
        assert_eq!(
            vars("test://template/{id}/data", "test://template/123/data"),
            Some(vec![("id".into(), "123".into())])
        );
        assert_eq!(
            vars("crm://customer/{id}", "crm://customer/a%20b"),
            Some(vec![("id".into(), "a b".into())])
        );
        assert_eq!(vars("crm://customer/{id}", "crm://customer/a/b"), None);
        assert_eq!(vars("crm://customer/{id}", "crm://customer/"), None);
        assert_eq!(vars("crm://customer/{id}", "crm://other/1"), None);
        assert_eq!(
            vars(
                "github://repos/{owner}/{repo}",
                "github://repos/rust-lang/rust"
            ),
            Some(vec![
                ("owner".into(), "rust-lang".into()),
                ("repo".into(), "rust".into())
            ])
        );
    }

    #[test]
    fn reserved_variables_may_span_segments() {
        assert_eq!(
            vars("files://{+path}", "files://a/b/c.txt"),
            Some(vec![("path".into(), "a/b/c.txt".into())])
        );
    }

    #[test]
    fn unsupported_expressions_are_refused() {
        assert!(matches!(
            UriTemplate::parse("x://{?q}"),
            Err(TemplateError::Unsupported(_))
        ));
        assert!(matches!(
            UriTemplate::parse("x://{a,b}"),
            Err(TemplateError::Unsupported(_))
        ));
        assert!(matches!(
            UriTemplate::parse("x://{a"),
            Err(TemplateError::Unbalanced(_))
        ));
        assert!(matches!(
            UriTemplate::parse("x://{a}{b}"),
            Err(TemplateError::Adjacent(_))
        ));
    }
}
