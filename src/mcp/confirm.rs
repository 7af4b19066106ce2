//! Asking the user before a tool call: the values of `ask:` parameters, then the confirmation of
//! `confirm:`. Nothing goes upstream until every answer is in; a decline, a cancel or a client
//! that cannot ask its user ends the call with nothing sent.
//!
//! Two mechanisms, one per protocol era:
//! - **2026-07-28** (stateless): the call returns an `InputRequiredResult` with one
//!   `elicitation/create` input request per question and a `requestState`; the client asks its
//!   user and calls again with `inputResponses` and that state. The state carries what the user
//!   already answered, sealed with HMAC-SHA256 (rmcp's `RequestStateCodec`) over the gateway,
//!   the tool and the exact arguments, and expires after [`STATE_TTL`]: a state that was
//!   altered, or is presented with another tool or other arguments, is refused (-32602) and
//!   nothing is sent. The key is per process unless `MCP_GATEWAY_STATE_KEY` is set, which
//!   replicas behind one load balancer need (a retry may reach another replica).
//! - **2025 era**: an `elicitation/create` request to the client on its session (or stdio),
//!   when it declared elicitation. A stateless 2025-era request has no channel for one.

use std::sync::OnceLock;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{
    CallToolResult, ClientCapabilities, ContentBlock, ElicitRequestParams, ElicitationAction,
    ElicitationCapability, ErrorData, InputRequest, InputRequests, InputRequiredResult,
    InputResponses, RequestStateCodec, RequestStateError, SealOptions,
};
use rmcp::service::Peer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::gateway::{Ask, CONFIRM_KEY, Gateway, Interaction, Tool};

/// How long a `requestState` stays valid: long enough for a person to read a question and
/// answer it, short enough that an old confirmation cannot be replayed days later.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// The environment variable holding the `requestState` key shared by replicas.
pub const STATE_KEY_ENV: &str = "MCP_GATEWAY_STATE_KEY";

/// What the call does next.
#[derive(Debug)]
pub(crate) enum Gate {
    /// Call upstream, with what the user supplied (argument → value; `null`: left out).
    Proceed(Map<String, Value>),
    /// Ask the user (2026-07-28): this result goes back to the client.
    Ask(InputRequiredResult),
    /// Stop: nothing is sent, and this result says why.
    Stop(CallToolResult),
}

/// What a `requestState` carries between rounds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// Whether the asks are answered and only the confirmation is left.
    confirming: bool,
    /// The values the user gave so far.
    supplied: Map<String, Value>,
}

/// The process's codec: keyed by SHA-256 of `MCP_GATEWAY_STATE_KEY`, or by random bytes. It
/// seals paging tokens too (`response.page`), so replicas share one key for both.
pub(crate) fn codec() -> &'static RequestStateCodec {
    static CODEC: OnceLock<RequestStateCodec> = OnceLock::new();
    CODEC.get_or_init(|| {
        use sha2::Digest as _;
        let key: Vec<u8> = match std::env::var(STATE_KEY_ENV) {
            Ok(k) if !k.is_empty() => sha2::Sha256::digest(k.as_bytes()).to_vec(),
            _ => {
                let mut key = vec![0u8; 32];
                if getrandom::fill(&mut key).is_err() {
                    // The standard library's hasher keys come from the OS's randomness too.
                    let s = std::hash::RandomState::new();
                    key = (0u8..4)
                        .flat_map(|i| std::hash::BuildHasher::hash_one(&s, i).to_le_bytes())
                        .collect();
                }
                key
            }
        };
        // 32 bytes either way: a SHA-256 digest or 32 random bytes.
        RequestStateCodec::new_unchecked(key)
    })
}

/// The bytes a state is bound to: the gateway, the tool and the arguments (keys sorted, so a
/// client that re-serialises them in another order still matches).
pub(crate) fn binding(g: &Gateway, tool: &Tool, args: &Map<String, Value>) -> Vec<u8> {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = format!("{}\u{0}{}\u{0}", g.name, tool.name);
    canonical(&Value::Object(args.clone()), &mut s);
    s.into_bytes()
}

fn stop(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// Whether `caps` can show a form to the user.
fn elicits(caps: Option<&ClientCapabilities>) -> bool {
    caps.and_then(|c| c.elicitation.as_ref())
        .is_some_and(|e: &ElicitationCapability| e.form.is_some() || e.url.is_none())
}

/// The refusal for a client that cannot ask its user.
fn cannot_ask(tool: &Tool) -> String {
    format!(
        "`{}` asks the user before it runs ({}), and this client cannot ask its user (it did not declare the elicitation capability). Nothing was sent to the API. Use a client that supports elicitation.",
        tool.name,
        what(tool),
    )
}

fn what(tool: &Tool) -> String {
    let Some(i) = &tool.interaction else {
        return String::new();
    };
    let mut parts: Vec<String> = i
        .asks
        .iter()
        .map(|a| format!("the value of `{}`", a.arg))
        .collect();
    if i.confirm.is_some() {
        parts.push("a confirmation".into());
    }
    parts.join(" and ")
}

/// The confirmation message for a call with `args` (the model's and the user's).
fn message(tool: &Tool, i: &Interaction, args: &Map<String, Value>) -> String {
    let rendered = i
        .confirm
        .as_ref()
        .and_then(|c| c.templates.as_ref())
        .and_then(|env| env.get_template("confirm").ok())
        .and_then(|t| {
            let mut cx = args.clone();
            cx.insert("tool".into(), Value::String(tool.name.clone()));
            t.render(minijinja::value::Serde(&cx)).ok()
        });
    rendered.unwrap_or_else(|| {
        let mut m = format!("Allow the call to `{}`", tool.name);
        for (n, (k, v)) in args.iter().enumerate() {
            let mut shown = v.to_string();
            if shown.chars().count() > 200 {
                shown = shown.chars().take(200).collect::<String>() + "…";
            }
            m.push_str(if n == 0 { " with " } else { ", " });
            m.push_str(&format!("{k} = {shown}"));
        }
        m.push('?');
        m
    })
}

fn form(ask: &Ask) -> Value {
    Value::Object(ask.form.clone())
}

fn confirm_form() -> Value {
    json!({"type": "object", "properties": {}})
}

fn elicit_params(message: String, form: Value) -> Option<ElicitRequestParams> {
    serde_json::from_value(json!({"mode": "form", "message": message, "requestedSchema": form}))
        .ok()
}

fn input_request(message: String, form: Value) -> Option<InputRequest> {
    serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": {"mode": "form", "message": message, "requestedSchema": form},
    }))
    .ok()
}

/// A user's answer, as far as the gate reads it.
enum Answer {
    Accept(Option<Value>),
    Refuse(&'static str),
}

fn answer(v: &Value) -> Option<Answer> {
    match v.get("action")?.as_str()? {
        "accept" => Some(Answer::Accept(v.get("content").cloned())),
        "decline" => Some(Answer::Refuse("declined")),
        "cancel" => Some(Answer::Refuse("cancelled")),
        _ => None,
    }
}

/// The value `content` gives for `ask`, if valid: `Some(Null)` for an optional field left empty.
fn value_of(ask: &Ask, content: Option<&Value>, required: bool) -> Result<Value, String> {
    match content.and_then(|c| c.get(&ask.field)) {
        None | Some(Value::Null) if !required => Ok(Value::Null),
        None | Some(Value::Null) => Err(format!("no value for `{}`", ask.field)),
        Some(v) => match ask.validator.iter_errors(v).next() {
            None => Ok(v.clone()),
            Some(e) => Err(format!("`{}`: {e}", ask.field)),
        },
    }
}

fn required(ask: &Ask) -> bool {
    ask.form
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|f| f.as_str() == Some(ask.field.as_str())))
}

fn refused(tool: &Tool, how: &str, what: &str) -> CallToolResult {
    stop(format!(
        "The user {how} {what} `{}`. Nothing was sent to the API; do not call it again unless the user asks for it.",
        tool.name
    ))
}

/// A 2026-07-28 call: the next round of questions, the go-ahead, or the end.
pub(crate) fn stateless(
    g: &Gateway,
    tool: &Tool,
    i: &Interaction,
    args: &Map<String, Value>,
    responses: Option<&InputResponses>,
    state: Option<&str>,
    caps: Option<&ClientCapabilities>,
) -> Result<Gate, ErrorData> {
    if !elicits(caps) {
        let mut e = ErrorData::missing_required_client_capability(
            ClientCapabilities::builder().enable_elicitation().build(),
        );
        e.message = cannot_ask(tool).into();
        return Err(e);
    }
    let bound = binding(g, tool, args);
    let mut st = match state {
        None => State {
            confirming: i.asks.is_empty(),
            supplied: Map::new(),
        },
        Some(sealed) => match codec().open_json_with::<State>(sealed, &bound) {
            Ok(s) => s,
            Err(RequestStateError::Expired) => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "the question of this call to `{}` expired before it was answered; nothing was sent. Call the tool again without `requestState` to ask the user again.",
                        tool.name
                    ),
                    None,
                ));
            }
            Err(_) => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "`requestState` does not belong to this call to `{}`: it was altered, or was issued for another tool or other arguments. Nothing was sent. Call the tool again without `requestState` to ask the user.",
                        tool.name
                    ),
                    None,
                ));
            }
        },
    };
    // A value the user gives stands on its own (it is checked against the parameter's schema),
    // so it counts with or without a state; a confirmation only counts with the state it was
    // asked under, which ties it to these exact arguments.
    let confirmation = responses
        .filter(|_| state.is_some())
        .and_then(|r| r.get(CONFIRM_KEY));
    let mut requests = InputRequests::new();
    if !st.confirming {
        for ask in &i.asks {
            if st.supplied.contains_key(&ask.arg) {
                continue;
            }
            let given = responses.and_then(|r| r.get(&ask.key)).and_then(answer);
            let mut question = ask.message.clone();
            match given {
                Some(Answer::Refuse(how)) => {
                    return Ok(Gate::Stop(refused(
                        tool,
                        how,
                        &format!("to give `{}` for", ask.arg),
                    )));
                }
                Some(Answer::Accept(content)) => {
                    match value_of(ask, content.as_ref(), required(ask)) {
                        Ok(v) => {
                            st.supplied.insert(ask.arg.clone(), v);
                            continue;
                        }
                        // Asked again, saying what was wrong with the answer.
                        Err(e) => {
                            question = format!("{question}\n(The last answer was not valid: {e}.)")
                        }
                    }
                }
                None => {}
            }
            let r = input_request(question, form(ask)).ok_or_else(|| {
                ErrorData::internal_error(
                    format!("cannot build the question for `{}`", ask.arg),
                    None,
                )
            })?;
            requests.insert(ask.key.clone(), r);
        }
        if requests.is_empty() {
            st.confirming = true;
            if i.confirm.is_none() {
                return Ok(Gate::Proceed(st.supplied));
            }
            // The confirmation is asked in a round of its own, so its message can show what
            // the user just gave.
            return ask_confirm(tool, i, args, st, &bound);
        }
        let sealed = seal(&st, &bound)?;
        return Ok(Gate::Ask(InputRequiredResult::new(
            Some(requests),
            Some(sealed),
        )));
    }
    match confirmation.and_then(answer) {
        Some(Answer::Accept(_)) => Ok(Gate::Proceed(st.supplied)),
        Some(Answer::Refuse(how)) => Ok(Gate::Stop(refused(tool, how, "the call to"))),
        None if i.confirm.is_none() => Ok(Gate::Proceed(st.supplied)),
        None => ask_confirm(tool, i, args, st, &bound),
    }
}

fn seal(st: &State, bound: &[u8]) -> Result<String, ErrorData> {
    codec()
        .seal_json_with(
            st,
            &SealOptions::new().associated_data(bound).ttl(STATE_TTL),
        )
        .map_err(|e| ErrorData::internal_error(format!("cannot seal requestState: {e}"), None))
}

fn ask_confirm(
    tool: &Tool,
    i: &Interaction,
    args: &Map<String, Value>,
    st: State,
    bound: &[u8],
) -> Result<Gate, ErrorData> {
    let mut all = args.clone();
    all.extend(
        st.supplied
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let request = input_request(message(tool, i, &all), confirm_form())
        .ok_or_else(|| ErrorData::internal_error("cannot build the confirmation request", None))?;
    let sealed = seal(&st, bound)?;
    let mut requests = InputRequests::new();
    requests.insert(CONFIRM_KEY.to_string(), request);
    Ok(Gate::Ask(InputRequiredResult::new(
        Some(requests),
        Some(sealed),
    )))
}

/// A 2025-era call on a session (or stdio): asks through `elicitation/create` requests.
/// `session` says whether the request came on a stream the answer can come back on.
pub(crate) async fn with_session(
    tool: &Tool,
    i: &Interaction,
    args: &Map<String, Value>,
    peer: &Peer<RoleServer>,
    session: bool,
) -> Gate {
    let caps = peer.peer_info().map(|p| p.capabilities.clone());
    if !session || !elicits(caps.as_ref()) {
        return Gate::Stop(stop(if session {
            cannot_ask(tool)
        } else {
            format!(
                "`{}` asks the user before it runs ({}), and a 2025-era client can only be asked on a session: this request came without one. Nothing was sent to the API. Connect with a 2026-07-28 client, or to a gateway served with `--sessions` from a client that supports elicitation.",
                tool.name,
                what(tool)
            )
        }));
    }
    let mut supplied = Map::new();
    for ask in &i.asks {
        let Some(params) = elicit_params(ask.message.clone(), form(ask)) else {
            return Gate::Stop(stop(format!("cannot ask for `{}`", ask.arg)));
        };
        match peer.create_elicitation(params).await {
            Err(e) => {
                return Gate::Stop(stop(format!(
                    "The user could not be asked for `{}` ({e}). Nothing was sent to the API.",
                    ask.arg
                )));
            }
            Ok(r) => match r.action {
                ElicitationAction::Accept => {
                    match value_of(ask, r.content.as_ref(), required(ask)) {
                        Ok(v) => {
                            supplied.insert(ask.arg.clone(), v);
                        }
                        Err(e) => {
                            return Gate::Stop(stop(format!(
                                "The value the user gave is not valid ({e}). Nothing was sent to the API."
                            )));
                        }
                    }
                }
                ElicitationAction::Decline => {
                    return Gate::Stop(refused(
                        tool,
                        "declined",
                        &format!("to give `{}` for", ask.arg),
                    ));
                }
                _ => {
                    return Gate::Stop(refused(
                        tool,
                        "cancelled",
                        &format!("giving `{}` for", ask.arg),
                    ));
                }
            },
        }
    }
    if i.confirm.is_some() {
        let mut all = args.clone();
        all.extend(
            supplied
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let Some(params) = elicit_params(message(tool, i, &all), confirm_form()) else {
            return Gate::Stop(stop("cannot build the confirmation request".into()));
        };
        match peer.create_elicitation(params).await {
            Err(e) => {
                return Gate::Stop(stop(format!(
                    "The user could not be asked to confirm ({e}). Nothing was sent to the API."
                )));
            }
            Ok(r) => match r.action {
                ElicitationAction::Accept => {}
                ElicitationAction::Decline => {
                    return Gate::Stop(refused(tool, "declined", "the call to"));
                }
                _ => return Gate::Stop(refused(tool, "cancelled", "the call to")),
            },
        }
    }
    Gate::Proceed(supplied)
}
