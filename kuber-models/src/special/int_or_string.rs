//! `IntOrString`: a field that holds either a 32-bit integer or a string.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{MapKeySeed, NUMBER_TOKEN};

/// A value that is either a 32-bit signed integer or a string
/// (`x-kubernetes-int-or-string`), e.g. a container port given as `8080` or
/// as a named port `"http"`, or a rolling-update surge of `1` or `"25%"`.
///
/// On the wire it is a JSON integer or a JSON string. Decoding rejects
/// floating-point numbers (even `1.0`), booleans and integers outside the
/// `i32` range, as the API server does.
///
/// ```
/// # use kuber_models::special::IntOrString;
/// let port: IntOrString = serde_json::from_str(r#""http""#).unwrap();
/// assert_eq!(port, IntOrString::from("http"));
/// assert_eq!(serde_json::to_string(&IntOrString::from(8080)).unwrap(), "8080");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// The integer form.
    Int(i32),
    /// The string form.
    String(String),
}

impl IntOrString {
    /// Returns the integer if this is the integer form.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            IntOrString::Int(i) => Some(*i),
            IntOrString::String(_) => None,
        }
    }

    /// Returns the string if this is the string form.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            IntOrString::Int(_) => None,
            IntOrString::String(s) => Some(s),
        }
    }
}

/// The zero value of the Go type: integer `0`.
impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl From<i32> for IntOrString {
    fn from(value: i32) -> Self {
        IntOrString::Int(value)
    }
}

impl From<&str> for IntOrString {
    fn from(value: &str) -> Self {
        IntOrString::String(value.to_owned())
    }
}

impl From<String> for IntOrString {
    fn from(value: String) -> Self {
        IntOrString::String(value)
    }
}

/// Writes the integer or the string as is (no quotes).
impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => fmt::Display::fmt(i, f),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => serializer.serialize_i32(*i),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

struct IntOrStringVisitor;

impl<'de> Visitor<'de> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 32-bit integer or a string for IntOrString")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(IntOrString::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(IntOrString::String(v))
    }

    // serde_json with `arbitrary_precision` (enabled elsewhere in the build)
    // hands numbers over as a one-entry map holding the number's text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key_seed(MapKeySeed)? {
            Some(key) if key.is(NUMBER_TOKEN) => {
                // Same outcomes and messages as without the feature.
                let text: String = map.next_value()?;
                if let Ok(i) = text.parse::<i64>() {
                    return self.visit_i64(i);
                }
                if let Ok(u) = text.parse::<u64>() {
                    return self.visit_u64(u);
                }
                Err(match text.parse::<f64>() {
                    Ok(f) => de::Error::invalid_type(Unexpected::Float(f), &self),
                    Err(_) => de::Error::invalid_value(
                        Unexpected::Other(&format!("number {text}")),
                        &self,
                    ),
                })
            }
            _ => Err(de::Error::invalid_type(Unexpected::Map, &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de(json: &str) -> Result<IntOrString, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn round_trips() {
        for json in [
            "0",
            "8080",
            "-1",
            "2147483647",
            "-2147483648",
            r#""http""#,
            r#""25%""#,
            r#""""#,
            r#""8080""#,
            r#""é\n""#,
        ] {
            let v = de(json).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
        assert_eq!(de(r#""\u00e9""#).unwrap(), IntOrString::from("é"));
    }

    #[test]
    fn kinds_are_distinguished() {
        assert_eq!(de("80").unwrap(), IntOrString::Int(80));
        assert_eq!(de(r#""80""#).unwrap(), IntOrString::String("80".into()));
        assert_ne!(de("80").unwrap(), de(r#""80""#).unwrap());
    }

    #[test]
    fn rejects_floats() {
        let err = de("1.5").unwrap_err();
        assert!(err.contains("floating point `1.5`"), "{err}");
        assert!(err.contains("IntOrString"), "{err}");
        let err = de("1.0").unwrap_err();
        assert!(err.contains("floating point"), "{err}");
        assert!(de("1e3").is_err());
    }

    #[test]
    fn rejects_out_of_range() {
        let err = de("2147483648").unwrap_err();
        assert!(err.contains("integer `2147483648`"), "{err}");
        assert!(
            err.contains("32-bit integer or a string for IntOrString"),
            "{err}"
        );
        let err = de("-2147483649").unwrap_err();
        assert!(err.contains("integer `-2147483649`"), "{err}");
        assert!(de("18446744073709551615").is_err());
    }

    #[test]
    fn rejects_other_types() {
        for (json, what) in [
            ("true", "boolean"),
            ("[]", "sequence"),
            ("{}", "map"),
            ("null", "null"),
        ] {
            let err = de(json).unwrap_err();
            assert!(err.contains(what), "{json}: {err}");
            assert!(err.contains("IntOrString"), "{json}: {err}");
        }
    }

    #[test]
    fn from_value_and_helpers() {
        let v: IntOrString = serde_json::from_value(serde_json::json!(3)).unwrap();
        assert_eq!(v, IntOrString::Int(3));
        let v: IntOrString = serde_json::from_value(serde_json::json!("x")).unwrap();
        assert_eq!(v.as_str(), Some("x"));
        assert_eq!(v.as_int(), None);
        assert!(serde_json::from_value::<IntOrString>(serde_json::json!(0.5)).is_err());
        assert_eq!(IntOrString::default(), IntOrString::Int(0));
        assert_eq!(IntOrString::from(String::from("a")).to_string(), "a");
        assert_eq!(IntOrString::from(-7).to_string(), "-7");
        assert_eq!(IntOrString::from(-7).as_int(), Some(-7));
        assert_eq!(
            serde_json::to_value(IntOrString::from("25%")).unwrap(),
            serde_json::json!("25%")
        );
    }

    #[test]
    fn arbitrary_precision_numbers() {
        use serde::de::value::{Error, MapDeserializer};
        // What serde_json sends when some crate enables `arbitrary_precision`.
        let number = |text: &'static str| {
            IntOrString::deserialize(MapDeserializer::<_, Error>::new(
                [(NUMBER_TOKEN, text)].into_iter(),
            ))
            .map_err(|e| e.to_string())
        };
        assert_eq!(number("42"), Ok(IntOrString::Int(42)));
        assert_eq!(number("-2147483648"), Ok(IntOrString::Int(i32::MIN)));
        let err = number("1.5").unwrap_err();
        assert!(err.contains("invalid type: floating point `1.5`"), "{err}");
        let err = number("2147483648").unwrap_err();
        assert!(err.contains("invalid value: integer `2147483648`"), "{err}");
        let err = number("x").unwrap_err();
        assert!(err.contains("number x"), "{err}");
        let other = MapDeserializer::<_, Error>::new([("a", 1)].into_iter());
        assert!(IntOrString::deserialize(other).is_err());
    }

    #[test]
    fn inside_option() {
        let v: Option<IntOrString> = serde_json::from_str("null").unwrap();
        assert_eq!(v, None);
        let v: Option<IntOrString> = serde_json::from_str("5").unwrap();
        assert_eq!(v, Some(IntOrString::Int(5)));
    }
}
