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
//! - [`manifest`]: the manifest's serde + JSON Schema types (`auth`, `budget`, `catalog`, `limits`,
//!   `retry`), loading with line/column spans, `${VAR}` interpolation.
//! - [`openapi`]: loading OpenAPI 3.0/3.1 and Swagger 2.0 documents (`docs`: the files a spec
//!   spans and their `$ref`s), reading their operations (`parse`) and normalising their schemas
//!   to JSON Schema 2020-12 (`schema`).
//! - [`compile`]: manifest + spec → [`gateway::Gateway`], collecting every [`diag::Diagnostic`].
//!   One operation becomes one tool in stages over a shared context (`tool`, with `params`,
//!   `body`, `output`, `shape`, `page`, `interact`, `values`, `names`, `owned`, `servers`,
//!   `retry`); beside them `upstream`, `auth`, `limits`, `prompts`, `resources`, `select`, `env`,
//!   and what keeps definitions small and portable (`budget`, `compact`, `loosen`, `patterns`).
//! - [`gateway`]: the compiled model (the IR), plain data: tools and call plans, upstream and
//!   inbound-auth settings, prompts, resources and completions, limits, paging, retries. It
//!   compares (`PartialEq`) and serialises (`Serialize`, secrets shown by origin only);
//!   validators and templates are kept with their source and serialise as it
//!   ([`gateway::Validator`], [`gateway::Templates`]). Also the MCP definitions as listed and
//!   the one rendering of argument errors (`invalid`).
//! - [`runtime`]: the running parts built from a gateway (the upstream's mTLS client, the
//!   client-credentials token, the JWKS and verified-token caches), each kept across a reload
//!   that leaves its settings unchanged.
//! - [`diag`]: diagnostics and their renderings (human, JSON, GitHub annotations).
//! - [`mcp`]: the MCP server: the rmcp handler (`handler`, `tools`), the lean `tools/call` path
//!   in front of it (`fast`, `jsonrpc`, and `sessions`: which 2025 sessions it may serve), the
//!   `/mcp` endpoint (`http`, `host`), one call end to end (`call`),
//!   prompts/resources/completions (`catalog`, `subscriptions`), asking the user before a call
//!   (`confirm`: elicitation, or a 2026-07-28 `InputRequiredResult`), slow operations
//!   (`async:`) as tasks of the 2026-07-28 extension or waited for (`tasks`), file arguments
//!   and binary answers by link (`files`), and the spans of requests (`traced`,
//!   `client_span`); stdio too.
//! - [`upstream`]: building the upstream request (`build`, `body`), sending it again where that
//!   is safe (`retry`), the gateway's own OAuth token (`oauth`), fetching a file argument by
//!   URL (`fetch`), following a `202 Accepted` job (`poll`), and mapping the answer
//!   (`answer`, `shape`, `shaped`, `page`, `resource`) with truthful retry advice (`advice`).
//! - [`reload`]: watching a gateway's files (`watch`), recompiling off the request path and
//!   swapping the served snapshot; serving a folder of gateways (`fleet`).
//! - [`auth`]: inbound authorization: verifying tokens (`jwt`, `jwks`, `introspect`, API `keys`,
//!   the `verified` cache), who the caller of a request is and the 401/403 challenge (`http`).
//! - [`server`]: the HTTP listener (connection timeouts and cap, graceful shutdown: `conn`), the
//!   auth middleware and Protected Resource Metadata routes in front of `/mcp` (`auth`), and the
//!   process's routes (`routes`: `/healthz`, `/readyz`, `/metrics`, a fleet's dispatch by name).
//! - [`lock`]: the lock file (what an agent sees, committed) and drift against it.
//! - [`cli`]: one file per subcommand.
//! - [`secret`]: credentials that never print (`Debug` and `Serialize` show their origin only).
//! - [`digest`]: content digests of input files (what a reload compares).
//! - [`tls`]: the TLS provider and error text shared by every outbound client.
//! - [`uri_template`]: RFC 6570 resource templates, parsed and matched against read URIs.
//! - [`stream_schema`]: a sound subset of JSON Schema checked while a document is read, without
//!   building it (a typed answer that passes goes out as the upstream wrote it).
//! - `json_read`: a JSON reader as strict as serde_json's `Value`, for the passes over a big answer
//!   that keep little of it (the check above, the shaping of a shaped answer).
//! - [`limit`]: the running limits of a gateway (concurrency cap, circuit `breaker`, rate-limit
//!   `bucket`s).
//! - [`telemetry`]: call metrics for `/metrics` (`histogram`, `expose`), the log line and its
//!   writer thread (`log_writer`), throttled warnings (`throttle`), OTLP traces (`trace`).

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
pub(crate) mod json_read;
pub mod limit;
pub mod lock;
pub mod manifest;
pub mod mcp;
pub mod openapi;
pub mod reload;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod stream_schema;
pub mod telemetry;
pub mod tls;
pub mod upstream;
pub mod uri_template;
