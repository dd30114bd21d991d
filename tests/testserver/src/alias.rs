//! One resource served at two group-versions with different field names: Events, as core/v1
//! and as events.k8s.io/v1. The real server stores them as one resource; so does this one, in
//! the core form, converting events.k8s.io/v1 requests on the way in and answers on the way out.

use kuber_api::{KINDS, KindInfo};
use serde_json::{Value, json};

/// core/v1 field ↔ events.k8s.io/v1 field.
const FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// The kind whose objects `kind`'s are stored as, when they are another's.
pub fn storage_of(kind: &KindInfo) -> Option<&'static KindInfo> {
    if kind.group != "events.k8s.io" || kind.plural != "events" {
        return None;
    }
    KINDS
        .iter()
        .find(|k| k.group.is_empty() && k.version == "v1" && k.plural == "events")
}

fn rename(object: &mut Value, to_storage: bool) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    for (core, events) in FIELDS {
        let (from, to) = if to_storage {
            (events, core)
        } else {
            (core, events)
        };
        if let Some(v) = map.remove(*from) {
            map.insert((*to).to_owned(), v);
        }
    }
}

/// A request body in the view's form (an object, a merge or strategic patch, an apply, or a
/// JSON patch) turned into the storage form.
pub fn body_to_storage(storage: &KindInfo, body: &mut Value) {
    match body {
        Value::Array(ops) => {
            for op in ops {
                for key in ["path", "from"] {
                    if let Some(path) = op.get(key).and_then(Value::as_str) {
                        let renamed = rename_pointer(path);
                        op[key] = json!(renamed);
                    }
                }
            }
        }
        Value::Object(_) => {
            rename(body, true);
            if body.get("apiVersion").is_some() {
                body["apiVersion"] = json!(storage.api_version);
            }
        }
        _ => {}
    }
}

fn rename_pointer(path: &str) -> String {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (first, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(f, t)| (f, Some(t)));
    let first = FIELDS
        .iter()
        .find(|(_, events)| *events == first)
        .map_or(first, |(core, _)| core);
    match tail {
        Some(t) => format!("/{first}/{t}"),
        None => format!("/{first}"),
    }
}

/// An answer of the storage kind (an object or a list of them) in the view's form.
pub fn answer_to_view(view: &KindInfo, answer: &mut Value) {
    let kind = answer.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "Event" {
        object_to_view(view, answer);
    } else if kind == "EventList" {
        answer["apiVersion"] = json!(view.api_version);
        for item in answer["items"].as_array_mut().into_iter().flatten() {
            rename(item, false);
        }
    }
}

/// One stored object in the view's form.
pub fn object_to_view(view: &KindInfo, object: &mut Value) {
    rename(object, false);
    object["apiVersion"] = json!(view.api_version);
    object["kind"] = json!(view.kind);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_k8s_io_fields_map_to_the_core_ones_and_back() {
        let view = KINDS
            .iter()
            .find(|k| k.group == "events.k8s.io" && k.plural == "events")
            .unwrap();
        let storage = storage_of(view).unwrap();
        let mut body = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "regarding": {"name": "p"}, "note": "hi", "reason": "R"});
        body_to_storage(storage, &mut body);
        assert_eq!(body["involvedObject"]["name"], "p");
        assert_eq!(body["message"], "hi");
        assert_eq!(body["reason"], "R");
        assert_eq!(body["apiVersion"], "v1");
        let mut patch = json!([{"op": "replace", "path": "/note", "value": "x"}]);
        body_to_storage(storage, &mut patch);
        assert_eq!(patch[0]["path"], "/message");
        object_to_view(view, &mut body);
        assert_eq!(body["note"], "hi");
        assert_eq!(body["apiVersion"], "events.k8s.io/v1");
        assert!(body.get("message").is_none());
    }
}
