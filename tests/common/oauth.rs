//! A real OAuth 2.0 / OIDC authorization server for the auth tests (tests/node/oauth.mjs around
//! oauth2-mock-server), and a gateway secured by it in front of the test upstream.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};

use super::gateway::{Gateway, node, require_node_packages, serve_at};
use super::{path, upstream, write};

pub const GATEWAY_SECRET: &str = "gw-client-secret-5d1e";
pub const SDK_SECRET: &str = "sdk-client-secret-a47b";
pub const API_KEY: &str = "ci-api-key-0b9c2f";

/// The authorization server: a Node process answering one JSON command per line.
pub struct Issuer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub url: String,
}

impl Issuer {
    pub fn start(audience: &str) -> Issuer {
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

    pub fn ask(&mut self, cmd: Value) -> Value {
        writeln!(self.stdin, "{cmd}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v.get("error").is_none(), "issuer: {v}");
        v
    }

    pub fn token(&mut self, claims: Value) -> String {
        self.ask(json!({"op": "token", "claims": claims}))["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn stats(&mut self) -> Value {
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
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub const MANIFEST: &str = r#"name: secured
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
    # Short, so the key-rotation test waits 2 s, not the default 10 s, for a refetch.
    jwks_refetch_interval: 2s
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
pub struct Setup {
    pub issuer: Issuer,
    pub up: upstream::Upstream,
    pub gw: Gateway,
    pub resource: String,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub fn start(rt: &tokio::runtime::Runtime) -> Setup {
        Self::start_with(rt, &[])
    }

    /// [`Setup::start`] with extra `serve` flags (e.g. `--sessions`).
    pub fn start_with(rt: &tokio::runtime::Runtime, args: &[&str]) -> Setup {
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
        let env = gateway_env(&up, &issuer, &resource);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let gw = serve_at(&manifest, &format!("127.0.0.1:{port}"), args, &env);
        Setup {
            issuer,
            up,
            gw,
            resource,
            dir,
        }
    }

    /// The manifest the gateway serves.
    pub fn manifest(&self) -> std::path::PathBuf {
        self.dir.path().join("gateway.yaml")
    }

    /// The environment the gateway runs with: upstream, issuer, resource and its secrets.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        gateway_env(&self.up, &self.issuer, &self.resource)
    }

    pub fn metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.gw.origin()
        )
    }
}

fn gateway_env(
    up: &upstream::Upstream,
    issuer: &Issuer,
    resource: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("UP", up.url()),
        ("ISSUER", issuer.url.clone()),
        ("RESOURCE", resource.to_string()),
        ("GATEWAY_CLIENT_SECRET", GATEWAY_SECRET.to_string()),
        ("CI_KEY_SHA256", sha256_hex(API_KEY)),
    ]
}

/// One JSON-RPC POST the way a 2025-era client sends it: status, `WWW-Authenticate`, body.
pub async fn post(url: &str, token: Option<&str>, body: &Value) -> (u16, String, Value) {
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

pub fn call(name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

pub fn list() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
}

/// The tool names of a JSON-RPC `tools/list` response body.
pub fn listed_names(body: &Value) -> Vec<String> {
    super::gateway::tool_names(&body["result"])
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The payload of a JWT, unverified (the test only reads what the upstream was sent).
pub fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}
