//! JWT access tokens (RFC 9068) verified against the issuer's keys.
//!
//! The algorithm is pinned from the issuer's key (its `alg`, or the algorithms its `kty`/`crv`
//! can verify), never taken from the token: a token saying `HS256` and signed with the issuer's
//! public key as the HMAC secret (algorithm confusion) is refused before any verification, and
//! `alg: none` does not even parse. `aud` is checked here rather than by the library so that a
//! resource URI with an uppercase scheme or host still matches (the MCP spec asks for that).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use super::{OAuth, Principal, TokenError};

/// Three base64url segments: a JWS compact serialisation (opaque tokens go to introspection).
pub(super) fn looks_like_jwt(token: &str) -> bool {
    let mut dots = 0;
    token.bytes().all(|b| {
        dots += usize::from(b == b'.');
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=')
    }) && dots == 2
}

/// The algorithms `jwk` can verify. Never an HMAC one.
fn algorithms_for(jwk: &Jwk) -> Vec<Algorithm> {
    use Algorithm::*;
    if let Some(alg) = jwk.common.key_algorithm {
        let pinned = match alg {
            KeyAlgorithm::RS256 => RS256,
            KeyAlgorithm::RS384 => RS384,
            KeyAlgorithm::RS512 => RS512,
            KeyAlgorithm::PS256 => PS256,
            KeyAlgorithm::PS384 => PS384,
            KeyAlgorithm::PS512 => PS512,
            KeyAlgorithm::ES256 => ES256,
            KeyAlgorithm::ES384 => ES384,
            KeyAlgorithm::EdDSA => EdDSA,
            // HMAC, encryption and unknown algorithms: not a signing key we accept.
            _ => return Vec::new(),
        };
        return vec![pinned];
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![ES256],
            EllipticCurve::P384 => vec![ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => vec![EdDSA],
        _ => Vec::new(),
    }
}

pub(super) async fn verify(
    oauth: &OAuth,
    jwks: &super::Jwks,
    token: &str,
    http: &reqwest::Client,
) -> Result<Principal, TokenError> {
    // `alg: none` (and any algorithm the library does not know) fails here.
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    let jwk = jwks.key(header.kid.as_deref(), &oauth.issuer, http).await?;
    let allowed = algorithms_for(&jwk);
    if !allowed.contains(&header.alg) {
        return Err(TokenError::Algorithm);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| TokenError::UnknownKey)?;
    let mut v = Validation::new(header.alg);
    v.algorithms = vec![header.alg];
    v.leeway = oauth.leeway.as_secs();
    v.validate_exp = true;
    v.validate_nbf = true;
    v.set_issuer(&[oauth.issuer.as_str()]);
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(|e| match e
        .kind()
    {
        ErrorKind::InvalidSignature => TokenError::Signature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::Issuer,
        ErrorKind::InvalidAudience => TokenError::Audience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::Algorithm,
        ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
            TokenError::Claim(c.clone())
        }
        _ => TokenError::Malformed,
    })?;
    check_audience(data.claims.get("aud"), &oauth.audience)?;
    Ok(Principal::from_claims(data.claims))
}

/// `aud` (a string or a list) must name `audience`; URIs compare as URLs, so
/// `HTTPS://MCP.EXAMPLE.COM/mcp` matches `https://mcp.example.com/mcp`.
pub(super) fn check_audience(aud: Option<&Value>, audience: &str) -> Result<(), TokenError> {
    let matches = |s: &str| {
        s == audience
            || matches!(
                (url::Url::parse(s), url::Url::parse(audience)),
                (Ok(a), Ok(b)) if a == b
            )
    };
    let ok = match aud {
        Some(Value::String(s)) => matches(s),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(matches),
        None => return Err(TokenError::Claim("aud".into())),
        Some(_) => return Err(TokenError::Claim("aud".into())),
    };
    if ok {
        Ok(())
    } else {
        Err(TokenError::Audience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_three_segment_tokens_are_treated_as_jwts() {
        assert!(looks_like_jwt("eyJh.eyJz.c2ln"));
        assert!(
            looks_like_jwt("eyJh.eyJz."),
            "an unsigned token is still a JWT, and refused as one"
        );
        assert!(!looks_like_jwt("opaque-token-123"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("a.b c.d"));
    }

    #[test]
    fn audience_matches_exactly_or_as_the_same_url() {
        let want = "https://mcp.example.com/mcp";
        let ok = |v: Value| check_audience(Some(&v), want);
        assert_eq!(ok(Value::from(want)), Ok(()));
        assert_eq!(ok(Value::from("HTTPS://MCP.Example.COM/mcp")), Ok(()));
        assert_eq!(ok(serde_json::json!(["other", want])), Ok(()));
        assert_eq!(
            ok(Value::from("https://mcp.example.com/other")),
            Err(TokenError::Audience)
        );
        assert_eq!(
            ok(serde_json::json!(5)),
            Err(TokenError::Claim("aud".into()))
        );
        assert_eq!(
            check_audience(None, want),
            Err(TokenError::Claim("aud".into()))
        );
    }
}
