//! Files in and out of a gateway's tools, compiled: which hosts a file argument may name by URL,
//! how much is fetched, and how large a binary answer may be to travel inside a result.

use super::{BodyEncoding, BodySource, FieldEncoding, Tool};

/// Largest file fetched for a file argument by default: a document or an image, not a video.
pub const DEFAULT_FETCH_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Largest binary answer put inside a tool result by default: base64 makes it a third larger,
/// and a client holds the whole result in memory (and may show it to the model).
pub const DEFAULT_MAX_INLINE_BYTES: usize = 1024 * 1024;

/// `upstream.fetch_*` and `upstream.max_inline_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Files {
    /// Hosts a file argument's `https://` URL may name (`host`, `host:port`, `*.suffix`).
    pub fetch_allow: Vec<HostPattern>,
    /// Largest file fetched, counted while it arrives.
    pub fetch_max_bytes: usize,
    /// PEM bundle trusted instead of the system roots for fetches (`None`: the usual roots).
    #[serde(serialize_with = "super::compiled::with::opt_byte_count")]
    pub fetch_ca: Option<Vec<u8>>,
    /// Largest binary answer inside a result; larger ones become links.
    pub max_inline_bytes: usize,
}

impl Default for Files {
    fn default() -> Self {
        Self {
            fetch_allow: Vec::new(),
            fetch_max_bytes: DEFAULT_FETCH_MAX_BYTES,
            fetch_ca: None,
            max_inline_bytes: DEFAULT_MAX_INLINE_BYTES,
        }
    }
}

/// One entry of `fetch_allow`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostPattern {
    /// The host, or the suffix after `*.` for a wildcard.
    pub host: String,
    /// Whether the entry was `*.suffix` (any subdomain of it, not the suffix itself).
    pub wildcard: bool,
    /// The port the entry names (`None`: the scheme's default port only).
    pub port: Option<u16>,
}

impl HostPattern {
    /// Parses `host`, `host:port`, `*.suffix` or `*.suffix:port`; `None` when it is none of them.
    pub fn parse(entry: &str) -> Option<Self> {
        let e = entry.trim().to_ascii_lowercase();
        // `*` (or `*:port`): any host, never an internal address.
        if let Some(rest) = e.strip_prefix('*')
            && (rest.is_empty() || rest.starts_with(':'))
        {
            let port = match rest.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None => None,
            };
            return Some(Self {
                host: "*".into(),
                wildcard: true,
                port,
            });
        }
        let (rest, wildcard) = match e.strip_prefix("*.") {
            Some(r) => (r.to_string(), true),
            None => (e, false),
        };
        // `[::1]:443` and `[::1]` for IPv6 literals; otherwise the last `:` splits a port.
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            (format!("[{h}]"), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
                None => (rest, None),
            }
        };
        let valid = !host.is_empty()
            && !host.contains('*')
            && !host.contains('/')
            && url::Host::parse(&host).is_ok();
        valid.then_some(Self {
            host,
            wildcard,
            port,
        })
    }

    /// Whether a URL's `host` (as `url` renders it: lower case, IPv6 in brackets) and effective
    /// `port` match; `exact` when the entry names the host itself, not through a wildcard.
    pub fn matches(&self, host: &str, port: u16, default_port: u16) -> Option<bool> {
        let port_ok = match self.port {
            Some(p) => p == port,
            None => port == default_port,
        };
        if !port_ok {
            return None;
        }
        if self.host == "*" {
            Some(false)
        } else if self.wildcard {
            let suffix = format!(".{}", self.host);
            host.ends_with(&suffix).then_some(false)
        } else {
            (host == self.host).then_some(true)
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host == "*" {
            f.write_str("*")?;
        } else {
            if self.wildcard {
                f.write_str("*.")?;
            }
            f.write_str(&self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// The arguments of `tool` that carry a file: the whole body of a binary media type, or a
/// binary part of a multipart body.
pub fn file_arguments(tool: &Tool) -> Vec<&str> {
    let Some(body) = &tool.plan.body else {
        return Vec::new();
    };
    match (&body.content_type, &body.source) {
        (BodyEncoding::Binary(_), BodySource::Whole(f)) => f.arg.as_deref().into_iter().collect(),
        (BodyEncoding::Multipart, BodySource::Fields(fields)) => fields
            .iter()
            .filter(|f| matches!(f.encoding, FieldEncoding::Part { binary: true, .. }))
            .filter_map(|f| f.arg.as_deref())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_hosts_ports_and_subdomains_only() {
        let p = |s: &str| HostPattern::parse(s).unwrap();
        assert_eq!(
            p("files.example.com").matches("files.example.com", 443, 443),
            Some(true)
        );
        assert_eq!(
            p("*.example.com").matches("a.b.example.com", 443, 443),
            Some(false)
        );
        assert_eq!(p("*.example.com").matches("example.com", 443, 443), None);
        assert_eq!(
            p("*.example.com").matches("evilexample.com", 443, 443),
            None
        );
        assert_eq!(
            p("localhost:8443").matches("localhost", 8443, 443),
            Some(true)
        );
        assert_eq!(p("localhost").matches("localhost", 8443, 443), None);
        assert_eq!(p("[::1]:9").matches("[::1]", 9, 443), Some(true));
        assert_eq!(p("*:8443").matches("localhost", 8443, 443), Some(false));
        assert_eq!(p("*").matches("localhost", 8443, 443), None);
        for bad in ["", "*x", "a/b", "host:x", "*.*.com"] {
            assert!(HostPattern::parse(bad).is_none(), "{bad}");
        }
    }
}
