//! What a manifest says about a slow operation (`async:` on a tool): an API that answers
//! `202 Accepted` with a status URL, and how to read the status resource it leads to.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// `async:` on a tool: `false` (never treat a `202` as a job, even when the spec documents one
/// with a `Location` header), `true` (the defaults below), or the operation's own conventions.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AsyncSetting {
    /// `true`: a `202` with a status URL in `Location` (or `Operation-Location`) is polled with
    /// the HTTP conventions; `false`: a `202` is an answer like any other.
    Enabled(bool),
    /// How this API reports its jobs.
    Config(Box<AsyncConfig>),
}

/// How a slow operation is followed. The call answers `202 Accepted` with a status URL; the
/// gateway polls it (with the tool's credentials, only on the upstream's origin and base path)
/// until it is done, then returns its result as the tool's answer (shaped and checked against
/// the output schema like a direct answer). 2026-07-28 clients that negotiated the tasks
/// extension get a task to poll instead; other clients wait while the gateway polls, within the
/// tool's `timeout`. Without `done_when`, the status URL's HTTP status tells: `202` still
/// working, `200`/`201`/`204` done (its body is the result), `303` done with the result at its
/// `Location`, any other error the job's end.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncConfig {
    /// Where the status URL is in the `202` answer: a header name (`Location`, the default,
    /// or `Operation-Location`), or a JSON pointer into its body (`/links/status`). Relative
    /// URLs are resolved against the request's URL.
    #[serde(default)]
    pub status: Option<String>,
    /// When the job is done: a JSON pointer into the status document and the value(s) it
    /// then has, e.g. `{pointer: /status, equals: [succeeded, completed]}`.
    #[serde(default)]
    pub done_when: Option<WhenConfig>,
    /// When the job failed, e.g. `{pointer: /status, equals: failed}`: the call is a tool
    /// error carrying the status document's `error` message.
    #[serde(default)]
    pub failed_when: Option<WhenConfig>,
    /// When the job was cancelled, e.g. `{pointer: /status, equals: cancelled}`.
    #[serde(default)]
    pub cancelled_when: Option<WhenConfig>,
    /// JSON pointer to the failure's message in the status document, e.g. `/error/message`
    /// (default: the whole document is shown).
    #[serde(default)]
    pub error: Option<String>,
    /// Where the result is once done: a JSON pointer into the status document (`/output`), or
    /// `{url: <pointer>}` naming a URL in it to GET (`{url: /resultUrl}`). Default: the status
    /// document itself (or, on a `303`, what its `Location` leads to).
    #[serde(default)]
    pub result: Option<ResultConfig>,
    /// The operation that cancels a job (`tasks/cancel`): its operationId or `METHOD /path`,
    /// e.g. `DELETE /jobs/{jobId}`. Its path parameters take their values from the status URL's
    /// path segments at the same places.
    #[serde(default)]
    pub cancel: Option<String>,
    /// How often to poll, e.g. `2s` (default `1s`); told to task clients as `pollIntervalMs`.
    #[serde(default)]
    pub poll_interval: Option<String>,
    /// How long a task id stays valid (`ttlMs`), e.g. `24h` (default `1h`).
    #[serde(default)]
    pub ttl: Option<String>,
    /// Serve the tool only as a task: a client that did not negotiate the tasks extension is
    /// refused (-32021, nothing sent) instead of waiting for the job, for jobs longer than a
    /// client can hold a call open. Default `false`.
    #[serde(default)]
    pub require_tasks: bool,
}

/// A condition on the status document: the value at `pointer` is one of `equals`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhenConfig {
    /// JSON pointer into the status document, e.g. `/status`.
    pub pointer: String,
    /// The value, or values, that make the condition true.
    pub equals: OneOrMany,
}

/// One value or a list of them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// Several values.
    Many(Vec<Value>),
    /// One value.
    One(Value),
}

impl OneOrMany {
    /// The values, as a list.
    pub fn values(&self) -> Vec<Value> {
        match self {
            Self::Many(v) => v.clone(),
            Self::One(v) => vec![v.clone()],
        }
    }
}

/// Where a finished job's result is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ResultConfig {
    /// A JSON pointer into the status document (`""`: the document itself).
    Pointer(String),
    /// A URL in the status document to GET.
    Url {
        /// JSON pointer to the URL, e.g. `/resultUrl`.
        url: String,
    },
}
