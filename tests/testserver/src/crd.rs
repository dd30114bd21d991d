//! CustomResourceDefinitions: the kinds they define are served as soon as they are created,
//! with their schema's defaults and pruning of unknown fields.

use std::sync::{Mutex, PoisonError};

use kuber_api::KindInfo;
use kuber_api::registry::Subresource;
use serde_json::{Map, Value, json};

/// One served version of a CRD.
pub struct CrdKind {
    pub info: &'static KindInfo,
    /// The CRD's name (`plural.group`).
    crd: String,
    schema: Value,
    /// `.spec.replicas`-style paths of the scale subresource: spec, status, label selector.
    pub scale: Option<(String, String, Option<String>)>,
    short_names: Vec<String>,
    categories: Vec<String>,
}

/// The kinds of the CRDs the store holds.
#[derive(Default)]
pub struct Crds {
    kinds: Mutex<Vec<CrdKind>>,
}

const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "post",
    "put",
    "patch",
    "delete",
    "deletecollection",
];

/// A string that lives as long as the server's kinds do (kinds are `'static` in the registry).
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

impl Crds {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CrdKind>> {
        self.kinds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves the versions of `crd` (replacing what an earlier version of it served).
    pub fn register(&self, crd: &Value) {
        let name = text(crd, "/metadata/name");
        self.unregister(&name);
        let group = text(crd, "/spec/group");
        let kind = text(crd, "/spec/names/kind");
        let plural = text(crd, "/spec/names/plural");
        let list_kind = match text(crd, "/spec/names/listKind") {
            l if l.is_empty() => format!("{kind}List"),
            l => l,
        };
        let namespaced = text(crd, "/spec/scope") != "Cluster";
        let names = |pointer: &str| -> Vec<String> {
            crd.pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (short_names, categories) = (
            names("/spec/names/shortNames"),
            names("/spec/names/categories"),
        );
        let mut kinds = self.lock();
        for version in crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        {
            let v = text(version, "/name");
            let mut subresources = Vec::new();
            if version.pointer("/subresources/status").is_some() {
                subresources.push(Subresource {
                    name: "status",
                    group: leak(&group),
                    version: leak(&v),
                    kind: leak(&kind),
                });
            }
            let scale = version.pointer("/subresources/scale").map(|s| {
                subresources.push(Subresource {
                    name: "scale",
                    group: "autoscaling",
                    version: "v1",
                    kind: "Scale",
                });
                (
                    text(s, "/specReplicasPath"),
                    text(s, "/statusReplicasPath"),
                    s.get("labelSelectorPath")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                )
            });
            let info: &'static KindInfo = Box::leak(Box::new(KindInfo {
                group: leak(&group),
                version: leak(&v),
                api_version: leak(&format!("{group}/{v}")),
                kind: leak(&kind),
                plural: leak(&plural),
                namespaced,
                list_kind: leak(&list_kind),
                verbs: VERBS,
                subresources: Box::leak(subresources.into_boxed_slice()),
                operations: &[],
            }));
            kinds.push(CrdKind {
                info,
                crd: name.clone(),
                schema: version
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .unwrap_or(json!({"type": "object"})),
                scale,
                short_names: short_names.clone(),
                categories: categories.clone(),
            });
        }
    }

    pub fn unregister(&self, crd: &str) {
        self.lock().retain(|k| k.crd != crd);
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&'static KindInfo> {
        self.lock()
            .iter()
            .find(|k| k.info.group == group && k.info.version == version && k.info.plural == plural)
            .map(|k| k.info)
    }

    /// The groups of custom kinds and their served versions, in the order the CRDs came.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for k in self.lock().iter() {
            let (group, version) = (k.info.group.to_owned(), k.info.version.to_owned());
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, versions)) if !versions.contains(&version) => versions.push(version),
                Some(_) => {}
                None => groups.push((group, vec![version])),
            }
        }
        groups
    }

    /// One group-version of custom kinds in aggregated discovery's form.
    pub fn aggregated_version(&self, group: &str, version: &str) -> Value {
        let resources: Vec<Value> = self
            .lock()
            .iter()
            .filter(|k| k.info.group == group && k.info.version == version)
            .map(|k| {
                let mut r = json!({
                    "resource": k.info.plural,
                    "responseKind": {"group": group, "version": version, "kind": k.info.kind},
                    "scope": if k.info.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": k.info.kind.to_lowercase(),
                    "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                });
                if !k.short_names.is_empty() {
                    r["shortNames"] = json!(k.short_names);
                }
                if !k.categories.is_empty() {
                    r["categories"] = json!(k.categories);
                }
                let subresources: Vec<Value> = k
                    .info
                    .subresources
                    .iter()
                    .map(|sub| {
                        json!({
                            "subresource": sub.name,
                            "responseKind": {"group": sub.group, "version": sub.version, "kind": sub.kind},
                            "verbs": ["get", "patch", "update"],
                        })
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

    /// The scale paths of a custom kind with a scale subresource.
    pub fn scale_paths(&self, kind: &KindInfo) -> Option<(String, String, Option<String>)> {
        self.lock()
            .iter()
            .find(|k| std::ptr::eq(k.info, kind))
            .and_then(|k| k.scale.clone())
    }

    /// `/apis/{group}/{version}` for custom kinds.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let kinds = self.lock();
        let mut resources = Vec::new();
        for k in kinds
            .iter()
            .filter(|k| k.info.group == group && k.info.version == version)
        {
            resources.push(json!({
                "name": k.info.plural,
                "singularName": k.info.kind.to_lowercase(),
                "namespaced": k.info.namespaced,
                "kind": k.info.kind,
                "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
                "storageVersionHash": "",
            }));
            let last = resources.len() - 1;
            if !k.short_names.is_empty() {
                resources[last]["shortNames"] = json!(k.short_names);
            }
            if !k.categories.is_empty() {
                resources[last]["categories"] = json!(k.categories);
            }
            for sub in k.info.subresources {
                let mut r = json!({
                    "name": format!("{}/{}", k.info.plural, sub.name),
                    "singularName": "",
                    "namespaced": k.info.namespaced,
                    "kind": sub.kind,
                    "verbs": ["get", "patch", "update"],
                });
                if sub.name == "scale" {
                    r["group"] = json!("autoscaling");
                    r["version"] = json!("v1");
                }
                resources.push(r);
            }
        }
        if resources.is_empty() {
            return None;
        }
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"),
            "resources": resources,
        }))
    }

    /// Applies the schema of a custom kind to an object about to be stored: unknown fields
    /// pruned (unless preserved), defaults filled in.
    pub fn shape(&self, kind: &KindInfo, object: &mut Value) {
        let kinds = self.lock();
        let Some(k) = kinds.iter().find(|k| std::ptr::eq(k.info, kind)) else {
            return;
        };
        if let Value::Object(map) = object {
            for (field, value) in map.iter_mut() {
                if matches!(field.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if let Some(schema) = k.schema.pointer(&format!("/properties/{field}")) {
                    prune_and_default(schema, value);
                }
            }
            let known = k.schema.get("properties").and_then(Value::as_object);
            if !preserves(&k.schema) {
                map.retain(|field, _| {
                    matches!(field.as_str(), "apiVersion" | "kind" | "metadata")
                        || known.is_some_and(|p| p.contains_key(field))
                });
            }
            if let Some(properties) = known {
                fill_defaults(properties, map);
            }
        }
    }
}

impl Crds {
    /// The schema's type checks on a custom object, as the real server words them.
    pub fn validate(&self, kind: &KindInfo, object: &Value) -> Result<(), crate::status::Failure> {
        let schema = {
            let kinds = self.lock();
            match kinds.iter().find(|k| std::ptr::eq(k.info, kind)) {
                Some(k) => k.schema.clone(),
                None => return Ok(()),
            }
        };
        let mut causes = Vec::new();
        if let (Some(properties), Value::Object(map)) =
            (schema.get("properties").and_then(Value::as_object), object)
        {
            for (field, value) in map {
                if matches!(field.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if let Some(s) = properties.get(field) {
                    type_errors(s, value, field, &mut causes);
                }
            }
        }
        if causes.is_empty() {
            return Ok(());
        }
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let causes: Vec<(&str, &str, String)> = causes
            .iter()
            .map(|(f, m): &(String, String)| (f.as_str(), "FieldValueTypeInvalid", m.clone()))
            .collect();
        Err(crate::status::invalid(kind.kind, kind.group, name, &causes))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_errors(schema: &Value, value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    if value.is_null() {
        return;
    }
    if let Some(wanted) = schema.get("type").and_then(Value::as_str) {
        let actual = type_name(value);
        let fits = actual == wanted || (wanted == "number" && actual == "integer");
        if !fits {
            out.push((
                path.to_owned(),
                format!(
                    "Invalid value: \"{actual}\": {path} in body must be of type {wanted}: \"{actual}\""
                ),
            ));
            return;
        }
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map {
                if let Some(s) = properties.and_then(|p| p.get(k)).or(additional) {
                    type_errors(s, v, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    type_errors(s, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn fill_defaults(properties: &Map<String, Value>, map: &mut Map<String, Value>) {
    for (name, schema) in properties {
        if !map.contains_key(name)
            && let Some(default) = schema.get("default")
        {
            let mut value = default.clone();
            prune_and_default(schema, &mut value);
            map.insert(name.clone(), value);
        }
    }
}

fn prune_and_default(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for v in map.values_mut() {
                    prune_and_default(additional, v);
                }
                return;
            }
            if !preserves(schema) {
                map.retain(|k, _| properties.is_some_and(|p| p.contains_key(k)));
            }
            if let Some(properties) = properties {
                for (k, v) in map.iter_mut() {
                    if let Some(s) = properties.get(k) {
                        prune_and_default(s, v);
                    }
                }
                fill_defaults(properties, map);
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for v in items {
                    prune_and_default(s, v);
                }
            }
        }
        _ => {}
    }
}
