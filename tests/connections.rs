//! No connection can hold the gateway: slow request heads are closed, idle keep-alive
//! connections are not mistaken for slow ones, a flood of idle connections under a low
//! open-files limit does not stop a normal call, and SIGTERM drains the way a load balancer
//! needs (readiness fails first, calls in flight finish, a stuck client cannot keep the process
//! up past the drain deadline).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::gateway::{Gateway, petstore, start};
use crate::common::{path, runtime, upstream, write};

fn call(id: u64, name: &str, args: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}}).to_string()
}

/// A complete HTTP/1.1 POST of `body` to `/mcp`, keeping the connection open.
fn post(host: &str, body: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one response (head + content-length body) from `s`.
async fn response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.expect("the response is readable");
        assert!(n > 0, "the connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(i) = text.find("\r\n\r\n") {
            let len: usize = text[..i]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= i + 4 + len {
                return text;
            }
        }
    }
}

/// Whether the server closes `s` within `limit` (a read returns end of stream or a reset).
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    read.await.is_ok()
}

fn authority(gw: &Gateway) -> String {
    gw.origin().trim_start_matches("http://").to_string()
}

#[test]
fn a_slow_request_head_is_closed_but_an_idle_keep_alive_connection_is_not() {
    let rt = runtime();
    let (_up, gw) = petstore(&rt, &["--header-timeout", "1s", "--idle-timeout", "30s"]);
    let addr = authority(&gw);
    rt.block_on(async {
        // Half a request head, then nothing: closed after the header timeout.
        let mut slow = TcpStream::connect(&addr).await.unwrap();
        slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        let started = Instant::now();
        assert!(
            closed_within(&mut slow, Duration::from_secs(10)).await,
            "a half-sent request head must not hold the connection"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "closed before the timeout"
        );
        // A connection that says nothing at all is held to the same timeout.
        let mut silent = TcpStream::connect(&addr).await.unwrap();
        assert!(closed_within(&mut silent, Duration::from_secs(10)).await);

        // A client that finished its request and waits between calls keeps its connection
        // past the header timeout (it is idle, not slow).
        let mut agent = TcpStream::connect(&addr).await.unwrap();
        agent
            .write_all(post("127.0.0.1", &call(1, "get_pet", json!({"pet_id": 1}))).as_bytes())
            .await
            .unwrap();
        assert!(response(&mut agent).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        agent
            .write_all(post("127.0.0.1", &call(2, "get_pet", json!({"pet_id": 2}))).as_bytes())
            .await
            .unwrap();
        let second = response(&mut agent).await;
        assert!(second.starts_with("HTTP/1.1 200"), "{second}");
        assert!(second.contains("\"id\":2"), "{second}");
    });
}

#[test]
fn a_flood_of_idle_connections_under_a_low_file_limit_does_not_stop_a_call() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    // 256 open files leave room for (256 - 64) / 2 = 96 connections.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_mcp-gateway"))
        .arg("serve")
        .arg(path("gateways/petstore/gateway.yaml"))
        .args(["--listen", "127.0.0.1:0"])
        .env("PETSTORE_BASE_URL", up.url());
    let gw = start(cmd);
    let addr = authority(&gw);
    rt.block_on(async {
        let mut flood = Vec::new();
        for i in 0..300 {
            let mut s = TcpStream::connect(&addr)
                .await
                .expect("the listener accepts");
            if i % 2 == 0 {
                // Half of them start a request head and stall.
                let _ = s
                    .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .await;
            }
            flood.push(s);
        }
        for id in 1..=10 {
            let resp = reqwest::Client::new()
                .post(&gw.url)
                .timeout(Duration::from_secs(10))
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(call(id, "get_pet", json!({"pet_id": id})))
                .send()
                .await
                .expect("a normal call connects");
            assert_eq!(resp.status(), 200);
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["result"]["isError"], false, "{body}");
        }
        drop(flood);
    });
    assert_eq!(up.requests().len(), 10);
}

const SLOW_SPEC: &str = r#"openapi: 3.0.3
info: {title: Slow, version: "1"}
paths:
  /slow:
    get:
      operationId: slow
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object}}}
"#;

/// A gateway serving the one `slow` tool of [`slow_upstream`] with `args`; its files live as
/// long as the directory returned.
fn slow_gateway(rt: &tokio::runtime::Runtime, args: &[&str]) -> (Gateway, tempfile::TempDir) {
    let base = rt.block_on(slow_upstream());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "slow.yaml", SLOW_SPEC);
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: slow\nopenapi: slow.yaml\nupstream:\n  base_url: ${BASE}\ntools:\n  - operation: slow\n",
    );
    let gw = crate::common::gateway::serve(&manifest, args, &[("BASE", &base)]);
    (gw, dir)
}

/// An upstream whose `/slow` answers after 1.5 s.
async fn slow_upstream() -> String {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            axum::Json(json!({"done": true}))
        }),
    );
    crate::common::upstream::serve_app(app).await
}

#[test]
fn sigterm_fails_readiness_finishes_calls_in_flight_and_exits_by_the_deadline() {
    let rt = runtime();
    let (mut gw, _dir) = slow_gateway(
        &rt,
        &[
            "--shutdown-grace",
            "1s",
            "--drain-timeout",
            "3s",
            "--header-timeout",
            "60s",
        ],
    );
    let addr = authority(&gw);
    let origin = gw.origin();
    let url = gw.url.clone();
    let pid = gw.pid();
    let stuck = rt.block_on(async {
        // A client stuck in the middle of a request head.
        let mut stuck = TcpStream::connect(&addr).await.unwrap();
        stuck
            .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        // Two calls in flight when the signal arrives.
        let calls: Vec<_> = (0..2)
            .map(|id| {
                let url = url.clone();
                tokio::spawn(async move {
                    let resp = reqwest::Client::new()
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("accept", "application/json, text/event-stream")
                        .body(call(id, "slow", json!({})))
                        .send()
                        .await
                        .expect("the call in flight is answered");
                    (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ready = reqwest::get(format!("{origin}/readyz")).await.unwrap();
        assert_eq!(ready.status(), 200);
        let killed = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::time::sleep(Duration::from_millis(200)).await;
        // During the grace the listener still accepts, and readiness says to stop routing.
        let ready = reqwest::get(format!("{origin}/readyz")).await.unwrap();
        assert_eq!(ready.status(), 503);
        assert!(ready.text().await.unwrap().contains("draining"));
        for c in calls {
            let (status, body) = c.await.unwrap();
            assert_eq!(status, 200);
            assert_eq!(body["result"]["isError"], false, "{body}");
            assert_eq!(body["result"]["structuredContent"]["done"], true, "{body}");
        }
        stuck
    });
    // Grace (1 s) + drain deadline (3 s): the stuck client cannot keep it up longer.
    let status = gw
        .wait_exit(Duration::from_secs(8))
        .expect("the gateway exits by the drain deadline");
    assert!(status.success(), "{status:?}");
    drop(stuck);
    let log: Vec<String> = gw.log.try_iter().collect();
    let log = log.join("\n");
    assert!(log.contains("shutting down"), "{log}");
}

/// The 2026-07-28 headers of a `method` request.
fn h2026(req: reqwest::RequestBuilder, method: &str) -> reqwest::RequestBuilder {
    req.header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
}

/// Opens a 2026-07-28 `subscriptions/listen` stream for tool list changes, with JSON-RPC id
/// `id`.
async fn listen(http: &reqwest::Client, url: &str, id: &str) -> reqwest::Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen", "params": {
        "notifications": {"toolsListChanged": true},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    }});
    h2026(http.post(url), "subscriptions/listen")
        .body(body.to_string())
        .send()
        .await
        .expect("the listen request is answered")
}

/// Reads `resp`'s body until it ends (or `limit` passes), appending it to `seen`; whether it
/// ended.
async fn read_to_end(resp: &mut reqwest::Response, seen: &mut String, limit: Duration) -> bool {
    tokio::time::timeout(limit, async {
        while let Ok(Some(chunk)) = resp.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .is_ok()
}

/// What rmcp answers drains like what the fast path answers. At SIGTERM a call reporting
/// progress (an SSE answer rmcp writes) still gets its result when the upstream answers, and
/// a 2026-07-28 `subscriptions/listen` stream ends with the final result naming its
/// subscription, which tells the client the server ended it on purpose (a cut stream reads as
/// lost). A listen stream its client closed leaves no ERROR line in the log.
#[test]
fn sigterm_finishes_what_rmcp_answers_and_ends_listen_streams_with_their_result() {
    let rt = runtime();
    let (mut gw, _dir) = slow_gateway(&rt, &["--shutdown-grace", "0s", "--drain-timeout", "5s"]);
    let (url, pid) = (gw.url.clone(), gw.pid());
    rt.block_on(async {
        let http = reqwest::Client::new();
        // A listen stream its client closes once it is acknowledged.
        let mut gone = listen(&http, &url, "gone").await;
        assert_eq!(gone.status(), 200);
        gone.chunk().await.unwrap().expect("the acknowledgment");
        drop(gone);
        // A listen stream open when the signal arrives, acknowledged first.
        let mut open = listen(&http, &url, "L1").await;
        assert_eq!(open.status(), 200);
        let mut streamed = String::new();
        while !streamed.contains("notifications/subscriptions/acknowledged") {
            let chunk = open.chunk().await.unwrap().expect("the acknowledgment");
            streamed.push_str(&String::from_utf8_lossy(&chunk));
        }
        // A call asking for progress, which rmcp answers as a stream.
        let progress = tokio::spawn({
            let (http, url) = (http.clone(), url.clone());
            async move {
                let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
                    "name": "slow", "arguments": {}, "_meta": {"progressToken": "p7"},
                }});
                let resp = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("the call in flight is answered");
                (
                    resp.status().as_u16(),
                    resp.text().await.unwrap_or_default(),
                )
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let killed = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());

        assert!(
            read_to_end(&mut open, &mut streamed, Duration::from_secs(5)).await,
            "the listen stream ends at stop: {streamed}"
        );
        let last = crate::common::sse_messages(&streamed)
            .pop()
            .unwrap_or_default();
        assert_eq!(last["id"], "L1", "{streamed}");
        assert_eq!(last["result"]["resultType"], "complete", "{streamed}");
        assert_eq!(
            last["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "L1",
            "{streamed}"
        );

        let (status, text) = progress.await.unwrap();
        assert_eq!(status, 200, "{text}");
        let messages = crate::common::sse_messages(&text);
        let result = messages
            .iter()
            .find(|m| m["id"] == 7)
            .unwrap_or_else(|| panic!("the call's result arrives: {text}"));
        assert_eq!(result["result"]["isError"], false, "{text}");
        assert_eq!(
            result["result"]["structuredContent"]["done"], true,
            "{text}"
        );
    });
    let status = gw
        .wait_exit(Duration::from_secs(8))
        .expect("the gateway exits once the call is answered");
    assert!(status.success(), "{status:?}");
    crate::common::gateway::assert_no_error_lines(&gw.log.try_iter().collect::<Vec<_>>());
}
