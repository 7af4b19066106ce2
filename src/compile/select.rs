//! `select:` entries of `tools:` expanded into one entry per matching operation (by tag, path
//! glob and method), so a big spec can be exposed a slice at a time. An operation that also has
//! its own `operation:` entry is left to it: that is how a selected tool is renamed or
//! overridden.

use std::borrow::Cow;

use crate::diag::{Diagnostic, did_you_mean};
use crate::manifest::{LoadedManifest, SelectConfig, ToolConfig};
use crate::openapi::{Operation, Spec};

/// One tool entry after expansion: the manifest index it came from and its settings.
pub(crate) type Entry<'a> = (usize, Cow<'a, ToolConfig>);

/// Every tool entry, selections expanded in spec order at their place in the list.
pub(crate) fn expand<'a>(
    loaded: &'a LoadedManifest,
    spec: &Spec,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Entry<'a>> {
    let tools = &loaded.manifest.tools;
    let explicit: Vec<String> = tools
        .iter()
        .filter_map(|t| t.operation.as_deref())
        .filter_map(|o| spec.find(o))
        .map(Operation::label)
        .collect();
    let mut out = Vec::new();
    for (i, cfg) in tools.iter().enumerate() {
        let base = format!("/tools/{i}");
        let Some(sel) = &cfg.select else {
            out.push((i, Cow::Borrowed(cfg)));
            continue;
        };
        if cfg.operation.is_some() {
            diags.push(loaded.diag_at_key(
                Diagnostic::error("select-and-operation", "an entry has both `operation` and `select`")
                    .with_hint("use `operation:` for one operation, or `select:` for every operation that matches"),
                &format!("{base}/select"),
            ));
            continue;
        }
        let per_tool = [
            ("name", cfg.name.is_some()),
            ("title", cfg.title.is_some()),
            ("description", cfg.description.is_some()),
            ("params", !cfg.params.is_empty()),
            ("response", cfg.response.is_some()),
        ];
        let mut bad = false;
        for (field, set) in per_tool {
            if set {
                bad = true;
                diags.push(loaded.diag_at_key(
                    Diagnostic::error("select-field", format!("`{field}` cannot apply to every operation a selection matches"))
                        .with_hint("give the operation its own `- operation: …` entry to set it; the selection then leaves that operation out"),
                    &format!("{base}/{field}"),
                ));
            }
        }
        for (j, m) in sel.methods.iter().enumerate() {
            if m.parse::<http::Method>().is_err() || m.is_empty() {
                bad = true;
                diags.push(
                    loaded.diag_at(
                        Diagnostic::error("invalid-method", format!("`{m}` is not an HTTP method"))
                            .with_hint("write e.g. `GET` or `POST`"),
                        &format!("{base}/select/methods/{j}"),
                    ),
                );
            }
        }
        if bad {
            continue;
        }
        let matched: Vec<&Operation> = spec
            .operations
            .iter()
            .filter(|op| matches(sel, op) && !explicit.contains(&op.label()))
            .collect();
        if matched.is_empty() {
            diags.push(loaded.diag_at_key(empty_selection(sel, spec), &format!("{base}/select")));
        }
        for op in matched {
            out.push((
                i,
                Cow::Owned(ToolConfig {
                    operation: Some(op.label()),
                    annotations: cfg.annotations.clone(),
                    output_schema: cfg.output_schema,
                    timeout: cfg.timeout.clone(),
                    scopes: cfg.scopes.clone(),
                    ..ToolConfig::default()
                }),
            ));
        }
    }
    out
}

/// The `too-many-tools` warning, counting what selections expanded to and saying so.
pub(crate) fn too_many(loaded: &LoadedManifest, entries: &[Entry<'_>]) -> Option<Diagnostic> {
    let tools = &loaded.manifest.tools;
    if entries.len() <= super::MAX_CURATED_TOOLS {
        return None;
    }
    let selected = entries
        .iter()
        .filter(|(i, _)| tools[*i].select.is_some())
        .count();
    let hint = if selected > 0 {
        format!(
            "{selected} of them come from `select:`; narrow it by `tags`, `paths` or `methods`, or list the operations an agent needs"
        )
    } else {
        "curate: keep the operations an agent needs for its job, merge or drop the rest".to_string()
    };
    Some(
        loaded.diag_at_key(
            Diagnostic::warning(
                "too-many-tools",
                format!(
                    "{} tools; agents choose well among 5–{}",
                    entries.len(),
                    super::MAX_CURATED_TOOLS
                ),
            )
            .with_hint(hint),
            "/tools",
        ),
    )
}

/// Whether `op` matches every criterion of `sel`.
pub(crate) fn matches(sel: &SelectConfig, op: &Operation) -> bool {
    (sel.tags.is_empty() || op.tags.iter().any(|t| sel.tags.contains(t)))
        && (sel.methods.is_empty()
            || sel
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(op.method.as_str())))
        && (sel.paths.is_empty() || sel.paths.iter().any(|g| glob(g, &op.path)))
        && !(op.deprecated && sel.skip_deprecated.unwrap_or(true))
}

fn empty_selection(sel: &SelectConfig, spec: &Spec) -> Diagnostic {
    let mut tags: Vec<&str> = spec
        .operations
        .iter()
        .flat_map(|o| o.tags.iter().map(String::as_str))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let hint = sel
        .tags
        .iter()
        .filter(|t| !tags.contains(&t.as_str()))
        .find_map(|t| did_you_mean(t, tags.iter().copied()))
        .unwrap_or_else(|| {
            if tags.is_empty() {
                "the spec tags no operations; select by `paths` or `methods`".to_string()
            } else {
                format!("the spec's tags are: {}", tags.join(", "))
            }
        });
    Diagnostic::warning("empty-selection", "the selection matches no operation").with_hint(hint)
}

/// `*` matches any text within one path segment, `**` any text at all; the rest is literal.
pub(crate) fn glob(pattern: &str, path: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("**") {
        return (0..=path.len())
            .filter(|&i| path.is_char_boundary(i))
            .any(|i| glob(rest, &path[i..]));
    }
    if let Some(rest) = pattern.strip_prefix('*') {
        let segment_end = path.find('/').unwrap_or(path.len());
        return (0..=segment_end)
            .filter(|&i| path.is_char_boundary(i))
            .any(|i| glob(rest, &path[i..]));
    }
    match (pattern.chars().next(), path.chars().next()) {
        (None, None) => true,
        (Some(p), Some(c)) if p == c => glob(&pattern[p.len_utf8()..], &path[c.len_utf8()..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_within_a_segment_or_across_with_two_stars() {
        assert!(glob("/search/*", "/search/issues"));
        assert!(!glob("/search/*", "/search/issues/1"));
        assert!(glob("/repos/**", "/repos/{owner}/{repo}/issues"));
        assert!(glob("/pets/{petId}", "/pets/{petId}"));
        assert!(glob("/pets*", "/pets"));
        assert!(!glob("/pets", "/pets/1"));
    }
}
