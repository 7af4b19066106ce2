//! `mcp-gateway init --spec SPEC [-o gateway.yaml]`: a starter manifest (on stdout, or written
//! to `-o` with `openapi:` relative to it), with the spec's identity and servers filled in, the
//! default budget written out, the 15 operations most useful to an agent selected (searches,
//! lists and reads before administration) and every other operation listed in a comment, so
//! curating is deleting and uncommenting lines.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::compile::MAX_CURATED_TOOLS;
use crate::compile::budget::{DEFAULT_GATEWAY_TOKENS, DEFAULT_TOOL_TOKENS};
use crate::openapi::{Operation, Spec};

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The OpenAPI document (path or URL), written into the manifest as given.
    #[arg(long)]
    spec: String,
    /// Gateway name (default: from the spec's title).
    #[arg(long)]
    name: Option<String>,
    /// Where editors find the manifest schema (`mcp-gateway schema > gateway.schema.json`).
    #[arg(long, default_value = "gateway.schema.json")]
    schema: String,
    /// Write the manifest to this file instead of stdout; `openapi:` is then written relative
    /// to the file's folder, as `validate` and `serve` read it.
    #[arg(short, long)]
    output: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let spec = match super::load_spec(&args.spec) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(out) = &args.output else {
        print!("{}", render(&spec, &args, &args.spec));
        return ExitCode::SUCCESS;
    };
    let openapi = spec_from(out, &args.spec);
    if let Err(e) = std::fs::write(out, render(&spec, &args, &openapi)) {
        eprintln!("error: cannot write `{}`: {e}", out.display());
        return ExitCode::from(super::EXIT_USAGE);
    }
    eprintln!("wrote {} (openapi: {openapi})", out.display());
    ExitCode::SUCCESS
}

/// The spec's location as a manifest at `out` must name it: URLs as given, local paths relative
/// to the manifest's folder (the working directory is not where `validate` looks).
fn spec_from(out: &std::path::Path, spec: &str) -> String {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return spec.to_string();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    // Lexically, not canonically: a spec reached through a symlink stays where the user sees it.
    let abs = |p: &std::path::Path| {
        let mut out: Vec<std::ffi::OsString> = Vec::new();
        for c in cwd.join(p).components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                c => out.push(c.as_os_str().to_os_string()),
            }
        }
        out
    };
    let to = abs(std::path::Path::new(spec));
    let from = abs(out.parent().unwrap_or(std::path::Path::new("")));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        // Nothing shared but the root: an absolute path reads better than a ladder of `..`.
        return to
            .iter()
            .collect::<std::path::PathBuf>()
            .display()
            .to_string();
    }
    let mut rel = std::path::PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    rel.to_string_lossy().replace('\\', "/")
}

/// How useful an operation is to an agent, higher first: reads (search, list, get) before
/// writes, writes before deletes, and anything administrative (webhooks, keys, settings,
/// billing…) last; operations under the spec's first-declared tags get a small lift, since specs
/// list their main resources first.
fn usefulness(spec: &Spec, op: &Operation) -> i32 {
    let name = format!("{} {}", op.id.as_deref().unwrap_or(""), op.path).to_lowercase();
    let text = format!("{name} {}", op.summary.as_deref().unwrap_or("")).to_lowercase();
    let mut score = match op.method.as_str() {
        "GET" => 40,
        "POST" => 20,
        "PUT" | "PATCH" => 15,
        "DELETE" => 5,
        _ => 0,
    };
    // Summaries say "Find a pet by id" for a lookup: only names and paths mark a search.
    if ["search", "query", "find"].iter().any(|w| name.contains(w)) {
        score += 30;
    } else if ["list", "get", "read", "retrieve", "fetch"]
        .iter()
        .any(|w| text.contains(w))
    {
        score += 15;
    }
    const ADMIN: &[&str] = &[
        "admin",
        "webhook",
        "hook",
        "setting",
        "config",
        "token",
        "secret",
        "key",
        "audit",
        "billing",
        "invoice",
        "permission",
        "role",
        "oauth",
        "migration",
        "export",
        "import",
        "license",
        "enterprise",
        "scim",
        "saml",
        "installation",
    ];
    if ADMIN.iter().any(|w| text.contains(w)) {
        score -= 50;
    }
    // Shallower paths are the general entry points (`/pets` before `/pets/{id}/photos/{n}`).
    score -= i32::try_from(op.path.matches('/').count())
        .unwrap_or(10)
        .min(10)
        * 2;
    let declared: Vec<&str> = spec
        .docs
        .root()
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|a| a.iter().filter_map(|t| t.get("name")?.as_str()).collect())
        .unwrap_or_default();
    if let Some(pos) = op
        .tags
        .iter()
        .filter_map(|t| declared.iter().position(|d| d == t))
        .min()
    {
        score += 10 - i32::try_from(pos).unwrap_or(10).min(10);
    }
    score
}

/// The first sentences of `text`, up to `max` characters, cut at a sentence end (or, failing
/// that, a word) rather than mid-word.
fn sentences(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let end = cut
        .char_indices()
        .filter(|(i, c)| matches!(c, '.' | '!' | '?') && cut[i + 1..].starts_with(' '))
        .map(|(i, _)| i + 1)
        .next_back();
    match end {
        Some(e) => cut[..e].to_string(),
        None => match cut.rfind(' ') {
            Some(sp) => format!("{}…", &cut[..sp]),
            None => format!("{cut}…"),
        },
    }
}

fn slug(s: &str) -> String {
    let s: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    let joined = parts.join("-");
    let cut: String = joined.chars().take(48).collect();
    if cut.is_empty() {
        "gateway".to_string()
    } else {
        cut.trim_end_matches('-').to_string()
    }
}

fn yaml_str(s: &str) -> String {
    // JSON strings are valid YAML scalars and escape everything that needs it.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn one_line(s: &str, max: usize) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line.to_string()
    }
}

fn selector(op: &Operation) -> String {
    match &op.id {
        Some(id) => id.clone(),
        None => op.label(),
    }
}

fn catalogue_line(op: &Operation) -> String {
    let summary = op
        .summary
        .as_deref()
        .or(op.description.as_deref())
        .map(|s| format!(" — {}", one_line(s, 80)))
        .unwrap_or_default();
    let deprecated = if op.deprecated { " (deprecated)" } else { "" };
    format!("{} {}{summary}{deprecated}", op.method, op.path)
}

fn render(spec: &Spec, args: &Args, openapi: &str) -> String {
    let title = spec.title.clone().unwrap_or_else(|| "API".to_string());
    let name = args.name.clone().unwrap_or_else(|| slug(&title));
    let env_prefix: String = name
        .to_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema={}", args.schema);
    let _ = writeln!(
        out,
        "# Starter manifest for {title} ({} operations), written by `mcp-gateway init`.\n\
         # Curate it: keep the 5–15 operations an agent needs, rename them, rewrite their\n\
         # descriptions, hide parameters the agent should not set. Then run\n\
         # `mcp-gateway validate` and `mcp-gateway inspect` on this file.",
        spec.operations.len()
    );
    let _ = writeln!(out, "format: 1");
    let _ = writeln!(out, "name: {}", yaml_str(&name));
    let _ = writeln!(out, "title: {}", yaml_str(&title));
    if let Some(v) = &spec.info_version {
        let _ = writeln!(out, "version: {}", yaml_str(v));
    }
    let instructions = spec
        .description
        .as_deref()
        .map(|d| sentences(d, 300))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("Tools for the {title}."));
    let _ = writeln!(out, "instructions: {}", yaml_str(&instructions));
    let _ = writeln!(out, "openapi: {}", yaml_str(openapi));
    let _ = writeln!(out, "upstream:");
    if spec.servers.len() > 1 || spec.servers.iter().any(|s| !s.variables.is_empty()) {
        let _ = writeln!(out, "  # Servers in the spec:");
        for s in &spec.servers {
            let desc = s
                .description
                .as_deref()
                .map(|d| format!(" — {}", one_line(d, 60)))
                .unwrap_or_default();
            let _ = writeln!(out, "  #   {}{desc}", s.url);
            for v in &s.variables {
                let allowed = if v.allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (one of: {})", v.allowed.join(", "))
                };
                let _ = writeln!(
                    out,
                    "  #     {{{}}} defaults to {}{allowed}",
                    v.name,
                    yaml_str(&v.default)
                );
            }
        }
    }
    match spec.servers.first() {
        Some(s) => {
            let _ = writeln!(
                out,
                "  base_url: {}",
                yaml_str(&format!("${{{env_prefix}_BASE_URL:-{}}}", s.default_url()))
            );
        }
        None => {
            let _ = writeln!(out, "  # The spec lists no servers: set the API's address.");
            let _ = writeln!(
                out,
                "  base_url: {}",
                yaml_str(&format!("${{{env_prefix}_BASE_URL}}"))
            );
        }
    }
    let _ = writeln!(out, "  timeout: 30s");
    if let Some(hint) = auth_hint(spec, &env_prefix) {
        let _ = writeln!(out, "{hint}");
    }
    let _ = writeln!(
        out,
        "# Every definition is read by the model on every turn; `validate` warns past these\n\
         # (estimated tokens) and output schemas are compacted to fit. `inspect --summary` shows sizes.\n\
         budget:\n  tool_tokens: {DEFAULT_TOOL_TOKENS}\n  gateway_tokens: {DEFAULT_GATEWAY_TOKENS}"
    );
    let mut ranked: Vec<&Operation> = spec.operations.iter().filter(|o| !o.deprecated).collect();
    // Stable: equally useful operations keep the spec's order.
    ranked.sort_by_key(|o| std::cmp::Reverse(usefulness(spec, o)));
    let selected: Vec<&Operation> = ranked.into_iter().take(MAX_CURATED_TOOLS).collect();
    let _ = writeln!(out, "tools:");
    if selected.is_empty() {
        let _ = writeln!(out, "  []");
    }
    for op in &selected {
        let _ = writeln!(
            out,
            "  - operation: {}   # {}",
            yaml_str(&selector(op)),
            catalogue_line(op)
        );
    }
    let rest: Vec<&Operation> = spec
        .operations
        .iter()
        .filter(|o| !selected.iter().any(|s| std::ptr::eq(*s, *o)))
        .collect();
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "  # Other operations in the spec (uncomment to expose):"
        );
        for op in rest {
            let _ = writeln!(
                out,
                "  # - operation: {}   # {}",
                yaml_str(&selector(op)),
                catalogue_line(op)
            );
        }
    }
    out
}

/// A commented `auth:` block when the spec declares security schemes.
fn auth_hint(spec: &Spec, env_prefix: &str) -> Option<String> {
    let root = spec.docs.root();
    let schemes = root
        .pointer("/components/securitySchemes")
        .or_else(|| root.get("securityDefinitions"))
        .and_then(|v| v.as_object())?;
    let (name, scheme) = schemes.iter().next()?;
    let kind = scheme.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let http_scheme = scheme
        .get("scheme")
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let block = match (kind, http_scheme.as_str()) {
        ("apiKey", _) => format!(
            "  auth:   # from security scheme `{name}`\n    type: api_key\n    in: {}\n    name: {}\n    value: {{env: {env_prefix}_API_KEY}}",
            scheme
                .get("in")
                .and_then(|t| t.as_str())
                .unwrap_or("header"),
            yaml_str(
                scheme
                    .get("name")
                    .and_then(|t| t.as_str())
                    .unwrap_or("X-API-Key")
            ),
        ),
        ("http", "basic") | ("basic", _) => format!(
            "  auth:   # from security scheme `{name}`\n    type: basic\n    username: ${{{env_prefix}_USERNAME}}\n    password: {{env: {env_prefix}_PASSWORD}}"
        ),
        _ => format!(
            "  auth:   # from security scheme `{name}`\n    type: bearer\n    token: {{env: {env_prefix}_TOKEN}}"
        ),
    };
    // Commented out: the starter must validate before the user has set any secret.
    Some(
        block
            .lines()
            .map(|l| format!("  #{}", &l[1..]))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
