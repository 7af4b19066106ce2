//! A slow operation as compiled from `async:` (or inferred from a documented `202` with a
//! `Location` header): where its status URL is and how to read the status resource. Plain
//! data; the running side is `upstream::poll` (the HTTP) and `mcp::tasks` (tasks, waiting).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::compiled::with;

/// How a tool's `202 Accepted` answers are followed to the job's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsyncOp {
    /// Where the `202` answer names the status URL.
    pub status: StatusAt,
    /// How the status document says the job is over; `None`: the status URL's HTTP status.
    pub states: Option<States>,
    /// JSON pointer to a failure's message in the status document.
    pub error: Option<String>,
    /// Where a finished job's result is.
    pub result: ResultAt,
    /// How to cancel a job, when the API can.
    pub cancel: Option<Cancel>,
    /// How often the status is polled (and the `pollIntervalMs` told to task clients).
    #[serde(serialize_with = "with::duration")]
    pub poll_interval: Duration,
    /// How long a task id stays valid (`ttlMs`).
    #[serde(serialize_with = "with::duration")]
    pub ttl: Duration,
    /// Whether a client without the tasks extension is refused rather than made to wait.
    pub require_tasks: bool,
}

/// Where the status URL is in a `202` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StatusAt {
    /// A response header, lower case (`location`, `operation-location`).
    Header(String),
    /// A JSON pointer into the body.
    Body(String),
}

/// The conditions on the status document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct States {
    /// When the job is done.
    pub done: Condition,
    /// When it failed.
    pub failed: Option<Condition>,
    /// When it was cancelled.
    pub cancelled: Option<Condition>,
}

/// The value at `pointer` is one of `values`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// JSON pointer into the status document.
    pub pointer: String,
    /// The values that make it true.
    pub values: Vec<Value>,
}

impl Condition {
    /// Whether `doc` meets the condition.
    pub fn holds(&self, doc: &Value) -> bool {
        doc.pointer(&self.pointer)
            .is_some_and(|v| self.values.contains(v))
    }
}

/// Where a finished job's result is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ResultAt {
    /// The final status answer itself (or, on a `303`, what its `Location` leads to).
    Document,
    /// The part of the status document at this JSON pointer.
    Pointer(String),
    /// A URL at this JSON pointer in the status document, fetched with GET.
    Url(String),
}

/// The operation that cancels a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cancel {
    /// Its HTTP method.
    #[serde(serialize_with = "with::text")]
    pub method: http::Method,
    /// Its path template as written in the spec (`/jobs/{jobId}`); parameters take the status
    /// URL's path segments at the same places.
    pub path: String,
    /// `METHOD /path`, for messages.
    pub label: String,
}
