//! Logs and eviction of a pod no kubelet runs.

use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::Context as Ctx;
use kuber::models::api::core::v1::Pod;

use super::kinds::CONTAINERS;
use super::steps::{On, Steps};
use crate::support::{Context, E2e, Outcome, ensure};

pub(super) async fn logs_and_eviction(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-logs").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let on = On { e2e, ctx, ns };
    let On { ctx, .. } = &on;
    let mut steps = Steps::new();
    let pod = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}"}},"spec":{{"containers":{CONTAINERS}}}}}"#
        )
    };
    ctx.put_text(&pod("pending")).await.context("put pod")?;
    steps
        .run(
            "logs/pending-pod-as-kubectl".into(),
            pending_pod_as_kubectl(&on),
        )
        .await;
    steps
        .run("logs/server-errors".into(), server_errors(&on))
        .await;
    steps
        .run("evict/pending-pod".into(), pending_pod(&on))
        .await;
    steps
        .run("evict/missing-pod".into(), missing_pod(&on))
        .await;
    steps.outcome()
}

async fn pending_pod_as_kubectl(on: &On<'_>) -> Outcome {
    let On { e2e, ctx, ns } = on;
    // No node runs the pod: the server answers an empty log (200), as kubectl shows.
    let text = ctx.logs("pending").tail_lines(5).await.context("logs")?;
    let theirs = e2e.kubectl_ok(&["logs", "pending", "-n", ns, "--tail=5"])?;
    ensure(text == theirs, || {
        format!("logs {text:?}, kubectl {theirs:?}")
    })?;
    let follow = ctx.logs("pending").follow().await.context("follow")?;
    let lines: Vec<_> = tokio::time::timeout(Duration::from_secs(10), follow.collect())
        .await
        .map_err(|_| "a followed empty log did not end in 10 s".to_string())?;
    ensure(lines.is_empty(), || format!("followed {lines:?}"))
}

async fn server_errors(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    match ctx.logs("pending").container("nope").await {
        Err(e) => {
            let message = e
                .status()
                .and_then(|s| s.message.clone())
                .unwrap_or_default();
            ensure(
                e.status_code() == Some(400) && message.contains("nope"),
                || format!("logs of a missing container: {e}"),
            )?;
        }
        Ok(text) => return Err(format!("missing container answered {text:?}")),
    }
    match ctx.logs("nobody").await {
        Err(e) if e.is_not_found() => Ok(()),
        other => Err(format!("logs of a missing pod: {other:?}")),
    }
}

async fn pending_pod(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    match ctx.evict("pending").await {
        Ok(answer) => {
            ensure(answer.kind() == "Status", || {
                format!("evict answered a {}", answer.kind())
            })?;
            match ctx.get::<Pod>("pending").await {
                Err(e) if e.is_not_found() => Ok(()),
                Ok(p)
                    if p.metadata
                        .as_ref()
                        .is_some_and(|m| m.deletion_timestamp.is_some()) =>
                {
                    Ok(())
                }
                other => Err(format!("after evict: {:?}", other.map(|p| p.metadata))),
            }
        }
        Err(e) => ensure(e.status().is_some(), || format!("evict: {e}")),
    }
}

async fn missing_pod(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    match ctx.evict("nobody").await {
        Err(e) if e.is_not_found() => Ok(()),
        other => Err(format!("{other:?}")),
    }
}
