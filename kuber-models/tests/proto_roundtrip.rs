//! Protobuf round-trips of the generated models and hostile bodies: a decoded value encodes to
//! the bytes it came from, and a broken body is an error naming the field, never a panic.
#![cfg(all(feature = "protobuf", feature = "core", feature = "apps"))]

use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::core::v1::{ConfigMap, Pod, Secret};
use kuber_models::proto::{self, Message};

fn pod() -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"b": "2", "a": "1"},
                     "creationTimestamp": "2024-05-01T10:00:00Z", "generation": 3,
                     "managedFields": [{"manager": "m", "operation": "Update",
                                        "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}},
                                        "time": "2024-05-01T10:00:00Z"}]},
        "spec": {"containers": [
                     {"name": "a", "image": "busybox", "command": ["sh", "-c", "sleep 1"]},
                     {"name": "c", "image": "nginx",
                      "ports": [{"containerPort": 80, "protocol": "TCP"}],
                      "readinessProbe": {"httpGet": {"port": "http", "path": "/"}},
                      "resources": {"limits": {"cpu": "100m", "memory": "1Gi"}}}],
                 "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}],
                 "priority": -5},
        "status": {"phase": "Running"}
    }))
    .unwrap()
}

/// Decoding `body` and encoding the value again gives `body`.
fn stable<T: Message + PartialEq + std::fmt::Debug>(body: &[u8]) -> T {
    let value = T::decode(body).unwrap();
    let mut again = Vec::new();
    value.encode(&mut again);
    assert_eq!(again, body, "re-encoding changed the bytes");
    assert_eq!(T::decode(&again).unwrap(), value);
    value
}

#[test]
fn models_round_trip_through_their_bytes() {
    let pod = pod();
    let body = proto::encode_object(&pod);
    assert_eq!(&body[..4], b"k8s\0");
    let env = proto::decode_envelope(&body).unwrap();
    assert_eq!((env.api_version, env.kind), ("v1", "Pod"));
    let read: Pod = stable(env.raw);
    // What JSON has, protobuf has; Go value fields JSON writes always become set.
    assert_eq!(read.metadata, pod.metadata);
    let (spec, read_spec) = (pod.spec.as_ref().unwrap(), read.spec.as_ref().unwrap());
    assert_eq!(read_spec.containers[0].command, spec.containers[0].command);
    assert_eq!(read_spec.containers[1].ports, spec.containers[1].ports);
    assert_eq!(read_spec.priority, Some(-5));
    let back: Pod = proto::decode_object(&body).unwrap();
    assert_eq!(back.api_version.as_deref(), Some("v1"));
    assert_eq!(back.kind.as_deref(), Some("Pod"));
    assert_eq!(proto::encode_object(&back), body);

    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "cm"}, "data": {"k": "v", "a": ""}, "binaryData": {"b": "AAE="}
    }))
    .unwrap();
    let mut raw = Vec::new();
    cm.encode(&mut raw);
    let read: ConfigMap = stable(&raw);
    assert_eq!(read, cm);
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "d"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}},
                 "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"app": "x"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap();
    let mut raw = Vec::new();
    d.encode(&mut raw);
    let read: Deployment = stable(&raw);
    assert_eq!(
        read.spec.unwrap().replicas,
        Some(0),
        "a pointer keeps its zero"
    );
}

#[test]
fn unknown_fields_are_kept_and_written_back() {
    let mut raw = Vec::new();
    pod().encode(&mut raw);
    // Field 99 (varint 7) and field 100 (len "xy"), as a newer server might send.
    let extra = [0x98, 0x06, 0x07, 0xa2, 0x06, 0x02, b'x', b'y'];
    raw.extend_from_slice(&extra);
    let read = Pod::decode(&raw).unwrap();
    assert_eq!(read.unknown_fields.protobuf(), extra);
    let mut again = Vec::new();
    read.encode(&mut again);
    assert_eq!(again, raw);
}

#[test]
fn errors_name_the_field_path() {
    // spec (2) { containers (2) [a, {ports (6) [{containerPort (3) as len}]}] }
    let port = [0x1a, 0x01, b'x'];
    let mut second = vec![0x0a, 0x01, b'c', 0x32, port.len() as u8];
    second.extend_from_slice(&port);
    let mut spec = vec![0x12, 0x03, 0x0a, 0x01, b'a', 0x12, second.len() as u8];
    spec.extend_from_slice(&second);
    let mut body = vec![0x12, spec.len() as u8];
    body.extend_from_slice(&spec);
    let err = Pod::decode(&body).unwrap_err();
    assert_eq!(
        err.to_string(),
        "io.k8s.api.core.v1.Pod.spec.containers[1].ports[0].containerPort: wire type len, expected varint"
    );
    assert_eq!(
        err.path(),
        "io.k8s.api.core.v1.Pod.spec.containers[1].ports[0].containerPort"
    );
    let mut secret = vec![0x12, 0x06, 0x0a, 0x01, b'k', 0x12, 0x09, 0x00];
    secret.truncate(8);
    let err = Secret::decode(&secret).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("io.k8s.api.core.v1.Secret.data[\"k\"]: length 9 runs past the end"),
        "{err}"
    );
}

#[test]
fn truncated_bodies_never_panic() {
    let body = proto::encode_object(&pod());
    for n in 0..body.len() {
        // Either an error, or (cut between fields) a shorter object.
        let _ = proto::decode_object::<Pod>(&body[..n]);
    }
    let mut raw = Vec::new();
    pod().encode(&mut raw);
    let mut errors = 0;
    for n in 0..raw.len() {
        if let Err(e) = Pod::decode(&raw[..n]) {
            assert!(e.path().starts_with("io.k8s.api.core.v1.Pod"), "{e}");
            errors += 1;
        }
    }
    assert!(errors > raw.len() / 2, "{errors} of {}", raw.len());
}

#[test]
fn wrong_wire_types_and_huge_lengths_are_errors() {
    let mut raw = Vec::new();
    pod().encode(&mut raw);
    // Every key byte's wire type changed, one at a time: an error or a value, never a panic.
    for i in 0..raw.len() {
        for wire in [0u8, 1, 2, 3, 5, 7] {
            let mut m = raw.clone();
            m[i] = (m[i] & !7) | wire;
            let _ = Pod::decode(&m);
        }
    }
    // A length of 2^62 for metadata: refused before anything is allocated.
    let huge = [0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
    let err = Pod::decode(&huge).unwrap_err();
    assert!(err.to_string().contains("runs past the end"), "{err}");
    assert_eq!(err.path(), "io.k8s.api.core.v1.Pod.metadata");
    let err = Pod::decode(&[0x0a]).unwrap_err();
    assert_eq!(err.path(), "io.k8s.api.core.v1.Pod.metadata");
    assert!(proto::next_frame(&[0x7f, 0xff, 0xff, 0xff, 0]).is_err());
}

#[cfg(feature = "apiextensions")]
#[test]
fn deep_nesting_is_refused() {
    use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    // not (28) → not → … 200 levels: each a JSONSchemaProps.
    let mut body: Vec<u8> = Vec::new();
    for _ in 0..200 {
        let mut outer = vec![0xe2, 0x01];
        let mut len = Vec::new();
        prost_len(body.len(), &mut len);
        outer.extend_from_slice(&len);
        outer.extend_from_slice(&body);
        body = outer;
    }
    let err = JSONSchemaProps::decode(&body).unwrap_err();
    assert!(err.problem().contains("nested deeper"), "{err}");
}

#[cfg(feature = "apiextensions")]
fn prost_len(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[test]
fn watch_frames_and_envelopes() {
    let body = proto::encode_object(&pod());
    let mut stream = Vec::new();
    proto::encode_watch_frame("ADDED", &body, &mut stream);
    proto::encode_watch_frame("BOOKMARK", &body, &mut stream);
    let mut at = 0;
    let mut seen = Vec::new();
    while let Some((frame, used)) = proto::next_frame(&stream[at..]).unwrap() {
        let event = proto::decode_watch_frame(frame).unwrap();
        assert_eq!(event.object, &body[..]);
        seen.push(event.event_type.to_owned());
        at += used;
    }
    assert_eq!(seen, ["ADDED", "BOOKMARK"]);
    assert_eq!(proto::next_frame(&stream[..3]).unwrap(), None);
    assert_eq!(proto::next_frame(&stream[..10]).unwrap(), None);
    assert!(proto::decode_envelope(b"{\"kind\":1}").is_err());
    let env = proto::encode_envelope("v1", "Status", b"\x12\x07Failure");
    assert_eq!(
        env,
        b"k8s\0\x0a\x0c\x0a\x02v1\x12\x06Status\x12\x09\x12\x07Failure\x1a\x00\x22\x00"
    );
}

#[test]
fn the_dispatch_finds_message_types() {
    struct Name;
    impl proto::MessageVisitor for Name {
        type Output = &'static str;
        fn visit<T>(self) -> &'static str
        where
            T: Message
                + serde_core::Serialize
                + serde_core::de::DeserializeOwned
                + Clone
                + std::fmt::Debug
                + PartialEq
                + 'static,
        {
            std::any::type_name::<T>()
        }
    }
    assert!(
        proto::with_message_type("v1", "Pod", Name)
            .unwrap()
            .ends_with("::Pod")
    );
    assert!(
        proto::with_message_type("v1", "Status", Name)
            .unwrap()
            .ends_with("::Status")
    );
    assert!(
        proto::with_message_type("apps/v1", "DeploymentList", Name)
            .unwrap()
            .ends_with("::DeploymentList")
    );
    assert_eq!(
        proto::with_message_type("example.com/v1", "Gadget", Name),
        None
    );
}

#[test]
fn json_members_unknown_to_the_models_refuse_protobuf() {
    // A plain object and one whose protobuf-only unknowns came from a protobuf read both encode.
    let plain = pod();
    assert_eq!(
        proto::encode_object_lossless(&plain),
        Some(proto::encode_object(&plain))
    );
    let mut raw = Vec::new();
    plain.encode(&mut raw);
    raw.extend_from_slice(&[0x98, 0x06, 0x07]);
    let from_protobuf = Pod::decode(&raw).unwrap();
    assert_eq!(proto::encode_lossless(&from_protobuf), Some(raw));

    // A JSON member the models do not know, at the top and deep inside: protobuf would drop it.
    let top: Pod =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "a"}, "newField": 1}))
            .unwrap();
    assert!(proto::encode_lossless(&top).is_none());
    assert!(proto::encode_object_lossless(&top).is_none());
    let deep: Deployment = serde_json::from_value(serde_json::json!({
        "spec": {"template": {"spec": {"containers": [{"name": "c", "futureKnob": {"x": 1}}]}}}
    }))
    .unwrap();
    assert!(proto::encode_object_lossless(&deep).is_none());
    // The flag is per encode: the next lossless value encodes again.
    assert!(proto::encode_object_lossless(&plain).is_some());
}
