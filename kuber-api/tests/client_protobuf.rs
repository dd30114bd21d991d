//! Built-in kinds in Kubernetes' protobuf encoding: what the client asks for and sends, and how
//! it reads protobuf, JSON and broken answers.

mod support;

use futures_util::StreamExt as _;
use http::Response;
use kuber_api::request::PROTOBUF_ACCEPT;
use kuber_api::{CoreV1Api, Deleted, Encoding, Error, Patch};
use kuber_models::api::core::v1::{Pod, PodList};
use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
use kuber_models::proto::{self, Message};
use kuber_models::{Resource as _, WatchEvent};
use support::{InProcess, Reply, Seen, Step, config, json, send, streamed, whole};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": "7",
                     "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {},
                                 "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
        // Go value fields, which the server always writes (and a protobuf read sets).
        "status": {},
    }))
    .unwrap()
}

fn protobuf(status: u16, body: Vec<u8>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", PROTOBUF)
        .body(whole(body))
        .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> Status {
    serde_json::from_value(serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    }))
    .unwrap()
}

fn status_body(s: &Status) -> Vec<u8> {
    let mut raw = Vec::new();
    s.encode(&mut raw);
    proto::encode_envelope("v1", "Status", &raw)
}

fn api(server: &InProcess) -> CoreV1Api {
    CoreV1Api::new(server.client())
}

fn json_api(server: &InProcess) -> CoreV1Api {
    let config = config(&server.url, None).with_encoding(Encoding::Json);
    CoreV1Api::new(server.client_with(config).with_retries(0, false))
}

fn header<'a>(seen: &'a Seen, name: &str) -> &'a str {
    seen.headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn get_asks_for_protobuf_and_reads_it() {
    let server = InProcess::start(|_, _| protobuf(200, proto::encode_object(&pod("web")))).await;
    let got = api(&server)
        .read_namespaced_pod("web", "default", &Default::default())
        .await
        .unwrap();
    assert_eq!(got, pod("web"));
    assert_eq!(got.api_version.as_deref(), Some("v1"));
    let seen = &server.seen()[0];
    assert_eq!(header(seen, "accept"), PROTOBUF_ACCEPT);
    assert_eq!(
        PROTOBUF_ACCEPT,
        "application/vnd.kubernetes.protobuf, application/json"
    );
}

#[tokio::test]
async fn list_reads_a_protobuf_list() {
    let list: PodList = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "9"},
        "items": [serde_json::to_value(pod("a")).unwrap(), serde_json::to_value(pod("b")).unwrap()],
    }))
    .unwrap();
    let body = proto::encode_list(&list, "v1");
    let server = InProcess::start(move |_, _| protobuf(200, body.clone())).await;
    let got = api(&server)
        .list_namespaced_pod("default", &Default::default())
        .await
        .unwrap();
    assert_eq!(got.items.len(), 2);
    assert_eq!(
        got.items[1]
            .metadata
            .as_ref()
            .and_then(|m| m.name.as_deref()),
        Some("b")
    );
    assert_eq!(
        got.metadata
            .as_ref()
            .and_then(|m| m.resource_version.as_deref()),
        Some("9")
    );
    assert_eq!(got.kind.as_deref(), Some("PodList"));
}

#[tokio::test]
async fn create_and_replace_send_protobuf_bodies() {
    let server = InProcess::start(|seen, _| {
        // Echo the object as the server would store it.
        let sent: Pod = proto::decode_object(&seen.body).unwrap();
        protobuf(201, proto::encode_object(&sent))
    })
    .await;
    let api = api(&server);
    // Built with Default: apiVersion and kind come from the envelope.
    let mut bare = pod("web");
    bare.api_version = None;
    bare.kind = None;
    let created = api
        .create_namespaced_pod("default", &bare, &Default::default())
        .await
        .unwrap();
    assert_eq!(created, pod("web"));
    let replaced = api
        .replace_namespaced_pod("web", "default", &pod("web"), &Default::default())
        .await
        .unwrap();
    assert_eq!(replaced, pod("web"));
    let seen = server.seen();
    for (s, method) in seen.iter().zip(["POST", "PUT"]) {
        assert_eq!(s.method, method);
        assert_eq!(header(s, "content-type"), PROTOBUF);
        assert!(s.body.starts_with(&proto::MAGIC), "{:?}", s.body);
        let env = proto::decode_envelope(&s.body).unwrap();
        assert_eq!((env.api_version, env.kind), ("v1", "Pod"));
        assert_eq!(proto::decode_object::<Pod>(&s.body).unwrap(), pod("web"));
    }
}

#[tokio::test]
async fn a_json_answer_to_a_protobuf_accept_still_decodes() {
    let body = serde_json::to_string(&pod("web")).unwrap();
    let server = InProcess::start(move |_, _| json(200, body.clone())).await;
    let got = api(&server)
        .read_namespaced_pod("web", "default", &Default::default())
        .await
        .unwrap();
    assert_eq!(got, pod("web"));
    assert_eq!(header(&server.seen()[0], "accept"), PROTOBUF_ACCEPT);
}

#[tokio::test]
async fn a_protobuf_status_is_the_same_error_as_the_json_one() {
    let s = status(404, "NotFound", "pods \"web\" not found");
    let body = status_body(&s);
    let pb = InProcess::start(move |_, _| protobuf(404, body.clone())).await;
    let text = serde_json::to_string(&s).unwrap();
    let js = InProcess::start(move |_, _| json(404, text.clone())).await;
    let read = |api: CoreV1Api| async move {
        api.read_namespaced_pod("web", "default", &Default::default())
            .await
            .unwrap_err()
    };
    let (from_pb, from_js) = (read(api(&pb)).await, read(api(&js)).await);
    assert!(from_pb.is_not_found(), "{from_pb:?}");
    let (Error::Api(a), Error::Api(b)) = (&from_pb, &from_js) else {
        panic!("{from_pb:?} {from_js:?}");
    };
    assert_eq!(a.status, b.status);
    assert_eq!(a.status.as_ref(), Some(&s));
    assert_eq!(from_pb.to_string(), from_js.to_string());
}

#[tokio::test]
async fn a_delete_answering_a_protobuf_status_or_object() {
    let gone = Status {
        status: Some("Success".into()),
        ..status(200, "", "")
    };
    let body = status_body(&gone);
    let object = proto::encode_object(&pod("web"));
    let server = InProcess::start(move |_, i| {
        protobuf(200, if i == 0 { body.clone() } else { object.clone() })
    })
    .await;
    let api = api(&server);
    let first = api
        .delete_namespaced_pod("web", "default", None, &Default::default())
        .await
        .unwrap();
    assert!(matches!(&first, Deleted::Status(s) if s.status.as_deref() == Some("Success")));
    let second = api
        .delete_namespaced_pod("web", "default", None, &Default::default())
        .await
        .unwrap();
    assert_eq!(second, Deleted::Object(pod("web")));
}

#[tokio::test]
async fn an_answer_of_another_kind_is_refused_in_protobuf_too() {
    let server = InProcess::start(|_, _| protobuf(200, status_body(&status(200, "", "")))).await;
    let err = api(&server)
        .read_namespaced_pod("web", "default", &Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedKind { .. }), "{err:?}");
}

fn frames(events: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, object) in events {
        proto::encode_watch_frame(t, object, &mut out);
    }
    out
}

fn watch_reply(steps: Vec<Step>) -> Reply {
    Response::builder()
        .status(200)
        .header(
            "content-type",
            "application/vnd.kubernetes.protobuf;stream=watch",
        )
        .body(streamed(steps))
        .unwrap()
}

#[tokio::test]
async fn watch_frames_decode_to_the_events_json_gives() {
    let mut bookmark = Pod::default();
    bookmark.metadata_mut().resource_version = Some("12".into());
    let gone = status(410, "Expired", "too old resource version: 1 (12)");
    let bytes = frames(&[
        ("ADDED", proto::encode_object(&pod("a"))),
        ("MODIFIED", proto::encode_object(&pod("b"))),
        ("BOOKMARK", proto::encode_object(&bookmark)),
        ("DELETED", proto::encode_object(&pod("a"))),
        ("ERROR", status_body(&gone)),
    ]);
    let server = InProcess::start(move |_, _| {
        // Cut mid-length and mid-frame: frames are put back together.
        let steps = bytes
            .chunks(7)
            .map(|c| send(c.to_vec()))
            .collect::<Vec<_>>();
        watch_reply(steps)
    })
    .await;
    let stream = api(&server)
        .watch_namespaced_pod_list("default", &Default::default())
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    let events: Vec<WatchEvent<Pod>> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0], WatchEvent::Added(pod("a")));
    assert_eq!(events[1], WatchEvent::Modified(pod("b")));
    let WatchEvent::Bookmark(b) = &events[2] else {
        panic!("{:?}", events[2]);
    };
    assert_eq!(
        b.metadata
            .as_ref()
            .and_then(|m| m.resource_version.as_deref()),
        Some("12")
    );
    assert_eq!(events[3], WatchEvent::Deleted(pod("a")));
    // The 410 is the event the JSON watch yields for it.
    let json_error: WatchEvent<Pod> = serde_json::from_value(serde_json::json!({
        "type": "ERROR", "object": serde_json::to_value(&gone).unwrap(),
    }))
    .unwrap();
    assert_eq!(events[4], json_error);
    let seen = &server.seen()[0];
    assert_eq!(header(seen, "accept"), PROTOBUF_ACCEPT);
    assert!(seen.path_and_query.contains("watch=true"));
}

#[tokio::test]
async fn a_json_watch_answer_still_works() {
    let line = format!(
        "{{\"type\":\"ADDED\",\"object\":{}}}\n",
        serde_json::to_string(&pod("a")).unwrap()
    );
    let server = InProcess::start(move |_, _| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(streamed(vec![send(line.clone())]))
            .unwrap()
    })
    .await;
    let events: Vec<_> = api(&server)
        .watch_namespaced_pod_list("default", &Default::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].as_ref().unwrap(), &WatchEvent::Added(pod("a")));
}

#[tokio::test]
async fn broken_watch_frames_are_errors_not_panics() {
    // A frame claiming 4 GiB, and a stream that ends inside a frame.
    let mut huge = frames(&[("ADDED", proto::encode_object(&pod("a")))]);
    huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    let mut cut = frames(&[("ADDED", proto::encode_object(&pod("a")))]);
    cut.truncate(cut.len() - 3);
    let bodies = [huge, cut];
    let server = InProcess::start(move |_, i| watch_reply(vec![send(bodies[i].clone())])).await;
    let api = api(&server);
    for expected in ["over the limit", "middle of an event"] {
        let events: Vec<_> = api
            .watch_namespaced_pod_list("default", &Default::default())
            .await
            .unwrap()
            .collect()
            .await;
        let last = events.last().unwrap().as_ref().unwrap_err();
        assert!(matches!(last, Error::WatchStream { .. }), "{last:?}");
        assert!(last.to_string().contains(expected), "{last}");
    }
}

#[tokio::test]
async fn the_json_encoding_asks_for_and_sends_json() {
    let server = InProcess::start(|seen, _| {
        let sent: serde_json::Value = serde_json::from_slice(&seen.body).unwrap_or_default();
        json(
            200,
            if sent.is_null() {
                serde_json::to_string(&pod("web")).unwrap()
            } else {
                sent.to_string()
            },
        )
    })
    .await;
    let api = json_api(&server);
    api.read_namespaced_pod("web", "default", &Default::default())
        .await
        .unwrap();
    let created = api
        .create_namespaced_pod("default", &pod("web"), &Default::default())
        .await
        .unwrap();
    assert_eq!(created, pod("web"));
    let seen = server.seen();
    assert_eq!(header(&seen[0], "accept"), "application/json");
    assert_eq!(header(&seen[1], "accept"), "application/json");
    assert_eq!(header(&seen[1], "content-type"), "application/json");
    assert!(seen[1].body.starts_with(b"{"));
}

#[tokio::test]
async fn members_unknown_to_the_models_send_json() {
    let mut odd = pod("web");
    odd.spec.as_mut().unwrap().containers[0]
        .unknown_fields
        .insert("futureKnob", "{\"x\":1}".parse().unwrap());
    let server = InProcess::start(|seen, _| json(201, seen.body.clone())).await;
    let created = api(&server)
        .create_namespaced_pod("default", &odd, &Default::default())
        .await
        .unwrap();
    assert_eq!(created, odd);
    let seen = &server.seen()[0];
    assert_eq!(header(seen, "content-type"), "application/json");
    let sent: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(sent["spec"]["containers"][0]["futureKnob"]["x"], 1);
}

#[tokio::test]
async fn a_truncated_protobuf_body_names_the_operation_and_the_field() {
    // The message cut (inside its last field), in a whole envelope; and the body itself cut.
    let mut raw = Vec::new();
    pod("web").encode(&mut raw);
    raw.truncate(raw.len() - 4);
    let mut cut = proto::encode_object(&pod("web"));
    cut.truncate(cut.len() - 5);
    let bodies = [proto::encode_envelope("v1", "Pod", &raw), cut];
    let server = InProcess::start(move |_, i| protobuf(200, bodies[i].clone())).await;
    let api = api(&server);
    let read = || api.read_namespaced_pod("web", "default", &Default::default());
    let err = read().await.unwrap_err();
    let Error::DecodeProtobuf {
        operation, path, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*operation, "readCoreV1NamespacedPod");
    assert!(path.starts_with("io.k8s.api.core.v1.Pod.status"), "{path}");
    let text = err.to_string();
    assert!(
        text.contains("readCoreV1NamespacedPod") && text.contains(path.as_str()),
        "{text}"
    );
    let err = read().await.unwrap_err();
    assert!(
        matches!(&err, Error::DecodeProtobuf { path, .. } if path == "io.k8s.apimachinery.pkg.runtime.Unknown.raw"),
        "{err:?}"
    );
}

#[tokio::test]
async fn patches_go_as_json_and_their_answers_may_be_protobuf() {
    let server = InProcess::start(|_, _| protobuf(200, proto::encode_object(&pod("web")))).await;
    let patch = Patch::Merge(serde_json::json!({"metadata": {"labels": {"app": "web"}}}));
    let got = api(&server)
        .patch_namespaced_pod("web", "default", &patch, &Default::default())
        .await
        .unwrap();
    assert_eq!(got, pod("web"));
    let seen = &server.seen()[0];
    assert_eq!(header(seen, "content-type"), "application/merge-patch+json");
    assert_eq!(header(seen, "accept"), PROTOBUF_ACCEPT);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen.body).unwrap(),
        patch.value().unwrap().clone()
    );
}

#[tokio::test]
async fn text_answers_and_custom_requests_stay_as_they_were() {
    let server = InProcess::start(|_, _| json(200, "log line\n")).await;
    let text = api(&server)
        .read_namespaced_pod_log("web", "default", &Default::default())
        .await
        .unwrap();
    assert_eq!(text, "log line\n");
    assert_eq!(header(&server.seen()[0], "accept"), "*/*");
}
