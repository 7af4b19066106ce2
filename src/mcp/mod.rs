//! The MCP server: the rmcp handler that serves a hot-swappable compiled gateway, and its
//! transports (Streamable HTTP, stdio).

mod tools;

pub use tools::definition;
