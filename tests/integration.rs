//! Integration tests: one binary, a module per area (see each module's docs).

mod auth;
mod catalog;
mod cli;
mod common;
mod compile_diagnostics;
mod conformance;
mod examples;
mod fast_path;
mod prism;
mod reload;
mod security;
mod serve_http;
mod shaping;
mod snapshots;
mod upstream_auth;
