//! gzip decoding of one answer, fed frame by frame.
//!
//! flate2's pure-Rust backend (miniz_oxide) decodes: no C library, no unsafe code of ours, and
//! its push-style `write::GzDecoder` works frame by frame inside `poll_frame`, so whole answers,
//! watches and followed logs share one decoder without an async adapter.

use std::io::{self, Write as _};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use flate2::write::GzDecoder;

use super::Counters;

/// Compressed input handed to the decoder at a time. Deflate expands at most about 1032:1, so
/// one step yields at most ~8 MiB however the server packed its frames, and the line bounds of
/// watches and logs are checked between steps.
const STEP: usize = 8 << 10;

/// Incremental gzip decoding of one member, as frames arrive.
pub(super) struct Gunzip {
    decoder: GzDecoder<Vec<u8>>,
    /// Compressed bytes not yet handed to the decoder.
    input: Bytes,
    /// Whether any compressed byte arrived (an empty body is an empty answer, as in Go).
    started: bool,
    done: bool,
    counters: Arc<Counters>,
}

impl Gunzip {
    pub(super) fn new(counters: Arc<Counters>) -> Gunzip {
        Gunzip {
            decoder: GzDecoder::new(Vec::new()),
            input: Bytes::new(),
            started: false,
            done: false,
            counters,
        }
    }

    pub(super) fn push(&mut self, data: Bytes) {
        self.counters
            .gzip_wire_bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.started |= !data.is_empty();
        self.input = data;
    }

    /// Decodes up to [`STEP`] bytes of pending input; what they decoded to.
    pub(super) fn step(&mut self) -> io::Result<Bytes> {
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
    pub(super) fn finish(&mut self) -> io::Result<Bytes> {
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

    pub(super) fn done(&self) -> bool {
        self.done
    }

    pub(super) fn has_input(&self) -> bool {
        !self.input.is_empty()
    }
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
