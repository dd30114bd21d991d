//! Calls that would reach more than they name: an empty name is the whole collection on the
//! server, so kuber-api refuses it before sending.

use kuber_api::{
    CoreV1Api, DeleteParams, Error, GetParams, ListParams, Patch, PatchParams,
    RbacAuthorizationV1Api, WriteParams,
};
use kuber_models::api::core::v1::{Container, Pod, PodSpec};
use kuber_models::api::rbac::v1::ClusterRole;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![case!("safety/empty-name-is-refused", empty_name)]
}

fn pod(name: &str) -> Pod {
    Pod {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `Ok` if `result` is the refusal of the `name` parameter of `operation`.
fn refused<T>(operation: &str, result: Result<T, Error>) -> Outcome {
    match result {
        Err(Error::InvalidParameter {
            operation: op,
            parameter,
            problem,
        }) if op == operation && parameter == "name" && problem == "is empty" => Ok(()),
        Err(e) => Err(format!("{operation} with an empty name: {e}")),
        Ok(_) => Err(format!(
            "{operation} with an empty name was sent and succeeded"
        )),
    }
}

async fn empty_name(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("safety").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    for name in ["first", "second"] {
        core.create_namespaced_pod(&ns, &pod(name), &WriteParams::default())
            .await
            .context(format!("create pod {name}"))?;
    }

    refused(
        "deleteCoreV1NamespacedPod",
        core.delete_namespaced_pod("", &ns, None, &DeleteParams::default())
            .await,
    )?;
    refused(
        "readCoreV1NamespacedPod",
        core.read_namespaced_pod("", &ns, &GetParams::default())
            .await,
    )?;
    refused(
        "replaceCoreV1NamespacedPod",
        core.replace_namespaced_pod("", &ns, &pod("first"), &WriteParams::default())
            .await,
    )?;
    let patch = Patch::Merge(serde_json::json!({"metadata": {"labels": {"patched": "yes"}}}));
    refused(
        "patchCoreV1NamespacedPod",
        core.patch_namespaced_pod("", &ns, &patch, &PatchParams::default())
            .await,
    )?;

    let pods = core
        .list_namespaced_pod(&ns, &ListParams::default())
        .await
        .context("list pods")?;
    let mut names: Vec<&str> = pods
        .items
        .iter()
        .filter_map(|p| p.metadata.as_ref()?.name.as_deref())
        .collect();
    names.sort_unstable();
    ensure(names == ["first", "second"], || {
        format!("pods after the refused calls: {names:?}")
    })?;
    let unpatched = pods.items.iter().all(|p| {
        p.metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref())
            .is_none_or(|l| !l.contains_key("patched"))
    });
    ensure(unpatched, || "a refused patch reached a pod".into())?;

    // Cluster-scoped: an empty name would delete every ClusterRole of the cluster.
    let rbac = RbacAuthorizationV1Api::new(e2e.admin.clone());
    let role_name = format!("{ns}-role");
    let role = ClusterRole {
        metadata: Some(ObjectMeta {
            name: Some(role_name.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    rbac.create_cluster_role(&role, &WriteParams::default())
        .await
        .context("create cluster role")?;
    refused(
        "deleteRbacAuthorizationV1ClusterRole",
        rbac.delete_cluster_role("", None, &DeleteParams::default())
            .await,
    )?;
    refused(
        "readRbacAuthorizationV1ClusterRole",
        rbac.read_cluster_role("", &GetParams::default()).await,
    )?;
    rbac.read_cluster_role(&role_name, &GetParams::default())
        .await
        .context("read the cluster role after the refused delete")?;
    rbac.read_cluster_role("cluster-admin", &GetParams::default())
        .await
        .context("read cluster-admin after the refused delete")?;

    let _ = rbac
        .delete_cluster_role(&role_name, None, &DeleteParams::default())
        .await;
    let _ = core
        .delete_namespace(&ns, None, &DeleteParams::default())
        .await;
    Ok(())
}
