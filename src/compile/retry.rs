//! `retry:` and `idempotency_key:` (on the upstream and per tool) → the [`RetryPolicy`] of each
//! tool and the header that carries its idempotency key.

use std::time::Duration;

use http::HeaderName;

use crate::diag::Diagnostic;
use crate::gateway::{RetryPolicy, Upstream, idempotent_method};
use crate::manifest::{IdempotencyKeyConfig, LoadedManifest, RetryConfig};

/// Most attempts a manifest may ask for: beyond this, retrying turns into load on an API that
/// is already failing (the manifest schema says the same).
const MAX_ATTEMPTS: u32 = 10;

/// The upstream's policy: `upstream.retry` over the defaults, with the deprecated
/// `upstream.retries` read when `retry` sets no `attempts`.
pub(super) fn upstream_policy(loaded: &LoadedManifest, diags: &mut Vec<Diagnostic>) -> RetryPolicy {
    let u = &loaded.manifest.upstream;
    let mut base = RetryPolicy::default();
    if let Some(n) = u.retries {
        let given = u.retry.as_ref().and_then(|r| r.attempts);
        let (message, hint) = match given {
            Some(a) => (
                format!(
                    "`upstream.retries` is deprecated and ignored here: `upstream.retry.attempts` ({a}) is set"
                ),
                "remove `retries`".to_string(),
            ),
            None => {
                base.attempts = n.saturating_add(1).min(MAX_ATTEMPTS);
                (
                    "`upstream.retries` is deprecated".to_string(),
                    format!(
                        "write `retry: {{attempts: {}}}` (the first call included)",
                        base.attempts
                    ),
                )
            }
        };
        diags.push(loaded.diag_at_key(
            Diagnostic::warning("deprecated", message).with_hint(hint),
            "/upstream/retries",
        ));
    }
    policy(loaded, u.retry.as_ref(), base, "/upstream/retry", diags)
}

/// `cfg` over `base`, each field given replacing `base`'s; `ptr` locates `cfg`.
pub(super) fn policy(
    loaded: &LoadedManifest,
    cfg: Option<&RetryConfig>,
    base: RetryPolicy,
    ptr: &str,
    diags: &mut Vec<Diagnostic>,
) -> RetryPolicy {
    let Some(cfg) = cfg else { return base };
    let mut duration = |text: Option<&str>, default: Duration, field: &str| {
        let Some(text) = text else { return default };
        match humantime::parse_duration(text.trim()) {
            Ok(d) => d,
            Err(e) => {
                diags.push(
                    loaded.diag_at(
                        Diagnostic::error(
                            "invalid-duration",
                            format!("`{text}` is not a duration ({e})"),
                        )
                        .with_hint("write e.g. `200ms` or `2s`"),
                        &format!("{ptr}/{field}"),
                    ),
                );
                default
            }
        }
    };
    let p = RetryPolicy {
        attempts: cfg.attempts.unwrap_or(base.attempts).clamp(1, MAX_ATTEMPTS),
        base_delay: duration(cfg.base_delay.as_deref(), base.base_delay, "base_delay"),
        max_delay: duration(cfg.max_delay.as_deref(), base.max_delay, "max_delay"),
        max_retry_after: duration(
            cfg.max_retry_after.as_deref(),
            base.max_retry_after,
            "max_retry_after",
        ),
    };
    if p.base_delay > p.max_delay {
        let field = if cfg.max_delay.is_some() || cfg.base_delay.is_none() {
            "max_delay"
        } else {
            "base_delay"
        };
        diags.push(loaded.diag_at(
            Diagnostic::error(
                "invalid-retry",
                format!(
                    "`base_delay` ({}) is longer than `max_delay` ({}), so every pause would be cut to `max_delay`",
                    humantime::format_duration(p.base_delay),
                    humantime::format_duration(p.max_delay)
                ),
            )
            .with_hint("make `max_delay` at least `base_delay`"),
            &format!("{ptr}/{field}"),
        ));
    }
    p
}

/// The header of an `idempotency_key:` at `ptr`, if it is a header name the gateway does not
/// already own for something else.
pub(super) fn key_header(
    loaded: &LoadedManifest,
    cfg: Option<&IdempotencyKeyConfig>,
    upstream: Option<&Upstream>,
    ptr: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<HeaderName> {
    let name = &cfg?.header;
    let at = format!("{ptr}/header");
    let Ok(header) = HeaderName::from_bytes(name.trim().as_bytes()) else {
        diags.push(
            loaded.diag_at(
                Diagnostic::error(
                    "invalid-header",
                    format!("`{name}` is not a valid header name"),
                )
                .with_hint("name the header the API reads its key from, e.g. `Idempotency-Key`"),
                &at,
            ),
        );
        return None;
    };
    match upstream.and_then(|u| u.header_owner(header.as_str())) {
        // The upstream's own key, named again on a tool: the same header, the same job.
        Some(crate::gateway::Owner::IdempotencyKey) | None => Some(header),
        Some(owner) => {
            diags.push(
                loaded.diag_at(
                    Diagnostic::error(
                        "invalid-header",
                        format!(
                            "the idempotency key cannot go in `{name}`: it is {}",
                            owner.describe()
                        ),
                    )
                    .with_hint(
                        "name the header the API reads its key from, e.g. `Idempotency-Key`",
                    ),
                    &at,
                ),
            );
            None
        }
    }
}

/// The key header of the tool at `base`: its own `idempotency_key`, else the upstream's for a
/// method that is not idempotent. Checked even when the upstream did not compile, so every
/// problem is reported at once.
pub(super) fn tool_key(
    loaded: &LoadedManifest,
    own: Option<&IdempotencyKeyConfig>,
    method: &http::Method,
    upstream: Option<&Upstream>,
    base: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<HeaderName> {
    match own {
        Some(_) => key_header(
            loaded,
            own,
            upstream,
            &format!("{base}/idempotency_key"),
            diags,
        ),
        None if !idempotent_method(method) => upstream.and_then(|u| u.idempotency_key.clone()),
        None => None,
    }
}

/// A warning for a tool whose own `retry:` asks for retries that can only happen before the
/// request is sent, because nothing says the call may be repeated.
pub(super) fn unsafe_retry(
    loaded: &LoadedManifest,
    tool: &crate::gateway::Tool,
    cfg: Option<&RetryConfig>,
    base: &str,
) -> Option<Diagnostic> {
    let attempts = cfg?.attempts.filter(|&a| a > 1)?;
    if tool.retry_safe() {
        return None;
    }
    Some(loaded.diag_at(
        Diagnostic::warning(
            "retry-unsafe",
            format!(
                "`{}` ({} is not idempotent) is never sent again once the request may have reached the API, so `attempts: {attempts}` only covers a connection that could not be made",
                tool.name, tool.plan.method
            ),
        )
        .with_hint("if the API deduplicates by key, add `idempotency_key: {header: Idempotency-Key}`; if repeating the call is harmless, add `annotations: {idempotent: true}`"),
        &format!("{base}/retry/attempts"),
    ))
}
