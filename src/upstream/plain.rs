//! The client for plain-HTTP upstreams: hyper-util's connection pool with the response
//! decompression reqwest itself applies (tower-http's), and nothing else in between.
//!
//! Why: measured with benches/call.rs (same machine, alternating runs), a small `tools/call`
//! cost the gateway 57–68 µs of CPU through this client against 76–83 µs through reqwest,
//! whose per-request layers (redirect policy, retry policy, URL handling, its body wrapper)
//! cost the difference. The usual deployment (the gateway beside its API, a cluster-internal
//! `http://` service) takes this path. reqwest still serves everything else: HTTPS, a client
//! certificate or private CA, a proxy named in the environment (reqwest honours
//! `HTTP_PROXY`/`ALL_PROXY`; this client would not, so it is not used when one is set),
//! multipart bodies and bodies streamed from a fetched file.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tower::ServiceExt as _;
use tower_http::decompression::Decompression;

use super::{UpstreamError, UpstreamResponse};

/// The pooled plain-HTTP client (cheap to clone: the pool is shared).
#[derive(Clone)]
pub(crate) struct Plain {
    client: Decompression<Client<HttpConnector, Full<Bytes>>>,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plain")
    }
}

/// The proxy variables reqwest reads for an `http://` request.
const PROXY_VARS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

impl Plain {
    /// The client, or `None` when the environment names a proxy for plain HTTP (then reqwest,
    /// which honours it, sends every request).
    pub(crate) fn new(idle: Duration) -> Option<Self> {
        if PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()))
        {
            return None;
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(idle)
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .build(connector);
        Some(Self {
            client: Decompression::new(client),
        })
    }

    /// Sends one request and reads its answer (at most `max_bytes` of it, decompressed),
    /// within `timeout` for the whole exchange.
    pub(crate) async fn send(
        &self,
        req: http::Request<Full<Bytes>>,
        max_bytes: usize,
        host: &str,
        timeout: Duration,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let exchange = async {
            let resp =
                self.client.clone().oneshot(req).await.map_err(|e| {
                    super::described(crate::tls::error_chain(&e), e.is_connect(), host)
                })?;
            let (head, mut body) = resp.into_parts();
            let mut buf = BytesMut::new();
            let mut truncated = false;
            while let Some(frame) = body.frame().await {
                let frame = frame
                    .map_err(|e| super::described(crate::tls::error_chain(&*e), false, host))?;
                let Ok(chunk) = frame.into_data() else {
                    continue; // trailers
                };
                if !super::answer::keep(&mut buf, &chunk, max_bytes) {
                    truncated = true;
                    break;
                }
            }
            Ok(UpstreamResponse {
                status: head.status,
                content_type: head
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body: buf.freeze(),
                truncated,
                headers: head.headers,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(UpstreamError::Timeout {
                host: host.to_string(),
                timeout,
            }),
        }
    }
}

/// `url` as a URI this client sends, or `None` when it is not plain HTTP or not a URI hyper
/// takes (reqwest then sends it).
pub(crate) fn uri(url: &str) -> Option<http::Uri> {
    if !url.starts_with("http://") {
        return None;
    }
    url.parse().ok()
}

/// The request: `headers` in order, then `accept: */*` unless one was given (as reqwest adds
/// it); the decompression layer adds `accept-encoding`.
pub(crate) fn request(
    method: http::Method,
    uri: http::Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<(HeaderValue, Vec<u8>)>,
) -> http::Request<Full<Bytes>> {
    let mut req = http::Request::new(Full::new(Bytes::new()));
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    let map = req.headers_mut();
    for (name, value) in headers {
        map.append(name, value);
    }
    if !map.contains_key(http::header::ACCEPT) {
        map.insert(http::header::ACCEPT, HeaderValue::from_static("*/*"));
    }
    if let Some((content_type, data)) = body {
        map.insert(http::header::CONTENT_TYPE, content_type);
        *req.body_mut() = Full::new(Bytes::from(data));
    }
    req
}
