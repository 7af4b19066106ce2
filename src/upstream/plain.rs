//! The client for plain-HTTP upstreams: HTTP/1.1 on pooled TCP connections, written and read
//! by the calling task itself, with the response decompression reqwest applies.
//!
//! Why not hyper-util's pool: each of its connections is a task of its own, so every call
//! crosses two tasks through a channel and a pool checkout future; reqwest adds its
//! per-request layers on top. Measured with benches/call.rs (same machine, alternating A/B
//! runs), a small call cost 50–63 µs of gateway CPU through this client against 63–67 µs
//! through hyper-util's, and the gateway's peak memory fell by a third. The usual deployment (the gateway
//! beside its API, a cluster-internal `http://` service) takes this path. reqwest still serves
//! everything else: HTTPS, a client certificate or private CA, a proxy named in the environment
//! (reqwest honours `HTTP_PROXY`/`ALL_PROXY`; this client does not, so it is not used when one
//! is set), multipart bodies and bodies streamed from a fetched file.
//!
//! What it reads, after RFC 9112: interim (1xx) answers are skipped; a body is framed by
//! `Transfer-Encoding: chunked`, `Content-Length` or the end of the connection; HEAD, 204 and
//! 304 answers have none. A connection goes back to the pool only after an HTTP/1.1 answer that
//! was read exactly to its end and did not say `Connection: close`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{UpstreamError, UpstreamResponse};

/// The most an answer's head (status line and headers) may take.
const MAX_HEAD: usize = 64 * 1024;
/// The most headers an answer may have (hyper's default too).
const MAX_HEADERS: usize = 100;
/// The most a chunk-size line or a trailer line may take.
const MAX_LINE: usize = 8 * 1024;
/// The most idle connections kept per upstream; more are closed when they come back.
const MAX_IDLE_PER_HOST: usize = 1024;
/// The codings asked for, as reqwest's decompression asks for them.
const ACCEPT_ENCODING: &str = "gzip, br, zstd, deflate";

/// The pooled plain-HTTP client (cheap to clone: the pool is shared).
#[derive(Clone)]
pub(crate) struct Plain {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plain")
    }
}

/// Idle connections by `host:port`, most recently used last.
struct Pool {
    idle: Duration,
    hosts: Mutex<HashMap<Box<str>, Vec<Idle>>>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The proxy variables reqwest reads for an `http://` request.
const PROXY_VARS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

impl Plain {
    /// The client, or `None` when the environment names a proxy for plain HTTP (then reqwest,
    /// which honours it, sends every request).
    pub(crate) fn new(idle: Duration) -> Option<Self> {
        if PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()))
        {
            return None;
        }
        let pool = Arc::new(Pool {
            idle,
            hosts: Mutex::new(HashMap::new()),
        });
        // Connections the upstream closed while idle are let go within one idle period even
        // when no call comes to take them (then they would sit half-closed).
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(reap(Arc::downgrade(&pool), idle));
        }
        Some(Self { pool })
    }

    /// Sends one request and reads its answer (at most `max_bytes` of it, decompressed),
    /// within `timeout` for the whole exchange.
    pub(crate) async fn send(
        &self,
        req: Request,
        max_bytes: usize,
        host: &str,
        timeout: Duration,
    ) -> Result<UpstreamResponse, UpstreamError> {
        match tokio::time::timeout(timeout, self.exchange(&req, max_bytes)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(failure)) => Err(failure.into_error(host)),
            Err(_) => Err(UpstreamError::Timeout {
                host: host.to_string(),
                timeout,
            }),
        }
    }

    async fn exchange(&self, req: &Request, max_bytes: usize) -> Result<UpstreamResponse, Failure> {
        let mut conn = match self.pool.checkout(&req.addr) {
            Some(mut conn) => match conn.write(&req.bytes).await {
                Ok(()) => conn,
                // The upstream had closed the pooled connection and nothing of the request
                // left: a new connection carries it, whatever the method (as hyper does).
                Err(Unsent::Nothing) => Conn::sent(req).await?,
                Err(e) => return Err(e.failure()),
            },
            None => Conn::sent(req).await?,
        };
        let (answer, reusable) = conn.read_answer(req.head, max_bytes).await?;
        if reusable {
            self.pool.put(&req.addr, conn);
        }
        Ok(answer)
    }
}

/// Closes idle connections past the idle timeout, every idle period, while the pool lives.
async fn reap(pool: Weak<Pool>, every: Duration) {
    let every = every.max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let Some(pool) = pool.upgrade() else { return };
        let now = Instant::now();
        let mut hosts = pool.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts.retain(|_, conns| {
            conns.retain(|c| now.duration_since(c.since) < pool.idle);
            !conns.is_empty()
        });
    }
}

impl Pool {
    /// The most recently used idle connection to `addr` that is still open.
    fn checkout(&self, addr: &str) -> Option<Conn> {
        let now = Instant::now();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let conns = hosts.get_mut(addr)?;
        while let Some(idle) = conns.pop() {
            if now.duration_since(idle.since) < self.idle && idle.conn.open() {
                return Some(idle.conn);
            }
        }
        None
    }

    fn put(&self, addr: &str, mut conn: Conn) {
        // The read buffer shares its memory with the last answer's body (which may be large):
        // an idle connection must not keep it alive.
        conn.buf = BytesMut::new();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let conns = match hosts.get_mut(addr) {
            Some(conns) => conns,
            None => hosts.entry(addr.into()).or_default(),
        };
        if conns.len() < MAX_IDLE_PER_HOST {
            conns.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}

/// One request, ready to write: its bytes, where to send them, and whether its answer can
/// have a body.
pub(crate) struct Request {
    /// `host:port`, the pool's key and the address to connect to.
    addr: Box<str>,
    /// A HEAD request: the answer has no body whatever its headers say.
    head: bool,
    bytes: Vec<u8>,
}

/// `url` as a URI this client sends, or `None` when it is not plain HTTP, not a URI hyper's
/// parser takes, or carries credentials in its authority (reqwest then sends it).
pub(crate) fn uri(url: &str) -> Option<http::Uri> {
    if !url.starts_with("http://") {
        return None;
    }
    let uri: http::Uri = url.parse().ok()?;
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    Some(uri)
}

/// The request: `host` first, `headers` in order, then `accept: */*` unless one was given (as
/// reqwest adds it), `accept-encoding` unless one was given, the body's `content-type` and
/// `content-length`. The framing headers are this client's own: any in `headers` are dropped.
pub(crate) fn request(
    method: Method,
    uri: &http::Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<(HeaderValue, Vec<u8>)>,
) -> Request {
    let authority = uri.authority().map_or("", |a| a.as_str());
    let addr: Box<str> = match uri.port_u16() {
        Some(_) => authority.into(),
        None => format!("{authority}:80").into(),
    };
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let body_len = body.as_ref().map_or(0, |(_, data)| data.len());
    let mut out = Vec::with_capacity(256 + target.len() + body_len);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(if target.is_empty() { "/" } else { target }.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(authority.as_bytes());
    out.extend_from_slice(b"\r\n");
    let (mut accept, mut encoding) = (false, false);
    for (name, value) in &headers {
        if [
            header::HOST,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::CONNECTION,
        ]
        .contains(name)
        {
            continue;
        }
        accept |= name == header::ACCEPT;
        encoding |= name == header::ACCEPT_ENCODING;
        if body.is_some() && name == header::CONTENT_TYPE {
            continue; // the body's own is written below
        }
        line(&mut out, name.as_str(), value.as_bytes());
    }
    if !accept {
        line(&mut out, "accept", b"*/*");
    }
    if !encoding {
        line(&mut out, "accept-encoding", ACCEPT_ENCODING.as_bytes());
    }
    match &body {
        Some((content_type, data)) => {
            line(&mut out, "content-type", content_type.as_bytes());
            line(
                &mut out,
                "content-length",
                data.len().to_string().as_bytes(),
            );
        }
        // A request whose method gives its content a meaning says that it has none: some
        // servers answer 411 to a POST without a length.
        None if [Method::POST, Method::PUT, Method::PATCH].contains(&method) => {
            line(&mut out, "content-length", b"0");
        }
        None => {}
    }
    out.extend_from_slice(b"\r\n");
    if let Some((_, data)) = body {
        out.extend_from_slice(&data);
    }
    Request {
        addr,
        head: method == Method::HEAD,
        bytes: out,
    }
}

fn line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// What went wrong in an exchange, in the words the agent is given.
#[derive(Debug)]
enum Failure {
    /// No connection (nothing was sent).
    Connect(String),
    /// The request may have reached the API.
    Sent(String),
}

impl Failure {
    fn into_error(self, host: &str) -> UpstreamError {
        let host = host.to_string();
        match self {
            Failure::Connect(reason) => UpstreamError::Connect { host, reason },
            Failure::Sent(reason) => UpstreamError::Other { host, reason },
        }
    }

    fn closed_before() -> Self {
        Failure::Sent(super::CLOSED_BEFORE.into())
    }

    fn closed_partway() -> Self {
        Failure::Sent(super::CLOSED_PARTWAY.into())
    }

    fn invalid(what: impl std::fmt::Display) -> Self {
        Failure::Sent(format!("the answer is not valid HTTP/1.1: {what}"))
    }

    /// A read that failed; `partway` when some of the answer had arrived.
    fn read(e: &std::io::Error, partway: bool) -> Self {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        let dropped = matches!(
            e.kind(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
        );
        match (dropped, partway) {
            (true, true) => Self::closed_partway(),
            (true, false) => Self::closed_before(),
            (false, _) => Failure::Sent(e.to_string()),
        }
    }
}

/// A write that failed, and whether any of the request had left.
enum Unsent {
    Nothing,
    Some(std::io::Error),
}

impl Unsent {
    fn failure(self) -> Failure {
        match self {
            Unsent::Nothing => Failure::closed_before(),
            Unsent::Some(e) => Failure::read(&e, false),
        }
    }
}

/// How an answer's body is delimited.
#[derive(Debug, PartialEq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the upstream closes the connection.
    Close,
}

/// One connection and what was read from it beyond the last answer.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    async fn connect(addr: &str) -> Result<Self, Failure> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Failure::Connect(format!("tcp connect error: {e}")))?;
        // Small requests and answers: no waiting for more to fill a segment.
        stream
            .set_nodelay(true)
            .map_err(|e| Failure::Connect(format!("tcp connect error: {e}")))?;
        Ok(Self {
            stream,
            buf: BytesMut::new(),
        })
    }

    /// A new connection with `req` written on it.
    async fn sent(req: &Request) -> Result<Self, Failure> {
        let mut conn = Self::connect(&req.addr).await?;
        conn.write(&req.bytes).await.map_err(Unsent::failure)?;
        Ok(conn)
    }

    /// Whether an idle connection is still open: the upstream has neither closed it nor sent
    /// anything unasked. Costs no system call unless the socket became readable.
    fn open(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match self.stream.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            Poll::Ready(Ok(())) => matches!(
                self.stream.try_read(&mut [0u8; 1]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            ),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Unsent> {
        let mut sent = 0;
        while sent < bytes.len() {
            match self.stream.write(&bytes[sent..]).await {
                Ok(0) | Err(_) if sent == 0 => return Err(Unsent::Nothing),
                Ok(0) => return Err(Unsent::Some(std::io::ErrorKind::WriteZero.into())),
                Ok(n) => sent += n,
                Err(e) => return Err(Unsent::Some(e)),
            }
        }
        Ok(())
    }

    /// Reads more into the buffer: the number of bytes read, 0 at the end of the connection.
    async fn fill(&mut self, partway: bool) -> Result<usize, Failure> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(16 * 1024);
        }
        self.stream
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| Failure::read(&e, partway))
    }

    /// Like [`Conn::fill`], where the end of the connection cuts the answer short.
    async fn more(&mut self) -> Result<(), Failure> {
        match self.fill(true).await? {
            0 => Err(Failure::closed_partway()),
            _ => Ok(()),
        }
    }

    /// Reads one answer; `true` with it when the connection can carry another request.
    async fn read_answer(
        &mut self,
        head_only: bool,
        max_bytes: usize,
    ) -> Result<(UpstreamResponse, bool), Failure> {
        let mut interim = false;
        let (status, version, mut headers) = loop {
            if let Some((code, version, headers)) = parse_head(&mut self.buf)? {
                // 100 Continue, 103 Early Hints: the answer follows.
                if (100..200).contains(&code) && code != 101 {
                    interim = true;
                    continue;
                }
                let status = StatusCode::from_u16(code).map_err(Failure::invalid)?;
                break (status, version, headers);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(Failure::invalid("the head is longer than 64 KiB"));
            }
            let partway = interim || !self.buf.is_empty();
            if self.fill(partway).await? == 0 {
                return Err(if partway {
                    Failure::closed_partway()
                } else {
                    Failure::closed_before()
                });
            }
        };
        let framing = framing(head_only, status, &headers)?;
        // An answer with both framings may be an attempt to smuggle a second one: the
        // connection ends with it (RFC 9112 §6.3).
        let both = headers.contains_key(header::TRANSFER_ENCODING)
            && headers.contains_key(header::CONTENT_LENGTH);
        let mut reusable = version == 1
            && framing != Framing::Close
            && !both
            && !has_token(&headers, header::CONNECTION, "close");
        let (body, truncated) = match framing {
            Framing::Empty => (Bytes::new(), false),
            Framing::Length(len) => self.length_body(len, max_bytes).await?,
            Framing::Chunked => self.chunked_body(max_bytes).await?,
            Framing::Close => self.close_body(max_bytes).await?,
        };
        reusable &= !truncated && self.buf.is_empty();
        let (body, truncated) = match decoding(&headers) {
            Some(coding) => {
                headers.remove(header::CONTENT_ENCODING);
                headers.remove(header::CONTENT_LENGTH);
                decode(coding, &body, max_bytes, truncated).await?
            }
            None => (body, truncated),
        };
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer = UpstreamResponse {
            status,
            content_type,
            body,
            truncated,
            headers,
        };
        Ok((answer, reusable))
    }

    async fn length_body(&mut self, len: u64, max_bytes: usize) -> Result<(Bytes, bool), Failure> {
        let want = usize::try_from(len).unwrap_or(usize::MAX).min(max_bytes);
        let truncated = len > want as u64;
        if self.buf.len() < want {
            self.buf.reserve(want - self.buf.len());
        }
        while self.buf.len() < want {
            self.more().await?;
        }
        Ok((self.buf.split_to(want).freeze(), truncated))
    }

    async fn chunked_body(&mut self, max_bytes: usize) -> Result<(Bytes, bool), Failure> {
        let mut body = BytesMut::new();
        loop {
            let size_line = self.line().await?;
            let size = chunk_size(&size_line)?;
            if size == 0 {
                // Trailers, which the gateway does not use, up to the empty line.
                let mut total = 0;
                loop {
                    let trailer = self.line().await?;
                    if trailer.is_empty() {
                        return Ok((body.freeze(), false));
                    }
                    total += trailer.len();
                    if total > MAX_HEAD {
                        return Err(Failure::invalid("the trailers are longer than 64 KiB"));
                    }
                }
            }
            let mut left = size;
            while left > 0 {
                if self.buf.is_empty() {
                    self.more().await?;
                }
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                let piece = self.buf.split_to(take);
                if !super::answer::keep(&mut body, &piece, max_bytes) {
                    return Ok((body.freeze(), true));
                }
                left -= take as u64;
            }
            let end = self.line().await?;
            if !end.is_empty() {
                return Err(Failure::invalid("a chunk is longer than its size"));
            }
        }
    }

    async fn close_body(&mut self, max_bytes: usize) -> Result<(Bytes, bool), Failure> {
        loop {
            if self.buf.len() > max_bytes {
                self.buf.truncate(max_bytes);
                return Ok((self.buf.split().freeze(), true));
            }
            if self.fill(true).await? == 0 {
                return Ok((self.buf.split().freeze(), false));
            }
        }
    }

    /// The next line (without its line break), which must end within [`MAX_LINE`] bytes.
    async fn line(&mut self) -> Result<BytesMut, Failure> {
        let mut searched = 0;
        loop {
            if let Some(at) = self.buf[searched..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf.split_to(searched + at + 1);
                line.truncate(line.len() - 1);
                if line.last() == Some(&b'\r') {
                    line.truncate(line.len() - 1);
                }
                return Ok(line);
            }
            searched = self.buf.len();
            if searched > MAX_LINE {
                return Err(Failure::invalid("a chunk line is longer than 8 KiB"));
            }
            self.more().await?;
        }
    }
}

/// The head at the start of `buf`, once all of it arrived, split off `buf`: its status code,
/// minor version and headers. The header values share the head's memory (one reference count
/// each) instead of a copy and an allocation apiece, as hyper's own client reads them.
fn parse_head(buf: &mut BytesMut) -> Result<Option<(u16, u8, HeaderMap)>, Failure> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut slots);
    let used = match head.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Failure::invalid(e)),
    };
    let code = head.code.unwrap_or_default();
    let version = head.version.unwrap_or_default();
    // Where each value lies in `buf` (httparse's slices borrow it until the head is split off).
    let start = buf.as_ptr() as usize;
    let mut named = Vec::with_capacity(head.headers.len());
    for h in head.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(Failure::invalid)?;
        let at = h.value.as_ptr() as usize - start;
        named.push((name, at..at + h.value.len()));
    }
    let text = buf.split_to(used).freeze();
    let mut headers = HeaderMap::with_capacity(named.len());
    for (name, range) in named {
        let value = HeaderValue::from_maybe_shared(text.slice(range)).map_err(Failure::invalid)?;
        headers.append(name, value);
    }
    Ok(Some((code, version, headers)))
}

/// How the body of an answer with `status` and `headers` is delimited (RFC 9112 §6.3).
fn framing(head_only: bool, status: StatusCode, headers: &HeaderMap) -> Result<Framing, Failure> {
    if head_only
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Framing::Empty);
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        let last = headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .rfind(|t| !t.is_empty());
        return Ok(match last {
            Some(t) if t.eq_ignore_ascii_case(b"chunked") => Framing::Chunked,
            _ => Framing::Close,
        });
    }
    let mut length = None;
    for v in headers.get_all(header::CONTENT_LENGTH) {
        for part in v.as_bytes().split(|&b| b == b',') {
            let n = std::str::from_utf8(part.trim_ascii())
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| Failure::invalid("its Content-Length is not a number"))?;
            if length.is_some_and(|l| l != n) {
                return Err(Failure::invalid("it has two different Content-Lengths"));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// The size on a chunk-size line (`1a;ext=1`).
fn chunk_size(line: &[u8]) -> Result<u64, Failure> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(Failure::invalid("a chunk size is missing or too long"));
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let d = (b as char)
            .to_digit(16)
            .ok_or_else(|| Failure::invalid("a chunk size is not hexadecimal"))?;
        Ok(n * 16 + u64::from(d))
    })
}

fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// The one content coding of the answer this client decodes, if it has one.
fn decoding(headers: &HeaderMap) -> Option<&'static str> {
    let mut all = headers.get_all(header::CONTENT_ENCODING).iter();
    let value = all.next()?;
    if all.next().is_some() {
        return None;
    }
    let coding = value.to_str().ok()?.trim();
    ["gzip", "x-gzip", "deflate", "br", "zstd"]
        .into_iter()
        .find(|c| coding.eq_ignore_ascii_case(c))
}

/// The body decoded from `coding`, at most `max_bytes` of it. A body already cut at the limit
/// ends wherever its decoding stops.
async fn decode(
    coding: &str,
    data: &[u8],
    max_bytes: usize,
    cut: bool,
) -> Result<(Bytes, bool), Failure> {
    use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
    let reader: std::pin::Pin<Box<dyn AsyncRead + Send + '_>> = match coding {
        "deflate" => Box::pin(ZlibDecoder::new(data)),
        "br" => Box::pin(BrotliDecoder::new(data)),
        "zstd" => Box::pin(ZstdDecoder::new(data)),
        _ => Box::pin(GzipDecoder::new(data)),
    };
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut out = Vec::new();
    let read = reader.take(limit).read_to_end(&mut out).await;
    let truncated = out.len() > max_bytes || cut;
    out.truncate(max_bytes);
    match read {
        Ok(_) => Ok((out.into(), truncated)),
        Err(_) if cut => Ok((out.into(), true)),
        Err(e) => Err(Failure::Sent(format!(
            "the answer's {coding} content could not be decoded: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> HeaderMap {
        let Ok(Some((_, _, headers))) = parse_head(&mut BytesMut::from(text)) else {
            panic!("not a head: {text:?}");
        };
        headers
    }

    #[test]
    fn a_body_is_framed_as_rfc_9112_says() {
        let ok = StatusCode::OK;
        let cases = [
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
                Framing::Length(5),
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n",
                Framing::Length(5),
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n",
                Framing::Chunked,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n",
                Framing::Chunked,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
                Framing::Close,
            ),
            ("HTTP/1.1 200 OK\r\n\r\n", Framing::Close),
        ];
        for (text, want) in cases {
            assert_eq!(framing(false, ok, &head(text)).ok(), Some(want), "{text:?}");
        }
        let sized = head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
        assert_eq!(framing(true, ok, &sized).ok(), Some(Framing::Empty));
        for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
            assert_eq!(framing(false, status, &sized).ok(), Some(Framing::Empty));
        }
        for bad in ["5, 6", "-1", "0x5", ""] {
            let text = format!("HTTP/1.1 200 OK\r\ncontent-length: {bad}\r\n\r\n");
            assert!(framing(false, ok, &head(&text)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chunk_sizes_are_hexadecimal_with_extensions_ignored() {
        assert_eq!(chunk_size(b"1a").ok(), Some(26));
        assert_eq!(chunk_size(b"1A;name=value").ok(), Some(26));
        assert_eq!(chunk_size(b"0").ok(), Some(0));
        for bad in [&b""[..], b"g", b"-1", b"1234567890abcdef0"] {
            assert!(chunk_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_client_owns_host_and_framing_and_writes_the_body_once() {
        let pets = uri("http://127.0.0.1:8080/pets?limit=2").unwrap_or_else(|| panic!("uri"));
        let headers = vec![
            (header::HOST, HeaderValue::from_static("evil.example")),
            (header::CONTENT_LENGTH, HeaderValue::from_static("999")),
            (
                header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            ),
            (header::CONNECTION, HeaderValue::from_static("close")),
            (
                HeaderName::from_static("x-tenant"),
                HeaderValue::from_static("acme"),
            ),
        ];
        let body = Some((HeaderValue::from_static("application/json"), b"{}".to_vec()));
        let req = request(Method::POST, &pets, headers, body);
        assert_eq!(&*req.addr, "127.0.0.1:8080");
        assert_eq!(
            String::from_utf8_lossy(&req.bytes),
            "POST /pets?limit=2 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-tenant: acme\r\n\
             accept: */*\r\naccept-encoding: gzip, br, zstd, deflate\r\n\
             content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
        let bare = uri("http://api.internal").unwrap_or_else(|| panic!("uri"));
        let get = request(Method::GET, &bare, Vec::new(), None);
        assert_eq!(&*get.addr, "api.internal:80");
        assert!(
            String::from_utf8_lossy(&get.bytes)
                .starts_with("GET / HTTP/1.1\r\nhost: api.internal\r\n")
        );
        assert!(!String::from_utf8_lossy(&get.bytes).contains("content-length"));
        let post = request(Method::POST, &bare, Vec::new(), None);
        assert!(String::from_utf8_lossy(&post.bytes).contains("content-length: 0\r\n"));
        assert!(uri("http://user:pw@api.internal/").is_none());
        assert!(uri("https://api.internal/").is_none());
    }
}
