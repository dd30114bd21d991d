//! kuber's verbs against the test server, each asserting what the real 1.36 server answers.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use kuber::models::Resource as _;
use kuber::models::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use kuber::models::api::core::v1::{ConfigMap, Namespace, Pod, PodSpec};
use kuber::models::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kuber::watch::Event;
use kuber::{Context, Deleted, Patch};
use kuber_testserver::{Options, TestServer};
use serde_json::{Value, json};

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>()
            }),
            ..Default::default()
        }),
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..Default::default()
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    let labels: BTreeMap<String, String> = [("app".to_string(), name.to_string())].into();
    Deployment {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }),
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: serde_json::from_value(json!({
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}]}
            }))
            .unwrap(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn rv(meta: Option<&ObjectMeta>) -> u64 {
    meta.and_then(|m| m.resource_version.as_deref())
        .and_then(|r| r.parse().ok())
        .expect("a numeric resourceVersion")
}

fn names<K: kuber::models::Resource>(items: &[K]) -> Vec<String> {
    items
        .iter()
        .map(|o| o.name().unwrap_or("").to_owned())
        .collect()
}

async fn ns(ctx: &Context, name: &str) -> Context {
    let namespace = Namespace {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    ctx.put(&namespace).await.expect("create namespace");
    let mut ctx = ctx.clone();
    ctx.set_ns(name);
    ctx
}

/// The next watch event, within 5 s.
async fn next<K>(events: &mut (impl Stream<Item = kuber::Result<Event<K>>> + Unpin)) -> Event<K> {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream goes on")
        .expect("no error")
}

#[tokio::test]
async fn servers_are_independent_and_start_with_the_four_namespaces() {
    let (a, b) = (
        TestServer::start().await.unwrap(),
        TestServer::start().await.unwrap(),
    );
    assert_ne!(a.url(), b.url());
    let ctx_a = a.context();
    ns(&ctx_a, "only-on-a").await;
    let on_a = ctx_a.list::<Namespace>().await.unwrap();
    let on_b = b.context().list::<Namespace>().await.unwrap();
    assert_eq!(
        names(&on_b.items),
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    assert_eq!(on_a.items.len(), 5);
    let url = a.url().to_owned();
    drop(a);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut gone = ctx_a.clone();
    gone.set_retries(0, false);
    assert!(
        gone.list::<Namespace>().await.is_err(),
        "{url} still answers after drop"
    );
}

#[tokio::test]
async fn create_get_and_the_real_errors() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let created = ctx.put(&cm("a", &[])).await.unwrap();
    let meta = created.metadata.as_ref().unwrap();
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(meta.uid.as_ref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(
        meta.generation, None,
        "a ConfigMap has no spec, so no generation"
    );
    let second = ctx.put(&cm("b", &[])).await.unwrap();
    assert!(rv(second.metadata.as_ref()) > rv(Some(meta)));
    let read = ctx.get::<ConfigMap>("a").await.unwrap();
    assert_eq!(read, created);

    let err = ctx.put(&cm("a", &[])).await.unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some("configmaps \"a\" already exists")
    );
    let err = ctx.get::<ConfigMap>("nope").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some("configmaps \"nope\" not found")
    );
    let err = ctx.get::<Deployment>("nope").await.unwrap_err();
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some("deployments.apps \"nope\" not found")
    );
    let mut elsewhere = ctx.clone();
    elsewhere.set_ns("missing");
    let err = elsewhere.put(&cm("a", &[])).await.unwrap_err();
    assert_eq!(
        (
            err.status_code(),
            err.status().and_then(|s| s.message.as_deref())
        ),
        (Some(404), Some("namespaces \"missing\" not found"))
    );

    let mut unnamed = cm("", &[]);
    unnamed.metadata_mut().name = None;
    let err = ctx.put(&unnamed).await.unwrap_err();
    assert!(err.is_invalid(), "{err}");
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some(
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
        )
    );
    unnamed.metadata_mut().generate_name = Some("gen-".into());
    let generated = ctx.put(&unnamed).await.unwrap();
    let name = generated.name().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
}

#[tokio::test]
async fn replace_conflicts_on_a_stale_resource_version_and_generation_follows_spec() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let created = ctx.put(&deployment("web", 1)).await.unwrap();
    assert_eq!(created.metadata.as_ref().unwrap().generation, Some(1));

    let mut relabelled = created.clone();
    relabelled.metadata_mut().labels = Some([("x".to_string(), "y".to_string())].into());
    let relabelled = ctx.replace(&relabelled).await.unwrap();
    assert_eq!(relabelled.metadata.as_ref().unwrap().generation, Some(1));
    assert!(rv(relabelled.metadata.as_ref()) > rv(created.metadata.as_ref()));

    let err = ctx.replace(&created).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some(
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
        )
    );
    assert_eq!(err.reason(), Some("Conflict"));

    let mut scaled = relabelled.clone();
    scaled.spec.as_mut().unwrap().replicas = Some(3);
    let scaled = ctx.replace(&scaled).await.unwrap();
    assert_eq!(scaled.metadata.as_ref().unwrap().generation, Some(2));

    // Unchanged: no new resourceVersion.
    let same = ctx.replace(&scaled).await.unwrap();
    assert_eq!(rv(same.metadata.as_ref()), rv(scaled.metadata.as_ref()));
}

#[tokio::test]
async fn status_and_spec_are_written_apart() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let mut web = deployment("web", 1);
    web.status = Some(DeploymentStatus {
        replicas: Some(9),
        ..Default::default()
    });
    let created = ctx.put(&web).await.unwrap();
    // Create drops the status sent; the real server answers an empty one.
    assert_eq!(
        created.status,
        Some(DeploymentStatus::default()),
        "create drops the status"
    );

    let mut with_status = created.clone();
    with_status.status = Some(DeploymentStatus {
        ready_replicas: Some(1),
        ..Default::default()
    });
    with_status.spec.as_mut().unwrap().replicas = Some(5);
    let written = ctx.replace_status(&with_status).await.unwrap();
    assert_eq!(written.status.as_ref().unwrap().ready_replicas, Some(1));
    assert_eq!(
        written.spec.as_ref().unwrap().replicas,
        Some(1),
        "status write left spec alone"
    );
    assert_eq!(written.metadata.as_ref().unwrap().generation, Some(1));

    let mut spec_write = written.clone();
    spec_write.spec.as_mut().unwrap().replicas = Some(2);
    spec_write.status = None;
    let written = ctx.replace(&spec_write).await.unwrap();
    assert_eq!(written.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(
        written.status.as_ref().unwrap().ready_replicas,
        Some(1),
        "spec write left status alone"
    );

    let patched = ctx
        .update_status::<Deployment>(
            "web",
            Patch::Merge(json!({"status": {"readyReplicas": 2}, "spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.as_ref().unwrap().ready_replicas, Some(2));
    assert_eq!(patched.spec.as_ref().unwrap().replicas, Some(2));
}

#[tokio::test]
async fn deletes_answer_as_the_real_server_does() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let plain = ctx.put(&cm("plain", &[])).await.unwrap();
    match ctx.delete::<ConfigMap>("plain").await.unwrap() {
        Deleted::Status(s) => {
            let d = s.details.unwrap();
            assert_eq!(s.status.as_deref(), Some("Success"));
            assert_eq!(
                (d.name.as_deref(), d.kind.as_deref()),
                (Some("plain"), Some("configmaps"))
            );
            assert_eq!(d.uid, plain.metadata.unwrap().uid);
        }
        Deleted::Object(o) => panic!("a ConfigMap delete answers a Status, not {o:?}"),
    }
    assert!(
        ctx.get::<ConfigMap>("plain")
            .await
            .unwrap_err()
            .is_not_found()
    );

    let pod = Pod {
        metadata: Some(ObjectMeta {
            name: Some("doomed".into()),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![serde_json::from_value(json!({"name": "c", "image": "i"})).unwrap()],
            ..Default::default()
        }),
        ..Default::default()
    };
    ctx.put(&pod).await.unwrap();
    match ctx.delete::<Pod>("doomed").await.unwrap() {
        Deleted::Object(p) => assert!(p.metadata.unwrap().deletion_timestamp.is_some()),
        Deleted::Status(s) => panic!("a Pod delete answers the pod, not {s:?}"),
    }

    let mut held = cm("held", &[]);
    held.metadata_mut().finalizers = Some(vec!["example.com/hold".into()]);
    ctx.put(&held).await.unwrap();
    match ctx.delete::<ConfigMap>("held").await.unwrap() {
        Deleted::Object(o) => {
            let m = o.metadata.unwrap();
            assert!(m.deletion_timestamp.is_some());
            assert_eq!(m.finalizers.unwrap(), ["example.com/hold"]);
        }
        Deleted::Status(s) => panic!("a held delete answers the object, not {s:?}"),
    }
    assert!(
        ctx.get::<ConfigMap>("held")
            .await
            .unwrap()
            .metadata
            .unwrap()
            .deletion_timestamp
            .is_some()
    );
    ctx.update::<ConfigMap>(
        "held",
        Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        ctx.get::<ConfigMap>("held")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        ctx.delete::<ConfigMap>("held")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn merge_and_json_patches() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&cm("p", &[("a", "1")])).await.unwrap();
    let merged = ctx
        .update::<ConfigMap>(
            "p",
            Patch::Merge(
                json!({"data": {"k": null, "n": "2"}, "metadata": {"labels": {"b": "2"}}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.data.unwrap(),
        [("n".to_string(), "2".to_string())].into()
    );
    assert_eq!(
        merged
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap()
            .len(),
        2
    );
    let patched = ctx
        .update::<ConfigMap>(
            "p",
            Patch::Json(json!([
                {"op": "add", "path": "/data/j", "value": "3"},
                {"op": "remove", "path": "/metadata/labels/a"}
            ])),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.data.unwrap().get("j").map(String::as_str),
        Some("3")
    );
    assert_eq!(patched.metadata.unwrap().labels.unwrap().len(), 1);
    let err = ctx
        .update::<ConfigMap>(
            "p",
            Patch::Json(json!([{"op": "remove", "path": "/data/none"}])),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(422), "{err}");
    let err = ctx
        .update::<ConfigMap>("missing", Patch::Merge(json!({"data": {}})))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let stale = ctx
        .update::<ConfigMap>(
            "p",
            Patch::Merge(json!({"metadata": {"resourceVersion": "1"}})),
        )
        .await
        .unwrap_err();
    assert!(stale.is_conflict());
}

#[tokio::test]
async fn label_and_field_selectors() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let other = ns(&ctx, "other").await;
    ctx.put(&cm(
        "web-1",
        &[("app", "web"), ("tier", "front"), ("n", "1")],
    ))
    .await
    .unwrap();
    ctx.put(&cm("web-2", &[("app", "web"), ("n", "5")]))
        .await
        .unwrap();
    ctx.put(&cm("db", &[("app", "db")])).await.unwrap();
    other.put(&cm("web-1", &[("app", "web")])).await.unwrap();
    let sel = |s: &'static str| {
        let ctx = ctx.clone();
        async move { names(&ctx.list::<ConfigMap>().labels(s).await.unwrap().items) }
    };
    assert_eq!(sel("app=web").await, ["web-1", "web-2"]);
    assert_eq!(sel("app in (web,db),!tier").await, ["db", "web-2"]);
    assert_eq!(sel("app!=web").await, ["db"]);
    assert_eq!(sel("n>2").await, ["web-2"]);
    assert_eq!(sel("tier").await, ["web-1"]);
    assert_eq!(sel("app notin (web)").await, ["db"]);
    let err = ctx.list::<ConfigMap>().labels("app in").await.unwrap_err();
    assert_eq!(err.status_code(), Some(400));

    let everywhere = ctx
        .list::<ConfigMap>()
        .all_namespaces()
        .labels("app=web")
        .await
        .unwrap();
    let spots: Vec<_> = everywhere
        .items
        .iter()
        .map(|c| format!("{}/{}", c.namespace().unwrap(), c.name().unwrap()))
        .collect();
    assert_eq!(spots, ["default/web-1", "default/web-2", "other/web-1"]);
    let named = ctx
        .list::<ConfigMap>()
        .all_namespaces()
        .fields("metadata.name=web-1,metadata.namespace!=default")
        .await
        .unwrap();
    assert_eq!(named.items.len(), 1);
    assert_eq!(named.items[0].namespace(), Some("other"));
    let err = ctx
        .list::<ConfigMap>()
        .fields("data.k=v")
        .await
        .unwrap_err();
    assert_eq!(
        (
            err.status_code(),
            err.status().and_then(|s| s.message.as_deref())
        ),
        (
            Some(400),
            Some(
                "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            )
        )
    );
}

#[tokio::test]
async fn limit_and_continue() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    for i in 0..5 {
        ctx.put(&cm(&format!("c{i}"), &[])).await.unwrap();
    }
    let first = ctx.list::<ConfigMap>().limit(2).await.unwrap();
    assert_eq!(names(&first.items), ["c0", "c1"]);
    let meta = first.metadata.clone();
    assert_eq!(meta.remaining_item_count, Some(3));
    let token = meta.continue_.unwrap();
    let second = ctx
        .list::<ConfigMap>()
        .limit(2)
        .continue_token(&token)
        .await
        .unwrap();
    assert_eq!(names(&second.items), ["c2", "c3"]);
    let third = ctx
        .list::<ConfigMap>()
        .limit(2)
        .continue_token(second.metadata.continue_.unwrap())
        .await
        .unwrap();
    assert_eq!(names(&third.items), ["c4"]);
    assert_eq!(third.metadata.continue_, None);

    let pages: Vec<_> = ctx.list::<ConfigMap>().limit(2).pages().collect().await;
    assert_eq!(pages.len(), 3);

    // A token from before the compacted history has expired.
    ns(&ctx, "later").await;
    server.compact();
    let err = ctx
        .list::<ConfigMap>()
        .limit(2)
        .continue_token(&token)
        .await
        .unwrap_err();
    assert!(err.is_gone(), "{err}");
}

#[tokio::test]
async fn watches_from_a_resource_version_with_bookmarks_and_410() {
    let server = TestServer::start_with(Options {
        bookmark_interval: Duration::from_millis(100),
        ..Options::default()
    })
    .await
    .unwrap();
    let ctx = server.context();
    let first = ctx.put(&cm("w0", &[])).await.unwrap();
    let from = first
        .metadata
        .as_ref()
        .unwrap()
        .resource_version
        .clone()
        .unwrap();
    ctx.put(&cm("w1", &[("app", "web")])).await.unwrap();

    let mut events = Box::pin(ctx.watch::<ConfigMap>().resource_version(&from).stream());
    let e: Event<ConfigMap> = next(&mut events).await;
    assert!(
        matches!(&e, Event::Added(c) if c.name() == Some("w1")),
        "{e:?}"
    );
    ctx.update::<ConfigMap>("w1", Patch::Merge(json!({"data": {"x": "y"}})))
        .await
        .unwrap();
    ctx.delete::<ConfigMap>("w0").await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match next(&mut events).await {
            Event::Modified(c) => seen.push(format!("MODIFIED {}", c.name().unwrap())),
            Event::Deleted(c) => seen.push(format!("DELETED {}", c.name().unwrap())),
            Event::Bookmark { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["MODIFIED w1", "DELETED w0"]);
    // Bookmarks come at the configured interval.
    loop {
        if let Event::Bookmark { resource_version } = next(&mut events).await {
            assert_eq!(resource_version, server.resource_version().to_string());
            break;
        }
    }

    // History compacted: the raw watch answers an ERROR 410 event.
    server.compact();
    let api = kuber::api::CoreV1Api::new(ctx.client().clone());
    let mut raw = api
        .watch_namespaced_config_map_list(
            "default",
            &kuber::api::ListParams {
                resource_version: Some(from.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    match raw.next().await.unwrap().unwrap() {
        kuber::WatchEvent::Error(s) => {
            assert_eq!((s.code, s.reason.as_deref()), (Some(410), Some("Expired")));
            assert!(
                s.message
                    .unwrap()
                    .starts_with(&format!("too old resource version: {from} ("))
            );
        }
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    // kuber's watch starts over with the current state.
    let mut events = Box::pin(ctx.watch::<ConfigMap>().resource_version(&from).stream());
    loop {
        match next(&mut events).await {
            Event::Listed { items, relist, .. } => {
                assert!(relist);
                assert_eq!(names(&items), ["w1"]);
                break;
            }
            Event::Bookmark { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_watch_sees_selector_transitions_and_ends_at_its_timeout() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let mut events = Box::pin(ctx.watch::<ConfigMap>().labels("app=web").stream());
    let listed: Event<ConfigMap> = next(&mut events).await;
    assert!(
        matches!(&listed, Event::Listed { items, .. } if items.is_empty()),
        "{listed:?}"
    );
    ctx.put(&cm("t", &[])).await.unwrap();
    ctx.update::<ConfigMap>(
        "t",
        Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(next(&mut events).await, Event::Added(c) if c.name() == Some("t")));
    ctx.update::<ConfigMap>(
        "t",
        Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(next(&mut events).await, Event::Deleted(c) if c.name() == Some("t")));

    let api = kuber::api::CoreV1Api::new(ctx.client().clone());
    let started = std::time::Instant::now();
    let mut raw = api
        .watch_namespaced_config_map_list(
            "default",
            &kuber::api::ListParams {
                resource_version: Some(server.resource_version().to_string()),
                timeout_seconds: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(raw.next().await.is_none());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn discovery_and_unknown_paths() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    // kuber resolves kinds by name through discovery.
    let deploy = ctx.get_kind("deploy", None).await;
    assert!(deploy.is_ok(), "{deploy:?}");
    let client = ctx.client();
    let op = kuber::api::OPERATIONS
        .iter()
        .find(|o| o.id == "getAPIVersions")
        .unwrap();
    let get = |path: &'static str| async move {
        client
            .call::<Value>(kuber::api::Request::at(op, path, &[]))
            .await
    };
    let core = get("/api/v1").await.unwrap();
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["singularName"], "pod");
    assert!(pods["verbs"].as_array().unwrap().contains(&json!("create")));
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "pods/status")
    );
    let groups = get("/apis").await.unwrap();
    let autoscaling = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "autoscaling")
        .unwrap();
    assert_eq!(autoscaling["preferredVersion"]["version"], "v2");
    let version = get("/version").await.unwrap();
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("36"))
    );
    for path in [
        "/apis/nope.example/v1/things",
        "/api/v1/namespaces/default/widgets",
    ] {
        let err = get(path).await.unwrap_err();
        match err {
            kuber::api::Error::Api(e) => assert_eq!(
                (e.code, e.message()),
                (
                    404,
                    Some("the server could not find the requested resource")
                )
            ),
            other => panic!("{path}: {other}"),
        }
    }
}

#[tokio::test]
async fn dry_runs_store_nothing() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let before = server.resource_version();
    let answered = ctx.put(&cm("dry", &[])).dry_run().await.unwrap();
    assert_eq!(answered.name(), Some("dry"));
    assert!(
        ctx.get::<ConfigMap>("dry")
            .await
            .unwrap_err()
            .is_not_found()
    );
    ctx.put(&cm("wet", &[])).await.unwrap();
    let after_create = server.resource_version();
    assert_eq!(after_create, before + 1);
    ctx.update::<ConfigMap>("wet", Patch::Merge(json!({"data": {"k": "dry"}})))
        .dry_run()
        .await
        .unwrap();
    ctx.delete::<ConfigMap>("wet").dry_run().await.unwrap();
    let wet = ctx.get::<ConfigMap>("wet").await.unwrap();
    assert_eq!(wet.data.unwrap()["k"], "v");
    assert_eq!(server.resource_version(), after_create);
}

#[tokio::test]
async fn delete_collection_and_namespace_deletion() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let team = ns(&ctx, "team").await;
    for (name, set) in [("d1", "del"), ("d2", "del"), ("k1", "keep")] {
        team.put(&cm(name, &[("set", set)])).await.unwrap();
    }
    ctx.put(&cm("outside", &[("set", "del")])).await.unwrap();
    let answer = team
        .delete_collection::<ConfigMap>()
        .labels("set=del")
        .await
        .unwrap();
    match answer {
        Deleted::Object(list) => assert_eq!(names(&list.items), ["d1", "d2"]),
        Deleted::Status(s) => panic!("the real server answers the list, not {s:?}"),
    }
    assert_eq!(
        names(&team.list::<ConfigMap>().await.unwrap().items),
        ["k1"]
    );
    assert!(ctx.get::<ConfigMap>("outside").await.is_ok());

    match ctx.delete::<Namespace>("team").await.unwrap() {
        Deleted::Object(n) => assert!(n.metadata.unwrap().deletion_timestamp.is_some()),
        Deleted::Status(s) => panic!("a namespace delete answers the namespace, not {s:?}"),
    }
    assert!(
        ctx.get::<Namespace>("team")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let everywhere = ctx.list::<ConfigMap>().all_namespaces().await.unwrap();
    assert_eq!(names(&everywhere.items), ["outside"]);
    let err = team.put(&cm("late", &[])).await.unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn unsupported_patch_types_are_refused_not_misapplied() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&cm("s", &[])).await.unwrap();
    // Strategic merge patch is served (tests/writes.rs); a type no route takes is not.
    let op = kuber::api::OPERATIONS
        .iter()
        .find(|o| o.id == "patchCoreV1NamespacedConfigMap")
        .unwrap();
    let mut req = kuber::api::Request::new(op, &["default", "s"]);
    req.body = Some(kuber::api::request::Body {
        content_type: "application/x-unknown-patch",
        bytes: br#"{"data": {"k": "x"}}"#.to_vec(),
    });
    match server.client().call::<Value>(req).await.unwrap_err() {
        kuber::api::Error::Api(e) => {
            assert_eq!((e.code, e.reason()), (415, Some("UnsupportedMediaType")))
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        ctx.get::<ConfigMap>("s").await.unwrap().data.unwrap()["k"],
        "v"
    );
}

#[tokio::test]
async fn bodies_without_a_decoder_are_415_and_broken_protobuf_400() {
    let server = TestServer::start().await.unwrap();
    let op = kuber::api::OPERATIONS
        .iter()
        .find(|o| o.id == "createCoreV1NamespacedConfigMap")
        .unwrap();
    // (Content-Type, body, code, reason): protobuf is read (tests/protobuf.rs), an empty one
    // refused as the real decoder does.
    let cases: [(&'static str, &[u8], u16, &str); 2] = [
        ("text/plain", b"x", 415, "UnsupportedMediaType"),
        (
            "application/vnd.kubernetes.protobuf",
            b"k8s\x00",
            400,
            "BadRequest",
        ),
    ];
    for (content_type, bytes, code, reason) in cases {
        let mut req = kuber::api::Request::new(op, &["default"]);
        req.body = Some(kuber::api::request::Body {
            content_type,
            bytes: bytes.to_vec(),
        });
        match server.client().call::<Value>(req).await.unwrap_err() {
            kuber::api::Error::Api(e) => assert_eq!((e.code, e.reason()), (code, Some(reason))),
            other => panic!("{other}"),
        }
    }
    assert!(
        server
            .context()
            .list::<ConfigMap>()
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
