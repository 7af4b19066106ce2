//! The gateway served inside the test process, for tests that need only the protocol: the
//! manifest compiled as `serve` compiles it, the same router (`server::routes::router`) and the
//! same listener (`server::serve`) as `mcp-gateway serve`, on an ephemeral port of the test's
//! runtime. No binary to start, no Node, nothing to wait for but the socket.
//!
//! Tests of the process itself (flags, signals, logs, stdio, reloads of files) and of
//! interoperability with the official TypeScript SDK keep starting the binary
//! ([`super::gateway`]).

use std::path::Path;
use std::time::Duration;

use mcp_gateway::mcp::http::HttpOptions;
use mcp_gateway::server::{Lifecycle, Limits};

use super::{path, write};

/// A gateway served by the test process. Dropping it stops the listener.
pub struct InProcess {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    life: Lifecycle,
    /// The folder of a manifest written for this gateway, kept while it serves.
    _dir: Option<tempfile::TempDir>,
}

impl InProcess {
    /// Serves `manifest` with `opts` (their `draining` token is replaced by the gateway's own).
    pub async fn start(manifest: &Path, opts: HttpOptions) -> InProcess {
        let outcome = mcp_gateway::compile::compile_to_serve(manifest).await;
        let compiled = outcome
            .result
            .unwrap_or_else(|d| panic!("{} does not compile: {d:#?}", manifest.display()));
        let life = Lifecycle::default();
        let opts = HttpOptions {
            draining: life.draining.clone(),
            ..opts
        };
        let reloader = mcp_gateway::reload::Reloader::start(
            manifest.to_path_buf(),
            compiled,
            life.stop.clone(),
        )
        .await
        .expect("the gateway starts");
        let app = mcp_gateway::server::routes::app(reloader, &opts, &life.stop);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("an ephemeral port");
        let addr = listener.local_addr().expect("a bound address");
        tokio::spawn(mcp_gateway::server::serve(
            listener,
            app,
            Limits::default(),
            life.clone(),
            Duration::from_secs(1),
        ));
        InProcess {
            url: format!("http://{addr}/mcp"),
            life,
            _dir: None,
        }
    }

    /// `http://127.0.0.1:PORT` (no path).
    pub fn origin(&self) -> String {
        self.url.trim_end_matches("/mcp").to_string()
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.life.draining.cancel();
        self.life.stop.cancel();
    }
}

/// The petstore example in front of `upstream` (a URL), served in process. The process's
/// environment is shared by every test running at once, so instead of `PETSTORE_BASE_URL` a
/// copy of the example's folder names the URL in its manifest.
pub async fn petstore(upstream: &str, opts: HttpOptions) -> InProcess {
    petstore_edited(upstream, opts, |text| text).await
}

/// [`petstore`] with its manifest's text changed by `edit` first.
pub async fn petstore_edited(
    upstream: &str,
    opts: HttpOptions,
    edit: impl FnOnce(String) -> String,
) -> InProcess {
    let example = path("gateways/petstore");
    let dir = tempfile::tempdir().expect("a temp dir");
    for entry in std::fs::read_dir(&example).expect("the petstore example") {
        let from = entry.expect("a directory entry").path();
        std::fs::copy(
            &from,
            dir.path().join(from.file_name().expect("a file name")),
        )
        .expect("the example's files copy");
    }
    let text = std::fs::read_to_string(example.join("gateway.yaml")).expect("its manifest");
    let text = text.replace("${PETSTORE_BASE_URL:-http://127.0.0.1:4010}", upstream);
    assert!(
        text.contains(upstream),
        "the petstore manifest no longer names its base URL as this helper expects"
    );
    let manifest = write(dir.path(), "gateway.yaml", &edit(text));
    let mut gw = InProcess::start(&manifest, opts).await;
    gw._dir = Some(dir);
    gw
}

/// A fresh test upstream and the petstore example in front of it, served in process on `rt`
/// (what [`super::gateway::petstore`] does with the binary).
pub fn petstore_on(
    rt: &tokio::runtime::Runtime,
    opts: HttpOptions,
) -> (super::upstream::Upstream, InProcess) {
    let up = rt.block_on(super::upstream::start());
    let gw = rt.block_on(petstore(&up.url(), opts));
    (up, gw)
}
