//! The `mcp-gateway` binary: everything lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    mcp_gateway::cli::run()
}
