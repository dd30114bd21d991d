//! Kinds served by the API, derived from the operations: plural, scope, list type, verbs,
//! subresources.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Gvk, Kind, Model, Scope, Ty, TypeBody};
use crate::ops::{Op, Response};

/// The kinds the operations serve, keyed by definition: a kind is served where an operation on
/// its own path (not a subresource's) names it, in the path's group-version.
pub fn derive(ops: &[Op], model: &Model) -> BTreeMap<String, Kind> {
    // (group, version, plural) → kind, filled from the operations on a kind's own paths.
    let mut kinds: BTreeMap<(&str, &str, &str), Kind> = BTreeMap::new();
    for op in ops {
        let Some(rp) = &op.resource else { continue };
        if rp.subresource.is_some() {
            continue;
        }
        let (Some(gvk), Some(def)) = (&op.gvk, &op.kind_def) else {
            continue;
        };
        // Kinds from other groups served here (none today) would confuse plural lookup.
        if gvk.group != rp.group || gvk.version != rp.version {
            continue;
        }
        let Some(def) = model.types.get(def) else {
            continue;
        };
        if !matches!(def.body, TypeBody::Struct(_)) {
            continue;
        }
        let key = (rp.group.as_str(), rp.version.as_str(), rp.plural.as_str());
        let kind = kinds.entry(key).or_insert_with(|| Kind {
            def: def.name.clone(),
            gvk: gvk.clone(),
            plural: rp.plural.clone(),
            scope: Scope::Cluster,
            list_def: None,
            subresources: Default::default(),
            subresource_kinds: BTreeMap::new(),
            verbs: Default::default(),
            guessed: false,
        });
        if rp.namespaced {
            kind.scope = Scope::Namespaced;
        }
        if !op.action.is_empty() {
            kind.verbs.insert(op.action.clone());
        }
        if op.action == "list"
            && kind.list_def.is_none()
            && let Response::Typed(Ty::Named(list)) = &op.response
            && is_list_of(model, list, &kind.def)
        {
            kind.list_def = Some(list.clone());
        }
    }
    for op in ops {
        let Some(rp) = &op.resource else { continue };
        let Some(sub) = &rp.subresource else { continue };
        let key = (rp.group.as_str(), rp.version.as_str(), rp.plural.as_str());
        if let Some(kind) = kinds.get_mut(&key) {
            kind.subresources.insert(sub.clone());
            if let Some(gvk) = &op.gvk {
                kind.subresource_kinds
                    .entry(sub.clone())
                    .or_insert_with(|| gvk.clone());
            }
        }
    }
    kinds.into_values().map(|k| (k.def.clone(), k)).collect()
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Kinds that carry a GVK but are never served as resources of their own.
const NOT_RESOURCES: &[&str] = &["Status", "DeleteOptions", "WatchEvent"];

#[derive(Debug, thiserror::Error)]
pub enum KindError {
    #[error("--cluster-scoped {kind}: the documents have no kind `{kind}`")]
    UnknownClusterScoped { kind: String },
    #[error(
        "--cluster-scoped {kind}: its paths serve it namespaced; the scope of a kind with paths \
         comes from them"
    )]
    ScopeFromPaths { kind: String },
}

/// Adds the kinds no operation serves (components-only CRD documents): definitions with exactly
/// one GVK and a `metadata` of ObjectMeta whose GVK no operation names. Their plural is
/// [`guess_plural`]'s, their scope `Namespaced` unless `cluster_scoped` names the kind, their
/// verbs unknown (empty); they are marked `guessed`. Returns the guessed kinds' definitions.
pub fn guess_pathless(
    ops: &[Op],
    model: &mut Model,
    cluster_scoped: &[String],
) -> Result<Vec<String>, KindError> {
    // A kind any operation names (subresource kinds such as Scale or Eviction included) is
    // served as the paths say, or not as a resource of its own.
    let named: BTreeSet<&Gvk> = ops.iter().filter_map(|op| op.gvk.as_ref()).collect();
    let served: BTreeSet<&Gvk> = model.kinds.values().map(|k| &k.gvk).collect();
    let mut found = Vec::new();
    for def in model.types.values() {
        let [gvk] = def.gvks.as_slice() else { continue };
        let TypeBody::Struct(fields) = &def.body else {
            continue;
        };
        // Kubernetes' own kinds are never guessed: their plural and scope come from the paths of
        // a release's spec (a path-less document of them, such as a live cluster's OpenAPI v3
        // components, would otherwise make Namespace namespaced and Eviction a resource).
        if def.name.starts_with("io.k8s.")
            || named.contains(gvk)
            || served.contains(gvk)
            || NOT_RESOURCES.contains(&gvk.kind.as_str())
            || gvk.kind.ends_with("List")
            || model.kinds.contains_key(&def.name)
        {
            continue;
        }
        // What the `Resource` impl needs (see `emit::models`).
        let has_meta = fields
            .iter()
            .any(|f| f.json == "metadata" && f.ty == Ty::Named(OBJECT_META.into()) && !f.boxed);
        if !has_meta {
            continue;
        }
        let scope = if cluster_scoped.contains(&gvk.kind) {
            Scope::Cluster
        } else {
            Scope::Namespaced
        };
        let list_def = model
            .types
            .values()
            .find(|t| {
                t.gvks.iter().all(|g| g.kind.ends_with("List"))
                    && t.ident.ends_with("List")
                    && is_list_of(model, &t.name, &def.name)
            })
            .map(|t| t.name.clone());
        found.push(Kind {
            def: def.name.clone(),
            gvk: gvk.clone(),
            plural: guess_plural(&gvk.kind),
            scope,
            list_def,
            subresources: Default::default(),
            subresource_kinds: BTreeMap::new(),
            verbs: Default::default(),
            guessed: true,
        });
    }
    for kind in cluster_scoped {
        if found.iter().any(|k| &k.gvk.kind == kind) {
            continue;
        }
        match model.kinds.values().find(|k| &k.gvk.kind == kind) {
            None => return Err(KindError::UnknownClusterScoped { kind: kind.clone() }),
            Some(k) if k.scope == Scope::Namespaced => {
                return Err(KindError::ScopeFromPaths { kind: kind.clone() });
            }
            Some(_) => {}
        }
    }
    let defs = found.iter().map(|k| k.def.clone()).collect();
    model
        .kinds
        .extend(found.into_iter().map(|k| (k.def.clone(), k)));
    Ok(defs)
}

/// The plural of a kind no path names: client-go's guess (`meta.UnsafeGuessKindToResource`) —
/// lowercase; kinds ending in `endpoints` stay as they are; a final `s` takes `es`; a final `y`
/// becomes `ies` — except that a vowel before the `y` keeps it (`Gateway` → `gateways`, where
/// client-go says `gatewaies`; CRDs name their plurals, and real ones read `gateways`).
pub fn guess_plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with("endpoints") {
        return lower;
    }
    if lower.ends_with('s') {
        return lower + "es";
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
        && !stem.is_empty()
    {
        return format!("{stem}ies");
    }
    lower + "s"
}

/// True when `list` is a struct whose `items` is an array of `item`.
fn is_list_of(model: &Model, list: &str, item: &str) -> bool {
    let Some(t) = model.types.get(list) else {
        return false;
    };
    let TypeBody::Struct(fields) = &t.body else {
        return false;
    };
    fields
        .iter()
        .any(|f| f.json == "items" && f.ty == Ty::Vec(Box::new(Ty::Named(item.to_owned()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(paths: serde_json::Value) -> (Vec<Op>, Model) {
        let meta_ref = serde_json::json!({"$ref": format!("#/components/schemas/{OBJECT_META}")});
        let kind = |k: &str| {
            serde_json::json!({"type": "object", "properties": {"metadata": meta_ref},
                "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": k}]})
        };
        let doc: openapiv3::OpenAPI = serde_json::from_value(serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v1"},
            "paths": paths,
            "components": {"schemas": {
                OBJECT_META: {"type": "object", "properties": {"name": {"type": "string"}}},
                "io.example.v1.Widget": kind("Widget"),
                "io.example.v1.Policy": kind("Policy"),
                "io.example.v1.Octopus": kind("Octopus"),
                "io.example.v1.WidgetList": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/io.example.v1.Widget"}}},
                    "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": "WidgetList"}]},
                "io.example.v1.Status": kind("Status"),
                // Kubernetes' own kinds take their facts from a release's paths only.
                "io.k8s.api.core.v1.Namespace": kind("Namespace"),
                "io.example.v1.Loose": {"type": "object", "properties": {"name": {"type": "string"}},
                    "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": "Loose"}]},
            }}
        }))
        .unwrap();
        let mut model = Model::build(&doc, &crate::model::Specials::new()).unwrap();
        let ops = crate::ops::collect(&doc, &model).unwrap();
        model.kinds = derive(&ops, &model);
        (ops, model)
    }

    #[test]
    fn plurals_are_guessed_as_client_go_does() {
        for (kind, plural) in [
            ("Ingress", "ingresses"),
            ("Policy", "policies"),
            ("Gateway", "gateways"),
            ("Certificate", "certificates"),
            ("ClusterIssuer", "clusterissuers"),
            ("Endpoints", "endpoints"),
            ("Proxy", "proxies"),
            ("Key", "keys"),
            ("Y", "ys"),
        ] {
            assert_eq!(guess_plural(kind), plural, "{kind}");
        }
    }

    #[test]
    fn a_components_only_document_gives_guessed_kinds() {
        let (ops, mut model) = build(serde_json::json!({}));
        assert!(model.kinds.is_empty());
        let cluster = ["Policy".to_owned()];
        let guessed = guess_pathless(&ops, &mut model, &cluster).unwrap();
        // Not Status, not a list, not a kind without ObjectMeta, not one of Kubernetes' own.
        assert_eq!(
            guessed,
            [
                "io.example.v1.Octopus",
                "io.example.v1.Policy",
                "io.example.v1.Widget"
            ]
        );
        let widget = &model.kinds["io.example.v1.Widget"];
        assert_eq!(
            (widget.plural.as_str(), widget.scope, widget.guessed),
            ("widgets", Scope::Namespaced, true)
        );
        assert!(widget.verbs.is_empty());
        assert_eq!(widget.list_def.as_deref(), Some("io.example.v1.WidgetList"));
        let policy = &model.kinds["io.example.v1.Policy"];
        assert_eq!(
            (policy.plural.as_str(), policy.scope),
            ("policies", Scope::Cluster)
        );
        assert_eq!(model.kinds["io.example.v1.Octopus"].plural, "octopuses");
    }

    #[test]
    fn a_kind_with_paths_keeps_the_paths_plural_and_scope() {
        let answers = serde_json::json!({"200": {"description": "", "content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/io.example.v1.Octopus"}}}}});
        let (ops, mut model) = build(serde_json::json!({
            "/apis/example.io/v1/octopi/{name}": {"get": {"operationId": "readOctopus",
                "responses": answers, "x-kubernetes-action": "get",
                "x-kubernetes-group-version-kind": {"group": "example.io", "version": "v1", "kind": "Octopus"}}}
        }));
        let guessed = guess_pathless(&ops, &mut model, &[]).unwrap();
        assert_eq!(guessed, ["io.example.v1.Policy", "io.example.v1.Widget"]);
        let octopus = &model.kinds["io.example.v1.Octopus"];
        assert_eq!(
            (octopus.plural.as_str(), octopus.scope, octopus.guessed),
            ("octopi", Scope::Cluster, false)
        );
    }

    #[test]
    fn cluster_scoped_must_name_a_kind_the_documents_have() {
        let (ops, mut model) = build(serde_json::json!({}));
        let err = guess_pathless(&ops, &mut model, &["Gizmo".to_owned()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--cluster-scoped Gizmo: the documents have no kind `Gizmo`"
        );
        // A list or a kind without ObjectMeta is no kind either.
        let (ops, mut model) = build(serde_json::json!({}));
        let err = guess_pathless(&ops, &mut model, &["Loose".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("no kind `Loose`"), "{err}");
    }
}
