//! The CRD-features fixture document (tests/fixtures) generates the types its round-trip fixture
//! needs (`cargo xtask try-gen --crd … --fixture tests/fixtures/gadget.json` builds them).

use std::path::PathBuf;

use codegen::Target;

#[test]
fn crd_features_fixture_generates_every_shape() {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/crd-features.openapi.json");
    let generated =
        codegen::generate(&[spec], Target::Standalone, "src/generated", None, None).unwrap();
    let text: String = generated.output.files["src/generated/test/kuber/example/v1.rs"]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        // Broken lines end in a comma.
        .replace(",>", ">");
    for want in [
        "pubsize:Option<i64>,",
        "pubconfig:Option<::kuber_models::special::RawJson>,",
        "pubextra:Option<Option<::kuber_models::special::RawJson>>,",
        "pubnote:Option<Option<String>>,",
        "pubowner:Option<Option<GadgetSpecOwner>>,",
        "publabels:Option<::std::collections::BTreeMap<String,Option<String>>>,",
        "pubaliases:Option<Vec<Option<String>>>,",
        "pubadditional_properties:::std::collections::BTreeMap<String,i32>,",
        "pubunknown_fields:::kuber_models::UnknownFields,",
    ] {
        assert!(text.contains(want), "missing {want}");
    }
    // ObjectMeta comes from kuber-models, not from the document's stand-in.
    assert!(
        !generated
            .output
            .files
            .keys()
            .any(|f| f.contains("apimachinery"))
    );
}
