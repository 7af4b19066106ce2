//! The compiled artifacts the IR holds beside its settings (a JSON Schema validator, a set of
//! Jinja templates), each kept with the source it was built from: the IR compares and
//! serialises by that source, since the built form has no meaningful equality or text of its
//! own. Both dereference to what they wrap, so serving uses them as before.
//!
//! Also the `serialize_with` helpers the IR's types share (durations as `30s`, URLs and header
//! names as text, maps in a stable order).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::stream_schema::Plan;

/// A JSON Schema validator and the schema it was built from (one pointer: it is held by every
/// tool, resource and completion).
#[derive(Clone)]
pub struct Validator(Arc<Built>);

struct Built {
    source: Value,
    compiled: jsonschema::Validator,
    /// The schema as a check made while reading a document ([`crate::stream_schema`]), built
    /// on first use: only output schemas are ever asked for one.
    streamed: OnceLock<Option<Plan>>,
}

impl Validator {
    /// Pairs `compiled` with the `source` schema it was built from.
    pub fn new(source: Value, compiled: jsonschema::Validator) -> Self {
        Self(Arc::new(Built {
            source,
            compiled,
            streamed: OnceLock::new(),
        }))
    }

    /// The schema it validates against.
    pub fn source(&self) -> &Value {
        &self.0.source
    }

    /// The schema as a check made while reading, when it uses only what that check models.
    pub fn streamed(&self) -> Option<&Plan> {
        self.0
            .streamed
            .get_or_init(|| Plan::of(&self.0.source))
            .as_ref()
    }
}

impl Deref for Validator {
    type Target = jsonschema::Validator;

    fn deref(&self) -> &jsonschema::Validator {
        &self.0.compiled
    }
}

impl PartialEq for Validator {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.source() == other.source()
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Validator({})", self.source())
    }
}

impl Serialize for Validator {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.source().serialize(s)
    }
}

/// A Jinja environment of compiled templates, compared and serialised as `name → source text`.
#[derive(Clone, Default)]
pub struct Templates(minijinja::Environment<'static>);

impl Templates {
    /// Every template's source text, by name (sorted).
    pub fn sources(&self) -> BTreeMap<String, String> {
        self.0
            .templates()
            .map(|(name, t)| (name.to_string(), t.source().to_string()))
            .collect()
    }
}

impl From<minijinja::Environment<'static>> for Templates {
    fn from(env: minijinja::Environment<'static>) -> Self {
        Self(env)
    }
}

impl Deref for Templates {
    type Target = minijinja::Environment<'static>;

    fn deref(&self) -> &minijinja::Environment<'static> {
        &self.0
    }
}

impl PartialEq for Templates {
    fn eq(&self, other: &Self) -> bool {
        self.sources() == other.sources()
    }
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Templates").field(&self.sources()).finish()
    }
}

impl Serialize for Templates {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.sources().serialize(s)
    }
}

/// `serialize_with` helpers for the IR's fields whose types have no (readable) serde form.
pub(crate) mod with {
    use super::*;

    /// Anything `Display` (URLs, methods, header names), as its text.
    pub(crate) fn text<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// An optional `Display` value, as its text or `null`.
    pub(crate) fn opt_text<T: fmt::Display, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// A duration as people write it in a manifest (`30s`, `100ms`).
    pub(crate) fn duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{d:?}"))
    }

    /// An optional duration.
    pub(crate) fn opt_duration<S: Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => duration(d, s),
            None => s.serialize_none(),
        }
    }

    /// What an `Arc` holds.
    pub(crate) fn shared<T: Serialize + ?Sized, S: Serializer>(
        v: &Arc<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        (**v).serialize(s)
    }

    /// What an optional `Arc` holds.
    pub(crate) fn opt_shared<T: Serialize + ?Sized, S: Serializer>(
        v: &Option<Arc<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => (**v).serialize(s),
            None => s.serialize_none(),
        }
    }

    /// A hash map in key order, so two serialisations of the same IR are the same text.
    pub(crate) fn sorted<V: Serialize, S: Serializer>(
        m: &HashMap<String, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.iter().collect::<BTreeMap<_, _>>().serialize(s)
    }

    /// `(header name, text)` pairs as `[name, text]`.
    pub(crate) fn header_pairs<S: Serializer>(
        v: &[(http::HeaderName, String)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|(h, t)| (h.as_str(), t)))
    }

    /// Bytes whose content the IR does not print (a CA bundle, a file resource): their size.
    pub(crate) fn byte_count<T: AsRef<[u8]>, S: Serializer>(
        v: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("<{} bytes>", v.as_ref().len()))
    }

    /// Optional bytes, as their size.
    pub(crate) fn opt_byte_count<T: AsRef<[u8]>, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => byte_count(v, s),
            None => s.serialize_none(),
        }
    }

    /// A value that must never be printed, whatever it is (an API key's digest).
    pub(crate) fn redacted<T, S: Serializer>(_: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(crate::secret::REDACTED)
    }
}
