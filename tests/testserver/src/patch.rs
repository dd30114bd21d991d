//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over `serde_json::Value`s.

use serde_json::Value;

/// Applies a merge patch: objects merge member by member, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Why a JSON patch could not be applied (the server answers 422 or 400 with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPatchError {
    #[error("the JSON patch is not an array of operations")]
    NotAnArray,
    #[error("operation {index}: {message}")]
    Op { index: usize, message: String },
}

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Splits a JSON pointer into the parent pointer and the last token.
fn split(pointer: &str) -> Option<(&str, String)> {
    let i = pointer.rfind('/')?;
    Some((&pointer[..i], unescape_token(&pointer[i + 1..])))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split(path).ok_or_else(|| format!("invalid path {path:?}"))?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| format!("index {last:?} out of range at {parent:?}"))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split(path).ok_or_else(|| format!("invalid path {path:?}"))?;
    let missing = || format!("unable to remove nonexistent key: {last}: missing value");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(items)) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(missing)?;
            Ok(items.remove(i))
        }
        _ => Err(missing()),
    }
}

/// Applies a JSON patch; nothing changes unless every operation succeeds.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), JsonPatchError> {
    let ops = patch.as_array().ok_or(JsonPatchError::NotAnArray)?;
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        let fail = |message: String| JsonPatchError::Op { index, message };
        let field = |name: &str| {
            op.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| fail(format!("missing {name:?}")))
        };
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| fail("missing \"value\"".into()))
        };
        let path = field("path")?;
        match field("op")?.as_str() {
            "add" => add(&mut doc, &path, value()?).map_err(fail)?,
            "remove" => {
                remove(&mut doc, &path).map_err(fail)?;
            }
            "replace" => {
                remove(&mut doc, &path).map_err(fail)?;
                add(&mut doc, &path, value()?).map_err(fail)?;
            }
            "move" => {
                let from = field("from")?;
                let moved = remove(&mut doc, &from).map_err(fail)?;
                add(&mut doc, &path, moved).map_err(fail)?;
            }
            "copy" => {
                let from = field("from")?;
                let copied = doc
                    .pointer(&from)
                    .cloned()
                    .ok_or_else(|| fail(format!("missing value at {from:?}")))?;
                add(&mut doc, &path, copied).map_err(fail)?;
            }
            "test" => {
                if doc.pointer(&path) != Some(&value()?) {
                    return Err(fail(format!("testing value {path} failed")));
                }
            }
            other => return Err(fail(format!("unexpected kind: {other}"))),
        }
    }
    *target = doc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge(&mut doc, &json!({"a": "z", "c": {"f": null}, "l": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "l": [3]}));
    }

    #[test]
    fn json_patch_is_all_or_nothing() {
        let mut doc = json!({"a": {"b": [1, 2]}});
        json_patch(
            &mut doc,
            &json!([
                {"op": "add", "path": "/a/b/1", "value": 9},
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "replace", "path": "/a/b/0", "value": 0},
                {"op": "copy", "from": "/a/b", "path": "/c"},
                {"op": "move", "from": "/c", "path": "/d~1e"},
                {"op": "test", "path": "/d~1e/1", "value": 9},
            ]),
        )
        .unwrap();
        assert_eq!(doc, json!({"a": {"b": [0, 9, 2, 3]}, "d/e": [0, 9, 2, 3]}));
        let before = doc.clone();
        let err = json_patch(
            &mut doc,
            &json!([{"op": "remove", "path": "/a"}, {"op": "remove", "path": "/nope"}]),
        )
        .unwrap_err();
        assert!(matches!(err, JsonPatchError::Op { index: 1, .. }));
        assert_eq!(doc, before);
    }
}
