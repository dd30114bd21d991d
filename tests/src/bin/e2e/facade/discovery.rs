//! Discovery and its overrides.

use std::collections::BTreeSet;
use std::time::Duration;

use kuber::{Context as Ctx, Error};

use super::steps::{On, Steps};
use crate::support::{Context, E2e, Outcome, ensure};

/// The HorizontalPodAutoscaler the override steps put.
const HPA: &str = r#"{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":2}}"#;

pub(super) async fn discovery(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-disc").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let on = On { e2e, ctx, ns };
    let mut steps = Steps::new();

    steps
        .run(
            "discovery/equals-kubectl-api-versions".into(),
            equals_kubectl_api_versions(&on),
        )
        .await;

    steps
        .run(
            "discovery/set_api_versions-override".into(),
            set_api_versions_override(&on),
        )
        .await;

    steps
        .run(
            "discovery/unserved-version-is-not-served".into(),
            unserved_version_is_not_served(&on),
        )
        .await;

    steps
        .run(
            "discovery/per-call-api_version".into(),
            per_call_api_version(&on),
        )
        .await;

    steps
        .run(
            "discovery/event-core-vs-events.k8s.io".into(),
            event_core_vs_events_k8s_io(&on),
        )
        .await;

    steps
        .run(
            "discovery/short-names-and-groups".into(),
            short_names_and_groups(&on),
        )
        .await;

    Steps::covered("HorizontalPodAutoscaler", "autoscaling");
    steps.outcome()
}

async fn equals_kubectl_api_versions(on: &On<'_>) -> Outcome {
    let On { e2e, .. } = on;
    // Groups come and go with CRDs other cases create and delete: a few tries, each
    // with a fresh context.
    let mut last = String::new();
    for _ in 0..5 {
        match same_as_kubectl(e2e).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(last)
}

async fn set_api_versions_override(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    ctx.put_text(HPA).await.context("put hpa")?;
    let default = ctx
        .get_kind("HorizontalPodAutoscaler", "h")
        .await
        .context("default")?;
    ensure(default.api_version() == "autoscaling/v2", || {
        format!("default answered {}", default.api_version())
    })?;
    let mut old = ctx.clone();
    old.set_api_versions([("autoscaling", "v1")]);
    let v1 = old
        .get_kind("HorizontalPodAutoscaler", "h")
        .await
        .context("override")?;
    ensure(v1.api_version() == "autoscaling/v1", || {
        format!("override answered {}", v1.api_version())
    })?;
    let typed: kuber::models::api::autoscaling::v1::HorizontalPodAutoscaler =
        v1.downcast().context("downcast v1")?;
    ensure(typed.spec.max_replicas == 2, || "v1 spec".into())?;
    let list = old.list_kind("hpa").await.context("override list")?;
    ensure(
        list.api_version.as_deref() == Some("autoscaling/v1"),
        || format!("override list {:?}", list.api_version),
    )
}

async fn unserved_version_is_not_served(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    let mut odd = ctx.clone();
    odd.set_api_versions([("autoscaling", "v9")]);
    match odd.get_kind("HorizontalPodAutoscaler", "h").await {
        Err(Error::NotServed { served, .. }) if served.iter().any(|v| v == "autoscaling/v2") => {}
        other => return Err(format!("override to v9: {other:?}")),
    }
    match ctx
        .list_kind("HorizontalPodAutoscaler")
        .api_version("autoscaling/v9")
        .await
    {
        Err(Error::NotServed { .. }) => Ok(()),
        other => Err(format!(".api_version(v9): {other:?}")),
    }
}

async fn per_call_api_version(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    let v1 = ctx
        .get_kind("HorizontalPodAutoscaler", "h")
        .api_version("autoscaling/v1")
        .await
        .context("get_kind .api_version")?;
    ensure(v1.api_version() == "autoscaling/v1", || {
        format!("answered {}", v1.api_version())
    })?;
    let list = ctx
        .list_kind("HorizontalPodAutoscaler")
        .api_version("autoscaling/v1")
        .await
        .context("list_kind .api_version")?;
    ensure(
        list.api_version.as_deref() == Some("autoscaling/v1"),
        || format!("list {:?}", list.api_version),
    )
}

async fn event_core_vs_events_k8s_io(on: &On<'_>) -> Outcome {
    let On { ctx, ns, .. } = on;
    let text = format!(
        r#"{{"apiVersion":"v1","kind":"Event","metadata":{{"name":"e"}},"involvedObject":{{"kind":"Pod","name":"p","namespace":"{ns}"}},"reason":"R","message":"m","type":"Normal"}}"#
    );
    ctx.put_text(&text).await.context("put event")?;
    let core = ctx.get_kind("Event", "e").await.context("Event")?;
    ensure(core.api_version() == "v1", || {
        format!("Event is {}", core.api_version())
    })?;
    for name in ["events.k8s.io/Event", "Event.events.k8s.io"] {
        let ev = ctx.get_kind(name, "e").await.context(name)?;
        ensure(ev.api_version() == "events.k8s.io/v1", || {
            format!("{name} is {}", ev.api_version())
        })?;
    }
    let list = ctx.list_kind("events.k8s.io/Event").await.context("list")?;
    ensure(
        list.api_version.as_deref() == Some("events.k8s.io/v1"),
        || format!("{:?}", list.api_version),
    )
}

async fn short_names_and_groups(on: &On<'_>) -> Outcome {
    let On { ctx, .. } = on;
    for (name, api_version, kind) in [
        ("deploy", "apps/v1", "Deployment"),
        ("Deployment.apps", "apps/v1", "Deployment"),
        ("apps/Deployment", "apps/v1", "Deployment"),
        ("cm", "v1", "ConfigMap"),
        ("configmaps", "v1", "ConfigMap"),
        ("hpa", "autoscaling/v2", "HorizontalPodAutoscaler"),
    ] {
        let list = ctx.list_kind(name).await.context(name)?;
        ensure(
            list.api_version.as_deref() == Some(api_version)
                && list.kind.as_deref() == Some(&format!("{kind}List")),
            || format!("{name}: {:?} {:?}", list.api_version, list.kind),
        )?;
    }
    Ok(())
}

/// `ctx.discovery()`'s groups and versions are what `kubectl api-versions` lists.
pub(super) async fn same_as_kubectl(e2e: &E2e) -> Outcome {
    let ctx = Ctx::from_client(e2e.admin.clone());
    let d = ctx.discovery().await.context("discovery")?;
    let mut ours: BTreeSet<String> = d.core_versions.iter().cloned().collect();
    for g in &d.groups {
        ensure(g.versions.first() == Some(&g.preferred_version), || {
            format!("{}: preferred {} is not first", g.name, g.preferred_version)
        })?;
        ours.extend(g.versions.iter().map(|v| format!("{}/{v}", g.name)));
    }
    let out = e2e.kubectl_ok(&["api-versions"])?;
    let theirs: BTreeSet<String> = out
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    ensure(ours == theirs, || {
        format!(
            "only ours: {:?}; only kubectl's: {:?}",
            ours.difference(&theirs).collect::<Vec<_>>(),
            theirs.difference(&ours).collect::<Vec<_>>()
        )
    })
}
