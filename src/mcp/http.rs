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
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::fast::{self, FastPath};
use super::handler::{Handler, Shared};
use crate::reload::Reloader;
use crate::reload::fleet::Fleet;
use crate::server::auth;

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
    /// Answer stateless `tools/call` on the lean path in front of rmcp (`crate::mcp::fast`).
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
    // One Host check in front of both the fast path and rmcp (see `super::host`).
    let allowed_hosts = Arc::new(cfg.allowed_hosts.clone());
    let host_guard = axum::middleware::from_fn_with_state(allowed_hosts, super::host::guard);
    let traced = axum::middleware::from_fn_with_state(opts.max_body_bytes, super::traced::layer);
    let factory = {
        let shared = shared.clone();
        move || Ok(Handler::new(shared.clone()))
    };
    let hosts = cfg
        .allowed_hosts
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if opts.sessions {
        let mut manager = LocalSessionManager::default();
        // Idle sessions end after 30 minutes rather than rmcp's 5: clients such as IDE agents
        // sit idle for long stretches and several do not re-initialize after a 404.
        manager.session_config.keep_alive = Some(Duration::from_secs(30 * 60));
        let rmcp = StreamableHttpService::new(factory, Arc::new(manager), cfg);
        entry(shared, rmcp, hosts, opts.max_body_bytes, false)
            .route_layer(traced)
            .route_layer(host_guard)
    } else {
        let rmcp =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), cfg);
        entry(shared, rmcp, hosts, opts.max_body_bytes, opts.fast_path)
            .route_layer(traced)
            .route_layer(host_guard)
    }
}

/// `/mcp` through [`fast::entry`], which checks every body's JSON-RPC envelope and answers
/// `tools/call` itself when `fast_path` allows.
fn entry<S, B>(
    shared: Arc<Shared>,
    rmcp: S,
    hosts: Vec<String>,
    max_body_bytes: usize,
    fast_path: bool,
) -> Router
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
        max_body_bytes,
        enabled: fast_path,
    });
    Router::new()
        .route("/mcp", any(fast::entry::<S, B>))
        .with_state(fast)
}

/// The whole HTTP app for one gateway: `/mcp`, `/healthz`, `/readyz`, `/metrics`.
pub fn router(reloader: Arc<Reloader>, opts: &HttpOptions, shutdown: &CancellationToken) -> Router {
    let ready = reloader.clone();
    let metrics = reloader.clone();
    let shared = reloader.shared().clone();
    // Inbound auth sits in front of both the fast path and rmcp (see `crate::auth::http`); the
    // health and metrics routes added after the layer are not behind it, for probes.
    let guard = auth::Guard::new(shared.clone(), opts.max_body_bytes);
    let draining = opts.draining.clone();
    mcp_service(shared.clone(), opts, shutdown)
        .route_layer(axum::middleware::from_fn_with_state(guard, auth::require))
        .merge(auth::metadata_routes(shared))
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let r = ready.clone();
                let draining = draining.clone();
                async move { ready_or_draining(&draining, || readiness(&r)) }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let r = metrics.clone();
                async move { prometheus(std::iter::once(&r)) }
            }),
        )
}

/// The `/readyz` line of one gateway. Still ready when stale: the old version serves fine, and
/// taking the replica out of the load balancer for a bad edit would turn a typo into an outage.
pub fn readiness(r: &Reloader) -> String {
    use std::sync::atomic::Ordering;
    let g = r.shared().gateway.load();
    let generation = r.status.generation.load(Ordering::Relaxed);
    let mut out = format!(
        "ready: {} ({} tools, generation {generation})\n",
        g.name,
        g.tools.len()
    );
    if r.status.stale.load(Ordering::Relaxed) {
        let why = r
            .status
            .last_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_default();
        out.push_str(&format!(
            "stale: {} holds a version that does not compile ({why}); generation {generation} is still served\n",
            r.manifest().display()
        ));
    }
    out
}

/// `/readyz`: 503 once the process is draining (the load balancer must stop routing here
/// before the listener closes), else `ready` (200).
pub fn ready_or_draining(
    draining: &CancellationToken,
    ready: impl FnOnce() -> String,
) -> (http::StatusCode, String) {
    if draining.is_cancelled() {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            "draining: shutting down; calls in flight are finishing\n".to_string(),
        )
    } else {
        (http::StatusCode::OK, ready())
    }
}

/// `/metrics` in the Prometheus text format for `reloaders`.
pub fn prometheus<'a>(
    reloaders: impl Iterator<Item = &'a Arc<Reloader>>,
) -> ([(http::HeaderName, &'static str); 1], String) {
    let mut out = crate::telemetry::Exposition::default();
    for r in reloaders {
        let g = r.shared().gateway.load();
        r.status.write_metrics(&g.name, g.tools.len(), &mut out);
        let shared = r.shared();
        shared
            .telemetry
            .write(&g.name, g.tools.iter().map(|t| t.name.as_str()), &mut out);
        write_limits(&g.name, &shared.limiter, &mut out);
        let name = crate::telemetry::escape(&g.name);
        for (path, n) in [("fast", &shared.paths.fast), ("rmcp", &shared.paths.rmcp)] {
            out.sample(
                "mcp_gateway_requests_total",
                "counter",
                "/mcp requests by the path that served them: fast (stateless tools/call in front of rmcp) or rmcp (everything else); bodies refused as malformed JSON-RPC are in neither.",
                &format!("gateway=\"{name}\",path=\"{path}\""),
                n.load(std::sync::atomic::Ordering::Relaxed),
            );
        }
    }
    let out = out.render();
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
}

/// The limiter's series of one gateway.
fn write_limits(
    gateway: &str,
    limiter: &crate::limit::Limiter,
    out: &mut crate::telemetry::Exposition,
) {
    let g = crate::telemetry::escape(gateway);
    out.sample(
        "mcp_gateway_upstream_in_flight",
        "gauge",
        "Upstream requests holding one of the `upstream.max_concurrent` slots now.",
        &format!("gateway=\"{g}\""),
        limiter.in_use(),
    );
    if let Some(now) = limiter.breaker_state() {
        for state in crate::limit::BreakerState::ALL {
            out.sample(
                "mcp_gateway_circuit_breaker_state",
                "gauge",
                "1 for the upstream circuit breaker's current state (closed, open, half_open).",
                &format!("gateway=\"{g}\",state=\"{}\"", state.label()),
                u8::from(state == now),
            );
        }
    }
}

/// Whether binding `addr` needs named hosts: anything but loopback is reachable by others,
/// and DNS rebinding protection then needs to know the public names.
pub fn is_public(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// The HTTP app for a folder of gateways: each at `/{name}/…` (its `/mcp`, `/readyz`, …), plus
/// `/healthz`, `/readyz` and `/metrics` for the whole process.
///
/// Requests are routed through the fleet's current endpoint map on every request (one atomic
/// load), so gateways can come and go without rebuilding the router.
pub fn fleet_router(fleet: Arc<Fleet>) -> Router {
    let ready = fleet.clone();
    let metrics = fleet.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let f = ready.clone();
                async move {
                    let draining = f.draining().clone();
                    ready_or_draining(&draining, || fleet_readiness(&f))
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let f = metrics.clone();
                async move {
                    let eps = f.endpoints.load();
                    prometheus(eps.values().map(|e| &e.reloader))
                }
            }),
        )
        .fallback(dispatch)
        .with_state(fleet)
}

/// The `/readyz` text of a folder of gateways: one line per gateway.
fn fleet_readiness(f: &Fleet) -> String {
    let eps = f.endpoints.load();
    let mut names: Vec<&String> = eps.keys().collect();
    names.sort();
    let mut out = String::new();
    for n in names {
        if let Some(ep) = eps.get(n) {
            out.push_str(&readiness(&ep.reloader));
        }
    }
    if out.is_empty() {
        out = format!("ready: no gateways under {} yet\n", f.root().display());
    }
    out
}

async fn dispatch(
    axum::extract::State(fleet): axum::extract::State<Arc<Fleet>>,
    mut req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    use tower::ServiceExt as _;
    let path = req.uri().path().to_string();
    // Protected Resource Metadata lives at the root with the resource's path inserted
    // (RFC 9728 §3.1: `/.well-known/oauth-protected-resource/{name}/mcp`); the gateway's own
    // router answers it under the same path, so it is forwarded unchanged.
    let metadata = path
        .strip_prefix(auth::METADATA_PATH)
        .and_then(|p| p.strip_prefix('/'))
        .map(|p| p.split('/').next().unwrap_or(""));
    let trimmed = path.trim_start_matches('/');
    let (name, rest) = match metadata {
        Some(name) => (name, ""),
        None => trimmed.split_once('/').unwrap_or((trimmed, "")),
    };
    let eps = fleet.endpoints.load();
    let Some(ep) = eps.get(name) else {
        let mut names: Vec<&str> = eps.keys().map(String::as_str).collect();
        names.sort_unstable();
        let served = if names.is_empty() {
            "none yet".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("/{n}/mcp"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return (
            http::StatusCode::NOT_FOUND,
            format!("no gateway is served at `{path}`; endpoints: {served}\n"),
        )
            .into_response();
    };
    let router = ep.router.clone();
    drop(eps);
    if metadata.is_none() {
        let mut uri = format!("/{rest}");
        if let Some(q) = req.uri().query() {
            uri.push('?');
            uri.push_str(q);
        }
        match uri.parse() {
            Ok(u) => *req.uri_mut() = u,
            Err(_) => return http::StatusCode::BAD_REQUEST.into_response(),
        }
    }
    match router.oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}
