//! Paging (`response.page:`): real pagination styles (a Stripe-like `has_more` +
//! `starting_after` list, a GitHub-like `Link` header list, a page-number list, a next URL in
//! the body) walked to the end through the rmcp client, with `max_items` smaller than the API's
//! page and not dividing it. Every item is seen exactly once and in order, every page's
//! `structuredContent` is valid against the advertised `outputSchema`, and tokens that were
//! altered, replayed with other arguments, or lead off the upstream are refused.

use std::net::SocketAddr;

use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::{Map, Value, json};

use crate::common::gateway::{Client, client_2025, client_2026, result_text as text, serve};
use crate::common::in_process::InProcess;
use crate::common::{compile, runtime, summarize, write};

/// Items per upstream page; the tools show 3 or 4 at a time.
const PAGE: usize = 10;
/// Items in every list.
const TOTAL: usize = 23;
/// The gateway's own API key for the upstream (sent in the query).
const KEY: &str = "s3cret-upstream-key";
const ENV: [(&str, &str); 1] = [("UPSTREAM_KEY", KEY)];

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Paged, version: "1"}
paths:
  /charges:
    get:
      operationId: listCharges
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: starting_after, in: query, schema: {type: string}}
      responses:
        "200":
          description: charges
          content:
            application/json:
              schema:
                type: object
                required: [data, has_more]
                properties:
                  object: {type: string}
                  has_more: {type: boolean}
                  data:
                    type: array
                    items:
                      type: object
                      required: [id, amount]
                      properties:
                        id: {type: string}
                        amount: {type: integer}
  /issues:
    get:
      operationId: listIssues
      parameters:
        - {name: page, in: query, schema: {type: integer}}
        - {name: state, in: query, schema: {type: string}}
      responses:
        "200":
          description: issues
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [number, title]
                  properties:
                    number: {type: integer}
                    title: {type: string}
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: page, in: query, schema: {type: integer}}
      responses:
        "200":
          description: items
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties:
                  page: {type: integer}
                  items:
                    type: array
                    items:
                      type: object
                      required: [n]
                      properties:
                        n: {type: integer}
  /results:
    get:
      operationId: listResults
      parameters:
        - {name: page, in: query, schema: {type: integer}}
      responses:
        "200":
          description: results
          content:
            application/json:
              schema:
                type: object
                required: [results, next]
                properties:
                  next: {type: string, nullable: true}
                  results:
                    type: array
                    items:
                      type: object
                      properties:
                        id: {type: integer}
  /offsets:
    get:
      operationId: listOffsets
      parameters:
        - {name: offset, in: query, schema: {type: integer}}
      responses:
        "200":
          description: offsets
          content:
            application/json:
              schema:
                type: object
                properties:
                  has_more: {type: boolean}
                  results: {type: array, items: {type: object, properties: {id: {type: integer}}}}
  /members:
    get:
      operationId: listMembers
      parameters:
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        "200":
          description: members
          content:
            application/json:
              schema:
                type: object
                properties:
                  members: {type: array, items: {type: object, properties: {id: {type: integer}}}}
                  response_metadata:
                    type: object
                    properties: {next_cursor: {type: string}}
  /escape:
    get:
      operationId: escape
      responses:
        "200":
          description: issues elsewhere
          content:
            application/json:
              schema:
                type: array
                items: {type: object, properties: {number: {type: integer}}}
"#;

const MANIFEST: &str = r#"
name: paged
openapi: openapi.yaml
upstream:
  base_url: BASE/api
  auth: {type: api_key, in: query, name: api_key, value: {env: UPSTREAM_KEY}}
tools:
  - operation: listCharges
    name: list_charges
    response:
      list: /data
      select: [/id]
      max_items: 3
      page: {style: cursor, param: starting_after, last_item: /id, has_more: /has_more}
  - operation: listCharges
    name: list_charges_budget
    response:
      list: /data
      select: [/id]
      max_items: 5
      page: {style: cursor, param: starting_after, last_item: /id, has_more: /has_more, max_bytes: 75}
  - operation: listIssues
    name: list_issues
    response:
      max_items: 4
      page: {style: link}
  - operation: listItems
    name: list_items
    response:
      list: /items
      max_items: 4
      page: {style: page, param: page}
  - operation: listResults
    name: list_results
    response:
      list: /results
      max_items: 3
      page: {style: next_url, next: /next}
  - operation: listOffsets
    name: list_offsets
    response:
      list: /results
      max_items: 4
      page: {style: offset, param: offset, has_more: /has_more}
  - operation: listMembers
    name: list_members
    response:
      list: /members
      max_items: 3
      page: {style: cursor, param: cursor, next: /response_metadata/next_cursor}
  - operation: escape
    name: escape
    response:
      page: {style: link}
  - operation: escape
    name: escape_path
    base_url: BASE/api/v2
    response:
      page: {style: link}
"#;

struct Params {
    page: Option<usize>,
    offset: Option<usize>,
    cursor: Option<String>,
    starting_after: Option<String>,
}

fn params(q: Option<String>) -> Params {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Params {
        page: get("page").map(|p| p.parse().unwrap_or_else(|_| panic!("a page number: {p:?}"))),
        offset: get("offset").map(|p| p.parse().unwrap_or_else(|_| panic!("an offset: {p:?}"))),
        cursor: get("cursor"),
        starting_after: get("starting_after"),
    }
}

/// Items `from..` of one upstream page of `PAGE`, and whether more follow.
fn slice(from: usize) -> (std::ops::Range<usize>, bool) {
    let end = (from + PAGE).min(TOTAL);
    (from.min(TOTAL)..end, end < TOTAL)
}

async fn upstream() -> String {
    async fn charges(RawQuery(q): RawQuery) -> impl IntoResponse {
        let q = params(q);
        let from = match q.starting_after {
            Some(id) => id[3..].parse::<usize>().expect("an id the API minted"),
            None => 0,
        };
        let (r, more) = slice(from);
        let data: Vec<Value> = r
            .map(|i| json!({"id": format!("ch_{:02}", i + 1), "amount": 100 + i}))
            .collect();
        axum::Json(json!({"object": "list", "has_more": more, "data": data}))
    }
    // Like GitHub once did with `access_token`, the links repeat the query, key included.
    async fn issues(
        State(origin): State<String>,
        RawQuery(q): RawQuery,
    ) -> axum::response::Response {
        let keys: Vec<String> =
            url::form_urlencoded::parse(q.clone().unwrap_or_default().as_bytes())
                .filter(|(k, _)| k == "api_key")
                .map(|(_, v)| v.into_owned())
                .collect();
        if keys != [KEY] {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                format!("api_key: {keys:?}"),
            )
                .into_response();
        }
        let page = params(q).page.unwrap_or(1);
        let (r, more) = slice((page - 1) * PAGE);
        let body: Vec<Value> = r
            .map(|i| json!({"number": i + 1, "title": format!("issue {}", i + 1)}))
            .collect();
        let mut links = vec![format!("<{origin}/api/issues?page=1>; rel=\"first\"")];
        if more {
            links.push(format!(
                "<{origin}/api/issues?api_key={KEY}&page={}>; rel=\"next\"",
                page + 1
            ));
        }
        ([("link", links.join(", "))], axum::Json(Value::Array(body))).into_response()
    }
    async fn items(RawQuery(q): RawQuery) -> impl IntoResponse {
        let page = params(q).page.unwrap_or(1);
        let (r, _) = slice((page - 1) * PAGE);
        let items: Vec<Value> = r.map(|i| json!({"n": i + 1})).collect();
        axum::Json(json!({"page": page, "items": items}))
    }
    async fn results(State(origin): State<String>, RawQuery(q): RawQuery) -> impl IntoResponse {
        let page = params(q).page.unwrap_or(1);
        let (r, more) = slice((page - 1) * PAGE);
        let results: Vec<Value> = r.map(|i| json!({"id": i + 1})).collect();
        let next = more.then(|| format!("{origin}/api/results?page={}", page + 1));
        axum::Json(json!({"results": results, "next": next}))
    }
    async fn offsets(RawQuery(q): RawQuery) -> impl IntoResponse {
        let (r, more) = slice(params(q).offset.unwrap_or(0));
        let results: Vec<Value> = r.map(|i| json!({"id": i + 1})).collect();
        axum::Json(json!({"results": results, "has_more": more}))
    }
    // Slack-like: an opaque cursor, "" on the last page.
    async fn members(RawQuery(q): RawQuery) -> impl IntoResponse {
        let from = params(q)
            .cursor
            .map(|c| {
                c.strip_prefix("dXNl")
                    .expect("a cursor the API minted")
                    .parse::<usize>()
                    .unwrap()
            })
            .unwrap_or(0);
        let (r, more) = slice(from);
        let next = if more {
            format!("dXNl{}", r.end)
        } else {
            String::new()
        };
        let members: Vec<Value> = r.map(|i| json!({"id": i + 1})).collect();
        axum::Json(json!({"members": members, "response_metadata": {"next_cursor": next}}))
    }
    async fn escape() -> impl IntoResponse {
        (
            [(
                "link",
                "<http://elsewhere.example/api/escape?page=2>; rel=\"next\"",
            )],
            axum::Json(json!([{"number": 1}])),
        )
    }
    // The same origin, but out of the base path `/api/v2` the tool is configured with.
    async fn escape_path(State(origin): State<String>) -> impl IntoResponse {
        (
            [(
                "link",
                format!("<{origin}/api/v2-admin/escape?page=2>; rel=\"next\""),
            )],
            axum::Json(json!([{"number": 1}])),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let app = axum::Router::new()
        .route("/api/charges", axum::routing::get(charges))
        .route("/api/issues", axum::routing::get(issues))
        .route("/api/items", axum::routing::get(items))
        .route("/api/results", axum::routing::get(results))
        .route("/api/offsets", axum::routing::get(offsets))
        .route("/api/members", axum::routing::get(members))
        .route("/api/escape", axum::routing::get(escape))
        .route("/api/v2/escape", axum::routing::get(escape_path))
        .with_state(origin.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    origin
}

async fn call(client: &Client, tool: &str, args: &Value) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await
        .expect("a tool result")
}

/// Walks `tool` from its first page to its last, returning each page's items (at `list` in
/// `structuredContent`, each mapped by `key`) and the tokens seen. Every page is checked
/// against the tool's advertised output schema.
async fn walk(
    client: &Client,
    tools: &Map<String, Value>,
    tool: &str,
    args: Value,
    list: &str,
    key: &str,
) -> (Vec<Vec<Value>>, Vec<String>) {
    let schema = &tools[tool]["outputSchema"];
    let validator = jsonschema::validator_for(schema).expect("the output schema compiles");
    let input = &tools[tool]["inputSchema"];
    assert_eq!(input["properties"]["cursor"]["type"], "string", "{input}");
    assert!(
        schema["properties"]["next"].is_object(),
        "`next` is declared: {schema}"
    );
    let mut pages = Vec::new();
    let mut tokens = Vec::new();
    let mut args = args;
    for _ in 0..20 {
        let r = call(client, tool, &args).await;
        assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
        let data = r.structured_content.clone().expect("structuredContent");
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{tool} page {}: {errors:?} in {data}",
            pages.len()
        );
        let items = data
            .pointer(list)
            .and_then(Value::as_array)
            .expect("the list");
        pages.push(items.iter().map(|i| i[key].clone()).collect());
        match data.get("next").and_then(Value::as_str) {
            Some(t) => {
                assert!(
                    text(&r).contains(t),
                    "the note names the token: {}",
                    text(&r)
                );
                tokens.push(t.to_string());
                args["cursor"] = json!(t);
            }
            None => {
                assert!(text(&r).contains("last page"), "{}", text(&r));
                return (pages, tokens);
            }
        }
    }
    panic!("{tool} did not end within 20 pages")
}

fn flat(pages: &[Vec<Value>]) -> Vec<Value> {
    pages.iter().flatten().cloned().collect()
}

#[test]
fn every_style_walks_every_item_once_with_valid_structured_content() {
    let rt = runtime();
    rt.block_on(async {
        let origin = upstream().await;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "openapi.yaml", SPEC);
        // Served in process (only the protocol matters here): the key comes from a file, as
        // the test process's environment is shared by every test.
        write(dir.path(), "upstream.key", KEY);
        let manifest = write(
            dir.path(),
            "gateway.yaml",
            &MANIFEST
                .replace("BASE", &origin)
                .replace("{env: UPSTREAM_KEY}", "{file: upstream.key}"),
        );
        let gw = InProcess::start(&manifest, Default::default()).await;
        let client = client_2025(&gw.url).await;
        let listed = client.list_all_tools().await.expect("tools/list");
        let tools: Map<String, Value> = listed
            .iter()
            .map(|t| (t.name.to_string(), serde_json::to_value(t).unwrap()))
            .collect();

        // Stripe-like: 3 of each page of 10, resuming inside the page, then `starting_after`.
        let (pages, tokens) = walk(
            &client,
            &tools,
            "list_charges",
            json!({"limit": 10}),
            "/data",
            "id",
        )
        .await;
        let want: Vec<Value> = (1..=TOTAL).map(|i| json!(format!("ch_{i:02}"))).collect();
        assert_eq!(flat(&pages), want);
        assert!(pages.iter().all(|p| p.len() <= 3), "{pages:?}");
        // Page 1 of the API gives 3 + 3 + 3 + 1: the cut never drops the rest of a page.
        assert_eq!(pages[3].len(), 1, "{pages:?}");

        // A byte budget: fewer whole items than `max_items` when they would not fit.
        let (pages, _) =
            walk(&client, &tools, "list_charges_budget", json!({}), "/data", "id").await;
        assert_eq!(flat(&pages), want);
        for p in &pages {
            let data = json!({"object": "list", "has_more": true, "data": p.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()});
            assert!(
                p.len() == 1 || serde_json::to_vec(&data).unwrap().len() <= 75,
                "{pages:?}"
            );
        }
        assert!(pages.iter().all(|p| p.len() == 2 || p.len() == 1 ), "{pages:?}");

        // GitHub-like: a root array (wrapped as `result`), the Link header's next URL.
        let (pages, issue_tokens) = walk(
            &client,
            &tools,
            "list_issues",
            json!({"state": "open"}),
            "/result",
            "number",
        )
        .await;
        assert_eq!(
            flat(&pages),
            (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>()
        );
        assert!(pages.iter().all(|p| p.len() <= 4), "{pages:?}");
        // The key the API echoed into its links is not in the tokens the agent holds.
        for t in &issue_tokens {
            for part in t.split('.') {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap_or_default();
                let readable = String::from_utf8_lossy(&bytes);
                assert!(!readable.contains(KEY) && !t.contains(KEY), "{readable}");
            }
        }
        assert!(
            issue_tokens.iter().any(|t| t.split('.').any(|p| {
                use base64::Engine as _;
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap_or_default();
                String::from_utf8_lossy(&b).contains("/api/issues?page=")
            })),
            "the check above reads the tokens' payload: {issue_tokens:?}"
        );

        // Page numbers, with no "more" flag: the walk ends at the first empty page.
        let (pages, _) = walk(&client, &tools, "list_items", json!({}), "/items", "n").await;
        assert_eq!(
            flat(&pages),
            (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>()
        );

        // A next URL in the body, whose `next` field the token replaces.
        let (pages, _) = walk(&client, &tools, "list_results", json!({}), "/results", "id").await;
        assert_eq!(
            flat(&pages),
            (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>()
        );

        // Offsets, with the API's `has_more`: no empty page at the end.
        let (pages, _) = walk(&client, &tools, "list_offsets", json!({}), "/results", "id").await;
        assert_eq!(
            flat(&pages),
            (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>()
        );
        assert!(!pages.last().unwrap().is_empty(), "{pages:?}");

        // A cursor in the answer, into the API's own `cursor` parameter, which the token takes over.
        let (pages, _) = walk(&client, &tools, "list_members", json!({}), "/members", "id").await;
        assert_eq!(
            flat(&pages),
            (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>()
        );

        // An altered token is refused, and nothing is shown.
        let t = &tokens[1];
        let mut forged: Vec<char> = t.chars().collect();
        let mid = forged.len() / 2;
        forged[mid] = if forged[mid] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        let r = call(
            &client,
            "list_charges",
            &json!({"limit": 10, "cursor": forged}),
        )
        .await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        assert!(
            text(&r).contains("not a valid continuation"),
            "{}",
            text(&r)
        );
        assert!(r.structured_content.is_none());

        // A genuine token with other arguments, or on another tool, is refused too.
        let r = call(&client, "list_charges", &json!({"limit": 5, "cursor": t})).await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        assert!(text(&r).contains("other arguments"), "{}", text(&r));
        let r = call(&client, "list_charges", &json!({"cursor": t})).await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        let r = call(&client, "list_items", &json!({"cursor": t})).await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        // The same token with the same arguments still works (tokens are not single-use).
        let r = call(&client, "list_charges", &json!({"limit": 10, "cursor": t})).await;
        assert_ne!(r.is_error, Some(true), "{}", text(&r));

        // A next link off the upstream's origin is not followed.
        let r = call(&client, "escape", &json!({})).await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        let message = text(&r);
        assert!(message.contains("http://elsewhere.example"), "{message}");
        assert!(message.contains("does not follow it"), "{message}");
        let r = call(&client, "escape_path", &json!({})).await;
        assert_eq!(r.is_error, Some(true), "{}", text(&r));
        assert!(text(&r).contains("/api/v2-admin/escape"), "{}", text(&r));
    });
}

/// Tokens carry everything: a page minted by one replica is continued by another that shares
/// `MCP_GATEWAY_STATE_KEY` (here a 2026-07-28 stateless client on the second), and refused by
/// one with another key.
#[test]
fn a_token_from_one_replica_is_continued_by_another_with_the_same_key() {
    let rt = runtime();
    rt.block_on(async {
        let origin = upstream().await;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "openapi.yaml", SPEC);
        let manifest = write(
            dir.path(),
            "gateway.yaml",
            &MANIFEST.replace("BASE", &origin),
        );
        let key = [
            ("MCP_GATEWAY_STATE_KEY", "a shared secret for the test"),
            ENV[0],
        ];
        let replicas = [serve(&manifest, &[], &key), serve(&manifest, &[], &key)];
        let other = serve(
            &manifest,
            &[],
            &[("MCP_GATEWAY_STATE_KEY", "another secret"), ENV[0]],
        );
        let clients = [
            client_2025(&replicas[0].url).await,
            client_2026(&replicas[1].url).await,
        ];
        let mut seen = Vec::new();
        let mut args = json!({});
        for i in 0..20 {
            let r = call(&clients[i % 2], "list_items", &args).await;
            assert_ne!(r.is_error, Some(true), "page {i}: {}", text(&r));
            let data = r.structured_content.expect("structuredContent");
            seen.extend(
                data["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["n"].clone()),
            );
            let Some(next) = data.get("next").and_then(Value::as_str) else {
                break;
            };
            args["cursor"] = json!(next);
            if i == 1 {
                let stranger = client_2025(&other.url).await;
                let r = call(&stranger, "list_items", &args).await;
                assert_eq!(r.is_error, Some(true), "{}", text(&r));
                assert!(
                    text(&r).contains("not a valid continuation"),
                    "{}",
                    text(&r)
                );
            }
        }
        assert_eq!(seen, (1..=TOTAL).map(|i| json!(i)).collect::<Vec<_>>());
    });
}

#[test]
fn page_mistakes_are_compile_errors_with_hints() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let manifest = MANIFEST.replace("BASE", "http://127.0.0.1:9").replacen(
        "  - operation: escape\n",
        r#"  - operation: listCharges
    name: typo_param
    response:
      list: /data
      page: {style: cursor, param: startingafter, last_item: /id}
  - operation: listCharges
    name: typo_pointer
    response:
      list: /data
      page: {style: cursor, param: starting_after, last_item: /ident, has_more: /hasmore}
  - operation: listIssues
    name: clash
    params:
      state: {rename: cursor}
    response:
      page: {style: link}
  - operation: escape
"#,
        1,
    );
    let path = write(dir.path(), "gateway.yaml", &manifest);
    let diags = compile(&path)
        .result
        .expect_err("the manifest has mistakes");
    assert_eq!(
        summarize(&diags),
        [
            "Error unknown-parameter @ tools[7].response.page.param 55:36: `startingafter` is not an argument of this tool | help: did you mean `starting_after`? The arguments are: limit, starting_after",
            "Error unknown-field @ tools[8].response.page.last_item 60:63: `/ident` is not in the schema of the list's items | help: did you mean `id`? The fields there are: id, amount",
            "Error unknown-field @ tools[8].response.page.has_more 60:81: `/hasmore` is not in the schema of the answer | help: did you mean `has_more`? The fields there are: object, has_more, data",
            "Error cursor-clash @ tools[9].response.page 66:13: this tool already has an argument named `cursor`, which paging adds | help: rename it, e.g. `params: {cursor: {rename: api_cursor}}`, or use it as the paging position with `param: cursor`",
        ]
    );
}
