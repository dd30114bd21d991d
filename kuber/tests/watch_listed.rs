//! A watch's first `Listed` is the same whether the state came from a list or from the initial
//! events: its items carry apiVersion and kind either way, as watch events do.

use futures_util::StreamExt as _;
use kuber::models::Resource as _;
use kuber::models::api::core::v1::ConfigMap;
use kuber::watch::Event;
use kuber::{Context, Object};
use kuber_testserver::{Match, TestServer};

async fn first_listed(ctx: &Context, initial_events: bool) -> Vec<Object> {
    let mut events = Box::pin(
        ctx.watch_kind("ConfigMap")
            .initial_events(initial_events)
            .stream(),
    );
    match events.next().await {
        Some(Ok(Event::Listed { items, .. })) => items,
        other => panic!("expected the initial state, got {other:?}"),
    }
}

#[tokio::test]
async fn listed_items_have_their_type_however_the_state_was_read() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context_in_process();
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("settings".into());
    ctx.put(&cm).await.unwrap();

    let listed = first_listed(&ctx, false).await;
    assert_eq!(listed.len(), 1);
    let item = &listed[0];
    assert_eq!((item.api_version(), item.kind()), ("v1", "ConfigMap"));
    assert!(item.is::<ConfigMap>());
    let typed: ConfigMap = item.downcast().unwrap();
    assert_eq!(typed.name(), Some("settings"));

    // The initial events give the same types.
    let streamed = first_listed(&ctx, true).await;
    let types = |items: &[Object]| {
        items
            .iter()
            .map(|o| (o.api_version().to_owned(), o.kind().to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(types(&streamed), types(&listed));

    // A server that refuses the initial events: listed, with the same types.
    server.clear_requests();
    server
        .fail(Match::verb("watch").resource("configmaps"))
        .times(1)
        .with(422);
    let refused = first_listed(&ctx, true).await;
    assert_eq!(types(&refused), types(&listed));
    assert!(refused[0].is::<ConfigMap>());
    let asked: Vec<(Option<String>, Option<String>)> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/configmaps"))
        .map(|r| {
            let param = |name| r.query_param(name).map(str::to_owned);
            (param("watch"), param("sendInitialEvents"))
        })
        .collect();
    assert_eq!(
        asked[..2],
        [(Some("true".into()), Some("true".into())), (None, None)]
    );
}
