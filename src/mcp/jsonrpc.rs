//! The JSON-RPC envelope of a `POST /mcp` body: the one place that decides whether a body is a
//! JSON-RPC message at all, for the fast path and for rmcp alike.
//!
//! Why here and not in rmcp: rmcp 3.11 answers a body it cannot parse (malformed JSON, invalid
//! UTF-8, a batch, an `id` that is an object or null, `jsonrpc` other than `"2.0"`, `params` of
//! the wrong shape) with HTTP 415 and serde's text, which no JSON-RPC client can act on. The
//! gateway reads every body first and answers those with HTTP 400 and a JSON-RPC error
//! (JSON-RPC 2.0 §5.1): `-32700` when the bytes are not JSON, `-32600` when the JSON is not a
//! request, `-32602` when the params cannot be those of the method. A body that passes here
//! and parses as rmcp's own message type is handed on unchanged.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcError, JsonRpcRequest, RequestId,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A body that is a JSON-RPC message as far as the envelope goes.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    /// The request id; `None` for a notification (or a response, which has no method).
    pub(crate) id: Option<RequestId>,
    /// The method; `None` for a response or error sent by the client.
    pub(crate) method: Option<Cow<'a, str>>,
    /// The params, still unparsed (an object, or absent).
    pub(crate) params: Option<&'a RawValue>,
}

/// Why a body is not a JSON-RPC message: the error to answer with.
#[derive(Debug)]
pub(crate) struct Rejection {
    id: Option<RequestId>,
    /// Boxed: the error path is rare, and a small `Err` keeps the `Result` cheap to return.
    error: Box<ErrorData>,
}

impl Rejection {
    fn parse(detail: impl std::fmt::Display) -> Self {
        Self {
            id: None,
            error: Box::new(ErrorData::parse_error(
                format!(
                    "Parse error: the body is not valid JSON ({detail}); send one JSON-RPC request object as UTF-8 JSON"
                ),
                None,
            )),
        }
    }

    fn request(id: Option<RequestId>, why: &str) -> Self {
        Self {
            id,
            error: Box::new(ErrorData::invalid_request(
                format!("Invalid Request: {why}"),
                None,
            )),
        }
    }

    fn params(id: Option<RequestId>, why: String) -> Self {
        Self {
            id,
            error: Box::new(ErrorData::invalid_params(
                format!("Invalid params: {why}"),
                None,
            )),
        }
    }

    /// The JSON-RPC error code (for tests and logs).
    #[cfg(test)]
    pub(crate) fn code(&self) -> i32 {
        self.error.code.0
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body =
            serde_json::to_vec(&JsonRpcError::new(self.id, *self.error)).unwrap_or_else(|_| {
                br#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"}}"#.to_vec()
            });
        (
            http::StatusCode::BAD_REQUEST,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// `Some(value)` whenever the key is present, `null` included, so a null `id` is told apart
/// from an absent one (a notification).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Reads `body` as one JSON-RPC message, or says which JSON-RPC error it earns.
pub(crate) fn envelope(body: &[u8]) -> Result<Envelope<'_>, Rejection> {
    let raw: Raw<'_> = match serde_json::from_slice(body) {
        Ok(raw) => raw,
        Err(e) if e.is_data() => {
            let first = body.iter().find(|b| !b.is_ascii_whitespace());
            return Err(match first {
                Some(b'[') => Rejection::request(
                    None,
                    "JSON-RPC batches are not supported; send one request object per POST",
                ),
                Some(b'{') => Rejection::request(None, &format!("{e}")),
                _ => Rejection::request(None, "the body must be a JSON-RPC request object"),
            });
        }
        Err(e) => return Err(Rejection::parse(e)),
    };
    let id = match raw.id {
        None => None,
        Some(v) => match RequestId::deserialize(v) {
            Ok(id) => Some(id),
            Err(_) => {
                return Err(Rejection::request(
                    None,
                    "`id` must be a string or an integer (not null, an object, an array or a fraction)",
                ));
            }
        },
    };
    if raw.jsonrpc.as_deref() != Some("2.0") {
        return Err(Rejection::request(id, "`jsonrpc` must be \"2.0\""));
    }
    match (&raw.method, raw.result.is_some() || raw.error.is_some()) {
        (None, false) => {
            return Err(Rejection::request(
                id,
                "a request needs a `method` (a string)",
            ));
        }
        (Some(_), true) => {
            return Err(Rejection::request(
                id,
                "a message has either a `method` or a `result`/`error`, not both",
            ));
        }
        _ => {}
    }
    if let (Some(method), Some(params)) = (&raw.method, raw.params) {
        let kind = params.get().trim_start().as_bytes().first().copied();
        if kind != Some(b'{') && kind != Some(b'n') {
            let what = if kind == Some(b'[') {
                "an array (by-position params)"
            } else {
                "not an object"
            };
            return Err(Rejection::params(
                id,
                format!(
                    "`params` of `{method}` is {what}; MCP params are an object of named fields"
                ),
            ));
        }
    }
    Ok(Envelope {
        id,
        method: raw.method,
        params: raw.params,
    })
}

/// Checks that a body that passed [`envelope`] is also a message rmcp can read, so rmcp never
/// answers 415 for a well-formed envelope whose params do not fit the method, nor "method not
/// found" for a method it serves ([`unfit`]).
pub(crate) fn check_typed(body: &[u8], env: &Envelope<'_>) -> Result<(), Rejection> {
    let unfitting = |m: &str, e: serde_json::Error| {
        Rejection::params(env.id.clone(), format!("the params do not fit `{m}`: {e}"))
    };
    match serde_json::from_slice::<ClientJsonRpcMessage>(body) {
        Ok(ClientJsonRpcMessage::Request(JsonRpcRequest {
            request: ClientRequest::CustomRequest(custom),
            ..
        })) => match unfit(body, &custom.method) {
            Some(e) => Err(unfitting(&custom.method, e)),
            None => Ok(()),
        },
        Ok(_) => Ok(()),
        Err(e) => Err(match &env.method {
            Some(m) => unfitting(m, e),
            None => Rejection::request(env.id.clone(), &format!("{e}")),
        }),
    }
}

/// Why `body`, a request for `method`, does not parse as that method's own request type, when
/// `method` is one rmcp knows; `None` for any other method (or if it parses after all).
///
/// Why: rmcp's request enum is untagged with a catch-all last, so a request for a method it
/// knows whose params do not fit (`tools/call` without `name`, `subscriptions/listen` without
/// `notifications`) is read as a custom request, and its handler answers `-32601` with the bare
/// method name: "method not found" for a method it serves (HTTP 404 in the 2026-07-28 era),
/// which sends a client looking for the wrong mistake. JSON-RPC's answer is `-32602`, and the
/// type's own parse error says which field is wrong.
// Three of the types are deprecated in rmcp (logging, resources/subscribe and unsubscribe),
// which the gateway still serves to 2025-era clients.
#[allow(deprecated)]
fn unfit(body: &[u8], method: &str) -> Option<serde_json::Error> {
    use rmcp::model::*;
    macro_rules! parse_as_own_type {
        ($($name:ty => $request:ty),* $(,)?) => {
            $(if method == <$name as ConstString>::VALUE {
                return serde_json::from_slice::<JsonRpcRequest<$request>>(body).err();
            })*
        };
    }
    // The methods of rmcp's `ClientRequest`, each with its request type.
    parse_as_own_type!(
        PingRequestMethod => PingRequest,
        InitializeResultMethod => InitializeRequest,
        DiscoverRequestMethod => DiscoverRequest,
        CompleteRequestMethod => CompleteRequest,
        SetLevelRequestMethod => SetLevelRequest,
        GetPromptRequestMethod => GetPromptRequest,
        ListPromptsRequestMethod => ListPromptsRequest,
        ListResourcesRequestMethod => ListResourcesRequest,
        ListResourceTemplatesRequestMethod => ListResourceTemplatesRequest,
        ReadResourceRequestMethod => ReadResourceRequest,
        SubscriptionsListenRequestMethod => SubscriptionsListenRequest,
        SubscribeRequestMethod => SubscribeRequest,
        UnsubscribeRequestMethod => UnsubscribeRequest,
        CallToolRequestMethod => CallToolRequest,
        ListToolsRequestMethod => ListToolsRequest,
        GetTaskMethod => GetTaskRequest,
        UpdateTaskMethod => UpdateTaskRequest,
        CancelTaskMethod => CancelTaskRequest,
        ListSkillsRequestMethod => ListSkillsRequest,
        GetSkillRequestMethod => GetSkillRequest,
        ReadResourceDirectoryRequestMethod => ReadResourceDirectoryRequest,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &[u8]) -> i32 {
        envelope(body).map(|_| 0).unwrap_or_else(|r| r.code())
    }

    /// What [`check_typed`] makes of a body that passed [`envelope`]: `Ok`, or its error.
    fn typed(body: &str) -> Result<(), String> {
        let env = envelope(body.as_bytes()).expect("a JSON-RPC envelope");
        check_typed(body.as_bytes(), &env).map_err(|r| {
            assert_eq!(r.code(), -32602, "{body}");
            r.error.message.to_string()
        })
    }

    #[test]
    fn a_method_rmcp_serves_with_params_that_do_not_fit_gets_invalid_params() {
        for (body, names) in [
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#,
                "`tools/call`: missing field `name`",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":[1]}}"#,
                "`tools/call`: invalid type",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":5}}"#,
                "`resources/read`: invalid type: integer `5`",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"arguments":{}}}"#,
                "`prompts/get`: missing field `name`",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"_meta":{}}}"#,
                "`subscriptions/listen`: missing field `notifications`",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
                "`initialize`: missing field",
            ),
        ] {
            let message = typed(body).expect_err(body);
            assert!(
                message.starts_with("Invalid params: the params do not fit ")
                    && message.contains(names),
                "{body}: {message}"
            );
        }
    }

    #[test]
    fn well_formed_requests_and_unknown_methods_go_on_to_rmcp() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":1}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true}}}"#,
            // Not a method rmcp knows: its handler's "method not found" is the right answer.
            r#"{"jsonrpc":"2.0","id":1,"method":"no/such","params":{"name":5}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        ] {
            assert_eq!(typed(body), Ok(()), "{body}");
        }
    }

    #[test]
    fn each_malformed_body_gets_its_json_rpc_code() {
        assert_eq!(code(b"{\"jsonrpc\":\"2.0\",\"id\":1"), -32700, "truncated");
        assert_eq!(code(b"\xff\xfe"), -32700, "not UTF-8");
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}"),
            -32700
        );
        assert_eq!(
            code(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"),
            -32600
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}"),
            -32600
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}"),
            -32600
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}"),
            -32600
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"),
            -32600
        );
        assert_eq!(code(b"{\"id\":1,\"method\":\"ping\"}"), -32600);
        assert_eq!(
            code(b"{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}"),
            -32600
        );
        assert_eq!(code(b"{\"jsonrpc\":\"2.0\",\"id\":1}"), -32600);
        assert_eq!(code(b"42"), -32600);
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":[1]}"),
            -32602
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":\"x\"}"),
            -32602
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"),
            0
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\",\"params\":{}}"),
            0
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
            0
        );
        assert_eq!(code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"), 0);
    }
}
