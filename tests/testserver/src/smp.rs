//! Strategic merge patch (`application/strategic-merge-patch+json`): JSON merge patch where the
//! spec's `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` say how lists and
//! objects merge, with the directives the real server honours (`$patch`, `$retainKeys`,
//! `$setElementOrder/…`, `$deleteFromPrimitiveList/…`).

use serde_json::{Map, Value};

use crate::schema::Node;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

/// Why a strategic merge patch was refused: 400 for a malformed directive, 422 when the patch
/// contradicts its own `$retainKeys`, as the real server sorts them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmpError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
}

fn bad(message: impl Into<String>) -> SmpError {
    SmpError::BadRequest(message.into())
}

/// Applies `patch` to `target` (an object of the kind whose schema `node` is).
pub fn apply(target: &mut Value, patch: &Value, node: Option<Node>) -> Result<(), SmpError> {
    let Value::Object(patch) = patch else {
        return Err(bad("strategic merge patch must be a JSON object"));
    };
    let original = match target {
        Value::Object(m) => std::mem::take(m),
        _ => Map::new(),
    };
    *target = match merge_map(original, patch.clone(), node)? {
        Some(m) => Value::Object(m),
        None => Value::Object(Map::new()),
    };
    Ok(())
}

/// Removes directive keys from a value taken as it is (it has nothing to merge with).
fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| {
                k != DIRECTIVE
                    && k != RETAIN_KEYS
                    && !k.starts_with(SET_ORDER)
                    && !k.starts_with(DELETE_FROM)
            });
            m.values_mut().for_each(strip);
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// `None`: the object is deleted (`$patch: delete`).
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    node: Option<Node>,
) -> Result<Option<Map<String, Value>>, SmpError> {
    if let Some(d) = patch.remove(DIRECTIVE) {
        return match d.as_str() {
            Some("replace") => {
                let mut v = Value::Object(patch);
                strip(&mut v);
                Ok(v.as_object().cloned())
            }
            // The real server leaves an empty value, which its encoding then omits.
            Some("delete") => Ok(None),
            _ => Err(bad(format!("Unknown patch type: {d}"))),
        };
    }
    if let Some(keys) = patch.remove(RETAIN_KEYS) {
        let Value::Array(keys) = keys else {
            return Err(bad("invalid patch format of retainKeys"));
        };
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        for (k, v) in &patch {
            if !v.is_null()
                && !k.starts_with(SET_ORDER)
                && !k.starts_with(DELETE_FROM)
                && !keep.contains(&k.as_str())
            {
                return Err(SmpError::Invalid(
                    "doesn't match the retainKeys list in the patch".into(),
                ));
            }
        }
        original.retain(|k, _| keep.contains(&k.as_str()));
    }
    // `$setElementOrder/<list>`: the list is merged and then put in that order.
    let orders: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER))
        .cloned()
        .collect();
    for key in orders {
        let Some(Value::Array(order)) = patch.remove(&key) else {
            return Err(bad("invalid patch format of setElementOrder list"));
        };
        let field = &key[SET_ORDER.len()..];
        let fnode = node.and_then(|n| n.field(field));
        let merge_key = fnode.and_then(|n| n.merge_key()).unwrap_or("");
        let from_original = match original.get(field) {
            Some(Value::Array(a)) => Some(a.clone()),
            _ => None,
        };
        let from_patch = match patch.remove(field) {
            Some(Value::Array(a)) => Some(a),
            Some(other) => {
                patch.insert(field.to_owned(), other);
                None
            }
            None => None,
        };
        let merged = match (&from_original, from_patch) {
            (Some(o), None) => o.clone(),
            (None, Some(mut p)) => {
                p.iter_mut().for_each(strip);
                p
            }
            (Some(o), Some(p)) => merge_list(o.clone(), p, fnode, false)?,
            (None, None) => continue,
        };
        let (in_order, server_only) = partition(merged, &order, merge_key);
        let all = normalize(
            in_order,
            server_only,
            &order,
            from_original.as_deref().unwrap_or(&[]),
            merge_key,
        );
        original.insert(field.to_owned(), Value::Array(all));
    }
    for (key, value) in patch {
        let (key, delete_list) = match key.strip_prefix(DELETE_FROM) {
            Some(field) => (field.to_owned(), true),
            None => (key, false),
        };
        if value.is_null() {
            original.remove(&key);
            continue;
        }
        let fnode = node.and_then(|n| n.field(&key));
        let Some(current) = original.remove(&key) else {
            if !delete_list {
                let mut v = value;
                strip(&mut v);
                original.insert(key, v);
            }
            continue;
        };
        let merged = match (current, value) {
            (Value::Object(o), Value::Object(p)) => {
                if fnode.is_some_and(|n| n.has_strategy("replace")) {
                    let mut v = Value::Object(p);
                    strip(&mut v);
                    Some(v)
                } else {
                    merge_map(o, p, fnode)?.map(Value::Object)
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                if delete_list {
                    Some(Value::Array(
                        o.into_iter().filter(|v| !p.contains(v)).collect(),
                    ))
                } else if fnode.is_some_and(|n| n.has_strategy("merge")) {
                    Some(Value::Array(merge_list(o, p, fnode, true)?))
                } else {
                    let mut v = Value::Array(p);
                    strip(&mut v);
                    Some(v)
                }
            }
            (_, mut p) => {
                strip(&mut p);
                Some(p)
            }
        };
        if let Some(v) = merged {
            original.insert(key, v);
        }
    }
    Ok(Some(original))
}

fn key_of<'v>(item: &'v Value, merge_key: &str) -> Option<&'v Value> {
    if merge_key.is_empty() {
        Some(item)
    } else {
        item.get(merge_key)
    }
}

fn position(list: &[Value], item: &Value, merge_key: &str) -> Option<usize> {
    let k = key_of(item, merge_key)?;
    list.iter().position(|v| key_of(v, merge_key) == Some(k))
}

/// Merges a list whose strategy is `merge`: items of objects by merge key, primitives as a set.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    node: Option<Node>,
    order_by_patch: bool,
) -> Result<Vec<Value>, SmpError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let merge_key = node.and_then(|n| n.merge_key()).unwrap_or("");
    let items = node.and_then(|n| n.items());
    let of_objects = original.iter().chain(&patch).any(Value::is_object);
    let server_order = original.clone();
    let (merged, patch_order) = if !of_objects {
        let mut merged = original;
        for v in &patch {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        (merged, patch)
    } else {
        if merge_key.is_empty() {
            return Err(bad("cannot merge lists without merge key"));
        }
        let mut original = original;
        let mut plain = Vec::new();
        let mut replace = false;
        for item in patch {
            let Value::Object(m) = item else {
                return Err(bad(format!("expected a map in the list, got {item}")));
            };
            match m.get(DIRECTIVE).and_then(Value::as_str) {
                None => plain.push(m),
                Some("delete") => {
                    let Some(k) = m.get(merge_key).cloned() else {
                        return Err(bad(format!(
                            "map: {} does not contain declared merge key: {merge_key}",
                            Value::Object(m)
                        )));
                    };
                    original.retain(|v| v.get(merge_key) != Some(&k));
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    return Err(bad("merging lists cannot yet be specified in the patch"));
                }
                Some(other) => return Err(bad(format!("Unknown patch type: {other}"))),
            }
        }
        if replace {
            let mut v = Value::Array(plain.into_iter().map(Value::Object).collect());
            strip(&mut v);
            return Ok(match v {
                Value::Array(a) => a,
                _ => Vec::new(),
            });
        }
        let patch_order: Vec<Value> = plain.iter().cloned().map(Value::Object).collect();
        for p in plain {
            let Some(k) = p.get(merge_key).cloned() else {
                return Err(bad(format!(
                    "map: {} does not contain declared merge key: {merge_key}",
                    Value::Object(p)
                )));
            };
            match original.iter_mut().find(|v| v.get(merge_key) == Some(&k)) {
                Some(Value::Object(o)) => {
                    let merged = merge_map(std::mem::take(o), p, items)?.unwrap_or_default();
                    *o = merged;
                }
                _ => {
                    let mut v = Value::Object(p);
                    strip(&mut v);
                    original.push(v);
                }
            }
        }
        (original, patch_order)
    };
    if !order_by_patch {
        return Ok(merged);
    }
    let (in_patch, server_only) = partition(merged, &patch_order, merge_key);
    Ok(normalize(
        in_patch,
        server_only,
        &patch_order,
        &server_order,
        merge_key,
    ))
}

/// Items named in `by` and the others, each in their merged order.
fn partition(items: Vec<Value>, by: &[Value], merge_key: &str) -> (Vec<Value>, Vec<Value>) {
    items
        .into_iter()
        .partition(|v| position(by, v, merge_key).is_some())
}

/// The patch's items in the patch's order, the server's own in the server's order, interleaved
/// where the server's order relates them (the real server's rule: a new item goes first).
fn normalize(
    mut patched: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
) -> Vec<Value> {
    let rank = |list: &[Value], v: &Value| position(list, v, merge_key).unwrap_or(usize::MAX);
    patched.sort_by_key(|v| rank(patch_order, v));
    server_only.sort_by_key(|v| rank(server_order, v));
    let mut out = Vec::with_capacity(patched.len() + server_only.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        patched.into_iter().peekable(),
    );
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                let before = match (
                    position(server_order, l, merge_key),
                    position(server_order, r, merge_key),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                };
                if before {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;
    use serde_json::json;

    fn patched(object: Value, patch: Value) -> Value {
        let mut o = object;
        apply(&mut o, &patch, schema::for_kind("apps", "v1", "Deployment")).unwrap();
        o
    }

    fn pod(containers: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn containers_merge_by_name_and_new_ones_go_first() {
        let o = pod(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
        let p = patched(o.clone(), pod(json!([{"name": "b", "image": "b:2"}])));
        assert_eq!(
            p,
            pod(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]))
        );
        let p = patched(o.clone(), pod(json!([{"name": "c", "image": "c:1"}])));
        let names: Vec<_> = p
            .pointer("/spec/template/spec/containers")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, ["c", "a", "b"]);
        let p = patched(o, pod(json!([{"name": "a", "$patch": "delete"}])));
        assert_eq!(p, pod(json!([{"name": "b", "image": "b:1"}])));
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        let o = pod(json!([{"name": "a"}, {"name": "b"}]));
        let mut p = pod(json!([{"name": "c"}]));
        p["spec"]["template"]["spec"]["$setElementOrder/containers"] =
            json!([{"name": "a"}, {"name": "c"}, {"name": "b"}]);
        let r = patched(o, p);
        assert_eq!(r, pod(json!([{"name": "a"}, {"name": "c"}, {"name": "b"}])));
    }

    #[test]
    fn lists_without_a_strategy_replace_and_retain_keys_clears_the_rest() {
        let o = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"containers": [{"name": "a", "args": ["x", "y"]}]}}}});
        let r = patched(
            o,
            json!({"spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {"spec": {"containers": [{"name": "a", "args": ["z"]}]}}}}),
        );
        assert_eq!(r["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            r.pointer("/spec/template/spec/containers/0/args").unwrap(),
            &json!(["z"])
        );
    }

    #[test]
    fn primitive_lists_merge_and_delete_from() {
        let o = json!({"metadata": {"finalizers": ["a", "b"]}});
        let r = patched(o.clone(), json!({"metadata": {"finalizers": ["c", "a"]}}));
        assert_eq!(r["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let r = patched(
            o,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(r["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn patch_directives_on_objects() {
        let o = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let r = patched(
            o.clone(),
            json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
        );
        assert_eq!(r["metadata"]["labels"], json!({"c": "3"}));
        let r = patched(
            o.clone(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
        );
        assert_eq!(r["metadata"].get("labels"), None);
        let r = patched(o, json!({"metadata": {"labels": {"a": null}}}));
        assert_eq!(r["metadata"]["labels"], json!({"b": "2"}));
    }
}
