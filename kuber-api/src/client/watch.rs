//! A watch: newline-delimited JSON events, decoded as their lines arrive.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use hyper::body::Body as _;
use kuber_models::WatchEvent;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::body::Decoded;
use super::stream::{IdleTimer, LineBuffer, MAX_LINE};
use crate::Error;

/// An event longer than this is refused (the bound of log lines too).
const MAX_EVENT: usize = MAX_LINE;

/// The events of a watch, in the order the server sent them.
///
/// An `ERROR` event (e.g. 410 Gone: the resourceVersion is too old) is yielded as
/// [`WatchEvent::Error`]; the stream goes on until the server closes it, usually after the
/// request's `timeoutSeconds`. A connection that breaks in the middle of an event yields one
/// [`Error::WatchStream`] and ends the stream. Memory held between chunks is one unfinished
/// event at most. Silence longer than the client's idle timeout ends it with
/// [`Error::IdleTimeout`].
pub struct WatchStream<T> {
    body: Decoded,
    buffer: LineBuffer,
    operation: &'static str,
    idle: Option<IdleTimer>,
    done: bool,
    // fn() -> T: the stream is Send, Sync and Unpin whatever T is; it only produces Ts.
    _type: PhantomData<fn() -> T>,
}

impl<T> WatchStream<T> {
    pub(crate) fn new(
        body: Decoded,
        operation: &'static str,
        idle_timeout: Option<Duration>,
    ) -> WatchStream<T> {
        WatchStream {
            body,
            buffer: LineBuffer::default(),
            operation,
            idle: idle_timeout.map(IdleTimer::new),
            done: false,
            _type: PhantomData,
        }
    }

    /// Bytes of buffer held for an unfinished event. Shows that memory stays bounded by the
    /// largest event, not the length of the watch.
    #[doc(hidden)]
    pub fn buffered_capacity(&self) -> usize {
        self.buffer.capacity()
    }

    fn error(&self, message: String) -> Error {
        Error::WatchStream {
            operation: self.operation,
            message,
        }
    }
}

impl<T> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream")
            .field("operation", &self.operation)
            .field("type", &std::any::type_name::<T>())
            .field("done", &self.done)
            .finish()
    }
}

impl<T: DeserializeOwned> WatchStream<T> {
    fn decode(&self, line: &[u8]) -> Result<WatchEvent<T>, Error> {
        serde_json::from_slice::<WatchEvent<T>>(line).map_err(|e| match e.classify() {
            // Valid JSON of the wrong shape: the object is not a T.
            Category::Data => Error::decode::<WatchEvent<T>>(self.operation, &e),
            _ => self.error(format!(
                "a line is not a JSON watch event ({e}), starting {:?}",
                preview(line)
            )),
        })
    }
}

/// The start of a bad line, for the message: enough to recognise it, never a whole object.
fn preview(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(80)]);
    if line.len() > 80 {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

impl<T: DeserializeOwned> Stream for WatchStream<T> {
    type Item = Result<WatchEvent<T>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(line) = this.buffer.next_line() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Poll::Ready(Some(this.decode(&line)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.buffer.unfinished() > MAX_EVENT {
                this.done = true;
                let message = format!("an event is longer than {} MiB; giving up", MAX_EVENT >> 20);
                return Poll::Ready(Some(Err(this.error(message))));
            }
            let polled = Pin::new(&mut this.body).poll_frame(cx);
            if let Some(idle) = &mut this.idle
                && idle.expired(&polled, cx)
            {
                this.done = true;
                return Poll::Ready(Some(Err(idle.error(this.operation))));
            }
            match ready!(polled) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.buffer.push(data);
                    }
                }
                Some(Err(e)) => {
                    this.done = true;
                    let partial = this.buffer.take_rest().map_or(0, |rest| rest.len());
                    let message = if partial > 0 {
                        format!(
                            "connection broke in the middle of an event ({partial} bytes received): {e}"
                        )
                    } else {
                        format!("connection broke: {}", crate::error::chain(&e))
                    };
                    return Poll::Ready(Some(Err(this.error(message))));
                }
                None => {
                    this.done = true;
                    if let Some(rest) = this.buffer.take_rest()
                        && !rest.iter().all(u8::is_ascii_whitespace)
                    {
                        let message = format!(
                            "connection closed in the middle of an event \
                             ({} bytes without the closing newline)",
                            rest.len()
                        );
                        return Poll::Ready(Some(Err(this.error(message))));
                    }
                }
            }
        }
    }
}
