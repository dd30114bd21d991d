//! Support for the generated serde impls. Shared here so that each generated type carries only its
//! field table, not a visitor of its own (compile time is a feature).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;

use crate::UnknownFields;
use crate::special::RawJson;

/// Implemented by every generated struct: decodes one JSON member into the right field.
pub trait DecodeFields: Default {
    /// Type name for error messages.
    const NAME: &'static str;
    fn decode_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Decodes a JSON object into `T`, field by field; unknown members go to its `unknown_fields`.
pub fn deserialize_struct<'de, D: Deserializer<'de>, T: DecodeFields>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(StructVisitor(PhantomData))
}

struct StructVisitor<T>(PhantomData<T>);

impl<'de, T: DecodeFields> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON object for {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            out.decode_field(&key.0, &mut map)?;
        }
        Ok(out)
    }
}

/// A member name, borrowed from the input whenever the deserializer allows it.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// A required field: `null` (Go's nil slice or pointer) reads as the empty value, as in Go.
pub fn required<'de, A: MapAccess<'de>, T: Deserialize<'de> + Default>(
    map: &mut A,
) -> Result<T, A::Error> {
    Ok(map.next_value::<Option<T>>()?.unwrap_or_default())
}

/// A member this version of the model does not know: kept as raw JSON (a later duplicate wins,
/// as in Go).
pub fn unknown<'de, A: MapAccess<'de>>(
    fields: &mut UnknownFields,
    key: &str,
    map: &mut A,
) -> Result<(), A::Error> {
    let value = map.next_value::<RawJson>()?;
    fields.insert(key, value);
    Ok(())
}

/// An optional field: written when set, skipped when `None`.
pub fn optional<S: SerializeMap, T: Serialize>(
    s: &mut S,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), S::Error> {
    match value {
        Some(v) => s.serialize_entry(key, v),
        None => Ok(()),
    }
}

/// The members the model did not know, written back after the known ones.
pub fn write_unknown<S: SerializeMap>(s: &mut S, fields: &UnknownFields) -> Result<(), S::Error> {
    for (k, v) in fields {
        s.serialize_entry(k, v)?;
    }
    Ok(())
}
