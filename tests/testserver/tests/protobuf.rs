//! Protobuf on the wire: bodies read, answers and watches written, Accept negotiated as the
//! real server does, through raw HTTP/1.1 requests.

mod support;

use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::core::v1::{ConfigMap, ConfigMapList, Namespace, Secret};
use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
use kuber_models::proto::{self, Message};
use kuber_testserver::{Options, TestServer};
use serde_json::{Value, json};
use std::time::Duration;
use support::call;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PB: &str = "application/vnd.kubernetes.protobuf";
const JSON: &str = "application/json";

/// An answer as read off the socket: code, Content-Type, body bytes (chunks joined).
struct Raw {
    code: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }

    fn status(&self) -> Status {
        assert_eq!(
            self.content_type,
            PB,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        proto::decode_object::<Status>(&self.body).unwrap()
    }
}

async fn raw(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the answer ends")
        .unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let mut rest = &out[split + 4..];
    let code = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_owned();
    let body = if head.contains("transfer-encoding: chunked") {
        let mut joined = Vec::new();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            joined.extend_from_slice(&rest[end + 2..end + 2 + n]);
            rest = &rest[end + 2 + n + 2..];
        }
        joined
    } else {
        rest.to_vec()
    };
    Raw {
        code,
        content_type,
        body,
    }
}

/// A JSON object as the protobuf body of its type.
fn body_of<T>(v: &Value) -> Vec<u8>
where
    T: Message + kuber_models::Resource + serde_core::de::DeserializeOwned,
{
    proto::encode_object(&serde_json::from_value::<T>(v.clone()).unwrap())
}

async fn post_pb(server: &TestServer, path: &str, body: &[u8]) -> Raw {
    raw(
        server,
        "POST",
        path,
        &[("Content-Type", PB), ("Accept", JSON)],
        body,
    )
    .await
}

/// What differs between two creates of the same object.
fn without_identity(mut v: Value) -> Value {
    if let Some(m) = v["metadata"].as_object_mut() {
        for k in ["name", "uid", "resourceVersion", "creationTimestamp"] {
            m.remove(k);
        }
        // A namespace's name label.
        if let Some(l) = m.get_mut("labels").and_then(Value::as_object_mut) {
            l.remove("kubernetes.io/metadata.name");
        }
        for f in m
            .get_mut("managedFields")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            f.as_object_mut().unwrap().remove("time");
        }
    }
    v
}

/// A collection's path, the protobuf encoding of its type, and its object by name.
type Case<'a> = (&'a str, fn(&Value) -> Vec<u8>, &'a dyn Fn(&str) -> Value);

#[tokio::test]
async fn protobuf_creates_store_what_json_creates() {
    let server = TestServer::start().await.unwrap();
    let cm = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"a": "b"}}, "data": {"k": "v"}})
    };
    let ns =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let secret = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "type": "Opaque", "data": {"k": "dg=="}})
    };
    let deploy = |name: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
                "template": {"metadata": {"labels": {"app": "x"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})
    };
    let cases: [Case; 4] = [
        (
            "/api/v1/namespaces/default/configmaps",
            body_of::<ConfigMap>,
            &cm,
        ),
        ("/api/v1/namespaces", body_of::<Namespace>, &ns),
        (
            "/api/v1/namespaces/default/secrets",
            body_of::<Secret>,
            &secret,
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            body_of::<Deployment>,
            &deploy,
        ),
    ];
    for (path, encode, make) in cases {
        let created = post_pb(&server, path, &encode(&make("by-pb"))).await;
        assert_eq!(created.code, 201, "{path}: {}", created.json());
        assert_eq!(created.content_type, JSON);
        let (code, by_json) = call(&server, "POST", path, JSON, &make("by-json").to_string()).await;
        assert_eq!(code, 201, "{by_json}");
        let (_, read_pb) = call(&server, "GET", &format!("{path}/by-pb"), JSON, "").await;
        let (_, read_json) = call(&server, "GET", &format!("{path}/by-json"), JSON, "").await;
        assert_eq!(read_pb["metadata"]["name"], "by-pb");
        assert_eq!(
            without_identity(read_pb),
            without_identity(read_json),
            "{path}"
        );
    }
    // The record reads protobuf bodies as JSON too.
    let posted = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.header("content-type") == Some(PB))
        .unwrap();
    assert_eq!(posted.json().unwrap()["metadata"]["name"], "by-pb");
    assert_eq!(posted.json().unwrap()["kind"], "ConfigMap");
}

#[tokio::test]
async fn gets_lists_and_deletes_answer_protobuf_when_asked() {
    let server = TestServer::start().await.unwrap();
    for name in ["a", "b"] {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name}, "data": {"k": name}});
        let (code, _) = call(
            &server,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            JSON,
            &cm.to_string(),
        )
        .await;
        assert_eq!(code, 201);
    }
    let accept = [(
        "Accept",
        "application/vnd.kubernetes.protobuf, application/json",
    )];
    let path = "/api/v1/namespaces/default/configmaps/a";
    let got = raw(&server, "GET", path, &accept, b"").await;
    assert_eq!((got.code, got.content_type.as_str()), (200, PB));
    let (_, json_a) = call(&server, "GET", path, JSON, "").await;
    assert_eq!(
        proto::decode_object::<ConfigMap>(&got.body).unwrap(),
        serde_json::from_value::<ConfigMap>(json_a).unwrap()
    );
    let env = proto::decode_envelope(&got.body).unwrap();
    assert_eq!((env.api_version, env.kind), ("v1", "ConfigMap"));

    let list_path = "/api/v1/namespaces/default/configmaps";
    let list = raw(&server, "GET", list_path, &accept, b"").await;
    assert_eq!((list.code, list.content_type.as_str()), (200, PB));
    let env = proto::decode_envelope(&list.body).unwrap();
    assert_eq!((env.api_version, env.kind), ("v1", "ConfigMapList"));
    let (_, json_list) = call(&server, "GET", list_path, JSON, "").await;
    assert_eq!(
        proto::decode_object::<ConfigMapList>(&list.body).unwrap(),
        serde_json::from_value::<ConfigMapList>(json_list).unwrap()
    );

    // A 404 is a Status in protobuf; so is a delete's answer.
    let missing = raw(&server, "GET", &format!("{list_path}/nope"), &accept, b"").await;
    assert_eq!(missing.code, 404);
    let status = missing.status();
    assert_eq!(
        (status.reason.as_deref(), status.code),
        (Some("NotFound"), Some(404))
    );
    assert_eq!(
        status.message.as_deref(),
        Some("configmaps \"nope\" not found")
    );
    let deleted = raw(&server, "DELETE", path, &accept, b"").await;
    assert_eq!(deleted.code, 200);
    assert_eq!(deleted.status().status.as_deref(), Some("Success"));
    let collection = raw(&server, "DELETE", list_path, &accept, b"").await;
    assert_eq!(collection.code, 200);
    let gone = proto::decode_object::<ConfigMapList>(&collection.body).unwrap();
    assert_eq!(gone.items.len(), 1);
    assert_eq!(
        gone.items[0].metadata.as_ref().unwrap().name.as_deref(),
        Some("b")
    );
}

#[tokio::test]
async fn writes_answer_in_the_negotiated_type() {
    let server = TestServer::start().await.unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "w"}, "data": {"k": "v"}});
    let path = "/api/v1/namespaces/default/configmaps";
    let both = [("Content-Type", PB), ("Accept", PB)];
    let created = raw(&server, "POST", path, &both, &body_of::<ConfigMap>(&cm)).await;
    assert_eq!((created.code, created.content_type.as_str()), (201, PB));
    let mut typed = proto::decode_object::<ConfigMap>(&created.body).unwrap();
    typed.data.as_mut().unwrap().insert("k".into(), "w".into());
    let updated = raw(
        &server,
        "PUT",
        &format!("{path}/w"),
        &both,
        &proto::encode_object(&typed),
    )
    .await;
    assert_eq!((updated.code, updated.content_type.as_str()), (200, PB));
    let updated = proto::decode_object::<ConfigMap>(&updated.body).unwrap();
    assert_eq!(updated.data.unwrap()["k"], "w");
    // A conflict is a protobuf Status too.
    let again = raw(&server, "POST", path, &both, &body_of::<ConfigMap>(&cm)).await;
    assert_eq!(again.code, 409);
    assert_eq!(again.status().reason.as_deref(), Some("AlreadyExists"));
}

#[tokio::test]
async fn protobuf_dry_runs_store_nothing() {
    let server = TestServer::start().await.unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}});
    let path = "/api/v1/namespaces/default/configmaps";
    let created = post_pb(
        &server,
        &format!("{path}?dryRun=All"),
        &body_of::<ConfigMap>(&cm),
    )
    .await;
    assert_eq!(created.code, 201);
    assert_eq!(created.json()["metadata"]["name"], "dry");
    let (_, list) = call(&server, "GET", path, JSON, "").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn undecodable_protobuf_bodies_are_400_naming_the_problem() {
    let server = TestServer::start().await.unwrap();
    let path = "/api/v1/namespaces/default/configmaps";
    let garbage = post_pb(&server, path, b"not protobuf at all").await;
    assert_eq!(garbage.code, 400);
    let message = garbage.json()["message"].as_str().unwrap().to_owned();
    // The prefix and the body's first bytes as the real server prints them.
    assert_eq!(
        message,
        "the object provided is unrecognized (must be of type ConfigMap): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (6e6f742070726f746f62756620617420616c6c)"
    );
    let magic_only = post_pb(&server, path, b"k8s\x00").await;
    assert_eq!(magic_only.code, 400);
    assert!(
        magic_only.json()["message"]
            .as_str()
            .unwrap()
            .contains("empty body")
    );
    // The envelope reads, the ConfigMap in it does not: named with its field path.
    let broken = proto::encode_envelope("v1", "ConfigMap", &[0x0a, 0x05, 0x01]);
    let typed = post_pb(&server, path, &broken).await;
    assert_eq!(typed.code, 400);
    let message = typed.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: "),
        "{message}"
    );
    assert!(
        message.contains("io.k8s.api.core.v1.ConfigMap"),
        "{message}"
    );
    let unknown = proto::encode_envelope("v1", "Nothing", &[]);
    let unknown = post_pb(&server, path, &unknown).await;
    assert_eq!(unknown.code, 400);
    assert_eq!(
        unknown.json()["message"],
        "Nothing in version \"v1\" cannot be handled as a ConfigMap: no kind \"Nothing\" is registered for version \"v1\" in scheme \"pkg/runtime/scheme.go:111\""
    );
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "q"}});
    let secret = post_pb(&server, path, &body_of::<Secret>(&secret)).await;
    assert_eq!(
        secret.json()["message"],
        "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion"
    );
    let (_, list) = call(&server, "GET", path, JSON, "").await;
    assert_eq!(list["items"], json!([]));
    // An envelope without apiVersion and kind is read as the endpoint's kind.
    let cm = serde_json::from_value::<ConfigMap>(json!({"metadata": {"name": "z"}})).unwrap();
    let mut raw_cm = Vec::new();
    cm.encode(&mut raw_cm);
    let untyped = post_pb(&server, path, &proto::encode_envelope("", "", &raw_cm)).await;
    assert_eq!(untyped.code, 201, "{}", untyped.json());
    assert_eq!(untyped.json()["kind"], "ConfigMap");
    // Bodies the endpoint has no decoder for list what it takes.
    let text = raw(
        &server,
        "POST",
        path,
        &[("Content-Type", "text/plain")],
        b"x",
    )
    .await;
    assert_eq!(text.code, 415);
    assert_eq!(
        text.json()["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor"
    );
}

async fn widgets(server: &TestServer) {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let (code, answer) = call(
        server,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        JSON,
        &crd.to_string(),
    )
    .await;
    assert_eq!(code, 201, "{answer}");
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    let (code, answer) = call(
        server,
        "POST",
        "/apis/example.com/v1/namespaces/default/widgets",
        JSON,
        &w.to_string(),
    )
    .await;
    assert_eq!(code, 201, "{answer}");
}

#[tokio::test]
async fn custom_resources_answer_json_or_406() {
    let server = TestServer::start().await.unwrap();
    widgets(&server).await;
    let path = "/apis/example.com/v1/namespaces/default/widgets/w";
    let first = raw(
        &server,
        "GET",
        path,
        &[(
            "Accept",
            "application/vnd.kubernetes.protobuf, application/json",
        )],
        b"",
    )
    .await;
    assert_eq!((first.code, first.content_type.as_str()), (200, JSON));
    assert_eq!(first.json()["metadata"]["name"], "w");
    let watch = raw(
        &server,
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets?watch=true&timeoutSeconds=1",
        &[(
            "Accept",
            "application/vnd.kubernetes.protobuf, application/json",
        )],
        b"",
    )
    .await;
    assert_eq!((watch.code, watch.content_type.as_str()), (200, JSON));
    let line = String::from_utf8(watch.body).unwrap();
    let event: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(event["type"], "ADDED");
    // Protobuf only: 406, its Status in protobuf (errors take any type).
    let only = raw(&server, "GET", path, &[("Accept", PB)], b"").await;
    assert_eq!(only.code, 406);
    let status = only.status();
    assert_eq!(status.reason.as_deref(), Some("NotAcceptable"));
    assert_eq!(
        status.message.as_deref(),
        Some(
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor"
        )
    );
    // A protobuf patch lists the patch types.
    let patch = raw(
        &server,
        "PATCH",
        path,
        &[("Content-Type", PB), ("Accept", JSON)],
        b"k8s\x00",
    )
    .await;
    assert_eq!(patch.code, 415);
    assert_eq!(
        patch.json()["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/apply-patch+cbor"
    );
    let body = proto::encode_envelope("example.com/v1", "Widget", &[]);
    let create = post_pb(
        &server,
        "/apis/example.com/v1/namespaces/default/widgets",
        &body,
    )
    .await;
    // The real server panics on it and drops the connection; here a 500 Status.
    assert_eq!(create.code, 500);
    assert_eq!(create.json()["reason"], "InternalError");
    let (_, list) = call(
        &server,
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets",
        JSON,
        "",
    )
    .await;
    assert_eq!(support::names(&list), ["w"]);
}

#[tokio::test]
async fn built_in_refusals_of_accept_and_patch_bodies() {
    let server = TestServer::start().await.unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}});
    let path = "/api/v1/namespaces/default/configmaps";
    post_pb(&server, path, &body_of::<ConfigMap>(&cm)).await;
    // The router's own 406 and 415 for built-in kinds.
    let text = raw(&server, "GET", path, &[("Accept", "text/plain")], b"").await;
    assert_eq!(text.code, 406);
    assert_eq!(
        text.json()["message"],
        "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor, application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch, application/cbor-seq"
    );
    let patch = raw(
        &server,
        "PATCH",
        &format!("{path}/p"),
        &[("Content-Type", PB), ("Accept", PB)],
        b"k8s\x00",
    )
    .await;
    assert_eq!(patch.code, 415);
    assert_eq!(
        patch.status().message.as_deref(),
        Some("415: Unsupported Media Type")
    );
}

/// The frames of a protobuf watch: (type, object body).
fn frames(mut body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some((frame, used)) = proto::next_frame(body).unwrap() {
        let event = proto::decode_watch_frame(frame).unwrap();
        out.push((event.event_type.to_owned(), event.object.to_vec()));
        body = &body[used..];
    }
    assert!(body.is_empty());
    out
}

#[tokio::test]
async fn watches_stream_protobuf_frames_with_bookmarks_and_errors() {
    let server = TestServer::start_with(Options {
        history: 2,
        bookmark_interval: Duration::from_millis(100),
    })
    .await
    .unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let path = "/api/v1/namespaces/default/configmaps";
    post_pb(&server, path, &body_of::<ConfigMap>(&cm)).await;
    let watch = raw(
        &server,
        "GET",
        &format!("{path}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"),
        &[("Accept", "application/vnd.kubernetes.protobuf;stream=watch")],
        b"",
    )
    .await;
    assert_eq!(watch.code, 200);
    assert_eq!(
        watch.content_type,
        "application/vnd.kubernetes.protobuf;stream=watch"
    );
    let events = frames(&watch.body);
    assert_eq!(events[0].0, "ADDED");
    let added = proto::decode_object::<ConfigMap>(&events[0].1).unwrap();
    assert_eq!(added.metadata.unwrap().name.as_deref(), Some("x"));
    assert_eq!(events[1].0, "BOOKMARK");
    let end = proto::decode_object::<ConfigMap>(&events[1].1).unwrap();
    assert_eq!(
        end.metadata.unwrap().annotations.unwrap()["k8s.io/initial-events-end"],
        "true"
    );
    // Interval bookmarks follow within the second.
    assert!(events[2..].iter().all(|(t, _)| t == "BOOKMARK"));
    assert!(events.len() > 2, "{} events", events.len());

    // A watch from before the kept history: one ERROR frame with a 410 Status.
    for n in 0..4 {
        let cm =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("n{n}")}});
        post_pb(&server, path, &body_of::<ConfigMap>(&cm)).await;
    }
    let old = raw(
        &server,
        "GET",
        &format!("{path}?watch=true&resourceVersion=1&timeoutSeconds=1"),
        &[("Accept", PB)],
        b"",
    )
    .await;
    let events = frames(&old.body);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "ERROR");
    let status = proto::decode_object::<Status>(&events[0].1).unwrap();
    assert_eq!(
        (status.code, status.reason.as_deref()),
        (Some(410), Some("Expired"))
    );
}

#[tokio::test]
async fn delete_options_may_come_in_protobuf() {
    use kuber_models::apimachinery::pkg::apis::meta::v1::DeleteOptions;
    let server = TestServer::start().await.unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}});
    let path = "/api/v1/namespaces/default/configmaps";
    post_pb(&server, path, &body_of::<ConfigMap>(&cm)).await;
    let options = DeleteOptions {
        dry_run: Some(vec!["All".into()]),
        ..DeleteOptions::default()
    };
    let mut raw_options = Vec::new();
    options.encode(&mut raw_options);
    // Clients register DeleteOptions in every group's version.
    let body = proto::encode_envelope("apps/v1", "DeleteOptions", &raw_options);
    let dry = raw(
        &server,
        "DELETE",
        &format!("{path}/d"),
        &[("Content-Type", PB), ("Accept", JSON)],
        &body,
    )
    .await;
    assert_eq!(dry.code, 200, "{}", dry.json());
    let (code, _) = call(&server, "GET", &format!("{path}/d"), JSON, "").await;
    assert_eq!(code, 200, "a dry-run delete keeps the object");
    let wrong = proto::encode_envelope("v1", "ConfigMap", &[]);
    let wrong = raw(
        &server,
        "DELETE",
        &format!("{path}/d"),
        &[("Content-Type", PB), ("Accept", JSON)],
        &wrong,
    )
    .await;
    assert_eq!(wrong.code, 400);
    assert_eq!(
        wrong.json()["message"],
        "no kind \"ConfigMap\" is registered for version \"v1\" in scheme \"pkg/runtime/scheme.go:111\""
    );
    let (code, _) = call(&server, "GET", &format!("{path}/d"), JSON, "").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn every_status_follows_the_accept_header() {
    let server = TestServer::start().await.unwrap();
    // A path no API serves, and an injected failure, both in protobuf when asked.
    let missing = raw(
        &server,
        "GET",
        "/apis/nowhere/v1/things",
        &[("Accept", PB)],
        b"",
    )
    .await;
    assert_eq!(missing.code, 404);
    assert_eq!(missing.status().reason.as_deref(), Some("NotFound"));
    server
        .fail(kuber_testserver::Match::verb("list").resource("configmaps"))
        .times(1)
        .with(429);
    let path = "/api/v1/namespaces/default/configmaps";
    let throttled = raw(&server, "GET", path, &[("Accept", PB)], b"").await;
    assert_eq!(throttled.code, 429);
    assert_eq!(throttled.status().code, Some(429));
    // JSON still for a client that asks for it.
    server
        .fail(kuber_testserver::Match::verb("list").resource("configmaps"))
        .times(1)
        .with(500);
    let failed = raw(&server, "GET", path, &[("Accept", JSON)], b"").await;
    assert_eq!((failed.code, failed.content_type.as_str()), (500, JSON));
}

#[tokio::test]
async fn protobuf_reads_of_richer_kinds_equal_their_json_reads() {
    let server = TestServer::start().await.unwrap();
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
            "strategy": {"rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "nginx",
                    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}},
                    "ports": [{"containerPort": 80}]}]}}}});
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "stringData": {"k": "v"}});
    let cases = [
        ("/apis/apps/v1/namespaces/default/deployments", deploy),
        ("/api/v1/namespaces/default/secrets", secret),
    ];
    for (path, object) in cases {
        let (code, answer) = call(&server, "POST", path, JSON, &object.to_string()).await;
        assert_eq!(code, 201, "{answer}");
        let name = format!("{path}/{}", object["metadata"]["name"].as_str().unwrap());
        let pb = raw(&server, "GET", &name, &[("Accept", PB)], b"").await;
        assert_eq!((pb.code, pb.content_type.as_str()), (200, PB));
        let (_, json) = call(&server, "GET", &name, JSON, "").await;
        // Both typed: the protobuf read re-encoded is the JSON read's encoding.
        let kind = json["kind"].as_str().unwrap().to_owned();
        let from_json = match kind.as_str() {
            "Deployment" => body_of::<Deployment>(&json),
            _ => body_of::<Secret>(&json),
        };
        assert_eq!(pb.body, from_json, "{kind}");
    }
}

#[tokio::test]
async fn metadata_conversions_answer_partial_object_metadata() {
    let server = TestServer::start().await.unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}, "data": {"k": "v"}});
    let path = "/api/v1/namespaces/default/configmaps";
    post_pb(&server, path, &body_of::<ConfigMap>(&cm)).await;
    // client-go's metadata client: protobuf first, which is not written here, then JSON.
    let one = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
    let many = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    let got = raw(
        &server,
        "GET",
        &format!("{path}/m"),
        &[("Accept", one)],
        b"",
    )
    .await;
    assert_eq!((got.code, got.content_type.as_str()), (200, JSON));
    let got = got.json();
    assert_eq!(
        (&got["kind"], &got["apiVersion"], &got["metadata"]["name"]),
        (
            &json!("PartialObjectMetadata"),
            &json!("meta.k8s.io/v1"),
            &json!("m")
        )
    );
    assert!(got.get("data").is_none());
    let list = raw(&server, "GET", path, &[("Accept", many)], b"")
        .await
        .json();
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["items"][0]["kind"], "PartialObjectMetadata");
    assert_eq!(list["items"][0]["metadata"]["name"], "m");
    // The wrong shape: the real server's 406, naming its internal type.
    let wrong = raw(&server, "GET", path, &[("Accept", one)], b"").await;
    assert_eq!(wrong.code, 406);
    assert_eq!(
        wrong.json()["message"],
        "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"
    );
    let wrong = raw(
        &server,
        "GET",
        &format!("{path}/m"),
        &[("Accept", many)],
        b"",
    )
    .await;
    assert_eq!(
        wrong.json()["message"],
        "you requested PartialObjectMetadataList, but the requested object is not a list (*core.ConfigMap)"
    );
    let watch = raw(
        &server,
        "GET",
        &format!("{path}?watch=true&timeoutSeconds=1"),
        &[("Accept", one)],
        b"",
    )
    .await;
    let text = String::from_utf8(watch.body).unwrap();
    let event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(event["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(event["object"]["metadata"]["name"], "m");
}
