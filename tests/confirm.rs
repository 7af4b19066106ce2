//! `confirm:` and `ask:`: the gateway asks the user before a call, through real rmcp clients
//! in both protocol eras (2026-07-28 `InputRequiredResult` rounds; 2025-era `elicitation/create`
//! on a session), against a raw upstream that counts what reached it. Accept sends exactly one
//! request; decline, cancel, a forged or replayed `requestState`, and a client that cannot ask
//! its user send none. The official TypeScript SDK client does the same in the 2025 era, over
//! stdio and on an HTTP session. Also `mcp_header:` (`x-mcp-header` / `Mcp-Param-*`).

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ElicitationCapability, ErrorCode, ErrorData,
};
use rmcp::service::{ClientServiceExt as _, RequestContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use serde_json::{Map, Value, json};

use crate::common::gateway::{self, Gateway, serve, ts_client};
use crate::common::raw::{self, RawUpstream};
use crate::common::{path, runtime, write};

/// The user at the client: answers every question with `action`, filling forms from `values`;
/// remembers each message shown. `elicit: false` declares no elicitation capability.
#[derive(Clone)]
struct User {
    action: ElicitationAction,
    values: Map<String, Value>,
    elicit: bool,
    shown: Arc<Mutex<Vec<String>>>,
}

impl User {
    fn new(action: ElicitationAction) -> Self {
        Self {
            action,
            values: Map::new(),
            elicit: true,
            shown: Arc::default(),
        }
    }

    fn giving(mut self, field: &str, v: Value) -> Self {
        self.values.insert(field.into(), v);
        self
    }

    fn shown(&self) -> Vec<String> {
        self.shown.lock().unwrap().clone()
    }
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        let mut c = ClientConfig::default();
        if self.elicit {
            let mut caps = ClientCapabilities::default();
            caps.elicitation = Some(ElicitationCapability::default());
            c.capabilities = caps;
        }
        c
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _cx: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        self.shown.lock().unwrap().push(message);
        let mut r = ElicitResult::new(self.action.clone());
        if self.action == ElicitationAction::Accept {
            let content: Map<String, Value> = requested_schema
                .properties
                .keys()
                .filter_map(|k| self.values.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            r = r.with_content(Value::Object(content));
        }
        Ok(r)
    }
}

type Client = RunningService<RoleClient, User>;

async fn connect_2026(url: &str, user: User) -> Client {
    user.serve_with_lifecycle(
        rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_string()),
        rmcp::service::ClientLifecycleMode::Discover {
            preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .expect("the rmcp client discovers the server")
}

async fn connect_2025(url: &str, user: User) -> Client {
    user.serve(rmcp::transport::StreamableHttpClientTransport::from_uri(
        url.to_string(),
    ))
    .await
    .expect("the rmcp client connects")
}

/// The petstore API behind a raw upstream, with a confirmed delete (`confirm_destructive`), a
/// rename whose new name the user gives (`ask:`) and confirms, and a mirrored header. The raw
/// upstream answers `{}`, so output schemas are off.
fn setup(rt: &tokio::runtime::Runtime, args: &[&str]) -> (RawUpstream, Gateway, tempfile::TempDir) {
    let up = rt.block_on(raw::start());
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: confirming
openapi: {spec}
upstream: {{base_url: "{url}"}}
confirm_destructive: true
tools:
  - operation: deletePet
    name: delete_pet
    description: Deletes a pet for good.
    confirm: "Delete pet {{{{ petId }}}}?"
  - operation: updatePet
    name: rename_pet
    description: Renames a pet (overwrites its record).
    params:
      name: {{ask: What should the pet be called?}}
    confirm: "Rename pet {{{{ petId }}}} to {{{{ name }}}}?"
    output_schema: false
  - operation: listPets
    name: list_pets
    params:
      X-Request-Id: {{mcp_header: Request-Id}}
    output_schema: false
"#,
            spec = path("gateways/petstore/openapi.yaml").display(),
            url = up.url(),
        ),
    );
    let gw = serve(&manifest, args, &[]);
    (up, gw, dir)
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_string()).with_arguments(args.as_object().cloned().unwrap())
}

fn text(r: &rmcp::model::CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn confirm_2026_accept_sends_one_request_after_the_user_saw_the_call() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let user = User::new(ElicitationAction::Accept);
        let client = connect_2026(&url, user.clone()).await;
        let r = client
            .call_tool(call("delete_pet", json!({"petId": 7})))
            .await
            .expect("the call completes");
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert_eq!(user.shown(), vec!["Delete pet 7?".to_string()]);
        let seen = up.requests();
        assert_eq!(seen.len(), 1, "exactly one upstream request");
        assert_eq!(seen[0].line, "DELETE /pets/7 HTTP/1.1");
        let _ = client.cancel().await;
    });
}

#[test]
fn confirm_2026_decline_and_cancel_send_nothing() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        for (action, word) in [
            (ElicitationAction::Decline, "declined"),
            (ElicitationAction::Cancel, "cancelled"),
        ] {
            let client = connect_2026(&url, User::new(action)).await;
            let r = client
                .call_tool(call("delete_pet", json!({"petId": 7})))
                .await
                .expect("the call completes");
            assert_eq!(r.is_error, Some(true));
            let t = text(&r);
            assert!(t.contains(&format!("The user {word}")), "{t}");
            assert!(t.contains("Nothing was sent to the API"), "{t}");
            let _ = client.cancel().await;
        }
        assert_eq!(up.count(), 0, "nothing reached the upstream");
    });
}

#[test]
fn confirm_2026_forged_or_replayed_request_state_is_refused() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let client = connect_2026(&url, User::new(ElicitationAction::Accept)).await;
        let first = client
            .call_tool_once(call("delete_pet", json!({"petId": 7})))
            .await
            .expect("an answer");
        let CallToolResponse::InputRequired(asked) = first else {
            panic!("expected an InputRequiredResult, got {first:?}");
        };
        let requests = asked.input_requests.clone().expect("input requests");
        assert_eq!(requests.keys().collect::<Vec<_>>(), vec!["confirm"]);
        let state = asked.request_state.clone().expect("a requestState");
        let mut accept = std::collections::BTreeMap::new();
        accept.insert("confirm".to_string(), json!({"action": "accept"}));

        let retry = |args: Value, state: String| {
            let mut p = call("delete_pet", args);
            p.input_responses = Some(accept.clone());
            p.request_state = Some(state);
            p
        };
        // The user confirmed deleting pet 7: replayed for pet 8 it is refused.
        let replayed = client
            .call_tool_once(retry(json!({"petId": 8}), state.clone()))
            .await;
        let Err(rmcp::service::ServiceError::McpError(e)) = replayed else {
            panic!("replay with other arguments must be refused: {replayed:?}");
        };
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("does not belong to this call"), "{}", e.message);
        // An altered state is refused.
        let mut forged = state.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let tampered = client.call_tool_once(retry(json!({"petId": 7}), forged)).await;
        assert!(
            matches!(tampered, Err(rmcp::service::ServiceError::McpError(ref e)) if e.code == ErrorCode::INVALID_PARAMS),
            "{tampered:?}"
        );
        // A confirmation without the state it was asked under is not one: asked again.
        let mut bare = call("delete_pet", json!({"petId": 7}));
        bare.input_responses = Some(accept.clone());
        let again = client.call_tool_once(bare).await.expect("an answer");
        assert!(matches!(again, CallToolResponse::InputRequired(_)), "{again:?}");
        assert_eq!(up.count(), 0, "nothing reached the upstream");

        // The genuine state with the arguments it was issued for goes through, once.
        let done = client
            .call_tool_once(retry(json!({"petId": 7}), state))
            .await
            .expect("an answer");
        assert!(matches!(done, CallToolResponse::Complete(ref r) if r.is_error != Some(true)), "{done:?}");
        assert_eq!(up.count(), 1);
        let _ = client.cancel().await;
    });
}

#[test]
fn confirm_2026_client_without_elicitation_is_refused() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let mut user = User::new(ElicitationAction::Accept);
        user.elicit = false;
        let client = connect_2026(&url, user).await;
        let r = client
            .call_tool(call("delete_pet", json!({"petId": 7})))
            .await;
        let Err(rmcp::service::ServiceError::McpError(e)) = r else {
            panic!("expected -32021: {r:?}");
        };
        assert_eq!(e.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
        assert!(e.message.contains("cannot ask its user"), "{}", e.message);
        assert!(e.message.contains("Nothing was sent"), "{}", e.message);
        assert_eq!(up.count(), 0);
        let _ = client.cancel().await;
    });
}

#[test]
fn ask_2026_sends_the_value_the_user_gave_and_the_model_cannot_give_it() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let user = User::new(ElicitationAction::Accept).giving("name", json!("Rex"));
        let client = connect_2026(&url, user.clone()).await;
        let tools = client.list_all_tools().await.unwrap();
        let rename = tools.iter().find(|t| t.name == "rename_pet").unwrap();
        let props = rename.input_schema.get("properties").unwrap();
        assert!(
            props.get("name").is_none(),
            "asked parameters are not advertised: {props}"
        );

        // The model supplying it is refused like any unknown argument.
        let r = client
            .call_tool(call("rename_pet", json!({"petId": 3, "name": "Evil"})))
            .await
            .expect("an answer");
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("unknown argument `name`"), "{}", text(&r));
        assert_eq!(up.count(), 0);

        let r = client
            .call_tool(call("rename_pet", json!({"petId": 3})))
            .await
            .expect("an answer");
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert_eq!(
            user.shown(),
            vec![
                "What should the pet be called?".to_string(),
                "Rename pet 3 to Rex?".to_string()
            ]
        );
        let seen = up.requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].line, "PUT /pets/3 HTTP/1.1");
        let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
        assert_eq!(body, json!({"name": "Rex"}));
        let _ = client.cancel().await;
    });
}

#[test]
fn confirm_and_ask_2025_on_a_session_use_elicitation() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &["--sessions"]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let user = User::new(ElicitationAction::Accept).giving("name", json!("Rex"));
        let client = connect_2025(&url, user.clone()).await;
        let r = client
            .call_tool(call("rename_pet", json!({"petId": 3})))
            .await
            .expect("an answer");
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert_eq!(
            user.shown(),
            vec![
                "What should the pet be called?".to_string(),
                "Rename pet 3 to Rex?".to_string()
            ]
        );
        assert_eq!(up.count(), 1);
        let body: Value = serde_json::from_slice(&up.requests()[0].body).unwrap();
        assert_eq!(body, json!({"name": "Rex"}));
        let _ = client.cancel().await;

        for (action, word) in [
            (ElicitationAction::Decline, "declined"),
            (ElicitationAction::Cancel, "cancelled"),
        ] {
            let client = connect_2025(&url, User::new(action)).await;
            let r = client
                .call_tool(call("delete_pet", json!({"petId": 7})))
                .await
                .expect("an answer");
            assert_eq!(r.is_error, Some(true));
            assert!(
                text(&r).contains(&format!("The user {word}")),
                "{}",
                text(&r)
            );
            let _ = client.cancel().await;
        }
        let mut mute = User::new(ElicitationAction::Accept);
        mute.elicit = false;
        let client = connect_2025(&url, mute).await;
        let r = client
            .call_tool(call("delete_pet", json!({"petId": 7})))
            .await
            .expect("an answer");
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("cannot ask its user"), "{}", text(&r));
        let _ = client.cancel().await;
        assert_eq!(up.count(), 1, "only the accepted call reached the upstream");
    });
}

#[test]
fn confirm_2025_without_a_session_is_refused() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let client = connect_2025(&url, User::new(ElicitationAction::Accept)).await;
        let r = client
            .call_tool(call("delete_pet", json!({"petId": 7})))
            .await
            .expect("an answer");
        assert_eq!(r.is_error, Some(true));
        assert!(
            text(&r).contains("only be asked on a session"),
            "{}",
            text(&r)
        );
        assert_eq!(up.count(), 0);
        let _ = client.cancel().await;
    });
}

#[test]
fn mcp_header_is_advertised_and_checked_against_the_arguments() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let client = connect_2026(&url, User::new(ElicitationAction::Accept)).await;
        let tools = client.list_all_tools().await.unwrap();
        let list = tools.iter().find(|t| t.name == "list_pets").unwrap();
        assert_eq!(
            list.input_schema["properties"]["X-Request-Id"]["x-mcp-header"],
            json!("Request-Id")
        );
        // The rmcp client mirrors the argument into `Mcp-Param-Request-Id` itself.
        let id = "0b6e1e9c-8c4e-4f5e-9d1a-2f3b4c5d6e7f";
        let r = client
            .call_tool(call("list_pets", json!({"X-Request-Id": id})))
            .await
            .expect("an answer");
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert_eq!(up.count(), 1);
        assert_eq!(up.requests()[0].header_values("x-request-id"), vec![id]);
        let _ = client.cancel().await;

        // A header that says something else than the arguments: 400, -32020, nothing sent.
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "list_pets", "arguments": {"X-Request-Id": id},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }}});
        let resp = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "list_pets")
            .header("mcp-param-request-id", "someone-else")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400);
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"]["code"], json!(-32020), "{answer}");
        assert_eq!(
            up.count(),
            1,
            "the mismatched call never reached the upstream"
        );
    });
}

#[test]
fn the_typescript_sdk_is_asked_over_stdio_and_on_a_session() {
    let rt = runtime();
    let (up, gw, dir) = setup(&rt, &["--sessions"]);
    let m = dir.path().join("gateway.yaml").display().to_string();
    let bin = env!("CARGO_BIN_EXE_mcp-gateway");
    let url = format!("{}/mcp", gw.origin());
    let rename = json!([
        {"op": "call", "name": "rename_pet", "arguments": {"petId": 3}},
        {"op": "elicited"}
    ]);
    let accept = json!({"action": "accept", "content": {"name": "Rex"}}).to_string();
    let stdio = vec!["stdio", bin, "serve", m.as_str(), "--stdio"];
    let http = vec!["http", url.as_str()];
    for target in [&stdio, &http] {
        let before = up.count();
        let r = ts_client(target, &rename, &[("MCP_ELICIT", &accept)]);
        assert_ne!(r[1]["isError"], json!(true), "{target:?}: {}", r[1]);
        assert_eq!(
            r[2]["shown"],
            json!(["What should the pet be called?", "Rename pet 3 to Rex?"]),
            "{target:?}"
        );
        assert_eq!(up.count(), before + 1, "{target:?}: one upstream request");
        let last = up.requests().pop().unwrap();
        assert_eq!(last.line, "PUT /pets/3 HTTP/1.1");
        assert_eq!(
            serde_json::from_slice::<Value>(&last.body).unwrap(),
            json!({"name": "Rex"})
        );
    }
    let delete = json!([{"op": "call", "name": "delete_pet", "arguments": {"petId": 7}}]);
    let before = up.count();
    for action in ["decline", "cancel"] {
        let answer = json!({"action": action}).to_string();
        let r = ts_client(&stdio, &delete, &[("MCP_ELICIT", &answer)]);
        assert_eq!(r[1]["isError"], json!(true), "{}", r[1]);
        assert!(
            gateway::text(&r[1]).contains("Nothing was sent"),
            "{}",
            r[1]
        );
    }
    let r = ts_client(&http, &delete, &[]);
    assert_eq!(r[1]["isError"], json!(true), "{}", r[1]);
    assert!(
        gateway::text(&r[1]).contains("cannot ask its user"),
        "{}",
        r[1]
    );
    assert_eq!(up.count(), before, "nothing reached the upstream");
}

#[test]
fn replicas_sharing_the_state_key_accept_each_others_request_state() {
    let rt = runtime();
    let (up, _gw, dir) = setup(&rt, &[]);
    let manifest = dir.path().join("gateway.yaml");
    let key = [("MCP_GATEWAY_STATE_KEY", "a shared secret for the test")];
    let a = serve(&manifest, &[], &key);
    let b = serve(&manifest, &[], &key);
    let other = serve(
        &manifest,
        &[],
        &[("MCP_GATEWAY_STATE_KEY", "another secret")],
    );
    rt.block_on(async {
        let user = User::new(ElicitationAction::Accept);
        let on_a = connect_2026(&format!("{}/mcp", a.origin()), user.clone()).await;
        let asked = on_a
            .call_tool_once(call("delete_pet", json!({"petId": 7})))
            .await
            .expect("an answer");
        let CallToolResponse::InputRequired(asked) = asked else {
            panic!("expected an InputRequiredResult, got {asked:?}");
        };
        let mut retry = call("delete_pet", json!({"petId": 7}));
        let mut accept = std::collections::BTreeMap::new();
        accept.insert("confirm".to_string(), json!({"action": "accept"}));
        retry.input_responses = Some(accept);
        retry.request_state = asked.request_state.clone();

        let on_other = connect_2026(&format!("{}/mcp", other.origin()), user.clone()).await;
        let refused = on_other.call_tool_once(retry.clone()).await;
        assert!(
            matches!(refused, Err(rmcp::service::ServiceError::McpError(ref e)) if e.code == ErrorCode::INVALID_PARAMS),
            "a replica with another key refuses the state: {refused:?}"
        );
        assert_eq!(up.count(), 0);

        let on_b = connect_2026(&format!("{}/mcp", b.origin()), user).await;
        let done = on_b.call_tool_once(retry).await.expect("an answer");
        assert!(
            matches!(done, CallToolResponse::Complete(ref r) if r.is_error != Some(true)),
            "{done:?}"
        );
        assert_eq!(up.count(), 1);
        for c in [on_a, on_b, on_other] {
            let _ = c.cancel().await;
        }
    });
}

#[test]
fn ask_2026_an_invalid_answer_is_asked_again_with_the_reason() {
    let rt = runtime();
    let (up, gw, _dir) = setup(&rt, &[]);
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let client = connect_2026(&url, User::new(ElicitationAction::Accept)).await;
        let first = client
            .call_tool_once(call("rename_pet", json!({"petId": 3})))
            .await
            .expect("an answer");
        let CallToolResponse::InputRequired(asked) = first else {
            panic!("expected an InputRequiredResult, got {first:?}");
        };
        // The spec's Pet name has `minLength: 1`.
        let mut retry = call("rename_pet", json!({"petId": 3}));
        let mut answers = std::collections::BTreeMap::new();
        answers.insert(
            "name".to_string(),
            json!({"action": "accept", "content": {"name": ""}}),
        );
        retry.input_responses = Some(answers);
        retry.request_state = asked.request_state.clone();
        let again = client.call_tool_once(retry).await.expect("an answer");
        let CallToolResponse::InputRequired(again) = again else {
            panic!("an invalid answer is asked again: {again:?}");
        };
        let question = serde_json::to_value(&again.input_requests.unwrap()["name"]).unwrap();
        let message = question["params"]["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with("What should the pet be called?")
                && message.contains("The last answer was not valid"),
            "{message}"
        );
        assert_eq!(up.count(), 0);
        let _ = client.cancel().await;
    });
}
