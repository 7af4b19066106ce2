//! One inbound connection's state, as the accept loop and the connection's watchdog see it.
//!
//! hyper has one timer for an idle connection and a slow request head alike (its header-read
//! timeout starts as soon as a connection is idle), and none for a request body. The gateway
//! needs three: a short one for a request head (slowloris), a longer one for an idle keep-alive
//! connection, and one for a body that stops arriving. So the connection's reads, requests and
//! responses are tracked here, and a watchdog closes the connection when the deadline that
//! applies to its current phase passes. A request being handled is never timed out here: the
//! tool's own timeout bounds it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The connection timeouts (startup flags).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From a connection's first byte of a request (or its accept) to the end of the request
    /// head.
    pub header: Duration,
    /// Longest pause while a request body is being received.
    pub body: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle: Duration,
}

/// Milliseconds since the process's clock base (0 means "never").
fn now_ms(base: Instant) -> u64 {
    (Instant::now() - base).as_millis() as u64 + 1
}

/// What the watchdog and the accept loop know about one connection.
#[derive(Debug)]
pub(crate) struct ConnState {
    base: Instant,
    /// Requests being handled (a response body still being sent counts).
    in_flight: AtomicUsize,
    /// Requests received so far.
    served: AtomicU64,
    /// A request body is still being received.
    body_open: AtomicBool,
    last_read: AtomicU64,
    /// When the connection last became idle (accepted, or its last response finished).
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived (0: none yet).
    head_started: AtomicU64,
    /// Cancelled to close the connection at once (eviction, drain deadline).
    pub(crate) close: CancellationToken,
}

impl ConnState {
    pub(crate) fn new(base: Instant) -> Arc<Self> {
        Arc::new(Self {
            base,
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            body_open: AtomicBool::new(false),
            last_read: AtomicU64::new(now_ms(base)),
            idle_since: AtomicU64::new(now_ms(base)),
            head_started: AtomicU64::new(0),
            close: CancellationToken::new(),
        })
    }

    /// How long it has been idle, or `None` while it handles a request (never evicted then).
    pub(crate) fn idle_for(&self) -> Option<u64> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(now_ms(self.base).saturating_sub(self.idle_since.load(Ordering::Relaxed)))
    }

    fn on_read(&self) {
        let now = now_ms(self.base);
        self.last_read.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ =
                self.head_started
                    .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// A request head was received; the guard ends the request when its response is done.
    pub(crate) fn begin(self: &Arc<Self>, body_done: bool) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.served.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.body_open.store(!body_done, Ordering::Relaxed);
        self.last_read.store(now_ms(self.base), Ordering::Relaxed);
        RequestGuard(self.clone())
    }

    /// When the connection must be closed (ms on the clock), or `None` while a request whose
    /// body has fully arrived is handled.
    fn deadline(&self, t: &Timeouts) -> Option<u64> {
        let ms = |d: Duration| d.as_millis() as u64;
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return self
                .body_open
                .load(Ordering::Relaxed)
                .then(|| self.last_read.load(Ordering::Relaxed) + ms(t.body));
        }
        let head = self.head_started.load(Ordering::Relaxed);
        if head != 0 {
            return Some(head + ms(t.header));
        }
        let idle = self.idle_since.load(Ordering::Relaxed);
        if self.served.load(Ordering::Relaxed) == 0 {
            // A new connection that has not sent a request head yet is held to the header
            // timeout, not the idle one: it has not earned a keep-alive.
            Some(idle + ms(t.header))
        } else {
            Some(idle + ms(t.idle))
        }
    }

    /// Resolves when the deadline of the connection's current phase has passed.
    pub(crate) async fn watchdog(&self, t: Timeouts) {
        // While a request is handled there is no deadline; look again now and then.
        let recheck = t.header.min(t.body).min(Duration::from_secs(1));
        loop {
            let now = now_ms(self.base);
            match self.deadline(&t) {
                Some(d) if d <= now => return,
                Some(d) => tokio::time::sleep(Duration::from_millis(d - now).min(recheck)).await,
                None => tokio::time::sleep(recheck).await,
            }
        }
    }
}

/// Ends a request when dropped (with its response body, or with the connection).
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<ConnState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let s = &self.0;
        s.body_open.store(false, Ordering::Relaxed);
        s.idle_since.store(now_ms(s.base), Ordering::Relaxed);
        s.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, noting each read so the watchdog knows when a request head started.
#[derive(Debug)]
pub(crate) struct TrackedIo<T> {
    pub(crate) inner: T,
    pub(crate) state: Arc<ConnState>,
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.on_read();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that tells the connection when it has fully arrived.
#[derive(Debug)]
pub(crate) struct TrackedBody<B> {
    pub(crate) inner: B,
    pub(crate) state: Arc<ConnState>,
}

impl<B: HttpBody<Data = Bytes> + Unpin> HttpBody for TrackedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(r, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) || self.inner.is_end_stream()
        {
            self.state.body_open.store(false, Ordering::Relaxed);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for TrackedBody<B> {
    fn drop(&mut self) {
        self.state.body_open.store(false, Ordering::Relaxed);
    }
}

/// A response body that ends its request (the [`RequestGuard`]) when it is done or dropped, so
/// a long stream keeps its connection from counting as idle.
#[derive(Debug)]
pub(crate) struct GuardedBody<B> {
    pub(crate) inner: B,
    pub(crate) _guard: RequestGuard,
}

impl<B: HttpBody<Data = Bytes> + Unpin> HttpBody for GuardedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A future polled only when it asked to be: after its own waker fired (or on the first
/// poll), not every time the task that holds it wakes.
///
/// Why: a connection's task wakes several times per request (socket readable, answer ready,
/// socket writable), and `tokio::select!` polls every branch on every wake. The branches that
/// end a connection (the watchdog's timer, the connection's and the process's cancellation
/// tokens) almost never fire, yet polling them cost about 2 % of a small call's CPU: each poll
/// of a `CancellationToken` takes its mutex, and the process's token is one mutex for every
/// connection on every core.
pub(crate) struct Quiet<F> {
    inner: Pin<Box<F>>,
    flag: Arc<WokenFlag>,
}

/// The inner future's waker: notes that it fired, then wakes the holding task.
struct WokenFlag {
    /// Set when the inner future is to be polled; set at first, for the first poll.
    woken: AtomicBool,
    task: futures_util::task::AtomicWaker,
}

impl std::task::Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<F: Future> Quiet<F> {
    pub(crate) fn new(inner: F) -> Self {
        Quiet {
            inner: Box::pin(inner),
            flag: Arc::new(WokenFlag {
                woken: AtomicBool::new(true),
                task: futures_util::task::AtomicWaker::new(),
            }),
        }
    }
}

impl<F: Future> Future for Quiet<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Registered before the flag is read, so a wake between the two is not lost.
        self.flag.task.register(cx.waker());
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = std::task::Waker::from(self.flag.clone());
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        body: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };

    /// The task's own wakes do not reach the inner future; the inner future's waker does,
    /// and a wake that comes between two polls is not lost.
    #[test]
    fn a_quiet_future_is_polled_only_when_its_own_waker_fired() {
        use std::sync::atomic::AtomicUsize;
        let polls = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<u8>();
        let counted = polls.clone();
        let mut quiet = std::pin::pin!(Quiet::new(std::future::poll_fn(move |cx| {
            counted.fetch_add(1, Ordering::Relaxed);
            Pin::new(&mut rx).poll(cx).map(|r| r.ok())
        })));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for _ in 0..5 {
            assert!(quiet.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(
            polls.load(Ordering::Relaxed),
            1,
            "polled once, on the first poll"
        );
        tx.send(7).expect("the receiver is alive");
        assert_eq!(quiet.as_mut().poll(&mut cx), Poll::Ready(Some(7)));
        assert_eq!(
            polls.load(Ordering::Relaxed),
            2,
            "polled again once its waker fired"
        );
    }

    #[test]
    fn each_phase_of_a_connection_has_its_own_deadline() {
        let s = ConnState::new(Instant::now());
        let set = |a: &AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
        set(&s.idle_since, 1_000);
        assert_eq!(s.deadline(&T), Some(11_000), "new: the header timeout");
        set(&s.head_started, 2_000);
        assert_eq!(s.deadline(&T), Some(12_000), "a head started");
        let guard = s.begin(false);
        set(&s.last_read, 5_000);
        assert_eq!(s.deadline(&T), Some(35_000), "a body is arriving");
        s.body_open.store(false, Ordering::Relaxed);
        assert_eq!(s.deadline(&T), None, "a request is handled: no deadline");
        assert_eq!(s.idle_for(), None, "a busy connection is never evicted");
        drop(guard);
        set(&s.idle_since, 100_000);
        assert_eq!(s.deadline(&T), Some(160_000), "idle keep-alive");
        assert!(s.idle_for().is_some());
    }
}
