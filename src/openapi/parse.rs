//! Reading operations out of a Swagger 2.0 or OpenAPI 3.x document into the internal model.
//! Each dialect's quirks are handled here once (2.0 `body`/`formData` parameters, `consumes`,
//! `collectionFormat`; 3.x `content`-encoded parameters), so compile sees one shape.

use serde_json::{Map, Value, json};

use super::{
    DocId, DocStore, Operation, Parameter, PropertyEncoding, RawSchema, RequestBody, Response,
    Spec, SpecProblem, SpecVersion, Target,
};
use super::{ParamLocation, ParamStyle};

mod servers;
use servers::{servers, swagger_servers};

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
    let globals = Globals {
        swagger: version == SpecVersion::Swagger2,
        consumes: string_list(root.get("consumes")),
        produces: string_list(root.get("produces")),
    };
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
        if !item.value.is_object() {
            continue;
        }
        for method in METHODS {
            let Some(op) = item.value.get(method).filter(|o| o.is_object()) else {
                continue;
            };
            let Ok(http_method) = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            else {
                continue;
            };
            out.push(operation(
                docs,
                &globals,
                (path, item),
                (http_method, op),
                problems,
            ));
        }
    }
    out
}

/// What every operation of a document inherits: its dialect and Swagger 2.0's global
/// `consumes`/`produces`.
struct Globals {
    swagger: bool,
    consumes: Option<Vec<String>>,
    produces: Option<Vec<String>>,
}

/// One operation `op` of the path item `item` at `path`; its problems go to `problems`, located
/// by `METHOD /path`.
fn operation(
    docs: &DocStore,
    globals: &Globals,
    (path, item): (&String, Target<'_>),
    (http_method, op): (http::Method, &Value),
    problems: &mut Vec<SpecProblem>,
) -> Operation {
    let swagger = globals.swagger;
    let label = format!("{http_method} {path}");
    let mut op_problems = Vec::new();
    let resolved = resolved_params(docs, item, op, &mut op_problems);
    let consumes = string_list(op.get("consumes")).or_else(|| globals.consumes.clone());
    let mut collected = Collected::default();
    for t in resolved {
        collect_param(
            t,
            swagger,
            consumes.as_deref(),
            &label,
            &mut collected,
            &mut op_problems,
            problems,
        );
    }
    let Collected {
        params,
        swagger_body,
        form_fields,
        form_encodings,
    } = collected;
    let body = if swagger {
        if !form_fields.is_empty() {
            Some(form_body(
                form_fields,
                form_encodings,
                consumes.as_deref(),
                item.doc,
            ))
        } else {
            swagger_body
        }
    } else {
        request_body(docs, item.doc, op, &mut op_problems)
    };
    let produces = string_list(op.get("produces")).or_else(|| globals.produces.clone());
    let responses = responses(
        docs,
        item.doc,
        op,
        swagger.then_some(produces.as_deref()),
        &mut op_problems,
    );
    problems.extend(op_problems.into_iter().map(|message| SpecProblem {
        operation: Some(label.clone()),
        message,
        warning: false,
    }));
    let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
    Operation {
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
                servers(item.value.get("servers"))
            } else {
                own
            }
        },
    }
}

/// The operation's parameters, `$ref`s resolved: the path item's and its own, where an
/// operation-level parameter overrides a path-level one with the same name and location.
fn resolved_params<'a>(
    docs: &'a DocStore,
    item: Target<'a>,
    op: &'a Value,
    op_problems: &mut Vec<String>,
) -> Vec<Target<'a>> {
    let mut raw_params: Vec<(DocId, &Value)> = Vec::new();
    for list in [item.value.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
    {
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
    resolved
}

/// A Swagger 2.0 `formData` parameter: name, required, schema, description.
type FormField = (String, bool, Value, Option<String>);

/// The parameters of one operation as they are read: ordinary ones, and Swagger 2.0's `body`
/// and `formData` ones, which become the request body.
#[derive(Default)]
struct Collected {
    params: Vec<Parameter>,
    swagger_body: Option<RequestBody>,
    form_fields: Vec<FormField>,
    form_encodings: Vec<PropertyEncoding>,
}

/// Reads one resolved parameter into `collected`.
fn collect_param(
    t: Target<'_>,
    swagger: bool,
    consumes: Option<&[String]>,
    label: &str,
    collected: &mut Collected,
    op_problems: &mut Vec<String>,
    problems: &mut Vec<SpecProblem>,
) {
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
            operation: Some(label.to_string()),
            message: "a parameter without a `name` is ignored".to_string(),
            warning: true,
        });
        return;
    }
    if swagger && location == "body" {
        let media = pick_media(consumes, "application/json");
        collected.swagger_body = Some(RequestBody {
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
        return;
    }
    if swagger && location == "formData" {
        if let Some((style, explode)) = p
            .get("collectionFormat")
            .and_then(Value::as_str)
            .and_then(collection_format)
        {
            collected.form_encodings.push(PropertyEncoding {
                property: name.clone(),
                content_type: None,
                style: Some(style),
                explode: Some(explode),
            });
        } else if p.get("type").and_then(Value::as_str) == Some("array") {
            // Swagger 2's default `collectionFormat` is `csv`.
            collected.form_encodings.push(PropertyEncoding {
                property: name.clone(),
                content_type: None,
                style: Some(ParamStyle::Form),
                explode: Some(false),
            });
        }
        collected.form_fields.push((
            name,
            p.get("required").and_then(Value::as_bool).unwrap_or(false),
            swagger_param_schema(p),
            p.get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        ));
        return;
    }
    match parameter(t.doc, p, &name, location, swagger) {
        Ok(Some(param)) => collected.params.push(param),
        Ok(None) => {}
        Err(e) => op_problems.push(format!("parameter `{name}`: {e}")),
    }
}

/// Swagger 2.0 `formData` parameters as one object body: multipart when a field is a file or
/// the operation consumes `multipart/form-data`, else URL-encoded.
fn form_body(
    form_fields: Vec<FormField>,
    form_encodings: Vec<PropertyEncoding>,
    consumes: Option<&[String]>,
    doc: DocId,
) -> RequestBody {
    let multipart = form_fields
        .iter()
        .any(|f| f.2.get("format") == Some(&json!("binary")))
        || consumes.is_some_and(|c| c.iter().any(|m| m.starts_with("multipart/form-data")));
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
    RequestBody {
        description: None,
        required: any_required,
        encodings: vec![(media.to_string(), form_encodings)],
        content: vec![(
            media.to_string(),
            Some(RawSchema {
                doc,
                value: json!({"type": "object", "properties": props, "required": required}),
            }),
        )],
    }
}

/// An OpenAPI 3 operation's `requestBody`.
fn request_body(
    docs: &DocStore,
    doc: DocId,
    op: &Value,
    op_problems: &mut Vec<String>,
) -> Option<RequestBody> {
    let rb = op.get("requestBody")?;
    match docs.deref(doc, rb) {
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
    }
}

/// The operation's responses by status. `swagger` holds Swagger 2.0's `produces` (a response
/// there has one `schema`, labelled with the media type picked from it).
fn responses(
    docs: &DocStore,
    doc: DocId,
    op: &Value,
    swagger: Option<Option<&[String]>>,
    op_problems: &mut Vec<String>,
) -> Vec<Response> {
    let mut responses = Vec::new();
    let Some(map) = op.get("responses").and_then(Value::as_object) else {
        return responses;
    };
    for (status, r) in map {
        if status.starts_with("x-") {
            continue;
        }
        match docs.deref(doc, r) {
            Ok(t) => {
                let content = match swagger {
                    Some(produces) => match t.value.get("schema") {
                        Some(s) => vec![(
                            pick_media(produces, "application/json"),
                            Some(RawSchema {
                                doc: t.doc,
                                value: s.clone(),
                            }),
                        )],
                        None => Vec::new(),
                    },
                    None => content(t.doc, t.value.get("content")),
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
    responses
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
