//! Kinds served by the API, found from the paths: plural, scope, list type, verbs, subresources.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, ReferenceOr};

use crate::model::{Gvk, Kind, Model, Scope, Ty, TypeBody};

/// One path split into the parts that identify a resource.
#[derive(Debug, PartialEq)]
pub struct ResourcePath<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub namespaced: bool,
    pub plural: &'a str,
    pub named: bool,
    pub subresource: Option<&'a str>,
}

/// Splits `/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale` and friends; `None` for
/// paths that are not about a resource (discovery, version, well-known documents).
pub fn parse_path(path: &str) -> Option<ResourcePath<'_>> {
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
    if parts.first() == Some(&"watch") {
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
        group,
        version,
        namespaced,
        plural,
        named,
        subresource,
    })
}

fn op_gvk(ext: &indexmap::IndexMap<String, serde_json::Value>) -> Option<Gvk> {
    let g = ext.get("x-kubernetes-group-version-kind")?;
    Some(Gvk {
        group: g.get("group")?.as_str()?.to_owned(),
        version: g.get("version")?.as_str()?.to_owned(),
        kind: g.get("kind")?.as_str()?.to_owned(),
    })
}

/// Response type of an operation's 200 answer, if it is a definition.
pub fn response_def(op: &openapiv3::Operation) -> Option<String> {
    let resp = op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))?;
    let ReferenceOr::Item(resp) = resp else {
        return None;
    };
    let media = resp
        .content
        .get("application/json")
        .or_else(|| resp.content.values().next())?;
    match media.schema.as_ref()? {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}

pub fn collect(doc: &OpenAPI, model: &Model) -> BTreeMap<String, Kind> {
    let by_gvk = model.type_by_gvk();
    // (group, version, plural) → kind, filled from the operations on a kind's own paths.
    let mut kinds: BTreeMap<(String, String, String), Kind> = BTreeMap::new();
    let mut subs: Vec<(String, String, String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let Some(rp) = parse_path(path) else { continue };
        for (_, op) in item.iter() {
            if let Some(sub) = rp.subresource {
                subs.push((
                    rp.group.into(),
                    rp.version.into(),
                    rp.plural.into(),
                    sub.into(),
                ));
                continue;
            }
            let Some(gvk) = op_gvk(&op.extensions) else {
                continue;
            };
            // Kinds from other groups served here (none today) would confuse plural lookup.
            if gvk.group != rp.group || gvk.version != rp.version {
                continue;
            }
            let Some(def) = by_gvk.get(&gvk) else {
                continue;
            };
            if !matches!(def.body, TypeBody::Struct(_)) {
                continue;
            }
            let action = op
                .extensions
                .get("x-kubernetes-action")
                .and_then(|a| a.as_str())
                .unwrap_or("");
            let key = (
                rp.group.to_owned(),
                rp.version.to_owned(),
                rp.plural.to_owned(),
            );
            let kind = kinds.entry(key).or_insert_with(|| Kind {
                def: def.name.clone(),
                gvk: gvk.clone(),
                plural: rp.plural.to_owned(),
                scope: Scope::Cluster,
                list_def: None,
                subresources: BTreeSet::new(),
                verbs: BTreeSet::new(),
            });
            if rp.namespaced {
                kind.scope = Scope::Namespaced;
            }
            if !action.is_empty() {
                kind.verbs.insert(action.to_owned());
            }
            if action == "list" && kind.list_def.is_none() {
                kind.list_def = response_def(op).filter(|l| is_list_of(model, l, &kind.def));
            }
        }
    }
    for (g, v, plural, sub) in subs {
        if let Some(kind) = kinds.get_mut(&(g, v, plural)) {
            kind.subresources.insert(sub);
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
                group: "apps",
                version: "v1",
                namespaced: true,
                plural: "deployments",
                named: true,
                subresource: Some("scale")
            }
        );
        let p = parse_path("/api/v1/namespaces/{name}/finalize").unwrap();
        assert_eq!(
            (p.plural, p.namespaced, p.subresource),
            ("namespaces", false, Some("finalize"))
        );
        let p = parse_path("/api/v1/watch/namespaces/{namespace}/pods").unwrap();
        assert_eq!((p.plural, p.namespaced, p.named), ("pods", true, false));
        let p = parse_path("/api/v1/namespaces").unwrap();
        assert_eq!((p.plural, p.namespaced), ("namespaces", false));
        assert_eq!(parse_path("/apis/apps/v1/"), None);
        assert_eq!(parse_path("/version/"), None);
        assert_eq!(parse_path("/.well-known/openid-configuration"), None);
    }
}
