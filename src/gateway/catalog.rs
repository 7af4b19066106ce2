//! The compiled prompts, resources, resource templates and completions of a gateway.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use serde::Serialize;

use super::compiled::{Validator, with};
use super::{CallPlan, JsonObject};
use crate::uri_template::UriTemplate;

/// One prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prompt {
    /// Unique name.
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// Never empty.
    pub description: String,
    /// Declared arguments, in order.
    pub arguments: Vec<PromptArgument>,
    /// The messages, each a template checked at compile time.
    pub messages: Vec<PromptMessage>,
}

/// One declared prompt argument.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptArgument {
    /// Name (a template variable).
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// What to pass.
    pub description: Option<String>,
    /// `prompts/get` without it is refused.
    pub required: bool,
    /// The only accepted values (empty: any).
    pub allowed: Vec<String>,
    /// Where completions come from (listed values first, then this).
    pub completion: Option<Completion>,
}

/// One prompt message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptMessage {
    /// `true`: the assistant speaks it; otherwise the user.
    pub assistant: bool,
    /// What it holds.
    pub content: MessageContent,
}

/// The content of a prompt message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MessageContent {
    /// A Jinja template over the arguments.
    Text(String),
    /// An image read at compile time (base64) with its media type.
    Image {
        /// Base64 data.
        data: String,
        /// Media type.
        mime_type: String,
    },
    /// An image read from one of the gateway's resources (URI template source).
    ImageResource {
        /// The resource URI (a Jinja template over the arguments).
        uri: String,
        /// Media type to announce instead of the resource's own.
        mime_type: Option<String>,
    },
    /// One of the gateway's resources, embedded (URI as a Jinja template over the arguments).
    Resource(String),
}

/// A resource with a fixed URI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// Its URI.
    pub uri: String,
    /// Name shown by clients.
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// Media type announced in `resources/list`.
    pub mime_type: Option<String>,
    /// Where its content comes from.
    pub source: ResourceSource,
}

/// Where a resource's content comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ResourceSource {
    /// A file next to the manifest, read at compile time (a reload re-reads it).
    File {
        /// Its content.
        #[serde(serialize_with = "with::byte_count")]
        data: Bytes,
        /// Its media type.
        mime_type: String,
    },
    /// A GET operation, with all its arguments fixed.
    Upstream(ResourceCall),
}

/// A GET operation a resource read (or a completion) calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceCall {
    /// How to build the request.
    pub plan: CallPlan,
    /// Arguments fixed by the manifest.
    pub fixed: Map<String, Value>,
    /// The operation's argument schema: URI variables are strings, and this says which ones
    /// to read as numbers or booleans before validating.
    #[serde(serialize_with = "with::shared")]
    pub input_schema: Arc<JsonObject>,
    /// Validates the assembled arguments.
    pub validator: Validator,
    /// Timeout of the call.
    #[serde(serialize_with = "with::duration")]
    pub timeout: Duration,
}

/// A resource template (RFC 6570) bound to a GET operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceTemplate {
    /// The parsed template.
    #[serde(serialize_with = "with::text")]
    pub template: UriTemplate,
    /// Name shown by clients.
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// What its resources hold.
    pub description: Option<String>,
    /// Media type announced in `resources/templates/list`.
    pub mime_type: Option<String>,
    /// The operation; the URI's variables fill its arguments.
    pub call: ResourceCall,
    /// Completions of its variables, by variable name.
    #[serde(serialize_with = "with::sorted")]
    pub completions: HashMap<String, Completion>,
}

/// Where the completions of one argument come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Completion {
    /// A fixed list (manifest values or a parameter's `enum`).
    Values(Vec<String>),
    /// Listed values offered first, then an upstream operation asked with the typed text.
    Upstream {
        /// Listed values offered before asking upstream.
        values: Vec<String>,
        /// The operation (its other arguments fixed); boxed, as it is much larger than a list.
        call: Box<ResourceCall>,
        /// The argument that receives the typed text (the upstream searches); without one, the
        /// answer is filtered here by what was typed.
        argument: Option<String>,
        /// JSON pointer to the array of results.
        pointer: String,
        /// JSON pointer inside each result.
        field: String,
    },
}

/// Everything besides tools that a gateway serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    /// Prompts in manifest order.
    pub prompts: Vec<Prompt>,
    /// Static resources in manifest order.
    pub resources: Vec<Resource>,
    /// Resource templates in manifest order.
    pub templates: Vec<ResourceTemplate>,
    /// How often subscribed resources are checked upstream.
    #[serde(serialize_with = "with::duration")]
    pub poll_interval: Duration,
}

impl Catalog {
    /// The prompt called `name`.
    pub fn prompt(&self, name: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.name == name)
    }

    /// The resource `uri` names: a static one, or a template it matches with its variables.
    pub fn resolve(&self, uri: &str) -> Option<Resolved<'_>> {
        if let Some(r) = self.resources.iter().find(|r| r.uri == uri) {
            return Some(Resolved::Static(r));
        }
        self.templates.iter().find_map(|t| {
            t.template
                .match_uri(uri)
                .map(|vars| Resolved::Template(t, vars))
        })
    }
}

/// What a URI resolved to.
#[derive(Debug, Clone)]
pub enum Resolved<'a> {
    /// A static resource.
    Static(&'a Resource),
    /// A template, with the URI's variable values.
    Template(&'a ResourceTemplate, Vec<(String, String)>),
}

/// The one Jinja environment prompts are checked and rendered with: strict undefined (a
/// variable that is not an argument is an error, never an empty string), no auto-escaping
/// (prompts are plain text, not HTML).
pub fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env
    })
}
