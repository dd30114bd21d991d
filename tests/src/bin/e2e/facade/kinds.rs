//! The table of kinds: one row each (a minimal valid object and what the kind has), each run
//! through the verb script of [`super::script`].

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
use serde_json::{Value, json};

use super::objects::{Kind, namespaced};
use super::script::script;
use crate::support::{CaseFuture, Context, E2e, Outcome, ensure};

pub(super) type Script = for<'a> fn(&'a E2e, &'a Row, &'a str) -> CaseFuture<'a>;

/// One kind: its name for the by-kind-name verbs, another name that resolves to it (plural or
/// short name), a minimal valid object (members besides apiVersion/kind/metadata; `$NS` is the
/// object's namespace) and what the kind has.
pub(super) struct Row {
    pub(super) kind_name: &'static str,
    pub(super) alias: &'static str,
    pub(super) body: &'static str,
    /// Reads `status`; with a merge patch of it, a JSON pointer and the value expected there.
    pub(super) status: Status,
    pub(super) scale: bool,
    pub(super) script: Script,
}

pub(super) enum Status {
    None,
    Read,
    Patch(&'static str, &'static str, &'static str),
}

pub(super) fn row<K: Kind>(
    kind_name: &'static str,
    alias: &'static str,
    body: &'static str,
) -> Row {
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

pub(super) const CONTAINERS: &str = r#"[{"name":"c","image":"registry.k8s.io/pause:3.10"}]"#;

pub(super) fn rows() -> Vec<Row> {
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

pub(super) async fn kinds(e2e: &E2e) -> Outcome {
    let other_ns = e2e.namespace("fc-other").await?;
    let mut failed = Vec::new();
    for row in rows() {
        if let Err(e) = (row.script)(e2e, &row, &other_ns).await {
            failed.push(e);
        }
    }
    ensure(failed.is_empty(), || failed.join("\n"))
}

/// `row`'s object named `name` in `ns` (ignored for cluster-scoped kinds), with `labels`.
pub(super) fn object<K: Kind>(
    row: &Row,
    name: &str,
    ns: &str,
    labels: &[(&str, &str)],
) -> Result<K, String> {
    serde_json::from_value(object_value::<K>(row, name, ns, labels)?)
        .context(format!("{} object from the table", row.kind_name))
}

pub(super) fn object_value<K: Kind>(
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
pub(super) fn yaml(value: &Value) -> String {
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
