//! Compiled tools as MCP `Tool` definitions, exactly as `tools/list` returns them (and as
//! `inspect` prints them).

use rmcp::model::{Tool as McpTool, ToolAnnotations};

use crate::gateway::Tool;

/// The MCP definition of `tool`.
pub fn definition(tool: &Tool) -> McpTool {
    let a = &tool.annotations;
    let mut annotations = match &a.title {
        Some(t) => ToolAnnotations::with_title(t.clone()),
        None => ToolAnnotations::new(),
    };
    annotations = annotations
        .read_only(a.read_only_hint)
        .destructive(a.destructive_hint)
        .idempotent(a.idempotent_hint)
        .open_world(a.open_world_hint);
    let mut def = McpTool::new(
        tool.name.clone(),
        tool.description.clone(),
        tool.input_schema.clone(),
    )
    .with_annotations(annotations);
    if let Some(t) = &tool.title {
        def = def.with_title(t.clone());
    }
    if let Some(o) = &tool.output_schema {
        def = def.with_raw_output_schema(o.clone());
    }
    def
}
