//! Which 2025-era sessions (`--sessions`) the fast path may answer for.
//!
//! rmcp holds each session: a worker task per session, which ends it after [`KEEP_ALIVE`]
//! without an event. A `tools/call` answered by the fast path never reaches that worker, so a
//! session used only through the fast path would look idle to rmcp and be ended while in use.
//! So this table notes, per session, when rmcp last heard from it (any request it served with
//! that session id), and the fast path serves a session's call only while that is more recent
//! than [`REFRESH`]; after that, one call goes through rmcp, which resets its timer. A session's
//! lifetime is then exactly what rmcp decides, and costs one rmcp call every few minutes.
//!
//! The table also keeps what only the session's rmcp handler knows: a session whose client set
//! a log level (`logging/setLevel`) receives log messages during calls, which only rmcp's
//! handler sends, so its calls all go there.
//!
//! Only sessions rmcp has served a request in (after `initialize`, normally
//! `notifications/initialized`) are entered, and only on a success, so a made-up session id
//! never grows the table; an id rmcp answers 404 for, or a session ended with DELETE, leaves it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use rmcp::transport::streamable_http_server::session::SessionManager as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

/// How long rmcp keeps a session nobody uses: 30 minutes rather than rmcp's 5, because clients
/// such as IDE agents sit idle for long stretches and several do not re-initialize after a 404.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(30 * 60);

/// The longest the fast path serves a session without rmcp hearing from it. Far below
/// [`KEEP_ALIVE`], so rmcp's timer always has most of its time left while a session is in use.
pub(crate) const REFRESH: Duration = Duration::from_secs(5 * 60);

/// The smallest table that is swept for sessions rmcp has ended on its own.
const SWEEP_FROM: usize = 1024;

/// What rmcp did with a request of a session, as far as the table cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// rmcp served it (2xx): the session is live and its worker heard from it.
    Live,
    /// rmcp served a `logging/setLevel` (from now on the session is due log messages during
    /// calls, which only rmcp's handler sends), or a POST whose body the fast path did not read.
    RmcpOnly,
    /// rmcp does not know the session (404), or it was ended (DELETE).
    Gone,
    /// Anything else (a refused request) says nothing about the session.
    Other,
}

impl Served {
    /// What rmcp's answer `status` to a `method` request of a session says of it.
    /// `sets_level`: whether the body is a `logging/setLevel`, or `None` when the fast path did
    /// not read it (it might be one).
    pub(crate) fn of(method: &Method, status: StatusCode, sets_level: Option<bool>) -> Self {
        if status == StatusCode::NOT_FOUND || (method == Method::DELETE && status.is_success()) {
            Served::Gone
        } else if !status.is_success() {
            Served::Other
        } else if method == Method::POST && sets_level != Some(false) {
            Served::RmcpOnly
        } else {
            Served::Live
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    /// When rmcp last served a request of this session.
    heard: Instant,
    /// Whether every call must go to rmcp (the client asked for log messages, or may have).
    rmcp_only: bool,
}

#[derive(Debug)]
struct Table {
    by_id: HashMap<Box<str>, Mark>,
    /// The size at which the next insert sweeps out sessions rmcp must have ended.
    sweep_at: usize,
}

/// The session table of one `--sessions` server.
pub(crate) struct Sessions {
    manager: Arc<LocalSessionManager>,
    table: Mutex<Table>,
}

impl Sessions {
    pub(crate) fn new(manager: Arc<LocalSessionManager>) -> Self {
        Self {
            manager,
            table: Mutex::new(Table {
                by_id: HashMap::new(),
                sweep_at: SWEEP_FROM,
            }),
        }
    }

    /// Whether the fast path may answer a call in session `id` at `now`: a session rmcp served
    /// recently, with no log level set, that rmcp still holds.
    pub(crate) async fn servable(&self, id: &str, now: Instant) -> bool {
        let fresh = self.table.lock().is_ok_and(|t| {
            t.by_id
                .get(id)
                .is_some_and(|m| !m.rmcp_only && now.saturating_duration_since(m.heard) < REFRESH)
        });
        fresh
            && self
                .manager
                .has_session(&Arc::from(id))
                .await
                .unwrap_or(false)
    }

    /// Notes what rmcp did with a request of session `id`.
    pub(crate) fn served(&self, id: &str, served: Served, now: Instant) {
        let Ok(mut t) = self.table.lock() else {
            return;
        };
        match served {
            Served::Other => {}
            Served::Gone => {
                t.by_id.remove(id);
            }
            Served::Live | Served::RmcpOnly => {
                let rmcp_only = served == Served::RmcpOnly;
                if let Some(m) = t.by_id.get_mut(id) {
                    m.heard = now;
                    m.rmcp_only |= rmcp_only;
                    return;
                }
                if t.by_id.len() >= t.sweep_at {
                    // A session not heard from for KEEP_ALIVE has been ended by rmcp (or is kept
                    // alive only by what the server sent it; then its next call re-enters it).
                    t.by_id
                        .retain(|_, m| now.saturating_duration_since(m.heard) < KEEP_ALIVE);
                    t.sweep_at = SWEEP_FROM.max(2 * t.by_id.len());
                }
                t.by_id.insert(
                    id.into(),
                    Mark {
                        heard: now,
                        rmcp_only,
                    },
                );
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().map_or(0, |t| t.by_id.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn live_session(manager: &LocalSessionManager) -> String {
        let (id, _transport) = manager.create_session().await.unwrap();
        id.to_string()
    }

    #[tokio::test]
    async fn a_session_is_served_only_while_rmcp_heard_from_it_recently() {
        let manager = Arc::new(LocalSessionManager::default());
        let s = Sessions::new(manager.clone());
        let id = live_session(&manager).await;
        let t0 = Instant::now();
        assert!(
            !s.servable(&id, t0).await,
            "a session rmcp never served a request of is not taken"
        );
        s.served(&id, Served::Live, t0);
        assert!(s.servable(&id, t0).await);
        assert!(s.servable(&id, t0 + REFRESH - Duration::from_secs(1)).await);
        assert!(
            !s.servable(&id, t0 + REFRESH).await,
            "after REFRESH one call goes to rmcp, resetting its idle timer"
        );
        s.served(&id, Served::Live, t0 + REFRESH);
        assert!(s.servable(&id, t0 + REFRESH).await);
        s.served(&id, Served::Other, t0 + REFRESH);
        assert!(
            s.servable(&id, t0 + REFRESH).await,
            "a refusal changes nothing"
        );
    }

    #[tokio::test]
    async fn a_log_level_an_ended_session_or_an_unknown_id_goes_to_rmcp() {
        let manager = Arc::new(LocalSessionManager::default());
        let s = Sessions::new(manager.clone());
        let now = Instant::now();

        let logged = live_session(&manager).await;
        s.served(&logged, Served::Live, now);
        s.served(&logged, Served::RmcpOnly, now);
        s.served(&logged, Served::Live, now);
        assert!(!s.servable(&logged, now).await, "log messages are rmcp's");

        let deleted = live_session(&manager).await;
        s.served(&deleted, Served::Live, now);
        s.served(&deleted, Served::Gone, now);
        assert!(!s.servable(&deleted, now).await);

        // Entered, then ended in rmcp behind the table's back.
        let closed = live_session(&manager).await;
        s.served(&closed, Served::Live, now);
        manager
            .close_session(&Arc::from(closed.as_str()))
            .await
            .unwrap();
        assert!(!s.servable(&closed, now).await, "rmcp no longer holds it");

        assert!(!s.servable("made-up", now).await);
    }

    #[test]
    fn what_an_answer_says_of_its_session() {
        let ok = StatusCode::OK;
        assert_eq!(Served::of(&Method::POST, ok, Some(false)), Served::Live);
        assert_eq!(Served::of(&Method::GET, ok, None), Served::Live);
        assert_eq!(
            Served::of(&Method::POST, StatusCode::ACCEPTED, Some(false)),
            Served::Live
        );
        assert_eq!(Served::of(&Method::POST, ok, Some(true)), Served::RmcpOnly);
        assert_eq!(
            Served::of(&Method::POST, ok, None),
            Served::RmcpOnly,
            "a body not read might have set a level"
        );
        assert_eq!(Served::of(&Method::DELETE, ok, None), Served::Gone);
        assert_eq!(
            Served::of(&Method::POST, StatusCode::NOT_FOUND, Some(false)),
            Served::Gone
        );
        assert_eq!(
            Served::of(&Method::POST, StatusCode::BAD_REQUEST, Some(true)),
            Served::Other
        );
        assert_eq!(
            Served::of(&Method::DELETE, StatusCode::METHOD_NOT_ALLOWED, None),
            Served::Other
        );
    }

    #[tokio::test]
    async fn sessions_rmcp_has_ended_are_swept_as_the_table_grows() {
        let s = Sessions::new(Arc::new(LocalSessionManager::default()));
        let t0 = Instant::now();
        for i in 0..SWEEP_FROM - 1 {
            s.served(&format!("old-{i}"), Served::Live, t0);
        }
        let almost = t0 + KEEP_ALIVE - Duration::from_secs(1);
        s.served("recent", Served::Live, almost);
        assert_eq!(s.len(), SWEEP_FROM, "no sweep below the threshold");
        // The next new session sweeps: rmcp ended the old ones (KEEP_ALIVE without a word).
        s.served("new", Served::Live, t0 + KEEP_ALIVE);
        assert_eq!(s.len(), 2, "the recent session and the new one stay");
    }
}
