//! How `/mcp` stops, in order, when the process (or a folder's gateway) stops serving.
//!
//! rmcp ends everything it streams when its cancellation token fires: an answer it is still
//! waiting for becomes a `500` with no JSON-RPC in it, an SSE answer (a call reporting
//! progress) is cut before its result, and a `subscriptions/listen` stream is cut without the
//! final result that tells a 2026-07-28 client the server ended it on purpose. Handing rmcp
//! the process's stop token therefore dropped the very calls the drain exists to finish.
//!
//! So rmcp gets a token of its own, which [`in_order`] cancels last:
//! 1. at stop, every `subscriptions/listen` stream ends with its final result
//!    ([`super::Listeners::end`]), so clients listen again elsewhere, as the spec asks;
//! 2. every answer rmcp is writing finishes ([`Answering`]: requests handed to rmcp whose
//!    answer has not been written to its end), within the process's drain deadline;
//! 3. then rmcp's token ends what is left, which no call is waiting for: 2025-era sessions'
//!    GET streams and their workers.
//!
//! The fast path's answers need none of this: the connection finishes them (`crate::server`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Shared;

/// The requests rmcp is answering now.
#[derive(Debug, Default)]
pub(crate) struct Answering {
    open: AtomicUsize,
    idle: Notify,
}

/// One request handed to rmcp, until its answer is written or dropped (it lives in the
/// answer's body).
#[derive(Debug)]
pub(crate) struct Answer(Arc<Answering>);

impl Answering {
    /// Counts a request handed to rmcp until the returned guard is dropped.
    pub(crate) fn start(self: &Arc<Self>) -> Answer {
        self.open.fetch_add(1, Ordering::AcqRel);
        Answer(self.clone())
    }

    /// Waits until no request is being answered.
    async fn idle(&self) {
        loop {
            // Registered before the count is read, so a drop in between is not missed.
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.open.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Stops `/mcp` in the order above once `stop` fires: listen streams end, rmcp's answers are
/// written, then `rmcp` (the token rmcp was given) is cancelled.
pub(crate) async fn in_order(
    stop: CancellationToken,
    shared: Arc<Shared>,
    answering: Arc<Answering>,
    rmcp: CancellationToken,
) {
    stop.cancelled().await;
    shared.listeners.end();
    answering.idle().await;
    rmcp.cancel();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn idle_waits_for_the_last_answer() {
        let answering = Arc::new(Answering::default());
        let (a, b) = (answering.start(), answering.start());
        let waiter = tokio::spawn({
            let answering = answering.clone();
            async move { answering.idle().await }
        });
        drop(a);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "one answer is still being written");
        drop(b);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("idle once the last answer is dropped")
            .expect("the waiter does not panic");
        // Nothing open: at once.
        tokio::time::timeout(Duration::from_millis(100), answering.idle())
            .await
            .expect("idle at once when nothing is open");
    }
}
