//! A recording proxy between the gateway and a real upstream (Prism): every request is kept
//! byte for byte (method, path and query as sent, headers, body) and forwarded unchanged, and
//! the upstream's answer goes back unchanged. Tests assert on both: Prism judges the request
//! against the spec, the recording shows exactly what the gateway put on the wire.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as received (still percent-encoded).
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The status the upstream answered with.
    pub status: u16,
}

impl Recorded {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct AppState {
    target: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

/// The running proxy.
#[derive(Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Proxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

async fn forward(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pq = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut req = state
        .client
        .request(method.clone(), format!("{}{pq}", state.target));
    for (name, value) in &headers {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            req = req.header(name, value);
        }
    }
    let (status, resp_headers, resp_body) = match req.body(body.to_vec()).send().await {
        Ok(resp) => {
            let status = resp.status();
            let h = resp.headers().clone();
            let b = resp.bytes().await.unwrap_or_default();
            (status, h, b)
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from(format!("proxy: {e}")),
        ),
    };
    state.seen.lock().unwrap().push(Recorded {
        method: method.to_string(),
        uri: pq,
        headers,
        body: body.to_vec(),
        status: status.as_u16(),
    });
    let mut out = (status, resp_body).into_response();
    for (name, value) in &resp_headers {
        if name != axum::http::header::CONTENT_LENGTH
            && name != axum::http::header::TRANSFER_ENCODING
        {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Starts a proxy to `target` (`http://host:port`, no trailing slash) on a loopback port.
pub async fn start(target: &str) -> Proxy {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = AppState {
        target: target.trim_end_matches('/').to_string(),
        client: reqwest::Client::new(),
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/", any(forward))
        .route("/{*rest}", any(forward))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Proxy { addr, seen }
}
