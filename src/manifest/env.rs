//! `${VAR}` and `${VAR:-default}` in deployment-dependent manifest strings (base URL, headers),
//! so one manifest serves every environment.

use thiserror::Error;

/// A reference to an unset variable without a default, or a malformed reference.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EnvError {
    /// `${NAME}` names a variable that is not set and has no default.
    #[error("environment variable `{0}` is not set and has no default")]
    Unset(String),
    /// `${` without a closing `}` or with an invalid name.
    #[error("malformed `${{…}}` reference: {0}")]
    Malformed(String),
}

/// Replaces `${VAR}` / `${VAR:-default}` using `lookup`. `$$` is a literal `$`.
pub fn interpolate(
    input: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, EnvError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                EnvError::Malformed(format!("`{}` has no closing `}}`", &rest[pos..]))
            })?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(EnvError::Malformed(format!(
                    "`${{{inner}}}` is not a variable name"
                )));
            }
            match lookup(name).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&v),
                None => match default {
                    Some(d) => out.push_str(d),
                    None => return Err(EnvError::Unset(name.to_string())),
                },
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOST").then(|| "api.example.com".to_string())
    }

    #[test]
    fn substitutes_set_variables_and_defaults() {
        assert_eq!(
            interpolate("https://${HOST}/v1", env).unwrap(),
            "https://api.example.com/v1"
        );
        assert_eq!(interpolate("${PORT:-8080}", env).unwrap(), "8080");
        assert_eq!(interpolate("cost: $$5 $x", env).unwrap(), "cost: $5 $x");
    }

    #[test]
    fn unset_without_default_and_malformed_references_are_errors() {
        assert_eq!(
            interpolate("${NOPE}", env),
            Err(EnvError::Unset("NOPE".into()))
        );
        assert!(matches!(
            interpolate("${HOST", env),
            Err(EnvError::Malformed(_))
        ));
        assert!(matches!(
            interpolate("${a b}", env),
            Err(EnvError::Malformed(_))
        ));
    }
}
