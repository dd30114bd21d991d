//! The generated operation table against the spec it comes from: every operationId with its
//! method and path, nothing missing, nothing invented. Needs ../shared (CI has it); without it
//! only the checks that need no spec run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kuber_api::{KINDS, OPERATIONS, registry};

fn spec() -> Option<serde_json::Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spec/v2/kubernetes-1.36.swagger.json");
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[test]
fn operations_match_the_spec() {
    let Some(spec) = spec() else {
        eprintln!("../shared not found: the comparison with the spec is skipped");
        return;
    };
    let mut expected = BTreeSet::new();
    // Our own documents of the groups the upstream spec lacks (spec/*.openapi.json) are merged.
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/metrics.openapi.json");
    let own: serde_json::Value =
        serde_json::from_slice(&std::fs::read(own).expect("spec/metrics.openapi.json")).unwrap();
    let paths = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .chain(own["paths"].as_object().expect("own paths"));
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            let id = op["operationId"].as_str().expect("operationId").to_owned();
            expected.insert((id, method.to_uppercase(), path.clone()));
        }
    }
    let actual: BTreeSet<(String, String, String)> = OPERATIONS
        .iter()
        .map(|o| (o.id.to_owned(), o.method.to_owned(), o.path.to_owned()))
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let invented: Vec<_> = actual.difference(&expected).collect();
    assert!(missing.is_empty(), "missing from OPERATIONS: {missing:?}");
    assert!(invented.is_empty(), "not in the spec: {invented:?}");
    assert_eq!(OPERATIONS.len(), 1123 + 10);
}

#[test]
fn operation_ids_are_unique() {
    let ids: BTreeSet<&str> = OPERATIONS.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), OPERATIONS.len());
}

#[test]
fn registry_finds_kinds_with_and_without_api_version() {
    let pod = registry::find("Pod", None).expect("Pod");
    assert_eq!(
        (pod.api_version, pod.plural, pod.namespaced, pod.list_kind),
        ("v1", "pods", true, "PodList")
    );
    assert!(pod.subresource("status").is_some() && pod.subresource("log").is_some());
    let list = pod.operation("list", "", true).expect("list pods");
    assert_eq!(list.id, "listCoreV1NamespacedPod");
    let all = pod
        .operation("list", "", false)
        .expect("list pods everywhere");
    assert_eq!(all.id, "listCoreV1PodForAllNamespaces");
    assert_eq!(
        pod.operation("get", "log", true).map(|o| o.id),
        Ok("readCoreV1NamespacedPodLog")
    );

    let deploy = registry::find("deployments", None).expect("by plural");
    assert_eq!((deploy.api_version, deploy.kind), ("apps/v1", "Deployment"));
    let node = registry::find("Node", Some("v1")).expect("Node");
    assert!(!node.namespaced);
    assert!(registry::find("Deployment", Some("apps/v1beta1")).is_none());
    // Served by core and by events.k8s.io: the core group wins without an apiVersion.
    assert_eq!(
        registry::find("Event", None).map(|k| k.api_version),
        Some("v1")
    );
    assert_eq!(
        registry::find("Event", Some("events.k8s.io/v1")).map(|k| k.group),
        Some("events.k8s.io")
    );
    // Several versions: the most stable wins.
    assert_eq!(
        registry::find("HorizontalPodAutoscaler", None).map(|k| k.version),
        Some("v2")
    );
}

#[test]
fn every_kind_is_reachable_by_its_operations() {
    for k in KINDS.iter() {
        assert!(!k.operations.is_empty(), "{} has no operations", k.kind);
        for op in k.operations() {
            assert_eq!(
                (op.group, op.version, op.plural),
                (k.group, k.version, k.plural),
                "{}",
                op.id
            );
        }
    }
}
