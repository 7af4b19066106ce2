//! Arguments + body plan → the request body's bytes and content type. Every byte an argument
//! puts into a body is decided here, as `build` decides the URL and headers.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::gateway::{BodyEncoding, BodySource};

/// RFC 3986 unreserved characters stay as they are in a form body; everything else is
/// percent-encoded (`application/x-www-form-urlencoded` parsers decode both `+` and `%20`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Scalar text: strings as they are, everything else as JSON.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_pair(out: &mut String, key: &str, value: &str, set: &'static AsciiSet) {
    if !out.is_empty() {
        out.push('&');
    }
    out.extend(utf8_percent_encode(key, UNRESERVED));
    out.push('=');
    out.extend(utf8_percent_encode(value, set));
}

/// A request body.
#[derive(Debug)]
pub enum Body {
    /// Bytes with a content type.
    Bytes {
        /// `Content-Type`.
        content_type: String,
        /// Content.
        data: Vec<u8>,
    },
    /// A multipart form: `(name, value text, is JSON)`.
    Multipart(Vec<(String, String)>),
}

pub(super) fn body(plan: &crate::gateway::BodyPlan, args: &Map<String, Value>) -> Option<Body> {
    let value = match &plan.source {
        BodySource::Whole(arg) => args.get(arg).cloned()?,
        BodySource::Fields(fields) => {
            let mut obj = Map::new();
            for f in fields {
                if let Some(v) = f
                    .arg
                    .as_deref()
                    .and_then(|a| args.get(a))
                    .or(f.fixed.as_ref())
                    .or(f.default.as_ref())
                {
                    obj.insert(f.property.clone(), v.clone());
                }
            }
            if obj.is_empty() && !plan.required {
                return None;
            }
            Value::Object(obj)
        }
    };
    Some(match &plan.content_type {
        BodyEncoding::Json(mime) => Body::Bytes {
            content_type: mime.clone(),
            data: serde_json::to_vec(&value).unwrap_or_default(),
        },
        BodyEncoding::Form => {
            // Arrays repeat the key (the OpenAPI default `form` + `explode: true`); objects and
            // nested values are sent as JSON text.
            let mut out = String::new();
            if let Value::Object(o) = &value {
                for (k, v) in o {
                    match v {
                        Value::Array(a) => a
                            .iter()
                            .for_each(|x| push_pair(&mut out, k, &scalar(x), UNRESERVED)),
                        other => push_pair(&mut out, k, &scalar(other), UNRESERVED),
                    }
                }
            }
            Body::Bytes {
                content_type: "application/x-www-form-urlencoded".to_string(),
                data: out.into_bytes(),
            }
        }
        BodyEncoding::Multipart => {
            let mut parts = Vec::new();
            if let Value::Object(o) = &value {
                for (k, v) in o {
                    parts.push((k.clone(), scalar(v)));
                }
            }
            Body::Multipart(parts)
        }
        BodyEncoding::Raw(mime) => Body::Bytes {
            content_type: mime.clone(),
            data: scalar(&value).into_bytes(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{BodyField, BodyPlan};
    use serde_json::json;

    #[test]
    fn bodies_assemble_from_fields_with_fixed_and_default_values() {
        let p = BodyPlan {
            content_type: BodyEncoding::Json("application/json".into()),
            source: BodySource::Fields(vec![
                BodyField {
                    arg: Some("name".into()),
                    property: "name".into(),
                    fixed: None,
                    default: None,
                },
                BodyField {
                    arg: None,
                    property: "kind".into(),
                    fixed: Some(json!("dog")),
                    default: None,
                },
                BodyField {
                    arg: Some("qty".into()),
                    property: "quantity".into(),
                    fixed: None,
                    default: Some(json!(1)),
                },
            ]),
            required: true,
        };
        let Value::Object(args) = json!({"name": "Rex"}) else {
            panic!()
        };
        let Some(Body::Bytes { content_type, data }) = body(&p, &args) else {
            panic!()
        };
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_slice::<Value>(&data).unwrap(),
            json!({"name": "Rex", "kind": "dog", "quantity": 1})
        );
    }
}
