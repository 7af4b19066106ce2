//! Compile speed and memory on GitHub's full OpenAPI spec (`@octokit/openapi`, 13 MB, installed
//! by `tests/setup.sh`): a 15-tool manifest (what `serve` and `validate` do), and every
//! operation compiled as a tool (what `inspect --spec` does). The baseline, measured in the
//! same run, is parsing the spec's JSON alone: figures are reported as ratios to it, because
//! absolute times on a shared machine are noisy.
//!
//! Each measurement runs in a fresh child process (this binary re-executed), so its peak RSS
//! is its own. `cargo bench --bench compile` (env: BENCH_RUNS, default 5).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "common/github.rs"]
mod github;
use github::{TOOLS, spec_path};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// One measurement in this process: prints `seconds peak_rss_mib`.
fn measure(kind: &str, dir: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    match kind {
        "parse" => {
            let text = std::fs::read_to_string(spec_path()).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(v.get("paths").is_some());
        }
        "manifest" => {
            let outcome = rt.block_on(mcp_gateway::compile::compile_file(
                &dir.join("gateway.yaml"),
                mcp_gateway::compile::Options {
                    secrets: mcp_gateway::compile::Secrets::Skip,
                },
            ));
            let compiled = outcome
                .result
                .unwrap_or_else(|d| panic!("the GitHub manifest must compile: {d:#?}"));
            assert_eq!(compiled.gateway.tools.len(), 15);
        }
        "all" => {
            let spec = rt
                .block_on(mcp_gateway::openapi::Spec::load(
                    spec_path().to_str().unwrap(),
                    Path::new("."),
                    false,
                ))
                .unwrap();
            // As `inspect --spec` does: one tool at a time, serialised and dropped.
            let mut count = 0;
            mcp_gateway::compile::compile_each(&spec, |_, outcome| {
                if let Ok((tool, _)) = outcome {
                    count += serde_json::to_vec(&mcp_gateway::mcp::definition(&tool))
                        .map(|v| v.len().min(1))
                        .unwrap_or(0);
                }
            });
            assert!(count > 1000);
        }
        other => panic!("unknown measurement {other}"),
    }
    println!("{} {}", started.elapsed().as_secs_f64(), peak_rss_mib());
}

fn run(kind: &str, dir: &Path, runs: usize) -> (f64, f64) {
    let mut secs = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--measure", kind, dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        secs.push(it.next().unwrap().parse::<f64>().unwrap());
        rss.push(it.next().unwrap().parse::<f64>().unwrap());
    }
    secs.sort_by(f64::total_cmp);
    rss.sort_by(f64::total_cmp);
    (secs[secs.len() / 2], rss[rss.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    if !spec_path().is_file() {
        eprintln!("{} is missing: run tests/setup.sh", spec_path().display());
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().unwrap();
    let tools: String = TOOLS
        .iter()
        .map(|t| format!("  - operation: {t}\n"))
        .collect();
    std::fs::write(
        dir.path().join("gateway.yaml"),
        format!(
            "name: github\nopenapi: {}\ntools:\n{tools}",
            spec_path().display()
        ),
    )
    .unwrap();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (p_s, p_m) = run("parse", dir.path(), runs);
    let (m_s, m_m) = run("manifest", dir.path(), runs);
    let (a_s, a_m) = run("all", dir.path(), runs.min(3));
    println!("GitHub spec (13 MB JSON), medians of {runs} fresh processes:");
    println!("  baseline, parse the JSON only:       {p_s:>6.3} s  peak RSS {p_m:>6.1} MiB");
    println!(
        "  15-tool manifest (validate/serve):   {m_s:>6.3} s  peak RSS {m_m:>6.1} MiB  ({:.2}× the parse time)",
        m_s / p_s
    );
    println!(
        "  every operation (inspect --spec):    {a_s:>6.3} s  peak RSS {a_m:>6.1} MiB  ({:.2}× the parse time)",
        a_s / p_s
    );
}
