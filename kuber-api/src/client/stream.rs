//! Streamed bodies: raw bytes (followed logs) and newline-split lines.

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use hyper::body::Body as _;
use tokio::time::{Instant, Sleep};

use super::body::Decoded;
use crate::Error;

/// A line (a watch event, a log line) longer than this is refused: a server that never sends a
/// newline cannot make the client buffer without end. Objects are at most a few MiB (etcd's
/// limit is 1.5 MiB).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// Notices a stream that has sent nothing for a while. Arrivals only record the time; the timer
/// is reset when it fires early, so a busy stream costs no timer updates.
pub(crate) struct IdleTimer {
    after: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    pub(crate) fn new(after: Duration) -> IdleTimer {
        IdleTimer {
            after,
            last: Instant::now(),
            // sleep, not sleep_until: it takes any Duration without overflowing.
            sleep: Box::pin(tokio::time::sleep(after)),
        }
    }

    /// The error that ends a stream of `operation` whose timer expired.
    pub(crate) fn error(&self, operation: &'static str) -> Error {
        Error::IdleTimeout {
            operation,
            after: self.after,
        }
    }

    /// Whether the stream has been silent for too long, given this poll of its body: anything
    /// that arrived resets the clock; a pending body past the deadline has expired.
    pub(crate) fn expired<T>(&mut self, polled: &Poll<T>, cx: &mut Context<'_>) -> bool {
        match polled {
            Poll::Pending => self.poll_expired(cx).is_ready(),
            Poll::Ready(_) => {
                self.last = Instant::now();
                false
            }
        }
    }

    /// Ready once nothing has arrived for `after`; call when the body is pending.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            // A timeout too long to represent never expires; the body's waker is registered.
            let Some(deadline) = self.last.checked_add(self.after) else {
                return Poll::Pending;
            };
            if Instant::now() >= deadline {
                return Poll::Ready(());
            }
            self.sleep.as_mut().reset(deadline);
        }
    }
}

/// Splits frames into lines as they arrive, keeping only the unfinished line between frames.
#[derive(Default)]
pub(crate) struct LineBuffer {
    /// The rest of the current frame, not yet looked at.
    pending: Bytes,
    /// The start of a line whose end has not arrived yet.
    tail: Vec<u8>,
}

impl LineBuffer {
    /// The next complete line without its `\n`, if one is buffered. Lines within one frame are
    /// slices of it, not copies.
    pub(crate) fn next_line(&mut self) -> Option<Bytes> {
        match memchr(b'\n', &self.pending) {
            Some(i) => {
                let mut line = self.pending.split_to(i);
                self.pending.advance(1);
                if !self.tail.is_empty() {
                    self.tail.extend_from_slice(&line);
                    // Hand the buffer over: its memory goes with the line.
                    line = Bytes::from(std::mem::take(&mut self.tail));
                }
                Some(line)
            }
            None => {
                if !self.pending.is_empty() {
                    self.tail.extend_from_slice(&self.pending);
                    self.pending.clear();
                }
                None
            }
        }
    }

    /// Adds a frame; call only after `next_line` returned `None`.
    pub(crate) fn push(&mut self, frame: Bytes) {
        debug_assert!(self.pending.is_empty());
        self.pending = frame;
    }

    /// Bytes of an unfinished line.
    pub(crate) fn unfinished(&self) -> usize {
        self.tail.len() + self.pending.len()
    }

    /// What is left when the body ends: an unfinished last line.
    pub(crate) fn take_rest(&mut self) -> Option<Bytes> {
        if !self.pending.is_empty() {
            self.tail.extend_from_slice(&self.pending);
            self.pending.clear();
        }
        (!self.tail.is_empty()).then(|| Bytes::from(std::mem::take(&mut self.tail)))
    }

    /// Memory held between frames (the unfinished line's buffer).
    pub(crate) fn capacity(&self) -> usize {
        self.tail.capacity()
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// The body of a streamed answer (a followed log), chunk by chunk as the server sends it.
///
/// Silence longer than the client's idle timeout ends it with [`Error::IdleTimeout`].
pub struct ByteStream {
    body: Decoded,
    operation: &'static str,
    idle: Option<IdleTimer>,
    done: bool,
}

impl ByteStream {
    pub(crate) fn new(
        body: Decoded,
        operation: &'static str,
        idle_timeout: Option<Duration>,
    ) -> ByteStream {
        ByteStream {
            body,
            operation,
            idle: idle_timeout.map(IdleTimer::new),
            done: false,
        }
    }

    /// The same body as lines (without `\n`), decoded as UTF-8 with invalid bytes replaced; a
    /// last line without `\n` is yielded too. A line longer than 64 MiB (the bound of watch
    /// events) ends the stream with [`Error::LineTooLong`].
    pub fn lines(self) -> Lines {
        Lines {
            bytes: self,
            buffer: LineBuffer::default(),
            done: false,
        }
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("operation", &self.operation)
            .field("done", &self.done)
            .finish()
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.done {
            let polled = Pin::new(&mut this.body).poll_frame(cx);
            if let Some(idle) = &mut this.idle
                && idle.expired(&polled, cx)
            {
                this.done = true;
                return Poll::Ready(Some(Err(idle.error(this.operation))));
            }
            match ready!(polled) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Transport {
                        operation: this.operation,
                        source: Box::new(e),
                    })));
                }
                None => this.done = true,
            }
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done { (0, Some(0)) } else { (0, None) }
    }
}

/// A [`ByteStream`] split into lines; see [`ByteStream::lines`].
pub struct Lines {
    bytes: ByteStream,
    buffer: LineBuffer,
    done: bool,
}

impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("operation", &self.bytes.operation)
            .field("done", &self.done)
            .finish()
    }
}

fn text(mut line: Bytes) -> String {
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    match String::from_utf8(line.to_vec()) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl Stream for Lines {
    type Item = Result<String, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(line) = this.buffer.next_line() {
                return Poll::Ready(Some(Ok(text(line))));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.buffer.unfinished() > MAX_LINE {
                this.done = true;
                this.buffer = LineBuffer::default();
                return Poll::Ready(Some(Err(Error::LineTooLong {
                    operation: this.bytes.operation,
                    limit: MAX_LINE,
                })));
            }
            match ready!(Pin::new(&mut this.bytes).poll_next(cx)) {
                Some(Ok(data)) => this.buffer.push(data),
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    this.done = true;
                    if let Some(rest) = this.buffer.take_rest() {
                        return Poll::Ready(Some(Ok(text(rest))));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_frames() {
        let mut b = LineBuffer::default();
        let mut lines = Vec::new();
        for frame in ["ab", "c\nde", "f\n\ng", "h"] {
            b.push(Bytes::from(frame));
            while let Some(line) = b.next_line() {
                lines.push(String::from_utf8(line.to_vec()).unwrap());
            }
        }
        assert_eq!(lines, ["abc", "def", ""]);
        assert_eq!(b.unfinished(), 2);
        assert_eq!(b.take_rest().as_deref(), Some(&b"gh"[..]));
        assert_eq!(b.take_rest(), None);
    }

    #[tokio::test]
    async fn an_idle_timeout_too_long_to_represent_never_fires() {
        let mut timer = IdleTimer::new(Duration::MAX);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(!timer.expired(&Poll::Ready(()), &mut cx));
        assert!(!timer.expired(&Poll::<()>::Pending, &mut cx));
    }
}
