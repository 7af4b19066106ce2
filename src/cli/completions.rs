//! `mcp-gateway completions SHELL`: a completion script generated from the clap definition, so
//! it always offers exactly the subcommands and flags the binary takes.

use std::process::ExitCode;

use clap::CommandFactory as _;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install, for example:
  bash: mcp-gateway completions bash > ~/.local/share/bash-completion/completions/mcp-gateway
  zsh:  mcp-gateway completions zsh > ~/.zfunc/_mcp-gateway   (with fpath+=~/.zfunc)
  fish: mcp-gateway completions fish > ~/.config/fish/completions/mcp-gateway.fish")]
pub(crate) struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, super::BIN, &mut std::io::stdout());
    ExitCode::SUCCESS
}
