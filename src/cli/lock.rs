//! `mcp-gateway lock [PATH…]`: writes the lock file beside each manifest, recording exactly what
//! an agent sees (see [`crate::lock`]). `validate` then fails when that would change.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::compile::{Options, Secrets, compile_file};

/// Arguments of `lock`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Manifests, or folders holding `gateway.yaml` (directly or one level down).
    #[arg(default_value = "gateway.yaml")]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let files = match super::validate::manifests(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let mut code = ExitCode::SUCCESS;
    for file in files {
        let outcome = match super::block_on(compile_file(
            &file,
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
        match outcome.result {
            Ok(c) => match write(&file, &c.gateway) {
                Ok(line) => eprintln!("{line}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(super::EXIT_USAGE);
                }
            },
            Err(diags) => {
                super::print_diagnostics(&diags, &outcome.sources);
                eprintln!("{}: invalid, no lock file written", file.display());
                code = ExitCode::from(super::EXIT_INVALID);
            }
        }
    }
    code
}

/// Writes the lock file of the gateway compiled from `manifest`; returns a line saying so.
pub(crate) fn write(
    manifest: &std::path::Path,
    g: &crate::gateway::Gateway,
) -> Result<String, String> {
    let path = crate::lock::path_for(manifest);
    let doc = crate::lock::document(g);
    std::fs::write(&path, crate::lock::render(&doc))
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    Ok(format!(
        "{}: wrote {} tool(s), ~{} tokens of definitions",
        path.display(),
        g.tools.len(),
        doc["total"]["approx_tokens"]
    ))
}
