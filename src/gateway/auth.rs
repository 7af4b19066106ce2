//! The compiled inbound `auth:` section: settings only (who may call, how tokens are checked),
//! plain data that compares equal when nothing changed. Verifying a token, and the caches that
//! makes cheap, are [`crate::auth`]'s and [`crate::runtime`]'s.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::compiled::with;
use crate::secret::Secret;

/// The path of the metadata document (the root form; the path-inserted form appends the
/// endpoint's path).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Least time between two fetches of the issuer's key set by default
/// (`auth.oauth.jwks_refetch_interval`). Rotation publishes the new key before using it, so one
/// refetch finds it; a flood of unknown `kid`s costs the issuer one request per interval.
pub const DEFAULT_JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The compiled `auth:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// The canonical URI of the endpoint (RFC 8707), when OAuth is configured.
    #[serde(serialize_with = "with::opt_text")]
    pub resource: Option<url::Url>,
    /// Absolute URL of the Protected Resource Metadata, named in every challenge.
    pub metadata_url: Option<String>,
    /// OAuth access-token verification.
    pub oauth: Option<OAuth>,
    /// Static API keys.
    pub api_keys: Vec<ApiKey>,
    /// Scopes a tool needs when it declares none (already applied to each [`super::Tool::scopes`];
    /// kept for the challenge sent to a caller with no token).
    pub default_scopes: Vec<String>,
    /// Advertised in the metadata document.
    pub scopes_supported: Vec<String>,
    /// Whether `tools/list` hides the tools a caller may not call.
    pub filter_list: bool,
}

/// How OAuth access tokens are verified (settings; the caches are [`crate::auth::Caches`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuth {
    /// The expected `iss`, exactly as the authorization server writes it.
    pub issuer: String,
    /// The expected `aud`.
    pub audience: String,
    /// Clock skew tolerated on `exp`/`nbf`.
    #[serde(serialize_with = "with::duration")]
    pub leeway: Duration,
    /// Where the issuer's signing keys are.
    pub keys: KeySource,
    /// Least time between two fetches of the key set for an unknown `kid`.
    #[serde(serialize_with = "with::duration")]
    pub refetch_interval: Duration,
    /// Introspection for opaque tokens.
    pub introspection: Option<Introspection>,
}

/// Where the key set is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KeySource {
    /// A configured `jwks_uri`.
    Uri(#[serde(serialize_with = "with::text")] url::Url),
    /// Discovered from the issuer's metadata.
    Discover(#[serde(serialize_with = "with::text")] url::Url),
}

/// The introspection endpoint and the gateway's credentials for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Introspection {
    /// The endpoint.
    #[serde(serialize_with = "with::text")]
    pub endpoint: url::Url,
    /// The gateway's client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: Secret,
}

/// One accepted key.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Who holds it (the caller's subject).
    pub name: String,
    /// SHA-256 of the key (never printed: it would let a weak key be guessed offline).
    #[serde(serialize_with = "with::redacted")]
    pub digest: [u8; 32],
    /// Scopes it grants.
    pub scopes: Vec<String>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Parses a digest written as 64 hex digits (`sha256sum` output; anything after the first
    /// whitespace, such as sha256sum's `  -`, is ignored).
    pub fn parse_digest(text: &str) -> Option<[u8; 32]> {
        let hex = text.split_whitespace().next()?;
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }
}

/// Whether `s` is a valid OAuth scope token (RFC 6749 §3.3: printable ASCII except space, `"`
/// and `\`), which also makes it safe inside a quoted `WWW-Authenticate` parameter.
pub fn valid_scope(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
