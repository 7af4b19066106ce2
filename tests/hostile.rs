//! Hostile arguments stay arguments: every slot an argument can reach (path in each style,
//! query in each style, headers, cookies, form, multipart and JSON bodies) is fed hostile
//! values through a real MCP client (rmcp's, authenticated with an API key so the caller has an
//! identity header to forge), and a raw upstream records every byte that arrives. The checks run
//! on the recorded bytes: nothing escapes its slot, every name the gateway owns is sent once with
//! the gateway's value, and every refusal names the argument and says nothing was sent.

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::common::oauth::sha256_hex;
use crate::common::raw::{self, RawRequest};
use crate::common::{runtime, write};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: Hostile, version: "1"}
paths:
  /v1/tags/{tags}/notes:
    get:
      operationId: tagNotes
      parameters:
        - {name: tags, in: path, required: true, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
  /v1/label/{lab}/notes:
    get:
      operationId: labelNotes
      parameters:
        - {name: lab, in: path, required: true, style: label, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
  /v1/labelx/{labx}/notes:
    get:
      operationId: labelExplodedNotes
      parameters:
        - {name: labx, in: path, required: true, style: label, explode: true, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
  /v1/matrix/{m}/notes:
    get:
      operationId: matrixNotes
      parameters:
        - {name: m, in: path, required: true, style: matrix, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
  /v1/objects/{o}/notes:
    get:
      operationId: objectNotes
      parameters:
        - {name: o, in: path, required: true, explode: true, schema: {type: object, additionalProperties: {type: string}}}
      responses: {'200': {description: ok}}
  /v1/words/{word}/notes:
    get:
      operationId: wordNotes
      parameters:
        - {name: word, in: path, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
  /v1/search:
    get:
      operationId: search
      parameters:
        - {name: opts, in: query, schema: {type: object, additionalProperties: {type: string}}}
        - {name: tenant, in: query, schema: {type: string}}
        - {name: debug, in: query, schema: {type: string}}
        - {name: deep, in: query, style: deepObject, schema: {type: object, additionalProperties: true}}
        - {name: sp, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: pp, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: q, in: query, schema: {type: string}}
        - {name: api_key, in: query, schema: {type: string}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: X-User-Id, in: header, schema: {type: string}}
        - {name: X-Tenant-Id, in: header, schema: {type: string}}
        - {name: Host, in: header, schema: {type: string}}
        - {name: Transfer-Encoding, in: header, schema: {type: string}}
        - {name: Content-Length, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses: {'200': {description: ok}}
  /v1/form:
    post:
      operationId: postForm
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                name: {type: string}
                tenant: {type: string}
                meta: {type: object, additionalProperties: {type: string}}
      responses: {'200': {description: ok}}
  /v1/multipart:
    post:
      operationId: postMultipart
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                name: {type: string}
                note: {type: string}
      responses: {'200': {description: ok}}
  /v1/json:
    post:
      operationId: postJson
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string}
                extra: {type: object, additionalProperties: true}
      responses: {'200': {description: ok}}
"#;

const MANIFEST: &str = r#"name: hostile
openapi: hostile.yaml
upstream:
  base_url: ${BASE}/api
  headers: {X-Tenant-Id: acme}
  identity_headers: {X-User-Id: sub}
  auth: {type: api_key, in: query, name: api_key, value: {env: UPSTREAM_KEY}}
auth:
  api_keys:
    - {name: alice, sha256: {env: ALICE_SHA256}}
tools:
  - operation: tagNotes
  - operation: labelNotes
  - operation: labelExplodedNotes
  - operation: matrixNotes
  - operation: objectNotes
  - operation: wordNotes
  - operation: search
    params:
      tenant: {fixed: acme}
      debug: {hide: true}
  - operation: postForm
    params:
      tenant: {fixed: acme}
  - operation: postMultipart
  - operation: postJson
"#;

const ALICE: &str = "alice-key-5d1f0c";
const UPSTREAM_KEY: &str = "upstream-key-77aa";

/// Hostile strings: traversal, separators, injection, whitespace, encodings, unicode.
const STRINGS: [&str; 24] = [
    "..",
    ".",
    "",
    "../..",
    "a/../../admin",
    "%2e%2e",
    "%2E%2E%2F",
    "a/b",
    "?tenant=evil",
    "#frag",
    "a&tenant=evil",
    "x=1&debug=on",
    "a\r\nX-Admin: yes",
    "a\nb",
    " leading",
    "trailing ",
    "\tx",
    "@evil.example",
    "//evil.example/x",
    "http://evil.example/",
    "a;b=c",
    "a,b",
    "tenant]",
    "é\u{202e}x",
];

/// The calls: a tool and its arguments, for every slot and hostile value.
fn calls() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    for s in STRINGS {
        for (tool, arg) in [
            ("tag_notes", "tags"),
            ("label_notes", "lab"),
            ("label_exploded_notes", "labx"),
            ("matrix_notes", "m"),
        ] {
            out.push((tool, json!({ arg: [s] })));
            out.push((tool, json!({ arg: ["ok", s] })));
        }
        out.push(("word_notes", json!({ "word": s })));
        out.push(("object_notes", json!({ "o": { "k": s } })));
        out.push(("object_notes", json!({ "o": { s: "v" } })));
        for arg in ["q", "X-Trace", "session"] {
            out.push(("search", json!({ arg: s })));
        }
        out.push(("search", json!({ "opts": { "k": s } })));
        out.push(("search", json!({ "opts": { s: "v" } })));
        out.push(("search", json!({ "deep": { s: "v" } })));
        out.push(("search", json!({ "deep": { "k": { s: [s] } } })));
        out.push(("search", json!({ "sp": [s, "b"], "pp": ["a", s] })));
        out.push(("post_form", json!({ "name": s, "meta": { s: s } })));
        out.push(("post_multipart", json!({ "name": s, "note": s })));
        out.push(("post_json", json!({ "name": s, "extra": { s: s } })));
    }
    // Keys that name what the gateway fixes, hides or owns, in every case.
    for key in [
        "tenant",
        "TENANT",
        "debug",
        "Debug",
        "api_key",
        "API_KEY",
        "q",
        "opts",
        "tenant[x]",
        "debug[]",
        "api_key[0]",
    ] {
        out.push(("search", json!({ "opts": { key: "evil" } })));
        out.push(("search", json!({ "deep": { key: "evil" } })));
        out.push(("post_form", json!({ "meta": { key: "evil" } })));
        out.push(("post_json", json!({ "name": "n", key: "evil" })));
    }
    // Arguments for the names the gateway owns (not offered: the call must not forward them).
    for (arg, v) in [
        ("X-User-Id", "admin"),
        ("X-Tenant-Id", "evil"),
        ("api_key", "stolen"),
        ("Host", "evil.example"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "0"),
        ("tenant", "evil"),
        ("debug", "on"),
    ] {
        out.push(("search", json!({ arg: v })));
    }
    // Values that make the URL too long.
    out.push(("search", json!({ "q": "x".repeat(20_000) })));
    out.push(("word_notes", json!({ "word": "y".repeat(20_000) })));
    out
}

/// The literal path each tool's requests must keep, segment by segment (`*`: one parameter
/// segment, never empty, `.` or `..`).
fn template(tool: &str) -> &'static [&'static str] {
    match tool {
        "tag_notes" => &["api", "v1", "tags", "*", "notes"],
        "label_notes" => &["api", "v1", "label", "*", "notes"],
        "label_exploded_notes" => &["api", "v1", "labelx", "*", "notes"],
        "matrix_notes" => &["api", "v1", "matrix", "*", "notes"],
        "object_notes" => &["api", "v1", "objects", "*", "notes"],
        "word_notes" => &["api", "v1", "words", "*", "notes"],
        "search" => &["api", "v1", "search"],
        "post_form" => &["api", "v1", "form"],
        "post_multipart" => &["api", "v1", "multipart"],
        "post_json" => &["api", "v1", "json"],
        other => panic!("no template for {other}"),
    }
}

/// Everything that must hold of one request the upstream received for `tool`.
fn escapes(tool: &str, r: &RawRequest, host: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let path = r.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let want = template(tool);
    if segments.len() != want.len() {
        bad.push(format!("path {path} has {} segments", segments.len()));
    }
    for (got, want) in segments.iter().zip(want) {
        if *want == "*" {
            let decoded = percent_encoding::percent_decode_str(got).decode_utf8_lossy();
            if got.is_empty() || *got == "." || *got == ".." || decoded == "." || decoded == ".." {
                bad.push(format!("path {path} has a dot or empty segment"));
            }
        } else if got != want {
            bad.push(format!("path {path}: `{got}` where `{want}` belongs"));
        }
    }
    if !r.line.ends_with(" HTTP/1.1") || r.line.matches(' ').count() != 2 {
        bad.push(format!("request line {:?}", r.line));
    }
    // The query: the API key once, with the gateway's value; `tenant` only as fixed; `debug`
    // never; no name outside the operation's own.
    let query = r.query();
    let keys: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("api_key"))
        .collect();
    if keys.len() != 1 || keys[0].1 != UPSTREAM_KEY {
        bad.push(format!("api_key sent as {keys:?}"));
    }
    for (k, v) in &query {
        let base = k.split('[').next().unwrap_or("");
        if k.eq_ignore_ascii_case("tenant") && (tool != "search" || v != "acme") {
            bad.push(format!("tenant={v}"));
        }
        if k.eq_ignore_ascii_case("debug") || base.eq_ignore_ascii_case("debug") {
            bad.push(format!("hidden `debug` sent as {k}={v}"));
        }
    }
    if tool == "search" {
        let tenants = query
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("tenant"))
            .count();
        if tenants != 1 {
            bad.push(format!("tenant sent {tenants} times"));
        }
        for (k, _) in &query {
            let base = k.split('[').next().unwrap_or("");
            let allowed = [
                "tenant", "deep", "sp", "pp", "q", "api_key", "k", "v", "ok", "opts",
            ];
            let from_opts = !allowed.contains(&base) && !k.contains('[');
            if from_opts && STRINGS.iter().all(|s| s != k) {
                bad.push(format!("unexpected query name {k}"));
            }
            if k.contains('[') && !k.starts_with("deep[") {
                bad.push(format!("bracketed name outside deep: {k}"));
            }
            if k.starts_with("deep[") && k.matches('[').count() != k.matches(']').count() {
                bad.push(format!("unbalanced deepObject key {k}"));
            }
        }
    } else if query.len() != 1 {
        bad.push(format!("unexpected query {query:?}"));
    }
    // Headers the gateway owns: once each, with its value.
    let once = |name: &str, want: Option<&str>, bad: &mut Vec<String>| {
        let v = r.header_values(name);
        match want {
            Some(w) if v != [w] => bad.push(format!("{name}: {v:?}, want [{w}]")),
            None if v.len() > 1 => bad.push(format!("{name} sent {} times", v.len())),
            _ => {}
        }
    };
    once("host", Some(host), &mut bad);
    once("x-user-id", Some("alice"), &mut bad);
    once("x-tenant-id", Some("acme"), &mut bad);
    once("content-length", None, &mut bad);
    once("cookie", None, &mut bad);
    once("x-trace", None, &mut bad);
    if !r.header_values("transfer-encoding").is_empty() {
        bad.push("transfer-encoding sent".into());
    }
    for (name, value) in &r.headers {
        let known = [
            "host",
            "x-user-id",
            "x-tenant-id",
            "x-trace",
            "cookie",
            "content-type",
            "content-length",
            "accept",
            "accept-encoding",
            "user-agent",
        ];
        if !known.contains(&name.to_ascii_lowercase().as_str()) {
            bad.push(format!("unexpected header {name}: {value}"));
        }
        if value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
            bad.push(format!("header {name} has edge whitespace"));
        }
    }
    for c in r.cookie_names() {
        if c != "session" {
            bad.push(format!("unexpected cookie {c}"));
        }
    }
    let declared: &[&str] = match tool {
        "post_form" => &["name", "tenant", "meta"],
        "post_multipart" => &["name", "note"],
        "post_json" => &["name", "extra"],
        _ => &[],
    };
    let names = r.body_names();
    for n in &names {
        let base = n.split('[').next().unwrap_or("");
        // A form body's object property is exploded (`style: form, explode: true`, OpenAPI's
        // default), so its keys are names of their own; they may be anything but the names of
        // the other properties, which are checked below.
        if !declared.contains(&base) && tool != "post_form" {
            bad.push(format!("body name {n} is not a property of the body"));
        }
    }
    if tool == "post_form" && names.iter().filter(|n| *n == "name").count() > 1 {
        bad.push("form `name` sent twice".into());
    }
    if tool == "post_form" {
        let tenants: Vec<&String> = names.iter().filter(|n| *n == "tenant").collect();
        let form = raw::pairs(&String::from_utf8_lossy(&r.body));
        let values: Vec<&String> = form
            .iter()
            .filter(|(k, _)| k == "tenant")
            .map(|(_, v)| v)
            .collect();
        if tenants.len() != 1 || values != ["acme"] {
            bad.push(format!("form tenant sent as {values:?}"));
        }
    }
    bad
}

/// The raw upstream and the hostile gateway in front of it (the folder lives as long as the
/// gateway needs it).
fn start(
    rt: &tokio::runtime::Runtime,
) -> (
    raw::RawUpstream,
    crate::common::gateway::Gateway,
    tempfile::TempDir,
) {
    let up = rt.block_on(raw::start());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hostile.yaml", SPEC);
    let manifest = write(dir.path(), "gateway.yaml", MANIFEST);
    let gw = crate::common::gateway::serve(
        &manifest,
        &[],
        &[
            ("BASE", &up.url()),
            ("UPSTREAM_KEY", UPSTREAM_KEY),
            ("ALICE_SHA256", &sha256_hex(ALICE)),
        ],
    );
    (up, gw, dir)
}

#[test]
fn hostile_arguments_never_escape_their_slot() {
    let rt = runtime();
    let (up, gw, _dir) = start(&rt);
    let host = up.addr.to_string();
    rt.block_on(async {
        use rmcp::ServiceExt as _;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(gw.url.clone()).auth_header(ALICE),
        );
        let client = ().serve(transport).await.expect("the client connects");
        let listed = client.list_all_tools().await.unwrap();
        let search = listed.iter().find(|t| t.name == "search").unwrap();
        let offered: Vec<&String> = search.input_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for owned in [
            "X-User-Id",
            "X-Tenant-Id",
            "api_key",
            "Host",
            "Transfer-Encoding",
            "Content-Length",
            "tenant",
            "debug",
        ] {
            assert!(
                !offered.iter().any(|o| o.eq_ignore_ascii_case(owned)),
                "`{owned}` is offered to the agent: {offered:?}"
            );
        }

        let mut escaped = Vec::new();
        let (mut sent, mut refused) = (0, 0);
        let calls = calls();
        for (tool, args) in &calls {
            let before = up.count();
            let result = client
                .call_tool(
                    CallToolRequestParams::new(*tool)
                        .with_arguments(args.as_object().cloned().unwrap()),
                )
                .await;
            let after = up.requests();
            let text = match &result {
                Ok(r) => r
                    .content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Err(e) => e.to_string(),
            };
            let is_error = match &result {
                Ok(r) => r.is_error == Some(true),
                Err(_) => true,
            };
            if is_error {
                refused += 1;
                if after.len() != before {
                    escaped.push(format!("{tool} {args}: refused but sent: {text}"));
                }
                if !text.contains("nothing was sent") && !text.contains("Nothing was sent") {
                    escaped.push(format!(
                        "{tool} {args}: refusal does not say nothing was sent: {text}"
                    ));
                }
                continue;
            }
            sent += 1;
            match after.get(before..) {
                Some([r]) => {
                    for e in escapes(tool, r, &host) {
                        escaped.push(format!("{tool} {args}: {e}\n    {}", r.line));
                    }
                }
                other => escaped.push(format!(
                    "{tool} {args}: {} requests",
                    other.map_or(0, |o| o.len())
                )),
            }
        }
        client.cancel().await.ok();
        assert!(
            escaped.is_empty(),
            "{} of {} calls escaped:\n{}",
            escaped.len(),
            calls.len(),
            escaped.join("\n")
        );
        assert!(sent > 100 && refused > 20, "sent {sent}, refused {refused}");
    });
}

/// One call through the rmcp client, as `(is_error, text)`.
async fn call_once(url: &str, tool: &str, args: Value) -> (bool, String) {
    use rmcp::ServiceExt as _;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(ALICE),
    );
    let client = ().serve(transport).await.expect("the client connects");
    let r = client
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .expect("the call is answered");
    client.cancel().await.ok();
    let text = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    (r.is_error == Some(true), text)
}

#[test]
fn each_reproduction_is_refused_by_name_or_sent_once_as_the_gateway_wants() {
    let rt = runtime();
    let (up, gw, _dir) = start(&rt);
    rt.block_on(async {
        // 1. An identity header named by the spec: the verified value, once.
        let (err, text) = call_once(&gw.url, "search", json!({"q": "x"})).await;
        assert!(!err, "{text}");
        let r = up.requests().pop().unwrap();
        assert_eq!(r.header_values("x-user-id"), ["alice"]);
        assert_eq!(r.header_values("x-tenant-id"), ["acme"]);

        // 2. Exploded object keys that name a fixed, hidden or credential query name.
        for (key, why) in [
            ("tenant", "fixes or hides"),
            ("debug", "fixes or hides"),
            ("api_key", "upstream credential"),
            ("Q", "another parameter of this tool"),
        ] {
            let before = up.count();
            let (err, text) = call_once(&gw.url, "search", json!({"opts": {key: "evil"}})).await;
            assert!(err, "{key}: {text}");
            assert!(
                text.contains(&format!("argument `opts` cannot hold the key `{key}`"))
                    && text.contains(why)
                    && text.contains("Nothing was sent"),
                "{text}"
            );
            assert_eq!(up.count(), before);
        }

        // 3. Dot and empty segments through arrays and labels.
        for (tool, args) in [
            ("tag_notes", json!({"tags": [".."]})),
            ("tag_notes", json!({"tags": ["."]})),
            ("label_notes", json!({"lab": ["."]})),
            ("label_notes", json!({"lab": [""]})),
            ("word_notes", json!({"word": ""})),
            ("tag_notes", json!({"tags": []})),
        ] {
            let before = up.count();
            let (err, text) = call_once(&gw.url, tool, args.clone()).await;
            assert!(err, "{tool} {args}: {text}");
            assert!(text.contains("argument `"), "{text}");
            assert!(text.contains("Nothing was sent"), "{text}");
            assert_eq!(up.count(), before, "{tool} {args}");
        }

        // 7. An over-long URL and a header with edge whitespace are argument problems.
        let (err, text) = call_once(&gw.url, "search", json!({"q": "x".repeat(20_000)})).await;
        assert!(err);
        assert!(
            text.contains("argument `q` makes the upstream URL")
                && text.contains("8192-byte limit"),
            "{text}"
        );
        let (err, text) = call_once(&gw.url, "search", json!({"X-Trace": " padded"})).await;
        assert!(err);
        assert!(
            text.contains("argument `X-Trace`") && text.contains("space or tab"),
            "{text}"
        );
    });
}

#[test]
fn validate_warns_about_parameters_the_gateway_owns() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hostile.yaml", SPEC);
    let manifest = write(dir.path(), "gateway.yaml", MANIFEST);
    let out = crate::common::bin()
        .args(["validate"])
        .arg(&manifest)
        .env("BASE", "http://127.0.0.1:9")
        .env("UPSTREAM_KEY", "k")
        .env("ALICE_SHA256", sha256_hex(ALICE))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for want in [
        "header parameter `X-User-Id` of GET /v1/search is not offered to the agent: its name is the verified caller's `sub` claim (`upstream.identity_headers`)",
        "header parameter `X-Tenant-Id` of GET /v1/search is not offered to the agent: its name is a header fixed by `upstream.headers`",
        "query parameter `api_key` of GET /v1/search is not offered to the agent: its name is the gateway's own upstream credential (`upstream.auth`)",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(
        !text.contains("`Host`") && !text.contains("Transfer-Encoding"),
        "headers OpenAPI and HTTP reserve are dropped quietly:\n{text}"
    );
}

/// Sends `head` (request line and headers, without the blank line) and a JSON body on a fresh
/// connection; returns the status code.
async fn raw_status(addr: &str, head: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{head}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[test]
fn host_headers_are_parsed_strictly_and_alike_on_every_path() {
    let rt = runtime();
    // Only what the listener and the router do with the head matters: served in process.
    let up = rt.block_on(crate::common::upstream::start());
    let gw = rt.block_on(crate::common::in_process::petstore(
        &up.url(),
        Default::default(),
    ));
    let addr = gw.origin().trim_start_matches("http://").to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    // A tools/call the fast path takes, and an initialize that goes to rmcp.
    let fast = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_pet", "arguments": {"pet_id": 1}}}).to_string();
    let rmcp = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string();
    rt.block_on(async {
        for body in [&fast, &rmcp] {
            let line = "POST /mcp HTTP/1.1";
            for (host, want) in [
                (format!("Host: 127.0.0.1:{port}"), 200),
                (format!("Host: localhost:{port}"), 200),
                (format!("Host: [::1]:{port}"), 200),
                ("Host: 127.0.0.1:@evil.example".to_string(), 400),
                ("Host: localhost:80@evil.example".to_string(), 400),
                ("Host: [::1]evil.example".to_string(), 400),
                (format!("Host: 127.0.0.1:{port}\r\nHost: evil.example"), 400),
                (format!("Host: evil.example:{port}"), 403),
            ] {
                let got = raw_status(&addr, &format!("{line}\r\n{host}"), body).await;
                assert_eq!(got, want, "{host:?} with {body}");
            }
        }
    });
}
