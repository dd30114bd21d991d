//! `ctx.watch`: against kuber-testserver answering each request by hand (a hook), the order of the
//! initial state and the changes, where each request resumes, relists after 410, backoff, the
//! request of a single-object watch, and the channel form stopping when dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use kuber::Context;
use kuber::models::Resource as _;
use kuber::models::api::core::v1::ConfigMap;
use kuber::watch::Event;
use kuber_testserver::Match;

mod support;

/// How the server answers one request.
enum Reply {
    /// A whole JSON answer with this status.
    Json(u16, String),
    /// A 200 watch stream: these lines, then `End`.
    Stream(Vec<String>, End),
}

enum End {
    /// The stream ends properly (the server's timeoutSeconds).
    Clean,
    /// The body is cut in the middle (an error where the next chunk would be).
    Abort,
    /// Nothing more is sent until the client drops the answer.
    Hang,
}

struct Server {
    server: support::Server,
    /// When each request came, in order.
    times: Arc<Mutex<Vec<Instant>>>,
    /// Hanging streams the client dropped.
    closed: Arc<AtomicUsize>,
}

/// Counts a hanging stream as closed when the client drops it.
struct Hung(Arc<AtomicUsize>);

impl Drop for Hung {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Server {
    /// Answers the `n`th request to `path?query` (as sent) with `handler(n, target)`.
    async fn start(handler: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> Server {
        let server = support::Server::start().await;
        let times = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicUsize::new(0));
        let (noted, gone) = (times.clone(), closed.clone());
        let targets = server.target_log();
        server.on_request(Match::any(), move |_| {
            let n = {
                let mut times = noted.lock().unwrap();
                times.push(Instant::now());
                times.len() - 1
            };
            let target = targets.lock().unwrap()[n].clone();
            let target = target.split_once(' ').map_or("", |(_, t)| t);
            Some(answer(handler(n, target), &gone))
        });
        Server {
            server,
            times,
            closed,
        }
    }

    /// Path and query of each request, as sent.
    fn requests(&self) -> Vec<String> {
        self.server.paths()
    }

    fn times(&self) -> Vec<Instant> {
        self.times.lock().unwrap().clone()
    }

    fn context(&self) -> Context {
        let mut ctx = self.server.context();
        // The watch's own backoff is under test, not the client's retries.
        ctx.set_retries(0, false);
        ctx
    }
}

fn answer(reply: Reply, closed: &Arc<AtomicUsize>) -> kuber_testserver::Reply {
    let json = |code| kuber_testserver::Reply::new(code).header("content-type", "application/json");
    let (lines, end) = match reply {
        Reply::Json(code, body) => return json(code).body(body),
        Reply::Stream(lines, end) => (lines, end),
    };
    // A chunk a line, a moment apart, as a server writes events.
    let lines = futures_util::stream::iter(lines).then(|line| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(Bytes::from(format!("{line}\n")))
    });
    let closed = closed.clone();
    let end = futures_util::stream::once(async move {
        // Polled once the last line is out, so before the client has it.
        let _hung = matches!(end, End::Hang).then(|| Hung(closed));
        // A pending moment first: the server sends what it has before it ends or cuts.
        tokio::time::sleep(Duration::from_millis(5)).await;
        match end {
            End::Clean => None,
            End::Abort => Some(Err(std::io::Error::other("cut mid-body"))),
            End::Hang => {
                std::future::pending::<()>().await;
                None
            }
        }
    })
    .filter_map(std::future::ready);
    json(200).chunks(lines.chain(end))
}

fn cm(name: &str, rv: u32) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","namespace":"default","resourceVersion":"{rv}"}}}}"#
    )
}

fn list(rv: u32, items: &[(&str, u32)]) -> Reply {
    let items: Vec<String> = items.iter().map(|(n, rv)| cm(n, *rv)).collect();
    Reply::Json(
        200,
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMapList","metadata":{{"resourceVersion":"{rv}"}},"items":[{}]}}"#,
            items.join(",")
        ),
    )
}

fn event(kind: &str, name: &str, rv: u32) -> String {
    format!(r#"{{"type":"{kind}","object":{}}}"#, cm(name, rv))
}

fn bookmark(rv: u32, initial_end: bool) -> String {
    let annotations = if initial_end {
        r#","annotations":{"k8s.io/initial-events-end":"true"}"#
    } else {
        ""
    };
    format!(
        r#"{{"type":"BOOKMARK","object":{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"resourceVersion":"{rv}"{annotations}}}}}}}"#
    )
}

fn status(code: u16, reason: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Status","status":"Failure","message":"test {reason}","reason":"{reason}","code":{code}}}"#
    )
}

/// `Listed[a@3,b@4]@5`, `ADDED c@6`, `BOOKMARK@8`, `error: …`: events as comparable text.
fn describe(item: &kuber::Result<Event<ConfigMap>>) -> String {
    let obj = |c: &ConfigMap| {
        format!(
            "{}@{}",
            c.name().unwrap_or(""),
            c.resource_version().unwrap_or("")
        )
    };
    match item {
        Ok(Event::Listed {
            items,
            resource_version,
            relist,
        }) => {
            let items: Vec<String> = items.iter().map(obj).collect();
            let word = if *relist { "Relisted" } else { "Listed" };
            format!("{word}[{}]@{resource_version}", items.join(","))
        }
        Ok(Event::Added(c)) => format!("ADDED {}", obj(c)),
        Ok(Event::Modified(c)) => format!("MODIFIED {}", obj(c)),
        Ok(Event::Deleted(c)) => format!("DELETED {}", obj(c)),
        Ok(Event::Bookmark { resource_version }) => format!("BOOKMARK@{resource_version}"),
        Err(e) => format!("error {}", e.status_code().unwrap_or(0)),
    }
}

/// The first `n` items of `watch`, within 10 s.
async fn take(
    stream: impl futures_util::Stream<Item = kuber::Result<Event<ConfigMap>>>,
    n: usize,
) -> Vec<String> {
    let mut stream = Box::pin(stream);
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < n {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(item)) => got.push(describe(&item)),
            Ok(None) => break,
            Err(_) => panic!("the watch delivered too few items within 10 s: {got:?}"),
        }
    }
    got
}

fn query_has(request: &str, pairs: &[&str]) -> bool {
    let query: Vec<&str> = request
        .split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .collect();
    pairs.iter().all(|p| query.contains(p))
}

#[tokio::test]
async fn the_list_comes_first_then_the_watch_from_its_resource_version() {
    let server = Server::start(|n, _| match n {
        0 => list(5, &[("a", 3), ("b", 4)]),
        _ => Reply::Stream(
            vec![event("ADDED", "c", 6), event("MODIFIED", "a", 7)],
            End::Hang,
        ),
    })
    .await;
    let ctx = server.context();
    let got = take(ctx.watch::<ConfigMap>().initial_events(false).stream(), 3).await;
    assert_eq!(got, ["Listed[a@3,b@4]@5", "ADDED c@6", "MODIFIED a@7"]);
    let requests = server.requests();
    assert!(
        requests[0].starts_with("/api/v1/namespaces/default/configmaps")
            && !requests[0].contains("watch"),
        "{requests:?}"
    );
    assert!(
        query_has(
            &requests[1],
            &[
                "watch=true",
                "resourceVersion=5",
                "allowWatchBookmarks=true"
            ]
        ),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_dropped_or_ended_watch_resumes_from_the_last_resource_version_seen() {
    let server = Server::start(|n, _| match n {
        0 => list(5, &[]),
        // Cut after an event and a bookmark.
        1 => Reply::Stream(vec![event("ADDED", "c", 6), bookmark(8, false)], End::Abort),
        // Ended by the server (timeoutSeconds) after one event.
        2 => Reply::Stream(vec![event("MODIFIED", "c", 9)], End::Clean),
        _ => Reply::Stream(vec![event("DELETED", "c", 10)], End::Hang),
    })
    .await;
    let ctx = server.context();
    let got = take(ctx.watch::<ConfigMap>().initial_events(false).stream(), 6).await;
    assert_eq!(
        got,
        [
            "Listed[]@5",
            "ADDED c@6",
            "BOOKMARK@8",
            "error 0",
            "MODIFIED c@9",
            "DELETED c@10"
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert!(
        query_has(&requests[2], &["watch=true", "resourceVersion=8"]),
        "{requests:?}"
    );
    assert!(
        query_has(&requests[3], &["watch=true", "resourceVersion=9"]),
        "{requests:?}"
    );
}

#[tokio::test]
async fn gone_lists_again_and_says_so() {
    let server = Server::start(|n, _| match n {
        0 => list(5, &[("a", 3)]),
        // 410 as an ERROR event (compaction while watching)...
        1 => Reply::Stream(
            vec![
                event("ADDED", "b", 6),
                format!(r#"{{"type":"ERROR","object":{}}}"#, status(410, "Expired")),
            ],
            End::Clean,
        ),
        2 => list(20, &[("b", 7)]),
        // ...and as the answer to the watch request.
        3 => Reply::Json(410, status(410, "Gone")),
        4 => list(30, &[]),
        _ => Reply::Stream(vec![event("ADDED", "d", 31)], End::Hang),
    })
    .await;
    let ctx = server.context();
    let got = take(ctx.watch::<ConfigMap>().initial_events(false).stream(), 5).await;
    assert_eq!(
        got,
        [
            "Listed[a@3]@5",
            "ADDED b@6",
            "Relisted[b@7]@20",
            "Relisted[]@30",
            "ADDED d@31"
        ]
    );
    let requests = server.requests();
    assert!(!requests[2].contains("watch=true"), "{requests:?}");
    assert!(
        query_has(&requests[3], &["watch=true", "resourceVersion=20"]),
        "{requests:?}"
    );
    assert!(!requests[4].contains("watch=true"), "{requests:?}");
    assert!(
        query_has(&requests[5], &["watch=true", "resourceVersion=30"]),
        "{requests:?}"
    );
}

#[tokio::test]
async fn server_errors_back_off_exponentially_and_the_watch_goes_on() {
    let server = Server::start(|n, _| match n {
        0..=3 => Reply::Json(500, status(500, "InternalError")),
        4 => list(5, &[]),
        _ => Reply::Stream(vec![event("ADDED", "a", 6)], End::Hang),
    })
    .await;
    let ctx = server.context();
    let first = Duration::from_millis(100);
    let watch = ctx
        .watch::<ConfigMap>()
        .initial_events(false)
        .backoff(first, Duration::from_secs(2));
    let got = take(watch.stream(), 6).await;
    assert_eq!(
        got,
        [
            "error 500",
            "error 500",
            "error 500",
            "error 500",
            "Listed[]@5",
            "ADDED a@6"
        ]
    );
    let times = server.times();
    for i in 0..4 {
        let gap = times[i + 1] - times[i];
        // Jitter keeps at least half of each step: 100, 200, 400, 800 ms.
        let least = first * 2u32.pow(i as u32) / 2;
        assert!(
            gap >= least,
            "retry {i} after {gap:?}, expected at least {least:?}"
        );
        assert!(
            gap < first * 2u32.pow(i as u32) + Duration::from_millis(300),
            "retry {i} after {gap:?}"
        );
    }
}

#[tokio::test]
async fn forbidden_ends_the_watch_after_saying_so() {
    let server = Server::start(|_, _| Reply::Json(403, status(403, "Forbidden"))).await;
    let ctx = server.context();
    let items: Vec<_> = tokio::time::timeout(
        Duration::from_secs(5),
        ctx.watch::<ConfigMap>().stream().collect::<Vec<_>>(),
    )
    .await
    .expect("a forbidden watch keeps retrying");
    let got: Vec<String> = items.iter().map(describe).collect();
    assert_eq!(got, ["error 403"]);
    assert!(items[0].as_ref().unwrap_err().is_forbidden());
}

#[tokio::test]
async fn a_single_object_watch_selects_the_name_and_uses_initial_events() {
    let server = Server::start(|_, _| {
        Reply::Stream(
            vec![
                event("ADDED", "web", 3),
                bookmark(4, true),
                event("MODIFIED", "web", 5),
            ],
            End::Hang,
        )
    })
    .await;
    let ctx = server.context();
    let watch = ctx.watch::<ConfigMap>().namespace("ns1").name("web");
    let got = take(watch.stream(), 2).await;
    assert_eq!(got, ["Listed[web@3]@4", "MODIFIED web@5"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with("/api/v1/namespaces/ns1/configmaps?"),
        "{requests:?}"
    );
    assert!(
        query_has(
            &requests[0],
            &[
                "fieldSelector=metadata.name%3Dweb",
                "sendInitialEvents=true",
                "resourceVersionMatch=NotOlderThan",
                "allowWatchBookmarks=true",
                "watch=true"
            ]
        ),
        "{requests:?}"
    );
    assert!(!requests[0].contains("resourceVersion="), "{requests:?}");
}

#[tokio::test]
async fn a_server_without_initial_events_gets_a_list_then_a_watch() {
    let server = Server::start(|n, path| match n {
        0 if path.contains("sendInitialEvents") => Reply::Json(422, status(422, "Invalid")),
        1 => list(5, &[("a", 3)]),
        _ => Reply::Stream(vec![event("ADDED", "b", 6)], End::Hang),
    })
    .await;
    let ctx = server.context();
    let got = take(ctx.watch::<ConfigMap>().stream(), 2).await;
    assert_eq!(got, ["Listed[a@3]@5", "ADDED b@6"]);
    let requests = server.requests();
    assert!(!requests[1].contains("sendInitialEvents"), "{requests:?}");
    assert!(
        !requests[2].contains("sendInitialEvents")
            && query_has(&requests[2], &["resourceVersion=5"]),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_given_resource_version_skips_the_list_and_a_watch_by_kind_name_works() {
    let server = Server::start(|_, _| Reply::Stream(vec![event("ADDED", "a", 8)], End::Hang)).await;
    let ctx = server.context();
    let mut stream = Box::pin(
        ctx.watch_kind("ConfigMap")
            .api_version("v1")
            .resource_version("7")
            .stream(),
    );
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match first {
        Event::Added(o) => assert_eq!((o.kind(), o.name()), ("ConfigMap", Some("a"))),
        other => panic!("{other:?}"),
    }
    let requests = server.requests();
    assert!(
        query_has(
            &requests.last().unwrap().clone(),
            &["watch=true", "resourceVersion=7"]
        ),
        "{requests:?}"
    );
}

#[tokio::test]
async fn the_channel_form_stops_when_the_receiver_is_dropped() {
    let server = Server::start(|_, _| {
        Reply::Stream(vec![event("ADDED", "a", 3), bookmark(4, true)], End::Hang)
    })
    .await;
    let ctx = server.context();
    let mut rx = ctx.watch::<ConfigMap>().channel();
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(describe(&first), "Listed[a@3]@4");
    assert_eq!(server.closed.load(Ordering::SeqCst), 0);
    drop(rx);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.closed.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the watch task kept its answer after the receiver was dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.requests().len(), 1);

    // The closure form: the watch stops when the closure returns.
    let name = ctx
        .watch::<ConfigMap>()
        .run(|mut events| async move {
            match events.recv().await {
                Some(Ok(Event::Listed { items, .. })) => items[0].name().map(str::to_owned),
                _ => None,
            }
        })
        .await;
    assert_eq!(name.as_deref(), Some("a"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.closed.load(Ordering::SeqCst) < 2 {
        assert!(
            Instant::now() < deadline,
            "the closure form kept its answer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
