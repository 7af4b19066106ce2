//! The command line: one file per subcommand, each owning its arguments. `main` only maps
//! [`run`] to an exit code.

mod call;
mod completions;
mod health;
mod init;
mod inspect;
mod lock;
mod man;
mod schema;
mod serve;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for "the input is invalid" (diagnostics with errors).
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage and I/O errors (also what clap uses for bad arguments).
pub const EXIT_USAGE: u8 = 2;

/// The command's name (the package is `openapi-mcp-gateway`; the command keeps the short name).
const BIN: &str = "mcp-gateway";

/// mcp-gateway: curate an OpenAPI API into typed MCP tools with a YAML manifest, and serve them.
#[derive(Debug, Parser)]
#[command(name = "mcp-gateway", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a gateway over MCP (Streamable HTTP, or stdio with --stdio).
    #[command(
        after_help = "Environment: MCP_GATEWAY_STATE_KEY is the secret that seals the requestState of `confirm:` and `ask:` rounds (2026-07-28), paging tokens and links to large file answers; set the same value on every replica behind one load balancer. Unset, each process uses a random key."
    )]
    Serve(serve::Args),
    /// Check manifests the way `serve` would compile them (for CI).
    Validate(validate::Args),
    /// Show the tools exactly as `tools/list` returns them, with their sizes.
    Inspect(inspect::Args),
    /// Write a starter manifest for a spec to stdout.
    Init(init::Args),
    /// Write `gateway.lock.json`: exactly what an agent sees, for review and drift checks.
    Lock(lock::Args),
    /// Print the manifest's JSON Schema.
    Schema(schema::Args),
    /// Call one tool once and print the MCP result (try a manifest without an MCP client).
    Call(call::Args),
    /// Ask a running gateway whether it is ready (for container health checks).
    Health(health::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Print the man page (or write one per command with --dir).
    Man(man::Args),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Init(a) => init::run(a),
        Command::Lock(a) => lock::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Call(a) => call::run(a),
        Command::Health(a) => health::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    }
}

/// A small runtime for the one-shot commands (validate, inspect, init): they only await spec
/// fetches, so one thread is plenty.
fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, std::io::Error> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}

/// Loads the spec at `location` (relative to the working directory) for the commands that take
/// one directly; failures are printed and become the exit code.
fn load_spec(location: &str) -> Result<crate::openapi::Spec, ExitCode> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
    match block_on(crate::openapi::Spec::load(location, &cwd, false)) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// Prints diagnostics to stderr the way `validate` does.
/// The manifest a command's PATH names: the file itself, or `gateway.yaml` in a folder.
fn manifest_at(path: &std::path::Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join(crate::reload::fleet::MANIFEST)
    } else {
        path.to_path_buf()
    }
}

fn print_diagnostics(diags: &[crate::diag::Diagnostic], sources: &crate::diag::Sources) {
    for d in diags {
        eprint!("{}", crate::diag::render_human(d, sources));
        eprintln!();
    }
}
