//! Hot reload: recompile a gateway when its files change and swap what is served, atomically,
//! or keep serving the old version when the new one does not compile.
//!
//! - [`Reloader`] owns one served gateway: it recompiles off the request path (the compile runs
//!   on the reload task, never inside a call), compares, and swaps the whole [`Gateway`] in the
//!   handler's `ArcSwap`. A call loads one snapshot when it starts and keeps it to the end, so
//!   calls in flight finish on the version they began with and new calls see the new one.
//! - [`watch`] turns file-system events into debounced reloads; SIGHUP forces one.
//! - [`fleet`] serves every gateway folder under one directory at `/{name}/mcp`.
//!
//! "Changed" means the bytes a compile read differ from the bytes the served version was
//! compiled from ([`crate::compile::Input`] digests): an editor touching a directory, or a
//! reload of identical content, swaps nothing and tells no client anything.

pub mod fleet;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::compile::{Input, InputLocation, compile_to_serve};
use crate::diag::{Diagnostic, Sources};
use crate::gateway::Gateway;
use crate::mcp::{
    Changed, Shared, definition, files_updated, prompt_definition, resource_definition,
    template_definition,
};
use crate::runtime::{RuntimeError, Served};
use crate::telemetry::Exposition;

/// What one reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// The inputs are byte-for-byte what is served: nothing swapped, nobody told.
    Unchanged,
    /// A new version is served; these lists changed (their clients were sent `list_changed`).
    Swapped(Changed),
    /// The new version was refused (compile errors, or a startup-only setting changed); the
    /// old one keeps serving and the gateway is marked stale.
    Rejected {
        /// How many errors.
        errors: usize,
    },
}

/// The served configuration's health, for `/readyz`, `/metrics` and logs.
#[derive(Debug, Default)]
pub struct Status {
    /// Bumped on every swap; 1 is the version served at startup.
    pub generation: AtomicU64,
    /// The files on disk hold a version that was refused: what is served is older.
    pub stale: AtomicBool,
    /// Reloads that swapped.
    pub swapped: AtomicU64,
    /// Reloads that found nothing changed.
    pub unchanged: AtomicU64,
    /// Reloads that were refused.
    pub rejected: AtomicU64,
    /// The first error of the last refused reload, while stale.
    pub last_error: Mutex<Option<String>>,
}

impl Status {
    /// Appends this gateway's configuration series to `out`.
    pub fn write_metrics(&self, gateway: &str, tools: usize, out: &mut Exposition) {
        let g = format!("gateway=\"{}\"", crate::telemetry::escape(gateway));
        out.sample(
            "mcp_gateway_config_stale",
            "gauge",
            "1 when the files on disk hold a version that failed to compile and an older one is served.",
            &g,
            u8::from(self.stale.load(Ordering::Relaxed)),
        );
        out.sample(
            "mcp_gateway_config_generation",
            "gauge",
            "Version of the served configuration, bumped on every swap.",
            &g,
            self.generation.load(Ordering::Relaxed),
        );
        out.sample("mcp_gateway_tools", "gauge", "Tools served.", &g, tools);
        for (result, n) in [
            ("swapped", &self.swapped),
            ("unchanged", &self.unchanged),
            ("rejected", &self.rejected),
        ] {
            out.sample(
                "mcp_gateway_reloads_total",
                "counter",
                "Reloads by result.",
                &format!("{g},result=\"{result}\""),
                n.load(Ordering::Relaxed),
            );
        }
    }
}

/// Why a gateway could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The shared upstream pool could not be built (the system's TLS setup).
    #[error("cannot create the upstream HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The gateway's own running parts could not be built.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// One served gateway and how to rebuild it from its manifest.
#[derive(Debug)]
pub struct Reloader {
    manifest: PathBuf,
    shared: Arc<Shared>,
    /// What the served version was compiled from. The async mutex also makes reloads of one
    /// gateway run one at a time, so two quick saves cannot swap out of order.
    inputs: tokio::sync::Mutex<Vec<Input>>,
    /// Health of the served configuration.
    pub status: Status,
}

impl Reloader {
    /// A reloader for `shared`, which serves what `manifest` compiled to from `inputs`.
    pub fn new(manifest: PathBuf, shared: Arc<Shared>, inputs: Vec<Input>) -> Self {
        let status = Status::default();
        status.generation.store(1, Ordering::Relaxed);
        Self {
            manifest,
            shared,
            inputs: tokio::sync::Mutex::new(inputs),
            status,
        }
    }

    /// Starts serving `compiled` (built from `manifest`): its own upstream connection pool,
    /// its running parts, the shared state the handlers read, and a watch on its files until
    /// `stop`. A watch that cannot be set up is logged; the gateway then reloads on SIGHUP only.
    pub async fn start(
        manifest: PathBuf,
        compiled: crate::compile::Compiled,
        stop: tokio_util::sync::CancellationToken,
    ) -> Result<Arc<Self>, StartError> {
        let upstream = crate::upstream::UpstreamClient::new()?;
        let name = compiled.gateway.name.clone();
        let served = Served::new(compiled.gateway, None)?;
        let shared = Arc::new(Shared::new(served, upstream));
        let reloader = Arc::new(Self::new(manifest, shared, compiled.inputs));
        if let Err(e) = watch::spawn(reloader.clone(), stop).await {
            tracing::warn!(gateway = %name, "cannot watch the gateway's files ({e}); it reloads on SIGHUP only");
        }
        Ok(reloader)
    }

    /// The state being served.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The manifest this gateway is built from.
    pub fn manifest(&self) -> &Path {
        &self.manifest
    }

    /// Local files the served version was built from.
    pub async fn files(&self) -> Vec<PathBuf> {
        std::iter::once(self.manifest.clone())
            .chain(
                self.inputs
                    .lock()
                    .await
                    .iter()
                    .filter_map(|i| match &i.location {
                        InputLocation::File(p) => Some(p.clone()),
                        InputLocation::Remote(_) => None,
                    }),
            )
            .collect()
    }

    /// Recompiles and swaps if anything changed. Without `force`, a reload whose local files
    /// all still hold the served bytes ends before compiling (file events are noisy); `force`
    /// (SIGHUP) always recompiles, which also re-fetches remote specs and re-reads secrets.
    pub async fn reload(&self, force: bool) -> Reloaded {
        let mut inputs = self.inputs.lock().await;
        if !force && on_disk_unchanged(&inputs) {
            self.settle_unchanged();
            return Reloaded::Unchanged;
        }
        let outcome = compile_in_background(&self.manifest).await;
        let name = self.shared.gateway.load().name.clone();
        let compiled = match outcome.result {
            Ok(c) => c,
            Err(diags) => return self.reject(&name, &diags, &outcome.sources),
        };
        if compiled.inputs == *inputs {
            self.settle_unchanged();
            return Reloaded::Unchanged;
        }
        if compiled.gateway.name != name {
            let d = Diagnostic::error(
                "startup-only",
                format!(
                    "`name` changed from `{name}` to `{}` while serving; the name is fixed at startup (it is `serverInfo.name` and, when serving a folder, the endpoint path)",
                    compiled.gateway.name
                ),
            )
            .with_hint("change it back, or restart the gateway to rename it")
            .in_file(&self.manifest)
            .at("name", None);
            return self.reject(&name, &[d], &outcome.sources);
        }
        for w in &compiled.warnings {
            tracing::warn!(gateway = %name, "{}", crate::diag::render_human(w, &outcome.sources).trim_end());
        }
        let changed = {
            let (new, old) = (&compiled.gateway, &self.shared.gateway.load());
            Changed {
                tools: tool_list(new) != tool_list(old),
                prompts: prompt_list(new) != prompt_list(old),
                resources: resource_lists(new) != resource_lists(old),
            }
        };
        let tools = compiled.gateway.tools.len();
        // Running parts whose settings did not change (token, keys, verified tokens, the mTLS
        // pool) are handed on; the rest are built for the new version.
        let served = match Served::new(compiled.gateway, Some(&self.shared.gateway.load())) {
            Ok(s) => s,
            Err(e) => {
                let d = Diagnostic::error("tls", e.to_string())
                    .in_file(&self.manifest)
                    .at("upstream", None);
                return self.reject(&name, &[d], &outcome.sources);
            }
        };
        // The swap: calls that loaded the old snapshot keep it until they finish.
        let old = self.shared.gateway.swap(Arc::new(served));
        *inputs = compiled.inputs;
        drop(inputs);
        let generation = self.status.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.status.swapped.fetch_add(1, Ordering::Relaxed);
        self.status.stale.store(false, Ordering::Relaxed);
        if let Ok(mut e) = self.status.last_error.lock() {
            *e = None;
        }
        tracing::info!(gateway = %name, generation, tools, tools_changed = changed.tools, prompts_changed = changed.prompts, resources_changed = changed.resources, stale = false, "reloaded");
        if changed.any() {
            self.shared.listeners.lists_changed(changed).await;
        }
        files_updated(&self.shared, &old, &self.shared.gateway.load()).await;
        Reloaded::Swapped(changed)
    }

    /// The files hold what is served (perhaps after a refused edit was reverted).
    fn settle_unchanged(&self) {
        self.status.unchanged.fetch_add(1, Ordering::Relaxed);
        if self.status.stale.swap(false, Ordering::Relaxed) {
            tracing::info!(manifest = %self.manifest.display(), stale = false, "the files are back to the served version");
        }
    }

    fn reject(&self, name: &str, diags: &[Diagnostic], sources: &Sources) -> Reloaded {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        self.status.rejected.fetch_add(1, Ordering::Relaxed);
        self.status.stale.store(true, Ordering::Relaxed);
        let first = diags
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone());
        if let Ok(mut e) = self.status.last_error.lock() {
            *e = first;
        }
        // The same rendering `validate` prints, so the fix is the same in CI and in logs.
        for d in diags {
            tracing::error!(gateway = %name, stale = true, "{}", crate::diag::render_human(d, sources).trim_end());
        }
        tracing::error!(
            gateway = %name,
            manifest = %self.manifest.display(),
            errors,
            stale = true,
            generation = self.status.generation.load(Ordering::Relaxed),
            "reload refused: still serving the previous version"
        );
        Reloaded::Rejected { errors }
    }
}

/// Compiles on a blocking-pool thread: compiling a large spec is ~100 ms of CPU, which on a
/// runtime worker would hold up every request scheduled on that worker meanwhile.
pub async fn compile_in_background(manifest: &Path) -> crate::compile::Outcome {
    let path = manifest.to_path_buf();
    let handle = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || handle.block_on(compile_to_serve(&path))).await {
        Ok(outcome) => outcome,
        // The compile panicked (a bug): report it like any other refused version.
        Err(e) => crate::compile::Outcome {
            result: Err(vec![
                Diagnostic::error("internal", format!("the compiler failed: {e}"))
                    .in_file(manifest),
            ]),
            sources: Sources::default(),
        },
    }
}

/// Whether every input is a local file that still holds exactly the bytes compiled from.
/// Remote documents cannot be checked without fetching, so they never count as unchanged here.
fn on_disk_unchanged(inputs: &[Input]) -> bool {
    inputs.iter().all(|i| match &i.location {
        InputLocation::File(p) => Input::read_file(p.clone()).digest == i.digest,
        InputLocation::Remote(_) => true,
    })
}

/// What `tools/list` shows for `g`, to tell whether a swap changed it.
fn tool_list(g: &Gateway) -> Vec<rmcp::model::Tool> {
    g.tools.iter().map(definition).collect()
}

/// What `prompts/list` shows for `g`.
fn prompt_list(g: &Gateway) -> Vec<rmcp::model::Prompt> {
    g.catalog.prompts.iter().map(prompt_definition).collect()
}

/// What `resources/list` and `resources/templates/list` show for `g`.
fn resource_lists(
    g: &Gateway,
) -> (
    Vec<rmcp::model::Resource>,
    Vec<rmcp::model::ResourceTemplate>,
) {
    (
        g.catalog
            .resources
            .iter()
            .map(resource_definition)
            .collect(),
        g.catalog
            .templates
            .iter()
            .map(template_definition)
            .collect(),
    )
}
