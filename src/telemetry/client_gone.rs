//! rmcp's ERROR lines for an answer that could not be sent because the client had gone.
//!
//! Over HTTP a client ends a request by closing its stream: a 2026-07-28 client closes its
//! `subscriptions/listen` stream when it stops listening (the spec says such a close carries
//! no answer), and any client may hang up on a call served by rmcp. rmcp then still sends the
//! handler's answer, finds the stream's channel closed and logs it at ERROR ("fail to response
//! message", or "failed to send pending response during drain"). Nothing failed on the
//! gateway's side and an operator can do nothing about it, yet every listening agent that
//! disconnects would put an ERROR line in the log and trip alerts on errors. [`ClientGone`]
//! drops exactly those two events with exactly that error; every other rmcp event is kept.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// A layer that disables rmcp's "could not send the answer: channel closed" ERROR events.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientGone;

impl<S: Subscriber> Layer<S> for ClientGone {
    fn event_enabled(&self, event: &Event<'_>, _cx: Context<'_, S>) -> bool {
        !is_client_gone(event)
    }
}

/// rmcp's messages for an answer its transport could not send (rmcp 3.11, `service.rs`).
const UNSENT: [&str; 2] = [
    "fail to response message",
    "failed to send pending response during drain",
];

/// The error of an HTTP transport whose client closed the stream.
const CLOSED: &str = "channel closed";

fn is_client_gone(event: &Event<'_>) -> bool {
    let meta = event.metadata();
    // Cheap tests first: every event of the process passes through here.
    if *meta.level() != Level::ERROR || !meta.target().starts_with("rmcp::service") {
        return false;
    }
    let mut fields = Fields::default();
    event.record(&mut fields);
    fields
        .message
        .as_deref()
        .is_some_and(|m| UNSENT.contains(&m))
        && fields.error.as_deref() == Some(CLOSED)
}

/// The two fields the test reads, as they would be printed.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    error: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            "error" => self.error = Some(format!("{value:?}")),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_string()),
            "error" => self.error = Some(value.to_string()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Records the message of every event that reaches it.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
            let mut f = Fields::default();
            event.record(&mut f);
            if let Ok(mut seen) = self.0.lock() {
                seen.push(f.message.unwrap_or_default());
            }
        }
    }

    fn logged(emit: impl FnOnce()) -> Vec<String> {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(seen.clone())
            .with(ClientGone);
        tracing::subscriber::with_default(subscriber, emit);
        seen.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The two events rmcp logs when the client closed its stream, written as rmcp writes them.
    #[test]
    fn drops_an_answer_unsent_because_the_client_closed_its_stream() {
        let error = "channel closed";
        let seen = logged(|| {
            tracing::error!(target: "rmcp::service", %error, "fail to response message");
            tracing::error!(target: "rmcp::service", %error, "failed to send pending response during drain");
        });
        assert!(seen.is_empty(), "{seen:?}");
    }

    /// Any other error of the same sends, the same message from elsewhere, rmcp's other
    /// events and the gateway's own are all kept.
    #[test]
    fn keeps_everything_else() {
        let seen = logged(|| {
            let error = "broken pipe";
            tracing::error!(target: "rmcp::service", %error, "fail to response message");
            let error = "channel closed";
            tracing::error!(target: "rmcp::service", %error, "response send task failed");
            tracing::warn!(target: "rmcp::service", %error, "fail to response message");
            tracing::error!(target: "mcp_gateway::call", %error, "fail to response message");
            tracing::error!(target: "rmcp::service", "fail to response message");
        });
        assert_eq!(
            seen,
            [
                "fail to response message",
                "response send task failed",
                "fail to response message",
                "fail to response message",
                "fail to response message",
            ]
        );
    }
}
