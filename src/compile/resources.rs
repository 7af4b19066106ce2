//! `resources:` → static resources and resource templates, each bound to a GET operation (whose
//! arguments the URI's variables and the manifest's `params:` fill) or to a file; and the
//! completions of arguments, which reuse the same operation binding.
//!
//! Checked here: a URI is absolute, a template parses, every template variable is an argument of
//! the operation, every required argument is covered, and nothing is listed twice.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{tool, unknown_operation};
use crate::diag::{Diagnostic, did_you_mean};
use crate::gateway::{Completion, Resource, ResourceCall, ResourceSource, ResourceTemplate, Tool};
use crate::manifest::{CompletionConfig, LoadedManifest, ResourceConfig, pointer_segment};
use crate::openapi::Spec;
use crate::openapi::schema::Converter;
use crate::uri_template::UriTemplate;

/// What the resource stage needs from the compile.
pub(super) struct Cx<'a, 'c> {
    pub(super) loaded: &'a LoadedManifest,
    pub(super) spec: &'a Spec,
    pub(super) conv: &'a mut Converter<'c>,
    /// Timeout of resource reads and completion lookups (the upstream default).
    pub(super) timeout: Duration,
    pub(super) diags: &'a mut Vec<Diagnostic>,
    /// Files read (resource files, prompt images): a reload watches them.
    pub(super) files: Vec<PathBuf>,
}

impl Cx<'_, '_> {
    fn error(&mut self, code: &'static str, message: String, hint: &str, pointer: &str) {
        let d = Diagnostic::error(code, message).with_hint(hint);
        self.diags.push(self.loaded.diag_at(d, pointer));
    }

    /// Reads a file next to the manifest.
    pub(super) fn read_file(&mut self, rel: &str, pointer: &str) -> Option<Bytes> {
        let path = self.loaded.dir.join(rel);
        self.files.push(path.clone());
        match std::fs::read(&path) {
            Ok(b) => Some(Bytes::from(b)),
            Err(e) => {
                self.error(
                    "unreadable-file",
                    format!("cannot read `{rel}`: {e}"),
                    "paths are relative to the manifest's folder",
                    pointer,
                );
                None
            }
        }
    }

    /// Binds the GET operation `op_ref` with the arguments fixed in `params`. `base` is the
    /// manifest pointer of the entry holding `operation:` and `params:`.
    pub(super) fn call(
        &mut self,
        op_ref: &str,
        params: &IndexMap<String, Value>,
        base: &str,
    ) -> Option<ResourceCall> {
        let Some(op) = self.spec.find(op_ref) else {
            let d = unknown_operation(self.spec, op_ref);
            self.diags
                .push(self.loaded.diag_at(d, &format!("{base}/operation")));
            return None;
        };
        if op.method != http::Method::GET {
            self.error(
                "not-a-get",
                format!("`{op_ref}` is {}; resources and completions only read, so they need a GET operation", op.label()),
                "bind a GET operation, or expose this one as a tool",
                &format!("{base}/operation"),
            );
            return None;
        }
        let tool: Tool = match tool::build(
            self.conv,
            op,
            None,
            "resource".to_string(),
            None,
            Default::default(),
        ) {
            Ok((t, _)) => t,
            Err(problems) => {
                for p in problems {
                    self.diags
                        .push(self.loaded.diag_at(p.diag, &format!("{base}/operation")));
                }
                return None;
            }
        };
        let known = arguments(&tool.input_schema);
        let mut ok = true;
        for key in params.keys() {
            if !known.contains(&key.as_str()) {
                let hint = did_you_mean(key, known.iter().copied())
                    .unwrap_or_else(|| format!("{} takes: {}", op.label(), known.join(", ")));
                let d = Diagnostic::error(
                    "unknown-argument",
                    format!("{} has no argument `{key}`", op.label()),
                )
                .with_hint(hint);
                self.diags.push(
                    self.loaded
                        .diag_at_key(d, &format!("{base}/params/{}", pointer_segment(key))),
                );
                ok = false;
            }
        }
        ok.then(|| ResourceCall {
            plan: tool.plan,
            fixed: params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            input_schema: tool.input_schema,
            validator: tool.input_validator,
            timeout: self.timeout,
        })
    }

    /// Compiles one completion source.
    pub(super) fn completion(
        &mut self,
        cfg: &CompletionConfig,
        extra: Vec<String>,
        ptr: &str,
    ) -> Option<Completion> {
        let mut values = extra;
        values.extend(cfg.values.iter().cloned());
        let Some(op_ref) = &cfg.operation else {
            if values.is_empty() {
                self.error(
                    "empty-completion",
                    "this completion has neither `values` nor an `operation`".to_string(),
                    "list `values: [...]`, or name a search `operation` with its `argument`",
                    ptr,
                );
                return None;
            }
            return Some(Completion::Values(values));
        };
        let call = self.call(op_ref, &cfg.params, ptr)?;
        let known = arguments(&call.input_schema);
        if let Some(argument) = &cfg.argument
            && !known.contains(&argument.as_str())
        {
            let hint = did_you_mean(argument, known.iter().copied())
                .unwrap_or_else(|| format!("it takes: {}", known.join(", ")));
            self.error(
                "unknown-argument",
                format!("`{op_ref}` has no argument `{argument}`"),
                &hint,
                &format!("{ptr}/argument"),
            );
            return None;
        }
        let mut pointers = Vec::new();
        for (key, p) in [("pointer", &cfg.pointer), ("field", &cfg.field)] {
            let p = p.clone().unwrap_or_default();
            if !p.is_empty() && !p.starts_with('/') {
                self.error(
                    "invalid-pointer",
                    format!("`{p}` is not a JSON pointer"),
                    "a JSON pointer starts with `/`, e.g. `/items` or `/login`",
                    &format!("{ptr}/{key}"),
                );
                return None;
            }
            pointers.push(p);
        }
        let field = pointers.pop().unwrap_or_default();
        let pointer = pointers.pop().unwrap_or_default();
        Some(Completion::Upstream {
            values,
            call: Box::new(call),
            argument: cfg.argument.clone(),
            pointer,
            field,
        })
    }
}

/// The argument names of an operation's input schema.
fn arguments(schema: &Map<String, Value>) -> Vec<&str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The required argument names of an operation's input schema.
fn required(schema: &Map<String, Value>) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Compiles `resources:`.
pub(super) fn compile(
    cx: &mut Cx<'_, '_>,
    configs: &[ResourceConfig],
) -> (Vec<Resource>, Vec<ResourceTemplate>) {
    let mut resources = Vec::new();
    let mut templates = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, cfg) in configs.iter().enumerate() {
        let base = format!("/resources/{i}");
        let key = cfg.uri.as_ref().or(cfg.uri_template.as_ref());
        if let Some(k) = key {
            if let Some(first) = seen.get(k) {
                cx.error(
                    "duplicate-resource",
                    format!("`{k}` is already listed as resources[{first}]"),
                    "remove one of them",
                    &base,
                );
                continue;
            }
            seen.insert(k.clone(), i);
        }
        match (&cfg.uri, &cfg.uri_template) {
            (Some(uri), None) => {
                if let Some(r) = static_resource(cx, cfg, uri, &base) {
                    resources.push(r);
                }
            }
            (None, Some(t)) => {
                if let Some(t) = template(cx, cfg, t, &base) {
                    templates.push(t);
                }
            }
            _ => cx.error(
                "resource-uri",
                format!(
                    "resource `{}` needs exactly one of `uri` or `uri_template`",
                    cfg.name
                ),
                "`uri: scheme://fixed` for one resource, `uri_template: scheme://things/{id}` for a family",
                &format!("{base}/uri_template"),
            ),
        }
    }
    (resources, templates)
}

fn static_resource(
    cx: &mut Cx<'_, '_>,
    cfg: &ResourceConfig,
    uri: &str,
    base: &str,
) -> Option<Resource> {
    if url::Url::parse(uri).is_err() {
        cx.error(
            "invalid-uri",
            format!("`{uri}` is not an absolute URI"),
            "write `scheme://path`, e.g. `petstore://inventory`",
            &format!("{base}/uri"),
        );
        return None;
    }
    if !cfg.complete.is_empty() {
        cx.error(
            "completion-without-template",
            "`complete:` completes the variables of a `uri_template`; this resource has a fixed `uri`".to_string(),
            "remove `complete:`",
            &format!("{base}/complete"),
        );
    }
    let source = match (&cfg.operation, &cfg.file) {
        (Some(op_ref), None) => {
            let call = cx.call(op_ref, &cfg.params, base)?;
            let missing: Vec<&str> = required(&call.input_schema)
                .into_iter()
                .filter(|r| !call.fixed.contains_key(*r))
                .collect();
            if !missing.is_empty() {
                cx.error(
                    "uncovered-parameter",
                    format!(
                        "`{op_ref}` requires {}, which this resource does not set",
                        list(&missing)
                    ),
                    "give them under `params:`, or make this a `uri_template` with those variables",
                    &format!("{base}/operation"),
                );
                return None;
            }
            ResourceSource::Upstream(call)
        }
        (None, Some(file)) => {
            if !cfg.params.is_empty() {
                cx.error(
                    "params-without-operation",
                    "`params:` fill an operation's arguments; this resource is a file".to_string(),
                    "remove `params:`",
                    &format!("{base}/params"),
                );
            }
            let data = cx.read_file(file, &format!("{base}/file"))?;
            let Some(mime_type) = cfg.mime_type.clone().or_else(|| mime_from_path(file)) else {
                cx.error(
                    "unknown-media-type",
                    format!("cannot tell the media type of `{file}` from its extension"),
                    "set `mime_type:`",
                    &format!("{base}/file"),
                );
                return None;
            };
            ResourceSource::File { data, mime_type }
        }
        _ => {
            cx.error(
                "resource-source",
                format!(
                    "resource `{}` needs exactly one of `operation` or `file`",
                    cfg.name
                ),
                "`operation: getInventory` reads it from the API; `file: notes.md` from a file next to the manifest",
                base,
            );
            return None;
        }
    };
    let mime_type = cfg.mime_type.clone().or_else(|| match &source {
        ResourceSource::File { mime_type, .. } => Some(mime_type.clone()),
        ResourceSource::Upstream(_) => cfg
            .operation
            .as_deref()
            .and_then(|o| cx.spec.find(o))
            .and_then(success_media_type),
    });
    Some(Resource {
        uri: uri.to_string(),
        name: cfg.name.clone(),
        title: cfg.title.clone(),
        description: cfg.description.clone(),
        mime_type,
        source,
    })
}

fn template(
    cx: &mut Cx<'_, '_>,
    cfg: &ResourceConfig,
    raw: &str,
    base: &str,
) -> Option<ResourceTemplate> {
    let template = match UriTemplate::parse(raw) {
        Ok(t) => t,
        Err(e) => {
            cx.error(
                "invalid-uri-template",
                e.to_string(),
                "write e.g. `crm://customers/{customer_id}`",
                &format!("{base}/uri_template"),
            );
            return None;
        }
    };
    let Some(op_ref) = &cfg.operation else {
        cx.error(
            "resource-source",
            format!(
                "resource template `{}` needs an `operation` whose parameters its variables fill",
                cfg.name
            ),
            "e.g. `operation: getCustomer` for `crm://customers/{customer_id}`",
            base,
        );
        return None;
    };
    if cfg.file.is_some() {
        cx.error(
            "resource-source",
            "a resource template reads an operation, not a `file`".to_string(),
            "remove `file:`, or use a fixed `uri:` for the file",
            &format!("{base}/file"),
        );
        return None;
    }
    let call = cx.call(op_ref, &cfg.params, base)?;
    let vars: Vec<&str> = template.variables().collect();
    let fits = variables_fit(cx, &call, op_ref, &vars, base);
    let (completions, complete) = completions(cx, cfg, &call, &vars, base);
    let ok = fits && complete;
    let mime_type = cfg
        .mime_type
        .clone()
        .or_else(|| cx.spec.find(op_ref).and_then(success_media_type));
    ok.then(|| ResourceTemplate {
        template,
        name: cfg.name.clone(),
        title: cfg.title.clone(),
        description: cfg.description.clone(),
        mime_type,
        call,
        completions,
    })
}

/// Whether the template's variables fill the operation: each a distinct, unfixed parameter, and
/// every required parameter a variable or fixed (each problem reported).
fn variables_fit(
    cx: &mut Cx<'_, '_>,
    call: &ResourceCall,
    op_ref: &str,
    vars: &[&str],
    base: &str,
) -> bool {
    let known = arguments(&call.input_schema);
    let mut ok = true;
    let mut uniq = HashSet::new();
    for v in vars {
        if !uniq.insert(*v) {
            cx.error(
                "duplicate-variable",
                format!("`{{{v}}}` appears twice in the template"),
                "use each variable once",
                &format!("{base}/uri_template"),
            );
            ok = false;
        } else if !known.contains(v) {
            let hint = did_you_mean(v, known.iter().copied())
                .unwrap_or_else(|| format!("{op_ref} takes: {}", known.join(", ")));
            cx.error(
                "unknown-variable",
                format!("`{{{v}}}` is not a parameter of `{op_ref}`"),
                &hint,
                &format!("{base}/uri_template"),
            );
            ok = false;
        } else if call.fixed.contains_key(*v) {
            cx.error(
                "duplicate-variable",
                format!("`{v}` is both a template variable and fixed under `params:`"),
                "keep one of them",
                &format!("{base}/params/{}", pointer_segment(v)),
            );
            ok = false;
        }
    }
    let missing: Vec<&str> = required(&call.input_schema)
        .into_iter()
        .filter(|r| !vars.contains(r) && !call.fixed.contains_key(*r))
        .collect();
    if !missing.is_empty() {
        cx.error(
            "uncovered-parameter",
            format!(
                "`{op_ref}` requires {}, which the template does not fill",
                list(&missing)
            ),
            "add `{name}` variables to the template, or fix values under `params:`",
            &format!("{base}/uri_template"),
        );
        ok = false;
    }
    ok
}

/// The completions of the template's variables: `complete:` entries, then each variable's
/// `enum`; and whether every entry was valid (each problem reported).
fn completions(
    cx: &mut Cx<'_, '_>,
    cfg: &ResourceConfig,
    call: &ResourceCall,
    vars: &[&str],
    base: &str,
) -> (HashMap<String, Completion>, bool) {
    let mut ok = true;
    let mut completions = HashMap::new();
    for (var, c) in &cfg.complete {
        let ptr = format!("{base}/complete/{}", pointer_segment(var));
        if !vars.contains(&var.as_str()) {
            cx.error(
                "unknown-variable",
                format!("the template has no variable `{var}` to complete"),
                &format!("its variables: {}", vars.join(", ")),
                &ptr,
            );
            ok = false;
            continue;
        }
        let enums = enum_values(&call.input_schema, var);
        match cx.completion(c, enums, &ptr) {
            Some(c) => {
                completions.insert(var.clone(), c);
            }
            None => ok = false,
        }
    }
    for v in vars {
        let values = enum_values(&call.input_schema, v);
        if !completions.contains_key(*v) && !values.is_empty() {
            completions.insert(v.to_string(), Completion::Values(values));
        }
    }
    (completions, ok)
}

/// The `enum` of an argument, as strings.
fn enum_values(schema: &Map<String, Value>, arg: &str) -> Vec<String> {
    schema
        .get("properties")
        .and_then(|p| p.get(arg))
        .and_then(|s| s.get("enum"))
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The media type of the first success response.
fn success_media_type(op: &crate::openapi::Operation) -> Option<String> {
    op.responses
        .iter()
        .filter(|r| r.status.starts_with('2'))
        .find_map(|r| r.content.first().map(|(m, _)| m.clone()))
        .filter(|m| !m.contains('*'))
}

/// A media type from a file extension, for the files manifests usually ship.
pub(super) fn mime_from_path(path: &str) -> Option<String> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    let m = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        _ => return None,
    };
    Some(m.to_string())
}
