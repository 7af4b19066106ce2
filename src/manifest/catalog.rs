//! The manifest's prompts, resources and completions: what a gateway offers besides tools.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A prompt: messages an agent's user can pick, rendered from Jinja templates with the
/// arguments the client passes to `prompts/get`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptConfig {
    /// Prompt name (1–128 of `A-Z a-z 0-9 _ - .`), unique in the gateway.
    pub name: String,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// What the prompt is for. Required: clients show it when a user picks a prompt.
    #[schemars(length(min = 1))]
    pub description: String,
    /// The arguments the messages use, in the order clients ask for them.
    #[serde(default)]
    pub arguments: Vec<PromptArgumentConfig>,
    /// Names of the tools this prompt is meant to drive; each must be one of `tools:`.
    #[serde(default)]
    pub tools: Vec<String>,
    /// The messages, in order. Each has exactly one of `text`, `image` or `resource`.
    #[schemars(length(min = 1))]
    pub messages: Vec<PromptMessageConfig>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptArgumentConfig {
    /// The name templates use (`{{ name }}`): a letter or `_`, then letters, digits, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: String,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// What to pass.
    #[serde(default)]
    pub description: Option<String>,
    /// `prompts/get` without it is refused.
    #[serde(default)]
    pub required: bool,
    /// The only values accepted; also offered as completions.
    #[serde(default)]
    pub values: Vec<String>,
    /// Where completions come from, besides `values`.
    #[serde(default)]
    pub complete: Option<CompletionConfig>,
}

/// Who speaks a message.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleConfig {
    /// The user.
    #[default]
    User,
    /// The assistant.
    Assistant,
}

/// One message of a prompt: exactly one of `text`, `image` or `resource`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptMessageConfig {
    /// Who speaks it. Default `user`.
    #[serde(default)]
    pub role: RoleConfig,
    /// A Jinja template (minijinja) over the prompt's arguments, e.g. `Summarise {{ repo }}`.
    /// An unknown variable is a compile error.
    #[serde(default)]
    pub text: Option<String>,
    /// An image.
    #[serde(default)]
    pub image: Option<ImageConfig>,
    /// One of this manifest's resources, embedded: its URI, which may be a template over the
    /// arguments (`{{ uri }}`) and must name a resource or match a resource template.
    #[serde(default)]
    pub resource: Option<String>,
}

/// Where an image comes from: exactly one of `file` or `resource`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// A file relative to this manifest (read at compile time and on every reload).
    #[serde(default)]
    pub file: Option<String>,
    /// The URI of one of this manifest's resources, read when the prompt is fetched.
    #[serde(default)]
    pub resource: Option<String>,
    /// Media type. Default: from the file extension, or the resource's answer.
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// A resource (fixed `uri`) or a resource template (RFC 6570 `uri_template`), read from a GET
/// operation of the spec or from a file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// A fixed URI, e.g. `petstore://inventory`.
    #[serde(default)]
    pub uri: Option<String>,
    /// An RFC 6570 template whose `{variables}` fill the operation's parameters, e.g.
    /// `crm://customers/{customer_id}` (`{name}` and `{+name}` expressions).
    #[serde(default)]
    pub uri_template: Option<String>,
    /// Resource name (shown by clients).
    pub name: String,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Media type announced in lists. Default: from the operation's success response or the
    /// file extension.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The GET operation that reads it: its `operationId`, or `GET /path`.
    #[serde(default)]
    pub operation: Option<String>,
    /// A file relative to this manifest (static resources only).
    #[serde(default)]
    pub file: Option<String>,
    /// Fixed values of the operation's arguments, by argument name.
    #[serde(default)]
    pub params: IndexMap<String, Value>,
    /// Completions of the template's variables, by variable name. Variables bound to a
    /// parameter with an `enum` complete from it without this.
    #[serde(default)]
    pub complete: IndexMap<String, CompletionConfig>,
}

/// Where the completions of one argument come from: listed `values`, or an `operation` of the
/// spec called with what the user typed so far.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionConfig {
    /// Suggested values (those starting with what was typed are offered).
    #[serde(default)]
    pub values: Vec<String>,
    /// A GET operation to ask, e.g. a search endpoint.
    #[serde(default)]
    pub operation: Option<String>,
    /// The operation's argument that receives the typed text (a search parameter). Without
    /// one, the operation's answer is filtered by what was typed.
    #[serde(default)]
    pub argument: Option<String>,
    /// Fixed values of its other arguments.
    #[serde(default)]
    pub params: IndexMap<String, Value>,
    /// JSON pointer to the array of results in the answer (default: the whole answer).
    #[serde(default)]
    pub pointer: Option<String>,
    /// JSON pointer to the value inside each result (e.g. `/login`); default: the result.
    #[serde(default)]
    pub field: Option<String>,
}

/// How resource subscriptions are served.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsConfig {
    /// How often a subscribed resource is checked upstream for changes (conditional GET), e.g.
    /// `30s`. Default `30s`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub poll: Option<String>,
}
