//! `codegen::generate` end to end: what it reports besides the code.

use std::path::{Path, PathBuf};

use codegen::Target;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

/// A release spec with one definition, in its own folder, named as the release files are.
fn release_spec(release: &str, required: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kuber-codegen-{}-{release}-{}",
        std::process::id(),
        required.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("kubernetes-{release}.swagger.json"));
    let doc = serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": {},
        "definitions": {"io.k8s.api.networking.v1.NetworkPolicySpec": {
            "type": "object",
            "required": required,
            "properties": {"podSelector": {"type": "string"}, "policyTypes": {"type": "string"}}
        }}
    });
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn a_later_differing_definition_is_a_warning_naming_both_files() {
    let first = fixture("mini.swagger.json");
    let later = fixture("components-only.json");
    let generated = codegen::generate(
        &[first.clone(), later.clone()],
        Target::KuberModels,
        "g",
        None,
        None,
    )
    .unwrap();
    let line = generated
        .warnings
        .iter()
        .find(|w| w.contains("`io.example.meta.v1.ObjectMeta`"))
        .expect("a warning about ObjectMeta");
    assert!(
        line.contains(&first.display().to_string()) && line.contains(&later.display().to_string()),
        "{line}"
    );
    // The same definition twice, identical: nothing to say.
    let generated = codegen::generate(
        &[later.clone(), later],
        Target::KuberModels,
        "g",
        None,
        None,
    )
    .unwrap();
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
}

#[test]
fn fixups_finding_nothing_to_change_are_refused_unless_declared() {
    // 1.33 declares podSelector required: the fixup corrects it.
    let spec = release_spec("1.33", &["podSelector"]);
    let generated = codegen::generate(&[spec], Target::KuberModels, "g", None, None).unwrap();
    assert_eq!(generated.release.as_deref(), Some("1.33"));
    let changed = |name: &str| generated.fixups.iter().find(|(f, _)| *f == name).unwrap().1;
    assert_eq!(changed("network-policy-pod-selector-optional"), 1);
    // A 1.33 spec without the defect: the fixup declared 1.33, so changing nothing is an error.
    let spec = release_spec("1.33", &[]);
    let err = codegen::generate(
        std::slice::from_ref(&spec),
        Target::KuberModels,
        "g",
        None,
        None,
    )
    .err()
    .expect("an unused fixup");
    let text = err.to_string();
    assert!(
        text.contains("network-policy-pod-selector-optional") && text.contains("1.33"),
        "{text}"
    );
    // Another release, where the fixup does not claim to apply: fine.
    assert!(
        codegen::generate(
            std::slice::from_ref(&spec),
            Target::KuberModels,
            "g",
            None,
            Some("1.36")
        )
        .is_ok()
    );
}
