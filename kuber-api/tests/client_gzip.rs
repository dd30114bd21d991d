//! gzip: offered on every call, decoded for whole answers, watches and followed logs, and
//! neither offered nor decoded with the cluster's `disable-compression`.

mod support;

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures_util::StreamExt as _;
use http::Response;
use kuber_api::{Client, Error, Request};
use kuber_models::{DynamicObject, WatchEvent};
use support::{
    LIST_PODS, Options, POD_LOG, Reply, Seen, Server, Step, config, pod, streamed, whole,
};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A pod list of `n` pods, as JSON.
fn pod_list(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| pod(&format!("pod-{i}"), i as u32)).collect();
    format!(
        r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{}]}}"#,
        items.join(",")
    )
}

fn offered_gzip(seen: &Seen) -> bool {
    seen.headers
        .get("accept-encoding")
        .is_some_and(|v| v.to_str().unwrap().contains("gzip"))
}

/// Answers `body` (with `status`), gzip-encoded when the request offered gzip, as the API server.
fn gzip_if_offered(seen: &Seen, status: u16, body: &str) -> Reply {
    let builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if offered_gzip(seen) {
        builder
            .header("content-encoding", "gzip")
            .body(whole(gzip(body.as_bytes())))
            .unwrap()
    } else {
        builder.body(whole(body.to_owned())).unwrap()
    }
}

fn list_pods() -> Request {
    Request::new(&LIST_PODS, &["default"])
}

fn names(list: &serde_json::Value) -> usize {
    list["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_gzip_encoded_answer_is_decoded() {
    let server = Server::start(Options::plain(), |seen, _| async move {
        gzip_if_offered(&seen, 200, &pod_list(2000))
    })
    .await;
    let client = Client::new(config(&server.url, None)).unwrap();
    let list: serde_json::Value = client.call(list_pods()).await.unwrap();
    assert_eq!(names(&list), 2000);
    assert!(offered_gzip(&server.seen()[0]));
    let stats = client.stats();
    assert_eq!((stats.responses, stats.gzip_responses), (1, 1));
    assert_eq!(stats.gzip_decoded_bytes, pod_list(2000).len() as u64);
    assert!(
        stats.gzip_wire_bytes * 5 < stats.gzip_decoded_bytes,
        "{stats:?}"
    );
}

#[tokio::test]
async fn disable_compression_neither_offers_nor_decodes_gzip() {
    let server = Server::start(Options::plain(), |seen, _| async move {
        gzip_if_offered(&seen, 200, &pod_list(10))
    })
    .await;
    let mut cfg = config(&server.url, None);
    cfg.disable_compression = true;
    let client = Client::new(cfg).unwrap();
    let list: serde_json::Value = client.call(list_pods()).await.unwrap();
    assert_eq!(names(&list), 10);
    assert!(!server.seen()[0].headers.contains_key("accept-encoding"));
    assert_eq!(client.stats().gzip_responses, 0);
}

#[test]
fn disable_compression_comes_from_the_kubeconfig_cluster() {
    let yaml = |flag: &str| {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: k, cluster: {{server: 'https://k.example:6443'{flag}}}}}]\n\
             users: [{{name: u, user: {{}}}}]\n\
             contexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n"
        )
    };
    let load = |text: String| {
        let kc = kuber_api::config::Kubeconfig::from_yaml(&text, "test").unwrap();
        let env = kuber_api::config::Env::from_vars(Vec::<(String, String)>::new());
        kuber_api::config::Config::from_kubeconfig_with(&kc, None, &env).unwrap()
    };
    assert!(load(yaml(", disable-compression: true")).disable_compression);
    assert!(!load(yaml("")).disable_compression);
}

#[tokio::test]
async fn a_gzip_encoded_error_is_decoded_into_its_status() {
    let server = Server::start(Options::plain(), |seen, _| async move {
        let status = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "pods \"web\" not found", "reason": "NotFound", "code": 404,
        });
        gzip_if_offered(&seen, 404, &status.to_string())
    })
    .await;
    let client = Client::new(config(&server.url, None)).unwrap();
    let err = client
        .call::<serde_json::Value>(Request::new(&support::GET_POD, &["default", "web"]))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.reason(), Some("NotFound"));
}

#[tokio::test]
async fn a_corrupt_gzip_answer_is_a_transport_error() {
    let server = Server::start(Options::plain(), |_, _| async move {
        let mut body = gzip(pod_list(3).as_bytes());
        let at = body.len() / 2;
        body[at] ^= 0xff;
        Response::builder()
            .status(200)
            .header("content-encoding", "gzip")
            .body(whole(body))
            .unwrap()
    })
    .await;
    let client = Client::new(config(&server.url, None))
        .unwrap()
        .with_retries(0, false);
    let err = client
        .call::<serde_json::Value>(list_pods())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("gzip"), "{err}");
}

/// A gzip stream of `parts`, each flushed so it can be decoded before the next is sent.
fn flushed_gzip(parts: &[String]) -> Vec<Bytes> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    let mut out = Vec::new();
    for part in parts {
        e.write_all(part.as_bytes()).unwrap();
        e.flush().unwrap();
        out.push(Bytes::from(std::mem::take(e.get_mut())));
    }
    out.push(Bytes::from(e.finish().unwrap()));
    out
}

fn event(kind: &str, name: &str, rv: u32) -> String {
    format!("{{\"type\":\"{kind}\",\"object\":{}}}\n", pod(name, rv))
}

/// Serves `frames` gzip-encoded with a long pause before the last: what arrives before it was
/// decoded as it came.
async fn gzip_stream_server(frames: Vec<Bytes>) -> Server {
    Server::start(Options::plain(), move |seen, _| {
        let frames = frames.clone();
        async move {
            assert!(offered_gzip(&seen));
            let last = frames.len() - 1;
            let mut steps = Vec::new();
            for (i, frame) in frames.into_iter().enumerate() {
                if i == last {
                    steps.push(Step::Sleep(Duration::from_secs(30)));
                }
                steps.push(Step::Send(frame));
            }
            Response::builder()
                .status(200)
                .header("content-encoding", "gzip")
                .body(streamed(steps))
                .unwrap()
        }
    })
    .await
}

#[tokio::test]
async fn a_gzip_encoded_watch_is_decoded_event_by_event() {
    let frames = flushed_gzip(&[
        event("ADDED", "a", 1),
        event("MODIFIED", "a", 2)[..20].to_owned(),
        event("MODIFIED", "a", 2)[20..].to_owned(),
    ]);
    let server = gzip_stream_server(frames).await;
    let client = Client::new(config(&server.url, None)).unwrap();
    let mut watch = client
        .watch::<DynamicObject>(list_pods().set("watch", "true"))
        .await
        .unwrap();
    for expected in ["1", "2"] {
        let event = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("an event before the stream ends")
            .unwrap()
            .unwrap();
        let (WatchEvent::Added(o) | WatchEvent::Modified(o)) = event else {
            panic!("unexpected {event:?}");
        };
        assert_eq!(o.metadata.unwrap().resource_version.unwrap(), expected);
    }
    assert_eq!(client.stats().gzip_responses, 1);
}

#[tokio::test]
async fn a_gzip_encoded_followed_log_is_decoded_line_by_line() {
    let frames = flushed_gzip(&["first line\nsec".to_owned(), "ond line\n".to_owned()]);
    let server = gzip_stream_server(frames).await;
    let client = Client::new(config(&server.url, None)).unwrap();
    let log = Request::new(&POD_LOG, &["default", "web"]).set("follow", "true");
    let mut lines = client.stream(log).await.unwrap().lines();
    for expected in ["first line", "second line"] {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("a line before the stream ends")
            .unwrap()
            .unwrap();
        assert_eq!(line, expected);
    }
}
