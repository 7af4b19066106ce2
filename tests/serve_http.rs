//! The petstore example served for real: the official TypeScript SDK client lists and calls its
//! tools over Streamable HTTP and stdio, against a real HTTP upstream started by the test.

use serde_json::{Value, json};

use crate::common::gateway::{is_error, petstore, serve, text, tool_names, ts_client};
use crate::common::{path, runtime, upstream, write};

fn calls(steps: &[(&str, Value)]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|(name, args)| json!({"op": "call", "name": name, "arguments": args}))
            .collect(),
    )
}

#[test]
fn petstore_tools_are_listed_and_called_over_http() {
    let rt = runtime();
    let (up, gw) = petstore(&rt, &[]);
    let mut steps = vec![json!({"op": "list"})];
    steps.extend(
        calls(&[
            ("get_pet", json!({"pet_id": 7})),
            ("find_pets", json!({"status": ["available", "sold"], "limit": 5})),
            ("add_pet", json!({"name": "Rex", "tag": null, "status": "pending"})),
            ("delete_pet", json!({"pet_id": 3})),
            ("get_inventory", json!({})),
            ("place_order", json!({"petId": 7, "quantity": 1, "delivery": {"method": "pickup", "store": "BER-1"}})),
        ])
        .as_array()
        .unwrap()
        .clone(),
    );
    let r = ts_client(&["http", &gw.url], &Value::Array(steps), &[]);
    assert_eq!(r[0]["server"]["name"], "petstore");
    assert!(r[0]["instructions"].as_str().unwrap().contains("pet store"));

    let names = tool_names(&r[1]);
    assert_eq!(
        names,
        [
            "find_pets",
            "get_pet",
            "add_pet",
            "delete_pet",
            "get_inventory",
            "place_order"
        ]
    );

    let seen = up.requests();
    // get_pet: the renamed argument reaches the path; JSON comes back structured and as text.
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/pets/7")
    );
    assert!(!is_error(&r[2]), "{}", r[2]);
    assert_eq!(
        r[2]["structuredContent"],
        json!({"id": 7, "name": "Rex", "tag": null, "status": "available"})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&text(&r[2])).unwrap(),
        r[2]["structuredContent"]
    );
    // find_pets: form array without explode; the array answer is wrapped as {"result": …}.
    assert_eq!(seen[1].uri, "/pets?limit=5&status=available%2Csold");
    assert_eq!(
        r[3]["structuredContent"]["result"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // add_pet: body assembled from flattened arguments, null kept.
    assert_eq!(seen[2].method, "POST");
    assert_eq!(
        serde_json::from_str::<Value>(&seen[2].body).unwrap(),
        json!({"name": "Rex", "tag": null, "status": "pending"})
    );
    assert_eq!(seen[2].headers["content-type"], "application/json");
    assert_eq!(r[4]["structuredContent"]["id"], 99);
    // delete_pet: 204 becomes a short text, not an error.
    assert_eq!(
        (seen[3].method.as_str(), seen[3].uri.as_str()),
        ("DELETE", "/pets/3")
    );
    assert!(!is_error(&r[5]) && text(&r[5]).contains("204"), "{}", r[5]);
    // get_inventory: the hidden header is sent with its fixed value.
    assert_eq!(seen[4].headers["x-api-version"], "2025-06-01");
    assert_eq!(
        r[6]["structuredContent"],
        json!({"available": 2, "sold": 1})
    );
    // place_order: the oneOf body goes through as written.
    assert_eq!(
        serde_json::from_str::<Value>(&seen[5].body).unwrap()["delivery"],
        json!({"method": "pickup", "store": "BER-1"})
    );
    assert_eq!(r[7]["structuredContent"]["status"], "placed");
    assert_eq!(seen.len(), 6);
}

#[test]
fn bad_arguments_and_upstream_failures_come_back_as_tool_errors() {
    let rt = runtime();
    let (up, gw) = petstore(&rt, &[]);
    let steps = calls(&[
        ("get_pet", json!({"pet_id": "abc"})),
        ("get_pet", json!({})),
        ("get_pet", json!({"pet_id": 1, "petId": 1})),
        ("get_pet", json!({"pet_id": 401})),
        ("get_pet", json!({"pet_id": 404})),
        ("get_pet", json!({"pet_id": 500})),
        ("get_pet", json!({"pet_id": 888})),
        ("get_pet", json!({"pet_id": 999})),
        ("no_such_tool", json!({})),
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    let t = |i: usize| text(&r[i]);

    assert!(
        is_error(&r[1]) && t(1).contains("argument `pet_id`") && t(1).contains("integer"),
        "{}",
        r[1]
    );
    assert!(
        is_error(&r[2]) && t(2).contains("missing required argument `pet_id`"),
        "{}",
        r[2]
    );
    assert!(
        is_error(&r[3])
            && t(3).contains("unknown argument `petId`")
            && t(3).contains("this tool takes: pet_id"),
        "{}",
        r[3]
    );
    // Nothing invalid reached the upstream.
    assert!(up.requests().iter().all(|s| s.uri != "/pets/abc"));

    assert!(
        is_error(&r[4])
            && t(4).starts_with("Upstream answered 401 Unauthorized.")
            && t(4).contains("authentication failed"),
        "{}",
        r[4]
    );
    assert!(
        t(4).contains("bad credentials"),
        "the upstream's message is passed on: {}",
        r[4]
    );
    assert!(
        is_error(&r[5]) && t(5).contains("404 Not Found") && t(5).contains("no such pet"),
        "{}",
        r[5]
    );
    assert!(
        is_error(&r[6])
            && t(6).contains("500")
            && t(6).contains("database on fire")
            && t(6).contains("idempotent, so calling again after a pause is safe"),
        "{}",
        r[6]
    );
    assert!(
        is_error(&r[7]) && t(7).contains("does not match the output schema"),
        "{}",
        r[7]
    );
    assert!(r[7].get("structuredContent").is_none());
    assert!(is_error(&r[8]) && t(8).contains("invalid JSON"), "{}", r[8]);
    // An unknown tool is a protocol error, not a tool result.
    assert!(
        r[9]["error"]
            .as_str()
            .unwrap()
            .contains("Unknown tool: `no_such_tool`"),
        "{}",
        r[9]
    );
    assert_eq!(r[9]["code"], -32602);
}

#[test]
fn timeouts_and_refused_connections_name_their_cause() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "name: slow\nopenapi: {}\nupstream:\n  base_url: ${{BASE}}\ntools:\n  - operation: getPetById\n    timeout: 300ms\n",
            path("gateways/petstore/openapi.yaml").display()
        ),
    );
    let gw = serve(&manifest, &[], &[("BASE", &up.url())]);
    let r = ts_client(
        &["http", &gw.url],
        &calls(&[("get_pet_by_id", json!({"petId": 777}))]),
        &[],
    );
    assert!(
        is_error(&r[1]) && text(&r[1]).contains("did not answer within 300ms"),
        "{}",
        r[1]
    );

    let refused = serve(&manifest, &[], &[("BASE", "http://127.0.0.1:1")]);
    let r = ts_client(
        &["http", &refused.url],
        &calls(&[("get_pet_by_id", json!({"petId": 1}))]),
        &[],
    );
    assert!(
        is_error(&r[1]) && text(&r[1]).contains("Could not connect to the upstream 127.0.0.1:1"),
        "{}",
        r[1]
    );
}

#[test]
fn stdio_serves_the_same_tools_with_only_protocol_on_stdout() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let manifest = path("gateways/petstore/gateway.yaml");
    let bin = env!("CARGO_BIN_EXE_mcp-gateway");
    let m = manifest.display().to_string();
    let steps =
        json!([{"op": "list"}, {"op": "call", "name": "get_pet", "arguments": {"pet_id": 5}}]);
    let r = ts_client(
        &["stdio", bin, "serve", &m, "--stdio"],
        &steps,
        &[("PETSTORE_BASE_URL", &up.url())],
    );
    assert_eq!(r[1]["tools"].as_array().unwrap().len(), 6);
    assert_eq!(r[2]["structuredContent"]["id"], 5);
    assert_eq!(up.last().uri, "/pets/5");
}

#[test]
fn oversized_answers_are_cut_with_a_note_and_never_break_the_output_schema() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "blob.yaml",
        r#"openapi: 3.1.0
info: {title: Blobs, version: "1"}
paths:
  /blob/json:
    get:
      operationId: jsonBlob
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, required: [data], properties: {data: {type: string}}}
  /blob/text:
    get:
      operationId: textBlob
      responses:
        '200':
          description: ok
          content:
            text/plain:
              schema: {type: string}
"#,
    );
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: blobs\nopenapi: blob.yaml\nupstream:\n  base_url: ${BASE}\n  max_response_bytes: 1000\ntools:\n  - operation: jsonBlob\n  - operation: textBlob\n",
    );
    let gw = serve(&manifest, &[], &[("BASE", &up.url())]);
    let r = ts_client(
        &["http", &gw.url],
        &calls(&[("json_blob", json!({})), ("text_blob", json!({}))]),
        &[],
    );
    // JSON with an output schema: no half document, no structuredContent that breaks the schema.
    assert!(
        is_error(&r[1]) && text(&r[1]).contains("larger than the 1000 bytes"),
        "{}",
        r[1]
    );
    assert!(r[1].get("structuredContent").is_none());
    // Text: the first 1000 bytes, and a note the agent sees.
    assert!(!is_error(&r[2]), "{}", r[2]);
    let blocks = r[2]["content"].as_array().unwrap();
    assert_eq!(blocks[0]["text"].as_str().unwrap().len(), 1000);
    assert!(
        blocks[1]["text"]
            .as_str()
            .unwrap()
            .contains("response truncated at 1000 bytes"),
        "{}",
        r[2]
    );
}
