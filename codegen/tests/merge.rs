//! Our own document of the metrics groups (`spec/metrics.openapi.json`) merged after an upstream
//! swagger 2.0 spec, as `cargo xtask gen` does: its definitions, paths, kinds and features appear.

use std::path::{Path, PathBuf};

use codegen::Target;

fn metrics_doc() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/metrics.openapi.json")
}

/// A stand-in for the upstream spec: the definitions the metrics document refers to.
fn upstream(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kuber-merge-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("upstream.swagger.json");
    let obj = |props: serde_json::Value| serde_json::json!({"type": "object", "properties": props});
    let doc = serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": {},
        "definitions": {
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": obj(serde_json::json!({"name": {"type": "string"}, "namespace": {"type": "string"}})),
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": obj(serde_json::json!({"resourceVersion": {"type": "string"}})),
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": obj(serde_json::json!({"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}})),
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time": {"type": "string", "format": "date-time"},
            "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
            "io.k8s.api.core.v1.ObjectReference": obj(serde_json::json!({"kind": {"type": "string"}, "name": {"type": "string"}})),
        }
    });
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn the_metrics_document_adds_its_types_operations_kinds_and_features() {
    let generated = codegen::generate(
        &[upstream("adds"), metrics_doc()],
        Target::KuberModels,
        "g",
        Some("a"),
        None,
    )
    .unwrap();
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
    assert_eq!(generated.operations, 10);
    let files = &generated.output.files;
    for (file, ty) in [
        (
            "g/metrics/pkg/apis/metrics/v1beta1.rs",
            "pub struct NodeMetrics ",
        ),
        (
            "g/metrics/pkg/apis/metrics/v1beta1.rs",
            "pub struct PodMetricsList ",
        ),
        (
            "g/metrics/pkg/apis/custom_metrics/v1beta2.rs",
            "pub struct MetricIdentifier ",
        ),
        (
            "g/metrics/pkg/apis/custom_metrics/v1beta1.rs",
            "pub struct MetricValueList ",
        ),
        (
            "g/metrics/pkg/apis/external_metrics/v1beta1.rs",
            "pub struct ExternalMetricValue ",
        ),
    ] {
        let text = files
            .get(file)
            .unwrap_or_else(|| panic!("{file} not generated"));
        assert!(text.contains(ty), "{file} lacks {ty}");
    }
    // One feature per group, gating its module; custom metrics need core's ObjectReference.
    let features = &generated.output.features;
    assert_eq!(features.get("metrics"), Some(&vec![]));
    assert_eq!(features.get("external-metrics"), Some(&vec![]));
    assert_eq!(
        features.get("custom-metrics"),
        Some(&vec!["core".to_owned()])
    );
    let apis = &files["g/metrics/pkg/apis/mod.rs"];
    assert!(
        apis.contains("#[cfg(feature = \"custom-metrics\")]\npub mod custom_metrics;"),
        "{apis}"
    );

    let api = generated.api.as_ref().unwrap();
    let ops = &api.files["a/operations.rs"];
    for id in [
        "listMetricsV1beta1NodeMetrics",
        "readMetricsV1beta1NamespacedPodMetrics",
        "listMetricsV1beta1PodMetricsForAllNamespaces",
        "listCustomMetricsV1beta2NamespacedMetricValue",
        "listCustomMetricsV1beta1MetricValue",
        "listExternalMetricsV1beta1NamespacedExternalMetricValue",
    ] {
        assert!(ops.contains(&format!("id: \"{id}\"")), "{id} missing");
    }
    // Composite-name paths name no resource: their group-version comes from their kind.
    let at = ops
        .find("id: \"listCustomMetricsV1beta2MetricValue\"")
        .unwrap();
    let entry = &ops[at..at + 400];
    assert!(
        entry.contains("group: \"custom.metrics.k8s.io\""),
        "{entry}"
    );
    assert!(entry.contains("version: \"v1beta2\""), "{entry}");
    let registry = &api.files["a/registry.rs"];
    assert!(registry.contains("kind: \"NodeMetrics\""), "{registry}");
    assert!(registry.contains("kind: \"PodMetrics\""), "{registry}");
    assert_eq!(generated.kinds, 2);
    assert_eq!(
        api.features.get("custom-metrics").map(Vec::as_slice),
        Some(&["kuber-models/custom-metrics".to_owned()][..])
    );
}

#[test]
fn the_metrics_document_alone_names_what_it_lacks() {
    let err = codegen::generate(&[metrics_doc()], Target::KuberModels, "g", None, None)
        .err()
        .expect("unresolved references");
    let text = err.to_string();
    assert!(
        text.contains("metrics.openapi.json") && text.contains("points to nothing"),
        "{text}"
    );
}

#[test]
fn a_definition_or_path_both_documents_define_differently_is_reported() {
    let dir = std::env::temp_dir().join(format!("kuber-merge-{}-clash", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(metrics_doc()).unwrap()).unwrap();
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    let node = "io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics";
    schemas[node]["properties"]["extra"] = serde_json::json!({"type": "string"});
    let paths = doc["paths"].as_object_mut().unwrap();
    paths.retain(|p, _| p == "/apis/metrics.k8s.io/v1beta1/nodes");
    let other = dir.join("other.openapi.json");
    std::fs::write(&other, doc.to_string()).unwrap();

    // The definition: a warning naming both files, the first kept.
    let mut no_paths = doc.clone();
    no_paths["paths"] = serde_json::json!({});
    let other_defs = dir.join("other-defs.openapi.json");
    std::fs::write(&other_defs, no_paths.to_string()).unwrap();
    let generated = codegen::generate(
        &[upstream("clash"), metrics_doc(), other_defs.clone()],
        Target::KuberModels,
        "g",
        None,
        None,
    )
    .unwrap();
    let line = generated
        .warnings
        .iter()
        .find(|w| w.contains(node))
        .expect("a warning about NodeMetrics");
    assert!(
        line.contains("spec/metrics.openapi.json") && line.contains("other-defs.openapi.json"),
        "{line}"
    );
    let file = &generated.output.files["g/metrics/pkg/apis/metrics/v1beta1.rs"];
    assert!(!file.contains("pub extra:"), "the first definition is kept");

    // A path whose operation differs: an error naming it and both files.
    let mut changed = doc;
    changed["paths"]["/apis/metrics.k8s.io/v1beta1/nodes"]["get"]["operationId"] =
        "listNodeMetricsElsewhere".into();
    std::fs::write(&other, changed.to_string()).unwrap();
    let err = codegen::generate(
        &[upstream("clash"), metrics_doc(), other.clone()],
        Target::KuberModels,
        "g",
        None,
        None,
    )
    .err()
    .expect("a path conflict");
    let text = err.to_string();
    assert!(
        text.contains("/apis/metrics.k8s.io/v1beta1/nodes") && text.contains("other.openapi.json"),
        "{text}"
    );
}
