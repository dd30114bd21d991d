//! Watch streams and streamed logs.

mod support;

use std::time::Duration;

use futures_util::StreamExt as _;
use http::Response;
use kuber_api::{Client, Error, Request};
use kuber_models::{DynamicObject, WatchEvent};
use support::{InProcess, LIST_PODS, POD_LOG, Step, config, pod, send, status, streamed};

fn watch_pods() -> Request {
    Request::new(&LIST_PODS, &["default"]).set("watch", "true")
}

fn event(kind: &str, name: &str, rv: u32) -> String {
    format!("{{\"type\":\"{kind}\",\"object\":{}}}\n", pod(name, rv))
}

async fn serve_steps(steps: impl Fn() -> Vec<Step> + Send + Sync + 'static) -> InProcess {
    InProcess::start(move |_, _| {
        Response::builder()
            .status(200)
            .body(streamed(steps()))
            .unwrap()
    })
    .await
}

fn name(event: &WatchEvent<DynamicObject>) -> String {
    match event {
        WatchEvent::Added(o)
        | WatchEvent::Modified(o)
        | WatchEvent::Deleted(o)
        | WatchEvent::Bookmark(o) => o
            .metadata
            .as_ref()
            .and_then(|m| m.name.clone())
            .unwrap_or_default(),
        WatchEvent::Error(s) => format!("error {}", s.code.unwrap_or_default()),
    }
}

/// A client with the default retries, in process.
async fn client(server: &InProcess) -> Client {
    server.client_with(config(&server.url, None))
}

#[tokio::test]
async fn events_split_across_chunks_arrive_whole_and_in_order() {
    let server = serve_steps(|| {
        let text = [
            event("ADDED", "a", 1),
            event("MODIFIED", "b", 2),
            event("DELETED", "c", 3),
        ]
        .concat();
        let bytes = text.into_bytes();
        // Cut at awkward places: mid-key, right before and after a newline.
        let first_newline = bytes.iter().position(|&b| b == b'\n').unwrap();
        let cuts = [
            7,
            first_newline,
            first_newline + 1,
            first_newline + 30,
            bytes.len() - 1,
        ];
        let mut steps = Vec::new();
        let mut start = 0;
        for cut in cuts {
            steps.push(send(bytes[start..cut].to_vec()));
            steps.push(Step::Sleep(Duration::from_millis(10)));
            start = cut;
        }
        steps.push(send(bytes[start..].to_vec()));
        steps
    })
    .await;
    let events: Vec<_> = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.iter().map(name).collect::<Vec<_>>(), ["a", "b", "c"]);
    assert!(matches!(events[0], WatchEvent::Added(_)));
    assert!(matches!(events[1], WatchEvent::Modified(_)));
    assert!(matches!(events[2], WatchEvent::Deleted(_)));
    assert_eq!(server.seen()[0].headers["accept"], "application/json");
}

#[tokio::test]
async fn bookmark_and_error_events_are_yielded() {
    let server = serve_steps(|| {
        let bookmark = r#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"bm","resourceVersion":"12"}}}"#;
        let gone = r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (12)","reason":"Expired","code":410}}"#;
        vec![send(event("ADDED", "a", 1)), send(format!("{bookmark}\n\n")), send(format!("{gone}\n"))]
    })
    .await;
    let events: Vec<_> = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 3);
    assert!(
        matches!(&events[1], WatchEvent::Bookmark(o) if o.metadata.as_ref().unwrap().resource_version.as_deref() == Some("12"))
    );
    match &events[2] {
        WatchEvent::Error(status) => {
            assert_eq!(status.code, Some(410));
            assert_eq!(status.reason.as_deref(), Some("Expired"));
        }
        other => panic!("not an error event: {other:?}"),
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_line_gives_one_error_after_the_complete_events() {
    let server = serve_steps(|| {
        let partial = event("ADDED", "c", 3);
        vec![
            send(event("ADDED", "a", 1)),
            send(event("ADDED", "b", 2)),
            send(partial[..partial.len() / 2].to_string()),
            Step::Sleep(Duration::from_millis(20)),
            Step::Drop,
        ]
    })
    .await;
    let items: Vec<_> = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(name(items[0].as_ref().unwrap()), "a");
    assert_eq!(name(items[1].as_ref().unwrap()), "b");
    match &items[2] {
        Err(Error::WatchStream { operation, message }) => {
            assert_eq!(*operation, "listCoreV1NamespacedPod");
            assert!(message.contains("middle of an event"), "{message}");
        }
        other => panic!("expected a watch stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_clean_close_mid_line_is_an_error_too() {
    // The body ends normally, but the last event has no newline.
    let server = serve_steps(|| {
        vec![
            send(event("ADDED", "a", 1)),
            send(r#"{"type":"ADDED","obj"#),
        ]
    })
    .await;
    let items: Vec<_> = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(
        matches!(&items[1], Err(Error::WatchStream { .. })),
        "{:?}",
        items[1]
    );
}

#[tokio::test]
async fn a_line_that_is_not_an_event_is_an_error_and_the_stream_goes_on() {
    let server =
        serve_steps(|| vec![send("this is not json\n"), send(event("ADDED", "a", 1))]).await;
    let items: Vec<_> = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&items[0], Err(Error::WatchStream { message, .. }) if message.contains("not a JSON watch event"))
    );
    assert_eq!(name(items[1].as_ref().unwrap()), "a");
}

#[tokio::test]
async fn a_long_watch_keeps_memory_bounded_by_one_event() {
    const EVENTS: u32 = 5_000;
    let server = serve_steps(|| {
        let mut steps = Vec::new();
        let mut pending = String::new();
        for rv in 0..EVENTS {
            pending.push_str(&event("MODIFIED", "p", rv));
            // Chunks of ~1.5 KiB that end mid-event.
            if pending.len() > 1500 {
                let cut = pending.len() - 40;
                steps.push(send(pending[..cut].to_string()));
                pending = pending[cut..].to_string();
            }
        }
        steps.push(send(pending));
        steps
    })
    .await;
    let event_len = event("MODIFIED", "p", EVENTS).len();
    let mut stream = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap();
    let mut count = 0;
    let mut max_capacity = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        count += 1;
        max_capacity = max_capacity.max(stream.buffered_capacity());
    }
    assert_eq!(count, EVENTS);
    assert!(
        max_capacity <= 2 * event_len,
        "buffer grew to {max_capacity} bytes for {event_len}-byte events"
    );
}

#[tokio::test]
async fn a_watch_answered_with_an_error_status_is_an_api_error() {
    let server = InProcess::start(|_, _| status(403, "Forbidden", "pods is forbidden")).await;
    let err = client(&server)
        .await
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
}

#[tokio::test]
async fn followed_logs_stream_as_bytes_and_lines() {
    let server = serve_steps(|| {
        vec![
            send("first li"),
            Step::Sleep(Duration::from_millis(20)),
            send("ne\nsecond line\r\nthird"),
            Step::Sleep(Duration::from_millis(20)),
            send(" and last"),
        ]
    })
    .await;
    let client = client(&server).await;
    let log = || Request::new(&POD_LOG, &["default", "web"]).set("follow", "true");
    let lines: Vec<_> = client.stream(log()).await.unwrap().lines().collect().await;
    let lines: Vec<_> = lines.into_iter().map(Result::unwrap).collect();
    assert_eq!(lines, ["first line", "second line", "third and last"]);
    assert_eq!(server.seen()[0].headers["accept"], "*/*");

    let mut bytes = Vec::new();
    let mut stream = client.stream(log()).await.unwrap();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, b"first line\nsecond line\r\nthird and last");

    let text = client
        .call_text(Request::new(&POD_LOG, &["default", "web"]))
        .await
        .unwrap();
    assert_eq!(text, "first line\nsecond line\r\nthird and last");
}

/// A client whose watches and followed logs give up after `idle` of silence.
fn idle_client(server: &InProcess, idle: Duration) -> Client {
    let mut cfg = config(&server.url, None);
    cfg.idle_timeout = Some(idle);
    server.client_with(cfg)
}

#[tokio::test]
async fn a_watch_that_goes_silent_ends_with_a_retryable_idle_timeout() {
    // Steady events, each sooner than the idle timeout (the whole run is longer), then silence.
    let server = serve_steps(|| {
        let mut steps = Vec::new();
        for rv in 0..5 {
            steps.push(send(event("ADDED", "a", rv)));
            steps.push(Step::Sleep(Duration::from_millis(100)));
        }
        steps.push(Step::Sleep(Duration::from_secs(10)));
        steps
    })
    .await;
    let idle = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let items: Vec<_> = idle_client(&server, idle)
        .watch::<DynamicObject>(watch_pods())
        .await
        .unwrap()
        .collect()
        .await;
    let elapsed = started.elapsed();
    assert_eq!(items.len(), 6, "{items:?}");
    assert!(items[..5].iter().all(Result::is_ok), "{items:?}");
    match &items[5] {
        Err(e @ Error::IdleTimeout { operation, after }) => {
            assert_eq!(*operation, "listCoreV1NamespacedPod");
            assert_eq!(*after, idle);
            assert!(e.is_timeout());
            assert!(e.to_string().contains("idle timeout"), "{e}");
        }
        other => panic!("expected an idle timeout, got {other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_followed_log_that_goes_silent_ends_with_an_idle_timeout() {
    let server = serve_steps(|| {
        vec![
            send("one\n"),
            Step::Sleep(Duration::from_millis(150)),
            send("two\n"),
            Step::Sleep(Duration::from_secs(10)),
        ]
    })
    .await;
    let log = Request::new(&POD_LOG, &["default", "web"]).set("follow", "true");
    let client = idle_client(&server, Duration::from_millis(300));
    let items: Vec<_> = client
        .stream(log.clone())
        .await
        .unwrap()
        .lines()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_deref().unwrap(), "one");
    assert_eq!(items[1].as_deref().unwrap(), "two");
    assert!(
        matches!(&items[2], Err(e @ Error::IdleTimeout { .. }) if e.is_timeout()),
        "{:?}",
        items[2]
    );
    // The raw bytes too.
    let chunks: Vec<_> = client.stream(log).await.unwrap().collect().await;
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert!(matches!(&chunks[2], Err(Error::IdleTimeout { .. })));
}

#[tokio::test]
async fn an_overlong_log_line_is_an_error_naming_the_bound() {
    // 65 MiB without a newline, then silence: more than any watch event may be.
    let server = serve_steps(|| {
        let chunk = bytes::Bytes::from(vec![b'x'; 1 << 20]);
        let mut steps = vec![send("first\n")];
        steps.extend((0..65).map(|_| Step::Send(chunk.clone())));
        steps.push(send("\n"));
        steps
    })
    .await;
    let log = Request::new(&POD_LOG, &["default", "web"]).set("follow", "true");
    let mut lines = client(&server).await.stream(log).await.unwrap().lines();
    assert_eq!(lines.next().await.unwrap().unwrap(), "first");
    match lines.next().await {
        Some(Err(e @ Error::LineTooLong { limit, .. })) => {
            assert_eq!(limit, 64 << 20);
            assert!(e.to_string().contains("64 MiB"), "{e}");
        }
        other => panic!(
            "expected a line-too-long error, got {:?}",
            other.map(|r| r.map(|l| l.len()))
        ),
    }
    assert!(lines.next().await.is_none());
}
