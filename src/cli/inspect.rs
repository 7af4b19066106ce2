//! `mcp-gateway inspect`: what an agent will see. With a manifest: the compiled tools exactly as
//! `tools/list` returns them, with each definition's size (agents pay for every byte of every
//! definition on every turn). With `--spec`: every operation of a spec compiled as a tool.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::compile::budget::{Budget, approx_tokens, sizes as definition_sizes};
use crate::compile::{Options, Secrets, compile_each, compile_file};

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["path", "spec"])))]
pub(crate) struct Args {
    /// The manifest.
    path: Option<PathBuf>,
    /// Instead of a manifest: compile every operation of this spec (path or URL), printed as
    /// JSON `{"tools": [...], "diagnostics": [...]}`.
    #[arg(long, conflicts_with = "path")]
    spec: Option<String>,
    /// Print JSON instead of the human summary.
    #[arg(long)]
    json: bool,
    /// One line per definition (tools, prompts, resources, resource templates) with its size,
    /// then the totals against the manifest's budget.
    #[arg(long, conflicts_with_all = ["json", "spec"])]
    summary: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match (&args.path, &args.spec) {
        (_, Some(spec)) => inspect_spec(spec),
        (Some(path), None) => inspect_manifest(path, args.json, args.summary),
        (None, None) => ExitCode::from(super::EXIT_USAGE),
    }
}

fn inspect_manifest(path: &std::path::Path, as_json: bool, summary: bool) -> ExitCode {
    let outcome = match super::block_on(compile_file(
        path,
        Options {
            secrets: Secrets::Skip,
        },
    )) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let compiled = match outcome.result {
        Ok(c) => c,
        Err(diags) => {
            super::print_diagnostics(&diags, &outcome.sources);
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    super::print_diagnostics(&compiled.warnings, &outcome.sources);
    let defs: Vec<Value> = compiled
        .gateway
        .tools
        .iter()
        .map(|t| serde_json::to_value(crate::mcp::definition(t)).unwrap_or(Value::Null))
        .collect();
    let sizes: Vec<(String, usize)> = compiled
        .gateway
        .tools
        .iter()
        .zip(&defs)
        .map(|(t, d)| (t.name.clone(), d.to_string().len()))
        .collect();
    let total: usize = sizes.iter().map(|s| s.1).sum();
    let g = &compiled.gateway;
    let budget = compiled.budget;
    if summary {
        print_summary(g, budget);
        return ExitCode::SUCCESS;
    }
    if as_json {
        let all = definition_sizes(&g.tools, &g.catalog);
        let everything: usize = all.iter().map(|s| s.bytes).sum();
        let doc = json!({
            "tools": defs,
            "sizes": sizes.iter().map(|(n, b)| json!({"name": n, "bytes": b, "approx_tokens": approx_tokens(*b)})).collect::<Vec<_>>(),
            "total": {"bytes": total, "approx_tokens": approx_tokens(total)},
            "prompts": g.catalog.prompts.iter().map(crate::mcp::prompt_definition).collect::<Vec<_>>(),
            "resources": g.catalog.resources.iter().map(crate::mcp::resource_definition).collect::<Vec<_>>(),
            "resourceTemplates": g.catalog.templates.iter().map(crate::mcp::template_definition).collect::<Vec<_>>(),
            "definitions": all.iter().map(|s| json!({"kind": s.kind, "name": s.name, "bytes": s.bytes, "approx_tokens": approx_tokens(s.bytes)})).collect::<Vec<_>>(),
            "all": {"bytes": everything, "approx_tokens": approx_tokens(everything)},
            "budget": {"tool_tokens": budget.tool_tokens, "gateway_tokens": budget.gateway_tokens},
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!(
        "{} {} — {} tool(s), {} bytes (~{} tokens) of definitions",
        g.name,
        g.version,
        g.tools.len(),
        total,
        approx_tokens(total)
    );
    println!("upstream: {}", g.upstream.base_url);
    if let Some(a) = &g.auth {
        // Where credentials come from, never what they are.
        let mut how = Vec::new();
        if let Some(o) = &a.oauth {
            how.push(format!(
                "oauth issuer {}, audience {}",
                o.issuer, o.audience
            ));
        }
        if !a.api_keys.is_empty() {
            how.push(format!("{} API key(s)", a.api_keys.len()));
        }
        println!("auth: {}", how.join("; "));
    }
    print_catalog(&g.catalog);
    for ((t, def), (_, bytes)) in g.tools.iter().zip(&defs).zip(&sizes) {
        let a = &t.annotations;
        let mut hints = Vec::new();
        if a.read_only_hint {
            hints.push("read-only");
        }
        if a.destructive_hint {
            hints.push("destructive");
        }
        if a.idempotent_hint {
            hints.push("idempotent");
        }
        println!();
        let scopes = if t.scopes.is_empty() {
            String::new()
        } else {
            format!(" (scopes: {})", t.scopes.join(" "))
        };
        println!(
            "── {} ({} bytes, ~{} tokens) [{}] → {} {}{}",
            t.name,
            bytes,
            approx_tokens(*bytes),
            hints.join(", "),
            t.plan.method,
            path_text(&t.plan.path),
            scopes
        );
        println!("{}", retry_line(t));
        println!("{}", serde_json::to_string_pretty(def).unwrap_or_default());
    }
    ExitCode::SUCCESS
}

/// What the gateway retries of a tool's calls, and the idempotency key it sends.
fn retry_line(t: &crate::gateway::Tool) -> String {
    let r = &t.retry;
    let mut line = if r.attempts <= 1 {
        "retry: off (a connection that could not be made is tried once more)".to_string()
    } else if t.retry_safe() {
        format!(
            "retry: up to {} attempts, {} doubling to {}, Retry-After up to {}",
            r.attempts,
            humantime::format_duration(r.base_delay),
            humantime::format_duration(r.max_delay),
            humantime::format_duration(r.max_retry_after)
        )
    } else {
        format!(
            "retry: only a connection that could not be made ({} is not idempotent)",
            t.plan.method
        )
    };
    if let Some(h) = &t.idempotency_key {
        line.push_str(&format!("; idempotency key in `{h}`"));
    }
    line
}

/// `inspect --summary`: a line per definition, then totals against the budget.
fn print_summary(g: &crate::gateway::Gateway, budget: Budget) {
    let all = definition_sizes(&g.tools, &g.catalog);
    let width = all.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &all {
        let tokens = approx_tokens(s.bytes);
        let over = if s.kind == "tool" && tokens > budget.tool_tokens {
            format!("  over budget ({})", budget.tool_tokens)
        } else {
            String::new()
        };
        println!(
            "{:<17} {:<width$} {:>8} B {:>7} tokens{over}",
            s.kind,
            s.name,
            s.bytes,
            format!("~{tokens}")
        );
    }
    let total: usize = all.iter().map(|s| s.bytes).sum();
    let tokens = approx_tokens(total);
    let verdict = if tokens > budget.gateway_tokens {
        "over budget"
    } else {
        "within budget"
    };
    println!(
        "{} definitions ({} tools), {total} bytes (~{tokens} tokens): {verdict} ({} per gateway, {} per tool)",
        all.len(),
        g.tools.len(),
        budget.gateway_tokens,
        budget.tool_tokens
    );
}

fn path_text(parts: &[crate::gateway::PathPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            crate::gateway::PathPart::Literal(s) => s.clone(),
            crate::gateway::PathPart::Param(s) => format!("{{{s}}}"),
        })
        .collect()
}

fn inspect_spec(location: &str) -> ExitCode {
    let spec = match super::load_spec(location) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Streamed: a spec like Microsoft Graph compiles to gigabytes of tools if held at once.
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut diags: Vec<crate::diag::Diagnostic> = spec
        .problems
        .iter()
        .filter(|p| p.operation.is_none())
        .map(|p| crate::diag::Diagnostic::error("spec-ref", p.message.clone()))
        .collect();
    let mut first = true;
    let mut failed = false;
    let _ = out.write_all(b"{\"tools\":[");
    compile_each(&spec, |_, outcome| match outcome {
        Ok((tool, _warnings)) => {
            if !first {
                let _ = out.write_all(b",");
            }
            first = false;
            if serde_json::to_writer(&mut out, &crate::mcp::definition(&tool)).is_err() {
                failed = true;
            }
        }
        Err(mut d) => diags.append(&mut d),
    });
    let _ = out.write_all(b"],\"diagnostics\":");
    let _ = serde_json::to_writer(&mut out, &diags);
    let _ = out.write_all(b"}\n");
    if failed || out.flush().is_err() {
        return ExitCode::from(super::EXIT_USAGE);
    }
    ExitCode::SUCCESS
}

/// One line per prompt, resource and resource template: what a user can pick and an agent read.
fn print_catalog(c: &crate::gateway::Catalog) {
    use crate::gateway::ResourceSource;
    for p in &c.prompts {
        let args: Vec<String> = p
            .arguments
            .iter()
            .map(|a| format!("{}{}", a.name, if a.required { "*" } else { "" }))
            .collect();
        println!("prompt: {}({})", p.name, args.join(", "));
    }
    for r in &c.resources {
        let from = match &r.source {
            ResourceSource::File { data, .. } => format!("file, {} bytes", data.len()),
            ResourceSource::Upstream(call) => {
                format!("{} {}", call.plan.method, path_text(&call.plan.path))
            }
        };
        println!("resource: {} → {from}", r.uri);
    }
    for t in &c.templates {
        println!(
            "resource template: {} → {} {}",
            t.template,
            t.call.plan.method,
            path_text(&t.call.plan.path)
        );
    }
}
