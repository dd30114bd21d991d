//! A custom resource by kind name: a CRD made through the facade, its objects by kind name,
//! a context whose discovery predates the CRD.

use std::time::Duration;

use kuber::models::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresourceScale, CustomResourceSubresources,
};
use kuber::models::special::RawJson;
use kuber::{Context as Ctx, Patch};
use serde_json::json;

use super::objects::{deleted, sorted_names};
use super::steps::Steps;
use crate::support::schemas::{namespaced_crd, object_schema, schema};
use crate::support::{Context, E2e, Outcome, ensure, poll_every};

pub(super) const CRD_GROUP: &str = "facade.kuber.example";

pub(super) async fn crd(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-crd").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    // Made (and its discovery fetched) before the CRD exists.
    let early = ctx.clone();
    let early = {
        let mut c = Ctx::from_client(early.client().clone());
        c.set_ns(ns.clone());
        c
    };
    early.discovery().await.context("early discovery")?;
    let g = Gadgets {
        e2e,
        ctx,
        early,
        ns,
    };
    let Gadgets { ctx, ns, .. } = &g;
    let mut steps = Steps::new();
    Steps::covered("Gadget", CRD_GROUP);
    Steps::covered("CustomResourceDefinition", "apiextensions.k8s.io");

    steps
        .run("Gadget/crd-put-established".into(), crd_put_established(&g))
        .await;

    // Established can run a moment ahead of discovery: wait until a fresh context resolves it
    // (the steps below say what fails if it never does).
    let every = Duration::from_millis(300);
    let _ = poll_every(
        "Gadget in discovery",
        Duration::from_secs(15),
        every,
        || async {
            let fresh = Ctx::from_client(e2e.admin.clone());
            Ok(fresh.list_kind("Gadget").namespace(ns).await.ok().map(drop))
        },
    )
    .await;

    steps
        .run("Gadget/put_text-yaml".into(), put_text_yaml(&g))
        .await;

    for name in ["Gadget", "gadgets", "gdg", "Gadget.facade.kuber.example"] {
        steps
            .run(format!("Gadget/get_kind `{name}`"), get_kind_by(&g, name))
            .await;
    }

    steps
        .run(
            "Gadget/discovery-refresh-on-miss".into(),
            discovery_refresh_on_miss(&g),
        )
        .await;

    steps.run("Gadget/list_kind".into(), list_kind(&g)).await;

    steps
        .run(
            "Gadget/update_kind-merge-json".into(),
            update_kind_merge_json(&g),
        )
        .await;

    steps
        .run("Gadget/strategic-refused".into(), strategic_refused(&g))
        .await;

    steps
        .run(
            "Gadget/apply_object-conflict-force".into(),
            apply_object_conflict_force(&g),
        )
        .await;

    steps
        .run("Gadget/status-subresource".into(), status_subresource(&g))
        .await;

    steps
        .run("Gadget/scale-subresource".into(), scale_subresource(&g))
        .await;

    steps
        .run("Gadget/delete_kind".into(), delete_kind(&g))
        .await;

    let _ = ctx
        .delete::<CustomResourceDefinition>(&format!("gadgets.{CRD_GROUP}"))
        .await;
    steps.outcome()
}

/// What the Gadget steps share: the context, one made before the CRD existed, the namespace.
struct Gadgets<'a> {
    e2e: &'a E2e,
    ctx: Ctx,
    early: Ctx,
    ns: String,
}

/// The label every Gadget carries.
const SEL: &str = "facade=gadget";

async fn crd_put_established(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, .. } = g;
    let spec = object_schema(&[("replicas", schema("integer")), ("color", schema("string"))]);
    let status = object_schema(&[("replicas", schema("integer")), ("phase", schema("string"))]);
    let mut crd = namespaced_crd(
        CRD_GROUP,
        "v1",
        "Gadget",
        "gadgets",
        object_schema(&[("spec", spec), ("status", status)]),
    );
    crd.spec.names.short_names = Some(vec!["gdg".into()]);
    crd.spec.versions[0].subresources = Some(CustomResourceSubresources {
        status: Some(RawJson::from_value(&json!({}))),
        scale: Some(CustomResourceSubresourceScale {
            spec_replicas_path: ".spec.replicas".into(),
            status_replicas_path: ".status.replicas".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    ctx.put(&crd).await.context("put the CRD")?;
    let every = Duration::from_millis(200);
    poll_every("Established", Duration::from_secs(30), every, || async {
        let read = ctx
            .get::<CustomResourceDefinition>(&format!("gadgets.{CRD_GROUP}"))
            .await
            .context("get the CRD")?;
        let established = read.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
        Ok(established.then_some(()))
    })
    .await
}

async fn put_text_yaml(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, ns, .. } = g;
    for (name, color) in [("g1", "red"), ("g2", "blue")] {
        let text = format!(
            "apiVersion: {CRD_GROUP}/v1\nkind: Gadget\nmetadata:\n  name: {name}\n  labels:\n    facade: gadget\nspec:\n  replicas: 1\n  color: {color}\n"
        );
        let created = ctx.put_text(&text).await.context("put_text")?;
        ensure(
            created.kind() == "Gadget" && created.namespace() == Some(ns.as_str()),
            || format!("answered {} in {:?}", created.kind(), created.namespace()),
        )?;
    }
    Ok(())
}

async fn get_kind_by(g: &Gadgets<'_>, name: &str) -> Outcome {
    let Gadgets { ctx, .. } = g;
    let obj = ctx.get_kind(name, "g1").await.context("get_kind")?;
    let color = obj
        .field("spec")
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    ensure(
        obj.kind() == "Gadget"
            && obj.api_version() == format!("{CRD_GROUP}/v1")
            && color.contains("red"),
        || format!("answered {} {} spec {color}", obj.api_version(), obj.kind()),
    )
}

async fn discovery_refresh_on_miss(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { early, .. } = g;
    let obj = early
        .get_kind("Gadget", "g1")
        .await
        .context("context made before the CRD")?;
    ensure(obj.name() == Some("g1"), || "another object".into())
}

async fn list_kind(g: &Gadgets<'_>) -> Outcome {
    let e2e = g.e2e;
    let Gadgets { ctx, ns, .. } = g;
    let sel = SEL;
    let list = ctx
        .list_kind("Gadget")
        .labels(sel)
        .await
        .context("list_kind")?;
    ensure(sorted_names(&list.items) == ["g1", "g2"], || {
        format!("listed {:?}", sorted_names(&list.items))
    })?;
    let out = e2e.kubectl_ok(&["get", "gadgets", "-n", ns, "-l", sel, "-o", "name"])?;
    ensure(out.lines().count() == 2, || format!("kubectl lists {out}"))
}

async fn update_kind_merge_json(g: &Gadgets<'_>) -> Outcome {
    let e2e = g.e2e;
    let Gadgets { ctx, ns, .. } = g;
    ctx.update_kind(
        "Gadget",
        "g1",
        Patch::Merge(json!({"spec": {"color": "green"}})),
    )
    .await
    .context("merge")?;
    ctx.update_kind(
        "gadgets",
        "g1",
        Patch::Json(json!([{"op": "add", "path": "/metadata/labels/json", "value": "1"}])),
    )
    .await
    .context("json")?;
    let out = e2e.kubectl_ok(&[
        "get",
        "gadgets",
        "g1",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.color}/{.metadata.labels.json}",
    ])?;
    ensure(out.trim() == "green/1", || format!("kubectl reads {out}"))
}

async fn strategic_refused(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, .. } = g;
    match ctx
        .update_kind(
            "Gadget",
            "g1",
            Patch::Strategic(json!({"spec": {"color": "x"}})),
        )
        .await
    {
        Err(e) if e.status_code() == Some(415) => Ok(()),
        other => Err(format!("strategic patch of a custom resource: {other:?}")),
    }
}

async fn apply_object_conflict_force(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, ns, .. } = g;
    let text = |color: &str| {
        format!(
            r#"{{"apiVersion":"{CRD_GROUP}/v1","kind":"Gadget","metadata":{{"name":"g2","namespace":"{ns}"}},"spec":{{"color":"{color}"}}}}"#
        )
    };
    let one = kuber::kuber_obj(&text("cyan")).context("object")?;
    // g2 was created with another colour by `kuber`: m1 takes it over.
    ctx.apply_object(&one, "facade-m1")
        .force()
        .await
        .context("apply m1")?;
    ctx.apply_object(&one, "facade-m1")
        .await
        .context("apply m1 again")?;
    let two = kuber::kuber_obj(&text("pink")).context("object")?;
    match ctx.apply_object(&two, "facade-m2").await {
        Err(e) if e.is_conflict() => {}
        other => return Err(format!("m2 without force: {:?}", other.is_ok())),
    }
    ctx.apply_object(&two, "facade-m2")
        .force()
        .await
        .context("force")?;
    let read = ctx.get_kind("Gadget", "g2").await.context("read back")?;
    ensure(
        read.field("spec")
            .is_some_and(|s| s.as_str().contains("pink")),
        || "apply lost".into(),
    )
}

async fn status_subresource(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, .. } = g;
    ctx.update_kind(
        "Gadget",
        "g1",
        Patch::Merge(json!({"status": {"replicas": 1, "phase": "Ready"}})),
    )
    .subresource("status")
    .await
    .context("status patch")?;
    let status = ctx
        .get_kind("Gadget", "g1")
        .subresource("status")
        .await
        .context("status read")?;
    ensure(
        status
            .field("status")
            .is_some_and(|s| s.as_str().contains("Ready")),
        || format!("status is {:?}", status.field("status")),
    )
}

async fn scale_subresource(g: &Gadgets<'_>) -> Outcome {
    let e2e = g.e2e;
    let Gadgets { ctx, ns, .. } = g;
    let scale = ctx
        .update_kind(
            "Gadget",
            "g1",
            Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .subresource("scale")
        .await
        .context("scale patch")?;
    ensure(scale.kind() == "Scale", || {
        format!("answered a {}", scale.kind())
    })?;
    let read = ctx
        .get_kind("Gadget", "g1")
        .subresource("scale")
        .await
        .context("scale read")?;
    let spec = read
        .field("spec")
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    ensure(spec.contains("4"), || format!("scale spec {spec}"))?;
    let out = e2e.kubectl_ok(&[
        "get",
        "gadgets",
        "g1",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.replicas}",
    ])?;
    ensure(out.trim() == "4", || {
        format!("kubectl reads replicas {out}")
    })
}

async fn delete_kind(g: &Gadgets<'_>) -> Outcome {
    let Gadgets { ctx, .. } = g;
    let answer = ctx
        .delete_kind("Gadget", "g1")
        .await
        .context("delete_kind")?;
    deleted(&answer, "g1")?;
    match ctx.get_kind("Gadget", "g1").await {
        Err(e) if e.is_not_found() => {}
        other => return Err(format!("after delete: {:?}", other.is_ok())),
    }
    let g2 = ctx.get_kind("Gadget", "g2").await.context("get g2")?;
    let answer = ctx.delete_object(&g2).await.context("delete_object")?;
    deleted(&answer, "g2")
}
