//! Streamable HTTP: rmcp's `StreamableHttpService` mounted at `/mcp`, plus `/healthz` and
//! `/readyz`, behind DNS-rebinding protection (Host and Origin allowlists) and a body limit.
//!
//! Stateless by default: every request is served on its own (2025-era clients get no
//! `Mcp-Session-Id`; 2026-07-28 clients are stateless anyway). That lets identical replicas
//! run behind any load balancer with no sticky sessions, and a reload needs no per-session
//! state. `--sessions` turns on 2025-era sessions (a GET stream for server pushes such as
//! `list_changed`, `logging/setLevel` remembered per session) at the cost of affinity.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::fast::{self, FastPath};
use super::handler::{Handler, Shared};
use crate::auth::http as auth;

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
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            sessions: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Loopback hosts always accepted, so local clients work out of the box.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn config(opts: &HttpOptions, shutdown: &CancellationToken) -> StreamableHttpServerConfig {
    let hosts: Vec<String> = LOOPBACK_HOSTS
        .iter()
        .map(|h| h.to_string())
        .chain(opts.allowed_hosts.iter().cloned())
        .collect();
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
        .with_cancellation_token(shutdown.child_token())
}

/// The MCP service for one gateway, to mount at its path.
pub fn mcp_service(
    shared: Arc<Shared>,
    opts: &HttpOptions,
    shutdown: &CancellationToken,
) -> Router {
    let cfg = config(opts, shutdown);
    let factory = {
        let shared = shared.clone();
        move || Ok(Handler::new(shared.clone()))
    };
    if opts.sessions {
        let mut manager = LocalSessionManager::default();
        // Idle sessions end after 30 minutes rather than rmcp's 5: clients such as IDE agents
        // sit idle for long stretches and several do not re-initialize after a 404.
        manager.session_config.keep_alive = Some(Duration::from_secs(30 * 60));
        Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(factory, Arc::new(manager), cfg),
        )
    } else {
        let hosts = cfg
            .allowed_hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let rmcp =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), cfg);
        let fast = Arc::new(FastPath {
            shared,
            rmcp,
            hosts,
            max_body_bytes: opts.max_body_bytes,
        });
        Router::new()
            .route("/mcp", any(fast::entry))
            .with_state(fast)
    }
}

/// The whole HTTP app for one gateway: `/mcp`, `/healthz`, `/readyz`.
pub fn router(shared: Arc<Shared>, opts: &HttpOptions, shutdown: &CancellationToken) -> Router {
    let ready = shared.clone();
    // Inbound auth sits in front of both the fast path and rmcp (see `crate::auth::http`).
    let guard = auth::Guard::new(shared.clone(), opts.max_body_bytes);
    mcp_service(shared.clone(), opts, shutdown)
        .route_layer(axum::middleware::from_fn_with_state(guard, auth::require))
        .merge(auth::metadata_routes(shared))
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    let g = ready.gateway.load();
                    format!("ready: {} ({} tools)\n", g.name, g.tools.len())
                }
            }),
        )
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    // Nagle's algorithm holds small SSE frames back ~40 ms each; MCP replies are small.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Whether binding `addr` needs named hosts: anything but loopback is reachable by others,
/// and DNS rebinding protection then needs to know the public names.
pub fn is_public(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}
