//! `/openapi/v3`: the index and one document per group-version, built from the spec's schema
//! facts (`generated/definitions.json`) and the operation registry; and the unknown-field check
//! of `fieldValidation` against the same schemas.
//!
//! kubectl reads these documents to decide that validation happens on the server (a PATCH
//! operation of the kind with a `fieldValidation` parameter), for client-side apply's strategic
//! merge patch (the patch facts), and for `explain`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use kuber_api::{KINDS, KindInfo, OPERATIONS, Operation, ResponseShape};
use serde_json::{Map, Value, json};

use crate::discovery;
use crate::schema::{DEFINITIONS, definition_of, schemas};

const REF_PREFIX: &str = "#/components/schemas/";

/// Stands in for the real server's content hash: what the documents are built from.
fn hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        // FNV-1a over the schema facts and the crate version (the registry is compiled with it).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in DEFINITIONS.bytes().chain(env!("CARGO_PKG_VERSION").bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016X}")
    })
}

/// The served group-versions as `/openapi/v3` names them: `api/v1`, `apis/apps/v1`.
fn group_versions() -> BTreeSet<(String, &'static str, &'static str)> {
    KINDS
        .iter()
        .filter(|k| discovery::served(k))
        .map(|k| (doc_path(k.group, k.version), k.group, k.version))
        .collect()
}

fn doc_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`.
pub fn index() -> Value {
    let paths: Map<String, Value> = group_versions()
        .into_iter()
        .map(|(path, _, _)| {
            let url = format!("/openapi/v3/{path}?hash={}", hash());
            (path, json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// `/openapi/v3/{path}` (`api/v1`, `apis/apps/v1`) as JSON bytes, built once per path.
pub fn document(path: &str) -> Option<Bytes> {
    static DOCS: OnceLock<Mutex<HashMap<String, Bytes>>> = OnceLock::new();
    let docs = DOCS.get_or_init(Default::default);
    if let Some(doc) = docs.lock().ok()?.get(path) {
        return Some(doc.clone());
    }
    let (_, group, version) = group_versions().into_iter().find(|(p, _, _)| p == path)?;
    let doc = Bytes::from(serde_json::to_vec(&build(group, version)).ok()?);
    docs.lock().ok()?.insert(path.to_owned(), doc.clone());
    Some(doc)
}

fn schema_ref(definition: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{definition}") })
}

/// Query parameters by action: data of the API machinery, the same for every kind.
fn query_parameters(action: &str) -> &'static [(&'static str, &'static str)] {
    const LIST: &[(&str, &str)] = &[
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("pretty", "string"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ];
    const WRITE: &[(&str, &str)] = &[
        ("dryRun", "string"),
        ("fieldManager", "string"),
        ("fieldValidation", "string"),
        ("pretty", "string"),
    ];
    const PATCH: &[(&str, &str)] = &[
        ("dryRun", "string"),
        ("fieldManager", "string"),
        ("fieldValidation", "string"),
        ("force", "boolean"),
        ("pretty", "string"),
    ];
    const DELETE: &[(&str, &str)] = &[
        ("dryRun", "string"),
        ("gracePeriodSeconds", "integer"),
        (
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
        ),
        ("orphanDependents", "boolean"),
        ("pretty", "string"),
        ("propagationPolicy", "string"),
    ];
    match action {
        "list" | "watch" | "watchlist" | "deletecollection" => LIST,
        "post" | "put" => WRITE,
        "patch" => PATCH,
        "delete" => DELETE,
        _ => &[("pretty", "string")],
    }
}

fn response_schema(shape: ResponseShape) -> Option<Value> {
    Some(match shape {
        ResponseShape::Object(d)
        | ResponseShape::ObjectOrStatus(d)
        | ResponseShape::List(d)
        | ResponseShape::ListOrStatus(d) => schema_ref(d),
        ResponseShape::WatchStream(_) => {
            schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent")
        }
        ResponseShape::Text => json!({"type": "string"}),
        _ => return None,
    })
}

fn operation(op: &Operation) -> Value {
    let mut parameters: Vec<Value> = query_parameters(op.action)
        .iter()
        .map(|(name, type_)| {
            json!({"name": name, "in": "query", "schema": {"type": type_, "uniqueItems": true}})
        })
        .collect();
    if op.action == "deletecollection" {
        parameters.extend(
            query_parameters("delete")
                .iter()
                .filter(|(name, _)| *name != "pretty")
                .map(
                    |(name, type_)| json!({"name": name, "in": "query", "schema": {"type": type_}}),
                ),
        );
    }
    let mut o = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {"401": {"description": "Unauthorized"}},
        "x-kubernetes-action": op.action,
    });
    if let Some(schema) = response_schema(op.response) {
        let code = if op.method == "POST" { "201" } else { "200" };
        o["responses"][code] = json!({
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        });
    }
    if !op.body.is_empty() {
        let types: &[&str] = if op.method == "PATCH" {
            &[
                "application/apply-patch+yaml",
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ]
        } else {
            &["*/*"]
        };
        let content: Map<String, Value> = types
            .iter()
            .map(|t| ((*t).to_owned(), json!({"schema": schema_ref(op.body)})))
            .collect();
        o["requestBody"] = json!({"content": content, "required": op.body_required});
    }
    if !op.kind.is_empty() {
        let (group, version) = match op.kind_api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", op.kind_api_version),
        };
        o["x-kubernetes-group-version-kind"] =
            json!({"group": group, "version": version, "kind": op.kind});
    }
    o
}

/// Every `$ref`'d definition reachable from `roots`.
fn closure(roots: impl IntoIterator<Item = String>) -> BTreeMap<String, Value> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(r)) => {
                            if let Some(name) = r.strip_prefix(REF_PREFIX) {
                                out.push(name.to_owned());
                            }
                        }
                        _ => refs(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let all = schemas();
    let mut seen = BTreeMap::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if seen.contains_key(&name) {
            continue;
        }
        let Some(schema) = all.get(&name) else {
            continue;
        };
        refs(schema, &mut todo);
        seen.insert(name, schema.clone());
    }
    seen
}

fn build(group: &str, version: &str) -> Value {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut roots = vec![
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status".to_owned(),
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent".to_owned(),
    ];
    for op in OPERATIONS
        .iter()
        .filter(|o| o.group == group && o.version == version && !o.plural.is_empty())
    {
        let item = paths.entry(op.path).or_default();
        item.insert(op.method.to_ascii_lowercase(), operation(op));
        if !item.contains_key("parameters") {
            let params: Vec<Value> = ["namespace", "name", "path"]
                .into_iter()
                .filter(|p| op.path.contains(&format!("{{{p}}}")))
                .map(|p| {
                    json!({"name": p, "in": "path", "required": true,
                           "schema": {"type": "string", "uniqueItems": true}})
                })
                .collect();
            item.insert("parameters".into(), Value::Array(params));
        }
        roots.push(op.body.to_owned());
        if let Some(
            ResponseShape::Object(d)
            | ResponseShape::ObjectOrStatus(d)
            | ResponseShape::List(d)
            | ResponseShape::ListOrStatus(d),
        ) = Some(op.response)
        {
            roots.push(d.to_owned());
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.3"},
        "paths": paths,
        "components": {
            "schemas": closure(roots),
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
        },
        "security": [{"BearerToken": []}],
    })
}

/// The fields of `object` that `kind`'s schema does not declare, as Go's strict decoding names
/// them: `spec.containers[0].foo`; with `prune`, they are removed too, as decoding into the
/// kind's type drops them. Maps, `x-kubernetes-preserve-unknown-fields` and schemas without
/// properties accept anything.
pub fn unknown_fields(kind: &KindInfo, object: &mut Value, prune: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(def) = definition_of(kind.group, kind.version, kind.kind)
        && let Some(schema) = schemas().get(def)
    {
        walk(schema, object, "", &mut out, prune, 0);
    }
    out
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    for _ in 0..8 {
        let target = s["$ref"]
            .as_str()
            .or_else(|| s["allOf"][0]["$ref"].as_str())
            .and_then(|r| r.strip_prefix(REF_PREFIX))
            .and_then(|name| schemas().get(name));
        match target {
            Some(t) => s = t,
            None => break,
        }
    }
    s
}

fn walk(
    schema: &Value,
    value: &mut Value,
    path: &str,
    out: &mut Vec<String>,
    prune: bool,
    depth: usize,
) {
    // Deeper than any kind's schema: a self-referencing one (JSONSchemaProps) met with a
    // pathological object.
    if depth > 64 {
        return;
    }
    let schema = resolve(schema);
    if schema["x-kubernetes-preserve-unknown-fields"] == json!(true) {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            if let Some(props) = schema["properties"].as_object() {
                let mut unknown = Vec::new();
                for (k, v) in map.iter_mut() {
                    match props.get(k) {
                        Some(s) => walk(s, v, &join(k), out, prune, depth + 1),
                        None => {
                            out.push(join(k));
                            unknown.push(k.clone());
                        }
                    }
                }
                if prune {
                    for k in unknown {
                        map.remove(&k);
                    }
                }
            } else if schema["additionalProperties"].is_object() {
                let inner = &schema["additionalProperties"];
                for (k, v) in map.iter_mut() {
                    walk(inner, v, &join(k), out, prune, depth + 1);
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, v) in items.iter_mut().enumerate() {
                let path = format!("{path}[{i}]");
                walk(&schema["items"], v, &path, out, prune, depth + 1);
            }
        }
        _ => {}
    }
}

/// What `fieldValidation` asks for; without one the real server warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn parse(value: Option<&str>) -> Result<FieldValidation, String> {
        match value {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(format!(
                "fieldValidation {other} is invalid, valid values are: Ignore, Warn, Strict"
            )),
        }
    }
}
