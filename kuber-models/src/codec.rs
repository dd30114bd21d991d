//! Support for the generated serde impls. Shared here so that each generated type carries only its
//! field table, not a visitor of its own (compile time is a feature).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

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

// The decode helpers below each read one member into its field and return the `Result` as is:
// a generated arm is then a plain call, with no `?` of its own to compile per field.

/// A required field: `null` (Go's nil slice or pointer) reads as the empty value, as in Go.
pub fn required<'de, A: MapAccess<'de>, T: Deserialize<'de> + Default>(
    map: &mut A,
) -> Result<T, A::Error> {
    Ok(map.next_value::<Option<T>>()?.unwrap_or_default())
}

/// An optional field (`Option<T>`: `null` reads as `None`) or any other field read as it is.
#[inline]
pub fn set<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    field: &mut T,
    map: &mut A,
) -> Result<(), A::Error> {
    *field = map.next_value()?;
    Ok(())
}

/// A required field, as [`required`] reads it.
#[inline]
pub fn set_required<'de, A: MapAccess<'de>, T: Deserialize<'de> + Default>(
    field: &mut T,
    map: &mut A,
) -> Result<(), A::Error> {
    *field = required(map)?;
    Ok(())
}

/// An optional nullable field, called only for a member that is there: `null` is `Some(None)`.
#[inline]
pub fn set_present<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    field: &mut Option<T>,
    map: &mut A,
) -> Result<(), A::Error> {
    *field = Some(map.next_value()?);
    Ok(())
}

/// A member no field names, into the typed map of the rest (additionalProperties).
#[inline]
pub fn insert_rest<'de, A: MapAccess<'de>, V: Deserialize<'de>>(
    rest: &mut BTreeMap<String, V>,
    key: &str,
    map: &mut A,
) -> Result<(), A::Error> {
    rest.insert(key.to_owned(), map.next_value()?);
    Ok(())
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

/// Writes a struct's members. Each field is one call with nothing to check, so that a generated
/// `serialize` carries no `?` per field: after the first error the writer does nothing, and
/// [`MapWriter::end`] returns that error.
pub struct MapWriter<S: SerializeMap> {
    map: S,
    error: Option<S::Error>,
}

impl<S: SerializeMap> MapWriter<S> {
    /// Starts the map of a struct.
    #[inline]
    pub fn start<T: Serializer<SerializeMap = S, Error = S::Error>>(
        serializer: T,
    ) -> Result<Self, S::Error> {
        Ok(MapWriter {
            map: serializer.serialize_map(None)?,
            error: None,
        })
    }

    #[inline]
    fn entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(&mut self, key: &K, value: &V) {
        if self.error.is_none()
            && let Err(e) = self.map.serialize_entry(key, value)
        {
            self.error = Some(e);
        }
    }

    /// A field always written (required, or the nullable `Option` of a required field).
    #[inline]
    pub fn required<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        self.entry(key, value);
    }

    /// An optional field: written when set, skipped when `None`.
    #[inline]
    pub fn optional<T: Serialize>(&mut self, key: &'static str, value: &Option<T>) {
        if let Some(v) = value {
            self.entry(key, v);
        }
    }

    /// The typed map of the rest, but for the members a field names (written from the field,
    /// never twice).
    pub fn rest<V: Serialize>(&mut self, rest: &BTreeMap<String, V>, named: &[&str]) {
        for (k, v) in rest {
            if !named.contains(&k.as_str()) {
                self.entry(k, v);
            }
        }
    }

    /// Writes the members the model did not know, after the known ones, and ends the map; the
    /// first error of any write is returned.
    pub fn end(mut self, unknown: &UnknownFields) -> Result<S::Ok, S::Error> {
        for (k, v) in unknown {
            self.entry(k, v);
        }
        match self.error {
            Some(e) => Err(e),
            None => self.map.end(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde::ser::Error as _;

    use super::*;

    /// Fails with its message when written, counting the writes.
    struct Failing<'a>(&'static str, &'a Cell<u32>);

    impl Serialize for Failing<'_> {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            self.1.set(self.1.get() + 1);
            Err(S::Error::custom(self.0))
        }
    }

    #[test]
    fn map_writer_returns_the_first_error_and_writes_nothing_after_it() {
        let writes = Cell::new(0);
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        let mut w = MapWriter::start(&mut ser).unwrap();
        w.required("a", &1);
        w.required("b", &Failing("first", &writes));
        w.optional("c", &Some(Failing("second", &writes)));
        let rest = BTreeMap::from([("d".to_owned(), Failing("third", &writes))]);
        w.rest(&rest, &[]);
        let err = w.end(&UnknownFields::default()).unwrap_err();
        assert_eq!(err.to_string(), "first");
        assert_eq!(writes.get(), 1);
    }

    #[test]
    fn map_writer_writes_fields_rest_then_unknown_members() {
        let mut unknown = UnknownFields::default();
        let raw: RawJson = serde_json::from_str("[1]").unwrap();
        unknown.insert("z", raw);
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        let mut w = MapWriter::start(&mut ser).unwrap();
        w.required("a", &1);
        w.optional::<u8>("skipped", &None);
        w.optional("b", &Some("x"));
        let rest = BTreeMap::from([("a".to_owned(), 9), ("r".to_owned(), 2)]);
        w.rest(&rest, &["a"]);
        w.end(&unknown).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1,"b":"x","r":2,"z":[1]}"#
        );
    }
}
