//! The gateway's own retries, fault by fault and method by method: a misbehaving upstream (a
//! TCP server of the test's own, so it can drop a connection after reading the request) counts
//! what reached it, and a real rmcp client reads each result's advice and the retry count in
//! its `_meta`. Then idempotency keys (the same key on a retry, a new one per call, never an
//! argument's), `annotations: {idempotent: true}`, a `Retry-After` too long to wait for, and the
//! compile-time checks of `retry:`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::gateway::{Client, client_2025, client_2026, result_text as text, serve};
use crate::common::{compile, runtime, summarize, write};

/// The `_meta` key that carries the number of retries.
const RETRIES: &str = "io.mcp-gateway/retries";

/// Each fault the upstream can play, by path: what it does to every request on it.
const FAULTS: &str = r#"
  /reset: drops the connection after reading the request
  /cut: sends the head of a 200 and part of its body, then drops the connection
  /bad-gateway: 502
  /unavailable: 503
  /gateway-timeout: 504
  /limited-after: 429 with Retry-After 1
  /limited: 429
  /slow: answers after 5 s
  /later: 429 with Retry-After 60
  /far: 503 with Retry-After an HTTP date centuries ahead
  /keyed: 503 to the first request with a given Idempotency-Key or X-Key, then 201
"#;

fn spec() -> String {
    let mut paths = String::new();
    for line in FAULTS.lines().filter(|l| !l.trim().is_empty()) {
        let path = line.trim().split(':').next().unwrap();
        let id = path.trim_start_matches('/').replace('-', "_");
        paths.push_str(&format!(
            "  {path}:\n    get: {{operationId: get_{id}, responses: {{'200': {{description: ok}}}}}}\n    post:\n      operationId: post_{id}\n      parameters: [{{name: Idempotency-Key, in: header, schema: {{type: string}}}}]\n      responses: {{'201': {{description: created}}}}\n"
        ));
    }
    format!("openapi: 3.0.3\ninfo: {{title: Faults, version: '1'}}\npaths:\n{paths}")
}

/// One request as the upstream saw it: `METHOD /path` and its headers (names lowercased).
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct Faulty {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Faulty {
    fn count(&self, line: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.line == line)
            .count()
    }

    fn header(&self, line: &str, name: &str) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.line == line)
            .map(|s| s.headers.get(name).cloned())
            .collect()
    }
}

async fn faulty() -> Faulty {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = Faulty {
        url: format!("http://{}", listener.local_addr().unwrap()),
        ..Faulty::default()
    };
    let seen = up.seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, seen.clone()));
        }
    });
    up
}

/// Reads one request, records it, and plays the fault its path names (one request per
/// connection: every answer says `connection: close`).
async fn answer(mut stream: tokio::net::TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let line = request_line
        .rsplit_once(' ')
        .map_or(request_line, |(l, _)| l)
        .to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < end + 4 + len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let key = headers
        .get("idempotency-key")
        .or_else(|| headers.get("x-key"))
        .cloned();
    let first_with_key = {
        let mut seen = seen.lock().unwrap();
        let first = !seen.iter().any(|s| {
            s.line == line
                && key.is_some()
                && (s.headers.get("idempotency-key") == key.as_ref()
                    || s.headers.get("x-key") == key.as_ref())
        });
        seen.push(Seen {
            line: line.clone(),
            headers,
        });
        first && key.is_some()
    };
    let path = line.split(' ').nth(1).unwrap_or_default();
    let reply = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\n{extra}content-length: 4\r\nconnection: close\r\n\r\nfail")
    };
    let text = match path {
        "/reset" => return,
        "/cut" => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"id\":1".to_string(),
        "/bad-gateway" => reply("502 Bad Gateway", ""),
        "/unavailable" => reply("503 Service Unavailable", ""),
        "/gateway-timeout" => reply("504 Gateway Timeout", ""),
        "/limited-after" => reply("429 Too Many Requests", "retry-after: 1\r\n"),
        "/limited" => reply("429 Too Many Requests", ""),
        "/later" => reply("429 Too Many Requests", "retry-after: 60\r\n"),
        "/far" => reply(
            "503 Service Unavailable",
            "retry-after: Fri, 06 Nov 2999 08:49:37 GMT\r\n",
        ),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            reply("200 OK", "")
        }
        "/keyed" if first_with_key => reply("503 Service Unavailable", ""),
        _ => "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\n{\"id\":1}".to_string(),
    };
    let _ = stream.write_all(text.as_bytes()).await;
}

/// A gateway over the fault spec with `manifest` (after `name`, `openapi`), its folder kept.
fn gateway(
    up: &Faulty,
    manifest: &str,
    args: &[&str],
) -> (tempfile::TempDir, crate::common::gateway::Gateway) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faults.yaml", &spec());
    let path = write(
        dir.path(),
        "gateway.yaml",
        &format!("name: faults\nopenapi: faults.yaml\n{manifest}").replace("{base}", &up.url),
    );
    let gw = serve(&path, args, &[]);
    (dir, gw)
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await
        .expect("a tool result")
}

/// The retry count in the result's `_meta`; absent means none.
fn retries(r: &CallToolResult) -> u64 {
    r.meta
        .as_ref()
        .and_then(|m| m.get(RETRIES))
        .map(|v| v.as_u64().expect("a count"))
        .unwrap_or(0)
}

/// The upstream settings of the matrix: defaults (3 attempts) with short pauses, a timeout
/// far longer than the waits, and the breaker off (its refusals are tested with the limits).
const UPSTREAM: &str = "upstream:\n  base_url: {base}\n  timeout: 20s\n  circuit_breaker: {enabled: false}\n  retry: {base_delay: 10ms, max_delay: 40ms}\n";

#[test]
fn every_fault_and_method_reaches_the_upstream_as_often_as_is_safe_and_says_so() {
    let rt = runtime();
    rt.block_on(async {
        let up = faulty().await;
        let mut tools = String::from("tools:\n");
        for id in ["reset", "cut", "bad_gateway", "unavailable", "gateway_timeout", "limited_after", "limited", "slow"] {
            for m in ["get", "post"] {
                tools.push_str(&format!("  - operation: {m}_{id}\n"));
                if id == "slow" {
                    tools.push_str("    timeout: 300ms\n");
                }
            }
        }
        let (_dir, gw) = gateway(&up, &format!("{UPSTREAM}{tools}"), &["--log-format", "json"]);
        let client = client_2025(&gw.url).await;
        let may_have_acted = |read: &str| format!("The API may have received the request and acted on it (POST is not idempotent): do not call again before checking whether it took effect, for example with `{read}`.");
        // (tool, request line, requests that reached the upstream, retries, advice)
        let cases: Vec<(&str, &str, usize, u64, String)> = vec![
            ("get_reset", "GET /reset", 3, 2, "the connection was closed before an answer arrived. The operation is idempotent, so calling again is safe.".into()),
            ("post_reset", "POST /reset", 1, 0, may_have_acted("get_reset")),
            // The status came, the body did not: said as such, and only a GET is sent again.
            ("get_cut", "GET /cut", 3, 2, "failed after it was sent: the connection was closed partway through the answer. The operation is idempotent, so calling again is safe.".into()),
            ("post_cut", "POST /cut", 1, 0, format!("failed after it was sent: the connection was closed partway through the answer. {}", may_have_acted("get_cut"))),
            ("get_bad_gateway", "GET /bad-gateway", 3, 2, "Upstream answered 502 Bad Gateway. The API failed; the operation is idempotent, so calling again after a pause is safe.".into()),
            ("post_bad_gateway", "POST /bad-gateway", 1, 0, format!("Upstream answered 502 Bad Gateway. The API failed partway. {}", may_have_acted("get_bad_gateway"))),
            ("get_unavailable", "GET /unavailable", 3, 2, "Upstream answered 503 Service Unavailable. The API is unavailable and did not process the call: wait a little and call again.".into()),
            ("post_unavailable", "POST /unavailable", 1, 0, "Upstream answered 503 Service Unavailable. The API is unavailable and did not process the call: wait a little and call again.".into()),
            ("get_gateway_timeout", "GET /gateway-timeout", 3, 2, "Upstream answered 504 Gateway Timeout. The API failed; the operation is idempotent, so calling again after a pause is safe.".into()),
            ("post_gateway_timeout", "POST /gateway-timeout", 1, 0, format!("Upstream answered 504 Gateway Timeout. The API failed partway. {}", may_have_acted("get_gateway_timeout"))),
            ("get_limited_after", "GET /limited-after", 3, 2, "Upstream answered 429 Too Many Requests. The API is limiting the rate of calls and did not process this one: wait 1 second and call again.".into()),
            ("post_limited_after", "POST /limited-after", 1, 0, "Upstream answered 429 Too Many Requests. The API is limiting the rate of calls and did not process this one: wait 1 second and call again.".into()),
            ("get_limited", "GET /limited", 3, 2, "Upstream answered 429 Too Many Requests. The API is limiting the rate of calls and did not process this one: wait a little and call again.".into()),
            ("post_limited", "POST /limited", 1, 0, "Upstream answered 429 Too Many Requests. The API is limiting the rate of calls and did not process this one: wait a little and call again.".into()),
            // The attempt used the whole timeout: no time is left for another.
            ("get_slow", "GET /slow", 1, 0, "did not answer within 300ms. The operation is idempotent, so calling again is safe.".into()),
            ("post_slow", "POST /slow", 1, 0, format!("did not answer within 300ms. {}", may_have_acted("get_slow"))),
        ];
        for (tool, line, sent, retried, advice) in &cases {
            let r = call(&client, tool, json!({})).await;
            let got = text(&r);
            assert_eq!(r.is_error, Some(true), "{tool}: {got}");
            assert!(got.contains(advice.as_str()), "{tool}:\n  got: {got}\n want: {advice}");
            assert_eq!(up.count(line), *sent, "{tool}: requests that reached the upstream");
            assert_eq!(retries(&r), *retried, "{tool}: retries in _meta ({:?})", r.meta);
            if *retried > 0 {
                assert!(got.contains("The gateway made 3 attempts"), "{tool}: {got}");
            }
        }
        let got = text(&call(&client, "get_reset", json!({})).await);
        assert!(got.contains("The gateway made 3 attempts (after reset, reset) before this answer."), "{got}");

        // The log line of a retried call says how many retries, and after what.
        let mut line = None;
        while let Ok(l) = gw.log.recv_timeout(Duration::from_millis(500)) {
            if let Ok(v) = serde_json::from_str::<Value>(&l)
                && v["fields"]["message"] == "tool call"
                && v["fields"]["tool"] == "get_unavailable"
            {
                line = Some(v);
            }
        }
        let line = line.expect("a log line for get_unavailable");
        assert_eq!(line["fields"]["retries"], 2, "{line}");
        assert_eq!(line["fields"]["retried_after"], "503,503", "{line}");
    });
}

#[test]
fn an_idempotency_key_is_kept_across_retries_and_fresh_for_each_call() {
    let rt = runtime();
    let up = rt.block_on(faulty());
    let manifest = format!(
        "{UPSTREAM}  idempotency_key: {{header: Idempotency-Key}}\ntools:\n  - operation: post_keyed\n  - operation: get_keyed\n  - operation: post_unavailable\n    name: tool_key\n    idempotency_key: {{header: X-Key}}\n    retry: {{attempts: 2}}\n"
    );
    let (dir, gw) = gateway(&up, &manifest, &[]);
    // The spec's own `Idempotency-Key` parameter is the gateway's now: not offered, with a
    // warning.
    let warnings = compile(&dir.path().join("gateway.yaml"))
        .result
        .expect("compiles")
        .warnings;
    let owned: Vec<String> = summarize(&warnings)
        .into_iter()
        .filter(|w| w.contains("owned-parameter") && w.contains("POST /keyed"))
        .collect();
    assert_eq!(owned.len(), 1, "{owned:#?}");
    assert!(owned[0].contains("header parameter `Idempotency-Key` of POST /keyed is not offered to the agent: its name is the gateway's idempotency key (`idempotency_key`)"), "{owned:#?}");
    rt.block_on(async {
        for client in [client_2025(&gw.url).await, client_2026(&gw.url).await] {
            let listed = client.list_all_tools().await.unwrap();
            let create = listed.iter().find(|t| t.name == "post_keyed").unwrap();
            assert!(
                create
                    .input_schema
                    .get("properties")
                    .and_then(|p| p.get("Idempotency-Key"))
                    .is_none(),
                "{:?}",
                create.input_schema
            );
            // 503 to the first request with a key, then 201: one retry per call.
            let r = call(&client, "post_keyed", json!({})).await;
            assert_ne!(r.is_error, Some(true), "{}", text(&r));
            assert_eq!(retries(&r), 1);
            // An argument cannot choose the key.
            let r = call(&client, "post_keyed", json!({"Idempotency-Key": "mine"})).await;
            assert_eq!(r.is_error, Some(true));
            assert!(
                text(&r).contains("unknown argument `Idempotency-Key`"),
                "{}",
                text(&r)
            );
        }
        let keys: Vec<String> = up
            .header("POST /keyed", "idempotency-key")
            .into_iter()
            .map(|k| k.expect("every request carries a key"))
            .collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(keys[0], keys[1], "a retry carries its call's key");
        assert_eq!(keys[2], keys[3], "a retry carries its call's key");
        assert_ne!(keys[0], keys[2], "each call gets its own key");
        assert!(
            keys.iter()
                .all(|k| k.len() == 36 && k.as_bytes()[14] == b'4'),
            "UUIDv4: {keys:?}"
        );

        // The upstream's key goes with methods that are not idempotent only.
        let client = client_2025(&gw.url).await;
        call(&client, "get_keyed", json!({})).await;
        assert_eq!(up.header("GET /keyed", "idempotency-key"), vec![None]);

        // A tool's own key header (and `retry:`), in place of the upstream's.
        let r = call(&client, "tool_key", json!({})).await;
        assert_eq!(up.count("POST /unavailable"), 2, "attempts: 2");
        assert_eq!(retries(&r), 1);
        let sent = up.header("POST /unavailable", "x-key");
        assert!(sent[0].is_some() && sent[0] == sent[1], "{sent:?}");
        assert_eq!(
            up.header("POST /unavailable", "idempotency-key"),
            vec![None, None]
        );
        // The agent is not told a new call is safe: it would get a new key.
        assert!(
            text(&r).contains("wait a little and call again"),
            "{}",
            text(&r)
        );
    });
}

#[test]
fn an_annotation_makes_a_post_retry_safe_and_a_tool_retry_overrides_the_upstream() {
    let rt = runtime();
    rt.block_on(async {
        let up = faulty().await;
        let manifest = format!(
            "{UPSTREAM}tools:\n  - operation: post_bad_gateway\n    annotations: {{idempotent: true}}\n  - operation: get_gateway_timeout\n    retry: {{attempts: 1}}\n  - operation: get_unavailable\n    retry: {{attempts: 5}}\n"
        );
        let (_dir, gw) = gateway(&up, &manifest, &[]);
        let client = client_2025(&gw.url).await;
        let r = call(&client, "post_bad_gateway", json!({})).await;
        assert_eq!(up.count("POST /bad-gateway"), 3);
        assert_eq!(retries(&r), 2);
        assert!(text(&r).contains("the operation is idempotent, so calling again after a pause is safe"), "{}", text(&r));
        let r = call(&client, "get_gateway_timeout", json!({})).await;
        assert_eq!(up.count("GET /gateway-timeout"), 1, "attempts: 1 turns retries off");
        assert_eq!(retries(&r), 0);
        assert!(r.meta.is_none(), "no _meta without retries: {:?}", r.meta);
        let r = call(&client, "get_unavailable", json!({})).await;
        assert_eq!(up.count("GET /unavailable"), 5);
        assert_eq!(retries(&r), 4);
    });
}

#[test]
fn a_retry_after_beyond_the_cap_or_the_timeout_is_not_waited_for_and_the_agent_is_told_how_long() {
    let rt = runtime();
    rt.block_on(async {
        let up = faulty().await;
        // `later` asks for 60 s: over the 5 s default cap. `limited_after` asks for 1 s, within
        // its cap but not within its 1 s timeout. `far` asks for a date centuries ahead.
        let manifest = format!(
            "{UPSTREAM}tools:\n  - operation: get_later\n  - operation: get_limited_after\n    timeout: 1s\n  - operation: get_far\n    retry: {{max_retry_after: 1h}}\n"
        );
        let (_dir, gw) = gateway(&up, &manifest, &[]);
        let client = client_2026(&gw.url).await;
        for (tool, line, wait) in [
            ("get_later", "GET /later", "wait 60 seconds and call again"),
            ("get_limited_after", "GET /limited-after", "wait 1 second and call again"),
            ("get_far", "GET /far", "wait 86400 seconds and call again"),
        ] {
            let r = call(&client, tool, json!({})).await;
            assert_eq!(up.count(line), 1, "{tool}: not sent again");
            assert_eq!(retries(&r), 0, "{tool}");
            assert!(text(&r).contains(wait), "{tool}: {}", text(&r));
        }
    });
}

#[test]
fn retry_settings_are_checked_at_compile_time() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faults.yaml", &spec());
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: faults\nopenapi: faults.yaml\nupstream:\n  base_url: http://127.0.0.1:1\n  retries: 2\n  retry: {base_delay: 99999999999999999999h, max_delay: 1s}\n  idempotency_key: {header: Authorization}\ntools:\n  - operation: post_limited\n    retry: {attempts: 4, base_delay: 3s}\n  - operation: get_limited\n    idempotency_key: {header: 'bad header'}\n",
    );
    let diags = match compile(&manifest).result {
        Ok(c) => panic!("compiled: {:#?}", summarize(&c.warnings)),
        Err(d) => summarize(&d),
    };
    assert_eq!(
        diags,
        [
            "Warning deprecated @ upstream.retries 5:3: `upstream.retries` is deprecated | help: write `retry: {attempts: 3}` (the first call included)",
            "Error invalid-duration @ upstream.retry.base_delay 6:23: `99999999999999999999h` is not a duration (number is too large or cannot be represented without a lack of precision (values below 1ns are not supported)) | help: write e.g. `200ms` or `2s`",
            "Error invalid-header @ upstream.idempotency_key.header 7:29: the idempotency key cannot go in `Authorization`: it is a header of the HTTP message that only the gateway sets | help: name the header the API reads its key from, e.g. `Idempotency-Key`",
            "Warning retry-unsafe @ tools[0].retry.attempts 10:23: `post_limited` (POST is not idempotent) is never sent again once the request may have reached the API, so `attempts: 4` only covers a connection that could not be made | help: if the API deduplicates by key, add `idempotency_key: {header: Idempotency-Key}`; if repeating the call is harmless, add `annotations: {idempotent: true}`",
            // The upstream did not compile: the tool's delays are checked against the defaults.
            "Error invalid-retry @ tools[0].retry.base_delay 10:38: `base_delay` (3s) is longer than `max_delay` (2s), so every pause would be cut to `max_delay` | help: make `max_delay` at least `base_delay`",
            "Error invalid-header @ tools[1].idempotency_key.header 12:31: `bad header` is not a valid header name | help: name the header the API reads its key from, e.g. `Idempotency-Key`",
        ]
    );
}

#[test]
fn an_out_of_range_value_in_an_optional_section_is_named_not_the_section() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faults.yaml", &spec());
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: faults\nopenapi: faults.yaml\nupstream:\n  retry: {attempts: 0}\n  circuit_breaker: {consecutive_failures: 0}\ntools:\n  - operation: get_limited\n    retry: {attempts: 11}\n",
    );
    let diags = match compile(&manifest).result {
        Ok(c) => panic!("compiled: {:#?}", summarize(&c.warnings)),
        Err(d) => summarize(&d),
    };
    assert_eq!(
        diags,
        [
            "Error invalid-value @ upstream.retry.attempts 4:21: 0 is less than the minimum of 1",
            "Error invalid-value @ upstream.circuit_breaker.consecutive_failures 5:43: 0 is less than the minimum of 1",
            "Error invalid-value @ tools[0].retry.attempts 8:23: 11 is greater than the maximum of 10",
        ]
    );
}

/// An upstream that answers `200 {}` to every request on keep-alive connections, counting the
/// connections it accepts.
async fn keep_alive() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..i + 4);
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if stream.write_all(ok).await.is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    (url, accepted)
}

#[test]
fn an_idle_upstream_connection_is_not_reused_after_the_idle_timeout() {
    let rt = runtime();
    let (url, accepted) = rt.block_on(keep_alive());
    let up = Faulty {
        url,
        ..Faulty::default()
    };
    // Two calls 600 ms apart: a new connection when idle ones are dropped after 100 ms, the
    // same one when they are kept for a minute.
    for (idle, connections) in [("100ms", 2), ("60s", 1)] {
        accepted.store(0, std::sync::atomic::Ordering::SeqCst);
        let (_dir, gw) = gateway(
            &up,
            &format!("{UPSTREAM}tools:\n  - operation: get_limited\n"),
            &["--upstream-idle-timeout", idle],
        );
        rt.block_on(async {
            let client = client_2025(&gw.url).await;
            for _ in 0..2 {
                let r = call(&client, "get_limited", json!({})).await;
                assert_ne!(r.is_error, Some(true), "{}", text(&r));
                tokio::time::sleep(Duration::from_millis(600)).await;
            }
        });
        assert_eq!(
            accepted.load(std::sync::atomic::Ordering::SeqCst),
            connections,
            "--upstream-idle-timeout {idle}"
        );
    }
}
