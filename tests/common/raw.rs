//! A raw HTTP/1.1 upstream for the security tests: a TCP listener that records every byte of
//! every request exactly as it arrived (no HTTP library in between to merge, drop or normalise
//! a duplicate header or an odd request line) and answers `200 {}` (or a JSON body of the test's choosing).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One request as it arrived on the wire.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// `GET /path?query HTTP/1.1`.
    pub line: String,
    /// Header lines in order, as `(name, value)` with the name as sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The request target (path and query), still percent-encoded.
    pub fn target(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or("")
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or("")
    }

    /// The query's `(name, value)` pairs, percent-decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        match self.target().split_once('?') {
            Some((_, q)) => pairs(q),
            None => Vec::new(),
        }
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The cookie names sent.
    pub fn cookie_names(&self) -> Vec<String> {
        self.header_values("cookie")
            .iter()
            .flat_map(|c| c.split("; "))
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
            .collect()
    }

    /// The top-level names a body carries: form names, multipart part names, JSON keys.
    pub fn body_names(&self) -> Vec<String> {
        let ct = self
            .header_values("content-type")
            .first()
            .copied()
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = String::from_utf8_lossy(&self.body);
        if ct.starts_with("application/x-www-form-urlencoded") {
            pairs(&text).into_iter().map(|(k, _)| k).collect()
        } else if ct.starts_with("multipart/form-data") {
            text.split("\r\n")
                .filter_map(|l| {
                    let l = l.strip_prefix("Content-Disposition: form-data; name=\"")?;
                    Some(l.split('"').next().unwrap_or("").to_string())
                })
                .collect()
        } else if ct.contains("json") {
            serde_json::from_slice::<serde_json::Value>(&self.body)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
                .unwrap_or_default()
        } else {
            Vec::new()
        }
    }
}

/// `a=1&b=2` → decoded pairs (`+` as a space, as form decoding does).
pub fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .to_string()
}

/// The running upstream.
#[derive(Clone)]
pub struct RawUpstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<RawRequest>>>,
}

impl RawUpstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RawRequest> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// Starts the raw upstream on an ephemeral loopback port.
pub async fn start() -> RawUpstream {
    start_answering("{}").await
}

/// [`start`], answering every request `200` with the JSON `body`.
pub async fn start_answering(body: &'static str) -> RawUpstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<RawRequest>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, record.clone(), body));
        }
    });
    RawUpstream { addr, seen }
}

async fn connection(
    mut stream: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<RawRequest>>>,
    answer: &'static str,
) {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        seen.lock().unwrap().push(request);
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A request's head, as it arrived.
pub struct Head {
    pub line: String,
    pub headers: Vec<(String, String)>,
    /// Its `Content-Length`, 0 without one.
    pub content_length: usize,
}

/// Reads from `stream` into `buf` until `buf` holds a whole request head, and takes the head
/// (with its blank line) out of `buf`: what follows is the start of the body. `None` when the
/// connection ends first.
pub async fn read_head<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<Head> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.trim_start().to_string()))
        .collect();
    let content_length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    Some(Head {
        line,
        headers,
        content_length,
    })
}

/// The next request on `stream` (head, then a Content-Length body), exactly as it arrived;
/// `buf` keeps what was read beyond it. `None` when the connection ends first.
pub async fn read_request(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Option<RawRequest> {
    let head = read_head(stream, buf).await?;
    let mut chunk = [0u8; 8192];
    while buf.len() < head.content_length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Vec<u8> = buf.drain(..head.content_length).collect();
    Some(RawRequest {
        line: head.line,
        headers: head.headers,
        body,
    })
}
