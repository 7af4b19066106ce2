//! The compiled gateway: the immutable model (the IR) that `compile` produces from a manifest and
//! its OpenAPI document. It is plain data: settings and pure compiled artifacts (validators,
//! templates), never a connection pool or a cache; [`crate::runtime`] builds those from it, and
//! serving reads both as one snapshot per request.
//!
//! Nothing here is deserialised from user input: only [`crate::compile`] builds these types, so
//! every invariant (unique tool names, a validator per tool, a call plan whose arguments all
//! exist in the input schema, a prompt template that names only declared arguments) holds by
//! construction.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use serde::Serialize;

use crate::secret::Secret;
use compiled::with;

pub mod async_op;
pub mod auth;
mod catalog;
mod compiled;
mod definition;
pub mod files;
mod interaction;
pub mod invalid;
mod limits;
mod owned;
pub mod paging;
mod retry;
pub mod selection;

// Parameter vocabulary is defined where it is first read (the spec), and compiled into plans.
pub use crate::openapi::{ParamLocation, ParamStyle};

pub use catalog::{
    Catalog, Completion, MessageContent, Prompt, PromptArgument, PromptMessage, Resolved, Resource,
    ResourceCall, ResourceSource, ResourceTemplate, templates,
};
pub use compiled::{Templates, Validator};
pub use definition::{definition, prompt_definition, resource_definition, template_definition};
pub use interaction::{Ask, CONFIRM_KEY, Confirm, Interaction};
pub use limits::{Breaker, DEFAULT_MAX_CONCURRENT, DEFAULT_QUEUE_TIMEOUT, Limits, RateLimit};
pub use owned::{Owner, RESERVED_HEADERS, names_the_same};
pub use retry::{RetryPolicy, idempotent_method};

/// A JSON object, as MCP carries schemas.
pub type JsonObject = Map<String, Value>;

/// One compiled gateway: what a single `gateway.yaml` exposes. It serialises (for snapshots and
/// review) with every secret shown only by where it came from, validators as their schemas and
/// templates as their text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gateway {
    /// Server name reported to clients (`serverInfo.name`).
    pub name: String,
    /// Version reported to clients (`serverInfo.version`).
    pub version: String,
    /// Human-readable title, if the manifest gives one.
    pub title: Option<String>,
    /// What the server tells the agent about itself.
    pub instructions: Option<String>,
    /// Tools in manifest order (deterministic `tools/list`).
    pub tools: Vec<Tool>,
    /// Index into `tools` by name.
    #[serde(skip)]
    pub by_name: HashMap<String, usize>,
    /// How to reach the upstream API.
    pub upstream: Upstream,
    /// Who may call over HTTP (`None`: anyone who can reach the endpoint).
    pub auth: Option<auth::Auth>,
    /// Prompts, resources, resource templates and their completions.
    pub catalog: Catalog,
    /// Concurrency cap, circuit breaker and rate limits (shared with the running limiter,
    /// which compares by pointer first: see [`crate::limit`]).
    #[serde(serialize_with = "with::shared")]
    pub limits: Arc<Limits>,
}

impl Gateway {
    /// The tool called `name`, if any.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.by_name.get(name).map(|&i| &self.tools[i])
    }
}

/// Where and how calls go upstream, shared by every tool of a gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upstream {
    /// Base URL every path template is joined onto (no trailing slash).
    #[serde(serialize_with = "with::text")]
    pub base_url: url::Url,
    /// Headers sent on every request (already checked for CR/LF).
    pub headers: Vec<(String, String)>,
    /// Default per-call timeout; a tool may override it.
    #[serde(serialize_with = "with::duration")]
    pub timeout: Duration,
    /// Largest decompressed response body kept; the rest is cut with a note.
    pub max_response_bytes: usize,
    /// Credentials the gateway itself presents to the upstream. Never the MCP caller's token.
    pub auth: Option<UpstreamAuth>,
    /// The upstream's own TLS settings (a client certificate, a private CA): calls then go
    /// through a client of their own, built by [`crate::runtime`]; `None` uses the shared pool.
    pub tls: Option<UpstreamTls>,
    /// Upstream header ← claim of the verified caller (`upstream.identity_headers`).
    #[serde(serialize_with = "with::header_pairs")]
    pub identity_headers: Vec<(http::HeaderName, String)>,
    /// The gateway's own retries (`upstream.retry`); a tool may override them.
    pub retry: RetryPolicy,
    /// The header carrying a fresh key per call of a non-idempotent method
    /// (`upstream.idempotency_key`), owned by the gateway.
    #[serde(serialize_with = "with::opt_text")]
    pub idempotency_key: Option<http::HeaderName>,
    /// File arguments fetched by URL and binary answers returned inline or by link.
    pub files: files::Files,
}

impl Upstream {
    /// Where a call of `plan` goes: the tool's own server (`base_url:` or the operation's
    /// `servers`), else the upstream's.
    pub fn base_for<'a>(&'a self, plan: &'a CallPlan) -> &'a url::Url {
        plan.base_url.as_deref().unwrap_or(&self.base_url)
    }
}

/// `upstream.client_certificate` and `upstream.ca_certificate`, read and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamTls {
    /// PEM bundle of the only CAs trusted (`None`: the usual roots).
    #[serde(serialize_with = "with::opt_byte_count")]
    pub ca_certificates: Option<Vec<u8>>,
    /// The client certificate (chain) and its private key, as one PEM document.
    pub identity: Option<Secret>,
}

/// The OAuth 2.0 client credentials grant's settings (`upstream.auth: oauth2_client_credentials`).
/// The token itself is running state ([`crate::upstream::TokenCache`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCredentials {
    /// The token endpoint.
    #[serde(serialize_with = "with::text")]
    pub token_url: url::Url,
    /// The gateway's client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: Secret,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// `audience` requested, for servers that want one.
    pub audience: Option<String>,
}

/// The gateway's own credentials for the upstream API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum UpstreamAuth {
    /// An API key sent in a header, query parameter or cookie.
    ApiKey {
        /// Where the key goes.
        location: ApiKeyLocation,
        /// Header, query or cookie name.
        name: String,
        /// The key.
        value: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User name (not secret).
        username: String,
        /// Password.
        password: Secret,
    },
    /// A bearer token from the OAuth 2.0 client credentials grant, cached and shared by every
    /// call (added when the call is sent: getting it may need a request of its own).
    OAuth2(ClientCredentials),
}

/// Where an API key is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// One MCP tool and everything needed to serve a call to it.
#[derive(Clone, PartialEq, Serialize)]
pub struct Tool {
    /// Unique MCP name.
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// Never empty.
    pub description: String,
    /// JSON Schema 2020-12 object for the arguments.
    #[serde(serialize_with = "with::shared")]
    pub input_schema: Arc<JsonObject>,
    /// JSON Schema for `structuredContent`, when declared.
    #[serde(serialize_with = "with::opt_shared")]
    pub output_schema: Option<Arc<JsonObject>>,
    /// How a JSON response body becomes `structuredContent`.
    pub output: OutputShape,
    /// The four MCP hints, always explicit.
    pub annotations: Annotations,
    /// Built once at compile time from `input_schema` (before patterns clients cannot compile
    /// were made portable in it).
    pub input_validator: Validator,
    /// Built once at compile time from the full output schema (before compaction: the
    /// declared `output_schema` may be looser, never stricter).
    pub output_validator: Option<Validator>,
    /// How to build the upstream request.
    pub plan: CallPlan,
    /// Per-tool timeout, overriding the upstream default.
    #[serde(serialize_with = "with::opt_duration")]
    pub timeout: Option<Duration>,
    /// The gateway's own retries of this tool: `upstream.retry` with the tool's overrides.
    pub retry: RetryPolicy,
    /// The header that carries a fresh idempotency key per call (the tool's `idempotency_key`,
    /// or the upstream's for a method that is not idempotent). The compiler keeps a spec
    /// parameter of that name out of the tool, so no argument can set it.
    #[serde(serialize_with = "with::opt_text")]
    pub idempotency_key: Option<http::HeaderName>,
    /// OAuth scopes a caller needs (all of them); empty: any authorized caller.
    pub scopes: Vec<String>,
    /// How a JSON answer is cut down and presented (`response:`), if configured.
    #[serde(serialize_with = "with::opt_shared")]
    pub shape: Option<Arc<Shape>>,
    /// What the user is asked before a call (`ask:`, `confirm:`), if anything.
    #[serde(serialize_with = "with::opt_shared")]
    pub interaction: Option<Arc<Interaction>>,
    /// The same arguments as `input_schema`, in the form 2026-07-28 clients are shown when the
    /// manifest keeps 2020-12 structure (`$schema`, shared schemas under `$defs`).
    #[serde(serialize_with = "with::opt_shared")]
    pub input_schema_2026: Option<Arc<JsonObject>>,
    /// `response.max_inline_bytes`: overrides the upstream's cap on binary answers inline.
    pub max_inline_bytes: Option<usize>,
    /// How a `202 Accepted` answer is followed to the job's end (`async:`), if it is.
    #[serde(serialize_with = "with::opt_shared")]
    pub async_op: Option<Arc<async_op::AsyncOp>>,
}

/// A tool's response shaping, compiled: see `ResponseConfig` in the manifest.
#[derive(Debug, PartialEq, Serialize)]
pub struct Shape {
    /// Paths (split JSON pointers) to keep of each record.
    pub select: Option<Vec<Vec<String>>>,
    /// Where the list of records is, as a JSON pointer (empty: the answer itself).
    pub list: Option<String>,
    /// Cap on the list's length.
    pub max_items: Option<usize>,
    /// Whether the template `text` renders the text block.
    pub text: bool,
    /// Further content blocks.
    pub blocks: Vec<Block>,
    /// The compiled templates (`text`, `block{i}`, `uri{i}`).
    pub templates: Templates,
    /// `response.as: text`: the body goes back as text, whatever its media type says.
    pub as_text: bool,
    /// `page:`: how the list continues on the API.
    pub page: Option<paging::Paging>,
}

/// One content block built from an answer.
#[derive(Debug, PartialEq, Serialize)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// Literal MIME type, or a JSON pointer (starting with `/`) into the answer.
    pub mime_type: Option<String>,
}

/// The kind of a [`Block`].
#[derive(Debug, PartialEq, Serialize)]
pub enum BlockKind {
    /// Text from template `block{i}`.
    Text,
    /// An image from base64 data at this JSON pointer.
    Image {
        /// Pointer to the base64 data.
        data: String,
    },
    /// Audio from base64 data at this JSON pointer.
    Audio {
        /// Pointer to the base64 data.
        data: String,
    },
    /// An embedded resource with URI template `uri{i}`: JSON at a path, or template `block{i}`.
    Resource {
        /// Pointer to the JSON to embed; `None`: the text template.
        json_at: Option<String>,
    },
}

impl BlockKind {
    /// Its name in messages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image { .. } => "image",
            Self::Audio { .. } => "audio",
            Self::Resource { .. } => "resource",
        }
    }
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// How the JSON body of a successful response maps to `structuredContent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OutputShape {
    /// No output schema declared: JSON goes out as text only.
    None,
    /// The response schema is an object: the body is `structuredContent` as is.
    Object,
    /// The response schema is not an object (array, scalar, union): MCP 2025 clients require an
    /// object, so the body is wrapped as `{"result": body}` and the schema says so.
    Wrapped,
}

/// MCP tool annotations with every hint explicit (some clients reject tools without them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Optional display title hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    pub read_only_hint: bool,
    /// The tool may perform destructive updates.
    pub destructive_hint: bool,
    /// Repeating the call with the same arguments has no additional effect.
    pub idempotent_hint: bool,
    /// The tool interacts with an open world of external entities.
    pub open_world_hint: bool,
}

/// Everything needed to turn validated arguments into one upstream HTTP request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallPlan {
    /// HTTP method.
    #[serde(serialize_with = "with::text")]
    pub method: http::Method,
    /// The path template split into literal and parameter segments.
    pub path: Vec<PathPart>,
    /// Path, query, header and cookie parameters.
    pub params: Vec<ParamBinding>,
    /// The request body, if the operation has one.
    pub body: Option<BodyPlan>,
    /// Where this call goes instead of the upstream's base URL: the tool's `base_url:`, or the
    /// operation's own server in the spec.
    // Boxed: most plans have none, and the plan is held in every resource and completion.
    #[serde(serialize_with = "with::opt_text")]
    pub base_url: Option<Box<url::Url>>,
    /// Whether the gateway's credentials (and identity headers) go with the call: false only
    /// for an operation server of another origin that the manifest did not name.
    pub credentials: bool,
}

/// A piece of a path template such as `/pets/{petId}/photos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PathPart {
    /// Literal text, sent as written in the spec.
    Literal(String),
    /// The value of the parameter with this wire name, percent-encoded as one segment.
    Param(String),
}

/// One parameter of the call plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamBinding {
    /// The argument's name in the MCP tool call (may differ from the wire name after a rename).
    /// `None` for a hidden parameter, which always sends `fixed`.
    pub arg: Option<String>,
    /// Name on the wire (in the path template, query, header or cookie).
    pub wire: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// Serialisation style.
    pub style: ParamStyle,
    /// OpenAPI `explode`.
    pub explode: bool,
    /// OpenAPI `allowReserved` (query only): reserved characters are sent unencoded.
    pub allow_reserved: bool,
    /// Value sent when the argument is hidden (fixed by the manifest).
    pub fixed: Option<Value>,
    /// Value sent when the caller omits the argument (manifest default). Spec defaults are only
    /// advertised, not sent: the upstream applies its own.
    pub default: Option<Value>,
    /// The spec's `content` serialisation (a parameter sent as JSON text), if any.
    pub json_encoded: bool,
}

/// How the request body is built.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BodyPlan {
    /// Media type sent as `Content-Type`.
    pub content_type: BodyEncoding,
    /// Which arguments form the body.
    pub source: BodySource,
    /// Whether the spec requires a body.
    pub required: bool,
}

/// The encodings the gateway can produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BodyEncoding {
    /// `application/json` or another `+json` type (the exact media type is kept).
    Json(String),
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// Any other type: the `body` argument is sent as a string with this media type.
    Raw(String),
    /// A binary type (`format: binary`, `application/octet-stream`, images…): the `body`
    /// argument is base64 (`contentEncoding: base64`) and is sent as its bytes.
    Binary(String),
}

/// Which arguments make up the body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BodySource {
    /// The whole body is one argument (non-object bodies), or a fixed or default value; its
    /// `property` is `body`.
    // Boxed: the plan is held by every resource and completion, and most bodies are fields.
    Whole(Box<BodyField>),
    /// The body is an object assembled from these arguments: `(argument name, property name)`.
    /// Hidden body properties with a fixed value are included as `(None, property, Some(value))`.
    Fields(Vec<BodyField>),
}

/// One property of an object body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BodyField {
    /// Argument name in the tool call; `None` when hidden.
    pub arg: Option<String>,
    /// Property name in the body.
    pub property: String,
    /// Fixed value for a hidden property.
    pub fixed: Option<Value>,
    /// Manifest default sent when the argument is omitted.
    pub default: Option<Value>,
    /// How the value is written in a form or multipart body.
    pub encoding: FieldEncoding,
}

/// How one property of an object body is written on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FieldEncoding {
    /// A member of a JSON body: the value as it is.
    Json,
    /// A field of an `application/x-www-form-urlencoded` body, with OpenAPI's `style` (form,
    /// deepObject, spaceDelimited, pipeDelimited) and `explode`; nested values use the bracket
    /// convention (`a[b][c]=…`, `a[0][b]=…`, `a[]=…`).
    Form {
        /// `style`.
        style: ParamStyle,
        /// `explode`.
        explode: bool,
        /// `contentType` is JSON: the value is sent as JSON text in one field.
        json: bool,
    },
    /// A part of a `multipart/form-data` body (arrays: one part per item).
    Part {
        /// The part's `Content-Type`.
        content_type: String,
        /// `format: binary`: the argument is base64, the part carries its bytes and a filename.
        binary: bool,
        /// Declared `style: deepObject` (as Stripe does for multipart uploads): an object or
        /// array becomes one text part per leaf, named with the bracket convention.
        deep: bool,
    },
}
