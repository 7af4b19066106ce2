//! The process's HTTP surface above the MCP endpoint: one gateway's app (`/mcp` behind the
//! auth middleware, the OAuth metadata routes, `/healthz`, `/readyz`, `/metrics`) and the
//! fleet's router, which dispatches to a folder of gateways by name.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{any, get};
use tokio_util::sync::CancellationToken;

use super::{App, Endpoint, auth};
use crate::mcp::http::{HttpOptions, allowed_hosts, mcp_service};
use crate::reload::Reloader;
use crate::reload::fleet::Fleet;

/// The whole HTTP app for one gateway: `/mcp`, `/healthz`, `/readyz`, `/metrics`, as a router
/// (for a folder of gateways, which routes by name).
pub fn router(reloader: Arc<Reloader>, opts: &HttpOptions, shutdown: &CancellationToken) -> Router {
    app(reloader, opts, shutdown).router
}

/// The same app, with `/mcp` also served without the router (`super::App`).
pub fn app(reloader: Arc<Reloader>, opts: &HttpOptions, shutdown: &CancellationToken) -> App {
    let ready = reloader.clone();
    let metrics = reloader.clone();
    let shared = reloader.shared().clone();
    // The checks sit in front of both the fast path and rmcp; the health and metrics routes
    // are not behind them, for probes.
    let front = Arc::new(Front {
        hosts: crate::mcp::AllowedHosts::new(&allowed_hosts(opts)),
        guard: auth::Guard::new(shared.clone(), opts.max_body_bytes),
        max_body_bytes: opts.max_body_bytes,
    });
    let inner = mcp_service(shared.clone(), opts, shutdown);
    let mcp: Endpoint = Arc::new(move |req| {
        let (front, inner) = (front.clone(), inner.clone());
        Box::pin(async move { front_of_mcp(&front, req, &inner).await })
    });
    let routed = mcp.clone();
    let draining = opts.draining.clone();
    let router = Router::new()
        .route("/mcp", any(move |req: Request| routed(req)))
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
        );
    App {
        router,
        mcp: Some(mcp),
    }
}

/// What the checks in front of `/mcp` need: the accepted hosts, the auth guard and the body
/// limit the span reads up to.
struct Front {
    hosts: crate::mcp::AllowedHosts,
    guard: auth::Guard,
    max_body_bytes: usize,
}

/// Every request to `/mcp` passes these, in this order: the `Host` check against DNS
/// rebinding (`crate::mcp::host`: a foreign host learns nothing more, not even whether auth
/// is on), inbound auth (`super::auth`), then the request's span (`crate::mcp::traced`), and
/// then reaches `inner`. Plain functions, not axum layers: each `from_fn` layer clones the
/// boxed service below it and boxes its future on every request (with three, axum and tower
/// took 10.3 % of the gateway's CPU in a profile of the `2025` row of `cargo bench --bench
/// call`; with one, 6.0 %).
async fn front_of_mcp(front: &Front, req: Request, inner: &Endpoint) -> Response {
    if let Some(refused) = crate::mcp::host_refusal(req.headers(), &front.hosts) {
        return refused;
    }
    match auth::admit(&front.guard, req).await {
        Ok(req) => crate::mcp::traced(front.max_body_bytes, req, |req| inner(req)).await,
        Err(refused) => refused,
    }
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
                "/mcp requests by the path that served them: fast (tools/call, resources/read and prompts/get answered in front of rmcp) or rmcp (everything else); bodies refused as malformed JSON-RPC are in neither.",
                &format!("gateway=\"{name}\",path=\"{path}\""),
                n.load(std::sync::atomic::Ordering::Relaxed),
            );
        }
    }
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        out.sample(
            "mcp_gateway_runtime_workers",
            "gauge",
            "Threads serving requests (`serve --workers`; by default one per CPU the process may use).",
            "",
            rt.metrics().num_workers(),
        );
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
