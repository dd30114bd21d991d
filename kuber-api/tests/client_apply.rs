//! Server-side apply and creates from typed objects: `apiVersion` and `kind` come from the type
//! when unset, and an apply without a field manager is refused before anything is sent.

mod support;

use kuber_api::{AppsV1Api, Client, CoreV1Api, Error, Patch, PatchParams, WriteParams};
use kuber_models::Resource as _;
use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::core::v1::ConfigMap;
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};
use support::InProcess;

const CONFIG_MAP: &str = r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm"}}"#;
const DEPLOYMENT: &str = r#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d"}}"#;

async fn echoing(body: &'static str) -> (InProcess, Client) {
    let server = InProcess::start(move |_, _| support::json(200, body)).await;
    let client = server.client();
    (server, client)
}

fn named_config_map(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some(name.into());
    cm.data = Some([("k".to_owned(), "v".to_owned())].into());
    cm
}

fn manager(name: &str) -> PatchParams {
    PatchParams {
        field_manager: Some(name.into()),
        ..PatchParams::default()
    }
}

fn sent_body(server: &InProcess) -> Value {
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "one request");
    support::body_json(&seen[0].body)
}

#[tokio::test]
async fn apply_of_a_default_built_object_sends_its_api_version_and_kind() {
    let (server, client) = echoing(CONFIG_MAP).await;
    let cm = named_config_map("cm");
    assert_eq!(cm.api_version, None);
    let patch = Patch::apply(&cm).unwrap();
    CoreV1Api::new(client)
        .patch_namespaced_config_map("cm", "default", &patch, &manager("me"))
        .await
        .unwrap();
    let seen = &server.seen()[0];
    assert_eq!(seen.headers["content-type"], "application/apply-patch+yaml");
    assert!(seen.path_and_query.contains("fieldManager=me"));
    assert_eq!(
        sent_body(&server),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}})
    );
}

#[test]
fn apply_keeps_a_set_api_version_and_fills_a_grouped_one() {
    let mut cm = named_config_map("cm");
    cm.api_version = Some("v1".into());
    cm.kind = Some("ConfigMap".into());
    let body = |patch: Patch| -> Value { serde_json::from_slice(&patch.body().unwrap()).unwrap() };
    assert_eq!(body(Patch::apply(&cm).unwrap())["kind"], "ConfigMap");
    let mut d = Deployment::default();
    d.metadata_mut().name = Some("d".into());
    let patch = body(Patch::apply(&d).unwrap());
    assert_eq!(patch["apiVersion"], "apps/v1");
    assert_eq!(patch["kind"], "Deployment");
}

#[test]
fn apply_of_a_typed_object_keeps_its_number_text() {
    let crd: CustomResourceDefinition = serde_json::from_str(
        r#"{"metadata":{"name":"widgets.example.com"},
            "spec":{"group":"example.com","scope":"Namespaced",
              "names":{"plural":"widgets","kind":"Widget"},
              "versions":[{"name":"v1","served":true,"storage":true,
                "schema":{"openAPIV3Schema":{"type":"object","maximum":1e3,"minimum":1.50}}}]}}"#,
    )
    .unwrap();
    let patch = Patch::apply(&crd).unwrap();
    assert_eq!(patch.content_type(), "application/apply-patch+yaml");
    let text = String::from_utf8(patch.body().unwrap()).unwrap();
    assert!(text.contains(r#""maximum":1e3"#), "{text}");
    assert!(text.contains(r#""minimum":1.50"#), "{text}");
    assert!(
        text.contains(r#""kind":"CustomResourceDefinition""#),
        "{text}"
    );
}

#[tokio::test]
async fn apply_without_a_field_manager_is_refused_before_sending() {
    let (server, client) = echoing(CONFIG_MAP).await;
    let core = CoreV1Api::new(client);
    let patch = Patch::apply(&named_config_map("cm")).unwrap();
    for params in [PatchParams::default(), manager("")] {
        let result = core
            .patch_namespaced_config_map("cm", "default", &patch, &params)
            .await;
        match result {
            Err(ref e @ Error::MissingFieldManager { operation }) => {
                assert_eq!(operation, "patchCoreV1NamespacedConfigMap");
                assert!(e.to_string().contains("field manager"), "{e}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // An untyped apply is refused the same way; other patch types need no manager.
    let untyped = Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap"}));
    let result = core
        .patch_namespaced_config_map("cm", "default", &untyped, &PatchParams::default())
        .await;
    assert!(matches!(result, Err(Error::MissingFieldManager { .. })));
    assert_eq!(server.requests(), 0, "nothing may be sent");
    let merge = Patch::Merge(json!({"data": {"a": "b"}}));
    core.patch_namespaced_config_map("cm", "default", &merge, &PatchParams::default())
        .await
        .unwrap();
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn creates_of_default_built_objects_send_their_api_version_and_kind() {
    let (server, client) = echoing(CONFIG_MAP).await;
    CoreV1Api::new(client)
        .create_namespaced_config_map("default", &named_config_map("cm"), &WriteParams::default())
        .await
        .unwrap();
    let body = sent_body(&server);
    assert_eq!(
        (&body["apiVersion"], &body["kind"]),
        (&json!("v1"), &json!("ConfigMap"))
    );

    let (server, client) = echoing(DEPLOYMENT).await;
    let mut d = Deployment::default();
    d.metadata_mut().name = Some("d".into());
    AppsV1Api::new(client)
        .create_namespaced_deployment("default", &d, &WriteParams::default())
        .await
        .unwrap();
    let body = sent_body(&server);
    assert_eq!(
        (&body["apiVersion"], &body["kind"]),
        (&json!("apps/v1"), &json!("Deployment"))
    );
}
