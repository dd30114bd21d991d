//! Answer bodies as the caller reads them: gzip-encoded ones decoded on the fly.
//!
//! flate2's pure-Rust backend (miniz_oxide) decodes: no C library, no unsafe code of ours, and
//! its push-style `write::GzDecoder` works frame by frame inside `poll_frame`, so whole answers,
//! watches and followed logs share one decoder without an async adapter.

use std::fmt;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use flate2::write::GzDecoder;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// Compressed input handed to the decoder at a time. Deflate expands at most about 1032:1, so
/// one step yields at most ~8 MiB however the server packed its frames, and the line bounds of
/// watches and logs are checked between steps.
const STEP: usize = 8 << 10;

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
    #[error(transparent)]
    Transport(#[from] hyper::Error),
    /// The body says it is gzip but does not decode.
    #[error("gzip-encoded answer does not decode: {0}")]
    Gzip(io::Error),
}

/// An answer's body, decoded when the server gzip-encoded it.
pub(crate) struct Decoded {
    body: Incoming,
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
        body: Incoming,
        headers: &HeaderMap,
        asked: bool,
        counters: &Arc<Counters>,
    ) -> Decoded {
        let gzip = asked && is_gzip(headers);
        if gzip {
            counters.gzip_responses.fetch_add(1, Ordering::Relaxed);
        }
        Decoded {
            body,
            gzip: gzip.then(|| Box::new(Gunzip::new(counters.clone()))),
        }
    }
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
            if gzip.done {
                return Poll::Ready(None);
            }
            if !gzip.input.is_empty() {
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
            Some(gzip) => gzip.done,
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

/// Incremental gzip decoding of one member, as frames arrive.
struct Gunzip {
    decoder: GzDecoder<Vec<u8>>,
    /// Compressed bytes not yet handed to the decoder.
    input: Bytes,
    /// Whether any compressed byte arrived (an empty body is an empty answer, as in Go).
    started: bool,
    done: bool,
    counters: Arc<Counters>,
}

impl Gunzip {
    fn new(counters: Arc<Counters>) -> Gunzip {
        Gunzip {
            decoder: GzDecoder::new(Vec::new()),
            input: Bytes::new(),
            started: false,
            done: false,
            counters,
        }
    }

    fn push(&mut self, data: Bytes) {
        self.counters
            .gzip_wire_bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.started |= !data.is_empty();
        self.input = data;
    }

    /// Decodes up to [`STEP`] bytes of pending input; what they decoded to.
    fn step(&mut self) -> io::Result<Bytes> {
        let mut chunk = self.input.split_to(self.input.len().min(STEP));
        while !chunk.is_empty() {
            let n = self.decoder.write(&chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "data after the end of the gzip stream",
                ));
            }
            chunk = chunk.split_off(n);
        }
        self.decoder.flush()?;
        Ok(self.take_output())
    }

    /// The end of the body: the stream must be complete and its checksum right.
    fn finish(&mut self) -> io::Result<Bytes> {
        self.done = true;
        if !self.started {
            return Ok(Bytes::new());
        }
        self.decoder.try_finish()?;
        Ok(self.take_output())
    }

    fn take_output(&mut self) -> Bytes {
        let out = std::mem::take(self.decoder.get_mut());
        self.counters
            .gzip_decoded_bytes
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Bytes::from(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_in_pieces(encoded: &[u8], piece: usize) -> io::Result<Vec<u8>> {
        let mut g = Gunzip::new(Arc::default());
        let mut out = Vec::new();
        for part in encoded.chunks(piece) {
            g.push(Bytes::copy_from_slice(part));
            while !g.input.is_empty() {
                out.extend_from_slice(&g.step()?);
            }
        }
        out.extend_from_slice(&g.finish()?);
        Ok(out)
    }

    #[test]
    fn decodes_across_any_frame_split() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let encoded = gzip(&text);
        for piece in [1, 7, 10, 4096, encoded.len()] {
            assert_eq!(decode_in_pieces(&encoded, piece).unwrap(), text, "{piece}");
        }
    }

    #[test]
    fn a_cut_or_corrupt_stream_is_an_error() {
        let encoded = gzip(b"hello world, hello world");
        assert!(decode_in_pieces(&encoded[..encoded.len() - 3], 5).is_err());
        let mut bad_crc = encoded.clone();
        let at = bad_crc.len() - 6;
        bad_crc[at] ^= 1;
        assert!(decode_in_pieces(&bad_crc, 5).is_err());
        assert!(decode_in_pieces(b"not gzip at all", 5).is_err());
        let mut trailing = encoded;
        trailing.extend_from_slice(b"junk");
        assert!(decode_in_pieces(&trailing, 64).is_err());
        assert_eq!(decode_in_pieces(b"", 5).unwrap(), b"");
    }

    #[test]
    fn one_step_of_a_bomb_is_bounded() {
        let encoded = gzip(&vec![0u8; 64 << 20]);
        let mut g = Gunzip::new(Arc::default());
        g.push(Bytes::from(encoded));
        let first = g.step().unwrap();
        assert!(
            first.len() <= 9 << 20,
            "{} bytes from one step",
            first.len()
        );
    }
}
