//! `mcp-gateway serve`: compile, then serve over Streamable HTTP or stdio.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The manifest.
    #[arg(default_value = "gateway.yaml")]
    path: PathBuf,
}

pub(crate) fn run(_args: Args) -> ExitCode {
    eprintln!("serve: not yet available");
    ExitCode::from(super::EXIT_USAGE)
}
