//! The manifest: what the user writes in `gateway.yaml`.
//!
//! These types mirror the file one to one. They derive `Deserialize` (rejecting unknown fields)
//! and `JsonSchema` (the committed `schemas/gateway.schema.json` is generated from them, so the
//! doc comments below are what editors show). Nothing here is served directly: `compile` turns a
//! [`Manifest`] into a [`crate::gateway::Gateway`].

mod async_op;
mod auth;
mod budget;
mod catalog;
mod env;
mod limits;
mod load;
mod retry;
mod spans;

pub use async_op::{AsyncConfig, AsyncSetting, OneOrMany, ResultConfig, WhenConfig};
pub use auth::{ApiKeyConfig, AuthConfig, IntrospectionConfig, ListTools, OAuthConfig};
pub use budget::{BudgetConfig, OutputSchemaConfig, OutputSchemaLimits};
pub use catalog::{
    CompletionConfig, ImageConfig, PromptArgumentConfig, PromptConfig, PromptMessageConfig,
    ResourceConfig, RoleConfig, SubscriptionsConfig,
};
pub use env::{EnvError, interpolate};
pub use limits::{CircuitBreakerConfig, LimitsConfig, RateLimitConfig};
pub use load::{LoadedManifest, load, load_str};
pub use retry::{IdempotencyKeyConfig, RetryConfig};
pub use spans::{SpanIndex, display_path, pointer_segment, unescape_segment};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A gateway manifest (format version 1): which operations of an OpenAPI document to expose as
/// MCP tools, and how to shape them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mcp-gateway manifest", extend("$id" = "https://mcp-gateway.dev/schemas/gateway.schema.json"))]
pub struct Manifest {
    /// Manifest format version. Only `1` exists.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1))]
    pub format: Option<u32>,
    /// Server name reported to MCP clients; also the endpoint path (`/{name}/mcp`) when several
    /// gateways are served from one folder. Letters, digits, `_`, `-` and `.`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"))]
    pub name: String,
    /// Human-readable title shown by clients.
    #[serde(default)]
    pub title: Option<String>,
    /// Version of this gateway reported to clients (`serverInfo.version`). Defaults to the spec's
    /// `info.version`.
    #[serde(default)]
    pub version: Option<String>,
    /// What the server tells the agent about itself and how to use its tools.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The OpenAPI document (3.0, 3.1 or Swagger 2.0; JSON or YAML): a path relative to this
    /// manifest, or an `https://` URL. `${VAR}` and `${VAR:-default}` read the environment.
    pub openapi: String,
    /// Allow `$ref`s that point at network URLs to be fetched. Off by default: a spec should not
    /// make the gateway fetch arbitrary URLs.
    #[serde(default)]
    pub allow_remote_refs: bool,
    /// How to reach the upstream API.
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// Who may call the gateway over HTTP: OAuth access tokens and/or static API keys. Without
    /// it, anyone who can reach the endpoint may call every tool.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// The tools to expose, in the order clients will list them.
    #[serde(default)]
    pub tools: Vec<ToolConfig>,
    /// Prompts: templated messages that drive the tools, picked by the user.
    #[serde(default)]
    pub prompts: Vec<PromptConfig>,
    /// Resources and resource templates the agent can read, backed by GET operations or files.
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    /// How resource subscriptions are served.
    #[serde(default)]
    pub subscriptions: SubscriptionsConfig,
    /// How many tokens of the agent's context the definitions may take.
    #[serde(default)]
    pub budget: BudgetConfig,
    /// Rate limits across tools (per caller). Per-tool limits are `tools[].rate_limit`; the
    /// upstream's concurrency cap and circuit breaker are under `upstream:`.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Ask the user to confirm every call of a tool annotated destructive (DELETE, or
    /// `annotations: {destructive: true}`) before anything is sent, as `confirm: true` on each
    /// would; a tool's own `confirm:` (including `false`) wins.
    #[serde(default)]
    pub confirm_destructive: bool,
    /// How much JSON Schema 2020-12 structure the advertised schemas keep.
    #[serde(default)]
    pub schemas: SchemasConfig,
}

/// `schemas:`: the shape of advertised input schemas.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemasConfig {
    /// Keep JSON Schema 2020-12 structure where clients can take it. 2026-07-28 clients are
    /// shown input schemas with `$schema`, and shared schemas once under `$defs` (with their
    /// `$anchor`) referenced by `$ref`, instead of inlined copies (2025-era clients still get
    /// inlined schemas: several reject `$ref`). And an object body's top-level constraints
    /// (`if`/`then`/`else`, `allOf` members that only constrain, such as `anyOf` of
    /// `required`) stay at the root of every client's input schema, next to the body's
    /// properties, instead of the body becoming one `body` argument.
    #[serde(default)]
    pub keep_2020_12: bool,
}

/// The upstream API.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Base URL that operation paths are appended to. Defaults to the spec's first server (with
    /// its variables' defaults). `${VAR}` and `${VAR:-default}` read the environment.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Headers sent with every upstream request. Values may use `${VAR}` / `${VAR:-default}`;
    /// put secrets in `auth`, not here.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Default timeout of an upstream call, e.g. `10s`, `500ms`. Default `30s`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub timeout: Option<String>,
    /// Largest response body kept, in bytes (after decompression). Default 1 MiB. Longer
    /// bodies are cut and the agent is told so.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_response_bytes: Option<u64>,
    /// Credentials the gateway presents to the upstream. Values are references to environment
    /// variables or files, never literal secrets.
    #[serde(default)]
    pub auth: Option<UpstreamAuthConfig>,
    /// A client certificate for mutual TLS with the upstream: PEM certificate (chain) and
    /// private key.
    #[serde(default)]
    pub client_certificate: Option<ClientCertificateConfig>,
    /// A PEM file (relative to this manifest) with the CA certificate(s) that sign the
    /// upstream's certificate, trusted instead of the system roots: for an API behind a private
    /// CA.
    #[serde(default)]
    pub ca_certificate: Option<String>,
    /// Upstream headers carrying the verified caller's identity: header name → claim of the
    /// caller's access token (e.g. `X-User-Id: sub`, `X-User-Email: email`). Requires `auth:`.
    /// The caller's token itself is never forwarded.
    #[serde(default)]
    pub identity_headers: IndexMap<String, String>,
    /// Most requests to the upstream in flight at once (and so most connections to it); further
    /// calls wait in a queue for `queue_timeout`, then get an error result saying the API is
    /// saturated. Default 100.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_concurrent: Option<u32>,
    /// How long a call waits for one of the `max_concurrent` slots, e.g. `2s`. Default `5s`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub queue_timeout: Option<String>,
    /// Deprecated: write `retry: {attempts: N + 1}`. Still read, with a warning, when `retry`
    /// sets no `attempts`.
    #[serde(default)]
    #[schemars(range(max = 9), extend("deprecated" = true))]
    pub retries: Option<u32>,
    /// When the gateway sends a call again by itself (retry-safe calls only, within the tool's
    /// timeout). On by default: 3 attempts, `100ms` doubling up to `2s`, `Retry-After` waited
    /// up to `5s`.
    #[serde(default)]
    pub retry: Option<RetryConfig>,
    /// Send a fresh idempotency key with every call of a method that is not idempotent (POST,
    /// PATCH), reused on the gateway's own retries, e.g. `{header: Idempotency-Key}`: for APIs
    /// that deduplicate writes by key. Such calls become retry-safe.
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKeyConfig>,
    /// When to stop calling a failing upstream for a while. On by default (5 failures in a row
    /// open it for 30s).
    #[serde(default)]
    pub circuit_breaker: Option<CircuitBreakerConfig>,
    /// Hosts a file argument (a `format: binary` body field, an octet-stream body) may name by
    /// `https://` URL for the gateway to fetch and send on: `files.example.com`,
    /// `*.example.com`, `host:8443`, `*` (any host). A port other than 443 must be named.
    /// Empty (the default): no URL is fetched. A host resolving
    /// to a loopback, private, link-local or metadata address is refused unless listed exactly
    /// (not through a `*`).
    #[serde(default)]
    pub fetch_allow: Vec<String>,
    /// Largest file fetched for a file argument, in bytes (counted while it arrives). Default
    /// 10 MiB.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub fetch_max_bytes: Option<u64>,
    /// A PEM file (relative to this manifest) with the CA certificate(s) trusted, instead of the
    /// system roots, when fetching a file argument's URL: for file hosts behind a private CA.
    #[serde(default)]
    pub fetch_ca_certificate: Option<String>,
    /// Largest binary answer (an image, audio, a PDF, other bytes) returned inside the tool
    /// result, in bytes; a larger one becomes a `resource_link` the agent reads with
    /// `resources/read` for a limited time. Default 1 MiB; a tool's `response.max_inline_bytes`
    /// overrides it.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub max_inline_bytes: Option<u64>,
}

/// A client certificate and its key, both PEM.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificateConfig {
    /// The certificate, followed by any intermediates.
    pub cert: SecretRef,
    /// The private key (PKCS#8, RSA or SEC1).
    pub key: SecretRef,
}

/// Upstream credentials.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum UpstreamAuthConfig {
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// Where the key goes.
        #[serde(rename = "in")]
        location: ApiKeyIn,
        /// Header, query parameter or cookie name.
        name: String,
        /// The key.
        value: SecretRef,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: SecretRef,
    },
    /// HTTP basic authentication.
    Basic {
        /// User name. May use `${VAR}`.
        username: String,
        /// Password.
        password: SecretRef,
    },
    /// An OAuth 2.0 access token from the client credentials grant, sent as
    /// `Authorization: Bearer`. Cached until shortly before it expires.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials {
        /// The authorization server's token endpoint. May use `${VAR}`.
        token_url: String,
        /// The gateway's client id. May use `${VAR}`.
        client_id: String,
        /// The gateway's client secret.
        client_secret: SecretRef,
        /// Scopes to request.
        #[serde(default)]
        scopes: Vec<String>,
        /// An `audience` to request (for authorization servers that need one). May use `${VAR}`.
        #[serde(default)]
        audience: Option<String>,
    },
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyIn {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// Where a secret is read from. Literal secrets are not accepted in manifests.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// An environment variable name.
    Env(String),
    /// A file path (relative to the manifest); surrounding whitespace is trimmed.
    File(String),
}

/// One tool: a single operation of the spec, shaped for an agent; or, with `select:`, every
/// operation that matches, each with default settings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["operation"]}, {"required": ["select"]}]))]
pub struct ToolConfig {
    /// The operation: its `operationId`, or `METHOD /path` as written in the spec
    /// (e.g. `GET /pets/{petId}`).
    #[serde(default)]
    pub operation: Option<String>,
    /// Instead of `operation`: every operation matching all of these, one tool each, in spec
    /// order. An operation also listed with `operation:` is left to that entry, so a selected
    /// tool can still be renamed and overridden.
    #[serde(default)]
    pub select: Option<SelectConfig>,
    /// Tool name (1–128 of `A-Z a-z 0-9 _ - .`; keep it under 64, several clients cut there).
    /// Defaults to the snake_case operationId, or method and path when there is none.
    #[serde(default)]
    pub name: Option<String>,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// What the tool does, for the agent. Defaults to the operation's summary and description.
    #[serde(default)]
    pub description: Option<String>,
    /// Per-parameter overrides, keyed by the parameter's name in the spec (path, query, header
    /// and cookie parameters, and top-level properties of an object request body).
    #[serde(default)]
    pub params: IndexMap<String, ParamOverride>,
    /// Overrides of the hints derived from the HTTP method.
    #[serde(default)]
    pub annotations: AnnotationOverrides,
    /// Declare an `outputSchema` from the success response's JSON schema: `true` (default,
    /// compacted to fit the tool's budget while staying true of every answer), `false`, or
    /// explicit limits `{max_depth, max_bytes}`.
    #[serde(default)]
    pub output_schema: Option<OutputSchemaConfig>,
    /// Base URL of this tool's calls, replacing `upstream.base_url` and the spec's `servers`
    /// (for an operation served from another host, such as an upload host). `${VAR}` and
    /// `${VAR:-default}` read the environment. The upstream's credentials are sent there too.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Timeout of this tool's upstream call, overriding `upstream.timeout`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub timeout: Option<String>,
    /// OAuth scopes a caller needs for this tool (all of them), replacing
    /// `auth.default_scopes`. Requires `auth:`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Shape the answer for the agent's context: keep only some fields, cap a list, render a
    /// concise text, or build several content blocks. `structuredContent` keeps the (shaped)
    /// data and the declared output schema is rebuilt to match.
    #[serde(default)]
    pub response: Option<ResponseConfig>,
    /// The gateway's own retries of this tool's calls; each field given replaces the one of
    /// `upstream.retry`.
    #[serde(default)]
    pub retry: Option<RetryConfig>,
    /// Send a fresh idempotency key with every call of this tool (whatever its method), reused
    /// on the gateway's own retries, e.g. `{header: Idempotency-Key}`. The tool becomes
    /// retry-safe for the gateway.
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKeyConfig>,
    /// A token bucket for this tool, shared by every caller (e.g. to protect an expensive
    /// endpoint): a call over it is an error result that says how long to wait.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Ask the user to confirm each call before anything is sent upstream: a message shown to
    /// the user, a template of the arguments (`Delete pet {{ pet_id }}?`), or `true` for a
    /// default message naming the tool and its arguments; `false` turns `confirm_destructive`
    /// off for this tool. Needs a client that can ask its user (elicitation); other clients
    /// are refused, never called silently.
    #[serde(default)]
    pub confirm: Option<ConfirmConfig>,
    /// A slow operation (`202 Accepted` and a status URL to poll): how to follow it, or
    /// `false`. Inferred when the spec documents a `202` with a `Location` or
    /// `Operation-Location` header.
    #[serde(default, rename = "async")]
    pub async_op: Option<AsyncSetting>,
}

/// `confirm:` on a tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ConfirmConfig {
    /// `true`: a default message; `false`: never ask (overrides `confirm_destructive`).
    Enabled(bool),
    /// The message shown to the user, a template of the arguments.
    Message(String),
}

/// `ask:` on a parameter.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AskConfig {
    /// The question shown to the user.
    Message(String),
    /// The question, and the name the request carries.
    Detailed(AskDetail),
}

/// `ask: {message, key}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskDetail {
    /// The question shown to the user.
    pub message: String,
    /// The key of this request in a 2026-07-28 `InputRequiredResult` (`inputRequests`), and
    /// the name of the field in the form the user fills in. Defaults to the argument's name.
    #[serde(default)]
    pub key: Option<String>,
    /// The name of the field in the form the user fills in. Defaults to the argument's name.
    #[serde(default)]
    pub field: Option<String>,
}

/// Which operations a `select:` entry exposes: those matching every given criterion.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Operations with at least one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Operations whose path matches one of these globs: `*` stands for any text within a
    /// segment, `**` for any text at all (e.g. `/search/*`, `/repos/**`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Operations with one of these HTTP methods (e.g. `[GET]`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Leave out deprecated operations. Default `true`.
    #[serde(default)]
    pub skip_deprecated: Option<bool>,
}

/// How a tool's JSON answer is cut down and presented.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseConfig {
    /// Fields to keep, as JSON pointers into the answer (or into each item of `list`), e.g.
    /// `[/id, /name, /owner/login]`. Everything else is dropped.
    #[serde(default)]
    pub select: Option<Vec<String>>,
    /// Where the answer's list of records is, as a JSON pointer (e.g. `/items`). Defaults to
    /// the answer itself when it is a list.
    #[serde(default)]
    pub list: Option<String>,
    /// Return at most this many items of the list; the rest are counted in `_truncated` and a
    /// note tells the agent how to narrow the request.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_items: Option<u64>,
    /// A minijinja template for the text block, in place of the JSON. The answer's fields are
    /// its variables (a list answer is `result`), e.g. `{{ name }} ({{ status }})`.
    #[serde(default)]
    pub text: Option<String>,
    /// Further content blocks, after the text.
    #[serde(default)]
    pub content: Vec<ContentBlockConfig>,
    /// `text`: return the answer's body as text whatever media type the upstream labels it with
    /// (a `application/vnd.docker.raw-stream` log, a `+json` type that is really plain text).
    /// The tool then has no output schema, and nothing else of `response:` applies.
    #[serde(default, rename = "as")]
    pub answer_as: Option<AnswerAs>,
    /// How the API pages this list: the result then carries `next`, a token the agent passes
    /// back as the tool's `cursor` argument to get the following items.
    #[serde(default)]
    pub page: Option<PageConfig>,
    /// Largest binary answer returned inside the result, in bytes (overrides
    /// `upstream.max_inline_bytes`; default 1 MiB). A larger one becomes a `resource_link`.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub max_inline_bytes: Option<u64>,
}

impl ResponseConfig {
    /// Whether `response:` sets only `max_inline_bytes`, which shapes no JSON answer.
    pub fn only_inline_cap(&self) -> bool {
        self.select.is_none()
            && self.list.is_none()
            && self.max_items.is_none()
            && self.text.is_none()
            && self.content.is_empty()
            && self.answer_as.is_none()
            && self.page.is_none()
    }
}

/// How `response.as` reads an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnswerAs {
    /// As UTF-8 text (invalid bytes replaced).
    Text,
}

/// The API's own pagination, mapped to one continuation token (`next` → `cursor`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    /// `cursor` (a cursor in the answer, or the last item's id), `page` (page number),
    /// `offset` (item offset), `link` (`Link: <…>; rel="next"` header) or `next_url` (the next
    /// page's URL in the answer).
    pub style: PageStyle,
    /// The argument the next position goes into (`cursor`, `page`, `offset`), e.g.
    /// `starting_after`, `page`, `offset`.
    #[serde(default)]
    pub param: Option<String>,
    /// JSON pointer into the answer: the next cursor (`cursor`, e.g. `/next_cursor`) or the
    /// next page's URL (`next_url`, e.g. `/next`).
    #[serde(default)]
    pub next: Option<String>,
    /// `cursor` style, in place of `next`: JSON pointer into the list's last item whose value
    /// is the cursor (e.g. `/id` for Stripe's `starting_after`).
    #[serde(default)]
    pub last_item: Option<String>,
    /// JSON pointer to a boolean in the answer saying whether more pages follow (e.g.
    /// `/has_more`). Without it, `page` and `offset` stop at an empty page.
    #[serde(default)]
    pub has_more: Option<String>,
    /// `page` style: the number of the first page. Default 1.
    #[serde(default)]
    pub start: Option<i64>,
    /// A byte budget for one page: items are left for the next page until the result's data
    /// takes at most this many bytes of JSON (whole items only; at least one is shown).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_bytes: Option<u64>,
}

/// A pagination style (see [`PageConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageStyle {
    /// A cursor read from the answer goes into `param`.
    Cursor,
    /// A page number in `param`, one more each page.
    Page,
    /// An item offset in `param`, plus the items of each page.
    Offset,
    /// The `Link` header's `rel="next"` URL.
    Link,
    /// A URL in the answer.
    NextUrl,
}

/// One content block built from the answer: exactly one of `text`, `image`, `audio`,
/// `resource`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentBlockConfig {
    /// A text block: a minijinja template over the answer's fields.
    #[serde(default)]
    pub text: Option<String>,
    /// An image block: JSON pointer to base64 data in the answer.
    #[serde(default)]
    pub image: Option<String>,
    /// An audio block: JSON pointer to base64 data in the answer.
    #[serde(default)]
    pub audio: Option<String>,
    /// An embedded resource: its URI, a minijinja template (e.g. `pets://{{ id }}`).
    #[serde(default)]
    pub resource: Option<String>,
    /// For `resource`: JSON pointer to the part of the answer embedded as JSON.
    #[serde(default)]
    pub json: Option<String>,
    /// For `resource`: a minijinja template for its text, in place of `json`.
    #[serde(default)]
    pub template: Option<String>,
    /// MIME type: literal (`image/png`), or a JSON pointer into the answer (`/mimeType`).
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// How one parameter is presented to the agent.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamOverride {
    /// The argument name the agent sees (the upstream still gets the spec's name).
    #[serde(default)]
    pub rename: Option<String>,
    /// Replaces the parameter's description.
    #[serde(default)]
    pub description: Option<String>,
    /// Hide the parameter and always send this value. Strings in it may use `${VAR}` and
    /// `${VAR:-default}` (the environment), `$$` for a literal `$`.
    #[serde(default)]
    pub fixed: Option<Value>,
    /// Hide an optional parameter: the agent never sees it and nothing is sent.
    #[serde(default)]
    pub hide: bool,
    /// Value sent when the agent omits the argument (also advertised as the schema default).
    #[serde(default)]
    pub default: Option<Value>,
    /// Make the argument required or optional for the agent.
    #[serde(default)]
    pub required: Option<bool>,
    /// The user supplies this value, not the model: the parameter leaves the input schema and
    /// the gateway asks the user for it before the call (elicitation; only string, number,
    /// integer, boolean and enum parameters). A string is the question shown.
    #[serde(default)]
    pub ask: Option<AskConfig>,
    /// Advertise the argument with `x-mcp-header: NAME`: 2026-07-28 clients then repeat its
    /// value in an `Mcp-Param-NAME` HTTP header (for routing and policy by proxies), and the
    /// gateway refuses a call whose header and argument differ (400, -32020). Only string,
    /// integer and boolean parameters; NAME is an HTTP token, unique in the tool.
    #[serde(default)]
    pub mcp_header: Option<String>,
}

/// Tool annotation overrides. Defaults come from the HTTP method: GET/HEAD/OPTIONS are
/// read-only; DELETE is destructive; PUT and DELETE are idempotent; every tool is open-world.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnotationOverrides {
    /// Display title hint.
    #[serde(default)]
    pub title: Option<String>,
    /// The tool does not modify anything.
    #[serde(default)]
    pub read_only: Option<bool>,
    /// The tool may destroy or overwrite data.
    #[serde(default)]
    pub destructive: Option<bool>,
    /// Calling it twice with the same arguments has no further effect.
    #[serde(default)]
    pub idempotent: Option<bool>,
    /// The tool reaches entities outside a closed domain.
    #[serde(default)]
    pub open_world: Option<bool>,
}

/// The manifest's JSON Schema, as committed in `schemas/gateway.schema.json`.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(Manifest);
    schema.to_value()
}
