//! File events → debounced reloads.
//!
//! Directories are watched, not files: an editor that saves by writing a new file and renaming
//! it over the old one (vim, JetBrains, `sed -i`), a delete-then-recreate, or a Kubernetes
//! ConfigMap update (which swaps a `..data` symlink in the mounted directory) all replace the
//! inode a file watch would be attached to, but each shows up as an event in the directory.
//! For a manifest reached through a symlink, the directory of the resolved file is watched too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Reloader;

/// Quiet time after the last file event before reloading. A save arrives as a burst of events
/// (vim: write a temp file, rename, chmod; a ConfigMap swap: create a symlink, rename it),
/// each a few microseconds to milliseconds apart even on a loaded machine. 50 ms covers such a
/// burst with a wide margin, so one save compiles once, and still leaves most of a 300 ms
/// save-to-live budget for the compile itself.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a stream of events (a tool rewriting a file in a loop) can postpone a reload.
pub const MAX_DELAY: Duration = Duration::from_millis(250);

/// A directory watcher that sends a unit for every event that may change a file's content.
#[derive(Debug)]
pub struct DirWatcher {
    inner: RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
    mode: RecursiveMode,
}

impl DirWatcher {
    /// A watcher sending to `tx`; `recursive` for a folder of gateways.
    pub fn new(tx: UnboundedSender<()>, recursive: bool) -> notify::Result<Self> {
        let inner = notify::recommended_watcher(move |res: notify::Result<Event>| {
            // A watcher error (e.g. a watched directory removed) is also a reason to look again.
            if res.as_ref().map(|e| relevant(&e.kind)).unwrap_or(true) {
                let _ = tx.send(());
            }
        })?;
        Ok(Self {
            inner,
            watched: BTreeSet::new(),
            mode: if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            },
        })
    }

    /// Watches exactly `dirs` from now on. A directory that does not exist (yet) is skipped and
    /// tried again at the next call.
    pub fn set(&mut self, dirs: BTreeSet<PathBuf>) {
        for gone in self.watched.difference(&dirs) {
            let _ = self.inner.unwatch(gone);
        }
        let mut now = BTreeSet::new();
        for d in dirs {
            if self.watched.contains(&d) || self.inner.watch(&d, self.mode).is_ok() {
                now.insert(d);
            }
        }
        self.watched = now;
    }
}

/// Events that can change what a file holds. Opening and reading files (our own compiles do
/// that) must not trigger a reload, or every reload would cause the next.
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// The directories to watch for `files`: each one's folder and, through symlinks, the folder
/// of the file it resolves to.
pub fn dirs_of(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut dirs = BTreeSet::new();
    for f in files {
        if let Some(d) = parent(f) {
            dirs.insert(d);
        }
        if let Ok(real) = std::fs::canonicalize(f)
            && let Some(d) = parent(&real)
        {
            dirs.insert(d);
        }
    }
    dirs
}

fn parent(p: &Path) -> Option<PathBuf> {
    match p.parent() {
        Some(d) if d.as_os_str().is_empty() => Some(PathBuf::from(".")),
        Some(d) => Some(d.to_path_buf()),
        None => None,
    }
}

/// Waits for the next burst of events to end: returns after [`DEBOUNCE`] without events, or
/// [`MAX_DELAY`] after the burst began. `None` when the sender is gone.
pub async fn next_burst(rx: &mut UnboundedReceiver<()>) -> Option<()> {
    rx.recv().await?;
    let deadline = Instant::now() + MAX_DELAY;
    loop {
        let quiet = (Instant::now() + DEBOUNCE).min(deadline);
        match tokio::time::timeout_at(quiet, rx.recv()).await {
            Ok(Some(())) if Instant::now() < deadline => continue,
            Ok(None) => return None,
            _ => return Some(()),
        }
    }
}

/// Watches `reloader`'s files until `stop` is cancelled, reloading after each burst of events.
/// The watches are in place when this returns, so an edit made right after startup (the
/// gateway has already said it is serving) is not missed.
pub async fn spawn(reloader: Arc<Reloader>, stop: CancellationToken) -> notify::Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let mut watcher = DirWatcher::new(tx, false)?;
    watcher.set(dirs_of(&reloader.files().await));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                burst = next_burst(&mut rx) => {
                    if burst.is_none() {
                        return;
                    }
                    reloader.reload(false).await;
                    // The spec may have moved, or a symlink now resolves elsewhere.
                    watcher.set(dirs_of(&reloader.files().await));
                }
                () = stop.cancelled() => return,
            }
        }
    });
    Ok(())
}
