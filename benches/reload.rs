//! Save-to-live time of hot reload: from the moment a manifest edit is written to the moment
//! `tools/list` on the running gateway shows it, for the petstore example and for a 15-tool
//! manifest over GitHub's 13 MB spec (`@octokit/openapi`, installed by `tests/setup.sh`).
//!
//! The baseline, measured in the same run, is compiling the same manifest in-process (what a
//! reload cannot avoid); the report gives save-to-live, the compile, and what the reload adds
//! on top of the compile (debounce, file events, the swap, the poll), since absolute times on a
//! shared machine are noisy. Target: save-to-live ≤ 300 ms including the debounce.
//!
//! `cargo bench --bench reload` (env: BENCH_SAVES, default 15).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::io::{BufRead, BufReader};

struct Case {
    label: &'static str,
    dir: tempfile::TempDir,
    /// The manifest text for save number `i` (a tool renamed to `probe_{i}`).
    text: Box<dyn Fn(usize) -> String>,
}

#[path = "common/github.rs"]
mod github;
use github::{TOOLS, spec_path as github_spec};

fn petstore() -> Case {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("gateways/petstore/openapi.yaml"),
        dir.path().join("openapi.yaml"),
    )
    .unwrap();
    Case {
        label: "petstore (6 KB spec)",
        dir,
        text: Box::new(|i| {
            format!(
                "name: petstore\nopenapi: openapi.yaml\nupstream:\n  base_url: http://127.0.0.1:9\ntools:\n  \
                 - operation: getPetById\n    name: probe_{i}\n  - operation: listPets\n  - operation: createPet\n"
            )
        }),
    }
}

fn github() -> Case {
    let spec = github_spec().display().to_string();
    Case {
        label: "GitHub (13 MB spec, 15 tools)",
        dir: tempfile::tempdir().unwrap(),
        text: Box::new(move |i| {
            let tools = TOOLS[1..]
                .iter()
                .map(|t| format!("  - operation: {t}\n"))
                .collect::<String>();
            format!(
                "name: github\nopenapi: {spec}\ntools:\n  - operation: {}\n    name: probe_{i}\n{tools}",
                TOOLS[0]
            )
        }),
    }
}

fn manifest(case: &Case) -> PathBuf {
    case.dir.path().join("gateway.yaml")
}

fn start(case: &Case) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-gateway"))
        .arg("serve")
        .arg(manifest(case))
        .args(["--listen", "127.0.0.1:0"])
        .env("MCP_GATEWAY_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("the gateway logs its URL").unwrap();
        if let Some(i) = line.find("url=http://") {
            break line[i + 4..].split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep draining the log so the gateway never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

async fn listed(client: &reqwest::Client, url: &str, name: &str) -> bool {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let Ok(resp) = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body)
        .send()
        .await
    else {
        return false;
    };
    resp.text()
        .await
        .map(|t| t.contains(&format!("\"name\":\"{name}\"")))
        .unwrap_or(false)
}

fn compile_once(path: &Path) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let outcome = rt.block_on(mcp_gateway::compile::compile_file(
        path,
        mcp_gateway::compile::Options {
            secrets: mcp_gateway::compile::Secrets::Skip,
        },
    ));
    assert!(outcome.result.is_ok(), "the bench manifest compiles");
    t.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p95(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64) * 0.95).ceil() as usize - 1]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    mcp_gateway::tls::install_default_provider();
    let saves: usize = std::env::var("BENCH_SAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut cases = vec![petstore()];
    if github_spec().is_file() {
        cases.push(github());
    } else {
        eprintln!("(GitHub case skipped: run tests/setup.sh to install @octokit/openapi)");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    println!(
        "save-to-live, {saves} saves per case; debounce {} ms",
        mcp_gateway::reload::watch::DEBOUNCE.as_millis()
    );
    for case in &cases {
        std::fs::write(manifest(case), (case.text)(0)).unwrap();
        let (mut child, url) = start(case);
        let mut live = Vec::new();
        let mut compile = Vec::new();
        for i in 1..=saves {
            // Let the previous reload settle so each save is measured on its own.
            std::thread::sleep(Duration::from_millis(400));
            let text = (case.text)(i);
            let t = Instant::now();
            std::fs::write(manifest(case), &text).unwrap();
            let name = format!("probe_{i}");
            rt.block_on(async {
                while !listed(&client, &url, &name).await {
                    assert!(
                        t.elapsed() < Duration::from_secs(10),
                        "save {i} never went live"
                    );
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            });
            live.push(t.elapsed().as_secs_f64() * 1000.0);
            compile.push(compile_once(&manifest(case)).as_secs_f64() * 1000.0);
        }
        let _ = child.kill();
        let _ = child.wait();
        let (l50, l95, c50) = (
            median(&mut live.clone()),
            p95(&mut live),
            median(&mut compile),
        );
        println!(
            "{:32} save-to-live median {l50:6.1} ms  p95 {l95:6.1} ms | compile alone {c50:6.1} ms | reload overhead over the compile {:5.1} ms ({:.2}x the compile)",
            case.label,
            l50 - c50,
            l50 / c50
        );
    }
}
