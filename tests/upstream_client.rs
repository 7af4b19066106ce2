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

/// What the scripted upstream does after writing an answer.
#[derive(Clone, Copy)]
enum Then {
    /// Waits for the next request on the same connection.
    Keep,
    /// Closes the connection.
    Close,
    /// Closes the connection after a pause, as a server with a short keep-alive timeout does
    /// to an idle connection.
    CloseIdle(std::time::Duration),
}

/// A TCP upstream that answers each request with the next scripted bytes, and records each
/// request line with the number of the connection it came on.
struct Scripted {
    url: String,
    seen: Arc<Mutex<Vec<(usize, String)>>>,
}

async fn scripted(answers: Vec<(String, Then)>) -> Scripted {
    use tokio::io::AsyncWriteExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let answers = Arc::new(Mutex::new(std::collections::VecDeque::from(answers)));
    let record = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            n += 1;
            let (record, answers) = (record.clone(), answers.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(request) = raw::read_request(&mut stream, &mut buf).await {
                    record.lock().unwrap().push((n, request.line));
                    let Some((answer, then)) = answers.lock().unwrap().pop_front() else {
                        return;
                    };
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    match then {
                        Then::Keep => {}
                        Then::Close => return,
                        Then::CloseIdle(after) => {
                            tokio::time::sleep(after).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    Scripted { url, seen }
}

fn pet_answer(status: &str, framing: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{framing}\r\n{body}")
}

#[test]
fn every_body_framing_is_read_and_a_connection_is_reused_only_when_the_answer_allows() {
    let half = PET.len() / 2;
    let chunked = format!(
        "{:x};ext=1\r\n{}\r\n{:x}\r\n{}\r\n0\r\nx-trailer: t\r\n\r\n",
        half,
        &PET[..half],
        PET.len() - half,
        &PET[half..]
    );
    let length = format!("content-length: {}\r\n", PET.len());
    let answers = vec![
        // An interim answer first, then a chunked one with an extension and a trailer.
        (
            format!(
                "HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n{}",
                pet_answer("200 OK", "transfer-encoding: chunked\r\n", &chunked)
            ),
            Then::Keep,
        ),
        (pet_answer("200 OK", &length, PET), Then::Keep),
        // `Connection: close`: the next call needs a new connection.
        (
            pet_answer("200 OK", &format!("{length}connection: close\r\n"), PET),
            Then::Keep,
        ),
        // No length at all: the body ends with the connection.
        (pet_answer("200 OK", "", PET), Then::Close),
        // Both framings: read as chunked, and the connection is not used again.
        (
            pet_answer(
                "200 OK",
                &format!("transfer-encoding: chunked\r\n{length}"),
                &format!("{:x}\r\n{PET}\r\n0\r\n\r\n", PET.len()),
            ),
            Then::Keep,
        ),
        (pet_answer("200 OK", &length, PET), Then::Keep),
    ];
    let rt = runtime();
    rt.block_on(async {
        let up = scripted(answers).await;
        let gw = petstore(&up.url, HttpOptions::default()).await;
        for n in 1..=6 {
            let v = get_pet(&gw.url).await;
            assert_eq!(v["result"]["isError"], false, "call {n}: {v}");
            assert_eq!(v["result"]["structuredContent"]["name"], "Rex", "call {n}: {v}");
            assert_eq!(v["result"]["content"][0]["text"], PET, "call {n}: {v}");
        }
        let conns: Vec<usize> = up.seen.lock().unwrap().iter().map(|(c, _)| *c).collect();
        assert_eq!(
            conns,
            [1, 1, 1, 2, 3, 4],
            "one connection until an answer says close, ends with the connection or has both framings"
        );
    });
}

#[test]
fn a_pooled_connection_the_upstream_closed_while_idle_is_not_written_to() {
    // The upstream closes each connection 100 ms after answering, as servers with a short
    // keep-alive timeout do. A POST sent on such a connection could not be retried safely; the
    // client must see the close and open a new connection instead.
    let created = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{PET}",
        PET.len()
    );
    let pause = std::time::Duration::from_millis(100);
    let answers = vec![
        (created.clone(), Then::CloseIdle(pause)),
        (created, Then::CloseIdle(pause)),
    ];
    let rt = runtime();
    rt.block_on(async {
        let up = scripted(answers).await;
        let gw = petstore(&up.url, HttpOptions::default()).await;
        for n in 1..=2 {
            let v = post(&gw.url, None, &call("add_pet", json!({"name": "Rex"})))
                .await
                .2;
            assert_eq!(v["result"]["isError"], false, "call {n}: {v}");
            assert_eq!(v["result"]["structuredContent"]["id"], 7, "call {n}: {v}");
            tokio::time::sleep(pause * 3).await;
        }
        let seen = up.seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                (1, "POST /pets HTTP/1.1".to_string()),
                (2, "POST /pets HTTP/1.1".to_string())
            ],
            "each POST sent once, the second on a new connection"
        );
    });
}

#[test]
fn an_answer_that_is_not_http_is_refused_with_what_is_wrong_and_the_next_call_is_served() {
    let length = format!("content-length: {}\r\n", PET.len());
    let answers = vec![
        (
            pet_answer("200 OK", "content-length: 5\r\ncontent-length: 6\r\n", PET),
            Then::Close,
        ),
        ("this is not http\r\n\r\n".to_string(), Then::Close),
        (pet_answer("200 OK", &length, PET), Then::Keep),
    ];
    let rt = runtime();
    rt.block_on(async {
        let up = scripted(answers).await;
        let gw = petstore(&up.url, HttpOptions::default()).await;
        // A POST, which is not retried: each bad answer is seen.
        for want in [
            "the answer is not valid HTTP/1.1: it has two different Content-Lengths",
            "the answer is not valid HTTP/1.1",
        ] {
            let v = post(&gw.url, None, &call("add_pet", json!({"name": "Rex"})))
                .await
                .2;
            assert_eq!(v["result"]["isError"], true, "{v}");
            let text = v["result"]["content"][0]["text"].as_str().unwrap_or("");
            assert!(text.contains(want), "{want:?} not in {text}");
        }
        let v = get_pet(&gw.url).await;
        assert_eq!(v["result"]["structuredContent"]["name"], "Rex", "{v}");
    });
}
