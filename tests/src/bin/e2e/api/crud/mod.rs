//! Writes through the typed operations: create/read/replace/patch/delete over many kinds, every
//! patch type, dry runs, optimistic concurrency, delete answers, garbage-collector propagation,
//! the status and scale subresources, and pod eviction.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kuber_api::{
    AdmissionregistrationV1Api, AppsV1Api, AutoscalingV2Api, BatchV1Api, CertificatesV1Api, Client,
    CoordinationV1Api, CoreV1Api, DeleteCollectionParams, DeleteParams, Deleted, DiscoveryV1Api,
    EventsV1Api, FlowcontrolApiserverV1Api, GetParams, ListParams, NetworkingV1Api, NodeV1Api,
    Patch, PatchParams, PolicyV1Api, RbacAuthorizationV1Api, ResourceV1Api, SchedulingV1Api,
    StorageV1Api, WriteParams,
};
use kuber_models::Resource;
use kuber_models::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet};
use kuber_models::api::core::v1::{ConfigMap, Container, Pod, PodSpec, PodTemplateSpec};
use kuber_models::api::policy::v1::{Eviction, PodDisruptionBudget, PodDisruptionBudgetSpec};
use kuber_models::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Status};
use kuber_models::special::{ByteString, IntOrString};
use serde_json::{Value, json};

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure, poll};

pub fn cases() -> Vec<Case> {
    vec![
        case!("crud/kinds-create-read-replace-patch-delete", kinds),
        case!("crud/patch-types-and-apply-conflicts", patch_types),
        case!("crud/dry-run-stores-nothing", dry_run),
        case!(
            "crud/stale-resource-version-conflicts",
            stale_resource_version
        ),
        case!("crud/delete-answers-finalizers-collection", delete_answers),
        case!("crud/propagation-orphan-background-foreground", propagation),
        case!("crud/status-and-scale-subresources", subresources),
        case!("crud/pod-eviction-and-disruption-budget", eviction),
    ]
}

/// How long the controllers (garbage collector, namespace deletion, …) may take.
const CONTROLLER_WAIT: Duration = Duration::from_secs(90);

/// Deletes a case's namespace once the case passed (a failed case leaves it to look at).
async fn remove_namespace(e2e: &E2e, ns: &str) {
    let _ = CoreV1Api::new(e2e.admin.clone())
        .delete_namespace(ns, None, &DeleteParams::default())
        .await;
}

/// `Ok(true)` once a read answers 404, `Ok(false)` while the object is there.
fn is_gone<T>(what: &str, read: Result<T, kuber_api::Error>) -> Result<bool, String> {
    match read {
        Ok(_) => Ok(false),
        Err(e) if e.is_not_found() => Ok(true),
        Err(e) => Err(format!("read {what} while waiting for it to go: {e}")),
    }
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `crud` label, the field checked for kinds whose spec cannot change after creation.
fn crud_label<T: Resource>(object: &T) -> Option<String> {
    object.metadata()?.labels.as_ref()?.get("crud").cloned()
}

fn set_crud_label<T: Resource>(object: &mut T, value: &str) {
    object
        .metadata_mut()
        .labels
        .get_or_insert_default()
        .insert("crud".into(), value.into());
}

fn label_patch(value: &str) -> Value {
    json!({"metadata": {"labels": {"crud": value}}})
}

fn uid<T: Resource>(object: &T) -> Option<String> {
    object.metadata()?.uid.clone()
}

fn resource_version<T: Resource>(object: &T) -> Option<String> {
    object.metadata()?.resource_version.clone()
}

fn check_probe(what: &str, step: &str, got: Option<String>, want: &str) -> Outcome {
    ensure(got.as_deref() == Some(want), || {
        format!("{what}: after {step} the checked field is {got:?}, expected {want:?}")
    })
}

/// The pod template every workload here uses.
fn template(app: &str, containers: &[(&str, &str)]) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(&[("app", app)])),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: containers
                .iter()
                .map(|(name, image)| Container {
                    name: name.to_string(),
                    image: Some(image.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn deployment(name: &str, replicas: i32, containers: &[(&str, &str)]) -> Deployment {
    Deployment {
        metadata: Some(meta(name)),
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", name)])),
                ..Default::default()
            },
            template: template(name, containers),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: Some(meta(name)),
        data: Some(labels(data)),
        ..Default::default()
    }
}

fn cm_value(cm: &ConfigMap, key: &str) -> Option<String> {
    cm.data.as_ref()?.get(key).cloned()
}

/// The pod template of the JSON-built workloads.
fn template_json(app: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "registry.example/crud:1"}]},
    })
}

/// One kind through create, read, replace (retrying on a 409 caused by a controller's own write),
/// merge patch and delete, with the generated typed operations. `probe` reads one field: the
/// object (built typed from JSON) sets it to the first `expect` value, `replace` to the second,
/// `patch` to the third.
macro_rules! crud_kind {
    (
        $done:ident, $api:expr, $ty:ty, [$($ns:expr)?],
        [$create:ident, $read:ident, $replace:ident, $patch:ident, $delete:ident],
        object: $object:expr,
        probe: $probe:expr,
        replace: $change:expr,
        patch: $patch_body:expr,
        expect: [$v1:expr, $v2:expr, $v3:expr] $(,)?
    ) => {{
        let api = &$api;
        let probe: fn(&$ty) -> Option<String> = $probe;
        let change: fn(&mut $ty) = $change;
        let object: $ty = serde_json::from_value($object)
            .map_err(|e| format!("build a {}: {e}", <$ty as Resource>::KIND))?;
        let name = object.name().unwrap_or_default().to_string();
        let what = format!("{} {name}", <$ty as Resource>::KIND);
        let created = api
            .$create($($ns,)? &object, &WriteParams::default())
            .await
            .context(format!("create {what}"))?;
        let steps: Outcome = async {
            check_probe(&what, "create", probe(&created), $v1)?;
            let read = api
                .$read(&name, $($ns,)? &GetParams::default())
                .await
                .context(format!("read {what}"))?;
            check_probe(&what, "create, read back", probe(&read), $v1)?;
            ensure(uid(&read).is_some() && uid(&read) == uid(&created), || {
                format!("{what}: read back another uid than create answered")
            })?;
            let mut current = read;
            let mut attempts = 0;
            let replaced = loop {
                let mut changed = current.clone();
                change(&mut changed);
                match api
                    .$replace(&name, $($ns,)? &changed, &WriteParams::default())
                    .await
                {
                    Ok(replaced) => {
                        ensure(resource_version(&replaced) != resource_version(&current), || {
                            format!("{what}: replace kept resourceVersion {:?}", resource_version(&current))
                        })?;
                        break replaced;
                    }
                    // A controller wrote the status between our read and replace.
                    Err(e) if e.is_conflict() && attempts < 5 => {
                        attempts += 1;
                        current = api
                            .$read(&name, $($ns,)? &GetParams::default())
                            .await
                            .context(format!("read {what} again after a conflict"))?;
                    }
                    Err(e) => return Err(format!("replace {what}: {e}")),
                }
            };
            check_probe(&what, "replace", probe(&replaced), $v2)?;
            let read = api
                .$read(&name, $($ns,)? &GetParams::default())
                .await
                .context(format!("read {what} after replace"))?;
            check_probe(&what, "replace, read back", probe(&read), $v2)?;
            let patched = api
                .$patch(&name, $($ns,)? &Patch::Merge($patch_body), &PatchParams::default())
                .await
                .context(format!("merge-patch {what}"))?;
            check_probe(&what, "merge patch", probe(&patched), $v3)?;
            let read = api
                .$read(&name, $($ns,)? &GetParams::default())
                .await
                .context(format!("read {what} after patch"))?;
            check_probe(&what, "merge patch, read back", probe(&read), $v3)
        }
        .await;
        // Deleted even when a step failed: cluster-scoped objects would outlive the case.
        let deleted = api
            .$delete(&name, $($ns,)? None, &DeleteParams::default())
            .await
            .context(format!("delete {what}"));
        steps?;
        match deleted? {
            Deleted::Object(o) => ensure(o.name() == Some(name.as_str()), || {
                format!("{what}: delete answered an object named {:?}", o.name())
            })?,
            Deleted::Status(s) => ensure(s.status.as_deref() == Some("Success"), || {
                format!("{what}: delete answered status {:?}", s.status)
            })?,
        }
        let (name, what) = (name.as_str(), what.as_str());
        poll(&format!("{what} gone after delete"), CONTROLLER_WAIT, || async move {
            let read = api.$read(name, $($ns,)? &GetParams::default()).await;
            Ok(is_gone(what, read)?.then_some(()))
        })
        .await?;
        $done.push((<$ty as Resource>::KIND, <$ty as Resource>::GROUP));
    }};
}

/// A signing request for a fresh key, PEM encoded, as `certificates.k8s.io` wants it.
fn csr_pem(common_name: &str) -> Result<String, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| format!("CSR key: {e}"))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("CSR parameters: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| format!("CSR: {e}"))
}

fn webhook(name: &str, timeout: i32) -> Value {
    json!([{
        "name": name,
        "clientConfig": {"url": "https://127.0.0.1:9/crud"},
        "rules": [{
            "apiGroups": ["crud.example.com"],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["widgets"],
        }],
        "failurePolicy": "Ignore",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": timeout,
    }])
}

/// The kinds one case went through: (kind, group).
type Done = Vec<(&'static str, &'static str)>;

/// Every kind of the groups below goes through create, read, replace, merge patch and delete.
async fn kinds(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud").await?;
    let ns = ns.as_str();
    let client = &e2e.admin;
    let mut done = Done::new();
    core_namespaced(client, ns, &mut done).await?;
    core_more(client, ns, &mut done).await?;
    apps_batch(client, ns, &mut done).await?;
    rbac(client, ns, &mut done).await?;
    networking(client, ns, &mut done).await?;
    cluster_services(client, ns, &mut done).await?;
    admission_discovery(client, ns, &mut done).await?;
    events_to_resource(client, ns, &mut done).await?;
    let groups: BTreeSet<&str> = done
        .iter()
        .map(|(_, g)| if g.is_empty() { "core" } else { *g })
        .collect();
    ensure(done.len() >= 20 && groups.len() >= 8, || {
        format!("only {} kinds across {} groups", done.len(), groups.len())
    })?;
    e2e.report(format!(
        "crud: {} kinds across {} groups: create/read/replace/patch/delete",
        done.len(),
        groups.len()
    ));
    remove_namespace(e2e, ns).await;
    Ok(())
}

/// Core namespaced kinds: ConfigMap to PersistentVolumeClaim.
async fn core_namespaced(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let core = CoreV1Api::new(client.clone());
    use kuber_models::api::core::v1 as core_v1;
    crud_kind!(done, core, core_v1::ConfigMap, [ns],
        [create_namespaced_config_map, read_namespaced_config_map, replace_namespaced_config_map,
         patch_namespaced_config_map, delete_namespaced_config_map],
        object: json!({"metadata": {"name": "cm"}, "data": {"k": "a"}}),
        probe: |o| o.data.as_ref()?.get("k").cloned(),
        replace: |o| { o.data.get_or_insert_default().insert("k".into(), "b".into()); },
        patch: json!({"data": {"k": "c"}}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, core, core_v1::Secret, [ns],
        [create_namespaced_secret, read_namespaced_secret, replace_namespaced_secret,
         patch_namespaced_secret, delete_namespaced_secret],
        object: json!({"metadata": {"name": "secret"}, "stringData": {"k": "a"}}),
        probe: |o| o.data.as_ref()?.get("k").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        replace: |o| { o.data.get_or_insert_default().insert("k".into(), ByteString::from("b")); },
        patch: json!({"data": {"k": ByteString::from("c").to_base64()}}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, core, core_v1::Service, [ns],
        [create_namespaced_service, read_namespaced_service, replace_namespaced_service,
         patch_namespaced_service, delete_namespaced_service],
        object: json!({"metadata": {"name": "svc"}, "spec": {
            "selector": {"app": "a"}, "ports": [{"port": 80, "protocol": "TCP"}]}}),
        probe: |o| o.spec.as_ref()?.selector.as_ref()?.get("app").cloned(),
        replace: |o| { o.spec.get_or_insert_default().selector = Some(labels(&[("app", "b")])); },
        patch: json!({"spec": {"selector": {"app": "c"}}}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, core, core_v1::ServiceAccount, [ns],
        [create_namespaced_service_account, read_namespaced_service_account,
         replace_namespaced_service_account, patch_namespaced_service_account,
         delete_namespaced_service_account],
        object: json!({"metadata": {"name": "sa"}, "automountServiceAccountToken": true}),
        probe: |o| o.automount_service_account_token.map(|v| v.to_string()),
        replace: |o| o.automount_service_account_token = Some(false),
        patch: json!({"automountServiceAccountToken": true}),
        expect: ["true", "false", "true"]);
    crud_kind!(done, core, core_v1::Pod, [ns],
        [create_namespaced_pod, read_namespaced_pod, replace_namespaced_pod,
         patch_namespaced_pod, delete_namespaced_pod],
        object: json!({"metadata": {"name": "pod"}, "spec": {
            "activeDeadlineSeconds": 300,
            "containers": [{"name": "c", "image": "registry.example/crud:1"}]}}),
        probe: |o| o.spec.as_ref()?.active_deadline_seconds.map(|v| v.to_string()),
        // The deadline may only shrink once set.
        replace: |o| o.spec.get_or_insert_default().active_deadline_seconds = Some(200),
        patch: json!({"spec": {"activeDeadlineSeconds": 100}}),
        expect: ["300", "200", "100"]);
    crud_kind!(done, core, core_v1::PersistentVolumeClaim, [ns],
        [create_namespaced_persistent_volume_claim, read_namespaced_persistent_volume_claim,
         replace_namespaced_persistent_volume_claim, patch_namespaced_persistent_volume_claim,
         delete_namespaced_persistent_volume_claim],
        object: json!({"metadata": {"name": "pvc", "labels": {"crud": "a"}}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "crud-none",
            "resources": {"requests": {"storage": "1Gi"}}}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    Ok(())
}

/// Core kinds, continued: PersistentVolume to ReplicationController.
async fn core_more(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let core = CoreV1Api::new(client.clone());
    use kuber_models::api::core::v1 as core_v1;
    crud_kind!(done, core, core_v1::PersistentVolume, [],
        [create_persistent_volume, read_persistent_volume, replace_persistent_volume,
         patch_persistent_volume, delete_persistent_volume],
        object: json!({"metadata": {"name": cluster("pv")}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "crud-none",
            "hostPath": {"path": "/tmp/kuber-crud"}}}),
        probe: |o| o.spec.as_ref()?.persistent_volume_reclaim_policy.clone(),
        replace: |o| o.spec.get_or_insert_default().persistent_volume_reclaim_policy = Some("Delete".into()),
        patch: json!({"spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
        expect: ["Retain", "Delete", "Retain"]);
    crud_kind!(done, core, core_v1::Namespace, [],
        [create_namespace, read_namespace, replace_namespace, patch_namespace, delete_namespace],
        object: json!({"metadata": {"name": cluster("ns"), "labels": {"crud": "a"}}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    crud_kind!(done, core, core_v1::LimitRange, [ns],
        [create_namespaced_limit_range, read_namespaced_limit_range,
         replace_namespaced_limit_range, patch_namespaced_limit_range,
         delete_namespaced_limit_range],
        object: json!({"metadata": {"name": "limits"}, "spec": {
            "limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
        probe: |o| Some(o.spec.as_ref()?.limits.first()?.max.as_ref()?.get("cpu")?.to_string()),
        replace: |o| {
            if let Some(item) = o.spec.get_or_insert_default().limits.first_mut() {
                item.max.get_or_insert_default().insert("cpu".into(), "3".into());
            }
        },
        patch: json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "4"}}]}}),
        expect: ["2", "3", "4"]);
    crud_kind!(done, core, core_v1::ResourceQuota, [ns],
        [create_namespaced_resource_quota, read_namespaced_resource_quota,
         replace_namespaced_resource_quota, patch_namespaced_resource_quota,
         delete_namespaced_resource_quota],
        object: json!({"metadata": {"name": "quota"}, "spec": {"hard": {"pods": "100"}}}),
        probe: |o| Some(o.spec.as_ref()?.hard.as_ref()?.get("pods")?.to_string()),
        replace: |o| { o.spec.get_or_insert_default().hard.get_or_insert_default().insert("pods".into(), "101".into()); },
        patch: json!({"spec": {"hard": {"pods": "102"}}}),
        expect: ["100", "101", "102"]);
    crud_kind!(done, core, core_v1::PodTemplate, [ns],
        [create_namespaced_pod_template, read_namespaced_pod_template,
         replace_namespaced_pod_template, patch_namespaced_pod_template,
         delete_namespaced_pod_template],
        object: json!({"metadata": {"name": "template"}, "template": template_json("template")}),
        probe: |o| o.template.as_ref()?.spec.as_ref()?.containers.first()?.image.clone(),
        replace: |o| {
            if let Some(c) = o.template.get_or_insert_default().spec.get_or_insert_default().containers.first_mut() {
                c.image = Some("registry.example/crud:2".into());
            }
        },
        patch: json!({"template": {"spec": {"containers": [{"name": "c", "image": "registry.example/crud:3"}]}}}),
        expect: ["registry.example/crud:1", "registry.example/crud:2", "registry.example/crud:3"]);
    crud_kind!(done, core, core_v1::ReplicationController, [ns],
        [create_namespaced_replication_controller, read_namespaced_replication_controller,
         replace_namespaced_replication_controller, patch_namespaced_replication_controller,
         delete_namespaced_replication_controller],
        object: json!({"metadata": {"name": "rc"}, "spec": {"replicas": 0, "minReadySeconds": 1,
            "selector": {"app": "rc"}, "template": template_json("rc")}}),
        probe: |o| o.spec.as_ref()?.min_ready_seconds.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_ready_seconds = Some(2),
        patch: json!({"spec": {"minReadySeconds": 3}}),
        expect: ["1", "2", "3"]);
    Ok(())
}

/// Apps and batch.
async fn apps_batch(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let apps = AppsV1Api::new(client.clone());
    let batch = BatchV1Api::new(client.clone());
    crud_kind!(done, apps, kuber_models::api::apps::v1::Deployment, [ns],
        [create_namespaced_deployment, read_namespaced_deployment, replace_namespaced_deployment,
         patch_namespaced_deployment, delete_namespaced_deployment],
        object: json!({"metadata": {"name": "deploy"}, "spec": {"replicas": 0, "minReadySeconds": 1,
            "selector": {"matchLabels": {"app": "deploy"}}, "template": template_json("deploy")}}),
        probe: |o| o.spec.as_ref()?.min_ready_seconds.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_ready_seconds = Some(2),
        patch: json!({"spec": {"minReadySeconds": 3}}),
        expect: ["1", "2", "3"]);
    crud_kind!(done, apps, kuber_models::api::apps::v1::StatefulSet, [ns],
        [create_namespaced_stateful_set, read_namespaced_stateful_set,
         replace_namespaced_stateful_set, patch_namespaced_stateful_set,
         delete_namespaced_stateful_set],
        object: json!({"metadata": {"name": "sts"}, "spec": {"replicas": 0, "minReadySeconds": 1,
            "serviceName": "sts", "selector": {"matchLabels": {"app": "sts"}},
            "template": template_json("sts")}}),
        probe: |o| o.spec.as_ref()?.min_ready_seconds.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_ready_seconds = Some(2),
        patch: json!({"spec": {"minReadySeconds": 3}}),
        expect: ["1", "2", "3"]);
    crud_kind!(done, apps, kuber_models::api::apps::v1::DaemonSet, [ns],
        [create_namespaced_daemon_set, read_namespaced_daemon_set, replace_namespaced_daemon_set,
         patch_namespaced_daemon_set, delete_namespaced_daemon_set],
        object: json!({"metadata": {"name": "ds"}, "spec": {"minReadySeconds": 1,
            "selector": {"matchLabels": {"app": "ds"}}, "template": template_json("ds")}}),
        probe: |o| o.spec.as_ref()?.min_ready_seconds.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_ready_seconds = Some(2),
        patch: json!({"spec": {"minReadySeconds": 3}}),
        expect: ["1", "2", "3"]);
    crud_kind!(done, apps, kuber_models::api::apps::v1::ReplicaSet, [ns],
        [create_namespaced_replica_set, read_namespaced_replica_set,
         replace_namespaced_replica_set, patch_namespaced_replica_set,
         delete_namespaced_replica_set],
        object: json!({"metadata": {"name": "rs"}, "spec": {"replicas": 0, "minReadySeconds": 1,
            "selector": {"matchLabels": {"app": "rs"}}, "template": template_json("rs")}}),
        probe: |o| o.spec.as_ref()?.min_ready_seconds.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_ready_seconds = Some(2),
        patch: json!({"spec": {"minReadySeconds": 3}}),
        expect: ["1", "2", "3"]);
    crud_kind!(done, apps, kuber_models::api::apps::v1::ControllerRevision, [ns],
        [create_namespaced_controller_revision, read_namespaced_controller_revision,
         replace_namespaced_controller_revision, patch_namespaced_controller_revision,
         delete_namespaced_controller_revision],
        object: json!({"metadata": {"name": "rev"}, "revision": 1, "data": {"crud": [1, 2]}}),
        probe: |o| Some(o.revision.to_string()),
        replace: |o| o.revision = 2,
        patch: json!({"revision": 3}),
        expect: ["1", "2", "3"]);

    crud_kind!(done, batch, kuber_models::api::batch::v1::Job, [ns],
        [create_namespaced_job, read_namespaced_job, replace_namespaced_job,
         patch_namespaced_job, delete_namespaced_job],
        object: json!({"metadata": {"name": "job"}, "spec": {"suspend": true, "parallelism": 1,
            "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "registry.example/crud:1"}]}}}}),
        probe: |o| o.spec.as_ref()?.parallelism.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().parallelism = Some(2),
        patch: json!({"spec": {"parallelism": 3}}),
        expect: ["1", "2", "3"]);
    crud_kind!(done, batch, kuber_models::api::batch::v1::CronJob, [ns],
        [create_namespaced_cron_job, read_namespaced_cron_job, replace_namespaced_cron_job,
         patch_namespaced_cron_job, delete_namespaced_cron_job],
        object: json!({"metadata": {"name": "cron"}, "spec": {"suspend": true,
            "schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "registry.example/crud:1"}]}}}}}}),
        probe: |o| Some(o.spec.schedule.clone()),
        replace: |o| o.spec.schedule = "*/10 * * * *".into(),
        patch: json!({"spec": {"schedule": "*/15 * * * *"}}),
        expect: ["*/5 * * * *", "*/10 * * * *", "*/15 * * * *"]);
    Ok(())
}

/// Rbac.authorization.k8s.io.
async fn rbac(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let rbac = RbacAuthorizationV1Api::new(client.clone());
    use kuber_models::api::rbac::v1 as rbac_v1;
    let rule =
        |resource: &str| json!([{"apiGroups": [""], "resources": [resource], "verbs": ["get"]}]);
    fn first_resource(rules: &Option<Vec<rbac_v1::PolicyRule>>) -> Option<String> {
        rules
            .as_ref()?
            .first()?
            .resources
            .as_ref()?
            .first()
            .cloned()
    }
    fn set_first_resource(rules: &mut Option<Vec<rbac_v1::PolicyRule>>, value: &str) {
        if let Some(rule) = rules.get_or_insert_default().first_mut() {
            rule.resources = Some(vec![value.into()]);
        }
    }
    fn first_subject(subjects: &Option<Vec<rbac_v1::Subject>>) -> Option<String> {
        Some(subjects.as_ref()?.first()?.name.clone())
    }
    fn set_first_subject(subjects: &mut Option<Vec<rbac_v1::Subject>>, value: &str) {
        if let Some(subject) = subjects.get_or_insert_default().first_mut() {
            subject.name = value.into();
        }
    }
    let subject = |user: &str| json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}]);
    crud_kind!(done, rbac, rbac_v1::Role, [ns],
        [create_namespaced_role, read_namespaced_role, replace_namespaced_role,
         patch_namespaced_role, delete_namespaced_role],
        object: json!({"metadata": {"name": "role"}, "rules": rule("configmaps")}),
        probe: |o| first_resource(&o.rules),
        replace: |o| set_first_resource(&mut o.rules, "secrets"),
        patch: json!({"rules": rule("pods")}),
        expect: ["configmaps", "secrets", "pods"]);
    crud_kind!(done, rbac, rbac_v1::RoleBinding, [ns],
        [create_namespaced_role_binding, read_namespaced_role_binding,
         replace_namespaced_role_binding, patch_namespaced_role_binding,
         delete_namespaced_role_binding],
        object: json!({"metadata": {"name": "binding"}, "subjects": subject("crud-a"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role"}}),
        probe: |o| first_subject(&o.subjects),
        replace: |o| set_first_subject(&mut o.subjects, "crud-b"),
        patch: json!({"subjects": subject("crud-c")}),
        expect: ["crud-a", "crud-b", "crud-c"]);
    crud_kind!(done, rbac, rbac_v1::ClusterRole, [],
        [create_cluster_role, read_cluster_role, replace_cluster_role, patch_cluster_role,
         delete_cluster_role],
        object: json!({"metadata": {"name": cluster("role")}, "rules": rule("configmaps")}),
        probe: |o| first_resource(&o.rules),
        replace: |o| set_first_resource(&mut o.rules, "secrets"),
        patch: json!({"rules": rule("pods")}),
        expect: ["configmaps", "secrets", "pods"]);
    crud_kind!(done, rbac, rbac_v1::ClusterRoleBinding, [],
        [create_cluster_role_binding, read_cluster_role_binding, replace_cluster_role_binding,
         patch_cluster_role_binding, delete_cluster_role_binding],
        object: json!({"metadata": {"name": cluster("binding")}, "subjects": subject("crud-a"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": cluster("role")}}),
        probe: |o| first_subject(&o.subjects),
        replace: |o| set_first_subject(&mut o.subjects, "crud-b"),
        patch: json!({"subjects": subject("crud-c")}),
        expect: ["crud-a", "crud-b", "crud-c"]);
    Ok(())
}

/// Networking.k8s.io.
async fn networking(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let networking = NetworkingV1Api::new(client.clone());
    use kuber_models::api::networking::v1 as networking_v1;
    crud_kind!(done, networking, networking_v1::NetworkPolicy, [ns],
        [create_namespaced_network_policy, read_namespaced_network_policy,
         replace_namespaced_network_policy, patch_namespaced_network_policy,
         delete_namespaced_network_policy],
        object: json!({"metadata": {"name": "netpol"}, "spec": {
            "podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Ingress"]}}),
        probe: |o| o.spec.as_ref()?.pod_selector.as_ref()?.match_labels.as_ref()?.get("app").cloned(),
        replace: |o| o.spec.get_or_insert_default().pod_selector = Some(LabelSelector {
            match_labels: Some(labels(&[("app", "b")])),
            ..Default::default()
        }),
        patch: json!({"spec": {"podSelector": {"matchLabels": {"app": "c"}}}}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, networking, networking_v1::Ingress, [ns],
        [create_namespaced_ingress, read_namespaced_ingress, replace_namespaced_ingress,
         patch_namespaced_ingress, delete_namespaced_ingress],
        object: json!({"metadata": {"name": "ingress"}, "spec": {"ingressClassName": "class-a",
            "defaultBackend": {"service": {"name": "svc", "port": {"number": 80}}}}}),
        probe: |o| o.spec.as_ref()?.ingress_class_name.clone(),
        replace: |o| o.spec.get_or_insert_default().ingress_class_name = Some("class-b".into()),
        patch: json!({"spec": {"ingressClassName": "class-c"}}),
        expect: ["class-a", "class-b", "class-c"]);
    crud_kind!(done, networking, networking_v1::IngressClass, [],
        [create_ingress_class, read_ingress_class, replace_ingress_class, patch_ingress_class,
         delete_ingress_class],
        object: json!({"metadata": {"name": cluster("class"), "labels": {"crud": "a"}},
            "spec": {"controller": "example.com/crud"}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    Ok(())
}

/// Policy, scheduling, coordination, storage and node.
async fn cluster_services(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let policy = PolicyV1Api::new(client.clone());
    let scheduling = SchedulingV1Api::new(client.clone());
    let coordination = CoordinationV1Api::new(client.clone());
    let storage = StorageV1Api::new(client.clone());
    let node = NodeV1Api::new(client.clone());
    crud_kind!(done, policy, kuber_models::api::policy::v1::PodDisruptionBudget, [ns],
        [create_namespaced_pod_disruption_budget, read_namespaced_pod_disruption_budget,
         replace_namespaced_pod_disruption_budget, patch_namespaced_pod_disruption_budget,
         delete_namespaced_pod_disruption_budget],
        object: json!({"metadata": {"name": "pdb"}, "spec": {"minAvailable": 1,
            "selector": {"matchLabels": {"app": "pdb"}}}}),
        probe: |o| o.spec.as_ref()?.min_available.as_ref().map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().min_available = Some(IntOrString::from(2)),
        patch: json!({"spec": {"minAvailable": "50%"}}),
        expect: ["1", "2", "50%"]);
    crud_kind!(done, scheduling, kuber_models::api::scheduling::v1::PriorityClass, [],
        [create_priority_class, read_priority_class, replace_priority_class,
         patch_priority_class, delete_priority_class],
        object: json!({"metadata": {"name": cluster("priority")}, "value": 1000, "description": "a"}),
        probe: |o| o.description.clone(),
        replace: |o| o.description = Some("b".into()),
        patch: json!({"description": "c"}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, coordination, kuber_models::api::coordination::v1::Lease, [ns],
        [create_namespaced_lease, read_namespaced_lease, replace_namespaced_lease,
         patch_namespaced_lease, delete_namespaced_lease],
        object: json!({"metadata": {"name": "lease"}, "spec": {"holderIdentity": "a",
            "leaseDurationSeconds": 15}}),
        probe: |o| o.spec.as_ref()?.holder_identity.clone(),
        replace: |o| o.spec.get_or_insert_default().holder_identity = Some("b".into()),
        patch: json!({"spec": {"holderIdentity": "c"}}),
        expect: ["a", "b", "c"]);
    crud_kind!(done, storage, kuber_models::api::storage::v1::StorageClass, [],
        [create_storage_class, read_storage_class, replace_storage_class, patch_storage_class,
         delete_storage_class],
        object: json!({"metadata": {"name": cluster("storage")}, "provisioner": "example.com/crud",
            "allowVolumeExpansion": false}),
        probe: |o| o.allow_volume_expansion.map(|v| v.to_string()),
        replace: |o| o.allow_volume_expansion = Some(true),
        patch: json!({"allowVolumeExpansion": false}),
        expect: ["false", "true", "false"]);
    crud_kind!(done, storage, kuber_models::api::storage::v1::CSIDriver, [],
        [create_csi_driver, read_csi_driver, replace_csi_driver, patch_csi_driver,
         delete_csi_driver],
        object: json!({"metadata": {"name": format!("{}.crud.example.com", cluster("csi")),
            "labels": {"crud": "a"}}, "spec": {"attachRequired": false}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    crud_kind!(done, node, kuber_models::api::node::v1::RuntimeClass, [],
        [create_runtime_class, read_runtime_class, replace_runtime_class, patch_runtime_class,
         delete_runtime_class],
        object: json!({"metadata": {"name": cluster("runtime"), "labels": {"crud": "a"}},
            "handler": "crud"}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    Ok(())
}

/// Admissionregistration, discovery and autoscaling.
async fn admission_discovery(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let admission = AdmissionregistrationV1Api::new(client.clone());
    let discovery = DiscoveryV1Api::new(client.clone());
    let autoscaling = AutoscalingV2Api::new(client.clone());
    crud_kind!(done, admission, kuber_models::api::admissionregistration::v1::ValidatingWebhookConfiguration, [],
        [create_validating_webhook_configuration, read_validating_webhook_configuration,
         replace_validating_webhook_configuration, patch_validating_webhook_configuration,
         delete_validating_webhook_configuration],
        // Matches only a resource nobody serves, and never fails a request.
        object: json!({"metadata": {"name": cluster("webhook")},
            "webhooks": webhook("crud.example.com", 5)}),
        probe: |o| o.webhooks.as_ref()?.first()?.timeout_seconds.map(|v| v.to_string()),
        replace: |o| {
            if let Some(w) = o.webhooks.get_or_insert_default().first_mut() {
                w.timeout_seconds = Some(6);
            }
        },
        patch: json!({"webhooks": webhook("crud.example.com", 7)}),
        expect: ["5", "6", "7"]);
    crud_kind!(done, discovery, kuber_models::api::discovery::v1::EndpointSlice, [ns],
        [create_namespaced_endpoint_slice, read_namespaced_endpoint_slice,
         replace_namespaced_endpoint_slice, patch_namespaced_endpoint_slice,
         delete_namespaced_endpoint_slice],
        object: json!({"metadata": {"name": "slice"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.1.2.3"]}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}),
        probe: |o| o.ports.as_ref()?.first()?.port.map(|v| v.to_string()),
        replace: |o| {
            if let Some(p) = o.ports.get_or_insert_default().first_mut() {
                p.port = Some(81);
            }
        },
        patch: json!({"ports": [{"name": "http", "port": 82, "protocol": "TCP"}]}),
        expect: ["80", "81", "82"]);
    crud_kind!(done, autoscaling, kuber_models::api::autoscaling::v2::HorizontalPodAutoscaler, [ns],
        [create_namespaced_horizontal_pod_autoscaler, read_namespaced_horizontal_pod_autoscaler,
         replace_namespaced_horizontal_pod_autoscaler, patch_namespaced_horizontal_pod_autoscaler,
         delete_namespaced_horizontal_pod_autoscaler],
        object: json!({"metadata": {"name": "hpa"}, "spec": {"maxReplicas": 3,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "deploy"}}}),
        probe: |o| Some(o.spec.max_replicas.to_string()),
        replace: |o| o.spec.max_replicas = 4,
        patch: json!({"spec": {"maxReplicas": 5}}),
        expect: ["3", "4", "5"]);
    Ok(())
}

/// Events, flowcontrol, certificates and resource.
async fn events_to_resource(client: &Client, ns: &str, done: &mut Done) -> Outcome {
    let cluster = |suffix: &str| format!("{ns}-{suffix}");
    let events = EventsV1Api::new(client.clone());
    let flowcontrol = FlowcontrolApiserverV1Api::new(client.clone());
    let certificates = CertificatesV1Api::new(client.clone());
    let resource = ResourceV1Api::new(client.clone());
    crud_kind!(done, events, kuber_models::api::events::v1::Event, [ns],
        [create_namespaced_event, read_namespaced_event, replace_namespaced_event,
         patch_namespaced_event, delete_namespaced_event],
        object: json!({"metadata": {"name": "event", "labels": {"crud": "a"}},
            "eventTime": "2026-01-02T03:04:05.000000Z", "type": "Normal",
            "reportingController": "example.com/crud", "reportingInstance": "crud-1",
            "action": "Testing", "reason": "Crud", "note": "written by the e2e suite",
            "regarding": {"kind": "ConfigMap", "namespace": ns, "name": "cm", "apiVersion": "v1"}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    crud_kind!(done, flowcontrol, kuber_models::api::flowcontrol::v1::PriorityLevelConfiguration, [],
        [create_priority_level_configuration, read_priority_level_configuration,
         replace_priority_level_configuration, patch_priority_level_configuration,
         delete_priority_level_configuration],
        object: json!({"metadata": {"name": cluster("level")}, "spec": {"type": "Limited",
            "limited": {"nominalConcurrencyShares": 5, "limitResponse": {"type": "Reject"}}}}),
        probe: |o| o.spec.as_ref()?.limited.as_ref()?.nominal_concurrency_shares.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().limited.get_or_insert_default().nominal_concurrency_shares = Some(6),
        patch: json!({"spec": {"limited": {"nominalConcurrencyShares": 7}}}),
        expect: ["5", "6", "7"]);
    crud_kind!(done, flowcontrol, kuber_models::api::flowcontrol::v1::FlowSchema, [],
        [create_flow_schema, read_flow_schema, replace_flow_schema, patch_flow_schema,
         delete_flow_schema],
        // Matches only a user that never calls.
        object: json!({"metadata": {"name": cluster("flow")}, "spec": {
            "matchingPrecedence": 9000,
            "priorityLevelConfiguration": {"name": "global-default"},
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [{"subjects": [{"kind": "User", "user": {"name": "crud-nobody"}}],
                "resourceRules": [{"verbs": ["get"], "apiGroups": [""],
                    "resources": ["configmaps"], "namespaces": ["*"]}]}]}}),
        probe: |o| o.spec.as_ref()?.matching_precedence.map(|v| v.to_string()),
        replace: |o| o.spec.get_or_insert_default().matching_precedence = Some(9001),
        patch: json!({"spec": {"matchingPrecedence": 9002}}),
        expect: ["9000", "9001", "9002"]);
    let request = ByteString::from(csr_pem(&cluster("csr"))?.into_bytes()).to_base64();
    crud_kind!(done, certificates, kuber_models::api::certificates::v1::CertificateSigningRequest, [],
        [create_certificate_signing_request, read_certificate_signing_request,
         replace_certificate_signing_request, patch_certificate_signing_request,
         delete_certificate_signing_request],
        object: json!({"metadata": {"name": cluster("csr"), "labels": {"crud": "a"}}, "spec": {
            "request": request, "signerName": "example.com/crud",
            "usages": ["digital signature"]}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    crud_kind!(done, resource, kuber_models::api::resource::v1::DeviceClass, [],
        [create_device_class, read_device_class, replace_device_class, patch_device_class,
         delete_device_class],
        object: json!({"metadata": {"name": cluster("devices"), "labels": {"crud": "a"}},
            "spec": {"selectors": [{"cel": {"expression": "device.driver == \"crud.example.com\""}}]}}),
        probe: crud_label,
        replace: |o| set_crud_label(o, "b"),
        patch: label_patch("c"),
        expect: ["a", "b", "c"]);
    Ok(())
}

/// Who owns `path` (e.g. `["f:metadata", "f:labels", "f:tier"]`) in the managed fields.
fn owners(object: &Deployment, path: &[&str]) -> Vec<String> {
    let entries = object
        .metadata
        .as_ref()
        .and_then(|m| m.managed_fields.clone())
        .unwrap_or_default();
    entries
        .into_iter()
        .filter(|entry| {
            let fields = entry
                .fields_v1
                .as_ref()
                .map(|f| f.to_value())
                .unwrap_or(Value::Null);
            path.iter().try_fold(&fields, |v, key| v.get(key)).is_some()
        })
        .filter_map(|entry| entry.manager)
        .collect()
}

fn images(object: &Deployment) -> Vec<(String, String)> {
    object
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| {
            p.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

fn label_of(object: &impl Resource, key: &str) -> Option<String> {
    object.metadata()?.labels.as_ref()?.get(key).cloned()
}

/// JSON patch, merge patch, strategic merge patch and server-side apply on one Deployment,
/// including an apply conflict between two managers and its forced resolution.
async fn patch_types(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-patch").await?;
    let apps = AppsV1Api::new(e2e.admin.clone());
    apply_creates_and_updates(&apps, &ns).await?;
    json_patch(&apps, &ns).await?;
    merge_and_strategic(&apps, &ns).await?;
    apply_conflict_then_force(&apps, &ns).await?;
    e2e.report(
        "crud: patch types JSON, merge, strategic (merge key kept a sibling), apply create/update/conflict/force",
    );
    remove_namespace(e2e, &ns).await;
    Ok(())
}

/// The Deployment every patch type changes.
const PATCHED: &str = "patched";

/// Server-side apply by crud-alice creates the object, then updates it.
async fn apply_creates_and_updates(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = PATCHED;
    let alice = PatchParams {
        field_manager: Some("crud-alice".into()),
        ..Default::default()
    };
    // Server-side apply creates the object …
    let mut applied = deployment(name, 0, &[("a", "img-a:1"), ("b", "img-b:1")]);
    applied.api_version = Some("apps/v1".into());
    applied.kind = Some("Deployment".into());
    applied.metadata_mut().labels = Some(labels(&[("tier", "alice-1")]));
    let patch = Patch::apply(&applied).context("encode the apply configuration")?;
    let created = apps
        .patch_namespaced_deployment(name, ns, &patch, &alice)
        .await
        .context("apply (create) deployment patched")?;
    ensure(
        label_of(&created, "tier").as_deref() == Some("alice-1"),
        || "apply (create): label tier not set".into(),
    )?;
    ensure(
        owners(&created, &["f:metadata", "f:labels", "f:tier"]) == ["crud-alice"],
        || {
            format!(
                "apply (create): labels.tier owned by {:?}",
                owners(&created, &["f:metadata", "f:labels", "f:tier"])
            )
        },
    )?;
    // … and updates it.
    applied.metadata_mut().labels = Some(labels(&[("tier", "alice-2")]));
    let patch = Patch::apply(&applied).context("encode the apply configuration")?;
    let updated = apps
        .patch_namespaced_deployment(name, ns, &patch, &alice)
        .await
        .context("apply (update) deployment patched")?;
    ensure(
        label_of(&updated, "tier").as_deref() == Some("alice-2"),
        || "apply (update): label tier not changed".into(),
    )?;
    ensure(uid(&updated) == uid(&created), || {
        "apply (update) made another object".into()
    })?;
    Ok(())
}

/// A JSON patch (RFC 6902) applies; one whose `test` fails changes nothing.
async fn json_patch(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = PATCHED;
    // JSON patch (RFC 6902).
    let json_patch = Patch::Json(json!([
        {"op": "add", "path": "/metadata/labels/json-patch", "value": "yes"},
        {"op": "replace", "path": "/spec/revisionHistoryLimit", "value": 4},
    ]));
    let patched = apps
        .patch_namespaced_deployment(name, ns, &json_patch, &PatchParams::default())
        .await
        .context("JSON-patch deployment patched")?;
    ensure(
        label_of(&patched, "json-patch").as_deref() == Some("yes")
            && patched.spec.as_ref().and_then(|s| s.revision_history_limit) == Some(4),
        || "JSON patch: label or revisionHistoryLimit not applied".into(),
    )?;
    // A failing `test` operation changes nothing.
    let failing = Patch::Json(json!([
        {"op": "test", "path": "/spec/revisionHistoryLimit", "value": 99},
        {"op": "replace", "path": "/spec/revisionHistoryLimit", "value": 5},
    ]));
    match apps
        .patch_namespaced_deployment(name, ns, &failing, &PatchParams::default())
        .await
    {
        Ok(_) => return Err("JSON patch with a failing test op succeeded".into()),
        Err(e) => ensure(
            e.status_code().is_some_and(|c| (400..500).contains(&c)),
            || format!("JSON patch with a failing test op: expected a 4xx, got {e}"),
        )?,
    }
    Ok(())
}

/// A merge patch merges maps; a strategic merge patch merges containers by name, where a merge
/// patch replaces the list.
async fn merge_and_strategic(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = PATCHED;
    // Merge patch (RFC 7386): maps merge, other labels stay.
    let merge = Patch::Merge(json!({
        "metadata": {"labels": {"merge": "yes"}},
        "spec": {"progressDeadlineSeconds": 500},
    }));
    let patched = apps
        .patch_namespaced_deployment(name, ns, &merge, &PatchParams::default())
        .await
        .context("merge-patch deployment patched")?;
    ensure(
        label_of(&patched, "merge").as_deref() == Some("yes")
            && label_of(&patched, "json-patch").as_deref() == Some("yes")
            && patched
                .spec
                .as_ref()
                .and_then(|s| s.progress_deadline_seconds)
                == Some(500)
            && patched.spec.as_ref().and_then(|s| s.revision_history_limit) == Some(4),
        || "merge patch: fields not merged as expected".into(),
    )?;

    // Strategic merge patch: containers merge by name.
    let strategic = Patch::Strategic(json!({
        "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "img-b:2"}]}}},
    }));
    let patched = apps
        .patch_namespaced_deployment(name, ns, &strategic, &PatchParams::default())
        .await
        .context("strategic-merge-patch deployment patched")?;
    let want = vec![
        ("a".to_string(), "img-a:1".to_string()),
        ("b".to_string(), "img-b:2".to_string()),
    ];
    ensure(images(&patched) == want, || {
        format!(
            "strategic merge patch: containers {:?}, expected {want:?}",
            images(&patched)
        )
    })?;
    // The same list in a merge patch replaces the whole list: the content types differ.
    let merge_list = Patch::Merge(json!({
        "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "img-b:3"}]}}},
    }));
    let patched = apps
        .patch_namespaced_deployment(name, ns, &merge_list, &PatchParams::default())
        .await
        .context("merge-patch the containers of deployment patched")?;
    ensure(
        images(&patched) == [("b".to_string(), "img-b:3".to_string())],
        || {
            format!(
                "merge patch of a list: containers {:?}, expected only b",
                images(&patched)
            )
        },
    )?;
    Ok(())
}

/// crud-bob applying alice's field conflicts (409 naming the field and manager); forced, bob
/// owns it.
async fn apply_conflict_then_force(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = PATCHED;
    let bob = PatchParams {
        field_manager: Some("crud-bob".into()),
        ..Default::default()
    };
    // A second manager applying another value for alice's field conflicts.
    let bob_config = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"tier": "bob"}},
    });
    let err = match apps
        .patch_namespaced_deployment(name, ns, &Patch::Apply(bob_config.clone()), &bob)
        .await
    {
        Ok(_) => return Err("apply by crud-bob of alice's label succeeded without force".into()),
        Err(e) => e,
    };
    ensure(err.is_conflict(), || {
        format!("apply conflict: expected 409, got {err}")
    })?;
    let status = err
        .api()
        .and_then(|a| a.status.clone())
        .ok_or_else(|| format!("apply conflict: no Status in the answer: {err}"))?;
    ensure(status.reason.as_deref() == Some("Conflict"), || {
        format!("apply conflict: reason {:?}", status.reason)
    })?;
    let causes = status
        .details
        .as_ref()
        .and_then(|d| d.causes.clone())
        .unwrap_or_default();
    ensure(
        causes.iter().any(|c| {
            c.field.as_deref() == Some(".metadata.labels.tier")
                && c.message
                    .as_deref()
                    .is_some_and(|m| m.contains("crud-alice"))
        }),
        || {
            format!(
                "apply conflict: no cause names .metadata.labels.tier and crud-alice: {causes:?}"
            )
        },
    )?;
    ensure(
        status
            .message
            .as_deref()
            .is_some_and(|m| m.contains("crud-alice") && m.contains(".metadata.labels.tier")),
        || format!("apply conflict: message {:?}", status.message),
    )?;

    // Forced, bob takes the field over.
    let forced = PatchParams {
        force: Some(true),
        ..bob
    };
    let taken = apps
        .patch_namespaced_deployment(name, ns, &Patch::Apply(bob_config), &forced)
        .await
        .context("forced apply by crud-bob")?;
    ensure(label_of(&taken, "tier").as_deref() == Some("bob"), || {
        "forced apply: label tier not bob".into()
    })?;
    let tier_owners = owners(&taken, &["f:metadata", "f:labels", "f:tier"]);
    ensure(tier_owners == ["crud-bob"], || {
        format!("forced apply: labels.tier owned by {tier_owners:?}, expected only crud-bob")
    })?;
    Ok(())
}

/// `dryRun=All` on create, replace, patch and delete: the answer is the would-be result, the
/// store is untouched.
async fn dry_run(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-dry").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    dry_create(&core, &ns).await?;
    let name = DRY;
    let stored = core
        .create_namespaced_config_map(
            &ns,
            &config_map(name, &[("k", "a")]),
            &WriteParams::default(),
        )
        .await
        .context("create configmap dry")?;
    let rv = resource_version(&stored);
    dry_replace_and_patch(&core, &ns, &stored, &rv).await?;
    dry_delete(&core, &ns, &rv).await?;
    remove_namespace(e2e, &ns).await;
    Ok(())
}

/// The ConfigMap the dry runs write.
const DRY: &str = "dry";

/// A dry-run create answers the would-be object and stores nothing.
async fn dry_create(core: &CoreV1Api, ns: &str) -> Outcome {
    let name = DRY;
    let dry = WriteParams {
        dry_run: Some("All".into()),
        ..Default::default()
    };
    let answer = core
        .create_namespaced_config_map(ns, &config_map(name, &[("k", "a")]), &dry)
        .await
        .context("dry-run create configmap dry")?;
    ensure(
        answer.name() == Some(name) && cm_value(&answer, "k").as_deref() == Some("a"),
        || "dry-run create: the answer is not the would-be object".into(),
    )?;
    let read = core
        .read_namespaced_config_map(name, ns, &GetParams::default())
        .await;
    ensure(read.as_ref().is_err_and(|e| e.is_not_found()), || {
        format!("dry-run create stored the object: read answered {read:?}")
    })?;
    Ok(())
}

/// Dry-run replace and patch answer the change; the stored object (at `rv`) keeps its value.
async fn dry_replace_and_patch(
    core: &CoreV1Api,
    ns: &str,
    stored: &ConfigMap,
    rv: &Option<String>,
) -> Outcome {
    let name = DRY;
    let dry = WriteParams {
        dry_run: Some("All".into()),
        ..Default::default()
    };
    let mut changed = stored.clone();
    changed.data = Some(labels(&[("k", "b")]));
    let answer = core
        .replace_namespaced_config_map(name, ns, &changed, &dry)
        .await
        .context("dry-run replace configmap dry")?;
    ensure(cm_value(&answer, "k").as_deref() == Some("b"), || {
        "dry-run replace: the answer does not show the change".into()
    })?;
    let dry_patch = PatchParams {
        dry_run: Some("All".into()),
        ..Default::default()
    };
    let answer = core
        .patch_namespaced_config_map(
            name,
            ns,
            &Patch::Merge(json!({"data": {"k": "c"}})),
            &dry_patch,
        )
        .await
        .context("dry-run patch configmap dry")?;
    ensure(cm_value(&answer, "k").as_deref() == Some("c"), || {
        "dry-run patch: the answer does not show the change".into()
    })?;
    let read = core
        .read_namespaced_config_map(name, ns, &GetParams::default())
        .await
        .context("read configmap dry after dry-run writes")?;
    ensure(
        cm_value(&read, "k").as_deref() == Some("a") && resource_version(&read) == *rv,
        || {
            format!(
                "dry-run replace/patch changed the stored object: k={:?}, resourceVersion {:?} → {:?}",
                cm_value(&read, "k"),
                rv,
                resource_version(&read)
            )
        },
    )?;
    Ok(())
}

/// A dry-run delete answers success and leaves the stored object (at `rv`) as it was.
async fn dry_delete(core: &CoreV1Api, ns: &str, rv: &Option<String>) -> Outcome {
    let name = DRY;
    let dry_delete = DeleteParams {
        dry_run: Some("All".into()),
        ..Default::default()
    };
    let answer = core
        .delete_namespaced_config_map(name, ns, None, &dry_delete)
        .await
        .context("dry-run delete configmap dry")?;
    match &answer {
        Deleted::Status(s) => ensure(
            s.status.as_deref() == Some("Success")
                && s.details.as_ref().and_then(|d| d.name.as_deref()) == Some(name),
            || format!("dry-run delete answered {s:?}"),
        )?,
        Deleted::Object(o) => ensure(o.name() == Some(name), || {
            format!("dry-run delete answered an object named {:?}", o.name())
        })?,
    }
    let read = core
        .read_namespaced_config_map(name, ns, &GetParams::default())
        .await
        .context("read configmap dry after a dry-run delete")?;
    ensure(
        resource_version(&read) == *rv
            && read
                .metadata
                .as_ref()
                .is_some_and(|m| m.deletion_timestamp.is_none()),
        || "dry-run delete touched the stored object".into(),
    )?;
    Ok(())
}

/// A replace carrying an old resourceVersion is refused with 409 and changes nothing.
async fn stale_resource_version(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-stale").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let name = "stale";
    let first = core
        .create_namespaced_config_map(
            &ns,
            &config_map(name, &[("k", "a")]),
            &WriteParams::default(),
        )
        .await
        .context("create configmap stale")?;
    let mut second = first.clone();
    second.data = Some(labels(&[("k", "b")]));
    let second = core
        .replace_namespaced_config_map(name, &ns, &second, &WriteParams::default())
        .await
        .context("replace configmap stale")?;
    ensure(
        resource_version(&second) != resource_version(&first),
        || "replace kept the resourceVersion".into(),
    )?;
    let mut stale = first.clone();
    stale.data = Some(labels(&[("k", "c")]));
    match core
        .replace_namespaced_config_map(name, &ns, &stale, &WriteParams::default())
        .await
    {
        Ok(_) => return Err("replace with a stale resourceVersion succeeded".into()),
        Err(e) => {
            ensure(e.is_conflict() && e.reason() == Some("Conflict"), || {
                format!("replace with a stale resourceVersion: expected 409 Conflict, got {e}")
            })?;
        }
    }
    let read = core
        .read_namespaced_config_map(name, &ns, &GetParams::default())
        .await
        .context("read configmap stale")?;
    ensure(cm_value(&read, "k").as_deref() == Some("b"), || {
        format!("after the refused replace k is {:?}", cm_value(&read, "k"))
    })?;
    remove_namespace(e2e, &ns).await;
    Ok(())
}

/// What deletes answer: a Status for a ConfigMap, the object for a Pod and for anything held by
/// a finalizer; and delete-collection by label.
async fn delete_answers(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-delete").await?;
    let ns = ns.as_str();
    let core = &CoreV1Api::new(e2e.admin.clone());

    delete_answers_status(core, ns).await?;
    delete_answers_pod(core, ns).await?;
    delete_held_by_finalizer(core, ns).await?;
    let collection = delete_collection_selected(core, ns).await?;
    e2e.report(format!(
        "crud: delete answers: ConfigMap → Status, Pod and finalizer-held ConfigMap → object, delete-collection → {collection}"
    ));
    remove_namespace(e2e, ns).await;
    Ok(())
}

/// A ConfigMap goes at once; the server answers a Status naming it.
async fn delete_answers_status(core: &CoreV1Api, ns: &str) -> Outcome {
    // A ConfigMap goes at once; the server answers a Status naming it.
    let cm = core
        .create_namespaced_config_map(
            ns,
            &config_map("plain", &[("k", "v")]),
            &WriteParams::default(),
        )
        .await
        .context("create configmap plain")?;
    let answer = core
        .delete_namespaced_config_map("plain", ns, None, &DeleteParams::default())
        .await
        .context("delete configmap plain")?;
    let status: Status = match answer {
        Deleted::Status(s) => s,
        Deleted::Object(o) => {
            return Err(format!(
                "delete configmap plain: expected a Status (the server sends one), decoded an object {:?}",
                o.name()
            ));
        }
    };
    let details = status.details.clone().unwrap_or_default();
    ensure(
        status.status.as_deref() == Some("Success")
            && details.name.as_deref() == Some("plain")
            && details.kind.as_deref() == Some("configmaps")
            && details.uid == uid(&cm),
        || format!("delete configmap plain: Status {status:?}"),
    )?;
    Ok(())
}

/// A Pod's delete answers the pod, marked for deletion.
async fn delete_answers_pod(core: &CoreV1Api, ns: &str) -> Outcome {
    // A Pod's delete answers the pod, marked for deletion.
    let pod = Pod {
        metadata: Some(meta("doomed")),
        spec: template("doomed", &[("c", "registry.example/crud:1")]).spec,
        ..Default::default()
    };
    let pod = core
        .create_namespaced_pod(ns, &pod, &WriteParams::default())
        .await
        .context("create pod doomed")?;
    match core
        .delete_namespaced_pod("doomed", ns, None, &DeleteParams::default())
        .await
        .context("delete pod doomed")?
    {
        Deleted::Object(o) => ensure(
            uid(&o) == uid(&pod)
                && o.metadata
                    .as_ref()
                    .is_some_and(|m| m.deletion_timestamp.is_some()),
            || "delete pod doomed: the answer is not the pod marked for deletion".into(),
        )?,
        Deleted::Status(s) => {
            return Err(format!(
                "delete pod doomed: expected the pod, decoded a Status {s:?}"
            ));
        }
    }
    Ok(())
}

/// A finalizer keeps the object: the delete answers it with deletionTimestamp set.
async fn delete_held_by_finalizer(core: &CoreV1Api, ns: &str) -> Outcome {
    // A finalizer keeps the object: the delete answers it with deletionTimestamp set.
    let finalizer = "example.com/crud-hold";
    let mut held = config_map("held", &[("k", "v")]);
    held.metadata_mut().finalizers = Some(vec![finalizer.into()]);
    core.create_namespaced_config_map(ns, &held, &WriteParams::default())
        .await
        .context("create configmap held")?;
    let answer = core
        .delete_namespaced_config_map("held", ns, None, &DeleteParams::default())
        .await
        .context("delete configmap held")?;
    match answer {
        Deleted::Object(o) => {
            let m = o.metadata.clone().unwrap_or_default();
            ensure(
                m.deletion_timestamp.is_some()
                    && m.finalizers.unwrap_or_default() == [finalizer.to_string()],
                || {
                    "delete configmap held: the answer lacks deletionTimestamp or the finalizer"
                        .into()
                },
            )?;
        }
        Deleted::Status(s) => {
            return Err(format!(
                "delete configmap held: expected the object, decoded a Status {s:?}"
            ));
        }
    }
    let read = core
        .read_namespaced_config_map("held", ns, &GetParams::default())
        .await
        .context("read configmap held after delete")?;
    ensure(
        read.metadata
            .as_ref()
            .is_some_and(|m| m.deletion_timestamp.is_some()),
        || "configmap held: no deletionTimestamp after delete".into(),
    )?;
    core.patch_namespaced_config_map(
        "held",
        ns,
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        &PatchParams::default(),
    )
    .await
    .context("remove the finalizer of configmap held")?;
    poll(
        "configmap held gone once its finalizer is removed",
        CONTROLLER_WAIT,
        || async move {
            let read = core
                .read_namespaced_config_map("held", ns, &GetParams::default())
                .await;
            Ok(is_gone("configmap held", read)?.then_some(()))
        },
    )
    .await?;
    Ok(())
}

/// delete-collection removes exactly the selected objects; what it answered.
async fn delete_collection_selected(core: &CoreV1Api, ns: &str) -> Result<&'static str, String> {
    // delete-collection removes exactly the selected objects.
    let sets = [
        ("del-1", "del"),
        ("del-2", "del"),
        ("del-3", "del"),
        ("keep-1", "keep"),
        ("keep-2", "keep"),
    ];
    for (name, set) in sets {
        let mut cm = config_map(name, &[("k", "v")]);
        cm.metadata_mut().labels = Some(labels(&[("crud-set", set)]));
        core.create_namespaced_config_map(ns, &cm, &WriteParams::default())
            .await
            .context(format!("create configmap {name}"))?;
    }
    let answer = core
        .delete_collection_namespaced_config_map(
            ns,
            None,
            &DeleteCollectionParams {
                label_selector: Some("crud-set=del".into()),
                ..Default::default()
            },
        )
        .await
        .context("delete-collection configmaps crud-set=del")?;
    if let Deleted::Object(list) = &answer {
        let mut names: Vec<_> = list.items.iter().filter_map(|c| c.name()).collect();
        names.sort();
        ensure(names == ["del-1", "del-2", "del-3"], || {
            format!("delete-collection answered the list {names:?}")
        })?;
    }
    let left = core
        .list_namespaced_config_map(
            ns,
            &ListParams {
                label_selector: Some("crud-set".into()),
                ..Default::default()
            },
        )
        .await
        .context("list configmaps after delete-collection")?;
    let mut names: Vec<_> = left.items.iter().filter_map(|c| c.name()).collect();
    names.sort();
    ensure(names == ["keep-1", "keep-2"], || {
        format!("after delete-collection crud-set=del the labelled configmaps are {names:?}")
    })?;
    let collection = match answer {
        Deleted::Object(_) => "a list of the deleted",
        Deleted::Status(_) => "a Status",
    };
    Ok(collection)
}

/// The ReplicaSets the deployment controller made for `owner`.
async fn owned_replica_sets(
    apps: &AppsV1Api,
    ns: &str,
    app: &str,
) -> Result<Vec<ReplicaSet>, String> {
    let list = apps
        .list_namespaced_replica_set(
            ns,
            &ListParams {
                label_selector: Some(format!("app={app}")),
                ..Default::default()
            },
        )
        .await
        .context(format!("list replicasets of {app}"))?;
    Ok(list.items)
}

/// A Deployment (0 replicas) and the ReplicaSet the deployment controller gives it.
async fn deployment_with_replica_set(
    apps: &AppsV1Api,
    ns: &str,
    name: &str,
) -> Result<(Deployment, ReplicaSet), String> {
    let created = apps
        .create_namespaced_deployment(
            ns,
            &deployment(name, 0, &[("c", "registry.example/crud:1")]),
            &WriteParams::default(),
        )
        .await
        .context(format!("create deployment {name}"))?;
    let owner = uid(&created);
    let owner = owner.as_ref();
    let rs = poll(
        &format!("a ReplicaSet for deployment {name}"),
        CONTROLLER_WAIT,
        || async move {
            let sets = owned_replica_sets(apps, ns, name).await?;
            Ok(sets.into_iter().find(|rs| {
                rs.metadata
                    .as_ref()
                    .and_then(|m| m.owner_references.as_ref())
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| Some(&r.uid) == owner && r.kind == "Deployment")
                    })
            }))
        },
    )
    .await?;
    Ok((created, rs))
}

fn delete_with(policy: &str) -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(policy.into()),
        ..Default::default()
    }
}

/// propagationPolicy Orphan, Background and Foreground, carried out by the garbage collector.
async fn propagation(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-gc").await?;
    let ns = ns.as_str();
    let apps = AppsV1Api::new(e2e.admin.clone());
    let apps = &apps;

    propagation_orphan(apps, ns).await?;
    propagation_background(apps, ns).await?;
    propagation_foreground(apps, ns).await?;
    remove_namespace(e2e, ns).await;
    Ok(())
}

/// Orphan: the ReplicaSet stays, without its owner reference.
async fn propagation_orphan(apps: &AppsV1Api, ns: &str) -> Outcome {
    // Orphan: the ReplicaSet stays, without its owner reference.
    let (_, rs) = deployment_with_replica_set(apps, ns, "orphan").await?;
    let rs_name = rs.name().unwrap_or_default().to_string();
    let rs_name = rs_name.as_str();
    apps.delete_namespaced_deployment("orphan", ns, None, &delete_with("Orphan"))
        .await
        .context("delete deployment orphan (Orphan)")?;
    poll("deployment orphan gone", CONTROLLER_WAIT, || async move {
        let read = apps
            .read_namespaced_deployment("orphan", ns, &GetParams::default())
            .await;
        Ok(is_gone("deployment orphan", read)?.then_some(()))
    })
    .await?;
    poll(
        "replicaset of orphan released",
        CONTROLLER_WAIT,
        || async move {
            let rs = apps
                .read_namespaced_replica_set(rs_name, ns, &GetParams::default())
                .await
                .context(format!("read orphaned replicaset {rs_name}"))?;
            let m = rs.metadata.unwrap_or_default();
            ensure(m.deletion_timestamp.is_none(), || {
                format!("orphaned replicaset {rs_name} is being deleted")
            })?;
            Ok(m.owner_references
                .unwrap_or_default()
                .is_empty()
                .then_some(()))
        },
    )
    .await?;
    Ok(())
}

/// Background: the owner goes at once, the collector removes the ReplicaSet after.
async fn propagation_background(apps: &AppsV1Api, ns: &str) -> Outcome {
    // Background: the owner goes at once, the collector removes the ReplicaSet after.
    let (_, rs) = deployment_with_replica_set(apps, ns, "background").await?;
    let rs_name = rs.name().unwrap_or_default().to_string();
    let rs_name = rs_name.as_str();
    apps.delete_namespaced_deployment("background", ns, None, &delete_with("Background"))
        .await
        .context("delete deployment background (Background)")?;
    poll(
        "replicaset of background collected",
        CONTROLLER_WAIT,
        || async move {
            let read = apps
                .read_namespaced_replica_set(rs_name, ns, &GetParams::default())
                .await;
            Ok(is_gone("replicaset of background", read)?.then_some(()))
        },
    )
    .await?;
    let read = apps
        .read_namespaced_deployment("background", ns, &GetParams::default())
        .await;
    ensure(is_gone("deployment background", read)?, || {
        "deployment background still there after a background delete".into()
    })?;
    Ok(())
}

/// Foreground: the owner waits, marked, until its dependents are gone.
async fn propagation_foreground(apps: &AppsV1Api, ns: &str) -> Outcome {
    // Foreground: the owner waits, marked, until its dependents are gone. A finalizer of ours
    // on the ReplicaSet holds that state long enough to see it.
    let (_, rs) = deployment_with_replica_set(apps, ns, "foreground").await?;
    let rs_name = rs.name().unwrap_or_default().to_string();
    let rs_name = rs_name.as_str();
    let hold = "example.com/crud-hold";
    apps.patch_namespaced_replica_set(
        rs_name,
        ns,
        &Patch::Merge(json!({"metadata": {"finalizers": [hold]}})),
        &PatchParams::default(),
    )
    .await
    .context(format!("add a finalizer to replicaset {rs_name}"))?;
    let answer = apps
        .delete_namespaced_deployment("foreground", ns, None, &delete_with("Foreground"))
        .await
        .context("delete deployment foreground (Foreground)")?;
    let marked = |d: &Deployment| {
        d.metadata.as_ref().is_some_and(|m| {
            m.deletion_timestamp.is_some()
                && m.finalizers
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|f| f == "foregroundDeletion"))
        })
    };
    match &answer {
        Deleted::Object(d) => ensure(marked(d), || {
            "foreground delete answered the deployment without deletionTimestamp and foregroundDeletion".into()
        })?,
        Deleted::Status(s) => {
            return Err(format!(
                "foreground delete: expected the deployment, decoded a Status {s:?}"
            ));
        }
    }
    // The collector deletes the dependent (held by our finalizer) while the owner waits.
    poll(
        "replicaset of foreground marked for deletion",
        CONTROLLER_WAIT,
        || async move {
            let rs = apps
                .read_namespaced_replica_set(rs_name, ns, &GetParams::default())
                .await
                .context(format!("read replicaset {rs_name}"))?;
            Ok(rs.metadata.and_then(|m| m.deletion_timestamp).map(|_| ()))
        },
    )
    .await?;
    let owner = apps
        .read_namespaced_deployment("foreground", ns, &GetParams::default())
        .await
        .context("read deployment foreground while its replicaset is held")?;
    ensure(marked(&owner), || {
        "deployment foreground lost foregroundDeletion while a dependent exists".into()
    })?;
    apps.patch_namespaced_replica_set(
        rs_name,
        ns,
        // Only ours: the collector's own finalizers stay its business.
        &Patch::Strategic(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [hold]}})),
        &PatchParams::default(),
    )
    .await
    .context(format!("remove the finalizer of replicaset {rs_name}"))?;
    poll(
        "deployment foreground gone after its replicaset",
        CONTROLLER_WAIT,
        || async move {
            let rs = apps
                .read_namespaced_replica_set(rs_name, ns, &GetParams::default())
                .await;
            let d = apps
                .read_namespaced_deployment("foreground", ns, &GetParams::default())
                .await;
            Ok(
                (is_gone("replicaset of foreground", rs)? && is_gone("deployment foreground", d)?)
                    .then_some(()),
            )
        },
    )
    .await?;
    Ok(())
}

/// The scale subresource moves spec.replicas; status writes leave the spec, spec writes leave
/// the status.
async fn subresources(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-sub").await?;
    let apps = AppsV1Api::new(e2e.admin.clone());
    let name = SCALED;
    // Paused, so that the controller does not rewrite our status between two steps.
    let mut d = deployment(name, 1, &[("c", "registry.example/crud:1")]);
    if let Some(spec) = d.spec.as_mut() {
        spec.paused = Some(true);
    }
    apps.create_namespaced_deployment(&ns, &d, &WriteParams::default())
        .await
        .context("create deployment scaled")?;

    scale_subresource(&apps, &ns).await?;
    status_write(&apps, &ns).await?;
    spec_write(&apps, &ns).await?;
    remove_namespace(e2e, &ns).await;
    Ok(())
}

/// The Deployment the subresource writes go to (paused).
const SCALED: &str = "scaled";

/// The scale subresource: read, replaced (retrying a conflict with the controller) and
/// patched, each seen in the deployment's spec.replicas.
async fn scale_subresource(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = SCALED;
    let scale = apps
        .read_namespaced_deployment_scale(name, ns, &GetParams::default())
        .await
        .context("read scale of deployment scaled")?;
    ensure(
        scale.spec.as_ref().and_then(|s| s.replicas) == Some(1),
        || {
            format!(
                "scale: spec.replicas {:?}, expected 1",
                scale.spec.as_ref().and_then(|s| s.replicas)
            )
        },
    )?;
    ensure(
        scale.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some(name)
            && scale.kind.as_deref() == Some("Scale"),
        || "scale: not the Scale of deployment scaled".into(),
    )?;
    // The deployment controller writes status meanwhile, so the resourceVersion read may be
    // stale by the time of the write: read again and retry on 409, as client-go's
    // RetryOnConflict does.
    let mut bigger = scale.clone();
    let mut attempts = 0;
    let replaced = loop {
        bigger.spec.get_or_insert_default().replicas = Some(2);
        match apps
            .replace_namespaced_deployment_scale(name, ns, &bigger, &WriteParams::default())
            .await
        {
            Err(e) if e.is_conflict() && attempts < 5 => {
                attempts += 1;
                bigger = apps
                    .read_namespaced_deployment_scale(name, ns, &GetParams::default())
                    .await
                    .context("read scale of deployment scaled again")?;
            }
            answer => break answer.context("replace scale of deployment scaled")?,
        }
    };
    ensure(
        replaced.spec.as_ref().and_then(|s| s.replicas) == Some(2),
        || "replace scale: the answer does not show 2 replicas".into(),
    )?;
    let read = apps
        .read_namespaced_deployment(name, ns, &GetParams::default())
        .await
        .context("read deployment scaled")?;
    ensure(
        read.spec.as_ref().and_then(|s| s.replicas) == Some(2),
        || "replace scale: deployment spec.replicas is not 2".into(),
    )?;
    let patched = apps
        .patch_namespaced_deployment_scale(
            name,
            ns,
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
            &PatchParams::default(),
        )
        .await
        .context("patch scale of deployment scaled")?;
    ensure(
        patched.spec.as_ref().and_then(|s| s.replicas) == Some(3),
        || "patch scale: the answer does not show 3 replicas".into(),
    )?;
    let read = apps
        .read_namespaced_deployment(name, ns, &GetParams::default())
        .await
        .context("read deployment scaled")?;
    ensure(
        read.spec.as_ref().and_then(|s| s.replicas) == Some(3),
        || "patch scale: deployment spec.replicas is not 3".into(),
    )?;
    Ok(())
}

/// A status write carrying a spec change: the status changes, the spec does not.
async fn status_write(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = SCALED;
    // A status write carrying a spec change: the status changes, the spec does not.
    let probe_condition = "CrudProbe";
    let has_probe = |d: &Deployment| {
        d.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == probe_condition))
    };
    let mut attempts = 0;
    let written = loop {
        let mut current = apps
            .read_namespaced_deployment_status(name, ns, &GetParams::default())
            .await
            .context("read status of deployment scaled")?;
        current.spec.get_or_insert_default().replicas = Some(7);
        let status = current.status.get_or_insert_default();
        status.conditions.get_or_insert_default().push(
            serde_json::from_value(
                json!({"type": probe_condition, "status": "True", "reason": "Crud"}),
            )
            .context("build a DeploymentCondition")?,
        );
        match apps
            .replace_namespaced_deployment_status(name, ns, &current, &WriteParams::default())
            .await
        {
            Ok(written) => break written,
            Err(e) if e.is_conflict() && attempts < 5 => attempts += 1,
            Err(e) => return Err(format!("replace status of deployment scaled: {e}")),
        }
    };
    ensure(has_probe(&written), || {
        "status write: the condition was not stored".into()
    })?;
    ensure(
        written.spec.as_ref().and_then(|s| s.replicas) == Some(3),
        || {
            format!(
                "status write changed spec.replicas to {:?}",
                written.spec.as_ref().and_then(|s| s.replicas)
            )
        },
    )?;
    let patched = apps
        .patch_namespaced_deployment_status(
            name,
            ns,
            &Patch::Merge(json!({"spec": {"replicas": 8}, "status": {"collisionCount": 4}})),
            &PatchParams::default(),
        )
        .await
        .context("patch status of deployment scaled")?;
    ensure(
        patched.status.as_ref().and_then(|s| s.collision_count) == Some(4)
            && patched.spec.as_ref().and_then(|s| s.replicas) == Some(3),
        || "status patch: collisionCount not 4 or spec.replicas changed".into(),
    )?;
    Ok(())
}

/// A spec write carrying a status change: the spec changes, the status does not.
async fn spec_write(apps: &AppsV1Api, ns: &str) -> Outcome {
    let name = SCALED;
    // A spec write carrying a status change: the spec changes, the status does not.
    let mut attempts = 0;
    let written = loop {
        let mut current = apps
            .read_namespaced_deployment(name, ns, &GetParams::default())
            .await
            .context("read deployment scaled")?;
        current.spec.get_or_insert_default().min_ready_seconds = Some(9);
        current.status.get_or_insert_default().collision_count = Some(40);
        match apps
            .replace_namespaced_deployment(name, ns, &current, &WriteParams::default())
            .await
        {
            Ok(written) => break written,
            Err(e) if e.is_conflict() && attempts < 5 => attempts += 1,
            Err(e) => return Err(format!("replace deployment scaled: {e}")),
        }
    };
    ensure(
        written.spec.as_ref().and_then(|s| s.min_ready_seconds) == Some(9),
        || "spec write: minReadySeconds not 9".into(),
    )?;
    ensure(
        written.status.as_ref().and_then(|s| s.collision_count) == Some(4),
        || {
            format!(
                "spec write changed status.collisionCount to {:?}",
                written.status.as_ref().and_then(|s| s.collision_count)
            )
        },
    )?;
    Ok(())
}

/// Eviction deletes a pod; a PodDisruptionBudget that allows no disruption refuses it with 429.
async fn eviction(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("crud-evict").await?;
    let ns = ns.as_str();
    let core = &CoreV1Api::new(e2e.admin.clone());
    let policy = &PolicyV1Api::new(e2e.admin.clone());
    let pod = |name: &str, app: &str| Pod {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels(&[("app", app)])),
            ..Default::default()
        }),
        spec: template(app, &[("c", "registry.example/crud:1")]).spec,
        ..Default::default()
    };
    let eviction_of = |name: &str| Eviction {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        }),
        ..Default::default()
    };

    // No budget: the eviction deletes the (pending) pod.
    core.create_namespaced_pod(ns, &pod("free", "free"), &WriteParams::default())
        .await
        .context("create pod free")?;
    // The server answers a Status (201 Success) although the spec declares an Eviction: the
    // generator's `binding-and-eviction-answer-status` fixup types it so.
    let answer = core
        .create_namespaced_pod_eviction("free", ns, &eviction_of("free"), &WriteParams::default())
        .await
        .context("evict pod free")?;
    ensure(
        answer.status.as_deref() == Some("Success") && answer.code == Some(201),
        || format!("eviction of pod free answered {answer:?}, not a 201 Success Status"),
    )?;
    poll(
        "pod free gone after eviction",
        CONTROLLER_WAIT,
        || async move {
            match core
                .read_namespaced_pod("free", ns, &GetParams::default())
                .await
            {
                Ok(p) => Ok(p.metadata.and_then(|m| m.deletion_timestamp).map(|_| ())),
                Err(e) if e.is_not_found() => Ok(Some(())),
                Err(e) => Err(format!("read pod free: {e}")),
            }
        },
    )
    .await?;

    // A running, ready pod covered by minAvailable 1: no disruption allowed.
    core.create_namespaced_pod(ns, &pod("guarded", "guarded"), &WriteParams::default())
        .await
        .context("create pod guarded")?;
    // No kubelet here: the status is written by hand. Pending pods ignore budgets.
    core.patch_namespaced_pod_status(
        "guarded",
        ns,
        &Patch::Merge(json!({"status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}})),
        &PatchParams::default(),
    )
    .await
    .context("mark pod guarded running and ready")?;
    let pdb = PodDisruptionBudget {
        metadata: Some(meta("guard")),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::from(1)),
            selector: Some(LabelSelector {
                match_labels: Some(labels(&[("app", "guarded")])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    policy
        .create_namespaced_pod_disruption_budget(ns, &pdb, &WriteParams::default())
        .await
        .context("create poddisruptionbudget guard")?;
    poll(
        "the disruption controller's status of guard",
        CONTROLLER_WAIT,
        || async move {
            let pdb = policy
                .read_namespaced_pod_disruption_budget("guard", ns, &GetParams::default())
                .await
                .context("read poddisruptionbudget guard")?;
            let generation = pdb.metadata.as_ref().and_then(|m| m.generation);
            Ok(pdb
                .status
                .filter(|s| {
                    s.observed_generation == generation
                        && s.expected_pods == Some(1)
                        && s.current_healthy == Some(1)
                })
                .map(|s| s.disruptions_allowed))
        },
    )
    .await
    .and_then(|allowed| {
        ensure(allowed == Some(0), || {
            format!("guard allows {allowed:?} disruptions, expected 0")
        })
    })?;
    match core
        .create_namespaced_pod_eviction(
            "guarded",
            ns,
            &eviction_of("guarded"),
            &WriteParams::default(),
        )
        .await
    {
        Ok(answer) => {
            return Err(format!(
                "eviction of pod guarded succeeded despite the budget: {answer:?}"
            ));
        }
        Err(e) => ensure(
            e.is_too_many_requests() && e.reason() == Some("TooManyRequests"),
            || format!("eviction of pod guarded: expected 429 TooManyRequests, got {e}"),
        )?,
    }
    let read = core
        .read_namespaced_pod("guarded", ns, &GetParams::default())
        .await
        .context("read pod guarded after the refused eviction")?;
    ensure(
        read.metadata
            .as_ref()
            .is_some_and(|m| m.deletion_timestamp.is_none()),
        || "pod guarded is being deleted although its eviction was refused".into(),
    )?;
    remove_namespace(e2e, ns).await;
    Ok(())
}
