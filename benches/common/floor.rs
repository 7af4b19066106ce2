//! The floor row's server: the least a proxy on this stack does for one small call, and nothing
//! of MCP. An axum handler on the same runtime shape as the gateway (multi-thread, one worker
//! per CPU, `TCP_NODELAY`) reads the POST body, sends `GET /pets/7` over a pooled keep-alive
//! connection with a hand-rolled HTTP/1.1 client, reads the answer (`Content-Length` only),
//! and answers with the pet as the text of a fixed JSON-RPC result. No JSON is parsed, no
//! argument checked, no schema, no headers looked at.
//!
//! Why: the issue's absolute targets were set in an hour when nginx answered for 8 µs; this
//! machine's speed moves 2–3× from hour to hour, most of it in the kernel's loopback work that
//! every proxy pays. Measured in the same run, this row says what any proxy costs in that
//! hour, so the gateway's own work is the difference (`../shared/reference/performance.md`
//! measured the same probe at 23 µs with one worker).
//!
//! The bench runs it by starting its own binary again with `BENCH_FLOOR_UPSTREAM` set, so its
//! CPU is a process of its own, read from /proc like the gateway's.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Idle upstream connections, reused last in, first out.
struct Pool {
    addr: String,
    request: Vec<u8>,
    idle: Mutex<Vec<TcpStream>>,
}

/// Serves until killed; prints `url=…` on stderr once listening, like the gateway.
pub fn serve(upstream: &str) {
    let addr = upstream.trim_start_matches("http://").to_string();
    let request = format!("GET /pets/7 HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    let pool = Arc::new(Pool {
        addr,
        request,
        idle: Mutex::new(Vec::new()),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the floor probe's runtime starts");
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the floor probe binds");
        let local = listener.local_addr().expect("a bound address");
        eprintln!("floor probe listening url=http://{local}/mcp");
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = Router::new().route("/mcp", post(call)).with_state(pool);
        axum::serve(listener, app)
            .await
            .expect("the floor probe serves");
    });
}

async fn call(State(pool): State<Arc<Pool>>, _body: Bytes) -> Response {
    // One retry on a fresh connection: an idle one may have been closed by the upstream.
    let pet = match fetch(&pool).await {
        Ok(pet) => pet,
        Err(_) => match fetch(&pool).await {
            Ok(pet) => pet,
            Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        },
    };
    let text = serde_json::to_string(&String::from_utf8_lossy(&pet)).unwrap_or_default();
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":{{"content":[{{"type":"text","text":{text}}}],"isError":false}}}}"#
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// One GET on a pooled connection: the body of the answer.
async fn fetch(pool: &Pool) -> std::io::Result<Vec<u8>> {
    let idle = pool.idle.lock().ok().and_then(|mut v| v.pop());
    let mut conn = match idle {
        Some(c) => c,
        None => {
            let c = TcpStream::connect(&pool.addr).await?;
            c.set_nodelay(true)?;
            c
        }
    };
    conn.write_all(&pool.request).await?;
    let mut buf = Vec::with_capacity(1024);
    let (head_end, length) = loop {
        if conn.read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .split("\r\n")
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or(std::io::ErrorKind::InvalidData)?;
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        if conn.read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    if let Ok(mut idle) = pool.idle.lock() {
        idle.push(conn);
    }
    Ok(buf.split_off(head_end))
}
