//! `kuber::sel` strings on the real server: every label operator and a field selector give the
//! same, exactly expected objects through kubectl's `-l`/`--field-selector` and through a
//! kuber-api list.

use kuber::sel::{FieldSelector, Selector};
use kuber_api::{CoreV1Api, ListParams, WriteParams};
use kuber_models::api::core::v1::ConfigMap;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![case!("selectors/label-and-field-strings-select", selectors)]
}

/// The ConfigMaps and their labels. Every one carries `case=sel`, which every selector also
/// requires, so objects the control plane adds to the namespace (kube-root-ca.crt) never match.
const OBJECTS: [(&str, &[(&str, &str)]); 4] = [
    ("web-prod", &[("app", "web"), ("env", "prod"), ("gen", "1")]),
    ("web-dev", &[("app", "web"), ("env", "dev"), ("gen", "5")]),
    (
        "db-qa",
        &[("app", "db"), ("env", "qa"), ("example.com/team", "core")],
    ),
    ("bare", &[]),
];

async fn selectors(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("selectors").await?;
    let api = CoreV1Api::new(e2e.admin.clone());
    for (name, labels) in OBJECTS {
        let mut map: std::collections::BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("case".into(), "sel".into());
        let cm = ConfigMap {
            metadata: Some(ObjectMeta {
                name: Some(name.into()),
                labels: Some(map),
                ..Default::default()
            }),
            ..Default::default()
        };
        api.create_namespaced_config_map(&ns, &cm, &WriteParams::default())
            .await
            .context(format!("create configmap {name}"))?;
    }

    let base = || Selector::new().eq("case", "sel");
    let label_cases: Vec<(Selector, &[&str])> = vec![
        (base().eq("app", "web"), &["web-dev", "web-prod"]),
        (base().eq2("app", "db"), &["db-qa"]),
        (base().ne("app", "web"), &["bare", "db-qa"]),
        (base().in_("env", ["qa", "prod"]), &["db-qa", "web-prod"]),
        (base().not_in("env", ["prod", "dev"]), &["bare", "db-qa"]),
        (base().exists("app"), &["db-qa", "web-dev", "web-prod"]),
        (base().not_exists("app"), &["bare"]),
        (base().exists("example.com/team"), &["db-qa"]),
        (base().eq("example.com/team", "core"), &["db-qa"]),
        (base().gt("gen", 2), &["web-dev"]),
        (base().lt("gen", 2), &["web-prod"]),
        (
            base().exists("app").ne("env", "dev").not_exists("gen"),
            &["db-qa"],
        ),
        (
            base().in_("app", ["web"]).not_in("env", ["dev"]),
            &["web-prod"],
        ),
        (base().eq("app", "nothing"), &[]),
    ];
    let mut checked = 0;
    for (selector, expected) in &label_cases {
        let s = selector.build().context("build")?;
        check(e2e, &api, &ns, &s, None, expected).await?;
        checked += 1;
    }

    // Kuber.jl's forms: its `in` string and its ", " join.
    let jl = kuber::sel::join([
        kuber::sel("case", "in".parse().context("op")?, ["sel"]).context("sel")?,
        kuber::sel("env", "notin".parse().context("op")?, ["qa", "dev"]).context("sel")?,
        kuber::sel("app", "exists".parse().context("op")?, [""; 0]).context("sel")?,
    ]);
    ensure(jl == "case in (sel), env notin (qa,dev), app", || {
        format!("Kuber.jl form: {jl}")
    })?;
    check(e2e, &api, &ns, &jl, None, &["web-prod"]).await?;
    checked += 1;

    // Field selectors, a value needing escapes included (it matches nothing, but must parse).
    let field_cases: Vec<(FieldSelector, &[&str])> = vec![
        (
            FieldSelector::new().eq("metadata.name", "web-dev"),
            &["web-dev"],
        ),
        (
            FieldSelector::new().eq2("metadata.name", "db-qa"),
            &["db-qa"],
        ),
        (
            FieldSelector::new()
                .ne("metadata.name", "bare")
                .ne("metadata.name", "db-qa"),
            &["web-dev", "web-prod"],
        ),
        (FieldSelector::new().eq("metadata.name", r"a,b=c\d"), &[]),
    ];
    for (fields, expected) in &field_cases {
        let f = fields.build().context("build")?;
        check(e2e, &api, &ns, "case=sel", Some(&f), expected).await?;
        checked += 1;
    }
    e2e.report(format!(
        "selectors: {checked}/{checked} selector strings select the same objects through kubectl and kuber-api"
    ));
    Ok(())
}

/// kubectl and a kuber-api list both answer exactly `expected` for `labels` (and `fields`).
async fn check(
    e2e: &E2e,
    api: &CoreV1Api,
    ns: &str,
    labels: &str,
    fields: Option<&str>,
    expected: &[&str],
) -> Outcome {
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    let what = format!("-l {labels:?} --field-selector {fields:?}");

    let mut args = vec!["get", "configmaps", "-n", ns, "-l", labels, "-o", "name"];
    if let Some(f) = fields {
        args.extend(["--field-selector", f]);
    }
    let out = e2e.cluster.kubectl_ok(&args).context(&what)?;
    let mut by_kubectl: Vec<String> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("configmap/").to_owned())
        .collect();
    by_kubectl.sort();
    ensure(by_kubectl == want, || {
        format!("kubectl {what}: got {by_kubectl:?}, want {want:?}")
    })?;

    let params = ListParams {
        label_selector: Some(labels.to_owned()),
        field_selector: fields.map(str::to_owned),
        ..Default::default()
    };
    let list = api
        .list_namespaced_config_map(ns, &params)
        .await
        .context(format!("kuber-api list {what}"))?;
    let mut by_api: Vec<String> = list
        .items
        .iter()
        .filter_map(|cm| cm.metadata.as_ref()?.name.clone())
        .collect();
    by_api.sort();
    ensure(by_api == want, || {
        format!("kuber-api {what}: got {by_api:?}, want {want:?}")
    })
}
