//! `upstream:` → the compiled [`Upstream`]: base URL, headers, timeouts, credentials, TLS.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The hint of an unset environment variable.
const ENV_HINT: &str = "set the variable, or give a default: `${VAR:-value}`";

/// `upstream:` → the compiled upstream, or `None` with its problems in `out`.
pub(super) fn upstream(
    cx: &auth::Cx<'_>,
    spec: &Spec,
    out: &mut Vec<Diagnostic>,
) -> Option<Upstream> {
    let loaded = cx.loaded;
    let m = &loaded.manifest;
    let u = &m.upstream;
    let mut diags = Vec::new();

    let base_url = base_url(cx, spec, &mut diags);
    let headers = headers(cx, &mut diags);
    let timeout = match u.timeout.as_deref().map(parse_duration) {
        None => DEFAULT_TIMEOUT,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            diags.push(loaded.diag_at(
                Diagnostic::error("invalid-duration", e),
                "/upstream/timeout",
            ));
            DEFAULT_TIMEOUT
        }
    };
    let max_response_bytes = u
        .max_response_bytes
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX))
        .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);

    let auth = credentials(cx, &mut diags);
    let tls = auth::tls_settings(cx, &mut diags);
    let identity_headers = auth::identity_headers(cx, &mut diags);

    let retry = super::retry::upstream_policy(loaded, &mut diags);
    let files = super::files::files(cx, &mut diags);
    let Some(base_url) = base_url else {
        out.append(&mut diags);
        return None;
    };
    let mut upstream = Upstream {
        base_url,
        headers,
        timeout,
        max_response_bytes,
        auth,
        tls,
        identity_headers,
        retry,
        idempotency_key: None,
        files,
    };
    // Checked against the names the upstream already owns (credentials, fixed headers).
    upstream.idempotency_key = super::retry::key_header(
        loaded,
        u.idempotency_key.as_ref(),
        Some(&upstream),
        "/upstream/idempotency_key",
        &mut diags,
    );
    let ok = diags.iter().all(|d| !d.is_error());
    out.append(&mut diags);
    ok.then_some(upstream)
}

/// The upstream's base URL: `upstream.base_url` (with `${VAR}`), else the spec's first server;
/// absolute http(s), without a trailing slash, query or fragment.
fn base_url(cx: &auth::Cx<'_>, spec: &Spec, diags: &mut Vec<Diagnostic>) -> Option<url::Url> {
    let (loaded, lookup) = (cx.loaded, cx.lookup);
    let m = &loaded.manifest;
    let u = &m.upstream;
    let base = match &u.base_url {
        Some(raw) => match interpolate(raw, lookup) {
            Ok(s) => Some((s, "/upstream/base_url")),
            Err(manifest::EnvError::Unset(var)) if cx.opts.secrets == Secrets::Skip => {
                diags.push(servers::serve_only(loaded, &var, "/upstream/base_url"));
                Some((servers::UNSET_URL.to_string(), "/upstream/base_url"))
            }
            Err(e) => {
                diags.push(loaded.diag_at(
                    Diagnostic::error("env", e.to_string()).with_hint(ENV_HINT),
                    "/upstream/base_url",
                ));
                None
            }
        },
        None => match spec.servers.first() {
            Some(s) => Some((s.default_url(), "/openapi")),
            None => {
                diags.push(loaded.diag_at_key(
                    Diagnostic::error("no-base-url", "the spec lists no servers and the manifest sets no `upstream.base_url`")
                        .with_hint("add `upstream: {base_url: https://api.example.com}`"),
                    "/upstream",
                ));
                None
            }
        },
    };
    base.and_then(|(raw, ptr)| {
        // A relative server URL (`/v1`) is relative to where the spec was loaded from.
        let spec_url = location_url(&m.openapi, &loaded.dir).ok();
        let parsed = url::Url::parse(&raw).or_else(|e| match (&spec_url, e) {
            (Some(su), url::ParseError::RelativeUrlWithoutBase) if su.scheme() != "file" => su.join(&raw),
            (_, e) => Err(e),
        });
        match parsed {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                let mut url = url;
                let trimmed = url.path().trim_end_matches('/').to_string();
                url.set_path(&trimmed);
                url.set_query(None);
                url.set_fragment(None);
                Some(url)
            }
            _ => {
                let what = if ptr == "/openapi" {
                    format!("the spec's first server `{raw}` is not an absolute http(s) URL")
                } else {
                    format!("`{raw}` is not an absolute http(s) URL")
                };
                diags.push(loaded.diag_at(
                    Diagnostic::error("invalid-base-url", what).with_hint("set `upstream.base_url: https://host/prefix` (it may use `${VAR:-default}`)"),
                    ptr,
                ));
                None
            }
        }
    })
}

/// `upstream.headers`: valid names and values (with `${VAR}`); a name that looks like a
/// credential is warned about.
fn headers(cx: &auth::Cx<'_>, diags: &mut Vec<Diagnostic>) -> Vec<(String, String)> {
    let (loaded, lookup) = (cx.loaded, cx.lookup);
    let u = &loaded.manifest.upstream;
    let mut headers = Vec::new();
    for (name, raw) in &u.headers {
        let ptr = format!(
            "/upstream/headers/{}",
            crate::manifest::pointer_segment(name)
        );
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            diags.push(loaded.diag_at_key(
                Diagnostic::error(
                    "invalid-header",
                    format!("`{name}` is not a valid header name"),
                ),
                &ptr,
            ));
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if ["authorization", "cookie", "proxy-authorization"].contains(&lower.as_str())
            || lower.contains("api-key")
            || lower.contains("token")
        {
            diags.push(loaded.diag_at_key(
                Diagnostic::warning("secret-in-headers", format!("`{name}` looks like a credential"))
                    .with_hint("put credentials in `upstream.auth` as `{env: VAR}` or `{file: PATH}` so they never appear in the manifest"),
                &ptr,
            ));
        }
        match interpolate(raw, lookup) {
            Ok(v) if http::HeaderValue::from_str(&v).is_ok() => headers.push((name.clone(), v)),
            Ok(_) => diags.push(loaded.diag_at(
                Diagnostic::error("invalid-header", format!("the value of `{name}` contains characters not allowed in a header (such as CR or LF)")),
                &ptr,
            )),
            Err(manifest::EnvError::Unset(var)) if cx.opts.secrets == Secrets::Skip => {
                diags.push(servers::serve_only(loaded, &var, &ptr))
            }
            Err(e) => diags.push(loaded.diag_at(Diagnostic::error("env", e.to_string()).with_hint(ENV_HINT), &ptr)),
        }
    }
    headers
}

/// The gateway's own credentials for the upstream (`upstream.auth`).
fn credentials(cx: &auth::Cx<'_>, diags: &mut Vec<Diagnostic>) -> Option<UpstreamAuth> {
    let (loaded, lookup) = (cx.loaded, cx.lookup);
    let u = &loaded.manifest.upstream;
    let secret = |r: &SecretRef, ptr: &str, diags: &mut Vec<Diagnostic>| {
        cx.secret(r, "upstream credential", ptr, diags)
    };
    match &u.auth {
        None => None,
        Some(UpstreamAuthConfig::ApiKey {
            location,
            name,
            value,
        }) => secret(value, "/upstream/auth/value", diags).map(|value| UpstreamAuth::ApiKey {
            location: match location {
                manifest::ApiKeyIn::Header => ApiKeyLocation::Header,
                manifest::ApiKeyIn::Query => ApiKeyLocation::Query,
                manifest::ApiKeyIn::Cookie => ApiKeyLocation::Cookie,
            },
            name: name.clone(),
            value,
        }),
        Some(UpstreamAuthConfig::Bearer { token }) => {
            secret(token, "/upstream/auth/token", diags).map(UpstreamAuth::Bearer)
        }
        Some(UpstreamAuthConfig::Basic { username, password }) => {
            let user = match interpolate(username, lookup) {
                Ok(u) => Some(u),
                Err(e) => {
                    diags.push(loaded.diag_at(
                        Diagnostic::error("env", e.to_string()).with_hint(ENV_HINT),
                        "/upstream/auth/username",
                    ));
                    None
                }
            };
            let pw = secret(password, "/upstream/auth/password", diags);
            user.zip(pw)
                .map(|(username, password)| UpstreamAuth::Basic { username, password })
        }
        Some(UpstreamAuthConfig::OAuth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scopes,
            audience,
        }) => auth::client_credentials(
            cx,
            token_url,
            client_id,
            client_secret,
            scopes,
            audience.as_deref(),
            diags,
        )
        .map(UpstreamAuth::OAuth2),
    }
}
