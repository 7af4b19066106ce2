//! The log's writer: each line goes down a bounded channel to one thread that writes to stderr
//! in batches (one `write` per burst of lines, flushed when the queue runs dry).
//!
//! Why not write from the request's own thread: the per-call log line would then cost a
//! `write` system call on a tokio worker, for every call, and a slow reader of stderr (a
//! container runtime's log agent under pressure, a terminal) would stall every call in flight.
//! Here a worker pays one memcpy and a channel send. When the queue is full (the reader is not
//! keeping up at all), lines are dropped rather than calls held, and the next line written says
//! how many were lost.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines queued at most before new ones are dropped.
const QUEUE_LINES: usize = 16 * 1024;

#[derive(Debug)]
enum Message {
    Line(Vec<u8>),
    /// Everything sent before has been written: answer on this channel.
    Flush(mpsc::Sender<()>),
}

/// A [`MakeWriter`] for `tracing_subscriber::fmt` that hands lines to the writer thread.
#[derive(Debug, Clone)]
pub struct Background {
    tx: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

static FLUSH: OnceLock<Background> = OnceLock::new();

impl Background {
    /// Starts the writer thread over `out` (stderr in the binary). `None` when the thread
    /// cannot be started: the caller logs synchronously instead.
    pub fn start(out: impl Write + Send + 'static) -> Option<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_LINES);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_lines(&rx, io::BufWriter::with_capacity(64 * 1024, out), &lost))
            .ok()?;
        let me = Self { tx, dropped };
        let _ = FLUSH.set(me.clone());
        Some(me)
    }
}

/// Waits (up to a second) until every line logged so far is written: before the process exits.
pub fn flush() {
    if let Some(b) = FLUSH.get() {
        let (done, wait) = mpsc::channel();
        if b.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(1));
        }
    }
}

fn write_lines(rx: &Receiver<Message>, mut out: impl Write, dropped: &AtomicU64) {
    // Errors writing stderr cannot be reported anywhere; the lines are lost, the gateway runs on.
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(m) = next {
            match m {
                Message::Line(l) => {
                    let lost = dropped.swap(0, Ordering::Relaxed);
                    if lost > 0 {
                        let _ = writeln!(
                            out,
                            "[{lost} log lines dropped: stderr was not read fast enough]"
                        );
                    }
                    let _ = out.write_all(&l);
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
    }
}

/// One log line being formatted.
#[derive(Debug)]
pub struct Line<'a> {
    buf: Vec<u8>,
    to: &'a Background,
}

impl Write for Line<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        match self
            .to
            .tx
            .try_send(Message::Line(std::mem::take(&mut self.buf)))
        {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.to.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Background {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            buf: Vec::with_capacity(256),
            to: self,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_and_in_order_and_flush_waits_for_them() {
        let sink = Sink::default();
        let b = Background::start(sink.clone()).unwrap();
        for i in 0..1000 {
            let mut w = b.make_writer();
            writeln!(w, "line {i}").unwrap();
        }
        let (done, wait) = mpsc::channel();
        b.tx.send(Message::Flush(done)).unwrap();
        wait.recv_timeout(Duration::from_secs(5)).unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
    }
}
