//! The replay server on hand-written exchanges (`fixtures/exchanges`, no ../shared needed): the
//! right kuber-api call for each is matched and gets its typed answer; a wrong call is reported
//! naming what differs.

use futures_util::StreamExt as _;
use kuber_api::{AppsV1Api, Client, CoreV1Api, ListParams, Patch, PatchParams, WriteParams};
use kuber_models::WatchEvent;
use kuber_models::api::core::v1::ConfigMap;
use kuber_tests::fixtures_dir;
use kuber_tests::replay::{self, Exchange};
use kuber_tests::replay_server::{Check, ReplayServer, Report};
use kuber_tests::scenarios::client_for;
use serde_json::json;

fn exchanges(name: &str) -> Vec<Exchange> {
    let path = fixtures_dir().join("exchanges").join(name);
    replay::load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn serve(name: &str) -> (ReplayServer, Client) {
    let server = ReplayServer::start(exchanges(name)).await.expect("server");
    let client = client_for(server.url()).expect("client");
    (server, client)
}

/// The mismatch messages of exchange 0.
fn mismatch(report: &Report) -> Vec<String> {
    match &report.checks[0] {
        Check::Mismatch(diffs) => diffs.clone(),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

fn list_params() -> ListParams {
    ListParams {
        label_selector: Some("app=cart".into()),
        limit: Some(2),
        ..Default::default()
    }
}

fn config_map(color: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"app": "cart"}},
        "data": {"color": color, "size": "L"},
    }))
    .unwrap()
}

fn write_params() -> WriteParams {
    WriteParams {
        field_manager: Some("kuber-tests".into()),
        ..Default::default()
    }
}

fn replicas_patch(to: i64) -> serde_json::Value {
    json!([
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": to},
    ])
}

#[tokio::test]
async fn list_with_selector_and_limit() {
    let (server, client) = serve("list.json").await;
    let pods = CoreV1Api::new(client)
        .list_namespaced_pod("shop", &list_params())
        .await
        .expect("list");
    let report = server.finish();
    assert!(report.all_matched(), "{report:?}");
    let names: Vec<_> = pods
        .items
        .iter()
        .map(|p| p.metadata.as_ref().unwrap().name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["cart-1", "cart-2"]);
    assert_eq!(
        pods.metadata.unwrap().continue_.as_deref(),
        Some("eyJydiI6NTAxfQ")
    );
}

#[tokio::test]
async fn list_in_another_namespace_without_limit_is_a_mismatch() {
    let (server, client) = serve("list.json").await;
    let params = ListParams {
        limit: None,
        ..list_params()
    };
    // The recorded answer still comes back: the mismatch is the server's to report.
    CoreV1Api::new(client)
        .list_namespaced_pod("other", &params)
        .await
        .expect("list");
    let diffs = mismatch(&server.finish());
    assert_eq!(
        diffs,
        [
            "path: expected /api/v1/namespaces/shop/pods, sent /api/v1/namespaces/other/pods",
            "query: missing limit=2",
        ]
    );
}

#[tokio::test]
async fn create_with_body() {
    let (server, client) = serve("create.json").await;
    let created = CoreV1Api::new(client)
        .create_namespaced_config_map("shop", &config_map("blue"), &write_params())
        .await
        .expect("create");
    let report = server.finish();
    assert!(report.all_matched(), "{report:?}");
    let meta = created.metadata.unwrap();
    assert_eq!(meta.namespace.as_deref(), Some("shop"));
    assert_eq!(meta.resource_version.as_deref(), Some("502"));
    assert_eq!(created.data.unwrap()["color"], "blue");
}

#[tokio::test]
async fn create_with_another_body_is_a_mismatch() {
    let (server, client) = serve("create.json").await;
    CoreV1Api::new(client)
        .create_namespaced_config_map("shop", &config_map("red"), &WriteParams::default())
        .await
        .expect("create");
    let diffs = mismatch(&server.finish());
    assert_eq!(
        diffs,
        [
            "query: missing fieldManager=kuber-tests",
            r#"body: at /data/color expected "blue", sent "red""#,
        ]
    );
}

#[tokio::test]
async fn json_patch() {
    let (server, client) = serve("patch.json").await;
    let patched = AppsV1Api::new(client)
        .patch_namespaced_deployment(
            "cart",
            "shop",
            &Patch::Json(replicas_patch(3)),
            &PatchParams::default(),
        )
        .await
        .expect("patch");
    let report = server.finish();
    assert!(report.all_matched(), "{report:?}");
    assert_eq!(patched.spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn patch_of_another_type_or_value_is_a_mismatch() {
    let (server, client) = serve("patch.json").await;
    let merge = Patch::Merge(replicas_patch(3));
    let result = AppsV1Api::new(client)
        .patch_namespaced_deployment("cart", "shop", &merge, &PatchParams::default())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        mismatch(&server.finish()),
        ["content type: expected application/json-patch+json, sent application/merge-patch+json"]
    );

    let (server, client) = serve("patch.json").await;
    let wrong = Patch::Json(replicas_patch(4));
    let result = AppsV1Api::new(client)
        .patch_namespaced_deployment("cart", "shop", &wrong, &PatchParams::default())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        mismatch(&server.finish()),
        ["body: at /1/value expected 3, sent 4"]
    );
}

#[tokio::test]
async fn watch_with_bookmarks() {
    let (server, client) = serve("watch.json").await;
    let params = ListParams {
        allow_watch_bookmarks: Some(true),
        ..Default::default()
    };
    let stream = CoreV1Api::new(client)
        .watch_namespaced_pod_list("shop", &params)
        .await
        .expect("watch");
    // The body arrives in pieces cut mid-line; the stream still yields whole events.
    let events: Vec<_> = stream.collect().await;
    let report = server.finish();
    assert!(report.all_matched(), "{report:?}");
    let events: Vec<_> = events.into_iter().map(|e| e.expect("event")).collect();
    let types: Vec<_> = events.iter().map(WatchEvent::type_name).collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "BOOKMARK"]);
    let WatchEvent::Bookmark(pod) = &events[2] else {
        unreachable!()
    };
    let meta = pod.metadata.as_ref().unwrap();
    assert_eq!(meta.resource_version.as_deref(), Some("510"));
    assert_eq!(
        meta.annotations.as_ref().unwrap()["k8s.io/initial-events-end"],
        "true"
    );
}

#[tokio::test]
async fn watch_without_bookmarks_is_a_mismatch() {
    let (server, client) = serve("watch.json").await;
    let stream = CoreV1Api::new(client)
        .watch_namespaced_pod_list("shop", &ListParams::default())
        .await
        .expect("watch");
    drop(stream);
    assert_eq!(
        mismatch(&server.finish()),
        ["query: missing allowWatchBookmarks=true"]
    );
}

#[tokio::test]
async fn calls_beyond_the_recording_and_calls_never_made_are_reported() {
    let (server, client) = serve("list.json").await;
    let core = CoreV1Api::new(client);
    core.list_namespaced_pod("shop", &list_params())
        .await
        .expect("list");
    // The same connection is reused; the server answers 500 and notes the request.
    let extra = core.list_namespaced_pod("shop", &list_params()).await;
    assert_eq!(extra.unwrap_err().status_code(), Some(500));
    let report = server.finish();
    assert!(report.matched(0));
    assert_eq!(
        report.unexpected,
        ["GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dcart&limit=2"]
    );

    let (server, _client) = serve("create.json").await;
    let report = server.finish();
    assert_eq!(report.checks, [Check::NotRequested]);
    assert_eq!(
        report.problems(&exchanges("create.json")),
        ["#0 POST /api/v1/namespaces/shop/configmaps?&fieldManager=kuber-tests: never requested"]
    );
}
