//! `Number`: a JSON number kept as its text.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::{MapKeySeed, NUMBER_TOKEN, RAW_VALUE_TOKEN};

/// A number of a `type: number` property (`format: double`: the bounds of `JSONSchemaProps`,
/// number fields of custom resources), kept as the text it came as.
///
/// An `f64` would re-encode `1e3` as `1000.0`, `1` as `1.0` and `12345678901234567891` as
/// `12345678901234567000`: a read-modify-write would change values the caller never touched.
/// `Number` writes its text back as is, and [`as_f64`](Self::as_f64) /
/// [`as_i64`](Self::as_i64) read the value. Only these fields pay for it: serde_json's
/// `arbitrary_precision` would change every number of every program in the build.
///
/// With serde_json (`from_str`, `from_slice`, `to_string`, `to_value`) the text goes through
/// unchanged. Other formats (YAML, …) hand over the value, which is kept in its shortest form;
/// written to them, a text that the value alone does not reproduce (`1e3`) comes out as
/// serde_json's raw-value wrapper, so convert such texts with [`from_f64`](Self::from_f64)
/// first.
///
/// `==` compares the text: `1` and `1.0` differ, as their wire forms do.
///
/// ```
/// # use kuber_models::special::Number;
/// let n: Number = serde_json::from_str("1e3").unwrap();
/// assert_eq!(n.as_f64(), 1000.0);
/// assert_eq!(serde_json::to_string(&n).unwrap(), "1e3");
/// assert_eq!(Number::from(7).as_str(), "7");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(
    // Always a JSON number literal: decoding and the constructors check it.
    String,
);

/// Why a text is not a JSON number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberError {
    input: String,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a JSON number", self.input)
    }
}

impl std::error::Error for NumberError {}

impl Number {
    /// The number's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as the nearest `f64`.
    pub fn as_f64(&self) -> f64 {
        // A JSON number literal always parses as f64 (huge ones become infinite).
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The value when the text is an integer that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The shortest text of a finite `f64` (`None` for NaN and infinities, which JSON cannot
    /// carry).
    pub fn from_f64(value: f64) -> Option<Number> {
        serde_json::Number::from_f64(value).map(|n| Number(n.to_string()))
    }
}

/// `0`.
impl Default for Number {
    fn default() -> Self {
        Number("0".to_owned())
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Number(value.to_string())
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Self {
        Number(value.to_string())
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Self {
        Number(value.to_string())
    }
}

/// Checks the JSON number grammar and keeps the text as given.
impl FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if is_number(text) {
            Ok(Number(text.to_owned()))
        } else {
            Err(NumberError {
                input: text.to_owned(),
            })
        }
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `Number(1e3)`.
impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Every format gets a real number when the value alone reproduces the text.
        if let Ok(v) = self.0.parse::<i64>()
            && v.to_string() == self.0
        {
            return serializer.serialize_i64(v);
        }
        if let Ok(v) = self.0.parse::<u64>()
            && v.to_string() == self.0
        {
            return serializer.serialize_u64(v);
        }
        if let Ok(v) = self.0.parse::<f64>()
            && Number::from_f64(v).is_some_and(|n| n.0 == self.0)
        {
            return serializer.serialize_f64(v);
        }
        // serde_json writes this wrapper's text verbatim.
        let mut s = serializer.serialize_struct(RAW_VALUE_TOKEN, 1)?;
        s.serialize_field(RAW_VALUE_TOKEN, &self.0)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde_json answers with the raw text; other formats see a newtype and give the value.
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, NumberVisitor)
    }
}

struct NumberVisitor;

impl<'de> Visitor<'de> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON number")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Number, A::Error> {
        match map.next_key_seed(MapKeySeed)? {
            Some(key) if key.is(RAW_VALUE_TOKEN) || key.is(NUMBER_TOKEN) => {
                let text: String = map.next_value()?;
                if is_number(&text) {
                    Ok(Number(text))
                } else {
                    // Raw capture hands over any value: say what it was.
                    let unexpected = match text.as_bytes().first() {
                        Some(b'"') => de::Unexpected::Other("a string"),
                        Some(b'{') => de::Unexpected::Map,
                        Some(b'[') => de::Unexpected::Seq,
                        Some(b't' | b'f') => de::Unexpected::Other("a boolean"),
                        _ => de::Unexpected::Other(&text),
                    };
                    Err(de::Error::invalid_type(unexpected, &self))
                }
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Number, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        Number::from_f64(v).ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_text_survives_a_round_trip() {
        for text in [
            "1",
            "1.0",
            "1e3",
            "1E+3",
            "-0",
            "0.1",
            "1e+21",
            "12345678901234567891",
            "9007199254740993",
            "-9223372036854775808",
            "2.50",
        ] {
            let n: Number = serde_json::from_str(&format!(" {text} ")).unwrap();
            assert_eq!(n.as_str(), text);
            assert_eq!(serde_json::to_string(&n).unwrap(), text);
            let v = serde_json::to_value(&n).unwrap();
            assert!(v.is_number(), "{text} as a Value: {v}");
        }
    }

    #[test]
    fn values_read_back() {
        let n: Number = "1e3".parse().unwrap();
        assert_eq!((n.as_f64(), n.as_i64()), (1000.0, None));
        assert_eq!(Number::from(-5i64).as_i64(), Some(-5));
        assert_eq!(Number::from_f64(0.5).unwrap().as_str(), "0.5");
        assert_eq!(Number::from_f64(f64::NAN), None);
        let v: Number = serde_json::from_value(serde_json::json!(2.5)).unwrap();
        assert_eq!(v.as_str(), "2.5");
    }

    #[test]
    fn only_numbers_decode() {
        for text in [r#""1""#, "true", "{}", "[1]", "null"] {
            assert!(serde_json::from_str::<Number>(text).is_err(), "{text}");
        }
        for text in ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1 ", "NaN"] {
            assert!(text.parse::<Number>().is_err(), "{text:?}");
        }
        let e = serde_json::from_str::<Number>(r#""1""#).unwrap_err();
        assert!(e.to_string().contains("a JSON number"), "{e}");
    }
}
