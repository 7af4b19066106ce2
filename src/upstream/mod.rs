//! Building the upstream request from a call plan and mapping the answer to an MCP result.
//!
//! One [`UpstreamClient`] (one connection pool) serves a gateway whose upstream has no TLS
//! settings of its own; one with a client certificate or a private CA uses the client its
//! [`crate::runtime::Served`] snapshot holds. The caller's MCP request is never consulted here:
//! only the validated arguments, the call plan and the gateway's own credentials make up the
//! upstream request.

mod advice;
mod answer;
mod body;
mod build;
pub mod fetch;
mod oauth;
pub mod page;
mod plain;
pub mod poll;
mod resource;
mod retry;
pub mod shape;
mod shaped;

use std::time::Duration;

use serde_json::{Map, Value};

pub use answer::{
    Answered, RawStructured, UpstreamResponse, error_result, escape_into, file_media, to_answer,
    to_result,
};
pub use body::{Body, BodyError, Part};
pub use build::{BuildError, RequestParts, build};
pub use oauth::{TokenCache, TokenFetchError};
pub use resource::{ReadError, body_contents, contents, resource_arguments};
pub use retry::{After, Retries};

use crate::auth::Principal;
use crate::gateway::{CallPlan, UpstreamAuth};
use crate::runtime::Served;

/// Why a call got no usable answer. Messages name the upstream host (never the query string,
/// which may carry an API key) and say what an agent can do about it.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The arguments could not form a request (the caller's fault).
    #[error(
        "The request could not be built: {0}. Nothing was sent to the API; fix the argument and call again."
    )]
    Build(#[from] BuildError),
    /// No answer within the timeout.
    #[error("The upstream {host} did not answer within {}.", humantime::format_duration(*timeout))]
    Timeout {
        /// Upstream host.
        host: String,
        /// The timeout.
        timeout: Duration,
    },
    /// Connection refused, DNS failure, reset.
    #[error(
        "Could not connect to the upstream {host}: {reason}. Nothing reached the API, so calling again is safe once it is reachable."
    )]
    Connect {
        /// Upstream host.
        host: String,
        /// The cause.
        reason: String,
    },
    /// TLS handshake or certificate failure.
    #[error(
        "TLS with the upstream {host} failed: {reason}. Nothing reached the API; calling again will not help until the certificate problem is fixed."
    )]
    Tls {
        /// Upstream host.
        host: String,
        /// The cause.
        reason: String,
    },
    /// The gateway's own credentials for the upstream could not be obtained.
    #[error(
        "The gateway could not obtain its credentials for the upstream {host}: {source}. Nothing reached the API; calling again later is safe."
    )]
    Credentials {
        /// Upstream host.
        host: String,
        /// The cause.
        source: TokenFetchError,
    },
    /// Anything else on the wire.
    #[error("The call to the upstream {host} failed after it was sent: {reason}.")]
    Other {
        /// Upstream host.
        host: String,
        /// The cause.
        reason: String,
    },
}

fn classify(e: &reqwest::Error, host: &str) -> UpstreamError {
    // Messages must not carry the URL: its query string may hold an API key.
    let mut reason = crate::tls::error_chain(e);
    if let Some(url) = e.url() {
        reason = reason.replace(url.as_str(), host);
    }
    if e.is_timeout() {
        return UpstreamError::Timeout {
            host: host.to_string(),
            timeout: Duration::ZERO,
        };
    }
    described(reason, e.is_connect(), host)
}

/// The agent's words for a connection that ended before any of the answer arrived.
const CLOSED_BEFORE: &str = "the connection was closed before an answer arrived";
/// The agent's words for a connection that ended partway through the answer.
const CLOSED_PARTWAY: &str = "the connection was closed partway through the answer";

/// The error for a failure the client library describes as `reason` (`connect`: before
/// anything was sent), in the agent's words where they differ.
fn described(mut reason: String, connect: bool, host: &str) -> UpstreamError {
    let host = host.to_string();
    let lower = reason.to_ascii_lowercase();
    // The client library's words for a dropped connection, in the agent's.
    if lower.contains("connection closed before message completed")
        || lower.contains("connection reset")
        || lower.contains("broken pipe")
    {
        reason = CLOSED_BEFORE.to_string();
    } else if lower.contains("incomplete message")
        || lower.contains("unexpected eof")
        || lower.contains("end of file before message length reached")
    {
        reason = CLOSED_PARTWAY.to_string();
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        UpstreamError::Tls { host, reason }
    } else if connect {
        UpstreamError::Connect { host, reason }
    } else {
        UpstreamError::Other { host, reason }
    }
}

/// How long an idle upstream connection is kept, by default (`serve --upstream-idle-timeout`
/// sets it for the process). Shorter than the keep-alive timeouts of the
/// common servers that close first (Node.js and Apache 5 s, gunicorn 2 s is the exception), so
/// the gateway rarely writes a request onto a connection the server is closing: that race ends
/// in a reset after which a non-idempotent call cannot be safely retried. Under load
/// connections are never idle this long, so reuse is unaffected.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// `url` (built from `base` by [`build`]) as a parsed URL without parsing its host again: the
/// base's parsed origin with the built path and query set on it. Parsing the whole string costs
/// a host check (IDNA) on every call, the largest part of reqwest's per-request overhead in a
/// profile of the benchmark. `None` for a URL that does not start with `base` (a next-page
/// URL from the answer), which the client parses.
fn request_url(base: &url::Url, url: &str) -> Option<url::Url> {
    // Scheme, credentials, host and port: everything before the path.
    let rest = url.strip_prefix(&base[..url::Position::BeforePath])?;
    if !rest.starts_with('/') || rest.contains('#') {
        return None;
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut parsed = base.clone();
    parsed.set_path(path);
    parsed.set_query(query);
    parsed.set_fragment(None);
    Some(parsed)
}

/// The pause before the one retry of a connection that could not be made.
const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The shared upstream HTTP clients: one pool for plain-HTTP upstreams ([`plain`], the lean
/// one) and reqwest's for everything else.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    plain: Option<plain::Plain>,
}

/// The idle timeout of every upstream pool, when `serve` was given one. A process-wide
/// startup setting (like the listener's), read by every client built after it is set.
static IDLE_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Sets how long idle upstream connections are kept, for every client built from now on. Only
/// the first call counts: it is a startup setting.
pub fn set_pool_idle_timeout(d: Duration) {
    let _ = IDLE_TIMEOUT.set(d);
}

/// The settings of every upstream client (the shared pool and per-upstream mTLS clients).
pub fn client_builder() -> reqwest::ClientBuilder {
    crate::tls::install_default_provider();
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(IDLE_TIMEOUT.get().copied().unwrap_or(POOL_IDLE_TIMEOUT))
        // Redirects are not followed: a 3xx from an API is an answer to show, and following
        // it could send the gateway's credentials to another host.
        .redirect(reqwest::redirect::Policy::none())
}

impl UpstreamClient {
    /// A client with one connection pool, for every upstream without TLS settings of its own.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = client_builder().build()?;
        let idle = IDLE_TIMEOUT.get().copied().unwrap_or(POOL_IDLE_TIMEOUT);
        Ok(Self {
            http,
            plain: plain::Plain::new(idle),
        })
    }

    /// The shared HTTP client (also used to fetch the issuer's keys and introspect tokens).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Builds, sends and reads one request of `plan` (a tool's, a resource's or a completion's),
    /// with `extra` headers of the gateway's own (conditional-request validators).
    ///
    /// A connection that could not be made (refused, reset while connecting) carried nothing to
    /// the API, so it is tried once more, whatever the method.
    pub async fn send(
        &self,
        gateway: &Served,
        plan: &CallPlan,
        timeout: Duration,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> Result<UpstreamResponse, UpstreamError> {
        let started = std::time::Instant::now();
        match self
            .send_once(gateway, plan, timeout, args, caller, extra)
            .await
        {
            Err(UpstreamError::Connect { host, reason }) if started.elapsed() < timeout / 2 => {
                tracing::info!(upstream = %host, %reason, "connecting failed before anything was sent; trying once more");
                tokio::time::sleep(CONNECT_RETRY_PAUSE).await;
                let left = timeout.saturating_sub(started.elapsed());
                self.send_once(gateway, plan, left, args, caller, extra)
                    .await
            }
            other => other,
        }
    }

    pub(crate) async fn send_once(
        &self,
        gateway: &Served,
        plan: &CallPlan,
        timeout: Duration,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> Result<UpstreamResponse, UpstreamError> {
        self.send_with(gateway, plan, timeout, args, caller, extra, None)
            .await
    }

    /// [`Self::send_once`], the body's bytes coming from `streamed` when given (a fetched file
    /// sent on as it arrives; the body built from the arguments gives only its content type).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_with(
        &self,
        gateway: &Served,
        plan: &CallPlan,
        timeout: Duration,
        args: &Map<String, Value>,
        caller: Option<&Principal>,
        extra: &[(http::HeaderName, http::HeaderValue)],
        streamed: Option<fetch::Streamed>,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let parts = build(&gateway.upstream, plan, args)?;
        let base = gateway.upstream.base_for(plan);
        let host = base[url::Position::BeforeHost..url::Position::AfterPort].to_string();
        let http = gateway.running.client().unwrap_or(&self.http);
        // The request's headers, then the gateway's own: conditional-request validators, its
        // credential, the caller's identity.
        let mut headers = parts.headers;
        headers.extend(extra.iter().cloned());
        if let Some(UpstreamAuth::OAuth2(cc)) = &gateway.upstream.auth
            && let Some(cache) = gateway.running.token()
            && plan.credentials
        {
            let token =
                cache
                    .token(cc, http)
                    .await
                    .map_err(|source| UpstreamError::Credentials {
                        host: host.clone(),
                        source,
                    })?;
            let mut v = http::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| BuildError::BadHeader("credential".into()))?;
            v.set_sensitive(true);
            headers.push((http::header::AUTHORIZATION, v));
        }
        if let Some(p) = caller.filter(|_| plan.credentials) {
            for (name, claim) in &gateway.upstream.identity_headers {
                // A claim that is absent or not a scalar is left out; one with a line break
                // cannot become a header and is left out too.
                if let Some(v) = p
                    .claim_text(claim)
                    .and_then(|t| http::HeaderValue::from_str(&t).ok())
                {
                    headers.push((name.clone(), v));
                }
            }
        }
        let plain = match (
            &self.plain,
            gateway.running.client(),
            &parts.body,
            &streamed,
        ) {
            (Some(p), None, None | Some(Body::Bytes { .. }), None) => {
                plain::uri(&parts.url).map(|uri| (p, uri))
            }
            _ => None,
        };
        let resp = match plain {
            Some((client, uri)) => {
                let body = match parts.body {
                    Some(Body::Bytes { content_type, data }) => {
                        let ct = http::HeaderValue::from_str(&content_type)
                            .map_err(|_| BuildError::BadHeader("Content-Type".into()))?;
                        Some((ct, data))
                    }
                    _ => None,
                };
                let req = plain::request(parts.method, &uri, headers, body);
                let max = gateway.upstream.max_response_bytes;
                client.send(req, max, &host, timeout).await?
            }
            None => {
                let url = request_url(base, &parts.url);
                let req = match url {
                    Some(url) => http.request(parts.method, url),
                    None => http.request(parts.method, &parts.url),
                }
                .timeout(timeout);
                let req = headers
                    .into_iter()
                    .fold(req, |req, (name, value)| req.header(name, value));
                let req = with_body(req, parts.body, streamed, &host)?;
                let with_timeout = |e: UpstreamError| match e {
                    UpstreamError::Timeout { host, .. } => UpstreamError::Timeout { host, timeout },
                    other => other,
                };
                let resp = req
                    .send()
                    .await
                    .map_err(|e| with_timeout(classify(&e, &host)))?;
                answer::read(resp, gateway.upstream.max_response_bytes, &host)
                    .await
                    .map_err(with_timeout)?
            }
        };
        if resp.status == http::StatusCode::UNAUTHORIZED
            && let Some(cache) = gateway.running.token()
        {
            // Revoked or rotated early: the next call fetches a new token rather than failing
            // until this one would have expired.
            cache.invalidate().await;
        }
        Ok(resp)
    }
}

/// `req` with its body: bytes, a multipart form, or a fetched file streamed on.
fn with_body(
    req: reqwest::RequestBuilder,
    body: Option<Body>,
    streamed: Option<fetch::Streamed>,
    host: &str,
) -> Result<reqwest::RequestBuilder, UpstreamError> {
    Ok(match (body, streamed) {
        (None, _) => req,
        // Framed by the length the file host declared: no chunked upload, and a file that
        // ends early or runs long aborts the request instead of completing it.
        (Some(Body::Bytes { content_type, .. }), Some(s)) => req
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::CONTENT_LENGTH, s.length)
            .body(s.body),
        (Some(Body::Bytes { content_type, data }), None) => req
            .header(http::header::CONTENT_TYPE, content_type)
            .body(data),
        (Some(Body::Multipart(parts)), _) => {
            let mut form = reqwest::multipart::Form::new();
            for p in parts {
                // The part's type comes from the spec; one that is not a media type is left
                // off rather than failing the call.
                let valid = reqwest::multipart::Part::bytes(Vec::new())
                    .mime_str(&p.content_type)
                    .is_ok();
                let mut part = reqwest::multipart::Part::bytes(p.data);
                if valid {
                    part = part
                        .mime_str(&p.content_type)
                        .map_err(|e| classify(&e, host))?;
                }
                if let Some(f) = p.filename {
                    part = part.file_name(f);
                }
                form = form.part(p.name, part);
            }
            req.multipart(form)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::request_url;

    #[test]
    fn a_built_url_keeps_its_origin_and_gets_its_path_and_query() {
        let base = url::Url::parse("https://api.example.com:8443/v1/").unwrap();
        for built in [
            "https://api.example.com:8443/v1/pets/7",
            "https://api.example.com:8443/v1/pets?limit=2&tag=a%20b",
            "https://api.example.com:8443/v1/a%2Fb/%2E%2E?q=%3F&r=%23",
            "https://api.example.com:8443/",
        ] {
            let cheap = request_url(&base, built).expect("starts with the base");
            let parsed = url::Url::parse(built).unwrap();
            assert_eq!(cheap, parsed);
        }
        // Another origin (a next-page URL) is left to the full parser.
        assert!(request_url(&base, "https://other.example.com/v1/pets").is_none());
        assert!(request_url(&base, "https://api.example.com:84430/v1").is_none());
        assert!(request_url(&base, "https://api.example.com:8443/v1#top").is_none());
    }
}
