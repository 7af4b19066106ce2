//! The issuer's signing keys: found through discovery (RFC 8414, then OpenID Connect) or a
//! configured `jwks_uri`, cached, and refetched when a token names a key the cache lacks (key
//! rotation) — but at most once per refetch interval (`auth.oauth.jwks_refetch_interval`, by default
//! [`DEFAULT_JWKS_REFETCH_INTERVAL`](crate::gateway::auth::DEFAULT_JWKS_REFETCH_INTERVAL)), so tokens with made-up `kid`s
//! cannot make the gateway hammer the issuer.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde_json::Value;

use super::{KeySource, TokenError};

/// Keys older than this are refetched on the next request, so a revoked key stops working
/// within the hour even when no unknown `kid` shows up.
pub(super) const MAX_AGE: Duration = Duration::from_secs(3600);
/// Time allowed for one discovery or JWKS request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest discovery or JWKS document read (a key set is a few KB).
const MAX_DOCUMENT_BYTES: usize = 256 << 10;

/// The cached key set of one issuer.
#[derive(Debug)]
pub struct Jwks {
    source: KeySource,
    /// Least time between two fetches for an unknown `kid`.
    refetch_interval: Duration,
    /// The keys and when they were fetched, read by every request; written only under `refresh`.
    cache: RwLock<Cache>,
    /// Held while fetching, so concurrent requests with an unknown `kid` make one fetch; holds
    /// when the last fetch started (the rate limit) and the discovered `jwks_uri`.
    refresh: tokio::sync::Mutex<Refresh>,
}

#[derive(Debug, Default, Clone)]
struct Cache {
    keys: Arc<Vec<Jwk>>,
    fetched: Option<Instant>,
}

impl Cache {
    fn fresh(&self) -> bool {
        self.fetched.is_some_and(|t| t.elapsed() < MAX_AGE)
    }
}

#[derive(Debug, Default)]
struct Refresh {
    last: Option<Instant>,
    uri: Option<url::Url>,
}

impl Jwks {
    /// An empty cache; the first token fetches the keys, an unknown `kid` again at most once per
    /// `refetch_interval`.
    pub fn new(source: KeySource, refetch_interval: Duration) -> Self {
        Self {
            source,
            refetch_interval,
            cache: RwLock::new(Cache::default()),
            refresh: tokio::sync::Mutex::new(Refresh::default()),
        }
    }

    fn cached(&self) -> Cache {
        match self.cache.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key for a token's `kid` (or the issuer's only signing key when the token names none).
    pub(super) async fn key(
        &self,
        kid: Option<&str>,
        issuer: &str,
        http: &reqwest::Client,
    ) -> Result<Jwk, TokenError> {
        let c = self.cached();
        if c.fresh()
            && let Some(k) = pick(&c.keys, kid)?
        {
            return Ok(k);
        }
        let mut r = self.refresh.lock().await;
        // Another request may have refreshed while this one waited.
        let c = self.cached();
        if c.fresh()
            && let Some(k) = pick(&c.keys, kid)?
        {
            return Ok(k);
        }
        if r.last.is_some_and(|t| t.elapsed() < self.refetch_interval) {
            return pick(&c.keys, kid)?.ok_or(TokenError::UnknownKey);
        }
        r.last = Some(Instant::now());
        match self.fetch(&mut r, issuer, http).await {
            Ok(keys) => {
                let fresh = Cache {
                    keys: Arc::new(keys),
                    fetched: Some(Instant::now()),
                };
                let found = pick(&fresh.keys, kid);
                match self.cache.write() {
                    Ok(mut w) => *w = fresh,
                    Err(poisoned) => *poisoned.into_inner() = fresh,
                }
                found?.ok_or(TokenError::UnknownKey)
            }
            Err(reason) => {
                tracing::warn!(issuer, reason = %reason, "fetching the issuer's keys failed");
                // Stale keys beat none while the issuer is unreachable.
                pick(&c.keys, kid)?.ok_or(TokenError::Unavailable)
            }
        }
    }

    async fn fetch(
        &self,
        r: &mut Refresh,
        issuer: &str,
        http: &reqwest::Client,
    ) -> Result<Vec<Jwk>, String> {
        let uri = match (&self.source, &r.uri) {
            (KeySource::Uri(u), _) => u.clone(),
            (KeySource::Discover(_), Some(u)) => u.clone(),
            (KeySource::Discover(iss), None) => {
                let u = discover(iss, issuer, http).await?;
                r.uri = Some(u.clone());
                u
            }
        };
        let doc = get_json(http, &uri).await?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{uri} has no `keys` list"))?;
        // One key of a type this gateway does not know must not hide the others.
        Ok(keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect())
    }
}

/// The key to verify with. Symmetric (`oct`) and encryption keys are never candidates: a
/// published symmetric key would let anyone sign.
fn pick(keys: &[Jwk], kid: Option<&str>) -> Result<Option<Jwk>, TokenError> {
    let usable = |k: &&Jwk| {
        !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption))
            && !matches!(
                k.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
            )
    };
    match kid {
        Some(kid) => Ok(keys
            .iter()
            .filter(usable)
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .cloned()),
        None => {
            let mut signing = keys.iter().filter(usable);
            match (signing.next(), signing.next()) {
                (Some(k), None) => Ok(Some(k.clone())),
                (None, _) => Ok(None),
                // Which one? Guessing would try keys until one verifies.
                (Some(_), Some(_)) => Err(TokenError::Claim("kid".into())),
            }
        }
    }
}

/// The `jwks_uri` from the issuer's metadata: RFC 8414 (path inserted after
/// `/.well-known/oauth-authorization-server`), then OpenID Connect (path appended). The metadata
/// must name the same issuer (RFC 8414 §3.3), or a different server could hand out keys.
async fn discover(
    iss: &url::Url,
    issuer: &str,
    http: &reqwest::Client,
) -> Result<url::Url, String> {
    let path = iss.path().trim_end_matches('/');
    let mut candidates = Vec::new();
    for well_known in [
        format!("/.well-known/oauth-authorization-server{path}"),
        format!("{path}/.well-known/openid-configuration"),
    ] {
        let mut u = iss.clone();
        u.set_path(&well_known);
        u.set_query(None);
        candidates.push(u);
    }
    let mut errors = Vec::new();
    for u in candidates {
        match get_json(http, &u).await {
            Ok(meta) => {
                if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
                    errors.push(format!("{u} names another issuer"));
                    continue;
                }
                return meta
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .and_then(|s| url::Url::parse(s).ok())
                    .ok_or_else(|| format!("{u} has no valid `jwks_uri`"));
            }
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("; "))
}

/// GETs a JSON document with a timeout and a size cap.
pub(super) async fn get_json(http: &reqwest::Client, url: &url::Url) -> Result<Value, String> {
    let resp = http
        .get(url.clone())
        .header(http::header::ACCEPT, "application/json")
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", crate::tls::error_chain(&e)))?;
    read_json(resp, url).await
}

/// Reads a JSON answer, refusing non-2xx statuses and bodies over the cap.
pub(super) async fn read_json(
    mut resp: reqwest::Response,
    url: &url::Url,
) -> Result<Value, String> {
    if !resp.status().is_success() {
        return Err(format!("{url} answered {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("{url}: {}", crate::tls::error_chain(&e)))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url} did not send JSON: {e}"))
}
