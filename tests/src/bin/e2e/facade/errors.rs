//! Errors: what each answer is, by its predicates.

use kuber::models::api::core::v1::ConfigMap;
use kuber::{Context as Ctx, Error, Patch};
use serde_json::json;

use super::steps::{On, Steps};
use crate::support::{Context, E2e, Outcome};

pub(super) async fn errors(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-errors").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let on = On { e2e, ctx, ns };
    let mut steps = Steps::new();

    steps
        .run("errors/is_not_found".into(), is_not_found(&on))
        .await;
    steps.run("errors/is_invalid".into(), is_invalid(&on)).await;
    steps
        .run(
            "errors/unknown-kind-suggests".into(),
            unknown_kind_suggests(&on),
        )
        .await;
    // A server nothing listens on: any request would fail with a connection error.
    let nowhere = Ctx::from_client(
        kuber::Client::new(kuber::api::config::Config {
            server: "http://127.0.0.1:9".into(),
            ..e2e.admin.config().clone()
        })
        .context("client")?,
    );
    steps
        .run(
            "errors/empty-name-refused-without-request".into(),
            empty_name_refused_without_request(&nowhere),
        )
        .await;
    steps.outcome()
}

async fn is_not_found(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    match ctx.get::<ConfigMap>("missing").await {
        Err(e) if e.is_not_found() && e.status().is_some() => {}
        other => return Err(format!("typed: {other:?}")),
    }
    match ctx.get_kind("cm", "missing").await {
        Err(e) if e.is_not_found() => Ok(()),
        other => Err(format!("by kind: {other:?}")),
    }
}

async fn is_invalid(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    let bad = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#;
    match ctx.put_text(bad).await {
        Err(e) if e.is_invalid() && e.reason() == Some("Invalid") => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

async fn unknown_kind_suggests(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    match ctx.get_kind("Deploymnet", "x").await {
        Err(Error::UnknownKind { close, .. }) if close.iter().any(|c| c == "Deployment") => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

async fn empty_name_refused_without_request(nowhere: &Ctx) -> Outcome {
    let missing = |r: Result<(), Error>, what: &str| match r {
        Err(Error::Missing { .. }) => Ok(()),
        other => Err(format!("{what}: {other:?}")),
    };
    missing(nowhere.get::<ConfigMap>("").await.map(drop), "get")?;
    missing(nowhere.delete::<ConfigMap>("").await.map(drop), "delete")?;
    missing(
        nowhere
            .update::<ConfigMap>("", Patch::Merge(json!({})))
            .await
            .map(drop),
        "update",
    )?;
    missing(
        nowhere.replace(&ConfigMap::default()).await.map(drop),
        "replace",
    )?;
    missing(
        nowhere.get_kind("ConfigMap", "").await.map(drop),
        "get_kind",
    )?;
    missing(
        nowhere.delete_kind("ConfigMap", "").await.map(drop),
        "delete_kind",
    )?;
    match nowhere
        .delete_collection::<ConfigMap>()
        .namespace("*")
        .await
    {
        Err(Error::Missing { .. }) => {}
        other => return Err(format!("delete_collection in *: {other:?}")),
    }
    match nowhere.put_text("kind: [").await {
        Err(Error::Invalid { .. }) => {}
        other => return Err(format!("put_text of broken YAML: {other:?}")),
    }
    match nowhere.put_text("metadata: {name: x}").await {
        Err(Error::Missing { .. } | Error::Invalid { .. }) => {}
        other => return Err(format!("put_text without kind: {other:?}")),
    }
    missing(
        nowhere
            .update_kind("ConfigMap", "", Patch::Merge(json!({})))
            .await
            .map(drop),
        "update_kind",
    )
}
