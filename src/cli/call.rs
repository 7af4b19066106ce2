//! `mcp-gateway call PATH TOOL '{json}'`: compile a manifest and call one tool once, printing
//! the MCP result. For trying a manifest against its API without an MCP client; the call runs
//! exactly the code a `tools/call` runs (argument validation, request building, shaping).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value};

use crate::compile::compile_to_serve;
use crate::mcp::Shared;
use crate::upstream::UpstreamClient;

/// Arguments of `call`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The manifest, or a folder holding `gateway.yaml`.
    path: PathBuf,
    /// The tool to call, by its MCP name (as `inspect` lists it).
    tool: String,
    /// The arguments, a JSON object; `-` reads them from stdin.
    #[arg(default_value = "{}")]
    arguments: String,
    /// Print the result on one line instead of indented.
    #[arg(long)]
    compact: bool,
}

/// Exit code when the tool ran and failed (`isError: true`): the upstream answered 4xx/5xx,
/// timed out, or the arguments were refused.
const EXIT_TOOL_ERROR: u8 = 1;

pub(crate) fn run(args: Args) -> ExitCode {
    init_logging();
    let arguments = match arguments(&args.arguments) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    match super::block_on(call(&args, arguments)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}

/// Warnings (an upstream that cannot be reached) to stderr; stdout carries only the result.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("MCP_GATEWAY_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The `arguments` operand as a JSON object, read from stdin for `-`.
fn arguments(operand: &str) -> Result<Map<String, Value>, String> {
    let text = if operand == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the arguments from stdin: {e}"))?;
        s
    } else {
        operand.to_string()
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(format!(
            "the arguments must be a JSON object such as '{{\"pet_id\": 1}}', not {}",
            kind(&other)
        )),
        Err(e) => Err(format!(
            "the arguments are not JSON ({e}); quote them for the shell: '{{\"pet_id\": 1}}'"
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

async fn call(args: &Args, arguments: Map<String, Value>) -> ExitCode {
    let manifest = super::manifest_at(&args.path);
    let outcome = compile_to_serve(&manifest).await;
    let compiled = match outcome.result {
        Ok(c) => c,
        Err(diags) => {
            super::print_diagnostics(&diags, &outcome.sources);
            eprintln!(
                "error: {} does not compile; fix the problems above (`mcp-gateway validate` shows the same)",
                manifest.display()
            );
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let g = compiled.gateway;
    if g.tool(&args.tool).is_none() {
        let mut names: Vec<&str> = g.tools.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        let guess = names
            .iter()
            .map(|n| (strsim::jaro_winkler(n, &args.tool), *n))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| format!(" Did you mean `{n}`?"))
            .unwrap_or_default();
        eprintln!(
            "error: {} has no tool `{}`.{guess} Its tools: {}",
            manifest.display(),
            args.tool,
            names.join(", ")
        );
        return ExitCode::from(super::EXIT_USAGE);
    }
    let upstream = match UpstreamClient::new() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: cannot create the upstream HTTP client: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let served = match crate::runtime::Served::new(g, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let shared = Shared::new(served, upstream);
    let g = shared.gateway.load_full();
    let Some(tool) = g.tool(&args.tool) else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    // No caller: like stdio, the local user runs the gateway, so `auth:` does not apply.
    let cx = crate::mcp::CallContext::of(None, crate::telemetry::Era::Legacy);
    // The person running `call` is the user that `ask:` and `confirm:` would ask: asked values
    // come with the arguments, and typing the command is the confirmation.
    let mut arguments = arguments;
    let mut supplied = serde_json::Map::new();
    for a in tool.interaction.iter().flat_map(|i| &i.asks) {
        if let Some(v) = arguments.remove(&a.arg) {
            supplied.insert(a.arg.clone(), v);
        }
    }
    let result = crate::mcp::run_tool(&shared, &g, tool, arguments, supplied, None, cx)
        .await
        .into_result();
    let printed = if args.compact {
        serde_json::to_string(&result)
    } else {
        serde_json::to_string_pretty(&result)
    };
    match printed {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("error: cannot print the result: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    }
    if result.is_error == Some(true) {
        ExitCode::from(EXIT_TOOL_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}
