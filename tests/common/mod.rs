//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The built `mcp-gateway` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcp-gateway"))
}

/// Runs the binary with `args` in `dir` and returns its output.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the mcp-gateway binary runs")
}

/// A two-thread runtime for tests that run an upstream beside the gateway process.
pub fn runtime() -> tokio::runtime::Runtime {
    mcp_gateway::tls::install_default_provider();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("temp file is writable");
    p
}

/// Compiles a manifest in-process.
pub fn compile(path: &Path) -> mcp_gateway::compile::Outcome {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(mcp_gateway::compile::compile_file(
        path,
        mcp_gateway::compile::Options {
            secrets: mcp_gateway::compile::Secrets::Skip,
        },
    ))
}

/// `(code, path, line:column, message, hint)` of each diagnostic, for whole-list assertions.
pub fn summarize(diags: &[mcp_gateway::diag::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            format!(
                "{:?} {} @ {} {}: {}{}",
                d.severity,
                d.code,
                d.path.as_deref().unwrap_or("-"),
                d.span
                    .map(|s| format!("{}:{}", s.line, s.column))
                    .unwrap_or_else(|| "-".into()),
                d.message,
                d.hint
                    .as_deref()
                    .map(|h| format!(" | help: {h}"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// The JSON messages of an SSE body, an event's `data:` lines joined; events whose data is not
/// JSON (the priming event, keep-alives) are skipped.
pub fn sse_messages(text: &str) -> Vec<serde_json::Value> {
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str(&data.join("\n")).ok()
        })
        .collect()
}

pub mod gateway;
pub mod in_process;
pub mod oauth;
pub mod proxy;
pub mod raw;
pub mod upstream;

/// Runs `openssl` in `dir` (test certificates), failing the test with its stderr.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
