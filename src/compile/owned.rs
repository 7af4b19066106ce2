//! Parameters whose wire name the gateway owns are not offered to the agent.
//!
//! A spec may declare a header parameter called `X-User-Id` while the manifest maps the verified
//! caller's `sub` to that header, or a query parameter called like the gateway's API key. Offered
//! as an argument, such a parameter would let the agent send a value beside (or instead of) the
//! gateway's own, and servers disagree about which of two values they read. So the compiler
//! drops it from the tool, says so with a warning naming both sides, and request building
//! refuses the name again at run time ([`crate::gateway::Upstream::param_owner`]).

use std::borrow::Cow;

use crate::diag::Diagnostic;
use crate::gateway::{Owner, ParamLocation, Upstream};
use crate::manifest::{ToolConfig, pointer_segment};
use crate::openapi::Operation;

use super::tool::{Problem, location_word, problem};

/// `op` and `cfg` without the parameters the gateway owns (those of `upstream`, and the tool's
/// idempotency `key` header), and one warning per dropped one.
pub(super) fn without_owned<'a>(
    op: &'a Operation,
    cfg: &'a ToolConfig,
    upstream: &Upstream,
    key: Option<&http::HeaderName>,
) -> (Cow<'a, Operation>, Cow<'a, ToolConfig>, Vec<Problem>) {
    let owned: Vec<(usize, Owner)> = op
        .params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let is_key = p.location == ParamLocation::Header
                && key.is_some_and(|k| k.as_str().eq_ignore_ascii_case(&p.name));
            upstream
                .param_owner(p.location, &p.name)
                .or(is_key.then_some(Owner::IdempotencyKey))
                .map(|o| (i, o))
        })
        .collect();
    if owned.is_empty() {
        return (Cow::Borrowed(op), Cow::Borrowed(cfg), Vec::new());
    }
    let mut op = op.clone();
    let mut cfg = cfg.clone();
    let mut warnings = Vec::new();
    for (i, owner) in owned.iter().rev() {
        let p = op.params.remove(*i);
        let overridden = cfg.params.shift_remove(&p.name).is_some();
        let what = match owner {
            // OpenAPI itself says these header parameters are ignored; no need to be loud
            // unless the manifest tried to shape one.
            Owner::Protocol if !overridden => continue,
            Owner::Protocol => format!("`{}` is {}", p.name, owner.describe()),
            _ => format!("its name is {}", owner.describe()),
        };
        let pointer = if overridden {
            format!("/params/{}", pointer_segment(&p.name))
        } else {
            "/operation".to_string()
        };
        let mut message = format!(
            "{} parameter `{}` of {} is not offered to the agent: {what}",
            location_word(p.location),
            p.name,
            op.label()
        );
        if overridden {
            message.push_str("; its `params` entry is ignored");
        }
        warnings.push(problem(
            pointer,
            Diagnostic::warning("owned-parameter", message).with_hint(
                "the gateway sends its own value once; if the agent should choose it, remove the name from `upstream` instead",
            ),
        ));
    }
    warnings.reverse();
    (Cow::Owned(op), Cow::Owned(cfg), warnings)
}
