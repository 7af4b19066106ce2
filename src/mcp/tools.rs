//! Compiled tools as MCP `Tool` definitions, exactly as `tools/list` returns them (and as
//! `inspect` prints them). The definitions themselves are built in
//! [`crate::gateway::definition`], where `compile` measures them against the budget.

pub use crate::gateway::definition;
