//! The running parts of a served gateway, built from its compiled [`Gateway`] (plain data) on
//! start and on every swap: the upstream's own HTTP client (for a client certificate or a private
//! CA), the client-credentials token cache, and the inbound JWKS and verified-token caches.
//!
//! Each piece remembers the settings it was built from and is **handed on to the next snapshot
//! when those settings are equal** (vector's config diff in miniature), so a reload that edits a
//! description keeps the upstream token, the issuer's keys, the verified tokens and the mTLS
//! connections; a reload that changes what a piece depends on builds that piece afresh.
//!
//! A request loads one [`Served`] (the gateway and its running parts together) once, so it never
//! pairs one version's settings with another version's caches.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Caches, Jwks, KeySource, OAuth, Verified};
use crate::gateway::{ClientCredentials, Gateway, UpstreamAuth, UpstreamTls};
use crate::upstream::TokenCache;

/// One served snapshot: the compiled gateway and the running parts built for it.
#[derive(Debug)]
pub struct Served {
    /// What is served (settings and compiled artifacts).
    pub gateway: Gateway,
    /// The connection pool and caches for it.
    pub running: Running,
}

impl Deref for Served {
    type Target = Gateway;

    fn deref(&self) -> &Gateway {
        &self.gateway
    }
}

/// Why the running parts could not be built. Only the upstream's TLS client can fail, and its
/// inputs were already parsed by `compile`, so this is rare (a certificate and key that do not
/// belong together, for instance).
#[derive(Debug, thiserror::Error)]
#[error("the upstream TLS settings cannot be used: {0}")]
pub struct RuntimeError(String);

/// A running piece and the settings it was built from.
struct Piece<K, V> {
    settings: K,
    value: Arc<V>,
}

impl<K, V> Piece<K, V> {
    /// The previous piece when its settings equal `settings`, else a new one from `build`.
    fn reuse_or<E>(
        previous: Option<&Self>,
        settings: K,
        build: impl FnOnce(&K) -> Result<V, E>,
    ) -> Result<Self, E>
    where
        K: PartialEq,
    {
        if let Some(p) = previous.filter(|p| p.settings == settings) {
            return Ok(Self {
                settings,
                value: p.value.clone(),
            });
        }
        let value = Arc::new(build(&settings)?);
        Ok(Self { settings, value })
    }
}

/// What the JWKS cache depends on: where the keys are, the issuer discovery must name, and how
/// often an unknown `kid` may refetch them.
type JwksSettings = (KeySource, String, Duration);
/// What a verified JWT was checked against: issuer, audience, leeway and where the keys are.
/// Introspection is not part of it (opaque tokens are never cached).
type VerifiedSettings = (String, String, Duration, KeySource);

/// The running parts of one snapshot.
#[derive(Default)]
pub struct Running {
    client: Option<Piece<UpstreamTls, reqwest::Client>>,
    token: Option<Piece<ClientCredentials, TokenCache>>,
    jwks: Option<Piece<JwksSettings, Jwks>>,
    verified: Option<Piece<VerifiedSettings, Verified>>,
    /// The inbound caches, as `auth` reads them (the same `Arc`s as `jwks` and `verified`).
    pub auth: Option<Caches>,
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("own_client", &self.client.is_some())
            .field("token_cache", &self.token.is_some())
            .field("auth_caches", &self.auth.is_some())
            .finish()
    }
}

impl Running {
    /// The running parts for `gateway`, reusing each piece of `previous` whose settings are
    /// unchanged.
    pub fn build(gateway: &Gateway, previous: Option<&Running>) -> Result<Self, RuntimeError> {
        let client = match &gateway.upstream.tls {
            None => None,
            Some(tls) => Some(Piece::reuse_or(
                previous.and_then(|p| p.client.as_ref()),
                tls.clone(),
                tls_client,
            )?),
        };
        let token = match &gateway.upstream.auth {
            Some(UpstreamAuth::OAuth2(cc)) => Some(infallible(Piece::reuse_or(
                previous.and_then(|p| p.token.as_ref()),
                cc.clone(),
                |_| Ok(TokenCache::default()),
            ))),
            _ => None,
        };
        let oauth: Option<&OAuth> = gateway.auth.as_ref().and_then(|a| a.oauth.as_ref());
        let (jwks, verified) = match oauth {
            None => (None, None),
            Some(o) => (
                Some(infallible(Piece::reuse_or(
                    previous.and_then(|p| p.jwks.as_ref()),
                    (o.keys.clone(), o.issuer.clone(), o.refetch_interval),
                    |(source, _, interval)| Ok(Jwks::new(source.clone(), *interval)),
                ))),
                Some(infallible(Piece::reuse_or(
                    previous.and_then(|p| p.verified.as_ref()),
                    (
                        o.issuer.clone(),
                        o.audience.clone(),
                        o.leeway,
                        o.keys.clone(),
                    ),
                    |_| Ok(Verified::default()),
                ))),
            ),
        };
        let auth = jwks.as_ref().zip(verified.as_ref()).map(|(j, v)| Caches {
            jwks: j.value.clone(),
            verified: v.value.clone(),
        });
        Ok(Self {
            client,
            token,
            jwks,
            verified,
            auth,
        })
    }

    /// The upstream's own HTTP client; `None`: the shared pool.
    pub fn client(&self) -> Option<&reqwest::Client> {
        self.client.as_ref().map(|p| &*p.value)
    }

    /// The client-credentials token cache, when the upstream uses that grant.
    pub fn token(&self) -> Option<&TokenCache> {
        self.token.as_ref().map(|p| &*p.value)
    }

    /// Whether `self` shares each of its pieces with `other` (the same pool and caches, not
    /// equal copies): what a reload that changes nothing they depend on must keep.
    pub fn shares_all_with(&self, other: &Running) -> bool {
        fn same<K, V>(a: &Option<Piece<K, V>>, b: &Option<Piece<K, V>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(&a.value, &b.value),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.client, &other.client)
            && same(&self.token, &other.token)
            && same(&self.jwks, &other.jwks)
            && same(&self.verified, &other.verified)
    }
}

impl Served {
    /// `gateway` with running parts of its own, reusing what `previous` has for unchanged
    /// settings (`None` on start: everything is new).
    pub fn new(gateway: Gateway, previous: Option<&Served>) -> Result<Self, RuntimeError> {
        let running = Running::build(&gateway, previous.map(|p| &p.running))?;
        Ok(Self { gateway, running })
    }
}

fn infallible<T>(r: Result<T, std::convert::Infallible>) -> T {
    match r {
        Ok(t) => t,
        Err(never) => match never {},
    }
}

/// A client presenting the configured certificate and/or trusting only the configured CAs.
fn tls_client(tls: &UpstreamTls) -> Result<reqwest::Client, RuntimeError> {
    let err = |e: reqwest::Error| RuntimeError(crate::tls::error_chain(&e));
    let mut builder = crate::upstream::client_builder();
    if let Some(pem) = &tls.ca_certificates {
        builder = builder.tls_certs_only(reqwest::Certificate::from_pem_bundle(pem).map_err(err)?);
    }
    if let Some(identity) = &tls.identity {
        builder = builder
            .identity(reqwest::Identity::from_pem(identity.expose().as_bytes()).map_err(err)?);
    }
    builder.build().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "name: rt
openapi: SPEC
upstream:
  base_url: http://127.0.0.1:9
  auth:
    type: oauth2_client_credentials
    token_url: https://as.example.com/token
    client_id: gateway
    client_secret: {file: secret.txt}
    audience: UPSTREAM_AUDIENCE
auth:
  resource: https://mcp.example.com/mcp
  oauth:
    issuer: https://as.example.com
    audience: INBOUND_AUDIENCE
tools:
  - operation: getPetById
    name: get_pet
    description: DESCRIPTION
";

    /// The petstore gateway compiled as `serve` compiles it from `dir`, with the three settings
    /// given.
    fn compiled(
        dir: &tempfile::TempDir,
        description: &str,
        upstream_audience: &str,
        inbound_audience: &str,
    ) -> Gateway {
        let spec =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gateways/petstore/openapi.yaml");
        let text = MANIFEST
            .replace("SPEC", &spec.display().to_string())
            .replace("DESCRIPTION", description)
            .replace("UPSTREAM_AUDIENCE", upstream_audience)
            .replace("INBOUND_AUDIENCE", inbound_audience);
        let manifest = dir.path().join("gateway.yaml");
        let written = std::fs::write(&manifest, text)
            .and_then(|()| std::fs::write(dir.path().join("secret.txt"), "s3cret"));
        written.unwrap_or_else(|e| panic!("{e}"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        match rt
            .block_on(crate::compile::compile_to_serve(&manifest))
            .result
        {
            Ok(c) => c.gateway,
            Err(d) => panic!("{d:?}"),
        }
    }

    #[test]
    fn each_piece_is_kept_exactly_when_its_settings_are_unchanged() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let compiled = |d, u, i| compiled(&dir, d, u, i);
        let first = Served::new(compiled("one", "up", "https://mcp.example.com/mcp"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = &first.running;
        assert!(r.token().is_some() && r.auth.is_some() && r.client().is_none());

        let described = Served::new(
            compiled("two", "up", "https://mcp.example.com/mcp"),
            Some(&first),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            described.running.shares_all_with(r),
            "a description edit keeps every piece"
        );

        let inbound = Served::new(
            compiled("two", "up", "https://other.example.com/mcp"),
            Some(&described),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (old, new) = (r.auth.as_ref(), inbound.running.auth.as_ref());
        let (old, new) = old.zip(new).unwrap_or_else(|| panic!("no caches"));
        assert!(Arc::ptr_eq(&old.jwks, &new.jwks), "same issuer: same keys");
        assert!(
            !Arc::ptr_eq(&old.verified, &new.verified),
            "a new audience: tokens verified for the old one are forgotten"
        );
        assert!(std::ptr::eq(
            inbound.running.token().unwrap_or_else(|| panic!()),
            r.token().unwrap_or_else(|| panic!())
        ));

        let upstream = Served::new(
            compiled("two", "up-2", "https://other.example.com/mcp"),
            Some(&inbound),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !std::ptr::eq(
                upstream.running.token().unwrap_or_else(|| panic!()),
                r.token().unwrap_or_else(|| panic!())
            ),
            "new client-credentials settings: a new token cache"
        );
        assert!(!upstream.running.shares_all_with(&inbound.running));
    }
}
