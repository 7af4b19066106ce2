//! Tool names: defaults derived from the operation, and the MCP naming rules (1–128 characters
//! of `A-Z a-z 0-9 _ - .`; several clients cut at 64, so longer names get a warning).

use crate::openapi::Operation;

/// Longest name the MCP spec allows.
pub(crate) const MAX_NAME: usize = 128;
/// Longest name every common client accepts (Claude Desktop, Cursor, VS Code prefix or cut
/// names past this).
pub(crate) const CLIENT_NAME_LIMIT: usize = 64;

/// The default tool name: snake_case of the operationId, else of method and path.
pub(crate) fn default_name(op: &Operation) -> String {
    let raw = match &op.id {
        Some(id) => id.clone(),
        None => format!("{} {}", op.method.as_str().to_ascii_lowercase(), op.path),
    };
    let name = snake_case(&raw);
    if name.is_empty() {
        "operation".to_string()
    } else {
        name
    }
}

/// `getPetById` → `get_pet_by_id`; `GET /pets/{petId}` → `get_pets_pet_id`; characters outside
/// the MCP set become `_`, runs of `_` collapse.
pub(crate) fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() {
                let prev = i.checked_sub(1).map(|j| chars[j]);
                let next = chars.get(i + 1);
                let boundary = match prev {
                    Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                    Some(p) if p.is_ascii_uppercase() => {
                        next.is_some_and(|n| n.is_ascii_lowercase())
                    }
                    _ => false,
                };
                if boundary && !out.ends_with('_') {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        } else if c == '.' || c == '-' {
            // Allowed by MCP, but snake_case reads better for agents; keep `.` as a separator.
            if !out.ends_with('_') {
                out.push('_');
            }
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Why a name is not a valid MCP tool name, if it is not.
pub(crate) fn invalid_reason(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("tool names cannot be empty".to_string());
    }
    if name.chars().count() > MAX_NAME {
        return Some(format!(
            "`{name}` is {} characters; MCP allows at most {MAX_NAME}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "`{name}` contains {bad:?}; tool names may use only A-Z a-z 0-9 _ - ."
        ));
    }
    None
}

/// A valid name from an arbitrary default: cut to fit, with a short hash so cut names stay unique.
pub(crate) fn fit(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    let hash = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{}_{:08x}", &name[..MAX_NAME - 9], hash as u32)
}

/// Checks an explicit or default name; returns the name to use.
// The error is the diagnostic itself, built once per tool at compile time: boxing it would
// only add an allocation to the cold path.
#[allow(clippy::result_large_err)]
pub(crate) fn check_name(
    name: &str,
) -> Result<Option<crate::diag::Diagnostic>, crate::diag::Diagnostic> {
    use crate::diag::Diagnostic;
    if let Some(reason) = invalid_reason(name) {
        return Err(Diagnostic::error("invalid-name", reason)
            .with_hint("use 1–64 characters of A-Z a-z 0-9 _ - ."));
    }
    if name.chars().count() > CLIENT_NAME_LIMIT {
        return Ok(Some(
            Diagnostic::warning(
                "long-name",
                format!(
                    "`{name}` is {} characters; several clients cut tool names at {}",
                    name.chars().count(),
                    CLIENT_NAME_LIMIT
                ),
            )
            .with_hint("set a shorter `name:`"),
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_operation_ids_and_paths() {
        assert_eq!(snake_case("getPetById"), "get_pet_by_id");
        assert_eq!(snake_case("listHTTPRoutes"), "list_http_routes");
        assert_eq!(snake_case("repos/get-content"), "repos_get_content");
        assert_eq!(
            snake_case("get /pets/{petId}/photos"),
            "get_pets_pet_id_photos"
        );
        assert_eq!(snake_case("Pets.List_v2"), "pets_list_v2");
    }

    #[test]
    fn rejects_names_outside_the_mcp_alphabet() {
        assert!(invalid_reason("get_pet").is_none());
        assert!(invalid_reason("admin.tools.list").is_none());
        assert!(invalid_reason("get pet").unwrap().contains("' '"));
        assert!(
            invalid_reason(&"a".repeat(129))
                .unwrap()
                .contains("at most 128")
        );
        assert!(invalid_reason("").is_some());
    }

    #[test]
    fn fit_cuts_long_names_to_the_limit_and_keeps_them_distinct() {
        let a = fit(&"x".repeat(200));
        let b = fit(&format!("{}y", "x".repeat(199)));
        assert_eq!(a.len(), MAX_NAME);
        assert_ne!(a, b);
    }
}
