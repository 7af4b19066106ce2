//! The MCP definitions of compiled tools, prompts, resources and resource templates, exactly as
//! the list methods serve them. They live with the compiled model (not in `mcp`) because
//! `compile` measures them against the manifest's budget, and `inspect` and the lock file print
//! them: one builder, so what is measured is what is served.

use rmcp::model::{
    Prompt as McpPrompt, PromptArgument as McpArgument, Resource as McpResource,
    ResourceTemplate as McpTemplate, Tool as McpTool, ToolAnnotations,
};

use super::{Prompt, Resource, ResourceSource, ResourceTemplate, Tool};

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

/// The MCP definition of a prompt.
pub fn prompt_definition(p: &Prompt) -> McpPrompt {
    let arguments: Vec<McpArgument> = p
        .arguments
        .iter()
        .map(|a| {
            let mut d = McpArgument::new(a.name.clone()).with_required(a.required);
            if let Some(t) = &a.title {
                d = d.with_title(t.clone());
            }
            if let Some(desc) = &a.description {
                d = d.with_description(desc.clone());
            }
            d
        })
        .collect();
    let mut def = McpPrompt::new(
        p.name.clone(),
        Some(p.description.clone()),
        (!arguments.is_empty()).then_some(arguments),
    );
    if let Some(t) = &p.title {
        def = def.with_title(t.clone());
    }
    def
}

/// The MCP definition of a static resource.
pub fn resource_definition(r: &Resource) -> McpResource {
    let mut def = McpResource::new(r.uri.clone(), r.name.clone());
    def.title = r.title.clone();
    def.description = r.description.clone();
    def.mime_type = r.mime_type.clone();
    if let ResourceSource::File { data, .. } = &r.source {
        def.size = Some(data.len() as u64);
    }
    def
}

/// The MCP definition of a resource template.
pub fn template_definition(t: &ResourceTemplate) -> McpTemplate {
    let mut def = McpTemplate::new(t.template.as_str(), t.name.clone());
    def.title = t.title.clone();
    def.description = t.description.clone();
    def.mime_type = t.mime_type.clone();
    def
}
