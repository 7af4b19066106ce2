//! Manifest + spec → [`Gateway`], or every problem at once.
//!
//! `validate`, `serve` and every reload run exactly this code, so there is no second checker that
//! can disagree with the server. Problems are [`Diagnostic`]s located in the manifest.

mod async_op;
mod auth;
mod body;
pub mod budget;
mod compact;
mod env;
pub mod files;
mod interact;
mod limits;
mod loosen;
mod names;
mod output;
mod owned;
mod page;
mod params;
pub mod patterns;
mod prompts;
#[cfg(test)]
mod redaction;
mod resources;
mod retry;
mod select;
mod servers;
mod shape;
mod tool;
mod upstream;
mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::{Diagnostic, Sources, did_you_mean};
use crate::gateway::{ApiKeyLocation, Catalog, Gateway, Upstream, UpstreamAuth};
use crate::manifest::{
    self, LoadedManifest, SecretRef, ToolConfig, UpstreamAuthConfig, interpolate,
};
use crate::openapi::schema::Converter;
use crate::openapi::{Spec, display_url, location_url};

/// Default upstream timeout: long enough for slow APIs, short enough that an agent is not left
/// waiting on a dead upstream.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default response cap (1 MiB): more than any agent context should take in one result.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Default interval between checks of a subscribed resource: a change reaches subscribers
/// within half a minute, and an idle subscription costs one conditional GET per interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// More tools than this and agents start choosing badly.
pub const MAX_CURATED_TOOLS: usize = 15;

/// How compile treats what only exists where the gateway runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// Read every credential now; a missing one is an error (`serve`).
    Require,
    /// Check that credentials are referenced correctly, but do not read them (`validate` in CI,
    /// `inspect`), which run where the secrets are not.
    Skip,
}

/// Compile options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whether to read credentials.
    pub secrets: Secrets,
}

/// A successful compile: the gateway and its warnings.
#[derive(Debug)]
pub struct Compiled {
    /// The gateway.
    pub gateway: Gateway,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
    /// The budgets the definitions were measured against.
    pub budget: budget::Budget,
    /// Everything the gateway was built from (manifest, spec documents, secret files), with the
    /// digest of the content this compile read: a reload compares against exactly what is
    /// served, so an edit made while compiling is never mistaken for "unchanged".
    pub inputs: Vec<Input>,
}

/// One input of a compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Where it is: a local path, or the URL of a remote spec document.
    pub location: InputLocation,
    /// Digest of the content read ([`crate::digest::of`]); `None` when it could not be read.
    pub digest: Option<u64>,
}

/// Where an [`Input`] lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputLocation {
    /// A local file, watched for changes.
    File(PathBuf),
    /// A network document: not watchable, re-fetched on SIGHUP.
    Remote(String),
}

impl Input {
    /// A local file with the digest of its current content (`None` if it cannot be read).
    pub fn read_file(path: PathBuf) -> Self {
        let digest = std::fs::read(&path).ok().map(|b| crate::digest::of(&b));
        Self {
            location: InputLocation::File(path),
            digest,
        }
    }
}

/// The result of compiling one manifest file: the gateway or all diagnostics, plus the sources
/// those diagnostics point into.
#[derive(Debug)]
pub struct Outcome {
    /// The gateway (with warnings) or every diagnostic (errors and warnings).
    pub result: Result<Compiled, Vec<Diagnostic>>,
    /// Text of the files diagnostics point into.
    pub sources: Sources,
}

/// Loads the manifest at `path`, loads its spec, and compiles both.
pub async fn compile_file(path: &Path, opts: Options) -> Outcome {
    let mut sources = Sources::default();
    let loaded = match manifest::load(path) {
        Ok(l) => l,
        Err(diags) => {
            if let Ok(text) = std::fs::read_to_string(path) {
                sources.insert(path, text);
            }
            return Outcome {
                result: Err(diags),
                sources,
            };
        }
    };
    sources.insert(&loaded.path, loaded.text.clone());
    let mut loaded = loaded;
    // `openapi:` may differ per environment (a path or URL) like `upstream.base_url`; every
    // command needs the spec, so an unset variable is an error everywhere.
    match interpolate(&loaded.manifest.openapi, |n| std::env::var(n).ok()) {
        Ok(location) => loaded.manifest.openapi = location,
        Err(e) => {
            let d = loaded.diag_at(
                Diagnostic::error("env", e.to_string())
                    .with_hint("set the variable, or give a default: `${VAR:-path/or/url}`"),
                "/openapi",
            );
            return Outcome {
                result: Err(vec![d]),
                sources,
            };
        }
    }
    let m = &loaded.manifest;
    let spec = match Spec::load(&m.openapi, &loaded.dir, m.allow_remote_refs).await {
        Ok(s) => s,
        Err(e) => {
            let remote = m.openapi.starts_with("http://") || m.openapi.starts_with("https://");
            let hint = if remote {
                "check the URL and that this machine can reach it, or point `openapi:` at a local copy"
            } else {
                "`openapi:` is relative to the manifest's folder; check the path and that the file is JSON or YAML"
            };
            let d = loaded.diag_at(
                Diagnostic::error("spec", e.to_string()).with_hint(hint),
                "/openapi",
            );
            return Outcome {
                result: Err(vec![d]),
                sources,
            };
        }
    };
    let result = compile(&loaded, &spec, opts);
    Outcome { result, sources }
}

/// [`compile_file`] as `serve` and every reload run it: credentials are read now.
pub async fn compile_to_serve(path: &Path) -> Outcome {
    compile_file(
        path,
        Options {
            secrets: Secrets::Require,
        },
    )
    .await
}

/// Compiles a loaded manifest against its spec.
pub fn compile(
    loaded: &LoadedManifest,
    spec: &Spec,
    opts: Options,
) -> Result<Compiled, Vec<Diagnostic>> {
    let m = &loaded.manifest;
    let mut diags: Vec<Diagnostic> = Vec::new();
    let lookup = |name: &str| std::env::var(name).ok();
    document_problems(loaded, spec, &mut diags);

    let cx = auth::Cx {
        loaded,
        opts,
        lookup: &lookup,
    };
    let upstream = upstream::upstream(&cx, spec, &mut diags);
    let (inbound, needs) = auth::inbound(&cx, &mut diags);

    let mut t = Tools {
        cx: &cx,
        spec,
        upstream: upstream.as_ref(),
        needs: &needs,
        budget: budget::Budget::of(&m.budget),
        conv: Converter::new(&spec.docs, spec.version),
        tools: Vec::new(),
        by_name: HashMap::new(),
        name_origin: HashMap::new(),
    };
    let entries = select::expand(loaded, spec, &mut diags);
    for (i, cfg) in &entries {
        tool_entry(&mut t, *i, cfg.as_ref(), &mut diags);
    }
    let Tools {
        budget,
        mut conv,
        tools,
        by_name,
        name_origin,
        ..
    } = t;
    if m.tools.is_empty() {
        diags.push(loaded.diag_at(
            Diagnostic::warning("no-tools", "the manifest exposes no tools").with_hint(
                "add entries under `tools:`; `mcp-gateway init --spec SPEC` lists every operation",
            ),
            "/tools",
        ));
    }
    diags.extend(select::too_many(loaded, &entries));

    let limits = limits::compile(loaded, &name_origin, &mut diags);
    let (catalog, catalog_files) = catalog(
        loaded,
        spec,
        &mut conv,
        upstream.as_ref(),
        &by_name,
        &mut diags,
    );

    diags.extend(budget::check_located(
        loaded,
        &tools,
        &catalog,
        budget,
        &name_origin,
    ));

    let errors = diags.iter().any(Diagnostic::is_error);
    crate::diag::sort(&mut diags);
    match upstream {
        Some(upstream) if !errors => {
            let inputs = inputs(loaded, spec, catalog_files);
            Ok(Compiled {
                gateway: Gateway {
                    name: m.name.clone(),
                    version: m
                        .version
                        .clone()
                        .or_else(|| spec.info_version.clone())
                        .unwrap_or_else(|| "0.0.0".to_string()),
                    title: m.title.clone().or_else(|| spec.title.clone()),
                    instructions: m.instructions.clone(),
                    tools,
                    by_name,
                    upstream,
                    auth: inbound,
                    catalog,
                    limits: std::sync::Arc::new(limits),
                },
                warnings: diags,
                budget,
                inputs,
            })
        }
        _ => Err(diags),
    }
}

/// Problems of the manifest's `format:` and of the spec as a whole.
fn document_problems(loaded: &LoadedManifest, spec: &Spec, diags: &mut Vec<Diagnostic>) {
    if let Some(f) = loaded.manifest.format
        && f != 1
    {
        diags.push(
            loaded.diag_at(
                Diagnostic::error("format", format!("unknown manifest format {f}"))
                    .with_hint("this gateway reads `format: 1`"),
                "/format",
            ),
        );
    }

    // Spec-wide problems that are not tied to an operation (e.g. an external $ref that could not
    // be loaded) make the spec unusable only if a selected operation needs them; report them as
    // errors at `openapi:` so they are never silently ignored.
    for p in spec.problems.iter().filter(|p| p.operation.is_none()) {
        let hint = if p.message.contains("is not fetched") {
            "set `allow_remote_refs: true` in the manifest to fetch network references, or vendor the file next to the spec"
        } else {
            "fix the reference in the spec"
        };
        diags.push(loaded.diag_at(
            Diagnostic::error("spec-ref", p.message.clone()).with_hint(hint),
            "/openapi",
        ));
    }
}

/// Every file the gateway was compiled from (the manifest, the spec and what it references,
/// secret and catalog files), with digests: what a reload compares.
fn inputs(loaded: &LoadedManifest, spec: &Spec, catalog_files: Vec<PathBuf>) -> Vec<Input> {
    let mut inputs = vec![Input {
        location: InputLocation::File(loaded.path.clone()),
        digest: Some(crate::digest::of(loaded.text.as_bytes())),
    }];
    inputs.extend(spec.inputs());
    inputs.extend(
        secret_files(&loaded.manifest, &loaded.dir)
            .into_iter()
            .chain(catalog_files)
            .map(Input::read_file),
    );
    inputs
}

/// The tool's name (its `name:`, else one from the operation), checked, and not taken by an
/// earlier entry; `None` (with the problem reported) otherwise.
fn tool_name(
    loaded: &LoadedManifest,
    cfg: &ToolConfig,
    op: &crate::openapi::Operation,
    base: &str,
    op_ptr: &str,
    name_origin: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let explicit = cfg.name.is_some();
    let name = cfg
        .name
        .clone()
        .unwrap_or_else(|| names::fit(&names::default_name(op)));
    let name_ptr = if explicit {
        format!("{base}/name")
    } else {
        op_ptr.to_string()
    };
    match names::check_name(&name) {
        Err(d) => {
            diags.push(loaded.diag_at(d, &name_ptr));
            return None;
        }
        Ok(Some(w)) => diags.push(loaded.diag_at(w, &name_ptr)),
        Ok(None) => {}
    }
    if let Some(&first) = name_origin.get(&name) {
        diags.push(
            loaded.diag_at(
                Diagnostic::error(
                    "duplicate-name",
                    format!("tool name `{name}` is already used by tools[{first}]"),
                )
                .with_hint("give one of them a different `name:`"),
                &name_ptr,
            ),
        );
        return None;
    }
    Some(name)
}

/// What compiling each entry of `tools:` shares.
struct Tools<'a> {
    cx: &'a auth::Cx<'a>,
    spec: &'a Spec,
    upstream: Option<&'a crate::gateway::Upstream>,
    needs: &'a [Vec<String>],
    budget: budget::Budget,
    conv: Converter<'a>,
    tools: Vec<crate::gateway::Tool>,
    by_name: HashMap<String, usize>,
    name_origin: HashMap<String, usize>,
}

/// Entry `i` of `tools:` (as `select:` expanded it) → a tool, or its problems in `diags`.
fn tool_entry(t: &mut Tools<'_>, i: usize, cfg: &ToolConfig, diags: &mut Vec<Diagnostic>) {
    let (loaded, spec) = (t.cx.loaded, t.spec);
    let m = &loaded.manifest;
    let base = format!("/tools/{i}");
    // A selected tool is located at the `select:` that brought it in.
    let op_ptr = match m.tools[i].select {
        Some(_) => format!("{base}/select"),
        None => format!("{base}/operation"),
    };
    let wanted = cfg.operation.as_deref().unwrap_or_default();
    let Some(op) = spec.find(wanted) else {
        diags.push(loaded.diag_at(unknown_operation(spec, wanted), &op_ptr));
        return;
    };
    tool::spec_problems(loaded, spec, op, &op_ptr, diags);
    let Some(name) = tool_name(loaded, cfg, op, &base, &op_ptr, &t.name_origin, diags) else {
        return;
    };
    t.name_origin.insert(name.clone(), i);
    let timeout = tool::timeout(loaded, cfg, &base, diags);
    let expanded = env::fixed_values(t.cx, cfg, &base, diags);
    let cfg = expanded.as_ref().unwrap_or(cfg);
    let key = retry::tool_key(
        loaded,
        cfg.idempotency_key.as_ref(),
        &op.method,
        t.upstream,
        &base,
        diags,
    );
    let retry = retry::policy(
        loaded,
        cfg.retry.as_ref(),
        t.upstream.map_or_else(Default::default, |u| u.retry),
        &format!("{base}/retry"),
        diags,
    );
    let (op, cfg, owned) = match t.upstream {
        Some(up) => owned::without_owned(op, cfg, up, key.as_ref()),
        None => (
            std::borrow::Cow::Borrowed(op),
            std::borrow::Cow::Borrowed(cfg),
            Vec::new(),
        ),
    };
    for w in owned {
        let ptr = format!("{base}{}", w.pointer);
        diags.push(if w.pointer.starts_with("/params/") {
            loaded.diag_at_key(w.diag, &ptr)
        } else {
            loaded.diag_at(w.diag, &ptr)
        });
    }
    let opts = ToolOptions {
        confirm_destructive: m.confirm_destructive,
        keep_2020_12: m.schemas.keep_2020_12,
    };
    match tool::build(&mut t.conv, &op, Some(&cfg), name.clone(), timeout, opts) {
        Ok((mut tool, warnings)) => {
            tool.scopes = t.needs.get(i).cloned().unwrap_or_default();
            // What a file argument may hold is part of the definition the budget counts.
            files::describe_input(&mut tool, t.upstream, false);
            budget::trim_input(&mut tool, t.budget);
            if opts.keep_2020_12 {
                tool.input_schema_2026 =
                    modern_input(&mut t.conv, &op, &cfg, &tool, opts, t.budget);
                files::describe_input(&mut tool, t.upstream, true);
            }
            budget::fit_output(&mut tool, cfg.output_schema.as_ref(), t.budget);
            let target = servers::target(t.cx, &cfg, &op, t.upstream, &base, diags);
            tool.plan.base_url = target.base_url.map(Box::new);
            tool.plan.credentials = target.credentials;
            tool.idempotency_key = key;
            tool.retry = retry;
            async_op::compile(
                loaded,
                spec,
                &op,
                cfg.async_op.as_ref(),
                &base,
                &mut tool,
                diags,
            );
            diags.extend(retry::unsafe_retry(
                loaded,
                &tool,
                cfg.retry.as_ref(),
                &base,
            ));
            for w in warnings {
                diags.push(loaded.diag_at(w.diag, &format!("{base}{}", w.pointer)));
            }
            t.by_name.insert(name, t.tools.len());
            t.tools.push(tool);
        }
        Err(problems) => {
            for p in problems {
                let ptr = format!("{base}{}", p.pointer);
                let located = if p.pointer.starts_with("/params/") {
                    loaded.diag_at_key(p.diag, &ptr)
                } else {
                    loaded.diag_at(p.diag, &ptr)
                };
                diags.push(located);
            }
        }
    }
}

/// Compiles resources, then the prompts that may embed them; returns the files they read.
fn catalog(
    loaded: &LoadedManifest,
    spec: &Spec,
    conv: &mut Converter<'_>,
    upstream: Option<&Upstream>,
    tools: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) -> (Catalog, Vec<PathBuf>) {
    let m = &loaded.manifest;
    let poll_interval = match m.subscriptions.poll.as_deref().map(parse_duration) {
        None => DEFAULT_POLL_INTERVAL,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            diags.push(loaded.diag_at(
                Diagnostic::error("invalid-duration", e),
                "/subscriptions/poll",
            ));
            DEFAULT_POLL_INTERVAL
        }
    };
    let mut cx = resources::Cx {
        loaded,
        spec,
        conv,
        timeout: upstream.map_or(DEFAULT_TIMEOUT, |u| u.timeout),
        diags,
        files: Vec::new(),
    };
    let (resources, templates) = resources::compile(&mut cx, &m.resources);
    let mut catalog = Catalog {
        prompts: Vec::new(),
        resources,
        templates,
        poll_interval,
    };
    catalog.prompts = prompts::compile(&mut cx, &m.prompts, tools, &catalog);
    (catalog, cx.files)
}

/// The diagnostic for an operation reference the spec does not have, with suggestions in the
/// form the user wrote: operationIds, or `METHOD /path` labels.
pub(crate) fn unknown_operation(spec: &Spec, wanted: &str) -> Diagnostic {
    let candidates: Vec<String> = if wanted.trim().contains(' ') {
        spec.operations.iter().map(|o| o.label()).collect()
    } else {
        spec.operations
            .iter()
            .filter_map(|o| o.id.clone())
            .collect()
    };
    let mut d = Diagnostic::error(
        "unknown-operation",
        format!("the spec has no operation `{wanted}`"),
    );
    d.hint = Some(did_you_mean(wanted, candidates.iter().map(String::as_str)).unwrap_or_else(|| {
        "use an operationId, or `METHOD /path` as written in the spec; `mcp-gateway inspect --spec SPEC` lists them".to_string()
    }));
    d
}

/// Files the manifest reads credentials from: rotating one (a Kubernetes Secret update) must
/// reload, like editing the manifest.
fn secret_files(m: &manifest::Manifest, dir: &Path) -> Vec<PathBuf> {
    let mut refs: Vec<&SecretRef> = match &m.upstream.auth {
        None => Vec::new(),
        Some(UpstreamAuthConfig::ApiKey { value, .. }) => vec![value],
        Some(UpstreamAuthConfig::Bearer { token }) => vec![token],
        Some(UpstreamAuthConfig::Basic { password, .. }) => vec![password],
        Some(UpstreamAuthConfig::OAuth2ClientCredentials { client_secret, .. }) => {
            vec![client_secret]
        }
    };
    if let Some(c) = &m.upstream.client_certificate {
        refs.extend([&c.cert, &c.key]);
    }
    if let Some(a) = &m.auth {
        refs.extend(a.api_keys.iter().map(|k| &k.sha256));
        if let Some(i) = a.oauth.as_ref().and_then(|o| o.introspection.as_ref()) {
            refs.push(&i.client_secret);
        }
    }
    let mut files: Vec<PathBuf> = refs
        .into_iter()
        .filter_map(|r| match r {
            SecretRef::File(p) => Some(dir.join(p)),
            SecretRef::Env(_) => None,
        })
        .collect();
    if let Some(ca) = &m.upstream.ca_certificate {
        files.push(dir.join(ca));
    }
    files
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `10s` or `500ms`"))?;
    if d.is_zero() {
        return Err("a timeout of zero would fail every call".to_string());
    }
    Ok(d)
}

/// Every operation of a spec compiled as a tool with default settings (`inspect --spec`): the
/// tools that compile, and one diagnostic per problem of an operation that does not.
pub fn compile_all(spec: &Spec) -> (Vec<crate::gateway::Tool>, Vec<Diagnostic>) {
    let mut tools = Vec::new();
    let mut diags = Vec::new();
    compile_each(spec, |_, outcome| match outcome {
        Ok((t, _warnings)) => tools.push(t),
        Err(mut d) => diags.append(&mut d),
    });
    (tools, diags)
}

/// Like [`compile_all`], one operation at a time, so a caller can stream the tools of a huge
/// spec instead of holding them all. Each operation gets its tool and warnings, or its errors;
/// diagnostics are located by the operation's `METHOD /path`.
pub fn compile_each(spec: &Spec, each: impl FnMut(&crate::openapi::Operation, Each)) {
    compile_each_with(spec, Some(budget::Budget::default()), each);
}

/// What [`compile_each`] yields per operation: the tool and its warnings, or its errors.
pub type Each = Result<(crate::gateway::Tool, Vec<Diagnostic>), Vec<Diagnostic>>;

/// [`compile_each`] with output schemas compacted to `budget`, or declared in full (`None`).
pub fn compile_each_with(
    spec: &Spec,
    budget: Option<budget::Budget>,
    mut each: impl FnMut(&crate::openapi::Operation, Each),
) {
    let mut conv = Converter::new(&spec.docs, spec.version);
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for op in &spec.operations {
        let base = names::fit(&names::default_name(op));
        let mut name = base.clone();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = names::fit(&format!("{base}_{n}"));
        }
        let label = op.label();
        // An operation the spec describes incompletely is reported, not served half-built.
        let (spec_warnings, problems): (Vec<_>, Vec<_>) = spec
            .problems
            .iter()
            .filter(|p| p.operation.as_deref() == Some(&label))
            .partition(|p| p.warning);
        let problems: Vec<Diagnostic> = problems
            .iter()
            .map(|p| Diagnostic::error("spec", p.message.clone()).at(label.clone(), None))
            .collect();
        match tool::build(&mut conv, op, None, name.clone(), None, Default::default()) {
            Ok(_) if !problems.is_empty() => each(op, Err(problems)),
            Ok((mut t, warnings)) => {
                if let Some(b) = budget {
                    budget::fit_output(&mut t, None, b);
                }
                taken.insert(name);
                let mut warnings: Vec<Diagnostic> = warnings
                    .into_iter()
                    .map(|w| w.diag.at(label.clone(), None))
                    .collect();
                warnings.extend(spec_warnings.iter().map(|p| {
                    Diagnostic::warning("spec", p.message.clone()).at(label.clone(), None)
                }));
                each(op, Ok((t, warnings)));
            }
            Err(errors) => {
                let mut all = problems;
                all.extend(errors.into_iter().map(|p| p.diag.at(label.clone(), None)));
                each(op, Err(all));
            }
        }
    }
}

impl Spec {
    /// The spec's documents with the digests of what was read (what a reload compares).
    pub fn inputs(&self) -> Vec<Input> {
        let mut out = Vec::new();
        let mut id = 0;
        while let Some(doc) = self.docs.get(id) {
            let location = match doc.url.to_file_path() {
                Ok(p) if doc.url.scheme() == "file" => InputLocation::File(p),
                _ => InputLocation::Remote(doc.url.to_string()),
            };
            out.push(Input {
                location,
                digest: Some(doc.digest),
            });
            id += 1;
        }
        out
    }

    /// Where the spec came from, for messages.
    pub fn origin(&self) -> String {
        display_url(&self.docs.doc(0).url)
    }
}

/// Manifest-wide settings that shape every tool.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ToolOptions {
    /// `confirm_destructive:`.
    pub(crate) confirm_destructive: bool,
    /// `schemas: {keep_2020_12}`.
    pub(crate) keep_2020_12: bool,
}

/// The input schema of `t` as 2026-07-28 clients are shown it with `schemas: {keep_2020_12}`:
/// the tool built again with references kept under `$defs`, and `$schema` declared. `None`
/// when that build does not describe exactly the same arguments (a body assembled from an
/// `allOf` of references is flattened only when inlined), so clients never see two shapes.
fn modern_input(
    conv: &mut Converter<'_>,
    op: &crate::openapi::Operation,
    cfg: &manifest::ToolConfig,
    t: &crate::gateway::Tool,
    opts: ToolOptions,
    budget: budget::Budget,
) -> Option<std::sync::Arc<crate::gateway::JsonObject>> {
    use crate::gateway::JsonObject;
    use serde_json::Value;
    conv.keep_refs = true;
    let built = tool::build(conv, op, Some(cfg), t.name.clone(), t.timeout, opts);
    conv.keep_refs = false;
    let (mut modern, _) = built.ok()?;
    budget::trim_input(&mut modern, budget);
    let names = |s: &JsonObject| -> (Vec<String>, Option<Value>) {
        let props = s.get("properties").and_then(Value::as_object);
        (
            props
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            s.get("required").cloned(),
        )
    };
    if names(&modern.input_schema) != names(&t.input_schema) {
        return None;
    }
    let mut schema = JsonObject::new();
    schema.insert(
        "$schema".into(),
        Value::String("https://json-schema.org/draft/2020-12/schema".into()),
    );
    schema.extend((*modern.input_schema).clone());
    Some(std::sync::Arc::new(schema))
}
