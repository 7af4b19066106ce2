//! `mcp-gateway man`: roff man pages generated from the clap definition (the same text as
//! `--help`, so the page cannot drift from the flags).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory as _;

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Read it with `mcp-gateway man | man -l -`, or install the pages:
  mcp-gateway man --dir /usr/local/share/man/man1"
)]
pub(crate) struct Args {
    /// Write one page per command (`mcp-gateway.1`, `mcp-gateway-serve.1`, …) into this folder
    /// instead of printing the main page to stdout.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let cmd = super::Cli::command();
    let written = match &args.dir {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // `mcp-gateway man | head` closing the pipe early is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            match &args.dir {
                Some(dir) => eprintln!("error: cannot write man pages to {}: {e}", dir.display()),
                None => eprintln!("error: cannot write the man page: {e}"),
            }
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}
