//! What the real server fills in on writes, as data: JSON fragments per kind and path, set where
//! the object has nothing. `[*]` walks every item of a list. A few values are computed from the
//! object (`$`-names, see `computed`), not per kind but per rule.
//!
//! Two phases as on the real server: `scheme` defaults come with decoding, before managedFields
//! are recorded (so the writer owns them); `created` ones come later on create (allocation,
//! admission, the strategy's status), owned by nobody.

use base64::Engine as _;
use kuber_api::KindInfo;
use serde_json::{Value, json};

/// Where each kind keeps its pod spec.
const POD_SPECS: &[(&str, &str, &str)] = &[
    ("", "Pod", "spec"),
    ("", "PodTemplate", "template.spec"),
    ("", "ReplicationController", "spec.template.spec"),
    ("apps", "Deployment", "spec.template.spec"),
    ("apps", "ReplicaSet", "spec.template.spec"),
    ("apps", "StatefulSet", "spec.template.spec"),
    ("apps", "DaemonSet", "spec.template.spec"),
    ("batch", "Job", "spec.template.spec"),
    ("batch", "CronJob", "spec.jobTemplate.spec.template.spec"),
];

/// Under every pod spec (decoding defaults).
const POD_SPEC: &[(&str, &str)] = &[
    ("dnsPolicy", r#""ClusterFirst""#),
    ("restartPolicy", r#""Always""#),
    ("schedulerName", r#""default-scheduler""#),
    ("securityContext", "{}"),
    ("terminationGracePeriodSeconds", "30"),
    ("containers[*].imagePullPolicy", r#""$pullPolicy""#),
    ("containers[*].resources", "{}"),
    (
        "containers[*].terminationMessagePath",
        r#""/dev/termination-log""#,
    ),
    ("containers[*].terminationMessagePolicy", r#""File""#),
    ("containers[*].ports[*].protocol", r#""TCP""#),
    ("initContainers[*].imagePullPolicy", r#""$pullPolicy""#),
    ("initContainers[*].resources", "{}"),
    (
        "initContainers[*].terminationMessagePath",
        r#""/dev/termination-log""#,
    ),
    ("initContainers[*].terminationMessagePolicy", r#""File""#),
    ("initContainers[*].ports[*].protocol", r#""TCP""#),
];

/// Decoding defaults per kind: `(group, kind, path, JSON)`.
const SCHEME: &[(&str, &str, &str, &str)] = &[
    ("", "Pod", "spec.enableServiceLinks", "true"),
    (
        "",
        "Namespace",
        "metadata.labels.kubernetes\\.io/metadata\\.name",
        r#""$name""#,
    ),
    ("", "Secret", "type", r#""Opaque""#),
    ("", "Service", "spec.type", r#""ClusterIP""#),
    ("", "Service", "spec.sessionAffinity", r#""None""#),
    ("", "Service", "spec.internalTrafficPolicy", r#""Cluster""#),
    ("", "Service", "spec.ports[*].protocol", r#""TCP""#),
    ("", "Service", "spec.ports[*].targetPort", r#""$port""#),
    ("apps", "Deployment", "spec.replicas", "1"),
    (
        "apps",
        "Deployment",
        "spec.strategy.type",
        r#""RollingUpdate""#,
    ),
    (
        "apps",
        "Deployment",
        "spec.strategy.rollingUpdate",
        r#""$rollingUpdate""#,
    ),
    ("apps", "Deployment", "spec.revisionHistoryLimit", "10"),
    ("apps", "Deployment", "spec.progressDeadlineSeconds", "600"),
    ("apps", "ReplicaSet", "spec.replicas", "1"),
    ("apps", "StatefulSet", "spec.replicas", "1"),
    (
        "apps",
        "StatefulSet",
        "spec.podManagementPolicy",
        r#""OrderedReady""#,
    ),
    ("apps", "StatefulSet", "spec.revisionHistoryLimit", "10"),
    (
        "apps",
        "StatefulSet",
        "spec.updateStrategy",
        r#"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"partition":0}}"#,
    ),
    (
        "apps",
        "StatefulSet",
        "spec.persistentVolumeClaimRetentionPolicy",
        r#"{"whenDeleted":"Retain","whenScaled":"Retain"}"#,
    ),
    (
        "apps",
        "DaemonSet",
        "metadata.annotations.deprecated\\.daemonset\\.template\\.generation",
        r#""1""#,
    ),
    ("apps", "DaemonSet", "spec.revisionHistoryLimit", "10"),
    (
        "apps",
        "DaemonSet",
        "spec.updateStrategy",
        r#"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":0,"maxUnavailable":1}}"#,
    ),
    ("batch", "Job", "spec.backoffLimit", "6"),
    ("batch", "Job", "spec.completionMode", r#""NonIndexed""#),
    ("batch", "Job", "spec.completions", "1"),
    ("batch", "Job", "spec.parallelism", "1"),
    ("batch", "Job", "spec.manualSelector", "false"),
    (
        "batch",
        "Job",
        "spec.podReplacementPolicy",
        r#""TerminatingOrFailed""#,
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "spec.conversion",
        r#"{"strategy":"None"}"#,
    ),
    ("batch", "CronJob", "spec.concurrencyPolicy", r#""Allow""#),
    ("batch", "CronJob", "spec.failedJobsHistoryLimit", "1"),
    ("batch", "CronJob", "spec.successfulJobsHistoryLimit", "3"),
];

/// Job labels the real server ties to the job's uid (when it picks the selector).
const JOB_LABELS: &str = r#"{"batch.kubernetes.io/controller-uid":"$uid","batch.kubernetes.io/job-name":"$name","controller-uid":"$uid","job-name":"$name"}"#;

/// Defaults on create, owned by nobody.
const CREATED: &[(&str, &str, &str, &str)] = &[
    ("", "Pod", "spec.priority", "0"),
    (
        "",
        "Pod",
        "spec.preemptionPolicy",
        r#""PreemptLowerPriority""#,
    ),
    (
        "",
        "Pod",
        "spec.tolerations",
        r#"[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]"#,
    ),
    (
        "",
        "Pod",
        "status",
        r#"{"phase":"Pending","qosClass":"$qos"}"#,
    ),
    ("", "Service", "spec.clusterIP", r#""$clusterIP""#),
    ("", "Service", "spec.clusterIPs", r#"["$clusterIP"]"#),
    ("", "Service", "spec.ipFamilies", r#""$ipFamilies""#),
    ("", "Service", "spec.ipFamilyPolicy", r#""$ipFamilyPolicy""#),
    ("", "Service", "status", r#"{"loadBalancer":{}}"#),
    ("", "Event", "eventTime", "null"),
    ("", "Event", "firstTimestamp", "null"),
    ("", "Event", "lastTimestamp", "null"),
    ("", "Event", "reportingComponent", r#""""#),
    ("", "Event", "reportingInstance", r#""""#),
    ("apps", "Deployment", "spec.template.metadata", "{}"),
    ("apps", "Deployment", "status", "{}"),
    ("apps", "ReplicaSet", "spec.template.metadata", "{}"),
    ("apps", "ReplicaSet", "status", r#"{"replicas":0}"#),
    ("apps", "StatefulSet", "spec.template.metadata", "{}"),
    (
        "apps",
        "StatefulSet",
        "status",
        r#"{"replicas":0,"availableReplicas":0}"#,
    ),
    ("apps", "DaemonSet", "spec.template.metadata", "{}"),
    (
        "apps",
        "DaemonSet",
        "status",
        r#"{"currentNumberScheduled":0,"desiredNumberScheduled":0,"numberMisscheduled":0,"numberReady":0}"#,
    ),
    ("batch", "Job", "metadata.labels", JOB_LABELS),
    (
        "batch",
        "Job",
        "spec.selector",
        r#"{"matchLabels":{"batch.kubernetes.io/controller-uid":"$uid"}}"#,
    ),
    ("batch", "Job", "spec.template.metadata.labels", JOB_LABELS),
    ("batch", "Job", "status", "{}"),
    ("batch", "CronJob", "spec.jobTemplate.metadata", "{}"),
    (
        "batch",
        "CronJob",
        "spec.jobTemplate.spec.template.metadata",
        "{}",
    ),
    ("batch", "CronJob", "status", "{}"),
];

/// Path steps: a field, or every item of a list. `\.` is a dot inside a field name.
fn steps(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                cur.push('.');
                chars.next();
            }
            '.' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .flat_map(|s| match s.strip_suffix("[*]") {
            Some(field) => vec![field.to_owned(), "[*]".to_owned()],
            None => vec![s],
        })
        .collect()
}

/// What the whole object says, for computed values.
struct Context<'a> {
    object: &'a Value,
}

impl Context<'_> {
    fn meta(&self, field: &str) -> Value {
        self.object
            .pointer(&format!("/metadata/{field}"))
            .cloned()
            .unwrap_or(json!(""))
    }

    /// A `$`-value where `parent` is the object it goes into; `None`: leave it unset.
    fn computed(&self, name: &str, parent: &serde_json::Map<String, Value>) -> Option<Value> {
        let spec = self.object.get("spec");
        let headless = spec
            .and_then(|s| s.get("clusterIP"))
            .and_then(Value::as_str)
            == Some("None");
        let external =
            spec.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("ExternalName");
        let selector = spec
            .and_then(|s| s.get("selector"))
            .is_some_and(|s| s.as_object().is_some_and(|m| !m.is_empty()));
        Some(match name {
            "$uid" => self.meta("uid"),
            "$name" => self.meta("name"),
            "$port" => parent.get("port")?.clone(),
            "$pullPolicy" => json!(pull_policy(parent.get("image")?.as_str()?)),
            "$qos" => json!(qos_class(self.object)),
            // Only a rolling strategy gets its parameters.
            "$rollingUpdate" => match self
                .object
                .pointer("/spec/strategy/type")
                .and_then(Value::as_str)
            {
                None | Some("RollingUpdate") => json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
                Some(_) => return None,
            },
            "$clusterIP" if external => return None,
            "$clusterIP" => match spec
                .and_then(|s| s.get("clusterIP"))
                .and_then(Value::as_str)
            {
                Some(ip) if !ip.is_empty() => json!(ip),
                _ => json!(allocate_ip(self.object)),
            },
            // Headless without a selector: both families, as the real (single-stack) server.
            "$ipFamilies" if external => return None,
            "$ipFamilies" if headless && !selector => json!(["IPv4", "IPv6"]),
            "$ipFamilies" => json!(["IPv4"]),
            "$ipFamilyPolicy" if external => return None,
            "$ipFamilyPolicy" if headless && !selector => json!("RequireDualStack"),
            "$ipFamilyPolicy" => json!("SingleStack"),
            _ => return None,
        })
    }

    /// `template` with its `$`-values filled in.
    fn fill(&self, template: &Value, parent: &serde_json::Map<String, Value>) -> Option<Value> {
        match template {
            Value::String(s) if s.starts_with('$') => self.computed(s, parent),
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|v| self.fill(v, parent)).collect(),
            )),
            Value::Object(m) => Some(Value::Object(
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.fill(v, parent)?)))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }
}

/// The image's pull policy: `Always` for `:latest` or no tag, else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// BestEffort without requests or limits, Guaranteed when every container's limits for cpu
/// and memory are set and equal the requests, else Burstable.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let nonempty = |c: &Value, f: &str| {
        c.pointer(&format!("/resources/{f}"))
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    };
    if !containers
        .iter()
        .any(|c| nonempty(c, "requests") || nonempty(c, "limits"))
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let limit = c.pointer(&format!("/resources/limits/{r}"));
            let request = c.pointer(&format!("/resources/requests/{r}")).or(limit);
            limit.is_some() && limit == request
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// A cluster IP in 10.0.0.0/24 derived from the uid (the real server picks at random).
fn allocate_ip(service: &Value) -> String {
    let uid = service
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let n = uid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    format!("10.0.0.{}", 2 + n % 250)
}

/// Sets `value` at `path` under `at` wherever nothing is there.
fn fill_in(at: &mut Value, path: &[String], value: &Value, cx: &Context) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if first == "[*]" {
        if let Some(items) = at.as_array_mut() {
            for item in items {
                fill_in(item, rest, value, cx);
            }
        }
        return;
    }
    let Some(map) = at.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        match map.get_mut(first) {
            // Maps merge key by key (labels); anything else set stays.
            Some(Value::Object(existing)) => {
                if let Some(Value::Object(add)) = cx.fill(value, &serde_json::Map::new()) {
                    for (k, v) in add {
                        existing.entry(k).or_insert(v);
                    }
                }
            }
            // A Go value field decoded as zero is defaulted as a missing one: a protobuf body
            // always carries ServicePort's targetPort, 0 when unset (Go's defaulter compares
            // with intstr 0).
            Some(Value::Number(n)) if first == "targetPort" && n.as_i64() == Some(0) => {
                if let Some(v) = cx.fill(value, map) {
                    map.insert(first.clone(), v);
                }
            }
            Some(Value::Null) | None => {
                if let Some(v) = cx.fill(value, map) {
                    map.insert(first.clone(), v);
                }
            }
            Some(_) => {}
        }
        return;
    }
    if rest.first().map(String::as_str) != Some("[*]") && !map.contains_key(first) {
        // Only the last step creates; a missing parent object is made for plain paths.
        map.insert(first.clone(), json!({}));
    }
    if let Some(next) = map.get_mut(first) {
        fill_in(next, rest, value, cx);
    }
}

fn apply(kind: &KindInfo, object: &mut Value, rules: &[(&str, &str, &str, &str)], pods: bool) {
    let snapshot = object.clone();
    let cx = Context { object: &snapshot };
    let mut run = |path: String, value: &str| {
        if let Ok(v) = serde_json::from_str::<Value>(value) {
            fill_in(object, &steps(&path), &v, &cx);
        }
    };
    if pods
        && let Some((_, _, prefix)) = POD_SPECS
            .iter()
            .find(|(g, k, _)| *g == kind.group && *k == kind.kind)
    {
        for (path, value) in POD_SPEC {
            run(format!("{prefix}.{path}"), value);
        }
    }
    for (group, k, path, value) in rules {
        if *group == kind.group && *k == kind.kind {
            run((*path).to_owned(), value);
        }
    }
}

/// Decoding defaults (and Secret `stringData` folded into `data`), before managedFields.
pub fn scheme(kind: &KindInfo, object: &mut Value) {
    if !object.is_object() {
        return;
    }
    // Empty maps are not kept (the real server's types omit them).
    if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["labels", "annotations"] {
            if m.get(field)
                .and_then(Value::as_object)
                .is_some_and(|l| l.is_empty())
            {
                m.remove(field);
            }
        }
    }
    if kind.group.is_empty() && kind.kind == "Secret" {
        fold_string_data(object);
    }
    apply(kind, object, SCHEME, true);
}

/// Defaults on create (allocation, admission, status), after the uid is set.
pub fn created(kind: &KindInfo, object: &mut Value) {
    // A job whose selector the user picks gets no generated labels.
    if kind.group == "batch"
        && kind.kind == "Job"
        && object.pointer("/spec/manualSelector") == Some(&json!(true))
    {
        return;
    }
    apply(kind, object, CREATED, false);
}

fn fold_string_data(secret: &mut Value) {
    let Some(Value::Object(strings)) = secret.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    if !secret.get("data").is_some_and(Value::is_object) {
        secret["data"] = json!({});
    }
    if let Some(data) = secret.get_mut("data").and_then(Value::as_object_mut) {
        for (k, v) in strings {
            if let Some(s) = v.as_str() {
                data.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("busybox"), "Always");
        assert_eq!(pull_policy("busybox:latest"), "Always");
        assert_eq!(pull_policy("registry:5000/x"), "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("x@sha256:abc"), "IfNotPresent");
    }
}
