//! Hand-written value types that the generated models use for fields whose
//! OpenAPI schema has a special wire format.
//!
//! | Type            | Used for                                   | Wire form                           |
//! |-----------------|--------------------------------------------|-------------------------------------|
//! | [`IntOrString`] | `int-or-string` fields (ports, surges)     | JSON integer or string              |
//! | [`Quantity`]    | `resource.Quantity`                        | `"100m"`, `"1Gi"` (or a JSON number) |
//! | [`Time`]        | `meta/v1.Time`                             | `"2024-05-01T10:00:00Z"`            |
//! | [`MicroTime`]   | `meta/v1.MicroTime`                        | `"2024-05-01T10:00:00.123456Z"`     |
//! | [`ByteString`]  | `format: byte` (`Secret.data` values)      | padded standard base64 string       |
//! | [`RawJson`]     | `FieldsV1`, `RawExtension`, `JSON`, `Patch` | any JSON value, kept as text       |
//! | [`Number`]      | `type: number` (`format: double`)          | JSON number, kept as text           |
//!
//! The `JSONSchemaProps*` unions of `apiextensions` live here too.
//!
//! The value types implement `Serialize` and `Deserialize` by hand (the crate
//! does not use `serde_derive`) and re-encode canonical input byte for byte.

mod byte_string;
mod int_or_string;
#[cfg(feature = "apiextensions")]
mod json_schema;
mod micro_time;
mod number;
mod quantity;
mod raw_json;
mod time;

pub use byte_string::{Base64Error, ByteString};
pub use int_or_string::IntOrString;
#[cfg(feature = "apiextensions")]
pub use json_schema::{
    JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, JSONSchemaPropsOrStringArray,
};
pub use micro_time::MicroTime;
pub use number::{Number, NumberError};
pub use quantity::{Quantity, QuantityError, QuantityErrorKind};
pub use raw_json::RawJson;
pub use time::{Time, TimeError};

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// Map key through which serde_json hands out raw JSON text
/// (feature `raw_value`).
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Map key through which serde_json hands out numbers when some crate in the
/// build enables its `arbitrary_precision` feature. Cargo unifies features, so
/// we must cope with it even though this crate never asks for it.
pub(crate) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A map key, borrowed from the input when the deserializer allows it.
pub(crate) struct MapKey<'de>(pub(crate) Cow<'de, str>);

impl<'de> MapKey<'de> {
    pub(crate) fn is(&self, token: &str) -> bool {
        self.0 == token
    }
}

/// Reads a map key as a string without allocating when it can be borrowed.
pub(crate) struct MapKeySeed;

impl<'de> DeserializeSeed<'de> for MapKeySeed {
    type Value = MapKey<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MapKeySeed {
    type Value = MapKey<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string map key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(MapKey(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(MapKey(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(MapKey(Cow::Owned(v)))
    }
}
