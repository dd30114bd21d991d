//! Hand-made bodies shaped like real server responses (no cluster and no ../shared needed): each
//! must decode as the type its apiVersion/kind names and re-encode exactly.

use std::any::type_name;

use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::coordination::v1::Lease;
use kuber_models::api::core::v1::{Event, Pod, PodList, Secret};
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kuber_models::apimachinery::pkg::apis::meta::v1::{APIGroupList, Status};
use kuber_models::special::{IntOrString, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool};
use kuber_models::{DynamicObject, WatchEvent};
use kuber_tests::fixtures_dir;
use kuber_tests::roundtrip::{Shape, roundtrip_body};

fn read(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Round-trips a fixture and checks the types it was decoded as (a wrong dispatch to
/// `DynamicObject` would pass the comparison trivially).
fn assert_roundtrips(name: &str, shape: Shape, types: &[&str]) {
    let outcome = roundtrip_body(&read(name)).unwrap_or_else(|f| panic!("{name}: {f}"));
    assert_eq!(outcome.shape, shape, "{name}");
    let got: Vec<&str> = outcome.bodies.iter().map(|b| b.type_name).collect();
    assert_eq!(got, types, "{name}");
}

#[test]
fn pod_with_managed_fields_quantities_and_empty_dir() {
    assert_roundtrips("pod.json", Shape::Object, &[type_name::<Pod>()]);
    let pod: Pod = serde_json::from_str(&read("pod.json")).unwrap();
    let spec = pod.spec.unwrap();
    let volumes = spec.volumes.unwrap();
    assert_eq!(
        volumes[0].empty_dir,
        Some(Default::default()),
        "emptyDir: {{}} is kept"
    );
    let container = &spec.containers[0];
    let limits = container
        .resources
        .as_ref()
        .unwrap()
        .limits
        .as_ref()
        .unwrap();
    assert!(limits["cpu"].is_number());
    assert_eq!(limits["cpu"].as_str(), "2");
    assert!(!limits["memory"].is_number());
    let probe = container.liveness_probe.as_ref().unwrap();
    assert_eq!(
        probe.http_get.as_ref().unwrap().port,
        IntOrString::String("http".into())
    );
}

#[test]
fn secret_with_base64_data() {
    assert_roundtrips("secret.json", Shape::Object, &[type_name::<Secret>()]);
    let secret: Secret = serde_json::from_str(&read("secret.json")).unwrap();
    let data = secret.data.unwrap();
    assert_eq!(data["username"].as_ref(), b"shop");
    assert_eq!(data["cert"].as_ref(), [0, 1, 2, 253, 254, 255]);
    assert!(data["empty"].as_ref().is_empty());
}

#[test]
fn pod_list_whose_items_lack_api_version_and_kind() {
    assert_roundtrips("pod-list.json", Shape::Object, &[type_name::<PodList>()]);
    let list: PodList = serde_json::from_str(&read("pod-list.json")).unwrap();
    assert_eq!(list.items.len(), 2);
}

#[test]
fn watch_stream_with_bookmark_and_error() {
    let event = type_name::<WatchEvent<Pod>>();
    let error = type_name::<WatchEvent<Status>>();
    assert_roundtrips(
        "pod-watch.jsonl",
        Shape::Watch,
        &[event, event, event, event, error],
    );
    let text = read("pod-watch.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    match serde_json::from_str::<WatchEvent<Pod>>(lines[2]).unwrap() {
        WatchEvent::Bookmark(pod) => {
            let annotations = pod.metadata.unwrap().annotations.unwrap();
            assert_eq!(annotations["k8s.io/initial-events-end"], "true");
        }
        other => panic!("expected a bookmark, got {other:?}"),
    }
    match serde_json::from_str::<WatchEvent<Pod>>(lines[4]).unwrap() {
        WatchEvent::Error(status) => assert_eq!(status.code, Some(410)),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn api_group_list_whose_groups_lack_api_version_and_kind() {
    assert_roundtrips(
        "api-group-list.json",
        Shape::Object,
        &[type_name::<APIGroupList>()],
    );
}

#[test]
fn crd_with_schema_unions() {
    assert_roundtrips(
        "crd.json",
        Shape::Object,
        &[type_name::<CustomResourceDefinition>()],
    );
    let crd: CustomResourceDefinition = serde_json::from_str(&read("crd.json")).unwrap();
    let schema = crd.spec.versions[0]
        .schema
        .clone()
        .unwrap()
        .open_apiv3_schema
        .unwrap();
    let spec = &schema.properties.unwrap()["spec"];
    assert_eq!(
        spec.additional_properties,
        Some(JSONSchemaPropsOrBool::Bool(false))
    );
    let props = spec.properties.as_ref().unwrap();
    assert_eq!(
        props["extra"].additional_properties,
        Some(JSONSchemaPropsOrBool::Bool(true))
    );
    assert!(matches!(
        props["labels"].additional_properties,
        Some(JSONSchemaPropsOrBool::Schema(_))
    ));
    assert!(matches!(
        props["tags"].items,
        Some(JSONSchemaPropsOrArray::Schema(_))
    ));
    assert_eq!(props["size"].x_kubernetes_int_or_string, Some(true));
}

#[test]
fn custom_resources_are_dynamic() {
    let dynamic = type_name::<DynamicObject>();
    assert_roundtrips("widget.json", Shape::Object, &[dynamic]);
    let widget: DynamicObject = serde_json::from_str(&read("widget.json")).unwrap();
    assert_eq!(widget.kind.as_deref(), Some("Widget"));
    assert_eq!(widget.metadata.unwrap().name.as_deref(), Some("w1"));
}

/// A list of custom resources has `ListMeta` (`continue`, `remainingItemCount`), not
/// `ObjectMeta`, as metadata: the replays carry such a `FooBarList`.
#[test]
fn custom_resource_list_is_dynamic() {
    assert_roundtrips(
        "widget-list.json",
        Shape::Object,
        &[type_name::<kuber_models::DynamicList>()],
    );
}

#[test]
fn more_kinds() {
    assert_roundtrips(
        "deployment.json",
        Shape::Object,
        &[type_name::<Deployment>()],
    );
    assert_roundtrips("lease.json", Shape::Object, &[type_name::<Lease>()]);
    assert_roundtrips("event.json", Shape::Object, &[type_name::<Event>()]);
    assert_roundtrips("status-422.json", Shape::Object, &[type_name::<Status>()]);
}
