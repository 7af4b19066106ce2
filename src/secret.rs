//! Secrets read from the environment or a file. The value never appears in `Debug` output,
//! logs, diagnostics or `inspect`; only where it came from is ever printed.

use std::fmt;
use std::sync::Arc;

/// What a serialised secret shows in place of its value.
pub const REDACTED: &str = "<redacted>";

/// A credential value with a redacting `Debug` and `Serialize` (which show only its origin).
#[derive(Clone)]
pub struct Secret {
    value: Arc<str>,
    /// Where the value came from (`env:NAME` or `file:PATH`), safe to print.
    origin: Arc<str>,
}

impl Secret {
    /// Wraps a value read from `origin`.
    pub fn new(value: impl Into<Arc<str>>, origin: impl Into<Arc<str>>) -> Self {
        Self {
            value: value.into(),
            origin: origin.into(),
        }
    }

    /// The secret itself. Call only where it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it came from, for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

// Compared so the running side can tell whether settings holding a secret changed (a rotated
// client secret must fetch a new token); equality never prints anything.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.origin == other.origin
    }
}

impl Eq for Secret {}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{REDACTED} ({})", self.origin))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({}, [redacted])", self.origin)
    }
}
