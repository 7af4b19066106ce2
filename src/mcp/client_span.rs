//! The client span of one upstream request (a tool call's, a resource read's, a completion
//! lookup's), under the MCP request's server span, with the OpenTelemetry HTTP client
//! attributes; and the `traceparent` that carries its context upstream.

use crate::gateway::{CallPlan, Gateway, PathPart};
use crate::telemetry::trace::{Attr, Span, TraceParent};
use crate::upstream::{UpstreamError, UpstreamResponse};

/// A client span being recorded (nothing when tracing is off or there is no parent).
pub(crate) struct ClientSpan {
    span: Option<Span>,
}

impl ClientSpan {
    /// Starts the span of `plan`'s request under `parent`.
    pub(crate) fn start(parent: Option<TraceParent>, g: &Gateway, plan: &CallPlan) -> Self {
        let span = parent.and_then(|p| {
            let template = template(plan);
            let mut s = Span::client_of(p, || format!("{} {template}", plan.method))?;
            s.set("http.request.method", Attr::Str(plan.method.to_string()));
            s.set("url.template", Attr::Str(template));
            let base = g.upstream.base_for(plan);
            if let Some(h) = base.host_str() {
                s.set("server.address", Attr::Str(h.to_string()));
            }
            if let Some(port) = base.port_or_known_default() {
                s.set("server.port", Attr::Int(i64::from(port)));
            }
            Some(s)
        });
        Self { span }
    }

    /// The `traceparent` header to send upstream (none when not tracing).
    pub(crate) fn headers(&self) -> Vec<(http::HeaderName, http::HeaderValue)> {
        self.span
            .as_ref()
            .and_then(|c| http::HeaderValue::from_str(&c.context().header()).ok())
            .map(|v| vec![(http::HeaderName::from_static("traceparent"), v)])
            .unwrap_or_default()
    }

    /// Ends the span with what the upstream answered, after `retries` retries.
    pub(crate) fn finish(self, answer: &Result<UpstreamResponse, UpstreamError>, retries: u32) {
        let Some(mut c) = self.span else {
            return;
        };
        if retries > 0 {
            c.set("http.request.resend_count", Attr::Int(i64::from(retries)));
        }
        match answer {
            Ok(resp) => {
                let code = resp.status.as_u16();
                c.set("http.response.status_code", Attr::Int(i64::from(code)));
                if code >= 400 {
                    c.set("error.type", Attr::Str(code.to_string()));
                    c.fail(code.to_string());
                }
            }
            Err(e) => {
                let kind = error_type(e);
                c.set("error.type", Attr::Str(kind.into()));
                c.fail(kind);
            }
        }
        c.end();
    }
}

/// The path template as the spec writes it (`/pets/{petId}`): the span's name and
/// `url.template`, bounded by the manifest rather than by arguments.
pub(crate) fn template(plan: &CallPlan) -> String {
    plan.path
        .iter()
        .map(|p| match p {
            PathPart::Literal(s) => s.clone(),
            PathPart::Param(s) => format!("{{{s}}}"),
        })
        .collect()
}

/// `error.type` of a request that got no answer.
fn error_type(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Build(_) => "build",
        UpstreamError::Timeout { .. } => "timeout",
        UpstreamError::Connect { .. } => "connect",
        UpstreamError::Tls { .. } => "tls",
        UpstreamError::Credentials { .. } => "credentials",
        UpstreamError::Other { .. } => "other",
    }
}
