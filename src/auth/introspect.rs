//! Opaque access tokens, verified by asking the authorization server (RFC 7662). The answer must
//! say `active: true` and, like a JWT, name this resource in `aud` and the issuer in `iss` when
//! it carries them; `exp` is checked with the same leeway.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::jwks::read_json;
use super::{Introspection, OAuth, Principal, TokenError};

/// Time allowed for one introspection request.
const TIMEOUT: Duration = Duration::from_secs(5);

impl Introspection {
    pub(super) async fn verify(
        &self,
        oauth: &OAuth,
        token: &str,
        http: &reqwest::Client,
    ) -> Result<Principal, TokenError> {
        // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined for Basic.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&self.client_id),
            enc(self.client_secret.expose())
        ));
        let mut authorization = http::HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|_| TokenError::Unavailable)?;
        authorization.set_sensitive(true);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let resp = http
            .post(self.endpoint.clone())
            .header(http::header::AUTHORIZATION, authorization)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(endpoint = %self.endpoint, reason = %crate::tls::error_chain(&e), "token introspection failed");
                TokenError::Unavailable
            })?;
        let answer = read_json(resp, &self.endpoint).await.map_err(|reason| {
            tracing::warn!(endpoint = %self.endpoint, reason = %reason, "token introspection failed");
            TokenError::Unavailable
        })?;
        let Value::Object(claims) = answer else {
            return Err(TokenError::Unavailable);
        };
        check(oauth, claims, now())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks an introspection answer at time `now` (seconds since the epoch).
fn check(oauth: &OAuth, claims: Map<String, Value>, now: u64) -> Result<Principal, TokenError> {
    if claims.get("active") != Some(&Value::Bool(true)) {
        return Err(TokenError::Inactive);
    }
    let leeway = oauth.leeway.as_secs();
    if let Some(exp) = claims.get("exp") {
        let exp = exp
            .as_u64()
            .ok_or_else(|| TokenError::Claim("exp".into()))?;
        if exp.saturating_add(leeway) < now {
            return Err(TokenError::Expired);
        }
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_u64()
            .ok_or_else(|| TokenError::Claim("nbf".into()))?;
        if nbf > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(iss) = claims.get("iss")
        && iss.as_str() != Some(oauth.issuer.as_str())
    {
        return Err(TokenError::Issuer);
    }
    // The audience check is what stops a token minted for another service from working here,
    // so an answer without `aud` is refused rather than trusted.
    super::jwt::check_audience(claims.get("aud"), &oauth.audience)?;
    Ok(Principal::from_claims(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn oauth() -> OAuth {
        OAuth {
            issuer: "https://as.example.com".into(),
            audience: "https://mcp.example.com/mcp".into(),
            leeway: Duration::from_secs(30),
            keys: super::super::KeySource::Discover(
                url::Url::parse("https://as.example.com").unwrap(),
            ),
            refetch_interval: crate::gateway::auth::DEFAULT_JWKS_REFETCH_INTERVAL,
            introspection: None,
        }
    }

    fn answer(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn only_active_tokens_for_this_resource_pass() {
        let o = oauth();
        let good = json!({"active": true, "aud": "https://mcp.example.com/mcp", "iss": "https://as.example.com", "exp": 2000, "scope": "a b", "sub": "u1"});
        let p = check(&o, answer(good.clone()), 1000).unwrap();
        assert_eq!(p.subject.as_deref(), Some("u1"));
        assert!(p.has_all(&["a".into(), "b".into()]));
        let with = |k: &str, v: Value| {
            let mut m = answer(good.clone());
            m.insert(k.into(), v);
            check(&o, m, 1000).map(|_| ())
        };
        assert_eq!(with("active", json!(false)), Err(TokenError::Inactive));
        assert_eq!(with("exp", json!(900)), Err(TokenError::Expired));
        assert_eq!(with("exp", json!(980)), Ok(()), "within the leeway");
        assert_eq!(
            with("exp", json!("never")),
            Err(TokenError::Claim("exp".into()))
        );
        assert_eq!(with("nbf", json!(1100)), Err(TokenError::NotYetValid));
        assert_eq!(
            with("iss", json!("https://evil.example.com")),
            Err(TokenError::Issuer)
        );
        assert_eq!(
            with("aud", json!("https://other.example.com")),
            Err(TokenError::Audience)
        );
        let mut no_aud = answer(good);
        no_aud.remove("aud");
        assert_eq!(
            check(&o, no_aud, 1000).map(|_| ()),
            Err(TokenError::Claim("aud".into()))
        );
    }
}
