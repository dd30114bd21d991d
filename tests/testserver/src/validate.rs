//! Object name checks on create, with the real server's causes and messages (checked against
//! kube-apiserver 1.36). Most kinds take an RFC 1123 subdomain; a few a label (their names
//! become hostnames or label values); RBAC kinds a path segment.

use kuber::names;
use kuber_api::KindInfo;
use serde_json::{Value, json};

use crate::status::{self, Failure};

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Rule {
    Subdomain,
    Label,
    PathSegment,
}

fn rule(kind: &KindInfo) -> Rule {
    match (kind.group, kind.kind) {
        ("", "Namespace" | "Service") | ("apps", "StatefulSet") => Rule::Label,
        ("rbac.authorization.k8s.io", _) => Rule::PathSegment,
        _ => Rule::Subdomain,
    }
}

/// What is wrong with `name` under `rule` (`None`: nothing). A prefix (`generateName`) may end
/// in `-`, as a random suffix follows.
fn problem(rule: Rule, name: &str, prefix: bool) -> Option<String> {
    let checked = if prefix {
        name.strip_suffix('-').unwrap_or(name)
    } else {
        name
    };
    match rule {
        Rule::PathSegment => {
            if name == "." || name == ".." {
                return Some(format!("may not be '{name}'"));
            }
            ['/', '%']
                .into_iter()
                .find(|c| name.contains(*c))
                .map(|c| format!("may not contain '{c}'"))
        }
        Rule::Subdomain => {
            if name.len() > 253 {
                Some("must be no more than 253 characters".into())
            } else if !names::is_dns1123_subdomain(checked) {
                Some(SUBDOMAIN.into())
            } else {
                None
            }
        }
        Rule::Label => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".into())
            } else if names::is_dns1123_label(checked) {
                None
            } else if names::is_dns1123_subdomain(checked) {
                Some("must not contain dots".into())
            } else {
                Some(LABEL.into())
            }
        }
    }
}

/// 422 Invalid when `name` (after `generateName` expansion) or `generate_name` is not a valid
/// name for `kind`.
pub fn name(kind: &KindInfo, name: &str, generate_name: Option<&str>) -> Result<(), Failure> {
    let rule = rule(kind);
    let mut causes = Vec::new();
    if let Some(prefix) = generate_name.filter(|p| !p.is_empty())
        && let Some(problem) = problem(rule, prefix, true)
    {
        causes.push((
            "metadata.generateName",
            "FieldValueInvalid",
            format!("Invalid value: \"{prefix}\": {problem}"),
        ));
    }
    if let Some(problem) = problem(rule, name, false) {
        causes.push((
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: \"{name}\": {problem}"),
        ));
    }
    if kind.group.is_empty() && kind.kind == "Namespace" && !names::is_label_value(name) {
        let problem = if name.len() > 63 {
            "must be no more than 63 bytes"
        } else {
            LABEL_VALUE
        };
        causes.push((
            "metadata.labels",
            "FieldValueInvalid",
            format!("Invalid value: \"{name}\": {problem}"),
        ));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(status::invalid(kind.kind, kind.group, name, &causes))
    }
}

/// Where each kind keeps its pod spec, as a path of fields.
const POD_SPECS: &[(&str, &str, &[&str])] = &[
    ("", "Pod", &["spec"]),
    ("", "PodTemplate", &["template", "spec"]),
    ("", "ReplicationController", &["spec", "template", "spec"]),
    ("apps", "Deployment", &["spec", "template", "spec"]),
    ("apps", "ReplicaSet", &["spec", "template", "spec"]),
    ("apps", "StatefulSet", &["spec", "template", "spec"]),
    ("apps", "DaemonSet", &["spec", "template", "spec"]),
    ("batch", "Job", &["spec", "template", "spec"]),
    (
        "batch",
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// Fields every container needs.
const CONTAINER_REQUIRED: &[&str] = &["name", "image"];

/// Kinds whose `spec.selector` must select their template's labels.
const SELECTING: &[(&str, &str)] = &[
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
];

/// Keys a Secret of a type must have in `data`.
const SECRET_KEYS: &[(&str, &[&str])] = &[
    ("kubernetes.io/tls", &["tls.crt", "tls.key"]),
    ("kubernetes.io/dockerconfigjson", &[".dockerconfigjson"]),
    ("kubernetes.io/dockercfg", &[".dockercfg"]),
    ("kubernetes.io/ssh-auth", &["ssh-privatekey"]),
];

/// Fields that may not change once set: `(group, kind, path)`.
const IMMUTABLE: &[(&str, &str, &[&str])] = &[("", "Secret", &["type"])];

type Cause = (String, &'static str, String);

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, f| v.get(f))
}

/// The checks of the real server's validation the suite meets, with its causes and messages.
pub fn object(kind: &KindInfo, new: &Value, old: Option<&Value>) -> Result<(), Failure> {
    let mut causes: Vec<Cause> = Vec::new();
    if let Some((_, _, path)) = POD_SPECS
        .iter()
        .find(|(g, k, _)| *g == kind.group && *k == kind.kind)
        && let Some(spec) = at(new, path)
    {
        for list in ["initContainers", "containers"] {
            for (i, c) in spec
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                for field in CONTAINER_REQUIRED {
                    if c.get(field)
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        causes.push((
                            format!("{}.{list}[{i}].{field}", path.join(".")),
                            "FieldValueRequired",
                            "Required value".into(),
                        ));
                    }
                }
            }
        }
    }
    if SELECTING.contains(&(kind.group, kind.kind)) {
        let selector = new.pointer("/spec/selector");
        if selector.is_none_or(Value::is_null) {
            causes.push((
                "spec.selector".into(),
                "FieldValueRequired",
                "Required value".into(),
            ));
        }
        let labels = new
            .pointer("/spec/template/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        let wanted = selector
            .and_then(|s| s.get("matchLabels"))
            .and_then(Value::as_object);
        let matches = selector.is_some_and(|_| {
            wanted
                .into_iter()
                .flatten()
                .all(|(k, v)| labels.get(k) == Some(v))
        });
        if !matches {
            causes.push((
                "spec.template.metadata.labels".into(),
                "FieldValueInvalid",
                format!("Invalid value: {labels}: `selector` does not match template `labels`"),
            ));
        }
    }
    if kind.group.is_empty() && kind.kind == "Secret" {
        let type_ = new.get("type").and_then(Value::as_str).unwrap_or("");
        for (t, keys) in SECRET_KEYS {
            if *t == type_ {
                for key in *keys {
                    if new.pointer("/data").and_then(|d| d.get(key)).is_none() {
                        causes.push((
                            format!("data[{key}]"),
                            "FieldValueRequired",
                            "Required value".into(),
                        ));
                    }
                }
            }
        }
    }
    if let Some(old) = old {
        for (g, k, path) in IMMUTABLE {
            if *g == kind.group && *k == kind.kind && at(old, path) != at(new, path) {
                let value = at(new, path).cloned().unwrap_or(Value::Null);
                causes.push((
                    path.join("."),
                    "FieldValueInvalid",
                    format!("Invalid value: {value}: field is immutable"),
                ));
            }
        }
    }
    if causes.is_empty() {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let causes: Vec<(&str, &str, String)> = causes
        .iter()
        .map(|(f, r, m)| (f.as_str(), *r, m.clone()))
        .collect();
    Err(status::invalid(kind.kind, kind.group, name, &causes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(group: &str, name: &str) -> &'static KindInfo {
        kuber_api::KINDS
            .iter()
            .find(|k| k.group == group && k.kind == name)
            .expect("kind in the registry")
    }

    fn message(f: Failure) -> String {
        f.body["message"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn subdomain_names_as_the_real_server_words_it() {
        let cm = kind("", "ConfigMap");
        assert!(name(cm, "a.b-c", None).is_ok());
        let f = name(cm, "Not_Valid", None).unwrap_err();
        assert_eq!(f.code, 422);
        assert_eq!(
            message(f),
            format!(
                "ConfigMap \"Not_Valid\" is invalid: metadata.name: Invalid value: \"Not_Valid\": {SUBDOMAIN}"
            )
        );
        let long = "a".repeat(254);
        assert!(
            message(name(cm, &long, None).unwrap_err())
                .ends_with("must be no more than 253 characters")
        );
        assert!(name(cm, "a..b", None).is_err());
        assert!(name(cm, "-a", None).is_err());
    }

    #[test]
    fn label_kinds_refuse_dots_with_their_own_message() {
        let ns = kind("", "Namespace");
        assert_eq!(
            message(name(ns, "a.b", None).unwrap_err()),
            "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"
        );
        let sts = kind("apps", "StatefulSet");
        assert!(message(name(sts, "a.b", None).unwrap_err()).ends_with("must not contain dots"));
        let svc = kind("", "Service");
        assert!(name(svc, "1abc", None).is_ok());
        assert!(message(name(svc, "Bad", None).unwrap_err()).contains("RFC 1123 label"));
        // A namespace's name is also a label value: two causes, in brackets.
        let f = name(ns, "-abc", None).unwrap_err();
        assert_eq!(
            f.body["details"]["causes"].as_array().map(Vec::len),
            Some(2)
        );
        assert!(message(f).starts_with("Namespace \"-abc\" is invalid: [metadata.name: "));
    }

    #[test]
    fn rbac_names_are_path_segments() {
        let role = kind("rbac.authorization.k8s.io", "Role");
        assert!(name(role, "system:controller:x", None).is_ok());
        assert!(message(name(role, "a/b", None).unwrap_err()).ends_with("may not contain '/'"));
        assert!(message(name(role, "..", None).unwrap_err()).ends_with("may not be '..'"));
        assert!(message(name(role, "a%b", None).unwrap_err()).ends_with("may not contain '%'"));
    }

    #[test]
    fn a_bad_prefix_is_named_as_well_as_the_name_made_from_it() {
        let cm = kind("", "ConfigMap");
        assert!(name(cm, "web-x7k2p", Some("web-")).is_ok());
        let f = name(cm, "Bad_s77qm", Some("Bad_")).unwrap_err();
        let fields: Vec<&str> = f.body["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["field"].as_str())
            .collect();
        assert_eq!(fields, ["metadata.generateName", "metadata.name"]);
    }
}
