//! Kinds created after a context read discovery (a CRD applied a moment ago): every verb that
//! finds its kind from an object or an explicit apiVersion refreshes discovery once and finds it.

use kuber::{Context, Deleted, Error, kuber_obj};
use kuber_testserver::TestServer;

/// The CRD of `kind` in `group`, version v1, and the manifest of one such object named `g`.
fn manifests(group: &str, kind: &str) -> (String, String) {
    let plural = format!("{}s", kind.to_lowercase());
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: {plural}, singular: {singular}, kind: {kind}, listKind: {kind}List}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
",
        singular = kind.to_lowercase()
    );
    let object =
        format!("apiVersion: {group}/v1\nkind: {kind}\nmetadata: {{name: g}}\nspec: {{size: 1}}\n");
    (crd, object)
}

/// A context that read discovery before the CRD of kind `Gadget{n}` (in group `ex{n}.com`, new
/// too) existed, and the manifest of a `Gadget{n}` named `g`.
async fn stale_context(server: &TestServer, n: usize) -> (Context, String) {
    let group = format!("ex{n}.com");
    let stale = server.context_in_process();
    let discovery = stale.discovery().await.unwrap();
    assert!(!discovery.serves(&format!("{group}/v1")));
    let (crd, object) = manifests(&group, &format!("Gadget{n}"));
    server.context_in_process().put_text(&crd).await.unwrap();
    (stale, object)
}

#[tokio::test]
async fn objects_of_a_kind_newer_than_discovery_are_written_by_every_verb() {
    let server = TestServer::start().await.unwrap();

    let (ctx, text) = stale_context(&server, 0).await;
    let created = ctx.put_text(&text).await.unwrap();
    assert_eq!((created.kind(), created.name()), ("Gadget0", Some("g")));

    let (ctx, text) = stale_context(&server, 1).await;
    ctx.put_object(&kuber_obj(&text).unwrap()).await.unwrap();

    let (ctx, text) = stale_context(&server, 2).await;
    let applied = ctx
        .apply_object(&kuber_obj(&text).unwrap(), "test")
        .await
        .unwrap();
    assert_eq!(applied.kind(), "Gadget2");

    let (ctx, text) = stale_context(&server, 3).await;
    let stored = server.context_in_process().put_text(&text).await.unwrap();
    ctx.replace_object(&stored).await.unwrap();

    let (ctx, text) = stale_context(&server, 4).await;
    let stored = server.context_in_process().put_text(&text).await.unwrap();
    let deleted = ctx.delete_object(&stored).await.unwrap();
    assert!(matches!(deleted, Deleted::Object(_) | Deleted::Status(_)));
    let gone = server
        .context_in_process()
        .get_kind("Gadget4", "g")
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn a_kind_name_with_an_api_version_newer_than_discovery_is_found() {
    let server = TestServer::start().await.unwrap();
    let (ctx, text) = stale_context(&server, 0).await;
    server.context_in_process().put_text(&text).await.unwrap();
    let got = ctx
        .get_kind("Gadget0", "g")
        .api_version("ex0.com/v1")
        .await
        .unwrap();
    assert_eq!((got.api_version(), got.kind()), ("ex0.com/v1", "Gadget0"));

    // A second kind in a group whose resources this context has read already.
    let (crd, object) = manifests("ex0.com", "Sprocket");
    server.context_in_process().put_text(&crd).await.unwrap();
    let created = ctx.put_text(&object).await.unwrap();
    assert_eq!(created.kind(), "Sprocket");

    // A kind that is not there after the refresh either stays unknown.
    let err = ctx
        .get_kind("Gizmo", "g")
        .api_version("ex0.com/v1")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKind { .. }), "{err}");
}
