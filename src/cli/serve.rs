//! `mcp-gateway serve`: compile the manifest, then serve it over Streamable HTTP (default) or
//! stdio. Startup settings (listen address, allowed hosts, limits) are flags, not manifest
//! fields: the manifest says what is exposed, the flags say how this process runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::compile::compile_to_serve;
use crate::mcp::http::{self as mcp_http, HttpOptions};
use crate::reload::Reloader;
use crate::reload::fleet::{self, Fleet};
use crate::server::routes as http;
use crate::server::{Lifecycle, Limits, Timeouts};

/// A timeout flag: a duration such as `10s` or `500ms`, never zero.
fn duration(s: &str) -> Result<Duration, String> {
    crate::compile::parse_duration(s)
}

/// The shutdown grace, which may be zero (exit as soon as calls in flight are done).
fn grace(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `5s` or `0s`"))
}

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The manifest, a folder holding `gateway.yaml`, or a folder of such folders (each served
    /// at `/{name}/mcp`). Edits to any file a gateway is built from are reloaded live.
    #[arg(default_value = "gateway.yaml")]
    path: PathBuf,
    /// Address to listen on. Loopback by default; any other address requires `--allowed-host`.
    #[arg(long, env = "MCP_GATEWAY_LISTEN", default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Serve MCP over stdin/stdout instead of HTTP (for desktop clients).
    #[arg(long, conflicts_with = "listen")]
    stdio: bool,
    /// A `Host` value clients use to reach this server (repeatable), e.g. `mcp.example.com`.
    /// Requests with other Host headers get 403 (DNS-rebinding protection).
    #[arg(
        long = "allowed-host",
        env = "MCP_GATEWAY_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// A browser `Origin` allowed to call the server (repeatable), e.g. `https://app.example.com`.
    #[arg(
        long = "allowed-origin",
        env = "MCP_GATEWAY_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// Keep 2025-era MCP sessions (server pushes on a GET stream, per-session log level).
    /// Default is stateless, which scales behind any load balancer without affinity.
    #[arg(long, env = "MCP_GATEWAY_SESSIONS")]
    sessions: bool,
    /// Serve every request through rmcp, without the lean path in front of it for `tools/call`,
    /// `resources/read` and `prompts/get` (same answers, more CPU per call); for comparing the
    /// two or ruling the fast path out.
    #[arg(long, env = "MCP_GATEWAY_NO_FAST_PATH")]
    no_fast_path: bool,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "MCP_GATEWAY_MAX_BODY_BYTES", default_value_t = mcp_http::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Time a client has to send a request head, from its first byte (or from connecting);
    /// slower connections are closed.
    #[arg(long, env = "MCP_GATEWAY_HEADER_TIMEOUT", default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// Longest pause while a request body arrives; the connection is closed after it.
    #[arg(long, env = "MCP_GATEWAY_BODY_TIMEOUT", default_value = "30s", value_parser = duration)]
    body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    #[arg(long, env = "MCP_GATEWAY_IDLE_TIMEOUT", default_value = "60s", value_parser = duration)]
    idle_timeout: Duration,
    /// Most connections open at once. At the cap the connection idle longest is closed for a
    /// new one; when every connection is busy, new ones get 503. Default: half of the
    /// open-files limit less 64 (each call may also hold an upstream connection).
    #[arg(long, env = "MCP_GATEWAY_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// After SIGTERM/SIGINT, how long `/readyz` answers 503 while the listener still accepts,
    /// so a load balancer stops routing here first. A second signal ends the grace early.
    #[arg(long, env = "MCP_GATEWAY_SHUTDOWN_GRACE", default_value = "5s", value_parser = grace)]
    shutdown_grace: Duration,
    /// After the grace, how long calls in flight may take to finish before the process exits
    /// anyway.
    #[arg(long, env = "MCP_GATEWAY_DRAIN_TIMEOUT", default_value = "30s", value_parser = duration)]
    drain_timeout: Duration,
    /// How long an idle connection to an upstream is kept for reuse. Keep it under the
    /// upstream's own keep-alive timeout (behind a load balancer, the balancer's): a request
    /// written onto a connection the server is closing fails, and only a retry-safe call can be
    /// sent again after that.
    #[arg(long, env = "MCP_GATEWAY_UPSTREAM_IDLE_TIMEOUT", default_value = "4s", value_parser = duration)]
    upstream_idle_timeout: Duration,
    /// Threads that serve requests. Default: one per CPU the process may use (its cgroup's
    /// CPU limit counts). On a machine shared with the upstream or other busy processes, fewer
    /// workers than CPUs cost less CPU per call (see the README's performance section).
    #[arg(long, env = "MCP_GATEWAY_WORKERS", value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "MCP_GATEWAY_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    // rmcp's own info lines (one per connection, naming its transport rather than the client)
    // say nothing the per-call line does not; they stay available with MCP_GATEWAY_LOG=info,rmcp=info.
    let filter = EnvFilter::try_from_env("MCP_GATEWAY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal());
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // Lines are written by a thread of their own (see `log_writer`), so the per-call line
    // costs a call no system call and a slow stderr reader stalls no call.
    let fmt: Box<dyn tracing::Subscriber + Send + Sync> = match (
        format,
        crate::telemetry::log_writer::Background::start(std::io::stderr()),
    ) {
        (LogFormat::Text, Some(w)) => Box::new(builder.with_writer(w).finish()),
        (LogFormat::Json, Some(w)) => Box::new(builder.json().with_writer(w).finish()),
        (LogFormat::Text, None) => Box::new(builder.with_writer(std::io::stderr).finish()),
        (LogFormat::Json, None) => Box::new(builder.json().with_writer(std::io::stderr).finish()),
    };
    // A client closing its stream is not an error of the gateway's (see `ClientGone`).
    let _ = fmt.with(crate::telemetry::ClientGone).try_init();
}

/// Starts the OTLP exporter when `OTEL_*` configures one; otherwise tracing stays off.
fn start_tracing() {
    use crate::telemetry::trace;
    match trace::Config::from_env(|k| std::env::var(k).ok()) {
        Ok(Some(config)) => match crate::upstream::client_builder().build() {
            Ok(http) => {
                tracing::info!(endpoint = %config.endpoint, service = %config.service, "exporting traces over OTLP/HTTP");
                trace::start(config, http);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot create the trace exporter's HTTP client; traces are off");
                trace::disable();
            }
        },
        Ok(None) => trace::disable(),
        Err(e) => {
            tracing::warn!("{e}; traces are off");
            trace::disable();
        }
    }
}

pub(crate) fn run(args: Args) -> ExitCode {
    init_logging(args.log_format);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.workers {
        builder.worker_threads(n.into());
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let code = runtime.block_on(serve(args));
    // Work still on the blocking pool (a compile) must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    crate::telemetry::log_writer::flush();
    code
}

async fn serve(args: Args) -> ExitCode {
    if !args.stdio && http::is_public(&args.listen) && args.allowed_hosts.is_empty() {
        eprintln!(
            "error: --listen {} is reachable from other machines; name the hosts clients use with \
             --allowed-host (e.g. --allowed-host mcp.example.com) so DNS-rebinding protection can work",
            args.listen
        );
        return ExitCode::from(super::EXIT_USAGE);
    }
    // Before any upstream client is built (the compile builds mTLS clients).
    crate::upstream::set_pool_idle_timeout(args.upstream_idle_timeout);
    let life = Lifecycle::default();
    let opts = HttpOptions {
        allowed_hosts: args.allowed_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
        sessions: args.sessions,
        max_body_bytes: args.max_body_bytes,
        draining: life.draining.clone(),
        fast_path: !args.no_fast_path,
    };
    start_tracing();
    // Cancelled when the grace is over: the listener, rmcp's streams and the watches stop.
    let shutdown = life.stop.clone();
    // A folder with no gateway.yaml of its own is a folder of gateways.
    let fleet_root = args.path.is_dir() && !args.path.join(fleet::MANIFEST).is_file();
    if fleet_root {
        if args.stdio {
            eprintln!(
                "error: --stdio serves one gateway; name its manifest (e.g. {}/NAME/gateway.yaml)",
                args.path.display()
            );
            return ExitCode::from(super::EXIT_USAGE);
        }
        return serve_fleet(args, opts, life).await;
    }
    let manifest = super::manifest_at(&args.path);
    let outcome = compile_to_serve(&manifest).await;
    let compiled = match outcome.result {
        Ok(c) => c,
        Err(diags) => {
            super::print_diagnostics(&diags, &outcome.sources);
            eprintln!(
                "error: {} cannot be served; fix the problems above (`mcp-gateway validate` shows the same)",
                manifest.display()
            );
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    super::print_diagnostics(&compiled.warnings, &outcome.sources);
    let name = compiled.gateway.name.clone();
    let tools = compiled.gateway.tools.len();
    let reloader = match Reloader::start(manifest, compiled, shutdown.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            // The gateway's own settings could not be put to use: like a manifest that does not
            // compile. The shared client failing is the machine's problem.
            let code = match e {
                crate::reload::StartError::Runtime(_) => super::EXIT_INVALID,
                crate::reload::StartError::Client(_) => super::EXIT_USAGE,
            };
            return ExitCode::from(code);
        }
    };
    let shared = reloader.shared().clone();
    {
        let reloader = reloader.clone();
        spawn_hangup(move || {
            let reloader = reloader.clone();
            async move {
                reloader.reload(true).await;
            }
        });
    }
    if args.stdio {
        tracing::info!(gateway = %name, tools, "serving over stdio");
        return match crate::mcp::serve_stdio(shared).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(super::EXIT_USAGE)
            }
        };
    }
    let Some(listener) = bind(args.listen).await else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    let url = format!("http://{}/mcp", local_addr(&listener));
    let app = http::app(reloader, &opts, &shutdown);
    tracing::info!(gateway = %name, tools, url = %url, sessions = opts.sessions, "serving");
    run_http(listener, app, &args, life).await
}

async fn serve_fleet(args: Args, opts: HttpOptions, life: Lifecycle) -> ExitCode {
    let shutdown = life.stop.clone();
    let fleet = Arc::new(Fleet::new(
        args.path.clone(),
        opts,
        http::router,
        shutdown.clone(),
    ));
    fleet.rescan().await;
    if let Err(e) = fleet::spawn_watch(fleet.clone(), shutdown.clone()) {
        tracing::warn!(folder = %args.path.display(), "cannot watch the folder ({e}); added or removed gateways need SIGHUP");
    }
    {
        let fleet = fleet.clone();
        spawn_hangup(move || {
            let fleet = fleet.clone();
            async move { fleet.reload_all().await }
        });
    }
    let Some(listener) = bind(args.listen).await else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    let addr = local_addr(&listener);
    let mut names: Vec<String> = fleet.endpoints.load().keys().cloned().collect();
    names.sort();
    for n in &names {
        tracing::info!(gateway = %n, url = %format!("http://{addr}/{n}/mcp"), "serving");
    }
    tracing::info!(folder = %args.path.display(), gateways = names.len(), "serving a folder of gateways; add, change or remove folders to change what is served");
    let app = http::fleet_router(fleet);
    run_http(listener, app.into(), &args, life).await
}

async fn bind(addr: SocketAddr) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            None
        }
    }
}

fn local_addr(listener: &tokio::net::TcpListener) -> String {
    listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default()
}

async fn run_http(
    listener: tokio::net::TcpListener,
    app: crate::server::App,
    args: &Args,
    life: Lifecycle,
) -> ExitCode {
    let limits = Limits {
        timeouts: Timeouts {
            header: args.header_timeout,
            body: args.body_timeout,
            idle: args.idle_timeout,
        },
        max_connections: args
            .max_connections
            .unwrap_or_else(crate::server::default_max_connections),
    };
    let (grace, drain) = (args.shutdown_grace, args.drain_timeout);
    let signals = life.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!(
            grace = %humantime::format_duration(grace),
            "shutting down: /readyz now answers 503; still accepting during the grace"
        );
        signals.draining.cancel();
        tokio::select! {
            _ = tokio::time::sleep(grace) => {}
            _ = wait_for_signal() => {}
        }
        tracing::info!(
            drain_timeout = %humantime::format_duration(drain),
            "listener closed; finishing calls in flight"
        );
        signals.stop.cancel();
    });
    match crate::server::serve(listener, app, limits, life, drain).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}

/// Runs `reload` on every SIGHUP: the operator's "reload now" (after rotating a secret, or for
/// a spec fetched from a URL, which cannot be watched).
fn spawn_hangup<F, Fut>(reload: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; reloads follow file changes only");
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            reload().await;
        }
    });
    #[cfg(not(unix))]
    let _ = reload;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
