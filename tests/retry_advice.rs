//! Every error result tells the agent the truth about calling again: a misbehaving upstream
//! (slow, failing, rate-limiting, redirecting, answering a write with a broken body, or not
//! there at all) is called through the official TypeScript SDK, and each result's advice and
//! the number of requests that reached the upstream are checked per method. The circuit
//! breaker is off here: its own refusals are tested with the limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::json;

use crate::common::gateway::{is_error, serve, text, ts_client};
use crate::common::{runtime, write};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: Faults, version: "1"}
paths:
  /orders:
    post:
      operationId: createOrder
      responses:
        '201':
          description: created
          content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: integer}}}}}
  /orders/{id}:
    get:
      operationId: getOrder
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /slow:
    get: {operationId: slowGet, responses: {'200': {description: ok}}}
    post: {operationId: slowPost, responses: {'200': {description: ok}}}
  /fail:
    get: {operationId: failGet, responses: {'200': {description: ok}}}
    post: {operationId: failPost, responses: {'200': {description: ok}}}
  /busy:
    get: {operationId: busy, responses: {'200': {description: ok}}}
  /limited:
    post: {operationId: limited, responses: {'200': {description: ok}}}
  /moved:
    post: {operationId: moved, responses: {'200': {description: ok}}}
  /see-other:
    post: {operationId: seeOther, responses: {'200': {description: ok}}}
"#;

type Hits = Arc<Mutex<HashMap<String, usize>>>;

async fn faulty_upstream() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let seen = seen.clone();
        async move {
            let key = format!("{method} {}", uri.path());
            *seen.lock().unwrap().entry(key.clone()).or_default() += 1;
            match key.as_str() {
                "POST /orders" => (
                    StatusCode::CREATED,
                    axum::Json(json!({"id": "not a number"})),
                )
                    .into_response(),
                "GET /slow" | "POST /slow" => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    axum::Json(json!({})).into_response()
                }
                "GET /fail" | "POST /fail" => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
                }
                "GET /busy" => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "7")],
                    "busy",
                )
                    .into_response(),
                "POST /limited" => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "3")],
                    "slow down",
                )
                    .into_response(),
                "POST /moved" => (
                    StatusCode::FOUND,
                    [("location", "https://elsewhere.example/x")],
                )
                    .into_response(),
                "POST /see-other" => {
                    (StatusCode::SEE_OTHER, [("location", "/orders/5")]).into_response()
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let url = crate::common::upstream::serve_app(app).await;
    (url, hits)
}

fn manifest(dir: &std::path::Path) -> std::path::PathBuf {
    write(dir, "faults.yaml", SPEC);
    let tools = [
        "createOrder",
        "getOrder",
        "slowGet",
        "slowPost",
        "failGet",
        "failPost",
        "busy",
        "limited",
        "moved",
        "seeOther",
    ]
    .iter()
    .map(|op| format!("  - operation: {op}\n"))
    .collect::<String>();
    write(
        dir,
        "gateway.yaml",
        &format!(
            "name: faults\nopenapi: faults.yaml\nupstream:\n  base_url: ${{BASE}}\n  timeout: 500ms\n  circuit_breaker: {{enabled: false}}\ntools:\n{tools}"
        ),
    )
}

#[test]
fn each_fault_gets_advice_that_is_true_for_its_method() {
    let rt = runtime();
    let (base, hits) = rt.block_on(faulty_upstream());
    let dir = tempfile::tempdir().unwrap();
    let gw = serve(&manifest(dir.path()), &[], &[("BASE", &base)]);
    let cases = [
        (
            "slow_post",
            "did not answer within 500ms. The API may have received the request and acted on it (POST is not idempotent): do not call again before checking whether it took effect, for example with `slow_get`.",
        ),
        (
            "slow_get",
            "did not answer within 500ms. The operation is idempotent, so calling again is safe.",
        ),
        (
            "fail_post",
            "Upstream answered 500 Internal Server Error. The API failed partway. The API may have received the request and acted on it (POST is not idempotent): do not call again before checking whether it took effect, for example with `fail_get`.",
        ),
        (
            "fail_get",
            "Upstream answered 500 Internal Server Error. The API failed; the operation is idempotent, so calling again after a pause is safe.",
        ),
        (
            "busy",
            "Upstream answered 503 Service Unavailable. The API is unavailable and did not process the call: wait 7 seconds and call again.",
        ),
        (
            "limited",
            "Upstream answered 429 Too Many Requests. The API is limiting the rate of calls and did not process this one: wait 3 seconds and call again.",
        ),
        (
            "moved",
            "The API redirected the call to `https://elsewhere.example/x`. The gateway does not follow redirects",
        ),
        (
            "see_other",
            "The call took effect and the API points to its result at `/orders/5`; do not repeat it.",
        ),
        (
            "create_order",
            "The API accepted the call (201 Created), so it took effect; do not call again to retry it.",
        ),
    ];
    let steps: Vec<_> = cases
        .iter()
        .map(|(name, _)| json!({"op": "call", "name": name, "arguments": {}}))
        .collect();
    let out = ts_client(&["http", &gw.url], &json!(steps), &[]);
    for ((name, want), result) in cases.iter().zip(&out[1..]) {
        assert!(is_error(result), "{name}: {result}");
        let got = text(result);
        assert!(got.contains(want), "{name}:\n  got: {got}\n want: {want}");
    }
    // Nothing that may have reached the API was sent twice.
    let hits = hits.lock().unwrap().clone();
    for key in [
        "POST /slow",
        "GET /slow",
        "POST /fail",
        "GET /fail",
        "POST /orders",
        "POST /limited",
    ] {
        assert_eq!(hits.get(key), Some(&1), "{key}: {hits:?}");
    }
}

#[test]
fn a_refused_connection_says_nothing_reached_the_api() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let gw = serve(
        &manifest(dir.path()),
        &[],
        &[("BASE", "http://127.0.0.1:1")],
    );
    let out = ts_client(
        &["http", &gw.url],
        &json!([{"op": "call", "name": "create_order", "arguments": {}}]),
        &[],
    );
    let got = text(&out[1]);
    assert!(
        got.contains("Could not connect to the upstream 127.0.0.1:1")
            && got.contains(
                "Nothing reached the API, so calling again is safe once it is reachable."
            ),
        "{got}"
    );
    let log: Vec<String> = gw.log.try_iter().collect();
    assert!(
        log.iter().any(|l| l.contains("trying once more")),
        "a connection that could not be made is tried once more:\n{}",
        log.join("\n")
    );
}
