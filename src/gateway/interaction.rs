//! What the gateway asks the user before a tool call: `ask:` parameters (the user supplies the
//! value) and `confirm:` (the user approves the call), compiled.

use std::fmt;

use serde_json::{Map, Value};

use super::compiled::{Templates, Validator};

/// The questions of one tool, in the order they are asked: every `ask:` parameter first (one
/// round), then the confirmation, whose message can show what the user supplied.
#[derive(PartialEq, serde::Serialize)]
pub struct Interaction {
    /// Parameters the user supplies.
    pub asks: Vec<Ask>,
    /// The confirmation, if the tool needs one.
    pub confirm: Option<Confirm>,
}

/// One parameter the user supplies.
#[derive(PartialEq, serde::Serialize)]
pub struct Ask {
    /// The argument it fills in the call plan.
    pub arg: String,
    /// Its key among a 2026-07-28 result's `inputRequests`.
    pub key: String,
    /// The field of the form the user fills in.
    pub field: String,
    /// The question shown.
    pub message: String,
    /// The elicitation form (`requestedSchema`): one primitive field.
    pub form: Map<String, Value>,
    /// Checks the value the user gave against the parameter's own schema.
    pub validator: Validator,
}

/// A confirmation before the call.
#[derive(PartialEq, serde::Serialize)]
pub struct Confirm {
    /// Template `confirm`: the message, rendered from the arguments; `None`: a message naming
    /// the tool and the arguments of the call.
    pub templates: Option<Templates>,
}

/// The key of the confirmation among a 2026-07-28 result's `inputRequests`.
pub const CONFIRM_KEY: &str = "confirm";

impl Interaction {
    /// Whether the tool asks anything at all.
    pub fn is_empty(&self) -> bool {
        self.asks.is_empty() && self.confirm.is_none()
    }
}

impl fmt::Debug for Interaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interaction")
            .field(
                "asks",
                &self.asks.iter().map(|a| a.arg.as_str()).collect::<Vec<_>>(),
            )
            .field("confirm", &self.confirm.is_some())
            .finish()
    }
}

impl fmt::Debug for Ask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ask")
            .field("arg", &self.arg)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Confirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Confirm")
    }
}
