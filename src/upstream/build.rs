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

/// The longest URL the gateway sends. Servers refuse longer request lines (nginx and Apache
/// stop at 8 KiB and answer 414), so an argument that makes one is refused here, where the
/// message can name it, rather than by the upstream or the HTTP client.
pub(crate) const MAX_URL_BYTES: usize = 8 * 1024;

/// A request that cannot be built from the arguments (the caller's fault, not the upstream's).
/// Each names the argument; nothing has been sent when one is returned.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// A header value with characters HTTP forbids.
    #[error(
        "argument `{0}` cannot be sent as a header: it contains a line break or control character"
    )]
    BadHeader(String),
    /// A header value with leading or trailing whitespace, which receivers strip silently.
    #[error(
        "argument `{0}` cannot be sent as a header: it starts or ends with a space or tab, which HTTP receivers strip; trim it"
    )]
    HeaderWhitespace(String),
    /// A header name the spec declared that is not a valid HTTP header name.
    #[error("the spec's header name `{0}` is not a valid HTTP header name")]
    BadHeaderName(String),
    /// A path value that would climb or drop a segment of the upstream's path.
    #[error(
        "argument `{0}` cannot make the path segment `.` or `..`: servers resolve it, so it would change the upstream path"
    )]
    DotSegment(String),
    /// A path value that would leave an empty segment (`//`) in the upstream's path.
    #[error(
        "argument `{0}` cannot be empty: it is a segment of the upstream path, and an empty one changes which resource is addressed"
    )]
    EmptySegment(String),
    /// A key of an object argument that would become a name the gateway sets, fixes or hides.
    #[error(
        "argument `{arg}` cannot hold the key `{key}`: it would send `{key}`, which {owner}; remove the key"
    )]
    OwnedKey {
        /// The argument.
        arg: String,
        /// The key it holds.
        key: String,
        /// Who owns that name, as a phrase.
        owner: String,
    },
    /// A deepObject key with brackets, which would restructure the nesting on the wire.
    #[error("argument `{arg}` cannot hold the key `{key}`: keys cannot contain `[` or `]`")]
    BracketKey {
        /// The argument.
        arg: String,
        /// The key it holds.
        key: String,
    },
    /// The URL would be longer than servers accept.
    #[error(
        "argument `{arg}` makes the upstream URL {len} bytes long, over the {max}-byte limit servers accept; send a shorter value"
    )]
    UrlTooLong {
        /// The argument that contributes most.
        arg: String,
        /// The URL's length.
        len: usize,
        /// The limit ([`MAX_URL_BYTES`]).
        max: usize,
    },
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
    /// Headers, each name at most once for the names the gateway owns.
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

/// How refusals name a parameter: its argument name, or its wire name when it is hidden.
fn arg_name(b: &ParamBinding) -> &str {
    b.arg.as_deref().unwrap_or(&b.wire)
}

/// Builds the request for `plan` from already-validated `args`.
///
/// Every value is checked in its final, encoded form: a path segment after the style put it
/// together, a header value as it will be sent, every query name an object argument produces.
/// Names the gateway owns ([`Upstream::header_owner`]) are never taken from an argument, and
/// the gateway's own headers replace any earlier value, so each is sent once.
pub fn build(
    upstream: &Upstream,
    plan: &CallPlan,
    args: &Map<String, Value>,
) -> Result<RequestParts, BuildError> {
    let mut url = String::with_capacity(128);
    // A tool's own server (`base_url:` or the operation's `servers`), else the upstream's.
    let base = upstream.base_for(plan);
    url.push_str(base.as_str().trim_end_matches('/'));
    // Which argument wrote which bytes, to name the one that made a URL too long.
    let mut written: Vec<(&str, usize)> = Vec::new();
    path(&mut url, plan, args, &mut written)?;

    let mut query = String::new();
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let mut cookies: Vec<String> = Vec::new();
    for b in &plan.params {
        let Some(value) = value_of(args, b.arg.as_deref(), b.fixed.as_ref(), b.default.as_ref())
        else {
            continue;
        };
        // The compiler keeps such parameters out of the tool; this holds even if a plan was
        // built some other way (a resource template, a completion).
        if upstream.param_owner(b.location, &b.wire).is_some() {
            continue;
        }
        match b.location {
            ParamLocation::Path => {}
            ParamLocation::Query => {
                let before = query.len();
                query_pairs(&mut query, upstream, plan, b, value)?;
                written.push((arg_name(b), query.len() - before));
            }
            ParamLocation::Header => {
                let text = if b.json_encoded {
                    value.to_string()
                } else {
                    simple(value, b.explode)
                };
                let name = HeaderName::from_bytes(b.wire.as_bytes())
                    .map_err(|_| BuildError::BadHeaderName(b.wire.clone()))?;
                if text.starts_with([' ', '\t']) || text.ends_with([' ', '\t']) {
                    return Err(BuildError::HeaderWhitespace(arg_name(b).into()));
                }
                let v = HeaderValue::from_str(&text)
                    .map_err(|_| BuildError::BadHeader(arg_name(b).into()))?;
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

    gateway_headers(upstream, plan, &mut headers, &mut query, &mut cookies)?;
    if !cookies.is_empty() {
        let v = HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| BuildError::BadHeader("cookie".into()))?;
        set_header(&mut headers, http::header::COOKIE, v);
    }
    if !query.is_empty() {
        // A next-page URL (`response.page`) brings its own query.
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    if url.len() > MAX_URL_BYTES {
        let arg = written
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|(a, _)| (*a).to_owned())
            .unwrap_or_else(|| "(the path)".into());
        return Err(BuildError::UrlTooLong {
            arg,
            len: url.len(),
            max: MAX_URL_BYTES,
        });
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

/// Adds what the gateway itself sends: `upstream.headers` and its credentials (unless the plan
/// goes to another origin without them), each replacing any value an argument produced.
fn gateway_headers(
    upstream: &Upstream,
    plan: &CallPlan,
    headers: &mut Vec<(HeaderName, HeaderValue)>,
    query: &mut String,
    cookies: &mut Vec<String>,
) -> Result<(), BuildError> {
    for (name, value) in &upstream.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BuildError::BadHeaderName(name.clone()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| BuildError::BadHeader(name.to_string()))?;
        set_header(headers, name, value);
    }
    // Not to an operation server of another origin that only the spec names.
    let auth = upstream.auth.as_ref().filter(|_| plan.credentials);
    match auth {
        // Added when the call is sent (the token may need fetching first).
        None | Some(UpstreamAuth::OAuth2(_)) => {}
        Some(UpstreamAuth::Bearer(token)) => {
            set_header(
                headers,
                http::header::AUTHORIZATION,
                sensitive(&format!("Bearer {}", token.expose()))?,
            );
        }
        Some(UpstreamAuth::Basic { username, password }) => {
            let raw = format!("{username}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
            set_header(
                headers,
                http::header::AUTHORIZATION,
                sensitive(&format!("Basic {encoded}"))?,
            );
        }
        Some(UpstreamAuth::ApiKey {
            location,
            name,
            value,
        }) => match location {
            ApiKeyLocation::Header => {
                let n = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| BuildError::BadHeaderName(name.clone()))?;
                set_header(headers, n, sensitive(value.expose())?);
            }
            ApiKeyLocation::Query => push_pair(query, name, value.expose(), UNRESERVED),
            ApiKeyLocation::Cookie => cookies.push(format!("{name}={}", value.expose())),
        },
    }
    Ok(())
}

/// Sets a header the gateway owns: any earlier value of that name is removed first, so the
/// gateway's value is the only one sent (servers disagree on which of two they read).
pub(crate) fn set_header(
    headers: &mut Vec<(HeaderName, HeaderValue)>,
    name: HeaderName,
    value: HeaderValue,
) {
    headers.retain(|(n, _)| n != name);
    headers.push((name, value));
}

/// Appends the path to `url`, checking every segment a parameter wrote in its final encoded
/// form: `.`/`..` (resolved by servers and proxies) and empty segments are refused whatever the
/// style produced them (a `["..", …]` array, a label value of `"."`, an empty string).
fn path<'p>(
    url: &mut String,
    plan: &'p CallPlan,
    args: &Map<String, Value>,
    written: &mut Vec<(&'p str, usize)>,
) -> Result<(), BuildError> {
    let mut path = String::new();
    // Byte ranges of `path` written by each parameter.
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
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
                let name = binding.map_or(wire.as_str(), arg_name);
                let (style, explode) = binding
                    .map(|b| (b.style, b.explode))
                    .unwrap_or((ParamStyle::Simple, false));
                let start = path.len();
                path_value(&mut path, wire, value, style, explode);
                written.push((name, path.len() - start));
                spans.push((start, path.len(), name));
            }
        }
    }
    let mut at = 0;
    for segment in path.split('/') {
        let end = at + segment.len();
        // A segment the parameter touched: its bytes overlap the segment, or it wrote nothing
        // where the segment is.
        let by = spans
            .iter()
            .find(|(s, e, _)| (*s < end && *e > at) || (*s == *e && *s >= at && *s <= end));
        if let Some((_, _, name)) = by {
            if segment == "." || segment == ".." {
                return Err(BuildError::DotSegment((*name).to_owned()));
            }
            if segment.is_empty() && at > 0 {
                return Err(BuildError::EmptySegment((*name).to_owned()));
            }
        }
        at = end + 1;
    }
    if !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(&path);
    Ok(())
}

fn sensitive(s: &str) -> Result<HeaderValue, BuildError> {
    let mut v = HeaderValue::from_str(s).map_err(|_| BuildError::BadHeader("credential".into()))?;
    // Keeps it out of hyper's debug output and HPACK tables.
    v.set_sensitive(true);
    Ok(v)
}

/// Appends a path parameter's text, encoded so it stays one segment (or, for label/matrix,
/// the segment's parameter part).
fn path_value(out: &mut String, name: &str, v: &Value, style: ParamStyle, explode: bool) {
    // The common case, a `simple` scalar, is the value itself encoded, written in place (what
    // the general case below gives for a one-item list, without its lists and copies).
    if !matches!(style, ParamStyle::Label | ParamStyle::Matrix) {
        match v {
            Value::String(s) => {
                out.extend(utf8_percent_encode(s, UNRESERVED));
                return;
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {
                out.extend(utf8_percent_encode(&v.to_string(), UNRESERVED));
                return;
            }
            Value::Array(_) | Value::Object(_) => {}
        }
    }
    let enc = |s: &str| encode_segment(s);
    let text: String = match style {
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
    };
    out.push_str(&text);
}

/// Percent-encodes one path segment.
fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
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

/// Refuses a key of object argument `b` that would put a name the gateway owns on the wire: the
/// name of another query parameter of the operation (which the manifest may fix or hide) or the
/// gateway's API key. Names are compared case-insensitively, as several frameworks read them.
fn check_key(
    upstream: &Upstream,
    plan: &CallPlan,
    b: &ParamBinding,
    key: &str,
) -> Result<(), BuildError> {
    let other = plan.params.iter().find(|p| {
        p.location == ParamLocation::Query
            && !std::ptr::eq(*p, b)
            && crate::gateway::names_the_same(&p.wire, key)
    });
    let owner = match other {
        Some(p) if p.arg.is_none() => Some(format!(
            "is the parameter `{}` that the manifest fixes or hides",
            p.wire
        )),
        Some(p) => Some(format!(
            "is another parameter of this tool (pass it as `{}`)",
            arg_name(p)
        )),
        None => upstream
            .name_owner(ParamLocation::Query, key)
            .map(|o| format!("is {}", o.describe())),
    };
    match owner {
        Some(owner) => Err(BuildError::OwnedKey {
            arg: arg_name(b).into(),
            key: key.to_string(),
            owner,
        }),
        None => Ok(()),
    }
}

fn query_pairs(
    query: &mut String,
    upstream: &Upstream,
    plan: &CallPlan,
    b: &ParamBinding,
    v: &Value,
) -> Result<(), BuildError> {
    let set = if b.allow_reserved {
        RESERVED_ALLOWED
    } else {
        UNRESERVED
    };
    let name = b.wire.as_str();
    if b.json_encoded {
        push_pair(query, name, &v.to_string(), set);
        return Ok(());
    }
    match (b.style, v) {
        (ParamStyle::DeepObject, Value::Object(o)) => {
            for (k, x) in o {
                check_key(upstream, plan, b, k)?;
                deep(query, b, name, k, x, set)?;
            }
        }
        // Arrays use the bracket convention of deepObject APIs (`expand[]=a&expand[]=b`).
        (ParamStyle::DeepObject, Value::Array(a)) => {
            for x in a {
                push_pair(query, &format!("{name}[]"), &scalar(x), set);
            }
        }
        (ParamStyle::Form, Value::Array(a)) if b.explode => {
            for x in a {
                push_pair(query, name, &scalar(x), set);
            }
        }
        (ParamStyle::Form, Value::Object(o)) if b.explode => {
            // Each key becomes a query name of its own: the one place an argument chooses names.
            for (k, x) in o {
                check_key(upstream, plan, b, k)?;
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
    Ok(())
}

/// `key[k]=…` pairs of deepObject member `k`, nested objects as `key[k][a]=…` and arrays as
/// `key[k][]=…` (the bracket convention). A key with brackets of its own would restructure the
/// nesting a server parses, so it is refused.
fn deep(
    query: &mut String,
    b: &ParamBinding,
    key: &str,
    k: &str,
    v: &Value,
    set: &'static AsciiSet,
) -> Result<(), BuildError> {
    if k.contains(['[', ']']) {
        return Err(BuildError::BracketKey {
            arg: arg_name(b).into(),
            key: k.to_string(),
        });
    }
    let key = format!("{key}[{k}]");
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                deep(query, b, &key, k, x, set)?;
            }
        }
        Value::Array(a) => {
            for x in a {
                push_pair(query, &format!("{key}[]"), &scalar(x), set);
            }
        }
        other => push_pair(query, &key, &scalar(other), set),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
