//! Inbound OAuth and outbound credentials, proven against a real authorization server
//! (oauth2-mock-server on loopback, driven by tests/node/oauth.mjs): the attack table, scopes
//! (403 step-up, filtered `tools/list`), key rotation and the refetch rate limit, API keys,
//! introspection, the upstream's client-credentials token, and the official TypeScript SDK's
//! OAuth flow end to end.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::gateway::{Gateway, node, require_node_packages, serve_at, text, ts_client};
use crate::common::{bin, path, runtime, upstream, write};

const GATEWAY_SECRET: &str = "gw-client-secret-5d1e";
const SDK_SECRET: &str = "sdk-client-secret-a47b";
const API_KEY: &str = "ci-api-key-0b9c2f";

/// The authorization server: a Node process answering one JSON command per line.
struct Issuer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    url: String,
}

impl Issuer {
    fn start(audience: &str) -> Issuer {
        require_node_packages();
        let mut child = Command::new(node())
            .arg(path("tests/node/oauth.mjs"))
            .arg(audience)
            .env("GATEWAY_CLIENT_SECRET", GATEWAY_SECRET)
            .env("SDK_CLIENT_SECRET", SDK_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let hello: Value = serde_json::from_str(&line).expect("the issuer announces itself");
        Issuer {
            child,
            stdin,
            stdout,
            url: hello["issuer"].as_str().unwrap().to_string(),
        }
    }

    fn ask(&mut self, cmd: Value) -> Value {
        writeln!(self.stdin, "{cmd}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v.get("error").is_none(), "issuer: {v}");
        v
    }

    fn token(&mut self, claims: Value) -> String {
        self.ask(json!({"op": "token", "claims": claims}))["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn stats(&mut self) -> Value {
        self.ask(json!({"op": "stats"}))
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago (the resource URI names it before the gateway
/// starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const MANIFEST: &str = r#"name: secured
openapi: SPEC
upstream:
  base_url: ${UP}
  auth:
    type: oauth2_client_credentials
    token_url: ${ISSUER}/token
    client_id: gateway
    client_secret: {env: GATEWAY_CLIENT_SECRET}
    scopes: [upstream:pets]
    audience: http://upstream.test
  identity_headers:
    X-User-Id: sub
    X-User-Email: email
auth:
  resource: ${RESOURCE}
  oauth:
    issuer: ${ISSUER}
    introspection:
      endpoint: ${ISSUER}/introspect
      client_id: gateway
      client_secret: {env: GATEWAY_CLIENT_SECRET}
  api_keys:
    - name: ci
      sha256: {env: CI_KEY_SHA256}
      scopes: [pets:read]
  default_scopes: [pets:read]
tools:
  - operation: listPets
    name: find_pets
    params:
      X-Request-Id: {hide: true}
  - operation: getPetById
    name: get_pet
  - operation: createPet
    name: add_pet
    scopes: [pets:write]
  - operation: DELETE /pets/{petId}
    name: delete_pet
    scopes: [pets:write, pets:admin]
"#;

/// Issuer, upstream and gateway, wired together.
struct Setup {
    issuer: Issuer,
    up: upstream::Upstream,
    gw: Gateway,
    resource: String,
    dir: tempfile::TempDir,
}

impl Setup {
    fn start(rt: &tokio::runtime::Runtime) -> Setup {
        let port = free_port();
        let resource = format!("http://127.0.0.1:{port}/mcp");
        let issuer = Issuer::start(&resource);
        let up = rt.block_on(upstream::start());
        let dir = tempfile::tempdir().unwrap();
        let spec = path("gateways/petstore/openapi.yaml");
        let manifest = write(
            dir.path(),
            "gateway.yaml",
            &MANIFEST.replace("SPEC", &spec.display().to_string()),
        );
        let digest = sha256_hex(API_KEY);
        let gw = serve_at(
            &manifest,
            &format!("127.0.0.1:{port}"),
            &[],
            &[
                ("UP", &up.url()),
                ("ISSUER", &issuer.url),
                ("RESOURCE", &resource),
                ("GATEWAY_CLIENT_SECRET", GATEWAY_SECRET),
                ("CI_KEY_SHA256", &digest),
            ],
        );
        Setup {
            issuer,
            up,
            gw,
            resource,
            dir,
        }
    }

    fn metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.gw.origin()
        )
    }
}

/// One JSON-RPC POST the way a 2025-era client sends it: status, `WWW-Authenticate`, body.
async fn post(url: &str, token: Option<&str>, body: &Value) -> (u16, String, Value) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        challenge,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn call(name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

fn list() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
}

fn tool_names(body: &Value) -> Vec<String> {
    body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools/list result: {body}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The payload of a JWT, unverified (the test only reads what the upstream was sent).
fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

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
            async move { tool_names(&post(&url, Some(&t), &list()).await.2) }
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
fn the_upstream_gets_the_gateways_own_token_and_identity_never_the_callers_token() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let caller = s
        .issuer
        .token(json!({"scope": "pets:read", "sub": "alice", "email": "alice@example.com"}));
    let gw_url = s.gw.url.clone();
    // Eight concurrent calls on a cold cache: one token request between them.
    rt.block_on(async {
        let calls = (0..8).map(|i| {
            let (url, t) = (gw_url.clone(), caller.clone());
            async move { post(&url, Some(&t), &call("get_pet", json!({"petId": i + 1}))).await }
        });
        for (status, _, body) in futures_util::future::join_all(calls).await {
            assert_eq!(
                (status, &body["result"]["isError"]),
                (200, &json!(false)),
                "{body}"
            );
        }
        for i in 0..4 {
            post(
                &gw_url,
                Some(&caller),
                &call("get_pet", json!({"petId": 20 + i})),
            )
            .await;
        }
    });
    let stats = s.issuer.stats();
    let gateway_requests: Vec<&Value> = stats["token_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["client_id"] == "gateway")
        .collect();
    assert_eq!(
        gateway_requests.len(),
        1,
        "12 calls, 8 of them concurrent, share one cached token: {stats}"
    );
    assert_eq!(gateway_requests[0]["grant_type"], "client_credentials");
    assert_eq!(gateway_requests[0]["scope"], "upstream:pets");
    let seen = s.up.requests();
    assert_eq!(seen.len(), 12);
    for r in &seen {
        let auth = r.headers["authorization"].to_str().unwrap();
        let token = auth
            .strip_prefix("Bearer ")
            .expect("a bearer token upstream");
        assert_ne!(token, caller, "the caller's token must never be forwarded");
        let claims = jwt_payload(token);
        assert_eq!(claims["client_id"], "gateway", "{claims}");
        assert_eq!(claims["aud"], "http://upstream.test", "{claims}");
        assert_eq!(claims["iss"], s.issuer.url.as_str());
        assert_eq!(r.headers["x-user-id"], "alice");
        assert_eq!(r.headers["x-user-email"], "alice@example.com");
        assert!(
            !r.headers
                .iter()
                .any(|(_, v)| v.as_bytes() == caller.as_bytes()
                    || v.to_str().unwrap_or("").contains(&caller)),
            "the caller's token appears in an upstream header"
        );
    }
    let upstream_token = seen[0].headers["authorization"].to_str().unwrap()[7..].to_string();

    // Secrets never reach the logs, nor `inspect` or `validate` output.
    let log: String = s.gw.log.try_iter().collect::<Vec<_>>().join("\n");
    assert!(log.contains("fetched an upstream access token"), "{log}");
    let dir = s.dir.path().join("gateway.yaml");
    let mut outputs = vec![("gateway log", log)];
    for cmd in [vec!["inspect"], vec!["validate"], vec!["inspect", "--json"]] {
        let out = bin()
            .args(&cmd)
            .arg(&dir)
            .env("UP", s.up.url())
            .env("ISSUER", &s.issuer.url)
            .env("RESOURCE", &s.resource)
            .env("GATEWAY_CLIENT_SECRET", GATEWAY_SECRET)
            .env("CI_KEY_SHA256", sha256_hex(API_KEY))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((
            "command output",
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ));
    }
    for (what, text) in outputs {
        for secret in [
            GATEWAY_SECRET,
            API_KEY,
            &caller,
            &upstream_token,
            SDK_SECRET,
        ] {
            assert!(
                !text.contains(secret),
                "a secret appears in the {what}:\n{text}"
            );
        }
    }
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
    // After the refetch interval a rotated key is found with one refetch.
    std::thread::sleep(std::time::Duration::from_millis(10_500));
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
    let tools: Vec<&str> = r[1]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r[1]))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
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
