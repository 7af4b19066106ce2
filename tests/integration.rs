//! Integration tests: one binary, a module per area (see each module's docs).

mod auth;
mod call;
mod catalog;
mod cli;
mod common;
mod compile_diagnostics;
mod conformance;
mod connections;
mod deploy;
mod examples;
mod hostile;
mod prism;
mod reload;
mod scale_out;
mod security;
mod serve_http;
mod shaping;
mod snapshots;
mod upstream_auth;
