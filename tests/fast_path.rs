//! The `/mcp` fast path answers exactly as rmcp does (STYLE.md 18): the same valid and invalid
//! requests, in both protocol eras, go to a gateway with the fast path and to one serving
//! everything through rmcp (`--no-fast-path`), and the answers are compared byte for byte.
//! `/metrics` shows which path served them. Malformed bodies get JSON-RPC errors (HTTP 400)
//! on every path, sessions included. Only the protocol matters here, so the gateways are served
//! in process (`common::in_process`).

use serde_json::{Value, json};

use mcp_gateway::mcp::http::HttpOptions;

use crate::common::in_process::{petstore, petstore_edited};
use crate::common::{runtime, upstream};

/// One POST to `/mcp`: extra headers and the raw body.
struct Case {
    what: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Whether the fast path answers it itself (the rest it hands to rmcp).
    fast: bool,
}

const V2026: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "parity-test", "version": "1.0.0"},
    })
}

/// The body of a `method` request with `params`, and `meta` as its `_meta` when given.
fn request(method: &str, id: Value, mut params: Value, meta: Option<Value>) -> Vec<u8> {
    if let Some(m) = meta {
        params["_meta"] = m;
    }
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

fn call(id: Value, name: &str, args: Value, meta: Option<Value>) -> Vec<u8> {
    request(
        "tools/call",
        id,
        json!({"name": name, "arguments": args}),
        meta,
    )
}

fn read(id: Value, uri: &str, meta: Option<Value>) -> Vec<u8> {
    request("resources/read", id, json!({"uri": uri}), meta)
}

fn prompt(id: Value, name: &str, args: Value, meta: Option<Value>) -> Vec<u8> {
    request(
        "prompts/get",
        id,
        json!({"name": name, "arguments": args}),
        meta,
    )
}

fn h2026(method: &str, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mcp-protocol-version", V2026.to_string()),
        ("mcp-method", method.to_string()),
        ("mcp-name", name.to_string()),
    ]
}

/// The headers and `_meta` of a `method` request naming `name` in `era`: a 2025-era version
/// (empty: none, which means 2025-03-26), or 2026-07-28 with its headers and `_meta`.
fn in_era(era: &str, method: &str, name: &str) -> (Vec<(&'static str, String)>, Option<Value>) {
    if era == V2026 {
        (h2026(method, name), Some(meta()))
    } else if era.is_empty() {
        (vec![], None)
    } else {
        (vec![("mcp-protocol-version", era.to_string())], None)
    }
}

/// A `tools/call` of `name` in `era` ([`in_era`]) of the plain shape the fast path serves.
fn era_call(era: &str, name: &str, args: Value) -> Case {
    let (headers, meta) = in_era(era, "tools/call", name);
    Case {
        what: "".into(),
        headers,
        body: call(json!(1), name, args, meta),
        fast: true,
    }
}

fn cases() -> Vec<Case> {
    let v2025 = |v: &str| vec![("mcp-protocol-version", v.to_string())];
    let pet = json!({"pet_id": 7});
    let mut out = vec![
        Case {
            what: "2025-03-26 by omission".into(),
            headers: vec![],
            body: call(json!(1), "get_pet", pet.clone(), None),
            fast: true,
        },
        Case {
            what: "2025-11-25, string id".into(),
            headers: v2025("2025-11-25"),
            body: call(json!("a-1"), "get_pet", pet.clone(), None),
            fast: true,
        },
        Case {
            what: "2025-06-18, integer id written as a float, empty _meta".into(),
            headers: v2025("2025-06-18"),
            body: br#"{"jsonrpc":"2.0","id":2.0,"method":"tools/call","params":{"name":"get_pet","arguments":{"pet_id":7},"_meta":{}}}"#.to_vec(),
            fast: true,
        },
        Case {
            what: "2025-11-25, list answer".into(),
            headers: v2025("2025-11-25"),
            body: call(json!(3), "find_pets", json!({"status": ["sold"]}), None),
            fast: true,
        },
        Case {
            what: "2025-11-25, upstream 404".into(),
            headers: v2025("2025-11-25"),
            body: call(json!(4), "get_pet", json!({"pet_id": 404}), None),
            fast: true,
        },
        Case {
            what: "2025-11-25, invalid arguments".into(),
            headers: v2025("2025-11-25"),
            body: call(json!(5), "get_pet", json!({"pet_id": "seven"}), None),
            fast: true,
        },
        Case {
            what: "2026-07-28".into(),
            headers: h2026("tools/call", "get_pet"),
            body: call(json!(6), "get_pet", pet.clone(), Some(meta())),
            fast: true,
        },
        Case {
            what: "2026-07-28, list answer".into(),
            headers: h2026("tools/call", "find_pets"),
            body: call(json!(7), "find_pets", json!({"limit": 2}), Some(meta())),
            fast: true,
        },
        Case {
            what: "2026-07-28, upstream 404".into(),
            headers: h2026("tools/call", "get_pet"),
            body: call(json!("x"), "get_pet", json!({"pet_id": 404}), Some(meta())),
            fast: true,
        },
        Case {
            what: "2026-07-28, invalid arguments".into(),
            headers: h2026("tools/call", "get_pet"),
            body: call(json!(8), "get_pet", json!({}), Some(meta())),
            fast: true,
        },
    ];
    // `resources/read` of each kind of resource (a template, a static GET, a file), and each
    // error (the upstream's 404, a URI that names nothing, which rmcp's handler codes per era).
    for era in ["", "2025-11-25", V2026] {
        for (what, uri) in [
            ("resources/read of a template", "petstore://pets/7"),
            (
                "resources/read of a static GET resource",
                "petstore://inventory",
            ),
            ("resources/read of a file resource", "petstore://care-guide"),
            ("resources/read, upstream 404", "petstore://pets/404"),
            (
                "resources/read of a URI that names nothing",
                "petstore://nothing",
            ),
        ] {
            let (headers, meta) = in_era(era, "resources/read", uri);
            out.push(Case {
                what: format!("{what}, era {era:?}"),
                headers,
                body: read(json!(uri), uri, meta),
                fast: true,
            });
        }
    }
    // `prompts/get`: rendered with its resources read upstream, and each kind of refusal (an
    // argument missing or unknown, a value not listed, a prompt that does not exist, a resource
    // the upstream does not have).
    for era in ["2025-11-25", V2026] {
        for (what, name, args) in [
            (
                "prompts/get",
                "adopt_pet",
                json!({"pet_id": "7", "delivery": "pickup"}),
            ),
            (
                "prompts/get, a required argument missing",
                "adopt_pet",
                json!({}),
            ),
            (
                "prompts/get, an unknown argument",
                "adopt_pet",
                json!({"pet_id": "7", "colour": "red"}),
            ),
            (
                "prompts/get, a value not listed",
                "adopt_pet",
                json!({"pet_id": "7", "delivery": "drone"}),
            ),
            (
                "prompts/get, upstream 404 for its resource",
                "adopt_pet",
                json!({"pet_id": "404"}),
            ),
            (
                "prompts/get of a prompt that does not exist",
                "no_such_prompt",
                json!({}),
            ),
        ] {
            let (headers, meta) = in_era(era, "prompts/get", name);
            out.push(Case {
                what: format!("{what}, era {era:?}"),
                headers,
                body: prompt(json!(30), name, args, meta),
                fast: true,
            });
        }
    }
    // Requests the fast path must hand to rmcp, whose answer (served or refused) it must not
    // change.
    let mut declined = |what: &str, headers, body| {
        out.push(Case {
            what: what.into(),
            headers,
            body,
            fast: false,
        })
    };
    declined(
        "unknown tool, 2025",
        v2025("2025-11-25"),
        call(json!(9), "no_such_tool", json!({}), None),
    );
    declined(
        "unknown tool, 2026",
        h2026("tools/call", "no_such_tool"),
        call(json!(10), "no_such_tool", json!({}), Some(meta())),
    );
    declined(
        "unknown protocol version",
        v2025("2027-01-01"),
        call(json!(11), "get_pet", pet.clone(), None),
    );
    declined(
        "2026 header without _meta",
        h2026("tools/call", "get_pet"),
        call(json!(12), "get_pet", pet.clone(), None),
    );
    let mut m = meta();
    m["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
    declined(
        "2026 header, _meta names another version",
        h2026("tools/call", "get_pet"),
        call(json!(13), "get_pet", pet.clone(), Some(m)),
    );
    let mut m = meta();
    m.as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientCapabilities");
    declined(
        "2026 without clientCapabilities",
        h2026("tools/call", "get_pet"),
        call(json!(14), "get_pet", pet.clone(), Some(m)),
    );
    declined(
        "2026 _meta without the header",
        vec![],
        call(json!(15), "get_pet", pet.clone(), Some(meta())),
    );
    declined(
        "Mcp-Method disagrees with the body",
        h2026("tools/list", "get_pet"),
        call(json!(16), "get_pet", pet.clone(), Some(meta())),
    );
    declined(
        "Mcp-Name disagrees with the body",
        h2026("tools/call", "find_pets"),
        call(json!(17), "get_pet", pet.clone(), Some(meta())),
    );
    declined(
        "Mcp-Name missing",
        h2026("tools/call", "get_pet")[..2].to_vec(),
        call(json!(18), "get_pet", pet.clone(), Some(meta())),
    );
    declined(
        "Mcp-Name in Base64",
        h2026("tools/call", "=?base64?Z2V0X3BldA==?="),
        call(json!(19), "get_pet", pet.clone(), Some(meta())),
    );
    declined(
        "tools/list, 2026",
        h2026("tools/list", ""),
        json!({"jsonrpc": "2.0", "id": 20, "method": "tools/list", "params": {"_meta": meta()}})
            .to_string()
            .into_bytes(),
    );
    declined(
        "tools/call without a name",
        v2025("2025-11-25"),
        br#"{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"arguments":{}}}"#.to_vec(),
    );
    declined(
        "resources/read, Mcp-Name disagrees with the URI",
        h2026("resources/read", "petstore://pets/8"),
        read(json!(22), "petstore://pets/7", Some(meta())),
    );
    declined(
        "resources/read, Mcp-Method disagrees with the body",
        h2026("tools/call", "petstore://pets/7"),
        read(json!(23), "petstore://pets/7", Some(meta())),
    );
    declined(
        "resources/read, 2026 without _meta",
        h2026("resources/read", "petstore://pets/7"),
        read(json!(24), "petstore://pets/7", None),
    );
    declined(
        "resources/read with a field the fast path does not know",
        v2025("2025-11-25"),
        br#"{"jsonrpc":"2.0","id":25,"method":"resources/read","params":{"uri":"petstore://pets/7","extra":1}}"#.to_vec(),
    );
    declined(
        "resources/read without a URI",
        v2025("2025-11-25"),
        br#"{"jsonrpc":"2.0","id":26,"method":"resources/read","params":{}}"#.to_vec(),
    );
    declined(
        "prompts/get, Mcp-Name disagrees with the body",
        h2026("prompts/get", "other"),
        prompt(json!(31), "adopt_pet", json!({"pet_id": "7"}), Some(meta())),
    );
    declined(
        "prompts/get with a field the fast path does not know",
        v2025("2025-11-25"),
        br#"{"jsonrpc":"2.0","id":32,"method":"prompts/get","params":{"name":"adopt_pet","arguments":{"pet_id":"7"},"requestState":"x"}}"#.to_vec(),
    );
    for (what, body) in [
        ("malformed JSON", b"{\"jsonrpc\":\"2.0\",\"id\":1,".to_vec()),
        (
            "invalid UTF-8",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/\xff\"}".to_vec(),
        ),
        (
            "a batch",
            br#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#.to_vec(),
        ),
        (
            "id as an object",
            br#"{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}"#.to_vec(),
        ),
        (
            "id as null",
            br#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#.to_vec(),
        ),
        (
            "jsonrpc 1.0",
            br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec(),
        ),
        (
            "params as an array",
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["get_pet"]}"#.to_vec(),
        ),
    ] {
        declined(what, v2025("2025-11-25"), body);
    }
    out
}

struct Answer {
    status: u16,
    content_type: String,
    /// The `Mcp-Session-Id` the answer names, if any.
    session: Option<String>,
    body: Vec<u8>,
}

async fn send(url: &str, case: &Case) -> Answer {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in &case.headers {
        req = req.header(*k, v);
    }
    let resp = req.body(case.body.clone()).send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        session: resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string()),
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

/// `mcp_gateway_requests_total{path=…}` of the gateway at `origin`.
async fn served_by(origin: &str, path: &str) -> u64 {
    let text = reqwest::get(format!("{origin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = format!("path=\"{path}\"}} ");
    text.lines()
        .find(|l| l.starts_with("mcp_gateway_requests_total{") && l.contains(&key))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {path} counter in /metrics:\n{text}"))
}

#[test]
fn the_fast_path_answers_every_request_exactly_as_rmcp_does_in_both_eras() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    rt.block_on(async {
        let fast = petstore(&up.url(), HttpOptions::default()).await;
        let slow = petstore(
            &up.url(),
            HttpOptions {
                fast_path: false,
                ..HttpOptions::default()
            },
        )
        .await;
        let mut expected_fast = 0;
        for case in cases() {
            let a = send(&fast.url, &case).await;
            let b = send(&slow.url, &case).await;
            let show = |x: &Answer| {
                format!(
                    "{} {} {}",
                    x.status,
                    x.content_type,
                    String::from_utf8_lossy(&x.body)
                )
            };
            assert_eq!(
                show(&a),
                show(&b),
                "{}: the fast path (left) and rmcp (right) disagree",
                case.what
            );
            assert_eq!(a.body, b.body, "{}: bytes differ", case.what);
            if case.fast {
                expected_fast += 1;
                // Served (not refused), and by the fast path.
                assert_eq!(a.status, 200, "{}: {}", case.what, show(&a));
            }
            assert_eq!(
                served_by(&fast.origin(), "fast").await,
                expected_fast,
                "{}: the fast path served an unexpected number of calls",
                case.what
            );
        }
        assert_eq!(served_by(&fast.origin(), "fast").await, expected_fast);
        assert_eq!(served_by(&slow.origin(), "fast").await, 0);
        assert!(served_by(&slow.origin(), "rmcp").await >= expected_fast);
    });
}

/// Malformed bodies: HTTP 400 with the JSON-RPC code, never rmcp's 415 with serde's text, nor
/// its "method not found" for a method it serves; in session mode too, where every request goes
/// to rmcp.
#[test]
fn malformed_json_rpc_gets_400_and_its_code_on_every_path() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    for (args, opts) in [
        ("", HttpOptions::default()),
        (
            "--sessions",
            HttpOptions {
                sessions: true,
                ..HttpOptions::default()
            },
        ),
        (
            "--no-fast-path",
            HttpOptions {
                fast_path: false,
                ..HttpOptions::default()
            },
        ),
    ] {
        rt.block_on(async {
            let gw = petstore(&up.url(), opts).await;
            for (body, code, id) in [
                (&b"{\"jsonrpc\":\"2.0\",\"id\":1,"[..], -32700, Value::Null),
                (&b"\xff\xfe{}"[..], -32700, Value::Null),
                (
                    &br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#[..],
                    -32600,
                    Value::Null,
                ),
                (
                    &br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#[..],
                    -32600,
                    Value::Null,
                ),
                (
                    &br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#[..],
                    -32600,
                    Value::Null,
                ),
                (
                    &br#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#[..],
                    -32600,
                    json!(3),
                ),
                (
                    &br#"{"jsonrpc":"2.0","id":"p","method":"tools/call","params":[1]}"#[..],
                    -32602,
                    json!("p"),
                ),
            ] {
                let case = Case {
                    what: "".into(),
                    headers: vec![("mcp-protocol-version", "2025-11-25".into())],
                    body: body.to_vec(),
                    fast: false,
                };
                let a = send(&gw.url, &case).await;
                let text = String::from_utf8_lossy(&a.body).to_string();
                let what = format!("{args:?} {}", String::from_utf8_lossy(body));
                assert_eq!(a.status, 400, "{what}: {text}");
                assert_eq!(a.content_type, "application/json", "{what}");
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["jsonrpc"], "2.0", "{what}: {text}");
                assert_eq!(v["error"]["code"], code, "{what}: {text}");
                assert_eq!(
                    v.get("id").cloned().unwrap_or(Value::Null),
                    id,
                    "{what}: {text}"
                );
            }
            // A method rmcp serves, with params that do not fit it: `-32602` naming the field,
            // never rmcp's "method not found" (HTTP 404 in the 2026-07-28 era), in both eras.
            for (version, method, params, field) in [
                (
                    "2025-11-25",
                    "tools/call",
                    json!({}),
                    "missing field `name`",
                ),
                (
                    "2025-11-25",
                    "resources/read",
                    json!({"uri": 5}),
                    "invalid type",
                ),
                (
                    V2026,
                    "tools/call",
                    json!({"_meta": meta()}),
                    "missing field `name`",
                ),
                (
                    V2026,
                    "subscriptions/listen",
                    json!({"_meta": meta()}),
                    "missing field `notifications`",
                ),
            ] {
                let case = Case {
                    what: "".into(),
                    headers: vec![
                        ("mcp-protocol-version", version.into()),
                        ("mcp-method", method.into()),
                    ],
                    body: serde_json::to_vec(
                        &json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params}),
                    )
                    .unwrap(),
                    fast: false,
                };
                let a = send(&gw.url, &case).await;
                let text = String::from_utf8_lossy(&a.body).to_string();
                let what = format!("{args:?} {version} {method} {params}");
                assert_eq!(a.status, 400, "{what}: {text}");
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["id"], 9, "{what}: {text}");
                assert_eq!(v["error"]["code"], -32602, "{what}: {text}");
                let message = v["error"]["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(&format!("the params do not fit `{method}`"))
                        && message.contains(field),
                    "{what}: {text}"
                );
            }
        });
    }
}

/// A typed answer whose schema the gateway checks while reading it goes out as the upstream
/// wrote it (`structuredContent` is its text, whitespace and all, never rebuilt from a tree);
/// one the check cannot vouch for takes the full path. Either way both paths agree on the data,
/// and an answer that breaks the schema is refused the same way by both.
#[test]
fn typed_answers_go_out_as_written_when_checked_while_read() {
    use axum::routing::get;
    let pretty_pet = "{\n  \"id\": 7,\n  \"n\\u0061me\": \"Rex\",\n  \"tag\": null\n}\n";
    let pretty_list = "[ {\"id\": 1, \"name\": \"Rex\"},\n  {\"id\": 2, \"name\": \"Tom\", \"status\": \"sold\"} ]";
    let app = axum::Router::new()
        .route(
            "/pets",
            get(move || async move { ([("content-type", "application/json")], pretty_list) }),
        )
        .route(
            "/pets/{id}",
            get(
                move |axum::extract::Path(id): axum::extract::Path<u32>| async move {
                    let body = match id {
                        7 => pretty_pet.to_string(),
                        // An integer written as a float: valid, but outside what the check
                        // models, so it is parsed and validated the full way.
                        8 => r#"{"id": 8.0, "name": "Rex"}"#.to_string(),
                        // Breaks the schema (a name must be a string).
                        _ => r#"{"id": 9, "name": 5}"#.to_string(),
                    };
                    ([("content-type", "application/json")], body)
                },
            ),
        );
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::serve_app(app).await;
        let fast = petstore(&up, HttpOptions::default()).await;
        let slow = petstore(
            &up,
            HttpOptions {
                fast_path: false,
                ..HttpOptions::default()
            },
        )
        .await;
        for era in ["2025-11-25", V2026] {
            let ask = |name: &str, args: Value| era_call(era, name, args);
            for (case, raw) in [
                (ask("get_pet", json!({"pet_id": 7})), Some(pretty_pet)),
                (ask("find_pets", json!({})), Some(pretty_list)),
                (ask("get_pet", json!({"pet_id": 8})), None),
                (ask("get_pet", json!({"pet_id": 9})), None),
            ] {
                let a = send(&fast.url, &case).await;
                let b = send(&slow.url, &case).await;
                let what = format!("{era} {}", String::from_utf8_lossy(&case.body));
                let parse = |x: &Answer| -> Value { serde_json::from_slice(&x.body).unwrap() };
                let (va, vb) = (parse(&a), parse(&b));
                assert_eq!(va, vb, "{what}: the paths disagree on the data");
                let result = &va["result"];
                let fast_text = String::from_utf8_lossy(&a.body);
                match raw {
                    Some(text) => {
                        assert_eq!(result["isError"], false, "{what}: {va}");
                        // The upstream's text is in the reply as it was written, inside
                        // `{"result": …}` for a list.
                        assert!(
                            fast_text.contains(&format!("\"structuredContent\":{text}"))
                                || fast_text.contains(&format!(
                                    "\"structuredContent\":{{\"result\":{text}}}"
                                )),
                            "{what}: structuredContent is not the upstream's text: {fast_text}"
                        );
                        assert_eq!(result["content"][0]["text"], text, "{what}");
                    }
                    None if result["isError"] == true => {
                        let message = result["content"][0]["text"].as_str().unwrap_or("");
                        assert!(message.contains("output schema"), "{what}: {va}");
                        assert_eq!(a.body, b.body, "{what}: bytes differ");
                    }
                    None => {
                        assert_eq!(result["structuredContent"]["id"], json!(8.0), "{what}");
                        assert_eq!(a.body, b.body, "{what}: bytes differ");
                    }
                }
            }
        }
    });
}

/// A shaped answer (`response: {select, max_items}`) goes out from the fast path written once
/// and spliced in twice, as a typed one does: byte for byte what rmcp writes from the shaped
/// value, in both eras, for a list cut short (its `_truncated` note included) and an object.
#[test]
fn shaped_answers_go_out_exactly_as_rmcp_writes_them() {
    let shaped = "tools:\n  - operation: listPets\n    name: find_pets_brief\n    response: {select: [/id, /name], max_items: 1}\n  - operation: getPetById\n    name: get_pet_brief\n    params: {petId: {rename: pet_id}}\n    response: {select: [/id, /name]}\n";
    let edit = |text: String| text.replacen("tools:\n", shaped, 1);
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    rt.block_on(async {
        let fast = petstore_edited(&up.url(), HttpOptions::default(), edit).await;
        let slow = petstore_edited(
            &up.url(),
            HttpOptions {
                fast_path: false,
                ..HttpOptions::default()
            },
            edit,
        )
        .await;
        let mut served = 0;
        for era in ["2025-11-25", V2026] {
            for (name, args) in [
                ("find_pets_brief", json!({})),
                ("get_pet_brief", json!({"pet_id": 7})),
            ] {
                let case = era_call(era, name, args);
                let a = send(&fast.url, &case).await;
                let b = send(&slow.url, &case).await;
                let text = String::from_utf8_lossy(&a.body).into_owned();
                assert_eq!(
                    text,
                    String::from_utf8_lossy(&b.body),
                    "{era} {name}: the fast path (left) and rmcp (right) disagree"
                );
                let v: Value = serde_json::from_slice(&a.body).unwrap();
                let result = &v["result"];
                assert_eq!(result["isError"], false, "{era} {name}: {text}");
                let structured = &result["structuredContent"];
                let block: Value =
                    serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
                assert_eq!(
                    &block, structured,
                    "{era} {name}: the text block is the data"
                );
                if name == "find_pets_brief" {
                    assert_eq!(
                        structured["result"],
                        json!([{"id": 1, "name": "Rex"}]),
                        "{text}"
                    );
                    assert!(
                        structured.get("_truncated").is_some(),
                        "{era}: the cut is told: {text}"
                    );
                } else {
                    assert_eq!(structured, &json!({"id": 7, "name": "Rex"}), "{text}");
                }
                served += 1;
                assert_eq!(
                    served_by(&fast.origin(), "fast").await,
                    served,
                    "{era} {name}"
                );
            }
        }
    });
}

/// A session of the gateway at `url`: `initialize`, then `notifications/initialized`.
async fn open_session(url: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "parity-test", "version": "1.0.0"}}});
    let init = Case {
        what: "initialize".into(),
        headers: vec![],
        body: init.to_string().into_bytes(),
        fast: false,
    };
    let answer = send(url, &init).await;
    assert_eq!(answer.status, 200);
    let id = answer.session.expect("a session id");
    let initialized = Case {
        what: "initialized".into(),
        headers: in_session(&id),
        body: br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
        fast: false,
    };
    assert_eq!(send(url, &initialized).await.status, 202);
    id
}

fn in_session(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mcp-session-id", id.to_string()),
        ("mcp-protocol-version", "2025-11-25".to_string()),
    ]
}

/// The JSON-RPC messages of an answer: its body, or each `data:` of an SSE stream.
fn messages(a: &Answer) -> Vec<Value> {
    let text = String::from_utf8_lossy(&a.body);
    if a.content_type.starts_with("text/event-stream") {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    } else {
        vec![serde_json::from_slice(&a.body).unwrap()]
    }
}

/// With `--sessions`, a `tools/call` or `resources/read` inside a live session is answered by the
/// fast path (as one JSON message, which the transport allows in place of a one-event stream)
/// with the message rmcp sends on its stream; so is a 2026-07-28 call, which has no session. A session that
/// asked for log messages, an unknown session and an ended one are rmcp's, with rmcp's answers.
#[test]
fn in_session_mode_calls_take_the_fast_path_and_answer_as_rmcp_does() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    rt.block_on(async {
        let sessions = |fast_path| HttpOptions {
            sessions: true,
            fast_path,
            ..HttpOptions::default()
        };
        let fast = petstore(&up.url(), sessions(true)).await;
        let slow = petstore(&up.url(), sessions(false)).await;
        let (fast_id, slow_id) = (open_session(&fast.url).await, open_session(&slow.url).await);
        let get_pet = |id: &str| Case {
            what: "a call in a session".into(),
            headers: in_session(id),
            body: call(json!(5), "get_pet", json!({"pet_id": 7}), None),
            fast: true,
        };

        let a = send(&fast.url, &get_pet(&fast_id)).await;
        let b = send(&slow.url, &get_pet(&slow_id)).await;
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(a.content_type, "application/json");
        assert!(b.content_type.starts_with("text/event-stream"));
        assert_eq!(
            messages(&a),
            messages(&b),
            "the fast path and rmcp disagree"
        );
        assert_eq!(messages(&a)[0]["result"]["structuredContent"]["id"], 7);
        assert_eq!(served_by(&fast.origin(), "fast").await, 1);
        assert_eq!(served_by(&slow.origin(), "fast").await, 0);

        // A resource read in the session: the fast path's too, with rmcp's message.
        let pet = |id: &str| Case {
            what: "a resource read in a session".into(),
            headers: in_session(id),
            body: read(json!(7), "petstore://pets/7", None),
            fast: true,
        };
        let (a, b) = (
            send(&fast.url, &pet(&fast_id)).await,
            send(&slow.url, &pet(&slow_id)).await,
        );
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(messages(&a), messages(&b), "a read in a session");
        assert_eq!(
            messages(&a)[0]["result"]["contents"][0]["uri"],
            "petstore://pets/7"
        );
        assert_eq!(served_by(&fast.origin(), "fast").await, 2);
        assert_eq!(served_by(&slow.origin(), "fast").await, 0);

        let y2026 = Case {
            what: "2026-07-28, no session".into(),
            headers: h2026("tools/call", "get_pet"),
            body: call(json!(6), "get_pet", json!({"pet_id": 7}), Some(meta())),
            fast: true,
        };
        let (a, b) = (send(&fast.url, &y2026).await, send(&slow.url, &y2026).await);
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(messages(&a), messages(&b), "2026-07-28 in session mode");
        assert_eq!(served_by(&fast.origin(), "fast").await, 3);

        // Unknown: rmcp's 404, from both.
        let (a, b) = (
            send(&fast.url, &get_pet("no-such-session")).await,
            send(&slow.url, &get_pet("no-such-session")).await,
        );
        assert_eq!((a.status, b.status), (404, 404));
        assert_eq!(a.body, b.body);
        assert_eq!(served_by(&fast.origin(), "fast").await, 3);

        // Log messages during a call come from the session's rmcp handler (on the session's
        // GET stream), so once a client sets a level its calls are rmcp's.
        let set_level = Case {
            what: "logging/setLevel".into(),
            headers: in_session(&fast_id),
            body:
                br#"{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{"level":"info"}}"#
                    .to_vec(),
            fast: false,
        };
        assert_eq!(send(&fast.url, &set_level).await.status, 200);
        let logged = send(&fast.url, &get_pet(&fast_id)).await;
        assert!(logged.content_type.starts_with("text/event-stream"));
        assert_eq!(
            messages(&logged).last().unwrap()["result"]["structuredContent"]["id"],
            7
        );
        assert_eq!(served_by(&fast.origin(), "fast").await, 3);

        // An ended session is gone on both paths.
        let fresh = open_session(&fast.url).await;
        assert_eq!(send(&fast.url, &get_pet(&fresh)).await.status, 200);
        assert_eq!(served_by(&fast.origin(), "fast").await, 4);
        let deleted = reqwest::Client::new()
            .delete(&fast.url)
            .header("mcp-session-id", &fresh)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "{}", deleted.status());
        assert_eq!(send(&fast.url, &get_pet(&fresh)).await.status, 404);
        assert_eq!(served_by(&fast.origin(), "fast").await, 4);
    });
}
