//! The two upstream clients (src/upstream/plain.rs for plain HTTP, reqwest for the rest) as
//! an API sees them: a compressed answer is asked for and decompressed on the plain path too,
//! and a proxy named in the environment still carries plain-HTTP calls (the plain client does
//! not speak to proxies, so it steps aside).

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::{Value, json};

use mcp_gateway::mcp::http::HttpOptions;

use crate::common::gateway::serve;
use crate::common::in_process::petstore;
use crate::common::oauth::{call, post};
use crate::common::{path, raw, runtime, upstream};

const PET: &str = r#"{"id":7,"name":"Rex","tag":null,"status":"available"}"#;

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// `tools/call get_pet {"pet_id": 7}` as a 2025-era client sends it: the JSON-RPC answer.
async fn get_pet(url: &str) -> Value {
    post(url, None, &call("get_pet", json!({"pet_id": 7})))
        .await
        .2
}

#[test]
fn a_compressed_answer_is_asked_for_and_read_decompressed() {
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = asked.clone();
    let app = axum::Router::new().route(
        "/pets/{id}",
        get(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let accept = headers
                    .get("accept-encoding")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push(accept);
                (
                    [
                        ("content-type", "application/json"),
                        ("content-encoding", "gzip"),
                    ],
                    gzip(PET),
                )
            }
        }),
    );
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::serve_app(app).await;
        let gw = petstore(&up, HttpOptions::default()).await;
        let v = get_pet(&gw.url).await;
        assert_eq!(v["result"]["isError"], false, "{v}");
        assert_eq!(v["result"]["structuredContent"]["name"], "Rex", "{v}");
        assert_eq!(v["result"]["content"][0]["text"], PET, "{v}");
    });
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    for coding in ["gzip", "br", "deflate", "zstd"] {
        assert!(
            asked[0].contains(coding),
            "accept-encoding {:?} lacks {coding}",
            asked[0]
        );
    }
}

#[test]
fn a_proxy_in_the_environment_carries_plain_http_calls() {
    let rt = runtime();
    // A forward proxy is an upstream that gets absolute-form targets: the raw upstream, which
    // keeps each request line as it arrived, answers for the API.
    let proxy = rt.block_on(raw::start_answering(PET));
    // The API's host does not resolve: only the proxy can reach it.
    let api = "http://petstore.invalid:8080";
    let gw = serve(
        &path("gateways/petstore/gateway.yaml"),
        &[],
        &[("PETSTORE_BASE_URL", api), ("HTTP_PROXY", &proxy.url())],
    );
    let v = rt.block_on(get_pet(&gw.url));
    assert_eq!(v["result"]["structuredContent"]["name"], "Rex", "{v}");
    let lines: Vec<String> = proxy.requests().into_iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        vec![format!("GET {api}/pets/7 HTTP/1.1")],
        "the call went through the proxy, in absolute form"
    );
}
