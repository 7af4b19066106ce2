//! `response.page:` at call time: the continuation token an agent passes back as `cursor`, and
//! the next page it leads to.
//!
//! A token records where the list goes on: the upstream position (a cursor, a page number, an
//! offset or a URL) and how many items of that upstream page were already shown. So `max_items`
//! can cut at whole items and the next call resumes exactly after the last one shown, inside the
//! same upstream page when needed. Tokens are sealed with HMAC-SHA256 under the key of the
//! confirm feature's `requestState` (`MCP_GATEWAY_STATE_KEY`, or a per-process key), bound to
//! the gateway, the tool and the call's other arguments: a replica that did not mint a token
//! still accepts it, and an altered token, or one presented with other arguments, is refused.

use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock, RequestStateCodec, SealOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::UpstreamResponse;
use super::answer::{ERROR_EXCERPT_BYTES, excerpt, is_json, media};
pub use crate::gateway::paging::{CURSOR_ARG, NEXT, Paging, Style};
use crate::gateway::{CallPlan, Gateway, OutputShape, ParamLocation, PathPart, Shape, Tool};

/// How long a token stays valid: an agent walks a list within one task, and the API's own
/// cursors rarely live longer.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// An upstream page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Pos {
    /// The page the arguments ask for.
    First,
    /// The value of the position argument.
    Arg(Value),
    /// A URL on the upstream.
    Url(String),
}

/// Where a call starts: an upstream page and how many of its items were shown already.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct At {
    #[serde(rename = "p")]
    pos: Pos,
    #[serde(rename = "s")]
    skip: usize,
}

/// The paging of `tool`, if it has any.
pub fn of(tool: &Tool) -> Option<(&Shape, &Paging)> {
    let shape = tool.shape.as_deref()?;
    Some((shape, shape.page.as_ref()?))
}

/// A paged call: where it starts, what its token is bound to and sealed with, and the
/// position argument's value as sent.
#[derive(Debug)]
pub struct Paged<'a> {
    at: At,
    bound: Vec<u8>,
    codec: &'a RequestStateCodec,
    arg: Option<Value>,
}

/// Takes `cursor` out of `args` and opens it with `codec`, putting its position into the
/// position argument. `bind` gives the bytes a token is bound to (the gateway, the tool and the
/// other arguments; the MCP layer owns that rule and the key, shared with `requestState`).
/// Err: the message for an altered, expired or misapplied token (nothing is sent).
pub fn resume<'a>(
    g: &Gateway,
    tool: &Tool,
    paging: &Paging,
    args: &mut Map<String, Value>,
    codec: &'a RequestStateCodec,
    bind: impl FnOnce(&Map<String, Value>) -> Vec<u8>,
) -> Result<Paged<'a>, String> {
    let token = args.remove(CURSOR_ARG);
    let bound = bind(args);
    let arg = |args: &Map<String, Value>| paging.param.as_ref().and_then(|p| args.get(p)).cloned();
    let Some(token) = token else {
        return Ok(Paged {
            at: At {
                pos: Pos::First,
                skip: 0,
            },
            arg: arg(args),
            bound,
            codec,
        });
    };
    let Value::String(token) = token else {
        return Err(format!(
            "`{CURSOR_ARG}` must be the `{NEXT}` string of an earlier result of `{}`.",
            tool.name
        ));
    };
    let at: At = codec
        .open_json_with(&token, &bound)
        .map_err(|_| {
            format!(
                "The `{CURSOR_ARG}` is not a valid continuation of `{}` with these arguments: it was altered, has expired, or comes from a call with other arguments. Pass back the `{NEXT}` value exactly as returned, with the same other arguments as that call, or call without `{CURSOR_ARG}` to start from the first page. Nothing was sent to the API.",
                tool.name
            )
        })?;
    match (&at.pos, &paging.param) {
        (Pos::Arg(v), Some(p)) => {
            args.insert(p.clone(), v.clone());
        }
        // Sealed tokens only carry URLs checked when they were minted; checked again, as the
        // upstream's base URL may have changed since (a reload).
        (Pos::Url(u), _) => {
            let url = url::Url::parse(u)
                .map_err(|e| format!("The `{CURSOR_ARG}` leads to no URL ({e})."))?;
            on_upstream(g, tool, &url)?;
        }
        _ => {}
    }
    Ok(Paged {
        at,
        arg: arg(args),
        bound,
        codec,
    })
}

/// The plan for a page at an upstream URL: the same method and headers, to that URL as it is.
pub fn plan_for(tool: &Tool, paged: &Paged<'_>) -> Option<CallPlan> {
    let Pos::Url(u) = &paged.at.pos else {
        return None;
    };
    // Checked by `resume`.
    let url = url::Url::parse(u).ok()?;
    let p = &tool.plan;
    // The URL's path and query, as the API wrote them, after its origin.
    let rest = url[url::Position::BeforePath..url::Position::AfterQuery].to_string();
    let mut origin = url;
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    Some(CallPlan {
        method: p.method.clone(),
        path: vec![PathPart::Literal(rest)],
        params: p
            .params
            .iter()
            .filter(|b| b.location != ParamLocation::Query && b.location != ParamLocation::Path)
            .cloned()
            .collect(),
        body: p.body.clone(),
        base_url: Some(Box::new(origin)),
        credentials: p.credentials,
    })
}

/// Whether `url` is on the tool's upstream: its origin, under its base path.
pub(crate) fn within(g: &Gateway, tool: &Tool, url: &url::Url) -> bool {
    let base = g.upstream.base_for(&tool.plan);
    let base_path = base.path().trim_end_matches('/');
    let under = url.path() == base_path
        || url.path().starts_with(&format!("{base_path}/"))
        || base_path.is_empty();
    url.origin() == base.origin() && under
}

/// Whether `url` stays on the upstream's origin and under its base path.
fn on_upstream(g: &Gateway, tool: &Tool, url: &url::Url) -> Result<(), String> {
    let base = g.upstream.base_for(&tool.plan);
    let base_path = base.path().trim_end_matches('/');
    if within(g, tool, url) {
        Ok(())
    } else {
        Err(format!(
            "The API's link to the next page ({}{}) leaves the upstream {}{}, so the gateway does not follow it: a next-page URL must stay on the upstream's origin and base path. The API or the tool's `response.page` needs fixing; this page was not returned.",
            url.origin().ascii_serialization(),
            url.path(),
            base.origin().ascii_serialization(),
            base_path
        ))
    }
}

/// The MCP result for a paged tool's answer: the items from `at` on, at most `max_items`, with
/// `next` when more follow.
pub fn to_result(
    g: &Gateway,
    tool: &Tool,
    resp: UpstreamResponse,
    paged: &Paged<'_>,
) -> CallToolResult {
    let at = &paged.at;
    let Some((shape, paging)) = of(tool) else {
        return super::to_result(g, tool, resp);
    };
    let m = media(resp.content_type.as_deref());
    if !resp.status.is_success() || resp.truncated || !(is_json(&m) || m.is_empty()) {
        return super::to_result(g, tool, resp);
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&resp.body) else {
        return super::to_result(g, tool, resp);
    };
    let list = shape.list.as_deref().unwrap_or("");
    let Some(Value::Array(items)) = body.pointer(list) else {
        return error(format!(
            "The upstream's answer has no list at `{list}`, so it cannot be paged. Body excerpt:\n{}",
            excerpt(&resp.body, ERROR_EXCERPT_BYTES)
        ));
    };
    let upstream_len = items.len();
    let last = items.last().cloned();
    // Where the API goes on; an error (a link off the upstream) counts only once it is needed.
    let after = next_pos(
        g,
        tool,
        paging,
        &body,
        &resp.headers,
        paged,
        upstream_len,
        last,
    );
    let skip = at.skip.min(upstream_len);
    if let Some(Value::Array(items)) = body.pointer_mut(list) {
        items.drain(..skip);
        items.truncate(shape.max_items.unwrap_or(usize::MAX));
    }
    // The selection, as for any shaped answer.
    let (mut body, _) = super::shape::shape_value(shape, body);
    if let Some(max) = paging.max_bytes {
        within_bytes(&mut body, list, max);
    }
    let shown = match body.pointer(list) {
        Some(Value::Array(items)) => items.len(),
        _ => 0,
    };
    let next_at = if skip + shown < upstream_len {
        Some(At {
            pos: at.pos.clone(),
            skip: skip + shown,
        })
    } else {
        match after {
            Ok(p) => p.map(|pos| At { pos, skip: 0 }),
            Err(message) => return error(message),
        }
    };
    let mut data = match tool.output {
        OutputShape::Wrapped => super::answer::wrapped(body),
        _ => body,
    };
    let token = match &next_at {
        Some(n) => match seal(paged.codec, n, &paged.bound) {
            Ok(t) => Some(t),
            Err(e) => return error(e),
        },
        None => None,
    };
    if let Value::Object(o) = &mut data {
        // The API's own `next` (the URL a `next: /next` page follows) is replaced by the token.
        o.shift_remove(NEXT);
        if let Some(t) = &token {
            o.insert(NEXT.to_string(), Value::String(t.clone()));
        }
    }
    if tool.output != OutputShape::None
        && let Some(r) = super::answer::schema_mismatch(tool, &data, None)
    {
        return r;
    }
    let mut content = if shape.text || !shape.blocks.is_empty() {
        super::shape::render_blocks(shape, &data)
    } else {
        vec![ContentBlock::text(
            serde_json::to_string(&data).unwrap_or_default(),
        )]
    };
    content.push(ContentBlock::text(match &token {
        Some(t) => format!(
            "{shown} item{} shown; more follow. To see them, call `{}` again with the same arguments and `{CURSOR_ARG}`: \"{t}\".",
            if shown == 1 { "" } else { "s" },
            tool.name
        ),
        None => format!(
            "{shown} item{} shown; this is the last page.",
            if shown == 1 { "" } else { "s" }
        ),
    }));
    let mut result = CallToolResult::success(content);
    if tool.output != OutputShape::None {
        result.structured_content = Some(data);
    }
    result
}

/// Leaves items off the end of the list at `list` until `body` takes at most `max` bytes of
/// JSON, keeping at least one: the rest is for the next page.
fn within_bytes(body: &mut Value, list: &str, max: usize) {
    let mut total = serde_json::to_vec(&*body).map(|v| v.len()).unwrap_or(0);
    let Some(Value::Array(items)) = body.pointer_mut(list) else {
        return;
    };
    while total > max && items.len() > 1 {
        let Some(item) = items.pop() else { break };
        // The item and the comma before it.
        total = total.saturating_sub(serde_json::to_vec(&item).map(|v| v.len()).unwrap_or(0) + 1);
    }
}

fn error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

fn seal(codec: &RequestStateCodec, at: &At, bound: &[u8]) -> Result<String, String> {
    codec
        .seal_json_with(
            at,
            &SealOptions::new().associated_data(bound).ttl(TOKEN_TTL),
        )
        .map_err(|e| format!("The continuation token could not be made: {e}"))
}

/// The upstream page after the one answered, if the API says there is one.
#[allow(clippy::too_many_arguments)]
fn next_pos(
    g: &Gateway,
    tool: &Tool,
    paging: &Paging,
    body: &Value,
    headers: &http::HeaderMap,
    paged: &Paged<'_>,
    upstream_len: usize,
    last: Option<Value>,
) -> Result<Option<Pos>, String> {
    if let Some(p) = &paging.has_more
        && body.pointer(p).and_then(Value::as_bool) != Some(true)
    {
        return Ok(None);
    }
    let scalar = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(Value::String(s.clone())),
        Some(Value::Number(n)) => Some(Value::Number(n.clone())),
        _ => None,
    };
    let current = |default: i64| -> i64 {
        // The position argument as sent: from the token, or as the caller gave it.
        paged.arg.as_ref().and_then(number).unwrap_or(default)
    };
    let url = |u: Option<&str>| -> Result<Option<Pos>, String> {
        let Some(u) = u.filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let mut url = g
            .upstream
            .base_for(&tool.plan)
            .join(u)
            .map_err(|e| format!("The API's next-page link `{u}` is not a URL ({e})."))?;
        on_upstream(g, tool, &url)?;
        // An API that echoes the gateway's own query credential into its links must not put
        // it into a token the agent can read; the request for that page adds it again.
        without_owned_query(g, &mut url);
        Ok(Some(Pos::Url(url.to_string())))
    };
    match &paging.style {
        Style::Cursor { next, last_item } => Ok(match (next, last_item) {
            (Some(p), _) => scalar(body.pointer(p)),
            (None, Some(p)) => scalar(last.as_ref().and_then(|l| l.pointer(p))),
            (None, None) => None,
        }
        .map(Pos::Arg)),
        Style::Page { start } => {
            Ok((upstream_len > 0).then(|| Pos::Arg(json!(current(*start) + 1))))
        }
        Style::Offset => Ok((upstream_len > 0)
            .then(|| Pos::Arg(json!(current(0) + i64::try_from(upstream_len).unwrap_or(0))))),
        Style::NextUrl(p) => url(body.pointer(p).and_then(Value::as_str)),
        Style::Link => url(link_next(headers).as_deref()),
    }
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The `rel="next"` target of the `Link` headers (RFC 8288), if any.
pub fn link_next(headers: &http::HeaderMap) -> Option<String> {
    for v in headers.get_all(http::header::LINK) {
        let Ok(v) = v.to_str() else { continue };
        for link in v.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let Some(target) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
                continue;
            };
            let next = parts.any(|p| {
                let p = p.trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_ascii_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if next {
                return Some(target.to_string());
            }
        }
    }
    None
}

/// `url` without the query parameters the gateway owns (its API key): an API may echo them
/// into the URLs it hands out, and a sealed token or task id is signed, not encrypted, so the
/// agent could read them there. Each request built from such a URL adds them again.
pub(crate) fn without_owned_query(g: &Gateway, url: &mut url::Url) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| g.upstream.param_owner(ParamLocation::Query, k).is_none())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.len() < url.query_pairs().count() {
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::link_next;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in values {
            h.append(http::header::LINK, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_next_link_is_found_among_others() {
        let gh = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            link_next(&headers(&[gh])).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        // Several relation types in one, other parameters, a second header line.
        let h = headers(&[
            r#"</a?page=1>; rel="first""#,
            r#"</a?page=3>; title="more"; rel="next last""#,
        ]);
        assert_eq!(link_next(&h).as_deref(), Some("/a?page=3"));
        assert_eq!(link_next(&headers(&[r#"</a?page=1>; rel="prev""#])), None);
        assert_eq!(link_next(&headers(&[])), None);
    }
}
