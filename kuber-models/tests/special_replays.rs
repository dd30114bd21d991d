//! The special value types against real kube-apiserver bytes (`../shared/replays`): every
//! timestamp and quantity the servers sent parses, and every response body survives a trip
//! through `RawJson` byte for byte.

use std::path::{Path, PathBuf};

use kuber_models::special::{IntOrString, Quantity, RawJson, Time};
use serde_json::Value;

const TIME_KEYS: &[&str] = &[
    "creationTimestamp",
    "deletionTimestamp",
    "lastTransitionTime",
    "lastProbeTime",
    "startedAt",
    "finishedAt",
    "startTime",
    "completionTime",
    "time",
];
const QUANTITY_KEYS: &[&str] = &["cpu", "memory", "ephemeral-storage", "pods"];
const INT_OR_STRING_KEYS: &[&str] = &["targetPort", "maxSurge", "maxUnavailable"];

/// `None` without ../shared: the tests then pass without checking (CI has the replays).
fn replay_files() -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/replays");
    if !root.is_dir() {
        eprintln!("replays not found at {}: skipped", root.display());
        return None;
    }
    let mut files = Vec::new();
    for version in std::fs::read_dir(&root).unwrap() {
        let version = version.unwrap().path();
        if version.is_dir() {
            for file in std::fs::read_dir(&version).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    Some(files)
}

/// Every JSON document the servers sent (a watch body holds one per line).
fn response_documents() -> Option<Vec<(PathBuf, String)>> {
    let mut docs = Vec::new();
    for file in replay_files()? {
        let exchanges: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for exchange in exchanges {
            let Some(body) = exchange["response_body"].as_str() else {
                continue;
            };
            for line in body.lines().filter(|l| !l.trim().is_empty()) {
                docs.push((file.clone(), line.to_owned()));
            }
        }
    }
    Some(docs)
}

#[derive(Default)]
struct Counts {
    times: usize,
    quantities: usize,
    int_or_strings: usize,
}

fn check_fields(value: &Value, key: &str, counts: &mut Counts) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| check_fields(v, k, counts)),
        Value::Array(items) => items.iter().for_each(|v| check_fields(v, key, counts)),
        Value::String(text) if TIME_KEYS.contains(&key) => {
            let t: Time = serde_json::from_value(value.clone()).unwrap();
            let (secs, nanos) = t.unix_timestamp().unwrap();
            // Servers send the canonical form, which `from_unix` reproduces.
            assert_eq!(nanos, 0, "{text}");
            assert_eq!(Time::from_unix(secs), t);
            counts.times += 1;
        }
        Value::String(_) | Value::Number(_) if QUANTITY_KEYS.contains(&key) => {
            let q: Quantity = serde_json::from_value(value.clone()).unwrap();
            q.to_millis().unwrap();
            q.to_f64().unwrap();
            assert_eq!(&serde_json::to_value(&q).unwrap(), value);
            counts.quantities += 1;
        }
        Value::String(_) | Value::Number(_) if INT_OR_STRING_KEYS.contains(&key) => {
            let v: IntOrString = serde_json::from_value(value.clone()).unwrap();
            assert_eq!(&serde_json::to_value(&v).unwrap(), value);
            counts.int_or_strings += 1;
        }
        _ => {}
    }
}

#[test]
fn server_values_parse() {
    let mut counts = Counts::default();
    let Some(docs) = response_documents() else {
        return;
    };
    for (_, doc) in docs {
        let value: Value = serde_json::from_str(&doc).unwrap();
        check_fields(&value, "", &mut counts);
    }
    assert!(counts.times > 100, "only {} timestamps seen", counts.times);
    assert!(
        counts.quantities > 50,
        "only {} quantities seen",
        counts.quantities
    );
    assert!(counts.int_or_strings > 0);
}

#[test]
fn server_bodies_round_trip_through_raw_json() {
    let Some(docs) = response_documents() else {
        return;
    };
    for (file, doc) in docs {
        let raw: RawJson = serde_json::from_str(&doc).unwrap();
        assert_eq!(raw.as_str(), doc, "{}", file.display());
        // Servers write compact JSON, so re-encoding gives the same bytes.
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            doc,
            "{}",
            file.display()
        );
        let value: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(raw.to_value(), value);
        assert_eq!(RawJson::from_value(&value), raw);
    }
}

#[test]
fn managed_fields_are_kept_verbatim() {
    let mut seen = 0;
    let Some(docs) = response_documents() else {
        return;
    };
    for (_, doc) in docs {
        let value: Value = serde_json::from_str(&doc).unwrap();
        let objects = match value["items"].as_array() {
            Some(items) => items.clone(),
            None => vec![value["object"].clone(), value.clone()],
        };
        for object in objects {
            let Some(entries) = object["metadata"]["managedFields"].as_array() else {
                continue;
            };
            for entry in entries {
                let text = entry["fieldsV1"].to_string();
                let raw: RawJson = serde_json::from_slice(text.as_bytes()).unwrap();
                assert_eq!(raw.as_str(), text);
                seen += 1;
            }
        }
    }
    assert!(seen > 10, "only {seen} managedFields entries seen");
}
