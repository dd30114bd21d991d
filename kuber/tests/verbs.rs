//! What each verb sends and how it reads the answer, against a scripted server.

mod fake;

use std::time::Duration;

use fake::{Fake, Seen, object, status};
use futures_util::StreamExt as _;
use kuber::models::Resource as _;
use kuber::models::api::apps::v1::Deployment;
use kuber::models::api::core::v1::{ConfigMap, Namespace, Pod};
use kuber::{Deleted, Error, Patch, PatchBody, PatchType, Propagation};

fn echo(seen: &Seen) -> fake::Reply {
    let name = seen.path.rsplit('/').next().unwrap_or_default();
    match seen.path.split('/').nth(2) {
        Some("v1") if seen.path.contains("/configmaps") => object("v1", "ConfigMap", name),
        Some("v1") if seen.path.contains("/pods") => object("v1", "Pod", name),
        _ => object("v1", "Namespace", name),
    }
}

#[tokio::test]
async fn typed_verbs_go_where_the_registry_says_in_the_right_namespace() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let mut ctx = fake.context();
    ctx.get::<Pod>("web").await.unwrap();
    ctx.get::<Pod>("web").namespace("other").await.unwrap();
    ctx.set_ns("team");
    ctx.get::<ConfigMap>("cm").await.unwrap();
    // Cluster-scoped kinds ignore the namespace.
    ctx.get::<Namespace>("kube-system").await.unwrap();
    assert_eq!(
        fake.lines(),
        [
            "GET /api/v1/namespaces/default/pods/web",
            "GET /api/v1/namespaces/other/pods/web",
            "GET /api/v1/namespaces/team/configmaps/cm",
            "GET /api/v1/namespaces/kube-system",
        ]
    );
    // Typed verbs need no discovery.
    assert_eq!(fake.seen().len(), 4);
}

#[tokio::test]
async fn lists_pass_every_parameter_and_star_means_all_namespaces() {
    let fake = Fake::start(|_| async {
        (200, r#"{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"a"}}]}"#.to_owned())
    })
    .await;
    let ctx = fake.context();
    let list = ctx
        .list::<Pod>()
        .labels("app in (web,db)")
        .fields("status.phase=Running")
        .limit(5)
        .resource_version("10")
        .resource_version_match("NotOlderThan")
        .await
        .unwrap();
    assert_eq!(list.resource_version(), Some("42"));
    assert_eq!(list.items[0].name(), Some("a"));
    ctx.list::<Pod>().all_namespaces().await.unwrap();
    assert_eq!(
        fake.lines(),
        [
            "GET /api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning&labelSelector=app%20in%20%28web%2Cdb%29&limit=5&resourceVersion=10&resourceVersionMatch=NotOlderThan",
            "GET /api/v1/pods",
        ]
    );
}

#[tokio::test]
async fn pages_follow_continue_tokens_to_the_end() {
    let fake = Fake::start(|s| async move {
        let (token, name) = if s.query.contains("continue=p2") {
            ("p3", "b")
        } else if s.query.contains("continue=p3") {
            ("", "c")
        } else {
            ("p2", "a")
        };
        (
            200,
            format!(r#"{{"kind":"ConfigMapList","apiVersion":"v1","metadata":{{"continue":"{token}"}},"items":[{{"metadata":{{"name":"{name}"}}}}]}}"#),
        )
    })
    .await;
    let ctx = fake.context();
    let pages: Vec<_> = ctx.list::<ConfigMap>().limit(1).pages().collect().await;
    let names: Vec<String> = pages
        .into_iter()
        .map(|p| p.unwrap().items[0].name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(
        fake.lines(),
        [
            "GET /api/v1/namespaces/default/configmaps?limit=1",
            "GET /api/v1/namespaces/default/configmaps?continue=p2&limit=1",
            "GET /api/v1/namespaces/default/configmaps?continue=p3&limit=1",
        ]
    );
}

#[tokio::test]
async fn creates_use_the_objects_namespace_and_fill_its_type() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let ctx = fake.context();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("c".into());
    cm.metadata_mut().namespace = Some("mine".into());
    ctx.put(&cm).dry_run().field_manager("me").await.unwrap();
    let calls = fake.calls();
    assert_eq!(
        calls[0].line(),
        "POST /api/v1/namespaces/mine/configmaps?dryRun=All&fieldManager=me"
    );
    let body: serde_json::Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["kind"], "ConfigMap");
    // Without a namespace in the object: the context's.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n";
    let created = ctx.put_text(text).await.unwrap();
    assert_eq!(created.kind(), "ConfigMap");
    assert_eq!(
        fake.lines()[1],
        "POST /api/v1/namespaces/default/configmaps"
    );
    assert_eq!(
        fake.calls()[1].body,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"y"},"data":{"k":"v"}}"#
    );
}

#[tokio::test]
async fn patches_are_sent_as_given_with_their_content_type() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let ctx = fake.context();
    let text = r#"[{"op":"replace","path":"/data/a","value":"1e3"}]"#;
    ctx.update::<ConfigMap>("c", PatchBody::text(PatchType::Json, text).unwrap())
        .await
        .unwrap();
    ctx.update::<ConfigMap>("c", Patch::Merge(serde_json::json!({"data": {"a": "b"}})))
        .await
        .unwrap();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("c".into());
    ctx.apply(&cm, "ctl").force().await.unwrap();
    let calls = fake.calls();
    // Sent as is: not encoded a second time as a JSON string (Kuber.jl's fault).
    assert_eq!(calls[0].body, text);
    assert_eq!(calls[0].content_type, "application/json-patch+json");
    assert_eq!(calls[1].content_type, "application/merge-patch+json");
    assert_eq!(
        calls[2].line(),
        "PATCH /api/v1/namespaces/default/configmaps/c?fieldManager=ctl&force=true"
    );
    assert_eq!(calls[2].content_type, "application/apply-patch+yaml");
    assert!(
        calls[2].body.contains(r#""kind":"ConfigMap""#),
        "{}",
        calls[2].body
    );
    let err = PatchBody::text(PatchType::Merge, "{not json").unwrap_err();
    assert!(
        err.to_string().starts_with("Merge patch text: JSON: "),
        "{err}"
    );
    // Apply text may be YAML: checked by kuber-api's reader, without quoting it.
    assert!(PatchBody::text(PatchType::Apply, "apiVersion: v1\nkind: ConfigMap\n").is_ok());
    let err = PatchBody::text(PatchType::Apply, "kind: ConfigMap\ndata: {a: \"SECRET").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply patch text: YAML: line 2 column 11: unclosed quote"
    );
}

#[tokio::test]
async fn deletes_send_their_options_and_read_a_status_or_the_object() {
    let fake = Fake::start(|s| async move {
        if s.path.ends_with("/gone") {
            (
                200,
                r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}"#
                    .to_owned(),
            )
        } else {
            echo(&s)
        }
    })
    .await;
    let ctx = fake.context();
    let answer = ctx
        .delete::<Pod>("gone")
        .grace_period(0)
        .propagation(Propagation::Foreground)
        .preconditions(Some("u-1"), None)
        .await
        .unwrap();
    assert!(matches!(answer, Deleted::Status(_)));
    let answer = ctx.delete::<Pod>("finalizing").await.unwrap();
    assert_eq!(answer.into_object().unwrap().name(), Some("finalizing"));
    let calls = fake.calls();
    let options: serde_json::Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(
        options,
        serde_json::json!({"gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
                           "preconditions": {"uid": "u-1"}})
    );
    // No options: no body (Kuber.jl's default too).
    assert_eq!(calls[1].body, "");
}

#[tokio::test]
async fn empty_names_are_refused_without_a_request() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let ctx = fake.context();
    let err = ctx.get::<Pod>("").await.unwrap_err();
    assert!(matches!(err, Error::Missing { verb: "get", .. }), "{err}");
    assert!(ctx.delete::<Pod>("").await.is_err());
    assert!(
        ctx.update::<Pod>("", Patch::Merge(serde_json::json!({})))
            .await
            .is_err()
    );
    assert!(ctx.replace(&ConfigMap::default()).await.is_err());
    assert!(ctx.get::<Pod>("a/b").await.is_err());
    assert!(ctx.logs("").await.is_err());
    assert_eq!(fake.seen().len(), 0, "{:?}", fake.lines());
}

#[tokio::test]
async fn kind_names_resolve_by_a_fixed_rule() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let mut ctx = fake.context();
    // `Event` is in core and events.k8s.io: core wins; the group picks the other.
    ctx.get_kind("Event", "e").await.unwrap();
    ctx.get_kind("events.k8s.io/Event", "e").await.unwrap();
    ctx.get_kind("Event.events.k8s.io", "e").await.unwrap();
    // Plural, lower case and short names.
    ctx.get_kind("deployments", "d").await.unwrap();
    ctx.get_kind("deploy", "d").await.unwrap();
    // The server prefers autoscaling/v9, which the models lack: the most stable served version
    // the models know (Kuber.jl would drop the group).
    ctx.get_kind("HorizontalPodAutoscaler", "h").await.unwrap();
    // Overrides and per-call versions.
    ctx.set_api_versions([("autoscaling", "v1")]);
    ctx.get_kind("HorizontalPodAutoscaler", "h").await.unwrap();
    ctx.get_kind("HorizontalPodAutoscaler", "h")
        .api_version("autoscaling/v2")
        .await
        .unwrap();
    assert_eq!(
        fake.lines(),
        [
            "GET /api/v1/namespaces/default/events/e",
            "GET /apis/events.k8s.io/v1/namespaces/default/events/e",
            "GET /apis/events.k8s.io/v1/namespaces/default/events/e",
            "GET /apis/apps/v1/namespaces/default/deployments/d",
            "GET /apis/apps/v1/namespaces/default/deployments/d",
            "GET /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h",
            "GET /apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h",
            "GET /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h",
        ]
    );
    // Discovery ran once for all of them.
    let discovery = fake.seen().iter().filter(|s| s.path == "/apis").count();
    assert_eq!(discovery, 1);
}

#[tokio::test]
async fn custom_kinds_are_found_through_discovery_and_stay_untyped() {
    let fake = Fake::start(|s| async move {
        (
            200,
            format!(
                r#"{{"apiVersion":"example.com/v1","kind":"Widget","metadata":{{"name":"w"}},"spec":{{"size":1}},"seen":"{}"}}"#,
                s.path
            ),
        )
    })
    .await;
    let ctx = fake.context();
    let w = ctx.get_kind("Widget", "w").await.unwrap();
    assert_eq!(w.kind(), "Widget");
    assert!(w.type_info().is_none());
    assert_eq!(w.field("spec").unwrap().as_str(), r#"{"size":1}"#);
    ctx.get_kind("wd", "w").await.unwrap();
    ctx.get_kind("widgets", "w")
        .subresource("status")
        .await
        .unwrap();
    let err = ctx
        .update_kind("Widget", "w", Patch::Merge(serde_json::json!({})))
        .subresource("scale")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Widget (example.com/v1): the server lists no `scale` subresource"
    );
    let err = ctx.delete_collection_kind("Widget").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Widget (example.com/v1): the server lists no `deletecollection` verb for widgets"
    );
    let text = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"n","namespace":"x"},"spec":{"size":2}}"#;
    ctx.put_text(text).await.unwrap();
    assert_eq!(
        fake.lines(),
        [
            "GET /apis/example.com/v1/namespaces/default/widgets/w",
            "GET /apis/example.com/v1/namespaces/default/widgets/w",
            "GET /apis/example.com/v1/namespaces/default/widgets/w/status",
            "POST /apis/example.com/v1/namespaces/x/widgets",
        ]
    );
    assert_eq!(fake.calls()[3].body, text);
}

#[tokio::test]
async fn unknown_kinds_name_the_close_ones_after_one_refresh() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let ctx = fake.context();
    let err = ctx.get_kind("Deploymnet", "x").await.unwrap_err();
    let Error::UnknownKind { name, close } = &err else {
        panic!("{err}")
    };
    assert_eq!(name, "Deploymnet");
    assert_eq!(
        close.first().map(String::as_str),
        Some("Deployment"),
        "{close:?}"
    );
    let err = ctx.get_kind("Widgit", "x").await.unwrap_err();
    assert!(err.to_string().contains("did you mean Widget"), "{err}");
    // A miss fetches discovery once more (a CRD created since), no more.
    let discoveries = fake.seen().iter().filter(|s| s.path == "/apis").count();
    assert_eq!(discoveries, 3);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn get_by_kind_name_without_a_name_lists() {
    let fake = Fake::start(|_| async {
        (200, r#"{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[{"metadata":{"name":"a"}}]}"#.to_owned())
    })
    .await;
    let ctx = fake.context();
    let list = ctx.get_kind("Pod", None).await.unwrap();
    assert_eq!(list.kind(), "PodList");
    let pods: kuber::models::api::core::v1::PodList = list.downcast().unwrap();
    assert_eq!(pods.items[0].name(), Some("a"));
    // Items of a built-in list come without their type; list_kind's get it back.
    let items = ctx.list_kind("pods").await.unwrap().items;
    assert_eq!((items[0].api_version(), items[0].kind()), ("v1", "Pod"));
    let pod: Pod = items[0].downcast().unwrap();
    assert_eq!(pod.name(), Some("a"));
    assert_eq!(
        fake.lines(),
        [
            "GET /api/v1/namespaces/default/pods",
            "GET /api/v1/namespaces/default/pods"
        ]
    );
}

#[tokio::test]
async fn server_errors_keep_their_status() {
    let fake = Fake::start(|_| async { status(404, "NotFound", "pods \\\"x\\\" not found") }).await;
    let ctx = fake.context();
    let err = ctx.get::<Pod>("x").await.unwrap_err();
    assert!(err.is_not_found() && !err.is_conflict());
    assert_eq!(err.status_code(), Some(404));
    assert_eq!(err.status().unwrap().reason.as_deref(), Some("NotFound"));
}

#[tokio::test]
async fn scoped_timeouts_bound_only_the_calls_inside() {
    let fake = Fake::start(|s| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        echo(&s)
    })
    .await;
    let ctx = fake.context();
    let other = ctx.clone();
    let outside = tokio::spawn(async move { other.get::<Pod>("slow").await });
    let err = ctx
        .with_timeout(Duration::from_millis(50), async {
            ctx.get::<Pod>("slow").await
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.to_string(), "get Pod: no answer within 50ms");
    // Another task using a clone at the same time was not bound.
    assert!(outside.await.unwrap().is_ok());
    // And after the scope, neither is this one.
    assert!(ctx.get::<Pod>("slow").await.is_ok());
}

#[tokio::test]
async fn subresources_and_deployments() {
    let fake = Fake::start(|s| async move {
        if s.path.ends_with("/scale") {
            (200, r#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d"},"spec":{"replicas":3}}"#.to_owned())
        } else {
            object("apps/v1", "Deployment", "d")
        }
    })
    .await;
    let ctx = fake.context();
    let scale = ctx.scale::<Deployment>("d", 3).await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
    ctx.get_status::<Deployment>("d").await.unwrap();
    let calls = fake.calls();
    assert_eq!(
        calls[0].line(),
        "PATCH /apis/apps/v1/namespaces/default/deployments/d/scale"
    );
    assert_eq!(calls[0].body, r#"{"spec":{"replicas":3}}"#);
    assert_eq!(
        calls[1].line(),
        "GET /apis/apps/v1/namespaces/default/deployments/d/status"
    );
}

#[tokio::test]
async fn set_server_moves_calls_and_discovery_to_the_new_server() {
    let a = Fake::start(|s| async move { echo(&s) }).await;
    let b = Fake::start(|s| async move { echo(&s) }).await;
    let mut ctx = a.context();
    ctx.get_kind("Pod", "x").await.unwrap();
    ctx.set_server(&b.url).unwrap();
    assert_eq!(ctx.server(), b.url);
    ctx.get_kind("Pod", "y").await.unwrap();
    assert_eq!(a.lines(), ["GET /api/v1/namespaces/default/pods/x"]);
    assert_eq!(b.lines(), ["GET /api/v1/namespaces/default/pods/y"]);
    // Discovery starts over on the new server.
    assert!(b.seen().iter().any(|s| s.path == "/apis"));
}

#[tokio::test]
async fn a_kind_of_a_group_the_server_lacks_is_not_served() {
    let fake = Fake::start(|s| async move { echo(&s) }).await;
    let ctx = fake.context();
    // The models know CronJob (batch/v1); this server has no batch group.
    let err = ctx.get_kind("CronJob", "c").await.unwrap_err();
    assert!(matches!(err, Error::NotServed { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "CronJob (batch/v1) is not served by the server"
    );
    assert!(fake.calls().is_empty());
}
