//! A folder of gateways served by one process: `serve gateways/` serves every subfolder holding
//! a `gateway.yaml` at `/{name}/mcp`, where `name` is the manifest's `name`.
//!
//! Each gateway is isolated: its own compiled snapshot, upstream connection pool, credentials,
//! reloader and file watcher. A folder that is added, changed or removed adds, reloads or
//! removes only its own endpoint. A folder whose manifest does not compile is not served (and
//! does not stop the others); it is compiled again whenever something under the folder changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use super::Reloader;
use super::watch::{self, DirWatcher};
use crate::mcp::http::HttpOptions;

/// The manifest file name looked for in each subfolder.
pub const MANIFEST: &str = "gateway.yaml";

/// One served gateway of the fleet.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its HTTP app (`/mcp`, `/healthz`, `/readyz`, `/metrics`), mounted at `/{name}`.
    pub router: Router,
    /// Its reloader (status, snapshot).
    pub reloader: Arc<Reloader>,
}

#[derive(Debug)]
struct Member {
    name: String,
    /// Stops this gateway's file watcher and its HTTP sessions.
    stop: CancellationToken,
}

/// Builds one gateway's HTTP app (the process's HTTP layer, `server::routes::router`, passed in
/// so that reloading does not depend on the layer above it).
pub type MakeRouter = fn(Arc<Reloader>, &HttpOptions, &CancellationToken) -> Router;

/// Every gateway under one folder.
#[derive(Debug)]
pub struct Fleet {
    root: PathBuf,
    opts: HttpOptions,
    make_router: MakeRouter,
    shutdown: CancellationToken,
    /// Folder → member; the mutex also makes rescans run one at a time.
    members: tokio::sync::Mutex<BTreeMap<PathBuf, Member>>,
    /// The last failure printed per folder, so an unchanged failure is not logged on every event.
    failures: std::sync::Mutex<HashMap<PathBuf, String>>,
    /// What requests are routed to: name → endpoint, swapped whole on every change.
    pub endpoints: ArcSwap<HashMap<String, Endpoint>>,
}

impl Fleet {
    /// A fleet over `root`, serving nothing until [`Fleet::rescan`].
    pub fn new(
        root: PathBuf,
        opts: HttpOptions,
        make_router: MakeRouter,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            root,
            opts,
            make_router,
            shutdown,
            members: tokio::sync::Mutex::new(BTreeMap::new()),
            failures: std::sync::Mutex::new(HashMap::new()),
            endpoints: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Cancelled when the process starts shutting down (`/readyz` answers 503).
    pub fn draining(&self) -> &CancellationToken {
        &self.opts.draining
    }

    /// Brings the served set in line with the folder: adds gateways whose folder appeared (or
    /// whose manifest now compiles) and removes those whose folder or manifest is gone.
    pub async fn rescan(&self) {
        let mut members = self.members.lock().await;
        let present = gateway_folders(&self.root);
        let gone: Vec<PathBuf> = members
            .keys()
            .filter(|f| !present.contains(*f))
            .cloned()
            .collect();
        for folder in gone {
            if let Some(m) = members.remove(&folder) {
                m.stop.cancel();
                self.endpoints.rcu(|eps| {
                    let mut eps = HashMap::clone(eps);
                    eps.remove(&m.name);
                    eps
                });
                tracing::info!(gateway = %m.name, folder = %folder.display(), "gateway removed");
            }
        }
        for folder in present {
            if members.contains_key(&folder) {
                continue;
            }
            if let Some(member) = self.start(&folder, &members).await {
                members.insert(folder, member);
            }
        }
    }

    /// Compiles the gateway in `folder` and starts serving it, or logs why not.
    async fn start(&self, folder: &Path, members: &BTreeMap<PathBuf, Member>) -> Option<Member> {
        let manifest = folder.join(MANIFEST);
        let outcome = super::compile_in_background(&manifest).await;
        let compiled = match outcome.result {
            Ok(c) => c,
            Err(diags) => {
                let rendered: String = diags
                    .iter()
                    .map(|d| crate::diag::render_human(d, &outcome.sources))
                    .collect();
                if self.note_failure(folder, &rendered) {
                    tracing::error!(folder = %folder.display(), "{}", rendered.trim_end());
                    tracing::error!(folder = %folder.display(), "not serving this gateway until its manifest compiles");
                }
                return None;
            }
        };
        let name = compiled.gateway.name.clone();
        if let Some((other, _)) = members.iter().find(|(_, m)| m.name == name) {
            let msg = format!(
                "`{}` is also named `{name}`; each gateway in a folder needs its own `name` (it is the endpoint path /{name}/mcp)",
                other.display()
            );
            if self.note_failure(folder, &msg) {
                tracing::error!(manifest = %manifest.display(), "{msg}");
            }
            return None;
        }
        let tools = compiled.gateway.tools.len();
        let stop = self.shutdown.child_token();
        let reloader = match Reloader::start(manifest, compiled, stop.clone()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(gateway = %name, "cannot start serving: {e}");
                return None;
            }
        };
        if let Ok(mut f) = self.failures.lock() {
            f.remove(folder);
        }
        let router = (self.make_router)(reloader.clone(), &self.opts, &stop);
        self.endpoints.rcu(|eps| {
            let mut eps = HashMap::clone(eps);
            eps.insert(
                name.clone(),
                Endpoint {
                    router: router.clone(),
                    reloader: reloader.clone(),
                },
            );
            eps
        });
        tracing::info!(gateway = %name, tools, path = %format!("/{name}/mcp"), "gateway added");
        Some(Member { name, stop })
    }

    /// Records `message` as `folder`'s failure; true when it differs from the last one logged.
    fn note_failure(&self, folder: &Path, message: &str) -> bool {
        match self.failures.lock() {
            Ok(mut f) => {
                f.insert(folder.to_path_buf(), message.to_string())
                    .as_deref()
                    != Some(message)
            }
            Err(_) => true,
        }
    }

    /// Forces a reload of every served gateway (SIGHUP) and a rescan.
    pub async fn reload_all(&self) {
        if let Ok(mut f) = self.failures.lock() {
            f.clear();
        }
        self.rescan().await;
        let eps = self.endpoints.load_full();
        for ep in eps.values() {
            ep.reloader.reload(true).await;
        }
    }
}

/// Subfolders of `root` that hold a manifest.
fn gateway_folders(root: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|d| d.is_dir() && d.join(MANIFEST).is_file())
        .collect()
}

/// Watches `fleet`'s folder (recursively: a new folder's manifest appears inside it) and
/// rescans after each burst of events, until `stop`.
pub fn spawn_watch(fleet: Arc<Fleet>, stop: CancellationToken) -> notify::Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let mut watcher = DirWatcher::new(tx, true)?;
    watcher.set(BTreeSet::from([fleet.root().to_path_buf()]));
    tokio::spawn(async move {
        let _watcher = watcher;
        loop {
            tokio::select! {
                burst = watch::next_burst(&mut rx) => {
                    if burst.is_none() {
                        return;
                    }
                    fleet.rescan().await;
                }
                () = stop.cancelled() => return,
            }
        }
    });
    Ok(())
}
