//! The MCP server: the rmcp handler that serves a hot-swappable compiled gateway, and its
//! transports (Streamable HTTP, stdio).

mod call;
mod catalog;
mod client_span;
pub mod confirm;
mod fast;
mod files;
mod handler;
mod host;
pub mod http;
mod jsonrpc;
mod sessions;
mod stop;
mod subscriptions;
mod tasks;
mod tools;
mod traced;

pub use catalog::{prompt_definition, resource_definition, template_definition};
pub(crate) use handler::{CallContext, run_tool};
pub use handler::{Changed, Handler, Listeners, PathCounters, Shared};
pub(crate) use host::{Allowed as AllowedHosts, refusal as host_refusal};
pub use subscriptions::{Subscriptions, files_updated};
pub use tools::definition;
pub(crate) use traced::layer as traced;

/// Serves `shared` over stdio until the client closes stdin. stdout carries only protocol
/// messages; logs go to stderr.
pub async fn serve_stdio(shared: std::sync::Arc<Shared>) -> Result<(), String> {
    use rmcp::ServiceExt;
    let running = Handler::new(shared)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("stdio transport failed to start: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("stdio transport ended with an error: {e}"))?;
    Ok(())
}
