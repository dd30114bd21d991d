//! What the facade cases read off objects and answers.

use kuber::models::Resource;
use kuber::{Context as Ctx, Deleted};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::{Outcome, ensure};

/// What the script needs of a generated kind.
pub(super) trait Kind:
    Resource + Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
}
impl<K: Resource + Serialize + DeserializeOwned + Clone + Send + Sync + 'static> Kind for K {}

pub(super) fn namespaced<K: Kind>() -> bool {
    K::SCOPE == kuber::models::Scope::Namespaced
}

pub(super) fn to_value<T: Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

pub(super) fn label_of<T: Serialize>(object: &T, key: &str) -> Option<String> {
    to_value(object)
        .pointer(&format!("/metadata/labels/{}", key.replace('/', "~1")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub(super) fn uid_of<T: Serialize>(object: &T) -> Option<String> {
    to_value(object)
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub(super) fn sorted_names<T: Serialize>(items: &[T]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|i| {
            to_value(i)
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// kubectl's name of the resource (`deployments.apps`, `pods`).
pub(super) fn kubectl_resource<K: Kind>() -> String {
    if K::GROUP.is_empty() {
        K::PLURAL.to_owned()
    } else {
        format!("{}.{}", K::PLURAL, K::GROUP)
    }
}

/// Gone, or going (a finalizer holds it with a deletionTimestamp).
pub(super) async fn gone<K: Kind>(ctx: &Ctx, name: &str, ns: &str) -> Outcome {
    match ctx.get::<K>(name).namespace(ns).await {
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(format!("get after delete: {e}")),
        Ok(o) => ensure(
            o.metadata().is_some_and(|m| m.deletion_timestamp.is_some()),
            || format!("{name} still there without a deletionTimestamp"),
        ),
    }
}

/// The answer of a delete: the object named `name`, or a Status of success.
pub(super) fn deleted<T: Serialize>(answer: &Deleted<T>, name: &str) -> Outcome {
    match answer {
        Deleted::Object(o) => {
            let v = to_value(o);
            ensure(v.pointer("/metadata/name") == Some(&json!(name)), || {
                format!("delete answered another object: {v}")
            })
        }
        Deleted::Status(s) => ensure(s.status.as_deref() == Some("Success"), || {
            format!("delete answered {s:?}")
        }),
    }
}
