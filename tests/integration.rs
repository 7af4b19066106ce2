//! Integration tests: one binary, a module per area (see each module's docs).

mod answers;
mod auth;
mod budget;
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
mod lock;
mod operating;
mod prism;
mod real_specs;
mod reload;
mod retry_advice;
mod scale_out;
mod requests;
mod security;
mod serve_http;
mod shaping;
mod snapshots;
mod upstream_auth;
