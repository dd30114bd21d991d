//! The test controls, each observed through kuber or kuber-api: injected failures, 429 with
//! Retry-After, latency, dropped watches, the request record, TLS with certificates and tokens,
//! 403 rules, and logs and exec answered by closures.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, stream};
use kuber::Context;
use kuber::models::api::core::v1::{ConfigMap, Container, Namespace, Pod, PodSpec};
use kuber::models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber::watch::Event;
use kuber_testserver::{Credentials, ExecOutput, LogOptions, LogOutput, Match, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn meta(name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: Some(name.into()),
        ..Default::default()
    })
}

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: meta(name),
        data: Some(BTreeMap::from([("k".to_string(), "v".to_string())])),
        ..Default::default()
    }
}

fn pod(name: &str, containers: &[&str]) -> Pod {
    Pod {
        metadata: meta(name),
        spec: Some(PodSpec {
            containers: containers
                .iter()
                .map(|c| Container {
                    name: (*c).into(),
                    image: Some("registry.example/app:1".into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn namespace(ctx: &Context, name: &str) {
    let ns = Namespace {
        metadata: meta(name),
        ..Default::default()
    };
    ctx.put(&ns).await.expect("create namespace");
}

fn in_ns(ctx: &Context, ns: &str) -> Context {
    let mut ctx = ctx.clone();
    ctx.set_ns(ns);
    ctx
}

#[tokio::test]
async fn kuber_api_retries_a_429_after_its_retry_after() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&cm("a")).await.unwrap();
    server
        .fail(Match::verb("get").resource("configmaps").name("a"))
        .times(1)
        .retry_after(1)
        .with(429);
    server.clear_requests();
    let started = Instant::now();
    let read = ctx.get::<ConfigMap>("a").await.unwrap();
    let took = started.elapsed();
    assert_eq!(read.metadata.unwrap().name.as_deref(), Some("a"));
    // Without the header the client would back off 0.5 s.
    assert!(took >= Duration::from_secs(1), "retried after {took:?}");
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.info.verb == "get")
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    // Used up: the next read is answered at once.
    let started = Instant::now();
    ctx.get::<ConfigMap>("a").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_429_without_retries_left_reaches_the_caller_with_its_status() {
    let server = TestServer::start().await.unwrap();
    let mut ctx = server.context();
    ctx.set_retries(0, false);
    server
        .fail(Match::verb("list").resource("pods"))
        .always()
        .with(429);
    let err = ctx.list::<Pod>().await.unwrap_err();
    assert!(err.is_too_many_requests(), "{err}");
    let status = err.status().expect("a Status");
    assert_eq!(
        status.message.as_deref(),
        Some("Too many requests, please try again later.")
    );
    assert_eq!(
        status.details.as_ref().and_then(|d| d.retry_after_seconds),
        Some(1)
    );
    // Other verbs and resources are untouched.
    ctx.list::<ConfigMap>().await.unwrap();
}

#[tokio::test]
async fn injected_failures_match_namespace_and_count_down() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    namespace(&ctx, "a").await;
    namespace(&ctx, "b").await;
    let rule = server
        .fail(Match::verb("create").resource("configmaps").namespace("a"))
        .times(2)
        .message("etcd is on fire")
        .with(500);
    let (a, b) = (in_ns(&ctx, "a"), in_ns(&ctx, "b"));
    b.put(&cm("x")).await.unwrap();
    for _ in 0..2 {
        let err = a.put(&cm("x")).await.unwrap_err();
        assert_eq!(err.status_code(), Some(500), "{err}");
        assert_eq!(err.reason(), Some("InternalError"));
        assert_eq!(
            err.status().and_then(|s| s.message.as_deref()),
            Some("etcd is on fire")
        );
    }
    a.put(&cm("x")).await.unwrap();
    assert!(!server.remove(rule), "a used-up rule is gone by itself");

    // Any body the test wants.
    server
        .fail(Match::verb("get").resource("configmaps"))
        .with_status(
            409,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "reason": "Conflict", "message": "scripted", "code": 409}),
        );
    let err = a.get::<ConfigMap>("x").await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    server.clear_controls();
    a.get::<ConfigMap>("x").await.unwrap();
}

#[tokio::test]
async fn latency_delays_only_the_matching_requests() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let rule = server.delay(
        Match::verb("list").resource("configmaps"),
        Duration::from_millis(400),
    );
    let started = Instant::now();
    ctx.list::<ConfigMap>().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    ctx.list::<Pod>().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(400));
    assert!(server.remove(rule));
    let started = Instant::now();
    ctx.list::<ConfigMap>().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn a_dropped_watch_resumes_with_kubers_watch_and_misses_nothing() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    server.drop_watches(Match::verb("watch").resource("configmaps"), 2);
    let mut events = Box::pin(
        ctx.watch::<ConfigMap>()
            .backoff(Duration::from_millis(10), Duration::from_millis(50))
            .stream(),
    );
    let mut seen = Vec::new();
    let writer = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            for i in 0..7 {
                ctx.put(&cm(&format!("c{i}"))).await.unwrap();
            }
        })
    };
    while seen.len() < 7 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .expect("the watch goes on");
        match event {
            Ok(Event::Added(o)) => seen.push(o.metadata.unwrap().name.unwrap()),
            Ok(Event::Listed { items, .. }) => {
                seen.extend(items.into_iter().map(|o| o.metadata.unwrap().name.unwrap()))
            }
            Ok(_) => {}
            Err(e) => panic!("watch error: {e}"),
        }
    }
    writer.await.unwrap();
    seen.sort();
    assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    let watches = server
        .requests()
        .iter()
        .filter(|r| r.info.verb == "watch")
        .count();
    assert!(watches >= 3, "7 events, 2 per watch: {watches} watches");
}

#[tokio::test]
async fn requests_are_recorded_without_credentials() {
    let server = TestServer::start().await.unwrap();
    let token = server.token("alice");
    let ctx = server
        .context_as(&Credentials::Token(token.clone()))
        .unwrap();
    server.clear_requests();
    ctx.put(&cm("rec")).await.unwrap();
    let requests = server.requests();
    let post = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("the create");
    assert_eq!(post.path, "/api/v1/namespaces/default/configmaps");
    assert_eq!(post.info.verb, "create");
    assert_eq!(post.info.resource.as_deref(), Some("configmaps"));
    assert_eq!(post.info.namespace.as_deref(), Some("default"));
    assert_eq!(post.user.as_deref(), Some("alice"));
    assert_eq!(post.header("Authorization"), Some("<redacted>"));
    assert_eq!(
        post.json()
            .and_then(|b| b.pointer("/metadata/name").cloned()),
        Some(Value::from("rec"))
    );
    assert!(post.query_param("fieldManager").is_some() || post.query.is_empty());
    let shown = format!("{requests:?}");
    assert!(!shown.contains(token.expose().as_str()), "{shown}");
    server.record_requests(false);
    ctx.get::<ConfigMap>("rec").await.unwrap();
    assert_eq!(server.requests().len(), requests.len());
}

#[tokio::test]
async fn a_deny_rule_answers_403_with_the_real_message() {
    let server = TestServer::start().await.unwrap();
    let admin = server.context();
    namespace(&admin, "ns").await;
    server.deny(
        "alice",
        Match::verb("list").resource("pods").namespace("ns"),
    );
    server.deny("alice", Match::verb("get").resource("nodes"));
    let alice = server
        .context_as(&Credentials::Token(server.token("alice")))
        .unwrap();
    let err = in_ns(&alice, "ns").list::<Pod>().await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some(
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"ns\""
        )
    );
    let err = alice
        .get::<kuber::models::api::core::v1::Node>("n1")
        .await
        .unwrap_err();
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some(
            "nodes \"n1\" is forbidden: User \"alice\" cannot get resource \"nodes\" in API group \"\" at the cluster scope"
        )
    );
    // Another namespace, another user, the admin: allowed.
    alice.list::<Pod>().await.unwrap();
    let bob = server
        .context_as(&Credentials::Token(server.token("bob")))
        .unwrap();
    in_ns(&bob, "ns").list::<Pod>().await.unwrap();
    in_ns(&admin, "ns").list::<Pod>().await.unwrap();
    server.clear_denials();
    in_ns(&alice, "ns").list::<Pod>().await.unwrap();
}

#[tokio::test]
async fn tls_clients_with_a_certificate_or_token_work_and_anonymous_ones_get_401() {
    let started = Instant::now();
    let server = TestServer::start_tls().await.unwrap();
    let took = started.elapsed();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    assert!(took < Duration::from_secs(2), "start_tls took {took:?}");
    // The handed-out context carries the CA and the admin certificate.
    server.context().list::<Namespace>().await.unwrap();

    let cert = server.client_cert("alice", &["dev"]).unwrap();
    assert!(!format!("{cert:?}").contains("PRIVATE KEY"));
    let alice = server.context_as(&Credentials::Cert(cert)).unwrap();
    alice.put(&cm("by-alice")).await.unwrap();
    let last = server.requests().pop().unwrap();
    assert_eq!(last.user.as_deref(), Some("alice"));

    let token = server
        .context_as(&Credentials::Token(server.token("bob")))
        .unwrap();
    token.get::<ConfigMap>("by-alice").await.unwrap();

    let mut anonymous = server.context_as(&Credentials::Anonymous).unwrap();
    anonymous.set_retries(0, false);
    let err = anonymous.list::<Namespace>().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    let forged = server
        .context_as(&Credentials::Token(kuber::api::config::Secret::new(
            "not-a-token".into(),
        )))
        .unwrap();
    assert!(
        forged
            .list::<Namespace>()
            .await
            .unwrap_err()
            .is_unauthorized()
    );

    // 403 rules on certificate users too.
    server.deny("alice", Match::verb("delete").resource("configmaps"));
    let err = alice.delete::<ConfigMap>("by-alice").await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");

    // The kubeconfig carries the CA and the admin's certificate.
    let kc =
        kuber::api::config::Kubeconfig::from_yaml(&server.kubeconfig(), "/tmp/kubeconfig").unwrap();
    let config = kuber::api::config::Config::from_kubeconfig(&kc, None).unwrap();
    let client = kuber::api::Client::new(config).unwrap();
    Context::from_client(client)
        .list::<Namespace>()
        .await
        .unwrap();
}

#[tokio::test]
async fn client_certificates_need_a_tls_server() {
    let server = TestServer::start().await.unwrap();
    assert!(matches!(
        server.client_cert("alice", &[]),
        Err(kuber_testserver::Error::NotTls)
    ));
}

#[tokio::test]
async fn logs_are_answered_by_the_closure_and_follow_streams() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    ctx.put(&pod("one", &["app"])).await.unwrap();
    ctx.put(&pod("two", &["app", "sidecar"])).await.unwrap();
    server.on_logs(|pod, container, options: &LogOptions| {
        if options.follow {
            let lines: Vec<String> = (0..3).map(|i| format!("{container} line {i}\n")).collect();
            return LogOutput::stream(stream::iter(lines));
        }
        format!(
            "{}/{} {container} tail={:?}\n",
            pod.namespace, pod.name, options.tail_lines
        )
        .into()
    });
    assert_eq!(
        ctx.logs("one").tail_lines(5).await.unwrap(),
        "default/one app tail=Some(5)\n"
    );
    assert_eq!(
        ctx.logs("two").container("sidecar").await.unwrap(),
        "default/two sidecar tail=None\n"
    );
    let err = ctx.logs("two").await.unwrap_err();
    assert_eq!(err.status_code(), Some(400));
    assert_eq!(
        err.status().and_then(|s| s.message.as_deref()),
        Some("a container name must be specified for pod two, choose one of: [app sidecar]")
    );
    assert!(ctx.logs("missing").await.unwrap_err().is_not_found());
    let lines: Vec<String> = ctx
        .logs("one")
        .follow()
        .await
        .unwrap()
        .map(|l| l.unwrap())
        .collect()
        .await;
    assert_eq!(lines, ["app line 0", "app line 1", "app line 2"]);
}

/// A WebSocket client's masked binary frame.
fn masked(payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x82, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[tokio::test]
async fn exec_speaks_v5_channel_k8s_io() {
    let server = TestServer::start().await.unwrap();
    server.context().put(&pod("p", &["app"])).await.unwrap();
    server.on_exec(|req| ExecOutput {
        stdout: format!(
            "{} in {}: {}",
            req.command.join(" "),
            req.container,
            String::from_utf8_lossy(&req.stdin)
        )
        .into_bytes(),
        stderr: b"warn\n".to_vec(),
        exit_code: 3,
    });
    let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let request = format!(
        "GET /api/v1/namespaces/default/pods/p/exec?command=cat&command=-n&stdin=true&stdout=true&stderr=true HTTP/1.1\r\n\
         Host: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n",
        server.addr()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(
        head.contains("sec-websocket-protocol: v5.channel.k8s.io"),
        "{head}"
    );
    tcp.write_all(&masked(b"\x00hello")).await.unwrap();
    tcp.write_all(&masked(&[255, 0])).await.unwrap();
    let mut frames = Vec::new();
    loop {
        let b0 = tcp.read_u8().await.unwrap();
        let len = match tcp.read_u8().await.unwrap() {
            126 => tcp.read_u16().await.unwrap() as usize,
            n => usize::from(n),
        };
        assert!(len < 65536);
        let mut payload = vec![0; len];
        tcp.read_exact(&mut payload).await.unwrap();
        if b0 & 0x0F == 0x8 {
            break;
        }
        frames.push(payload);
    }
    assert_eq!(frames[0], b"\x01cat -n in app: hello");
    assert_eq!(frames[1], b"\x02warn\n");
    assert_eq!(frames[2][0], 3);
    let status: Value = serde_json::from_slice(&frames[2][1..]).unwrap();
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
}
