//! Fetching a file argument's `https://` URL, for a tool that uploads it: only hosts the
//! manifest allows (`upstream.fetch_allow`), never an internal address unless its host is listed
//! exactly, connecting to the very addresses that were checked, following redirects only to
//! allowed hosts (each checked again), and counting bytes against `upstream.fetch_max_bytes`
//! while they arrive. Every refusal happens before anything is sent to the API.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::gateway::files::Files;

/// Redirects followed for one fetch: file hosts redirect once or twice (to a CDN, a signed
/// URL); a longer chain is a loop or a probe.
const MAX_REDIRECTS: usize = 5;

/// Why a URL was not fetched. Each message says what to pass instead.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not a URL the gateway fetches at all.
    #[error("`{url}` is not an https:// URL: only https:// URLs on {allowed} are fetched")]
    Scheme {
        /// The URL.
        url: String,
        /// The allowed hosts, for the message.
        allowed: String,
    },
    /// A host outside `fetch_allow`.
    #[error("the host `{host}`{via} is not one the gateway may fetch from (allowed: {allowed})")]
    NotAllowed {
        /// The host (and port, when not the default).
        host: String,
        /// ` (redirected from …)`, when a redirect led there.
        via: String,
        /// The allowed hosts.
        allowed: String,
    },
    /// An internal address behind an allowed name.
    #[error(
        "the host `{host}` resolves to {addr}, a {kind} address, which the gateway does not fetch from unless `upstream.fetch_allow` lists the host exactly"
    )]
    Internal {
        /// The host.
        host: String,
        /// The address it resolved to.
        addr: IpAddr,
        /// What kind of address it is.
        kind: &'static str,
    },
    /// Name resolution or the connection failed.
    #[error("`{host}` could not be reached: {reason}")]
    Unreachable {
        /// The host.
        host: String,
        /// The cause.
        reason: String,
    },
    /// The file host answered with an error.
    #[error("`{host}` answered {status} for the file")]
    Status {
        /// The host.
        host: String,
        /// Its status.
        status: u16,
    },
    /// Too many redirects.
    #[error("`{host}` redirected more than {MAX_REDIRECTS} times")]
    Redirects {
        /// The last host.
        host: String,
    },
    /// Larger than `fetch_max_bytes`.
    #[error(
        "the file at `{host}` is larger than the {max} bytes the gateway fetches (upstream.fetch_max_bytes)"
    )]
    TooLarge {
        /// The host.
        host: String,
        /// The cap.
        max: usize,
    },
}

/// A fetched file.
#[derive(Debug)]
pub struct Fetched {
    /// Its bytes (at most the cap).
    pub data: Bytes,
    /// Its media type, as the file host labelled it.
    pub content_type: Option<String>,
}

fn allowed(files: &Files) -> String {
    if files.fetch_allow.is_empty() {
        "no host: `upstream.fetch_allow` is empty".to_string()
    } else {
        files
            .fetch_allow
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The kind of an address the gateway does not fetch from by default, if `ip` is one.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            // An IPv4 address inside IPv6 (mapped, or NAT64's well-known prefix) is that address.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let o = v6.octets();
                return v4_kind(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("private (unique local)")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else {
                None
            }
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if o[0] == 0 {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("reserved")
    } else {
        None
    }
}

/// The host, port and checked addresses of `url`, or why it may not be fetched.
async fn check(files: &Files, url: &url::Url, via: &str) -> Result<Vec<SocketAddr>, FetchError> {
    if url.scheme() != "https" {
        return Err(FetchError::Scheme {
            url: url.to_string(),
            allowed: allowed(files),
        });
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or(443);
    let shown = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let exact = files
        .fetch_allow
        .iter()
        .filter_map(|p| p.matches(&host, port, 443))
        .max();
    let Some(exact) = exact else {
        return Err(FetchError::NotAllowed {
            host: shown,
            via: via.to_string(),
            allowed: allowed(files),
        });
    };
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        _ => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| FetchError::Unreachable {
                host: shown.clone(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(FetchError::Unreachable {
            host: shown,
            reason: "the name has no address".into(),
        });
    }
    if !exact {
        // Every address must be public: the connection may use any of them.
        if let Some((addr, kind)) = addrs
            .iter()
            .find_map(|a| internal_kind(a.ip()).map(|k| (a.ip(), k)))
        {
            return Err(FetchError::Internal {
                host: shown,
                addr,
                kind,
            });
        }
    }
    Ok(addrs)
}

/// A file body to send on as it arrives, with the length its host declared.
#[derive(Debug)]
pub struct Streamed {
    /// The declared length (at most the cap).
    pub length: u64,
    /// The bytes, as they arrive.
    pub body: reqwest::Body,
}

/// A file host's answer that passed every rule, its body not read yet.
#[derive(Debug)]
pub struct Opened {
    resp: reqwest::Response,
    host: String,
    max: usize,
}

impl Opened {
    /// The length the file host declared (checked against the cap by `open`), if it did.
    pub fn length(&self) -> Option<u64> {
        self.resp.content_length()
    }

    /// The file as a body to send on as it arrives, framed by its declared `length`.
    pub fn stream(self, length: u64) -> Streamed {
        Streamed {
            length,
            body: reqwest::Body::wrap_stream(self.resp.bytes_stream()),
        }
    }

    /// Reads the whole file, refusing it past the cap.
    pub async fn read(mut self) -> Result<Fetched, FetchError> {
        let content_type = self
            .resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut buf = BytesMut::new();
        loop {
            let chunk = self
                .resp
                .chunk()
                .await
                .map_err(|e| FetchError::Unreachable {
                    host: self.host.clone(),
                    reason: crate::tls::error_chain(&e),
                })?;
            let Some(chunk) = chunk else { break };
            if buf.len() + chunk.len() > self.max {
                return Err(FetchError::TooLarge {
                    host: self.host,
                    max: self.max,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            data: buf.freeze(),
            content_type,
        })
    }
}

/// Fetches `url` under `files`' rules within `timeout`.
pub async fn fetch(files: &Files, url: &str, timeout: Duration) -> Result<Fetched, FetchError> {
    open(files, url, timeout).await?.read().await
}

/// Connects to `url` under `files`' rules (following allowed redirects) and checks the answer's
/// status and declared length; the body is left to read or stream.
pub async fn open(files: &Files, url: &str, timeout: Duration) -> Result<Opened, FetchError> {
    let mut current = url::Url::parse(url).map_err(|_| FetchError::Scheme {
        url: url.to_string(),
        allowed: allowed(files),
    })?;
    let mut via = String::new();
    for _ in 0..=MAX_REDIRECTS {
        let addrs = check(files, &current, &via).await?;
        let host = current.host_str().unwrap_or_default().to_string();
        let unreachable = |e: reqwest::Error| FetchError::Unreachable {
            host: host.clone(),
            reason: crate::tls::error_chain(&e).replace(current.as_str(), &host),
        };
        // A client of its own, pinned to the checked addresses: the name is not looked up
        // again between the check and the connection (no DNS rebinding), and no proxy from the
        // environment resolves it either.
        let mut builder = super::client_builder()
            .no_proxy()
            .resolve_to_addrs(&host, &addrs)
            .timeout(timeout);
        if let Some(pem) = &files.fetch_ca {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(&unreachable)?;
            builder = builder.tls_certs_only(certs);
        }
        let client = builder.build().map_err(&unreachable)?;
        let resp = client
            .get(current.clone())
            .send()
            .await
            .map_err(&unreachable)?;
        let status = resp.status();
        if status.is_redirection() {
            let next = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| current.join(l).ok());
            let Some(next) = next else {
                return Err(FetchError::Status {
                    host,
                    status: status.as_u16(),
                });
            };
            via = format!(" (redirected from `{host}`)");
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                host,
                status: status.as_u16(),
            });
        }
        let max = files.fetch_max_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(FetchError::TooLarge { host, max });
        }
        return Ok(Opened { resp, host, max });
    }
    Err(FetchError::Redirects {
        host: current.host_str().unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named_and_public_ones_pass() {
        let kind = |s: &str| internal_kind(s.parse().unwrap());
        assert_eq!(kind("127.0.0.1"), Some("loopback"));
        assert_eq!(kind("10.1.2.3"), Some("private"));
        assert_eq!(kind("172.16.0.1"), Some("private"));
        assert_eq!(kind("192.168.1.1"), Some("private"));
        assert_eq!(kind("169.254.169.254"), Some("cloud metadata"));
        assert_eq!(kind("169.254.1.1"), Some("link-local"));
        assert_eq!(kind("100.64.0.1"), Some("shared (carrier-grade NAT)"));
        assert_eq!(kind("0.0.0.0"), Some("unspecified"));
        assert_eq!(kind("224.0.0.1"), Some("multicast"));
        assert_eq!(kind("::1"), Some("loopback"));
        assert_eq!(kind("::"), Some("unspecified"));
        assert_eq!(kind("fd00:ec2::254"), Some("private (unique local)"));
        assert_eq!(kind("fe80::1"), Some("link-local"));
        assert_eq!(kind("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(kind("64:ff9b::a9fe:a9fe"), Some("cloud metadata"));
        for public in [
            "93.184.216.34",
            "100.128.0.1",
            "2606:4700::1111",
            "172.32.0.1",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
    }
}
