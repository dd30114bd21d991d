//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) for every built-in
//! type: the [`Message`] impls are generated from the `.proto` field numbers beside the models.
//!
//! A body is the [`MAGIC`] and a `runtime.Unknown` envelope (typeMeta, raw, contentEncoding,
//! contentType) around the object's own message ([`decode_object`], [`encode_object`]). A
//! protobuf watch is a stream of frames, a 4-byte big-endian length and a `metav1.WatchEvent`
//! without magic or envelope, whose object is a whole body ([`next_frame`],
//! [`decode_watch_frame`]).
//!
//! A protobuf read gives the value the JSON read of the same object gives, and encoding it again
//! gives the server's bytes: fields in `.proto` order, Go value fields always written, pointers
//! when set, maps by key. Fields the model does not know are kept in `unknown_fields`.
//!
//! The wire primitives (varints, keys, lengths) are the `prost` crate's `encoding` module.

mod duration;
mod error;
mod special;
#[doc(hidden)]
pub mod wire;

pub use crate::generated::dispatch::with_message_type;
pub use error::DecodeError;
#[doc(hidden)]
pub use special::{schema_or_list, schema_unions};

use prost::encoding::encode_varint;
use wire::{WireType, key, put_str, read_key, take_len};

/// A type with a protobuf encoding.
pub trait Message: Sized + Default {
    /// The message's fields (no envelope, no outer length).
    fn encode(&self, buf: &mut Vec<u8>);

    /// Bytes of one message (no envelope).
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut m = Self::default();
        wire::merge_message(&mut m, bytes, 0).map_err(|e| e.root(Self::NAME))?;
        Ok(m)
    }

    /// The definition name, which error paths start with.
    #[doc(hidden)]
    const NAME: &'static str;

    /// Reads one field (its key already read) into the value.
    #[doc(hidden)]
    fn merge_field(
        &mut self,
        number: u32,
        wire: WireType,
        buf: &mut &[u8],
        depth: u32,
    ) -> Result<(), DecodeError>;

    /// The name of field `number`, for error paths.
    #[doc(hidden)]
    fn field_name(_number: u32) -> Option<&'static str> {
        None
    }

    /// Called after the last field: Go value fields that JSON always writes are set.
    #[doc(hidden)]
    fn finish(&mut self) {}

    /// Go's zero value, which a value field the model leaves unset is written as.
    #[doc(hidden)]
    fn encode_zero(buf: &mut Vec<u8>) {
        Self::default().encode(buf);
    }

    /// `apiVersion`/`kind` from the envelope, for types whose model has them.
    #[doc(hidden)]
    fn set_type_meta(&mut self, _api_version: &str, _kind: &str) {}
}

impl<T: Message> Message for Box<T> {
    const NAME: &'static str = T::NAME;

    fn encode(&self, buf: &mut Vec<u8>) {
        (**self).encode(buf);
    }

    fn merge_field(
        &mut self,
        n: u32,
        t: WireType,
        b: &mut &[u8],
        d: u32,
    ) -> Result<(), DecodeError> {
        (**self).merge_field(n, t, b, d)
    }

    fn field_name(n: u32) -> Option<&'static str> {
        T::field_name(n)
    }

    fn finish(&mut self) {
        (**self).finish();
    }

    fn encode_zero(buf: &mut Vec<u8>) {
        T::encode_zero(buf);
    }
}

/// The first bytes of every protobuf body: `k8s` and a zero.
pub const MAGIC: [u8; 4] = *b"k8s\0";

pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The largest watch frame [`next_frame`] takes: 64 MiB, well above the apiserver's own limits
/// on an object (etcd's request limit is 1.5 MiB), so only a broken or hostile stream reaches it.
pub const MAX_FRAME: usize = 64 << 20;

/// A body's `runtime.Unknown`, borrowed from the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// The object's message.
    pub raw: &'a [u8],
    /// Empty: the server writes no encoding.
    pub content_encoding: &'a str,
    /// Empty: the server leaves it out, meaning protobuf.
    pub content_type: &'a str,
}

fn text<'a>(bytes: &'a [u8], field: &'static str) -> Result<&'a str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::new("not UTF-8").field(field))
}

/// Checks the magic and reads the envelope.
pub fn decode_envelope(body: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    let unknown = "io.k8s.apimachinery.pkg.runtime.Unknown";
    let mut b = body.strip_prefix(&MAGIC).ok_or_else(|| {
        DecodeError::new("not a Kubernetes protobuf body (no k8s\\0 magic)").root(unknown)
    })?;
    let mut env = Envelope {
        api_version: "",
        kind: "",
        raw: &[],
        content_encoding: "",
        content_type: "",
    };
    let field = |n: u32| ["typeMeta", "raw", "contentEncoding", "contentType"].get(n as usize - 1);
    while !b.is_empty() {
        let (n, t) = read_key(&mut b).map_err(|e| e.root(unknown))?;
        let name = field(n).copied();
        let value = match name {
            Some(_) => wire::check(t, WireType::LengthDelimited).and_then(|()| take_len(&mut b)),
            None => wire::skip(t, &mut b).map(|()| &[][..]),
        };
        let value = value.map_err(|e| e.field(name.unwrap_or("?")).root(unknown))?;
        match n {
            1 => {
                let (a, k) = type_meta(value).map_err(|e| e.field("typeMeta").root(unknown))?;
                (env.api_version, env.kind) = (a, k);
            }
            2 => env.raw = value,
            3 => {
                env.content_encoding =
                    text(value, "contentEncoding").map_err(|e| e.root(unknown))?
            }
            4 => env.content_type = text(value, "contentType").map_err(|e| e.root(unknown))?,
            _ => {}
        }
    }
    Ok(env)
}

/// `TypeMeta{apiVersion = 1, kind = 2}`.
fn type_meta(mut b: &[u8]) -> Result<(&str, &str), DecodeError> {
    let (mut api_version, mut kind) = ("", "");
    while !b.is_empty() {
        let (n, t) = read_key(&mut b)?;
        match n {
            1 | 2 => {
                let name = if n == 1 { "apiVersion" } else { "kind" };
                wire::check(t, WireType::LengthDelimited).map_err(|e| e.field(name))?;
                let value = text(take_len(&mut b).map_err(|e| e.field(name))?, name)?;
                if n == 1 {
                    api_version = value;
                } else {
                    kind = value;
                }
            }
            _ => wire::skip(t, &mut b)?,
        }
    }
    Ok((api_version, kind))
}

/// The magic and the envelope as the apiserver writes them: typeMeta (both strings always), raw,
/// and the empty contentEncoding and contentType (Go value fields, written when empty too).
pub fn encode_envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + api_version.len() + kind.len() + 24);
    out.extend_from_slice(&MAGIC);
    wire::embedded(&mut out, 1, |b| {
        key(b, 1, WireType::LengthDelimited);
        put_str(api_version, b);
        key(b, 2, WireType::LengthDelimited);
        put_str(kind, b);
    });
    key(&mut out, 2, WireType::LengthDelimited);
    encode_varint(raw.len() as u64, &mut out);
    out.extend_from_slice(raw);
    out.extend_from_slice(&[0x1a, 0, 0x22, 0]);
    out
}

/// A whole body for an object of a served kind.
pub fn encode_object<T: Message + crate::Resource>(obj: &T) -> Vec<u8> {
    let mut raw = Vec::new();
    obj.encode(&mut raw);
    encode_envelope(T::API_VERSION, T::KIND, &raw)
}

/// The message of `v`, or `None` when protobuf cannot carry all it holds: JSON members the
/// models do not know (in any nested `unknown_fields`), members in a message the models hold as
/// empty, duration text Go would not parse, number text Go would write otherwise (`1e3`). Such a
/// value goes as JSON instead.
pub fn encode_lossless<T: Message>(v: &T) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    wire::lossless(|| v.encode(&mut buf)).then_some(buf)
}

/// [`encode_object`], or `None` when protobuf cannot carry all the object holds (see
/// [`encode_lossless`]).
pub fn encode_object_lossless<T: Message + crate::Resource>(obj: &T) -> Option<Vec<u8>> {
    let raw = encode_lossless(obj)?;
    Some(encode_envelope(T::API_VERSION, T::KIND, &raw))
}

/// A whole body for a list; `api_version` is its items' (lists have no constant of their own).
pub fn encode_list<L: Message + crate::ListResource>(list: &L, api_version: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    list.encode(&mut raw);
    encode_envelope(api_version, L::KIND, &raw)
}

/// Reads a whole body as `T`, with `apiVersion`/`kind` set from the envelope when `T` has them,
/// so the value equals the JSON read. A compressed body (a contentEncoding) is refused.
pub fn decode_object<T: Message>(body: &[u8]) -> Result<T, DecodeError> {
    let env = decode_envelope(body)?;
    if !env.content_encoding.is_empty() {
        return Err(DecodeError::new(format!(
            "content encoding {:?} is not supported",
            env.content_encoding
        ))
        .root("io.k8s.apimachinery.pkg.runtime.Unknown"));
    }
    let mut obj = T::decode(env.raw)?;
    obj.set_type_meta(env.api_version, env.kind);
    Ok(obj)
}

/// The next frame of a watch stream: `Ok(Some((frame, consumed)))`, `Ok(None)` when more bytes
/// are needed, an error for a length over [`MAX_FRAME`] (nothing is allocated for it).
pub fn next_frame(buf: &[u8]) -> Result<Option<(&[u8], usize)>, DecodeError> {
    let Some((len, rest)) = buf.split_first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_FRAME {
        return Err(DecodeError::new(format!(
            "watch frame of {len} bytes, over the limit of {MAX_FRAME}"
        )));
    }
    Ok(rest.get(..len).map(|frame| (frame, len + 4)))
}

/// One watch event as sent: its type and its object's whole body (magic and envelope).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchFrame<'a> {
    pub event_type: &'a str,
    pub object: &'a [u8],
}

/// Reads a frame's `WatchEvent{type = 1, object = 2 (RawExtension{raw = 1})}`.
pub fn decode_watch_frame(frame: &[u8]) -> Result<WatchFrame<'_>, DecodeError> {
    let root = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
    let mut out = WatchFrame {
        event_type: "",
        object: &[],
    };
    let mut b = frame;
    while !b.is_empty() {
        let (n, t) = read_key(&mut b).map_err(|e| e.root(root))?;
        let name = match n {
            1 => "type",
            2 => "object",
            _ => {
                wire::skip(t, &mut b).map_err(|e| e.root(root))?;
                continue;
            }
        };
        let value = wire::check(t, WireType::LengthDelimited)
            .and_then(|()| take_len(&mut b))
            .map_err(|e| e.field(name).root(root))?;
        if n == 1 {
            out.event_type = text(value, "type").map_err(|e| e.root(root))?;
        } else {
            out.object = raw_of(value).map_err(|e| e.field("object").root(root))?;
        }
    }
    Ok(out)
}

/// The `raw` bytes of a `RawExtension`.
fn raw_of(mut b: &[u8]) -> Result<&[u8], DecodeError> {
    let mut raw: &[u8] = &[];
    while !b.is_empty() {
        let (n, t) = read_key(&mut b)?;
        if n == 1 {
            wire::check(t, WireType::LengthDelimited).map_err(|e| e.field("raw"))?;
            raw = take_len(&mut b).map_err(|e| e.field("raw"))?;
        } else {
            wire::skip(t, &mut b)?;
        }
    }
    Ok(raw)
}

/// Appends one frame: the length, then the `WatchEvent` with `object` (a whole body) as its raw.
pub fn encode_watch_frame(event_type: &str, object: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    key(out, 1, WireType::LengthDelimited);
    put_str(event_type, out);
    wire::embedded(out, 2, |b| {
        key(b, 1, WireType::LengthDelimited);
        encode_varint(object.len() as u64, b);
        b.extend_from_slice(object);
    });
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Receives the Rust type behind an apiVersion/kind, see [`with_message_type`].
pub trait MessageVisitor {
    type Output;
    fn visit<T>(self) -> Self::Output
    where
        T: Message
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Clone
            + std::fmt::Debug
            + PartialEq
            + 'static;
}
