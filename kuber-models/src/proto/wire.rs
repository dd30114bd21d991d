//! What the generated `Message` impls call: one small generic helper per field shape, so that an
//! impl is a list of calls (compile time is a feature) and the checks are written once, here.
//!
//! Encoding follows gogo-protobuf as Kubernetes uses it: fields in declaration order, Go value
//! fields always written (their zero value too), pointers only when set, map entries sorted by
//! key with both key and value written.

use std::collections::BTreeMap;

pub use prost::encoding::WireType;
use prost::encoding::{decode_key, decode_varint, encode_key, encode_varint, encoded_len_varint};

use super::{DecodeError, Message};
use crate::UnknownFields;

/// Messages nested deeper than this are refused: no stack overflow on hostile input.
pub const MAX_DEPTH: u32 = 100;

/// How one value of a field is written and read; `Std` for the model's own types.
pub trait Codec<V> {
    const WIRE: WireType;
    /// The value without its key (with its length for `len`).
    fn put(v: &V, b: &mut Vec<u8>);
    /// Go's zero value, which gogo writes for a value field the model leaves unset.
    fn put_zero(b: &mut Vec<u8>);
    /// Reads one value (its key already read); whether it was the zero value (for messages: an
    /// empty one).
    fn merge(v: &mut V, b: &mut &[u8], depth: u32) -> Result<bool, DecodeError>;
}

/// Strings, scalars, bytes and messages as the model holds them.
#[derive(Clone, Copy)]
pub struct Std;

/// A Go string slice that the `.proto` wraps in a message of its own (`Verbs`, `ExtraValue`):
/// `{ repeated string items = 1; }`.
#[derive(Clone, Copy)]
pub struct Items;

/// A message without fields that the model holds as raw JSON (`{}`): written empty; fields a
/// newer server sends in it are skipped.
#[derive(Clone, Copy)]
pub struct Empty;

/// `metav1.Duration` (int64 nanoseconds) in a model that holds Go's duration text (`1h0m0s`).
#[derive(Clone, Copy)]
pub struct Duration;

fn wire_name(w: WireType) -> &'static str {
    match w {
        WireType::Varint => "varint",
        WireType::SixtyFourBit => "i64",
        WireType::LengthDelimited => "len",
        WireType::StartGroup => "group start",
        WireType::EndGroup => "group end",
        WireType::ThirtyTwoBit => "i32",
    }
}

pub fn check(got: WireType, want: WireType) -> Result<(), DecodeError> {
    if got == want {
        Ok(())
    } else {
        Err(DecodeError::new(format!(
            "wire type {}, expected {}",
            wire_name(got),
            wire_name(want)
        )))
    }
}

pub fn read_key(b: &mut &[u8]) -> Result<(u32, WireType), DecodeError> {
    Ok(decode_key(b)?)
}

pub fn varint(b: &mut &[u8]) -> Result<u64, DecodeError> {
    Ok(decode_varint(b)?)
}

/// The bytes of one length-delimited value; a length past the end is an error, never a read.
pub fn take_len<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    let len = varint(b)?;
    if len > b.len() as u64 {
        return Err(DecodeError::new(format!(
            "length {len} runs past the end ({} bytes left)",
            b.len()
        )));
    }
    let (value, rest) = b.split_at(len as usize);
    *b = rest;
    Ok(value)
}

/// Skips one value of a field nobody reads.
pub fn skip(wire: WireType, b: &mut &[u8]) -> Result<(), DecodeError> {
    let n = match wire {
        WireType::Varint => return varint(b).map(drop),
        WireType::LengthDelimited => return take_len(b).map(drop),
        WireType::SixtyFourBit => 8,
        WireType::ThirtyTwoBit => 4,
        WireType::StartGroup | WireType::EndGroup => {
            return Err(DecodeError::new("groups are not used by Kubernetes"));
        }
    };
    if b.len() < n {
        return Err(DecodeError::new(format!(
            "{n} bytes needed, {} left",
            b.len()
        )));
    }
    *b = &b[n..];
    Ok(())
}

pub fn key(b: &mut Vec<u8>, tag: u32, wire: WireType) {
    encode_key(tag, wire, b);
}

/// Writes what `f` writes with its length in front. One byte is reserved for the length, the
/// usual case; a longer length moves the content once.
pub fn len_prefixed(b: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let start = b.len();
    b.push(0);
    f(b);
    let len = b.len() - start - 1;
    if len < 0x80 {
        b[start] = len as u8;
        return;
    }
    let n = encoded_len_varint(len as u64);
    let mut head = Vec::with_capacity(n);
    encode_varint(len as u64, &mut head);
    b.resize(b.len() + n - 1, 0);
    b.copy_within(start + 1..start + 1 + len, start + n);
    b[start..start + n].copy_from_slice(&head);
}

pub fn put_str(s: &str, b: &mut Vec<u8>) {
    encode_varint(s.len() as u64, b);
    b.extend_from_slice(s.as_bytes());
}

/// Reads a message's fields into `m`; the caller names the field on error.
pub fn merge_message<T: Message>(m: &mut T, mut b: &[u8], depth: u32) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new(format!(
            "messages nested deeper than {MAX_DEPTH}"
        )));
    }
    while !b.is_empty() {
        let (n, t) = read_key(&mut b)?;
        m.merge_field(n, t, &mut b, depth)
            .map_err(|e| name_field::<T>(e, n))?;
    }
    m.finish();
    Ok(())
}

fn name_field<T: Message>(e: DecodeError, n: u32) -> DecodeError {
    match T::field_name(n) {
        Some(name) => e.field(name),
        None => e.number(n),
    }
}

// --- encoding ---------------------------------------------------------------------------------

/// A field always written.
pub fn req<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, v: &V, _: C) {
    key(b, tag, C::WIRE);
    C::put(v, b);
}

/// An optional field: written when set; when unset, Go's zero value if it is a Go value field
/// (`value`), else nothing.
pub fn opt<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, v: &Option<V>, value: bool, _: C) {
    match v {
        Some(v) => {
            key(b, tag, C::WIRE);
            C::put(v, b);
        }
        None if value => {
            key(b, tag, C::WIRE);
            C::put_zero(b);
        }
        None => {}
    }
}

/// A repeated field: one key and value per element (never packed, as gogo writes proto2).
pub fn list<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, v: &[V], _: C) {
    for x in v {
        key(b, tag, C::WIRE);
        C::put(x, b);
    }
}

pub fn opt_list<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, v: &Option<Vec<V>>, c: C) {
    if let Some(v) = v {
        list(b, tag, v, c);
    }
}

/// A map: entries in key order, each a message of key (1) and value (2).
pub fn map<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, m: &BTreeMap<String, V>, _: C) {
    for (k, v) in m {
        key(b, tag, WireType::LengthDelimited);
        len_prefixed(b, |b| {
            key(b, 1, WireType::LengthDelimited);
            put_str(k, b);
            key(b, 2, C::WIRE);
            C::put(v, b);
        });
    }
}

pub fn opt_map<V, C: Codec<V>>(b: &mut Vec<u8>, tag: u32, m: &Option<BTreeMap<String, V>>, c: C) {
    if let Some(m) = m {
        map(b, tag, m, c);
    }
}

/// A Go embedded struct: its own message in protobuf, its fields inline in JSON (and the model).
pub fn embedded(b: &mut Vec<u8>, tag: u32, f: impl FnOnce(&mut Vec<u8>)) {
    key(b, tag, WireType::LengthDelimited);
    len_prefixed(b, f);
}

/// The fields the model did not know, after the known ones. JSON members have no field number
/// and cannot be written: the encoding is marked lossy ([`super::encode_lossless`]).
pub fn unknown(b: &mut Vec<u8>, u: &UnknownFields) {
    if u.iter().next().is_some() {
        lost();
    }
    b.extend_from_slice(u.protobuf());
}

thread_local! {
    /// Set when an encode on this thread wrote less than the value holds.
    static LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the encode running on this thread as losing something the value holds.
pub(super) fn lost() {
    LOST.with(|l| l.set(true));
}

/// Runs `f` (one encode) and says whether it lost nothing. Encodes do not nest across threads,
/// so a thread-local flag sees exactly `f`'s writes.
pub(super) fn lossless(f: impl FnOnce()) -> bool {
    let before = LOST.with(|l| l.replace(false));
    f();
    let lost = LOST.with(|l| l.replace(before));
    !lost
}

// --- decoding ---------------------------------------------------------------------------------

pub fn set_req<V, C: Codec<V>>(
    v: &mut V,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    _: C,
) -> Result<(), DecodeError> {
    check(t, C::WIRE)?;
    C::merge(v, b, d).map(drop)
}

/// An optional field; with `zero_none`, a zero value reads as `None` (a Go value field that JSON
/// leaves out when zero, so that both reads agree).
pub fn set_opt<V: Default, C: Codec<V>>(
    v: &mut Option<V>,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    zero_none: bool,
    _: C,
) -> Result<(), DecodeError> {
    check(t, C::WIRE)?;
    let zero = C::merge(v.get_or_insert_with(V::default), b, d)?;
    if zero && zero_none {
        *v = None;
    }
    Ok(())
}

/// One element of a repeated field (or a packed run of scalars).
pub fn push<V: Default, C: Codec<V>>(
    v: &mut Vec<V>,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    _: C,
) -> Result<(), DecodeError> {
    if t == WireType::LengthDelimited && C::WIRE != WireType::LengthDelimited {
        let mut run = take_len(b)?;
        while !run.is_empty() {
            let mut x = V::default();
            C::merge(&mut x, &mut run, d).map_err(|e| e.index(v.len()))?;
            v.push(x);
        }
        return Ok(());
    }
    check(t, C::WIRE).map_err(|e| e.index(v.len()))?;
    // Read in place: elements can be large structs, not worth a move each.
    v.push(V::default());
    let i = v.len() - 1;
    match C::merge(&mut v[i], b, d) {
        Ok(_) => Ok(()),
        Err(e) => {
            v.pop();
            Err(e.index(i))
        }
    }
}

pub fn push_opt<V: Default, C: Codec<V>>(
    v: &mut Option<Vec<V>>,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    c: C,
) -> Result<(), DecodeError> {
    push(v.get_or_insert_with(Vec::new), t, b, d, c)
}

/// One map entry; a later duplicate key wins, as in Go.
pub fn entry<V: Default, C: Codec<V>>(
    m: &mut BTreeMap<String, V>,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    _: C,
) -> Result<(), DecodeError> {
    check(t, WireType::LengthDelimited)?;
    let mut e = take_len(b)?;
    let (mut k, mut v) = (String::new(), V::default());
    while !e.is_empty() {
        let (n, wt) = read_key(&mut e)?;
        match n {
            1 => {
                check(wt, WireType::LengthDelimited)?;
                <Std as Codec<String>>::merge(&mut k, &mut e, d)?;
            }
            2 => {
                check(wt, C::WIRE).map_err(|err| err.key(&k))?;
                C::merge(&mut v, &mut e, d + 1).map_err(|err| err.key(&k))?;
            }
            _ => skip(wt, &mut e)?,
        }
    }
    m.insert(k, v);
    Ok(())
}

pub fn entry_opt<V: Default, C: Codec<V>>(
    m: &mut Option<BTreeMap<String, V>>,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    c: C,
) -> Result<(), DecodeError> {
    entry(m.get_or_insert_with(BTreeMap::new), t, b, d, c)
}

/// A generated `merge_field` of an embedded struct's fields.
pub type MergeFn<S> = fn(&mut S, u32, WireType, &mut &[u8], u32) -> Result<(), DecodeError>;

/// The fields of an embedded struct's message, read into the struct that embeds it. Fields of
/// it that the model does not know are dropped (Go drops them too): they have no place of their
/// own.
pub fn embedded_in<S>(
    s: &mut S,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    merge: MergeFn<S>,
    name: fn(u32) -> Option<&'static str>,
) -> Result<(), DecodeError> {
    check(t, WireType::LengthDelimited)?;
    if d >= MAX_DEPTH {
        return Err(DecodeError::new(format!(
            "messages nested deeper than {MAX_DEPTH}"
        )));
    }
    let mut sub = take_len(b)?;
    while !sub.is_empty() {
        let (n, wt) = read_key(&mut sub)?;
        merge(s, n, wt, &mut sub, d + 1).map_err(|e| match name(n) {
            Some(f) => e.field(f),
            None => e.number(n),
        })?;
    }
    Ok(())
}

/// A field of an embedded message that the model does not know: skipped.
pub fn skip_field(t: WireType, b: &mut &[u8]) -> Result<(), DecodeError> {
    skip(t, b)
}

/// A field this version of the model does not know: kept whole, written back on encode.
pub fn unknown_in(
    u: &mut UnknownFields,
    n: u32,
    t: WireType,
    b: &mut &[u8],
) -> Result<(), DecodeError> {
    let before = *b;
    skip(t, b)?;
    let value = &before[..before.len() - b.len()];
    let mut field = Vec::with_capacity(value.len() + 5);
    key(&mut field, n, t);
    field.extend_from_slice(value);
    u.push_protobuf(&field);
    Ok(())
}

/// A Go value field that JSON always writes: unset after the read means zero, as Go has it.
pub fn fill<V: Default>(v: &mut Option<V>) {
    if v.is_none() {
        *v = Some(V::default());
    }
}

/// `apiVersion`/`kind` from the envelope, for a model that has them (protobuf has no `TypeMeta`
/// in the object itself).
pub trait TypeMetaSlot {
    fn set(&mut self, value: &str);
}

impl TypeMetaSlot for String {
    fn set(&mut self, value: &str) {
        value.clone_into(self);
    }
}

impl TypeMetaSlot for Option<String> {
    fn set(&mut self, value: &str) {
        *self = Some(value.to_owned());
    }
}

pub fn type_meta(slot: &mut impl TypeMetaSlot, value: &str) {
    if !value.is_empty() {
        slot.set(value);
    }
}

// --- codecs -----------------------------------------------------------------------------------

impl<T: Message> Codec<T> for Std {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &T, b: &mut Vec<u8>) {
        len_prefixed(b, |b| v.encode(b));
    }
    fn put_zero(b: &mut Vec<u8>) {
        len_prefixed(b, T::encode_zero);
    }
    fn merge(v: &mut T, b: &mut &[u8], d: u32) -> Result<bool, DecodeError> {
        let sub = take_len(b)?;
        merge_message(v, sub, d + 1)?;
        Ok(sub.is_empty())
    }
}

impl Codec<String> for Std {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &String, b: &mut Vec<u8>) {
        put_str(v, b);
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut String, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        let bytes = take_len(b)?;
        // Go strings need not be UTF-8; Go's JSON writes U+FFFD for what is not, as this does.
        *v = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        Ok(v.is_empty())
    }
}

impl Codec<bool> for Std {
    const WIRE: WireType = WireType::Varint;
    fn put(v: &bool, b: &mut Vec<u8>) {
        b.push(u8::from(*v));
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut bool, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        *v = varint(b)? != 0;
        Ok(!*v)
    }
}

impl Codec<i32> for Std {
    const WIRE: WireType = WireType::Varint;
    fn put(v: &i32, b: &mut Vec<u8>) {
        // Negative int32s are sign-extended to ten bytes, as in every protobuf.
        encode_varint(i64::from(*v) as u64, b);
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut i32, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        *v = varint(b)? as i32;
        Ok(*v == 0)
    }
}

impl Codec<i64> for Std {
    const WIRE: WireType = WireType::Varint;
    fn put(v: &i64, b: &mut Vec<u8>) {
        encode_varint(*v as u64, b);
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut i64, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        *v = varint(b)? as i64;
        Ok(*v == 0)
    }
}

impl Codec<Vec<String>> for Items {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &Vec<String>, b: &mut Vec<u8>) {
        len_prefixed(b, |b| {
            for s in v {
                key(b, 1, WireType::LengthDelimited);
                put_str(s, b);
            }
        });
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut Vec<String>, b: &mut &[u8], d: u32) -> Result<bool, DecodeError> {
        let mut sub = take_len(b)?;
        let empty = sub.is_empty();
        while !sub.is_empty() {
            let (n, t) = read_key(&mut sub)?;
            if n == 1 {
                push(v, t, &mut sub, d, Std).map_err(|e| e.field("items"))?;
            } else {
                skip(t, &mut sub)?;
            }
        }
        Ok(empty)
    }
}

impl Codec<crate::special::RawJson> for Empty {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &crate::special::RawJson, b: &mut Vec<u8>) {
        // Members a newer server added to this empty message have no field numbers here.
        if !matches!(v.as_str().trim(), "{}" | "" | "null") {
            lost();
        }
        b.push(0);
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut crate::special::RawJson, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        take_len(b)?;
        *v = crate::special::RawJson::default();
        Ok(false)
    }
}

impl Codec<String> for Duration {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &String, b: &mut Vec<u8>) {
        // Text Go would not parse has no duration: written as zero.
        let nanos = super::duration::parse(v).unwrap_or_else(|| {
            lost();
            0
        });
        len_prefixed(b, |b| {
            key(b, 1, WireType::Varint);
            encode_varint(nanos as u64, b);
        });
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.extend_from_slice(&[2, 0x08, 0]);
    }
    fn merge(v: &mut String, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        let mut sub = take_len(b)?;
        let empty = sub.is_empty();
        let mut nanos = 0i64;
        while !sub.is_empty() {
            let (n, t) = read_key(&mut sub)?;
            if n == 1 {
                check(t, WireType::Varint).map_err(|e| e.field("duration"))?;
                nanos = varint(&mut sub)? as i64;
            } else {
                skip(t, &mut sub)?;
            }
        }
        *v = super::duration::format(nanos);
        Ok(empty)
    }
}
