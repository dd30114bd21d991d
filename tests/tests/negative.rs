//! The harness must notice a model that loses or changes data: alterations of re-encodings that
//! `compare` must reject, and deliberately lossy models that `roundtrip` must reject.

use std::marker::PhantomData;

use kuber_tests::compare::compare;
use kuber_tests::fixtures_dir;
use kuber_tests::roundtrip::{Reason, roundtrip_as, roundtrip_body};
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::{Value, json};

fn read(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn value(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap()
}

/// Alters a copy of fixture `name` with `alter` and expects `compare` to fail at `path`.
fn assert_caught(name: &str, path: &str, alter: impl FnOnce(&mut Value)) {
    let original = value(name);
    let mut altered = original.clone();
    alter(&mut altered);
    assert_ne!(original, altered, "the alteration changed nothing");
    let d = compare(&original, &altered).expect_err("the alteration went unnoticed");
    assert_eq!(d.path, path, "{d}");
}

#[test]
fn dropped_fields_are_caught() {
    assert_caught("pod.json", "metadata.managedFields[1].fieldsV1", |v| {
        v["metadata"]["managedFields"][1]
            .as_object_mut()
            .unwrap()
            .remove("fieldsV1");
    });
    assert_caught("pod.json", "status", |v| {
        v.as_object_mut().unwrap().remove("status");
    });
    assert_caught("pod-list.json", "items[1]", |v| {
        v["items"].as_array_mut().unwrap().pop();
    });
}

#[test]
fn empty_object_dropped_is_caught() {
    assert_caught("pod.json", "spec.volumes[0].emptyDir", |v| {
        v["spec"]["volumes"][0]
            .as_object_mut()
            .unwrap()
            .remove("emptyDir");
    });
    assert_caught("crd.json", "spec.versions[0].subresources.status", |v| {
        v["spec"]["versions"][0]["subresources"]["status"] = Value::Null;
    });
}

#[test]
fn changed_strings_are_caught() {
    assert_caught("pod.json", "metadata.name", |v| {
        v["metadata"]["name"] = json!("other")
    });
    assert_caught("pod.json", "metadata.creationTimestamp", |v| {
        v["metadata"]["creationTimestamp"] = json!("2026-01-12T08:30:00.000Z");
    });
    assert_caught("secret.json", "data.username", |v| {
        v["data"]["username"] = json!("c2hvcA")
    });
    assert_caught("event.json", "reportingComponent", |v| {
        v.as_object_mut().unwrap().remove("reportingComponent");
    });
}

#[test]
fn numbers_turned_into_strings_are_caught() {
    assert_caught(
        "pod.json",
        "spec.containers[0].ports[0].containerPort",
        |v| {
            v["spec"]["containers"][0]["ports"][0]["containerPort"] = json!("8080");
        },
    );
    assert_caught("pod.json", "spec.containers[0].resources.limits.cpu", |v| {
        v["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2");
    });
    // And the other way: an int-or-string given as a string must stay one.
    assert_caught(
        "deployment.json",
        "spec.strategy.rollingUpdate.maxSurge",
        |v| {
            v["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = json!(25);
        },
    );
}

#[test]
fn invented_api_version_and_kind_are_caught_outside_list_items() {
    assert_caught("pod.json", "metadata.apiVersion", |v| {
        v["metadata"]["apiVersion"] = json!("v1")
    });
    assert_caught("api-group-list.json", "groups[0].apiVersion", |v| {
        v["groups"][0]["apiVersion"] = json!("v1");
    });
    assert_caught("api-group-list.json", "groups[0].kind", |v| {
        v["groups"][0]["kind"] = json!("APIGroup")
    });
    // List items may gain their own apiVersion/kind, but not another kind.
    let original = value("pod-list.json");
    let mut gained = original.clone();
    gained["items"][0]["apiVersion"] = json!("v1");
    gained["items"][0]["kind"] = json!("Pod");
    assert_eq!(compare(&original, &gained), Ok(()));
    assert_caught("pod-list.json", "items[1].kind", |v| {
        v["items"][1]["kind"] = json!("Node")
    });
}

#[test]
fn watch_event_losses_are_caught() {
    let text = read("pod-watch.jsonl");
    let bookmark: Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
    let mut altered = bookmark.clone();
    altered["object"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let d = compare(&bookmark, &altered).unwrap_err();
    assert_eq!(d.path, "object.metadata.annotations");
    // `status: {}` must not vanish either.
    let mut altered = bookmark.clone();
    altered["object"].as_object_mut().unwrap().remove("status");
    assert_eq!(
        compare(&bookmark, &altered).unwrap_err().path,
        "object.status"
    );
}

/// How a stand-in model mangles what it decodes.
trait Mangle {
    fn mangle(v: &mut Value);
}

/// A "model" that holds the body as a `Value` and mangles it on decode.
#[derive(Debug, Clone, PartialEq)]
struct Model<M>(Value, PhantomData<M>);

impl<'de, M: Mangle> Deserialize<'de> for Model<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = Value::deserialize(d)?;
        M::mangle(&mut v);
        Ok(Model(v, PhantomData))
    }
}

impl<M> Serialize for Model<M> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Faithful;
impl Mangle for Faithful {
    fn mangle(_: &mut Value) {}
}

#[derive(Debug, Clone, PartialEq)]
struct DropsStatus;
impl Mangle for DropsStatus {
    fn mangle(v: &mut Value) {
        v.as_object_mut().map(|o| o.remove("status"));
    }
}

#[derive(Debug, Clone, PartialEq)]
struct DropsEmptyObjects;
impl Mangle for DropsEmptyObjects {
    fn mangle(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.retain(|_, x| x.as_object().is_none_or(|x| !x.is_empty()));
                o.values_mut().for_each(Self::mangle);
            }
            Value::Array(a) => a.iter_mut().for_each(Self::mangle),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct StringifiesNumbers;
impl Mangle for StringifiesNumbers {
    fn mangle(v: &mut Value) {
        match v {
            Value::Number(n) => *v = Value::String(n.to_string()),
            Value::Object(o) => o.values_mut().for_each(Self::mangle),
            Value::Array(a) => a.iter_mut().for_each(Self::mangle),
            _ => {}
        }
    }
}

fn mismatch_path(reason: Reason) -> String {
    match reason {
        Reason::Mismatch(d) => d.path,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn lossy_models_are_caught() {
    let pod = read("pod.json");
    assert!(roundtrip_as::<Model<Faithful>>(&pod).is_ok());
    let f = roundtrip_as::<Model<DropsStatus>>(&pod).unwrap_err();
    assert_eq!(
        f.type_name,
        Some(std::any::type_name::<Model<DropsStatus>>())
    );
    assert_eq!(mismatch_path(f.reason), "status");
    let f = roundtrip_as::<Model<DropsEmptyObjects>>(&pod).unwrap_err();
    assert_eq!(
        mismatch_path(f.reason),
        "metadata.managedFields[0].fieldsV1[\"f:metadata\"][\"f:generateName\"]"
    );
    let f = roundtrip_as::<Model<StringifiesNumbers>>(&pod).unwrap_err();
    assert_eq!(
        mismatch_path(f.reason),
        "spec.containers[0].livenessProbe.failureThreshold"
    );
}

/// A model that decodes equal JSON into unequal values cannot trust its own output.
#[derive(Debug, Clone)]
struct NeverEqual(Value);

impl PartialEq for NeverEqual {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

impl<'de> Deserialize<'de> for NeverEqual {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(NeverEqual)
    }
}

impl Serialize for NeverEqual {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[test]
fn unstable_models_are_caught() {
    let f = roundtrip_as::<NeverEqual>(&read("secret.json")).unwrap_err();
    assert!(matches!(f.reason, Reason::Unstable(_)), "{f}");
}

/// A server newer than the models sends members they do not know: the real models keep them
/// (they used to drop them, which this check reported at `spec.futureField`).
#[test]
fn unknown_members_survive_the_real_models() {
    let mut pod = value("pod.json");
    pod["spec"]["futureField"] = json!({"enabled": true});
    pod["spec"]["containers"][0]["futureList"] = json!([]);
    let out = roundtrip_body(&pod.to_string()).unwrap();
    assert_eq!(
        out.bodies[0].type_name,
        std::any::type_name::<kuber_models::api::core::v1::Pod>()
    );
}

#[test]
fn decode_errors_name_type_position_and_path() {
    let mut pod = value("pod.json");
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = json!("eighty");
    let text = serde_json::to_string_pretty(&pod).unwrap();
    let f = roundtrip_body(&text).unwrap_err();
    assert_eq!(
        f.type_name,
        Some(std::any::type_name::<kuber_models::api::core::v1::Pod>())
    );
    match &f.reason {
        Reason::Decode {
            message,
            line,
            column,
            path,
        } => {
            let expected_line = text.lines().position(|l| l.contains("\"eighty\"")).unwrap() + 1;
            assert_eq!(*line, expected_line, "{message}");
            assert!(*column > 0);
            assert!(
                message.contains(&format!("line {line} column {column}")),
                "{message}"
            );
            assert_eq!(
                path.as_deref(),
                Some("spec.containers[0].ports[0].containerPort")
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let shown = f.to_string();
    assert!(
        shown.contains("decode error at `spec.containers[0].ports[0].containerPort`"),
        "{shown}"
    );
}

#[test]
fn bad_watch_lines_are_caught_one_by_one() {
    let text = read("pod-watch.jsonl").replacen("\"MODIFIED\"", "\"CHANGED\"", 1);
    let (_, results) = kuber_tests::roundtrip::roundtrip_bodies(&text);
    assert_eq!(results.len(), 5);
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].line, Some(2));
    assert!(
        matches!(failed[0].reason, Reason::Decode { .. }),
        "{}",
        failed[0]
    );
    assert!(failed[0].to_string().contains("CHANGED"), "{}", failed[0]);
}
