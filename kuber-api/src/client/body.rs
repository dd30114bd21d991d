//! Answer bodies as the caller reads them: gzip-encoded ones decoded on the fly (feature `gzip`).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use hyper::body::{Body, Frame, SizeHint};

use super::transport::{BoxError, ResponseBody};

#[cfg(feature = "gzip")]
mod gunzip;
#[cfg(feature = "gzip")]
use gunzip::Gunzip;

/// Without the `gzip` feature nothing is offered, so no answer is decoded: a decoder cannot exist.
#[cfg(not(feature = "gzip"))]
enum Gunzip {}

#[cfg(not(feature = "gzip"))]
impl Gunzip {
    fn done(&self) -> bool {
        match *self {}
    }
    fn has_input(&self) -> bool {
        match *self {}
    }
    fn push(&mut self, _: Bytes) {
        match *self {}
    }
    fn step(&mut self) -> io::Result<Bytes> {
        match *self {}
    }
    fn finish(&mut self) -> io::Result<Bytes> {
        match *self {}
    }
}

/// Counts of what the client received, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) responses: AtomicU64,
    pub(crate) gzip_responses: AtomicU64,
    pub(crate) gzip_wire_bytes: AtomicU64,
    pub(crate) gzip_decoded_bytes: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ClientStats {
        ClientStats {
            responses: self.responses.load(Ordering::Relaxed),
            gzip_responses: self.gzip_responses.load(Ordering::Relaxed),
            gzip_wire_bytes: self.gzip_wire_bytes.load(Ordering::Relaxed),
            gzip_decoded_bytes: self.gzip_decoded_bytes.load(Ordering::Relaxed),
        }
    }
}

/// What a client (and its clones) received so far, see [`Client::stats`](crate::Client::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Answers received (any status), retries included.
    pub responses: u64,
    /// Answers that came gzip-encoded and were decoded.
    pub gzip_responses: u64,
    /// Compressed bytes of those answers read so far.
    pub gzip_wire_bytes: u64,
    /// What they decoded to.
    pub gzip_decoded_bytes: u64,
}

/// Why reading a body failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The connection failed or broke.
    #[error("{0}")]
    Transport(#[source] BoxError),
    /// The body says it is gzip but does not decode.
    #[error("gzip-encoded answer does not decode: {0}")]
    Gzip(io::Error),
}

/// An answer's body, decoded when the server gzip-encoded it.
pub(crate) struct Decoded {
    body: ResponseBody,
    gzip: Option<Box<Gunzip>>,
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("gzip", &self.gzip.is_some())
            .finish()
    }
}

impl Decoded {
    /// `body`, decoded if `asked` (the request offered gzip) and the answer is gzip-encoded.
    pub(crate) fn new(
        body: ResponseBody,
        headers: &HeaderMap,
        asked: bool,
        counters: &Arc<Counters>,
    ) -> Decoded {
        let gzip = if asked && is_gzip(headers) {
            decoder(counters)
        } else {
            None
        };
        if gzip.is_some() {
            counters.gzip_responses.fetch_add(1, Ordering::Relaxed);
        }
        Decoded { body, gzip }
    }
}

#[cfg(feature = "gzip")]
fn decoder(counters: &Arc<Counters>) -> Option<Box<Gunzip>> {
    Some(Box::new(Gunzip::new(counters.clone())))
}

/// Without the `gzip` feature gzip is never offered; an answer gzip-encoded all the same is
/// passed on as sent.
#[cfg(not(feature = "gzip"))]
fn decoder(_: &Arc<Counters>) -> Option<Box<Gunzip>> {
    None
}

fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

impl Body for Decoded {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        let Some(gzip) = &mut this.gzip else {
            return Pin::new(&mut this.body)
                .poll_frame(cx)
                .map(|f| f.map(|f| f.map_err(BodyError::Transport)));
        };
        loop {
            if gzip.done() {
                return Poll::Ready(None);
            }
            if gzip.has_input() {
                let out = gzip.step().map_err(BodyError::Gzip)?;
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(out))));
                }
                continue;
            }
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // Trailers carry nothing a caller of this client reads.
                    if let Ok(data) = frame.into_data() {
                        gzip.push(data);
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(BodyError::Transport(e)))),
                None => {
                    let out = gzip.finish().map_err(BodyError::Gzip)?;
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.gzip {
            None => self.body.is_end_stream(),
            Some(gzip) => gzip.done(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.gzip {
            None => self.body.size_hint(),
            // The compressed length says nothing about the decoded one.
            Some(_) => SizeHint::default(),
        }
    }
}

/// Reads a whole body, or its first `limit` bytes.
pub(crate) async fn read_body(mut body: Decoded, limit: Option<usize>) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt as _;
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            match limit {
                Some(limit) => {
                    let room = limit - out.len();
                    out.extend_from_slice(&data[..data.len().min(room)]);
                    if out.len() >= limit {
                        break;
                    }
                }
                // One frame, as most answers are: no copy.
                None if out.is_empty() => out = BytesMut::from(data),
                None => out.extend_from_slice(&data),
            }
        }
    }
    Ok(out.freeze())
}
