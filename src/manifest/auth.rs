//! The manifest's `auth:` section: who may call the gateway over HTTP. (What the gateway
//! presents to the upstream is `upstream.auth`, in the parent module.)

use schemars::JsonSchema;
use serde::Deserialize;

use super::SecretRef;

/// Inbound authorization of MCP clients over HTTP (stdio has none: its client is the local user).
/// The gateway is an OAuth 2.1 resource server: it verifies access tokens issued by `oauth.issuer`
/// for `resource`, and serves Protected Resource Metadata (RFC 9728) so clients can find the
/// authorization server. Static API keys are a simpler alternative for internal deployments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The canonical URI of this MCP endpoint as clients reach it (RFC 8707), e.g.
    /// `https://mcp.example.com/mcp`. Access tokens must carry it in `aud`; it is the `resource`
    /// of the Protected Resource Metadata. Required with `oauth`. May use `${VAR}`.
    #[serde(default)]
    pub resource: Option<String>,
    /// Accept OAuth access tokens from this authorization server.
    #[serde(default)]
    pub oauth: Option<OAuthConfig>,
    /// Accept these static API keys (sent as `Authorization: Bearer <key>`).
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    /// Scopes a tool needs when it sets no `scopes:` of its own. Empty: such tools need only a
    /// valid token.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// Scopes advertised in the Protected Resource Metadata. Default: every scope a tool needs.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// Which tools `tools/list` shows a caller: `authorized` (default: only those its token may
    /// call) or `all`.
    #[serde(default)]
    pub list_tools: Option<ListTools>,
}

/// Which tools `tools/list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListTools {
    /// Only the tools the caller's scopes allow.
    Authorized,
    /// Every tool; calls are still checked.
    All,
}

/// The authorization server whose access tokens are accepted.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The issuer identifier (`iss`), e.g. `https://auth.example.com`. Its keys are found through
    /// RFC 8414 / OpenID Connect discovery unless `jwks_uri` is set. May use `${VAR}`.
    pub issuer: String,
    /// Where the issuer publishes its signing keys (JWKS), skipping discovery. May use `${VAR}`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The `aud` value tokens must carry. Default: `auth.resource`. May use `${VAR}`.
    #[serde(default)]
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, e.g. `30s` (the default).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub leeway: Option<String>,
    /// Least time between two fetches of the issuer's keys when tokens name a key the cache
    /// lacks (key rotation), e.g. `10s` (the default). Tokens with made-up key ids cost the
    /// issuer at most one request per interval.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|sec|secs|min|mins)\s*$"))]
    pub jwks_refetch_interval: Option<String>,
    /// Verify opaque (non-JWT) tokens with the issuer's RFC 7662 introspection endpoint.
    #[serde(default)]
    pub introspection: Option<IntrospectionConfig>,
}

/// RFC 7662 token introspection, for opaque access tokens.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionConfig {
    /// The introspection endpoint. May use `${VAR}`.
    pub endpoint: String,
    /// The gateway's client id at the authorization server. May use `${VAR}`.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: SecretRef,
}

/// One static API key. The manifest holds only where its SHA-256 digest is kept.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Who holds the key; reported as the caller's subject (`sub`).
    pub name: String,
    /// Where the key's SHA-256 digest (64 hex digits, e.g. from `printf %s "$KEY" | sha256sum`)
    /// is read from. The key itself is never stored.
    pub sha256: SecretRef,
    /// Scopes the key grants.
    #[serde(default)]
    pub scopes: Vec<String>,
}
