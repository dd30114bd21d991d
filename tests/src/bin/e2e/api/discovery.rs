//! Discovery as the server serves it: `/api`, `/apis`, every group and group-version document,
//! `/version`, and the aggregated discovery document, each decoded into the typed models and
//! re-encoded exactly.

use std::collections::BTreeSet;
use std::fmt::Debug;

use kuber_api::{
    ApisApi, AppsApi, AppsV1Api, Client, CoreApi, CoreV1Api, OPERATIONS, Operation, Request,
    VersionApi,
};
use kuber_models::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResourceList, APIVersions,
};
use kuber_models::apimachinery::pkg::version::Info;
use kuber_tests::roundtrip::{roundtrip_as, roundtrip_body};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![
        case!("discovery/every-document-roundtrips", every_document),
        case!("discovery/aggregated-document", aggregated),
    ]
}

/// Fetches a discovery operation's body as text, checks it round-trips as `T`, then reads it
/// typed as the generated method does.
async fn fetch<T>(client: &Client, op: &'static Operation) -> Result<T, String>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    // The generated methods send these paths without the spec's trailing slash.
    let path = op.path.trim_end_matches('/');
    let text = client
        .call_text(Request::at(op, path, &[]))
        .await
        .context(format!("GET {path} ({})", op.id))?;
    roundtrip_as::<T>(&text).map_err(|f| format!("GET {path}: {f}"))?;
    // And the typed read the generated method does.
    client
        .call(Request::at(op, path, &[]))
        .await
        .context(format!("GET {path} ({}) typed", op.id))
}

fn operation(id: &str) -> Result<&'static Operation, String> {
    OPERATIONS
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| format!("no operation {id}"))
}

async fn every_document(e2e: &E2e) -> Outcome {
    let client = &e2e.admin;
    let mut exact = 0usize;
    let (apis, version) = generated_methods(client).await?;

    // Raw bodies through the same operations: each decodes and re-encodes exactly.
    let _: APIVersions = fetch(client, operation("getCoreAPIVersions")?).await?;
    let _: APIGroupList = fetch(client, operation("getAPIVersions")?).await?;
    let info: Info = fetch(client, operation("getCodeVersion")?).await?;
    ensure(info.git_version == version.git_version, || {
        "two reads of /version disagree".into()
    })?;
    exact += 3;

    let (documents, reached, groups, problems) = group_versions(client, &apis).await;
    exact += documents;
    e2e.report(format!(
        "discovery: {reached} group-versions, {groups} groups, {exact} documents exact"
    ));
    ensure(problems.is_empty(), || problems.join("\n  "))
}

/// The generated discovery methods, and the facts a client relies on in what they answer:
/// `/apis` and `/version` as they read them.
async fn generated_methods(client: &Client) -> Result<(APIGroupList, Info), String> {
    // The generated methods themselves.
    let api = CoreApi::new(client.clone())
        .get_api_versions()
        .await
        .context("CoreApi::get_api_versions")?;
    ensure(api.versions == ["v1"], || {
        format!("/api versions {:?}", api.versions)
    })?;
    let apis = ApisApi::new(client.clone())
        .get_api_versions()
        .await
        .context("ApisApi::get_api_versions")?;
    let core_v1 = CoreV1Api::new(client.clone())
        .get_api_resources()
        .await
        .context("CoreV1Api::get_api_resources")?;
    let apps = AppsApi::new(client.clone())
        .get_api_group()
        .await
        .context("AppsApi::get_api_group")?;
    let apps_v1 = AppsV1Api::new(client.clone())
        .get_api_resources()
        .await
        .context("AppsV1Api::get_api_resources")?;
    let version = VersionApi::new(client.clone())
        .get_code()
        .await
        .context("VersionApi::get_code")?;

    // Facts a client relies on.
    let pods = core_v1
        .resources
        .iter()
        .find(|r| r.name == "pods")
        .ok_or("core v1 has no pods resource")?;
    ensure(
        pods.kind == "Pod" && pods.namespaced && pods.verbs.iter().any(|v| v == "watch"),
        || format!("core v1 pods: {pods:?}"),
    )?;
    ensure(
        core_v1.resources.iter().any(|r| r.name == "pods/log"),
        || "core v1 has no pods/log subresource".into(),
    )?;
    ensure(
        apps.preferred_version
            .as_ref()
            .map(|v| v.group_version.as_str())
            == Some("apps/v1"),
        || format!("apps preferred version {:?}", apps.preferred_version),
    )?;
    let apps_in_list = apis
        .groups
        .iter()
        .find(|g| g.name == "apps")
        .ok_or("/apis has no apps group")?;
    ensure(
        apps_in_list.versions == apps.versions
            && apps_in_list.preferred_version == apps.preferred_version,
        || format!("/apis says apps is {apps_in_list:?}, /apis/apps says {apps:?}"),
    )?;
    ensure(
        apps_v1.group_version == "apps/v1"
            && apps_v1
                .resources
                .iter()
                .any(|r| r.name == "deployments/scale"),
        || format!("apps/v1 resources: {}", apps_v1.group_version),
    )?;
    ensure(
        version.git_version.starts_with("v1.36.") && version.minor == "36",
        || format!("/version: {version:?}"),
    )?;
    Ok((apis, version))
}

/// Every group and group-version the server lists has its generated operation, and back:
/// the documents read exactly, how many group-versions and groups, and what is wrong.
async fn group_versions(
    client: &Client,
    apis: &APIGroupList,
) -> (usize, usize, usize, Vec<String>) {
    let mut exact = 0usize;
    // Groups outside the spec (CRDs of other cases) are left out.
    let spec_groups: BTreeSet<&str> = kuber_api::KINDS.iter().map(|k| k.group).collect();
    let mut served: BTreeSet<String> = BTreeSet::from(["v1".to_owned()]);
    let mut groups: BTreeSet<String> = BTreeSet::new();
    for group in apis
        .groups
        .iter()
        .filter(|g| spec_groups.contains(g.name.as_str()))
    {
        groups.insert(group.name.clone());
        served.extend(group.versions.iter().map(|v| v.group_version.clone()));
    }
    let mut problems = Vec::new();
    let mut reached = BTreeSet::new();
    for op in OPERATIONS.iter() {
        if op.id.ends_with("APIResources") {
            let list: APIResourceList = match fetch(client, op).await {
                Ok(list) => list,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            exact += 1;
            let expected = op
                .path
                .trim_start_matches("/api/")
                .trim_start_matches("/apis/");
            if list.group_version != expected.trim_end_matches('/') {
                problems.push(format!(
                    "{}: groupVersion {} for path {}",
                    op.id, list.group_version, op.path
                ));
            }
            if list.resources.is_empty() {
                problems.push(format!("{}: no resources", op.id));
            }
            reached.insert(list.group_version);
        } else if op.id.ends_with("APIGroup") {
            match fetch::<APIGroup>(client, op).await {
                Ok(group) => {
                    exact += 1;
                    if !groups.contains(&group.name) {
                        problems.push(format!("{}: group {} not in /apis", op.id, group.name));
                    }
                    if group.preferred_version.is_none() || group.versions.is_empty() {
                        problems.push(format!("{}: no versions", op.id));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
    }
    let unreached: Vec<&String> = served.difference(&reached).collect();
    if !unreached.is_empty() {
        problems.push(format!(
            "served group-versions without a generated get…APIResources operation: {unreached:?}"
        ));
    }
    let unserved: Vec<&String> = reached.difference(&served).collect();
    if !unserved.is_empty() {
        problems.push(format!("answered but not listed in /apis: {unserved:?}"));
    }
    (exact, reached.len(), groups.len(), problems)
}

/// The Accept header that asks for the aggregated discovery document.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The aggregated discovery document, asked for with its media type (`Request::accept`).
/// kuber-models has no `apidiscovery.k8s.io` types (the OpenAPI spec does not define them), so
/// it is checked as a dynamic body: it must still round-trip exactly and carry what the typed
/// documents say.
async fn aggregated(e2e: &E2e) -> Outcome {
    let mut documents = Vec::new();
    for (id, path) in [("getCoreAPIVersions", "/api"), ("getAPIVersions", "/apis")] {
        let op = OPERATIONS
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| format!("no operation {id}"))?;
        let text = e2e
            .admin
            .call_text(Request::at(op, path, &[]).accept(AGGREGATED))
            .await
            .context(format!("GET {path} as APIGroupDiscoveryList"))?;
        let checked = roundtrip_body(&text).map_err(|f| format!("aggregated {path}: {f}"))?;
        let type_name = checked.bodies.first().map_or("", |b| b.type_name);
        let value: Value = serde_json::from_str(&text).context(format!("{path}: parse"))?;
        ensure(value["kind"] == "APIGroupDiscoveryList", || {
            format!("{path}: kind {}", value["kind"])
        })?;
        documents.push((path, value, type_name));
    }

    let find = |doc: &Value, group: &str| -> Option<Value> {
        doc["items"].as_array()?.iter().find_map(|g| {
            let name = g["metadata"]["name"].as_str().unwrap_or("");
            (name == group).then(|| g.clone())
        })
    };
    let core = find(&documents[0].1, "").ok_or("aggregated /api has no core group")?;
    let pods = core["versions"][0]["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["resource"] == "pods"))
        .ok_or("aggregated core v1 has no pods")?;
    let verbs = pods["verbs"].as_array().cloned().unwrap_or_default();
    ensure(
        pods["scope"] == "Namespaced" && verbs.iter().any(|v| v == "watch"),
        || format!("aggregated pods: {pods}"),
    )?;
    let apps = find(&documents[1].1, "apps").ok_or("aggregated /apis has no apps")?;
    ensure(apps["versions"][0]["version"] == "v1", || {
        format!(
            "aggregated apps: preferred (first) version {}",
            apps["versions"][0]["version"]
        )
    })?;

    // The aggregated document lists the same group-versions as the legacy one.
    let legacy = ApisApi::new(e2e.admin.clone())
        .get_api_versions()
        .await
        .context("GET /apis")?;
    let spec_groups: BTreeSet<&str> = kuber_api::KINDS.iter().map(|k| k.group).collect();
    let legacy: BTreeSet<String> = legacy
        .groups
        .iter()
        .filter(|g| spec_groups.contains(g.name.as_str()))
        .flat_map(|g| g.versions.iter().map(|v| v.group_version.clone()))
        .collect();
    let aggregated: BTreeSet<String> = documents[1].1["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| spec_groups.contains(g["metadata"]["name"].as_str().unwrap_or("")))
        .flat_map(|g| {
            let name = g["metadata"]["name"].as_str().unwrap_or("").to_owned();
            g["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |v| format!("{name}/{}", v["version"].as_str().unwrap_or("")))
        })
        .collect();
    ensure(aggregated == legacy, || {
        format!(
            "aggregated and legacy discovery differ: only aggregated {:?}, only legacy {:?}",
            aggregated.difference(&legacy).collect::<Vec<_>>(),
            legacy.difference(&aggregated).collect::<Vec<_>>()
        )
    })?;
    e2e.report(format!(
        "discovery: aggregated /api and /apis round-trip exactly only as {} (no typed \
         apidiscovery.k8s.io/v2 model in the spec)",
        documents[1].2.rsplit("::").next().unwrap_or("?")
    ));
    Ok(())
}
