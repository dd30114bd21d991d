//! `cargo xtask gen --kubeconfig`: a CRD installed on the cluster comes out of the cluster's own
//! OpenAPI v3 documents as a Rust type that builds, knows its group/version/kind/plural, and
//! round-trips the objects the server sends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kuber_api::{ApiextensionsV1Api, DeleteParams, Error, Operation, Request, WriteParams};
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use kuber_models::special::JSONSchemaPropsOrBool;
use serde_json::{Value, json};

use crate::case;
use crate::support::schemas::{array_of, namespaced_crd, object_schema, schema};
use crate::support::{
    Case, Context, E2e, Outcome, crd_conditions, ensure, output_within, poll, poll_every,
};

pub fn cases() -> Vec<Case> {
    vec![case!(
        "livegen/crd-type-from-live-cluster",
        crd_type_from_live_cluster
    )]
}

const VERSION: &str = "v1";
const KIND: &str = "Gadget";
const PLURAL: &str = "gadgets";
/// Each child cargo (a possible xtask build, then the generated crate's test build) gets this.
const CARGO_TIMEOUT: Duration = Duration::from_secs(240);

// Not spec operations: the OpenAPI v3 index, and custom objects by path.
static OPENAPI_V3: Operation = Operation::untyped("openapiV3Index", "GET", "/openapi/v3");
const COLLECTION: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}";
static CREATE: Operation = Operation::untyped("createNamespacedCustomObject", "POST", COLLECTION);
static LIST: Operation = Operation::untyped("listNamespacedCustomObject", "GET", COLLECTION);
static GET: Operation = Operation::untyped(
    "getNamespacedCustomObject",
    "GET",
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
);

fn formatted(type_: &str, format: &str) -> JSONSchemaProps {
    JSONSchemaProps {
        format: Some(format.into()),
        ..schema(type_)
    }
}

/// Namespaced `Gadget`: scalars of each kind, an int-or-string, a string map, a nested object
/// with a required field, an array of objects with an int64, and a status.
fn gadget_crd(group: &str) -> CustomResourceDefinition {
    let mount = JSONSchemaProps {
        required: Some(vec!["path".into()]),
        ..object_schema(&[("path", schema("string")), ("readOnly", schema("boolean"))])
    };
    let part = object_schema(&[
        ("name", schema("string")),
        ("count", formatted("integer", "int64")),
    ]);
    let port = JSONSchemaProps {
        x_kubernetes_int_or_string: Some(true),
        any_of: Some(vec![schema("integer"), schema("string")]),
        ..Default::default()
    };
    let limits = JSONSchemaProps {
        additional_properties: Some(JSONSchemaPropsOrBool::Schema(Box::new(schema("string")))),
        ..schema("object")
    };
    let spec = JSONSchemaProps {
        required: Some(vec!["size".into()]),
        ..object_schema(&[
            (
                "size",
                JSONSchemaProps {
                    minimum: Some(kuber_models::special::Number::from(1)),
                    ..formatted("integer", "int32")
                },
            ),
            ("color", schema("string")),
            ("weight", schema("number")),
            ("enabled", schema("boolean")),
            ("tags", array_of(schema("string"))),
            ("port", port),
            ("limits", limits),
            ("mount", mount),
            ("parts", array_of(part)),
        ])
    };
    let status = object_schema(&[("phase", schema("string"))]);
    let root = object_schema(&[("spec", spec), ("status", status)]);
    namespaced_crd(group, VERSION, KIND, PLURAL, root)
}

fn workspace_root() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests_crate.parent().unwrap_or(tests_crate).to_path_buf()
}

/// The CRD is installed, its group-version appears in `/openapi/v3`, `cargo xtask gen
/// --kubeconfig … --group <group>` writes a crate whose `Gadget` has the right `Resource`
/// constants, and a test built against that crate decodes a Gadget and a GadgetList the server
/// sent, checks typed fields, and re-encodes both to the same JSON. The CRD is deleted even when a
/// step fails.
async fn crd_type_from_live_cluster(e2e: &E2e) -> Outcome {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let group = format!(
        "livegen-{}-{}.kuber.test",
        std::process::id(),
        nanos % 100_000
    );
    let crd_name = format!("{PLURAL}.{group}");
    let crds = ApiextensionsV1Api::new(e2e.admin.clone());
    crds.create_custom_resource_definition(&gadget_crd(&group), &WriteParams::default())
        .await
        .context(format!("create CustomResourceDefinition {crd_name}"))?;
    let outcome = with_crd(e2e, &group, &crd_name).await;
    let removal = crds
        .delete_custom_resource_definition(&crd_name, None, &DeleteParams::default())
        .await
        .context(format!("delete CustomResourceDefinition {crd_name}"));
    outcome?;
    removal.map(|_| ())
}

async fn with_crd(e2e: &E2e, group: &str, crd_name: &str) -> Outcome {
    crd_conditions(&e2e.admin, crd_name, &["Established"]).await?;
    let index_key = format!("apis/{group}/{VERSION}");
    let published = wait_published(e2e, &index_key).await?;

    let (object_text, list_text) = serve_two(e2e, group).await?;
    let root = workspace_root();
    let crate_name = format!("kuber_livegen_{}", std::process::id());
    let dir = root.join("target/try-gen").join(&crate_name);
    let (gen_output, gen_seconds) = generate(e2e, group, &root, &dir).await?;

    // The type's module comes from the schema name, the group reversed: test.kuber.<rest>.
    let module = group
        .trim_end_matches(".kuber.test")
        .replace(['-', '.'], "_");
    let type_path = format!("{crate_name}::test::kuber::{module}::{VERSION}");
    let generated = dir
        .join("src/generated/test/kuber")
        .join(&module)
        .join(format!("{VERSION}.rs"));
    ensure(generated.is_file(), || {
        format!(
            "cargo xtask gen wrote no {}:\n{gen_output}",
            generated.display()
        )
    })?;
    let fetched = dir
        .join("openapi-v3")
        .join(format!("{}.json", index_key.replace('/', "_")));
    ensure(fetched.is_file(), || {
        format!("the fetched document {} is missing", fetched.display())
    })?;

    write_test(&dir, &type_path, group, &object_text, &list_text)?;
    let started = Instant::now();
    let manifest = dir.join("Cargo.toml").display().to_string();
    let target = root.join("target/try-gen/target").display().to_string();
    cargo(
        &root,
        &[
            "test",
            "--quiet",
            "--manifest-path",
            manifest.as_str(),
            "--test",
            "roundtrip",
        ],
        &[
            ("CARGO_TARGET_DIR", target.as_str()),
            ("RUSTFLAGS", "-D warnings"),
        ],
    )
    .await?;
    let build_seconds = started.elapsed().as_secs_f64();
    // Kept on failure, for a look at what was generated.
    let _ = std::fs::remove_dir_all(&dir);
    e2e.report(format!(
        "livegen: {index_key} in /openapi/v3 {published:.1} s after Established; \
         gen --kubeconfig {gen_seconds:.1} s; generated crate built and round-trip test passed in \
         {build_seconds:.1} s"
    ));
    Ok(())
}

/// Two Gadgets in a fresh namespace (created once the CRD serves): g1 and the list, as the
/// server sends them.
async fn serve_two(e2e: &E2e, group: &str) -> Result<(String, String), String> {
    let ns = e2e.namespace("livegen").await?;
    let first = json!({
        "apiVersion": format!("{group}/{VERSION}"),
        "kind": KIND,
        "metadata": {"name": "g1", "labels": {"app": "livegen"}},
        "spec": {
            "size": 3,
            "color": "blue",
            "weight": 2.5,
            "enabled": true,
            "tags": ["a", "b"],
            "port": "http",
            "limits": {"cpu": "2", "memory": "1Gi"},
            "mount": {"path": "/data", "readOnly": true},
            "parts": [{"name": "bolt", "count": 1_099_511_627_776_i64}, {"name": "nut"}]
        }
    });
    let second = json!({
        "apiVersion": format!("{group}/{VERSION}"),
        "kind": KIND,
        "metadata": {"name": "g2"},
        "spec": {"size": 1, "port": 8080, "mount": {"path": "/other"}}
    });
    let collection = [group, VERSION, ns.as_str(), PLURAL];
    for object in [&first, &second] {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        create_when_served(e2e, &collection, object)
            .await
            .context(format!("create {KIND} {ns}/{name}"))?;
    }
    // The bodies exactly as the server sends them.
    let object_text = e2e
        .admin
        .call_text(Request::new(&GET, &[group, VERSION, &ns, PLURAL, "g1"]))
        .await
        .context(format!("get {KIND} {ns}/g1"))?;
    let list_text = e2e
        .admin
        .call_text(Request::new(&LIST, &collection))
        .await
        .context(format!("list {KIND}s in {ns}"))?;
    Ok((object_text, list_text))
}

/// `cargo xtask gen --kubeconfig … --group <group> --out <dir>`: what it printed and how long
/// it took.
async fn generate(
    e2e: &E2e,
    group: &str,
    root: &Path,
    dir: &Path,
) -> Result<(String, f64), String> {
    let kubeconfig = e2e.cluster.kubeconfig.display().to_string();
    let out = dir.display().to_string();
    let gen_args = [
        "run",
        "--quiet",
        "-p",
        "xtask",
        "--profile",
        "xtask",
        "--",
        "gen",
        "--kubeconfig",
        kubeconfig.as_str(),
        "--group",
        group,
        "--out",
        out.as_str(),
    ];
    let started = Instant::now();
    let gen_output = cargo(root, &gen_args, &[]).await?;
    let gen_seconds = started.elapsed().as_secs_f64();
    ensure(gen_output.contains("gen: 1 OpenAPI v3 documents"), || {
        format!("cargo xtask gen did not fetch exactly one document:\n{gen_output}")
    })?;
    Ok((gen_output, gen_seconds))
}

/// The OpenAPI controller publishes a new CRD a moment after it is Established: waits until the
/// index lists `key`, and answers how long that took.
async fn wait_published(e2e: &E2e, key: &str) -> Result<f64, String> {
    let started = Instant::now();
    let what = format!("/openapi/v3 listing {key}");
    poll(&what, Duration::from_secs(60), || async {
        let index: Value = e2e
            .admin
            .call(Request::new(&OPENAPI_V3, &[]))
            .await
            .context("GET /openapi/v3")?;
        let url = index["paths"][key]["serverRelativeURL"].as_str();
        Ok(url
            .is_some_and(|u| u.starts_with(&format!("/openapi/v3/{key}")))
            .then_some(()))
    })
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Creates a custom object, retrying the 404 a just-Established CRD can still answer.
async fn create_when_served(
    e2e: &E2e,
    collection: &[&str],
    object: &Value,
) -> Result<Value, String> {
    let every = Duration::from_millis(200);
    poll_every("served", Duration::from_secs(10), every, || async {
        let request = Request::new(&CREATE, collection).json(object);
        match e2e.admin.call(request.map_err(|e| e.to_string())?).await {
            Err(Error::Api(api)) if api.is_not_found() => Ok(None),
            other => other.map(Some).map_err(|e| e.to_string()),
        }
    })
    .await
}

/// The generated crate's test: the server's bodies decoded with the generated types, fields
/// checked, re-encoded to the same JSON; the `Resource` constants checked.
fn write_test(
    dir: &Path,
    type_path: &str,
    group: &str,
    object_text: &str,
    list_text: &str,
) -> Outcome {
    let tests = dir.join("tests");
    std::fs::create_dir_all(&tests).context(format!("create {}", tests.display()))?;
    for (file, text) in [("gadget.json", object_text), ("gadgets.json", list_text)] {
        let path = tests.join(file);
        std::fs::write(&path, text).context(format!("write {}", path.display()))?;
    }
    let test = format!(
        r#"use {type_path}::{{Gadget, GadgetList}};
use kuber_models::special::IntOrString;
use kuber_models::{{ListResource, Resource, Scope}};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(text: &str) -> T {{
    let typed: T = serde_json::from_str(text).expect("decode");
    let back = serde_json::to_value(&typed).expect("encode");
    let original: serde_json::Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(back, original);
    typed
}}

#[test]
fn resource_constants() {{
    assert_eq!(Gadget::GROUP, {group:?});
    assert_eq!(Gadget::VERSION, {VERSION:?});
    assert_eq!(Gadget::API_VERSION, concat!({group:?}, "/", {VERSION:?}));
    assert_eq!(Gadget::KIND, {KIND:?});
    assert_eq!(Gadget::PLURAL, {PLURAL:?});
    assert_eq!(Gadget::SCOPE, Scope::Namespaced);
    assert_eq!(<GadgetList as ListResource>::KIND, "GadgetList");
}}

#[test]
fn object_from_the_server_round_trips() {{
    let g: Gadget = round_trip(include_str!("gadget.json"));
    assert_eq!(g.name(), Some("g1"));
    assert!(g.resource_version().is_some_and(|rv| !rv.is_empty()));
    let spec = g.spec.expect("spec");
    let size: i32 = spec.size;
    assert_eq!(size, 3);
    assert_eq!(spec.color.as_deref(), Some("blue"));
    assert_eq!(spec.weight.as_ref().map(|n| n.as_str()), Some("2.5"));
    assert_eq!(spec.weight.as_ref().map(|n| n.as_f64()), Some(2.5));
    assert_eq!(spec.enabled, Some(true));
    assert_eq!(spec.tags, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!(spec.port, Some(IntOrString::String("http".into())));
    let limits = spec.limits.expect("limits");
    assert_eq!(limits.get("memory").map(String::as_str), Some("1Gi"));
    let mount = spec.mount.expect("mount");
    let path: String = mount.path;
    assert_eq!(path, "/data");
    assert_eq!(mount.read_only, Some(true));
    let parts = spec.parts.expect("parts");
    let count: Option<i64> = parts[0].count;
    assert_eq!(count, Some(1_099_511_627_776));
    assert_eq!(parts[1].name.as_deref(), Some("nut"));
    assert_eq!(parts[1].count, None);
}}

#[test]
fn list_from_the_server_round_trips() {{
    let list: GadgetList = round_trip(include_str!("gadgets.json"));
    let names: Vec<_> = list.items().iter().filter_map(|g| g.name()).collect();
    assert_eq!(names, ["g1", "g2"]);
    let g2 = list.items[1].spec.as_ref().expect("g2 spec");
    assert_eq!(g2.port, Some(IntOrString::Int(8080)));
    assert_eq!(g2.mount.as_ref().map(|m| m.path.as_str()), Some("/other"));
}}
"#
    );
    let path = tests.join("roundtrip.rs");
    std::fs::write(&path, test).context(format!("write {}", path.display()))?;
    let manifest = dir.join("Cargo.toml");
    let mut text =
        std::fs::read_to_string(&manifest).context(format!("read {}", manifest.display()))?;
    text.push_str("\n[dev-dependencies]\nserde_json = \"1\"\n");
    std::fs::write(&manifest, text).context(format!("write {}", manifest.display()))
}

/// Runs cargo in `dir` with `args`, bounded; its stdout, or an error with its stderr.
async fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = tokio::process::Command::new(&cargo);
    command.current_dir(dir).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    output_within(command, &format!("cargo {}", args.join(" ")), CARGO_TIMEOUT).await
}
