//! core/v1 and events.k8s.io/v1 Events are one resource, as on the real server: written as one,
//! read as the other, with the fields renamed.

use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::models::api::core::v1::Event as CoreEvent;
use kuber::models::api::events::v1::Event;
use kuber::watch::Event as WatchEvent;
use kuber::{Patch, kuber_obj};
use kuber_testserver::TestServer;
use serde_json::json;

#[tokio::test]
async fn an_event_written_as_core_v1_reads_as_events_k8s_io_v1_and_back() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let core: CoreEvent = kuber_obj(
        r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},
            "involvedObject":{"kind":"Pod","name":"p","namespace":"default"},
            "reason":"Started","message":"hello","type":"Normal"}"#,
    )
    .and_then(|o| o.downcast())
    .unwrap();
    ctx.put(&core).await.unwrap();

    let read = ctx.get::<Event>("e").await.unwrap();
    assert_eq!(read.note.as_deref(), Some("hello"));
    assert_eq!(
        read.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("p")
    );
    assert_eq!(read.reason.as_deref(), Some("Started"));
    assert_eq!(ctx.list::<Event>().await.unwrap().items.len(), 1);

    // A watch of events.k8s.io/v1 sees a core write in its own form.
    let mut watch = Box::pin(ctx.watch::<Event>().stream());
    let first = watch.next().await;
    assert!(
        matches!(first, Some(Ok(WatchEvent::Listed { .. }))),
        "{first:?}"
    );
    // Written through events.k8s.io/v1: the core view has the change.
    ctx.update::<Event>("e", Patch::Merge(json!({"note": "changed"})))
        .await
        .unwrap();
    let core = ctx.get::<CoreEvent>("e").await.unwrap();
    assert_eq!(core.message.as_deref(), Some("changed"));
    let seen = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match watch.next().await {
                Some(Ok(WatchEvent::Modified(e))) => return e,
                Some(_) => {}
                None => panic!("the watch ended"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(seen.note.as_deref(), Some("changed"));

    // One resource: deleting through one version removes it from the other.
    ctx.delete::<Event>("e").await.unwrap();
    assert!(ctx.get::<CoreEvent>("e").await.unwrap_err().is_not_found());
}
