//! Names and the pod subresources clients post to, as the real 1.36 server answers them
//! (messages checked against kube-apiserver 1.36).

use kuber::models::api::core::v1::{Binding, ConfigMap, Pod};
use kuber::models::api::policy::v1::Eviction;
use kuber::{Patch, kuber_obj};
use kuber_testserver::TestServer;
use serde_json::json;

fn pod(name: &str) -> Pod {
    kuber_obj(&format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}"}},
            "spec":{{"containers":[{{"name":"c","image":"i"}}]}}}}"#
    ))
    .and_then(|o| o.downcast())
    .expect("a pod")
}

#[tokio::test]
async fn an_invalid_name_is_422_with_the_field_and_nothing_is_stored() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let bad: ConfigMap =
        kuber_obj(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#)
            .and_then(|o| o.downcast())
            .unwrap();
    let before = server.resource_version();
    let err = ctx.put(&bad).await.unwrap_err();
    assert!(err.is_invalid(), "{err}");
    let status = err.status().expect("a Status");
    assert_eq!(
        status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .map(|c| c[0].field.clone()),
        Some(Some("metadata.name".to_string()))
    );
    assert!(
        status.message.as_deref().unwrap_or("").starts_with(
            "ConfigMap \"Not_Valid\" is invalid: metadata.name: Invalid value: \"Not_Valid\": a lowercase RFC 1123 subdomain"
        ),
        "{status:?}"
    );
    assert_eq!(server.resource_version(), before, "nothing stored");
}

#[tokio::test]
async fn eviction_deletes_the_pod_and_names_must_match() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&pod("ev")).await.unwrap();
    ctx.evict("ev").await.unwrap();
    let gone = ctx.get::<Pod>("ev").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    let missing = ctx.evict("nope").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(
        missing.to_string().contains("pods \"nope\" not found"),
        "{missing}"
    );

    // A body naming another pod is refused before anything changes.
    ctx.put(&pod("stay")).await.unwrap();
    let api = kuber::api::CoreV1Api::new(server.client());
    let other: Eviction = serde_json::from_value(
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}}),
    )
    .unwrap();
    let err = api
        .create_namespaced_pod_eviction("stay", "default", &other, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(400), "{err}");
    assert!(
        err.to_string()
            .contains("name in URL does not match name in Eviction object")
    );
    assert!(ctx.get::<Pod>("stay").await.is_ok());
}

#[tokio::test]
async fn binding_sets_the_node_once() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&pod("web")).await.unwrap();
    let api = kuber::api::CoreV1Api::new(server.client());
    let binding = |node: &str| -> Binding {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
            "target": {"kind": "Node", "name": node}
        }))
        .unwrap()
    };
    let answer = api
        .create_namespaced_pod_binding("web", "default", &binding("node-a"), &Default::default())
        .await
        .unwrap();
    assert_eq!(answer.status.as_deref(), Some("Success"));
    let bound = ctx.get::<Pod>("web").await.unwrap();
    assert_eq!(
        bound.spec.and_then(|s| s.node_name).as_deref(),
        Some("node-a")
    );
    let again = api
        .create_namespaced_pod_binding("web", "default", &binding("node-b"), &Default::default())
        .await
        .unwrap_err();
    assert_eq!(again.status_code(), Some(409), "{again}");
    // Status patches still work on the bound pod.
    ctx.update_status::<Pod>("web", Patch::Merge(json!({"status": {"phase": "Running"}})))
        .await
        .unwrap();
}
