//! What each verb sends and how it reads the answer, against kuber-testserver: its own API for
//! the normal answers, hooks where a test scripts one (a discovery, a page token, a Status).

mod support;

use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::models::Resource as _;
use kuber::models::api::apps::v1::Deployment;
use kuber::models::api::core::v1::{ConfigMap, Namespace, Pod};
use kuber::{Context, Deleted, Error, Patch, PatchBody, PatchType, Propagation};
use kuber_testserver::{HookRequest, Match, Reply};
use support::{Server, json, last_segment, script_discovery};

/// What the scripted server of the kind tests answers: `{"apiVersion","kind","metadata":{"name"}}`
/// of a ConfigMap, Pod or (anything else) Namespace named as the path ends.
fn echo(req: &HookRequest) -> Option<Reply> {
    let name = last_segment(req);
    let kind = match req.path.split('/').nth(2) {
        Some("v1") if req.path.contains("/configmaps") => "ConfigMap",
        Some("v1") if req.path.contains("/pods") => "Pod",
        _ => "Namespace",
    };
    json(
        200,
        format!(
            r#"{{"apiVersion":"v1","kind":"{kind}","metadata":{{"name":"{name}","namespace":"default"}}}}"#
        ),
    )
}

/// A scripted server: the discovery of [`script_discovery`], every other request answered by
/// `answer`.
async fn scripted(
    answer: impl Fn(&HookRequest) -> Option<Reply> + Send + Sync + 'static,
) -> Server {
    let server = Server::start().await;
    script_discovery(&server);
    server.on_request(Match::any(), answer);
    server
}

async fn put(ctx: &Context, text: &str) {
    ctx.put_text(text).await.unwrap();
}

fn pod(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: web}}}}\nspec:\n  containers: [{{name: app, image: nginx}}]\n"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
}

fn body(request: &kuber_testserver::RecordedRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

#[tokio::test]
async fn typed_verbs_go_where_the_registry_says_in_the_right_namespace() {
    let server = Server::start().await;
    let mut ctx = server.context();
    put(&ctx, &namespace("other")).await;
    put(&ctx, &namespace("team")).await;
    put(&ctx, &pod("web", "default")).await;
    put(&ctx, &pod("web", "other")).await;
    put(
        &ctx,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: team}\n",
    )
    .await;
    server.forget();
    ctx.get::<Pod>("web").await.unwrap();
    let other = ctx.get::<Pod>("web").namespace("other").await.unwrap();
    assert_eq!(other.namespace(), Some("other"));
    ctx.set_ns("team");
    ctx.get::<ConfigMap>("cm").await.unwrap();
    // Cluster-scoped kinds ignore the namespace.
    ctx.get::<Namespace>("kube-system").await.unwrap();
    assert_eq!(
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods/web",
            "GET /api/v1/namespaces/other/pods/web",
            "GET /api/v1/namespaces/team/configmaps/cm",
            "GET /api/v1/namespaces/kube-system",
        ]
    );
    // Typed verbs need no discovery.
    assert_eq!(server.targets().len(), 4);
}

#[tokio::test]
async fn lists_pass_every_parameter_and_star_means_all_namespaces() {
    let server = Server::start().await;
    server.on_request(Match::verb("list").resource("pods"), |_| {
        json(200, r#"{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"a"}}]}"#)
    });
    let ctx = server.context();
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
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning&labelSelector=app%20in%20%28web%2Cdb%29&limit=5&resourceVersion=10&resourceVersionMatch=NotOlderThan",
            "GET /api/v1/pods",
        ]
    );
    // The server read them as sent.
    let asked = &server.requests()[0];
    assert_eq!(asked.query_param("labelSelector"), Some("app in (web,db)"));
    assert_eq!(
        asked.query_param("fieldSelector"),
        Some("status.phase=Running")
    );
}

#[tokio::test]
async fn pages_follow_continue_tokens_to_the_end() {
    let server = Server::start().await;
    // Tokens of its own, to see each one sent back as given.
    server.on_request(Match::verb("list").resource("configmaps"), |req| {
        let (token, name) = match req.query_param("continue") {
            Some("p2") => ("p3", "b"),
            Some("p3") => ("", "c"),
            _ => ("p2", "a"),
        };
        json(
            200,
            format!(r#"{{"kind":"ConfigMapList","apiVersion":"v1","metadata":{{"continue":"{token}"}},"items":[{{"metadata":{{"name":"{name}"}}}}]}}"#),
        )
    });
    let ctx = server.context();
    let pages: Vec<_> = ctx.list::<ConfigMap>().limit(1).pages().collect().await;
    let names: Vec<String> = pages
        .into_iter()
        .map(|p| p.unwrap().items[0].name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(
        server.lines(),
        [
            "GET /api/v1/namespaces/default/configmaps?limit=1",
            "GET /api/v1/namespaces/default/configmaps?continue=p2&limit=1",
            "GET /api/v1/namespaces/default/configmaps?continue=p3&limit=1",
        ]
    );
}

#[tokio::test]
async fn pages_of_the_server_come_whole() {
    let server = Server::start().await;
    let ctx = server.context();
    for name in ["a", "b", "c"] {
        put(
            &ctx,
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"),
        )
        .await;
    }
    let pages: Vec<_> = ctx.list::<ConfigMap>().limit(1).pages().collect().await;
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().items)
        .map(|c| c.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn creates_use_the_objects_namespace_and_fill_its_type() {
    let server = Server::start().await;
    let ctx = server.context();
    put(&ctx, &namespace("mine")).await;
    server.forget();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("c".into());
    cm.metadata_mut().namespace = Some("mine".into());
    ctx.put(&cm).dry_run().field_manager("me").await.unwrap();
    assert_eq!(
        server.lines()[0],
        "POST /api/v1/namespaces/mine/configmaps?dryRun=All&fieldManager=me"
    );
    let sent = server.calls()[0].json().unwrap();
    assert_eq!(sent["apiVersion"], "v1");
    assert_eq!(sent["kind"], "ConfigMap");
    // A dry run: nothing stored.
    assert!(
        ctx.get::<ConfigMap>("c")
            .namespace("mine")
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Without a namespace in the object: the context's.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n";
    let created = ctx.put_text(text).await.unwrap();
    assert_eq!(created.kind(), "ConfigMap");
    assert_eq!(created.namespace(), Some("default"));
    let creates: Vec<String> = server
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("POST"))
        .collect();
    assert_eq!(creates[1], "POST /api/v1/namespaces/default/configmaps");
    let posted = server
        .calls()
        .into_iter()
        .filter(|r| r.method == "POST")
        .nth(1)
        .unwrap();
    // A built-in kind goes as protobuf, which reads back as the object put.
    assert_eq!(
        posted.header("content-type"),
        Some("application/vnd.kubernetes.protobuf")
    );
    assert_eq!(
        posted.json().unwrap(),
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}, "data": {"k": "v"}})
    );
}

#[tokio::test]
async fn patches_are_sent_as_given_with_their_content_type() {
    let server = Server::start().await;
    let ctx = server.context();
    put(
        &ctx,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\n",
    )
    .await;
    server.forget();
    let text = r#"[{"op":"replace","path":"/data/a","value":"1e3"}]"#;
    let patched = ctx
        .update::<ConfigMap>("c", PatchBody::text(PatchType::Json, text).unwrap())
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["a"], "1e3");
    ctx.update::<ConfigMap>("c", Patch::Merge(serde_json::json!({"data": {"a": "b"}})))
        .await
        .unwrap();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("c".into());
    ctx.apply(&cm, "ctl").force().await.unwrap();
    let calls = server.calls();
    // Sent as is: not encoded a second time as a JSON string (Kuber.jl's fault).
    assert_eq!(body(&calls[0]), text);
    assert_eq!(
        calls[0].header("content-type"),
        Some("application/json-patch+json")
    );
    assert_eq!(
        calls[1].header("content-type"),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        server.lines()[2],
        "PATCH /api/v1/namespaces/default/configmaps/c?fieldManager=ctl&force=true"
    );
    assert_eq!(
        calls[2].header("content-type"),
        Some("application/apply-patch+yaml")
    );
    assert!(
        body(&calls[2]).contains(r#""kind":"ConfigMap""#),
        "{}",
        body(&calls[2])
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
    let server = Server::start().await;
    // Which of the two a server answers is its choice: one of each, scripted.
    server.on_request(Match::verb("delete").resource("pods"), |req| {
        match last_segment(req).as_str() {
            "gone" => json(
                200,
                r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}"#,
            ),
            name => json(
                200,
                format!(r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"default"}}}}"#),
            ),
        }
    });
    let ctx = server.context();
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
    let calls = server.calls();
    assert_eq!(
        calls[0].json().unwrap(),
        serde_json::json!({"gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
                           "preconditions": {"uid": "u-1"}})
    );
    // No options: no body (Kuber.jl's default too).
    assert_eq!(body(&calls[1]), "");
}

#[tokio::test]
async fn deletes_of_the_server_check_their_preconditions() {
    let server = Server::start().await;
    let ctx = server.context();
    put(&ctx, &pod("web", "default")).await;
    let err = ctx
        .delete::<Pod>("web")
        .preconditions(Some("u-1"), None)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    ctx.delete::<Pod>("web").grace_period(0).await.unwrap();
    assert!(ctx.get::<Pod>("web").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn empty_names_are_refused_without_a_request() {
    let server = Server::start().await;
    let ctx = server.context();
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
    assert_eq!(server.targets().len(), 0, "{:?}", server.targets());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn kind_names_resolve_by_a_fixed_rule() {
    let server = scripted(echo).await;
    let mut ctx = server.context();
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
        server.lines(),
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
    let discovery = server
        .requests()
        .iter()
        .filter(|s| s.path == "/apis")
        .count();
    assert_eq!(discovery, 1);
}

#[tokio::test]
async fn custom_kinds_are_found_through_discovery_and_stay_untyped() {
    let server = scripted(|req| {
        json(
            200,
            format!(
                r#"{{"apiVersion":"example.com/v1","kind":"Widget","metadata":{{"name":"w"}},"spec":{{"size":1}},"seen":"{}"}}"#,
                req.path
            ),
        )
    })
    .await;
    let ctx = server.context();
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
        server.lines(),
        [
            "GET /apis/example.com/v1/namespaces/default/widgets/w",
            "GET /apis/example.com/v1/namespaces/default/widgets/w",
            "GET /apis/example.com/v1/namespaces/default/widgets/w/status",
            "POST /apis/example.com/v1/namespaces/x/widgets",
        ]
    );
    assert_eq!(body(&server.calls()[3]), text);
}

#[tokio::test]
async fn unknown_kinds_name_the_close_ones_after_one_refresh() {
    let server = scripted(echo).await;
    let ctx = server.context();
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
    let discoveries = server
        .requests()
        .iter()
        .filter(|s| s.path == "/apis")
        .count();
    assert_eq!(discoveries, 3);
    assert!(server.calls().is_empty());
}

#[tokio::test]
async fn get_by_kind_name_without_a_name_lists() {
    let server = Server::start().await;
    let ctx = server.context();
    put(&ctx, &pod("a", "default")).await;
    server.forget();
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
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods",
            "GET /api/v1/namespaces/default/pods"
        ]
    );
}

#[tokio::test]
async fn server_errors_keep_their_status() {
    let server = Server::start().await;
    let ctx = server.context();
    let err = ctx.get::<Pod>("x").await.unwrap_err();
    assert!(err.is_not_found() && !err.is_conflict());
    assert_eq!(err.status_code(), Some(404));
    assert_eq!(err.status().unwrap().reason.as_deref(), Some("NotFound"));
    assert_eq!(
        err.status().unwrap().message.as_deref(),
        Some("pods \"x\" not found")
    );
}

#[tokio::test]
async fn scoped_timeouts_bound_only_the_calls_inside() {
    let server = Server::start().await;
    let ctx = server.context();
    put(&ctx, &pod("slow", "default")).await;
    server.delay(
        Match::verb("get").resource("pods"),
        Duration::from_millis(300),
    );
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
    let server = Server::start().await;
    let ctx = server.context();
    put(
        &ctx,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec: {containers: [{name: app, image: nginx}]}\n",
    )
    .await;
    server.forget();
    let scale = ctx.scale::<Deployment>("d", 3).await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
    let status = ctx.get_status::<Deployment>("d").await.unwrap();
    assert_eq!(status.spec.unwrap().replicas, Some(3));
    let calls = server.calls();
    assert_eq!(
        server.lines()[0],
        "PATCH /apis/apps/v1/namespaces/default/deployments/d/scale"
    );
    assert_eq!(body(&calls[0]), r#"{"spec":{"replicas":3}}"#);
    assert_eq!(
        server.lines()[1],
        "GET /apis/apps/v1/namespaces/default/deployments/d/status"
    );
}

#[tokio::test]
async fn set_server_moves_calls_and_discovery_to_the_new_server() {
    let a = Server::start().await;
    let b = Server::start().await;
    put(&a.context(), &pod("x", "default")).await;
    put(&b.context(), &pod("y", "default")).await;
    a.forget();
    b.forget();
    let mut ctx = a.context();
    ctx.get_kind("Pod", "x").await.unwrap();
    // A URL makes a client of its own: b over its socket.
    ctx.set_server(b.url()).unwrap();
    assert_eq!(ctx.server(), b.url());
    ctx.get_kind("Pod", "y").await.unwrap();
    assert_eq!(a.lines(), ["GET /api/v1/namespaces/default/pods/x"]);
    let on_b: Vec<String> = b
        .calls()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(on_b, ["GET /api/v1/namespaces/default/pods/y"]);
    // Discovery starts over on the new server.
    assert!(b.requests().iter().any(|s| s.path == "/apis"));
}

#[tokio::test]
async fn a_kind_of_a_group_the_server_lacks_is_not_served() {
    let server = scripted(echo).await;
    let ctx = server.context();
    // The models know CronJob (batch/v1); this server has no batch group.
    let err = ctx.get_kind("CronJob", "c").await.unwrap_err();
    assert!(matches!(err, Error::NotServed { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "CronJob (batch/v1) is not served by the server"
    );
    assert!(server.calls().is_empty());
}
