//! Resource subscriptions: who wants to hear about which URI, and the poller that notices
//! upstream changes.
//!
//! 2025-era clients `resources/subscribe` on a session; 2026-07-28 clients list URIs in
//! `subscriptions/listen`. Both end up here. Changes are found by polling: one task per served
//! gateway, started by the first subscription, checks each subscribed URI every
//! `subscriptions.poll` with a conditional GET (`If-None-Match` / `If-Modified-Since`), and
//! announces `notifications/resources/updated` when the validators or the body change. It reads
//! the current snapshot on every tick, so a reload changes what it polls and how often; a URI
//! nobody subscribes to any more is dropped from its state and not polled again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::Peer;

use super::handler::Shared;
use crate::gateway::{Gateway, Resolved, ResourceSource};
use crate::upstream::resource_arguments;

/// The URIs one 2025-era session subscribed to.
#[derive(Debug)]
pub(crate) struct Session {
    peer: Peer<RoleServer>,
    uris: Mutex<HashSet<String>>,
}

impl Session {
    pub(crate) fn new(peer: Peer<RoleServer>) -> Self {
        Self {
            peer,
            uris: Mutex::new(HashSet::new()),
        }
    }

    pub(crate) fn add(&self, uri: String) {
        if let Ok(mut u) = self.uris.lock() {
            u.insert(uri);
        }
    }

    pub(crate) fn remove(&self, uri: &str) {
        if let Ok(mut u) = self.uris.lock() {
            u.remove(uri);
        }
    }

    fn has(&self, uri: &str) -> bool {
        self.uris.lock().is_ok_and(|u| u.contains(uri))
    }
}

/// The sessions with subscriptions, and whether the poller runs.
#[derive(Debug, Default)]
pub struct Subscriptions {
    sessions: Mutex<Vec<Arc<Session>>>,
    /// Set once the poller task is spawned: one per gateway, for as long as it is served.
    polling: std::sync::atomic::AtomicBool,
}

impl Subscriptions {
    pub(crate) fn add_session(&self, s: Arc<Session>) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|s| !s.peer.is_transport_closed());
            sessions.push(s);
        }
    }

    /// Whether a poller must be started now (true exactly once).
    pub(crate) fn start_polling(&self) -> bool {
        !self.polling.swap(true, std::sync::atomic::Ordering::AcqRel)
    }
}

/// Every URI someone listens to now; forgets closed sessions.
fn subscribed(shared: &Shared) -> HashSet<String> {
    let mut uris = HashSet::new();
    if let Ok(mut sessions) = shared.subscriptions.sessions.lock() {
        sessions.retain(|s| !s.peer.is_transport_closed());
        for s in sessions.iter() {
            if let Ok(u) = s.uris.lock() {
                uris.extend(u.iter().cloned());
            }
        }
    }
    for sink in shared.listeners.sinks() {
        if let Some(u) = &sink.accepted().resource_subscriptions {
            uris.extend(u.iter().cloned());
        }
    }
    uris
}

/// After a reload: tells subscribers of file resources whose content changed. (Files change
/// through a reload, so the poller never checks them.)
pub async fn files_updated(shared: &Shared, old: &Gateway, new: &Gateway) {
    let subscribed = subscribed(shared);
    for r in &new.catalog.resources {
        let ResourceSource::File { data, .. } = &r.source else {
            continue;
        };
        let before = old.catalog.resources.iter().find(|o| o.uri == r.uri);
        let changed = match before.map(|o| &o.source) {
            Some(ResourceSource::File { data: was, .. }) => was != data,
            _ => true,
        };
        if changed && subscribed.contains(&r.uri) {
            announce(shared, &r.uri).await;
        }
    }
}

/// Tells everyone subscribed to `uri` that it changed.
async fn announce(shared: &Shared, uri: &str) {
    let sessions: Vec<Arc<Session>> = shared
        .subscriptions
        .sessions
        .lock()
        .map(|s| s.iter().filter(|s| s.has(uri)).cloned().collect())
        .unwrap_or_default();
    // Bounded like list_changed: a stuck client must not stall the poller.
    let bound = Duration::from_secs(2);
    for s in sessions {
        let param = ResourceUpdatedNotificationParam::new(uri);
        let _ = tokio::time::timeout(bound, s.peer.notify_resource_updated(param)).await;
    }
    for sink in shared.listeners.sinks() {
        let wants = sink
            .accepted()
            .resource_subscriptions
            .as_ref()
            .is_some_and(|u| u.iter().any(|u| u == uri));
        if wants {
            let _ = tokio::time::timeout(bound, sink.notify_resource_updated(uri)).await;
        }
    }
}

/// What the last check of a URI saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    etag: Option<String>,
    last_modified: Option<String>,
    digest: u64,
}

/// The poller of one gateway. Holds the state weakly: it ends when the gateway is no longer
/// served.
pub(crate) fn spawn_poller(shared: &Arc<Shared>) {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut seen: HashMap<String, Seen> = HashMap::new();
        loop {
            let Some(shared) = weak.upgrade() else { return };
            let uris = subscribed(&shared);
            seen.retain(|u, _| uris.contains(u));
            for uri in uris {
                let previous = seen.get(&uri).cloned();
                match check(&shared, &uri, previous.as_ref()).await {
                    Check::Unchanged => {}
                    Check::Seen(now) => {
                        let changed = previous.is_some_and(|p| p != now);
                        seen.insert(uri.clone(), now);
                        if changed {
                            tracing::info!(uri, "resource changed upstream");
                            announce(&shared, &uri).await;
                        }
                    }
                    Check::Skip => {}
                }
            }
            let interval = shared.gateway.load().catalog.poll_interval;
            drop(shared);
            tokio::time::sleep(interval).await;
        }
    });
}

enum Check {
    /// 304: nothing new.
    Unchanged,
    /// What the upstream answers now.
    Seen(Seen),
    /// Not pollable now (unknown URI, a file, an upstream failure): try again next tick.
    Skip,
}

async fn check(shared: &Shared, uri: &str, previous: Option<&Seen>) -> Check {
    let g = shared.gateway.load_full();
    let (call, vars) = match g.catalog.resolve(uri) {
        Some(Resolved::Static(r)) => match &r.source {
            ResourceSource::Upstream(call) => (call, Vec::new()),
            // Files change through a reload, not upstream.
            ResourceSource::File { .. } => return Check::Skip,
        },
        Some(Resolved::Template(t, vars)) => (&t.call, vars),
        None => return Check::Skip,
    };
    let Ok(args) = resource_arguments(uri, call, &vars) else {
        return Check::Skip;
    };
    let mut extra = Vec::new();
    if let Some(p) = previous {
        if let Some(v) = p
            .etag
            .as_deref()
            .and_then(|e| http::HeaderValue::from_str(e).ok())
        {
            extra.push((http::header::IF_NONE_MATCH, v));
        }
        if let Some(v) = p
            .last_modified
            .as_deref()
            .and_then(|e| http::HeaderValue::from_str(e).ok())
        {
            extra.push((http::header::IF_MODIFIED_SINCE, v));
        }
    }
    match shared
        .upstream
        .send(&g, &call.plan, call.timeout, &args, None, &extra)
        .await
    {
        Ok(resp) if resp.status == http::StatusCode::NOT_MODIFIED => Check::Unchanged,
        Ok(resp) if resp.status.is_success() => {
            let header = |name: http::HeaderName| {
                resp.headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            Check::Seen(Seen {
                etag: header(http::header::ETAG),
                last_modified: header(http::header::LAST_MODIFIED),
                digest: crate::digest::of(&resp.body),
            })
        }
        Ok(resp) => {
            tracing::debug!(uri, status = resp.status.as_u16(), "resource poll failed");
            Check::Skip
        }
        Err(e) => {
            tracing::debug!(uri, error = %e, "resource poll failed");
            Check::Skip
        }
    }
}
