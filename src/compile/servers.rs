//! Where each tool's calls go: the tool's `base_url:`, else the operation's own `servers` in the
//! spec (an upload host), else the upstream's base URL; and whether the gateway's credentials go
//! with them. Credentials go only where the manifest says: to the upstream's origin, and to a
//! tool's own `base_url:`. An operation server of another origin that only the spec names gets
//! the call without them (and a warning saying how to send them).

use super::Secrets;
use super::auth::Cx;
use crate::diag::Diagnostic;
use crate::gateway::Upstream;
use crate::manifest::{EnvError, LoadedManifest, ToolConfig, interpolate};
use crate::openapi::Operation;

/// A tool's destination, when it is not the upstream's base URL.
#[derive(Debug, Default)]
pub(super) struct Target {
    pub(super) base_url: Option<url::Url>,
    pub(super) credentials: bool,
}

/// The destination of tool `cfg` (at manifest pointer `base`) calling `op`.
pub(super) fn target(
    cx: &Cx<'_>,
    cfg: &ToolConfig,
    op: &Operation,
    upstream: Option<&Upstream>,
    base: &str,
    diags: &mut Vec<Diagnostic>,
) -> Target {
    let loaded = cx.loaded;
    let ptr = format!("{base}/base_url");
    if let Some(raw) = &cfg.base_url {
        let text = match interpolate(raw, cx.lookup) {
            Ok(t) => t,
            // `validate` and `inspect` run where the deployment's variables are not set.
            Err(EnvError::Unset(var)) if cx.opts.secrets == Secrets::Skip => {
                diags.push(serve_only(loaded, &var, &ptr));
                return Target {
                    base_url: None,
                    credentials: true,
                };
            }
            Err(e) => {
                diags.push(
                    loaded.diag_at(
                        Diagnostic::error("env", e.to_string())
                            .with_hint("set the variable, or give a default: `${VAR:-value}`"),
                        &ptr,
                    ),
                );
                return Target::default();
            }
        };
        return match absolute(&text) {
            Some(url) => Target {
                base_url: Some(url),
                credentials: true,
            },
            None => {
                diags.push(
                    loaded.diag_at(
                        Diagnostic::error(
                            "invalid-base-url",
                            format!("`{text}` is not an absolute http(s) URL"),
                        )
                        .with_hint("write e.g. `base_url: https://uploads.example.com/v1`"),
                        &ptr,
                    ),
                );
                Target::default()
            }
        };
    }
    let (Some(server), Some(up)) = (op.servers.first(), upstream) else {
        return Target {
            base_url: None,
            credentials: true,
        };
    };
    let raw = server.default_url();
    let Some(url) = absolute(&raw).or_else(|| {
        up.base_url
            .join(&raw)
            .ok()
            .and_then(|u| absolute(u.as_str()))
    }) else {
        return Target {
            base_url: None,
            credentials: true,
        };
    };
    if loaded.manifest.upstream.base_url.is_some() {
        // The manifest moved the upstream (staging, a proxy): the spec's production host for
        // this operation would be wrong, so the call follows the manifest.
        if url.origin() != up.base_url.origin() {
            diags.push(loaded.diag_at(
                Diagnostic::warning(
                    "operation-server",
                    format!(
                        "{} is served from `{url}` in the spec, but `upstream.base_url` replaces the spec's servers: calls go to the upstream",
                        op.label()
                    ),
                )
                .with_hint("set `base_url:` on this tool to send its calls to another host"),
                &format!("{base}/operation"),
            ));
        }
        return Target {
            base_url: None,
            credentials: true,
        };
    }
    let same_origin = url.origin() == up.base_url.origin();
    if !same_origin && up.auth.is_some() {
        diags.push(loaded.diag_at(
            Diagnostic::warning(
                "operation-server",
                format!(
                    "{} is served from `{url}` (its own `servers` in the spec); the upstream's credentials are not sent there",
                    op.label()
                ),
            )
            .with_hint(format!("set `base_url: {url}` on this tool to send them there")),
            &format!("{base}/operation"),
        ));
    }
    Target {
        base_url: Some(url),
        credentials: same_origin,
    }
}

/// What `validate` and `inspect` use for a base URL whose variable is not set where they run.
pub(super) const UNSET_URL: &str = "http://unset.invalid";

/// `validate` and `inspect` run where the deployment's variables are not set: an unset one that
/// only `serve` reads is reported, not fatal.
pub(super) fn serve_only(loaded: &LoadedManifest, var: &str, ptr: &str) -> Diagnostic {
    loaded.diag_at(
        Diagnostic::warning(
            "env",
            format!("environment variable `{var}` is not set here; `serve` will need it"),
        )
        .with_hint("set it where the gateway runs, or give a default: `${VAR:-value}`"),
        ptr,
    )
}

/// An absolute http(s) URL without trailing slash, query or fragment.
fn absolute(text: &str) -> Option<url::Url> {
    let mut url = url::Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}
