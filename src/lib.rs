//! mcp-gateway: a declarative OpenAPI-to-MCP gateway.
//!
//! A user writes a `gateway.yaml` naming the operations of an OpenAPI document to expose and how
//! to shape them; the gateway compiles it into typed MCP tools and serves them, forwarding each
//! call to the upstream HTTP API.
//!
//! # Layout
//! The modules follow the data flow, one stage each, and depend only on their own stage or the
//! ones before it (`tests/layering.rs` holds the table and fails on a back edge):
//!
//! ```text
//! gateway.yaml ──manifest::load──▶ Manifest (what the user wrote: serde + JSON Schema)
//! openapi doc  ──openapi::load──▶ Spec (3.0 / 3.1 / 2.0 → one internal model)
//! Manifest + Spec ──compile──▶ Gateway (plain data: tools + call plans, settings)  or  Diagnostics
//! Gateway ──runtime──▶ Served (the Gateway + its pool and caches, reused where settings held)
//! file change ──reload──▶ compile again ──▶ swap the Served snapshot (or keep the old one, stale)
//! Served ──ArcSwap──▶ mcp (serves list/call/get/read/complete on one snapshot per request)
//! tools/call ──upstream──▶ HTTP request built from the call plan ──▶ CallToolResult
//! ```
//!
//! - [`manifest`]: the manifest's serde types, loading with line/column spans, env interpolation.
//! - [`openapi`]: loading OpenAPI 3.0/3.1 and Swagger 2.0 documents, `$ref` resolution and
//!   normalisation of their schemas to JSON Schema 2020-12.
//! - [`compile`]: manifest + spec → [`gateway::Gateway`], collecting every [`diag::Diagnostic`].
//! - [`gateway`]: the compiled model, plain data (tools, call plans, upstream and auth settings,
//!   prompts, resources and completions).
//! - [`runtime`]: the running parts built from a gateway (the upstream's mTLS client, the
//!   client-credentials token, the JWKS and verified-token caches), each kept across a reload
//!   that leaves its settings unchanged.
//! - [`diag`]: diagnostics and their renderings (human, JSON, GitHub annotations).
//! - [`mcp`]: the MCP server (rmcp handler, Streamable HTTP and stdio), including asking the user
//!   before a call (`confirm:`, `ask:`: elicitation, or a 2026-07-28 `InputRequiredResult`) and
//!   slow operations (`async:`) as tasks of the 2026-07-28 extension or waited for.
//! - [`upstream`]: building the upstream request, sending it again where that is safe, and
//!   mapping the response (with truthful retry advice) to an MCP result.
//! - [`reload`]: watching a gateway's files, recompiling off the request path and swapping the
//!   served snapshot; serving a folder of gateways.
//! - [`auth`]: inbound authorization: verifying tokens (OAuth resource server, API keys), what
//!   a caller may list and call, the 401/403 challenge.
//! - [`server`]: the HTTP listener (connection timeouts and cap, graceful shutdown), the auth
//!   middleware and Protected Resource Metadata routes in front of `/mcp`, and the process's
//!   routes (`/healthz`, `/readyz`, `/metrics`, a fleet's dispatch by gateway name).
//! - [`lock`]: the lock file (what an agent sees, committed) and drift against it.
//! - [`cli`]: one file per subcommand.
//! - [`secret`]: credentials that never print.
//! - [`digest`]: content digests of input files (what a reload compares).
//! - [`tls`]: the TLS provider and error text shared by every outbound client.
//! - [`uri_template`]: RFC 6570 resource templates, parsed and matched against read URIs.
//! - [`limit`]: the running limits of a gateway (concurrency cap, circuit breaker, rate limits).
//! - [`telemetry`]: call metrics for `/metrics`, throttled warnings.

#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    rust_2018_idioms
)]

pub mod auth;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod digest;
pub mod gateway;
pub mod limit;
pub mod lock;
pub mod manifest;
pub mod mcp;
pub mod openapi;
pub mod reload;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod telemetry;
pub mod tls;
pub mod upstream;
pub mod uri_template;
