//! The pipes between a session's handles and the task that drives its WebSocket: tokio's
//! in-memory duplex, bounded, so a reader that falls behind holds the connection back instead of
//! growing a queue of the whole output.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

use crate::Error;

/// Bytes buffered per pipe and direction, at most (the buffer grows as used): a reader that
/// lags by less never stalls the session.
pub(crate) const CAPACITY: usize = 1 << 20;

/// The frames the handles send, channel byte first; every handle holds a sender, so the driver
/// knows when all of them are gone.
pub(crate) type Outgoing = mpsc::Sender<Bytes>;

/// An error the driver leaves on a pipe before letting go of its end: the reader gets the data
/// before it, then this, where it would otherwise see a clean end.
#[derive(Clone, Default)]
pub(crate) struct Fault(Arc<Mutex<Option<Report>>>);

/// An [`Error::Session`], kept in a form that clones.
#[derive(Clone)]
struct Report {
    operation: &'static str,
    channel: String,
    message: String,
}

impl Fault {
    /// Records the first fault; later ones are consequences of it.
    pub(crate) fn set(&self, operation: &'static str, channel: String, message: String) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(Report {
            operation,
            channel,
            message,
        });
    }

    pub(crate) fn error(&self) -> Option<Error> {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.clone().map(|r| Error::Session {
            operation: r.operation,
            channel: r.channel,
            message: r.message,
        })
    }

    fn io_error(&self) -> Option<io::Error> {
        self.error().map(io::Error::other)
    }
}

/// A handle's end of one pipe.
pub(crate) struct End {
    io: DuplexStream,
    fault: Fault,
    /// Keeps the session's connection open while the handle lives.
    _session: Outgoing,
}

/// A pipe: the handle's end and the driver's, which share `fault`.
pub(crate) fn pipe(fault: Fault, session: Outgoing) -> (End, DuplexStream) {
    let (mine, theirs) = tokio::io::duplex(CAPACITY);
    let end = End {
        io: mine,
        fault,
        _session: session,
    };
    (end, theirs)
}

impl End {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            // The driver's end is gone: a clean end, unless it left a fault.
            Poll::Ready(Ok(())) if buf.filled().len() == before && buf.remaining() > 0 => {
                match self.fault.io_error() {
                    Some(e) => Poll::Ready(Err(e)),
                    None => Poll::Ready(Ok(())),
                }
            }
            other => other,
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.fault.io_error().unwrap_or(e))),
            other => other,
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The output of a process (stdout or stderr), as it arrives. Reading ends when the process
/// closes it; a broken connection is an error after the last bytes that arrived.
pub struct ExecReader(pub(crate) End);

/// The input of a process. Shutting it down (or dropping it) closes the process's stdin, on
/// protocol v5 ([`AttachedProcess::can_close_stdin`](super::AttachedProcess::can_close_stdin)).
pub struct ExecWriter(pub(crate) End);

/// One forwarded port: what the pod's port sends, and what is written to it. An error the
/// server reports for the port is a read (or write) error, after the bytes before it.
pub struct PortStream(pub(crate) End);

impl AsyncRead for ExecReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

impl AsyncWrite for ExecWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_shutdown(cx)
    }
}

impl AsyncRead for PortStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

impl AsyncWrite for PortStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    /// The pod's port cannot be half-closed over WebSocket: this only stops writing.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_shutdown(cx)
    }
}

impl fmt::Debug for ExecReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExecReader")
    }
}

impl fmt::Debug for ExecWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExecWriter")
    }
}

impl fmt::Debug for PortStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PortStream")
    }
}
