//! The serialised IR never carries a secret: every credential the manifest can name (the
//! upstream's API key, bearer token, password, client secret and TLS private key; the
//! introspection client secret; an API key's digest) is compiled from a known value, and the
//! JSON of the whole gateway is searched for it.

use std::path::Path;

use crate::gateway::{Gateway, UpstreamAuth, UpstreamTls};
use crate::secret::{REDACTED, Secret};

const CLIENT_SECRET: &str = "cc-secret-value-8d1f";
const INTROSPECTION_SECRET: &str = "introspection-secret-77e2";
const API_KEY_DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const UPSTREAM_KEY: &str = "upstream-api-key-41c9";
const PRIVATE_KEY: &str =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";

fn manifest(dir: &Path) -> String {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("gateways/petstore/openapi.yaml");
    for (file, value) in [
        ("cc.txt", CLIENT_SECRET),
        ("introspection.txt", INTROSPECTION_SECRET),
        ("key.sha256", API_KEY_DIGEST),
        ("upstream.key", UPSTREAM_KEY),
    ] {
        std::fs::write(dir.join(file), value).unwrap();
    }
    format!(
        r#"name: redacted
openapi: {}
upstream:
  base_url: https://api.example.com
  auth:
    type: oauth2_client_credentials
    token_url: https://login.example.com/token
    client_id: gateway
    client_secret: {{file: cc.txt}}
auth:
  resource: https://mcp.example.com/mcp
  oauth:
    issuer: https://login.example.com
    introspection:
      endpoint: https://login.example.com/introspect
      client_id: gateway
      client_secret: {{file: introspection.txt}}
  api_keys:
    - name: ci
      sha256: {{file: key.sha256}}
tools:
  - operation: listPets
  - operation: createPet
"#,
        spec.display()
    )
}

fn compiled() -> Gateway {
    compiled_in(tempfile::tempdir().unwrap().path())
}

fn compiled_in(dir: &Path) -> Gateway {
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, manifest(dir)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcome = rt.block_on(super::compile_to_serve(&path));
    outcome.result.unwrap_or_else(|d| panic!("{d:#?}")).gateway
}

fn assert_no_secret(g: &Gateway) -> String {
    let json = serde_json::to_string(g).unwrap();
    for secret in [
        CLIENT_SECRET,
        INTROSPECTION_SECRET,
        API_KEY_DIGEST,
        UPSTREAM_KEY,
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    ] {
        assert!(!json.contains(secret), "`{secret}` is in {json}");
    }
    assert!(json.contains(REDACTED), "{json}");
    json
}

#[test]
fn the_serialised_ir_shows_where_each_secret_came_from_never_its_value() {
    let mut g = compiled();
    // The values were read: the IR holds them, and only serialising hides them.
    match &g.upstream.auth {
        Some(UpstreamAuth::OAuth2(cc)) => assert_eq!(cc.client_secret.expose(), CLIENT_SECRET),
        other => panic!("{other:?}"),
    }
    let json = assert_no_secret(&g);
    assert!(json.contains("<redacted> (file:"), "{json}");

    // Every other kind of upstream credential, and a client certificate's private key.
    let key = || Secret::new(UPSTREAM_KEY, "env:UPSTREAM_KEY");
    g.upstream.tls = Some(UpstreamTls {
        ca_certificates: None,
        identity: Some(Secret::new(PRIVATE_KEY, "file:client.pem")),
    });
    for auth in [
        UpstreamAuth::ApiKey {
            location: crate::gateway::ApiKeyLocation::Header,
            name: "X-Api-Key".into(),
            value: key(),
        },
        UpstreamAuth::Bearer(key()),
        UpstreamAuth::Basic {
            username: "gateway".into(),
            password: key(),
        },
    ] {
        g.upstream.auth = Some(auth);
        assert_no_secret(&g);
    }
}

#[test]
fn the_ir_compares_equal_to_a_second_compile_and_serialises_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (compiled_in(dir.path()), compiled_in(dir.path()));
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}
