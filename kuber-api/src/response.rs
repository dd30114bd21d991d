//! Response shapes the spec does not describe the way servers send them.

use std::fmt;

use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// What a delete answers: the object itself while it is still being deleted (graceful deletion,
/// finalizers; for a delete-collection, the list of deleted objects), or a `Status` when it is
/// gone at once. The spec names only `Status`; servers send either.
// One answer at a time: the size of the `Status` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Deleted<T> {
    Object(T),
    Status(Status),
}

impl<T> Deleted<T> {
    /// The object, if the server returned it.
    pub fn into_object(self) -> Option<T> {
        match self {
            Deleted::Object(o) => Some(o),
            Deleted::Status(_) => None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Deleted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The kind decides; a delete answer is small, so reading it as a tree first is cheap.
        let value = serde_json::Value::deserialize(deserializer)?;
        let is_status = value.get("kind").and_then(|k| k.as_str()) == Some("Status")
            && value.get("apiVersion").and_then(|k| k.as_str()) == Some("v1");
        let result = if is_status {
            serde_json::from_value(value).map(Deleted::Status)
        } else {
            serde_json::from_value(value).map(Deleted::Object)
        };
        result.map_err(serde::de::Error::custom)
    }
}

impl<T: Serialize> Serialize for Deleted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Deleted::Object(o) => o.serialize(serializer),
            Deleted::Status(s) => s.serialize(serializer),
        }
    }
}

impl<T: fmt::Debug> fmt::Display for Deleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deleted::Object(_) => f.write_str("deletion in progress"),
            Deleted::Status(s) => write!(f, "deleted ({})", s.status.as_deref().unwrap_or("")),
        }
    }
}
