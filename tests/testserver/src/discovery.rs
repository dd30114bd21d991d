//! Discovery documents built from the kind registry.

use kuber_api::registry::version_rank;
use kuber_api::{KINDS, KindInfo};
use serde_json::{Value, json};

/// The short names kubectl knows kinds by (the server's data, not in the OpenAPI spec).
const SHORT_NAMES: &[(&str, &str, &[&str])] = &[
    ("", "configmaps", &["cm"]),
    ("", "endpoints", &["ep"]),
    ("", "events", &["ev"]),
    ("", "limitranges", &["limits"]),
    ("", "namespaces", &["ns"]),
    ("", "nodes", &["no"]),
    ("", "persistentvolumeclaims", &["pvc"]),
    ("", "persistentvolumes", &["pv"]),
    ("", "pods", &["po"]),
    ("", "replicationcontrollers", &["rc"]),
    ("", "resourcequotas", &["quota"]),
    ("", "serviceaccounts", &["sa"]),
    ("", "services", &["svc"]),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
    ),
    ("apps", "daemonsets", &["ds"]),
    ("apps", "deployments", &["deploy"]),
    ("apps", "replicasets", &["rs"]),
    ("apps", "statefulsets", &["sts"]),
    ("autoscaling", "horizontalpodautoscalers", &["hpa"]),
    ("batch", "cronjobs", &["cj"]),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        &["csr"],
    ),
    ("events.k8s.io", "events", &["ev"]),
    ("networking.k8s.io", "ingresses", &["ing"]),
    ("networking.k8s.io", "networkpolicies", &["netpol"]),
    ("policy", "poddisruptionbudgets", &["pdb"]),
    ("scheduling.k8s.io", "priorityclasses", &["pc"]),
    ("storage.k8s.io", "storageclasses", &["sc"]),
];

/// The kinds the store serves: everything with a list (metrics are read-only and served by an
/// aggregated server, so they are left out).
pub fn served(kind: &KindInfo) -> bool {
    kind.group != "metrics.k8s.io" && kind.supports("get")
}

fn api_verb(action: &str, method: &str) -> Option<&'static str> {
    Some(match action {
        "post" => "create",
        "put" => "update",
        "get" => "get",
        "list" => "list",
        "watch" => "watch",
        "patch" => "patch",
        "delete" => "delete",
        "deletecollection" => "deletecollection",
        "connect" if method == "POST" => "create",
        "connect" if method == "GET" => "get",
        _ => return None,
    })
}

fn verbs(kind: &KindInfo, subresource: &str) -> Vec<&'static str> {
    let mut verbs: Vec<&'static str> = kind
        .operations()
        .filter(|o| o.subresource == subresource)
        .filter_map(|o| api_verb(o.action, o.method))
        .collect();
    verbs.sort_unstable();
    verbs.dedup();
    verbs
}

fn kinds_of(group: &str, version: &str) -> impl Iterator<Item = &'static KindInfo> {
    let (group, version) = (group.to_owned(), version.to_owned());
    KINDS
        .iter()
        .filter(move |k| k.group == group && k.version == version && served(k))
}

/// `APIResourceList` of one group-version; `None` if nothing is served there.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for kind in kinds_of(group, version) {
        let mut r = json!({
            "name": kind.plural,
            "singularName": kind.kind.to_ascii_lowercase(),
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": verbs(kind, ""),
        });
        if let Some((_, _, short)) = SHORT_NAMES
            .iter()
            .find(|(g, p, _)| *g == kind.group && *p == kind.plural)
        {
            r["shortNames"] = json!(short);
        }
        resources.push(r);
        for sub in kind.subresources {
            let mut s = json!({
                "name": format!("{}/{}", kind.plural, sub.name),
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": sub.kind,
                "verbs": verbs(kind, sub.name),
            });
            if !sub.group.is_empty() && sub.group != kind.group {
                s["group"] = json!(sub.group);
                s["version"] = json!(sub.version);
            }
            resources.push(s);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// `/apis`: every named group, versions most preferred first.
pub fn group_list() -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for kind in KINDS.iter().filter(|k| !k.group.is_empty() && served(k)) {
        match groups.iter_mut().find(|(g, _)| *g == kind.group) {
            Some((_, versions)) => {
                if !versions.contains(&kind.version) {
                    versions.push(kind.version);
                }
            }
            None => groups.push((kind.group, vec![kind.version])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, mut versions)| {
            versions.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
            let entries: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({
                "name": group,
                "versions": entries,
                "preferredVersion": entries[0],
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn group(name: &str) -> Option<Value> {
    group_list()["groups"]
        .as_array()?
        .iter()
        .find(|g| g["name"] == name)
        .map(|g| {
            let mut g = g.clone();
            g["kind"] = json!("APIGroup");
            g["apiVersion"] = json!("v1");
            g
        })
}

/// `/version`: what a 1.36 server reports.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "36",
        "emulationMajor": "1",
        "emulationMinor": "36",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "35",
        "gitVersion": "v1.36.3-kuber-testserver",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "none",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    })
}
