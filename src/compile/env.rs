//! `${VAR}` in `fixed:` values: an account id or a tenant that differs per deployment is fixed
//! from the environment, like `upstream.base_url`. Strings anywhere in the value are expanded
//! (`$$` is a literal `$`); a variable that is not set where `validate` or `inspect` runs is
//! reported as one `serve` will need.

use serde_json::Value;

use super::Secrets;
use super::auth::Cx;
use crate::diag::Diagnostic;
use crate::manifest::{EnvError, ToolConfig, interpolate, pointer_segment};

/// `cfg` with the environment expanded in its `fixed:` values, or `None` when none uses it.
pub(super) fn fixed_values(
    cx: &Cx<'_>,
    cfg: &ToolConfig,
    base: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<ToolConfig> {
    let uses_env = |v: &Value| v.to_string().contains('$');
    if !cfg
        .params
        .values()
        .any(|o| o.fixed.as_ref().is_some_and(uses_env))
    {
        return None;
    }
    let mut out = cfg.clone();
    for (key, ov) in out.params.iter_mut() {
        if let Some(v) = ov.fixed.as_mut() {
            let ptr = format!("{base}/params/{}/fixed", pointer_segment(key));
            expand(cx, v, &ptr, diags);
        }
    }
    Some(out)
}

fn expand(cx: &Cx<'_>, v: &mut Value, ptr: &str, diags: &mut Vec<Diagnostic>) {
    match v {
        Value::String(s) => match interpolate(s, cx.lookup) {
            Ok(t) => *s = t,
            Err(EnvError::Unset(var)) if cx.opts.secrets == Secrets::Skip => {
                diags.push(super::servers::serve_only(cx.loaded, &var, ptr));
            }
            Err(e) => diags.push(cx.loaded.diag_at(
                Diagnostic::error("env", e.to_string())
                    .with_hint("set the variable, give a default (`${VAR:-value}`), or write `$$` for a literal `$`"),
                ptr,
            )),
        },
        Value::Array(a) => a.iter_mut().for_each(|x| expand(cx, x, ptr, diags)),
        Value::Object(o) => o.values_mut().for_each(|x| expand(cx, x, ptr, diags)),
        _ => {}
    }
}
