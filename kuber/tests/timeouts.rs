//! A context's timeout bounds every call from its start, discovery included: against a server
//! that reads each request and does not answer (kuber-testserver holding every answer an hour),
//! calls by kind name end with `Error::Timeout` when the timeout says, not after the client's
//! own 300 s.

use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::{Context, Error, Patch};
use kuber_testserver::{Match, TestServer};

/// A server that answers nothing within a test (discovery included), and a context on it.
async fn silent() -> (TestServer, Context) {
    let server = TestServer::start().await.unwrap();
    server.delay(Match::any(), Duration::from_secs(3600));
    let ctx = server.context_in_process();
    (server, ctx)
}

const BOUND: Duration = Duration::from_millis(200);

/// `call`'s error, which must come within a few times the bound.
async fn timed_out<T: std::fmt::Debug>(call: impl Future<Output = kuber::Result<T>>) -> Error {
    let outcome = tokio::time::timeout(BOUND * 10, call).await;
    let err = outcome
        .expect("not bounded by the context's timeout")
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    err
}

#[tokio::test]
async fn calls_by_kind_name_time_out_during_discovery() {
    let (server, mut ctx) = silent().await;
    ctx.set_timeout(Some(BOUND));
    let err = timed_out(ctx.get_kind("ConfigMap", "x").into_future()).await;
    assert_eq!(err.to_string(), "get ConfigMap: no answer within 200ms");
    timed_out(ctx.list_kind("deploy").into_future()).await;
    timed_out(
        ctx.put_text(r#"{"apiVersion":"ex.com/v1","kind":"Gadget","metadata":{"name":"g"}}"#)
            .into_future(),
    )
    .await;
    timed_out(
        ctx.update_kind("cm", "x", Patch::Merge(serde_json::json!({})))
            .into_future(),
    )
    .await;
    timed_out(ctx.delete_kind("cm", "x").into_future()).await;
    timed_out(ctx.delete_collection_kind("cm").into_future()).await;
    timed_out(ctx.discovery()).await;
    let mut pages = Box::pin(ctx.list_kind("cm").pages());
    timed_out(async { pages.next().await.unwrap() }).await;
    let mut events = Box::pin(ctx.watch_kind("cm").stream());
    timed_out(async { events.next().await.unwrap() }).await;
    // Each call reached the server and waited there.
    assert!(server.requests().iter().any(|r| r.path == "/api"));
}

#[tokio::test]
async fn scoped_timeouts_bound_discovery_too() {
    let (_server, ctx) = silent().await;
    let call = ctx.with_timeout(BOUND, async { ctx.get_kind("Pod", "p").await });
    timed_out(call).await;
}
