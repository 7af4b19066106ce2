//! Prompts, resources, completions and resource subscriptions, served for real: the petstore
//! example against the test upstream, driven by the official TypeScript SDK client (2025 era)
//! and the rmcp client (2026-07-28), including every error path a client can hit.

use std::time::Duration;

use rmcp::model::{
    ClientRequest, ReadResourceRequest, ReadResourceRequestParams, ServerNotification,
    SubscriptionFilter,
};
use rmcp::service::ServiceError;
use serde_json::{Value, json};

use crate::common::gateway::{client_2026, petstore, serve, ts_client};
use crate::common::upstream::{self, PNG, Upstream};
use crate::common::{compile, path, runtime, summarize, write};

/// The petstore example in a temp dir, with resources polled every 200 ms.
fn fast_polling_petstore() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["openapi.yaml", "care-guide.md"] {
        std::fs::copy(path(&format!("gateways/petstore/{f}")), dir.path().join(f))
            .expect("example file copied");
    }
    let manifest = std::fs::read_to_string(path("gateways/petstore/gateway.yaml"))
        .expect("example manifest")
        .replace("poll: 30s", "poll: 200ms");
    write(dir.path(), "gateway.yaml", &manifest);
    dir
}

#[test]
fn petstore_prompts_resources_and_completions_over_http() {
    let rt = runtime();
    let (up, gw) = petstore(&rt, &[]);
    let steps = json!([
        {"op": "list_prompts"},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "7", "delivery": "pickup"}},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "8"}},
        {"op": "list_resources"},
        {"op": "list_templates"},
        {"op": "read", "uri": "petstore://inventory"},
        {"op": "read", "uri": "petstore://pets/7"},
        {"op": "read", "uri": "petstore://care-guide"},
        {"op": "complete", "ref": {"type": "ref/prompt", "name": "adopt_pet"}, "argument": {"name": "delivery", "value": "p"}},
        {"op": "complete", "ref": {"type": "ref/resource", "uri": "petstore://pets/{petId}"}, "argument": {"name": "petId", "value": "1"}},
        {"op": "complete", "ref": {"type": "ref/prompt", "name": "adopt_pet"}, "argument": {"name": "pet_id", "value": ""}},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);

    let prompt = &r[1]["prompts"][0];
    assert_eq!(prompt["name"], "adopt_pet");
    assert_eq!(prompt["title"], "Adopt a pet");
    assert!(prompt["description"].as_str().unwrap().contains("adopting"));
    assert_eq!(
        prompt["arguments"],
        json!([
            {"name": "pet_id", "description": "The id of the pet the customer wants.", "required": true},
            {"name": "delivery", "description": "How the customer gets the pet.", "required": false},
        ])
    );

    // The text is rendered with the arguments; the templated resource is read upstream and
    // embedded; the file resource is embedded as shipped.
    let messages = r[2]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{}", r[2]);
    assert_eq!(messages[0]["role"], "user");
    let text = messages[0]["content"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("A customer wants to adopt pet 7 by pickup.\n"),
        "{text}"
    );
    let pet = &messages[1]["content"];
    assert_eq!(pet["type"], "resource");
    assert_eq!(pet["resource"]["uri"], "petstore://pets/7");
    assert_eq!(pet["resource"]["mimeType"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(pet["resource"]["text"].as_str().unwrap()).unwrap()["id"],
        7
    );
    assert!(
        messages[2]["content"]["resource"]["text"]
            .as_str()
            .unwrap()
            .starts_with("# Caring for your new pet")
    );
    // An optional argument left out renders as nothing.
    let text = r[3]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("A customer wants to adopt pet 8.\n"),
        "{text}"
    );

    assert_eq!(
        r[4]["resources"],
        json!([
            {"uri": "petstore://inventory", "name": "inventory", "title": "Stock by status",
             "description": "How many pets the store has in each status. Subscribe to hear when it changes.",
             "mimeType": "application/json"},
            {"uri": "petstore://care-guide", "name": "care_guide", "title": "Pet care guide",
             "description": "The store's advice for new owners.", "mimeType": "text/markdown",
             "size": std::fs::read(path("gateways/petstore/care-guide.md")).unwrap().len()},
        ])
    );
    assert_eq!(
        r[5]["resourceTemplates"],
        json!([{"uriTemplate": "petstore://pets/{petId}", "name": "pet", "title": "A pet",
                "description": "One pet of the store, by id.", "mimeType": "application/json"}])
    );

    // Reads: JSON is text with its media type; the fixed header reaches the upstream.
    let inventory = &r[6]["contents"][0];
    assert_eq!(inventory["uri"], "petstore://inventory");
    assert_eq!(inventory["mimeType"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(inventory["text"].as_str().unwrap()).unwrap(),
        json!({"available": 2, "sold": 1})
    );
    let seen = up.requests();
    let inv = seen
        .iter()
        .find(|s| s.uri == "/store/inventory")
        .expect("the inventory was read upstream");
    assert_eq!(inv.headers["x-api-version"], "2025-06-01");
    assert!(seen.iter().any(|s| s.uri == "/pets/7"));
    assert_eq!(r[7]["contents"][0]["uri"], "petstore://pets/7");
    assert_eq!(r[8]["contents"][0]["mimeType"], "text/markdown");

    // Completions: listed values by prefix; ids from the upstream's list, by prefix.
    assert_eq!(r[9]["completion"]["values"], json!(["pickup"]));
    assert_eq!(r[10]["completion"]["values"], json!(["1"]));
    assert_eq!(r[11]["completion"]["values"], json!(["1", "2"]));
    assert!(seen.iter().any(|s| s.uri == "/pets"), "listPets was asked");
}

#[test]
fn prompt_and_resource_mistakes_are_protocol_errors_that_say_what_to_fix() {
    let rt = runtime();
    let (_up, gw) = petstore(&rt, &[]);
    let steps = json!([
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {}},
        {"op": "get_prompt", "name": "adopt_a_cat", "arguments": {}},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "7", "colour": "red"}},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "7", "delivery": "drone"}},
        {"op": "read", "uri": "petstore://nothing-here"},
        {"op": "read", "uri": "petstore://pets/404"},
        {"op": "read", "uri": "petstore://pets/abc"},
        {"op": "read", "uri": "petstore://pets/500"},
        {"op": "read", "uri": "petstore://pets/7/../../admin"},
        {"op": "get_prompt", "name": "adopt_pet", "arguments": {"pet_id": "404"}},
        {"op": "complete", "ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}},
        {"op": "complete", "ref": {"type": "ref/resource", "uri": "petstore://pets/{petId}"}, "argument": {"name": "owner", "value": ""}},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    let err = |i: usize| {
        (
            r[i]["code"].as_i64().unwrap_or(0),
            r[i]["error"].as_str().unwrap_or("").to_string(),
        )
    };
    let expect = |i: usize, code: i64, words: &[&str]| {
        let (c, m) = err(i);
        assert_eq!(c, code, "step {i}: {}", r[i]);
        for w in words {
            assert!(m.contains(w), "step {i}: `{w}` not in {m}");
        }
    };
    expect(
        1,
        -32602,
        &[
            "Invalid arguments for prompt `adopt_pet`",
            "missing required argument `pet_id`",
        ],
    );
    expect(2, -32602, &["Unknown prompt: `adopt_a_cat`", "adopt_pet"]);
    expect(
        3,
        -32602,
        &["unknown argument `colour`; this prompt takes: pet_id, delivery"],
    );
    expect(
        4,
        -32602,
        &[r#"argument `delivery`: "drone" is not one of the allowed values: "pickup", "shipping""#],
    );
    // 2025 peers get the legacy resource-not-found code.
    expect(
        5,
        -32002,
        &["petstore://nothing-here", "resources/templates/list"],
    );
    expect(6, -32002, &["petstore://pets/404", "404"]);
    expect(
        7,
        -32602,
        &[
            "Invalid arguments for resource `petstore://pets/abc`",
            "argument `petId`",
            "integer",
        ],
    );
    expect(8, -32603, &["500", "database on fire"]);
    // A value may not carry a path: `{petId}` never matches across `/`.
    expect(9, -32002, &["not one of this server's resources"]);
    // A prompt whose embedded resource is missing upstream fails the same way.
    expect(10, -32002, &["petstore://pets/404"]);
    expect(11, -32602, &["Unknown prompt: `nope`"]);
    expect(12, -32602, &["no variable `owner`"]);
}

#[test]
fn a_2026_client_gets_invalid_params_with_the_uri_for_an_unknown_resource() {
    let rt = runtime();
    let (_up, gw) = crate::common::in_process::petstore_on(&rt, Default::default());
    rt.block_on(async {
        let client = client_2026(&gw.url).await;
        for uri in ["petstore://nothing-here", "petstore://pets/404"] {
            let r = client
                .peer()
                .send_request(ClientRequest::ReadResourceRequest(
                    ReadResourceRequest::new(ReadResourceRequestParams::new(uri)),
                ))
                .await;
            let Err(ServiceError::McpError(e)) = r else {
                panic!("reading {uri} answered {r:?}");
            };
            assert_eq!(e.code.0, -32602, "{e:?}");
            assert_eq!(e.data, Some(json!({"uri": uri})));
        }
    });
}

/// Bumps the inventory once the poller has checked it conditionally (so a baseline exists).
fn bump_after_a_conditional_poll(rt: &tokio::runtime::Runtime, up: &Upstream) {
    let up = up.clone();
    rt.spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            let conditional = up
                .requests()
                .iter()
                .any(|s| s.uri == "/store/inventory" && s.headers.contains_key("if-none-match"));
            if conditional {
                up.bump();
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

#[test]
fn a_session_subscriber_hears_of_an_upstream_change_and_polling_stops_after_unsubscribe() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = fast_polling_petstore();
    let gw = serve(
        &dir.path().join("gateway.yaml"),
        &["--sessions"],
        &[("PETSTORE_BASE_URL", &up.url())],
    );
    bump_after_a_conditional_poll(&rt, &up);
    let steps = json!([
        {"op": "subscribe", "uri": "petstore://inventory"},
        {"op": "wait_resource_updated", "uri": "petstore://inventory", "timeout_ms": 15000},
        {"op": "unsubscribe", "uri": "petstore://inventory"},
        {"op": "subscribe", "uri": "petstore://unknown"},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    assert_eq!(r[1], json!({}), "{}", r[1]);
    assert_eq!(r[2], json!({"received": true}));
    assert_eq!(r[3], json!({}));
    assert_eq!(r[4]["code"], -32002, "{}", r[4]);

    // The poller revalidated with the ETag it had seen, and saw the new version.
    let polls: Vec<_> = up
        .requests()
        .into_iter()
        .filter(|s| s.uri == "/store/inventory")
        .collect();
    assert!(
        polls.iter().any(|s| {
            s.headers
                .get("if-none-match")
                .is_some_and(|v| v == "\"v0\"")
                && s.headers
                    .get("if-modified-since")
                    .is_some_and(|v| v == "Wed, 21 Oct 2015 07:00:00 GMT")
        }),
        "no conditional GET among {} polls",
        polls.len()
    );
    // Nobody subscribes any more: the inventory is not polled again.
    std::thread::sleep(Duration::from_millis(400));
    let before = up.requests().len();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        up.requests().len(),
        before,
        "polling went on after unsubscribe"
    );
}

#[test]
fn a_2026_listener_hears_of_an_upstream_change_to_a_subscribed_resource() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = fast_polling_petstore();
    // Only the protocol matters here: served in process, the manifest naming the upstream.
    let manifest = dir.path().join("gateway.yaml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("${PETSTORE_BASE_URL:-http://127.0.0.1:4010}", &up.url());
    std::fs::write(&manifest, text).unwrap();
    let gw = rt.block_on(crate::common::in_process::InProcess::start(
        &manifest,
        Default::default(),
    ));
    bump_after_a_conditional_poll(&rt, &up);
    rt.block_on(async {
        let client = client_2026(&gw.url).await;
        let filter = SubscriptionFilter::builder()
            .resource_subscriptions(vec![
                "petstore://pets/3".to_string(),
                "petstore://inventory".to_string(),
                "petstore://unknown".to_string(),
            ])
            .build();
        let mut sub = client
            .peer()
            .listen(filter)
            .await
            .expect("subscriptions/listen is acknowledged");
        // URIs the gateway does not serve are left out of what it accepts.
        assert_eq!(
            sub.acknowledged().resource_subscriptions,
            Some(vec![
                "petstore://pets/3".to_string(),
                "petstore://inventory".to_string()
            ])
        );
        let n = next_notification(&mut sub).await;
        let ServerNotification::ResourceUpdatedNotification(u) = n else {
            panic!("expected resources/updated, got {n:?}");
        };
        // Only the resource that changed is announced (the pet answers the same every time).
        assert_eq!(u.params.uri, "petstore://inventory");
    });
}

/// Serves a gateway named `t` whose spec has the one path `path_item` (YAML under `paths:`)
/// and whose manifest ends with `rest`, against `up`.
fn serve_with_spec(
    up: &Upstream,
    path_item: &str,
    rest: &str,
) -> (tempfile::TempDir, crate::common::gateway::Gateway) {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  {path_item}");
    write(dir.path(), "openapi.yaml", &spec);
    let manifest = format!(
        "name: t\nopenapi: openapi.yaml\nupstream: {{base_url: '{}'}}\n{rest}",
        up.url()
    );
    let m = write(dir.path(), "gateway.yaml", &manifest);
    let gw = serve(&m, &[], &[]);
    (dir, gw)
}

#[test]
fn a_prompt_image_can_come_from_a_resource() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let spec = "/image.png:\n    get:\n      operationId: photo\n      responses:\n        '200':\n          description: A photo.\n          content:\n            image/png: {schema: {type: string, format: binary}}\n";
    let manifest = "resources:\n  - uri: photos://today\n    name: today\n    operation: photo\nprompts:\n  - name: describe\n    description: Describe today's photo.\n    messages:\n      - image: {resource: 'photos://today'}\n      - text: What is in this picture?\n";
    let (_dir, gw) = serve_with_spec(&up, spec, manifest);
    let steps = json!([
        {"op": "get_prompt", "name": "describe"},
        {"op": "read", "uri": "photos://today"},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    assert_eq!(
        r[1]["messages"][0]["content"],
        json!({"type": "image", "data": png, "mimeType": "image/png"})
    );
    assert_eq!(
        r[2]["contents"][0],
        json!({"uri": "photos://today", "mimeType": "image/png", "blob": png})
    );
}

#[test]
fn prompt_and_resource_problems_are_all_reported_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: broken
openapi: {spec}
upstream:
  base_url: http://127.0.0.1:9
tools:
  - operation: getPetById
    name: get_pet
resources:
  - uri_template: petstore://pets/{{id}}
    name: pet
    operation: getPetById
  - uri: petstore://orders
    name: orders
    operation: placeOrder
  - uri: petstore://inventory
    name: inventory
    operation: getInventory
    params: {{X-Api-Version: '2025-06-01'}}
  - uri: petstore://notes
    uri_template: petstore://notes/{{n}}
    name: notes
    file: notes.md
  - uri_template: petstore://pets/{{petId}}/{{+rest
    name: bad
    operation: getPetById
  - uri: petstore://pets/one
    name: one
    operation: getPetById
    params: {{petid: 1}}
prompts:
  - name: broken_syntax
    description: A template that does not parse.
    messages:
      - text: |
          Line one is fine.
          Line two {{% if pet_id %}} never ends.
  - name: unknown_names
    description: Names that do not exist.
    tools: [get_pets]
    arguments:
      - name: pet_id
    messages:
      - text: "Fetch {{{{ pet }}}} please."
      - resource: petstore://invetory
"#
        ),
    );
    let diags = compile(&manifest).result.unwrap_err();
    assert_eq!(
        summarize(&diags),
        vec![
            "Error uncovered-parameter @ resources[0].uri_template 9:19: `getPetById` requires `petId`, which the template does not fill | help: add `{name}` variables to the template, or fix values under `params:`",
            "Error unknown-variable @ resources[0].uri_template 9:19: `{id}` is not a parameter of `getPetById` | help: getPetById takes: petId",
            "Error not-a-get @ resources[1].operation 14:16: `placeOrder` is POST /store/orders; resources and completions only read, so they need a GET operation | help: bind a GET operation, or expose this one as a tool",
            "Error resource-uri @ resources[3].uri_template 20:19: resource `notes` needs exactly one of `uri` or `uri_template` | help: `uri: scheme://fixed` for one resource, `uri_template: scheme://things/{id}` for a family",
            "Error invalid-uri-template @ resources[4].uri_template 23:19: unbalanced braces in `petstore://pets/{petId}/{+rest` | help: write e.g. `crm://customers/{customer_id}`",
            "Error unknown-argument @ resources[5].params.petid 29:14: GET /pets/{petId} has no argument `petid` | help: did you mean `petId`?",
            "Error template-syntax @ prompts[0].messages[0].text 36:11: template syntax error: unexpected end of input, expected end of block | help: prompt messages are Jinja templates: `{{ argument }}`, `{% if argument %}…{% endif %}`",
            "Error unknown-tool @ prompts[1].tools[0] 39:13: prompt `unknown_names` mentions the tool `get_pets`, which this gateway does not have | help: did you mean `get_pet`?",
            "Error unknown-variable @ prompts[1].messages[0].text 43:15: the template uses `pet`, which is not an argument of this prompt | help: did you mean `pet_id`?",
            "Error unknown-resource @ prompts[1].messages[1].resource 44:19: `petstore://invetory` is not one of this gateway's resources | help: did you mean `petstore://inventory`?",
        ]
    );
}

#[test]
fn the_github_example_reads_its_templates_with_the_token_and_headers_github_wants() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let gw = serve(
        &path("gateways/github/gateway.yaml"),
        &[],
        &[
            ("GITHUB_API_URL", &up.url()),
            ("GITHUB_TOKEN", "test-token"),
        ],
    );
    let steps = json!([
        {"op": "list_templates"},
        {"op": "read", "uri": "github://repos/rust-lang/rust"},
        {"op": "get_prompt", "name": "triage_issue",
         "arguments": {"owner": "rust-lang", "repo": "rust", "issue_number": "7", "tone": "friendly"}},
        {"op": "complete", "ref": {"type": "ref/resource", "uri": "github://repos/{owner}/{repo}"},
         "argument": {"name": "repo", "value": "ru"}},
        {"op": "read", "uri": "github://repos/a%2Fb/c%3Fd"},
        {"op": "read", "uri": "github://repos/%2E%2E/rust"},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    let templates: Vec<&str> = r[1]["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "github://repos/{owner}/{repo}",
            "github://repos/{owner}/{repo}/readme",
            "github://repos/{owner}/{repo}/issues/{issue_number}",
            "github://users/{username}"
        ]
    );
    assert_eq!(r[2]["contents"][0]["uri"], "github://repos/rust-lang/rust");
    let seen = up.requests();
    let repo = seen
        .iter()
        .find(|s| s.uri == "/repos/rust-lang/rust")
        .expect("the repository was read upstream");
    assert_eq!(repo.headers["authorization"], "Bearer test-token");
    assert_eq!(repo.headers["user-agent"], "mcp-gateway");
    assert_eq!(repo.headers["x-github-api-version"], "2022-11-28");
    // The prompt embeds the issue, read from its own template.
    let issue = &r[3]["messages"][0]["content"]["resource"];
    assert_eq!(
        issue["uri"], "github://repos/rust-lang/rust/issues/7",
        "{}",
        r[3]
    );
    assert!(
        seen.iter()
            .any(|s| s.uri == "/repos/rust-lang/rust/issues/7")
    );
    let text = r[3]["messages"][1]["content"]["text"].as_str().unwrap();
    assert!(text.contains("a friendly\nreply"), "{text}");
    // Completion asks GitHub's search with what was typed (the test upstream finds nothing).
    assert_eq!(r[4]["completion"]["values"], json!([]));
    assert!(
        seen.iter()
            .any(|s| s.uri.starts_with("/search/repositories?") && s.uri.contains("q=ru")),
        "{:?}",
        seen.iter().map(|s| &s.uri).collect::<Vec<_>>()
    );
    // URI values are decoded, then encoded again as one path segment each: they pick the
    // repository, never the path. `..` is refused before anything is sent.
    assert_eq!(r[5]["contents"][0]["uri"], "github://repos/a%2Fb/c%3Fd");
    assert!(seen.iter().any(|s| s.uri == "/repos/a%2Fb/c%3Fd"));
    assert_eq!(r[6]["code"], -32602, "{}", r[6]);
    assert!(
        r[6]["error"].as_str().unwrap().contains("`.` or `..`"),
        "{}",
        r[6]
    );
    assert!(!up.requests().iter().any(|s| s.uri.contains("..")));
}

/// The next notification of a `subscriptions/listen` stream, within 10 s.
async fn next_notification(sub: &mut rmcp::service::Subscription) -> ServerNotification {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a notification within 10 s")
        .expect("the subscription is open")
        .expect("a notification")
}

/// The text of `uri` as served now.
async fn read_text(client: &crate::common::gateway::Client, uri: &str) -> String {
    let r = client
        .peer()
        .send_request(ClientRequest::ReadResourceRequest(
            ReadResourceRequest::new(ReadResourceRequestParams::new(uri)),
        ))
        .await
        .expect("resources/read answers");
    let rmcp::model::ServerResult::ReadResourceResult(r) = r else {
        panic!("resources/read answered {r:?}");
    };
    match r.contents.into_iter().next() {
        Some(rmcp::model::ResourceContents::TextResourceContents { text, .. }) => text,
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn a_reload_serves_edited_resource_files_and_announces_them_and_changed_lists() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = fast_polling_petstore();
    let manifest = dir.path().join("gateway.yaml");
    let gw = serve(&manifest, &[], &[("PETSTORE_BASE_URL", &up.url())]);
    rt.block_on(async {
        let client = client_2026(&gw.url).await;
        let filter = SubscriptionFilter::builder()
            .prompts_list_changed()
            .resources_list_changed()
            .resource_subscription("petstore://care-guide")
            .build();
        let mut sub = client.peer().listen(filter).await.expect("listen");
        // A resource file is a reload input: its new text is served; as its listed size
        // changed, resource listeners are told, and its subscribers that it was updated.
        std::fs::write(dir.path().join("care-guide.md"), "# New advice\n").unwrap();
        let n = next_notification(&mut sub).await;
        assert!(
            matches!(n, ServerNotification::ResourceListChangedNotification(_)),
            "{n:?}"
        );
        let n = next_notification(&mut sub).await;
        let ServerNotification::ResourceUpdatedNotification(u) = n else {
            panic!("expected resources/updated, got {n:?}");
        };
        assert_eq!(u.params.uri, "petstore://care-guide");
        assert_eq!(
            read_text(&client, "petstore://care-guide").await,
            "# New advice\n"
        );

        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            text.replace("title: Adopt a pet", "title: Adopt one pet"),
        )
        .unwrap();
        let n = next_notification(&mut sub).await;
        assert!(
            matches!(n, ServerNotification::PromptListChangedNotification(_)),
            "{n:?}"
        );

        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, text.replace("name: care_guide", "name: guide")).unwrap();
        let n = next_notification(&mut sub).await;
        assert!(
            matches!(n, ServerNotification::ResourceListChangedNotification(_)),
            "{n:?}"
        );
    });
}

#[test]
fn a_template_variable_with_an_enum_completes_from_it_and_refuses_other_values() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let spec = "/reports/{period}:\n    get:\n      operationId: report\n      parameters:\n        - {name: period, in: path, required: true, schema: {type: string, enum: [daily, weekly, monthly]}}\n      responses:\n        '200': {description: A report., content: {application/json: {schema: {type: object}}}}\n";
    let manifest = "resources:\n  - uri_template: reports://{period}\n    name: report\n    operation: report\n";
    let (_dir, gw) = serve_with_spec(&up, spec, manifest);
    let steps = json!([
        {"op": "complete", "ref": {"type": "ref/resource", "uri": "reports://{period}"}, "argument": {"name": "period", "value": "w"}},
        {"op": "complete", "ref": {"type": "ref/resource", "uri": "reports://{period}"}, "argument": {"name": "period", "value": ""}},
        {"op": "read", "uri": "reports://weekly"},
        {"op": "read", "uri": "reports://hourly"},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    assert_eq!(r[1]["completion"]["values"], json!(["weekly"]));
    assert_eq!(
        r[2]["completion"],
        json!({"values": ["daily", "weekly", "monthly"], "total": 3, "hasMore": false})
    );
    assert_eq!(
        serde_json::from_str::<Value>(r[3]["contents"][0]["text"].as_str().unwrap()).unwrap(),
        json!({"path": "/reports/weekly"})
    );
    assert_eq!(r[4]["code"], -32602, "{}", r[4]);
    assert!(
        r[4]["error"].as_str().unwrap().contains("`period`"),
        "{}",
        r[4]
    );
    assert!(!up.requests().iter().any(|s| s.uri.contains("hourly")));
}
