//! Slow operations (`async:`) on a realistic job API: `POST /exports` answers `202 Accepted`
//! with `Location: /api/exports/{id}`, `GET /exports/{id}` says `queued`/`running` until the job
//! ends (`succeeded` with a `result_url`, `failed` with an error message, or `cancelled`), the
//! result is at `GET /exports/{id}/file`, and `DELETE /exports/{id}` cancels. Driven through a
//! 2026-07-28 client that negotiated the tasks extension (raw JSON-RPC over HTTP, exact
//! answers), and through clients that did not (the gateway waits, with progress); task ids
//! that were altered, expired, or minted under another key are refused; a second replica
//! sharing `MCP_GATEWAY_STATE_KEY` answers for a task the first created; a status URL off the
//! upstream is never followed, and the gateway's query credential that the API echoes into its
//! status URLs stays out of task ids.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::gateway::{Gateway, serve, ts_client};
use crate::common::{compile, runtime, sse_messages, summarize, write};

/// The gateway's API key, sent in the query; the API echoes it into its status URLs.
const KEY: &str = "exports-key-7f3a";

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Exports, version: "1"}
paths:
  /exports:
    post:
      operationId: createExport
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [format]
              properties:
                format: {type: string, enum: [csv, json]}
                steps: {type: integer, description: Polls before the job ends.}
                fail: {type: boolean}
      responses:
        "200":
          description: The export, when it is quick.
          content:
            application/json:
              schema:
                type: object
                required: [rows, format]
                properties:
                  rows: {type: integer}
                  format: {type: string}
        "202":
          description: Accepted; follow Location.
          headers:
            Location: {schema: {type: string}}
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  status: {type: string}
  /exports/{id}:
    get:
      operationId: getExport
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: The job's status.}
    delete:
      operationId: deleteExport
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "204": {description: Cancelled.}
  /reports:
    post:
      operationId: createReport
      responses:
        "202":
          description: Accepted.
          headers:
            Location: {schema: {type: string}}
  /escape:
    post:
      operationId: escape
      responses:
        "202": {description: Accepted, somewhere.}
"#;

const MANIFEST: &str = r#"
name: exports
openapi: openapi.yaml
upstream:
  base_url: BASE/api
  auth: {type: api_key, in: query, name: api_key, value: {env: EXPORTS_KEY}}
tools:
  - operation: createExport
    name: create_export
    timeout: 20s
    async:
      done_when: {pointer: /status, equals: succeeded}
      failed_when: {pointer: /status, equals: failed}
      cancelled_when: {pointer: /status, equals: [cancelled, canceled]}
      error: /error/message
      result: {url: /result_url}
      cancel: deleteExport
      poll_interval: 10ms
      ttl: 2h
  - operation: createExport
    name: create_export_briefly
    async:
      done_when: {pointer: /status, equals: succeeded}
      result: {url: /result_url}
      poll_interval: 1h
      ttl: 1ms
  - operation: createExport
    name: create_export_patiently
    async:
      done_when: {pointer: /status, equals: succeeded}
      result: {url: /result_url}
      poll_interval: 1h
  - operation: createExport
    name: create_export_as_task
    async:
      done_when: {pointer: /status, equals: succeeded}
      require_tasks: true
  # Inferred from the documented 202 + Location: the status URL's HTTP status tells.
  - operation: createReport
    name: create_report
  - operation: escape
    name: escape
    async: true
"#;

/// One job of the test API.
#[derive(Debug, Default)]
struct Job {
    /// Status reads left before the job ends.
    left: u32,
    fail: bool,
    cancelled: bool,
    format: String,
}

#[derive(Default)]
struct Api {
    origin: Mutex<String>,
    jobs: Mutex<HashMap<String, Job>>,
    /// `METHOD /path` of every request, in order.
    log: Mutex<Vec<String>>,
}

type Shared = Arc<Api>;

struct Upstream {
    api: Shared,
    origin: String,
}

impl Upstream {
    fn log(&self) -> Vec<String> {
        self.api.log.lock().unwrap().clone()
    }
    fn count(&self, line: &str) -> usize {
        self.log().iter().filter(|l| *l == line).count()
    }
}

async fn upstream() -> Upstream {
    async fn create(State(api): State<Shared>, body: axum::Json<Value>) -> Response {
        api.log.lock().unwrap().push("POST /api/exports".into());
        let mut jobs = api.jobs.lock().unwrap();
        let id = format!("ex{}", jobs.len() + 1);
        let job = Job {
            left: body["steps"].as_u64().unwrap_or(2) as u32,
            fail: body["fail"] == json!(true),
            cancelled: false,
            format: body["format"].as_str().unwrap_or("csv").to_string(),
        };
        jobs.insert(id.clone(), job);
        (
            StatusCode::ACCEPTED,
            [("location", format!("/api/exports/{id}?api_key={KEY}"))],
            axum::Json(json!({"id": id, "status": "queued"})),
        )
            .into_response()
    }
    async fn status(
        State(api): State<Shared>,
        UrlPath(id): UrlPath<String>,
        RawQuery(q): RawQuery,
    ) -> Response {
        api.log
            .lock()
            .unwrap()
            .push(format!("GET /api/exports/{id}"));
        // The gateway's credential, exactly once, though the status URL already carried it.
        if q.as_deref() != Some(format!("api_key={KEY}").as_str()) {
            return (StatusCode::UNAUTHORIZED, format!("query: {q:?}")).into_response();
        }
        let mut jobs = api.jobs.lock().unwrap();
        let Some(job) = jobs.get_mut(&id) else {
            return (StatusCode::NOT_FOUND, "no such export").into_response();
        };
        let doc = if job.cancelled {
            json!({"id": id, "status": "cancelled"})
        } else if job.left > 0 {
            job.left -= 1;
            json!({"id": id, "status": "running"})
        } else if job.fail {
            json!({"id": id, "status": "failed", "error": {"message": "the warehouse rejected the query: column `region` does not exist"}})
        } else {
            json!({"id": id, "status": "succeeded", "result_url": format!("/api/exports/{id}/file")})
        };
        axum::Json(doc).into_response()
    }
    async fn file(State(api): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
        api.log
            .lock()
            .unwrap()
            .push(format!("GET /api/exports/{id}/file"));
        let jobs = api.jobs.lock().unwrap();
        let format = jobs.get(&id).map(|j| j.format.clone()).unwrap_or_default();
        axum::Json(json!({"rows": 42, "format": format})).into_response()
    }
    async fn cancel(State(api): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
        api.log
            .lock()
            .unwrap()
            .push(format!("DELETE /api/exports/{id}"));
        match api.jobs.lock().unwrap().get_mut(&id) {
            Some(job) => {
                job.cancelled = true;
                StatusCode::NO_CONTENT.into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }
    // HTTP conventions: 202 on the first look, then 303 to the report.
    async fn report(State(api): State<Shared>) -> Response {
        api.log.lock().unwrap().push("POST /api/reports".into());
        (
            StatusCode::ACCEPTED,
            [("location", "reports/r1/status")],
            "",
        )
            .into_response()
    }
    async fn report_status(State(api): State<Shared>) -> Response {
        let mut log = api.log.lock().unwrap();
        log.push("GET /api/reports/r1/status".into());
        if log
            .iter()
            .filter(|l| l.starts_with("GET /api/reports/r1/status"))
            .count()
            < 2
        {
            StatusCode::ACCEPTED.into_response()
        } else {
            (StatusCode::SEE_OTHER, [("location", "/api/reports/r1")]).into_response()
        }
    }
    async fn report_body(State(api): State<Shared>) -> Response {
        api.log.lock().unwrap().push("GET /api/reports/r1".into());
        (
            [("content-type", "text/plain")],
            "Quarterly report: 3 regions, all green.",
        )
            .into_response()
    }
    // A status URL on another origin (here another port of this host).
    async fn escape(State(api): State<Shared>) -> Response {
        api.log.lock().unwrap().push("POST /api/escape".into());
        let origin = api.origin.lock().unwrap().clone();
        let elsewhere = origin.replace("127.0.0.1", "localhost");
        (
            StatusCode::ACCEPTED,
            [("location", format!("{elsewhere}/api/exports/ex1"))],
            "",
        )
            .into_response()
    }
    let api: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/api/exports", axum::routing::post(create))
        .route(
            "/api/exports/{id}",
            axum::routing::get(status).delete(cancel),
        )
        .route("/api/exports/{id}/file", axum::routing::get(file))
        .route("/api/reports", axum::routing::post(report))
        .route("/api/reports/r1/status", axum::routing::get(report_status))
        .route("/api/reports/r1", axum::routing::get(report_body))
        .route("/api/escape", axum::routing::post(escape))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    *api.origin.lock().unwrap() = origin.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Upstream { api, origin }
}

fn setup(
    rt: &tokio::runtime::Runtime,
    env: &[(&str, &str)],
) -> (Upstream, Gateway, tempfile::TempDir) {
    let up = rt.block_on(upstream());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &MANIFEST.replace("BASE", &up.origin),
    );
    let mut env = env.to_vec();
    env.push(("EXPORTS_KEY", KEY));
    let gw = serve(&manifest, &[], &env);
    (up, gw, dir)
}

/// The `_meta` of a 2026-07-28 request, with the tasks extension declared or not.
fn meta(tasks: bool) -> Value {
    let caps = if tasks {
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    } else {
        json!({})
    };
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    })
}

/// One 2026-07-28 JSON-RPC request over HTTP: the whole JSON answer.
async fn rpc(
    gw: &Gateway,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    tasks: bool,
) -> Value {
    params["_meta"] = meta(tasks);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut req = reqwest::Client::new()
        .post(format!("{}/mcp", gw.origin()))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(n) = name {
        req = req.header("mcp-name", n);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let text = resp.text().await.unwrap();
    // A JSON body, or the last `data:` line of an SSE one.
    serde_json::from_str(&text).unwrap_or_else(|_| {
        sse_messages(&text)
            .into_iter()
            .find(|m| m.get("id").is_some())
            .unwrap_or_else(|| panic!("not a JSON-RPC answer: {text}"))
    })
}

async fn call(gw: &Gateway, tool: &str, args: Value, tasks: bool) -> Value {
    rpc(
        gw,
        "tools/call",
        Some(tool),
        json!({"name": tool, "arguments": args}),
        tasks,
    )
    .await
}

async fn get(gw: &Gateway, id: &str) -> Value {
    rpc(gw, "tasks/get", Some(id), json!({"taskId": id}), true).await
}

async fn cancel(gw: &Gateway, id: &str) -> Value {
    rpc(gw, "tasks/cancel", Some(id), json!({"taskId": id}), true).await
}

fn text(result: &Value) -> String {
    crate::common::gateway::text(result)
}

#[test]
fn a_client_that_negotiated_tasks_gets_a_task_and_its_validated_result() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        let discovered = rpc(&gw, "server/discover", None, json!({}), true).await;
        assert_eq!(
            discovered["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
            json!({}),
            "{discovered}"
        );
        let created = call(
            &gw,
            "create_export",
            json!({"format": "csv", "steps": 2}),
            true,
        )
        .await;
        let r = &created["result"];
        assert_eq!(r["resultType"], json!("task"), "{created}");
        assert_eq!(r["status"], json!("working"));
        assert_eq!(r["ttlMs"], json!(7_200_000));
        assert_eq!(r["pollIntervalMs"], json!(10));
        assert!(
            r.get("content").is_none() && r.get("task").is_none(),
            "{created}"
        );
        let id = r["taskId"].as_str().unwrap().to_string();
        assert_eq!(up.log(), ["POST /api/exports"], "no status was read yet");
        // The id carries the status URL, without the credential the API echoed into it.
        use base64::Engine as _;
        let opened: Vec<u8> = id
            .split('.')
            .filter_map(|part| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .ok()
            })
            .flatten()
            .collect();
        let opened = String::from_utf8_lossy(&opened);
        assert!(opened.contains("/api/exports/ex1"), "{opened}");
        assert!(!opened.contains(KEY), "{opened}");

        // One status read per `tasks/get`: two reads say running, the third is done.
        let mut seen = Vec::new();
        for _ in 0..3 {
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            let answer = get(&gw, &id).await;
            seen.push(answer["result"]["status"].clone());
            if answer["result"]["status"] == json!("completed") {
                let result = &answer["result"]["result"];
                assert_eq!(answer["result"]["taskId"], json!(id));
                assert_eq!(answer["result"]["resultType"], json!("complete"));
                assert_eq!(
                    result["structuredContent"],
                    json!({"rows": 42, "format": "csv"})
                );
                assert_ne!(result["isError"], json!(true));
                // What `tools/list` declares is true of it.
                let list = rpc(&gw, "tools/list", None, json!({}), true).await;
                let tool = list["result"]["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["name"] == "create_export")
                    .unwrap()
                    .clone();
                let validator = jsonschema::validator_for(&tool["outputSchema"]).unwrap();
                assert!(validator.is_valid(&result["structuredContent"]));
            }
        }
        assert_eq!(
            seen,
            [json!("working"), json!("working"), json!("completed")]
        );
        assert_eq!(
            up.log(),
            [
                "POST /api/exports",
                "GET /api/exports/ex1",
                "GET /api/exports/ex1",
                "GET /api/exports/ex1",
                "GET /api/exports/ex1/file",
            ]
        );
    });
}

#[test]
fn a_client_without_tasks_waits_for_the_job_with_progress() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        // 2026-07-28 without the extension: the call answers with the result itself.
        let plain = call(
            &gw,
            "create_export",
            json!({"format": "json", "steps": 3}),
            false,
        )
        .await;
        assert_eq!(plain["result"]["resultType"], json!("complete"), "{plain}");
        assert_eq!(
            plain["result"]["structuredContent"],
            json!({"rows": 42, "format": "json"})
        );
        assert_eq!(up.count("GET /api/exports/ex1"), 4);

        // A 2025-era call with a progress token: progress while the gateway polls, then the
        // result, on the call's SSE stream.
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "create_export", "arguments": {"format": "csv", "steps": 3},
            "_meta": {"progressToken": "export-1"}}});
        let resp = reqwest::Client::new()
            .post(format!("{}/mcp", gw.origin()))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let stream = resp.text().await.unwrap();
        let messages = sse_messages(&stream);
        let progress: Vec<&Value> = messages
            .iter()
            .filter(|m| m["method"] == "notifications/progress")
            .map(|m| &m["params"])
            .collect();
        let values: Vec<f64> = progress
            .iter()
            .map(|p| p["progress"].as_f64().unwrap())
            .collect();
        // 0 (calling), 50 (accepted), one per status read still running (3), 100 (done).
        assert_eq!(values.len(), 6, "{stream}");
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert_eq!((values[0], values[1], values[5]), (0.0, 50.0, 100.0));
        assert!(progress.iter().all(|p| p["progressToken"] == "export-1"));
        assert_eq!(progress[2]["message"], json!("/status is \"running\""));
        let result = messages.iter().find(|m| m["id"] == 7).expect("the result");
        assert_eq!(
            result["result"]["structuredContent"],
            json!({"rows": 42, "format": "csv"})
        );
        assert_eq!(up.count("GET /api/exports/ex2"), 4);

        // Inferred from the spec (202 + Location), followed by the HTTP conventions: 202,
        // then 303 to the report.
        let report = call(&gw, "create_report", json!({}), false).await;
        assert_eq!(
            text(&report["result"]),
            "Quarterly report: 3 regions, all green.",
            "{report}"
        );
    });
}

/// The official TypeScript SDK over stdio (a 2025-era client with no tasks): the call waits for
/// the job and reports progress on the way.
#[test]
fn the_typescript_sdk_over_stdio_waits_for_the_job() {
    let rt = runtime();
    let (up, _gw, dir) = setup(&rt, &[]);
    let m = dir.path().join("gateway.yaml").display().to_string();
    let bin = env!("CARGO_BIN_EXE_mcp-gateway");
    let steps = json!([{"op": "call", "name": "create_export", "progress": true,
        "arguments": {"format": "csv", "steps": 2}}]);
    let out = ts_client(
        &["stdio", bin, "serve", &m, "--stdio"],
        &steps,
        &[("EXPORTS_KEY", KEY)],
    );
    let result = &out[1];
    assert_eq!(
        result["structuredContent"],
        json!({"rows": 42, "format": "csv"}),
        "{result}"
    );
    let values: Vec<f64> = result["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["progress"].as_f64().unwrap())
        .collect();
    // 0 (calling), 50 (accepted), one per status read still running (2), 100 (done). The
    // gateway writes "done" before the result (the HTTP test above reads both off the wire),
    // but the SDK drops it when both arrive in one read: it handles a notification a microtask
    // late, after the result has retired the call's progress token. It did on a loaded machine.
    assert!(values.len() == 5 || values.len() == 4, "{result}");
    assert_eq!(values[..4], [0.0, 50.0, 50.0, 50.0], "{result}");
    assert!(values[4..].iter().all(|v| *v == 100.0), "{result}");
    assert_eq!(up.count("GET /api/exports/ex1"), 3);
    assert_eq!(up.count("GET /api/exports/ex1/file"), 1);
}

#[test]
fn a_failed_job_is_a_tool_error_with_the_apis_message() {
    let rt = runtime();
    let (_up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        let message = "The API ran `create_export` and the job failed: the warehouse rejected the query: column `region` does not exist";
        let waited = call(&gw, "create_export", json!({"format": "csv", "steps": 1, "fail": true}), false).await;
        assert_eq!(waited["result"]["isError"], json!(true));
        assert_eq!(text(&waited["result"]), message);

        let created = call(&gw, "create_export", json!({"format": "csv", "steps": 0, "fail": true}), true).await;
        let id = created["result"]["taskId"].as_str().unwrap();
        let answer = get(&gw, id).await;
        // A tool that ran and failed is a completed task whose result is an error.
        assert_eq!(answer["result"]["status"], json!("completed"), "{answer}");
        assert_eq!(answer["result"]["result"]["isError"], json!(true));
        assert_eq!(text(&answer["result"]["result"]), message);
    });
}

#[test]
fn tasks_get_within_the_poll_interval_does_not_ask_the_api_again() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        let created = call(
            &gw,
            "create_export_patiently",
            json!({"format": "csv"}),
            true,
        )
        .await;
        assert_eq!(created["result"]["pollIntervalMs"], json!(3_600_000));
        let id = created["result"]["taskId"].as_str().unwrap();
        let first = get(&gw, id).await;
        let second = get(&gw, id).await;
        assert_eq!(first["result"]["status"], json!("working"), "{first}");
        assert_eq!(first, second);
        assert_eq!(up.count("GET /api/exports/ex1"), 1);
    });
}

#[test]
fn a_tool_that_requires_tasks_refuses_clients_without_them() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        let refused = call(&gw, "create_export_as_task", json!({"format": "csv"}), false).await;
        assert_eq!(refused["error"]["code"], json!(-32021), "{refused}");
        assert_eq!(
            refused["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
            json!({})
        );
        assert!(up.log().is_empty(), "nothing was sent: {:?}", up.log());
        let created = call(&gw, "create_export_as_task", json!({"format": "csv"}), true).await;
        assert_eq!(created["result"]["resultType"], json!("task"), "{created}");
    });
}

#[test]
fn tasks_cancel_calls_the_apis_cancel_operation() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        let created = call(
            &gw,
            "create_export",
            json!({"format": "csv", "steps": 100}),
            true,
        )
        .await;
        let id = created["result"]["taskId"].as_str().unwrap();
        let ack = cancel(&gw, id).await;
        assert_eq!(ack["result"], json!({"resultType": "complete"}), "{ack}");
        assert_eq!(up.count("DELETE /api/exports/ex1"), 1);
        let answer = get(&gw, id).await;
        assert_eq!(answer["result"]["status"], json!("cancelled"), "{answer}");
        assert!(answer["result"].get("result").is_none());
        // Cancelling again is the same empty answer.
        assert_eq!(
            cancel(&gw, id).await["result"],
            json!({"resultType": "complete"})
        );
    });
}

#[test]
fn altered_expired_and_foreign_task_ids_are_refused() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[("MCP_GATEWAY_STATE_KEY", "replica-key-1")]);
    let other = serve(
        &_dir.path().join("gateway.yaml"),
        &[],
        &[
            ("MCP_GATEWAY_STATE_KEY", "another-key"),
            ("EXPORTS_KEY", KEY),
        ],
    );
    rt.block_on(async {
        let created = call(&gw, "create_export", json!({"format": "csv"}), true).await;
        let id = created["result"]["taskId"].as_str().unwrap().to_string();
        // One character changed in the middle (the sealed payload).
        let mut altered: Vec<char> = id.chars().collect();
        let i = altered.len() / 2;
        altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
        let altered: String = altered.into_iter().collect();
        for (gateway, forged) in [(&gw, altered.as_str()), (&other, id.as_str()), (&gw, "ex1")] {
            let answer = get(gateway, forged).await;
            assert_eq!(answer["error"]["code"], json!(-32602), "{answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("unknown task"),
                "{answer}"
            );
            assert_eq!(
                cancel(gateway, forged).await["error"]["code"],
                json!(-32602)
            );
        }
        // A task id outlives its ttl on no replica.
        let brief = call(&gw, "create_export_briefly", json!({"format": "csv"}), true).await;
        assert_eq!(brief["result"]["ttlMs"], json!(1));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let expired = get(&gw, brief["result"]["taskId"].as_str().unwrap()).await;
        assert_eq!(expired["error"]["code"], json!(-32602), "{expired}");
        assert_eq!(
            up.log(),
            ["POST /api/exports", "POST /api/exports"],
            "no refused id led to a status read"
        );
        // tasks/* from a client that did not negotiate the extension: -32021.
        let body = rpc(&gw, "tasks/get", Some(&id), json!({"taskId": id}), false).await;
        assert_eq!(body["error"]["code"], json!(-32021), "{body}");
    });
}

#[test]
fn a_second_replica_sharing_the_key_answers_for_the_task() {
    let rt = runtime();
    let key = [("MCP_GATEWAY_STATE_KEY", "shared-replica-key")];
    let (up, first, dir) = setup(&rt, &key);
    let second = serve(
        &dir.path().join("gateway.yaml"),
        &[],
        &[key[0], ("EXPORTS_KEY", KEY)],
    );
    rt.block_on(async {
        let created = call(
            &first,
            "create_export",
            json!({"format": "json", "steps": 0}),
            true,
        )
        .await;
        let id = created["result"]["taskId"].as_str().unwrap();
        let answer = get(&second, id).await;
        assert_eq!(answer["result"]["status"], json!("completed"), "{answer}");
        assert_eq!(
            answer["result"]["result"]["structuredContent"],
            json!({"rows": 42, "format": "json"})
        );
        assert_eq!(
            cancel(&second, id).await["result"],
            json!({"resultType": "complete"})
        );
        assert_eq!(up.count("DELETE /api/exports/ex1"), 1);
    });
}

#[test]
fn a_status_url_off_the_upstream_is_never_followed() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    rt.block_on(async {
        for tasks in [true, false] {
            let answer = call(&gw, "escape", json!({}), tasks).await;
            assert_eq!(
                answer["result"]["resultType"],
                json!("complete"),
                "{answer}"
            );
            assert_eq!(answer["result"]["isError"], json!(true));
            let t = text(&answer["result"]);
            assert!(
                t.contains("off the upstream") && t.contains("http://localhost:"),
                "{t}"
            );
        }
        assert_eq!(up.log(), ["POST /api/escape", "POST /api/escape"]);
    });
}

#[test]
fn bad_async_settings_are_located_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let m = write(
        dir.path(),
        "gateway.yaml",
        r#"
name: exports
openapi: openapi.yaml
upstream: {base_url: http://127.0.0.1:9/api}
tools:
  - operation: createExport
    async:
      status: "Bad Header"
      done_when: {pointer: status, equals: []}
      result: {url: /result~2url}
      cancel: deleteExpor
      poll_interval: soon
  - operation: getExport
    async:
      failed_when: {pointer: /status, equals: failed}
"#,
    );
    let diags = compile(&m).result.expect_err("the manifest has mistakes");
    assert_eq!(
        summarize(&diags),
        [
            "Error async-status @ tools[0].async.status 8:15: `Bad Header` is neither a header name nor a JSON pointer | help: write a header such as `Location` or `Operation-Location`, or a pointer into the 202 body such as `/links/status`",
            "Error bad-pointer @ tools[0].async.done_when.pointer 9:28: `status` is not a JSON pointer | help: write a path such as `/status` (`~1` for a `/` in a name, `~0` for `~`)",
            "Error async-condition @ tools[0].async.done_when.equals 9:44: `equals` lists no value | help: name the value(s) the status field then has, e.g. `equals: [succeeded]`",
            "Error bad-pointer @ tools[0].async.result.url 10:21: `/result~2url` is not a JSON pointer | help: write a path such as `/resultUrl` (`~1` for a `/` in a name, `~0` for `~`)",
            "Error unknown-operation @ tools[0].async.cancel 11:15: the spec has no operation `deleteExpor` | help: did you mean `deleteExport`, `getExport`, `createExport`?",
            "Error invalid-duration @ tools[0].async.poll_interval 12:22: `soon` is not a duration (expected number at 0); write e.g. `10s` or `500ms`",
            "Warning async-undocumented @ tools[1].async 15:18: the spec documents no `202` answer for GET /exports/{id}; the gateway follows one only if the API sends it | help: check the operation, or document its `202` answer in the spec",
            "Error async-condition @ tools[1].async.failed_when 15:20: a job's failure or cancellation is read from the status document only together with `done_when` | help: add `done_when: {pointer: /status, equals: [succeeded]}` (with this API's field and value)",
        ]
    );
}
