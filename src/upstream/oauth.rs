//! The gateway's own OAuth 2.0 access token for the upstream (client credentials grant, RFC
//! 6749 §4.4). One token serves every call until shortly before it expires; when it must be
//! renewed, the first caller fetches it while the others wait for that one request (a tokio
//! mutex held across the fetch), so a burst of calls costs the authorization server one request.

use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::gateway::ClientCredentials;
use crate::secret::Secret;

/// Renew this long before `expires_in` runs out, so a token never expires in flight (capped at
/// half the lifetime for very short-lived tokens).
const RENEW_BEFORE: Duration = Duration::from_secs(30);
/// Lifetime assumed when the server does not say (`expires_in` is only RECOMMENDED).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Time allowed for one token request.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token response read.
const MAX_BYTES: usize = 64 << 10;

/// Why no token could be had. Never contains the secret or a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenFetchError {
    /// The token endpoint could not be reached.
    #[error("the token endpoint {endpoint} could not be reached: {reason}")]
    Unreachable {
        /// Host of the token endpoint.
        endpoint: String,
        /// The cause.
        reason: String,
    },
    /// It answered with an error.
    #[error("the token endpoint {endpoint} refused the gateway's credentials ({status}{error})")]
    Refused {
        /// Host of the token endpoint.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// `: <error code>` from the answer, when it gives one.
        error: String,
    },
    /// It answered without a usable token.
    #[error("the token endpoint {endpoint} sent no usable access token")]
    Malformed {
        /// Host of the token endpoint.
        endpoint: String,
    },
}

/// The cached token of one client credentials configuration: running state, built by
/// [`crate::runtime`] and kept across reloads that leave the settings unchanged.
#[derive(Default)]
pub struct TokenCache {
    /// The cached token. A tokio mutex because it is held across the token request: that is
    /// what makes concurrent callers share one refresh.
    cached: tokio::sync::Mutex<Option<Cached>>,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// How long a token with `lifetime` is used before a new one is fetched: [`RENEW_BEFORE`] short
/// of its expiry, or half its lifetime when that is shorter, measured from when it was asked for.
fn renew_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(RENEW_BEFORE.min(lifetime / 2))
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

fn endpoint(cc: &ClientCredentials) -> String {
    cc.token_url[url::Position::BeforeHost..url::Position::AfterPath].to_string()
}

impl TokenCache {
    /// The current token, fetching a new one when there is none or it is about to expire.
    pub async fn token(
        &self,
        cc: &ClientCredentials,
        http: &reqwest::Client,
    ) -> Result<Secret, TokenFetchError> {
        let mut slot = self.cached.lock().await;
        if let Some(c) = slot.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let fresh = fetch(cc, http).await?;
        let token = fresh.token.clone();
        *slot = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (the upstream refused it), so the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

async fn fetch(cc: &ClientCredentials, http: &reqwest::Client) -> Result<Cached, TokenFetchError> {
    let endpoint = endpoint(cc);
    // Built in a block: the serializer is not `Send` and must not live across an await.
    let form = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !cc.scopes.is_empty() {
            form.append_pair("scope", &cc.scopes.join(" "));
        }
        if let Some(a) = &cc.audience {
            form.append_pair("audience", a);
        }
        form.finish()
    };
    // client_secret_basic (RFC 6749 §2.3.1), which every server must support.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        enc(&cc.client_id),
        enc(cc.client_secret.expose())
    ));
    let mut authorization =
        http::HeaderValue::from_str(&format!("Basic {basic}")).map_err(|_| {
            TokenFetchError::Malformed {
                endpoint: endpoint.clone(),
            }
        })?;
    authorization.set_sensitive(true);
    let started = Instant::now();
    let mut resp = http
        .post(cc.token_url.clone())
        .header(http::header::AUTHORIZATION, authorization)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(form)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| TokenFetchError::Unreachable {
            endpoint: endpoint.clone(),
            reason: crate::tls::error_chain(&e).replace(cc.token_url.as_str(), &endpoint),
        })?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        if body.len() + chunk.len() > MAX_BYTES {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !status.is_success() {
        // Only the standard error code is repeated: a description could echo the request.
        let error = answer
            .get("error")
            .and_then(Value::as_str)
            .filter(|e| e.bytes().all(|b| b.is_ascii_graphic()) && e.len() <= 64)
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(TokenFetchError::Refused {
            endpoint,
            status: status.as_u16(),
            error,
        });
    }
    let token = answer
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && http::HeaderValue::from_str(&format!("Bearer {t}")).is_ok())
        .ok_or_else(|| TokenFetchError::Malformed {
            endpoint: endpoint.clone(),
        })?;
    let lifetime = answer
        .get("expires_in")
        .and_then(Value::as_u64)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME);
    let renew_at = started + renew_after(lifetime);
    tracing::info!(endpoint = %endpoint, expires_in = lifetime.as_secs(), "fetched an upstream access token");
    Ok(Cached {
        token: Secret::new(token, format!("oauth2:{endpoint}")),
        renew_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_shortly_before_they_expire() {
        let s = Duration::from_secs;
        assert_eq!(renew_after(s(3600)), s(3570));
        assert_eq!(renew_after(s(40)), s(20), "short-lived: half the lifetime");
        assert_eq!(renew_after(s(0)), s(0));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let cc = ClientCredentials {
            token_url: url::Url::parse("https://as.example.com/token")
                .unwrap_or_else(|_| unreachable!()),
            client_id: "gw".into(),
            client_secret: Secret::new("s3cret-value", "env:CC"),
            scopes: vec![],
            audience: None,
        };
        let text = format!("{cc:?}");
        assert!(
            !text.contains("s3cret-value") && text.contains("env:CC"),
            "{text}"
        );
    }
}
