//! A real HTTP upstream for tests: an axum server on 127.0.0.1:0 that answers like the
//! petstore example's API and records every request it receives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as received (still percent-encoded).
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// The running upstream.
#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Version of the inventory: `/store/inventory` answers `available: 2 + version` with the
    /// ETag `"v{version}"` and a Last-Modified that moves with it, and 304 to a matching
    /// `If-None-Match`.
    pub version: Arc<AtomicU64>,
}

#[derive(Clone)]
struct AppState {
    seen: Arc<Mutex<Vec<Seen>>>,
    version: Arc<AtomicU64>,
}

/// A 1x1 PNG, served at `/image.png`.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Changes the inventory (a new body and ETag).
    pub fn bump(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    pub fn last(&self) -> Seen {
        self.requests()
            .last()
            .cloned()
            .expect("the upstream received a request")
    }
}

async fn record(
    State(AppState { seen, version }): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        uri: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: headers.clone(),
        body: String::from_utf8_lossy(&body).to_string(),
    });
    let pet = |id: i64| json!({"id": id, "name": "Rex", "tag": null, "status": "available"});
    match (method.as_str(), path.as_str()) {
        ("GET", "/pets") => axum::Json(json!([pet(1), pet(2)])).into_response(),
        ("POST", "/pets") => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            (StatusCode::CREATED, axum::Json(json!({"id": 99, "name": v["name"], "tag": v.get("tag"), "status": v.get("status")}))).into_response()
        }
        ("GET", "/pets/401") => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": 401, "message": "bad credentials"})),
        )
            .into_response(),
        ("GET", "/pets/404") => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": 404, "message": "no such pet"})),
        )
            .into_response(),
        ("GET", "/pets/500") => {
            (StatusCode::INTERNAL_SERVER_ERROR, "database on fire").into_response()
        }
        ("GET", "/pets/777") => {
            // Answers too slowly for a short tool timeout.
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(pet(777)).into_response()
        }
        ("GET", "/pets/888") => {
            // Does not match the declared output schema (`name` must be a string).
            axum::Json(json!({"id": 888, "name": 5})).into_response()
        }
        ("GET", "/pets/999") => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{not json",
        )
            .into_response(),
        ("GET", p) if p.starts_with("/pets/") => {
            let id = p.trim_start_matches("/pets/").parse().unwrap_or(0);
            axum::Json(pet(id)).into_response()
        }
        ("DELETE", p) if p.starts_with("/pets/") => StatusCode::NO_CONTENT.into_response(),
        ("GET", "/blob/json") => axum::Json(json!({"data": "x".repeat(10_000)})).into_response(),
        ("GET", "/blob/text") => {
            ([("content-type", "text/plain")], "y".repeat(10_000)).into_response()
        }
        ("GET", "/store/inventory") => {
            let v = version.load(Ordering::SeqCst);
            let etag = format!("\"v{v}\"");
            if headers.get("if-none-match").and_then(|h| h.to_str().ok()) == Some(etag.as_str()) {
                return (StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
            }
            let body = axum::Json(json!({"available": 2 + v, "sold": 1}));
            let modified = format!("Wed, 21 Oct 2015 07:{:02}:00 GMT", v % 60);
            ([("etag", etag), ("last-modified", modified)], body).into_response()
        }
        ("GET", "/image.png") => ([("content-type", "image/png")], PNG).into_response(),
        ("POST", "/store/orders") => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            (StatusCode::CREATED, axum::Json(json!({"id": 5, "petId": v["petId"], "quantity": v["quantity"], "delivery": v["delivery"], "status": "placed"}))).into_response()
        }
        _ => (StatusCode::OK, axum::Json(json!({"path": path}))).into_response(),
    }
}

/// Starts the upstream on an ephemeral loopback port.
pub async fn start() -> Upstream {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let version = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route("/", get(record))
        .route("/{*rest}", any(record))
        .with_state(AppState {
            seen: seen.clone(),
            version: version.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Upstream {
        addr,
        seen,
        version,
    }
}

/// Serves `app` on an ephemeral loopback port for the rest of the test; returns its base URL.
pub async fn serve_app(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}
