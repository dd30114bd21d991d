//! Discovery documents built from the kind registry.

use crate::crd::Crds;
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

/// The categories kinds belong to (`kubectl get all`): the server's data, not in the spec.
const CATEGORIES: &[(&str, &str, &[&str])] = &[
    ("", "pods", &["all"]),
    ("", "replicationcontrollers", &["all"]),
    ("", "services", &["all"]),
    ("apps", "daemonsets", &["all"]),
    ("apps", "deployments", &["all"]),
    ("apps", "replicasets", &["all"]),
    ("apps", "statefulsets", &["all"]),
    ("autoscaling", "horizontalpodautoscalers", &["all"]),
    ("batch", "cronjobs", &["all"]),
    ("batch", "jobs", &["all"]),
];

fn lookup(
    table: &[(&str, &str, &'static [&'static str])],
    kind: &KindInfo,
) -> &'static [&'static str] {
    table
        .iter()
        .find(|(g, p, _)| *g == kind.group && *p == kind.plural)
        .map_or(&[], |(_, _, names)| names)
}

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
        let short = lookup(SHORT_NAMES, kind);
        if !short.is_empty() {
            r["shortNames"] = json!(short);
        }
        let categories = lookup(CATEGORIES, kind);
        if !categories.is_empty() {
            r["categories"] = json!(categories);
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

/// `/apis`: every named group, versions most preferred first; the groups of CRDs after the
/// built-in ones, as the real server lists them.
pub fn group_list(crds: &Crds) -> Value {
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
    let custom = crds.groups();
    for (group, versions) in &custom {
        if !groups.iter().any(|(g, _)| g == group) {
            groups.push((group, versions.iter().map(String::as_str).collect()));
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
pub fn group(name: &str, crds: &Crds) -> Option<Value> {
    group_list(crds)["groups"]
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

/// The media type of aggregated discovery, which client-go asks for first and recognises only
/// by these parameters on the response's Content-Type.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an Accept header asks for aggregated discovery (`apidiscovery.k8s.io/v2`) before
/// any plain JSON: media ranges are taken in order, as the real server negotiates.
pub fn wants_aggregated(accept: &str) -> bool {
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let base = parts.next().unwrap_or("");
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        if !matches!(base, "application/json" | "application/*" | "*/*") {
            continue;
        }
        match param("as") {
            None => return false,
            Some("APIGroupDiscoveryList")
                if param("g") == Some("apidiscovery.k8s.io") && param("v") == Some("v2") =>
            {
                return true;
            }
            Some(_) => {}
        }
    }
    false
}

fn kind_ref(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

/// One group-version of aggregated discovery.
fn aggregated_version(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = kinds_of(group, version)
        .map(|kind| {
            let mut r = json!({
                "resource": kind.plural,
                "responseKind": kind_ref(kind.group, kind.version, kind.kind),
                "scope": if kind.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": kind.kind.to_ascii_lowercase(),
                "verbs": verbs(kind, ""),
            });
            let short = lookup(SHORT_NAMES, kind);
            if !short.is_empty() {
                r["shortNames"] = json!(short);
            }
            let categories = lookup(CATEGORIES, kind);
            if !categories.is_empty() {
                r["categories"] = json!(categories);
            }
            let subresources: Vec<Value> = kind
                .subresources
                .iter()
                .map(|sub| {
                    let mut s = json!({"subresource": sub.name, "verbs": verbs(kind, sub.name)});
                    if !sub.kind.is_empty() {
                        s["responseKind"] = kind_ref(sub.group, sub.version, sub.kind);
                    }
                    s
                })
                .collect();
            if !subresources.is_empty() {
                r["subresources"] = json!(subresources);
            }
            r
        })
        .collect();
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

/// `APIGroupDiscoveryList` of `/api` (`core`) or `/apis`: every group, versions most preferred
/// first, with their resources.
pub fn aggregated(core: bool, crds: &Crds) -> Value {
    let items: Vec<Value> = if core {
        vec![json!({"metadata": {"name": ""}, "versions": [aggregated_version("", "v1")]})]
    } else {
        let custom: Vec<String> = crds.groups().into_iter().map(|(g, _)| g).collect();
        group_list(crds)["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                let name = g["name"].as_str().unwrap_or("");
                let versions: Vec<Value> = g["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["version"].as_str())
                    .map(|v| {
                        if custom.iter().any(|c| c == name) {
                            crds.aggregated_version(name, v)
                        } else {
                            aggregated_version(name, v)
                        }
                    })
                    .collect();
                json!({"metadata": {"name": name}, "versions": versions})
            })
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
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
