//! Inbound authorization: the gateway as an OAuth 2.1 resource server (or a holder of static API
//! keys) in front of its MCP endpoint.
//!
//! - [`Auth`]: the compiled `auth:` section (settings only, defined in
//!   [`crate::gateway::auth`]), carried by the gateway so a reload swaps it with the tools it
//!   protects.
//! - [`Caches`]: the running side (the issuer's keys, tokens already verified), built by
//!   [`crate::runtime`] and kept across reloads that leave the settings they depend on alone.
//! - `jwks`/`jwt`: JWT access tokens verified against the issuer's keys (discovered through RFC
//!   8414 / OpenID Connect, cached, refetched on an unknown `kid` at most once per interval).
//! - `introspect`: opaque tokens through RFC 7662.
//! - `keys`: static API keys kept as SHA-256 digests, compared in constant time.
//! - `http`: the caller of an HTTP request, what it may list and call, and the
//!   `WWW-Authenticate` challenge; the middleware that applies them in front of `/mcp` and the
//!   Protected Resource Metadata document are `server::auth`.
//!
//! A verified caller becomes a [`Principal`] in the request's extensions; `tools/list` filters
//! on it and the upstream request may carry some of its claims (`upstream.identity_headers`),
//! never its token.

pub mod http;
mod introspect;
mod jwks;
mod jwt;
mod keys;
mod verified;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

pub use jwks::Jwks;
pub use verified::Verified;
// The settings are part of the compiled gateway (plain data); verification lives here.
pub use crate::gateway::auth::{
    ApiKey, Auth, Introspection, KeySource, METADATA_PATH, OAuth, valid_scope,
};

use crate::gateway::Tool;

/// The running side of OAuth verification. Each cache is shared by every request of a snapshot
/// and handed on to the next snapshot when the settings it depends on are unchanged (see
/// [`crate::runtime`]).
#[derive(Debug, Clone)]
pub struct Caches {
    /// The issuer's signing keys (depends on the issuer and where its keys are).
    pub jwks: Arc<Jwks>,
    /// JWTs already verified (depends on everything a JWT is checked against: see the
    /// `verified` module).
    pub verified: Arc<Verified>,
}

/// Why a presented token was refused. Every variant is a 401 `invalid_token`; the messages are
/// safe to send to the client and to log (they never contain the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT this gateway can read, or `alg: none`.
    #[error("the token is malformed")]
    Malformed,
    /// Signed with an algorithm the issuer's key does not allow (e.g. HS256 with a public key).
    #[error("the token's algorithm is not allowed for the issuer's key")]
    Algorithm,
    /// No key of the issuer has the token's `kid`.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    Signature,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another authorization server")]
    Issuer,
    /// `aud` does not name this resource.
    #[error("the token was not issued for this resource")]
    Audience,
    /// A required claim is missing or has the wrong type.
    #[error("the token lacks a valid `{0}` claim")]
    Claim(String),
    /// Introspection says the token is not active.
    #[error("the token is not active")]
    Inactive,
    /// Neither a known API key nor a token this gateway can verify.
    #[error("the token is not recognised")]
    Unknown,
    /// The issuer's keys or introspection endpoint could not be reached: not the caller's fault,
    /// but the token cannot be accepted.
    #[error("the authorization server could not be reached to verify the token")]
    Unavailable,
}

/// A verified caller.
#[derive(Clone)]
pub struct Principal {
    /// `sub`, or the API key's name.
    pub subject: Option<String>,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
    /// The verified claims (for `upstream.identity_headers`).
    pub claims: Arc<Map<String, Value>>,
}

impl fmt::Debug for Principal {
    // Claims may hold personal data (email): only the subject and scopes are printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// A principal from verified claims: scopes from `scope` (space separated, RFC 8693/9068) or
    /// `scp` (a list or a string, as some issuers write it).
    pub fn from_claims(claims: Map<String, Value>) -> Self {
        let mut scopes = BTreeSet::new();
        for key in ["scope", "scp"] {
            match claims.get(key) {
                Some(Value::String(s)) => {
                    scopes.extend(s.split_ascii_whitespace().map(str::to_string))
                }
                Some(Value::Array(items)) => {
                    scopes.extend(items.iter().filter_map(Value::as_str).map(str::to_string))
                }
                _ => {}
            }
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_string);
        Self {
            subject,
            scopes,
            claims: Arc::new(claims),
        }
    }

    /// Whether every scope in `needed` is granted.
    pub fn has_all(&self, needed: &[String]) -> bool {
        needed.iter().all(|s| self.scopes.contains(s))
    }

    /// A claim as header text: strings as they are, numbers and booleans as JSON; objects,
    /// arrays and null are not identities and give `None`.
    pub fn claim_text(&self, claim: &str) -> Option<String> {
        match self.claims.get(claim)? {
            Value::String(s) => Some(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
            _ => None,
        }
    }
}

impl Auth {
    /// Verifies a bearer token: static API keys first (cheap, constant time), then OAuth (a JWT
    /// against the issuer's keys, or introspection for an opaque token). `caches` are the
    /// running caches of this `auth:` (`None` only when it has no OAuth).
    pub async fn verify(
        &self,
        caches: Option<&Caches>,
        token: &str,
        http: &reqwest::Client,
    ) -> Result<Arc<Principal>, TokenError> {
        if let Some(key) = keys::find(&self.api_keys, token) {
            let mut claims = Map::new();
            claims.insert("sub".into(), Value::String(key.name.clone()));
            claims.insert("scope".into(), Value::String(key.scopes.join(" ")));
            return Ok(Arc::new(Principal::from_claims(claims)));
        }
        let Some(oauth) = &self.oauth else {
            return Err(TokenError::Unknown);
        };
        // A token verified before (so a JWT) is looked up first: an agent sends the same one
        // with every call.
        if let Some(p) = caches.and_then(|c| c.verified.get(token, oauth.leeway)) {
            return Ok(p);
        }
        if jwt::looks_like_jwt(token) {
            let Some(c) = caches else {
                return Err(TokenError::Unavailable);
            };
            let p = Arc::new(jwt::verify(oauth, &c.jwks, token, http).await?);
            c.verified.insert(token, &p);
            return Ok(p);
        }
        match &oauth.introspection {
            Some(i) => i.verify(oauth, token, http).await.map(Arc::new),
            None => Err(TokenError::Malformed),
        }
    }

    /// Whether `principal` may call `tool`.
    pub fn may_call(&self, principal: &Principal, tool: &Tool) -> bool {
        principal.has_all(&tool.scopes)
    }

    /// Whether `tools/list` shows `tool` to `principal` (`None`: a transport without
    /// authorization, such as stdio, sees everything).
    pub fn may_list(&self, principal: Option<&Principal>, tool: &Tool) -> bool {
        match principal {
            Some(p) if self.filter_list => self.may_call(p, tool),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_come_from_scope_or_scp_and_identity_claims_are_scalars() {
        let p = Principal::from_claims(
            json!({"sub": "u", "scope": "a b", "scp": ["c"], "email": "u@x", "n": 5, "o": {}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(p.subject.as_deref(), Some("u"));
        assert!(p.has_all(&["a".into(), "b".into(), "c".into()]));
        assert!(!p.has_all(&["d".into()]));
        assert_eq!(p.claim_text("email").as_deref(), Some("u@x"));
        assert_eq!(p.claim_text("n").as_deref(), Some("5"));
        assert_eq!(p.claim_text("o"), None);
        assert!(
            !format!("{p:?}").contains("u@x"),
            "Debug leaves personal claims out"
        );
    }

    #[test]
    fn scope_tokens_are_rfc_6749_nqchar() {
        for ok in ["pets:read", "https://api.example.com/x", "a!#[]~"] {
            assert!(valid_scope(ok), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(!valid_scope(bad), "{bad:?}");
        }
    }
}
