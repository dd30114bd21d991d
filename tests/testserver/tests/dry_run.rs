//! `dryRun=All` on every write path: the answer is the would-be object, and nothing is stored —
//! no object changes (GET/LIST), the resourceVersion stays, no watch event is sent, no garbage
//! collection or finalizer runs. kubectl sends a delete's `dryRun` in the DeleteOptions body.

mod support;

use std::time::Duration;

use kuber_testserver::TestServer;
use serde_json::{Value, json};
use support::call;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

const JSON: &str = "application/json";
const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

/// Everything a write could touch, as the server lists it now.
async fn state(server: &TestServer) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        CMS,
        DEPLOYS,
        PODS,
        "/api/v1/namespaces",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ] {
        let (code, mut list) = call(server, "GET", path, JSON, "").await;
        assert_eq!(code, 200, "{path}: {list}");
        list["metadata"] = Value::Null;
        all.push(list);
    }
    all
}

/// A watch on `path` from now; [`Watch::first`] reads the first event.
struct Watch(BufReader<tokio::net::TcpStream>);

impl Watch {
    async fn open(server: &TestServer, path: &str) -> Watch {
        let rv = server.resource_version();
        let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let req = format!(
            "GET {path}?watch=true&resourceVersion={rv} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(s);
        let mut line = String::new();
        // The head.
        loop {
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Watch(reader)
    }

    /// The first event's type and object name (chunk-size lines skipped).
    async fn first(&mut self) -> (String, String) {
        let read = async {
            let mut line = String::new();
            loop {
                line.clear();
                assert!(
                    self.0.read_line(&mut line).await.unwrap() > 0,
                    "watch ended"
                );
                // Chunk sizes such as `123` parse as JSON too.
                if let Ok(event @ Value::Object(_)) = serde_json::from_str::<Value>(line.trim()) {
                    return (
                        event["type"].as_str().unwrap().to_owned(),
                        event["object"]["metadata"]["name"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    );
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("no watch event")
    }
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    })
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

/// A server with ConfigMaps `a` and `b` (`b` owned by `a`), Deployment `web` and Pod `p`.
async fn seeded() -> TestServer {
    let server = TestServer::start().await.unwrap();
    let (code, a) = call(&server, "POST", CMS, JSON, &cm("a").to_string()).await;
    assert_eq!(code, 201, "{a}");
    let mut b = cm("b");
    b["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
        "name": "a", "uid": a["metadata"]["uid"]}]);
    for (path, object) in [(CMS, b), (DEPLOYS, deployment("web")), (PODS, pod("p"))] {
        let (code, answer) = call(&server, "POST", path, JSON, &object.to_string()).await;
        assert_eq!(code, 201, "{answer}");
    }
    server
}

/// Sends a dry-run write, checks its answer with `check`, then that nothing changed: the same
/// objects, the same resourceVersion, and a watch on `watched` whose first event is the real
/// write of `marker` made afterwards.
async fn dry(
    server: &TestServer,
    (method, path, ct, body): (&str, &str, &str, Value),
    watched: &str,
    check: impl FnOnce(u16, &Value),
) {
    let before = state(server).await;
    let rv = server.resource_version();
    let mut watch = Watch::open(server, watched).await;
    let body = match body {
        Value::Null => String::new(),
        b => b.to_string(),
    };
    let (code, answer) = call(server, method, path, ct, &body).await;
    check(code, &answer);
    assert_eq!(
        server.resource_version(),
        rv,
        "{method} {path} bumped the resourceVersion"
    );
    assert_eq!(
        state(server).await,
        before,
        "{method} {path} stored something"
    );
    let marker = match watched {
        DEPLOYS => deployment("marker"),
        PODS => pod("marker"),
        _ => cm("marker"),
    };
    let (code, _) = call(server, "POST", watched, JSON, &marker.to_string()).await;
    assert_eq!(code, 201);
    assert_eq!(
        watch.first().await,
        ("ADDED".to_owned(), "marker".to_owned()),
        "{method} {path} sent a watch event"
    );
    let (code, _) = call(server, "DELETE", &format!("{watched}/marker"), JSON, "").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn create_answers_the_would_be_object_and_stores_nothing() {
    let server = seeded().await;
    let path = format!("{CMS}?dryRun=All");
    dry(&server, ("POST", &path, JSON, cm("new")), CMS, |code, a| {
        assert_eq!(code, 201, "{a}");
        assert_eq!(a["metadata"]["name"], "new");
        assert!(a["metadata"]["uid"].is_string());
        assert!(a["metadata"].get("resourceVersion").is_none(), "{a}");
    })
    .await;
    let (code, _) = call(&server, "GET", &format!("{CMS}/new"), JSON, "").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn replace_answers_the_new_object_and_keeps_the_old() {
    let server = seeded().await;
    let mut changed = cm("a");
    changed["data"] = json!({"k": "changed"});
    let path = format!("{CMS}/a?dryRun=All");
    dry(&server, ("PUT", &path, JSON, changed), CMS, |code, a| {
        assert_eq!(code, 200, "{a}");
        assert_eq!(a["data"]["k"], "changed");
    })
    .await;
}

#[tokio::test]
async fn every_patch_type_answers_the_patched_object_and_keeps_the_old() {
    let server = seeded().await;
    let path = format!("{CMS}/a?dryRun=All");
    let patches = [
        (
            "application/json-patch+json",
            json!([{"op": "replace", "path": "/data/k", "value": "changed"}]),
        ),
        (
            "application/merge-patch+json",
            json!({"data": {"k": "changed"}}),
        ),
        (
            "application/strategic-merge-patch+json",
            json!({"data": {"k": "changed"}}),
        ),
    ];
    for (ct, patch) in patches {
        dry(&server, ("PATCH", &path, ct, patch), CMS, |code, a| {
            assert_eq!(code, 200, "{ct}: {a}");
            assert_eq!(a["data"]["k"], "changed", "{ct}");
        })
        .await;
    }
    // Server-side apply: an update of `a` and the create of a missing object.
    let apply = "application/apply-patch+yaml";
    let mut changed = cm("a");
    changed["data"] = json!({"k": "changed"});
    let path = format!("{CMS}/a?dryRun=All&fieldManager=m&force=true");
    dry(&server, ("PATCH", &path, apply, changed), CMS, |code, a| {
        assert_eq!(code, 200, "{a}");
        assert_eq!(a["data"]["k"], "changed");
    })
    .await;
    let path = format!("{CMS}/fresh?dryRun=All&fieldManager=m");
    dry(
        &server,
        ("PATCH", &path, apply, cm("fresh")),
        CMS,
        |code, a| {
            assert_eq!(code, 201, "{a}");
            assert_eq!(a["metadata"]["name"], "fresh");
        },
    )
    .await;
    let (code, _) = call(&server, "GET", &format!("{CMS}/fresh"), JSON, "").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn delete_in_the_query_or_the_body_deletes_nothing_and_collects_nothing() {
    let server = seeded().await;
    let path = format!("{CMS}/a?dryRun=All");
    dry(
        &server,
        ("DELETE", &path, JSON, Value::Null),
        CMS,
        |code, a| {
            assert_eq!(code, 200, "{a}");
            assert_eq!(a["status"], "Success", "{a}");
        },
    )
    .await;
    // As kubectl delete --dry-run=server sends it; foreground would add a finalizer and delete
    // the dependent `b`.
    let path = format!("{CMS}/a");
    let body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"],
        "propagationPolicy": "Foreground"});
    dry(&server, ("DELETE", &path, JSON, body), CMS, |code, a| {
        assert_eq!(code, 200, "{a}");
        assert_eq!(
            a["metadata"]["finalizers"],
            json!(["foregroundDeletion"]),
            "{a}"
        );
        assert!(a["metadata"]["deletionTimestamp"].is_string(), "{a}");
    })
    .await;
    let body = json!({"dryRun": ["All"], "propagationPolicy": "Orphan"});
    dry(&server, ("DELETE", &path, JSON, body), CMS, |code, a| {
        assert_eq!(code, 200, "{a}");
    })
    .await;
    // A pod (deleted gracefully) and a namespace (its contents deleted first).
    dry(
        &server,
        (
            "DELETE",
            &format!("{PODS}/p"),
            JSON,
            json!({"dryRun": ["All"]}),
        ),
        PODS,
        |code, a| assert_eq!((code, &a["kind"]), (200, &json!("Pod")), "{a}"),
    )
    .await;
    dry(
        &server,
        (
            "DELETE",
            "/api/v1/namespaces/default?dryRun=All",
            JSON,
            Value::Null,
        ),
        CMS,
        |code, a| assert_eq!((code, &a["kind"]), (200, &json!("Namespace")), "{a}"),
    )
    .await;
}

#[tokio::test]
async fn delete_collection_in_the_query_or_the_body_deletes_nothing() {
    let server = seeded().await;
    let path = format!("{CMS}?dryRun=All");
    dry(
        &server,
        ("DELETE", &path, JSON, Value::Null),
        CMS,
        |code, a| {
            assert_eq!(code, 200, "{a}");
            assert_eq!(a["items"].as_array().unwrap().len(), 2, "{a}");
        },
    )
    .await;
    let body = json!({"dryRun": ["All"]});
    dry(&server, ("DELETE", CMS, JSON, body), CMS, |code, a| {
        assert_eq!(code, 200, "{a}");
        assert_eq!(a["items"].as_array().unwrap().len(), 2, "{a}");
    })
    .await;
}

#[tokio::test]
async fn status_and_scale_subresources_write_nothing() {
    let server = seeded().await;
    let web = format!("{DEPLOYS}/web");
    let (_, current) = call(&server, "GET", &web, JSON, "").await;
    let mut with_status = current.clone();
    with_status["status"] = json!({"replicas": 7});
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 5}});
    let merge = "application/merge-patch+json";
    // Each write, and where the answer shows the would-be value.
    let cases = [
        ("PUT", "status", JSON, with_status, "/status/replicas", 7),
        (
            "PATCH",
            "status",
            merge,
            json!({"status": {"replicas": 8}}),
            "/status/replicas",
            8,
        ),
        ("PUT", "scale", JSON, scale, "/spec/replicas", 5),
        (
            "PATCH",
            "scale",
            merge,
            json!({"spec": {"replicas": 6}}),
            "/spec/replicas",
            6,
        ),
    ];
    for (method, sub, ct, body, pointer, want) in cases {
        let path = format!("{web}/{sub}?dryRun=All");
        dry(&server, (method, &path, ct, body), DEPLOYS, |code, a| {
            assert_eq!((code, a.pointer(pointer)), (200, Some(&json!(want))), "{a}")
        })
        .await;
    }
}

#[tokio::test]
async fn eviction_and_binding_write_nothing() {
    let server = seeded().await;
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": "p", "namespace": "default"}});
    dry(
        &server,
        (
            "POST",
            &format!("{PODS}/p/eviction?dryRun=All"),
            JSON,
            eviction.clone(),
        ),
        PODS,
        |code, a| assert_eq!(code, 201, "{a}"),
    )
    .await;
    let mut in_body = eviction;
    in_body["deleteOptions"] = json!({"dryRun": ["All"]});
    dry(
        &server,
        ("POST", &format!("{PODS}/p/eviction"), JSON, in_body),
        PODS,
        |code, a| assert_eq!(code, 201, "{a}"),
    )
    .await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
    dry(
        &server,
        (
            "POST",
            &format!("{PODS}/p/binding?dryRun=All"),
            JSON,
            binding,
        ),
        PODS,
        |code, a| assert_eq!(code, 201, "{a}"),
    )
    .await;
}

#[tokio::test]
async fn a_dry_run_crd_is_not_served() {
    let server = seeded().await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    dry(
        &server,
        (
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?dryRun=All",
            JSON,
            crd,
        ),
        CMS,
        |code, a| assert_eq!(code, 201, "{a}"),
    )
    .await;
    let (code, _) = call(&server, "GET", "/apis/example.com/v1", JSON, "").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn other_dry_run_values_are_refused_before_any_write() {
    let server = seeded().await;
    let cases = [
        (
            "POST",
            format!("{CMS}?dryRun=Some"),
            JSON,
            cm("new"),
            "CreateOptions",
        ),
        (
            "PUT",
            format!("{CMS}/a?dryRun=true"),
            JSON,
            cm("a"),
            "UpdateOptions",
        ),
        (
            "PATCH",
            format!("{CMS}/a?dryRun=All&dryRun=x"),
            "application/merge-patch+json",
            json!({"data": {"k": "x"}}),
            "PatchOptions",
        ),
        (
            "DELETE",
            format!("{CMS}/a?dryRun=1"),
            JSON,
            Value::Null,
            "DeleteOptions",
        ),
        (
            "DELETE",
            format!("{CMS}/a"),
            JSON,
            json!({"dryRun": ["x"]}),
            "DeleteOptions",
        ),
        (
            "DELETE",
            CMS.to_owned(),
            JSON,
            json!({"dryRun": [""]}),
            "DeleteOptions",
        ),
    ];
    for (method, path, ct, body, options) in cases {
        dry(&server, (method, &path, ct, body), CMS, |code, a| {
            assert_eq!(code, 422, "{method} {path}: {a}");
            assert_eq!(a["reason"], "Invalid");
            assert_eq!(a["details"]["kind"], options);
            assert_eq!(a["details"]["causes"][0]["field"], "dryRun");
            let message = a["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!(
                    "{options}.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{{"
                )),
                "{message}"
            );
        })
        .await;
    }
    // A DeleteOptions body whose dryRun is not a list is Go's decoding error.
    let (code, a) = call(
        &server,
        "DELETE",
        &format!("{CMS}/a"),
        JSON,
        r#"{"dryRun":"All"}"#,
    )
    .await;
    assert_eq!(code, 400, "{a}");
    let (code, _) = call(&server, "GET", &format!("{CMS}/a"), JSON, "").await;
    assert_eq!(code, 200);
}
