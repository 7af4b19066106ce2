//! A slow operation's status resource over HTTP (`async:`): finding the status URL in a `202`
//! answer, one look at the status (working, done with the tool's result, cancelled, or lost),
//! and the call that cancels the job.
//!
//! Every URL the API hands back (the status URL, a result URL, a `303`'s `Location`) is
//! followed only when it stays on the upstream's origin and under its base path, like a
//! next-page link: a status URL is the one thing a task id carries, so it must never point the
//! gateway (and its credentials) anywhere else. A finished job's result goes through
//! [`super::to_result`], so it is shaped and checked exactly as a direct answer of the tool.

use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value};

use super::answer::{ERROR_EXCERPT_BYTES, excerpt};
use super::{UpstreamClient, UpstreamError, UpstreamResponse};
use crate::auth::Principal;
use crate::gateway::async_op::{AsyncOp, ResultAt, StatusAt};
use crate::gateway::{CallPlan, Gateway, PathPart, Tool};
use crate::runtime::Served;

/// What one look at a job's status found.
#[derive(Debug)]
pub enum Polled {
    /// Still running; what the status says, if anything worth telling.
    Working(Option<String>),
    /// Over: the tool's result (an error result for a job that failed).
    Done(CallToolResult),
    /// Cancelled.
    Cancelled,
    /// The status cannot be followed any more (the status URL is gone, or answers what the
    /// manifest's `async:` cannot read): why.
    Lost(String),
}

/// `href` resolved against `against` (a relative URL), when it stays on the tool's upstream.
pub fn on_upstream(
    g: &Gateway,
    tool: &Tool,
    against: &url::Url,
    href: &str,
) -> Result<url::Url, String> {
    let mut url = against
        .join(href.trim())
        .map_err(|e| format!("`{href}` is not a URL ({e})"))?;
    if super::page::within(g, tool, &url) {
        // The task id is sealed, not encrypted: the gateway's query credential stays out of it.
        super::page::without_owned_query(g, &mut url);
        Ok(url)
    } else {
        let b = g.upstream.base_for(&tool.plan);
        Err(format!(
            "the API pointed to {}{}, which is off the upstream {}{}; the gateway only follows URLs on the upstream's origin and base path",
            url.origin().ascii_serialization(),
            url.path(),
            b.origin().ascii_serialization(),
            b.path().trim_end_matches('/'),
        ))
    }
}

/// The status URL a `202` answer names, checked to stay on the upstream. Err: why there is
/// none to follow.
pub fn status_url(
    g: &Gateway,
    tool: &Tool,
    op: &AsyncOp,
    resp: &UpstreamResponse,
) -> Result<url::Url, String> {
    let href = match &op.status {
        StatusAt::Header(h) => resp
            .headers
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                format!("the API accepted the job (202) but sent no `{h}` header to follow it by")
            })?,
        StatusAt::Body(p) => serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|b| b.pointer(p).and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                format!("the API accepted the job (202) but its answer has no status URL at `{p}`")
            })?,
    };
    let mut against = g.upstream.base_for(&tool.plan).clone();
    if !against.path().ends_with('/') {
        let p = format!("{}/", against.path());
        against.set_path(&p);
    }
    on_upstream(g, tool, &against, &href)
}

/// The plan of a request with `method` to `url` as it is (already checked to be on the
/// upstream), with the tool's credentials and none of its arguments.
fn plan_at(tool: &Tool, method: http::Method, url: &url::Url) -> CallPlan {
    let rest = url[url::Position::BeforePath..url::Position::AfterQuery].to_string();
    let mut origin = url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    CallPlan {
        method,
        path: vec![PathPart::Literal(rest)],
        params: Vec::new(),
        body: None,
        base_url: Some(Box::new(origin)),
        credentials: tool.plan.credentials,
    }
}

/// What the gateway needs to send a status request: the pool, the snapshot and the caller.
#[derive(Debug, Clone, Copy)]
pub struct Poller<'a> {
    /// The upstream connection pool.
    pub client: &'a UpstreamClient,
    /// The gateway snapshot.
    pub gateway: &'a Served,
    /// The tool whose job it is.
    pub tool: &'a Tool,
    /// The verified caller, whose claims fill identity headers.
    pub caller: Option<&'a Principal>,
}

impl Poller<'_> {
    fn timeout(&self) -> Duration {
        self.tool.timeout.unwrap_or(self.gateway.upstream.timeout)
    }

    async fn send(
        &self,
        method: http::Method,
        url: &url::Url,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let plan = plan_at(self.tool, method, url);
        self.client
            .send(
                self.gateway,
                &plan,
                self.timeout(),
                &Map::new(),
                self.caller,
                &[],
            )
            .await
    }

    /// One look at the job's status at `url`.
    pub async fn poll(&self, op: &AsyncOp, url: &url::Url) -> Polled {
        let (g, tool) = (&**self.gateway, self.tool);
        let resp = match self.send(http::Method::GET, url).await {
            Ok(r) => r,
            // The job goes on whether or not its status answered this once.
            Err(
                e @ (UpstreamError::Timeout { .. }
                | UpstreamError::Connect { .. }
                | UpstreamError::Other { .. }),
            ) => {
                return Polled::Working(Some(format!(
                    "the status could not be read this time: {e}"
                )));
            }
            Err(e) => return Polled::Lost(e.to_string()),
        };
        let status = resp.status.as_u16();
        if matches!(status, 429 | 502 | 503 | 504) {
            return Polled::Working(Some(format!(
                "the status URL answered {status}; asking again later"
            )));
        }
        if matches!(status, 404 | 410) {
            return Polled::Lost(format!(
                "the job's status URL answered {status}: the API no longer knows the job. Body excerpt: {}",
                excerpt(&resp.body, ERROR_EXCERPT_BYTES)
            ));
        }
        let Some(states) = &op.states else {
            // The HTTP conventions: 202 while working, 303 to the result, else the answer.
            return match status {
                202 => Polled::Working(None),
                301 | 302 | 303 | 307 | 308 => match resp
                    .headers
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                {
                    Some(loc) => self.fetch(url, loc).await,
                    None => Polled::Lost(format!(
                        "the status URL answered {status} without a `Location`"
                    )),
                },
                _ if resp.status.is_success() => self.result(op, url, resp).await,
                _ => Polled::Done(super::to_result(g, tool, resp)),
            };
        };
        if !resp.status.is_success() {
            return Polled::Lost(format!(
                "the job's status URL answered {status}. Body excerpt: {}",
                excerpt(&resp.body, ERROR_EXCERPT_BYTES)
            ));
        }
        let Ok(doc) = serde_json::from_slice::<Value>(&resp.body) else {
            return Polled::Lost(format!(
                "the job's status is not JSON, so `async:` cannot read it. Body excerpt: {}",
                excerpt(&resp.body, ERROR_EXCERPT_BYTES)
            ));
        };
        if states.cancelled.as_ref().is_some_and(|c| c.holds(&doc)) {
            return Polled::Cancelled;
        }
        if states.failed.as_ref().is_some_and(|c| c.holds(&doc)) {
            let message = match op.error.as_deref().and_then(|p| doc.pointer(p)) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => excerpt(&resp.body, ERROR_EXCERPT_BYTES),
            };
            return Polled::Done(CallToolResult::error(vec![ContentBlock::text(format!(
                "The API ran `{}` and the job failed: {message}",
                tool.name
            ))]));
        }
        if states.done.holds(&doc) {
            return self.result(op, url, resp).await;
        }
        Polled::Working(
            doc.pointer(&states.done.pointer)
                .map(|v| format!("{} is {v}", states.done.pointer)),
        )
    }

    /// The result of a finished job whose final status answer is `resp`.
    async fn result(&self, op: &AsyncOp, url: &url::Url, resp: UpstreamResponse) -> Polled {
        let (g, tool) = (&**self.gateway, self.tool);
        let at = match &op.result {
            ResultAt::Document => return Polled::Done(super::to_result(g, tool, resp)),
            ResultAt::Pointer(p) | ResultAt::Url(p) => p,
        };
        let found = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|d| d.pointer(at).cloned());
        match (&op.result, found) {
            (ResultAt::Url(_), Some(Value::String(href))) => self.fetch(url, &href).await,
            (ResultAt::Pointer(_), Some(v)) => Polled::Done(super::to_result(
                g,
                tool,
                UpstreamResponse {
                    status: http::StatusCode::OK,
                    content_type: Some("application/json".into()),
                    body: serde_json::to_vec(&v).unwrap_or_default().into(),
                    truncated: false,
                    headers: http::HeaderMap::new(),
                },
            )),
            _ => Polled::Lost(format!(
                "the job is done but its status has no result at `{at}`. Body excerpt: {}",
                excerpt(&resp.body, ERROR_EXCERPT_BYTES)
            )),
        }
    }

    /// The answer at `href` (relative to `url`), as the tool's result.
    async fn fetch(&self, url: &url::Url, href: &str) -> Polled {
        let (g, tool) = (&**self.gateway, self.tool);
        let target = match on_upstream(g, tool, url, href) {
            Ok(t) => t,
            Err(why) => return Polled::Lost(format!("the job's result is not fetched: {why}")),
        };
        match self.send(http::Method::GET, &target).await {
            Ok(r) => Polled::Done(super::to_result(g, tool, r)),
            Err(e) => Polled::Done(super::error_result(g, tool, &e)),
        }
    }

    /// Cancels the job whose status is at `url` with the declared cancel operation. Ok also
    /// when the API says the job is already over (404, 409, 410). Err: why it was not.
    pub async fn cancel(&self, op: &AsyncOp, url: &url::Url) -> Result<(), String> {
        let (g, tool) = (&**self.gateway, self.tool);
        let Some(c) = &op.cancel else {
            return Err(format!(
                "`{}` declares no way to cancel its jobs (`async.cancel`)",
                tool.name
            ));
        };
        let target = cancel_url(g.upstream.base_for(&tool.plan), &c.path, url).ok_or_else(|| {
            format!(
                "the job's status URL {} does not fit the cancel operation {}, so its parameters cannot be filled",
                url.path(),
                c.label
            )
        })?;
        match self.send(c.method.clone(), &target).await {
            Ok(r) if r.status.is_success() || matches!(r.status.as_u16(), 404 | 409 | 410) => {
                Ok(())
            }
            Ok(r) => Err(format!(
                "the API answered {} to {}. Body excerpt: {}",
                r.status,
                c.label,
                excerpt(&r.body, ERROR_EXCERPT_BYTES)
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The URL of the cancel operation at `template` for the job whose status is at `status`: each
/// `{parameter}` segment takes the status path's segment at the same place (after the base
/// path), and each literal segment must equal it there or come after its end.
fn cancel_url(base: &url::Url, template: &str, status: &url::Url) -> Option<url::Url> {
    let base_path = base.path().trim_end_matches('/');
    let rest = status.path().strip_prefix(base_path)?;
    let have: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let mut path = base_path.to_string();
    for (i, seg) in template.trim_start_matches('/').split('/').enumerate() {
        let filled = if seg.starts_with('{') && seg.ends_with('}') {
            *have.get(i).filter(|s| !s.is_empty())?
        } else if seg.contains('{') {
            return None;
        } else {
            if let Some(h) = have.get(i)
                && *h != seg
            {
                return None;
            }
            seg
        };
        path.push('/');
        path.push_str(filled);
    }
    let mut url = status.clone();
    url.set_path(&path);
    url.set_query(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::cancel_url;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn cancel_operations_take_their_parameters_from_the_status_path() {
        let base = url("http://api.test/v1");
        let status = url("http://api.test/v1/jobs/j%2F1?view=full");
        assert_eq!(
            cancel_url(&base, "/jobs/{jobId}", &status)
                .unwrap()
                .as_str(),
            "http://api.test/v1/jobs/j%2F1"
        );
        assert_eq!(
            cancel_url(&base, "/jobs/{jobId}/cancel", &status)
                .unwrap()
                .as_str(),
            "http://api.test/v1/jobs/j%2F1/cancel"
        );
        assert_eq!(cancel_url(&base, "/operations/{id}", &status), None);
        assert_eq!(cancel_url(&base, "/jobs/{a}/{b}", &status), None);
    }
}
