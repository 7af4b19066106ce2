//! `response:` of a tool → [`Shape`], and the output schema rebuilt to match it.
//!
//! The declared `outputSchema` must stay true of every `structuredContent` the tool returns, so
//! shaping edits the schema exactly as it edits the data: a selection keeps the same properties
//! (and drops them from `required`), a capped list gains the `_truncated` property that reports
//! the cut. Every pointer and template variable is checked against the response schema here,
//! so a typo is a diagnostic in CI rather than an empty field in production.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Map, Value, json};

use super::tool::{Problem, problem};
use crate::diag::{Diagnostic, did_you_mean};
use crate::gateway::selection::{TRUNCATED, Under, under};
use crate::gateway::{Block, BlockKind, OutputShape, Shape};
use crate::manifest::{
    AnswerAs, ContentBlockConfig, ResponseConfig, pointer_segment, unescape_segment,
};

/// The split JSON pointer `p` (manifest entry `at`); `None`, with the problem reported, when it
/// is not one.
fn parse_pointer(p: &str, at: String, errors: &mut Vec<Problem>) -> Option<Vec<String>> {
    match split_pointer(p) {
        Some(s) => Some(s),
        None => {
            errors.push(problem(
                at,
                Diagnostic::error("bad-pointer", format!("`{p}` is not a JSON pointer")).with_hint(
                    "write a path from the answer's root, such as `/name` or `/owner/login`",
                ),
            ));
            None
        }
    }
}

/// The output schema's `$defs`, and the answer's schema: the root for an object answer,
/// `result` for a wrapped one.
fn answer_schema(
    schema: Option<&Map<String, Value>>,
    output: OutputShape,
) -> (Map<String, Value>, Option<Value>) {
    let defs: Map<String, Value> = schema
        .and_then(|s| s.get("$defs"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let body_schema: Option<Value> = schema.map(|s| match output {
        OutputShape::Wrapped => s
            .get("properties")
            .and_then(|p| p.get("result"))
            .cloned()
            .unwrap_or(json!({})),
        _ => Value::Object(s.clone()),
    });
    (defs, body_schema)
}

/// Builds the shape for `cfg`, rewriting `schema` (the tool's output schema, if any) to match.
pub(crate) fn build(
    cfg: &ResponseConfig,
    schema: Option<&mut Map<String, Value>>,
    output: OutputShape,
) -> Result<Shape, Vec<Problem>> {
    if cfg.answer_as == Some(AnswerAs::Text) {
        return as_text(cfg);
    }
    let mut errors = Vec::new();
    let select: Option<Vec<Vec<String>>> = cfg.select.as_ref().map(|paths| {
        paths
            .iter()
            .enumerate()
            .filter_map(|(i, p)| parse_pointer(p, format!("/response/select/{i}"), &mut errors))
            .collect()
    });
    let mut list = cfg
        .list
        .as_deref()
        .and_then(|p| parse_pointer(p, "/response/list".to_string(), &mut errors));

    let mut schema = schema;
    let (defs, body_schema) = answer_schema(schema.as_deref(), output);
    if list.is_none() && cfg.max_items.is_some() {
        match &body_schema {
            Some(b) if is_array(resolve(b, &defs)) => list = Some(Vec::new()),
            Some(_) => errors.push(problem(
                "/response/max_items",
                Diagnostic::error(
                    "no-list",
                    "`max_items` caps a list, but this tool's answer is not one",
                )
                .with_hint(
                    "set `list:` to the pointer of the list inside the answer, e.g. `list: /items`",
                ),
            )),
            // No schema: a list at the root is capped if the answer turns out to be one.
            None => list = Some(Vec::new()),
        }
    }

    // Paging checks its pointers against the answer as the API sends it, before any selection.
    let page = cfg.page.as_ref().and_then(|p| {
        if list.is_none() {
            match &body_schema {
                Some(b) if !is_array(resolve(b, &defs)) => errors.push(problem(
                    "/response/page",
                    Diagnostic::error("no-list", "`page` pages a list, but this tool's answer is not one")
                        .with_hint("set `list:` to the pointer of the list inside the answer, e.g. `list: /data`"),
                )),
                _ => list = Some(Vec::new()),
            }
        }
        let segs = list.clone().unwrap_or_default();
        super::page::build(p, body_schema.as_ref(), &defs, &segs, &mut errors)
    });

    let mut new_body = body_schema.clone();
    if let Some(body) = new_body.as_mut() {
        reshape(
            cfg,
            body,
            list.as_ref(),
            select.as_ref(),
            &defs,
            &mut errors,
        );
    }

    // Write the rebuilt answer schema back, and declare the truncation note.
    if let (Some(root), Some(body)) = (schema.as_mut(), new_body) {
        write_back(cfg, root, body, output, &mut errors);
    }

    let (env, blocks) = templates(cfg, schema.as_deref(), output, &defs, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Shape {
        select,
        // Resolved at run time by `serde_json::Value::pointer_mut`, from the segments checked here.
        list: list.map(|segs| {
            segs.iter()
                .map(|s| format!("/{}", pointer_segment(s)))
                .collect()
        }),
        max_items: cfg
            .max_items
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        text: cfg.text.is_some(),
        blocks,
        templates: env.into(),
        as_text: false,
        page,
    })
}

/// The answer's schema `body` cut to what `list` and `select` keep, as the data will be; a
/// selected field the schema does not have is an error with the fields it does have.
fn reshape(
    cfg: &ResponseConfig,
    body: &mut Value,
    list: Option<&Vec<String>>,
    select: Option<&Vec<Vec<String>>>,
    defs: &Map<String, Value>,
    errors: &mut Vec<Problem>,
) {
    let mut missing = Vec::new();
    match list {
        Some(l) => match list_items_mut(body, l, defs) {
            Some(all_items) => {
                if let Some(sel) = select {
                    for items in all_items {
                        *items = project_schema(items, sel, defs, "", &mut missing);
                    }
                }
            }
            None => errors.push(problem(
                "/response/list",
                Diagnostic::error(
                    "not-a-list",
                    format!(
                        "`{}` is not a list in the answer's schema",
                        cfg.list.as_deref().unwrap_or("")
                    ),
                )
                .with_hint("point `list:` at an array property of the answer"),
            )),
        },
        None => {
            if let Some(sel) = select {
                *body = project_schema(body, sel, defs, "", &mut missing);
            }
        }
    }
    // A list in several `anyOf` branches reports a missing field once.
    let mut seen = std::collections::HashSet::new();
    missing.retain(|(path, _)| seen.insert(path.clone()));
    for (path, known) in missing {
        let i = cfg
            .select
            .as_ref()
            .and_then(|s| {
                s.iter()
                    .position(|p| p == &path || path.starts_with(&format!("{p}/")))
            })
            .unwrap_or(0);
        let hint = match did_you_mean(
            path.rsplit('/').next().unwrap_or(""),
            known.iter().map(String::as_str),
        ) {
            Some(d) => format!("{d} The fields there are: {}", known.join(", ")),
            None => format!("the fields there are: {}", known.join(", ")),
        };
        errors.push(problem(
            format!("/response/select/{i}"),
            Diagnostic::error(
                "unknown-field",
                format!("`{path}` is not in the answer's schema"),
            )
            .with_hint(hint),
        ));
    }
}

/// Writes the rebuilt answer schema `body` back into the output schema `root`, and declares
/// `next` (a paged list) or `_truncated` (a capped one).
fn write_back(
    cfg: &ResponseConfig,
    root: &mut Map<String, Value>,
    body: Value,
    output: OutputShape,
    errors: &mut Vec<Problem>,
) {
    match output {
        OutputShape::Wrapped => {
            if let Some(p) = root.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert("result".into(), body);
            }
        }
        _ => {
            if let Value::Object(mut b) = body {
                if let Some(d) = root.get("$defs").cloned() {
                    b.insert("$defs".into(), d);
                }
                *root = b;
            }
        }
    }
    if let Some(p) = &cfg.page {
        super::page::declare_next(p, root, errors);
    }
    // A paged list is never cut without a continuation: `next` says more follow.
    if cfg.max_items.is_some()
        && cfg.page.is_none()
        && let Some(p) = root
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
    {
        p.insert(
            TRUNCATED.into(),
            json!({
                "type": "object",
                "description": "Present when the list was cut: how many items are shown, how many more the API returned, and what to do.",
                "properties": {
                    "shown": {"type": "integer"},
                    "more": {"type": "integer"},
                    "note": {"type": "string"}
                },
                "required": ["shown", "more", "note"]
            }),
        );
    }
}

/// The response's templates (`text`, each content block's), compiled, with every variable
/// checked against the answer's fields; and the content blocks.
fn templates(
    cfg: &ResponseConfig,
    schema: Option<&Map<String, Value>>,
    output: OutputShape,
    defs: &Map<String, Value>,
    errors: &mut Vec<Problem>,
) -> (Environment<'static>, Vec<Block>) {
    // Templates.
    let mut env = Environment::new();
    // Optional fields are often absent: render them empty rather than failing the call. Names
    // that cannot exist are caught below, at compile time.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    // JSON `null` (GitHub's `description`, `language`, …) renders as nothing, not Python's
    // `None`, which would read to an agent as a value.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    let mut sources: Vec<(String, String, String)> = Vec::new();
    if let Some(t) = &cfg.text {
        sources.push(("text".into(), t.clone(), "/response/text".into()));
    }
    let mut blocks = Vec::new();
    for (i, b) in cfg.content.iter().enumerate() {
        let at = format!("/response/content/{i}");
        match block(b, i, &at, &mut sources, errors) {
            Some(block) => blocks.push(block),
            None => continue,
        }
    }
    let variables = schema.map(|s| context_variables(s, output, defs));
    for (name, source, at) in sources {
        match env.add_template_owned(name.clone(), source) {
            Ok(()) => {
                let Some(known) = &variables else { continue };
                let Ok(t) = env.get_template(&name) else {
                    continue;
                };
                let mut unknown: Vec<String> = t
                    .undeclared_variables(false)
                    .into_iter()
                    .filter(|v| !known.contains(v))
                    .collect();
                unknown.sort();
                for v in unknown {
                    let hint = match did_you_mean(&v, known.iter().map(String::as_str)) {
                        Some(d) => format!(
                            "{d} Variables are the answer's fields: {}",
                            known.join(", ")
                        ),
                        None => format!("variables are the answer's fields: {}", known.join(", ")),
                    };
                    errors.push(problem(
                        at.clone(),
                        Diagnostic::error(
                            "unknown-variable",
                            format!("the template uses `{v}`, which the answer does not have"),
                        )
                        .with_hint(hint),
                    ));
                }
            }
            Err(e) => {
                let line = e
                    .line()
                    .map(|l| format!(" (line {l} of the template)"))
                    .unwrap_or_default();
                errors.push(problem(
                    at,
                    Diagnostic::error("template", format!("{}{line}", e.detail().unwrap_or(&e.to_string())))
                        .with_hint("templates use minijinja (Jinja2) syntax: `{{ field }}`, `{% for x in items %}…{% endfor %}`"),
                ));
            }
        }
    }
    (env, blocks)
}

/// `response: {as: text}`: the body as text. Shaping reads JSON, so nothing else of
/// `response:` can apply; the tool has no output schema (see `compile::tool`).
fn as_text(cfg: &ResponseConfig) -> Result<Shape, Vec<Problem>> {
    let others = [
        ("select", cfg.select.is_some()),
        ("list", cfg.list.is_some()),
        ("max_items", cfg.max_items.is_some()),
        ("text", cfg.text.is_some()),
        ("content", !cfg.content.is_empty()),
        ("page", cfg.page.is_some()),
    ];
    let errors: Vec<Problem> = others
        .iter()
        .filter(|(_, set)| *set)
        .map(|(key, _)| {
            problem(
                format!("/response/{key}"),
                Diagnostic::error(
                    "text-answer-shaped",
                    format!(
                        "`{key}` shapes a JSON answer, but `as: text` returns the answer as text"
                    ),
                )
                .with_hint(format!(
                    "remove `{key}`, or remove `as: text` to shape the JSON"
                )),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Shape {
        select: None,
        list: None,
        max_items: None,
        text: false,
        blocks: Vec::new(),
        templates: Default::default(),
        as_text: true,
        page: None,
    })
}

fn block(
    b: &ContentBlockConfig,
    i: usize,
    at: &str,
    sources: &mut Vec<(String, String, String)>,
    errors: &mut Vec<Problem>,
) -> Option<Block> {
    let kinds = [
        b.text.is_some(),
        b.image.is_some(),
        b.audio.is_some(),
        b.resource.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        errors.push(problem(
            at,
            Diagnostic::error(
                "content-block",
                "a content block needs exactly one of `text`, `image`, `audio` or `resource`",
            )
            .with_hint(
                "e.g. `- text: \"{{ name }}\"`, `- image: /photo`, `- resource: pets://{{ id }}`",
            ),
        ));
        return None;
    }
    let data = |p: &str, field: &str, errors: &mut Vec<Problem>| match split_pointer(p) {
        Some(_) => Some(p.to_string()),
        None => {
            errors.push(problem(
                format!("{at}/{field}"),
                Diagnostic::error("bad-pointer", format!("`{p}` is not a JSON pointer"))
                    .with_hint("point at a base64 string in the answer, e.g. `/image/data`"),
            ));
            None
        }
    };
    let kind = if let Some(t) = &b.text {
        sources.push((format!("block{i}"), t.clone(), format!("{at}/text")));
        BlockKind::Text
    } else if let Some(p) = &b.image {
        BlockKind::Image {
            data: data(p, "image", errors)?,
        }
    } else if let Some(p) = &b.audio {
        BlockKind::Audio {
            data: data(p, "audio", errors)?,
        }
    } else {
        let uri = b.resource.clone().unwrap_or_default();
        sources.push((format!("uri{i}"), uri, format!("{at}/resource")));
        let json_at = match (&b.json, &b.template) {
            (Some(p), None) => Some(data(p, "json", errors)?),
            (None, Some(t)) => {
                sources.push((format!("block{i}"), t.clone(), format!("{at}/template")));
                None
            }
            _ => {
                errors.push(problem(
                    at,
                    Diagnostic::error("content-block", "a resource block needs exactly one of `json` (a pointer) or `template` (its text)")
                        .with_hint("e.g. `json: /record` embeds that part of the answer as application/json"),
                ));
                return None;
            }
        };
        BlockKind::Resource { json_at }
    };
    Some(Block {
        kind,
        mime_type: b.mime_type.clone(),
    })
}

/// `"/a/b~1c"` → `["a", "b/c"]`; `""` is the root.
fn split_pointer(p: &str) -> Option<Vec<String>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    let rest = p.strip_prefix('/')?;
    Some(rest.split('/').map(unescape_segment).collect())
}

/// Follows local `$ref`s into `$defs` (bounded, so a cycle cannot hang the compiler).
pub(super) fn resolve<'a>(mut s: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    for _ in 0..32 {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get(name))
        {
            Some(target) => s = target,
            None => break,
        }
    }
    s
}

fn is_array(s: &Value) -> bool {
    s.get("items").is_some()
        || match s.get("type") {
            Some(Value::String(t)) => t == "array",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
            _ => false,
        }
}

/// The `items` schemas of the list at `segs` inside `body` (inlining refs on the way, so the
/// edit does not change a shared definition). Usually one; more when the list sits in the
/// branches of an `anyOf`/`oneOf` (a 3.0 `nullable` paging object becomes `anyOf: [page,
/// null]`): every branch other than `null` must have it, and each branch's `items` is edited.
fn list_items_mut<'a>(
    cur: &'a mut Value,
    segs: &[String],
    defs: &Map<String, Value>,
) -> Option<Vec<&'a mut Value>> {
    let resolved = merge_all_of(resolve(cur, defs), defs);
    *cur = resolved;
    match segs.split_first() {
        Some((seg, rest)) if cur.get("properties").and_then(|p| p.get(seg)).is_some() => {
            return list_items_mut(cur.get_mut("properties")?.get_mut(seg)?, rest, defs);
        }
        None if is_array(cur) => {
            let obj = cur.as_object_mut()?;
            return Some(vec![obj.entry("items").or_insert_with(|| json!({}))]);
        }
        _ => {}
    }
    let comb = ["anyOf", "oneOf"]
        .into_iter()
        .find(|c| cur.get(c).is_some_and(Value::is_array))?;
    let Some(Value::Array(branches)) = cur.get_mut(comb) else {
        return None;
    };
    let mut found = Vec::new();
    for b in branches.iter_mut().filter(|b| !is_null_only(b)) {
        found.extend(list_items_mut(b, segs, defs)?);
    }
    (!found.is_empty()).then_some(found)
}

/// `{type: "null"}` (or `{enum: [null]}`, `{const: null}`): a branch that only allows `null`.
fn is_null_only(s: &Value) -> bool {
    s.get("type").is_some_and(|t| t == "null")
        || s.get("const").is_some_and(Value::is_null)
        || s.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().all(Value::is_null))
}

/// `s` with its `allOf` branches (and the `$ref`s in them) merged in: the common "paging object +
/// items" answer (`allOf: [Paging, {properties: {items: …}}]`) has its list one level down
/// in a branch. A property declared by several branches keeps every declaration (`allOf`).
fn merge_all_of(s: &Value, defs: &Map<String, Value>) -> Value {
    let Some(Value::Array(branches)) = s.get("allOf") else {
        return s.clone();
    };
    let Some(obj) = s.as_object() else {
        return s.clone();
    };
    let mut out = obj.clone();
    out.shift_remove("allOf");
    let mut props = out
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Value> = out
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for b in branches {
        let b = merge_all_of(resolve(b, defs), defs);
        if let Some(p) = b.get("properties").and_then(Value::as_object) {
            for (k, v) in p {
                let merged = match props.get(k) {
                    Some(old) => json!({"allOf": [old, v]}),
                    None => v.clone(),
                };
                props.insert(k.clone(), merged);
            }
        }
        for r in b
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
        if !out.contains_key("type")
            && let Some(t) = b.get("type")
        {
            out.insert("type".into(), t.clone());
        }
    }
    // Each branch closed itself over its own properties only; merged, that would refuse the
    // other branches' fields.
    out.shift_remove("additionalProperties");
    out.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Value::Object(out)
}

/// `s` reduced to `paths`, mirroring [`crate::upstream::shape::project`]. Paths that a closed
/// schema does not have are reported in `missing` with the fields it does have.
fn project_schema(
    s: &Value,
    paths: &[Vec<String>],
    defs: &Map<String, Value>,
    at: &str,
    missing: &mut Vec<(String, Vec<String>)>,
) -> Value {
    let s = resolve(s, defs);
    let Some(obj) = s.as_object() else {
        return s.clone();
    };
    let mut out = obj.clone();
    if let Some(items) = obj.get("items") {
        out.insert(
            "items".into(),
            project_schema(items, paths, defs, at, missing),
        );
    }
    let mut combined = false;
    for comb in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = obj.get(comb) {
            combined = true;
            // A field may live in any branch, so none is reported missing here.
            let mut ignore = Vec::new();
            let projected: Vec<Value> = branches
                .iter()
                .map(|b| project_schema(b, paths, defs, at, &mut ignore))
                .collect();
            out.insert(comb.into(), Value::Array(projected));
        }
    }
    let Some(props) = obj.get("properties").and_then(Value::as_object) else {
        return Value::Object(out);
    };
    let mut kept = Map::new();
    for (key, child) in props {
        match under(paths, key) {
            Under::Nothing => {}
            Under::Whole => {
                kept.insert(key.clone(), child.clone());
            }
            Under::Parts(rests) => {
                let here = format!("{at}/{}", pointer_segment(key));
                kept.insert(
                    key.clone(),
                    project_schema(child, &rests, defs, &here, missing),
                );
            }
        }
    }
    // A field the schema does not list is a typo far more often than an undeclared extra.
    if !combined {
        for p in paths {
            if let Some(first) = p.first()
                && !props.contains_key(first)
            {
                let path = format!(
                    "{at}/{}",
                    p.iter()
                        .map(|s| pointer_segment(s))
                        .collect::<Vec<_>>()
                        .join("/")
                );
                if !missing.iter().any(|(m, _)| m == &path) {
                    missing.push((path, props.keys().cloned().collect()));
                }
            }
        }
    }
    if let Some(Value::Array(req)) = obj.get("required") {
        let req: Vec<Value> = req
            .iter()
            .filter(|r| r.as_str().is_some_and(|r| kept.contains_key(r)))
            .cloned()
            .collect();
        out.insert("required".into(), Value::Array(req));
    }
    out.insert("properties".into(), Value::Object(kept));
    Value::Object(out)
}

/// The variables a template may use: the answer's top-level fields (an object answer), or
/// `result` (a list or scalar answer), plus `_truncated`.
fn context_variables(
    root: &Map<String, Value>,
    output: OutputShape,
    defs: &Map<String, Value>,
) -> Vec<String> {
    let mut vars: Vec<String> = match output {
        OutputShape::Wrapped => vec!["result".to_string()],
        _ => resolve(&Value::Object(root.clone()), defs)
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
    };
    vars.push(TRUNCATED.to_string());
    vars
}
