//! The official MCP Python SDK (`mcp`, installed by tests/setup.sh) as the client. Its default
//! mode asks `server/discover` and speaks 2026-07-28 to a server that can, as new agents built
//! on it do; its legacy mode initializes a 2025-era connection. Both drive the petstore example
//! against the recording upstream: tools, a resource, a prompt, bad arguments and an unknown
//! tool, with `/metrics` showing which path served them. A tool that asks the user first
//! (`confirm:`) is driven through the SDK's own `InputRequiredResult` rounds. A
//! `subscriptions/listen` stream sees a hot reload, and ends gracefully, as the SDK tells it,
//! when the gateway is stopped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::gateway::{Gateway, assert_no_error_lines, petstore, run_client, serve, text};
use crate::common::{path, runtime, upstream};

/// The venv's Python, with the SDK in it.
fn python() -> PathBuf {
    let python = path("tests/.venv/bin/python");
    let installed = Command::new(&python)
        .args(["-c", "import mcp.client.client"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "the MCP Python SDK is not installed: run `tests/setup.sh` first"
    );
    python
}

/// Runs tests/python/client.py against `url` in `mode` with `steps`; returns its results (the
/// first is the negotiated version and the server's identity).
fn py_client(url: &str, mode: &str, steps: &Value) -> Vec<Value> {
    py_client_with(url, mode, steps, &[])
}

/// [`py_client`] with environment variables (`MCP_ELICIT`).
fn py_client_with(url: &str, mode: &str, steps: &Value, env: &[(&str, &str)]) -> Vec<Value> {
    let mut cmd = Command::new(python());
    cmd.arg(path("tests/python/client.py")).args([url, mode]);
    cmd.envs(env.iter().copied());
    run_client(cmd, steps, "the Python client")
}

/// `mcp_gateway_requests_total{path}` of `gw`, fast and rmcp.
fn paths(rt: &tokio::runtime::Runtime, gw: &Gateway) -> (u64, u64) {
    let text = rt.block_on(async {
        reqwest::get(format!("{}/metrics", gw.origin()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let count = |path: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("mcp_gateway_requests_total{")
                    && l.contains(&format!("path=\"{path}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {path} counter in /metrics:\n{text}"))
    };
    (count("fast"), count("rmcp"))
}

/// The steps every era runs: list, a call, a call with a bad argument, a call of a tool that
/// does not exist, a resource and a prompt.
fn tour() -> Value {
    json!([
        {"op": "list"},
        {"op": "call", "name": "get_pet", "arguments": {"pet_id": 7}},
        {"op": "call", "name": "get_pet", "arguments": {"pet_id": "seven"}},
        {"op": "call", "name": "adopt_a_unicorn", "arguments": {}},
        {"op": "read", "uri": "petstore://pets/7"},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "7"}},
    ])
}

/// What the tour's answers must be in any era, and that the upstream saw exactly the three
/// `GET /pets/7` the call, the resource and the prompt make (the bad call sends nothing).
fn check_tour(r: &[Value], up: &upstream::Upstream) {
    let mut names: Vec<&str> = r[1]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add_pet",
            "delete_pet",
            "find_pets",
            "get_inventory",
            "get_pet",
            "place_order"
        ]
    );
    assert_eq!(r[2]["isError"], false, "{}", r[2]);
    assert_eq!(r[2]["structuredContent"]["id"], 7, "{}", r[2]);
    assert_eq!(r[3]["isError"], true, "{}", r[3]);
    let bad = text(&r[3]);
    assert!(
        bad.contains("pet_id") && bad.contains("Nothing was sent"),
        "{bad}"
    );
    assert_eq!(r[4]["error"]["code"], -32602, "{}", r[4]);
    assert!(
        r[4]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("adopt_a_unicorn") && m.contains("get_pet")),
        "{}",
        r[4]
    );
    let read: Value = serde_json::from_str(r[5]["contents"][0]["text"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("the resource is JSON ({e}): {}", r[5]));
    assert_eq!(read["id"], 7);
    let prompt = r[6]["messages"].to_string();
    assert!(prompt.contains("pet 7"), "{prompt}");
    let uris: Vec<String> = up
        .requests()
        .iter()
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    assert_eq!(uris, ["GET /pets/7"; 3], "{uris:?}");
}

/// The SDK's default mode negotiates 2026-07-28 through `server/discover`, and every call,
/// read and prompt of the tour is answered by the fast path; only discovery, the list and the
/// unknown tool's error go through rmcp.
#[test]
fn default_mode_speaks_2026_07_28_and_its_calls_take_the_fast_path() {
    let rt = runtime();
    let (up, gw) = petstore(&rt, &[]);
    let r = py_client(&gw.url, "auto", &tour());
    assert_eq!(r[0]["protocolVersion"], "2026-07-28", "{}", r[0]);
    assert_eq!(r[0]["serverInfo"]["name"], "petstore", "{}", r[0]);
    check_tour(&r, &up);
    // fast: the call, the refused call, the read, the prompt;
    // rmcp: server/discover, tools/list, the unknown tool.
    assert_eq!(paths(&rt, &gw), (4, 3));
}

/// Its legacy mode initializes a 2025-11-25 connection and gets the same answers, stateless
/// and on a session (`--sessions`), on the fast path as well.
#[test]
fn legacy_mode_gets_the_same_answers_stateless_and_on_a_session() {
    let rt = runtime();
    for args in [&[][..], &["--sessions"][..]] {
        let (up, gw) = petstore(&rt, args);
        let r = py_client(&gw.url, "legacy", &tour());
        assert_eq!(r[0]["protocolVersion"], "2025-11-25", "{args:?}: {}", r[0]);
        check_tour(&r, &up);
        let (fast, _) = paths(&rt, &gw);
        assert_eq!(fast, 4, "{args:?}");
    }
}

/// A listening client hears of a hot reload and lists the new tools; when the gateway is
/// stopped, its listen stream ends with the final result, which the SDK reports as a graceful
/// end rather than a lost subscription. Clients closing their streams put no ERROR line in
/// the log.
#[test]
fn a_listen_stream_hears_a_reload_and_ends_gracefully_at_sigterm() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    for f in ["gateway.yaml", "openapi.yaml", "care-guide.md"] {
        std::fs::copy(path(&format!("gateways/petstore/{f}")), dir.path().join(f)).unwrap();
    }
    let manifest = dir.path().join("gateway.yaml");
    let mut gw = serve(
        &manifest,
        &["--shutdown-grace", "0s"],
        &[("PETSTORE_BASE_URL", &up.url())],
    );
    let steps = json!([
        {"op": "listen_for_reload", "path": manifest, "old": "name: find_pets", "new": "name: search_pets", "timeout_s": 10},
        {"op": "list"},
        {"op": "listen_through_sigterm", "pid": gw.pid(), "timeout_s": 10},
    ]);
    let r = py_client(&gw.url, "auto", &steps);
    assert_eq!(r[1], json!({"event": "tools_list_changed"}));
    let names: Vec<&str> = r[2]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"search_pets") && !names.contains(&"find_pets"),
        "{names:?}"
    );
    assert_eq!(r[3], json!({"ended": "graceful"}));
    let status = gw
        .wait_exit(Duration::from_secs(10))
        .expect("the gateway exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert_no_error_lines(&gw.log.try_iter().collect::<Vec<_>>());
}

/// A tool with `confirm:` asks through 2026-07-28 `InputRequiredResult` rounds, which the SDK
/// drives with its elicitation callback: the user is asked exactly the manifest's question;
/// accepting sends the one `DELETE`, declining or cancelling sends nothing and says so, and a
/// client that cannot ask its user gets `-32021` with nothing sent.
#[test]
fn confirm_is_asked_through_the_sdks_input_required_rounds() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    for f in ["openapi.yaml", "care-guide.md"] {
        std::fs::copy(path(&format!("gateways/petstore/{f}")), dir.path().join(f)).unwrap();
    }
    let manifest = std::fs::read_to_string(path("gateways/petstore/gateway.yaml")).unwrap();
    let asked =
        "    description: Permanently delete a pet from the store. This cannot be undone.\n";
    assert!(manifest.contains(asked));
    let manifest = manifest.replacen(
        asked,
        &format!("{asked}    confirm: Delete this pet for good?\n"),
        1,
    );
    let manifest = crate::common::write(dir.path(), "gateway.yaml", &manifest);
    let gw = serve(&manifest, &[], &[("PETSTORE_BASE_URL", &up.url())]);
    let steps = json!([
        {"op": "call", "name": "delete_pet", "arguments": {"pet_id": 7}},
        {"op": "elicited"},
    ]);
    let deletes = || {
        up.requests()
            .iter()
            .filter(|s| s.method == "DELETE")
            .map(|s| s.uri.clone())
            .collect::<Vec<_>>()
    };

    for (action, said) in [("decline", "declined"), ("cancel", "cancelled")] {
        let elicit = json!({"action": action}).to_string();
        let r = py_client_with(&gw.url, "auto", &steps, &[("MCP_ELICIT", &elicit)]);
        assert_eq!(r[0]["protocolVersion"], "2026-07-28");
        assert_eq!(r[1]["isError"], true, "{action}: {}", r[1]);
        let text = text(&r[1]);
        assert!(
            text.contains(said) && text.contains("Nothing was sent"),
            "{action}: {text}"
        );
        assert_eq!(r[2], json!(["Delete this pet for good?"]), "{action}");
    }
    let r = py_client(&gw.url, "auto", &json!([steps[0]]));
    assert_eq!(r[1]["error"]["code"], -32021, "{}", r[1]);
    assert!(
        deletes().is_empty(),
        "nothing is sent unless the user agrees"
    );

    let accept = json!({"action": "accept"}).to_string();
    let r = py_client_with(&gw.url, "auto", &steps, &[("MCP_ELICIT", &accept)]);
    assert_eq!(r[1]["isError"], false, "{}", r[1]);
    assert_eq!(r[2], json!(["Delete this pet for good?"]));
    assert_eq!(deletes(), ["/pets/7"]);
}
