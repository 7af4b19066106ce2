//! OpenTelemetry traces over OTLP/HTTP (JSON), configured by the standard `OTEL_*` environment
//! variables and off without them.
//!
//! A tool call is a server span (`tools/call get_pet`) and its upstream request a client span
//! (`GET /pets/{petId}`) under it; the caller's W3C `traceparent` (the HTTP header, or the
//! 2026-07-28 `_meta.traceparent`) is the server span's parent, and the client span's context
//! goes upstream as `traceparent`, so the API's own spans join the same trace.
//!
//! Why hand-written rather than the `opentelemetry` crates: the gateway needs two span kinds,
//! one propagator and one exporter, while `opentelemetry_sdk` + `opentelemetry-otlp` (with
//! `prost`/`tonic` or their JSON codecs) add dozens of crates and minutes to a 2-core build,
//! and their global pipeline costs something on every call even when tracing is off. Here,
//! off is one atomic load; on, a finished span is a struct sent down a bounded channel to a
//! task that posts batches with the gateway's existing HTTP client. OTLP/JSON is the
//! protocol's own encoding (the Collector and every OTLP/HTTP backend accept it on
//! `/v1/traces`).

use std::fmt::Write as _;
use std::hash::BuildHasher as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A W3C trace context (`traceparent`: version 00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace.
    pub trace_id: [u8; 16],
    /// The parent span.
    pub span_id: [u8; 8],
    /// Whether the caller records this trace.
    pub sampled: bool,
}

impl TraceParent {
    /// Parses `00-<32 hex>-<16 hex>-<2 hex>`; anything else (or an all-zero id) is ignored, as
    /// the W3C spec says, and the call starts a trace of its own.
    pub fn parse(v: &str) -> Option<Self> {
        let mut parts = v.trim().split('-');
        let (ver, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if ver != "00" || parts.next().is_some() || flags.len() != 2 {
            return None;
        }
        let trace_id: [u8; 16] = hex(trace)?;
        let span_id: [u8; 8] = hex(span)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The header value.
    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            to_hex(&self.trace_id),
            to_hex(&self.span_id),
            u8::from(self.sampled)
        )
    }
}

fn hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn to_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Random ids: SipHash with a per-process random key over a counter. Trace ids need to be
/// unique, not secret.
fn random_u64() -> u64 {
    static KEYS: OnceLock<std::hash::RandomState> = OnceLock::new();
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    KEYS.get_or_init(std::hash::RandomState::new).hash_one(n) | 1
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// An attribute value.
#[derive(Debug, Clone)]
pub enum Attr {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
}

/// The context of the server span of the MCP request being served: the tracing layer puts it
/// in the HTTP request's extensions, so a handler that calls upstream (a resource read, a
/// completion lookup) puts its client span under it.
#[derive(Debug, Clone, Copy)]
pub struct Current(pub TraceParent);

/// A span being recorded; sent to the exporter by [`Span::end`].
#[derive(Debug)]
pub struct Span {
    ctx: TraceParent,
    parent: Option<[u8; 8]>,
    name: String,
    /// OTLP `SpanKind`: 2 server, 3 client.
    kind: u8,
    start: u64,
    attrs: Vec<(&'static str, Attr)>,
    error: Option<String>,
}

/// OTLP span kinds.
const SERVER: u8 = 2;
const CLIENT: u8 = 3;

impl Span {
    /// A server span named by `name` under `parent` (the caller's context), or the root of a
    /// new trace; `None` when tracing is off (and `name` is never called).
    pub fn server(name: impl FnOnce() -> String, parent: Option<TraceParent>) -> Option<Span> {
        exporter()?;
        let ctx = TraceParent {
            trace_id: parent.map_or_else(
                || {
                    let mut t = [0u8; 16];
                    t[..8].copy_from_slice(&random_u64().to_be_bytes());
                    t[8..].copy_from_slice(&random_u64().to_be_bytes());
                    t
                },
                |p| p.trace_id,
            ),
            span_id: random_u64().to_be_bytes(),
            // parentbased_always_on: a caller that does not record is followed.
            sampled: parent.is_none_or(|p| p.sampled),
        };
        Some(Span {
            ctx,
            parent: parent.map(|p| p.span_id),
            name: name(),
            kind: SERVER,
            start: now_nanos(),
            attrs: Vec::new(),
            error: None,
        })
    }

    /// A client span under `parent` (a server span's context); `None` when tracing is off.
    pub fn client_of(parent: TraceParent, name: impl FnOnce() -> String) -> Option<Span> {
        exporter()?;
        Some(Span {
            ctx: TraceParent {
                span_id: random_u64().to_be_bytes(),
                ..parent
            },
            parent: Some(parent.span_id),
            name: name(),
            kind: CLIENT,
            start: now_nanos(),
            attrs: Vec::new(),
            error: None,
        })
    }

    /// This span's context, to propagate.
    pub fn context(&self) -> TraceParent {
        self.ctx
    }

    /// Sets an attribute.
    pub fn set(&mut self, key: &'static str, value: Attr) {
        self.attrs.push((key, value));
    }

    /// Marks the span failed.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.error = Some(message.into());
    }

    /// Ends the span and queues it for export (dropped when the queue is full, or when the
    /// caller does not record the trace).
    pub fn end(self) {
        if !self.ctx.sampled {
            return;
        }
        if let Some(e) = exporter() {
            let _ = e.tx.try_send(Finished {
                span: self,
                end: now_nanos(),
            });
        }
    }
}

#[derive(Debug)]
struct Finished {
    span: Span,
    end: u64,
}

impl Finished {
    fn to_json(&self) -> Value {
        let s = &self.span;
        let attrs: Vec<Value> = s
            .attrs
            .iter()
            .map(|(k, v)| match v {
                Attr::Str(t) => json!({"key": k, "value": {"stringValue": t}}),
                Attr::Int(i) => json!({"key": k, "value": {"intValue": i.to_string()}}),
            })
            .collect();
        let mut span = json!({
            "traceId": to_hex(&s.ctx.trace_id),
            "spanId": to_hex(&s.ctx.span_id),
            "name": s.name,
            "kind": s.kind,
            "startTimeUnixNano": s.start.to_string(),
            "endTimeUnixNano": self.end.to_string(),
            "attributes": attrs,
            "status": match &s.error {
                None => json!({"code": 0}),
                Some(m) => json!({"code": 2, "message": m}),
            },
        });
        if let Some(p) = s.parent {
            span["parentSpanId"] = Value::String(to_hex(&p));
        }
        span
    }
}

/// Where and how spans are exported.
#[derive(Debug)]
struct Exporter {
    tx: mpsc::Sender<Finished>,
}

static EXPORTER: OnceLock<Option<Exporter>> = OnceLock::new();

fn exporter() -> Option<&'static Exporter> {
    EXPORTER.get().and_then(Option::as_ref)
}

/// Whether spans are recorded (one atomic load; false until tracing is configured).
pub fn enabled() -> bool {
    exporter().is_some()
}

/// The exporter's settings, from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `…/v1/traces`.
    pub endpoint: String,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. a backend's API key.
    pub headers: Vec<(String, String)>,
    /// `service.name`.
    pub service: String,
    /// How often a batch is sent.
    pub delay: Duration,
    /// Spans held at most; more are dropped.
    pub queue: usize,
    /// Spans per request at most.
    pub batch: usize,
}

impl Config {
    /// Reads `OTEL_*` through `env`: `Ok(None)` when tracing is not configured, `Err` when it
    /// is configured in a way this exporter cannot serve (gRPC).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Config>, String> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        let endpoint = match (
            get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(e), _) => e,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let protocol = get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_else(|| "http/protobuf".to_string());
        if protocol == "grpc" {
            return Err("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: the gateway exports OTLP over HTTP (set http/json, and the collector's OTLP/HTTP port, usually 4318)".to_string());
        }
        let headers = get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            .or_else(|| get("OTEL_EXPORTER_OTLP_HEADERS"))
            .map(|h| {
                h.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| {
                        let v = percent_encoding::percent_decode_str(v.trim()).decode_utf8_lossy();
                        (k.trim().to_string(), v.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let num = |k: &str, d: u64| get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(d);
        Ok(Some(Config {
            endpoint,
            headers,
            service: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "mcp-gateway".to_string()),
            delay: Duration::from_millis(num("OTEL_BSP_SCHEDULE_DELAY", 5000)),
            queue: num("OTEL_BSP_MAX_QUEUE_SIZE", 2048).max(1) as usize,
            batch: num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512).max(1) as usize,
        }))
    }
}

/// Starts exporting to `config` (inside a Tokio runtime). Later calls change nothing.
pub fn start(config: Config, http: reqwest::Client) {
    let (tx, rx) = mpsc::channel(config.queue);
    if EXPORTER.set(Some(Exporter { tx })).is_ok() {
        tokio::spawn(export(config, http, rx));
    }
}

/// Turns tracing off for good (so [`Span::server`] never asks again).
pub fn disable() {
    let _ = EXPORTER.set(None);
}

async fn export(config: Config, http: reqwest::Client, mut rx: mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(config.batch);
    loop {
        let deadline = tokio::time::sleep(config.delay);
        tokio::pin!(deadline);
        let open = loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(s) => {
                        batch.push(s);
                        if batch.len() >= config.batch { break true; }
                    }
                    None => break false,
                },
                () = &mut deadline => break true,
            }
        };
        if !batch.is_empty() {
            send(&config, &http, &batch).await;
            batch.clear();
        }
        if !open {
            return;
        }
    }
}

async fn send(config: &Config, http: &reqwest::Client, batch: &[Finished]) {
    let spans: Vec<Value> = batch.iter().map(Finished::to_json).collect();
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": config.service}},
            {"key": "service.version", "value": {"stringValue": env!("CARGO_PKG_VERSION")}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "mcp-gateway", "version": env!("CARGO_PKG_VERSION")},
            "spans": spans,
        }],
    }]});
    let mut req = http
        .post(&config.endpoint)
        .timeout(Duration::from_secs(10))
        // Serialised here rather than with reqwest's `json` feature, which the library does not
        // enable (only the test client's dependencies do).
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    for (k, v) in &config.headers {
        req = req.header(k, v);
    }
    match req.send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::warn!(
            status = r.status().as_u16(),
            spans = batch.len(),
            "the trace collector refused spans"
        ),
        Err(e) => {
            tracing::warn!(error = %crate::tls::error_chain(&e), spans = batch.len(), "cannot send spans to the trace collector")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_and_rejects_malformed_values() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let p = TraceParent::parse(v).unwrap();
        assert!(p.sampled);
        assert_eq!(p.header(), v);
        for bad in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e473\r\n-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn configured_only_by_an_endpoint() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Config::from_env(env(&[])), Ok(None));
        let c = Config::from_env(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=a%20b,team=ops"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(
            c.headers,
            [
                ("x-api-key".into(), "a b".into()),
                ("team".into(), "ops".into())
            ]
        );
        assert_eq!(
            Config::from_env(env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_TRACES_EXPORTER", "none")
            ])),
            Ok(None)
        );
        assert!(
            Config::from_env(env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            ]))
            .is_err()
        );
    }
}
