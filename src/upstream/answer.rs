//! Reading the upstream's answer under a size cap, and turning it into an MCP tool result the
//! model can act on: JSON → `structuredContent` + text, text → text, images and audio → their
//! content types, other binary → an embedded resource, failures → `isError: true`.

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

use super::UpstreamError;
use crate::gateway::{Gateway, OutputShape, Shape, Tool};
use crate::json_read::{below, bytes_equal};

/// A tool's result, whose `structuredContent` may still be the upstream's JSON text.
#[derive(Debug)]
pub struct Answered {
    /// The result; without `structuredContent` while `raw` holds it.
    pub result: CallToolResult,
    /// `structuredContent` as the upstream wrote it, already checked against the output
    /// schema while it was read ([`crate::stream_schema`]).
    pub raw: Option<RawStructured>,
}

/// A JSON answer that goes out twice without being parsed into a tree: as `structuredContent`,
/// and as the result's first text block. The result holds neither until
/// [`Answered::into_result`] or [`RawStructured::splice`] puts them in.
#[derive(Debug, Clone)]
pub struct RawStructured {
    /// The answer's JSON text: one valid JSON document, UTF-8.
    pub json: Bytes,
    /// Whether it goes out as `{"result": …}` (a tool whose answer is not an object).
    pub wrapped: bool,
}

impl From<CallToolResult> for Answered {
    fn from(result: CallToolResult) -> Self {
        Answered { result, raw: None }
    }
}

impl From<RawStructured> for Answered {
    /// A success whose text block and `structuredContent` are `raw`, put in when it is written.
    fn from(raw: RawStructured) -> Self {
        Answered {
            result: CallToolResult::success(Vec::new()),
            raw: Some(raw),
        }
    }
}

impl Answered {
    /// The result with its text block and `structuredContent` as values, made now if they are
    /// still the upstream's text: for every reply but the lean path's, which writes the text as
    /// it is.
    pub fn into_result(self) -> CallToolResult {
        let Answered { mut result, raw } = self;
        if let Some(raw) = raw {
            result.structured_content = raw.value();
            let text = String::from_utf8_lossy(&raw.json).into_owned();
            result.content.insert(0, ContentBlock::text(text));
        }
        result
    }
}

impl RawStructured {
    /// What a serialised reply carries in place of `structuredContent` until
    /// [`Self::splice`] puts the text there: an object (so the 2025-era rewrite of non-object
    /// output leaves it), whose member name no JSON string inside the reply can spell
    /// unescaped.
    pub fn placeholder() -> Value {
        serde_json::json!({ PLACEHOLDER_KEY: 0 })
    }

    /// What a serialised reply carries in place of the text block's text until
    /// [`Self::splice`] writes the answer there, escaped.
    pub const TEXT_PLACEHOLDER: &str = "\u{0}mcp-gateway:text";

    /// Puts the answer in place of the placeholders in `reply`, a serialised message that holds
    /// [`Self::TEXT_PLACEHOLDER`] and then [`Self::placeholder`] once each: escaped as the text
    /// block's string, and as it is as `structuredContent`. `false` when they are not there.
    pub fn splice(&self, reply: &mut Vec<u8>) -> bool {
        // Serialised as `"\u0000mcp-gateway:text"` and `{"\u0000mcp-gateway:structured":0}`:
        // serde_json writes a NUL as `\u0000`. The reply is small until the answer goes in, so
        // the searches are cheap.
        const TEXT: &[u8] = b"\"\\u0000mcp-gateway:text\"";
        const MARK: &[u8] = b"{\"\\u0000mcp-gateway:structured\":0}";
        let Some(text) = reply.windows(TEXT.len()).position(|w| w == TEXT) else {
            return false;
        };
        let Some(at) = reply
            .windows(MARK.len())
            .rposition(|w| w == MARK)
            .filter(|&at| at > text)
        else {
            return false;
        };
        let mut out = Vec::with_capacity(self.reply_capacity(reply.len()));
        out.extend_from_slice(&reply[..text]);
        if !escape_into(&self.json, &mut out) {
            return false;
        }
        out.extend_from_slice(&reply[text + TEXT.len()..at]);
        if self.wrapped {
            out.extend_from_slice(b"{\"result\":");
        }
        out.extend_from_slice(&self.json);
        if self.wrapped {
            out.push(b'}');
        }
        out.extend_from_slice(&reply[at + MARK.len()..]);
        *reply = out;
        true
    }

    /// Room for a reply of `small` bytes once it carries this text twice, as it is and escaped
    /// (which [`escape_into`] writes into room for twice the text), so writing it never grows
    /// the buffer by copying.
    fn reply_capacity(&self, small: usize) -> usize {
        small + self.json.len() * 3 + 16
    }

    /// The text parsed, wrapped when it is; `None` only for text that is not JSON, which the
    /// check never passes.
    pub fn value(&self) -> Option<Value> {
        let v: Value = serde_json::from_slice(&self.json).ok()?;
        Some(if self.wrapped { wrapped(v) } else { v })
    }
}

/// Writes `text` (UTF-8) as a JSON string, quotes included, byte for byte as serde_json writes
/// it. Why not serde_json: its escaper visits every byte through a table and copies each run
/// between escapes with a call of its own, which was a sixth of a big typed call (JSON has a
/// quote every few bytes). JSON text holds no control character but the whitespace between
/// tokens, so a compact answer has none, and then only quotes and backslashes are escaped:
/// eight bytes at a time, which `cargo bench --bench check` measures against serde_json. A text
/// with control characters is left to serde_json. `false` only if serde_json fails to write.
pub fn escape_into(text: &[u8], out: &mut Vec<u8>) -> bool {
    let base = out.len();
    out.push(b'"');
    if escape_compact(text, out) {
        out.push(b'"');
        return true;
    }
    // Control characters (pretty-printed JSON): serde_json's own escaper, a byte at a time.
    out.truncate(base);
    serde_json::to_writer(out, &*String::from_utf8_lossy(text)).is_ok()
}

/// [`escape_into`]'s inside for a text without control characters; `false`, having written
/// part of it, at the first one.
fn escape_compact(text: &[u8], out: &mut Vec<u8>) -> bool {
    let base = out.len();
    // Two bytes out per byte in at most, and room for one whole word written past the end of
    // the last; what is not written is cut off at the end.
    out.resize(base + 2 * text.len() + 8, 0);
    let dst = &mut out[base..];
    let mut j = 0;
    let mut words = text.chunks_exact(8);
    for w in &mut words {
        let word = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if below(word, 0x20) != 0 {
            return false;
        }
        // Each byte to escape: the bytes before it, then a backslash. Every store writes a
        // whole word and moves on by the bytes it meant, so a quote every few bytes costs a
        // store and a few bit operations instead of a pass over the word byte by byte.
        let mut mask = bytes_equal(word, b'"') | bytes_equal(word, b'\\');
        let mut taken = 0;
        while mask != 0 {
            let at = (mask.trailing_zeros() / 8) as usize;
            dst[j..j + 8].copy_from_slice(&(word >> (8 * taken)).to_le_bytes());
            j += at - taken;
            dst[j] = b'\\';
            j += 1;
            taken = at;
            mask &= mask - 1;
        }
        dst[j..j + 8].copy_from_slice(&(word >> (8 * taken)).to_le_bytes());
        j += 8 - taken;
    }
    for &b in words.remainder() {
        if b < 0x20 {
            return false;
        }
        if b == b'"' || b == b'\\' {
            dst[j] = b'\\';
            j += 1;
        }
        dst[j] = b;
        j += 1;
    }
    out.truncate(base + j);
    true
}

const PLACEHOLDER_KEY: &str = "\u{0}mcp-gateway:structured";

/// How much of an error body the agent sees: enough for a problem+json or validation message,
/// small enough not to flood its context.
pub(super) const ERROR_EXCERPT_BYTES: usize = 2048;

/// What the upstream answered.
#[derive(Debug)]
pub struct UpstreamResponse {
    /// Status code.
    pub status: http::StatusCode,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The (decompressed) body, at most the cap.
    pub body: Bytes,
    /// Whether the body was cut at the cap.
    pub truncated: bool,
    /// The response headers (resource reads use `ETag` and `Last-Modified`).
    pub headers: http::HeaderMap,
}

/// Reads `resp`'s body, keeping at most `max_bytes` (decompression happens before counting, so
/// a compressed bomb is cut at the same cap).
pub(super) async fn read(
    mut resp: reqwest::Response,
    max_bytes: usize,
    host: &str,
) -> Result<UpstreamResponse, UpstreamError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut buf = BytesMut::new();
    let mut truncated = false;
    loop {
        let chunk = resp.chunk().await.map_err(|e| super::classify(&e, host))?;
        let Some(chunk) = chunk else { break };
        if !keep(&mut buf, &chunk, max_bytes) {
            truncated = true;
            break;
        }
    }
    Ok(UpstreamResponse {
        status,
        content_type,
        body: buf.freeze(),
        truncated,
        headers,
    })
}

/// Appends `chunk` to `buf` up to `max_bytes` in all; `false` when the cap cut it (the
/// body is truncated there, and reading stops).
pub(super) fn keep(buf: &mut BytesMut, chunk: &[u8], max_bytes: usize) -> bool {
    let room = max_bytes.saturating_sub(buf.len());
    if chunk.len() > room {
        buf.extend_from_slice(&chunk[..room]);
        return false;
    }
    buf.extend_from_slice(chunk);
    true
}

pub(super) fn media(ct: Option<&str>) -> String {
    ct.unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn is_json(m: &str) -> bool {
    m == "application/json" || m.ends_with("+json") || m == "text/json"
}

pub(super) fn is_text(m: &str) -> bool {
    m.starts_with("text/")
        || m.ends_with("+xml")
        || matches!(
            m,
            "application/xml"
                | "application/javascript"
                | "application/yaml"
                | "application/x-yaml"
                | "application/x-www-form-urlencoded"
                | "application/csv"
        )
}

/// Text of at most `max` bytes, cut at a character boundary.
pub(super) fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= max {
        return text.into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

/// The MCP result for an upstream answer to a call of `tool` (of gateway `g`, whose read tools
/// an error may point to).
pub fn to_result(g: &Gateway, tool: &Tool, resp: UpstreamResponse) -> CallToolResult {
    to_answer(g, tool, resp).into_result()
}

/// [`to_result`], a typed answer's `structuredContent` left as the upstream's text when its
/// schema could be checked while reading it.
pub fn to_answer(g: &Gateway, tool: &Tool, resp: UpstreamResponse) -> Answered {
    let status = resp.status;
    let m = media(resp.content_type.as_deref());
    if !status.is_success() {
        return error_status(g, tool, &resp, &m).into();
    }
    let mut answered = success(tool, resp, m);
    let result = &mut answered.result;
    if result.is_error == Some(true) && !super::advice::agent_may_repeat(tool) {
        // A 2xx whose body cannot be returned: the write happened all the same, and an agent
        // that is not told so repeats it.
        let reason = status.canonical_reason().unwrap_or("");
        result.content.insert(
            0,
            ContentBlock::text(format!(
                "The API accepted the call ({} {reason}), so it took effect; do not call again to retry it. Its answer cannot be returned as it is:",
                status.as_u16()
            )),
        );
    }
    answered
}

/// The result for a 2xx answer.
fn success(tool: &Tool, resp: UpstreamResponse, m: String) -> Answered {
    if (is_json(&m) || (m.is_empty() && tool.output != OutputShape::None))
        && let Some(a) = streamed(tool, &resp)
    {
        return a;
    }
    success_parsed(tool, resp, m)
}

/// A typed answer checked against its output schema while it is read, when the schema allows
/// that and the answer passes: no tree is built, and the text goes out as `structuredContent`
/// as it came (the same data the parsed tree would write). Anything else (an answer that
/// fails the check, a schema outside the check's subset) is left to the full path, which also
/// explains what is wrong.
fn streamed(tool: &Tool, resp: &UpstreamResponse) -> Option<Answered> {
    if resp.truncated || tool.shape.is_some() || resp.body.is_empty() {
        return None;
    }
    let plan = tool.output_validator.as_ref()?.streamed()?;
    let body = &resp.body;
    let wrapped = match tool.output {
        OutputShape::None => return None,
        OutputShape::Wrapped => true,
        OutputShape::Object => false,
    };
    let valid = if wrapped {
        plan.check_wrapped("result", body)
    } else {
        // `structuredContent` of an object tool is the answer itself: it must be an object.
        body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') && plan.check(body)
    };
    if !valid {
        return None;
    }
    Some(
        RawStructured {
            json: body.clone(),
            wrapped,
        }
        .into(),
    )
}

/// The result for a 2xx answer, parsed.
fn success_parsed(tool: &Tool, resp: UpstreamResponse, m: String) -> Answered {
    let status = resp.status;
    if resp.body.is_empty() {
        let reason = status.canonical_reason().unwrap_or("");
        return CallToolResult::success(vec![ContentBlock::text(format!(
            "Done: the upstream answered {} {reason} with no content.",
            status.as_u16()
        ))])
        .into();
    }
    let cut_note = || {
        format!(
            "[response truncated at {} bytes: the upstream sent more than this gateway's limit (upstream.max_response_bytes); narrow the request, e.g. with filters or a smaller page]",
            resp.body.len()
        )
    };
    if tool.shape.as_ref().is_some_and(|s| s.as_text) {
        return with_cut(
            CallToolResult::success(vec![ContentBlock::text(
                String::from_utf8_lossy(&resp.body).into_owned(),
            )]),
            resp.truncated,
            cut_note,
        )
        .into();
    }
    if is_json(&m) || (m.is_empty() && tool.output != OutputShape::None) {
        if resp.truncated {
            // A cut JSON document cannot be parsed, and no structuredContent may break the
            // declared schema: say so instead of returning half a document.
            if tool.output != OutputShape::None {
                return CallToolResult::error(vec![ContentBlock::text(format!(
                    "The upstream's JSON answer is larger than the {} bytes this gateway accepts (upstream.max_response_bytes), so it was not returned. Narrow the request, e.g. with filters or a smaller page.",
                    resp.body.len()
                ))])
                .into();
            }
            return CallToolResult::success(vec![
                ContentBlock::text(String::from_utf8_lossy(&resp.body).into_owned()),
                ContentBlock::text(cut_note()),
            ])
            .into();
        }
        let invalid = |e: serde_json::Error| {
            CallToolResult::error(vec![ContentBlock::text(format!(
                "The upstream answered {} with invalid JSON ({e}). Body excerpt:\n{}",
                status.as_u16(),
                excerpt(&resp.body, ERROR_EXCERPT_BYTES)
            ))])
        };
        // A shaped tool reads the answer straight into its shape: what it drops is never built.
        if let Some(shape) = &tool.shape {
            return match super::shaped::parse_shaped(shape, &resp.body) {
                Ok((body, cut)) => shaped_result(tool, shape, body, cut),
                Err(e) => invalid(e).into(),
            };
        }
        return match serde_json::from_slice(&resp.body) {
            Ok(value) => json_result(tool, value, &resp.body),
            Err(e) => invalid(e),
        }
        .into();
    }
    if m.starts_with("image/") {
        let data = base64::engine::general_purpose::STANDARD.encode(&resp.body);
        return with_cut(
            CallToolResult::success(vec![ContentBlock::image(data, m)]),
            resp.truncated,
            cut_note,
        )
        .into();
    }
    if m.starts_with("audio/") {
        let data = base64::engine::general_purpose::STANDARD.encode(&resp.body);
        return with_cut(
            CallToolResult::success(vec![ContentBlock::audio(data, m)]),
            resp.truncated,
            cut_note,
        )
        .into();
    }
    let textual = is_text(&m) || (m.is_empty() && std::str::from_utf8(&resp.body).is_ok());
    if textual {
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        return with_cut(
            CallToolResult::success(vec![ContentBlock::text(text)]),
            resp.truncated,
            cut_note,
        )
        .into();
    }
    let blob = base64::engine::general_purpose::STANDARD.encode(&resp.body);
    let uri = format!("upstream://{}/response", tool.name);
    let contents = ResourceContents::blob(blob, uri).with_mime_type(m);
    with_cut(
        CallToolResult::success(vec![ContentBlock::resource(contents)]),
        resp.truncated,
        cut_note,
    )
    .into()
}

/// `{"result": value}`, the `structuredContent` of a tool whose answer is not an object. Built
/// by moving `value` in: `json!` would copy the whole answer through `serde_json::to_value`,
/// which a profile of a 500-item list answer showed at a fifth of the call's CPU.
pub(super) fn wrapped(value: Value) -> Value {
    let mut object = serde_json::Map::with_capacity(1);
    object.insert("result".to_string(), value);
    Value::Object(object)
}

fn with_cut(mut r: CallToolResult, truncated: bool, note: impl Fn() -> String) -> CallToolResult {
    if truncated {
        r.content.push(ContentBlock::text(note()));
    }
    r
}

fn json_result(tool: &Tool, value: Value, raw: &Bytes) -> CallToolResult {
    let structured = match tool.output {
        OutputShape::None => {
            return CallToolResult::success(vec![ContentBlock::text(
                String::from_utf8_lossy(raw).into_owned(),
            )]);
        }
        OutputShape::Object => value,
        OutputShape::Wrapped => wrapped(value),
    };
    if let Some(r) = schema_mismatch(tool, &structured, Some(raw)) {
        return r;
    }
    // The text block repeats the data for clients that ignore structuredContent (MCP's
    // back-compat rule). The upstream's own JSON text is used rather than re-serialising the
    // parsed value: it is the same data, and one serialisation less on every call. It parsed,
    // so it is UTF-8: the strict check (several times faster than the lossy one on a big
    // answer) always succeeds.
    let text = String::from_utf8(raw.to_vec())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// The error result for an answer that breaks the declared output schema, if it does. `raw` is
/// the answer's text when there is one; otherwise `structured` is serialised, only then.
pub(super) fn schema_mismatch(
    tool: &Tool,
    structured: &Value,
    raw: Option<&[u8]>,
) -> Option<CallToolResult> {
    let validator = tool.output_validator.as_ref()?;
    // The common case, a valid answer, takes the short-circuiting check: collecting errors
    // walks the whole document building error state even when there is nothing to report.
    if validator.is_valid(structured) {
        return None;
    }
    let problems: Vec<String> = crate::gateway::invalid::problems(validator, structured, 5)
        .into_iter()
        .map(|p| match p.kind {
            crate::gateway::invalid::InvalidKind::Missing => {
                format!("`{}` is missing", p.path)
            }
            _ if p.path.is_empty() => p.message,
            _ => format!("at `{}`: {}", p.path, p.message),
        })
        .collect();
    if problems.is_empty() {
        return None;
    }
    let serialised;
    let raw = match raw {
        Some(r) => r,
        None => {
            serialised = serde_json::to_vec(structured).unwrap_or_default();
            &serialised
        }
    };
    Some(CallToolResult::error(vec![ContentBlock::text(format!(
        "The upstream's answer does not match the output schema its API declares ({}), so it is returned as text only. The tool's maintainer can set `output_schema: false` for this tool.\n{}",
        problems.join("; "),
        excerpt(raw, ERROR_EXCERPT_BYTES * 4)
    ))]))
}

/// A JSON answer through the tool's `response:` shaping. The schema check runs on the shaped
/// data: that is what `structuredContent` carries, and the schema was rebuilt to describe it.
fn shaped_result(tool: &Tool, shape: &Shape, body: Value, cut: Option<(usize, usize)>) -> Answered {
    let mut data = match tool.output {
        OutputShape::Wrapped => wrapped(body),
        _ => body,
    };
    if let (Some((shown, more)), Value::Object(o)) = (cut, &mut data) {
        o.insert(
            super::shape::TRUNCATED.to_string(),
            super::shape::truncation_value(shown, more),
        );
    }
    if tool.output != OutputShape::None
        && let Some(r) = schema_mismatch(tool, &data, None)
    {
        return r.into();
    }
    // The usual text block (the data as JSON) and an object `structuredContent`: serialised
    // once, and written twice (escaped, and as it is) by the reply, as a typed answer is. Built
    // into a result, the data was serialised twice and its text escaped a byte at a time.
    if !shape.text
        && shape.blocks.is_empty()
        && tool.output != OutputShape::None
        && data.is_object()
        && let Ok(json) = serde_json::to_vec(&data)
    {
        return RawStructured {
            json: json.into(),
            wrapped: false,
        }
        .into();
    }
    let mut content = if shape.text || !shape.blocks.is_empty() {
        super::shape::render_blocks(shape, &data)
    } else {
        vec![ContentBlock::text(
            serde_json::to_string(&data).unwrap_or_default(),
        )]
    };
    // A custom text might not mention the cut; the agent must always learn of it.
    if let Some((shown, more)) = cut
        && shape.text
    {
        content.push(ContentBlock::text(super::shape::truncation_note(
            shown, more,
        )));
    }
    let mut result = CallToolResult::success(content);
    if tool.output != OutputShape::None {
        result.structured_content = Some(data);
    }
    result.into()
}

fn error_status(g: &Gateway, tool: &Tool, resp: &UpstreamResponse, m: &str) -> CallToolResult {
    let status = resp.status;
    let reason = status.canonical_reason().unwrap_or("");
    let advice = super::advice::for_status(g, tool, status, &resp.headers);
    let body = if resp.body.is_empty() {
        String::new()
    } else if is_json(m) || is_text(m) || m.is_empty() {
        format!("\n{}", excerpt(&resp.body, ERROR_EXCERPT_BYTES))
    } else {
        format!("\n[{} bytes of {m}]", resp.body.len())
    };
    CallToolResult::error(vec![ContentBlock::text(format!(
        "Upstream answered {} {reason}.{advice}{body}",
        status.as_u16()
    ))])
}

/// The MCP result for a call of `tool` that got no answer: what happened, and whether calling
/// again is safe (see [`super::advice`]).
pub fn error_result(g: &Gateway, tool: &Tool, err: &UpstreamError) -> CallToolResult {
    let advice = match err {
        // The request was sent (or may have been) and no answer came back.
        UpstreamError::Timeout { .. } | UpstreamError::Other { .. } => {
            super::advice::may_have_acted(g, tool)
        }
        // Nothing was sent; the message says what to do.
        _ => String::new(),
    };
    CallToolResult::error(vec![ContentBlock::text(format!("{err}{advice}"))])
}

/// The media type of a successful answer that is a file (an image, audio, a PDF, other bytes:
/// neither JSON nor text, nor read as text by `response: {as: text}`), if it is one. Such an
/// answer never becomes `structuredContent`.
pub fn file_media(tool: &Tool, resp: &UpstreamResponse) -> Option<String> {
    if !resp.status.is_success()
        || resp.body.is_empty()
        || tool.shape.as_ref().is_some_and(|s| s.as_text)
    {
        return None;
    }
    let m = media(resp.content_type.as_deref());
    if is_json(&m) || (m.is_empty() && tool.output != OutputShape::None) {
        return None;
    }
    if m.starts_with("image/") || m.starts_with("audio/") {
        return Some(m);
    }
    let textual = is_text(&m) || (m.is_empty() && std::str::from_utf8(&resp.body).is_ok());
    match (textual, m.is_empty()) {
        (true, _) => None,
        (false, true) => Some("application/octet-stream".to_string()),
        (false, false) => Some(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_writes_what_serde_json_writes() {
        let mut every_byte: Vec<u8> = (0u8..0x80).collect();
        every_byte.extend_from_slice("é€😀".as_bytes());
        let texts: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            br#"[{"id":1,"name":"Rex \"the\" dog","path":"C:\\x"}]"#.to_vec(),
            b"\"\"\\\\".to_vec(),
            // Whole words of nothing but bytes to escape.
            b"\"\"\"\"\"\"\"\"\\\\\\\\\\\\\\\\".to_vec(),
            // Pretty-printed JSON: whitespace that must be escaped.
            b"{\n\t\"a\": [1,\r\n 2]\n}".to_vec(),
            every_byte,
        ];
        // Quotes and backslashes at every offset of the eight-byte words, among text and
        // multi-byte characters.
        let mut seed = 7u64;
        let generated = (0..2000).map(|_| {
            let mut text = Vec::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for k in 0..(seed >> 58) {
                let pick = (seed >> (k % 48)) % 5;
                text.extend_from_slice(["a", "\"", "\\", "é", "xyz"][pick as usize].as_bytes());
            }
            text
        });
        for text in texts.into_iter().chain(generated) {
            let s = std::str::from_utf8(&text).unwrap();
            let mut out = Vec::new();
            assert!(escape_into(&text, &mut out));
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn splicing_gives_the_message_a_parsed_answer_gives() {
        for (json, wrapped) in [
            (&br#"{"a":"x\"y","n":[1,2]}"#[..], false),
            (&b"[\n {\"id\": 1}\n]"[..], true),
        ] {
            let raw = RawStructured {
                json: Bytes::copy_from_slice(json),
                wrapped,
            };
            let message = |text: Value, structured: Value| {
                serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {
                    "content": [{"type": "text", "text": text}],
                    "structuredContent": structured,
                    "isError": false,
                }})
            };
            let mut reply = serde_json::to_vec(&message(
                Value::from(RawStructured::TEXT_PLACEHOLDER),
                RawStructured::placeholder(),
            ))
            .unwrap();
            assert!(raw.splice(&mut reply));
            let want = message(
                Value::from(std::str::from_utf8(json).unwrap()),
                raw.value().unwrap(),
            );
            let got: Value = serde_json::from_slice(&reply).unwrap();
            assert_eq!(got, want);
            // Without its placeholders, a reply is left as it is.
            let mut plain = serde_json::to_vec(&want).unwrap();
            let before = plain.clone();
            assert!(!raw.splice(&mut plain));
            assert_eq!(plain, before);
        }
    }
}
