//! `prompts:` → compiled prompts. Every text and URI template is parsed with the same Jinja
//! environment that renders it at `prompts/get`; a syntax error, or a variable that is not one
//! of the prompt's declared arguments, is a diagnostic on the template's own line.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;

use super::names::check_name;
use super::resources::{Cx, mime_from_path};
use crate::diag::{Diagnostic, Span, did_you_mean};
use crate::gateway::{Catalog, MessageContent, Prompt, PromptArgument, PromptMessage, templates};
use crate::manifest::{ImageConfig, PromptConfig, RoleConfig};

/// Compiles `prompts:`. `tools` are the names of the compiled tools; `catalog` holds the
/// resources already compiled, which resource and image messages must name.
pub(super) fn compile(
    cx: &mut Cx<'_, '_>,
    configs: &[PromptConfig],
    tools: &HashMap<String, usize>,
    catalog: &Catalog,
) -> Vec<Prompt> {
    let mut prompts = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, cfg) in configs.iter().enumerate() {
        let base = format!("/prompts/{i}");
        let before = cx.diags.iter().filter(|d| d.is_error()).count();
        check_entry(cx, (i, cfg), &base, &mut names, tools);

        let (arguments, declared) = arguments(cx, cfg, &base);
        // A probe value per argument: the render at compile time catches what the static
        // analysis cannot (an unknown filter or test, a type error).
        let probe: HashMap<&str, &str> = cfg
            .arguments
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.values.first().map_or("example", String::as_str),
                )
            })
            .collect();

        let mut messages = Vec::new();
        for (m, msg) in cfg.messages.iter().enumerate() {
            let ptr = format!("{base}/messages/{m}");
            let given = [
                msg.text.is_some(),
                msg.image.is_some(),
                msg.resource.is_some(),
            ];
            if given.iter().filter(|g| **g).count() != 1 {
                let d = Diagnostic::error(
                    "message-content",
                    "a message needs exactly one of `text`, `image` or `resource`",
                )
                .with_hint("split it into several messages");
                cx.diags.push(cx.loaded.diag_at(d, &ptr));
                continue;
            }
            let content = if let Some(text) = &msg.text {
                check_template(cx, text, &declared, &probe, &format!("{ptr}/text"))
                    .map(|()| MessageContent::Text(text.clone()))
            } else if let Some(uri) = &msg.resource {
                check_uri(
                    cx,
                    uri,
                    &declared,
                    &probe,
                    catalog,
                    &format!("{ptr}/resource"),
                )
                .map(|()| MessageContent::Resource(uri.clone()))
            } else if let Some(img) = &msg.image {
                image(cx, img, &declared, &probe, catalog, &ptr)
            } else {
                None
            };
            if let Some(content) = content {
                messages.push(PromptMessage {
                    assistant: msg.role == RoleConfig::Assistant,
                    content,
                });
            }
        }
        let after = cx.diags.iter().filter(|d| d.is_error()).count();
        if after == before {
            prompts.push(Prompt {
                name: cfg.name.clone(),
                title: cfg.title.clone(),
                description: cfg.description.clone(),
                arguments,
                messages,
            });
        }
    }
    prompts
}

/// A prompt's name (valid, not taken), description (not empty) and the tools it mentions
/// (existing ones).
fn check_entry<'c>(
    cx: &mut Cx<'_, '_>,
    (i, cfg): (usize, &'c PromptConfig),
    base: &str,
    names: &mut HashMap<&'c str, usize>,
    tools: &HashMap<String, usize>,
) {
    match check_name(&cfg.name) {
        Err(d) => cx.diags.push(cx.loaded.diag_at(d, &format!("{base}/name"))),
        Ok(Some(w)) => cx.diags.push(cx.loaded.diag_at(w, &format!("{base}/name"))),
        Ok(None) => {}
    }
    if let Some(first) = names.insert(&cfg.name, i) {
        let d = Diagnostic::error(
            "duplicate-name",
            format!(
                "prompt name `{}` is already used by prompts[{first}]",
                cfg.name
            ),
        )
        .with_hint("give one of them a different `name:`");
        cx.diags.push(cx.loaded.diag_at(d, &format!("{base}/name")));
    }
    if cfg.description.trim().is_empty() {
        let d = Diagnostic::error("empty-description", "a prompt needs a description")
            .with_hint("say what the prompt is for: clients show it when the user picks one");
        cx.diags
            .push(cx.loaded.diag_at(d, &format!("{base}/description")));
    }
    for (t, tool) in cfg.tools.iter().enumerate() {
        if !tools.contains_key(tool) {
            let hint = did_you_mean(tool, tools.keys().map(String::as_str))
                .unwrap_or_else(|| "name a tool listed under `tools:`".to_string());
            let d = Diagnostic::error(
                "unknown-tool",
                format!(
                    "prompt `{}` mentions the tool `{tool}`, which this gateway does not have",
                    cfg.name
                ),
            )
            .with_hint(hint);
            cx.diags
                .push(cx.loaded.diag_at(d, &format!("{base}/tools/{t}")));
        }
    }
}

/// A prompt's arguments (each declared once), with their completions; and their names.
fn arguments<'c>(
    cx: &mut Cx<'_, '_>,
    cfg: &'c PromptConfig,
    base: &str,
) -> (Vec<PromptArgument>, HashSet<&'c str>) {
    let mut arguments = Vec::new();
    let mut declared = HashSet::new();
    for (a, arg) in cfg.arguments.iter().enumerate() {
        let ptr = format!("{base}/arguments/{a}");
        if !declared.insert(arg.name.as_str()) {
            let d = Diagnostic::error(
                "duplicate-argument",
                format!("argument `{}` is declared twice", arg.name),
            )
            .with_hint("remove one of them");
            cx.diags.push(cx.loaded.diag_at(d, &format!("{ptr}/name")));
            continue;
        }
        let completion = match &arg.complete {
            Some(c) => cx.completion(c, arg.values.clone(), &format!("{ptr}/complete")),
            None if !arg.values.is_empty() => {
                Some(crate::gateway::Completion::Values(arg.values.clone()))
            }
            None => None,
        };
        arguments.push(PromptArgument {
            name: arg.name.clone(),
            title: arg.title.clone(),
            description: arg.description.clone(),
            required: arg.required,
            allowed: arg.values.clone(),
            completion,
        });
    }
    (arguments, declared)
}

/// An image message: a file next to the manifest (read now, media type from its extension or
/// `mime_type:`), or a resource URI read when the prompt is got.
fn image(
    cx: &mut Cx<'_, '_>,
    image: &ImageConfig,
    declared: &HashSet<&str>,
    probe: &HashMap<&str, &str>,
    catalog: &Catalog,
    ptr: &str,
) -> Option<MessageContent> {
    match (&image.file, &image.resource) {
        (Some(file), None) => {
            let ptr = format!("{ptr}/image/file");
            let mime = image.mime_type.clone().or_else(|| mime_from_path(file));
            match (cx.read_file(file, &ptr), mime) {
                (Some(data), Some(mime_type)) => Some(MessageContent::Image {
                    data: base64::engine::general_purpose::STANDARD.encode(&data),
                    mime_type,
                }),
                (Some(_), None) => {
                    let d = Diagnostic::error(
                        "unknown-media-type",
                        format!("cannot tell the media type of `{file}` from its extension"),
                    )
                    .with_hint("set `mime_type:`");
                    cx.diags.push(cx.loaded.diag_at(d, &ptr));
                    None
                }
                _ => None,
            }
        }
        (None, Some(uri)) => check_uri(
            cx,
            uri,
            declared,
            probe,
            catalog,
            &format!("{ptr}/image/resource"),
        )
        .map(|()| MessageContent::ImageResource {
            uri: uri.clone(),
            mime_type: image.mime_type.clone(),
        }),
        _ => {
            let d = Diagnostic::error(
                "image-source",
                "an image needs exactly one of `file` or `resource`",
            )
            .with_hint("`file: chart.png` next to the manifest, or `resource: scheme://uri`");
            cx.diags.push(cx.loaded.diag_at(d, &format!("{ptr}/image")));
            None
        }
    }
}

/// Checks a Jinja template: it parses, names only declared arguments, and renders with probe
/// values. Problems are located on the template's own line in the manifest.
fn check_template(
    cx: &mut Cx<'_, '_>,
    source: &str,
    declared: &HashSet<&str>,
    probe: &HashMap<&str, &str>,
    pointer: &str,
) -> Option<()> {
    let env = templates();
    let tmpl = match env.template_from_str(source) {
        Ok(t) => t,
        Err(e) => {
            let d = Diagnostic::error(
                "template-syntax",
                format!("template syntax error: {}", e.detail().unwrap_or("invalid syntax")),
            )
            .with_hint("prompt messages are Jinja templates: `{{ argument }}`, `{% if argument %}…{% endif %}`");
            push_at_line(cx, d, pointer, e.line());
            return None;
        }
    };
    let globals: HashSet<&str> = env.globals().map(|(n, _)| n).collect();
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !declared.contains(v.as_str()) && !globals.contains(v.as_str()))
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        for v in unknown {
            let hint = did_you_mean(&v, declared.iter().copied())
                .unwrap_or_else(|| format!("declare `{v}` under the prompt's `arguments:`"));
            let d = Diagnostic::error(
                "unknown-variable",
                format!("the template uses `{v}`, which is not an argument of this prompt"),
            )
            .with_hint(hint);
            let line = source
                .lines()
                .position(|l| l.contains(v.as_str()))
                .map(|i| i + 1);
            push_at_line(cx, d, pointer, line);
        }
        return None;
    }
    if let Err(e) = tmpl.render(minijinja::value::Serde(probe)) {
        let d = Diagnostic::error(
            "template-error",
            format!(
                "the template fails to render: {}",
                e.detail().unwrap_or("error")
            ),
        )
        .with_hint("check the filters and tests it uses; minijinja's built-ins are available");
        push_at_line(cx, d, pointer, e.line());
        return None;
    }
    Some(())
}

/// Checks a resource URI in a message: a template like any text; one without variables must
/// name one of the gateway's resources now (one with variables is resolved when rendered).
fn check_uri(
    cx: &mut Cx<'_, '_>,
    uri: &str,
    declared: &HashSet<&str>,
    probe: &HashMap<&str, &str>,
    catalog: &Catalog,
    pointer: &str,
) -> Option<()> {
    check_template(cx, uri, declared, probe, pointer)?;
    let literal = !uri.contains("{{") && !uri.contains("{%");
    if literal && catalog.resolve(uri).is_none() {
        let known: Vec<&str> = catalog.resources.iter().map(|r| r.uri.as_str()).collect();
        let hint = did_you_mean(uri, known.iter().copied())
            .unwrap_or_else(|| "name a resource listed under `resources:`".to_string());
        let d = Diagnostic::error(
            "unknown-resource",
            format!("`{uri}` is not one of this gateway's resources"),
        )
        .with_hint(hint);
        cx.diags.push(cx.loaded.diag_at(d, pointer));
        return None;
    }
    Some(())
}

/// Locates `d` at the value of `pointer`, moved down to `line` of the template when known. A
/// block scalar (`text: |`) starts on the line after its indicator.
fn push_at_line(cx: &mut Cx<'_, '_>, d: Diagnostic, pointer: &str, line: Option<usize>) {
    let mut d = cx.loaded.diag_at(d, pointer);
    if let (Some(span), Some(n)) = (d.span, line) {
        let at = cx
            .loaded
            .text
            .lines()
            .nth(span.line.saturating_sub(1))
            .and_then(|l| l.chars().nth(span.column.saturating_sub(1)));
        let block = matches!(at, Some('|' | '>'));
        let line = if block {
            span.line + n
        } else {
            span.line + n - 1
        };
        let column = if block || n > 1 {
            cx.loaded
                .text
                .lines()
                .nth(line.saturating_sub(1))
                .map(|l| l.len() - l.trim_start().len() + 1)
                .unwrap_or(1)
        } else {
            span.column
        };
        d.span = Some(Span {
            line,
            column,
            len: 1,
        });
    }
    cx.diags.push(d);
}
