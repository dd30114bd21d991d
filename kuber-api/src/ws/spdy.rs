//! SPDY/3.1 framing, as much as port-forward needs (the frames of moby/spdystream, which the
//! kubelet's port-forward server speaks): frames decoded from a byte stream, and the frames a
//! client sends.
//!
//! Header blocks are zlib streams, one per direction and connection. We send ours as *stored*
//! deflate blocks behind a zlib header without a preset dictionary (FDICT unset): Go's zlib reader
//! then reads it without the SPDY dictionary, and no compressor is needed. The server's header
//! blocks (SYN_REPLY's, always empty for port-forward) are skipped, never decompressed.

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

/// The control frame types, by number.
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;
/// FIN, on control and data frames alike.
const FLAG_FIN: u8 = 0x01;
/// Frame header: 8 bytes, whatever the frame.
pub(crate) const HEAD: usize = 8;
/// A frame's length field has 24 bits.
pub(crate) const MAX_LENGTH: usize = (1 << 24) - 1;
/// RST_STREAM status codes we send or name.
pub(crate) const REFUSED_STREAM: u32 = 3;
pub(crate) const CANCEL: u32 = 5;
/// zlib header: deflate, 32 KiB window, no preset dictionary; (0x78 << 8 | 0x01) % 31 == 0.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
/// An empty, non-final stored block: what a zlib sync flush ends with.
const SYNC_FLUSH: [u8; 5] = [0, 0, 0, 0xff, 0xff];
/// A stored deflate block holds at most this many bytes.
const STORED_MAX: usize = u16::MAX as usize;

/// A frame from the server. Header blocks are not decoded: port-forward needs none of them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// The server opens a stream (port-forward servers never do).
    SynStream {
        stream: u32,
    },
    SynReply {
        stream: u32,
        fin: bool,
    },
    /// HEADERS: only its FIN matters.
    Headers {
        stream: u32,
        fin: bool,
    },
    Data {
        stream: u32,
        fin: bool,
        data: Bytes,
    },
    RstStream {
        stream: u32,
        status: u32,
    },
    Ping {
        id: u32,
    },
    GoAway {
        last_good: u32,
        status: u32,
    },
    /// SETTINGS, WINDOW_UPDATE (spdystream neither honours nor sends windows), and control
    /// types SPDY/3.1 says to ignore.
    Ignored,
}

/// A frame that breaks SPDY/3.1: its type and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub(crate) frame: &'static str,
    pub(crate) problem: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed SPDY {} frame: {}", self.frame, self.problem)
    }
}

fn malformed(frame: &'static str, problem: impl Into<String>) -> Malformed {
    Malformed {
        frame,
        problem: problem.into(),
    }
}

/// Frames out of a byte stream that arrives in pieces of any size (the tunnel's WebSocket
/// messages need not align with frames).
#[derive(Default)]
pub(crate) struct Decoder {
    buf: BytesMut,
}

impl Decoder {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` until one has arrived.
    pub(crate) fn next(&mut self) -> Result<Option<Frame>, Malformed> {
        let Some(head) = self.buf.get(..HEAD) else {
            return Ok(None);
        };
        let first = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let flags = head[4];
        let length = usize::from(head[5]) << 16 | usize::from(head[6]) << 8 | usize::from(head[7]);
        if self.buf.len() < HEAD + length {
            // Room for the rest, once: a frame is at most 16 MiB.
            self.buf.reserve(HEAD + length - self.buf.len());
            return Ok(None);
        }
        let mut frame = self.buf.split_to(HEAD + length);
        frame.advance(HEAD);
        let fin = flags & FLAG_FIN != 0;
        if first & 0x8000_0000 == 0 {
            let stream = first & 0x7fff_ffff;
            if stream == 0 {
                return Err(malformed("DATA", "stream 0"));
            }
            let data = frame.freeze();
            return Ok(Some(Frame::Data { stream, fin, data }));
        }
        let version = (first >> 16) & 0x7fff;
        let kind = (first & 0xffff) as u16;
        if version != 3 {
            return Err(malformed(
                name(kind),
                format!("version {version}, not SPDY/3"),
            ));
        }
        control(kind, fin, &frame).map(Some)
    }
}

/// A control frame type's name, for errors.
fn name(kind: u16) -> &'static str {
    match kind {
        SYN_STREAM => "SYN_STREAM",
        SYN_REPLY => "SYN_REPLY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PING => "PING",
        GOAWAY => "GOAWAY",
        HEADERS => "HEADERS",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        _ => "control",
    }
}

/// The 32-bit words of a control frame's payload; `want`: the length it must have, or at least.
fn words(kind: u16, payload: &[u8], want: usize, exact: bool) -> Result<Vec<u32>, Malformed> {
    if payload.len() < want || (exact && payload.len() != want) {
        return Err(malformed(
            name(kind),
            format!(
                "{} bytes of payload, want {}{want}",
                payload.len(),
                if exact { "" } else { "at least " }
            ),
        ));
    }
    Ok(payload[..want]
        .chunks_exact(4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .collect())
}

/// A stream id that must not be 0.
fn stream_id(kind: u16, word: u32) -> Result<u32, Malformed> {
    match word & 0x7fff_ffff {
        0 => Err(malformed(name(kind), "stream 0")),
        id => Ok(id),
    }
}

fn control(kind: u16, fin: bool, payload: &[u8]) -> Result<Frame, Malformed> {
    Ok(match kind {
        SYN_STREAM => {
            let w = words(kind, payload, 8, false)?;
            // Two more bytes (priority, slot) before the header block.
            if payload.len() < 10 {
                return Err(malformed(name(kind), "shorter than its 10 fixed bytes"));
            }
            Frame::SynStream {
                stream: stream_id(kind, w[0])?,
            }
        }
        SYN_REPLY | HEADERS => {
            let stream = stream_id(kind, words(kind, payload, 4, false)?[0])?;
            if kind == SYN_REPLY {
                Frame::SynReply { stream, fin }
            } else {
                Frame::Headers { stream, fin }
            }
        }
        RST_STREAM => {
            let w = words(kind, payload, 8, true)?;
            if w[1] == 0 {
                return Err(malformed(name(kind), "status 0"));
            }
            Frame::RstStream {
                stream: stream_id(kind, w[0])?,
                status: w[1],
            }
        }
        SETTINGS => {
            let count = words(kind, payload, 4, false)?[0] as usize;
            if count.checked_mul(8).and_then(|n| n.checked_add(4)) != Some(payload.len()) {
                return Err(malformed(
                    name(kind),
                    format!("{count} settings in {} bytes", payload.len()),
                ));
            }
            Frame::Ignored
        }
        PING => Frame::Ping {
            id: words(kind, payload, 4, true)?[0],
        },
        GOAWAY => {
            let w = words(kind, payload, 8, true)?;
            Frame::GoAway {
                last_good: w[0] & 0x7fff_ffff,
                status: w[1],
            }
        }
        WINDOW_UPDATE => {
            words(kind, payload, 8, true)?;
            Frame::Ignored
        }
        _ => Frame::Ignored,
    })
}

/// A control frame's 8 header bytes, then its payload.
fn control_frame(kind: u16, flags: u8, payload: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(HEAD + payload.len());
    frame.put_u16(0x8000 | 3);
    frame.put_u16(kind);
    frame.put_u32(u32::from(flags) << 24 | payload.len() as u32);
    frame.put_slice(payload);
    frame.freeze()
}

/// A DATA frame's header, for `len` bytes of data that follow it.
pub(crate) fn data_head(head: &mut [u8], stream: u32, fin: bool, len: usize) {
    let flags = if fin { u32::from(FLAG_FIN) << 24 } else { 0 };
    head[..4].copy_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    head[4..8].copy_from_slice(&(flags | (len.min(MAX_LENGTH) as u32)).to_be_bytes());
}

/// An empty DATA frame with FIN: the sender's half of the stream closes.
pub(crate) fn fin(stream: u32) -> Bytes {
    let mut frame = [0u8; HEAD];
    data_head(&mut frame, stream, true, 0);
    Bytes::copy_from_slice(&frame)
}

pub(crate) fn rst_stream(stream: u32, status: u32) -> Bytes {
    let mut payload = [0u8; 8];
    payload[..4].copy_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    payload[4..].copy_from_slice(&status.to_be_bytes());
    control_frame(RST_STREAM, 0, &payload)
}

pub(crate) fn ping(id: u32) -> Bytes {
    control_frame(PING, 0, &id.to_be_bytes())
}

/// GOAWAY with status OK: `last_good` is the last stream the server opened (none, here).
pub(crate) fn goaway(last_good: u32) -> Bytes {
    let mut payload = [0u8; 8];
    payload[..4].copy_from_slice(&last_good.to_be_bytes());
    control_frame(GOAWAY, 0, &payload)
}

/// The client's header compression context: one zlib stream for the connection, so the zlib
/// header goes before the first block only.
#[derive(Default)]
pub(crate) struct HeaderBlocks {
    started: bool,
}

impl HeaderBlocks {
    /// `headers` (lowercase names, each once) as the next compressed header block.
    pub(crate) fn encode(&mut self, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut raw = Vec::new();
        raw.put_u32(headers.len() as u32);
        for (name, value) in headers {
            raw.put_u32(name.len() as u32);
            raw.put_slice(name.as_bytes());
            raw.put_u32(value.len() as u32);
            raw.put_slice(value.as_bytes());
        }
        let mut block = Vec::with_capacity(raw.len() + 8);
        if !std::mem::replace(&mut self.started, true) {
            block.extend_from_slice(&ZLIB_HEADER);
        }
        // Stored blocks, never final: each ends byte-aligned, so the next frame's block follows
        // on the same stream as a sync flush would leave it.
        for chunk in raw.chunks(STORED_MAX) {
            let len = chunk.len() as u16;
            block.put_u8(0);
            block.put_u16_le(len);
            block.put_u16_le(!len);
            block.put_slice(chunk);
        }
        // The sync-flush marker, an empty stored block: Go's inflater hands out a block's bytes
        // only when it meets one (or the stream ends), so without it the server reads on into
        // the next frame and refuses the second header block ("compressed payload size was
        // incorrect").
        block.extend_from_slice(&SYNC_FLUSH);
        block
    }

    /// A SYN_STREAM opening `stream` (odd: the client's), priority 0, not associated.
    pub(crate) fn syn_stream(&mut self, stream: u32, headers: &[(&str, &str)]) -> Bytes {
        let block = self.encode(headers);
        let mut payload = Vec::with_capacity(10 + block.len());
        payload.put_u32(stream & 0x7fff_ffff);
        payload.put_u32(0);
        payload.put_u16(0);
        payload.extend_from_slice(&block);
        control_frame(SYN_STREAM, 0, &payload)
    }
}

/// A server's SYN_REPLY (its header block opaque), for tests of the client.
#[cfg(test)]
pub(crate) fn syn_reply(stream: u32) -> Bytes {
    control_frame(
        SYN_REPLY,
        0,
        &[&stream.to_be_bytes()[..], &[0x38, 0xea]].concat(),
    )
}

/// A DATA frame with its bytes, for tests.
#[cfg(test)]
pub(crate) fn data(stream: u32, fin: bool, payload: &[u8]) -> Bytes {
    let mut frame = vec![0u8; HEAD];
    data_head(&mut frame, stream, fin, payload.len());
    frame.extend_from_slice(payload);
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, Malformed> {
        let mut decoder = Decoder::default();
        let mut frames = Vec::new();
        // One byte at a time: frames may be split anywhere.
        for b in bytes {
            decoder.push(&[*b]);
            while let Some(frame) = decoder.next()? {
                frames.push(frame);
            }
        }
        Ok(frames)
    }

    #[test]
    fn frames_we_send_decode_as_sent() {
        let mut blocks = HeaderBlocks::default();
        let mut wire = blocks.syn_stream(1, &[("streamtype", "error")]).to_vec();
        wire.extend_from_slice(&fin(1));
        wire.extend_from_slice(&rst_stream(3, CANCEL));
        wire.extend_from_slice(&ping(7));
        wire.extend_from_slice(&goaway(0));
        let mut data = vec![0u8; HEAD];
        data_head(&mut data, 3, false, 5);
        data.extend_from_slice(b"hello");
        wire.extend_from_slice(&data);
        assert_eq!(
            decode_all(&wire).unwrap(),
            [
                Frame::SynStream { stream: 1 },
                Frame::Data {
                    stream: 1,
                    fin: true,
                    data: Bytes::new()
                },
                Frame::RstStream {
                    stream: 3,
                    status: CANCEL
                },
                Frame::Ping { id: 7 },
                Frame::GoAway {
                    last_good: 0,
                    status: 0
                },
                Frame::Data {
                    stream: 3,
                    fin: false,
                    data: Bytes::from_static(b"hello")
                },
            ]
        );
    }

    #[test]
    fn a_servers_reply_and_windows_decode_without_their_header_blocks() {
        // SYN_REPLY for stream 1 with an opaque compressed block; SETTINGS with one entry;
        // WINDOW_UPDATE; an unknown control type, ignored as SPDY/3.1 says.
        let reply = control_frame(SYN_REPLY, 0, &[0, 0, 0, 1, 0x38, 0xea, 0xdf]);
        let settings = control_frame(SETTINGS, 0, &[0, 0, 0, 1, 0, 0, 0, 7, 0, 1, 0, 0]);
        let window = control_frame(WINDOW_UPDATE, 0, &[0, 0, 0, 1, 0, 1, 0, 0]);
        let unknown = control_frame(0x42, 0, b"??");
        let headers = control_frame(HEADERS, FLAG_FIN, &[0, 0, 0, 3]);
        let wire = [reply, settings, window, unknown, headers].concat();
        assert_eq!(
            decode_all(&wire).unwrap(),
            [
                Frame::SynReply {
                    stream: 1,
                    fin: false
                },
                Frame::Ignored,
                Frame::Ignored,
                Frame::Ignored,
                Frame::Headers {
                    stream: 3,
                    fin: true
                },
            ]
        );
    }

    #[test]
    fn malformed_frames_are_errors_naming_the_frame() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                control_frame(RST_STREAM, 0, &[0, 0, 0, 1]).to_vec(),
                "RST_STREAM",
            ),
            (
                control_frame(RST_STREAM, 0, &[0, 0, 0, 1, 0, 0, 0, 0]).to_vec(),
                "RST_STREAM",
            ),
            (control_frame(PING, 0, &[0, 0]).to_vec(), "PING"),
            (control_frame(GOAWAY, 0, &[0; 4]).to_vec(), "GOAWAY"),
            (
                control_frame(SYN_REPLY, 0, &[0, 0, 0, 0]).to_vec(),
                "SYN_REPLY",
            ),
            (
                control_frame(SYN_STREAM, 0, &[0, 0, 0, 2, 0]).to_vec(),
                "SYN_STREAM",
            ),
            (
                control_frame(SETTINGS, 0, &[0, 0, 0, 9, 0, 0, 0, 0]).to_vec(),
                "SETTINGS",
            ),
            (
                control_frame(WINDOW_UPDATE, 0, &[0; 3]).to_vec(),
                "WINDOW_UPDATE",
            ),
            (vec![0, 0, 0, 0, 0, 0, 0, 1, b'x'], "DATA"),
            // SPDY/2's version number.
            (vec![0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1], "PING"),
        ];
        for (wire, frame) in cases {
            let err = decode_all(&wire).unwrap_err();
            assert_eq!(err.frame, frame, "{err}");
            assert!(err.to_string().contains(frame), "{err}");
        }
    }

    #[test]
    fn a_frame_waits_for_all_its_bytes() {
        let mut decoder = Decoder::default();
        let mut head = [0u8; HEAD];
        data_head(&mut head, 5, true, 3);
        decoder.push(&head);
        decoder.push(b"ab");
        assert_eq!(decoder.next(), Ok(None));
        decoder.push(b"cPING");
        let frame = decoder.next().unwrap().unwrap();
        assert_eq!(
            frame,
            Frame::Data {
                stream: 5,
                fin: true,
                data: Bytes::from_static(b"abc")
            }
        );
        assert_eq!(decoder.next(), Ok(None));
    }

    /// The header blocks of a connection are one zlib stream a standard inflater reads without
    /// the SPDY dictionary: name/value pairs as SPDY/3 lays them out.
    #[cfg(feature = "gzip")]
    #[test]
    fn header_blocks_are_one_zlib_stream_without_a_dictionary() {
        use std::io::Read as _;
        let mut blocks = HeaderBlocks::default();
        let first = blocks.encode(&[("streamtype", "error"), ("port", "80")]);
        let second = blocks.encode(&[("requestid", "0")]);
        assert_eq!(&first[..2], &ZLIB_HEADER);
        // Decompressing the whole stream: the first block, then the second after it.
        let stream = [first.clone(), second].concat();
        let mut raw = Vec::new();
        let mut inflater = flate2::read::ZlibDecoder::new(&stream[..]);
        // No final block: the inflater ends with an error after what it produced.
        let mut buf = [0u8; 256];
        loop {
            match inflater.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
        let mut want = Vec::new();
        for pairs in [
            &[("streamtype", "error"), ("port", "80")][..],
            &[("requestid", "0")],
        ] {
            want.put_u32(pairs.len() as u32);
            for (n, v) in pairs {
                want.put_u32(n.len() as u32);
                want.put_slice(n.as_bytes());
                want.put_u32(v.len() as u32);
                want.put_slice(v.as_bytes());
            }
        }
        assert_eq!(raw, want);
        // Each block ends in a sync flush, so a Go reader stops at the frame's end (the real
        // kubelet refused our second SYN_STREAM without it).
        assert!(first.ends_with(&SYNC_FLUSH));
        // A block larger than a stored block's 64 KiB is split into several.
        let long = "x".repeat(70_000);
        let big = HeaderBlocks::default().encode(&[("port", &long)]);
        assert!(big.len() > 70_000 && big.len() < 70_100);
    }
}
