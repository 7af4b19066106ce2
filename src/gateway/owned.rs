//! Names on the wire that belong to the gateway, never to an argument: the connection's own
//! framing headers, the headers OpenAPI reserves, the gateway's credentials, its fixed headers
//! and the caller-identity headers. The compiler uses this to keep such parameters out of a
//! tool's arguments (with a warning), and request building uses it again as the last line of
//! defence, so a value can never be sent beside, or instead of, the gateway's own.

use super::{ApiKeyLocation, ParamLocation, Upstream, UpstreamAuth};

/// Headers no argument may ever set, whatever the manifest says.
///
/// - The message framing and connection management fields (RFC 9110 §7.6.1 hop-by-hop fields,
///   `Host`, `Content-Length`, `Expect`): set from an argument they would let a value split or
///   smuggle requests, or reroute them.
/// - `Accept`, `Content-Type`, `Authorization`: OpenAPI 3 says header parameters with these
///   names "SHALL be ignored"; the gateway sets the first two from the spec and the third from
///   its own credentials.
/// - `Cookie`: cookie parameters are joined into the one `Cookie` header the gateway builds.
pub const RESERVED_HEADERS: [&str; 15] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "proxy-authorization",
    "accept",
    "content-type",
    "authorization",
    "cookie",
];

/// Why a name on the wire belongs to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A header of the HTTP message itself (see [`RESERVED_HEADERS`]).
    Protocol,
    /// The gateway's credentials for the upstream (`upstream.auth`).
    Credential,
    /// A header fixed by `upstream.headers`.
    FixedHeader,
    /// A header carrying the verified caller's claim (`upstream.identity_headers`).
    Identity(String),
    /// The header carrying the gateway's idempotency key (`idempotency_key`).
    IdempotencyKey,
}

impl Owner {
    /// How a diagnostic or refusal names the owner.
    pub fn describe(&self) -> String {
        match self {
            Self::Protocol => "a header of the HTTP message that only the gateway sets".into(),
            Self::Credential => "the gateway's own upstream credential (`upstream.auth`)".into(),
            Self::FixedHeader => "a header fixed by `upstream.headers`".into(),
            Self::Identity(claim) => {
                format!("the verified caller's `{claim}` claim (`upstream.identity_headers`)")
            }
            Self::IdempotencyKey => "the gateway's idempotency key (`idempotency_key`)".into(),
        }
    }
}

/// Whether a key an argument chose would reach the wire as `name`: the key itself, or its
/// bracketed form (`name[x]`, which Rails, PHP and qs read as `name`), compared
/// case-insensitively as several frameworks read names. One rule for query and form-body keys.
pub fn names_the_same(name: &str, key: &str) -> bool {
    let base = key.split('[').next().unwrap_or(key);
    name.eq_ignore_ascii_case(key) || name.eq_ignore_ascii_case(base)
}

impl Upstream {
    /// Who owns header `name` (case-insensitive), if not an argument.
    pub fn header_owner(&self, name: &str) -> Option<Owner> {
        if RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Some(Owner::Protocol);
        }
        if let Some(UpstreamAuth::ApiKey {
            location: ApiKeyLocation::Header,
            name: key,
            ..
        }) = &self.auth
            && key.eq_ignore_ascii_case(name)
        {
            return Some(Owner::Credential);
        }
        if let Some((_, claim)) = self
            .identity_headers
            .iter()
            .find(|(h, _)| h.as_str().eq_ignore_ascii_case(name))
        {
            return Some(Owner::Identity(claim.clone()));
        }
        if self
            .headers
            .iter()
            .any(|(h, _)| h.eq_ignore_ascii_case(name))
        {
            return Some(Owner::FixedHeader);
        }
        if self
            .idempotency_key
            .as_ref()
            .is_some_and(|h| h.as_str().eq_ignore_ascii_case(name))
        {
            return Some(Owner::IdempotencyKey);
        }
        None
    }

    /// Who owns query parameter or cookie `name` (an API key placed there), if not an argument.
    /// Compared case-insensitively: several server frameworks read query names that way.
    pub fn name_owner(&self, location: ParamLocation, name: &str) -> Option<Owner> {
        match (&self.auth, location) {
            (
                Some(UpstreamAuth::ApiKey {
                    location: ApiKeyLocation::Query,
                    name: key,
                    ..
                }),
                ParamLocation::Query,
            )
            | (
                Some(UpstreamAuth::ApiKey {
                    location: ApiKeyLocation::Cookie,
                    name: key,
                    ..
                }),
                ParamLocation::Cookie,
            ) if names_the_same(key, name) => Some(Owner::Credential),
            _ => None,
        }
    }

    /// Who owns the wire name of a parameter at `location`, if not an argument.
    pub fn param_owner(&self, location: ParamLocation, name: &str) -> Option<Owner> {
        match location {
            ParamLocation::Header => self.header_owner(name),
            ParamLocation::Query | ParamLocation::Cookie => self.name_owner(location, name),
            ParamLocation::Path => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::time::Duration;

    fn upstream() -> Upstream {
        Upstream {
            base_url: url::Url::parse("http://h").unwrap(),
            headers: vec![("X-Tenant".into(), "acme".into())],
            timeout: Duration::from_secs(1),
            max_response_bytes: 1,
            auth: Some(UpstreamAuth::ApiKey {
                location: ApiKeyLocation::Query,
                name: "api_key".into(),
                value: Secret::new("k", "env:K"),
            }),
            tls: None,
            identity_headers: vec![(http::HeaderName::from_static("x-user-id"), "sub".into())],
            retry: crate::gateway::RetryPolicy::default(),
            idempotency_key: Some(http::HeaderName::from_static("idempotency-key")),
            files: Default::default(),
        }
    }

    #[test]
    fn owned_names_are_matched_case_insensitively_in_their_own_location() {
        let up = upstream();
        assert_eq!(up.header_owner("Host"), Some(Owner::Protocol));
        assert_eq!(up.header_owner("TRANSFER-ENCODING"), Some(Owner::Protocol));
        assert_eq!(
            up.header_owner("X-User-Id"),
            Some(Owner::Identity("sub".into()))
        );
        assert_eq!(up.header_owner("x-tenant"), Some(Owner::FixedHeader));
        assert_eq!(up.header_owner("X-Trace"), None);
        assert_eq!(
            up.header_owner("Idempotency-Key"),
            Some(Owner::IdempotencyKey)
        );
        assert_eq!(
            up.param_owner(ParamLocation::Query, "API_KEY"),
            Some(Owner::Credential)
        );
        assert_eq!(up.param_owner(ParamLocation::Cookie, "api_key"), None);
        assert_eq!(up.param_owner(ParamLocation::Path, "host"), None);
    }
}
