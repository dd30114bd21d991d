//! Retries, re-authentication and timeouts.

mod support;

use std::time::{Duration, Instant};

use http::Response;
use kuber_api::config::Auth;
use kuber_api::{Client, Error, Operation, Request};
use kuber_models::{DynamicObject, WatchEvent};
use support::{
    CREATE_POD, GET_POD, LIST_PODS, Options, Server, Step, config, json, pod, send, status,
    streamed,
};

static REPLACE_POD: Operation = Operation {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    action: "put",
    namespaced: true,
    subresource: "",
    tag: "core_v1",
    ..Operation::untyped(
        "replaceCoreV1NamespacedPod",
        "PUT",
        "/api/v1/namespaces/{namespace}/pods/{name}",
    )
};

fn get_pod() -> Request {
    Request::new(&GET_POD, &["default", "web"])
}

fn create_pod() -> Request {
    Request::new(&CREATE_POD, &["default"])
        .json(&serde_json::json!({"metadata": {"name": "web"}}))
        .unwrap()
}

/// A client whose backoff is short enough for tests.
fn fast_client(url: &str) -> Client {
    Client::new(config(url, None))
        .unwrap()
        .with_backoff_base(Duration::from_millis(5))
}

#[tokio::test]
async fn unavailable_twice_then_ok_takes_three_requests() {
    let server = Server::start(Options::plain(), |_, i| async move {
        if i < 2 {
            status(503, "ServiceUnavailable", "try later")
        } else {
            json(200, pod("web", 1))
        }
    })
    .await;
    let pod: DynamicObject = fast_client(&server.url).call(get_pod()).await.unwrap();
    assert_eq!(pod.metadata.unwrap().name.as_deref(), Some("web"));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn retries_stop_after_the_count() {
    let server = Server::start(Options::plain(), |_, _| async {
        status(502, "", "bad gateway")
    })
    .await;
    let err = fast_client(&server.url)
        .with_retries(2, false)
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(502));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let server = Server::start(Options::plain(), |_, i| async move {
        if i == 0 {
            let mut reply = status(429, "TooManyRequests", "slow down");
            reply
                .headers_mut()
                .insert("retry-after", "1".parse().unwrap());
            reply
        } else {
            json(200, pod("web", 1))
        }
    })
    .await;
    let started = Instant::now();
    let _: DynamicObject = fast_client(&server.url).call(get_pod()).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn post_is_not_retried_by_default_but_is_with_all_apis() {
    let server = Server::start(Options::plain(), |_, i| async move {
        if i < 2 {
            status(503, "ServiceUnavailable", "busy")
        } else {
            json(201, pod("web", 1))
        }
    })
    .await;
    let err = fast_client(&server.url)
        .call::<DynamicObject>(create_pod())
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(503));
    assert_eq!(server.requests(), 1);

    let _: DynamicObject = fast_client(&server.url)
        .with_retries(3, true)
        .call(create_pod())
        .await
        .unwrap();
    assert_eq!(server.requests(), 3);
    let seen = server.seen();
    assert_eq!(seen[2].method, "POST");
    assert_eq!(seen[2].headers["content-type"], "application/json");
    assert_eq!(
        &seen[2].body[..],
        br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}"#
    );
}

/// An answer with `code` and, if given, a `Retry-After` header.
fn answer(code: u16, retry_after: Option<&str>) -> support::Reply {
    let mut reply = status(code, "", "not now");
    if let Some(value) = retry_after {
        reply
            .headers_mut()
            .insert("retry-after", value.parse().unwrap());
    }
    reply
}

/// A server answering `code` once, then 201 with a pod.
async fn once_then_created(code: u16, retry_after: Option<&'static str>) -> Server {
    Server::start(Options::plain(), move |_, i| async move {
        if i == 0 {
            answer(code, retry_after)
        } else {
            json(201, pod("web", 1))
        }
    })
    .await
}

#[tokio::test]
async fn a_write_answered_with_retry_after_is_resent_whatever_the_retry_setting() {
    // The server did nothing and said when to come back: the POST is sent again even though
    // only reads are retried by default. Both forms of the header; a date in the past is now.
    let past = "Wed, 21 Oct 2015 07:28:00 GMT";
    for (code, retry_after) in [(429, "0"), (503, "0"), (429, past), (500, past), (504, "0")] {
        let server = once_then_created(code, Some(retry_after)).await;
        let _: DynamicObject = fast_client(&server.url)
            .call(create_pod())
            .await
            .unwrap_or_else(|e| panic!("{code} with Retry-After {retry_after}: {e}"));
        assert_eq!(server.requests(), 2, "{code} {retry_after}");
        assert_eq!(
            &server.seen()[1].body[..],
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}"#
        );
    }
    // Still bounded by the retry count.
    let server = once_then_created(429, Some("0")).await;
    let err = fast_client(&server.url)
        .with_retries(0, false)
        .call::<DynamicObject>(create_pod())
        .await
        .unwrap_err();
    assert!(err.is_too_many_requests(), "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn with_all_apis_a_post_that_may_have_been_applied_is_not_resent() {
    for code in [500, 502, 504] {
        let server = once_then_created(code, None).await;
        let err = fast_client(&server.url)
            .with_retries(3, true)
            .call::<DynamicObject>(create_pod())
            .await
            .unwrap_err();
        assert_eq!(err.status_code(), Some(code));
        assert_eq!(server.requests(), 1, "{code}");
    }
    // A PUT is idempotent: sent again.
    let server = once_then_created(500, None).await;
    let replace = Request::new(&REPLACE_POD, &["default", "web"])
        .json(&serde_json::json!({"metadata": {"name": "web"}}))
        .unwrap();
    let _: DynamicObject = fast_client(&server.url)
        .with_retries(3, true)
        .call(replace)
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_on_5xx() {
    let server = Server::start(Options::plain(), |_, i| async move {
        if i == 0 {
            answer(503, Some("1"))
        } else {
            json(200, pod("web", 1))
        }
    })
    .await;
    let started = Instant::now();
    let _: DynamicObject = fast_client(&server.url).call(get_pod()).await.unwrap();
    let elapsed = started.elapsed();
    // The header's second, not the 5 ms backoff.
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_connection_broken_after_sending_is_retried_for_reads_only() {
    let broken = |i: usize| {
        if i == 0 {
            Response::builder()
                .status(200)
                .body(streamed(vec![send("{\"kind\""), Step::Drop]))
                .unwrap()
        } else {
            json(200, pod("web", 1))
        }
    };
    let server = Server::start(Options::plain(), move |_, i| async move { broken(i) }).await;
    let _: DynamicObject = fast_client(&server.url).call(get_pod()).await.unwrap();
    assert_eq!(server.requests(), 2);

    // The server may have created the pod: even with all_apis a POST is not sent again.
    let server = Server::start(Options::plain(), move |_, i| async move { broken(i) }).await;
    let err = fast_client(&server.url)
        .with_retries(3, true)
        .call::<DynamicObject>(create_pod())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_fails_as_transport() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::new(config(&url, None))
        .unwrap()
        .with_backoff_base(Duration::from_millis(20));
    let started = Instant::now();
    let err = client
        .with_retries(3, false)
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Transport {
                operation: "readCoreV1NamespacedPod",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    // Three waits: 20, 35 and 61 ms, ±10%.
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
}

#[tokio::test]
async fn unauthorized_refreshes_the_credentials_once() {
    let dir = std::env::temp_dir().join(format!("kuber-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token-rotates");
    std::fs::write(&token_file, "old-token\n").unwrap();
    let path = token_file.clone();
    let server = Server::start(Options::plain(), move |seen, _| {
        let path = path.clone();
        async move {
            match seen
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
            {
                Some("Bearer new-token") => json(200, pod("web", 1)),
                _ => {
                    // The token rotates while the client still holds the old one.
                    std::fs::write(&path, "new-token\n").unwrap();
                    status(401, "Unauthorized", "Unauthorized")
                }
            }
        }
    })
    .await;
    let mut cfg = config(&server.url, None);
    cfg.auth = Auth::TokenFile(token_file.clone());
    let client = Client::new(cfg)
        .unwrap()
        .with_backoff_base(Duration::from_millis(5));
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(server.requests(), 2);

    // Still refused after the refresh: one retry only, then the 401.
    let always = Server::start(Options::plain(), |_, _| async {
        status(401, "Unauthorized", "Unauthorized")
    })
    .await;
    let mut cfg = config(&always.url, None);
    cfg.auth = Auth::TokenFile(token_file);
    let err = Client::new(cfg)
        .unwrap()
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert_eq!(always.requests(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_stalled_call_times_out_but_a_slow_watch_does_not() {
    let server = Server::start(Options::plain(), |seen, _| async move {
        if seen.path_and_query.contains("watch=true") {
            let mut steps = Vec::new();
            for rv in 0..4 {
                steps.push(Step::Sleep(Duration::from_millis(150)));
                steps.push(send(format!(
                    "{{\"type\":\"ADDED\",\"object\":{}}}\n",
                    pod("p", rv)
                )));
            }
            Response::builder()
                .status(200)
                .body(streamed(steps))
                .unwrap()
        } else if seen.path_and_query.contains("stall=headers") {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(200, pod("web", 1))
        } else {
            // Headers at once, then a body that never ends.
            let steps = vec![send("{\"kind\":"), Step::Sleep(Duration::from_secs(5))];
            Response::builder()
                .status(200)
                .body(streamed(steps))
                .unwrap()
        }
    })
    .await;
    let mut cfg = config(&server.url, None);
    cfg.request_timeout = Some(Duration::from_millis(300));
    let client = Client::new(cfg).unwrap();

    for stall in ["headers", "body"] {
        let started = Instant::now();
        let err = client
            .call::<DynamicObject>(get_pod().set("stall", stall))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // Timeouts are not retried.
    assert_eq!(server.requests(), 2);

    use futures_util::StreamExt as _;
    let started = Instant::now();
    let req = Request::new(&LIST_PODS, &["default"]).set("watch", "true");
    let events: Vec<_> = client
        .watch::<DynamicObject>(req)
        .await
        .unwrap()
        .collect()
        .await;
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(events.len(), 4);
    assert!(
        events.iter().all(|e| matches!(e, Ok(WatchEvent::Added(_)))),
        "{events:?}"
    );
}
