//! Every kind of the generated registry that the server serves is listed across all namespaces,
//! and every list body and every item decodes into its typed model and re-encodes exactly; each
//! list is read in protobuf too and compared with its JSON read (`super::protobuf`).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use kuber_api::{ApisApi, Client, CoreApi, KINDS, KindInfo, Operation, Request};
use kuber_models::TypeVisitor;
use kuber_tests::cluster::base64;
use kuber_tests::roundtrip::{roundtrip_as, roundtrip_body};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::protobuf::Compared;
use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![case!(
        "listing/every-served-kind-lists-and-roundtrips",
        every_kind
    )]
}

/// The group-versions the server serves (`v1` for the core group).
pub async fn served_group_versions(client: &Client) -> Result<BTreeSet<String>, String> {
    let mut served = BTreeSet::new();
    let core = CoreApi::new(client.clone())
        .get_api_versions()
        .await
        .context("GET /api")?;
    served.extend(core.versions);
    let groups = ApisApi::new(client.clone())
        .get_api_versions()
        .await
        .context("GET /apis")?;
    for group in groups.groups {
        served.extend(group.versions.into_iter().map(|v| v.group_version));
    }
    Ok(served)
}

async fn every_kind(e2e: &E2e) -> Outcome {
    let served = served_group_versions(&e2e.admin).await?;
    let ns = e2e.namespace("listing").await?;
    let objects = manifests(&ns, &e2e.cluster.ca_pem)?;

    // Create one object of each kind the bootstrap objects do not already cover.
    let mut created: Vec<(&'static KindInfo, String)> = Vec::new();
    let mut problems = Vec::new();
    for object in &objects {
        match create(&e2e.admin, &ns, object).await {
            Ok(Some(done)) => created.push(done),
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }

    let listed = list_every_kind(e2e, &ns, &served).await;

    // No scheduler runs here to drop the PodGroup's protection finalizer, which would keep the
    // namespace from going away.
    let unprotect = kuber_api::Patch::Merge(json!({"metadata": {"finalizers": null}}));
    if let Err(e) = kuber_api::SchedulingV1alpha2Api::new(e2e.admin.clone())
        .patch_namespaced_pod_group("podgroup", &ns, &unprotect, &Default::default())
        .await
        && !e.is_not_found()
    {
        problems.push(format!("clean-up: drop the PodGroup finalizer: {e}"));
    }
    // Cluster-scoped objects first; the namespace takes the rest with it.
    for (info, name) in created.iter().rev().filter(|(i, _)| !i.namespaced) {
        if let Err(e) = delete(&e2e.admin, info, name).await {
            problems.push(format!("clean-up: delete {} {name}: {e}", info.kind));
        }
    }
    if let Err(e) = kuber_api::CoreV1Api::new(e2e.admin.clone())
        .delete_namespace(&ns, None, &Default::default())
        .await
    {
        problems.push(format!("clean-up: delete namespace {ns}: {e}"));
    }

    let listed = listed?;
    problems.extend(listed.failures.iter().cloned());
    problems.extend(listed.protobuf.failures.iter().cloned());
    e2e.report(listed.protobuf.report());
    e2e.report(format!(
        "listing: {} kinds listed, {} bodies exact ({} kinds with objects, {} objects created; empty: {})",
        listed.kinds,
        listed.exact,
        listed.with_items,
        created.len(),
        if listed.empty.is_empty() {
            "none".to_owned()
        } else {
            listed.empty.join(", ")
        }
    ));
    ensure(problems.is_empty(), || {
        format!(
            "{} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        )
    })
}

struct Listed {
    kinds: usize,
    with_items: usize,
    /// Kinds whose list came back empty.
    empty: Vec<String>,
    /// List bodies plus items that round-tripped exactly.
    exact: usize,
    failures: Vec<String>,
    protobuf: Compared,
}

async fn list_every_kind(e2e: &E2e, ns: &str, served: &BTreeSet<String>) -> Result<Listed, String> {
    let mut listed = Listed {
        kinds: 0,
        with_items: 0,
        empty: Vec::new(),
        exact: 0,
        failures: Vec::new(),
        protobuf: Compared::default(),
    };
    let mut kinds_seen = BTreeSet::new();
    for info in KINDS.iter() {
        if info.list_kind.is_empty() || !served.contains(info.api_version) {
            continue;
        }
        let what = format!("{} {}", info.api_version, info.list_kind);
        let list = info.operation("list", "", false);
        let Ok(op) = list.or_else(|_| info.operation("list", "", true)) else {
            listed
                .failures
                .push(format!("{what}: the registry has no list operation"));
            continue;
        };
        // Namespaced kinds list across all namespaces; `{namespace}` only if no such form exists.
        let args: &[&str] = if op.namespaced { &[ns] } else { &[] };
        if op.namespaced {
            listed.failures.push(format!(
                "{what}: no all-namespaces list operation ({})",
                op.id
            ));
        }
        let text = match e2e.admin.call_text(Request::new(op, args)).await {
            Ok(text) => text,
            Err(e) => {
                listed.failures.push(format!("{what}: {}: {e}", op.id));
                continue;
            }
        };
        listed.kinds += 1;
        listed.protobuf.list(&e2e.admin, info, op, args).await;
        kinds_seen.insert(info.api_version.to_owned() + "/" + info.kind);

        // The list body: dispatched by its own apiVersion/kind, which must be the typed list.
        match roundtrip_body(&text) {
            Ok(outcome) => {
                let type_name = outcome.bodies.first().map_or("", |b| b.type_name);
                let expected = format!("::{}", info.list_kind);
                if type_name.ends_with(&expected) && !type_name.contains("Dynamic") {
                    listed.exact += 1;
                } else {
                    listed.failures.push(format!(
                        "{what}: the body decoded as {type_name}, not its typed list"
                    ));
                }
            }
            Err(failure) => listed.failures.push(format!("{what}: {failure}")),
        }

        // The typed list call a program makes (`Client::call::<FooList>`) decodes too.
        let typed = TypedList {
            client: e2e.admin.clone(),
            request: Request::new(op, args),
        };
        match kuber_models::with_type(info.api_version, info.list_kind, typed) {
            Some(call) => {
                if let Err(e) = call.await {
                    listed
                        .failures
                        .push(format!("{what}: typed list call: {e}"));
                }
            }
            None => listed
                .failures
                .push(format!("{what}: kuber_models has no list type")),
        }

        // Each item on its own, as sent (items carry no apiVersion/kind).
        let body: Value = serde_json::from_str(&text).context(format!("{what}: parse"))?;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            listed
                .empty
                .push(format!("{} {}", info.api_version, info.kind));
        } else {
            listed.with_items += 1;
        }
        for item in items {
            let name = item["metadata"]["name"].as_str().unwrap_or("?").to_owned();
            let item_text = item.to_string();
            let visitor = ItemCheck { text: &item_text };
            match kuber_models::with_type(info.api_version, info.kind, visitor) {
                Some(Ok(())) => listed.exact += 1,
                Some(Err(e)) => listed.failures.push(format!("{what}: item {name}: {e}")),
                None => listed.failures.push(format!(
                    "{what}: kuber_models has no type for {} {}",
                    info.api_version, info.kind
                )),
            }
        }
    }
    ensure(listed.kinds > 0, || "no kind was listed".into())?;
    // The kinds the registry lists and the server serves must each have been reached.
    let expected = KINDS
        .iter()
        .filter(|k| !k.list_kind.is_empty() && served.contains(k.api_version))
        .count();
    ensure(kinds_seen.len() == expected, || {
        format!("listed {} kinds, expected {expected}", kinds_seen.len())
    })?;
    Ok(listed)
}

/// Round-trips one list item as the typed model of its kind.
struct ItemCheck<'a> {
    text: &'a str,
}

impl TypeVisitor for ItemCheck<'_> {
    type Output = Result<(), String>;

    fn visit<T>(self) -> Self::Output
    where
        T: Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + 'static,
    {
        roundtrip_as::<T>(self.text)
            .map(|_| ())
            .map_err(|f| f.to_string())
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Sends a list request through `Client::call` with the kind's typed list model.
struct TypedList {
    client: Client,
    request: Request,
}

impl TypeVisitor for TypedList {
    type Output = BoxFuture<Result<(), kuber_api::Error>>;

    fn visit<T>(self) -> Self::Output
    where
        T: Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + 'static,
    {
        Box::pin(async move { self.client.call::<T>(self.request).await.map(drop) })
    }
}

/// Decodes a manifest into its typed model and creates it with the kind's create operation:
/// what is sent is the model's encoding, and what comes back decodes as the model.
struct Create {
    client: Client,
    op: &'static Operation,
    args: Vec<String>,
    manifest: Value,
}

impl TypeVisitor for Create {
    type Output = BoxFuture<Result<(), String>>;

    fn visit<T>(self) -> Self::Output
    where
        T: Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + 'static,
    {
        // The typed value is encoded before the await: `T` need not be `Send`.
        let req = serde_json::from_value::<T>(self.manifest)
            .map_err(|e| format!("the manifest does not decode: {e}"))
            .and_then(|typed| {
                let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
                Request::new(self.op, &args)
                    .json(&typed)
                    .map_err(|e| e.to_string())
            });
        let client = self.client;
        Box::pin(async move {
            let text = client.call_text(req?).await.map_err(|e| e.to_string())?;
            serde_json::from_str::<T>(&text)
                .map(drop)
                .map_err(|e| format!("the answer does not decode: {e}"))
        })
    }
}

/// Creates `manifest`; the kind and name on success.
async fn create(
    client: &Client,
    ns: &str,
    manifest: &Value,
) -> Result<Option<(&'static KindInfo, String)>, String> {
    let api_version = manifest["apiVersion"].as_str().unwrap_or_default();
    let kind = manifest["kind"].as_str().unwrap_or_default();
    let name = manifest["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let what = format!("create {api_version} {kind} {name}");
    let info = kuber_api::registry::find(kind, Some(api_version))
        .ok_or_else(|| format!("{what}: not in the registry"))?;
    let op = info
        .operation("post", "", info.namespaced)
        .map_err(|e| format!("{what}: {e}"))?;
    let args = if op.namespaced {
        vec![ns.to_owned()]
    } else {
        Vec::new()
    };
    let visitor = Create {
        client: client.clone(),
        op,
        args,
        manifest: manifest.clone(),
    };
    let future = kuber_models::with_type(api_version, kind, visitor)
        .ok_or_else(|| format!("{what}: no model"))?;
    future.await.map_err(|e| format!("{what}: {e}"))?;
    Ok(Some((info, name)))
}

async fn delete(client: &Client, info: &KindInfo, name: &str) -> Result<(), String> {
    let op = info
        .operation("delete", "", info.namespaced)
        .map_err(|e| e.to_string())?;
    match client.call_text(Request::new(op, &[name])).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// One object of each kind the cluster's own objects leave out. Namespaced ones go to `ns`
/// (their create operation's namespace); cluster-scoped ones are named after `ns`.
fn manifests(ns: &str, ca_pem: &str) -> Result<Vec<Value>, String> {
    let labels = json!({"app": "listing"});
    let pod_spec = json!({"containers": [{"name": "c", "image": "registry.invalid/pause:1"}]});
    let template = json!({"metadata": {"labels": labels}, "spec": pod_spec});
    let job_template = json!({"metadata": {"labels": labels},
        "spec": {"containers": pod_spec["containers"], "restartPolicy": "Never"}});
    let meta = |name: &str| json!({"name": name, "namespace": ns});
    let cluster = |name: &str| json!({"name": format!("{ns}-{name}")});
    let nothing_rules = json!([{"apiGroups": ["kuber-e2e.example"], "apiVersions": ["v1"],
        "operations": ["CREATE"], "resources": ["nothings"]}]);
    let storage_class = format!("{ns}-none");
    let csr = certificate_request()?;
    let pod_certificate = pod_certificate_request()?;
    Ok(vec![
        // core
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cm"),
            "data": {"a": "1"}, "binaryData": {"b": base64(b"\x00\x01")}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("secret"),
            "type": "Opaque", "data": {"k": base64(b"v")}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("sa")}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc"),
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("ep"),
            "subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]}),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": meta("ev"),
            "involvedObject": {"kind": "ConfigMap", "namespace": ns, "name": "cm"},
            "reason": "Listed", "message": "by the listing case", "type": "Normal",
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
            "count": 1, "source": {"component": "kuber-e2e"}}),
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("limits"),
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "100m", "memory": "64Mi"}}]}}),
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("quota"),
            "spec": {"hard": {"pods": "100", "requests.cpu": "10"}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("pvc"),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("pod"), "spec": pod_spec}),
        json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": meta("pt"), "template": template}),
        json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta("rc"),
            "spec": {"replicas": 0, "selector": labels, "template": template}}),
        // Tainted so that no DaemonSet of another case places a pod on it.
        json!({"apiVersion": "v1", "kind": "Node", "metadata": cluster("node"),
            "spec": {"taints": [
                {"key": "kuber.example/e2e-listing", "effect": "NoSchedule"},
                {"key": "kuber.example/e2e-listing", "effect": "NoExecute"}]}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": cluster("pv"),
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "storageClassName": storage_class, "hostPath": {"path": "/tmp/kuber-e2e"}}}),
        // apps, batch, autoscaling, policy
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("deploy"),
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("rs"),
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("sts"),
            "spec": {"replicas": 0, "serviceName": "svc", "selector": {"matchLabels": labels}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("ds"),
            "spec": {"selector": {"matchLabels": labels}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta("rev"),
            "revision": 1, "data": {"spec": {"template": {"metadata": {"labels": labels}}}}}),
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("job"),
            "spec": {"suspend": true, "template": job_template}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("cron"),
            "spec": {"schedule": "0 0 1 1 *", "suspend": true,
                "jobTemplate": {"spec": {"template": job_template}}}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("hpa"),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "deploy"},
                "minReplicas": 1, "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}}}]}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("pdb"),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}),
        // coordination, discovery, events
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta("lease"),
            "spec": {"holderIdentity": "kuber-e2e", "leaseDurationSeconds": 30,
                "renewTime": "2026-01-01T00:00:00.000000Z"}}),
        json!({"apiVersion": "coordination.k8s.io/v1beta1", "kind": "LeaseCandidate", "metadata": meta("candidate"),
            "spec": {"leaseName": "lease", "binaryVersion": "1.36.3", "emulationVersion": "1.36.0",
                "strategy": "OldestEmulationVersion"}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta("slice"),
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.2.3"], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}),
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": meta("event"),
            "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "kuber.example/e2e",
            "reportingInstance": "e2e-1", "action": "List", "reason": "Listed", "type": "Normal",
            "note": "by the listing case", "regarding": {"kind": "ConfigMap", "namespace": ns, "name": "cm"}}),
        // networking, node, rbac, scheduling
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("ing"),
            "spec": {"defaultBackend": {"service": {"name": "svc", "port": {"number": 80}}}}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("netpol"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": cluster("ic"),
            "spec": {"controller": "kuber.example/none"}}),
        json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": cluster("rtc"),
            "handler": "runc"}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("role"),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("rb"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "kuber-nobody"}]}),
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": cluster("prio"),
            "value": 1000, "description": "listing case"}),
        json!({"apiVersion": "scheduling.k8s.io/v1alpha2", "kind": "Workload", "metadata": meta("workload"),
            "spec": {"podGroupTemplates": [{"name": "g", "schedulingPolicy": {"gang": {"minCount": 1}}}]}}),
        json!({"apiVersion": "scheduling.k8s.io/v1alpha2", "kind": "PodGroup", "metadata": meta("podgroup"),
            "spec": {"schedulingPolicy": {"basic": {}}}}),
        // storage
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": storage_class},
            "provisioner": "kuber.example/none", "reclaimPolicy": "Retain"}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": cluster("csi.kuber.example"),
            "spec": {"attachRequired": false}}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": cluster("node"),
            "spec": {"drivers": [{"name": "csi.kuber.example", "nodeID": "n1"}]}}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": cluster("va"),
            "spec": {"attacher": "csi.kuber.example", "nodeName": "nowhere",
                "source": {"persistentVolumeName": format!("{ns}-pv")}}}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass", "metadata": cluster("vac"),
            "driverName": "csi.kuber.example", "parameters": {"iops": "100"}}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity", "metadata": meta("capacity"),
            "storageClassName": storage_class, "capacity": "10Gi"}),
        // admission
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": cluster("vwc"),
            "webhooks": [{"name": "nothing.kuber.example", "rules": nothing_rules, "failurePolicy": "Ignore",
                "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 1,
                "clientConfig": {"url": "https://127.0.0.1:1/never"}}]}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": cluster("mwc"),
            "webhooks": [{"name": "nothing.kuber.example", "rules": nothing_rules, "failurePolicy": "Ignore",
                "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 1,
                "reinvocationPolicy": "Never", "clientConfig": {"url": "https://127.0.0.1:1/never"}}]}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": cluster("vap"),
            "spec": {"failurePolicy": "Ignore", "matchConstraints": {"resourceRules": nothing_rules},
                "validations": [{"expression": "true", "message": "always"}]}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": cluster("vapb"),
            "spec": {"policyName": format!("{ns}-vap"), "validationActions": ["Audit"]}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
            "metadata": cluster("map"),
            "spec": {"failurePolicy": "Ignore", "matchConstraints": {"resourceRules": nothing_rules},
                "reinvocationPolicy": "Never",
                "mutations": [{"patchType": "ApplyConfiguration",
                    "applyConfiguration": {"expression": "Object{}"}}]}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding",
            "metadata": cluster("mapb"), "spec": {"policyName": format!("{ns}-map")}}),
        // resource (dynamic resource allocation)
        json!({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": cluster("dc"),
            "spec": {"selectors": [{"cel": {"expression": "device.driver == 'dra.kuber.example'"}}]}}),
        json!({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": cluster("slice"),
            "spec": {"driver": "dra.kuber.example", "allNodes": true,
                "pool": {"name": format!("{ns}-pool"), "generation": 1, "resourceSliceCount": 1},
                "devices": [{"name": "dev0", "attributes": {"model": {"string": "x1"}},
                    "capacity": {"memory": {"value": "1Gi"}}}]}}),
        json!({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": meta("claim"),
            "spec": {"devices": {"requests": [{"name": "r",
                "exactly": {"deviceClassName": format!("{ns}-dc")}}]}}}),
        json!({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": meta("claim-template"),
            "spec": {"spec": {"devices": {"requests": [{"name": "r",
                "exactly": {"deviceClassName": format!("{ns}-dc")}}]}}}}),
        json!({"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule", "metadata": cluster("taint"),
            "spec": {"deviceSelector": {"driver": "dra.kuber.example", "pool": format!("{ns}-pool")},
                "taint": {"key": "kuber.example/broken", "value": "yes", "effect": "NoSchedule"}}}),
        json!({"apiVersion": "resource.k8s.io/v1alpha3", "kind": "ResourcePoolStatusRequest",
            "metadata": cluster("pool-status"), "spec": {"driver": "dra.kuber.example", "limit": 10}}),
        // certificates
        json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": cluster("csr"),
            "spec": {"request": base64(csr.as_bytes()), "signerName": "kuber.example/none",
                "usages": ["digital signature", "client auth"], "expirationSeconds": 3600}}),
        json!({"apiVersion": "certificates.k8s.io/v1beta1", "kind": "PodCertificateRequest", "metadata": meta("pcr"),
            "spec": {"signerName": "kuber.example/pods", "podName": "pod", "podUID": "00000000-0000-4000-8000-000000000001",
                "serviceAccountName": "sa", "serviceAccountUID": "00000000-0000-4000-8000-000000000002",
                "nodeName": format!("{ns}-node"), "nodeUID": "00000000-0000-4000-8000-000000000003",
                "maxExpirationSeconds": 86400,
                "stubPKCS10Request": pod_certificate}}),
        json!({"apiVersion": "certificates.k8s.io/v1beta1", "kind": "ClusterTrustBundle", "metadata": cluster("bundle"),
            "spec": {"trustBundle": ca_pem}}),
        // extension APIs
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("things.{ns}.kuber.example")},
            "spec": {"group": format!("{ns}.kuber.example"), "scope": "Namespaced",
                "names": {"plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]}}),
        json!({"apiVersion": "storagemigration.k8s.io/v1beta1", "kind": "StorageVersionMigration",
            "metadata": cluster("svm"),
            "spec": {"resource": {"group": format!("{ns}.kuber.example"), "resource": "things"}}}),
    ])
}

/// A PEM certificate request (what a CertificateSigningRequest carries).
fn certificate_request() -> Result<String, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| format!("generate a key: {e}"))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("certificate params: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kuber-e2e-listing");
    let request = params
        .serialize_request(&key)
        .map_err(|e| format!("certificate request: {e}"))?;
    request
        .pem()
        .map_err(|e| format!("certificate request PEM: {e}"))
}

/// A stub PKCS#10 request signed by a fresh Ed25519 key, base64 (what a PodCertificateRequest
/// carries to prove it holds the key).
fn pod_certificate_request() -> Result<String, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .map_err(|e| format!("generate an Ed25519 key: {e}"))?;
    let params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("certificate params: {e}"))?;
    let stub = params
        .serialize_request(&key)
        .map_err(|e| format!("stub request: {e}"))?;
    Ok(base64(stub.der()))
}
