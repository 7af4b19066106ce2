//! `async:` of a tool (or a documented `202` with a `Location` header) → [`AsyncOp`].
//!
//! Every pointer, header name, duration and the cancel operation are checked here, so a typo is
//! a diagnostic when the manifest is compiled rather than a job the gateway polls forever.

use std::sync::Arc;
use std::time::Duration;

use crate::diag::Diagnostic;
use crate::gateway::Tool;
use crate::gateway::async_op::{AsyncOp, Cancel, Condition, ResultAt, States, StatusAt};
use crate::manifest::{AsyncConfig, AsyncSetting, LoadedManifest, ResultConfig, WhenConfig};
use crate::openapi::{Operation, Spec};

/// Default time between two polls: quick enough for jobs of seconds, and one request a second
/// is gentle on any API.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Default lifetime of a task id: long enough for jobs of many minutes and for a client to come
/// back for the result, short enough that an old id is not a standing pass to the job.
const TTL: Duration = Duration::from_secs(60 * 60);

/// The status headers the HTTP conventions use, in the order they are preferred: Azure's
/// `Operation-Location` is the status monitor when both are documented (its `Location` is
/// where the final result will be).
const STATUS_HEADERS: [&str; 2] = ["operation-location", "location"];

/// The header a documented `202` names its status URL in, if it documents one.
fn documented_header(op: &Operation) -> Option<&'static str> {
    let accepted = op.responses.iter().find(|r| r.status == "202")?;
    STATUS_HEADERS
        .into_iter()
        .find(|h| accepted.headers.iter().any(|d| d.eq_ignore_ascii_case(h)))
}

/// Compiles the tool's `async:` (at `base`/async), or infers it from the spec. Problems go to
/// `diags`; the tool then has no async behaviour (and compiling fails on an error).
pub(crate) fn compile(
    loaded: &LoadedManifest,
    spec: &Spec,
    op: &Operation,
    setting: Option<&AsyncSetting>,
    base: &str,
    tool: &mut Tool,
    diags: &mut Vec<Diagnostic>,
) {
    let at = format!("{base}/async");
    let documented = documented_header(op);
    let cfg = match setting {
        Some(AsyncSetting::Enabled(false)) => return,
        None if documented.is_none() => return,
        None | Some(AsyncSetting::Enabled(true)) => AsyncConfig::default(),
        Some(AsyncSetting::Config(c)) => (**c).clone(),
    };
    if setting.is_some() && !op.responses.iter().any(|r| r.status == "202") {
        diags.push(loaded.diag_at(
            Diagnostic::warning(
                "async-undocumented",
                format!(
                    "the spec documents no `202` answer for {}; the gateway follows one only if the API sends it",
                    op.label()
                ),
            )
            .with_hint("check the operation, or document its `202` answer in the spec"),
            &at,
        ));
    }
    let mut problems = Problems {
        at: &at,
        list: Vec::new(),
    };
    let p = &mut problems;
    let status = status_at(&cfg, documented, p);
    let states = states(&cfg, p);
    if let Some(e) = &cfg.error
        && !is_pointer(e)
    {
        p.push("error", bad_pointer(e, "/error/message"));
    }
    let result = result_at(&cfg, p);
    let cancel = cancel_of(&cfg, spec, p);
    let poll_interval = duration(
        cfg.poll_interval.as_ref(),
        "poll_interval",
        POLL_INTERVAL,
        p,
    );
    let ttl = duration(cfg.ttl.as_ref(), "ttl", TTL, p);
    if !problems.list.is_empty() {
        for (ptr, d) in problems.list {
            diags.push(loaded.diag_at(d, &ptr));
        }
        return;
    }
    drop_job_schema(op, tool);
    tool.async_op = Some(Arc::new(AsyncOp {
        status,
        states,
        error: cfg.error.clone(),
        result,
        cancel,
        poll_interval,
        ttl,
        require_tasks: cfg.require_tasks,
    }));
}

/// The problems found in one `async:` block, each at its field.
struct Problems<'a> {
    /// The block's location (`/tools/3/async`).
    at: &'a str,
    list: Vec<(String, Diagnostic)>,
}

impl Problems<'_> {
    fn push(&mut self, field: &str, d: Diagnostic) {
        self.list.push((format!("{}/{field}", self.at), d));
    }
}

/// Where the `202` answer names the status URL (`status:`, else the documented header).
fn status_at(cfg: &AsyncConfig, documented: Option<&str>, p: &mut Problems<'_>) -> StatusAt {
    match cfg.status.as_deref().map(str::trim) {
        None => StatusAt::Header(documented.unwrap_or("location").to_string()),
        Some(ptr) if ptr.starts_with('/') => {
            if !is_pointer(ptr) {
                p.push("status", bad_pointer(ptr, "/links/status"));
            }
            StatusAt::Body(ptr.to_string())
        }
        Some(h) => match http::HeaderName::from_bytes(h.as_bytes()) {
            Ok(name) => StatusAt::Header(name.as_str().to_string()),
            Err(_) => {
                p.push(
                    "status",
                    Diagnostic::error(
                        "async-status",
                        format!("`{h}` is neither a header name nor a JSON pointer"),
                    )
                    .with_hint("write a header such as `Location` or `Operation-Location`, or a pointer into the 202 body such as `/links/status`"),
                );
                StatusAt::Header(String::new())
            }
        },
    }
}

fn condition(w: Option<&WhenConfig>, field: &str, p: &mut Problems<'_>) -> Option<Condition> {
    let w = w?;
    if !is_pointer(&w.pointer) {
        p.push(
            &format!("{field}/pointer"),
            bad_pointer(&w.pointer, "/status"),
        );
    }
    let values = w.equals.values();
    if values.is_empty() {
        p.push(
            &format!("{field}/equals"),
            Diagnostic::error("async-condition", "`equals` lists no value").with_hint(
                "name the value(s) the status field then has, e.g. `equals: [succeeded]`",
            ),
        );
    }
    Some(Condition {
        pointer: w.pointer.clone(),
        values,
    })
}

/// How the status document says the job is over (`done_when` and the others).
fn states(cfg: &AsyncConfig, p: &mut Problems<'_>) -> Option<States> {
    let done = condition(cfg.done_when.as_ref(), "done_when", p);
    let failed = condition(cfg.failed_when.as_ref(), "failed_when", p);
    let cancelled = condition(cfg.cancelled_when.as_ref(), "cancelled_when", p);
    match (done, failed.is_some() || cancelled.is_some()) {
        (Some(done), _) => Some(States {
            done,
            failed,
            cancelled,
        }),
        (None, true) => {
            p.push(
                if failed.is_some() { "failed_when" } else { "cancelled_when" },
                Diagnostic::error(
                    "async-condition",
                    "a job's failure or cancellation is read from the status document only together with `done_when`",
                )
                .with_hint("add `done_when: {pointer: /status, equals: [succeeded]}` (with this API's field and value)"),
            );
            None
        }
        (None, false) => None,
    }
}

/// Where a finished job's result is (`result:`).
fn result_at(cfg: &AsyncConfig, p: &mut Problems<'_>) -> ResultAt {
    match &cfg.result {
        None => ResultAt::Document,
        Some(ResultConfig::Pointer(ptr)) => {
            if !is_pointer(ptr) {
                p.push("result", bad_pointer(ptr, "/output"));
            }
            if ptr.is_empty() {
                ResultAt::Document
            } else {
                ResultAt::Pointer(ptr.clone())
            }
        }
        Some(ResultConfig::Url { url }) => {
            if !is_pointer(url) || url.is_empty() {
                p.push("result/url", bad_pointer(url, "/resultUrl"));
            }
            ResultAt::Url(url.clone())
        }
    }
}

/// The operation `cancel:` names, found in the spec.
fn cancel_of(cfg: &AsyncConfig, spec: &Spec, p: &mut Problems<'_>) -> Option<Cancel> {
    let wanted = cfg.cancel.as_deref()?;
    match spec.find(wanted) {
        Some(c) => Some(Cancel {
            method: c.method.clone(),
            path: c.path.clone(),
            label: c.label(),
        }),
        None => {
            p.push("cancel", super::unknown_operation(spec, wanted));
            None
        }
    }
}

fn duration(v: Option<&String>, field: &str, default: Duration, p: &mut Problems<'_>) -> Duration {
    match v.map(|s| super::parse_duration(s)) {
        None => default,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            p.push(field, Diagnostic::error("invalid-duration", e));
            default
        }
    }
}

/// The `202`'s own schema describes the job, not its result: no output schema is declared
/// from it (a documented `200`/`201` answer's schema still is). The output schema comes from
/// the first success answer with content, `200` first (`output::success_schema`).
fn drop_job_schema(op: &Operation, tool: &mut Tool) {
    let first = op
        .responses
        .iter()
        .filter(|r| r.status == "200")
        .chain(
            op.responses
                .iter()
                .filter(|r| r.status.starts_with('2') && r.status != "200"),
        )
        .find(|r| !r.content.is_empty());
    if first.is_none_or(|r| r.status == "202") {
        tool.output_schema = None;
        tool.output_validator = None;
        tool.output = crate::gateway::OutputShape::None;
    }
}

/// Whether `p` is a JSON pointer (RFC 6901): empty, or `/` segments with `~` only as `~0`/`~1`.
fn is_pointer(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    p.starts_with('/')
        && p.split('~')
            .skip(1)
            .all(|rest| rest.starts_with('0') || rest.starts_with('1'))
}

fn bad_pointer(p: &str, example: &str) -> Diagnostic {
    Diagnostic::error("bad-pointer", format!("`{p}` is not a JSON pointer")).with_hint(format!(
        "write a path such as `{example}` (`~1` for a `/` in a name, `~0` for `~`)"
    ))
}
