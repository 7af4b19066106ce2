//! The `mcp-gateway` binary: everything lives in the library; see `cli`.

/// mimalloc instead of glibc malloc: a call allocates and frees many small JSON nodes and
/// buffers across worker threads, which glibc's arenas serve slowly (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mcp_gateway::cli::run()
}
