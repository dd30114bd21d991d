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
    /// Protobuf frames (the server answered `;stream=watch`): each event's object is read with
    /// this; `None` for newline-delimited JSON.
    protobuf: Option<ObjectDecoder<T>>,
    /// Protobuf bytes not yet a whole frame.
    frames: Vec<u8>,
    // fn() -> T: the stream is Send, Sync and Unpin whatever T is; it only produces Ts.
    _type: PhantomData<fn() -> T>,
}

/// Reads a whole protobuf body (magic, envelope, message) as a `T`.
type ObjectDecoder<T> = fn(&[u8]) -> Result<T, kuber_models_decode::DecodeError>;

#[cfg(feature = "protobuf")]
mod kuber_models_decode {
    pub use kuber_models::proto::DecodeError;
}

#[cfg(not(feature = "protobuf"))]
mod kuber_models_decode {
    /// Without `protobuf` no stream is ever in protobuf.
    pub enum DecodeError {}
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
            protobuf: None,
            frames: Vec::new(),
            _type: PhantomData,
        }
    }

    /// The stream reads protobuf frames, each event's object with `decode`.
    #[cfg(feature = "protobuf")]
    pub(crate) fn protobuf(mut self, decode: ObjectDecoder<T>) -> WatchStream<T> {
        self.protobuf = Some(decode);
        self
    }

    /// Bytes of buffer held for an unfinished event. Shows that memory stays bounded by the
    /// largest event, not the length of the watch.
    #[doc(hidden)]
    pub fn buffered_capacity(&self) -> usize {
        self.buffer.capacity() + self.frames.capacity()
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

#[cfg(feature = "protobuf")]
impl<T> WatchStream<T> {
    /// The next whole frame's event, if one is buffered; a frame too long ends the stream.
    fn next_protobuf(&mut self, decode: ObjectDecoder<T>) -> Option<Result<WatchEvent<T>, Error>> {
        use kuber_models::proto;
        let (event, consumed) = match proto::next_frame(&self.frames) {
            Ok(None) => return None,
            Ok(Some((frame, consumed))) => (self.decode_frame(frame, decode), consumed),
            Err(e) => {
                self.done = true;
                self.frames = Vec::new();
                return Some(Err(self.error(e.problem().to_owned())));
            }
        };
        self.frames.drain(..consumed);
        Some(event)
    }

    fn decode_frame(&self, frame: &[u8], decode: ObjectDecoder<T>) -> Result<WatchEvent<T>, Error> {
        use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
        use kuber_models::proto;
        let failed =
            |type_name, e: &proto::DecodeError| Error::protobuf(self.operation, type_name, e);
        let type_name = std::any::type_name::<WatchEvent<T>>();
        let event = proto::decode_watch_frame(frame).map_err(|e| failed(type_name, &e))?;
        let object = |wrap: fn(T) -> WatchEvent<T>| {
            decode(event.object)
                .map(wrap)
                .map_err(|e| failed(std::any::type_name::<T>(), &e.field("object")))
        };
        match event.event_type {
            "ADDED" => object(WatchEvent::Added),
            "MODIFIED" => object(WatchEvent::Modified),
            "DELETED" => object(WatchEvent::Deleted),
            "BOOKMARK" => object(WatchEvent::Bookmark),
            "ERROR" => proto::decode_object::<Status>(event.object)
                .map(WatchEvent::Error)
                .map_err(|e| failed(std::any::type_name::<Status>(), &e.field("object"))),
            other => Err(self.error(format!(
                "unknown watch event type {:?}",
                preview(other.as_bytes())
            ))),
        }
    }
}

#[cfg(not(feature = "protobuf"))]
impl<T> WatchStream<T> {
    fn next_protobuf(&mut self, _: ObjectDecoder<T>) -> Option<Result<WatchEvent<T>, Error>> {
        None
    }
}

impl<T: DeserializeOwned> WatchStream<T> {
    /// A protobuf watch: frames decoded as they complete.
    fn poll_protobuf(
        &mut self,
        decode: ObjectDecoder<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WatchEvent<T>, Error>>> {
        loop {
            if let Some(event) = self.next_protobuf(decode) {
                return Poll::Ready(Some(event));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let polled = Pin::new(&mut self.body).poll_frame(cx);
            if let Some(idle) = &mut self.idle
                && idle.expired(&polled, cx)
            {
                self.done = true;
                return Poll::Ready(Some(Err(idle.error(self.operation))));
            }
            match ready!(polled) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.frames.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    let partial = std::mem::take(&mut self.frames).len();
                    let message = if partial > 0 {
                        format!(
                            "connection broke in the middle of an event ({partial} bytes received): {e}"
                        )
                    } else {
                        format!("connection broke: {}", crate::error::chain(&e))
                    };
                    return Poll::Ready(Some(Err(self.error(message))));
                }
                None => {
                    self.done = true;
                    let partial = std::mem::take(&mut self.frames).len();
                    if partial > 0 {
                        let message = format!(
                            "connection closed in the middle of an event ({partial} bytes of an unfinished frame)"
                        );
                        return Poll::Ready(Some(Err(self.error(message))));
                    }
                }
            }
        }
    }
}

impl<T: DeserializeOwned> Stream for WatchStream<T> {
    type Item = Result<WatchEvent<T>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(decode) = this.protobuf {
            return this.poll_protobuf(decode, cx);
        }
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
