//! Typed watch events, as a watch stream carries them: one `{"type", "object"}` JSON per line.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::apimachinery::pkg::apis::meta::v1::Status;
use crate::special::RawJson;

/// One event of a watch of `T`s.
///
/// `Bookmark` objects carry only metadata (a resourceVersion, and with `sendInitialEvents` the
/// `k8s.io/initial-events-end` annotation); `Error` carries the server's `Status`, e.g. 410 Gone
/// when the resourceVersion is too old.
// Events are handled one at a time, so the size of the `Status` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent<T> {
    Added(T),
    Modified(T),
    Deleted(T),
    Bookmark(T),
    Error(Status),
}

impl<T> WatchEvent<T> {
    /// The wire name of the event type.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

impl<T: Serialize> Serialize for WatchEvent<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("WatchEvent", 2)?;
        s.serialize_field("type", self.type_name())?;
        match self {
            WatchEvent::Added(o)
            | WatchEvent::Modified(o)
            | WatchEvent::Deleted(o)
            | WatchEvent::Bookmark(o) => s.serialize_field("object", o)?,
            WatchEvent::Error(status) => s.serialize_field("object", status)?,
        }
        s.end()
    }
}

#[derive(Clone, Copy)]
enum EventType {
    Of(ObjectEvent),
    Error,
}

/// The event types whose object is a `T`.
#[derive(Clone, Copy)]
enum ObjectEvent {
    Added,
    Modified,
    Deleted,
    Bookmark,
}

impl EventType {
    fn parse<E: de::Error>(name: &str) -> Result<Self, E> {
        Ok(match name {
            "ADDED" => EventType::Of(ObjectEvent::Added),
            "MODIFIED" => EventType::Of(ObjectEvent::Modified),
            "DELETED" => EventType::Of(ObjectEvent::Deleted),
            "BOOKMARK" => EventType::Of(ObjectEvent::Bookmark),
            "ERROR" => EventType::Error,
            other => {
                return Err(E::custom(format_args!(
                    "unknown watch event type `{other}` (expected ADDED, MODIFIED, DELETED, BOOKMARK or ERROR)"
                )));
            }
        })
    }
}

impl ObjectEvent {
    fn wrap<T>(self, object: T) -> WatchEvent<T> {
        match self {
            ObjectEvent::Added => WatchEvent::Added(object),
            ObjectEvent::Modified => WatchEvent::Modified(object),
            ObjectEvent::Deleted => WatchEvent::Deleted(object),
            ObjectEvent::Bookmark => WatchEvent::Bookmark(object),
        }
    }
}

/// The object of an event, decoded as soon as its type is known.
#[allow(clippy::large_enum_variant)]
enum Object<T> {
    Typed(WatchEvent<T>),
    /// `object` came before `type`: kept as text until the type is read.
    Pending(RawJson),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WatchEvent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor(std::marker::PhantomData))
    }
}

struct EventVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for EventVisitor<T> {
    type Value = WatchEvent<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a watch event object with `type` and `object`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WatchEvent<T>, A::Error> {
        let mut kind: Option<EventType> = None;
        let mut object: Option<Object<T>> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "type" => {
                    let name: std::borrow::Cow<'de, str> = map.next_value()?;
                    kind = Some(EventType::parse(&name)?);
                }
                "object" => {
                    object = Some(match kind {
                        Some(EventType::Error) => {
                            Object::Typed(WatchEvent::Error(map.next_value()?))
                        }
                        Some(EventType::Of(k)) => Object::Typed(k.wrap(map.next_value::<T>()?)),
                        None => Object::Pending(map.next_value()?),
                    });
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        match object.ok_or_else(|| de::Error::missing_field("object"))? {
            Object::Typed(event) => Ok(event),
            Object::Pending(raw) => {
                let text = raw.as_str();
                match kind {
                    EventType::Error => serde_json::from_str(text).map(WatchEvent::Error),
                    EventType::Of(k) => serde_json::from_str(text).map(|o| k.wrap(o)),
                }
                .map_err(de::Error::custom)
            }
        }
    }
}
