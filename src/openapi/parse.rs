//! Reading operations out of a Swagger 2.0 or OpenAPI 3.x document into the internal model.
//! Each dialect's quirks are handled here once (2.0 `body`/`formData` parameters, `consumes`,
//! `collectionFormat`; 3.x `content`-encoded parameters), so compile sees one shape.

use serde_json::{Map, Value, json};

use super::{
    DocId, DocStore, Operation, Parameter, PropertyEncoding, RawSchema, RequestBody, Response,
    Server, ServerVariable, Spec, SpecProblem, SpecVersion,
};
use super::{ParamLocation, ParamStyle};

const METHODS: [&str; 9] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

/// Builds the [`Spec`] index of a loaded document store.
pub(super) fn index(docs: DocStore) -> Result<Spec, String> {
    let root = docs.root();
    if !root.is_object() {
        return Err("the document is not a JSON/YAML object".to_string());
    }
    let version = if let Some(v) = root.get("openapi") {
        let v = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        if v.starts_with("3.0") {
            SpecVersion::OpenApi30
        } else if v.starts_with("3.") {
            SpecVersion::OpenApi31
        } else {
            return Err(format!(
                "unsupported `openapi: {v}` (supported: 3.0.x, 3.1.x, and `swagger: \"2.0\"`)"
            ));
        }
    } else if let Some(v) = root.get("swagger") {
        let v = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        if v != "2.0" {
            return Err(format!("unsupported `swagger: {v}` (only 2.0)"));
        }
        SpecVersion::Swagger2
    } else {
        return Err("it has neither an `openapi` nor a `swagger` version field".to_string());
    };
    let info = root.get("info");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let servers = match version {
        SpecVersion::Swagger2 => swagger_servers(root),
        _ => servers(root.get("servers")),
    };
    let mut problems = Vec::new();
    let operations = operations(&docs, version, &mut problems);
    Ok(Spec {
        version,
        title: text(info.and_then(|i| i.get("title"))),
        description: text(info.and_then(|i| i.get("description"))),
        info_version: info.and_then(|i| i.get("version")).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        servers,
        operations,
        problems,
        docs,
    })
}

fn servers(list: Option<&Value>) -> Vec<Server> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let url = s.get("url")?.as_str()?.to_string();
            let variables = s
                .get("variables")
                .and_then(Value::as_object)
                .map(|vars| {
                    vars.iter()
                        .map(|(name, v)| ServerVariable {
                            name: name.clone(),
                            default: v.get("default").map(scalar_text).unwrap_or_default(),
                            allowed: v
                                .get("enum")
                                .and_then(Value::as_array)
                                .map(|a| a.iter().map(scalar_text).collect())
                                .unwrap_or_default(),
                            description: v
                                .get("description")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(Server {
                url,
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                variables,
            })
        })
        .collect()
}

fn swagger_servers(root: &Value) -> Vec<Server> {
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let host = root.get("host").and_then(Value::as_str);
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scheme = if schemes.contains(&"https") || schemes.is_empty() {
        "https"
    } else {
        schemes[0]
    };
    let url = match host {
        Some(h) => format!("{scheme}://{h}{base_path}"),
        None => if base_path.is_empty() { "/" } else { base_path }.to_string(),
    };
    vec![Server {
        url,
        description: None,
        variables: Vec::new(),
    }]
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn operations(
    docs: &DocStore,
    version: SpecVersion,
    problems: &mut Vec<SpecProblem>,
) -> Vec<Operation> {
    let root = docs.root();
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let swagger = version == SpecVersion::Swagger2;
    let consumes_global = string_list(root.get("consumes"));
    let produces_global = string_list(root.get("produces"));
    let mut out = Vec::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            continue; // `x-` extensions at the paths level
        }
        let item = match docs.deref(0, item) {
            Ok(t) => t,
            Err(e) => {
                problems.push(SpecProblem {
                    operation: Some(path.clone()),
                    message: format!("path item: {e}"),
                    warning: false,
                });
                continue;
            }
        };
        let Some(item_obj) = item.value.as_object() else {
            continue;
        };
        let shared_params = item_obj.get("parameters");
        for method in METHODS {
            let Some(op) = item_obj.get(method).filter(|o| o.is_object()) else {
                continue;
            };
            let Ok(http_method) = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            else {
                continue;
            };
            let label = format!("{http_method} {path}");
            let mut op_problems = Vec::new();
            let mut params = Vec::new();
            let mut swagger_body: Option<RequestBody> = None;
            let mut form_fields: Vec<(String, bool, Value, Option<String>)> = Vec::new();
            let mut form_encodings: Vec<PropertyEncoding> = Vec::new();
            // Operation-level parameters override path-level ones with the same name and location.
            let mut raw_params: Vec<(DocId, &Value)> = Vec::new();
            for list in [shared_params, op.get("parameters")].into_iter().flatten() {
                for p in list.as_array().into_iter().flatten() {
                    raw_params.push((item.doc, p));
                }
            }
            let mut seen: Vec<(String, String)> = Vec::new();
            let mut resolved = Vec::new();
            for (doc, p) in raw_params.into_iter().rev() {
                match docs.deref(doc, p) {
                    Ok(t) => {
                        let name = t
                            .value
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        let loc = t
                            .value
                            .get("in")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        if seen.contains(&(name.clone(), loc.clone())) {
                            continue;
                        }
                        seen.push((name, loc));
                        resolved.push(t);
                    }
                    Err(e) => op_problems.push(format!("parameter: {e}")),
                }
            }
            resolved.reverse();
            let consumes = string_list(op.get("consumes")).or_else(|| consumes_global.clone());
            for t in resolved {
                let p = t.value;
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let location = p.get("in").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    // It cannot be sent without a name; the rest of the operation still works.
                    problems.push(SpecProblem {
                        operation: Some(label.clone()),
                        message: "a parameter without a `name` is ignored".to_string(),
                        warning: true,
                    });
                    continue;
                }
                if swagger && location == "body" {
                    let media = pick_media(consumes.as_deref(), "application/json");
                    swagger_body = Some(RequestBody {
                        description: p
                            .get("description")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        encodings: Vec::new(),
                        content: vec![(
                            media,
                            p.get("schema").map(|s| RawSchema {
                                doc: t.doc,
                                value: s.clone(),
                            }),
                        )],
                    });
                    continue;
                }
                if swagger && location == "formData" {
                    if let Some((style, explode)) = p
                        .get("collectionFormat")
                        .and_then(Value::as_str)
                        .and_then(collection_format)
                    {
                        form_encodings.push(PropertyEncoding {
                            property: name.clone(),
                            content_type: None,
                            style: Some(style),
                            explode: Some(explode),
                        });
                    } else if p.get("type").and_then(Value::as_str) == Some("array") {
                        // Swagger 2's default `collectionFormat` is `csv`.
                        form_encodings.push(PropertyEncoding {
                            property: name.clone(),
                            content_type: None,
                            style: Some(ParamStyle::Form),
                            explode: Some(false),
                        });
                    }
                    form_fields.push((
                        name,
                        p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        swagger_param_schema(p),
                        p.get("description")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ));
                    continue;
                }
                match parameter(t.doc, p, &name, location, swagger) {
                    Ok(Some(param)) => params.push(param),
                    Ok(None) => {}
                    Err(e) => op_problems.push(format!("parameter `{name}`: {e}")),
                }
            }
            let body = if swagger {
                if !form_fields.is_empty() {
                    let multipart = form_fields
                        .iter()
                        .any(|f| f.2.get("format") == Some(&json!("binary")))
                        || consumes.as_deref().is_some_and(|c| {
                            c.iter().any(|m| m.starts_with("multipart/form-data"))
                        });
                    let mut props = Map::new();
                    let mut required = Vec::new();
                    for (name, req, mut schema, desc) in form_fields {
                        if let (Some(d), Some(o)) = (desc, schema.as_object_mut()) {
                            o.insert("description".into(), Value::String(d));
                        }
                        if req {
                            required.push(Value::String(name.clone()));
                        }
                        props.insert(name, schema);
                    }
                    let any_required = !required.is_empty();
                    let media = if multipart {
                        "multipart/form-data"
                    } else {
                        "application/x-www-form-urlencoded"
                    };
                    Some(RequestBody {
                        description: None,
                        required: any_required,
                        encodings: vec![(media.to_string(), std::mem::take(&mut form_encodings))],
                        content: vec![(
                            media.to_string(),
                            Some(RawSchema {
                                doc: item.doc,
                                value: json!({"type": "object", "properties": props, "required": required}),
                            }),
                        )],
                    })
                } else {
                    swagger_body
                }
            } else {
                match op.get("requestBody") {
                    Some(rb) => match docs.deref(item.doc, rb) {
                        Ok(t) => Some(RequestBody {
                            description: t
                                .value
                                .get("description")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                            required: t
                                .value
                                .get("required")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            content: content(t.doc, t.value.get("content")),
                            encodings: encodings(t.value.get("content")),
                        }),
                        Err(e) => {
                            op_problems.push(format!("requestBody: {e}"));
                            None
                        }
                    },
                    None => None,
                }
            };
            let produces = string_list(op.get("produces")).or_else(|| produces_global.clone());
            let mut responses = Vec::new();
            if let Some(map) = op.get("responses").and_then(Value::as_object) {
                for (status, r) in map {
                    if status.starts_with("x-") {
                        continue;
                    }
                    match docs.deref(item.doc, r) {
                        Ok(t) => {
                            let content = if swagger {
                                match t.value.get("schema") {
                                    Some(s) => vec![(
                                        pick_media(produces.as_deref(), "application/json"),
                                        Some(RawSchema {
                                            doc: t.doc,
                                            value: s.clone(),
                                        }),
                                    )],
                                    None => Vec::new(),
                                }
                            } else {
                                content(t.doc, t.value.get("content"))
                            };
                            responses.push(Response {
                                status: status.clone(),
                                description: t
                                    .value
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .map(str::to_string),
                                content,
                                headers: t
                                    .value
                                    .get("headers")
                                    .and_then(Value::as_object)
                                    .map(|h| h.keys().cloned().collect())
                                    .unwrap_or_default(),
                            });
                        }
                        Err(e) => op_problems.push(format!("response {status}: {e}")),
                    }
                }
            }
            problems.extend(op_problems.into_iter().map(|message| SpecProblem {
                operation: Some(label.clone()),
                message,
                warning: false,
            }));
            let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
            out.push(Operation {
                id: text("operationId").filter(|s| !s.is_empty()),
                method: http_method,
                path: path.clone(),
                summary: text("summary"),
                description: text("description"),
                deprecated: op
                    .get("deprecated")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                tags: string_list(op.get("tags")).unwrap_or_default(),
                params,
                body,
                responses,
                servers: if swagger {
                    Vec::new()
                } else {
                    let own = servers(op.get("servers"));
                    if own.is_empty() {
                        servers(item_obj.get("servers"))
                    } else {
                        own
                    }
                },
            });
        }
    }
    out
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// The JSON-like media type among `list` if there is one, else its first, else `fallback`.
fn pick_media(list: Option<&[String]>, fallback: &str) -> String {
    let list = list.unwrap_or_default();
    list.iter()
        .find(|m| is_json(m))
        .or_else(|| list.first())
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

/// `application/json`, `application/problem+json`, `text/json`, with or without parameters.
pub(crate) fn is_json(media: &str) -> bool {
    let base = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    base == "application/json" || base.ends_with("+json") || base == "text/json" || base == "*/*"
}

/// Swagger 2 `collectionFormat` as an OpenAPI 3 style and `explode`.
fn collection_format(f: &str) -> Option<(ParamStyle, bool)> {
    Some(match f {
        "multi" => (ParamStyle::Form, true),
        "csv" => (ParamStyle::Form, false),
        "ssv" => (ParamStyle::SpaceDelimited, false),
        "pipes" => (ParamStyle::PipeDelimited, false),
        "tsv" => (ParamStyle::TabDelimited, false),
        _ => return None,
    })
}

/// The `encoding` maps of a request body's media types. Unknown styles are left out (the
/// default applies), as a form field has no other way to be sent.
fn encodings(content: Option<&Value>) -> Vec<(String, Vec<PropertyEncoding>)> {
    let Some(content) = content.and_then(Value::as_object) else {
        return Vec::new();
    };
    content
        .iter()
        .filter_map(|(media, mt)| {
            let map = mt.get("encoding")?.as_object()?;
            let list = map
                .iter()
                .map(|(property, e)| PropertyEncoding {
                    property: property.clone(),
                    content_type: e
                        .get("contentType")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    style: match e.get("style").and_then(Value::as_str) {
                        Some("form") => Some(ParamStyle::Form),
                        Some("deepObject") => Some(ParamStyle::DeepObject),
                        Some("spaceDelimited") => Some(ParamStyle::SpaceDelimited),
                        Some("pipeDelimited") => Some(ParamStyle::PipeDelimited),
                        _ => None,
                    },
                    explode: e.get("explode").and_then(Value::as_bool),
                })
                .collect();
            Some((media.clone(), list))
        })
        .collect()
}

fn content(doc: DocId, content: Option<&Value>) -> Vec<(String, Option<RawSchema>)> {
    content
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(media, mt)| {
                    (
                        media.clone(),
                        mt.get("schema").map(|s| RawSchema {
                            doc,
                            value: s.clone(),
                        }),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A 2.0 non-body parameter's schema, assembled from its inline keywords.
fn swagger_param_schema(p: &Value) -> Value {
    const KEYS: [&str; 19] = [
        "type",
        "format",
        "items",
        "default",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "x-nullable",
        "example",
        "x-example",
    ];
    let mut schema = Map::new();
    if let Some(obj) = p.as_object() {
        for k in KEYS {
            if let Some(v) = obj.get(k) {
                let key = if k == "x-example" { "example" } else { k };
                schema.insert(key.to_string(), v.clone());
            }
        }
    }
    Value::Object(schema)
}

fn parameter(
    doc: DocId,
    p: &Value,
    name: &str,
    location: &str,
    swagger: bool,
) -> Result<Option<Parameter>, String> {
    let location = match location {
        "path" => ParamLocation::Path,
        "query" => ParamLocation::Query,
        "header" => ParamLocation::Header,
        "cookie" => ParamLocation::Cookie,
        other => return Err(format!("unknown location `in: {other}`")),
    };
    // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored; the
    // gateway sets the first two and its own credentials set the third.
    if location == ParamLocation::Header
        && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
    {
        return Ok(None);
    }
    let description = p
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    let required = location == ParamLocation::Path
        || p.get("required").and_then(Value::as_bool).unwrap_or(false);
    let deprecated = p
        .get("deprecated")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut examples = Vec::new();
    if let Some(e) = p.get("example") {
        examples.push(e.clone());
    }
    if let Some(map) = p.get("examples").and_then(Value::as_object) {
        examples.extend(map.values().filter_map(|e| e.get("value").cloned()));
    }
    if swagger {
        let (style, explode) = match p
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv")
        {
            "multi" => (ParamStyle::Form, true),
            "ssv" => (ParamStyle::SpaceDelimited, false),
            "pipes" => (ParamStyle::PipeDelimited, false),
            "tsv" => (ParamStyle::TabDelimited, false),
            _ => (default_style(location), false),
        };
        return Ok(Some(Parameter {
            name: name.to_string(),
            location,
            required,
            description,
            deprecated,
            schema: RawSchema {
                doc,
                value: swagger_param_schema(p),
            },
            style,
            explode,
            allow_reserved: false,
            json_content: false,
            examples,
        }));
    }
    let (schema, json_content) =
        match (p.get("schema"), p.get("content").and_then(Value::as_object)) {
            (Some(s), _) => (s.clone(), false),
            (None, Some(c)) => match c.iter().next() {
                Some((_, mt)) => (mt.get("schema").cloned().unwrap_or(json!({})), true),
                None => (json!({}), true),
            },
            (None, None) => (json!({}), false),
        };
    let style = match p.get("style").and_then(Value::as_str) {
        Some("form") => ParamStyle::Form,
        Some("simple") => ParamStyle::Simple,
        Some("label") => ParamStyle::Label,
        Some("matrix") => ParamStyle::Matrix,
        Some("spaceDelimited") => ParamStyle::SpaceDelimited,
        Some("pipeDelimited") => ParamStyle::PipeDelimited,
        Some("deepObject") => ParamStyle::DeepObject,
        Some(other) => return Err(format!("unknown `style: {other}`")),
        None => default_style(location),
    };
    let explode = p
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(style == ParamStyle::Form);
    Ok(Some(Parameter {
        name: name.to_string(),
        location,
        required,
        description,
        deprecated,
        schema: RawSchema { doc, value: schema },
        style,
        explode,
        allow_reserved: p
            .get("allowReserved")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        json_content,
        examples,
    }))
}

fn default_style(location: ParamLocation) -> ParamStyle {
    match location {
        ParamLocation::Query | ParamLocation::Cookie => ParamStyle::Form,
        ParamLocation::Path | ParamLocation::Header => ParamStyle::Simple,
    }
}
