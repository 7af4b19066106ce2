//! The petstore example end to end against the Prism mock of its own spec. Prism runs with
//! `--errors`, so any request that breaks the spec (a missing required header, a wrong type, a
//! bad body) comes back as an error and fails the call: every tool is called with valid
//! arguments and every request must be accepted.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::gateway::{is_error, require_node_packages, serve, text, tool_names, ts_client};
use crate::common::path;

pub(crate) struct Prism(Child);

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `prism mock --errors` on `spec` and waits until it listens; returns its URL.
pub(crate) fn start_prism(spec: &Path) -> (Prism, String) {
    require_node_packages();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(crate::common::gateway::node())
        .arg(path(
            "tests/node/node_modules/@stoplight/prism-cli/dist/index.js",
        ))
        .args([
            "mock",
            "--errors",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .arg(spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("prism starts");
    let stdout = child.stdout.take().unwrap();
    let prism = Prism(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            // Large real specs take Prism a while to load.
            .recv_timeout(Duration::from_secs(180))
            .expect("prism reports that it listens");
        if line.contains("Prism is listening") {
            return (prism, format!("http://127.0.0.1:{port}"));
        }
    }
}

#[test]
fn prism_accepts_every_request_of_every_petstore_tool() {
    let (_prism, url) = start_prism(&path("gateways/petstore/openapi.yaml"));

    // Prism does reject requests that break the spec: the hidden, required header matters.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    mcp_gateway::tls::install_default_provider();
    let status = rt.block_on(async {
        reqwest::get(format!("{url}/store/inventory"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(
        status.as_u16(),
        422,
        "Prism must reject a request without X-Api-Version"
    );

    let gw = serve(
        &path("gateways/petstore/gateway.yaml"),
        &[],
        &[("PETSTORE_BASE_URL", &url)],
    );
    let calls = [
        (
            "find_pets",
            json!({"status": ["available", "pending"], "limit": 3}),
        ),
        ("get_pet", json!({"pet_id": 1})),
        (
            "add_pet",
            json!({"name": "Rex", "tag": null, "status": "available", "category": {"id": 1, "name": "dogs"}}),
        ),
        ("delete_pet", json!({"pet_id": 1})),
        ("get_inventory", json!({})),
        (
            "place_order",
            json!({"petId": 1, "quantity": 2, "delivery": {"method": "shipping", "address": "1 Main St"}}),
        ),
    ];
    let mut steps = vec![json!({"op": "list"})];
    steps.extend(
        calls
            .iter()
            .map(|(n, a)| json!({"op": "call", "name": n, "arguments": a})),
    );
    let r = ts_client(&["http", &gw.url], &Value::Array(steps), &[]);

    let listed = tool_names(&r[1]);
    let called: Vec<&str> = calls.iter().map(|c| c.0).collect();
    assert_eq!(listed, called, "every tool of the example is called");
    for (i, (name, _)) in calls.iter().enumerate() {
        let result = &r[i + 2];
        assert!(
            !is_error(result),
            "{name}: Prism or the gateway rejected the call: {}",
            text(result)
        );
    }
}
