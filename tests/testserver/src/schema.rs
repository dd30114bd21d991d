//! The spec's schemas (`src/generated/definitions.json`, facts only) as the merge rules of each
//! field: patch strategy and merge key for strategic merge patch, list and map types for
//! server-side apply. Parsed once, on first use, so that start-up does not pay for it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The facts file, also hashed for `/openapi/v3` links.
pub const DEFINITIONS: &str = include_str!("generated/definitions.json");

struct Definitions {
    schemas: Map<String, Value>,
    /// `(group, version, kind)` → schema name.
    by_kind: HashMap<(String, String, String), String>,
}

fn definitions() -> &'static Definitions {
    static PARSED: OnceLock<Definitions> = OnceLock::new();
    PARSED.get_or_init(|| {
        let schemas = match serde_json::from_str(DEFINITIONS) {
            Ok(Value::Object(m)) => m,
            // Written by `cargo xtask gen`; a broken file leaves every field without rules.
            _ => Map::new(),
        };
        let mut by_kind = HashMap::new();
        for (name, schema) in &schemas {
            let gvks = schema
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array);
            for gvk in gvks.into_iter().flatten() {
                let part = |k: &str| gvk.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                by_kind
                    .entry((part("group"), part("version"), part("kind")))
                    .or_insert_with(|| name.clone());
            }
        }
        Definitions { schemas, by_kind }
    })
}

/// Follows `$ref`s (and the one-element `allOf` wrappers the spec puts around them).
/// The schemas by definition name.
pub fn schemas() -> &'static Map<String, Value> {
    &definitions().schemas
}

/// The definition name of a kind's schema (`io.k8s.api.apps.v1.Deployment`).
pub fn definition_of(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    definitions()
        .by_kind
        .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
        .map(String::as_str)
}

fn resolve(mut v: &Value) -> &Value {
    for _ in 0..32 {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            match definitions().schemas.get(name) {
                Some(s) => v = s,
                None => return v,
            }
        } else if let Some([one]) = v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            v = one;
        } else {
            return v;
        }
    }
    v
}

/// The schema of one place in an object: where the field is declared (`site`, which carries the
/// `x-kubernetes-*` facts of the field) and what it resolves to.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    site: &'a Value,
    schema: &'a Value,
}

impl<'a> Node<'a> {
    /// A schema given as it is: a CRD's `openAPIV3Schema` (custom resources, once served).
    #[allow(dead_code)]
    pub fn root(schema: &'a Value) -> Node<'a> {
        Node {
            site: schema,
            schema: resolve(schema),
        }
    }

    fn ext(&self, key: &str) -> Option<&'a Value> {
        self.site.get(key).or_else(|| self.schema.get(key))
    }

    fn ext_str(&self, key: &str) -> Option<&'a str> {
        self.ext(key).and_then(Value::as_str)
    }

    /// `x-kubernetes-patch-strategy`, split at commas (`merge,retainKeys`).
    pub fn patch_strategies(&self) -> impl Iterator<Item = &'a str> {
        self.ext_str("x-kubernetes-patch-strategy")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub fn has_strategy(&self, strategy: &str) -> bool {
        self.patch_strategies().any(|s| s == strategy)
    }

    pub fn merge_key(&self) -> Option<&'a str> {
        self.ext_str("x-kubernetes-patch-merge-key")
    }

    /// `atomic`, `set` or `map`; lists that name none are atomic.
    pub fn list_type(&self) -> &'a str {
        self.ext_str("x-kubernetes-list-type").unwrap_or("atomic")
    }

    pub fn list_map_keys(&self) -> Vec<&'a str> {
        self.ext("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `x-kubernetes-map-type: atomic`: the object is owned and replaced as a whole.
    pub fn atomic_map(&self) -> bool {
        self.ext_str("x-kubernetes-map-type") == Some("atomic")
    }

    /// Whether `name` is a declared property (not a key of a map).
    pub fn declares(&self, name: &str) -> bool {
        self.schema
            .get("properties")
            .is_some_and(|p| p.get(name).is_some())
    }

    /// Whether `name` is a required property.
    pub fn requires(&self, name: &str) -> bool {
        self.schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|v| v == name))
    }

    /// The schema of member `name`: a declared property, else the map's value schema.
    pub fn field(&self, name: &str) -> Option<Node<'a>> {
        let site = self
            .schema
            .get("properties")
            .and_then(|p| p.get(name))
            .or_else(|| {
                self.schema
                    .get("additionalProperties")
                    .filter(|a| a.is_object())
            })?;
        Some(Node {
            site,
            schema: resolve(site),
        })
    }

    /// The schema of a list's items.
    pub fn items(&self) -> Option<Node<'a>> {
        let site = self.schema.get("items")?;
        Some(Node {
            site,
            schema: resolve(site),
        })
    }
}

/// The schema of a built-in kind; `None` for kinds the spec does not describe (custom resources).
pub fn for_kind(group: &str, version: &str, kind: &str) -> Option<Node<'static>> {
    let defs = definitions();
    let name = defs
        .by_kind
        .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))?;
    let schema = defs.schemas.get(name)?;
    Some(Node {
        site: schema,
        schema,
    })
}

/// The member `name` of `node`, when there is a node.
#[cfg(test)]
pub fn child<'a>(node: Option<Node<'a>>, name: &str) -> Option<Node<'a>> {
    node.and_then(|n| n.field(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_refs_to_the_facts_of_a_field() {
        let d = for_kind("apps", "v1", "Deployment").unwrap();
        let pod = child(child(child(Some(d), "spec"), "template"), "spec").unwrap();
        let containers = pod.field("containers").unwrap();
        assert_eq!(containers.merge_key(), Some("name"));
        assert!(containers.has_strategy("merge"));
        assert_eq!(containers.list_type(), "map");
        let ports = containers.items().unwrap().field("ports").unwrap();
        assert_eq!(ports.list_map_keys(), ["containerPort", "protocol"]);
        let strategy = child(child(Some(d), "spec"), "strategy").unwrap();
        assert!(strategy.has_strategy("retainKeys"));
        assert!(strategy.declares("rollingUpdate"));
        let selector = child(child(Some(d), "spec"), "selector").unwrap();
        assert!(selector.atomic_map());
        let labels = child(child(Some(d), "metadata"), "labels").unwrap();
        assert!(!labels.declares("app") && labels.field("app").is_some());
        assert!(for_kind("example.com", "v1", "Widget").is_none());
    }
}
