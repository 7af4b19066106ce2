//! The gateway's own credentials behind it: an OAuth client-credentials token shared by
//! concurrent calls, identity headers from verified claims, never the caller's token, no secret
//! in any output; and a client certificate for an mTLS upstream behind a private CA.

use serde_json::{Value, json};

use crate::common::oauth::{
    API_KEY, GATEWAY_SECRET, SDK_SECRET, Setup, call, jwt_payload, post, sha256_hex,
};
use crate::common::{bin, openssl, path, runtime, write};

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

    // An upstream 401 drops the cached token: the next call fetches a fresh one.
    rt.block_on(async {
        let (_, _, body) = post(
            &gw_url,
            Some(&caller),
            &call("get_pet", json!({"petId": 401})),
        )
        .await;
        assert_eq!(body["result"]["isError"], true, "{body}");
        let (_, _, body) = post(
            &gw_url,
            Some(&caller),
            &call("get_pet", json!({"petId": 5})),
        )
        .await;
        assert_eq!(body["result"]["isError"], false, "{body}");
    });
    let requests = s.issuer.stats()["token_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["client_id"] == "gateway")
        .count();
    assert_eq!(
        requests, 2,
        "one more token after the upstream refused the first"
    );

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

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all from that CA.
fn make_certificates(dir: &std::path::Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "1",
                "-subj",
                "/CN=test-ca",
            ],
        ]
        .concat(),
    );
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        write(dir, &format!("{name}.ext"), ext);
        openssl(
            dir,
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat(),
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "1",
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
}

/// An HTTPS upstream on loopback that requires a client certificate from the test CA. Counts
/// handshakes that succeeded (with a certificate) and that failed.
async fn mtls_upstream(
    dir: &std::path::Path,
) -> (u16, std::sync::Arc<std::sync::Mutex<(u32, u32)>>) {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Mutex::new((0u32, 0u32)));
    let seen = counts.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(tcp).await {
                    Ok(t) => t,
                    Err(_) => {
                        seen.lock().unwrap().1 += 1;
                        return;
                    }
                };
                if tls.get_ref().1.peer_certificates().is_some() {
                    seen.lock().unwrap().0 += 1;
                }
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"id": 1, "name": "Rex", "tag": null, "status": "available"}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, counts)
}

#[test]
fn a_client_certificate_reaches_an_mtls_upstream_behind_a_private_ca() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let (port, counts) = rt.block_on(mtls_upstream(dir.path()));
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    let with_cert = write(
        dir.path(),
        "with.yaml",
        &format!(
            "name: mtls\nopenapi: {spec}\nupstream:\n  base_url: https://127.0.0.1:{port}\n  ca_certificate: ca.pem\n  client_certificate:\n    cert: {{file: client.pem}}\n    key: {{env: CLIENT_KEY}}\ntools:\n  - operation: getPetById\n    name: get_pet\n"
        ),
    );
    let without = write(
        dir.path(),
        "without.yaml",
        &format!(
            "name: mtls\nopenapi: {spec}\nupstream:\n  base_url: https://127.0.0.1:{port}\n  ca_certificate: ca.pem\ntools:\n  - operation: getPetById\n    name: get_pet\n"
        ),
    );
    let key = std::fs::read_to_string(dir.path().join("client.key")).unwrap();
    let gw = crate::common::gateway::serve(&with_cert, &[], &[("CLIENT_KEY", &key)]);
    let bare = crate::common::gateway::serve(&without, &[], &[]);
    rt.block_on(async {
        let (status, _, body) = post(&gw.url, None, &call("get_pet", json!({"petId": 1}))).await;
        assert_eq!(
            (status, &body["result"]["isError"]),
            (200, &json!(false)),
            "{body}"
        );
        assert_eq!(body["result"]["structuredContent"]["name"], "Rex");
        let (status, _, body) = post(&bare.url, None, &call("get_pet", json!({"petId": 1}))).await;
        assert_eq!(
            (status, &body["result"]["isError"]),
            (200, &json!(true)),
            "{body}"
        );
        assert!(
            body["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("TLS"),
            "{body}"
        );
    });
    // The server learns of the refused handshake in its own task, which may finish after the
    // gateway has already answered: wait for the count (up to 10 s) rather than read it once.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let seen = loop {
        let now = *counts.lock().unwrap();
        if now == (1, 1) || std::time::Instant::now() > until {
            break now;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        seen,
        (1, 1),
        "one handshake with the client certificate, one refused without it"
    );
    let log: String = gw.log.try_iter().collect::<Vec<_>>().join("\n");
    assert!(!log.contains("PRIVATE KEY"), "{log}");
}
