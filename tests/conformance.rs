//! The official MCP conformance suite against the conformance fixture (tests/conformance/):
//! 0.1.16 for the 2025-11-25 protocol, in the default stateless mode and with `--sessions`,
//! and 0.2.0-alpha.12 for 2026-07-28, both its active suite and `--requirements 2026-07-28`
//! (every scenario the revision requires: MRTR `input-required-result-*`, `Mcp-Param-*`
//! headers, …), and each scenario of the tasks extension (`tasks-*`, which `--requirements`
//! runs unscored) scored on its own against the tasks fixture (gateways/conformance-tasks).
//! Each run has an expected-failures baseline that lists
//! only what needs a later feature, with its reason; a baseline entry that starts passing
//! fails the run too.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::gateway::{node, require_node_packages};
use crate::common::path;

struct Fixture(Child);

impl Drop for Fixture {
    fn drop(&mut self) {
        // SIGTERM, so fixture.sh's trap stops the gateway and the upstream it started.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn free_port_pair() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 65000 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

fn start_fixture(extra: &[&str]) -> (Fixture, u16) {
    start_gateway("conformance", extra)
}

/// The fixture serving `gateways/{gateway}/gateway.yaml`.
fn start_gateway(gateway: &str, extra: &[&str]) -> (Fixture, u16) {
    let port = free_port_pair();
    let child = Command::new(path("tests/conformance/fixture.sh"))
        .arg(port.to_string())
        .args(extra)
        .env("CONFORMANCE_GATEWAY", gateway)
        .env("MCP_GATEWAY_BIN", env!("CARGO_BIN_EXE_mcp-gateway"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fixture.sh starts");
    let fixture = Fixture(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", port + 1)).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the conformance fixture did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (fixture, port)
}

fn run_suite(package: &str, extra_serve: &[&str], suite_args: &[&str], baseline: &str) {
    require_node_packages();
    let (_fixture, port) = start_fixture(extra_serve);
    let out = Command::new(node())
        .arg(path(&format!(
            "tests/node/node_modules/{package}/dist/index.js"
        )))
        .args(["server", "--url", &format!("http://127.0.0.1:{port}/mcp")])
        .args(suite_args)
        .arg("--expected-failures")
        .arg(path(&format!("tests/conformance/{baseline}")))
        .output()
        .expect("the conformance suite runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .find("=== SUMMARY ===")
        .map(|i| &stdout[i..])
        .unwrap_or(&stdout);
    println!("{summary}");
    assert!(
        out.status.success(),
        "{package} {suite_args:?} failed against the baseline {baseline}:\n{summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn conformance_2025_11_25_stateless() {
    run_suite("conformance-2025", &[], &[], "baseline-2025.yml");
}

#[test]
fn conformance_2025_11_25_with_sessions() {
    run_suite(
        "conformance-2025",
        &["--sessions"],
        &[],
        "baseline-2025-sessions.yml",
    );
}

#[test]
fn conformance_2026_07_28() {
    run_suite(
        "conformance-2026",
        &[],
        &["--spec-version", "2026-07-28"],
        "baseline-2026.yml",
    );
}

/// `--requirements 2026-07-28`: every scenario the revision requires (and the tasks extension
/// and pending scenarios, run unscored), not only the active suite.
#[test]
fn conformance_2026_07_28_requirements() {
    run_suite(
        "conformance-2026",
        &[],
        &["--requirements", "2026-07-28"],
        "baseline-2026-requirements.yml",
    );
}

/// The tasks extension's scenarios (`io.modelcontextprotocol/tasks`), each run with `--scenario`,
/// which scores an extension scenario at the 2026-07-28 wire (`--requirements` runs them
/// unscored), against the tasks fixture: slow operations of the conformance upstream's
/// 202-and-poll job API. The scenarios are the ones the suite lists, so a new one is run too.
#[test]
fn conformance_2026_07_28_tasks_extension() {
    require_node_packages();
    let suite = path("tests/node/node_modules/conformance-2026/dist/index.js");
    let listed = Command::new(node())
        .arg(&suite)
        .arg("list")
        .output()
        .expect("the conformance suite lists its scenarios");
    let scenarios: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with("tasks-"))
        .map(str::to_string)
        .collect();
    assert!(
        scenarios.len() >= 10,
        "the suite lists its tasks scenarios: {scenarios:?}"
    );
    let (_fixture, port) = start_gateway("conformance-tasks", &[]);
    let mut failed = Vec::new();
    for scenario in &scenarios {
        let out = Command::new(node())
            .arg(&suite)
            .args(["server", "--url", &format!("http://127.0.0.1:{port}/mcp")])
            .args(["--scenario", scenario])
            .arg("--expected-failures")
            .arg(path("tests/conformance/baseline-2026-tasks.yml"))
            .output()
            .expect("the conformance suite runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!(
            "{scenario}: {}",
            stdout
                .lines()
                .filter(|l| l.contains("Passed:"))
                .collect::<String>()
        );
        if !out.status.success() {
            failed.push(format!("{scenario}:\n{stdout}"));
        }
    }
    assert!(
        failed.is_empty(),
        "tasks scenarios failed against the baseline baseline-2026-tasks.yml:\n{}",
        failed.join("\n")
    );
}
