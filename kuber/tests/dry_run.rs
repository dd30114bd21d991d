//! A dry-run delete stores nothing whatever other options it carries: the server reads a
//! DeleteOptions body instead of the query when one is sent, so `dryRun` must be in the body too.

use kuber::models::Resource as _;
use kuber::models::api::core::v1::ConfigMap;
use kuber::{Context, Propagation};
use kuber_testserver::TestServer;

async fn settings(ctx: &Context, name: &str) {
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some(name.into());
    cm.metadata_mut().labels = Some([("app".to_owned(), "dry".to_owned())].into());
    ctx.put(&cm).await.unwrap();
}

#[tokio::test]
async fn a_dry_run_delete_with_options_deletes_nothing() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    settings(&ctx, "a").await;
    settings(&ctx, "b").await;

    ctx.delete::<ConfigMap>("a")
        .dry_run()
        .grace_period(0)
        .await
        .unwrap();
    ctx.delete::<ConfigMap>("a")
        .dry_run()
        .propagation(Propagation::Foreground)
        .preconditions(None, None)
        .await
        .unwrap();
    ctx.delete_collection::<ConfigMap>()
        .labels("app=dry")
        .dry_run()
        .propagation(Propagation::Background)
        .await
        .unwrap();

    let left = ctx
        .list::<ConfigMap>()
        .labels("app=dry")
        .await
        .unwrap()
        .items;
    let mut names: Vec<_> = left.iter().filter_map(|c| c.name()).collect();
    names.sort();
    assert_eq!(names, ["a", "b"], "a dry run deleted something");
    let bodies: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| b.contains(r#""dryRun":["All"]"#)),
        "{bodies:?}"
    );
}
