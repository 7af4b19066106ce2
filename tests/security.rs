//! Security defaults, each test named for what it prevents: DNS rebinding, public binds
//! without named hosts, arguments that rewrite the upstream path, token passthrough, secrets in
//! logs, oversized requests.

use serde_json::{Value, json};

use mcp_gateway::mcp::http::HttpOptions;

use crate::common::gateway::serve;
use crate::common::in_process::petstore_on;
use crate::common::{bin, path, runtime, upstream, write};

/// POSTs one JSON-RPC message to the gateway the way a 2025-era client does, statelessly.
async fn rpc(url: &str, body: &Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn call(name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

const FILES_SPEC: &str = r#"openapi: 3.0.3
info: {title: Files, version: "1"}
paths:
  /files/{name}:
    get:
      operationId: getFile
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
        - {name: q, in: query, schema: {type: string}}
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
"#;

#[test]
fn dns_rebinding_is_refused_by_host_and_origin_checks() {
    let rt = runtime();
    let (_up, gw) = petstore_on(&rt, HttpOptions::default());
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    rt.block_on(async {
        let (status, _) = rpc(&gw.url, &init, &[("host", "evil.example.com")]).await;
        assert_eq!(status, 403, "a foreign Host header must be refused");
        let (status, _) = rpc(&gw.url, &init, &[("origin", "http://evil.example.com")]).await;
        assert_eq!(status, 403, "a foreign Origin must be refused");
        let (status, body) = rpc(&gw.url, &init, &[("origin", &gw.origin())]).await;
        assert_eq!(status, 200, "the server's own origin is fine: {body}");
    });
}

#[test]
fn a_public_bind_without_named_hosts_is_refused() {
    let out = bin()
        .args([
            "serve",
            "gateways/petstore/gateway.yaml",
            "--listen",
            "0.0.0.0:0",
        ])
        .current_dir(path(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allowed-host"), "{stderr}");
}

#[test]
fn arguments_cannot_change_the_upstream_path_host_or_headers() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "files.yaml", FILES_SPEC);
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: files\nopenapi: files.yaml\nupstream:\n  base_url: ${BASE}/api\ntools:\n  - operation: getFile\n",
    );
    let gw = serve(&manifest, &[], &[("BASE", &up.url())]);
    rt.block_on(async {
        for (name, want) in [
            ("../../admin", "/api/files/..%2F..%2Fadmin"),
            ("a?x=1#frag", "/api/files/a%3Fx%3D1%23frag"),
            ("%2e%2e%2fadmin", "/api/files/%252e%252e%252fadmin"),
            (
                "//evil.example.com/x",
                "/api/files/%2F%2Fevil.example.com%2Fx",
            ),
        ] {
            let (status, body) = rpc(
                &gw.url,
                &call("get_file", json!({"name": name, "q": "a&b=c"})),
                &[],
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(body["result"]["isError"], false, "{body}");
            assert_eq!(up.last().uri, format!("{want}?q=a%26b%3Dc"), "for {name:?}");
        }
        let before = up.requests().len();
        for dots in [".", ".."] {
            let (_, body) = rpc(&gw.url, &call("get_file", json!({"name": dots})), &[]).await;
            assert_eq!(body["result"]["isError"], true, "{body}");
            assert!(
                body["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .contains("would change the upstream path"),
                "{body}"
            );
        }
        let (_, body) = rpc(
            &gw.url,
            &call(
                "get_file",
                json!({"name": "x", "X-Trace": "1\r\nX-Admin: yes"}),
            ),
            &[],
        )
        .await;
        assert_eq!(body["result"]["isError"], true, "{body}");
        assert!(
            body["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("line break"),
            "{body}"
        );
        assert_eq!(
            up.requests().len(),
            before,
            "a header injection attempt must not reach the upstream"
        );
    });
}

#[test]
fn the_callers_token_never_reaches_the_upstream_and_secrets_never_reach_the_logs() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "files.yaml", FILES_SPEC);
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: files\nopenapi: files.yaml\nupstream:\n  base_url: ${BASE}\n  auth: {type: bearer, token: {env: FILES_TOKEN}}\ntools:\n  - operation: getFile\n",
    );
    let gw = serve(
        &manifest,
        &[],
        &[("BASE", &up.url()), ("FILES_TOKEN", "upstream-secret-7f3a")],
    );
    rt.block_on(async {
        let (_, body) = rpc(
            &gw.url,
            &call("get_file", json!({"name": "a"})),
            &[("authorization", "Bearer caller-secret-91c2")],
        )
        .await;
        assert_eq!(body["result"]["isError"], false, "{body}");
    });
    let seen = up.last();
    assert_eq!(seen.headers["authorization"], "Bearer upstream-secret-7f3a");
    assert!(
        !seen
            .headers
            .iter()
            .any(|(_, v)| v.to_str().unwrap_or("").contains("caller-secret")),
        "the MCP caller's token must never be forwarded: {:?}",
        seen.headers
    );
    drop(gw.url.clone());
    let log: Vec<String> = gw.log.try_iter().collect();
    let joined = log.join("\n");
    assert!(
        !joined.contains("upstream-secret") && !joined.contains("caller-secret"),
        "{joined}"
    );
}

#[test]
fn oversized_requests_are_refused_and_health_endpoints_answer() {
    let rt = runtime();
    let (_up, gw) = petstore_on(
        &rt,
        HttpOptions {
            max_body_bytes: 1024,
            ..HttpOptions::default()
        },
    );
    rt.block_on(async {
        let big = call("add_pet", json!({"name": "x".repeat(4096)}));
        let (status, _) = rpc(&gw.url, &big, &[]).await;
        assert_eq!(status, 413);
        let health = reqwest::get(format!("{}/healthz", gw.origin()))
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let ready = reqwest::get(format!("{}/readyz", gw.origin()))
            .await
            .unwrap();
        assert_eq!(ready.status(), 200);
        assert!(
            ready
                .text()
                .await
                .unwrap()
                .contains("ready: petstore (6 tools, generation 1)")
        );
    });
}

#[test]
fn the_fast_path_answers_exactly_as_rmcp_does() {
    // The same calls, once in the plain shape the fast path serves and once with an allowed
    // Origin header, which routes them through rmcp: the JSON-RPC answers must be identical.
    let rt = runtime();
    let (_up, gw) = petstore_on(&rt, HttpOptions::default());
    let origin = gw.origin();
    rt.block_on(async {
        for (name, args) in [
            ("get_pet", json!({"pet_id": 7})),
            ("get_pet", json!({"pet_id": "seven"})),
            ("get_pet", json!({"pet_id": 404})),
            ("find_pets", json!({"status": ["sold"]})),
            ("delete_pet", json!({"pet_id": 1})),
            ("no_such_tool", json!({})),
        ] {
            let (s1, fast) = rpc(&gw.url, &call(name, args.clone()), &[]).await;
            let (s2, slow) = rpc(&gw.url, &call(name, args.clone()), &[("origin", &origin)]).await;
            assert_eq!((s1, &fast), (s2, &slow), "{name} {args}");
        }
    });
}
