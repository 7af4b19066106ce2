//! Inbound authorization, proven against a real authorization server (oauth2-mock-server on
//! loopback, driven by tests/node/oauth.mjs): the attack table, Protected Resource Metadata,
//! scopes (403 step-up, filtered `tools/list`), key rotation and the refetch rate limit, API
//! keys, introspection, session mode and stdio, diagnostics, and the official TypeScript SDK's
//! OAuth flow end to end.

use serde_json::{Value, json};

use crate::common::gateway::{text, tool_names, ts_client};
use crate::common::oauth::{
    API_KEY, SDK_SECRET, Setup, call, jwt_payload, list, listed_names, post,
};
use crate::common::{bin, path, runtime, write};

#[test]
fn attack_table_each_token_is_refused_with_the_exact_status_and_challenge() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let attacks = s.issuer.ask(json!({"op": "attacks"}));
    let meta = s.metadata_url();
    let invalid = |why: &str| {
        format!(
            "Bearer error=\"invalid_token\", resource_metadata=\"{meta}\", scope=\"pets:read\", error_description=\"{why}\""
        )
    };
    let cases: Vec<(&str, Option<&str>, u16, String)> = vec![
        (
            "no token",
            None,
            401,
            format!("Bearer resource_metadata=\"{meta}\", scope=\"pets:read\""),
        ),
        (
            "expired",
            Some("expired"),
            401,
            invalid("the token has expired"),
        ),
        (
            "not yet valid",
            Some("not_yet_valid"),
            401,
            invalid("the token is not valid yet"),
        ),
        (
            "wrong issuer",
            Some("wrong_issuer"),
            401,
            invalid("the token was issued by another authorization server"),
        ),
        (
            "wrong audience",
            Some("wrong_audience"),
            401,
            invalid("the token was not issued for this resource"),
        ),
        (
            "bad signature",
            Some("bad_signature"),
            401,
            invalid("the token's signature is invalid"),
        ),
        (
            "unknown kid",
            Some("unknown_kid"),
            401,
            invalid("the token's signing key is unknown"),
        ),
        (
            "alg none",
            Some("alg_none"),
            401,
            invalid("the token is malformed"),
        ),
        (
            "HS256 signed with the public key",
            Some("hs256_public_key"),
            401,
            invalid("the token's algorithm is not allowed for the issuer's key"),
        ),
        (
            "nbf as a string (CVE-2026-25537)",
            Some("nbf_as_string"),
            401,
            invalid("the token lacks a valid `nbf` claim"),
        ),
        (
            "no exp",
            Some("no_exp"),
            401,
            invalid("the token lacks a valid `exp` claim"),
        ),
    ];
    let before = s.up.requests().len();
    rt.block_on(async {
        for (name, key, status, challenge) in &cases {
            let token = key.map(|k| attacks[k].as_str().unwrap());
            let (got, header, body) = post(&s.gw.url, token, &call("get_pet", json!({"petId": 1}))).await;
            assert_eq!((got, &header), (*status, challenge), "{name}: {body}");
        }

        // Missing scope: a valid read token calling a write tool → 403 naming every scope needed.
        let valid = attacks["valid"].as_str().unwrap();
        let (got, header, _) = post(&s.gw.url, Some(valid), &call("delete_pet", json!({"petId": 1}))).await;
        assert_eq!(got, 403, "missing scope");
        assert_eq!(
            header,
            format!(
                "Bearer error=\"insufficient_scope\", resource_metadata=\"{meta}\", scope=\"pets:write pets:admin\", error_description=\"calling delete_pet needs the scopes: pets:write pets:admin\""
            )
        );

        // Token in the query string: refused even though it is valid, with or without a header.
        let in_query = format!("{}?access_token={valid}", s.gw.url);
        for header_too in [None, Some(valid)] {
            let (got, header, _) = post(&in_query, header_too, &call("get_pet", json!({"petId": 1}))).await;
            assert_eq!(got, 401, "token in the query string");
            assert_eq!(
                header,
                format!(
                    "Bearer error=\"invalid_request\", resource_metadata=\"{meta}\", scope=\"pets:read\", error_description=\"access tokens are accepted only in the Authorization header\""
                )
            );
        }
        assert_eq!(s.up.requests().len(), before, "no refused request may reach the upstream");

        // And the valid token works, through the fast path and through rmcp (an Origin header
        // routes a call to rmcp), so the guard is in front of both.
        let (got, _, body) = post(&s.gw.url, Some(valid), &call("get_pet", json!({"petId": 7}))).await;
        assert_eq!(got, 200, "{body}");
        assert_eq!(body["result"]["isError"], false, "{body}");
        let resp = reqwest::Client::new()
            .post(&s.gw.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("origin", s.gw.origin())
            .body(call("delete_pet", json!({"petId": 1})).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "rmcp's route is guarded too");

        // A foreign Host is refused before auth runs, with or without a valid token: a
        // DNS-rebinding page learns nothing about the gateway, not even that it wants a token.
        for token in [None, Some(valid)] {
            let mut req = reqwest::Client::new()
                .post(&s.gw.url)
                .header("host", "evil.example.com")
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream");
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let resp = req
                .body(call("get_pet", json!({"petId": 7})).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 403, "foreign Host, token {token:?}");
            assert!(resp.headers().get("www-authenticate").is_none());
            assert_eq!(
                resp.text().await.unwrap(),
                "Forbidden: Host header is not allowed\n"
            );
        }
    });
}

#[test]
fn metadata_is_served_at_the_root_and_path_inserted_forms() {
    let rt = runtime();
    let s = Setup::start(&rt);
    rt.block_on(async {
        for url in [
            format!("{}/.well-known/oauth-protected-resource", s.gw.origin()),
            s.metadata_url(),
        ] {
            let resp = reqwest::get(&url).await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            let doc: Value = resp.json().await.unwrap();
            assert_eq!(doc["resource"], s.resource.as_str());
            assert_eq!(doc["authorization_servers"], json!([s.issuer.url]));
            assert_eq!(
                doc["scopes_supported"],
                json!(["pets:read", "pets:write", "pets:admin"])
            );
            assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        }
        let other = format!(
            "{}/.well-known/oauth-protected-resource/other/mcp",
            s.gw.origin()
        );
        assert_eq!(reqwest::get(&other).await.unwrap().status(), 404);
    });
}

#[test]
fn tools_list_shows_only_the_tools_the_token_may_call_and_calls_step_up() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let read = s.issuer.token(json!({"scope": "pets:read"}));
    let write = s.issuer.token(json!({"scope": "pets:read pets:write"}));
    let admin = s
        .issuer
        .token(json!({"scope": "pets:read pets:write pets:admin"}));
    let nothing = s.issuer.token(json!({"scope": "other"}));
    rt.block_on(async {
        let names = |t: String| {
            let url = s.gw.url.clone();
            async move { listed_names(&post(&url, Some(&t), &list()).await.2) }
        };
        assert_eq!(names(read.clone()).await, ["find_pets", "get_pet"]);
        assert_eq!(
            names(write.clone()).await,
            ["find_pets", "get_pet", "add_pet"]
        );
        assert_eq!(
            names(admin.clone()).await,
            ["find_pets", "get_pet", "add_pet", "delete_pet"]
        );
        assert!(names(nothing.clone()).await.is_empty());
        // Step-up: the 403 names what is missing; a token with those scopes then succeeds.
        let (got, header, _) = post(
            &s.gw.url,
            Some(&write),
            &call("delete_pet", json!({"petId": 3})),
        )
        .await;
        assert_eq!(got, 403);
        assert!(
            header.contains("scope=\"pets:write pets:admin\""),
            "{header}"
        );
        let (got, _, body) = post(
            &s.gw.url,
            Some(&admin),
            &call("delete_pet", json!({"petId": 3})),
        )
        .await;
        assert_eq!(
            (got, &body["result"]["isError"]),
            (200, &json!(false)),
            "{body}"
        );
        // A batch hides nothing: one forbidden call refuses the request.
        let batch = json!([
            call("get_pet", json!({"petId": 1})),
            call("add_pet", json!({"name": "x"}))
        ]);
        let (got, _, _) = post(&s.gw.url, Some(&read), &batch).await;
        assert_eq!(got, 403);
    });
}

#[test]
fn rotated_keys_are_found_and_unknown_kids_cannot_hammer_the_issuer() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let valid = s.issuer.token(json!({"scope": "pets:read"}));
    let unknown = s.issuer.ask(json!({"op": "attacks"}))["unknown_kid"]
        .as_str()
        .unwrap()
        .to_string();
    let url = s.gw.url.clone();
    let get = call("get_pet", json!({"petId": 1}));
    rt.block_on(async {
        assert_eq!(post(&url, Some(&valid), &get).await.0, 200);
        for _ in 0..20 {
            assert_eq!(post(&url, Some(&unknown), &get).await.0, 401);
        }
    });
    assert_eq!(
        s.issuer.stats()["jwks"],
        1,
        "20 unknown kids right after a fetch cause no refetch"
    );
    // After the refetch interval (`jwks_refetch_interval: 2s` in the manifest) a rotated key is
    // found with one refetch.
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    let kid = s.issuer.ask(json!({"op": "rotate"}))["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = s
        .issuer
        .ask(json!({"op": "token", "claims": {"scope": "pets:read"}, "kid": kid}))["token"]
        .as_str()
        .unwrap()
        .to_string();
    rt.block_on(async {
        let (status, _, body) = post(&url, Some(&rotated), &get).await;
        assert_eq!(status, 200, "{body}");
        for _ in 0..20 {
            assert_eq!(post(&url, Some(&unknown), &get).await.0, 401);
        }
        assert_eq!(
            post(&url, Some(&valid), &get).await.0,
            200,
            "the old key still works"
        );
    });
    assert_eq!(s.issuer.stats()["jwks"], 2);
}

#[test]
fn static_api_keys_and_introspected_opaque_tokens_are_accepted() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    rt.block_on(async {
        let (status, _, body) = post(
            &s.gw.url,
            Some(API_KEY),
            &call("get_pet", json!({"petId": 5})),
        )
        .await;
        assert_eq!(
            (status, &body["result"]["isError"]),
            (200, &json!(false)),
            "{body}"
        );
        assert_eq!(s.up.last().headers["x-user-id"], "ci");
        let (status, _, _) = post(
            &s.gw.url,
            Some(API_KEY),
            &call("add_pet", json!({"name": "x"})),
        )
        .await;
        assert_eq!(status, 403, "the key grants pets:read only");
        let (status, header, _) = post(
            &s.gw.url,
            Some("ci-api-key-0b9c2e"),
            &call("get_pet", json!({"petId": 5})),
        )
        .await;
        assert_eq!(status, 401);
        assert!(header.contains("error=\"invalid_token\""), "{header}");

        let (status, _, body) = post(
            &s.gw.url,
            Some("opaque-good-123"),
            &call("get_pet", json!({"petId": 6})),
        )
        .await;
        assert_eq!(
            (status, &body["result"]["isError"]),
            (200, &json!(false)),
            "{body}"
        );
        assert_eq!(s.up.last().headers["x-user-id"], "bob");
        let (status, header, _) = post(
            &s.gw.url,
            Some("opaque-revoked-9"),
            &call("get_pet", json!({"petId": 6})),
        )
        .await;
        assert_eq!(status, 401);
        assert!(
            header.contains("error_description=\"the token is not active\""),
            "{header}"
        );
    });
    // The good and revoked opaque tokens, and the wrong API key: not a JWT, so it was introspected.
    assert_eq!(s.issuer.stats()["introspections"], 3);
}

#[test]
fn the_typescript_sdk_discovers_the_authorization_server_gets_a_token_and_calls() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let steps = json!([
        {"op": "list"},
        {"op": "call", "name": "get_pet", "arguments": {"petId": 11}},
    ]);
    let r = ts_client(
        &["http", &s.gw.url],
        &steps,
        &[
            ("MCP_CLIENT_ID", "sdk"),
            ("MCP_CLIENT_SECRET", SDK_SECRET),
            ("MCP_CLIENT_SCOPE", "pets:read"),
            ("MCP_EXPECTED_ISSUER", &s.issuer.url),
        ],
    );
    assert_eq!(r[0]["server"]["name"], "secured");
    let tools = tool_names(&r[1]);
    assert_eq!(tools, ["find_pets", "get_pet"]);
    assert_eq!(r[2]["isError"], false, "{}", r[2]);
    assert!(text(&r[2]).contains("Rex"), "{}", r[2]);
    let fetched: Vec<String> = r[0]["fetched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    let saw = |needle: &str| fetched.iter().any(|f| f.contains(needle));
    assert!(saw(&format!("POST {} 401", s.gw.url)), "{fetched:#?}");
    assert!(saw("/.well-known/oauth-protected-resource"), "{fetched:#?}");
    assert!(
        saw(&format!("{}/.well-known/", s.issuer.url)),
        "{fetched:#?}"
    );
    assert!(
        saw(&format!("POST {}/token 200", s.issuer.url)),
        "{fetched:#?}"
    );
    let stats = s.issuer.stats();
    let sdk: Vec<&Value> = stats["token_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["client_id"] == "sdk")
        .collect();
    assert_eq!(sdk.len(), 1, "{stats}");
    assert_eq!(sdk[0]["grant_type"], "client_credentials");
    assert_eq!(
        sdk[0]["resource"],
        s.resource.as_str(),
        "RFC 8707 resource indicator"
    );
    // The upstream saw the gateway's token for the call, not the SDK's.
    let upstream_auth = s.up.last().headers["authorization"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(jwt_payload(&upstream_auth[7..])["client_id"], "gateway");
}

#[test]
fn the_secured_example_takes_issuer_and_audience_from_the_environment() {
    let out = bin()
        .args(["inspect", "gateways/secured/gateway.yaml"])
        .current_dir(path(""))
        .env("OAUTH_ISSUER", "https://login.example.org/tenant")
        .env("OAUTH_AUDIENCE", "https://pets-mcp.example.org/mcp")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "auth: oauth issuer https://login.example.org/tenant, audience https://pets-mcp.example.org/mcp"
        ),
        "{stdout}"
    );
}

#[test]
fn auth_mistakes_are_reported_together_with_where_and_how_to_fix_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: bad
openapi: {spec}
upstream:
  base_url: http://127.0.0.1:1
  identity_headers:
    Authorization: sub
  auth:
    type: oauth2_client_credentials
    token_url: http://login.example.com/token
    client_id: gw
    client_secret: {{env: SECRET}}
auth:
  oauth:
    issuer: http://login.example.com
  api_keys:
    - {{name: ci, sha256: {{env: A}}}}
    - {{name: ci, sha256: {{env: B}}}}
  scopes_supported: [pets:read, pets:write]
  default_scopes: ["pets read"]
tools:
  - operation: getPetById
    scopes: [pets:wirte]
"#
        ),
    );
    let diags = match crate::common::compile(&manifest).result {
        Ok(_) => panic!("the manifest must not compile"),
        Err(d) => d,
    };
    let got = crate::common::summarize(&diags);
    let want = [
        "Error identity-header @ upstream.identity_headers.Authorization 6:5: `Authorization` cannot carry the caller's identity | help: use a header of its own, such as `X-User-Id`; credentials belong in `upstream.auth`",
        "Error auth-url @ upstream.auth.token_url 9:16: the token URL `http://login.example.com/token` uses http:// to a host that is not loopback | help: use https:// (http:// is accepted only for localhost and 127.0.0.1)",
        "Error auth-url @ auth.oauth.issuer 14:13: the issuer `http://login.example.com` uses http:// to a host that is not loopback | help: use https:// (http:// is accepted only for localhost and 127.0.0.1)",
        "Error api-key @ auth.api_keys[1].name 17:14: two API keys are named `ci` | help: names identify the caller; give each key its own",
        "Error invalid-scope @ auth.default_scopes[0] 19:20: `pets read` is not a valid OAuth scope | help: a scope is printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)",
        "Error unknown-scope @ tools[0].scopes[0] 22:14: scope `pets:wirte` is not in `auth.scopes_supported` | help: did you mean `pets:write`, `pets:read`?",
    ];
    assert_eq!(got, want, "{got:#?}");
}

#[test]
fn session_mode_is_guarded_too_and_stdio_is_not_an_http_transport() {
    let rt = runtime();
    let mut s = Setup::start_with(&rt, &["--sessions"]);
    let token = s.issuer.token(json!({"scope": "pets:read"}));
    let gw = &s.gw;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    rt.block_on(async {
        let (status, header, _) = post(&gw.url, None, &init).await;
        assert_eq!(status, 401);
        assert!(header.starts_with("Bearer resource_metadata="), "{header}");
        let resp = reqwest::Client::new()
            .post(&gw.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", format!("Bearer {token}"))
            .body(init.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let session = resp.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_string();
        // The session's GET stream without a token is refused like everything else.
        let stream = reqwest::Client::new()
            .get(&gw.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 401);
    });
    // Over stdio the local user runs the gateway: no token, every tool.
    let manifest = s.manifest();
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ts_client(
        &[
            "stdio",
            env!("CARGO_BIN_EXE_mcp-gateway"),
            "serve",
            manifest.to_str().unwrap(),
            "--stdio",
        ],
        &json!([{"op": "list"}]),
        &env,
    );
    let names = tool_names(&r[1]);
    assert_eq!(names, ["find_pets", "get_pet", "add_pet", "delete_pet"]);
}
