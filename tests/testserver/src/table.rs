//! `as=Table` answers (what `kubectl get` prints): the columns every kind has, Name and Age,
//! with each row's object as `PartialObjectMetadata` or whole, as `includeObject` asks.

use std::time::SystemTime;

use serde_json::{Value, json};

/// An object's metadata alone, as `as=PartialObjectMetadata` asks.
pub fn partial_object(api_version: &str, object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version,
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A get's (`object`) or list's (`object` has `items`) answer as PartialObjectMetadata(List);
/// `Err(is_list)` when the object is not what was asked for.
pub fn partial(api_version: &str, object: &Value, want_list: bool) -> Result<Value, bool> {
    match (object.get("items").and_then(Value::as_array), want_list) {
        (Some(items), true) => Ok(json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": api_version,
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
            "items": items.iter().map(|i| partial_object(api_version, i)).collect::<Vec<_>>(),
        })),
        (None, false) => Ok(partial_object(api_version, object)),
        (items, _) => Err(items.is_some()),
    }
}

/// How each row carries its object (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    pub fn parse(value: Option<&str>) -> Result<Include, String> {
        match value {
            None | Some("") | Some("PartialObjectMetadata") => Ok(Include::Metadata),
            Some("None") => Ok(Include::None),
            Some("Object") => Ok(Include::Object),
            Some(other) => Err(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Object\", \"None\", \"PartialObjectMetadata\""
            )),
        }
    }
}

/// Go's `duration.HumanDuration`, which kubectl's ages are written in.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    let y = d / 365;
    match () {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => match s % 60 {
            0 => format!("{m}m"),
            r => format!("{m}m{r}s"),
        },
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => match m % 60 {
            0 => format!("{h}h"),
            r => format!("{h}h{r}m"),
        },
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => match h % 24 {
            0 => format!("{d}d"),
            r => format!("{d}d{r}h"),
        },
        _ if d < 365 * 2 => format!("{d}d"),
        _ if d < 365 * 8 => match d % 365 {
            0 => format!("{y}y"),
            r => format!("{y}y{r}d"),
        },
        _ => format!("{y}y"),
    }
}

fn age(object: &Value, now: SystemTime) -> String {
    let Some(created) = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
    else {
        return "<unknown>".into();
    };
    let time = kuber::models::special::Time::from(created);
    match time.to_system_time() {
        Ok(t) => match now.duration_since(t) {
            Ok(d) => human_duration(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Err(e) => human_duration(-i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX)),
        },
        Err(_) => "<unknown>".into(),
    }
}

fn row(object: &Value, include: Include, now: SystemTime) -> Value {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut row = json!({"cells": [name, age(object, now)]});
    match include {
        Include::None => {}
        Include::Object => row["object"] = object.clone(),
        Include::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
            });
        }
    }
    row
}

/// A Table of `objects` (one for a get, the items of a list), with the list's metadata.
pub fn table(api_version: &str, objects: &[Value], metadata: Value, include: Include) -> Value {
    let now = SystemTime::now();
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0},
        ],
        "rows": objects.iter().map(|o| row(o, include, now)).collect::<Vec<_>>(),
    })
}

/// The Table answer for a get (`object` is one object) or a list (`object` has `items`).
pub fn answer(api_version: &str, object: &Value, include: Include) -> Value {
    match object.get("items").and_then(Value::as_array) {
        Some(items) => {
            let metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
            // Items of a list carry no apiVersion or kind; whole objects in rows do.
            let (api, kind) = (
                object["apiVersion"].clone(),
                object["kind"]
                    .as_str()
                    .and_then(|k| k.strip_suffix("List"))
                    .map(|k| json!(k)),
            );
            let items: Vec<Value> = items
                .iter()
                .map(|i| {
                    let mut i = i.clone();
                    if include == Include::Object
                        && let (Some(o), Some(kind)) = (i.as_object_mut(), kind.as_ref())
                    {
                        o.entry("apiVersion").or_insert_with(|| api.clone());
                        o.entry("kind").or_insert_with(|| kind.clone());
                    }
                    i
                })
                .collect();
            table(api_version, &items, metadata, include)
        }
        None => {
            let rv = object
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or_else(|| json!(""));
            table(
                api_version,
                std::slice::from_ref(object),
                json!({"resourceVersion": rv}),
                include,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (49 * 3600, "2d1h"),
            (10 * 86400, "10d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (9 * 365 * 86400, "9y"),
            (-5, "<invalid>"),
        ];
        for (secs, text) in cases {
            assert_eq!(human_duration(secs), text, "{secs}s");
        }
    }
}
