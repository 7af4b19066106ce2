//! Arguments + body plan → the request body's bytes and content type. Every byte an argument
//! puts into a body is decided here, as `build` decides the URL and headers.

use serde_json::{Map, Value};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::gateway::{BodyEncoding, BodyField, BodyPlan, BodySource, FieldEncoding, ParamStyle};

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

fn push_pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    out.extend(utf8_percent_encode(key, UNRESERVED));
    out.push('=');
    out.extend(utf8_percent_encode(value, UNRESERVED));
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
    /// A `multipart/form-data` body, part by part.
    Multipart(Vec<Part>),
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The form field name (the body property).
    pub name: String,
    /// The part's `Content-Type`.
    pub content_type: String,
    /// `filename` of a binary part.
    pub filename: Option<String>,
    /// Content.
    pub data: Vec<u8>,
}

/// A body that cannot be built from the arguments (the caller's fault).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    /// An exploded form object whose key would set another field of the body.
    #[error(
        "argument `{arg}` cannot have the key `{key}`: its keys are sent as top-level form fields, and `{field}` is another field of the request body"
    )]
    KeyCollision {
        /// The argument.
        arg: String,
        /// Its offending key.
        key: String,
        /// The body field it would set.
        field: String,
    },
    /// Binary content that is not base64.
    #[error("argument `{0}` must be base64-encoded data (standard or URL-safe alphabet)")]
    Base64(String),
}

/// The body of `plan` from already-validated `args`; `None` when no body is sent (an optional
/// body the agent left empty).
pub(super) fn body(plan: &BodyPlan, args: &Map<String, Value>) -> Result<Option<Body>, BodyError> {
    let fields: Vec<(&BodyField, &Value)> = match &plan.source {
        BodySource::Whole(f) => match value_of(f, args) {
            Some(v) => vec![(f, v)],
            None => return Ok(None),
        },
        BodySource::Fields(fields) => {
            let present: Vec<(&BodyField, &Value)> = fields
                .iter()
                .filter_map(|f| value_of(f, args).map(|v| (f, v)))
                .collect();
            if present.is_empty() && !plan.required {
                return Ok(None);
            }
            present
        }
    };
    let whole = matches!(plan.source, BodySource::Whole(_));
    Ok(Some(match &plan.content_type {
        BodyEncoding::Json(mime) => {
            let data = if whole {
                serde_json::to_vec(fields[0].1)
            } else {
                let obj: Map<String, Value> = fields
                    .iter()
                    .map(|(f, v)| (f.property.clone(), (*v).clone()))
                    .collect();
                serde_json::to_vec(&obj)
            };
            Body::Bytes {
                content_type: mime.clone(),
                data: data.unwrap_or_default(),
            }
        }
        BodyEncoding::Form => {
            let mut out = String::new();
            if whole {
                // A whole form body (a free-form map): each member is a field.
                if let Value::Object(o) = fields[0].1 {
                    for (k, v) in o {
                        form_value(&mut out, k, v, ParamStyle::Form, true);
                    }
                }
            } else {
                let names: Vec<&str> = match &plan.source {
                    BodySource::Fields(all) => all.iter().map(|f| f.property.as_str()).collect(),
                    BodySource::Whole(_) => Vec::new(),
                };
                for (f, v) in &fields {
                    form_field(&mut out, f, v, &names)?;
                }
            }
            Body::Bytes {
                content_type: "application/x-www-form-urlencoded".to_string(),
                data: out.into_bytes(),
            }
        }
        BodyEncoding::Multipart => {
            let mut parts = Vec::new();
            if whole {
                if let Value::Object(o) = fields[0].1 {
                    for (k, v) in o {
                        let text = FieldEncoding::Part {
                            content_type: "text/plain".into(),
                            binary: false,
                            deep: false,
                        };
                        push_parts(&mut parts, k, k, v, &text)?;
                    }
                }
            } else {
                for (f, v) in &fields {
                    let arg = f.arg.as_deref().unwrap_or(&f.property);
                    push_parts(&mut parts, arg, &f.property, v, &f.encoding)?;
                }
            }
            Body::Multipart(parts)
        }
        BodyEncoding::Raw(mime) => Body::Bytes {
            content_type: mime.clone(),
            data: scalar(fields[0].1).into_bytes(),
        },
        BodyEncoding::Binary(mime) => {
            let (f, v) = fields[0];
            Body::Bytes {
                content_type: mime.clone(),
                data: base64(f.arg.as_deref().unwrap_or("body"), v)?,
            }
        }
    }))
}

/// The argument's value, else the manifest's fixed value, else its default.
fn value_of<'a>(f: &'a BodyField, args: &'a Map<String, Value>) -> Option<&'a Value> {
    f.arg
        .as_deref()
        .and_then(|a| args.get(a))
        .or(f.fixed.as_ref())
        .or(f.default.as_ref())
}

/// One property of a form body. `names` are every property of the body: an exploded object's
/// keys become top-level fields, so a key naming another property (or its bracketed form,
/// `amount[x]`, which form parsers read as `amount`) is refused.
fn form_field(out: &mut String, f: &BodyField, v: &Value, names: &[&str]) -> Result<(), BodyError> {
    let FieldEncoding::Form {
        style,
        explode,
        json,
    } = f.encoding
    else {
        form_value(out, &f.property, v, ParamStyle::Form, true);
        return Ok(());
    };
    if json {
        if !v.is_null() {
            push_pair(out, &f.property, &v.to_string());
        }
        return Ok(());
    }
    if let (ParamStyle::Form, true, Value::Object(o)) = (style, explode, v) {
        let arg = f.arg.as_deref().unwrap_or(&f.property);
        for k in o.keys() {
            if let Some(field) = names
                .iter()
                .find(|n| **n != f.property && crate::gateway::names_the_same(n, k))
            {
                return Err(BodyError::KeyCollision {
                    arg: arg.to_string(),
                    key: k.clone(),
                    field: field.to_string(),
                });
            }
        }
    }
    form_value(out, &f.property, v, style, explode);
    Ok(())
}

/// Writes `name` = `v` with OpenAPI's form-body serialisations; see the README's table.
fn form_value(out: &mut String, name: &str, v: &Value, style: ParamStyle, explode: bool) {
    match (style, v) {
        (_, Value::Null) => {}
        (ParamStyle::DeepObject, _) => brackets(out, name, v),
        (ParamStyle::Form, Value::Object(o)) if explode => {
            for (k, x) in o {
                brackets(out, k, x);
            }
        }
        (ParamStyle::Form, Value::Array(a)) if explode => {
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::Object(_) | Value::Array(_) => brackets(out, &format!("{name}[{i}]"), x),
                    Value::Null => {}
                    other => push_pair(out, name, &scalar(other)),
                }
            }
        }
        (
            ParamStyle::SpaceDelimited | ParamStyle::PipeDelimited | ParamStyle::TabDelimited,
            Value::Array(a),
        ) if explode => {
            for x in a {
                push_pair(out, name, &scalar(x));
            }
        }
        (_, Value::Array(a)) => {
            let sep = match style {
                ParamStyle::SpaceDelimited => " ",
                ParamStyle::PipeDelimited => "|",
                ParamStyle::TabDelimited => "\t",
                _ => ",",
            };
            let items: Vec<String> = a.iter().map(scalar).collect();
            push_pair(out, name, &items.join(sep));
        }
        (_, Value::Object(o)) => {
            let items: Vec<String> = o.iter().flat_map(|(k, x)| [k.clone(), scalar(x)]).collect();
            push_pair(out, name, &items.join(","));
        }
        (_, other) => push_pair(out, name, &scalar(other)),
    }
}

/// The bracket convention of the largest form-encoded APIs: `a[b][c]=…` for nested objects,
/// `a[]=x` for arrays of scalars, `a[0][b]=…` for arrays of objects or arrays.
fn brackets(out: &mut String, key: &str, v: &Value) {
    let mut pairs = Vec::new();
    leaves(&mut pairs, key.to_string(), v);
    for (k, x) in pairs {
        push_pair(out, &k, &x);
    }
}

/// The `(bracketed name, text)` of each scalar in `v`, nulls left out.
fn leaves(out: &mut Vec<(String, String)>, key: String, v: &Value) {
    match v {
        Value::Null => {}
        Value::Object(o) => {
            for (k, x) in o {
                leaves(out, format!("{key}[{k}]"), x);
            }
        }
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            for x in a.iter().filter(|x| !x.is_null()) {
                out.push((format!("{key}[]"), scalar(x)));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(out, format!("{key}[{i}]"), x);
            }
        }
        other => out.push((key, scalar(other))),
    }
}

/// The parts of one multipart property: one part, or one per item of an array.
fn push_parts(
    parts: &mut Vec<Part>,
    arg: &str,
    name: &str,
    v: &Value,
    encoding: &FieldEncoding,
) -> Result<(), BodyError> {
    let (content_type, binary) = match encoding {
        FieldEncoding::Part {
            deep: true,
            binary: false,
            ..
        } if v.is_object() || v.is_array() => {
            // One text part per leaf, named like a deepObject form field.
            let mut pairs = Vec::new();
            leaves(&mut pairs, name.to_string(), v);
            for (k, x) in pairs {
                parts.push(Part {
                    name: k,
                    content_type: "text/plain".into(),
                    filename: None,
                    data: x.into_bytes(),
                });
            }
            return Ok(());
        }
        FieldEncoding::Part {
            content_type,
            binary,
            ..
        } => (content_type.as_str(), *binary),
        _ => ("text/plain", false),
    };
    // OpenAPI: an array property is one part per item, each with the item's type.
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items.into_iter().filter(|x| !x.is_null()) {
        let data = if binary {
            base64(arg, item)?
        } else if content_type.contains("json") {
            serde_json::to_vec(item).unwrap_or_default()
        } else {
            match item {
                Value::Object(_) | Value::Array(_) => serde_json::to_vec(item).unwrap_or_default(),
                other => scalar(other).into_bytes(),
            }
        };
        parts.push(Part {
            name: name.to_string(),
            content_type: content_type.to_string(),
            filename: binary.then(|| name.to_string()),
            data,
        });
    }
    Ok(())
}

/// Binary content sent by the agent as base64 (either alphabet, padded or not, whitespace
/// ignored), as bytes.
fn base64(arg: &str, v: &Value) -> Result<Vec<u8>, BodyError> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let Some(text) = v.as_str() else {
        return Err(BodyError::Base64(arg.to_string()));
    };
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| BodyError::Base64(arg.to_string()))
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
                    encoding: FieldEncoding::Json,
                },
                BodyField {
                    arg: None,
                    property: "kind".into(),
                    fixed: Some(json!("dog")),
                    default: None,
                    encoding: FieldEncoding::Json,
                },
                BodyField {
                    arg: Some("qty".into()),
                    property: "quantity".into(),
                    fixed: None,
                    default: Some(json!(1)),
                    encoding: FieldEncoding::Json,
                },
            ]),
            required: true,
        };
        let Value::Object(args) = json!({"name": "Rex"}) else {
            panic!()
        };
        let Ok(Some(Body::Bytes { content_type, data })) = body(&p, &args) else {
            panic!()
        };
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_slice::<Value>(&data).unwrap(),
            json!({"name": "Rex", "kind": "dog", "quantity": 1})
        );
    }

    fn field(property: &str, encoding: FieldEncoding) -> BodyField {
        BodyField {
            arg: Some(property.into()),
            property: property.into(),
            fixed: None,
            default: None,
            encoding,
        }
    }

    fn form(style: ParamStyle, explode: bool) -> FieldEncoding {
        FieldEncoding::Form {
            style,
            explode,
            json: false,
        }
    }

    fn form_body(fields: Vec<BodyField>, args: Value) -> Result<String, BodyError> {
        let p = BodyPlan {
            content_type: BodyEncoding::Form,
            source: BodySource::Fields(fields),
            required: false,
        };
        let Value::Object(args) = args else { panic!() };
        match body(&p, &args)? {
            Some(Body::Bytes { content_type, data }) => {
                assert_eq!(content_type, "application/x-www-form-urlencoded");
                Ok(String::from_utf8(data).unwrap())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn form_bodies_follow_each_style_and_the_bracket_convention() {
        let fields = vec![
            field("address", form(ParamStyle::DeepObject, true)),
            field("expand", form(ParamStyle::DeepObject, true)),
            field("line_items", form(ParamStyle::DeepObject, true)),
            field("metadata", form(ParamStyle::DeepObject, true)),
            field("name", form(ParamStyle::Form, true)),
            field("tags", form(ParamStyle::Form, true)),
            field("ids", form(ParamStyle::Form, false)),
            field("words", form(ParamStyle::SpaceDelimited, false)),
            field("pipes", form(ParamStyle::PipeDelimited, false)),
            field(
                "payload",
                FieldEncoding::Form {
                    style: ParamStyle::Form,
                    explode: true,
                    json: true,
                },
            ),
        ];
        let got = form_body(
            fields,
            json!({
                "address": {"line1": "1 Main St", "geo": {"lat": 1.5}},
                "expand": ["customer", "invoice"],
                "line_items": [{"price": "p_1", "quantity": 2}],
                "metadata": {"order_id": "6735"},
                "name": "Zoë & co",
                "tags": ["a", "b"],
                "ids": [1, 2],
                "words": ["x", "y"],
                "pipes": ["x", "y"],
                "payload": {"k": [1]},
            }),
        )
        .unwrap();
        assert_eq!(
            got.split('&').collect::<Vec<_>>(),
            [
                "address%5Bline1%5D=1%20Main%20St",
                "address%5Bgeo%5D%5Blat%5D=1.5",
                "expand%5B%5D=customer",
                "expand%5B%5D=invoice",
                "line_items%5B0%5D%5Bprice%5D=p_1",
                "line_items%5B0%5D%5Bquantity%5D=2",
                "metadata%5Border_id%5D=6735",
                "name=Zo%C3%AB%20%26%20co",
                "tags=a",
                "tags=b",
                "ids=1%2C2",
                "words=x%20y",
                "pipes=x%7Cy",
                "payload=%7B%22k%22%3A%5B1%5D%7D",
            ]
        );
    }

    #[test]
    fn an_exploded_form_object_sends_its_keys_as_fields_but_cannot_set_another_one() {
        let fields = || {
            vec![
                field("amount", form(ParamStyle::Form, true)),
                field("address", form(ParamStyle::Form, true)),
            ]
        };
        assert_eq!(
            form_body(
                fields(),
                json!({"amount": 5, "address": {"line1": "x", "city": "y"}})
            )
            .unwrap(),
            "amount=5&line1=x&city=y"
        );
        for key in ["amount", "amount[currency]"] {
            assert_eq!(
                form_body(fields(), json!({"address": {key: "0"}})).unwrap_err(),
                BodyError::KeyCollision {
                    arg: "address".into(),
                    key: key.into(),
                    field: "amount".into()
                }
            );
        }
        let mut hidden = fields();
        hidden[0].arg = None;
        hidden[0].fixed = Some(json!(100));
        assert!(matches!(
            form_body(hidden, json!({"address": {"amount": "0"}})),
            Err(BodyError::KeyCollision { .. })
        ));
    }

    #[test]
    fn multipart_parts_carry_their_types_and_binary_parts_their_bytes_and_filename() {
        let part = |ct: &str, binary: bool, deep: bool| FieldEncoding::Part {
            content_type: ct.into(),
            binary,
            deep,
        };
        let p = BodyPlan {
            content_type: BodyEncoding::Multipart,
            source: BodySource::Fields(vec![
                field("file", part("image/png", true, false)),
                field("meta", part("application/json", false, false)),
                field("purpose", part("text/plain", false, false)),
                field("link", part("text/plain", false, true)),
            ]),
            required: true,
        };
        let Value::Object(args) = json!({
            "file": "iVBORw0K",
            "meta": {"a": 1},
            "purpose": "avatar",
            "link": {"create": true},
        }) else {
            panic!()
        };
        let Ok(Some(Body::Multipart(parts))) = body(&p, &args) else {
            panic!()
        };
        let summary: Vec<(&str, &str, Option<&str>, &[u8])> = parts
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.content_type.as_str(),
                    p.filename.as_deref(),
                    p.data.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "file",
                    "image/png",
                    Some("file"),
                    &[0x89, b'P', b'N', b'G', 0x0d, 0x0a][..]
                ),
                ("meta", "application/json", None, br#"{"a":1}"#),
                ("purpose", "text/plain", None, b"avatar"),
                ("link[create]", "text/plain", None, b"true"),
            ]
        );
        let Value::Object(bad) = json!({"file": "not base64!", "purpose": "x"}) else {
            panic!()
        };
        assert_eq!(
            body(&p, &bad).unwrap_err(),
            BodyError::Base64("file".into())
        );
    }

    #[test]
    fn an_optional_body_left_empty_is_not_sent() {
        let p = BodyPlan {
            content_type: BodyEncoding::Form,
            source: BodySource::Fields(vec![field("name", form(ParamStyle::Form, true))]),
            required: false,
        };
        assert!(matches!(body(&p, &Map::new()), Ok(None)));
    }
}
