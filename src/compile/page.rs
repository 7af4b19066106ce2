//! `response.page:` of a tool → [`Paging`], the `cursor` argument in its input schema and the
//! `next` property in its output schema.
//!
//! Every name and pointer is checked here against the operation's parameters and the answer's
//! schema, so a typo is a diagnostic when the manifest is compiled, not a list that silently
//! stops after one page.

use serde_json::{Map, Value, json};

use super::tool::{Problem, problem};
use crate::diag::{Diagnostic, did_you_mean};
use crate::gateway::paging::{CURSOR_ARG, NEXT, Paging, Style};
use crate::manifest::{PageConfig, PageStyle, ResponseConfig};

/// A schema the compiler cannot see into: any path may exist in it.
static OPEN: Value = Value::Bool(true);

/// Adds the `cursor` argument to a paged tool's input schema, after checking `param` names one
/// of its arguments.
pub(crate) fn input(cfg: Option<&ResponseConfig>, input: &mut Value) -> Result<(), Vec<Problem>> {
    let Some(page) = cfg.and_then(|r| r.page.as_ref()) else {
        return Ok(());
    };
    let Some(props) = input
        .as_object_mut()
        .map(|o| o.entry("properties").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let mut errors = Vec::new();
    let positional = matches!(
        page.style,
        PageStyle::Cursor | PageStyle::Page | PageStyle::Offset
    );
    match (&page.param, positional) {
        (None, true) => errors.push(problem(
            "/response/page",
            Diagnostic::error(
                "page-param",
                format!(
                    "the `{}` style needs `param:`, the argument the next position goes into",
                    style_name(page.style)
                ),
            )
            .with_hint(format!(
                "name one of this tool's arguments, e.g. `param: {}`",
                example_param(page.style)
            )),
        )),
        (Some(p), true) if !props.contains_key(p) => {
            let known: Vec<&str> = props.keys().map(String::as_str).collect();
            let hint = match did_you_mean(p, known.iter().copied()) {
                Some(d) => format!("{d} The arguments are: {}", known.join(", ")),
                None => format!("the arguments are: {}", known.join(", ")),
            };
            errors.push(problem(
                "/response/page/param",
                Diagnostic::error(
                    "unknown-parameter",
                    format!("`{p}` is not an argument of this tool"),
                )
                .with_hint(hint),
            ));
        }
        (Some(_), false) => errors.push(problem(
            "/response/page/param",
            Diagnostic::error(
                "page-param",
                format!(
                    "the `{}` style follows a URL and takes no `param:`",
                    style_name(page.style)
                ),
            )
            .with_hint("remove `param:`"),
        )),
        _ => {}
    }
    // The API's own `cursor` argument is taken over only when it is the paging position.
    if props.contains_key(CURSOR_ARG) && page.param.as_deref() != Some(CURSOR_ARG) {
        errors.push(problem(
            "/response/page",
            Diagnostic::error(
                "cursor-clash",
                format!("this tool already has an argument named `{CURSOR_ARG}`, which paging adds"),
            )
            .with_hint(format!(
                "rename it, e.g. `params: {{{CURSOR_ARG}: {{rename: api_cursor}}}}`, or use it as the paging position with `param: {CURSOR_ARG}`"
            )),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    props.insert(
        CURSOR_ARG.to_string(),
        json!({
            "type": "string",
            "description": format!("To get the next page: the `{NEXT}` value of the previous result, passed back unchanged with the same other arguments. Leave out for the first page."),
        }),
    );
    if let Some(req) = input.get_mut("required").and_then(Value::as_array_mut) {
        req.retain(|r| r != CURSOR_ARG);
    }
    Ok(())
}

/// Checks `page`'s pointers against the answer's schema (`body`, `None`: none declared) whose
/// list is at `list`, and compiles it.
pub(crate) fn build(
    page: &PageConfig,
    body: Option<&Value>,
    defs: &Map<String, Value>,
    list: &[String],
    errors: &mut Vec<Problem>,
) -> Option<Paging> {
    let mut ok = true;
    let mut pointer = |p: &str, field: &str, root: Option<&Value>, what: &str| {
        let segs = split(p);
        let Some(segs) = segs else {
            errors.push(problem(
                format!("/response/page/{field}"),
                Diagnostic::error("bad-pointer", format!("`{p}` is not a JSON pointer"))
                    .with_hint("write a path such as `/next_cursor`"),
            ));
            ok = false;
            return;
        };
        if let Some(root) = root
            && walk(root, defs, &segs).is_none()
        {
            errors.push(problem(
                format!("/response/page/{field}"),
                Diagnostic::error(
                    "unknown-field",
                    format!("`{p}` is not in the schema of {what}"),
                )
                .with_hint({
                    let up = walk(root, defs, &segs[..segs.len().saturating_sub(1)]);
                    let known = fields(up, defs);
                    let last = segs.last().map(String::as_str).unwrap_or("");
                    match did_you_mean(last, known.split(", ")) {
                        Some(d) => format!("{d} The fields there are: {known}"),
                        None => format!("the fields there are: {known}"),
                    }
                }),
            ));
            ok = false;
        }
    };
    let item = body
        .and_then(|b| walk(b, defs, list))
        .map(|l| super::shape::resolve(l, defs).get("items").unwrap_or(&OPEN));
    if let Some(p) = &page.has_more {
        pointer(p, "has_more", body, "the answer");
    }
    let style = match page.style {
        PageStyle::Cursor => match (&page.next, &page.last_item) {
            (Some(n), None) => {
                pointer(n, "next", body, "the answer");
                Style::Cursor {
                    next: Some(n.clone()),
                    last_item: None,
                }
            }
            (None, Some(l)) => {
                pointer(l, "last_item", item, "the list's items");
                Style::Cursor {
                    next: None,
                    last_item: Some(l.clone()),
                }
            }
            _ => {
                errors.push(problem(
                    "/response/page",
                    Diagnostic::error(
                        "page-cursor",
                        "the `cursor` style needs exactly one of `next` (where the answer holds the next cursor) and `last_item` (the field of the last item that is the cursor)",
                    )
                    .with_hint("e.g. `next: /next_cursor`, or `last_item: /id` with `has_more: /has_more`"),
                ));
                return None;
            }
        },
        PageStyle::Page => Style::Page {
            start: page.start.unwrap_or(1),
        },
        PageStyle::Offset => Style::Offset,
        PageStyle::Link => Style::Link,
        PageStyle::NextUrl => match &page.next {
            Some(n) => {
                pointer(n, "next", body, "the answer");
                Style::NextUrl(n.clone())
            }
            None => {
                errors.push(problem(
                    "/response/page",
                    Diagnostic::error(
                        "page-next",
                        "the `next_url` style needs `next:`, the pointer to the next page's URL in the answer",
                    )
                    .with_hint("e.g. `next: /next` or `next: /links/next`"),
                ));
                return None;
            }
        },
    };
    if matches!(page.style, PageStyle::Link | PageStyle::NextUrl) && page.last_item.is_some() {
        errors.push(problem(
            "/response/page/last_item",
            Diagnostic::error(
                "page-last-item",
                "`last_item` belongs to the `cursor` style",
            )
            .with_hint("remove it"),
        ));
        return None;
    }
    ok.then(|| Paging {
        style,
        param: page.param.clone(),
        has_more: page.has_more.clone(),
        max_bytes: page
            .max_bytes
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
    })
}

/// Declares `next` in the output schema's root (the object `structuredContent` is). An answer
/// field of that name is taken over only when it is the paging's own `next:` URL or cursor.
pub(crate) fn declare_next(
    page: &PageConfig,
    root: &mut Map<String, Value>,
    errors: &mut Vec<Problem>,
) {
    let ours = page.next.as_deref() == Some(&format!("/{NEXT}"));
    let props = root
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(props) = props else { return };
    if props.contains_key(NEXT) && !ours {
        errors.push(problem(
            "/response/page",
            Diagnostic::error(
                "next-clash",
                format!("the answer already has a field `{NEXT}`, where paging puts its continuation token"),
            )
            .with_hint("this gateway cannot page this answer without hiding that field; leave `page:` out or use `output_schema: false`"),
        ));
        return;
    }
    props.insert(
        NEXT.to_string(),
        json!({
            "type": "string",
            "description": format!("Present when more items follow: pass it back as the `{CURSOR_ARG}` argument, with the same other arguments, to get them."),
        }),
    );
    if let Some(req) = root.get_mut("required").and_then(Value::as_array_mut) {
        req.retain(|r| r != NEXT);
    }
}

fn split(p: &str) -> Option<Vec<String>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    Some(
        p.strip_prefix('/')?
            .split('/')
            .map(crate::manifest::unescape_segment)
            .collect(),
    )
}

/// The schema at `segs` under `s`; `None` when the schema says there is no such field.
fn walk<'a>(s: &'a Value, defs: &'a Map<String, Value>, segs: &[String]) -> Option<&'a Value> {
    let Some((seg, rest)) = segs.split_first() else {
        return Some(s);
    };
    let s = super::shape::resolve(s, defs);
    if let Some(sub) = s.get("properties").and_then(|p| p.get(seg)) {
        return walk(sub, defs, rest);
    }
    let branches: Vec<&Value> = ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| s.get(k).and_then(Value::as_array))
        .flatten()
        .collect();
    if let Some(found) = branches.iter().find_map(|b| walk(b, defs, segs)) {
        return Some(found);
    }
    // Only a schema that lists its fields can say one is missing.
    let closed = s.get("properties").is_some() || !branches.is_empty();
    (!closed).then_some(&OPEN)
}

fn fields(s: Option<&Value>, defs: &Map<String, Value>) -> String {
    let Some(s) = s else { return "(none)".into() };
    let s = super::shape::resolve(s, defs);
    let names: Vec<&str> = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

fn style_name(s: PageStyle) -> &'static str {
    match s {
        PageStyle::Cursor => "cursor",
        PageStyle::Page => "page",
        PageStyle::Offset => "offset",
        PageStyle::Link => "link",
        PageStyle::NextUrl => "next_url",
    }
}

fn example_param(s: PageStyle) -> &'static str {
    match s {
        PageStyle::Page => "page",
        PageStyle::Offset => "offset",
        _ => "starting_after",
    }
}
