//! Operating the gateway: per-call metrics at `/metrics`, one log line per call, throttled
//! failure warnings, and the limits (per-caller and per-tool rate limits, the upstream's
//! concurrency cap, its circuit breaker, retries). Real binary, real MCP clients (rmcp, both
//! eras), real HTTP upstreams.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::response::IntoResponse as _;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::{Value, json};

use crate::common::gateway::{
    Client, Gateway, client_2025, client_2026, result_text as text, serve,
};
use crate::common::upstream;
use crate::common::{path, runtime};

/// A gateway folder in a temp dir: the petstore spec and `manifest` (its `{base}` replaced).
fn fixture(base_url: &str, manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        path("gateways/petstore/openapi.yaml"),
        dir.path().join("openapi.yaml"),
    )
    .expect("spec copied");
    std::fs::write(
        dir.path().join("gateway.yaml"),
        manifest.replace("{base}", base_url),
    )
    .expect("manifest written");
    dir
}

const PETSTORE: &str =
    "format: 1\nname: petstore\nopenapi: openapi.yaml\nupstream:\n  base_url: {base}\n";
const TOOLS: &str = "tools:\n  - operation: getPetById\n    name: get_pet\n  - operation: listPets\n    name: find_pets\n";

fn start(
    base_url: &str,
    upstream_extra: &str,
    rest: &str,
    args: &[&str],
) -> (tempfile::TempDir, Gateway) {
    let dir = fixture(
        base_url,
        &format!("{PETSTORE}{upstream_extra}{TOOLS}{rest}"),
    );
    let gw = serve(&dir.path().join("gateway.yaml"), args, &[]);
    (dir, gw)
}

async fn call(client: &Client, tool: &str, args: Value) -> Result<CallToolResult, String> {
    client
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await
        .map_err(|e| e.to_string())
}

async fn get_pet(client: &Client, id: i64) -> CallToolResult {
    call(client, "get_pet", json!({"petId": id}))
        .await
        .expect("a tool result")
}

async fn metrics(gw: &Gateway) -> String {
    reqwest::get(format!("{}/metrics", gw.origin()))
        .await
        .expect("the gateway answers")
        .text()
        .await
        .expect("text")
}

/// The value of the series written exactly as `series` (name and labels), or 0 when absent.
fn value(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(0.0)
}

/// Log lines received so far (waiting `settle` for late ones).
fn drain(gw: &Gateway, settle: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    while let Ok(l) = gw.log.recv_timeout(settle) {
        lines.push(l);
    }
    lines
}

#[test]
fn workers_sets_the_threads_that_serve_calls() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        for n in [1, 3] {
            let (_dir, gw) = start(&up.url(), "", "", &["--workers", &n.to_string()]);
            let client = client_2026(&gw.url).await;
            assert_ne!(get_pet(&client, 1).await.is_error, Some(true));
            let m = metrics(&gw).await;
            assert_eq!(
                value(&m, "mcp_gateway_runtime_workers"),
                f64::from(n),
                "{m}"
            );
        }
    });
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-gateway"))
        .args(["serve", "--workers", "0"])
        .arg(path("gateways/petstore/gateway.yaml"))
        .output()
        .expect("the binary runs");
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--workers") && err.contains("0"), "{err}");
}

#[test]
fn metrics_count_calls_by_tool_result_and_era() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (_dir, gw) = start(&up.url(), "", "", &[]);
        let old = client_2025(&gw.url).await;
        let new = client_2026(&gw.url).await;
        assert_ne!(get_pet(&old, 1).await.is_error, Some(true));
        assert_ne!(get_pet(&old, 2).await.is_error, Some(true));
        assert_eq!(get_pet(&old, 404).await.is_error, Some(true));
        assert_eq!(get_pet(&new, 500).await.is_error, Some(true));
        assert_ne!(get_pet(&new, 3).await.is_error, Some(true));
        assert!(call(&new, "no_such_tool", json!({})).await.is_err());
        assert!(call(&old, "get_pet", json!({"petId": "x"})).await.unwrap().is_error == Some(true));

        let m = metrics(&gw).await;
        let calls = |tool: &str, result: &str, era: &str| {
            value(
                &m,
                &format!("mcp_gateway_calls_total{{gateway=\"petstore\",tool=\"{tool}\",result=\"{result}\",era=\"{era}\"}}"),
            )
        };
        assert_eq!(calls("get_pet", "ok", "2025"), 2.0, "{m}");
        assert_eq!(calls("get_pet", "tool-error", "2025"), 2.0, "404 and bad arguments\n{m}");
        assert_eq!(calls("get_pet", "ok", "2026"), 1.0, "{m}");
        assert_eq!(calls("get_pet", "tool-error", "2026"), 1.0, "{m}");
        assert_eq!(calls("_unknown", "protocol-error", "2026"), 1.0, "{m}");
        // The unknown name itself never becomes a label.
        assert!(!m.contains("no_such_tool"), "{m}");
        assert_eq!(calls("find_pets", "ok", "2025"), 0.0);
        assert!(m.contains("mcp_gateway_calls_total{gateway=\"petstore\",tool=\"find_pets\",result=\"ok\",era=\"2025\"} 0"), "tools of the manifest are listed before their first call\n{m}");

        let get = "gateway=\"petstore\",tool=\"get_pet\"";
        assert_eq!(value(&m, &format!("mcp_gateway_call_duration_seconds_count{{{get}}}")), 6.0, "{m}");
        assert_eq!(value(&m, &format!("mcp_gateway_call_duration_seconds_bucket{{{get},le=\"+Inf\"}}")), 6.0);
        assert_eq!(value(&m, &format!("mcp_gateway_upstream_duration_seconds_count{{{get}}}")), 5.0, "bad arguments send nothing\n{m}");
        assert_eq!(value(&m, &format!("mcp_gateway_upstream_responses_total{{{get},class=\"2xx\"}}")), 3.0);
        assert_eq!(value(&m, &format!("mcp_gateway_upstream_responses_total{{{get},class=\"4xx\"}}")), 1.0);
        assert_eq!(value(&m, &format!("mcp_gateway_upstream_responses_total{{{get},class=\"5xx\"}}")), 1.0);
        assert_eq!(value(&m, "mcp_gateway_calls_in_flight{gateway=\"petstore\"}"), 0.0);
        assert_eq!(value(&m, "mcp_gateway_circuit_breaker_state{gateway=\"petstore\",state=\"closed\"}"), 1.0, "{m}");
        // The existing configuration series are kept.
        assert_eq!(value(&m, "mcp_gateway_config_generation{gateway=\"petstore\"}"), 1.0);
        // Every family is declared once, before its series.
        for family in ["mcp_gateway_calls_total", "mcp_gateway_call_duration_seconds", "mcp_gateway_reloads_total"] {
            assert_eq!(m.matches(&format!("# TYPE {family} ")).count(), 1, "{m}");
        }
        assert_eq!(up.requests().len(), 5);
    });
}

#[test]
fn every_call_logs_one_line_without_argument_values() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (_dir, gw) = start(&up.url(), "", "", &["--log-format", "json"]);
        let client = client_2025(&gw.url).await;
        drain(&gw, Duration::from_millis(200));
        get_pet(&client, 424242).await;
        get_pet(&client, 404).await;
        let lines: Vec<Value> = drain(&gw, Duration::from_millis(500))
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &Value| v["fields"]["message"] == "tool call")
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let f = &lines[0]["fields"];
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(f["gateway"], "petstore");
        assert_eq!(f["tool"], "get_pet");
        assert_eq!(f["method"], "GET");
        assert_eq!(f["path"], "/pets/{petId}");
        assert_eq!(f["status"], 200);
        assert_eq!(f["result"], "ok");
        assert_eq!(f["retries"], 0);
        assert_eq!(f["era"], "2025");
        assert_eq!(f["client"], "127.0.0.1");
        assert!(
            f["duration_ms"].as_f64().is_some() && f["upstream_ms"].as_f64().is_some(),
            "{f}"
        );
        assert!(
            !lines[0].to_string().contains("424242"),
            "an argument value was logged: {}",
            lines[0]
        );
        assert_eq!(lines[1]["fields"]["status"], 404);
        assert_eq!(lines[1]["fields"]["result"], "tool-error");
    });
}

/// A loopback address nothing listens on.
async fn dead_address() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[test]
fn identical_upstream_failures_are_logged_once_with_a_count() {
    let rt = runtime();
    rt.block_on(async {
        let dead = dead_address().await;
        let (_dir, gw) = start(
            &format!("http://{dead}"),
            "  circuit_breaker: {enabled: false}\n",
            "",
            &[],
        );
        let client = client_2025(&gw.url).await;
        drain(&gw, Duration::from_millis(200));
        for i in 1..21 {
            let r = get_pet(&client, i).await;
            assert_eq!(r.is_error, Some(true));
            assert!(text(&r).contains("Could not connect"), "{}", text(&r));
        }
        let log = drain(&gw, Duration::from_millis(500));
        let warnings: Vec<&String> = log.iter().filter(|l| l.contains("upstream call failed")).collect();
        assert_eq!(warnings.len(), 1, "{log:#?}");
        assert_eq!(log.iter().filter(|l| l.contains("tool call")).count(), 20, "{log:#?}");
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_upstream_responses_total{gateway=\"petstore\",tool=\"get_pet\",class=\"none\"}"), 20.0, "{m}");
    });
}

#[test]
fn a_caller_over_its_rate_limit_is_told_how_long_to_wait() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (_dir, gw) = start(
            &up.url(),
            "",
            "limits:\n  per_caller: {requests: 2, per: 1m}\n",
            &[],
        );
        let client = client_2025(&gw.url).await;
        assert_ne!(get_pet(&client, 1).await.is_error, Some(true));
        assert_ne!(call(&client, "find_pets", json!({})).await.unwrap().is_error, Some(true));
        let third = get_pet(&client, 3).await;
        assert_eq!(third.is_error, Some(true));
        let t = text(&third);
        assert!(t.starts_with("Rate limit: the client at 127.0.0.1 may make 2 calls per 1m; wait "), "{t}");
        assert!(t.contains("Nothing was sent"), "{t}");
        assert_eq!(up.requests().len(), 2, "the refused call never went upstream");
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_limited_total{gateway=\"petstore\",tool=\"get_pet\",limit=\"caller_rate\"}"), 1.0, "{m}");
    });
}

#[test]
fn a_tool_over_its_rate_limit_is_refused_for_every_caller() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let dir = fixture(
            &up.url(),
            &format!("{PETSTORE}tools:\n  - operation: getPetById\n    name: get_pet\n    rate_limit: {{requests: 1, per: 1h}}\n  - operation: listPets\n    name: find_pets\n"),
        );
        let gw = serve(&dir.path().join("gateway.yaml"), &[], &[]);
        let a = client_2025(&gw.url).await;
        let b = client_2026(&gw.url).await;
        assert_ne!(get_pet(&a, 1).await.is_error, Some(true));
        let refused = get_pet(&b, 2).await;
        assert_eq!(refused.is_error, Some(true));
        assert!(text(&refused).starts_with("Rate limit: `get_pet` may be called 1 times per 1h; wait "), "{}", text(&refused));
        // Other tools are not limited.
        assert_ne!(call(&b, "find_pets", json!({})).await.unwrap().is_error, Some(true));
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_limited_total{gateway=\"petstore\",tool=\"get_pet\",limit=\"tool_rate\"}"), 1.0, "{m}");
    });
}

#[test]
fn calls_past_the_concurrency_cap_queue_then_hear_the_api_is_saturated() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (_dir, gw) = start(
            &up.url(),
            "  max_concurrent: 1\n  queue_timeout: 300ms\n  timeout: 2s\n",
            "",
            &[],
        );
        let slow_client = client_2025(&gw.url).await;
        let client = client_2025(&gw.url).await;
        // /pets/777 answers after 5 s: it holds the only slot until its 2 s timeout.
        let slow = tokio::spawn(async move { get_pet(&slow_client, 777).await });
        let until = Instant::now() + Duration::from_secs(5);
        while up.requests().is_empty() {
            assert!(Instant::now() < until, "the slow call never reached the upstream");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_upstream_in_flight{gateway=\"petstore\"}"), 1.0, "{m}");
        let queued = get_pet(&client, 1).await;
        assert_eq!(queued.is_error, Some(true));
        let t = text(&queued);
        assert!(t.contains("is saturated: 1 calls to it are already in flight and this one waited 0.3s for a slot"), "{t}");
        assert_eq!(up.requests().len(), 1, "the queued call was never sent");
        let slow = slow.await.unwrap();
        assert!(text(&slow).contains("did not answer within 2s"), "{}", text(&slow));
        // The slot is free again.
        assert_ne!(get_pet(&client, 2).await.is_error, Some(true));
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_limited_total{gateway=\"petstore\",tool=\"get_pet\",limit=\"saturated\"}"), 1.0, "{m}");
        assert_eq!(value(&m, "mcp_gateway_upstream_timeouts_total{gateway=\"petstore\",tool=\"get_pet\"}"), 1.0, "{m}");
    });
}

/// An upstream on `addr` whose `GET /pets/{id}` answers 503 to the first `failures` requests,
/// then 200; counts requests.
async fn flaky(addr: std::net::SocketAddr, failures: u64) -> Arc<AtomicU64> {
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/pets/{id}",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < failures {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                } else {
                    axum::Json(json!({"id": 1, "name": "Rex"})).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the port is free again");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    seen
}

#[test]
fn a_failing_upstream_opens_the_breaker_which_probes_and_closes() {
    let rt = runtime();
    rt.block_on(async {
        let dead = dead_address().await;
        let (_dir, gw) = start(
            &format!("http://{dead}"),
            "  circuit_breaker: {consecutive_failures: 2, open_for: 1s}\n",
            "",
            &[],
        );
        let client = client_2025(&gw.url).await;
        for i in 1..3 {
            assert!(text(&get_pet(&client, i).await).contains("Could not connect"));
        }
        let open = get_pet(&client, 3).await;
        assert_eq!(open.is_error, Some(true));
        let t = text(&open);
        assert!(t.contains("is failing, so the gateway has stopped calling it for a while. Nothing was sent; retry in "), "{t}");
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_circuit_breaker_state{gateway=\"petstore\",state=\"open\"}"), 1.0, "{m}");
        assert_eq!(value(&m, "mcp_gateway_limited_total{gateway=\"petstore\",tool=\"get_pet\",limit=\"circuit_open\"}"), 1.0, "{m}");
        // The upstream comes back; after `open_for` one probe goes through and closes it.
        let seen = flaky(dead, 0).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_circuit_breaker_state{gateway=\"petstore\",state=\"half_open\"}"), 1.0, "{m}");
        assert_ne!(get_pet(&client, 4).await.is_error, Some(true));
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        let m = metrics(&gw).await;
        assert_eq!(value(&m, "mcp_gateway_circuit_breaker_state{gateway=\"petstore\",state=\"closed\"}"), 1.0, "{m}");
    });
}

#[test]
fn idempotent_calls_are_retried_after_a_503_when_configured() {
    let rt = runtime();
    rt.block_on(async {
        let addr = dead_address().await;
        let seen = flaky(addr, 2).await;
        let (_dir, gw) = start(
            &format!("http://{addr}"),
            "  retry: {attempts: 3, base_delay: 10ms}\n",
            "",
            &["--log-format", "json"],
        );
        let client = client_2025(&gw.url).await;
        let r = get_pet(&client, 1).await;
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        let m = metrics(&gw).await;
        assert_eq!(
            value(
                &m,
                "mcp_gateway_upstream_retries_total{gateway=\"petstore\",tool=\"get_pet\"}"
            ),
            2.0,
            "{m}"
        );
        let line = drain(&gw, Duration::from_millis(300))
            .into_iter()
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .find(|v| v["fields"]["message"] == "tool call")
            .expect("a call line");
        assert_eq!(line["fields"]["retries"], 2);
        assert_eq!(line["fields"]["status"], 200);
    });
}

#[test]
fn limits_in_the_manifest_are_checked_at_compile_time() {
    let dir = fixture(
        "http://127.0.0.1:1",
        &format!(
            "{PETSTORE}  queue_timeout: 0s\n{TOOLS}limits:\n  per_caller: {{requests: 5, per: 0s}}\n"
        ),
    );
    let out = crate::common::run_in(dir.path(), &["validate", "gateway.yaml"]);
    let stderr =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in [
        "a timeout of zero would fail every call",
        "at: upstream.queue_timeout",
        "a period of zero would fail every call",
        "at: limits.per_caller.per",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

/// An OTLP/HTTP receiver: collects the spans of every `POST /v1/traces` (OTLP/JSON).
async fn otlp_receiver() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    let spans = Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::Json<Value>| {
            let store = store.clone();
            async move {
                for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                    assert_eq!(
                        rs["resource"]["attributes"][0],
                        json!({"key": "service.name", "value": {"stringValue": "gw-under-test"}})
                    );
                    for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                        for s in ss["spans"].as_array().into_iter().flatten() {
                            store.lock().unwrap().push(s.clone());
                        }
                    }
                }
                axum::Json(json!({}))
            }
        }),
    );
    let url = crate::common::upstream::serve_app(app).await;
    (url, spans)
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
        .map(|kv| &kv["value"])
        .unwrap_or(&Value::Null)
}

#[test]
fn spans_reach_an_otlp_receiver_under_the_callers_trace_and_the_context_goes_upstream() {
    use rmcp::ServiceExt as _;
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (collector, spans) = otlp_receiver().await;
        let resources = "resources:\n  - uri_template: petstore://pets/{petId}\n    name: pet\n    operation: getPetById\n    complete:\n      petId: {operation: listPets, field: /id}\n";
        let dir = fixture(&up.url(), &format!("{PETSTORE}{TOOLS}{resources}"));
        let gw = serve(
            &dir.path().join("gateway.yaml"),
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                ("OTEL_SERVICE_NAME", "gw-under-test"),
                ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ],
        );
        // A 2025-era client sending the W3C header (through the fast path)…
        let header_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let header_parent = "00f067aa0ba902b7";
        let mut headers = std::collections::HashMap::new();
        headers.insert(
            http::HeaderName::from_static("traceparent"),
            http::HeaderValue::from_str(&format!("00-{header_trace}-{header_parent}-01")).unwrap(),
        );
        let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
            rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                gw.url.clone(),
            )
            .custom_headers(headers),
        );
        let old: Client = ().serve(transport).await.expect("the rmcp client connects");
        assert_ne!(get_pet(&old, 1).await.is_error, Some(true));
        let upstream_saw = up.last().headers["traceparent"]
            .to_str()
            .unwrap()
            .to_string();
        // …and a 2026-07-28 client sending `_meta.traceparent`.
        let meta_trace = "0af7651916cd43dd8448eb211c80319c";
        let meta_parent = "b7ad6b7169203331";
        let new = client_2026(&gw.url).await;
        let mut params = CallToolRequestParams::new("get_pet")
            .with_arguments(json!({"petId": 404}).as_object().cloned().unwrap());
        let mut meta = rmcp::model::RequestMetaObject::default();
        meta.set_traceparent(format!("00-{meta_trace}-{meta_parent}-01"));
        params.meta = Some(meta);
        let r = new.call_tool(params).await.expect("a result");
        assert_eq!(r.is_error, Some(true));
        // A resource read and a completion lookup call upstream too: each has a client span
        // under its request's server span, and the upstream gets that span's context.
        new.read_resource(rmcp::model::ReadResourceRequestParams::new("petstore://pets/1"))
            .await
            .expect("the resource reads");
        let read_saw = up.last().headers["traceparent"].to_str().unwrap().to_string();
        new.complete(rmcp::model::CompleteRequestParams::new(
            rmcp::model::Reference::for_resource("petstore://pets/{petId}"),
            rmcp::model::ArgumentInfo::new("petId", "1"),
        ))
        .await
        .expect("the completion answers");
        let complete_saw = up.last().headers["traceparent"].to_str().unwrap().to_string();

        let until = Instant::now() + Duration::from_secs(10);
        // Wait for the spans this test reads, not for a count: requests other than the tool
        // calls (initialize, notifications, discovery) have spans of their own.
        let arrived = |spans: &[Value]| {
            let has = |trace: &str, kind: u64, name: Option<&str>| {
                spans.iter().any(|s| {
                    s["traceId"] == trace
                        && s["kind"] == kind
                        && name.is_none_or(|n| s["name"] == n)
                })
            };
            [header_trace, meta_trace]
                .iter()
                .all(|t| has(t, 2, Some("tools/call get_pet")) && has(t, 3, None))
                && has(header_trace, 2, Some("initialize"))
                && spans.iter().filter(|s| s["kind"] == 3).count() >= 4
        };
        while !arrived(&spans.lock().unwrap()) {
            assert!(Instant::now() < until, "spans: {:?}", spans.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let spans = spans.lock().unwrap().clone();
        let find = |trace: &str, kind: u64| {
            spans
                .iter()
                .find(|s| {
                    s["traceId"] == trace
                        && s["kind"] == kind
                        && (kind != 2 || s["name"] == "tools/call get_pet")
                })
                .unwrap_or_else(|| panic!("no kind-{kind} span in trace {trace}: {spans:#?}"))
                .clone()
        };
        // Every other MCP request has a server span too: the 2025 client's `initialize`
        // carried the W3C header.
        let initialize = spans
            .iter()
            .find(|s| s["traceId"] == header_trace && s["name"] == "initialize")
            .unwrap_or_else(|| panic!("no initialize span: {spans:#?}"));
        assert_eq!(initialize["kind"], 2);
        assert_eq!(initialize["parentSpanId"], header_parent);
        assert_eq!(
            attr(initialize, "mcp.method.name")["stringValue"],
            "initialize"
        );
        for (method, name, saw) in [
            ("resources/read", "GET /pets/{petId}", &read_saw),
            ("completion/complete", "GET /pets", &complete_saw),
        ] {
            let server = spans
                .iter()
                .find(|s| s["kind"] == 2 && s["name"] == method)
                .unwrap_or_else(|| panic!("no {method} span: {spans:#?}"));
            let client = spans
                .iter()
                .find(|s| s["kind"] == 3 && s["parentSpanId"] == server["spanId"])
                .unwrap_or_else(|| panic!("no client span under {method}: {spans:#?}"));
            assert_eq!(client["traceId"], server["traceId"]);
            assert_eq!(client["name"], name, "{client}");
            assert_eq!(attr(client, "http.response.status_code")["intValue"], "200");
            assert_eq!(
                *saw,
                format!(
                    "00-{}-{}-01",
                    client["traceId"].as_str().unwrap(),
                    client["spanId"].as_str().unwrap()
                )
            );
        }
        for (trace, parent, status) in [
            (header_trace, header_parent, 200),
            (meta_trace, meta_parent, 404),
        ] {
            let server = find(trace, 2);
            let client = find(trace, 3);
            assert_eq!(server["parentSpanId"], parent, "{server}");
            assert_eq!(server["name"], "tools/call get_pet");
            assert_eq!(attr(&server, "gen_ai.tool.name")["stringValue"], "get_pet");
            assert_eq!(client["parentSpanId"], server["spanId"], "{client}");
            assert_eq!(client["name"], "GET /pets/{petId}");
            assert_eq!(
                attr(&client, "url.template")["stringValue"],
                "/pets/{petId}"
            );
            assert_eq!(
                attr(&client, "http.response.status_code")["intValue"],
                status.to_string()
            );
            if trace == header_trace {
                assert_eq!(server["status"]["code"], 0);
                // The upstream got the client span's context.
                assert_eq!(
                    upstream_saw,
                    format!(
                        "00-{header_trace}-{}-01",
                        client["spanId"].as_str().unwrap()
                    )
                );
            } else {
                assert_eq!(server["status"]["code"], 2, "a tool error fails the span");
            }
        }
    });
}

#[test]
fn without_otel_configuration_nothing_is_propagated_upstream() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (_dir, gw) = start(&up.url(), "", "", &[]);
        let client = client_2026(&gw.url).await;
        let mut params = CallToolRequestParams::new("get_pet")
            .with_arguments(json!({"petId": 1}).as_object().cloned().unwrap());
        let mut meta = rmcp::model::RequestMetaObject::default();
        meta.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        params.meta = Some(meta);
        client.call_tool(params).await.expect("a result");
        assert!(up.last().headers.get("traceparent").is_none());
    });
}

#[test]
fn auth_refusals_are_counted_by_reason_and_limits_and_logs_name_the_key() {
    use rmcp::ServiceExt as _;
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let dir = fixture(
            &up.url(),
            &format!(
                "{PETSTORE}auth:\n  api_keys:\n    - {{name: alice, sha256: {{env: ALICE_SHA256}}, scopes: [pets:read]}}\n\
                 limits:\n  per_caller: {{requests: 1, per: 1h}}\n\
                 tools:\n  - operation: getPetById\n    name: get_pet\n    scopes: [pets:read]\n  \
                 - operation: listPets\n    name: find_pets\n    scopes: [pets:admin]\n"
            ),
        );
        let sha = crate::common::oauth::sha256_hex("alice-key");
        let gw = serve(
            &dir.path().join("gateway.yaml"),
            &["--log-format", "json"],
            &[("ALICE_SHA256", &sha)],
        );
        let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
            rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                gw.url.clone(),
            )
            .auth_header("alice-key"),
        );
        let alice: Client = ().serve(transport).await.expect("alice connects");
        assert_ne!(get_pet(&alice, 1).await.is_error, Some(true));
        let limited = get_pet(&alice, 2).await;
        assert!(
            text(&limited).starts_with("Rate limit: `alice` may make 1 calls per 1h; wait "),
            "{}",
            text(&limited)
        );
        assert!(call(&alice, "find_pets", json!({})).await.is_err(), "403");
        let http = reqwest::Client::new();
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_pet", "arguments": {"petId": 1}}});
        let post = |url: String, token: Option<&'static str>| {
            let mut r = http
                .post(url)
                .header("accept", "application/json, text/event-stream")
                .json(&body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        assert_eq!(post(gw.url.clone(), None).await.unwrap().status(), 401);
        assert_eq!(post(gw.url.clone(), Some("wrong")).await.unwrap().status(), 401);
        let in_query = format!("{}?access_token=alice-key", gw.url);
        assert_eq!(post(in_query, None).await.unwrap().status(), 401);

        let m = metrics(&gw).await;
        for reason in ["missing_token", "invalid_token", "token_in_query", "insufficient_scope"] {
            assert_eq!(
                value(&m, &format!("mcp_gateway_auth_refusals_total{{gateway=\"petstore\",reason=\"{reason}\"}}")),
                1.0,
                "{reason}\n{m}"
            );
        }
        assert_eq!(value(&m, "mcp_gateway_calls_total{gateway=\"petstore\",tool=\"find_pets\",result=\"refused-by-auth\",era=\"2025\"}"), 1.0, "{m}");
        let lines: Vec<Value> = drain(&gw, Duration::from_millis(300))
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &Value| v["fields"]["message"] == "tool call")
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l["fields"]["caller"] == "alice"), "{lines:?}");
        assert_eq!(lines[1]["fields"]["limited"], "caller_rate");
        assert!(!lines.iter().any(|l| l.to_string().contains("alice-key")), "a key was logged");
    });
}
