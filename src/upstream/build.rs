//! Arguments + call plan → one upstream HTTP request. This is hostile-input code: every value
//! comes from a model, so path values are percent-encoded as single segments (no `../`, `/`,
//! `?`, `#` or `%2e` can change the path or host), header values are checked for CR/LF, and only
//! the gateway's own credentials are added. Nothing of the inbound MCP request is copied.

use std::fmt::Write as _;

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::gateway::{
    ApiKeyLocation, CallPlan, ParamBinding, ParamLocation, ParamStyle, PathPart, Upstream,
    UpstreamAuth,
};

/// RFC 3986 unreserved characters stay as they are; everything else is encoded. Used for path
/// segments and query components.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// With `allowReserved`, RFC 3986 reserved characters also pass (except the ones that would end
/// the query component or the pair: `#`, `&`, `=`, `+`).
const RESERVED_ALLOWED: &AsciiSet = &UNRESERVED
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';');

/// A request that cannot be built from the arguments (the caller's fault, not the upstream's).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// A header value with characters HTTP forbids.
    #[error(
        "argument `{0}` cannot be sent as a header: it contains a line break or control character"
    )]
    BadHeader(String),
    /// A header name the spec declared that is not a valid HTTP header name.
    #[error("the spec's header name `{0}` is not a valid HTTP header name")]
    BadHeaderName(String),
    /// A path value that would climb the upstream's path.
    #[error("argument `{0}` cannot be `.` or `..`: it would change the upstream path")]
    DotSegment(String),
    /// A required path parameter with no value.
    #[error("missing value for path parameter `{0}`")]
    MissingPath(String),
    /// The assembled URL is invalid.
    #[error("cannot build the upstream URL: {0}")]
    Url(String),
    /// The request body cannot be built from the arguments.
    #[error(transparent)]
    Body(#[from] super::body::BodyError),
}

/// The parts of a request, independent of the HTTP client.
#[derive(Debug)]
pub struct RequestParts {
    /// Method.
    pub method: Method,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body and its content type.
    pub body: Option<super::body::Body>,
}

fn value_of<'a>(
    args: &'a Map<String, Value>,
    arg: Option<&str>,
    fixed: Option<&'a Value>,
    default: Option<&'a Value>,
) -> Option<&'a Value> {
    arg.and_then(|a| args.get(a))
        .or(fixed)
        .or(default)
        .filter(|v| !v.is_null())
}

/// Scalar text: strings as they are, everything else as JSON.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds the request for `plan` from already-validated `args`.
pub fn build(
    upstream: &Upstream,
    plan: &CallPlan,
    args: &Map<String, Value>,
) -> Result<RequestParts, BuildError> {
    let mut path = String::new();
    let mut url = String::with_capacity(128);
    let base = plan.base_url.as_deref().unwrap_or(&upstream.base_url);
    url.push_str(base.as_str().trim_end_matches('/'));
    for part in &plan.path {
        match part {
            PathPart::Literal(s) => path.push_str(s),
            PathPart::Param(wire) => {
                let binding = plan
                    .params
                    .iter()
                    .find(|b| b.location == ParamLocation::Path && &b.wire == wire);
                let value = binding.and_then(|b| {
                    value_of(args, b.arg.as_deref(), b.fixed.as_ref(), b.default.as_ref())
                });
                let Some(value) = value else {
                    return Err(BuildError::MissingPath(wire.clone()));
                };
                if is_dot_segment(value) {
                    return Err(BuildError::DotSegment(
                        binding
                            .and_then(|b| b.arg.clone())
                            .unwrap_or_else(|| wire.clone()),
                    ));
                }
                let style = binding
                    .map(|b| (b.style, b.explode))
                    .unwrap_or((ParamStyle::Simple, false));
                path.push_str(&path_value(wire, value, style.0, style.1));
            }
        }
    }
    if !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(&path);

    let mut query = String::new();
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let mut cookies: Vec<String> = Vec::new();
    for b in &plan.params {
        let Some(value) = value_of(args, b.arg.as_deref(), b.fixed.as_ref(), b.default.as_ref())
        else {
            continue;
        };
        match b.location {
            ParamLocation::Path => {}
            ParamLocation::Query => query_pairs(&mut query, b, value),
            ParamLocation::Header => {
                let text = if b.json_encoded {
                    value.to_string()
                } else {
                    simple(value, b.explode)
                };
                let name = HeaderName::from_bytes(b.wire.as_bytes())
                    .map_err(|_| BuildError::BadHeaderName(b.wire.clone()))?;
                let v = HeaderValue::from_str(&text).map_err(|_| {
                    BuildError::BadHeader(b.arg.clone().unwrap_or_else(|| b.wire.clone()))
                })?;
                headers.push((name, v));
            }
            ParamLocation::Cookie => {
                let text = if b.json_encoded {
                    value.to_string()
                } else {
                    simple(value, false)
                };
                cookies.push(format!(
                    "{}={}",
                    b.wire,
                    utf8_percent_encode(&text, UNRESERVED)
                ));
            }
        }
    }

    for (name, value) in &upstream.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BuildError::BadHeaderName(name.clone()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| BuildError::BadHeader(name.to_string()))?;
        headers.push((name, value));
    }
    // Not to an operation server of another origin that only the spec names.
    let auth = upstream.auth.as_ref().filter(|_| plan.credentials);
    match auth {
        // Added when the call is sent (the token may need fetching first).
        None | Some(UpstreamAuth::OAuth2(_)) => {}
        Some(UpstreamAuth::Bearer(token)) => {
            headers.push((
                http::header::AUTHORIZATION,
                sensitive(&format!("Bearer {}", token.expose()))?,
            ));
        }
        Some(UpstreamAuth::Basic { username, password }) => {
            let raw = format!("{username}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
            headers.push((
                http::header::AUTHORIZATION,
                sensitive(&format!("Basic {encoded}"))?,
            ));
        }
        Some(UpstreamAuth::ApiKey {
            location,
            name,
            value,
        }) => match location {
            ApiKeyLocation::Header => {
                let n = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| BuildError::BadHeaderName(name.clone()))?;
                headers.push((n, sensitive(value.expose())?));
            }
            ApiKeyLocation::Query => push_pair(&mut query, name, value.expose(), UNRESERVED),
            ApiKeyLocation::Cookie => cookies.push(format!("{name}={}", value.expose())),
        },
    }
    if !cookies.is_empty() {
        let v = HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| BuildError::BadHeader("cookie".into()))?;
        headers.push((http::header::COOKIE, v));
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let body = match &plan.body {
        None => None,
        Some(bp) => super::body::body(bp, args)?,
    };
    Ok(RequestParts {
        method: plan.method.clone(),
        url,
        headers,
        body,
    })
}

fn sensitive(s: &str) -> Result<HeaderValue, BuildError> {
    let mut v = HeaderValue::from_str(s).map_err(|_| BuildError::BadHeader("credential".into()))?;
    // Keeps it out of hyper's debug output and HPACK tables.
    v.set_sensitive(true);
    Ok(v)
}

/// A path parameter's text, encoded so it stays one segment (or, for label/matrix, the
/// segment's parameter part).
fn path_value(name: &str, v: &Value, style: ParamStyle, explode: bool) -> String {
    let enc = |s: &str| encode_segment(s);
    match style {
        ParamStyle::Label => {
            let items = items(v, explode);
            let sep = if explode { "." } else { "," };
            format!(
                ".{}",
                items.iter().map(|s| enc(s)).collect::<Vec<_>>().join(sep)
            )
        }
        ParamStyle::Matrix => match v {
            Value::Array(a) if explode => a
                .iter()
                .map(|x| format!(";{name}={}", enc(&scalar(x))))
                .collect(),
            Value::Object(o) if explode => o
                .iter()
                .map(|(k, x)| format!(";{}={}", enc(k), enc(&scalar(x))))
                .collect(),
            _ => format!(
                ";{name}={}",
                items(v, false)
                    .iter()
                    .map(|s| enc(s))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        },
        _ => items(v, explode)
            .iter()
            .map(|s| enc(s))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Percent-encodes one path segment.
fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `.` and `..` would be resolved as dot-segments by URL parsers, servers and proxies, even
/// percent-encoded (WHATWG URL treats `%2e` as `.`), so they are refused rather than sent.
fn is_dot_segment(v: &Value) -> bool {
    matches!(v.as_str(), Some(".") | Some(".."))
}

/// The items of a value for `simple`-like styles: arrays as their elements, objects as
/// `k,v,k,v` (or `k=v` pairs when exploded), scalars as themselves.
fn items(v: &Value, explode: bool) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(scalar).collect(),
        Value::Object(o) => {
            if explode {
                o.iter()
                    .map(|(k, x)| format!("{k}={}", scalar(x)))
                    .collect()
            } else {
                o.iter().flat_map(|(k, x)| [k.clone(), scalar(x)]).collect()
            }
        }
        other => vec![scalar(other)],
    }
}

fn simple(v: &Value, explode: bool) -> String {
    items(v, explode).join(",")
}

fn push_pair(query: &mut String, key: &str, value: &str, set: &'static AsciiSet) {
    if !query.is_empty() {
        query.push('&');
    }
    let _ = write!(
        query,
        "{}={}",
        utf8_percent_encode(key, UNRESERVED),
        utf8_percent_encode(value, set)
    );
}

fn query_pairs(query: &mut String, b: &ParamBinding, v: &Value) {
    let set = if b.allow_reserved {
        RESERVED_ALLOWED
    } else {
        UNRESERVED
    };
    let name = b.wire.as_str();
    if b.json_encoded {
        push_pair(query, name, &v.to_string(), set);
        return;
    }
    match (b.style, v) {
        (ParamStyle::DeepObject, Value::Object(o)) => {
            for (k, x) in o {
                deep(query, &format!("{name}[{k}]"), x, set);
            }
        }
        // Arrays use the bracket convention of deepObject APIs (`expand[]=a&expand[]=b`).
        (ParamStyle::DeepObject, Value::Array(_)) => deep(query, name, v, set),
        (ParamStyle::Form, Value::Array(a)) if b.explode => {
            for x in a {
                push_pair(query, name, &scalar(x), set);
            }
        }
        (ParamStyle::Form, Value::Object(o)) if b.explode => {
            for (k, x) in o {
                push_pair(query, k, &scalar(x), set);
            }
        }
        (
            ParamStyle::SpaceDelimited | ParamStyle::PipeDelimited | ParamStyle::TabDelimited,
            Value::Array(a),
        ) if !b.explode => {
            let sep = match b.style {
                ParamStyle::SpaceDelimited => "%20",
                ParamStyle::PipeDelimited => "%7C",
                _ => "%09",
            };
            let joined: Vec<String> = a
                .iter()
                .map(|x| utf8_percent_encode(&scalar(x), set).to_string())
                .collect();
            if !query.is_empty() {
                query.push('&');
            }
            let _ = write!(
                query,
                "{}={}",
                utf8_percent_encode(name, UNRESERVED),
                joined.join(sep)
            );
        }
        (
            ParamStyle::SpaceDelimited | ParamStyle::PipeDelimited | ParamStyle::TabDelimited,
            Value::Array(a),
        ) => {
            for x in a {
                push_pair(query, name, &scalar(x), set);
            }
        }
        (_, other) => push_pair(query, name, &simple(other, false), set),
    }
}

fn deep(query: &mut String, key: &str, v: &Value, set: &'static AsciiSet) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                deep(query, &format!("{key}[{k}]"), x, set);
            }
        }
        Value::Array(a) => {
            for x in a {
                push_pair(query, &format!("{key}[]"), &scalar(x), set);
            }
        }
        other => push_pair(query, key, &scalar(other), set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn upstream(base: &str) -> Upstream {
        Upstream {
            base_url: url::Url::parse(base).unwrap(),
            headers: vec![],
            timeout: Duration::from_secs(1),
            max_response_bytes: 1024,
            auth: None,
            client: None,
            identity_headers: Vec::new(),
        }
    }

    fn param(
        wire: &str,
        location: ParamLocation,
        style: ParamStyle,
        explode: bool,
    ) -> ParamBinding {
        ParamBinding {
            arg: Some(wire.to_string()),
            wire: wire.to_string(),
            location,
            style,
            explode,
            allow_reserved: false,
            fixed: None,
            default: None,
            json_encoded: false,
        }
    }

    fn plan(path: &str, params: Vec<ParamBinding>) -> CallPlan {
        let mut parts = Vec::new();
        for (i, chunk) in path.split('{').enumerate() {
            if i == 0 {
                parts.push(PathPart::Literal(chunk.to_string()));
                continue;
            }
            let (name, rest) = chunk.split_once('}').unwrap();
            parts.push(PathPart::Param(name.to_string()));
            if !rest.is_empty() {
                parts.push(PathPart::Literal(rest.to_string()));
            }
        }
        CallPlan {
            method: Method::GET,
            path: parts,
            params,
            body: None,
            base_url: None,
            credentials: true,
        }
    }

    fn url_for(base: &str, path: &str, params: Vec<ParamBinding>, args: Value) -> String {
        let Value::Object(args) = args else { panic!() };
        build(&upstream(base), &plan(path, params), &args)
            .unwrap()
            .url
    }

    #[test]
    fn path_values_cannot_escape_their_segment_or_change_the_host() {
        let p = || {
            vec![param(
                "name",
                ParamLocation::Path,
                ParamStyle::Simple,
                false,
            )]
        };
        let cases = [
            (
                "../etc/passwd",
                "http://api.test/v1/files/..%2Fetc%2Fpasswd/raw",
            ),
            ("a/b", "http://api.test/v1/files/a%2Fb/raw"),
            ("?x=1", "http://api.test/v1/files/%3Fx%3D1/raw"),
            ("#frag", "http://api.test/v1/files/%23frag/raw"),
            ("%2e%2e", "http://api.test/v1/files/%252e%252e/raw"),
            ("@evil.com", "http://api.test/v1/files/%40evil.com/raw"),
            (
                "héllo wörld",
                "http://api.test/v1/files/h%C3%A9llo%20w%C3%B6rld/raw",
            ),
        ];
        for (value, want) in cases {
            let got = url_for(
                "http://api.test/v1",
                "/files/{name}/raw",
                p(),
                json!({"name": value}),
            );
            assert_eq!(got, want, "value {value:?}");
            assert_eq!(url::Url::parse(&got).unwrap().host_str(), Some("api.test"));
        }
    }

    #[test]
    fn dot_segments_are_refused_because_url_parsers_resolve_them_even_encoded() {
        for v in [".", ".."] {
            let Value::Object(args) = json!({"name": v}) else {
                panic!()
            };
            let p = plan(
                "/files/{name}",
                vec![param(
                    "name",
                    ParamLocation::Path,
                    ParamStyle::Simple,
                    false,
                )],
            );
            assert_eq!(
                build(&upstream("http://h"), &p, &args).unwrap_err(),
                BuildError::DotSegment("name".into())
            );
        }
        assert_eq!(
            url::Url::parse("http://h/a/%2E%2E/b").unwrap().path(),
            "/b",
            "why: %2E%2E is resolved"
        );
        assert_eq!(
            url_for(
                "http://h",
                "/f/{name}",
                vec![param(
                    "name",
                    ParamLocation::Path,
                    ParamStyle::Simple,
                    false
                )],
                json!({"name": "..."})
            ),
            "http://h/f/..."
        );
    }

    #[test]
    fn base_url_and_path_join_with_exactly_one_slash() {
        for base in ["http://api.test/v1", "http://api.test/v1/"] {
            assert_eq!(
                url_for(base, "/pets", vec![], json!({})),
                "http://api.test/v1/pets"
            );
        }
        assert_eq!(
            url_for("http://api.test", "/pets", vec![], json!({})),
            "http://api.test/pets"
        );
    }

    #[test]
    fn query_styles_follow_openapi() {
        let q = |style, explode, v: Value| {
            let url = url_for(
                "http://h",
                "/x",
                vec![param("f", ParamLocation::Query, style, explode)],
                json!({"f": v}),
            );
            url.split_once('?')
                .map(|(_, q)| q.to_string())
                .unwrap_or_default()
        };
        assert_eq!(q(ParamStyle::Form, true, json!(["a", "b"])), "f=a&f=b");
        assert_eq!(q(ParamStyle::Form, false, json!(["a", "b"])), "f=a%2Cb");
        assert_eq!(
            q(ParamStyle::Form, true, json!({"x": 1, "y": "z"})),
            "x=1&y=z"
        );
        assert_eq!(q(ParamStyle::Form, false, json!({"x": 1})), "f=x%2C1");
        assert_eq!(
            q(ParamStyle::SpaceDelimited, false, json!(["a", "b"])),
            "f=a%20b"
        );
        assert_eq!(
            q(ParamStyle::PipeDelimited, false, json!(["a", "b"])),
            "f=a%7Cb"
        );
        assert_eq!(
            q(
                ParamStyle::DeepObject,
                true,
                json!({"color": "red", "size": {"min": 1}})
            ),
            "f%5Bcolor%5D=red&f%5Bsize%5D%5Bmin%5D=1"
        );
        assert_eq!(
            q(ParamStyle::DeepObject, true, json!(["a", "b"])),
            "f%5B%5D=a&f%5B%5D=b"
        );
        assert_eq!(q(ParamStyle::Form, true, json!("a&b=c")), "f=a%26b%3Dc");
        assert_eq!(q(ParamStyle::Form, true, json!(true)), "f=true");
        assert_eq!(q(ParamStyle::Form, true, Value::Null), "");
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        let Value::Object(args) = json!({"X-Trace": "a\r\nX-Admin: 1"}) else {
            panic!()
        };
        let err = build(
            &upstream("http://h"),
            &plan(
                "/x",
                vec![param(
                    "X-Trace",
                    ParamLocation::Header,
                    ParamStyle::Simple,
                    false,
                )],
            ),
            &args,
        )
        .unwrap_err();
        assert_eq!(err, BuildError::BadHeader("X-Trace".into()));
    }

    #[test]
    fn cookies_join_into_one_header_and_credentials_are_applied() {
        let mut up = upstream("http://h");
        up.auth = Some(UpstreamAuth::ApiKey {
            location: ApiKeyLocation::Query,
            name: "key".into(),
            value: crate::secret::Secret::new("s3cr et", "env:K"),
        });
        let Value::Object(args) = json!({"a": "1", "b": "x y"}) else {
            panic!()
        };
        let parts = build(
            &up,
            &plan(
                "/x",
                vec![
                    param("a", ParamLocation::Cookie, ParamStyle::Form, true),
                    param("b", ParamLocation::Cookie, ParamStyle::Form, true),
                ],
            ),
            &args,
        )
        .unwrap();
        assert_eq!(parts.url, "http://h/x?key=s3cr%20et");
        let cookie = parts
            .headers
            .iter()
            .find(|(n, _)| n == http::header::COOKIE)
            .unwrap();
        assert_eq!(cookie.1, "a=1; b=x%20y");
    }
}
