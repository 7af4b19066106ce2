//! Response shaping (`response:`): fewer fields, capped lists, concise text and several content
//! blocks, with `structuredContent` and the declared `outputSchema` kept in agreement. The
//! official TypeScript SDK client checks `structuredContent` against `outputSchema` on every
//! call, so each call below also proves the rebuilt schema is true.

use serde_json::{Value, json};

use crate::common::gateway::{serve, text, ts_client};
use crate::common::{compile, path, runtime, summarize, upstream, write};

const MANIFEST: &str = r#"
name: shop
openapi: openapi.yaml
upstream:
  base_url: BASE
tools:
  - operation: listPets
    name: find_pets
    params:
      X-Request-Id: {hide: true}
    response:
      select: [/id, /name]
      max_items: 1
      text: "{% for p in result %}{{ p.id }}: {{ p.name }}{% endfor %}"
  - operation: getPetById
    name: get_pet
    response:
      select: [/id, /name]
  - operation: getPetById
    name: describe_pet
    response:
      content:
        - text: "{{ name }} is pet #{{ id }}."
        - resource: "petstore://pets/{{ id }}"
          json: ""
"#;

fn folder(manifest: &str, base: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        path("gateways/petstore/openapi.yaml"),
        dir.path().join("openapi.yaml"),
    )
    .unwrap();
    write(dir.path(), "gateway.yaml", &manifest.replace("BASE", base));
    dir
}

fn tool<'a>(listed: &'a Value, name: &str) -> &'a Value {
    listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {listed}"))
}

#[test]
fn shaped_answers_keep_structured_content_and_output_schema_in_agreement() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = folder(MANIFEST, &up.url());
    let gw = serve(&dir.path().join("gateway.yaml"), &[], &[]);
    let out = ts_client(
        &["http", &gw.url],
        &json!([
            {"op": "list"},
            {"op": "call", "name": "get_pet", "arguments": {"petId": 3}},
            {"op": "call", "name": "find_pets", "arguments": {}},
            {"op": "call", "name": "describe_pet", "arguments": {"petId": 5}},
        ]),
        &[],
    );
    // Selection: only the selected fields, in data and schema alike.
    let get_pet = tool(&out[1], "get_pet");
    let props: Vec<&String> = get_pet["outputSchema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(props, ["id", "name"]);
    assert_eq!(get_pet["outputSchema"]["required"], json!(["name"]));
    assert_eq!(
        out[2]["structuredContent"],
        json!({"id": 3, "name": "Rex"}),
        "{}",
        out[2]
    );
    assert_eq!(text(&out[2]), r#"{"id":3,"name":"Rex"}"#);

    // A capped list: one item, the cut reported in data (declared in the schema) and in text.
    let find = tool(&out[1], "find_pets");
    assert!(
        find["outputSchema"]["properties"]["_truncated"].is_object(),
        "{find}"
    );
    let r = &out[3];
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(
        r["structuredContent"]["result"],
        json!([{"id": 1, "name": "Rex"}])
    );
    assert_eq!(r["structuredContent"]["_truncated"]["shown"], 1);
    assert_eq!(r["structuredContent"]["_truncated"]["more"], 1);
    let t = text(r);
    assert!(t.starts_with("1: Rex"), "{t}");
    assert!(t.contains("1 more item not shown"), "{t}");

    // Several blocks from one answer: a text and an embedded resource.
    let r = &out[4];
    let blocks = r["content"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{r}");
    assert_eq!(blocks[0], json!({"type": "text", "text": "Rex is pet #5."}));
    assert_eq!(blocks[1]["type"], "resource");
    assert_eq!(blocks[1]["resource"]["uri"], "petstore://pets/5");
    assert_eq!(blocks[1]["resource"]["mimeType"], "application/json");
    let embedded: Value =
        serde_json::from_str(blocks[1]["resource"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(embedded["id"], 5);
    assert_eq!(r["structuredContent"]["id"], 5);
}

#[test]
fn shaping_mistakes_are_compile_diagnostics_with_lines() {
    let dir = folder(
        r#"name: shop
openapi: openapi.yaml
tools:
  - operation: getPetById
    response:
      select: [/id, /nmae]
  - operation: createPet
    response:
      text: "{{ nme }}"
  - operation: placeOrder
    response:
      max_items: 3
  - operation: getInventory
    response:
      text: "{% for x in %}"
  - operation: listPets
    response:
      content:
        - text: hi
          image: /photo
"#,
        "http://127.0.0.1:9",
    );
    let outcome = compile(&dir.path().join("gateway.yaml"));
    let diags = outcome.result.expect_err("the manifest has mistakes");
    let s = summarize(&diags).join("\n");
    for want in [
        "unknown-field @ tools[0].response.select[1] 6:",
        "`/nmae` is not in the answer's schema | help: did you mean `name`? The fields there are: id, name, tag, status, category",
        "unknown-variable @ tools[1].response.text 9:",
        "the template uses `nme`, which the answer does not have | help: did you mean `name`?",
        "no-list @ tools[2].response.max_items 12:",
        "template @ tools[3].response.text 15:",
        "content-block @ tools[4].response.content[0] 19:",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
}

/// A GitHub-shaped search answer: 12 repositories with every field GitHub sends (abridged).
async fn github_search_upstream() -> String {
    use axum::routing::get;
    let items: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "id": i, "node_id": format!("R_{i}"), "name": format!("repo{i}"),
                "full_name": format!("octo/repo{i}"), "private": false,
                "owner": {"login": "octo", "id": 1, "avatar_url": "https://example.com/a.png"},
                "html_url": format!("https://github.com/octo/repo{i}"),
                "description": if i % 2 == 0 { Value::from(format!("Repository {i}")) } else { Value::Null },
                "fork": false, "url": format!("https://api.github.com/repos/octo/repo{i}"),
                "created_at": "2020-01-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
                "pushed_at": "2026-11-01T00:00:00Z", "stargazers_count": 100 - i,
                "watchers_count": 3, "language": if i % 3 == 0 { Value::Null } else { Value::from("Rust") },
                "forks_count": 2, "open_issues_count": 1, "default_branch": "main", "score": 1.0
            })
        })
        .collect();
    let body = json!({"total_count": 12, "incomplete_results": false, "items": items});
    let app = axum::Router::new().route(
        "/search/repositories",
        get(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    crate::common::upstream::serve_app(app).await
}

#[test]
fn the_github_search_tool_returns_ten_selected_fields_per_repository_under_its_real_schema() {
    let rt = runtime();
    let url = rt.block_on(github_search_upstream());
    let gw = serve(
        &path("gateways/github/gateway.yaml"),
        &[],
        &[("GITHUB_API_URL", &url), ("GITHUB_TOKEN", "test-token")],
    );
    let out = ts_client(
        &["http", &gw.url],
        &json!([{"op": "list"}, {"op": "call", "name": "search_repos", "arguments": {"q": "octo"}}]),
        &[],
    );
    let def = tool(&out[1], "search_repos");
    let mut item_props: Vec<&String> =
        def["outputSchema"]["properties"]["items"]["items"]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{def}"))
            .keys()
            .collect();
    item_props.sort();
    assert_eq!(
        item_props,
        [
            "description",
            "full_name",
            "html_url",
            "language",
            "stargazers_count",
            "updated_at"
        ]
    );
    // The SDK validated structuredContent against that schema before handing it over.
    let r = &out[2];
    assert!(r.get("error").is_none() && r["isError"] != true, "{r}");
    let items = r["structuredContent"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(
        items[0],
        json!({"full_name": "octo/repo0", "description": "Repository 0", "language": null,
               "stargazers_count": 100, "html_url": "https://github.com/octo/repo0",
               "updated_at": "2026-11-01T00:00:00Z"})
    );
    assert_eq!(r["structuredContent"]["_truncated"]["more"], 2);
    let t = text(r);
    assert!(
        t.starts_with("12 repositories match.\n- octo/repo0 (100 stars): Repository 0"),
        "{t}"
    );
    assert!(t.contains("- octo/repo1 (99 stars, Rust): \n"), "{t}");
    assert!(t.contains("2 more items not shown"), "{t}");
}
