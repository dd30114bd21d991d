//! Objects of kinds the models do not know (custom resources): typed metadata, the rest kept as
//! raw JSON so nothing is lost on the way back.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use crate::special::RawJson;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamicObject {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub metadata: Option<ObjectMeta>,
    /// Every other member (`spec`, `status`, `items`, …) as it came.
    pub fields: BTreeMap<String, RawJson>,
}

impl Serialize for DynamicObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        if let Some(v) = &self.api_version {
            m.serialize_entry("apiVersion", v)?;
        }
        if let Some(v) = &self.kind {
            m.serialize_entry("kind", v)?;
        }
        if let Some(v) = &self.metadata {
            m.serialize_entry("metadata", v)?;
        }
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for DynamicObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DynamicObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object for a Kubernetes object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DynamicObject, A::Error> {
                let mut out = DynamicObject::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "apiVersion" => out.api_version = map.next_value()?,
                        "kind" => out.kind = map.next_value()?,
                        "metadata" => out.metadata = map.next_value()?,
                        _ => {
                            out.fields.insert(key, map.next_value()?);
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// A list of objects of a kind the models do not know (`FooBarList`): list metadata, items as
/// [`DynamicObject`]s.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamicList {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub metadata: Option<ListMeta>,
    pub items: Vec<DynamicObject>,
    /// Any other member, as it came.
    pub fields: BTreeMap<String, RawJson>,
}

impl Serialize for DynamicList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        if let Some(v) = &self.api_version {
            m.serialize_entry("apiVersion", v)?;
        }
        if let Some(v) = &self.kind {
            m.serialize_entry("kind", v)?;
        }
        if let Some(v) = &self.metadata {
            m.serialize_entry("metadata", v)?;
        }
        m.serialize_entry("items", &self.items)?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for DynamicList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DynamicList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object for a Kubernetes list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DynamicList, A::Error> {
                let mut out = DynamicList::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "apiVersion" => out.api_version = map.next_value()?,
                        "kind" => out.kind = map.next_value()?,
                        "metadata" => out.metadata = map.next_value()?,
                        "items" => out.items = map.next_value::<Option<_>>()?.unwrap_or_default(),
                        _ => {
                            out.fields.insert(key, map.next_value()?);
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V)
    }
}
