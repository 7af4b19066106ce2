//! A real HTTP upstream for tests: an axum server on 127.0.0.1:0 that answers like the
//! petstore example's API and records every request it receives.

use std::net::SocketAddr;
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
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn last(&self) -> Seen {
        self.requests()
            .last()
            .cloned()
            .expect("the upstream received a request")
    }
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
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
            axum::Json(json!({"available": 2, "sold": 1})).into_response()
        }
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
    let app = Router::new()
        .route("/", get(record))
        .route("/{*rest}", any(record))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Upstream { addr, seen }
}
