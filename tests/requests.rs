//! Requests as tools see them and as the upstream receives them: an optional body keeps its
//! required properties (`dependentRequired`), the whole-body argument is curated like any
//! parameter, bodies that can carry nothing are dropped, manifest values are type-checked, and
//! operations served from another host go there (with credentials only where the manifest
//! says).

use serde_json::{Value, json};

use crate::common::gateway::{is_error, serve, text, ts_client};
use crate::common::{compile, runtime, summarize, write};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: bodies, version: '1'}
servers: [{url: 'http://127.0.0.1:9'}]
paths:
  /notes:
    post:
      operationId: addNote
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              required: [title, author]
              properties:
                title: {type: string}
                author: {type: string}
                tags: {type: array, items: {type: string}}
      responses: {'201': {description: created}}
    get:
      operationId: listNotes
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {}, additionalProperties: false}
      responses: {'200': {description: ok}}
  /batch:
    post:
      operationId: addNotes
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: array, items: {type: object, properties: {title: {type: string}}}}
      responses: {'201': {description: created}}
  /upload:
    servers: [{url: 'https://uploads.example.com/v2'}]
    put:
      operationId: upload
      requestBody:
        required: true
        content:
          application/octet-stream:
            schema: {type: string, format: binary}
      responses: {'204': {description: stored}}
"#;

fn manifest(dir: &std::path::Path, tools: &str) -> std::path::PathBuf {
    write(dir, "openapi.yaml", SPEC);
    write(
        dir,
        "gateway.yaml",
        &format!(
            "name: bodies\nopenapi: openapi.yaml\nupstream:\n  base_url: ${{BODIES_URL:-http://127.0.0.1:9}}\ntools:\n{tools}"
        ),
    )
}

fn input_schema(compiled: &mcp_gateway::compile::Compiled, tool: &str) -> Value {
    Value::Object(
        compiled
            .gateway
            .tool(tool)
            .unwrap()
            .input_schema
            .as_ref()
            .clone(),
    )
}

#[test]
fn an_optional_body_says_which_properties_come_together_and_empty_bodies_get_no_argument() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "  - operation: addNote\n  - operation: listNotes\n  - operation: addNotes\n    params:\n      body: {description: The notes to add., required: true}\n  - operation: upload\n",
    );
    let compiled = compile(&m).result.unwrap();
    let add = input_schema(&compiled, "add_note");
    assert_eq!(add.get("required"), None, "the body is optional: {add}");
    assert_eq!(
        add["dependentRequired"],
        json!({"title": ["author"], "author": ["title"], "tags": ["title", "author"]})
    );
    let list = input_schema(&compiled, "list_notes");
    assert_eq!(
        list["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["limit"]
    );
    let batch = input_schema(&compiled, "add_notes");
    assert_eq!(
        batch["properties"]["body"]["description"],
        "The notes to add."
    );
    assert_eq!(batch["required"], json!(["body"]));
    let upload = input_schema(&compiled, "upload");
    assert_eq!(
        upload["properties"]["body"],
        json!({"type": "string", "contentEncoding": "base64", "contentMediaType": "application/octet-stream",
               "description": "The file: base64 data, or the URI of a resource of this server (such as a resource_link another tool returned)."})
    );
}

#[test]
fn default_and_fixed_values_are_checked_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "  - operation: listNotes\n    params:\n      limit: {default: ten}\n  - operation: addNote\n    params:\n      tags: {fixed: [1]}\n  - operation: addNotes\n    params:\n      body: {fixed: {title: x}}\n",
    );
    let diags = compile(&m).result.unwrap_err();
    assert_eq!(
        summarize(&diags),
        [
            "Error bad-value @ tools[0].params.limit.default 8:15: the `default` value of `limit` does not match its schema: \"ten\" is not of type \"integer\" | help: give a value the spec accepts for `limit` (its schema: {\"type\":\"integer\"})",
            "Error bad-value @ tools[1].params.tags.fixed 11:14: the `fixed` value of `tags` does not match its schema at `/0`: 1 is not of type \"string\" | help: give a value the spec accepts for `tags` (its schema: {\"type\":\"array\",\"items\":{\"type\":\"string\"}})",
            "Error bad-value @ tools[2].params.body.fixed 14:14: the `fixed` value of `body` does not match its schema: {\"title\":\"x\"} is not of type \"array\" | help: give a value the spec accepts for `body` (its schema: {\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"}}}})",
        ]
    );
}

#[test]
fn half_an_optional_body_is_refused_before_anything_is_sent_and_an_empty_one_is_not_sent() {
    let rt = runtime();
    let up = rt.block_on(crate::common::upstream::start());
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "  - operation: addNote\n  - operation: upload\n",
    );
    let gw = serve(&m, &[], &[("BODIES_URL", &up.url())]);
    let steps = json!([
        {"op": "call", "name": "add_note", "arguments": {"title": "t"}},
        {"op": "call", "name": "add_note", "arguments": {}},
        {"op": "call", "name": "add_note", "arguments": {"title": "t", "author": "a"}},
        {"op": "call", "name": "upload", "arguments": {"body": "AAEC/w=="}},
        {"op": "call", "name": "upload", "arguments": {"body": "no base64 here!"}},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    assert!(is_error(&r[1]), "{}", text(&r[1]));
    assert!(text(&r[1]).contains("author"), "{}", text(&r[1]));
    assert!(!is_error(&r[2]), "{}", text(&r[2]));
    assert!(!is_error(&r[3]), "{}", text(&r[3]));
    assert!(!is_error(&r[4]), "{}", text(&r[4]));
    assert!(is_error(&r[5]), "{}", text(&r[5]));
    assert!(text(&r[5]).contains("base64"), "{}", text(&r[5]));
    let seen = up.requests();
    let summary: Vec<(String, String, Option<String>, Vec<u8>)> = seen
        .iter()
        .map(|s| {
            (
                s.method.clone(),
                s.uri.clone(),
                s.headers
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string()),
                s.body.as_bytes().to_vec(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert_eq!(summary[0], ("POST".into(), "/notes".into(), None, vec![]));
    assert_eq!(
        summary[1],
        (
            "POST".into(),
            "/notes".into(),
            Some("application/json".into()),
            br#"{"title":"t","author":"a"}"#.to_vec()
        )
    );
    assert_eq!(summary[2].0, "PUT");
    assert_eq!(summary[2].2.as_deref(), Some("application/octet-stream"));
}

#[test]
fn an_operation_server_is_followed_but_gets_credentials_only_where_the_manifest_says() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let tools = "tools:\n  - operation: addNote\n  - operation: upload\n";
    let auth = "  auth: {type: bearer, token: {env: BODIES_TOKEN}}\n";
    // The spec's servers: the upload host is followed, without the upstream's credentials.
    let m = write(
        dir.path(),
        "a.yaml",
        &format!("name: a\nopenapi: openapi.yaml\nupstream:\n{auth}{tools}"),
    );
    let out = compile(&m);
    let compiled = out.result.unwrap();
    let upload = &compiled.gateway.tool("upload").unwrap().plan;
    assert_eq!(
        upload.base_url.as_ref().map(|u| u.as_str()),
        Some("https://uploads.example.com/v2")
    );
    assert!(!upload.credentials);
    assert!(compiled.gateway.tool("add_note").unwrap().plan.credentials);
    assert_eq!(
        summarize(&compiled.warnings),
        [
            "Warning operation-server @ tools[1].operation 7:16: PUT /upload is served from `https://uploads.example.com/v2` (its own `servers` in the spec); the upstream's credentials are not sent there | help: set `base_url: https://uploads.example.com/v2` on this tool to send them there"
        ]
    );
    // A tool's own `base_url:` is where its calls and the credentials go.
    let m = write(
        dir.path(),
        "b.yaml",
        &format!(
            "name: b\nopenapi: openapi.yaml\nupstream:\n{auth}{tools}    base_url: ${{UPLOADS:-https://up.example.com/}}\n"
        ),
    );
    let compiled = compile(&m).result.unwrap();
    let upload = &compiled.gateway.tool("upload").unwrap().plan;
    assert_eq!(
        upload.base_url.as_ref().map(|u| u.as_str()),
        Some("https://up.example.com/")
    );
    assert!(upload.credentials);
    assert!(
        compiled.warnings.is_empty(),
        "{:?}",
        summarize(&compiled.warnings)
    );
}

#[test]
fn environment_variables_fill_fixed_values_and_the_spec_path_and_validate_runs_without_serves_own()
{
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let m = write(
        dir.path(),
        "gateway.yaml",
        "name: env\nopenapi: ${I11_SPEC_UNSET:-openapi.yaml}\nupstream:\n  base_url: ${I11_URL_UNSET}\ntools:\n  - operation: addNote\n    params:\n      author: {fixed: '${I11_AUTHOR_UNSET:-gateway}'}\n      title: {fixed: '${I11_TITLE_UNSET}'}\n  - operation: upload\n    base_url: ${I11_UPLOADS_UNSET}\n",
    );
    // `compile` here runs as `validate` does (credentials and the deployment are elsewhere).
    let compiled = compile(&m).result.unwrap();
    assert_eq!(
        summarize(&compiled.warnings),
        [
            "Warning env @ upstream.base_url 4:13: environment variable `I11_URL_UNSET` is not set here; `serve` will need it | help: set it where the gateway runs, or give a default: `${VAR:-value}`",
            "Warning env @ tools[0].params.title.fixed 9:22: environment variable `I11_TITLE_UNSET` is not set here; `serve` will need it | help: set it where the gateway runs, or give a default: `${VAR:-value}`",
            "Warning env @ tools[1].base_url 11:15: environment variable `I11_UPLOADS_UNSET` is not set here; `serve` will need it | help: set it where the gateway runs, or give a default: `${VAR:-value}`",
        ]
    );
    let plan = &compiled.gateway.tool("add_note").unwrap().plan;
    let Some(mcp_gateway::gateway::BodyPlan {
        source: mcp_gateway::gateway::BodySource::Fields(fields),
        ..
    }) = &plan.body
    else {
        panic!("{plan:?}")
    };
    let author = fields.iter().find(|f| f.property == "author").unwrap();
    assert_eq!(author.fixed, Some(json!("gateway")));
    // `serve` needs them: the same manifest does not start without.
    let serve = crate::common::bin()
        .arg("serve")
        .arg(&m)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!serve.status.success());
    assert!(
        String::from_utf8_lossy(&serve.stderr).contains("I11_URL_UNSET"),
        "{}",
        String::from_utf8_lossy(&serve.stderr)
    );
}
