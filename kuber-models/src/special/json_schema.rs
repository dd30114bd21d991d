//! The schema-or-X unions of `JSONSchemaProps` (the spec gives them no schema; see the
//! `json-schema-unions` fixup). Decoded by looking at the JSON value's kind, without buffering.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use crate::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;

/// `items`: one schema for every element, or one schema per position.
#[derive(Clone, Debug, PartialEq)]
pub enum JSONSchemaPropsOrArray {
    Schema(Box<JSONSchemaProps>),
    Schemas(Vec<JSONSchemaProps>),
}

/// `additionalProperties` / `additionalItems`: allowed or not, or a schema they must match.
#[derive(Clone, Debug, PartialEq)]
pub enum JSONSchemaPropsOrBool {
    Bool(bool),
    Schema(Box<JSONSchemaProps>),
}

/// `dependencies` values: a schema, or the names of properties that must be present.
#[derive(Clone, Debug, PartialEq)]
pub enum JSONSchemaPropsOrStringArray {
    Schema(Box<JSONSchemaProps>),
    Strings(Vec<String>),
}

/// No schema: an empty list.
impl Default for JSONSchemaPropsOrArray {
    fn default() -> Self {
        Self::Schemas(Vec::new())
    }
}

/// Not allowed, Go's zero value.
impl Default for JSONSchemaPropsOrBool {
    fn default() -> Self {
        Self::Bool(false)
    }
}

/// No schema: an empty list.
impl Default for JSONSchemaPropsOrStringArray {
    fn default() -> Self {
        Self::Strings(Vec::new())
    }
}

impl Serialize for JSONSchemaPropsOrArray {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Schema(v) => v.serialize(s),
            Self::Schemas(v) => v.serialize(s),
        }
    }
}

impl Serialize for JSONSchemaPropsOrBool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Bool(v) => s.serialize_bool(*v),
            Self::Schema(v) => v.serialize(s),
        }
    }
}

impl Serialize for JSONSchemaPropsOrStringArray {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Schema(v) => v.serialize(s),
            Self::Strings(v) => v.serialize(s),
        }
    }
}

fn schema<'de, A: MapAccess<'de>>(map: A) -> Result<Box<JSONSchemaProps>, A::Error> {
    JSONSchemaProps::deserialize(MapAccessDeserializer::new(map)).map(Box::new)
}

fn seq<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: A) -> Result<Vec<T>, A::Error> {
    Vec::deserialize(SeqAccessDeserializer::new(seq))
}

macro_rules! union_visitor {
    ($ty:ident, $expecting:literal, { $($method:item)* }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!(stringify!($ty), ": ", $expecting))
                    }
                    $($method)*
                }
                d.deserialize_any(V)
            }
        }
    };
}

union_visitor!(
    JSONSchemaPropsOrArray,
    "a schema object or an array of schemas",
    {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            schema(map).map(JSONSchemaPropsOrArray::Schema)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            seq(s).map(JSONSchemaPropsOrArray::Schemas)
        }
    }
);

union_visitor!(JSONSchemaPropsOrBool, "a boolean or a schema object", {
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(JSONSchemaPropsOrBool::Bool(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        schema(map).map(JSONSchemaPropsOrBool::Schema)
    }
});

union_visitor!(
    JSONSchemaPropsOrStringArray,
    "a schema object or an array of strings",
    {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            schema(map).map(JSONSchemaPropsOrStringArray::Schema)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            seq(s).map(JSONSchemaPropsOrStringArray::Strings)
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_round_trip_each_shape() {
        for text in [
            r#"{"type":"object","additionalProperties":false}"#,
            r#"{"type":"object","additionalProperties":{"type":"string"}}"#,
            r#"{"type":"array","items":{"type":"integer"}}"#,
            r#"{"type":"array","items":[{"type":"integer"},{"type":"string"}]}"#,
            r#"{"dependencies":{"a":["b","c"],"d":{"required":["e"]}}}"#,
        ] {
            let v: JSONSchemaProps = serde_json::from_str(text).unwrap();
            let back = serde_json::to_value(&v).unwrap();
            assert_eq!(
                back,
                serde_json::from_str::<serde_json::Value>(text).unwrap(),
                "{text}"
            );
        }
        let v: JSONSchemaProps = serde_json::from_str(r#"{"additionalProperties":true}"#).unwrap();
        assert_eq!(
            v.additional_properties,
            Some(JSONSchemaPropsOrBool::Bool(true))
        );
    }

    #[test]
    fn wrong_kind_is_a_clear_error() {
        let e = serde_json::from_str::<JSONSchemaProps>(r#"{"items":true}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("JSONSchemaPropsOrArray"), "{e}");
        let e = serde_json::from_str::<JSONSchemaProps>(r#"{"additionalProperties":"yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("JSONSchemaPropsOrBool"), "{e}");
    }
}
