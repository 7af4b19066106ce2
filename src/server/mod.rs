//! The process's HTTP listener: accepting connections, holding each to its timeouts, capping
//! how many are open, and shutting down the way a load balancer needs. [`auth`] is the
//! authorization middleware in front of `/mcp` and the Protected Resource Metadata routes.
//!
//! Why not `axum::serve`: it has no header, body or idle timeout and no connection cap, so a
//! few hundred clients that send half a request hold every file descriptor and the process
//! forever. Here each connection is served by hyper's HTTP/1.1 server under a watchdog
//! ([`conn`]), and the accept loop keeps the open count under a cap sized to the process's
//! open-files limit: at the cap the connection idle longest is closed to make room (as nginx
//! reuses keep-alive connections), and only when every connection is busy is a new one told
//! `503` and closed, so the listener itself never starves.
//!
//! Shutdown ([`Lifecycle`]): on SIGTERM the process first *drains* (`/readyz` answers 503 so the
//! load balancer stops routing, responses carry `Connection: close`, the listener still
//! accepts), then after the grace *stops* (the listener closes, idle connections close, calls in
//! flight finish), and after the drain timeout whatever remains is closed.

pub mod auth;
mod conn;
pub mod routes;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

pub use crate::mcp::http::Endpoint;
pub use conn::Timeouts;
use conn::{ConnState, GuardedBody, Quiet, TrackedBody, TrackedIo};

/// What a listener serves: `/mcp` (when set) called directly, everything else through the
/// router. The router holds `/mcp` too (the same endpoint), so the two differ only in cost:
/// axum's routing, its middleware and handler adapters clone and box per request, and in a
/// profile of the `2025` row of `cargo bench --bench call` they owned about 10 % of the
/// gateway's CPU.
#[derive(Clone)]
pub struct App {
    /// Every route, `/mcp` included.
    pub router: Router,
    /// `/mcp`, called directly when the path is exactly that.
    pub mcp: Option<Endpoint>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("mcp", &self.mcp.is_some())
            .finish_non_exhaustive()
    }
}

impl From<Router> for App {
    fn from(router: Router) -> Self {
        App { router, mcp: None }
    }
}

/// Connection limits and timeouts (startup flags).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Per-phase connection timeouts.
    pub timeouts: Timeouts,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeouts: Timeouts {
                header: DEFAULT_HEADER_TIMEOUT,
                body: DEFAULT_BODY_TIMEOUT,
                idle: DEFAULT_IDLE_TIMEOUT,
            },
            max_connections: default_max_connections(),
        }
    }
}

/// A request head takes one round trip; 10 s covers slow mobile links and still frees a
/// slowloris connection quickly.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause while a request body arrives.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Agents pause between calls while the model thinks; a minute keeps their connection warm
/// without holding idle sockets forever. Longer than typical load-balancer idle timeouts
/// (nginx 60 s upstream keepalive_timeout, AWS ALB 60 s), so the balancer closes first.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// File descriptors kept back from the connection cap for everything else the process opens
/// (manifests, specs, watches, logs).
const RESERVED_FDS: u64 = 64;

/// The default connection cap: half of what the open-files limit leaves after
/// [`RESERVED_FDS`], since every call in flight may hold one upstream connection besides its
/// inbound one.
pub fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1 << 20);
    (soft.saturating_sub(RESERVED_FDS) / 2).clamp(8, 1 << 16) as usize
}

/// The shutdown phases, as tokens the signal handler cancels in order.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Cancelled on SIGTERM: readiness fails, responses ask clients to close, the listener
    /// still accepts.
    pub draining: CancellationToken,
    /// Cancelled after the grace: the listener closes and connections finish what they hold.
    pub stop: CancellationToken,
}

/// Serves `app` on `listener` until `life.stop`, then waits up to `drain` for the calls in
/// flight before closing what remains.
pub async fn serve(
    listener: TcpListener,
    app: impl Into<App>,
    limits: Limits,
    life: Lifecycle,
    drain: Duration,
) -> std::io::Result<()> {
    let app: App = app.into();
    let base = Instant::now();
    // Read by every answer: a flag, not the token itself, whose every check takes a mutex
    // that all connections share.
    let draining = Arc::new(AtomicBool::new(false));
    {
        let (flag, token) = (draining.clone(), life.draining.clone());
        tokio::spawn(async move {
            token.cancelled().await;
            flag.store(true, Ordering::Relaxed);
        });
    }
    let open: Arc<Mutex<HashMap<u64, Arc<ConnState>>>> = Arc::default();
    let tracker = tokio_util::task::TaskTracker::new();
    let ids = AtomicU64::new(0);
    let mut full_warned: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = life.stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before accept): free an
                    // idle connection and go on; the listener must outlive any flood.
                    tracing::warn!(error = %e, "accept failed; closing an idle connection and retrying");
                    evict_idle(&open);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Nagle's algorithm holds small SSE frames back ~40 ms each; MCP replies are small.
        let _ = stream.set_nodelay(true);
        let count = open.lock().map(|m| m.len()).unwrap_or(0);
        if count >= limits.max_connections && !evict_idle(&open) {
            if full_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "every connection is busy; new connections get 503 (raise --max-connections or the open-files limit)"
                );
                full_warned = Some(Instant::now());
            }
            tracker.spawn(shed(stream));
            continue;
        }
        let state = ConnState::new(base);
        let id = ids.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = open.lock() {
            m.insert(id, state.clone());
        }
        let open = open.clone();
        let app = app.clone();
        let life = life.clone();
        let draining = draining.clone();
        tracker.spawn(async move {
            connection(stream, peer, app, state, limits.timeouts, &life, draining).await;
            if let Ok(mut m) = open.lock() {
                m.remove(&id);
            }
        });
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        let left = open.lock().map(|m| m.len()).unwrap_or(0);
        tracing::warn!(
            connections = left,
            "drain timeout: closing the connections still open"
        );
        if let Ok(m) = open.lock() {
            m.values().for_each(|c| c.close.cancel());
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), tracker.wait()).await;
    }
    Ok(())
}

/// Closes the connection idle longest, if any is idle; `false` when all are busy.
fn evict_idle(open: &Mutex<HashMap<u64, Arc<ConnState>>>) -> bool {
    let Ok(m) = open.lock() else { return false };
    let victim = m
        .values()
        .filter(|c| !c.close.is_cancelled())
        .filter_map(|c| c.idle_for().map(|idle| (idle, c)))
        .max_by_key(|(idle, _)| *idle);
    match victim {
        Some((_, c)) => {
            c.close.cancel();
            true
        }
        None => false,
    }
}

/// Answers a connection the gateway has no room for: `503`, then closed.
async fn shed(mut stream: TcpStream) {
    const BODY: &str = "the gateway is at its connection limit; retry shortly\n";
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves one connection under its watchdog until it ends, times out, is evicted, or the
/// process stops.
async fn connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: App,
    state: Arc<ConnState>,
    timeouts: Timeouts,
    life: &Lifecycle,
    draining: Arc<AtomicBool>,
) {
    let io = TokioIo::new(TrackedIo {
        inner: stream,
        state: state.clone(),
    });
    let svc_state = state.clone();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let guard = svc_state.begin(hyper::body::Body::is_end_stream(req.body()));
        let mut req = req.map(|inner| {
            Body::new(TrackedBody {
                inner,
                state: svc_state.clone(),
            })
        });
        // As `axum::serve` with connect info does: per-caller limits count anonymous callers
        // by address.
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let answer = match &app.mcp {
            Some(mcp) if req.uri().path() == "/mcp" => mcp(req),
            _ => {
                let router = app.router.clone();
                Box::pin(async move {
                    let Ok(resp) = router.oneshot(req).await;
                    resp
                })
            }
        };
        let draining = draining.clone();
        async move {
            let mut resp = answer.await;
            if draining.load(Ordering::Relaxed) {
                // Ask the client (or load balancer) to reconnect elsewhere after this answer.
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            Ok::<_, Infallible>(resp.map(|inner| GuardedBody {
                inner,
                _guard: guard,
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // The watchdog times heads, bodies and idleness (hyper's one timer cannot tell them
        // apart), so hyper's own is off.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    // Polled only when one of them fires (`conn::Quiet`), not on each of the connection's wakes.
    let ends = Quiet::new(async {
        tokio::select! {
            _ = state.watchdog(timeouts) => false,
            _ = state.close.cancelled() => false,
            _ = life.stop.cancelled() => true,
        }
    });
    let stopping = tokio::select! {
        _ = conn.as_mut() => return,
        stopping = ends => stopping,
    };
    if !stopping {
        return;
    }
    // Idle connections close now; one handling a call closes after its answer.
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = state.watchdog(timeouts) => {}
        _ = state.close.cancelled() => {}
    }
}
