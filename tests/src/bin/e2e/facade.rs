//! The `kuber` facade alone, on the real control plane: one verb script run over a table of
//! kinds (one row each: a minimal valid object), custom resources by kind name, discovery and
//! its overrides, paging, namespace rules, errors, logs and eviction. Every step is a scenario;
//! the report line counts them (`facade: N/N scenarios, K kinds, G groups`).
//!
//! Answers are checked against the server: objects are read back (and, once per kind, through
//! kubectl), never compared with what the same call answered.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber::models::Resource;
use kuber::models::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use kuber::models::api::autoscaling::v2::HorizontalPodAutoscaler;
use kuber::models::api::batch::v1::{CronJob, Job};
use kuber::models::api::coordination::v1::Lease;
use kuber::models::api::core::v1::{
    ConfigMap, Event, LimitRange, Namespace, PersistentVolume, Pod, PodTemplate,
    ReplicationController, ResourceQuota, Secret, Service, ServiceAccount,
};
use kuber::models::api::discovery::v1::EndpointSlice;
use kuber::models::api::flowcontrol::v1::FlowSchema;
use kuber::models::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use kuber::models::api::node::v1::RuntimeClass;
use kuber::models::api::policy::v1::PodDisruptionBudget;
use kuber::models::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kuber::models::api::scheduling::v1::PriorityClass;
use kuber::models::api::storage::v1::{CSIDriver, StorageClass};
use kuber::models::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresourceScale, CustomResourceSubresources,
};
use kuber::models::special::RawJson;
use kuber::{Context as Ctx, Deleted, Error, Patch};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::case;
use crate::support::schemas::{namespaced_crd, object_schema, schema};
use crate::support::{Case, CaseFuture, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![
        case!("facade/kinds-verb-script", kinds),
        case!("facade/crd-by-kind-name", crd),
        case!("facade/discovery-overrides", discovery),
        case!("facade/paging-pages", paging),
        case!("facade/errors", errors),
        case!("facade/logs-and-eviction", logs_and_eviction),
        case!("facade/report", report),
        case!("facade/on-testserver", on_testserver),
    ]
}

/// The same scenarios against kuber-testserver, started in this process: its own tally,
/// reported as one line, failing the case when a scenario fails there.
async fn on_testserver(e2e: &E2e) -> Outcome {
    let server = kuber_testserver::TestServer::start()
        .await
        .map_err(|e| format!("starting kuber-testserver: {e}"))?;
    let dir = std::env::temp_dir().join(format!(
        "kuber-e2e-testserver-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig())
        .map_err(|e| format!("{}: {e}", kubeconfig.display()))?;
    let on = e2e.on_server(server.client(), server.client(), kubeconfig);

    // The real server's tally is kept aside and put back after.
    let real = tally(std::mem::take);
    let mut failed_cases = Vec::new();
    let runs: [(&str, CaseFuture<'_>); 6] = [
        ("kinds-verb-script", Box::pin(kinds(&on))),
        ("crd-by-kind-name", Box::pin(crd(&on))),
        ("discovery-overrides", Box::pin(discovery(&on))),
        ("paging-pages", Box::pin(paging(&on))),
        ("errors", Box::pin(errors(&on))),
        ("logs-and-eviction", Box::pin(logs_and_eviction(&on))),
    ];
    for (name, run) in runs {
        if let Err(e) = run.await {
            failed_cases.push(format!("{name}: {e}"));
        }
    }
    let (passed, total, kinds, groups, failures) = tally(|t| {
        (
            t.passed,
            t.total,
            t.kinds.len(),
            t.groups.len(),
            std::mem::take(&mut t.failures),
        )
    });
    tally(|t| *t = real);
    // Differences from the real server the test server keeps on purpose, each named here and
    // reported; any other failed scenario fails the case.
    let (known, unexpected): (Vec<String>, Vec<String>) = failures.into_iter().partition(|f| {
        KNOWN_TESTSERVER_DIFFERENCES
            .iter()
            .any(|k| f.starts_with(k))
    });
    for k in &known {
        e2e.report(format!("facade on kuber-testserver: known difference: {k}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    e2e.report(format!(
        "facade on kuber-testserver: {passed}/{total} scenarios, {kinds} kinds, {groups} groups"
    ));
    ensure(
        unexpected.is_empty() && passed + known.len() == total,
        || {
            format!(
                "on kuber-testserver, {} scenario(s) failed:\n  {}\n  (cases: {})",
                total - passed,
                unexpected.join("\n  "),
                failed_cases.join("; ")
            )
        },
    )
}

/// Scenarios the test server answers differently from the real one on purpose (prefixes of
/// the scenario names); none today.
const KNOWN_TESTSERVER_DIFFERENCES: &[&str] = &[];

// ---------------------------------------------------------------------------------------------
// Scenario tally

#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
    kinds: BTreeSet<String>,
    groups: BTreeSet<String>,
    failures: Vec<String>,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

fn tally<T>(f: impl FnOnce(&mut Tally) -> T) -> T {
    let mut guard = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(Tally::default))
}

/// The scenarios of one case: each step is run, counted and remembered; the case fails when
/// any step did.
struct Steps {
    failures: Vec<String>,
}

impl Steps {
    fn new() -> Steps {
        Steps {
            failures: Vec::new(),
        }
    }

    async fn run(&mut self, name: String, step: impl Future<Output = Outcome>) {
        let outcome = step.await;
        tally(|t| {
            t.total += 1;
            match &outcome {
                Ok(()) => t.passed += 1,
                Err(e) => t.failures.push(format!("{name}: {e}")),
            }
        });
        if let Err(e) = outcome {
            self.failures.push(format!("{name}: {e}"));
        }
    }

    fn covered(kind: &str, group: &str) {
        tally(|t| {
            t.kinds.insert(kind.to_owned());
            t.groups
                .insert(if group.is_empty() { "core" } else { group }.to_owned());
        });
    }

    fn outcome(self) -> Outcome {
        match self.failures.len() {
            0 => Ok(()),
            n => Err(format!(
                "{n} scenario(s) failed:\n  {}",
                self.failures.join("\n  ")
            )),
        }
    }
}

async fn report(e2e: &E2e) -> Outcome {
    let (passed, total, kinds, groups) =
        tally(|t| (t.passed, t.total, t.kinds.len(), t.groups.len()));
    e2e.report(format!(
        "facade: {passed}/{total} scenarios, {kinds} kinds, {groups} groups"
    ));
    ensure(passed == total, || {
        format!("{} scenario(s) failed", total - passed)
    })
}

// ---------------------------------------------------------------------------------------------
// The table of kinds

type Script = for<'a> fn(&'a E2e, &'a Row, &'a str) -> CaseFuture<'a>;

/// One kind: its name for the by-kind-name verbs, another name that resolves to it (plural or
/// short name), a minimal valid object (members besides apiVersion/kind/metadata; `$NS` is the
/// object's namespace) and what the kind has.
struct Row {
    kind_name: &'static str,
    alias: &'static str,
    body: &'static str,
    /// Reads `status`; with a merge patch of it, a JSON pointer and the value expected there.
    status: Status,
    scale: bool,
    script: Script,
}

enum Status {
    None,
    Read,
    Patch(&'static str, &'static str, &'static str),
}

fn row<K: Kind>(kind_name: &'static str, alias: &'static str, body: &'static str) -> Row {
    Row {
        kind_name,
        alias,
        body,
        status: Status::None,
        scale: false,
        script: |e2e, row, other_ns| Box::pin(script::<K>(e2e, row, other_ns)),
    }
}

impl Row {
    fn status(mut self, patch: &'static str, pointer: &'static str, expected: &'static str) -> Row {
        self.status = Status::Patch(patch, pointer, expected);
        self
    }

    fn status_read(mut self) -> Row {
        self.status = Status::Read;
        self
    }

    fn scale(mut self) -> Row {
        self.scale = true;
        self
    }
}

const CONTAINERS: &str = r#"[{"name":"c","image":"registry.k8s.io/pause:3.10"}]"#;

fn rows() -> Vec<Row> {
    // Workload templates share one pod spec; `replicas: 0` keeps controllers quiet until scaled.
    macro_rules! text {
        ($($part:expr),*) => { Box::leak(format!($($part),*).into_boxed_str()) as &'static str };
    }
    let template =
        text!(r#"{{"metadata":{{"labels":{{"app":"x"}}}},"spec":{{"containers":{CONTAINERS}}}}}"#);
    let condition = r#"{"status":{"conditions":[{"type":"example.com/Facade","status":"True","reason":"Test","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#;
    vec![
        row::<ConfigMap>("ConfigMap", "cm", r#"{"data":{"k":"v"}}"#),
        row::<Secret>("Secret", "secrets", r#"{"data":{"k":"dg=="},"type":"Opaque"}"#),
        row::<Service>("Service", "svc", r#"{"spec":{"ports":[{"port":80}]}}"#).status(
            condition,
            "/status/conditions/0/type",
            r#""example.com/Facade""#,
        ),
        row::<ServiceAccount>("ServiceAccount", "sa", "{}"),
        row::<Pod>("Pod", "po", text!(r#"{{"spec":{{"containers":{CONTAINERS}}}}}"#)).status(
            r#"{"status":{"conditions":[{"type":"example.com/Facade","status":"True"}]}}"#,
            "/status/conditions/0/type",
            r#""example.com/Facade""#,
        ),
        row::<PodTemplate>("PodTemplate", "podtemplates", text!(r#"{{"template":{template}}}"#)),
        row::<ReplicationController>(
            "ReplicationController",
            "rc",
            text!(r#"{{"spec":{{"replicas":0,"selector":{{"app":"x"}},"template":{template}}}}}"#),
        )
        .scale(),
        row::<LimitRange>(
            "LimitRange",
            "limits",
            r#"{"spec":{"limits":[{"type":"Container","max":{"cpu":"2"}}]}}"#,
        ),
        row::<ResourceQuota>("ResourceQuota", "quota", r#"{"spec":{"hard":{"configmaps":"100"}}}"#)
            .status_read(),
        row::<Event>(
            "Event",
            "ev",
            r#"{"involvedObject":{"kind":"Pod","name":"p","namespace":"$NS"},"reason":"Test","message":"m","type":"Normal"}"#,
        ),
        row::<PersistentVolume>(
            "PersistentVolume",
            "pv",
            r#"{"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/tmp/facade"}}}"#,
        )
        .status_read(),
        row::<Namespace>("Namespace", "ns", "{}").status_read(),
        row::<Deployment>(
            "Deployment",
            "deploy",
            text!(
                r#"{{"spec":{{"replicas":0,"selector":{{"matchLabels":{{"app":"x"}}}},"template":{template}}}}}"#
            ),
        )
        .status(r#"{"status":{"collisionCount":7}}"#, "/status/collisionCount", "7")
        .scale(),
        row::<StatefulSet>(
            "StatefulSet",
            "sts",
            text!(
                r#"{{"spec":{{"replicas":0,"serviceName":"x","selector":{{"matchLabels":{{"app":"x"}}}},"template":{template}}}}}"#
            ),
        )
        .status(r#"{"status":{"collisionCount":5}}"#, "/status/collisionCount", "5")
        .scale(),
        row::<DaemonSet>(
            "DaemonSet",
            "ds",
            text!(
                r#"{{"spec":{{"selector":{{"matchLabels":{{"app":"x"}}}},"template":{template}}}}}"#
            ),
        )
        .status(r#"{"status":{"collisionCount":3}}"#, "/status/collisionCount", "3"),
        row::<ReplicaSet>(
            "ReplicaSet",
            "rs",
            text!(
                r#"{{"spec":{{"replicas":0,"selector":{{"matchLabels":{{"app":"x"}}}},"template":{template}}}}}"#
            ),
        )
        .status(
            r#"{"status":{"conditions":[{"type":"FacadeTest","status":"True"}]}}"#,
            "/status/conditions/0/type",
            r#""FacadeTest""#,
        )
        .scale(),
        row::<Job>(
            "Job",
            "jobs",
            text!(
                r#"{{"spec":{{"suspend":true,"template":{{"spec":{{"restartPolicy":"Never","containers":{CONTAINERS}}}}}}}}}"#
            ),
        )
        .status_read(),
        row::<CronJob>(
            "CronJob",
            "cj",
            text!(
                r#"{{"spec":{{"suspend":true,"schedule":"*/5 * * * *","jobTemplate":{{"spec":{{"template":{{"spec":{{"restartPolicy":"OnFailure","containers":{CONTAINERS}}}}}}}}}}}}}"#
            ),
        )
        .status(
            r#"{"status":{"lastScheduleTime":"2026-01-01T00:00:00Z"}}"#,
            "/status/lastScheduleTime",
            r#""2026-01-01T00:00:00Z""#,
        ),
        row::<Role>(
            "Role",
            "roles",
            r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}"#,
        ),
        row::<ClusterRole>(
            "ClusterRole",
            "clusterroles",
            r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}"#,
        ),
        row::<RoleBinding>(
            "RoleBinding",
            "rolebindings",
            r#"{"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},"subjects":[{"kind":"User","name":"u","apiGroup":"rbac.authorization.k8s.io"}]}"#,
        ),
        row::<ClusterRoleBinding>(
            "ClusterRoleBinding",
            "clusterrolebindings",
            r#"{"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"r"},"subjects":[{"kind":"User","name":"u","apiGroup":"rbac.authorization.k8s.io"}]}"#,
        ),
        row::<Ingress>(
            "Ingress",
            "ing",
            r#"{"spec":{"defaultBackend":{"service":{"name":"s","port":{"number":80}}}}}"#,
        )
        .status(
            r#"{"status":{"loadBalancer":{"ingress":[{"ip":"10.9.9.9"}]}}}"#,
            "/status/loadBalancer/ingress/0/ip",
            r#""10.9.9.9""#,
        ),
        row::<NetworkPolicy>("NetworkPolicy", "netpol", r#"{"spec":{"podSelector":{}}}"#),
        row::<IngressClass>(
            "IngressClass",
            "ingressclasses",
            r#"{"spec":{"controller":"example.com/facade"}}"#,
        ),
        row::<PodDisruptionBudget>(
            "PodDisruptionBudget",
            "pdb",
            r#"{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"none"}}}}"#,
        )
        .status_read(),
        row::<HorizontalPodAutoscaler>(
            "HorizontalPodAutoscaler",
            "hpa",
            r#"{"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":3}}"#,
        )
        .status_read(),
        row::<Lease>("Lease", "leases", r#"{"spec":{"holderIdentity":"facade"}}"#),
        row::<PriorityClass>("PriorityClass", "pc", r#"{"value":1000}"#),
        row::<StorageClass>("StorageClass", "sc", r#"{"provisioner":"example.com/facade"}"#),
        row::<CSIDriver>("CSIDriver", "csidrivers", r#"{"spec":{"attachRequired":false}}"#),
        row::<RuntimeClass>("RuntimeClass", "runtimeclasses", r#"{"handler":"facade"}"#),
        row::<FlowSchema>(
            "FlowSchema",
            "flowschemas",
            r#"{"spec":{"priorityLevelConfiguration":{"name":"global-default"},"matchingPrecedence":9000}}"#,
        )
        .status_read(),
        row::<EndpointSlice>(
            "EndpointSlice",
            "endpointslices",
            r#"{"addressType":"IPv4","endpoints":[{"addresses":["10.1.2.3"]}]}"#,
        ),
        row::<kuber::models::api::events::v1::Event>(
            "events.k8s.io/Event",
            "events.events.k8s.io",
            r#"{"eventTime":"2026-01-01T00:00:00.000000Z","reportingController":"example.com/facade","reportingInstance":"i","action":"Test","reason":"Test","type":"Normal","regarding":{"kind":"Pod","name":"p","namespace":"$NS"}}"#,
        ),
        row::<kuber::models::api::admissionregistration::v1::ValidatingAdmissionPolicy>(
            "ValidatingAdmissionPolicy",
            "validatingadmissionpolicies",
            r#"{"spec":{"matchConstraints":{"resourceRules":[{"apiGroups":["example.com"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["nothings"]}]},"validations":[{"expression":"true"}]}}"#,
        )
        .status_read(),
    ]
}

/// What the script needs of a generated kind.
trait Kind: Resource + Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}
impl<K: Resource + Serialize + DeserializeOwned + Clone + Send + Sync + 'static> Kind for K {}

async fn kinds(e2e: &E2e) -> Outcome {
    let other_ns = e2e.namespace("fc-other").await?;
    let mut failed = Vec::new();
    for row in rows() {
        if let Err(e) = (row.script)(e2e, &row, &other_ns).await {
            failed.push(e);
        }
    }
    ensure(failed.is_empty(), || failed.join("\n"))
}

fn namespaced<K: Kind>() -> bool {
    K::SCOPE == kuber::models::Scope::Namespaced
}

/// `row`'s object named `name` in `ns` (ignored for cluster-scoped kinds), with `labels`.
fn object<K: Kind>(row: &Row, name: &str, ns: &str, labels: &[(&str, &str)]) -> Result<K, String> {
    serde_json::from_value(object_value::<K>(row, name, ns, labels)?)
        .context(format!("{} object from the table", row.kind_name))
}

fn object_value<K: Kind>(
    row: &Row,
    name: &str,
    ns: &str,
    labels: &[(&str, &str)],
) -> Result<Value, String> {
    let mut value: Value = serde_json::from_str(&row.body.replace("$NS", ns))
        .context(format!("{} body", row.kind_name))?;
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    let mut metadata = json!({ "name": name, "labels": labels });
    if namespaced::<K>() {
        metadata["namespace"] = ns.into();
    }
    value["apiVersion"] = K::API_VERSION.into();
    value["kind"] = K::KIND.into();
    value["metadata"] = metadata;
    Ok(value)
}

/// `value` as YAML: block mappings for the envelope, JSON (flow YAML) for the members.
fn yaml(value: &Value) -> String {
    let mut text = String::new();
    for (key, member) in value.as_object().into_iter().flatten() {
        match member {
            Value::Object(map) if key == "metadata" => {
                text.push_str("metadata:\n");
                for (k, v) in map {
                    text.push_str(&format!("  {k}: {v}\n"));
                }
            }
            Value::String(s) => text.push_str(&format!("{key}: {s}\n")),
            other => text.push_str(&format!("{key}: {other}\n")),
        }
    }
    text
}

fn to_value<T: Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn label_of<T: Serialize>(object: &T, key: &str) -> Option<String> {
    to_value(object)
        .pointer(&format!("/metadata/labels/{}", key.replace('/', "~1")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn uid_of<T: Serialize>(object: &T) -> Option<String> {
    to_value(object)
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn sorted_names<T: Serialize>(items: &[T]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|i| {
            to_value(i)
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// kubectl's name of the resource (`deployments.apps`, `pods`).
fn kubectl_resource<K: Kind>() -> String {
    if K::GROUP.is_empty() {
        K::PLURAL.to_owned()
    } else {
        format!("{}.{}", K::PLURAL, K::GROUP)
    }
}

/// Gone, or going (a finalizer holds it with a deletionTimestamp).
async fn gone<K: Kind>(ctx: &Ctx, name: &str, ns: &str) -> Outcome {
    match ctx.get::<K>(name).namespace(ns).await {
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(format!("get after delete: {e}")),
        Ok(o) => ensure(
            o.metadata().is_some_and(|m| m.deletion_timestamp.is_some()),
            || format!("{name} still there without a deletionTimestamp"),
        ),
    }
}

/// The answer of a delete: the object named `name`, or a Status of success.
fn deleted<T: Serialize>(answer: &Deleted<T>, name: &str) -> Outcome {
    match answer {
        Deleted::Object(o) => {
            let v = to_value(o);
            ensure(v.pointer("/metadata/name") == Some(&json!(name)), || {
                format!("delete answered another object: {v}")
            })
        }
        Deleted::Status(s) => ensure(s.status.as_deref() == Some("Success"), || {
            format!("delete answered {s:?}")
        }),
    }
}

/// The verb script, the same for every kind.
async fn script<K: Kind>(e2e: &E2e, row: &Row, other_ns: &str) -> Outcome {
    let group_tag = if K::GROUP.is_empty() {
        "core"
    } else {
        K::GROUP.split('.').next().unwrap_or("g")
    };
    let slug = format!(
        "{}-{}",
        &K::PLURAL[..K::PLURAL.len().min(18)],
        &group_tag[..group_tag.len().min(6)]
    );
    let pid = std::process::id() % 10_000;
    let base = format!("fc-{slug}-{pid}");
    let ns = if namespaced::<K>() {
        e2e.namespace(&format!("fc-{slug}")).await?
    } else {
        // Cluster-scoped: the context's namespace must not matter.
        "no-such-namespace".to_owned()
    };
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let ctx = ctx;
    let tag = format!("{slug}-{pid}");
    let sel = format!("facade={tag}");
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|s| format!("{base}-{s}"));
    let labels = [("facade", tag.as_str())];
    let k = row.kind_name;
    let mut steps = Steps::new();
    Steps::covered(K::KIND, K::GROUP);

    // put (typed create), checked through kubectl.
    let created_uid = Mutex::new(None::<String>);
    steps
        .run(format!("{k}/put"), async {
            let obj: K = object(row, &a, &ns, &labels)?;
            let created = ctx.put(&obj).await.context("put")?;
            ensure(created.name() == Some(a.as_str()), || {
                format!("put answered {:?}", created.name())
            })?;
            let uid = uid_of(&created).ok_or("no uid in the answer")?;
            let mut args = vec!["get", "", &a, "-o", "jsonpath={.metadata.uid}"];
            let resource = kubectl_resource::<K>();
            args[1] = &resource;
            if namespaced::<K>() {
                args.extend(["-n", &ns]);
            }
            let seen = e2e.kubectl_ok(&args)?;
            ensure(seen.trim() == uid, || {
                format!("kubectl sees uid {seen}, put answered {uid}")
            })?;
            *created_uid.lock().unwrap() = Some(uid);
            Ok(())
        })
        .await;
    let uid = created_uid.lock().unwrap().clone().unwrap_or_default();

    steps
        .run(format!("{k}/put-already-exists"), async {
            let obj: K = object(row, &a, &ns, &labels)?;
            match ctx.put(&obj).await {
                Err(e) if e.is_already_exists() => Ok(()),
                other => Err(format!("second put: {:?}", other.map(|o| uid_of(&o)))),
            }
        })
        .await;

    steps
        .run(format!("{k}/put_text-yaml"), async {
            let text = yaml(&object_value::<K>(row, &b, &ns, &labels)?);
            let created = ctx
                .put_text(&text)
                .await
                .context(format!("put_text of\n{text}"))?;
            ensure(
                created.kind() == K::KIND && created.name() == Some(b.as_str()),
                || format!("put_text answered {} {:?}", created.kind(), created.name()),
            )?;
            let read = ctx.get::<K>(&b).await.context("get after put_text")?;
            ensure(uid_of(&read) == uid_of(&created), || "uid differs".into())
        })
        .await;

    steps
        .run(format!("{k}/get"), async {
            let read = ctx.get::<K>(&a).await.context("get")?;
            ensure(uid_of(&read).as_deref() == Some(uid.as_str()), || {
                format!("get answered uid {:?}, want {uid}", uid_of(&read))
            })
        })
        .await;

    for name in [row.kind_name, row.alias] {
        steps
            .run(format!("{k}/get_kind `{name}`"), async {
                let obj = ctx.get_kind(name, a.as_str()).await.context("get_kind")?;
                ensure(
                    obj.kind() == K::KIND && obj.api_version() == K::API_VERSION,
                    || format!("answered {} {}", obj.api_version(), obj.kind()),
                )?;
                ensure(obj.is::<K>(), || "Object::is is false".into())?;
                let typed: K = obj.downcast().context("downcast")?;
                ensure(uid_of(&typed).as_deref() == Some(uid.as_str()), || {
                    "another uid".into()
                })
            })
            .await;
    }

    let want = vec![a.clone(), b.clone()];
    steps
        .run(format!("{k}/list-label-selector"), async {
            let list = ctx.list::<K>().labels(sel.as_str()).await.context("list")?;
            ensure(sorted_names(&list.items) == want, || {
                format!("listed {:?}", sorted_names(&list.items))
            })?;
            ensure(list.resource_version().is_some(), || {
                "no list resourceVersion".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/list_kind"), async {
            let list = ctx
                .list_kind(row.kind_name)
                .labels(sel.as_str())
                .await
                .context("list_kind")?;
            ensure(sorted_names(&list.items) == want, || {
                format!("listed {:?}", sorted_names(&list.items))
            })?;
            for item in &list.items {
                ensure(item.kind() == K::KIND && item.is::<K>(), || {
                    format!(
                        "list_kind item is `{}` `{}`, not a {}",
                        item.api_version(),
                        item.kind(),
                        K::KIND
                    )
                })?;
                item.downcast::<K>().context("downcast of an item")?;
            }
            Ok(())
        })
        .await;

    steps
        .run(format!("{k}/get_kind-without-name-is-the-list"), async {
            let list = ctx
                .get_kind(row.kind_name, None)
                .await
                .context("get_kind None")?;
            ensure(list.kind() == format!("{}List", K::KIND), || {
                format!("answered a {}", list.kind())
            })?;
            let items = list.items().ok_or("no items")?.context("items")?;
            let names = sorted_names(&items);
            ensure(want.iter().all(|n| names.contains(n)), || {
                format!("items {names:?}")
            })?;
            for item in &items {
                item.downcast::<K>().context("downcast of an item")?;
            }
            Ok(())
        })
        .await;

    steps
        .run(format!("{k}/update_object-replace_object"), async {
            let obj = ctx
                .get_kind(row.kind_name, b.as_str())
                .await
                .context("get_kind")?;
            let patch = Patch::Merge(json!({"metadata": {"labels": {"object": "1"}}}));
            ctx.update_object(&obj, patch)
                .await
                .context("update_object")?;
            let read = ctx.get::<K>(&b).await.context("read back")?;
            ensure(label_of(&read, "object").as_deref() == Some("1"), || {
                "label not set".into()
            })?;
            // `obj` is now stale.
            match ctx.replace_object(&obj).await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "stale replace_object: {:?}",
                        other.map(|o| o.resource_version().map(str::to_owned))
                    ));
                }
            }
            let fresh = ctx
                .get_kind(row.kind_name, b.as_str())
                .await
                .context("get_kind")?;
            let replaced = ctx.replace_object(&fresh).await.context("replace_object")?;
            ensure(
                replaced.kind() == K::KIND && replaced.name() == Some(b.as_str()),
                || {
                    format!(
                        "replace_object answered {} {:?}",
                        replaced.kind(),
                        replaced.name()
                    )
                },
            )
        })
        .await;

    if namespaced::<K>() {
        steps
            .run(format!("{k}/namespace-from-metadata-and-star"), async {
                let obj: K = object(row, &c, other_ns, &labels)?;
                let created = ctx.put(&obj).await.context("put into metadata.namespace")?;
                ensure(created.namespace() == Some(other_ns), || {
                    format!("created in {:?}", created.namespace())
                })?;
                ctx.get::<K>(&c)
                    .namespace(other_ns)
                    .await
                    .context("get in the other namespace")?;
                match ctx.get::<K>(&c).await {
                    Err(e) if e.is_not_found() => {}
                    other => {
                        return Err(format!(
                            "{c} in the context's namespace: {:?}",
                            other.is_ok()
                        ));
                    }
                }
                let all = ctx
                    .list::<K>()
                    .all_namespaces()
                    .labels(sel.as_str())
                    .await
                    .context("list *")?;
                let want_all = vec![a.clone(), b.clone(), c.clone()];
                ensure(sorted_names(&all.items) == want_all, || {
                    format!("list * gave {:?}", sorted_names(&all.items))
                })?;
                let mut star = ctx.clone();
                star.set_ns("*");
                let all = star
                    .list_kind(row.kind_name)
                    .labels(sel.as_str())
                    .await
                    .context("list_kind with ns *")?;
                ensure(sorted_names(&all.items) == want_all, || {
                    format!("ctx ns * gave {:?}", sorted_names(&all.items))
                })?;
                let del = ctx
                    .delete::<K>(&c)
                    .namespace(other_ns)
                    .await
                    .context("delete in other ns")?;
                deleted(&del, &c)
            })
            .await;
    } else {
        steps
            .run(format!("{k}/cluster-scoped-ignores-namespace"), async {
                ctx.get::<K>(&a)
                    .namespace("another-namespace")
                    .await
                    .context("get with a namespace")?;
                let list = ctx
                    .list::<K>()
                    .namespace("another-namespace")
                    .labels(sel.as_str())
                    .await
                    .context("list with a namespace")?;
                ensure(sorted_names(&list.items) == want, || {
                    format!("listed {:?}", sorted_names(&list.items))
                })
            })
            .await;
    }

    // Patches of each type, read back.
    let patches: Vec<(&str, &str, kuber::PatchBody)> = vec![
        (
            "update-merge",
            "merge",
            Patch::Merge(json!({"metadata": {"labels": {"merge": "1"}}})).into(),
        ),
        (
            "update-json",
            "json",
            Patch::Json(json!([{"op": "add", "path": "/metadata/labels/json", "value": "1"}]))
                .into(),
        ),
        (
            "update-strategic",
            "strategic",
            Patch::Strategic(json!({"metadata": {"labels": {"strategic": "1"}}})).into(),
        ),
    ];
    for (step, label, patch) in patches {
        steps
            .run(format!("{k}/{step}"), async {
                let answer = ctx.update::<K>(&a, patch).await.context(step)?;
                ensure(answer.name() == Some(a.as_str()), || {
                    "answered another object".into()
                })?;
                let read = ctx.get::<K>(&a).await.context("read back")?;
                ensure(label_of(&read, label).as_deref() == Some("1"), || {
                    format!("label {label} not set after {step}")
                })
            })
            .await;
    }
    steps
        .run(format!("{k}/update_kind"), async {
            let patch = Patch::Merge(json!({"metadata": {"labels": {"bykind": "1"}}}));
            let answer = ctx
                .update_kind(row.kind_name, &a, patch)
                .await
                .context("update_kind")?;
            ensure(answer.kind() == K::KIND, || {
                format!("answered {}", answer.kind())
            })?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "bykind").as_deref() == Some("1"), || {
                "label not set".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/apply-conflict-force"), async {
            // m1 takes the fields (the server defaulted some of them as `kuber`, the create's
            // manager), then applies the same again without force.
            let mine: K = object(row, &a, &ns, &[("facade", &tag), ("owner", "m1")])?;
            ctx.apply(&mine, "facade-m1")
                .force()
                .await
                .context("apply as m1")?;
            ctx.apply(&mine, "facade-m1")
                .await
                .context("apply again as m1")?;
            let theirs: K = object(row, &a, &ns, &[("facade", &tag), ("owner", "m2")])?;
            match ctx.apply(&theirs, "facade-m2").await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "m2 without force: {:?}",
                        other.map(|o| label_of(&o, "owner"))
                    ));
                }
            }
            ctx.apply(&theirs, "facade-m2")
                .force()
                .await
                .context("forced apply")?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "owner").as_deref() == Some("m2"), || {
                format!("owner is {:?}", label_of(&read, "owner"))
            })
        })
        .await;

    steps
        .run(format!("{k}/replace-stale-conflict"), async {
            let stale = ctx.get::<K>(&a).await.context("get")?;
            ctx.update::<K>(
                &a,
                Patch::Merge(json!({"metadata": {"labels": {"bump": "1"}}})),
            )
            .await
            .context("bump")?;
            match ctx.replace(&stale).await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "stale replace: {:?}",
                        other.map(|o| o.resource_version().map(str::to_owned))
                    ));
                }
            }
            let mut fresh = ctx.get::<K>(&a).await.context("get")?;
            fresh
                .metadata_mut()
                .labels
                .get_or_insert_default()
                .insert("replaced".into(), "1".into());
            ctx.replace(&fresh).await.context("replace")?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "replaced").as_deref() == Some("1"), || {
                "replace lost".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/dry_run-stores-nothing"), async {
            let obj: K = object(row, &d, &ns, &labels)?;
            let answer = ctx.put(&obj).dry_run().await.context("dry-run put")?;
            ensure(answer.name() == Some(d.as_str()), || {
                "dry run answered another".into()
            })?;
            match ctx.get::<K>(&d).await {
                Err(e) if e.is_not_found() => Ok(()),
                other => Err(format!("after a dry run: {:?}", other.map(|o| uid_of(&o)))),
            }
        })
        .await;

    steps
        .run(format!("{k}/delete-dry_run-and-preconditions"), async {
            let answer = ctx
                .delete::<K>(&a)
                .dry_run()
                .await
                .context("dry-run delete")?;
            deleted(&answer, &a)?;
            let still = ctx
                .get::<K>(&a)
                .await
                .context("get after a dry-run delete")?;
            ensure(
                still
                    .metadata()
                    .is_some_and(|m| m.deletion_timestamp.is_none()),
                || "a dry-run delete started a deletion".into(),
            )?;
            match ctx
                .delete::<K>(&a)
                .preconditions(Some("00000000-0000-0000-0000-000000000000"), None)
                .await
            {
                Err(e) if e.is_conflict() => {}
                other => return Err(format!("delete with another uid: {:?}", other.is_ok())),
            }
            ctx.get::<K>(&a)
                .await
                .map(drop)
                .context("get after a refused delete")
        })
        .await;

    match row.status {
        Status::None => {}
        Status::Read => {
            steps
                .run(format!("{k}/get_status"), async {
                    let status = ctx.get_status::<K>(&a).await.context("get_status")?;
                    ensure(uid_of(&status).as_deref() == Some(uid.as_str()), || {
                        "another object".into()
                    })
                })
                .await;
        }
        Status::Patch(patch, pointer, expected) => {
            steps
                .run(format!("{k}/update_status"), async {
                    let patch: Value = serde_json::from_str(patch).context("status patch")?;
                    let expected: Value = serde_json::from_str(expected).context("expected")?;
                    ctx.update_status::<K>(&a, Patch::Merge(patch))
                        .await
                        .context("update_status")?;
                    let read = ctx.get_status::<K>(&a).await.context("get_status")?;
                    let v = to_value(&read);
                    ensure(v.pointer(pointer) == Some(&expected), || {
                        format!("{pointer} is {:?} after update_status", v.pointer(pointer))
                    })
                })
                .await;
        }
    }

    if row.scale {
        steps
            .run(format!("{k}/scale"), async {
                let scale = ctx.scale::<K>(&a, 2).await.context("scale")?;
                ensure(
                    scale.spec.as_ref().and_then(|s| s.replicas) == Some(2),
                    || format!("scale answered {:?}", scale.spec),
                )?;
                let read = ctx.get_scale::<K>(&a).await.context("get_scale")?;
                ensure(
                    read.spec.as_ref().and_then(|s| s.replicas) == Some(2),
                    || format!("get_scale {:?}", read.spec),
                )?;
                let obj = ctx.get::<K>(&a).await.context("get")?;
                ensure(
                    to_value(&obj).pointer("/spec/replicas") == Some(&json!(2)),
                    || "spec.replicas is not 2".into(),
                )?;
                ctx.scale::<K>(&a, 0).await.map(drop).context("scale to 0")
            })
            .await;
    }

    let collection = kuber::kuber_type(K::API_VERSION, K::KIND)
        .is_some_and(|t| t.verbs().contains(&"deletecollection"));
    steps
        .run(format!("{k}/delete_collection"), async {
            let batch = format!("{tag}-del");
            let del_labels = [("facade-del", batch.as_str())];
            let del_sel = format!("facade-del={batch}");
            if !collection {
                // Refused before any request.
                match ctx.delete_collection::<K>().labels(del_sel.as_str()).await {
                    Err(Error::NoOperation { .. }) => {}
                    other => {
                        return Err(format!(
                            "delete_collection of a kind without it: {:?}",
                            other.is_ok()
                        ));
                    }
                }
                return match ctx.delete_collection_kind(row.kind_name).await {
                    Err(Error::NoOperation { .. }) => Ok(()),
                    other => Err(format!(
                        "delete_collection_kind of a kind without it: {:?}",
                        other.is_ok()
                    )),
                };
            }
            let (e1, e2, e3, e4) = (
                format!("{base}-e1"),
                format!("{base}-e2"),
                format!("{base}-e3"),
                format!("{base}-e4"),
            );
            for name in [&e1, &e2] {
                let obj: K = object(row, name, &ns, &del_labels)?;
                ctx.put(&obj).await.context("put")?;
            }
            let answer = ctx
                .delete_collection::<K>()
                .labels(del_sel.as_str())
                .await
                .context("delete_collection")?;
            // The server answers the list of what it deleted (or a Status).
            if let Deleted::Object(list) = &answer {
                ensure(
                    sorted_names(&list.items) == [e1.clone(), e2.clone()],
                    || format!("delete_collection answered {:?}", sorted_names(&list.items)),
                )?;
            }
            for name in [&e3, &e4] {
                let obj: K = object(row, name, &ns, &del_labels)?;
                ctx.put(&obj).await.context("put")?;
            }
            let answer = ctx
                .delete_collection_kind(row.kind_name)
                .labels(del_sel.as_str())
                .await
                .context("delete_collection_kind")?;
            if let Deleted::Object(list) = &answer {
                let names = sorted_names(&list.items);
                ensure(names.contains(&e3) && names.contains(&e4), || {
                    format!("delete_collection_kind answered {names:?}")
                })?;
                ensure(list.items.iter().all(|i| i.kind() == K::KIND), || {
                    "delete_collection_kind items without their kind".into()
                })?;
            }
            let left = ctx
                .list::<K>()
                .labels(del_sel.as_str())
                .await
                .context("list")?;
            ensure(
                left.items
                    .iter()
                    .all(|o| o.metadata().is_some_and(|m| m.deletion_timestamp.is_some())),
                || format!("left {:?}", sorted_names(&left.items)),
            )?;
            let kept = ctx.list::<K>().labels(sel.as_str()).await.context("list")?;
            ensure(sorted_names(&kept.items) == want, || {
                "selector deleted others".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/delete"), async {
            let answer = ctx.delete::<K>(&a).await.context("delete")?;
            deleted(&answer, &a)?;
            gone::<K>(&ctx, &a, &ns).await
        })
        .await;

    steps
        .run(format!("{k}/delete_kind"), async {
            let answer = ctx
                .delete_kind(row.kind_name, &b)
                .await
                .context("delete_kind")?;
            if let Deleted::Object(o) = &answer {
                ensure(o.kind() == K::KIND, || format!("answered a {}", o.kind()))?;
            }
            deleted(&answer, &b)?;
            gone::<K>(&ctx, &b, &ns).await
        })
        .await;

    steps.outcome()
}

// ---------------------------------------------------------------------------------------------
// A custom resource by kind name

const CRD_GROUP: &str = "facade.kuber.example";

async fn crd(e2e: &E2e) -> Outcome {
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
    let mut steps = Steps::new();
    Steps::covered("Gadget", CRD_GROUP);
    Steps::covered("CustomResourceDefinition", "apiextensions.k8s.io");

    steps
        .run("Gadget/crd-put-established".into(), async {
            let spec =
                object_schema(&[("replicas", schema("integer")), ("color", schema("string"))]);
            let status =
                object_schema(&[("replicas", schema("integer")), ("phase", schema("string"))]);
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
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
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
                if established {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    return Err("not Established in 30 s".into());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;

    // Established can run a moment ahead of discovery: wait until a fresh context resolves it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let fresh = Ctx::from_client(e2e.admin.clone());
        if fresh.list_kind("Gadget").namespace(&ns).await.is_ok() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let sel = "facade=gadget";
    steps
        .run("Gadget/put_text-yaml".into(), async {
            for (name, color) in [("g1", "red"), ("g2", "blue")] {
                let text = format!(
                    "apiVersion: {CRD_GROUP}/v1\nkind: Gadget\nmetadata:\n  name: {name}\n  labels:\n    facade: gadget\nspec:\n  replicas: 1\n  color: {color}\n"
                );
                let created = ctx.put_text(&text).await.context("put_text")?;
                ensure(created.kind() == "Gadget" && created.namespace() == Some(ns.as_str()), || {
                    format!("answered {} in {:?}", created.kind(), created.namespace())
                })?;
            }
            Ok(())
        })
        .await;

    for name in ["Gadget", "gadgets", "gdg", "Gadget.facade.kuber.example"] {
        steps
            .run(format!("Gadget/get_kind `{name}`"), async {
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
            })
            .await;
    }

    steps
        .run("Gadget/discovery-refresh-on-miss".into(), async {
            let obj = early
                .get_kind("Gadget", "g1")
                .await
                .context("context made before the CRD")?;
            ensure(obj.name() == Some("g1"), || "another object".into())
        })
        .await;

    steps
        .run("Gadget/list_kind".into(), async {
            let list = ctx
                .list_kind("Gadget")
                .labels(sel)
                .await
                .context("list_kind")?;
            ensure(sorted_names(&list.items) == ["g1", "g2"], || {
                format!("listed {:?}", sorted_names(&list.items))
            })?;
            let out = e2e.kubectl_ok(&["get", "gadgets", "-n", &ns, "-l", sel, "-o", "name"])?;
            ensure(out.lines().count() == 2, || format!("kubectl lists {out}"))
        })
        .await;

    steps
        .run("Gadget/update_kind-merge-json".into(), async {
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
                &ns,
                "-o",
                "jsonpath={.spec.color}/{.metadata.labels.json}",
            ])?;
            ensure(out.trim() == "green/1", || format!("kubectl reads {out}"))
        })
        .await;

    steps
        .run("Gadget/strategic-refused".into(), async {
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
        })
        .await;

    steps
        .run("Gadget/apply_object-conflict-force".into(), async {
            let text = |color: &str| {
                format!(
                    r#"{{"apiVersion":"{CRD_GROUP}/v1","kind":"Gadget","metadata":{{"name":"g2","namespace":"{ns}"}},"spec":{{"color":"{color}"}}}}"#
                )
            };
            let one = kuber::kuber_obj(&text("cyan")).context("object")?;
            // g2 was created with another colour by `kuber`: m1 takes it over.
            ctx.apply_object(&one, "facade-m1").force().await.context("apply m1")?;
            ctx.apply_object(&one, "facade-m1").await.context("apply m1 again")?;
            let two = kuber::kuber_obj(&text("pink")).context("object")?;
            match ctx.apply_object(&two, "facade-m2").await {
                Err(e) if e.is_conflict() => {}
                other => return Err(format!("m2 without force: {:?}", other.is_ok())),
            }
            ctx.apply_object(&two, "facade-m2").force().await.context("force")?;
            let read = ctx.get_kind("Gadget", "g2").await.context("read back")?;
            ensure(read.field("spec").is_some_and(|s| s.as_str().contains("pink")), || {
                "apply lost".into()
            })
        })
        .await;

    steps
        .run("Gadget/status-subresource".into(), async {
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
        })
        .await;

    steps
        .run("Gadget/scale-subresource".into(), async {
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
                &ns,
                "-o",
                "jsonpath={.spec.replicas}",
            ])?;
            ensure(out.trim() == "4", || {
                format!("kubectl reads replicas {out}")
            })
        })
        .await;

    steps
        .run("Gadget/delete_kind".into(), async {
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
        })
        .await;

    let _ = ctx
        .delete::<CustomResourceDefinition>(&format!("gadgets.{CRD_GROUP}"))
        .await;
    steps.outcome()
}

// ---------------------------------------------------------------------------------------------
// Discovery

async fn discovery(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-disc").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let mut steps = Steps::new();

    steps
        .run("discovery/equals-kubectl-api-versions".into(), async {
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
        })
        .await;

    let hpa = r#"{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":2}}"#;
    steps
        .run("discovery/set_api_versions-override".into(), async {
            ctx.put_text(hpa).await.context("put hpa")?;
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
        })
        .await;

    steps
        .run("discovery/unserved-version-is-not-served".into(), async {
            let mut odd = ctx.clone();
            odd.set_api_versions([("autoscaling", "v9")]);
            match odd.get_kind("HorizontalPodAutoscaler", "h").await {
                Err(Error::NotServed { served, .. })
                    if served.iter().any(|v| v == "autoscaling/v2") => {}
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
        })
        .await;

    steps
        .run("discovery/per-call-api_version".into(), async {
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
        })
        .await;

    steps
        .run("discovery/event-core-vs-events.k8s.io".into(), async {
            let text = format!(
                r#"{{"apiVersion":"v1","kind":"Event","metadata":{{"name":"e"}},"involvedObject":{{"kind":"Pod","name":"p","namespace":"{ns}"}},"reason":"R","message":"m","type":"Normal"}}"#
            );
            ctx.put_text(&text).await.context("put event")?;
            let core = ctx.get_kind("Event", "e").await.context("Event")?;
            ensure(core.api_version() == "v1", || format!("Event is {}", core.api_version()))?;
            for name in ["events.k8s.io/Event", "Event.events.k8s.io"] {
                let ev = ctx.get_kind(name, "e").await.context(name)?;
                ensure(ev.api_version() == "events.k8s.io/v1", || format!("{name} is {}", ev.api_version()))?;
            }
            let list = ctx.list_kind("events.k8s.io/Event").await.context("list")?;
            ensure(list.api_version.as_deref() == Some("events.k8s.io/v1"), || format!("{:?}", list.api_version))
        })
        .await;

    steps
        .run("discovery/short-names-and-groups".into(), async {
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
        })
        .await;

    Steps::covered("HorizontalPodAutoscaler", "autoscaling");
    steps.outcome()
}

/// `ctx.discovery()`'s groups and versions are what `kubectl api-versions` lists.
async fn same_as_kubectl(e2e: &E2e) -> Outcome {
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

// ---------------------------------------------------------------------------------------------
// Paging

async fn paging(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-pages").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
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
        .run("paging/typed-pages".into(), async {
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
        })
        .await;
    steps
        .run("paging/list_kind-pages-all-namespaces".into(), async {
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
        })
        .await;
    steps.outcome()
}

// ---------------------------------------------------------------------------------------------
// Errors

async fn errors(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("fc-errors").await?;
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let mut steps = Steps::new();

    steps
        .run("errors/is_not_found".into(), async {
            match ctx.get::<ConfigMap>("missing").await {
                Err(e) if e.is_not_found() && e.status().is_some() => {}
                other => return Err(format!("typed: {other:?}")),
            }
            match ctx.get_kind("cm", "missing").await {
                Err(e) if e.is_not_found() => Ok(()),
                other => Err(format!("by kind: {other:?}")),
            }
        })
        .await;
    steps
        .run("errors/is_invalid".into(), async {
            let bad = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#;
            match ctx.put_text(bad).await {
                Err(e) if e.is_invalid() && e.reason() == Some("Invalid") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    steps
        .run("errors/unknown-kind-suggests".into(), async {
            match ctx.get_kind("Deploymnet", "x").await {
                Err(Error::UnknownKind { close, .. })
                    if close.iter().any(|c| c == "Deployment") =>
                {
                    Ok(())
                }
                other => Err(format!("{other:?}")),
            }
        })
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
        .run("errors/empty-name-refused-without-request".into(), async {
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
        })
        .await;
    steps.outcome()
}

// ---------------------------------------------------------------------------------------------
// Logs and eviction of a pod no kubelet runs

async fn logs_and_eviction(e2e: &E2e) -> Outcome {
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
