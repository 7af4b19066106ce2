//! `mcp-gateway serve`: compile the manifest, then serve it over Streamable HTTP (default) or
//! stdio. Startup settings (listen address, allowed hosts, limits) are flags, not manifest
//! fields: the manifest says what is exposed, the flags say how this process runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;

use crate::compile::{Options, Secrets, compile_file};
use crate::mcp::Shared;
use crate::mcp::http::{self, HttpOptions};
use crate::upstream::UpstreamClient;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The manifest.
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
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = http::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
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
    let filter =
        EnvFilter::try_from_env("MCP_GATEWAY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub(crate) fn run(args: Args) -> ExitCode {
    init_logging(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    runtime.block_on(serve(args))
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
    let outcome = compile_file(
        &args.path,
        Options {
            secrets: Secrets::Require,
        },
    )
    .await;
    let compiled = match outcome.result {
        Ok(c) => c,
        Err(diags) => {
            super::print_diagnostics(&diags, &outcome.sources);
            eprintln!(
                "error: {} cannot be served; fix the problems above (`mcp-gateway validate` shows the same)",
                args.path.display()
            );
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    super::print_diagnostics(&compiled.warnings, &outcome.sources);
    let upstream = match UpstreamClient::new() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: cannot create the upstream HTTP client: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let name = compiled.gateway.name.clone();
    let tools = compiled.gateway.tools.len();
    let shared = Arc::new(Shared {
        gateway: ArcSwap::from_pointee(compiled.gateway),
        upstream,
    });
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
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let shutdown = CancellationToken::new();
    let opts = HttpOptions {
        allowed_hosts: args.allowed_hosts,
        allowed_origins: args.allowed_origins,
        sessions: args.sessions,
        max_body_bytes: args.max_body_bytes,
    };
    let app = http::router(shared, &opts, &shutdown);
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing calls in flight");
        signal.cancel();
    });
    tracing::info!(gateway = %name, tools, url = %format!("http://{addr}/mcp"), sessions = opts.sessions, "serving");
    match http::serve(listener, app, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
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
