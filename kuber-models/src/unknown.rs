//! Members of an object that this version of the models does not know.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;

use crate::special::RawJson;

/// The members of a JSON object that the model has no field for, kept as raw JSON so that a
/// read-modify-write against a newer server (a GET, a change, a PUT) writes them back instead of
/// erasing them. Every generated struct has one, named `unknown_fields` (no Kubernetes property
/// is spelled `unknownFields`; the generator refuses a document where one is).
///
/// It is one pointer wide and allocates only when some member is unknown. Encoding writes the
/// members after the known fields, in key order.
///
/// A protobuf read keeps the fields whose numbers the model does not know the same way, as their
/// raw bytes ([`UnknownFields::protobuf`]), written back after the known fields.
///
/// ```
/// # use kuber_models::api::core::v1::ConfigMap;
/// let cm: ConfigMap = serde_json::from_str(r#"{"data":{"a":"b"},"newField":{"x":1}}"#).unwrap();
/// assert_eq!(cm.unknown_fields.get("newField").unwrap().as_str(), r#"{"x":1}"#);
/// assert_eq!(serde_json::to_string(&cm).unwrap(), r#"{"data":{"a":"b"},"newField":{"x":1}}"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
// Boxed: one pointer in every struct instead of a map and a buffer, since it is almost always empty.
pub struct UnknownFields(Option<Box<Members>>);

#[derive(Clone, Default, PartialEq, Eq)]
struct Members {
    json: BTreeMap<String, RawJson>,
    /// Whole protobuf fields (key and value), in the order they came.
    protobuf: Vec<u8>,
}

impl UnknownFields {
    /// No members.
    pub const fn new() -> Self {
        UnknownFields(None)
    }

    /// No JSON member and no protobuf field.
    pub fn is_empty(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|m| m.json.is_empty() && m.protobuf.is_empty())
    }

    /// The number of JSON members.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.json.len())
    }

    /// The raw JSON of the member `key`.
    pub fn get(&self, key: &str) -> Option<&RawJson> {
        self.0.as_ref()?.json.get(key)
    }

    /// Sets a member; the previous value, if any.
    pub fn insert(&mut self, key: impl Into<String>, value: RawJson) -> Option<RawJson> {
        self.0
            .get_or_insert_default()
            .json
            .insert(key.into(), value)
    }

    /// Removes a member, so that encoding no longer writes it.
    pub fn remove(&mut self, key: &str) -> Option<RawJson> {
        let members = self.0.as_mut()?;
        let value = members.json.remove(key);
        if members.json.is_empty() && members.protobuf.is_empty() {
            self.0 = None;
        }
        value
    }

    /// The protobuf fields the model does not know, as they came (keys and values).
    pub fn protobuf(&self) -> &[u8] {
        self.0.as_ref().map_or(&[], |m| &m.protobuf)
    }

    /// Keeps one whole protobuf field (its key and value).
    #[doc(hidden)]
    pub fn push_protobuf(&mut self, field: &[u8]) {
        self.0
            .get_or_insert_default()
            .protobuf
            .extend_from_slice(field);
    }

    /// Drops every member.
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// The members in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.0
            .iter()
            .flat_map(|m| m.json.iter())
            .map(|(k, v)| (k.as_str(), v))
    }
}

impl<'a> IntoIterator for &'a UnknownFields {
    type Item = (&'a String, &'a RawJson);
    type IntoIter = std::iter::Flatten<std::option::IntoIter<btree_map::Iter<'a, String, RawJson>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.as_ref().map(|m| m.json.iter()).into_iter().flatten()
    }
}

/// `{}` when empty, else the members with their JSON text (and the protobuf bytes, if any).
impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        map.entries(self);
        if !self.protobuf().is_empty() {
            map.entry(&"<protobuf>", &self.protobuf());
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_until_a_member_is_set_and_again_once_removed() {
        let mut u = UnknownFields::new();
        assert!(u.is_empty() && u.0.is_none());
        assert_eq!(
            std::mem::size_of::<UnknownFields>(),
            std::mem::size_of::<usize>()
        );
        u.insert("a", "1".parse().unwrap());
        assert_eq!((u.len(), u.get("a").map(RawJson::as_str)), (1, Some("1")));
        assert_eq!(format!("{u:?}"), r#"{"a": RawJson(1)}"#);
        assert_eq!(
            u.remove("a").map(RawJson::into_string).as_deref(),
            Some("1")
        );
        assert!(u.0.is_none(), "no allocation kept for an empty set");
        assert_eq!(u, UnknownFields::default());
    }
}
