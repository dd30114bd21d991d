//! kubectl as an independent client: what kubectl writes, kuber-api reads back typed, and what
//! kuber-api writes, kubectl shows, field for field.
//!
//! Comparison: kubectl's `-o json` is the server's JSON, decoded into unstructured maps and
//! printed again; kuber-api's answer is decoded into the typed model and re-encoded. They are
//! compared with `kuber_tests::compare` (the conformance rules) rather than plain `Value`
//! equality, because the only tolerated difference is the one Go itself makes no distinction
//! for: `null`, `[]` and an absent key. Everything else (strings, numbers, `{}`, order of array
//! elements, managedFields) must be equal. How many objects were also exactly equal as plain
//! `serde_json::Value`s is reported.

use std::future::Future;
use std::time::Duration;

use kuber_api::{
    AppsV1Api, AutoscalingV2Api, BatchV1Api, Client, CoreV1Api, GetParams, NetworkingV1Api,
    PolicyV1Api, RbacAuthorizationV1Api, WriteParams,
};
use kuber_models::api::core::v1::{ConfigMap, Secret, Service, ServicePort, ServiceSpec};
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_models::special::{ByteString, IntOrString};
use kuber_tests::compare::compare;
use serde::Serialize;
use serde_json::Value;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![
        case!("kubectl/applied-manifests-read-typed", applied_manifests),
        case!("kubectl/kuber-created-objects-shown", kuber_created),
    ]
}

/// The objects of `tests/fixtures/kubectl/`: kind, kubectl's resource name, object name.
const APPLIED: [(&str, &str, &str); 9] = [
    ("ConfigMap", "configmaps", "kubectl-settings"),
    ("Deployment", "deployments.apps", "kubectl-web"),
    ("Service", "services", "kubectl-web"),
    ("Role", "roles.rbac.authorization.k8s.io", "kubectl-reader"),
    (
        "RoleBinding",
        "rolebindings.rbac.authorization.k8s.io",
        "kubectl-reader",
    ),
    (
        "NetworkPolicy",
        "networkpolicies.networking.k8s.io",
        "kubectl-web",
    ),
    ("CronJob", "cronjobs.batch", "kubectl-nightly"),
    (
        "PodDisruptionBudget",
        "poddisruptionbudgets.policy",
        "kubectl-web",
    ),
    (
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers.v2.autoscaling",
        "kubectl-web",
    ),
];

/// How often a read pair is repeated while a controller keeps changing the object.
const ATTEMPTS: usize = 8;

/// The typed model of `kind`, read with its generated operation, re-encoded.
async fn read_typed(client: &Client, kind: &str, name: &str, ns: &str) -> Result<Value, String> {
    let p = &GetParams::default();
    let c = || client.clone();
    match kind {
        "ConfigMap" => encode(CoreV1Api::new(c()).read_namespaced_config_map(name, ns, p)).await,
        "Secret" => encode(CoreV1Api::new(c()).read_namespaced_secret(name, ns, p)).await,
        "Service" => encode(CoreV1Api::new(c()).read_namespaced_service(name, ns, p)).await,
        "Deployment" => encode(AppsV1Api::new(c()).read_namespaced_deployment(name, ns, p)).await,
        "Role" => encode(RbacAuthorizationV1Api::new(c()).read_namespaced_role(name, ns, p)).await,
        "RoleBinding" => {
            encode(RbacAuthorizationV1Api::new(c()).read_namespaced_role_binding(name, ns, p)).await
        }
        "NetworkPolicy" => {
            encode(NetworkingV1Api::new(c()).read_namespaced_network_policy(name, ns, p)).await
        }
        "CronJob" => encode(BatchV1Api::new(c()).read_namespaced_cron_job(name, ns, p)).await,
        "PodDisruptionBudget" => {
            encode(PolicyV1Api::new(c()).read_namespaced_pod_disruption_budget(name, ns, p)).await
        }
        "HorizontalPodAutoscaler" => {
            let api = AutoscalingV2Api::new(c());
            encode(api.read_namespaced_horizontal_pod_autoscaler(name, ns, p)).await
        }
        other => Err(format!("no typed read for {other}")),
    }
    .map_err(|e| format!("read {kind} {ns}/{name}: {e}"))
}

async fn encode<T: Serialize>(
    call: impl Future<Output = Result<T, kuber_api::Error>>,
) -> Result<Value, String> {
    let typed = call.await.map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| format!("re-encode: {e}"))
}

fn resource_version(v: &Value) -> &str {
    v["metadata"]["resourceVersion"].as_str().unwrap_or("")
}

/// kubectl's JSON of one object, managedFields included.
fn kubectl_json(e2e: &E2e, resource: &str, name: &str, ns: &str) -> Result<Value, String> {
    let out = e2e.cluster.kubectl_ok(&[
        "get",
        resource,
        name,
        "-n",
        ns,
        "-o",
        "json",
        "--show-managed-fields",
    ])?;
    serde_json::from_str(&out).context(format!("kubectl get {resource} {name}: not JSON"))
}

/// Compares kubectl's view with kuber-api's typed read of the same resourceVersion (a
/// controller may change the object between the two reads: then both are read again).
/// `Ok(true)` when they are also equal as plain JSON values.
async fn same_as_kubectl(
    e2e: &E2e,
    kind: &str,
    resource: &str,
    name: &str,
    ns: &str,
    known: Option<Value>,
) -> Result<bool, String> {
    let mut known = known;
    for attempt in 0..ATTEMPTS {
        let typed = match known.take() {
            Some(v) => v,
            None => read_typed(&e2e.admin, kind, name, ns).await?,
        };
        let shown = kubectl_json(e2e, resource, name, ns)?;
        if resource_version(&typed) != resource_version(&shown) {
            if attempt + 1 < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            return Err(format!(
                "{kind} {name}: kubectl and kuber-api never saw the same resourceVersion"
            ));
        }
        compare(&shown, &typed).map_err(|d| {
            format!("{kind} {name}: kuber-api's typed read differs from kubectl's {d}")
        })?;
        return Ok(shown == typed);
    }
    Err(format!("{kind} {name}: no comparison made"))
}

/// `kubectl apply` of YAML manifests of several groups; each object read back typed with
/// kuber-api and re-encoded is what `kubectl get -o json` prints.
async fn applied_manifests(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("kubectl-apply").await?;
    let dir = kuber_tests::fixtures_dir().join("kubectl");
    let dir = dir.to_str().ok_or("the fixtures path is not UTF-8")?;
    let out = e2e.cluster.kubectl_ok(&["apply", "-n", &ns, "-f", dir])?;
    let created = out.lines().filter(|l| l.ends_with(" created")).count();
    ensure(created == APPLIED.len(), || {
        format!(
            "kubectl apply created {created} objects, expected {}:\n{out}",
            APPLIED.len()
        )
    })?;

    let mut plain_equal = 0;
    for (kind, resource, name) in APPLIED {
        let typed = read_typed(&e2e.admin, kind, name, &ns).await?;
        // The applied configuration kubectl recorded survives the typed round trip.
        let annotations = &typed["metadata"]["annotations"];
        ensure(
            annotations["kubectl.kubernetes.io/last-applied-configuration"].is_string(),
            || format!("{kind} {name}: no last-applied-configuration annotation"),
        )?;
        if same_as_kubectl(e2e, kind, resource, name, &ns, Some(typed)).await? {
            plain_equal += 1;
        }
    }

    // Values from the YAML, as read typed.
    let cm = CoreV1Api::new(e2e.admin.clone())
        .read_namespaced_config_map("kubectl-settings", &ns, &GetParams::default())
        .await
        .context("read ConfigMap kubectl-settings")?;
    let data = cm.data.unwrap_or_default();
    ensure(
        data.get("multi-line").map(String::as_str) == Some("first line\nsecond line\n")
            && data.get("retries").map(String::as_str) == Some("3"),
        || format!("ConfigMap data {data:?}"),
    )?;
    let blob = cm.binary_data.unwrap_or_default();
    ensure(
        blob.get("blob") == Some(&ByteString::from(&[0u8, 1, 2, 3, 4][..])),
        || format!("ConfigMap binaryData {blob:?}"),
    )?;
    let deploy = AppsV1Api::new(e2e.admin.clone())
        .read_namespaced_deployment("kubectl-web", &ns, &GetParams::default())
        .await
        .context("read Deployment kubectl-web")?;
    let surge = deploy
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_surge.clone());
    ensure(surge == Some(IntOrString::String("25%".into())), || {
        format!("Deployment maxSurge {surge:?}")
    })?;

    e2e.report(format!(
        "kubectl: {} applied objects read typed equal kubectl's JSON ({plain_equal} also as plain JSON values)",
        APPLIED.len()
    ));
    delete_namespace(e2e, &ns).await
}

/// Objects kuber-api creates are what kubectl shows, and kubectl's table lists them.
async fn kuber_created(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("kubectl-shown").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let meta = |name: &str| {
        Some(ObjectMeta {
            name: Some(name.into()),
            labels: Some([("made-by".to_owned(), "kuber-api".to_owned())].into()),
            ..Default::default()
        })
    };
    let names = ["alpha", "beta-settings", "gamma"];
    let mut plain_equal = 0;
    for (i, name) in names.iter().enumerate() {
        let cm = ConfigMap {
            metadata: meta(name),
            data: Some(
                [
                    ("index".to_owned(), i.to_string()),
                    ("text".to_owned(), format!("ünïcødé \"quoted\" {name}\n")),
                ]
                .into(),
            ),
            binary_data: Some([("raw".to_owned(), ByteString::from(&[0xffu8, 0, 7][..]))].into()),
            ..Default::default()
        };
        let created = core
            .create_namespaced_config_map(&ns, &cm, &WriteParams::default())
            .await
            .context(format!("create ConfigMap {name}"))?;
        let created = serde_json::to_value(&created).context("re-encode")?;
        if same_as_kubectl(e2e, "ConfigMap", "configmaps", name, &ns, Some(created)).await? {
            plain_equal += 1;
        }
    }
    let secret = Secret {
        metadata: meta("token"),
        type_: Some("Opaque".into()),
        data: Some([("key".to_owned(), ByteString::from(&b"s3cr3t"[..]))].into()),
        ..Default::default()
    };
    let created = core
        .create_namespaced_secret(&ns, &secret, &WriteParams::default())
        .await
        .context("create Secret token")?;
    let created = serde_json::to_value(&created).context("re-encode")?;
    if same_as_kubectl(e2e, "Secret", "secrets", "token", &ns, Some(created)).await? {
        plain_equal += 1;
    }
    let service = Service {
        metadata: meta("front"),
        spec: Some(ServiceSpec {
            selector: Some([("app".to_owned(), "front".to_owned())].into()),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                target_port: Some(IntOrString::Int(8080)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = core
        .create_namespaced_service(&ns, &service, &WriteParams::default())
        .await
        .context("create Service front")?;
    let created = serde_json::to_value(&created).context("re-encode")?;
    if same_as_kubectl(e2e, "Service", "services", "front", &ns, Some(created)).await? {
        plain_equal += 1;
    }

    // kubectl's table lists the names kuber-api created.
    let table = e2e.cluster.kubectl_ok(&["get", "configmaps", "-n", &ns])?;
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    ensure(header.split_whitespace().next() == Some("NAME"), || {
        format!("kubectl table header {header:?}")
    })?;
    let listed: Vec<&str> = lines.filter_map(|l| l.split_whitespace().next()).collect();
    for name in names {
        ensure(listed.contains(&name), || {
            format!("kubectl get configmaps lists {listed:?}, not {name}")
        })?;
    }
    let labelled = e2e.cluster.kubectl_ok(&[
        "get",
        "configmaps",
        "-n",
        &ns,
        "-l",
        "made-by=kuber-api",
        "-o",
        "name",
    ])?;
    let mut labelled: Vec<&str> = labelled.lines().collect();
    labelled.sort();
    ensure(
        labelled
            == [
                "configmap/alpha",
                "configmap/beta-settings",
                "configmap/gamma",
            ],
        || format!("kubectl -l made-by=kuber-api: {labelled:?}"),
    )?;
    e2e.report(format!(
        "kubectl: {} kuber-api-created objects shown identically by kubectl ({plain_equal} also as plain JSON values)",
        names.len() + 2
    ));
    delete_namespace(e2e, &ns).await
}

async fn delete_namespace(e2e: &E2e, ns: &str) -> Outcome {
    CoreV1Api::new(e2e.admin.clone())
        .delete_namespace(ns, None, &Default::default())
        .await
        .map(drop)
        .context(format!("delete namespace {ns}"))
}
