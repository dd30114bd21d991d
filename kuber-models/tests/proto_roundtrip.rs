//! Protobuf round-trips of the generated models: a value encodes, decodes to itself, and its
//! second encoding is its first.
#![cfg(all(feature = "protobuf", feature = "core", feature = "apps"))]

use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::core::v1::{ConfigMap, Pod};
use kuber_models::proto::{self, Message};

fn pod() -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"b": "2", "a": "1"},
                     "creationTimestamp": "2024-05-01T10:00:00Z", "generation": 3},
        "spec": {"containers": [{"name": "c", "image": "nginx",
                                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                 "resources": {"limits": {"cpu": "100m", "memory": "1Gi"}}}],
                 "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}]},
        "status": {"phase": "Running"}
    }))
    .unwrap()
}

#[test]
fn a_pod_round_trips() {
    let pod = pod();
    let body = proto::encode_object(&pod);
    assert_eq!(&body[..4], b"k8s\0");
    let back: Pod = proto::decode_object(&body).unwrap();
    assert_eq!(back, pod);
    assert_eq!(proto::encode_object(&back), body);
}

#[test]
fn other_kinds_round_trip() {
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm"}, "data": {"k": "v"}
    }))
    .unwrap();
    let back: ConfigMap = proto::decode_object(&proto::encode_object(&cm)).unwrap();
    assert_eq!(back, cm);
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
                 "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"app": "x"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap();
    let mut raw = Vec::new();
    d.encode(&mut raw);
    let mut back = Deployment::decode(&raw).unwrap();
    assert_eq!(back.api_version, None, "no TypeMeta without the envelope");
    back.api_version = d.api_version.clone();
    back.kind = d.kind.clone();
    assert_eq!(back, d);
}
