//! Streamable HTTP: rmcp's `StreamableHttpService` mounted at `/mcp` behind the fast path,
//! DNS-rebinding protection (Host and Origin allowlists) and a body limit. The rest of the
//! process's HTTP surface (health, readiness, metrics, auth, fleet routing) is
//! [`crate::server::routes`]'s.
//!
//! Stateless by default: every request is served on its own (2025-era clients get no
//! `Mcp-Session-Id`; 2026-07-28 clients are stateless anyway). That lets identical replicas
//! run behind any load balancer with no sticky sessions, and a reload needs no per-session
//! state. `--sessions` turns on 2025-era sessions (a GET stream for server pushes such as
//! `list_changed`, `logging/setLevel` remembered per session) at the cost of affinity.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::fast::{self, FastPath};
use super::handler::{Handler, Shared};

/// Largest accepted request body. A tools/call is a few KB; 4 MiB leaves room for uploads
/// passed as base64 while bounding memory per request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// Startup settings of the HTTP transport (not reloadable: they come from flags).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Extra `Host` values to accept besides loopback names (with or without port).
    pub allowed_hosts: Vec<String>,
    /// `Origin` values to accept (browser clients). Empty: any request carrying an `Origin`
    /// header that is not a loopback origin is rejected.
    pub allowed_origins: Vec<String>,
    /// Serve 2025-era sessions (see the module docs).
    pub sessions: bool,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Cancelled when the process starts shutting down: `/readyz` then answers 503 so load
    /// balancers stop routing here (see [`crate::server::Lifecycle`]).
    pub draining: CancellationToken,
    /// Answer `tools/call`, `resources/read` and `prompts/get` on the lean path in front of
    /// rmcp (`crate::mcp::fast`).
    /// Off only to compare the two paths or to rule the fast path out.
    pub fast_path: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            sessions: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            draining: CancellationToken::new(),
            fast_path: true,
        }
    }
}

/// Loopback hosts always accepted, so local clients work out of the box.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The `Host` values `/mcp` accepts: loopback names and `--allowed-host`s.
pub fn allowed_hosts(opts: &HttpOptions) -> Vec<String> {
    LOOPBACK_HOSTS
        .iter()
        .map(|h| h.to_string())
        .chain(opts.allowed_hosts.iter().cloned())
        .collect()
}

/// rmcp's settings; `stop` is the token on which rmcp ends its streams and sessions, which
/// [`super::stop::in_order`] cancels last.
fn config(opts: &HttpOptions, stop: &CancellationToken) -> StreamableHttpServerConfig {
    let hosts = allowed_hosts(opts);
    // Browsers on a loopback page may talk to a local gateway; any other origin must be named.
    let origins: Vec<String> = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
        .iter()
        .map(|o| o.to_string())
        .chain(opts.allowed_origins.iter().cloned())
        .collect();
    StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_legacy_session_mode(opts.sessions)
        .with_json_response(!opts.sessions)
        .with_max_request_body_bytes(opts.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        .with_cancellation_token(stop.child_token())
}

/// An endpoint served without the router: a request in, its answer's future out. `/mcp` is
/// one (`crate::server::App::mcp`), since every MCP call passes through it.
pub type Endpoint = Arc<
    dyn Fn(
            axum::extract::Request,
        ) -> std::pin::Pin<Box<dyn Future<Output = axum::response::Response> + Send>>
        + Send
        + Sync,
>;

/// The MCP endpoint for one gateway, to serve at its path behind the checks every request
/// passes first (`crate::server::routes::router`: Host, then auth, then the request's span).
pub fn mcp_service(
    shared: Arc<Shared>,
    opts: &HttpOptions,
    shutdown: &CancellationToken,
) -> Endpoint {
    // rmcp gets a token of its own, cancelled only once its answers are written
    // (`super::stop`): with the stop token itself it would cut calls the drain must finish.
    let rmcp_stop = CancellationToken::new();
    let answering = Arc::new(super::stop::Answering::default());
    tokio::spawn(super::stop::in_order(
        shutdown.clone(),
        shared.clone(),
        answering.clone(),
        rmcp_stop.clone(),
    ));
    let cfg = config(opts, &rmcp_stop);
    let factory = {
        let shared = shared.clone();
        move || Ok(Handler::new(shared.clone()))
    };
    let hosts = super::host::Allowed::new(&cfg.allowed_hosts);
    if opts.sessions {
        let mut manager = LocalSessionManager::default();
        manager.session_config.keep_alive = Some(super::sessions::KEEP_ALIVE);
        let manager = Arc::new(manager);
        let sessions = Arc::new(super::sessions::Sessions::new(manager.clone()));
        let rmcp = StreamableHttpService::new(factory, manager, cfg);
        entry(shared, rmcp, hosts, opts, Some(sessions), answering)
    } else {
        let rmcp =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), cfg);
        entry(shared, rmcp, hosts, opts, None, answering)
    }
}

/// `/mcp` through [`fast::entry`], which checks every body's JSON-RPC envelope and answers
/// `tools/call`, `resources/read` and `prompts/get` itself unless `--no-fast-path` says
/// otherwise; `sessions` in session mode.
fn entry<S, B>(
    shared: Arc<Shared>,
    rmcp: S,
    hosts: super::host::Allowed,
    opts: &HttpOptions,
    sessions: Option<Arc<super::sessions::Sessions>>,
    answering: Arc<super::stop::Answering>,
) -> Endpoint
where
    S: tower::Service<
            axum::extract::Request,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let fast = Arc::new(FastPath {
        shared,
        rmcp,
        hosts,
        max_body_bytes: opts.max_body_bytes,
        enabled: opts.fast_path,
        sessions,
        answering,
    });
    Arc::new(move |req| Box::pin(fast::entry(State(fast.clone()), req)))
}
