//! Files in and out, through the TypeScript SDK client against the real binary.
//!
//! In: an upload tool (an `application/octet-stream` body) takes base64, the URI of one of the
//! gateway's resources (a file resource, and a link another tool returned), or an `https://`
//! URL on an allowed host, fetched from a real TLS file host behind a private CA
//! (`upstream.fetch_ca_certificate`): no plain-HTTP switch exists for tests to lean on. Each
//! refusal (unlisted host, a name resolving to loopback through a `*` entry, `http://`, over the
//! size cap, a redirect to an unlisted host) leaves the recording API upstream untouched.
//!
//! Out: an image answer is an image block, a PDF within the cap an embedded blob, a PDF over it
//! a `resource_link` read back with `resources/read` (from a second replica sharing
//! `MCP_GATEWAY_STATE_KEY` for a GET tool; from the same one for a POST).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::gateway::{is_error, serve, text, ts_client};
use crate::common::{openssl, runtime, write};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const SPEC: &str = r#"openapi: 3.0.3
info: {title: files, version: '1'}
paths:
  /upload:
    post:
      operationId: upload
      requestBody:
        required: true
        content:
          application/octet-stream:
            schema: {type: string, format: binary}
      responses:
        '200': {description: stored, content: {application/json: {schema: {type: object}}}}
  /attach:
    post:
      operationId: attach
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                note: {type: string}
      responses:
        '200': {description: stored, content: {application/json: {schema: {type: object}}}}
  /image:
    get:
      operationId: getImage
      responses:
        '200': {description: a picture, content: {image/png: {schema: {type: string, format: binary}}}}
  /doc:
    get:
      operationId: getDoc
      responses:
        '200': {description: a small PDF, content: {application/pdf: {schema: {type: string, format: binary}}}}
  /big/{name}:
    get:
      operationId: getBig
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: a large PDF, content: {application/pdf: {schema: {type: string, format: binary}}}}
  /render:
    post:
      operationId: render
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, properties: {title: {type: string}}}
      responses:
        '200': {description: a large PDF, content: {application/pdf: {schema: {type: string, format: binary}}}}
"#;

/// Bytes that are no valid UTF-8 (so nothing reads them as text), `n` long.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 0x80)
        .collect()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-not-a-real-picture";

fn small_pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.extend(pattern(300, 1));
    v
}

fn big_pdf(seed: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    v.extend(pattern(6000, seed));
    v
}

/// One request the API upstream received.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (Content-Length framed) from `s`: the request line and the
/// body, whose bytes are counted into `progress` as they arrive. `None` when the peer closed.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    progress: &AtomicUsize,
) -> Option<(String, Vec<u8>)> {
    let mut body = Vec::new();
    let head = crate::common::raw::read_head(s, &mut body).await?;
    let mut chunk = [0u8; 8192];
    progress.store(body.len(), Ordering::SeqCst);
    while body.len() < head.content_length {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
        progress.store(body.len(), Ordering::SeqCst);
    }
    Some((head.line, body))
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The API: records every request; answers files by path. `progress` is how much of the body
/// of the request being read has arrived.
async fn api(progress: Arc<AtomicUsize>) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (record, progress) = (record.clone(), progress.clone());
            tokio::spawn(async move {
                let Some((line, body)) = read_request(&mut s, &progress).await else {
                    return;
                };
                record.lock().unwrap().push(Seen {
                    line: line.clone(),
                    body,
                });
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let reply = match path.as_str() {
                    "/upload" | "/attach" => {
                        response("200 OK", "content-type: application/json\r\n", b"{}")
                    }
                    "/image" => response("200 OK", "content-type: image/png\r\n", PNG),
                    "/doc" => response("200 OK", "content-type: application/pdf\r\n", &small_pdf()),
                    "/big/one" => {
                        response("200 OK", "content-type: application/pdf\r\n", &big_pdf(7))
                    }
                    "/render" => {
                        response("200 OK", "content-type: application/pdf\r\n", &big_pdf(9))
                    }
                    _ => response("404 Not Found", "", b""),
                };
                let _ = s.write_all(&reply).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (port, seen)
}

/// A test CA and a server certificate from it for `localhost` and 127.0.0.1.
fn make_certificates(dir: &std::path::Path) {
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let ec: Vec<&str> = ec.split(' ').collect();
    let ca = [
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
            "/CN=files-ca",
        ],
    ]
    .concat();
    openssl(dir, &ca);
    write(
        dir,
        "server.ext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    let req = [
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=files",
        ],
    ]
    .concat();
    openssl(dir, &req);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "server.ext",
        ],
    );
}

/// The HTTPS file host: `/file.bin` (the upload), `/huge.bin` (over the cap), `/away` (a
/// redirect to an unlisted host). Records the paths asked for.
async fn file_host(
    dir: &std::path::Path,
    api_progress: Arc<AtomicUsize>,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, record) = (acceptor.clone(), record.clone());
            let api_progress = api_progress.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Some((line, _)) = read_request(&mut tls, &AtomicUsize::new(0)).await else {
                    return;
                };
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                record.lock().unwrap().push(path.clone());
                if path == "/halves.bin" {
                    // The first half, then the rest only once the API has received that half:
                    // a gateway that read the whole file before uploading would never get
                    // there (this gives up after 10 s and records that it did).
                    let file = pattern(4000, 8);
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 4000\r\nconnection: close\r\n\r\n";
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(&file[..2000]).await;
                    let _ = tls.flush().await;
                    let mut reached = false;
                    for _ in 0..1000 {
                        if api_progress.load(Ordering::SeqCst) >= 2000 {
                            reached = true;
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    record.lock().unwrap().push(format!("streamed: {reached}"));
                    let _ = tls.write_all(&file[2000..]).await;
                    let _ = tls.shutdown().await;
                    return;
                }
                let reply = match path.as_str() {
                    "/file.bin" => response(
                        "200 OK",
                        "content-type: application/octet-stream\r\n",
                        &pattern(3000, 5),
                    ),
                    "/huge.bin" => response(
                        "200 OK",
                        "content-type: application/octet-stream\r\n",
                        &pattern(9000, 6),
                    ),
                    "/away" => response(
                        "302 Found",
                        "location: https://files.example.net/file.bin\r\n",
                        b"",
                    ),
                    _ => response("404 Not Found", "", b""),
                };
                let _ = tls.write_all(&reply).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, seen)
}

struct Setup {
    _dir: tempfile::TempDir,
    manifest: std::path::PathBuf,
    api: Arc<Mutex<Vec<Seen>>>,
    files: Arc<Mutex<Vec<String>>>,
    file_port: u16,
}

fn setup(rt: &tokio::runtime::Runtime) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let progress = Arc::new(AtomicUsize::new(0));
    let (api_port, api) = rt.block_on(api(progress.clone()));
    let (file_port, files) = rt.block_on(file_host(dir.path(), progress));
    write(dir.path(), "openapi.yaml", SPEC);
    std::fs::write(dir.path().join("logo.bin"), pattern(500, 3)).unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: files
openapi: openapi.yaml
upstream:
  base_url: http://127.0.0.1:{api_port}
  max_inline_bytes: 2000
  # 127.0.0.1 listed exactly (a loopback address is then allowed); any other host on the port
  # through `*`, which never reaches an internal address.
  fetch_allow: ["127.0.0.1:{file_port}", "*:{file_port}"]
  fetch_max_bytes: 5000
  fetch_ca_certificate: ca.pem
resources:
  - uri: files://logo
    name: logo
    file: logo.bin
    mime_type: application/octet-stream
tools:
  - operation: upload
  - operation: getImage
  - operation: getDoc
  - operation: getDoc
    name: get_doc_linked
    response: {{max_inline_bytes: 100}}
  - operation: attach
  - operation: getBig
  - operation: render
"#
        ),
    );
    Setup {
        _dir: dir,
        manifest,
        api,
        files,
        file_port,
    }
}

fn call(name: &str, arguments: Value) -> Value {
    json!({"op": "call", "name": name, "arguments": arguments})
}

fn uploads(s: &Setup) -> Vec<Vec<u8>> {
    s.api
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.line.starts_with("POST /upload "))
        .map(|r| r.body.clone())
        .collect()
}

#[test]
fn uploads_take_base64_a_resource_uri_or_an_allowed_url_and_each_refusal_sends_nothing() {
    let rt = runtime();
    let s = setup(&rt);
    let gw = serve(&s.manifest, &[], &[]);
    let p = s.file_port;
    let steps = json!([
        {"op": "list"},
        call("upload", json!({"body": B64.encode(b"plain bytes \x00\xff")})),
        call("upload", json!({"body": "files://logo"})),
        call("upload", json!({"body": format!("https://127.0.0.1:{p}/file.bin")})),
        // Refusals: an unlisted host, `localhost` (loopback) matched only by `*`, plain http,
        // a file over the cap, a redirect to an unlisted host, a URI that is no resource.
        call("upload", json!({"body": "https://files.example.org/file.bin"})),
        call("upload", json!({"body": format!("https://localhost:{p}/file.bin")})),
        call("upload", json!({"body": format!("http://127.0.0.1:{p}/file.bin")})),
        call("upload", json!({"body": format!("https://127.0.0.1:{p}/huge.bin")})),
        call("upload", json!({"body": format!("https://127.0.0.1:{p}/away")})),
        call("upload", json!({"body": "files://nothing-here"})),
        // A binary part of a multipart body takes a URL too.
        call("attach", json!({"file": format!("https://127.0.0.1:{p}/file.bin"), "note": "n"})),
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    let tools = r[1]["tools"].as_array().unwrap();
    let upload = tools.iter().find(|t| t["name"] == "upload").unwrap();
    let described = upload["inputSchema"]["properties"]["body"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        described.contains("base64 data, or the URI of a resource of this server")
            && described.contains(&format!("https:// URL on 127.0.0.1:{p}, *:{p}"))
            && described.contains("at most 5000 bytes"),
        "{described}"
    );
    for (i, what) in [(2, "base64"), (3, "resource URI"), (4, "allowed URL")] {
        assert!(!is_error(&r[i]), "{what}: {}", r[i]);
    }
    let sent = uploads(&s);
    assert_eq!(
        sent,
        vec![
            b"plain bytes \x00\xff".to_vec(),
            pattern(500, 3),
            pattern(3000, 5)
        ],
        "the API receives the exact bytes of each upload"
    );
    let expect = [
        (
            5,
            "the host `files.example.org` is not one the gateway may fetch from",
        ),
        (
            6,
            "a loopback address, which the gateway does not fetch from",
        ),
        (7, "is not an https:// URL"),
        (8, "larger than the 5000 bytes"),
        (
            9,
            "the host `files.example.net` (redirected from `127.0.0.1`) is not one",
        ),
        (
            10,
            "`files://nothing-here` is not a file this server can read",
        ),
    ];
    for (i, phrase) in expect {
        let t = text(&r[i]);
        assert!(is_error(&r[i]), "step {i} should fail: {}", r[i]);
        assert!(t.contains(phrase), "step {i}: {t}");
        assert!(t.contains("Nothing was sent to the API."), "step {i}: {t}");
    }
    assert_eq!(
        uploads(&s).len(),
        3,
        "no refused upload reached the API: {:?}",
        s.api.lock().unwrap()
    );
    assert!(!is_error(&r[11]), "{}", r[11]);
    let attached = s
        .api
        .lock()
        .unwrap()
        .iter()
        .find(|x| x.line.starts_with("POST /attach "))
        .map(|x| x.body.clone())
        .expect("the multipart upload reached the API");
    let file = pattern(3000, 5);
    assert!(
        attached.windows(file.len()).any(|w| w == file.as_slice()),
        "the multipart part carries the fetched bytes"
    );
    // The refusals before any connection never reached the file host either: only the
    // allowed fetches, the over-size file and the redirect did.
    assert_eq!(
        *s.files.lock().unwrap(),
        vec!["/file.bin", "/huge.bin", "/away", "/file.bin"]
    );
}

#[test]
fn a_whole_file_body_is_streamed_from_its_host_to_the_api() {
    let rt = runtime();
    let s = setup(&rt);
    let gw = serve(&s.manifest, &[], &[]);
    let url = format!("https://127.0.0.1:{}/halves.bin", s.file_port);
    let r = ts_client(
        &["http", &gw.url],
        &json!([call("upload", json!({"body": url}))]),
        &[],
    );
    assert!(!is_error(&r[1]), "{}", r[1]);
    assert_eq!(
        *s.files.lock().unwrap(),
        vec!["/halves.bin", "streamed: true"],
        "the API had the first half before the file host sent the second"
    );
    assert_eq!(uploads(&s), vec![pattern(4000, 8)]);
}

#[test]
fn file_answers_are_image_blocks_embedded_blobs_or_links_read_back_on_another_replica() {
    let rt = runtime();
    let s = setup(&rt);
    let env = [("MCP_GATEWAY_STATE_KEY", "files-test-key")];
    let one = serve(&s.manifest, &[], &env);
    let two = serve(&s.manifest, &[], &env);
    let r = ts_client(
        &["http", &one.url],
        &json!([
            {"op": "list"},
            call("get_image", json!({})),
            call("get_doc", json!({})),
            call("get_big", json!({"name": "one"})),
            call("render", json!({"title": "report"})),
        ]),
        &[],
    );
    let tools = r[1]["tools"].as_array().unwrap();
    for t in tools {
        let file_tool = t["name"] != "upload" && t["name"] != "attach";
        assert_eq!(
            t.get("outputSchema").is_none(),
            file_tool,
            "a file tool advertises no output schema, a JSON one does: {t}"
        );
    }
    for answer in &r[2..=5] {
        assert!(!is_error(answer), "{answer}");
        assert!(
            answer.get("structuredContent").is_none(),
            "a file answer has no structuredContent: {answer}"
        );
    }
    let image = &r[2]["content"][0];
    assert_eq!(image["type"], "image");
    assert_eq!(image["mimeType"], "image/png");
    assert_eq!(B64.decode(image["data"].as_str().unwrap()).unwrap(), PNG);
    let doc = &r[3]["content"][0];
    assert_eq!(doc["type"], "resource");
    assert_eq!(doc["resource"]["mimeType"], "application/pdf");
    assert_eq!(
        B64.decode(doc["resource"]["blob"].as_str().unwrap())
            .unwrap(),
        small_pdf()
    );
    let link = |result: &Value| -> Value {
        let blocks = result["content"].as_array().unwrap();
        let l = blocks
            .iter()
            .find(|b| b["type"] == "resource_link")
            .unwrap_or_else(|| panic!("no resource_link: {result}"))
            .clone();
        assert_eq!(l["mimeType"], "application/pdf");
        assert!(
            l["uri"]
                .as_str()
                .unwrap()
                .starts_with("mcp-gateway://blob/"),
            "{l}"
        );
        l
    };
    let big = link(&r[4]);
    assert_eq!(big["size"], big_pdf(7).len());
    assert!(text(&r[4]).contains("more than the 2000 bytes"), "{}", r[4]);
    let rendered = link(&r[5]);
    let gets_before = s
        .api
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.line.starts_with("GET /big/one "))
        .count();
    // The GET link on the other replica (it calls the API again); the POST answer's link on
    // the replica that keeps it; the POST link on the other replica is refused, saying why.
    let on_two = ts_client(
        &["http", &two.url],
        &json!([
            {"op": "read", "uri": big["uri"]},
            {"op": "read", "uri": rendered["uri"]},
            {"op": "read", "uri": "mcp-gateway://blob/forged"},
        ]),
        &[],
    );
    let blob = |r: &Value| {
        B64.decode(r["contents"][0]["blob"].as_str().unwrap())
            .unwrap()
    };
    assert_eq!(blob(&on_two[1]), big_pdf(7), "{}", on_two[1]);
    assert_eq!(on_two[1]["contents"][0]["mimeType"], "application/pdf");
    let gets_after = s
        .api
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.line.starts_with("GET /big/one "))
        .count();
    assert_eq!(
        gets_after,
        gets_before + 1,
        "the second replica read it from the API"
    );
    let refused = on_two[2].to_string();
    assert!(refused.contains("no longer kept"), "{refused}");
    assert!(
        on_two[3].to_string().contains("not a valid link"),
        "{}",
        on_two[3]
    );
    // `response.max_inline_bytes` of one tool links even a small file; a 2026-07-28 (stateless)
    // rmcp client reads it on the other replica.
    let linked = ts_client(
        &["http", &one.url],
        &json!([call("get_doc_linked", json!({}))]),
        &[],
    );
    let small = link(&linked[1]);
    rt.block_on(async {
        let client = crate::common::gateway::client_2026(&two.url).await;
        let read = client
            .read_resource(rmcp::model::ReadResourceRequestParams::new(
                small["uri"].as_str().unwrap(),
            ))
            .await
            .expect("the link reads on the other replica");
        let Some(rmcp::model::ResourceContents::BlobResourceContents {
            blob, mime_type, ..
        }) = read.contents.first()
        else {
            panic!("not a blob: {read:?}");
        };
        assert_eq!(B64.decode(blob).unwrap(), small_pdf());
        assert_eq!(mime_type.as_deref(), Some("application/pdf"));
        client.cancel().await.ok();
    });
    let on_one = ts_client(
        &["http", &one.url],
        &json!([{"op": "read", "uri": rendered["uri"]}]),
        &[],
    );
    assert_eq!(blob(&on_one[1]), big_pdf(9), "{}", on_one[1]);
    // A link is a resource of this server: it can be uploaded again by its URI.
    let again = ts_client(
        &["http", &two.url],
        &json!([call("upload", json!({"body": big["uri"]}))]),
        &[],
    );
    assert!(!is_error(&again[1]), "{}", again[1]);
    assert_eq!(uploads(&s), vec![big_pdf(7)]);
}

#[test]
fn a_bad_fetch_allow_entry_or_ca_file_is_a_compile_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let m = write(
        dir.path(),
        "gateway.yaml",
        "name: files\nopenapi: openapi.yaml\nupstream:\n  base_url: http://127.0.0.1:9\n  fetch_allow: [files.example.com, 'https://x.example.com/', '*x']\n  fetch_ca_certificate: missing.pem\ntools:\n  - operation: upload\n",
    );
    let out = crate::common::compile(&m);
    let Err(diags) = out.result else {
        panic!("the manifest compiles");
    };
    let got: Vec<String> = crate::common::summarize(&diags)
        .into_iter()
        .map(|l| l.split(" | help:").next().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            "Error fetch-allow @ upstream.fetch_allow[1] 5:36: `https://x.example.com/` is not a host pattern",
            "Error fetch-allow @ upstream.fetch_allow[2] 5:62: `*x` is not a host pattern",
            "Error ca-certificate @ upstream.fetch_ca_certificate 6:25: `missing.pem` cannot be read: No such file or directory (os error 2)",
        ]
    );
}
