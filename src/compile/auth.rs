//! Compiling the credentials parts of a manifest: the inbound `auth:` section, per-tool
//! `scopes:`, and the upstream's OAuth client credentials, client certificate and identity
//! headers. Every problem is a located diagnostic; secrets are read only with
//! [`Secrets::Require`].

use std::net::IpAddr;
use std::time::Duration;

use super::{Options, Secrets, parse_duration};
use crate::diag::{Diagnostic, did_you_mean};
use crate::gateway::auth::{
    ApiKey, Auth, DEFAULT_JWKS_REFETCH_INTERVAL, Introspection, KeySource, METADATA_PATH, OAuth,
    valid_scope,
};
use crate::gateway::{ClientCredentials, UpstreamTls};
use crate::manifest::{
    AuthConfig, ListTools, LoadedManifest, OAuthConfig, SecretRef, interpolate, pointer_segment,
};
use crate::secret::Secret;

/// Clock skew tolerated on `exp`/`nbf` by default: enough for unsynchronised clocks, small
/// enough that an expired token is not honoured for long.
pub(super) const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

const ENV_HINT: &str = "set the variable, or give a default: `${VAR:-value}`";

/// What compiling credentials needs from the caller.
pub(super) struct Cx<'a> {
    pub(super) loaded: &'a LoadedManifest,
    pub(super) opts: Options,
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Cx<'_> {
    /// Reads a secret (or, with [`Secrets::Skip`], only checks the reference). `what` names it
    /// in the message: "upstream credential", "introspection secret"…
    pub(super) fn secret(
        &self,
        r: &SecretRef,
        what: &str,
        ptr: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Secret> {
        let require = self.opts.secrets == Secrets::Require;
        let (origin, value) = match r {
            SecretRef::Env(name) => (format!("env:{name}"), require.then(|| (self.lookup)(name))),
            SecretRef::File(p) => {
                let path = self.loaded.dir.join(p);
                (
                    format!("file:{}", path.display()),
                    require.then(|| {
                        std::fs::read_to_string(&path)
                            .ok()
                            .map(|s| s.trim().to_string())
                    }),
                )
            }
        };
        match value {
            None => Some(Secret::new("", origin)),
            Some(Some(v)) if !v.is_empty() => Some(Secret::new(v, origin)),
            Some(_) => {
                let why = match r {
                    SecretRef::Env(n) => format!("environment variable `{n}` is not set"),
                    SecretRef::File(p) => format!("secret file `{p}` cannot be read or is empty"),
                };
                diags.push(self.loaded.diag_at(
                    Diagnostic::error("secret", format!("{what} unavailable: {why}")).with_hint(
                        "provide it where the gateway runs (`validate` does not need it)",
                    ),
                    ptr,
                ));
                None
            }
        }
    }

    /// `${VAR}` interpolation with the diagnostic on failure.
    pub(super) fn text(&self, raw: &str, ptr: &str, diags: &mut Vec<Diagnostic>) -> Option<String> {
        match interpolate(raw, self.lookup) {
            Ok(s) => Some(s),
            Err(e) => {
                diags.push(self.loaded.diag_at(
                    Diagnostic::error("env", e.to_string()).with_hint(ENV_HINT),
                    ptr,
                ));
                None
            }
        }
    }

    /// An absolute `https://` URL, or `http://` to a loopback host (local development and
    /// tests): tokens, keys and secrets must not cross a network in the clear.
    pub(super) fn secure_url(
        &self,
        raw: &str,
        what: &str,
        ptr: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<url::Url> {
        let text = self.text(raw, ptr, diags)?;
        let problem = match url::Url::parse(&text) {
            Err(_) => format!("{what} `{text}` is not an absolute URL"),
            Ok(u) if u.fragment().is_some() => format!("{what} `{text}` must not have a fragment"),
            Ok(u) if u.scheme() == "https" && u.host().is_some() => return Some(u),
            Ok(u) if u.scheme() == "http" && is_loopback(&u) => return Some(u),
            Ok(u) if u.scheme() == "http" => {
                format!("{what} `{text}` uses http:// to a host that is not loopback")
            }
            Ok(_) => format!("{what} `{text}` is not an https:// URL"),
        };
        diags.push(
            self.loaded.diag_at(
                Diagnostic::error("auth-url", problem).with_hint(
                    "use https:// (http:// is accepted only for localhost and 127.0.0.1)",
                ),
                ptr,
            ),
        );
        None
    }

    fn scopes(&self, scopes: &[String], ptr: &str, diags: &mut Vec<Diagnostic>) {
        for (j, s) in scopes.iter().enumerate() {
            if !valid_scope(s) {
                diags.push(self.loaded.diag_at(
                    Diagnostic::error("invalid-scope", format!("`{s}` is not a valid OAuth scope"))
                        .with_hint("a scope is printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)"),
                    &format!("{ptr}/{j}"),
                ));
            }
        }
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The absolute URL of the metadata document for `resource`: the well-known path inserted
/// before the resource's path (RFC 9728 §3.1).
fn metadata_url(resource: &url::Url) -> String {
    let path = resource.path().trim_end_matches('/');
    let authority = &resource[url::Position::BeforeHost..url::Position::AfterPort];
    format!("{}://{authority}{METADATA_PATH}{path}", resource.scheme())
}

/// Compiles `auth:` (when present), and checks every tool's `scopes:` against it. Returns the
/// runtime model and the scopes each tool needs (indexed like `tools:`).
pub(super) fn inbound(
    cx: &Cx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (Option<Auth>, Vec<Vec<String>>) {
    let m = &cx.loaded.manifest;
    let Some(a) = &m.auth else {
        for (i, t) in m.tools.iter().enumerate() {
            if t.scopes.is_some() {
                diags.push(
                    cx.loaded.diag_at_key(
                        Diagnostic::error(
                            "scopes-without-auth",
                            "`scopes:` has no effect without an `auth:` section",
                        )
                        .with_hint("add `auth:` (OAuth or API keys), or remove `scopes:`"),
                        &format!("/tools/{i}/scopes"),
                    ),
                );
            }
        }
        return (None, vec![Vec::new(); m.tools.len()]);
    };
    let before = diags.iter().filter(|d| d.is_error()).count();

    cx.scopes(&a.default_scopes, "/auth/default_scopes", diags);
    if let Some(s) = &a.scopes_supported {
        cx.scopes(s, "/auth/scopes_supported", diags);
    }
    let (needs, all) = tool_scopes(cx, a, diags);

    let resource = a
        .resource
        .as_deref()
        .and_then(|r| cx.secure_url(r, "the resource", "/auth/resource", diags));
    let oauth = a
        .oauth
        .as_ref()
        .and_then(|o| oauth(cx, o, resource.as_ref(), diags));

    let api_keys = api_keys(cx, a, diags);
    if a.oauth.is_none() && a.api_keys.is_empty() {
        diags.push(
            cx.loaded.diag_at_key(
                Diagnostic::error("auth-none", "`auth:` accepts no credentials")
                    .with_hint("add `oauth:` (an authorization server) and/or `api_keys:`"),
                "/auth",
            ),
        );
    }

    if diags.iter().filter(|d| d.is_error()).count() > before {
        return (None, needs);
    }
    let metadata_url = resource
        .as_ref()
        .filter(|_| oauth.is_some())
        .map(metadata_url);
    let auth = Auth {
        resource: resource.filter(|_| oauth.is_some()),
        metadata_url,
        oauth,
        api_keys,
        default_scopes: a.default_scopes.clone(),
        scopes_supported: a.scopes_supported.clone().unwrap_or(all),
        filter_list: a.list_tools != Some(ListTools::All),
    };
    (Some(auth), needs)
}

/// The scopes each tool needs (its own `scopes:`, else `auth.default_scopes`), checked against
/// `auth.scopes_supported`; and every scope named, in the manifest's order.
fn tool_scopes(
    cx: &Cx<'_>,
    a: &AuthConfig,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Vec<String>>, Vec<String>) {
    let m = &cx.loaded.manifest;
    // What each tool needs, and (unless declared) what the metadata advertises: every scope a
    // tool needs, in the order the manifest names them.
    let mut needs = Vec::with_capacity(m.tools.len());
    let mut all: Vec<String> = a.default_scopes.clone();
    for (i, t) in m.tools.iter().enumerate() {
        let ptr = format!("/tools/{i}/scopes");
        let scopes = match &t.scopes {
            Some(s) => {
                cx.scopes(s, &ptr, diags);
                s.clone()
            }
            None => a.default_scopes.clone(),
        };
        if let (Some(supported), Some(own)) = (&a.scopes_supported, &t.scopes) {
            for (j, s) in own.iter().enumerate() {
                if !supported.contains(s) {
                    let mut d = Diagnostic::error(
                        "unknown-scope",
                        format!("scope `{s}` is not in `auth.scopes_supported`"),
                    );
                    d.hint = Some(
                        did_you_mean(s, supported.iter().map(String::as_str)).unwrap_or_else(
                            || "add it to `auth.scopes_supported`, or fix the name".to_string(),
                        ),
                    );
                    diags.push(cx.loaded.diag_at(d, &format!("{ptr}/{j}")));
                }
            }
        }
        for s in &scopes {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        needs.push(scopes);
    }
    (needs, all)
}

/// `auth.oauth`: the issuer, where its keys are, the audience tokens must carry (the
/// resource by default), leeway and introspection.
fn oauth(
    cx: &Cx<'_>,
    o: &OAuthConfig,
    resource: Option<&url::Url>,
    diags: &mut Vec<Diagnostic>,
) -> Option<OAuth> {
    let issuer = cx.text(&o.issuer, "/auth/oauth/issuer", diags)?;
    let iss_url = cx.secure_url(&o.issuer, "the issuer", "/auth/oauth/issuer", diags)?;
    if iss_url.query().is_some() {
        diags.push(cx.loaded.diag_at(
            Diagnostic::error("auth-url", "an issuer has no query string (RFC 8414 §2)"),
            "/auth/oauth/issuer",
        ));
    }
    let source = match &o.jwks_uri {
        Some(u) => {
            KeySource::Uri(cx.secure_url(u, "the JWKS URI", "/auth/oauth/jwks_uri", diags)?)
        }
        None => KeySource::Discover(iss_url),
    };
    let audience = match &o.audience {
        Some(raw) => cx.text(raw, "/auth/oauth/audience", diags)?,
        None => match resource {
            Some(r) => r.as_str().to_string(),
            None => {
                diags.push(cx.loaded.diag_at_key(
                    Diagnostic::error("auth-resource", "`auth.oauth` needs `auth.resource`: the canonical URI of this endpoint, which tokens must be issued for")
                        .with_hint("add `resource: https://your-host/mcp` under `auth:` (it may use `${VAR}`)"),
                    "/auth",
                ));
                return None;
            }
        },
    };
    let leeway = duration(cx, o.leeway.as_deref(), "leeway", DEFAULT_LEEWAY, diags);
    let refetch_interval = duration(
        cx,
        o.jwks_refetch_interval.as_deref(),
        "jwks_refetch_interval",
        DEFAULT_JWKS_REFETCH_INTERVAL,
        diags,
    );
    if refetch_interval.is_zero() {
        diags.push(cx.loaded.diag_at(
            Diagnostic::error(
                "invalid-duration",
                "`jwks_refetch_interval` of 0 would let tokens with made-up key ids make the gateway fetch the issuer's keys on every request",
            )
            .with_hint("use at least `1s`; the default is `10s`"),
            "/auth/oauth/jwks_refetch_interval",
        ));
    }
    let introspection = match &o.introspection {
        None => None,
        Some(i) => {
            let base = "/auth/oauth/introspection";
            let endpoint = cx.secure_url(
                &i.endpoint,
                "the introspection endpoint",
                &format!("{base}/endpoint"),
                diags,
            );
            let client_id = cx.text(&i.client_id, &format!("{base}/client_id"), diags);
            let secret = cx.secret(
                &i.client_secret,
                "introspection client secret",
                &format!("{base}/client_secret"),
                diags,
            );
            Some(Introspection {
                endpoint: endpoint?,
                client_id: client_id?,
                client_secret: secret?,
            })
        }
    };
    if resource.is_none() && o.audience.is_some() {
        diags.push(cx.loaded.diag_at_key(
            Diagnostic::error("auth-resource", "`auth.oauth` needs `auth.resource` for the Protected Resource Metadata clients discover the authorization server with")
                .with_hint("add `resource: https://your-host/mcp` under `auth:`"),
            "/auth",
        ));
    }
    Some(OAuth {
        issuer,
        audience,
        leeway,
        keys: source,
        refetch_interval,
        introspection,
    })
}

/// The duration `auth.oauth.<key>` gives, or `default` (with an error when it does not parse).
fn duration(
    cx: &Cx<'_>,
    raw: Option<&str>,
    key: &str,
    default: Duration,
    diags: &mut Vec<Diagnostic>,
) -> Duration {
    match raw.map(parse_duration) {
        None => default,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            diags.push(cx.loaded.diag_at(
                Diagnostic::error("invalid-duration", e),
                &format!("/auth/oauth/{key}"),
            ));
            default
        }
    }
}

/// `auth.api_keys`: named, distinct, each with the SHA-256 digest of its key.
fn api_keys(cx: &Cx<'_>, a: &AuthConfig, diags: &mut Vec<Diagnostic>) -> Vec<ApiKey> {
    let mut api_keys = Vec::new();
    for (i, k) in a.api_keys.iter().enumerate() {
        let ptr = format!("/auth/api_keys/{i}");
        cx.scopes(&k.scopes, &format!("{ptr}/scopes"), diags);
        if k.name.trim().is_empty() {
            diags.push(cx.loaded.diag_at(
                Diagnostic::error("api-key", "an API key needs a `name`"),
                &format!("{ptr}/name"),
            ));
        } else if a.api_keys[..i].iter().any(|o| o.name == k.name) {
            diags.push(
                cx.loaded.diag_at(
                    Diagnostic::error("api-key", format!("two API keys are named `{}`", k.name))
                        .with_hint("names identify the caller; give each key its own"),
                    &format!("{ptr}/name"),
                ),
            );
        }
        let Some(secret) = cx.secret(&k.sha256, "API key digest", &format!("{ptr}/sha256"), diags)
        else {
            continue;
        };
        let digest = if cx.opts.secrets == Secrets::Require {
            match ApiKey::parse_digest(secret.expose()) {
                Some(d) => d,
                None => {
                    diags.push(cx.loaded.diag_at(
                        Diagnostic::error("api-key", format!("{} does not hold a SHA-256 digest", secret.origin()))
                            .with_hint("store 64 hex digits: `printf %s \"$KEY\" | sha256sum`; never the key itself"),
                        &format!("{ptr}/sha256"),
                    ));
                    continue;
                }
            }
        } else {
            // Not served (validate, inspect): no key can have an all-zero digest in practice.
            [0; 32]
        };
        api_keys.push(ApiKey {
            name: k.name.clone(),
            digest,
            scopes: k.scopes.clone(),
        });
    }
    api_keys
}

/// `upstream.auth: {type: oauth2_client_credentials, …}`.
#[allow(clippy::too_many_arguments)]
pub(super) fn client_credentials(
    cx: &Cx<'_>,
    token_url: &str,
    client_id: &str,
    client_secret: &SecretRef,
    scopes: &[String],
    audience: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ClientCredentials> {
    let base = "/upstream/auth";
    cx.scopes(scopes, &format!("{base}/scopes"), diags);
    let url = cx.secure_url(
        token_url,
        "the token URL",
        &format!("{base}/token_url"),
        diags,
    );
    let id = cx.text(client_id, &format!("{base}/client_id"), diags);
    let secret = cx.secret(
        client_secret,
        "upstream credential",
        &format!("{base}/client_secret"),
        diags,
    );
    let audience = match audience {
        Some(a) => Some(cx.text(a, &format!("{base}/audience"), diags)?),
        None => None,
    };
    Some(ClientCredentials {
        token_url: url?,
        client_id: id?,
        client_secret: secret?,
        scopes: scopes.to_vec(),
        audience,
    })
}

/// `upstream.client_certificate` and `upstream.ca_certificate`, read and parsed (so a bad file
/// is a diagnostic here, in `validate` too); the client presenting them is built by
/// [`crate::runtime`]. `None` (the shared pool) when neither is set, or when secrets are not read.
pub(super) fn tls_settings(cx: &Cx<'_>, diags: &mut Vec<Diagnostic>) -> Option<UpstreamTls> {
    let u = &cx.loaded.manifest.upstream;
    let before = diags.iter().filter(|d| d.is_error()).count();
    let mut tls = UpstreamTls {
        ca_certificates: None,
        identity: None,
    };
    if let Some(rel) = &u.ca_certificate {
        let path = cx.loaded.dir.join(rel);
        let parsed = std::fs::read(&path)
            .map_err(|e| format!("`{rel}` cannot be read: {e}"))
            .and_then(|pem| {
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("`{rel}` is not a PEM certificate bundle: {e}"))?;
                if certs.is_empty() {
                    Err(format!("`{rel}` holds no certificate"))
                } else {
                    Ok(pem)
                }
            });
        match parsed {
            Ok(pem) => tls.ca_certificates = Some(pem),
            Err(e) => {
                diags.push(cx.loaded.diag_at(
                    Diagnostic::error("ca-certificate", e).with_hint(
                        "a path relative to the manifest, to a PEM file of CA certificates",
                    ),
                    "/upstream/ca_certificate",
                ))
            }
        }
    }
    if let Some(c) = &u.client_certificate {
        let base = "/upstream/client_certificate";
        let cert = cx.secret(
            &c.cert,
            "client certificate",
            &format!("{base}/cert"),
            diags,
        );
        let key = cx.secret(
            &c.key,
            "client certificate key",
            &format!("{base}/key"),
            diags,
        );
        if let (Some(cert), Some(key)) = (cert, key)
            && cx.opts.secrets == Secrets::Require
        {
            let pem = format!("{}\n{}\n", cert.expose(), key.expose());
            match reqwest::Identity::from_pem(pem.as_bytes()) {
                Ok(_) => {
                    let origin = format!("{} + {}", cert.origin(), key.origin());
                    tls.identity = Some(Secret::new(pem, origin));
                }
                // The error names what is wrong with the PEM, never its content.
                Err(e) => diags.push(cx.loaded.diag_at_key(
                    Diagnostic::error("client-certificate", format!("the client certificate cannot be used: {}", crate::tls::error_chain(&e)))
                        .with_hint("`cert` is a PEM certificate (chain) and `key` its PEM private key (PKCS#8, RSA or SEC1)"),
                    base,
                )),
            }
        }
    }
    let wanted = u.ca_certificate.is_some() || u.client_certificate.is_some();
    let failed = diags.iter().filter(|d| d.is_error()).count() > before;
    if !wanted || failed || cx.opts.secrets == Secrets::Skip {
        return None;
    }
    Some(tls)
}

/// `upstream.identity_headers`: header names checked, credentials headers refused.
pub(super) fn identity_headers(
    cx: &Cx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(http::HeaderName, String)> {
    let m = &cx.loaded.manifest;
    let mut out = Vec::new();
    if m.upstream.identity_headers.is_empty() {
        return out;
    }
    if m.auth.is_none() {
        diags.push(
            cx.loaded.diag_at_key(
                Diagnostic::error(
                    "identity-without-auth",
                    "`identity_headers` need a verified caller, and the manifest has no `auth:`",
                )
                .with_hint("add `auth:` so callers are verified, or remove `identity_headers`"),
                "/upstream/identity_headers",
            ),
        );
        return out;
    }
    for (name, claim) in &m.upstream.identity_headers {
        let ptr = format!("/upstream/identity_headers/{}", pointer_segment(name));
        let lower = name.to_ascii_lowercase();
        match http::HeaderName::from_bytes(name.as_bytes()) {
            Err(_) => diags.push(cx.loaded.diag_at_key(
                Diagnostic::error("invalid-header", format!("`{name}` is not a valid header name")),
                &ptr,
            )),
            Ok(_) if ["authorization", "proxy-authorization", "cookie", "host", "content-length", "content-type", "transfer-encoding"].contains(&lower.as_str()) => {
                diags.push(cx.loaded.diag_at_key(
                    Diagnostic::error("identity-header", format!("`{name}` cannot carry the caller's identity"))
                        .with_hint("use a header of its own, such as `X-User-Id`; credentials belong in `upstream.auth`"),
                    &ptr,
                ))
            }
            Ok(_) if claim.trim().is_empty() => diags.push(cx.loaded.diag_at(
                Diagnostic::error("identity-header", format!("`{name}` names no claim")).with_hint("name a claim of the access token, such as `sub` or `email`"),
                &ptr,
            )),
            Ok(h) => out.push((h, claim.clone())),
        }
    }
    out
}
