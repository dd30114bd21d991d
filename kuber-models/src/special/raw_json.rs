//! `RawJson`: an arbitrary JSON value kept as its text.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{MapKeySeed, NUMBER_TOKEN, RAW_VALUE_TOKEN};

/// Any JSON value, held as JSON text. Used for schema-less fields:
/// `managedFields[].fieldsV1`, `RawExtension`, `apiextensions` `JSON`,
/// `Patch`, and the unknown members of dynamic objects.
///
/// # Decoding
///
/// With serde_json (`from_str`, `from_slice`, `from_reader`) the value's
/// text is copied straight from the input, byte for byte, without building
/// a [`serde_json::Value`]; this is what makes decoding objects with large
/// `managedFields` cheap. With [`serde_json::from_value`] the text is the
/// compact rendering of that part of the `Value`. With any other format
/// (YAML, …) the value is decoded into a `Value` first and then rendered.
///
/// # Encoding
///
/// The text is streamed through serde_json's parser into the target
/// serializer, so every format gets a real JSON tree (not a string) and
/// pretty printers indent it. For serde_json output this means compact text:
/// canonical (compact) input comes back byte for byte, while whitespace,
/// escapes like `\u00e9` and non-shortest number spellings (`1.0e2`) are
/// normalised. Numbers follow serde_json's model: integers beyond 64 bits
/// become `f64`. [`as_str`](Self::as_str) always gives the original text.
///
/// # Equality
///
/// Two values are equal when their texts are identical or, failing that, when
/// they parse to equal [`Value`]s, so `{"a":1}` equals `{ "a" : 1 }`; `1` and
/// `1.0` differ, as in serde_json.
///
/// ```
/// # use kuber_models::special::RawJson;
/// let raw: RawJson = serde_json::from_str(r#"{"f:metadata": {}}"#).unwrap();
/// assert_eq!(raw.as_str(), r#"{"f:metadata": {}}"#);
/// assert_eq!(serde_json::to_string(&raw).unwrap(), r#"{"f:metadata":{}}"#);
/// assert_eq!(raw, "{\"f:metadata\":{}}".parse().unwrap());
/// ```
#[derive(Clone)]
pub struct RawJson(
    // Always valid JSON: only serde_json's raw capture, `Value` rendering
    // and validated parsing create it.
    String,
);

impl RawJson {
    /// Renders a `Value` as compact JSON text.
    pub fn from_value(value: &Value) -> RawJson {
        RawJson(value.to_string())
    }

    /// Encodes any serializable value as compact JSON text.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<RawJson> {
        serde_json::to_string(value).map(RawJson)
    }

    /// Parses the text into a `Value`.
    ///
    /// The text is valid JSON, so this only returns `Value::Null` for text
    /// nested more than 128 levels deep, which serde_json refuses to parse.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    /// Decodes the text into `T`, borrowing strings from it where `T` allows.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value and returns its JSON text.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// An empty object, `{}`.
impl Default for RawJson {
    fn default() -> Self {
        RawJson(String::from("{}"))
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> Self {
        RawJson::from_value(&value)
    }
}

impl From<&Value> for RawJson {
    fn from(value: &Value) -> Self {
        RawJson::from_value(value)
    }
}

/// Checks that the text is one JSON value and keeps it exactly as given
/// (surrounding whitespace included).
impl FromStr for RawJson {
    type Err = serde_json::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str::<IgnoredAny>(text)?;
        Ok(RawJson(text.to_owned()))
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        if self.0 == other.0 {
            return true;
        }
        match (
            serde_json::from_str::<Value>(&self.0),
            serde_json::from_str::<Value>(&other.0),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for RawJson {}

/// `RawJson({"a":1})`, showing the JSON text.
impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0)
    }
}

/// Writes the JSON text.
impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RawJson {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------
// Decoding.

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde_json (with `raw_value`) answers this name by calling
        // `visit_map` with one entry {RAW_VALUE_TOKEN: "<raw text>"}; other
        // deserializers treat it as an ordinary newtype struct.
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, RawJsonVisitor)
    }
}

struct RawJsonVisitor;

fn rendered<E>(value: Value) -> Result<RawJson, E> {
    Ok(RawJson::from_value(&value))
}

impl<'de> Visitor<'de> for RawJsonVisitor {
    type Value = RawJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value for RawJson")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key_seed(MapKeySeed)? else {
            return Ok(RawJson(String::from("{}")));
        };
        if first.is(RAW_VALUE_TOKEN) {
            // The fast path: serde_json hands over the exact input text.
            return map.next_value::<String>().map(RawJson);
        }
        if first.is(NUMBER_TOKEN) {
            // serde_json's `arbitrary_precision` number: the text is the
            // number literal itself.
            return map.next_value::<String>().map(RawJson);
        }
        // An ordinary object from some other deserializer.
        let mut object = Map::new();
        let value = map.next_value::<Value>()?;
        object.insert(first.0.into_owned(), value);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        rendered(Value::Object(object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        rendered(Value::Array(items))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Value::deserialize(d).and_then(rendered)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Value::deserialize(d).and_then(rendered)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawJson(String::from("null")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawJson(String::from("null")))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        rendered(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        rendered(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        rendered(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Like `Value`: non-finite floats have no JSON form and become null.
        rendered(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        rendered(Value::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        rendered(Value::String(v))
    }
}

// ---------------------------------------------------------------------------
// Encoding: stream the text through serde_json's parser into the serializer.

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut de = serde_json::Deserializer::from_str(&self.0);
        let ok = Transcode(Cell::new(Some(&mut de))).serialize(serializer)?;
        de.end().map_err(ser::Error::custom)?;
        Ok(ok)
    }
}

/// Serializes whatever the wrapped deserializer yields, once.
struct Transcode<D>(Cell<Option<D>>);

impl<'de, D: Deserializer<'de>> Serialize for Transcode<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.take() {
            Some(d) => d
                .deserialize_any(TranscodeVisitor(serializer))
                .map_err(ser::Error::custom),
            None => Err(ser::Error::custom("RawJson: value already transcoded")),
        }
    }
}

/// Forwards each visited item to the serializer. Serializer errors travel
/// through the deserializer as custom errors (message preserved).
struct TranscodeVisitor<S>(S);

impl<'de, S: Serializer> Visitor<'de> for TranscodeVisitor<S> {
    type Value = S::Ok;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Ok, E> {
        self.0.serialize_bool(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Ok, E> {
        self.0.serialize_i64(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Ok, E> {
        self.0.serialize_u64(v).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Ok, E> {
        self.0.serialize_f64(v).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Ok, E> {
        self.0.serialize_str(v).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<S::Ok, E> {
        self.0.serialize_unit().map_err(E::custom)
    }

    fn visit_none<E: de::Error>(self) -> Result<S::Ok, E> {
        self.0.serialize_unit().map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<S::Ok, A::Error> {
        let mut out = self
            .0
            .serialize_seq(seq.size_hint())
            .map_err(de::Error::custom)?;
        while seq.next_element_seed(ElementSeed(&mut out))?.is_some() {}
        out.end().map_err(de::Error::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S::Ok, A::Error> {
        let first = map.next_key_seed(MapKeySeed)?;
        if let Some(key) = &first
            && key.is(NUMBER_TOKEN)
        {
            // serde_json's `arbitrary_precision` number.
            let text: String = map.next_value()?;
            return serialize_number_text(self.0, &text);
        }
        let mut out = self
            .0
            .serialize_map(map.size_hint())
            .map_err(de::Error::custom)?;
        let mut key = first;
        while let Some(k) = key {
            out.serialize_key(&*k.0).map_err(de::Error::custom)?;
            map.next_value_seed(MapValueSeed(&mut out))?;
            key = map.next_key_seed(MapKeySeed)?;
        }
        out.end().map_err(de::Error::custom)
    }
}

fn serialize_number_text<S: Serializer, E: de::Error>(ser: S, text: &str) -> Result<S::Ok, E> {
    if let Ok(i) = text.parse::<i64>() {
        ser.serialize_i64(i).map_err(E::custom)
    } else if let Ok(u) = text.parse::<u64>() {
        ser.serialize_u64(u).map_err(E::custom)
    } else if let Ok(f) = text.parse::<f64>() {
        ser.serialize_f64(f).map_err(E::custom)
    } else {
        Err(E::custom(format_args!("RawJson: invalid number {text}")))
    }
}

struct ElementSeed<'a, T>(&'a mut T);

impl<'de, T: SerializeSeq> DeserializeSeed<'de> for ElementSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0
            .serialize_element(&Transcode(Cell::new(Some(d))))
            .map_err(de::Error::custom)
    }
}

struct MapValueSeed<'a, T>(&'a mut T);

impl<'de, T: SerializeMap> DeserializeSeed<'de> for MapValueSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0
            .serialize_value(&Transcode(Cell::new(Some(d))))
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(text: &str) -> RawJson {
        text.parse().unwrap()
    }

    #[test]
    fn fast_path_keeps_exact_text() {
        for text in [
            r#"{"a": 1}"#,
            r#"{ "b" : [ 1 , 2.50 , "x\u00e9" ] , "a" : null }"#,
            "[\n  1,\n  2\n]",
            "1.0e2",
            "123456789012345678901234567890",
            r#""a\"b""#,
            "true",
            "null",
            "-0",
            r#"{}"#,
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{}}"#,
        ] {
            let v: RawJson = serde_json::from_str(text).unwrap();
            assert_eq!(v.as_str(), text);
            let v: RawJson = serde_json::from_slice(text.as_bytes()).unwrap();
            assert_eq!(v.as_str(), text);
            let v: RawJson = serde_json::from_reader(text.as_bytes()).unwrap();
            assert_eq!(v.as_str(), text);
        }
        // Leading and trailing whitespace belongs to the document, not the value.
        let v: RawJson = serde_json::from_str("  {\"a\": 1}  ").unwrap();
        assert_eq!(v.as_str(), "{\"a\": 1}");
    }

    #[test]
    fn canonical_text_round_trips_exactly() {
        for text in [
            r#"{"a":1}"#,
            r#"{"z":1,"a":2,"m":[true,false,null]}"#,
            r#"[1,-2,3.5,"s",{"k":{}},[]]"#,
            r#""text with \"quotes\" and \\ and \n""#,
            "0.1",
            "-1.5e-7",
            "1e+300",
            "18446744073709551615",
            "-9223372036854775808",
            "null",
            "{}",
            "[]",
            r#"{"é":"ü"}"#,
        ] {
            let v: RawJson = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), text);
        }
    }

    #[test]
    fn serialization_normalises_non_canonical_text() {
        let v: RawJson =
            serde_json::from_str(r#"{ "b" : [ 1 , 2.50 , "x\u00e9" ] , "a" : null }"#).unwrap();
        // Member order is kept; whitespace, escapes and number spelling are not.
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"b":[1,2.5,"xé"],"a":null}"#
        );
        let v: RawJson = serde_json::from_str("1.0e2").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "100.0");
    }

    #[test]
    fn pretty_printing_indents_the_tree() {
        let v = raw(r#"{"a":[1,{"b":null}]}"#);
        assert_eq!(
            serde_json::to_string_pretty(&v).unwrap(),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}"
        );
    }

    #[test]
    fn from_value_uses_the_raw_protocol_too() {
        let value = json!({"b": [1, 2.5, "x"], "a": {"c": null}});
        let v: RawJson = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(v.as_str(), r#"{"a":{"c":null},"b":[1,2.5,"x"]}"#);
        assert_eq!(v.to_value(), value);
        for value in [
            json!(null),
            json!(true),
            json!(-3),
            json!("s"),
            json!([]),
            json!({}),
        ] {
            let v: RawJson = serde_json::from_value(value.clone()).unwrap();
            assert_eq!(v.to_value(), value);
            assert_eq!(v.as_str(), value.to_string());
        }
        // And back into a Value through Serialize.
        let v = raw(r#"{"x":[1,"2",{"y":false}]}"#);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"x": [1, "2", {"y": false}]})
        );
    }

    #[test]
    fn other_deserializers_go_through_value() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, MapDeserializer, SeqDeserializer};

        // serde's value deserializers know nothing of the raw-value protocol.
        let map = MapDeserializer::<_, Error>::new(vec![("b", 2), ("a", 1)].into_iter());
        let v = RawJson::deserialize(map).unwrap();
        assert_eq!(v, raw(r#"{"a":1,"b":2}"#));
        let empty = MapDeserializer::<_, Error>::new(Vec::<(&str, i32)>::new().into_iter());
        assert_eq!(RawJson::deserialize(empty).unwrap().as_str(), "{}");

        let seq = SeqDeserializer::<_, Error>::new(vec!["x", "y"].into_iter());
        assert_eq!(RawJson::deserialize(seq).unwrap().as_str(), r#"["x","y"]"#);

        let d: serde::de::value::BoolDeserializer<Error> = true.into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "true");
        let d: serde::de::value::I32Deserializer<Error> = (-5).into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "-5");
        let d: serde::de::value::U8Deserializer<Error> = 7u8.into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "7");
        let d: serde::de::value::F64Deserializer<Error> = 0.5.into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "0.5");
        let d: serde::de::value::F64Deserializer<Error> = f64::NAN.into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "null");
        let d: serde::de::value::StrDeserializer<Error> = "q\"".into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), r#""q\"""#);
        let d: serde::de::value::StringDeserializer<Error> = String::from("s").into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), r#""s""#);
        let d: serde::de::value::UnitDeserializer<Error> = ().into_deserializer();
        assert_eq!(RawJson::deserialize(d).unwrap().as_str(), "null");

        // A map whose first key is not the token, handed straight to visit_map.
        let map = MapDeserializer::<_, Error>::new(vec![("k", vec![1, 2])].into_iter());
        let v = RawJsonVisitor.visit_map(map).unwrap();
        assert_eq!(v.as_str(), r#"{"k":[1,2]}"#);

        // Errors from the inner value surface as errors of the format.
        let d: serde::de::value::BytesDeserializer<Error> =
            serde::de::value::BytesDeserializer::new(b"x");
        let err = RawJson::deserialize(d).unwrap_err().to_string();
        assert!(err.contains("byte array"), "{err}");
    }

    /// A hand-written struct like the generated ones: `{"name": .., "raw": ..}`.
    #[derive(Debug, PartialEq)]
    struct Holder {
        name: String,
        raw: Option<RawJson>,
        list: Vec<RawJson>,
    }

    impl<'de> Deserialize<'de> for Holder {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Holder;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("Holder")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Holder, A::Error> {
                    let mut h = Holder {
                        name: String::new(),
                        raw: None,
                        list: Vec::new(),
                    };
                    while let Some(key) = map.next_key::<String>()? {
                        match key.as_str() {
                            "name" => h.name = map.next_value()?,
                            "raw" => h.raw = map.next_value()?,
                            "list" => h.list = map.next_value()?,
                            _ => {
                                map.next_value::<IgnoredAny>()?;
                            }
                        }
                    }
                    Ok(h)
                }
            }
            d.deserialize_map(V)
        }
    }

    impl Serialize for Holder {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(None)?;
            m.serialize_entry("name", &self.name)?;
            if let Some(raw) = &self.raw {
                m.serialize_entry("raw", raw)?;
            }
            m.serialize_entry("list", &self.list)?;
            m.end()
        }
    }

    #[test]
    fn inside_a_struct() {
        let text =
            r#"{"name":"n","raw":{"f:spec": {"f:x":{}}},"skip":[1],"list":[1, {"a":2},"s"]}"#;
        let h: Holder = serde_json::from_slice(text.as_bytes()).unwrap();
        assert_eq!(h.name, "n");
        assert_eq!(
            h.raw.as_ref().unwrap().as_str(),
            r#"{"f:spec": {"f:x":{}}}"#
        );
        let items: Vec<&str> = h.list.iter().map(RawJson::as_str).collect();
        assert_eq!(items, ["1", r#"{"a":2}"#, r#""s""#]);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"name":"n","raw":{"f:spec":{"f:x":{}}},"list":[1,{"a":2},"s"]}"#
        );

        let h: Holder = serde_json::from_str(r#"{"name":"n","raw":null}"#).unwrap();
        assert_eq!(h.raw, None);

        let h: Holder =
            serde_json::from_value(json!({"name": "v", "raw": {"z": 1, "a": [true]}})).unwrap();
        assert_eq!(h.raw.unwrap().as_str(), r#"{"a":[true],"z":1}"#);

        // Through an intermediate Value and back.
        let h: Holder = serde_json::from_str(text).unwrap();
        let value = serde_json::to_value(&h).unwrap();
        let h2: Holder = serde_json::from_value(value).unwrap();
        assert_eq!(h, h2);
    }

    #[test]
    fn arbitrary_precision_numbers() {
        use serde::de::value::{Error, MapDeserializer};
        // What serde_json sends when some crate enables `arbitrary_precision`.
        let map = || MapDeserializer::<_, Error>::new([(NUMBER_TOKEN, "1.50")].into_iter());
        assert_eq!(RawJson::deserialize(map()).unwrap().as_str(), "1.50");
        let mut out = Vec::new();
        TranscodeVisitor(&mut serde_json::Serializer::new(&mut out))
            .visit_map(map())
            .unwrap();
        assert_eq!(out, b"1.5");
        for (text, json) in [
            ("7", "7"),
            ("-7", "-7"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            let mut out = Vec::new();
            TranscodeVisitor(&mut serde_json::Serializer::new(&mut out))
                .visit_map(MapDeserializer::<_, Error>::new(
                    [(NUMBER_TOKEN, text)].into_iter(),
                ))
                .unwrap();
            assert_eq!(out, json.as_bytes());
        }
        let bad = MapDeserializer::<_, Error>::new([(NUMBER_TOKEN, "x")].into_iter());
        let err = TranscodeVisitor(&mut serde_json::Serializer::new(Vec::new()))
            .visit_map(bad)
            .unwrap_err();
        assert!(err.to_string().contains("invalid number x"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let err = serde_json::from_str::<RawJson>(r#"{"a":}"#).unwrap_err();
        assert!(err.is_syntax(), "{err}");
        assert!(serde_json::from_str::<RawJson>("").is_err());
        assert!(serde_json::from_str::<RawJson>("[1,]").is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"raw":{"a" 1}}"#).is_err());
        assert!("".parse::<RawJson>().is_err());
        assert!("{} {}".parse::<RawJson>().is_err());
        assert!("nul".parse::<RawJson>().is_err());
        assert!("{'a':1}".parse::<RawJson>().is_err());
    }

    #[test]
    fn equality_is_semantic() {
        assert_eq!(raw(r#"{"a":1}"#), raw(r#"{ "a" : 1 }"#));
        assert_eq!(raw(r#"{"a":1,"b":2}"#), raw(r#"{"b":2,"a":1}"#));
        assert_eq!(raw(r#""\u0041""#), raw(r#""A""#));
        assert_ne!(raw(r#"{"a":1}"#), raw(r#"{"a":2}"#));
        assert_ne!(raw("1"), raw("1.0"));
        assert_ne!(raw("[1,2]"), raw("[2,1]"));
        assert_eq!(raw(" 5 "), raw("5"));
    }

    #[test]
    fn constructors_and_traits() {
        assert_eq!(RawJson::default().as_str(), "{}");
        assert_eq!(serde_json::to_string(&RawJson::default()).unwrap(), "{}");
        let v = RawJson::from_value(&json!({"k": [1, "two"]}));
        assert_eq!(v.as_str(), r#"{"k":[1,"two"]}"#);
        assert_eq!(RawJson::from(json!(3)).as_str(), "3");
        assert_eq!(RawJson::from(&json!("s")).as_str(), r#""s""#);
        assert_eq!(RawJson::encode(&vec![1, 2]).unwrap().as_str(), "[1,2]");
        let parsed: Vec<u32> = raw("[1, 2]").decode().unwrap();
        assert_eq!(parsed, [1, 2]);
        let text = raw(r#"{"b":"c"}"#);
        let borrowed: std::collections::BTreeMap<&str, &str> = text.decode().unwrap();
        assert_eq!(borrowed["b"], "c");
        assert!(raw("{}").decode::<Vec<u32>>().is_err());
        assert_eq!(format!("{:?}", raw(r#"{"a": 1}"#)), r#"RawJson({"a": 1})"#);
        assert_eq!(raw("[ 1 ]").to_string(), "[ 1 ]");
        assert_eq!(raw("[1]").as_ref(), "[1]");
        assert_eq!(raw("[1]").into_string(), "[1]");
        assert_eq!(raw(" [1] ").as_str(), " [1] ");
        assert_eq!(raw(" [1] ").to_value(), json!([1]));
    }

    #[test]
    fn deep_nesting_is_kept_as_text() {
        // serde_json's raw capture has no depth limit but its parser stops at
        // 128 levels: the text survives, conversions to a tree fail cleanly.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let v: RawJson = serde_json::from_str(&deep).unwrap();
        assert_eq!(v.as_str(), deep);
        assert_eq!(v.to_value(), Value::Null);
        let err = serde_json::to_string(&v).unwrap_err().to_string();
        assert!(err.contains("recursion limit"), "{err}");
    }

    #[test]
    fn serializer_errors_are_passed_on() {
        // A RawJson used as a map key: serde_json accepts only string keys.
        struct KeyMap(RawJson);
        impl Serialize for KeyMap {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(&self.0, &1)?;
                m.end()
            }
        }
        assert_eq!(
            serde_json::to_string(&KeyMap(raw("\"k\""))).unwrap(),
            r#"{"k":1}"#
        );
        let err = serde_json::to_string(&KeyMap(raw("[1]")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("key must be a string"), "{err}");
    }
}
