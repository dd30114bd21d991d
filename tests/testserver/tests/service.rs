//! The server without a socket (`TestServer::service`, a tower `Service`) and requests answered by
//! hand (`TestServer::on_request`): scripted bodies, malformed JSON, chunks that stall or are cut,
//! status codes with `Retry-After`, and a pass to the server.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt as _, stream};
use http_body_util::{BodyExt as _, Empty, Full};
use kuber::models::Resource as _;
use kuber::models::api::core::v1::ConfigMap;
use kuber_testserver::{Credentials, Match, Reply, ResponseBody, TestServer};
use serde_json::{Value, json};
use support::names;
use tower_service::Service as _;

async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> hyper::Response<ResponseBody> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    let mut service = server.service();
    match body {
        Some(b) => {
            service
                .call(req.body(Full::new(Bytes::from(b.to_string()))).unwrap())
                .await
        }
        None => {
            service
                .call(req.body(Full::new(Bytes::new())).unwrap())
                .await
        }
    }
    .unwrap()
}

async fn json_of(answer: hyper::Response<ResponseBody>) -> (u16, Value) {
    let code = answer.status().as_u16();
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// What client stacks ask of a tower service and its bodies.
#[test]
fn the_service_and_its_bodies_are_send_sync_and_clone() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn clone<T: Clone>() {}
    send_sync::<kuber_testserver::Service>();
    send_sync::<ResponseBody>();
    clone::<kuber_testserver::Service>();
}

#[tokio::test]
async fn the_service_serves_what_the_socket_serves() {
    let server = TestServer::start().await.unwrap();
    let cm = json!({"metadata": {"name": "in-process"}, "data": {"k": "v"}});
    let (code, created) = json_of(
        send(
            &server,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some(cm),
        )
        .await,
    )
    .await;
    assert_eq!(code, 201, "{created}");
    // The same store behind the socket.
    let over_socket = server
        .context()
        .get::<ConfigMap>("in-process")
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&over_socket).unwrap()["metadata"]["uid"],
        created["metadata"]["uid"]
    );
    let (code, list) = json_of(send(&server, "GET", "/api/v1/namespaces", None).await).await;
    assert_eq!(code, 200);
    let socket_list = server.context().list_kind("Namespace").await.unwrap();
    assert_eq!(names(&list).len(), socket_list.items.len());
    // Errors, recording and controls take the same path.
    server
        .fail(Match::verb("get").resource("configmaps"))
        .times(1)
        .with(429);
    let answer = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/configmaps/in-process",
        None,
    )
    .await;
    assert_eq!(answer.status(), 429);
    assert_eq!(answer.headers()["retry-after"], "1");
    let (code, missing) = json_of(
        send(
            &server,
            "GET",
            "/api/v1/namespaces/default/configmaps/nope",
            None,
        )
        .await,
    )
    .await;
    assert_eq!((code, &missing["reason"]), (404, &json!("NotFound")));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/configmaps/nope"))
    );
}

#[tokio::test]
async fn a_watch_streams_through_the_service() {
    let server = TestServer::start().await.unwrap();
    let rv = server.resource_version();
    let path = format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}");
    let mut body = send(&server, "GET", &path, None).await.into_body();
    let cm = json!({"metadata": {"name": "watched"}});
    send(
        &server,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(cm),
    )
    .await;
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_slice(frame.data_ref().unwrap()).unwrap();
    assert_eq!(
        (&event["type"], &event["object"]["metadata"]["name"]),
        (&json!("ADDED"), &json!("watched"))
    );
}

#[tokio::test]
async fn on_a_tls_server_the_service_is_the_admin_unless_told_otherwise() {
    let server = TestServer::start_tls().await.unwrap();
    let answer = send(&server, "GET", "/api/v1/namespaces", None).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        server.requests().pop().unwrap().user.as_deref(),
        Some("admin")
    );
    // A token of its own wins.
    let token = server.token("alice");
    server.deny("alice", Match::verb("list"));
    let req = hyper::Request::get("/api/v1/namespaces")
        .header("authorization", format!("Bearer {}", token.expose()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let answer = server.service().call(req).await.unwrap();
    assert_eq!(answer.status(), 403);
}

#[tokio::test]
async fn a_hook_answers_by_hand_or_passes() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let rule = server.on_request(Match::verb("get").resource("configmaps"), |req| {
        (req.info.name.as_deref() == Some("broken")).then(|| {
            Reply::new(200)
                .header("content-type", "application/json")
                .body("{\"kind\": \"ConfigMap\", not json")
        })
    });
    let err = ctx.get::<ConfigMap>("broken").await.unwrap_err();
    assert!(err.status_code().is_none(), "{err}");
    // Passed on: the server's own 404.
    let err = ctx.get::<ConfigMap>("other").await.unwrap_err();
    assert_eq!(err.status_code(), Some(404));
    // Recorded like every request.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/broken"))
    );
    assert!(server.remove(rule));
    assert_eq!(
        ctx.get::<ConfigMap>("broken")
            .await
            .unwrap_err()
            .status_code(),
        Some(404)
    );
}

#[tokio::test]
async fn a_hook_sets_status_and_headers_and_sees_credentials() {
    let server = TestServer::start().await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, s) = (calls.clone(), seen.clone());
    server.on_request(Match::verb("list").resource("secrets"), move |req| {
        s.lock()
            .unwrap()
            .push(req.header("authorization").map(str::to_owned));
        // Busy once, then the server answers.
        (c.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
            Reply::json(503, &json!({"kind": "Status", "code": 503})).header("Retry-After", "7")
        })
    });
    let answer = send(&server, "GET", "/api/v1/namespaces/default/secrets", None).await;
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "7");
    let token = server.token("bob");
    let client = server
        .client_as(&Credentials::Token(token.clone()))
        .unwrap();
    let op = kuber::api::OPERATIONS
        .iter()
        .find(|o| o.id == "listCoreV1NamespacedSecret")
        .unwrap();
    let passed = client
        .send(kuber::api::Request::new(op, &["default"]))
        .await
        .unwrap();
    assert_eq!(passed.status(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [None, Some(format!("Bearer {}", token.expose()))]);
    // The record keeps no credentials.
    assert_eq!(
        server.requests()[1].header("authorization"),
        Some("<redacted>")
    );
}

#[tokio::test]
async fn hand_written_chunks_may_stall_or_be_cut() {
    let server = TestServer::start().await.unwrap();
    let line = |name: &str| {
        format!(
            "{}\n",
            json!({"type": "ADDED", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}}})
        )
    };
    let (first, second) = (line("a"), line("b"));
    // A watch line cut in two chunks, another whole, then nothing more.
    let (head, tail) = first.split_at(20);
    let chunks = vec![
        Bytes::from(head.to_owned()),
        Bytes::from(tail.to_owned()),
        Bytes::from(second),
    ];
    server.on_request(Match::verb("watch").resource("configmaps"), move |_| {
        let stalled = stream::iter(chunks.clone().into_iter().map(Ok)).chain(stream::pending());
        Some(
            Reply::new(200)
                .header("content-type", "application/json")
                .chunks(stalled),
        )
    });
    server.on_request(Match::verb("list").resource("configmaps"), |_| {
        let cut = stream::iter(vec![
            Ok(Bytes::from_static(
                b"{\"kind\": \"ConfigMapList\", \"items\": [",
            )),
            Err(std::io::Error::other("cut")),
        ]);
        Some(
            Reply::new(200)
                .header("content-type", "application/json")
                .chunks(cut),
        )
    });
    let mut body = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=true",
        None,
    )
    .await
    .into_body();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.extend_from_slice(body.frame().await.unwrap().unwrap().data_ref().unwrap());
    }
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("{first}{}", line("b"))
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(100), body.frame())
            .await
            .is_err(),
        "the stream stalls"
    );
    // Over the socket a cut body is a failed read for the client (not retried here).
    let mut ctx = server.context();
    ctx.set_retries(0, false);
    let err = ctx.list::<ConfigMap>().await.unwrap_err();
    assert!(err.status_code().is_none(), "{err}");
    let mut body = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/configmaps",
        None,
    )
    .await
    .into_body();
    assert!(body.frame().await.unwrap().is_ok());
    assert!(body.frame().await.unwrap().is_err());
}

#[tokio::test]
async fn a_hooks_view_of_a_request_keeps_credentials_out_of_debug() {
    let server = TestServer::start().await.unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let s = seen.clone();
    server.on_request(Match::any(), move |req| {
        *s.lock().unwrap() = format!("{req:?}");
        None
    });
    let req = hyper::Request::get("/version")
        .header("authorization", "Bearer secret-token")
        .body(Empty::<Bytes>::new())
        .unwrap();
    server.service().call(req).await.unwrap();
    let debug = seen.lock().unwrap().clone();
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(!debug.contains("secret-token"), "{debug}");
}

#[tokio::test]
async fn the_in_process_client_reaches_the_same_store_without_a_socket() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context_in_process();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("no-socket".into());
    ctx.put(&cm).await.unwrap();
    let over_socket = server
        .context()
        .get::<ConfigMap>("no-socket")
        .await
        .unwrap();
    assert_eq!(over_socket.name(), Some("no-socket"));
    // Controls and recording take the same path; the client's retries sit above the service.
    server
        .fail(Match::verb("get").resource("configmaps"))
        .times(1)
        .with(503);
    let client = server.client_in_process().with_retries(0, false);
    let err = kuber::Context::from_client(client)
        .get::<ConfigMap>("no-socket")
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(503), "{err}");
    assert!(ctx.get::<ConfigMap>("no-socket").await.is_ok());
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1);

    // On a TLS server it comes as the admin, as the socket's client does.
    let tls = TestServer::start_tls().await.unwrap();
    tls.context_in_process()
        .list_kind("Namespace")
        .await
        .unwrap();
    let users: Vec<Option<String>> = tls.requests().into_iter().map(|r| r.user).collect();
    assert!(!users.is_empty());
    assert!(
        users
            .iter()
            .all(|u| u.as_deref() == Some(kuber_testserver::ADMIN)),
        "{users:?}"
    );
}
