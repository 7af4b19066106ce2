//! `mcp-gateway schema`: the manifest's JSON Schema, generated from the manifest types.

use std::process::ExitCode;

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> ExitCode {
    match serde_json::to_string_pretty(&crate::manifest::json_schema()) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}
