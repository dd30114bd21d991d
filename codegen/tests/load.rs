//! Tests of the spec loader on small hand-made documents, and (when `../shared` is present) on
//! the real Kubernetes documents.

use std::path::{Path, PathBuf};

use codegen::load::{
    Duplicate, LoadError, SpecFormat, count_operations, load_document, load_specs,
};
use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind,
    StatusCode, StringFormat, Type, VariantOrUnknownOrEmpty,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(rel);
    path.exists().then_some(path)
}

fn load_fixture(name: &str) -> (OpenAPI, SpecFormat) {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap();
    load_document(&path, &bytes).unwrap()
}

fn load_str(name: &str, text: &str) -> Result<(OpenAPI, SpecFormat), LoadError> {
    load_document(Path::new(name), text.as_bytes())
}

fn op<'a>(doc: &'a OpenAPI, path: &str, method: &str) -> &'a Operation {
    let item = doc
        .paths
        .paths
        .get(path)
        .and_then(ReferenceOr::as_item)
        .expect(path);
    item.iter()
        .find(|(m, _)| *m == method)
        .map(|(_, op)| op)
        .expect(method)
}

fn schema<'a>(doc: &'a OpenAPI, name: &str) -> &'a Schema {
    let schemas = &doc.components.as_ref().unwrap().schemas;
    schemas
        .get(name)
        .and_then(ReferenceOr::as_item)
        .expect(name)
}

fn reference<T>(r: &ReferenceOr<T>) -> &str {
    match r {
        ReferenceOr::Reference { reference } => reference,
        ReferenceOr::Item(_) => panic!("expected a $ref"),
    }
}

fn properties(s: &Schema) -> &indexmap::IndexMap<String, ReferenceOr<Box<Schema>>> {
    match &s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => &o.properties,
        other => panic!("not an object: {other:?}"),
    }
}

fn inline_param<'a>(op: &'a Operation, name: &str) -> &'a Parameter {
    op.parameters
        .iter()
        .filter_map(ReferenceOr::as_item)
        .find(|p| p.parameter_data_ref().name == name)
        .expect(name)
}

fn param_schema(p: &Parameter) -> &Schema {
    match &p.parameter_data_ref().format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) => s,
        other => panic!("no inline schema: {other:?}"),
    }
}

fn media_types<T>(content: &indexmap::IndexMap<String, T>) -> Vec<&str> {
    content.keys().map(String::as_str).collect()
}

const WIDGETS: &str = "/apis/example.io/v1/namespaces/{namespace}/widgets";
const WIDGET: &str = "/apis/example.io/v1/namespaces/{namespace}/widgets/{name}";

#[test]
fn swagger_document_becomes_openapi_3() {
    let (doc, format) = load_fixture("mini.swagger.json");
    assert_eq!(format, SpecFormat::SwaggerV2);
    assert_eq!(doc.openapi, "3.0.0");
    assert_eq!(
        (doc.info.title.as_str(), doc.info.version.as_str()),
        ("Mini", "v0.1")
    );
    assert_eq!(
        doc.extensions.get("x-fixture"),
        Some(&serde_json::json!("mini"))
    );
    assert_eq!(count_operations(&doc), 9);
    let components = doc.components.as_ref().unwrap();
    assert_eq!(components.schemas.len(), 12);
    // Body parameters have no OpenAPI 3 parameter form: they are inlined as request bodies.
    let params: Vec<&str> = components.parameters.keys().map(String::as_str).collect();
    assert_eq!(params, ["namespace-n1", "pretty-p1"]);
    assert!(components.security_schemes.contains_key("BearerToken"));
    assert!(doc.security.as_ref().is_some_and(|s| s.len() == 1));
}

#[test]
fn refs_are_rewritten_and_extensions_kept() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let widget = schema(&doc, "io.example.v1.Widget");
    let gvk = widget
        .schema_data
        .extensions
        .get("x-kubernetes-group-version-kind")
        .unwrap();
    assert_eq!(gvk[0]["kind"], "Widget");
    let props = properties(widget);
    // Document order, not alphabetical.
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(names, ["kind", "apiVersion", "metadata", "spec"]);
    assert_eq!(
        reference(&props["metadata"]),
        "#/components/schemas/io.example.meta.v1.ObjectMeta"
    );
    // A `$ref` with an extension next to it keeps the extension through a one-element allOf.
    let ReferenceOr::Item(spec) = &props["spec"] else {
        panic!("spec should be inline")
    };
    assert_eq!(
        spec.schema_data
            .extensions
            .get("x-kubernetes-patch-strategy"),
        Some(&serde_json::json!("retainKeys"))
    );
    let SchemaKind::AllOf { all_of } = &spec.schema_kind else {
        panic!("{spec:?}")
    };
    assert_eq!(
        reference(&all_of[0]),
        "#/components/schemas/io.example.v1.WidgetSpec"
    );

    let spec = properties(schema(&doc, "io.example.v1.WidgetSpec"));
    let ReferenceOr::Item(parts) = &spec["parts"] else {
        panic!()
    };
    assert_eq!(
        parts.schema_data.extensions.get("x-kubernetes-list-type"),
        Some(&serde_json::json!("atomic"))
    );
    let SchemaKind::Type(Type::Array(parts)) = &parts.schema_kind else {
        panic!()
    };
    assert_eq!(
        reference(parts.items.as_ref().unwrap()),
        "#/components/schemas/io.example.v1.Part"
    );

    let path_params = &doc.paths.paths[WIDGETS].as_item().unwrap().parameters;
    let refs: Vec<&str> = path_params.iter().map(reference).collect();
    assert_eq!(
        refs,
        [
            "#/components/parameters/namespace-n1",
            "#/components/parameters/pretty-p1"
        ]
    );

    let list = op(&doc, WIDGETS, "get");
    assert_eq!(
        list.extensions.get("x-kubernetes-action"),
        Some(&serde_json::json!("list"))
    );
    assert_eq!(
        list.extensions["x-kubernetes-group-version-kind"]["kind"],
        "Widget"
    );
    assert_eq!(
        list.operation_id.as_deref(),
        Some("listExampleV1NamespacedWidget")
    );
    assert_eq!(list.tags, ["example_v1"]);
}

#[test]
fn kubernetes_schema_quirks_load() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let int_or_string = schema(&doc, "io.example.util.IntOrString");
    let SchemaKind::Type(Type::String(s)) = &int_or_string.schema_kind else {
        panic!()
    };
    assert_eq!(
        s.format,
        VariantOrUnknownOrEmpty::Unknown("int-or-string".into())
    );
    // Only a description: any JSON.
    assert!(matches!(
        schema(&doc, "io.example.Opaque").schema_kind,
        SchemaKind::Any(_)
    ));
    // `type: object` and nothing else.
    let SchemaKind::Type(Type::Object(patch)) =
        &schema(&doc, "io.example.meta.v1.Patch").schema_kind
    else {
        panic!()
    };
    assert!(patch.properties.is_empty() && patch.additional_properties.is_none());
    let spec = properties(schema(&doc, "io.example.v1.WidgetSpec"));
    let ReferenceOr::Item(data) = &spec["data"] else {
        panic!()
    };
    let SchemaKind::Type(Type::String(data)) = &data.schema_kind else {
        panic!()
    };
    assert_eq!(
        data.format,
        VariantOrUnknownOrEmpty::Item(StringFormat::Byte)
    );
}

#[test]
fn body_parameters_become_request_bodies() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let create = op(&doc, WIDGETS, "post");
    let ReferenceOr::Item(body) = create.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert!(body.required);
    assert_eq!(media_types(&body.content), ["*/*"]);
    assert_eq!(
        reference(body.content["*/*"].schema.as_ref().unwrap()),
        "#/components/schemas/io.example.v1.Widget"
    );
    // Only the non-body parameter is left.
    assert_eq!(create.parameters.len(), 1);
    let dry_run = inline_param(create, "dryRun");
    assert!(matches!(dry_run, Parameter::Query { .. }));

    // A global body parameter, referenced: inlined with the operation's media types.
    let patch = op(&doc, WIDGET, "patch");
    let ReferenceOr::Item(body) = patch.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert!(body.required);
    assert_eq!(
        media_types(&body.content),
        [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json"
        ]
    );
    assert_eq!(
        reference(
            body.content["application/merge-patch+json"]
                .schema
                .as_ref()
                .unwrap()
        ),
        "#/components/schemas/io.example.meta.v1.Patch"
    );

    let delete = op(&doc, WIDGET, "delete");
    let ReferenceOr::Item(body) = delete.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert!(!body.required);
    assert!(delete.parameters.is_empty());

    // No `consumes` on the operation: the document's.
    let replace = op(&doc, WIDGET, "put");
    let ReferenceOr::Item(body) = replace.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(
        media_types(&body.content),
        ["application/json", "application/yaml"]
    );

    // No body at all.
    assert!(op(&doc, WIDGET, "get").request_body.is_none());
}

#[test]
fn form_data_becomes_a_form_request_body() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let upload = op(&doc, "/apis/example.io/v1/upload", "post");
    assert!(upload.parameters.is_empty());
    let ReferenceOr::Item(body) = upload.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(media_types(&body.content), ["multipart/form-data"]);
    let ReferenceOr::Item(form) = body.content["multipart/form-data"].schema.as_ref().unwrap()
    else {
        panic!()
    };
    let SchemaKind::Type(Type::Object(form)) = &form.schema_kind else {
        panic!()
    };
    assert_eq!(form.required, ["file"]);
    let ReferenceOr::Item(file) = &form.properties["file"] else {
        panic!()
    };
    let SchemaKind::Type(Type::String(file)) = &file.schema_kind else {
        panic!()
    };
    assert_eq!(
        file.format,
        VariantOrUnknownOrEmpty::Item(StringFormat::Binary)
    );
}

#[test]
fn simple_parameters_get_schemas() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let list = op(&doc, WIDGETS, "get");
    let limit = param_schema(inline_param(list, "limit"));
    // `uniqueItems` on a scalar would turn it into an untyped schema; it is dropped there.
    assert!(matches!(
        limit.schema_kind,
        SchemaKind::Type(Type::Integer(_))
    ));
    let watch = param_schema(inline_param(list, "watch"));
    assert!(matches!(
        watch.schema_kind,
        SchemaKind::Type(Type::Boolean(_))
    ));
    assert_eq!(watch.schema_data.default, Some(serde_json::json!(false)));
    let fields = inline_param(list, "fields");
    assert_eq!(fields.parameter_data_ref().explode, Some(true));
    let SchemaKind::Type(Type::Array(a)) = &param_schema(fields).schema_kind else {
        panic!()
    };
    assert!(a.unique_items);

    let components = doc.components.as_ref().unwrap();
    let ReferenceOr::Item(namespace) = &components.parameters["namespace-n1"] else {
        panic!()
    };
    assert!(matches!(namespace, Parameter::Path { .. }));
    assert!(namespace.parameter_data_ref().required);
    assert!(matches!(
        param_schema(namespace).schema_kind,
        SchemaKind::Type(Type::String(_))
    ));
    let ReferenceOr::Item(pretty) = &components.parameters["pretty-p1"] else {
        panic!()
    };
    assert_eq!(
        pretty.parameter_data_ref().description.as_deref(),
        Some("fixture: pretty-print")
    );
    assert_eq!(
        pretty
            .parameter_data_ref()
            .extensions
            .get("x-fixture-param"),
        Some(&serde_json::json!("kept"))
    );

    // An inline path-level parameter stays at path level.
    let item = doc.paths.paths[WIDGET].as_item().unwrap();
    let ReferenceOr::Item(name) = &item.parameters[0] else {
        panic!()
    };
    assert_eq!(name.parameter_data_ref().name, "name");
}

#[test]
fn responses_get_content_per_produced_media_type() {
    let (doc, _) = load_fixture("mini.swagger.json");
    let list = op(&doc, WIDGETS, "get");
    let ReferenceOr::Item(ok) = &list.responses.responses[&StatusCode::Code(200)] else {
        panic!()
    };
    assert_eq!(ok.description, "OK");
    assert_eq!(
        media_types(&ok.content),
        ["application/json", "application/json;stream=watch"]
    );
    for media in ok.content.values() {
        assert_eq!(
            reference(media.schema.as_ref().unwrap()),
            "#/components/schemas/io.example.v1.WidgetList"
        );
    }
    let ReferenceOr::Item(unauthorized) = &list.responses.responses[&StatusCode::Code(401)] else {
        panic!()
    };
    assert!(unauthorized.content.is_empty());

    // A response without a description gets an empty one.
    let create = op(&doc, WIDGETS, "post");
    let ReferenceOr::Item(r) = &create.responses.responses[&StatusCode::Code(401)] else {
        panic!()
    };
    assert_eq!(r.description, "");

    // No `produces` anywhere: application/json.
    let version = op(&doc, "/version/", "get");
    let ReferenceOr::Item(ok) = &version.responses.responses[&StatusCode::Code(200)] else {
        panic!()
    };
    assert_eq!(media_types(&ok.content), ["application/json"]);
}

#[test]
fn components_only_document_is_completed() {
    let (doc, format) = load_fixture("components-only.json");
    assert_eq!(format, SpecFormat::OpenApiV3);
    assert_eq!(doc.openapi, "3.0.0");
    assert_eq!(
        (doc.info.title.as_str(), doc.info.version.as_str()),
        ("components-only", "unversioned")
    );
    assert!(doc.paths.paths.is_empty());
    let gadget = schema(&doc, "io.example.v2.Gadget");
    let names: Vec<&str> = properties(gadget).keys().map(String::as_str).collect();
    assert_eq!(names, ["spec", "metadata", "kind", "apiVersion"]);
    let ReferenceOr::Item(spec) = &properties(gadget)["spec"] else {
        panic!()
    };
    assert_eq!(spec.schema_data.default, Some(serde_json::json!({})));
    let SchemaKind::AllOf { all_of } = &spec.schema_kind else {
        panic!()
    };
    assert_eq!(
        reference(&all_of[0]),
        "#/components/schemas/io.example.v2.GadgetSpec"
    );
    let spec = properties(schema(&doc, "io.example.v2.GadgetSpec"));
    assert_eq!(
        spec.keys().map(String::as_str).collect::<Vec<_>>(),
        ["zeta", "alpha", "mode"]
    );
}

#[test]
fn crd_document_keeps_kubernetes_extensions() {
    let (doc, _) = load_fixture("crds/b-stable.example.io_v1.json");
    let crontab = schema(&doc, "io.example.stable.v1.CronTab");
    let ReferenceOr::Item(spec) = &properties(crontab)["spec"] else {
        panic!()
    };
    let ReferenceOr::Item(replicas) = &properties(spec)["replicas"] else {
        panic!()
    };
    assert_eq!(
        replicas
            .schema_data
            .extensions
            .get("x-kubernetes-int-or-string"),
        Some(&serde_json::json!(true))
    );
    assert!(matches!(&replicas.schema_kind, SchemaKind::AnyOf { any_of } if any_of.len() == 2));
    let ReferenceOr::Item(template) = &properties(spec)["template"] else {
        panic!()
    };
    assert_eq!(
        template
            .schema_data
            .extensions
            .get("x-kubernetes-preserve-unknown-fields"),
        Some(&serde_json::json!(true))
    );
}

#[test]
fn merge_keeps_first_definition_and_records_differences() {
    let spec = load_specs(&[
        fixture("mini.swagger.json"),
        fixture("components-only.json"),
        fixture("crds"),
    ])
    .unwrap();
    let files: Vec<String> = spec
        .inputs
        .iter()
        .map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // A directory is read in sorted name order.
    assert_eq!(
        files,
        [
            "mini.swagger.json",
            "components-only.json",
            "a-extra.example.io_v1.json",
            "b-stable.example.io_v1.json"
        ]
    );
    let formats: Vec<SpecFormat> = spec.inputs.iter().map(|i| i.format).collect();
    assert_eq!(
        formats,
        [
            SpecFormat::SwaggerV2,
            SpecFormat::OpenApiV3,
            SpecFormat::OpenApiV3,
            SpecFormat::OpenApiV3
        ]
    );
    let counts: Vec<(usize, usize)> = spec
        .inputs
        .iter()
        .map(|i| (i.schemas, i.operations))
        .collect();
    assert_eq!(counts, [(12, 9), (3, 0), (1, 0), (2, 0)]);

    // ObjectMeta differs between the swagger document and the later one: the first is kept and
    // the later file recorded. The CRD document's copy equals the second file's, yet still
    // differs from the kept one, so it is recorded too.
    let crd_file = fixture("crds").join("b-stable.example.io_v1.json");
    let first = spec.inputs[0].path.clone();
    assert_eq!(
        spec.duplicates,
        [
            Duplicate {
                name: "io.example.meta.v1.ObjectMeta".to_owned(),
                first: first.clone(),
                later: fixture("components-only.json")
            },
            Duplicate {
                name: "io.example.meta.v1.ObjectMeta".to_owned(),
                first,
                later: crd_file
            },
        ]
    );
    let meta = properties(schema(&spec.doc, "io.example.meta.v1.ObjectMeta"));
    assert!(meta.contains_key("namespace"));
    assert_eq!(spec.schema_origin["io.example.meta.v1.ObjectMeta"], 0);
    assert_eq!(spec.schema_origin["io.example.v2.Gadget"], 1);
    assert_eq!(spec.schema_origin["io.example.extra.v1.Note"], 2);
    assert_eq!(spec.schema_origin["io.example.stable.v1.CronTab"], 3);
    assert_eq!(spec.schema_origin.len(), 12 + 2 + 1 + 1);
    // The merged document is named by the first input.
    assert_eq!(spec.doc.info.title, "Mini");
    assert_eq!(count_operations(&spec.doc), 9);
}

#[test]
fn identical_repeats_are_not_duplicates() {
    let spec = load_specs(&[
        fixture("components-only.json"),
        fixture("crds/b-stable.example.io_v1.json"),
    ])
    .unwrap();
    assert!(spec.duplicates.is_empty());
    assert_eq!(spec.schema_origin["io.example.meta.v1.ObjectMeta"], 0);
}

#[test]
fn references_are_checked_after_merging() {
    // `a-extra` points at a schema only `b-stable` (read after it) defines.
    let alone = fixture("crds/a-extra.example.io_v1.json");
    let err = load_document(&alone, &std::fs::read(&alone).unwrap()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::MissingRef { .. }));
    assert!(text.contains("a-extra.example.io_v1.json"), "{text}");
    assert!(
        text.contains("components/schemas/io.example.extra.v1.Note/properties/owner"),
        "{text}"
    );
    assert!(
        text.contains("#/components/schemas/io.example.stable.v1.CronTab"),
        "{text}"
    );
    assert!(load_specs(&[fixture("crds")]).is_ok());
    assert!(matches!(
        load_specs(&[alone]),
        Err(LoadError::MissingRef { .. })
    ));
}

#[test]
fn missing_swagger_ref_names_file_location_and_target() {
    let text = r##"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
        "definitions": {
            "io.example.v1.Thing": {"type": "object", "properties": {
                "spec": {"$ref": "#/definitions/io.example.v1.Missing"}}}}}"##;
    let err = load_str("broken.json", text).unwrap_err().to_string();
    assert!(err.contains("broken.json"), "{err}");
    assert!(
        err.contains("definitions/io.example.v1.Thing/properties/spec"),
        "{err}"
    );
    assert!(err.contains("#/definitions/io.example.v1.Missing"), "{err}");

    let text = r##"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"parameters": [{"$ref": "#/parameters/nope"}],
            "responses": {"200": {"description": "ok"}}}}}}"##;
    let err = load_str("params.json", text).unwrap_err().to_string();
    assert!(err.contains("paths/~1x/get/parameters/0"), "{err}");
    assert!(err.contains("#/parameters/nope"), "{err}");
}

#[test]
fn path_conflict_names_both_files_and_the_path() {
    let err = load_specs(&[fixture("paths-a.json"), fixture("paths-b.json")]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::PathConflict { .. }), "{text}");
    assert!(
        text.contains("paths-a.json") && text.contains("paths-b.json"),
        "{text}"
    );
    assert!(text.contains("/healthz") && text.contains("get"), "{text}");

    // The same operation again, plus new ones: a union.
    let spec = load_specs(&[fixture("paths-a.json"), fixture("paths-c.json")]).unwrap();
    assert_eq!(count_operations(&spec.doc), 3);
    assert_eq!(spec.doc.info.title, "a");
}

#[test]
fn truncated_json_names_file_and_line() {
    let bytes = std::fs::read(fixture("mini.swagger.json")).unwrap();
    let half = &bytes[..bytes.len() / 2];
    let lines = half.iter().filter(|b| **b == b'\n').count() + 1;
    let err = load_document(Path::new("cut.json"), half).unwrap_err();
    let LoadError::Truncated { line, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*line, lines);
    let text = err.to_string();
    assert!(text.starts_with(&format!("cut.json:{lines}:")), "{text}");
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn invalid_json_names_line_and_column() {
    let err = load_str("bad.json", "{\n  \"swagger\": \"2.0\",,\n}").unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Json {
                line: 2,
                column: 20,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("bad.json:2:20: invalid JSON"),
        "{err}"
    );
}

#[test]
fn non_object_and_unknown_documents_are_rejected() {
    let err = load_str("list.json", "[1, 2]").unwrap_err().to_string();
    assert_eq!(
        err,
        "list.json: the document is an array, not a JSON object"
    );
    let err = load_str("other.json", r#"{"name": "x"}"#).unwrap_err();
    assert!(matches!(err, LoadError::UnknownFormat { .. }));
    assert!(err.to_string().starts_with("other.json:"));
    let err = load_str("v1.json", r#"{"swagger": "1.2"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("v1.json") && err.contains("1.2"), "{err}");
}

#[test]
fn wrong_types_name_the_location() {
    let err = load_str(
        "paths.json",
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": []}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "paths.json: at paths: expected an object, found an array"
    );
    let err = load_str(
        "v3paths.json",
        r#"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": []}"#,
    )
    .unwrap_err();
    assert!(matches!(err, LoadError::WrongType { .. }), "{err}");

    // Inside a schema: serde's message, at the definition's location.
    let text = r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
        "definitions": {"io.example.Bad": {"type": "object", "properties": [1]}}}"#;
    let err = load_str("schema.json", text).unwrap_err().to_string();
    assert!(
        err.starts_with("schema.json: at definitions/io.example.Bad"),
        "{err}"
    );

    let text = r#"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": 5}}}}}}"#;
    let err = load_str("resp.json", text).unwrap_err().to_string();
    assert!(
        err.starts_with("resp.json: at paths/~1x/get/responses/200"),
        "{err}"
    );

    let text = r#"{"openapi": "3.0.0", "info": {"title": 7, "version": "1"}, "paths": {}}"#;
    let err = load_str("info.json", text).unwrap_err().to_string();
    assert!(err.starts_with("info.json: at info"), "{err}");
}

#[test]
fn unreadable_inputs_are_named() {
    let missing = fixture("no-such-file.json");
    let err = load_specs(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(err, LoadError::Read { .. }));
    assert!(err.to_string().contains("no-such-file.json"));
}

#[test]
fn no_input_makes_it_panic() {
    // Every prefix of a real-shaped document, and single-byte corruptions of it, give a result.
    let bytes = std::fs::read(fixture("mini.swagger.json")).unwrap();
    for end in (0..bytes.len()).step_by(7) {
        let _ = load_document(Path::new("prefix.json"), &bytes[..end]);
    }
    for at in (0..bytes.len()).step_by(53) {
        for replacement in [b'[', b'}', b'"', b'1', b' '] {
            let mut corrupt = bytes.clone();
            corrupt[at] = replacement;
            let _ = load_document(Path::new("corrupt.json"), &corrupt);
        }
    }
    // Wrong types in every place a document has structure.
    for text in [
        r##"{"swagger": "2.0", "definitions": []}"##,
        r##"{"swagger": "2.0", "parameters": {"p": 1}}"##,
        r##"{"swagger": "2.0", "parameters": {"p": {"in": "body", "schema": 1}}, "paths": {"/a": {"post": {"parameters": [{"$ref": "#/parameters/p"}]}}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"get": []}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"parameters": {}}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [1], "responses": []}}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"get": {"consumes": [1]}}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"get": {"responses": {"200": {"headers": []}}}}}}"##,
        r##"{"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [{"in": "cookie"}]}}}}"##,
        r##"{"swagger": "2.0", "securityDefinitions": {"s": {"type": "oauth2"}}}"##,
        r##"{"swagger": 2}"##,
        r##"{"openapi": "3.0.0", "components": {"schemas": []}}"##,
        r##"{"openapi": "3.0.0", "components": {"schemas": {"a": {"$ref": 5}}}}"##,
        r##"{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"abc": {}}}}}}"##,
        r##"{"openapi": "3.0.0", "paths": {"/a": {"$ref": "other.json#/x"}}}"##,
        r##"{"components": {"schemas": {"a": {"$ref": "#/components/schemas/"}}}}"##,
    ] {
        // Each would fail on the missing `info` alone; give them one so the shape is what fails.
        let text = text
            .replacen(
                r#""swagger": "2.0","#,
                r#""swagger": "2.0", "info": {"title": "t", "version": "1"},"#,
                1,
            )
            .replacen(
                r#""openapi": "3.0.0","#,
                r#""openapi": "3.0.0", "info": {"title": "t", "version": "1"},"#,
                1,
            );
        let err = load_str("shape.json", &text).expect_err(&text).to_string();
        assert!(err.starts_with("shape.json: "), "{err}");
    }
}

#[test]
fn real_kubernetes_1_36_swagger() {
    let Some(path) = shared("spec/v2/kubernetes-1.36.swagger.json") else {
        return;
    };
    let spec = load_specs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(spec.doc.components.as_ref().unwrap().schemas.len(), 771);
    assert_eq!(count_operations(&spec.doc), 1123);
    assert_eq!(spec.inputs.len(), 1);
    assert_eq!(
        (spec.inputs[0].schemas, spec.inputs[0].operations),
        (771, 1123)
    );
    assert_eq!(spec.inputs[0].format, SpecFormat::SwaggerV2);
    let pods = op(&spec.doc, "/api/v1/namespaces/{namespace}/pods", "post");
    let ReferenceOr::Item(body) = pods.request_body.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(
        reference(body.content["*/*"].schema.as_ref().unwrap()),
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
}

#[test]
fn real_kubernetes_1_35_openapi_v3_documents() {
    let Some(dir) = shared("spec/v3/kubernetes-1.35") else {
        return;
    };
    let spec = load_specs(&[dir]).unwrap();
    assert_eq!(spec.inputs.len(), 4);
    assert!(
        spec.inputs
            .iter()
            .all(|i| i.format == SpecFormat::OpenApiV3 && i.operations == 0)
    );
    let total: usize = spec.inputs.iter().map(|i| i.schemas).sum();
    let merged = spec.doc.components.as_ref().unwrap().schemas.len();
    // Each document repeats the shared meta types, identically.
    assert!(merged < total);
    assert!(spec.duplicates.is_empty(), "{:?}", spec.duplicates);
    assert!(
        schema(&spec.doc, "io.k8s.api.core.v1.Pod")
            .schema_data
            .extensions
            .contains_key("x-kubernetes-group-version-kind")
    );
}

#[test]
fn real_cert_manager_crd_document() {
    let Some(path) = shared("spec/v3/crds/cert-manager.io_v1.json") else {
        return;
    };
    let spec = load_specs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(spec.inputs[0].format, SpecFormat::OpenApiV3);
    assert_eq!(spec.doc.components.as_ref().unwrap().schemas.len(), 17);
    assert_eq!(spec.doc.info.title, "cert-manager.io_v1");
    // Merged after the swagger document, its reduced ObjectMeta is a recorded duplicate.
    let Some(swagger) = shared("spec/v2/kubernetes-1.36.swagger.json") else {
        return;
    };
    let spec = load_specs(&[swagger, path]).unwrap();
    assert!(
        spec.duplicates
            .iter()
            .any(|d| d.name == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    );
    assert_eq!(spec.schema_origin["io.cert-manager.v1.Certificate"], 1);
}
