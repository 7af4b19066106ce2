//! The `Host` check against DNS rebinding, as one function every path to `/mcp` goes through
//! (the fast path and rmcp alike), so the two can never disagree about a host.
//!
//! `Host` is parsed strictly (RFC 9112 §3.2, RFC 3986 §3.2.2): a request with two `Host`
//! headers, none, or one that is not `host[:port]` is 400. Lenient parsers are the attack:
//! `127.0.0.1:@evil.example` is a userinfo to a URL parser and a loopback address to a prefix
//! match, `[::1]evil.example` ends an IPv6 literal and goes on. A well-formed host that is not
//! allowed is 403, as rmcp answers.

use std::net::Ipv6Addr;

use http::{HeaderMap, StatusCode};

/// A parsed `Host`: the host as written (an IPv6 literal without brackets) and the port.
/// Borrowed, so checking a request's `Host` allocates nothing; hosts compare ignoring ASCII
/// case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authority<'a> {
    host: &'a str,
    port: Option<u16>,
}

impl<'a> Authority<'a> {
    /// Parses `host[:port]` strictly; `None` when it is not one.
    pub(crate) fn parse(value: &'a str) -> Option<Self> {
        let (host, port) = if let Some(rest) = value.strip_prefix('[') {
            let (literal, after) = rest.split_once(']')?;
            literal.parse::<Ipv6Addr>().ok()?;
            let port = match after {
                "" => None,
                p => Some(port(p.strip_prefix(':')?)?),
            };
            (literal, port)
        } else {
            let (name, port) = match value.split_once(':') {
                Some((name, p)) => (name, Some(port(p)?)),
                None => (value, None),
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            {
                return None;
            }
            (name, port)
        };
        Some(Self { host, port })
    }
}

/// The hosts `/mcp` accepts, parsed once when the server starts: each an authority in lower
/// case, the port `None` when any port will do.
#[derive(Debug, Clone)]
pub(crate) struct Allowed(Vec<(String, Option<u16>)>);

impl Allowed {
    /// The list of `entries`; one that is not a host is left out.
    pub(crate) fn new(entries: &[String]) -> Self {
        Allowed(entries.iter().filter_map(|e| allowed_entry(e)).collect())
    }

    /// Whether the list names `authority` (an entry without a port allows any port). Compared
    /// as text, as rmcp compares (behind this check) so the two agree: `[::1]` is loopback, a
    /// longhand spelling of it is not on the list.
    pub(crate) fn admits(&self, authority: &Authority<'_>) -> bool {
        self.0.iter().any(|(host, port)| {
            host.eq_ignore_ascii_case(authority.host)
                && port.is_none_or(|p| authority.port == Some(p))
        })
    }
}

/// An allowlist entry, `name`, `name:port`, `[v6]:port` or a bare IPv6 address (`::1`), as
/// its host in lower case and its port.
fn allowed_entry(entry: &str) -> Option<(String, Option<u16>)> {
    let entry = entry.trim();
    if let Ok(v6) = entry.parse::<Ipv6Addr>() {
        return Some((v6.to_string(), None));
    }
    Authority::parse(entry).map(|a| (a.host.to_ascii_lowercase(), a.port))
}

/// 1–5 digits, at most 65535.
fn port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

/// Checks the request's `Host` against `allowed`: `Err` carries the status and body to answer.
pub(crate) fn check(
    headers: &HeaderMap,
    allowed: &Allowed,
) -> Result<(), (StatusCode, &'static str)> {
    let mut values = headers.get_all(http::header::HOST).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "Bad Request: exactly one Host header is required\n",
        ));
    };
    let authority = value.to_str().ok().and_then(Authority::parse).ok_or((
        StatusCode::BAD_REQUEST,
        "Bad Request: Invalid Host header\n",
    ))?;
    if allowed.admits(&authority) {
        Ok(())
    } else {
        Err((
            StatusCode::FORBIDDEN,
            "Forbidden: Host header is not allowed\n",
        ))
    }
}

/// The answer to a request whose `Host` is refused, or `None` when it may go on: the first
/// check in front of `/mcp` (`crate::server::routes`), before anything else runs.
pub(crate) fn refusal(headers: &HeaderMap, allowed: &Allowed) -> Option<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let (status, body) = check(headers, allowed).err()?;
    tracing::warn!(status = status.as_u16(), host = ?headers.get_all(http::header::HOST).iter().collect::<Vec<_>>(), "refused a request by its Host header (DNS-rebinding protection)");
    Some((status, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> Vec<String> {
        vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
    }

    fn status(values: &[&str], allowed: &[String]) -> u16 {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(http::header::HOST, v.parse().unwrap());
        }
        match check(&h, &Allowed::new(allowed)) {
            Ok(()) => 200,
            Err((s, _)) => s.as_u16(),
        }
    }

    #[test]
    fn host_values_that_smuggle_another_host_are_bad_requests() {
        let allowed = loopback();
        for bad in [
            "127.0.0.1:@evil.example",
            "localhost:80@evil.example",
            "[::1]evil.example",
            "[::1]:80x",
            "localhost:",
            "localhost:99999",
            "user@localhost",
            "localhost/evil",
            "local host",
            "",
            "[evil.example]",
        ] {
            assert_eq!(status(&[bad], &allowed), 400, "{bad:?}");
        }
        assert_eq!(status(&[], &allowed), 400, "no Host");
        assert_eq!(
            status(&["localhost", "localhost"], &allowed),
            400,
            "two Host headers"
        );
    }

    #[test]
    fn well_formed_hosts_are_allowed_or_forbidden_by_the_list() {
        let mut allowed = loopback();
        allowed.push("mcp.example.com:8443".into());
        allowed.push("Api.Example.COM".into());
        for ok in [
            "api.example.com",
            "API.EXAMPLE.com:9",
            "localhost",
            "LOCALHOST:8000",
            "127.0.0.1:1",
            "[::1]:8000",
            "mcp.example.com:8443",
        ] {
            assert_eq!(status(&[ok], &allowed), 200, "{ok:?}");
        }
        for foreign in [
            "evil.example",
            "mcp.example.com",
            "mcp.example.com:80",
            "127.0.0.2",
            "[0:0:0:0:0:0:0:1]",
        ] {
            assert_eq!(status(&[foreign], &allowed), 403, "{foreign:?}");
        }
    }
}
