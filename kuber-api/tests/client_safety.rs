//! Calls that would name another resource than the one meant are refused before anything is sent,
//! and answers of another kind than the call's are errors, not default-filled values.

mod support;

use kuber_api::{
    ApiextensionsV1Api, Client, CoreV1Api, DeleteParams, Deleted, Error, GetParams, ListParams,
    Patch, PatchParams, ProxyParams, RbacAuthorizationV1Api, Request, WriteParams,
};
use kuber_models::api::core::v1::Pod;
use kuber_models::api::policy::v1::Eviction;
use support::{GET_POD, InProcess, json};

/// A server answering every request with `body` (status 200), and a client without retries.
async fn answering(body: &'static str) -> (InProcess, Client) {
    let server = InProcess::start(move |_, _| json(200, body)).await;
    let client = server.client();
    (server, client)
}

/// Asserts `result` is the refusal of `parameter` of `operation`, and returns its message.
fn refused<T: std::fmt::Debug>(
    result: Result<T, Error>,
    operation: &str,
    parameter: &str,
) -> String {
    match result {
        Err(
            ref e @ Error::InvalidParameter {
                operation: op,
                parameter: ref p,
                ..
            },
        ) if op == operation && p == parameter => e.to_string(),
        other => panic!("expected {operation} to refuse {parameter}, got {other:?}"),
    }
}

const POD: &str = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}}"#;

#[tokio::test]
async fn an_empty_name_is_refused_before_sending() {
    let (server, client) = answering(POD).await;
    let core = CoreV1Api::new(client.clone());
    let delete = core
        .delete_namespaced_pod("", "default", None, &DeleteParams::default())
        .await;
    assert_eq!(
        refused(delete, "deleteCoreV1NamespacedPod", "name"),
        "deleteCoreV1NamespacedPod: parameter name is empty"
    );
    let read = core
        .read_namespaced_pod("", "default", &GetParams::default())
        .await;
    refused(read, "readCoreV1NamespacedPod", "name");
    let replace = core
        .replace_namespaced_pod("", "default", &Pod::default(), &WriteParams::default())
        .await;
    refused(replace, "replaceCoreV1NamespacedPod", "name");
    let patch = Patch::Merge(serde_json::json!({"metadata": {"labels": {"a": "b"}}}));
    let patched = core
        .patch_namespaced_pod("", "default", &patch, &PatchParams::default())
        .await;
    refused(patched, "patchCoreV1NamespacedPod", "name");
    let evicted = core
        .create_namespaced_pod_eviction("", "default", &Eviction::default(), &Default::default())
        .await;
    refused(evicted, "createCoreV1NamespacedPodEviction", "name");
    let watched = core
        .watch_namespaced_pod("", "default", &ListParams::default())
        .await;
    refused(watched, "watchCoreV1NamespacedPod", "name");

    // Cluster-scoped kinds: an empty name would be the whole collection.
    let rbac = RbacAuthorizationV1Api::new(client.clone());
    let role = rbac
        .delete_cluster_role("", None, &DeleteParams::default())
        .await;
    assert_eq!(
        refused(role, "deleteRbacAuthorizationV1ClusterRole", "name"),
        "deleteRbacAuthorizationV1ClusterRole: parameter name is empty"
    );
    let crds = ApiextensionsV1Api::new(client.clone());
    let crd = crds
        .delete_custom_resource_definition("", None, &DeleteParams::default())
        .await;
    refused(crd, "deleteApiextensionsV1CustomResourceDefinition", "name");
    assert_eq!(server.requests(), 0, "{:?}", server.seen());
}

#[tokio::test]
async fn an_empty_namespace_is_refused() {
    let (server, client) = answering(POD).await;
    let core = CoreV1Api::new(client);
    let list = core.list_namespaced_pod("", &ListParams::default()).await;
    assert_eq!(
        refused(list, "listCoreV1NamespacedPod", "namespace"),
        "listCoreV1NamespacedPod: parameter namespace is empty"
    );
    let delete = core
        .delete_namespaced_pod("web", "", None, &DeleteParams::default())
        .await;
    refused(delete, "deleteCoreV1NamespacedPod", "namespace");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn dot_segments_slashes_and_percent_signs_are_refused() {
    let (server, client) = answering(POD).await;
    let core = CoreV1Api::new(client);
    for (name, problem) in [
        (".", r#"may not be ".""#),
        ("..", r#"may not be "..""#),
        ("a/b", r#""a/b" may not contain '/'"#),
        ("../secrets", r#""../secrets" may not contain '/'"#),
        ("a%2Fb", r#""a%2Fb" may not contain '%'"#),
    ] {
        let read = core
            .read_namespaced_pod(name, "default", &GetParams::default())
            .await;
        assert_eq!(
            refused(read, "readCoreV1NamespacedPod", "name"),
            format!("readCoreV1NamespacedPod: parameter name {problem}")
        );
        let read = core
            .read_namespaced_pod("web", name, &GetParams::default())
            .await;
        refused(read, "readCoreV1NamespacedPod", "namespace");
    }
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn requests_built_by_hand_are_checked_too() {
    let (server, client) = answering(POD).await;
    let err = client
        .call::<Pod>(Request::new(&GET_POD, &["default", ""]))
        .await;
    refused(err, "readCoreV1NamespacedPod", "name");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn proxy_paths_keep_their_slashes_but_not_dot_segments() {
    let (server, client) = answering("ok").await;
    let core = CoreV1Api::new(client);
    let body = core
        .connect_get_namespaced_pod_proxy_with_path(
            "web",
            "default",
            "api/v1/items",
            &ProxyParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(&body[..], b"ok");
    assert_eq!(
        server.seen()[0].path_and_query,
        "/api/v1/namespaces/default/pods/web/proxy/api/v1/items"
    );
    for path in ["../../secrets", "a/./b", "a/.."] {
        let escaped = core
            .connect_get_namespaced_pod_proxy_with_path(
                "web",
                "default",
                path,
                &ProxyParams::default(),
            )
            .await;
        let message = refused(
            escaped,
            "connectCoreV1GetNamespacedPodProxyWithPath",
            "path",
        );
        assert!(message.contains("segment"), "{message}");
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_list_where_an_object_is_expected_is_an_error() {
    let (_server, client) =
        answering(r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}"#).await;
    let core = CoreV1Api::new(client);
    let err = core
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap_err();
    let Error::UnexpectedKind {
        operation,
        ref expected,
        ref received,
    } = err
    else {
        panic!("not an unexpected kind: {err:?}")
    };
    assert_eq!(
        (operation, expected.as_str(), received.as_str()),
        ("readCoreV1NamespacedPod", "Pod", "PodList")
    );
    assert_eq!(
        err.to_string(),
        "readCoreV1NamespacedPod: expected kind Pod, the server answered kind PodList"
    );
}

#[tokio::test]
async fn a_success_status_where_a_pod_is_expected_is_an_error() {
    let (_server, client) = answering(
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":200}"#,
    )
    .await;
    let core = CoreV1Api::new(client);
    let err = core
        .replace_namespaced_pod("web", "default", &Pod::default(), &WriteParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedKind { received, .. } if received == "Status"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_delete_answers_the_object_or_a_status_and_nothing_else() {
    let (_server, client) = answering(
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":200}"#,
    )
    .await;
    let gone = CoreV1Api::new(client)
        .delete_namespaced_pod("web", "default", None, &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(gone, Deleted::Status(_)));

    let (_server, client) = answering(POD).await;
    let deleting = CoreV1Api::new(client)
        .delete_namespaced_pod("web", "default", None, &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(deleting, Deleted::Object(p) if p.metadata.is_some()));

    let (_server, client) =
        answering(r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}"#).await;
    let err = CoreV1Api::new(client)
        .delete_namespaced_pod("web", "default", None, &DeleteParams::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "deleteCoreV1NamespacedPod: expected kind Pod or Status, the server answered kind PodList"
    );
}

#[tokio::test]
async fn answers_of_the_right_kind_still_decode() {
    // `kind` need not come first, and an answer without one is taken as it is.
    let (_server, client) =
        answering(r#"{"metadata":{"name":"web"},"apiVersion":"v1","kind":"Pod"}"#).await;
    let core = CoreV1Api::new(client);
    let p = core
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap();
    assert_eq!(p.metadata.unwrap().name.as_deref(), Some("web"));

    let (_server, client) = answering(r#"{"metadata":{"name":"web"}}"#).await;
    let p = CoreV1Api::new(client)
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap();
    assert_eq!(p.metadata.unwrap().name.as_deref(), Some("web"));

    // An eviction is answered with a Status, as the server does.
    let (_server, client) = answering(
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}"#,
    )
    .await;
    let status = CoreV1Api::new(client)
        .create_namespaced_pod_eviction(
            "web",
            "default",
            &Eviction::default(),
            &WriteParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));

    // Untyped calls take any kind.
    let (_server, client) = answering(r#"{"kind":"PodList","items":[]}"#).await;
    let any = client
        .call::<serde_json::Value>(Request::new(&GET_POD, &["default", "web"]))
        .await
        .unwrap();
    assert_eq!(any["kind"], "PodList");
}
