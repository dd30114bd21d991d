//! Paging: typed pages and pages by kind name.

use futures_util::StreamExt as _;
use kuber::Context as Ctx;
use kuber::models::api::core::v1::ConfigMap;

use super::objects::sorted_names;
use super::steps::{On, Steps};
use crate::support::{Context, E2e, Outcome, ensure};

pub(super) async fn paging(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-pages").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let on = On { e2e, ctx, ns };
    let On { ctx, .. } = &on;
    let mut steps = Steps::new();
    let names: Vec<String> = (0..7).map(|i| format!("p{i}")).collect();
    for name in &names {
        let cm = ConfigMap {
            metadata: Some(
                kuber::models::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some(name.clone()),
                    labels: Some([("facade".to_string(), "pages".to_string())].into()),
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        ctx.put(&cm).await.context("put")?;
    }
    steps
        .run("paging/typed-pages".into(), typed_pages(&on, &names))
        .await;
    steps
        .run(
            "paging/list_kind-pages-all-namespaces".into(),
            list_kind_pages_all_namespaces(&on),
        )
        .await;
    steps.outcome()
}

async fn typed_pages(on: &On<'_>, names: &[String]) -> Outcome {
    let On { ctx, .. } = on;
    let mut pages = Box::pin(
        ctx.list::<ConfigMap>()
            .labels("facade=pages")
            .limit(3)
            .pages(),
    );
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.context("page")?;
        sizes.push(page.items.len());
        seen.extend(sorted_names(&page.items));
    }
    seen.sort();
    ensure(sizes == [3, 3, 1] && seen == names, || {
        format!("pages {sizes:?}: {seen:?}")
    })
}

async fn list_kind_pages_all_namespaces(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    let mut pages = Box::pin(
        ctx.list_kind("ConfigMap")
            .all_namespaces()
            .labels("facade=pages")
            .limit(2)
            .pages(),
    );
    let mut sizes = Vec::new();
    while let Some(page) = pages.next().await {
        sizes.push(page.context("page")?.items.len());
    }
    ensure(sizes == [2, 2, 2, 1], || format!("pages {sizes:?}"))
}
