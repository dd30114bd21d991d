//! The verbs on built-in kinds in protobuf: the server's hook answers protobuf and records what
//! the client sent (the test server's own store is not involved).
#![cfg(feature = "protobuf")]

use kuber::{List, Object};
use kuber_models::api::core::v1::{Pod, PodList};
use kuber_models::proto;
use kuber_testserver::{Match, Reply, TestServer};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {}}]},
        "status": {},
    }))
    .unwrap()
}

fn protobuf(body: Vec<u8>) -> Reply {
    Reply::new(200).header("content-type", PROTOBUF).body(body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[tokio::test]
async fn typed_and_by_name_verbs_read_and_send_protobuf() {
    let server = TestServer::start().await.unwrap();
    let list: PodList = serde_json::from_value(serde_json::json!({
        "metadata": {"resourceVersion": "5"},
        "items": [serde_json::to_value(pod("a")).unwrap()],
    }))
    .unwrap();
    server.on_request(Match::any().resource("pods"), move |req| {
        Some(match (req.method.as_str(), req.info.name.is_some()) {
            ("GET", true) => protobuf(proto::encode_object(&pod("web"))),
            ("GET", false) => protobuf(proto::encode_list(&list, "v1")),
            // A create answers what it got.
            _ => protobuf(req.body.to_vec()),
        })
    });
    let ctx = server.context_in_process();

    let typed: Pod = ctx.get::<Pod>("web").await.unwrap();
    assert_eq!(typed, pod("web"));
    let object: Object = ctx.get_kind("Pod", "web").await.unwrap();
    assert_eq!((object.kind(), object.name()), ("Pod", Some("web")));
    let listed: List<Pod> = ctx.list::<Pod>().await.unwrap();
    // Typed items keep no apiVersion and kind, as in a JSON list.
    let item = Pod {
        api_version: None,
        kind: None,
        ..pod("a")
    };
    assert_eq!(listed.items, [item]);
    assert_eq!(listed.metadata.resource_version.as_deref(), Some("5"));
    let created: Pod = ctx.put(&pod("new")).await.unwrap();
    assert_eq!(created, pod("new"));

    let sent: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/pods"))
        .collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    for r in &sent {
        assert_eq!(
            header(&r.headers, "accept"),
            ACCEPT,
            "{} {}",
            r.method,
            r.path
        );
    }
    let create = &sent[3];
    assert_eq!(create.method, "POST");
    assert_eq!(header(&create.headers, "content-type"), PROTOBUF);
    assert_eq!(
        proto::decode_object::<Pod>(&create.body).unwrap(),
        pod("new")
    );
}

#[tokio::test]
async fn watches_read_protobuf_frames_typed_and_by_name() {
    use futures_util::StreamExt as _;
    use kuber::watch::Event;

    let server = TestServer::start().await.unwrap();
    server.on_request(Match::any().resource("pods"), |_| {
        let mut frames = Vec::new();
        let mut p = pod("a");
        p.metadata.as_mut().unwrap().resource_version = Some("6".into());
        proto::encode_watch_frame("ADDED", &proto::encode_object(&p), &mut frames);
        Some(
            Reply::new(200)
                .header(
                    "content-type",
                    "application/vnd.kubernetes.protobuf;stream=watch",
                )
                .body(frames),
        )
    });
    let ctx = server.context_in_process();
    let mut typed = Box::pin(ctx.watch::<Pod>().resource_version("5").stream());
    let Some(Ok(Event::Added(p))) = typed.next().await else {
        panic!("no ADDED event");
    };
    assert_eq!(p.metadata.unwrap().name.as_deref(), Some("a"));
    let mut named = Box::pin(ctx.watch_kind("Pod").resource_version("5").stream());
    let Some(Ok(Event::Added(o))) = named.next().await else {
        panic!("no ADDED event");
    };
    assert_eq!((o.kind(), o.name()), ("Pod", Some("a")));
    let watches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/pods"))
        .collect();
    assert!(
        watches
            .iter()
            .all(|r| header(&r.headers, "accept") == ACCEPT),
        "{watches:?}"
    );
}
