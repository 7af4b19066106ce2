//! Running the real `mcp-gateway` binary and driving it with the official MCP TypeScript SDK
//! client (tests/node/client.mjs).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::path;

/// Node 22 from tests/node (installed by tests/setup.sh), else `node` on PATH.
pub fn node() -> PathBuf {
    let bundled = path("tests/node/node_modules/node22/bin/node");
    if bundled.is_file() {
        bundled
    } else {
        PathBuf::from("node")
    }
}

/// Fails with the setup instruction when the Node packages are missing.
pub fn require_node_packages() {
    let sdk = path("tests/node/node_modules/@modelcontextprotocol/sdk");
    assert!(
        sdk.is_dir(),
        "the Node test packages are not installed: run `tests/setup.sh` first"
    );
}

/// A gateway process serving HTTP on an ephemeral port.
pub struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// Everything it logged, as it logs it.
    pub log: mpsc::Receiver<String>,
}

impl Gateway {
    /// `http://127.0.0.1:PORT` (no path).
    pub fn origin(&self) -> String {
        self.url.trim_end_matches("/mcp").to_string()
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit on its own.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends SIGTERM, as an orchestrator stopping the replica does, and waits up to `limit`
    /// for the process to exit (then it is killed and the test fails, showing its log).
    pub fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        self.wait_exit(limit).unwrap_or_else(|| {
            let _ = self.child.kill();
            let log: Vec<String> = self.log.try_iter().collect();
            panic!(
                "the gateway did not exit within {limit:?} of SIGTERM; it logged:\n{}",
                log.join("\n")
            )
        })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mcp-gateway serve MANIFEST --listen 127.0.0.1:0 ARGS…` with `env`, and waits until
/// it logs its URL.
pub fn serve(manifest: &Path, args: &[&str], env: &[(&str, &str)]) -> Gateway {
    serve_at(manifest, "127.0.0.1:0", args, env)
}

/// Like [`serve`] on a given address (for a gateway that must know its own URL in advance, such
/// as an OAuth resource whose canonical URI is in the manifest).
pub fn serve_at(manifest: &Path, listen: &str, args: &[&str], env: &[(&str, &str)]) -> Gateway {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-gateway"));
    cmd.arg("serve")
        .arg(manifest)
        .args(["--listen", listen])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    start(cmd)
}

/// Starts a prepared `serve` command (for a test that wraps the binary, e.g. in `sh -c` with a
/// `ulimit`) and waits until it logs its URL.
pub fn start(mut cmd: Command) -> Gateway {
    let mut child = cmd
        .env("MCP_GATEWAY_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mcp-gateway starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => {
                // `url=…` in text logs, `"url":"…"` with `--log-format json`.
                let found = line
                    .find("url=http://")
                    .map(|i| i + 4)
                    .or_else(|| line.find("\"url\":\"http://").map(|i| i + 7));
                if let Some(i) = found {
                    let url = line[i..]
                        .split(|c: char| c.is_whitespace() || c == '"')
                        .next()
                        .unwrap_or("")
                        .to_string();
                    return Gateway {
                        child,
                        url,
                        log: rx,
                    };
                }
                seen.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the gateway did not start; it logged:\n{}", seen.join("\n"))
            }
        }
    }
}

/// Runs the TypeScript SDK client against `target` (`http URL` or `stdio CMD ARGS…`) with
/// `steps`, returning its results (the first element is the server's identity).
pub fn ts_client(target: &[&str], steps: &Value, env: &[(&str, &str)]) -> Vec<Value> {
    require_node_packages();
    let mut cmd = Command::new(node());
    cmd.arg(path("tests/node/client.mjs")).args(target);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_client(cmd, steps, "the TypeScript client")
}

/// Runs a client driver (`cmd`: tests/node/client.mjs, tests/python/client.py) with `steps` on
/// its stdin; returns the JSON array it prints. `who` names it when it fails.
pub fn run_client(mut cmd: Command, steps: &Value, who: &str) -> Vec<Value> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{who} cannot start: {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(steps.to_string().as_bytes())
        .expect("steps are written");
    let out = child.wait_with_output().expect("the client finishes");
    assert!(
        out.status.success(),
        "{who} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Fails, showing the log, if any line of it is at ERROR level.
pub fn assert_no_error_lines(log: &[String]) {
    assert!(
        !log.iter().any(|l| l.contains("ERROR")),
        "no ERROR line:\n{}",
        log.join("\n")
    );
}

/// The concatenated text blocks of a tool result.
pub fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The tool names of a `tools/list` result (or of `inspect --json` output), in order.
pub fn tool_names(list: &Value) -> Vec<&str> {
    list["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools list: {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

/// Whether a tool result is an error result.
pub fn is_error(result: &Value) -> bool {
    result["isError"] == Value::Bool(true)
}

/// The petstore example served against a fresh test upstream.
pub fn petstore(
    rt: &tokio::runtime::Runtime,
    args: &[&str],
) -> (super::upstream::Upstream, Gateway) {
    let up = rt.block_on(super::upstream::start());
    let gw = serve(
        &path("gateways/petstore/gateway.yaml"),
        args,
        &[("PETSTORE_BASE_URL", &up.url())],
    );
    (up, gw)
}

/// A connected rmcp client (the Rust SDK), for tests that need its protocol-level API.
pub type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// A 2025-era rmcp client (initialize), as most agents are today.
pub async fn client_2025(url: &str) -> Client {
    use rmcp::ServiceExt as _;
    ().serve(rmcp::transport::StreamableHttpClientTransport::from_uri(
        url.to_string(),
    ))
    .await
    .expect("the rmcp client connects")
}

/// A 2026-07-28 rmcp client (server/discover, stateless).
pub async fn client_2026(url: &str) -> Client {
    use rmcp::service::ClientServiceExt as _;
    ().serve_with_lifecycle(
        rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_string()),
        rmcp::service::ClientLifecycleMode::Discover {
            preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .expect("the rmcp client discovers the server")
}

/// The text blocks of an rmcp tool result, joined by newlines.
pub fn result_text(r: &rmcp::model::CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}
