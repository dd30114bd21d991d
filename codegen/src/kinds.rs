//! Kinds served by the API, derived from the operations: plural, scope, list type, verbs,
//! subresources.

use std::collections::BTreeMap;

use crate::model::{Kind, Model, Scope, Ty, TypeBody};
use crate::ops::{Op, Response};

/// One path split into the parts that identify a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespaced: bool,
    pub plural: String,
    pub named: bool,
    /// Whether the path is one of the deprecated `/watch/` ones.
    pub watch: bool,
    pub subresource: Option<String>,
}

/// Splits `/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale` and friends; `None` for
/// paths that are not about a resource (discovery, version, well-known documents).
pub fn parse_path(path: &str) -> Option<ResourcePath> {
    let rest = path.strip_prefix('/')?;
    let mut parts: Vec<&str> = rest.split('/').collect();
    let (group, version) = match *parts.first()? {
        "api" => {
            let v = *parts.get(1)?;
            parts.drain(..2);
            ("", v)
        }
        "apis" => {
            let g = *parts.get(1)?;
            let v = *parts.get(2)?;
            parts.drain(..3);
            (g, v)
        }
        _ => return None,
    };
    let watch = parts.first() == Some(&"watch");
    if watch {
        parts.remove(0);
    }
    let mut namespaced = false;
    if parts.len() >= 3 && parts[0] == "namespaces" && parts[1] == "{namespace}" {
        namespaced = true;
        parts.drain(..2);
    }
    let plural = *parts.first()?;
    if plural.is_empty() || plural.starts_with('{') {
        return None;
    }
    let named = parts.get(1).is_some_and(|p| p.starts_with('{'));
    let subresource = if named { parts.get(2).copied() } else { None };
    Some(ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        namespaced,
        plural: plural.to_owned(),
        named,
        watch,
        subresource: subresource.map(str::to_owned),
    })
}

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

    #[test]
    fn paths() {
        let p =
            parse_path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").unwrap();
        assert_eq!(
            p,
            ResourcePath {
                group: "apps".into(),
                version: "v1".into(),
                namespaced: true,
                plural: "deployments".into(),
                named: true,
                watch: false,
                subresource: Some("scale".into())
            }
        );
        let p = parse_path("/api/v1/namespaces/{name}/finalize").unwrap();
        assert_eq!(
            (p.plural.as_str(), p.namespaced, p.subresource.as_deref()),
            ("namespaces", false, Some("finalize"))
        );
        let p = parse_path("/api/v1/watch/namespaces/{namespace}/pods").unwrap();
        assert_eq!(
            (p.plural.as_str(), p.namespaced, p.named, p.watch),
            ("pods", true, false, true)
        );
        let p = parse_path("/api/v1/namespaces").unwrap();
        assert_eq!((p.plural.as_str(), p.namespaced), ("namespaces", false));
        assert_eq!(parse_path("/apis/apps/v1/"), None);
        assert_eq!(parse_path("/version/"), None);
        assert_eq!(parse_path("/.well-known/openid-configuration"), None);
    }
}
