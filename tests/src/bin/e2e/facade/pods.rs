//! Logs and eviction of a pod no kubelet runs.

use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::Context as Ctx;
use kuber::models::api::core::v1::Pod;

use super::kinds::CONTAINERS;
use super::steps::Steps;
use crate::support::{Context, E2e, Outcome, ensure};

pub(super) async fn logs_and_eviction(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-logs").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let mut steps = Steps::new();
    let pod = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}"}},"spec":{{"containers":{CONTAINERS}}}}}"#
        )
    };
    ctx.put_text(&pod("pending")).await.context("put pod")?;
    steps
        .run("logs/pending-pod-as-kubectl".into(), async {
            // No node runs the pod: the server answers an empty log (200), as kubectl shows.
            let text = ctx.logs("pending").tail_lines(5).await.context("logs")?;
            let theirs = e2e.kubectl_ok(&["logs", "pending", "-n", &ns, "--tail=5"])?;
            ensure(text == theirs, || {
                format!("logs {text:?}, kubectl {theirs:?}")
            })?;
            let follow = ctx.logs("pending").follow().await.context("follow")?;
            let lines: Vec<_> = tokio::time::timeout(Duration::from_secs(10), follow.collect())
                .await
                .map_err(|_| "a followed empty log did not end in 10 s".to_string())?;
            ensure(lines.is_empty(), || format!("followed {lines:?}"))
        })
        .await;
    steps
        .run("logs/server-errors".into(), async {
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
        })
        .await;
    steps
        .run("evict/pending-pod".into(), async {
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
        })
        .await;
    steps
        .run("evict/missing-pod".into(), async {
            match ctx.evict("nobody").await {
                Err(e) if e.is_not_found() => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    steps.outcome()
}
