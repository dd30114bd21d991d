//! Compares a server body with its re-encoding under the conformance rules:
//!
//! - key order is irrelevant;
//! - `null`, `[]` and an absent key are the same only where the model field is optional or a
//!   list: `null` may come back absent (an optional field: `Option` reads `null` as `None`, as Go
//!   reads a nil pointer), absent or `null` may come back `[]` (a required list: `Vec`). Which
//!   one it is shows in the re-encoding itself, since only an `Option` field turns `null` into
//!   absent and only a `Vec` field writes `[]` for nothing; every other change among the three
//!   (`[]` lost, a `null` invented) is a difference, so no per-field table is needed;
//! - `{}` is *not* the same as absent (`emptyDir: {}` selects a volume source);
//! - integers compare exactly (`9007199254740993` is not `9007199254740992.0`, `1` is not
//!   `1.0`); numbers with a fraction or exponent compare by value; strings must be identical;
//! - the only thing a re-encoding may add: `apiVersion`/`kind` on the elements of the top-level
//!   `items` of a `…List` body, and then only the list's own group-version and item kind.

use std::fmt;

use serde_json::{Map, Number, Value};

/// The first place where a re-encoding differs from the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// JSON path such as `items[3].metadata.managedFields[0].fieldsV1`; empty for the root.
    pub path: String,
    /// The original value, shortened; `None` when absent.
    pub original: Option<String>,
    /// The re-encoded value, shortened; `None` when absent.
    pub reencoded: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".to_owned());
        write!(
            f,
            "at `{path}`: original {}, re-encoded {}",
            show(&self.original),
            show(&self.reencoded)
        )
    }
}

impl std::error::Error for Difference {}

/// Longest rendering of a value in a [`Difference`], in characters.
const SHORT: usize = 80;

/// Compact JSON of `v`, cut to [`SHORT`] characters.
pub fn shorten(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(SHORT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `Ok` when `reencoded` carries everything `original` does and nothing else (see module docs).
pub fn compare(original: &Value, reencoded: &Value) -> Result<(), Difference> {
    let mut path = Vec::new();
    let items = list_items(original);
    walk(Some(original), Some(reencoded), &mut path, items.as_ref())
}

/// What list items may gain: the list's apiVersion (if it has one) and its kind minus `List`.
struct ItemGain<'a> {
    api_version: Option<&'a str>,
    kind: &'a str,
}

fn list_items(original: &Value) -> Option<ItemGain<'_>> {
    let obj = original.as_object()?;
    let kind = obj.get("kind")?.as_str()?.strip_suffix("List")?;
    obj.get("items")?.as_array()?;
    Some(ItemGain {
        api_version: obj.get("apiVersion").and_then(Value::as_str),
        kind,
    })
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn render(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(k) if is_plain(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            // Keys such as `f:spec` or `k8s.io/initial-events-end` would make a dotted path ambiguous.
            Segment::Key(k) => out.push_str(&format!("[{}]", Value::String((*k).to_owned()))),
        }
    }
    out
}

fn is_plain(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Absent, `null` and `[]`: "nothing here" in Go, but which of them may stand for another
/// depends on the model field (see the module docs).
fn is_nothing(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Whether the re-encoding of one "nothing" is what an optional or a list field makes of the
/// original one.
fn same_nothing(original: Option<&Value>, reencoded: Option<&Value>) -> bool {
    match (original, reencoded) {
        (None, None) | (Some(Value::Null), Some(Value::Null)) => true,
        // An optional field: `null` read as `None`, skipped on encode.
        (Some(Value::Null), None) => true,
        // A required list: nothing read as an empty `Vec`, written as `[]`.
        (None | Some(Value::Null), Some(Value::Array(_))) => true,
        (Some(Value::Array(_)), Some(Value::Array(_))) => true,
        // `[]` lost, or a `null` invented.
        _ => false,
    }
}

fn differ(path: &[Segment<'_>], original: Option<&Value>, reencoded: Option<&Value>) -> Difference {
    Difference {
        path: render(path),
        original: original.map(shorten),
        reencoded: reencoded.map(shorten),
    }
}

fn walk<'a>(
    original: Option<&'a Value>,
    reencoded: Option<&'a Value>,
    path: &mut Vec<Segment<'a>>,
    items: Option<&ItemGain<'a>>,
) -> Result<(), Difference> {
    if is_nothing(original) && is_nothing(reencoded) {
        return if same_nothing(original, reencoded) {
            Ok(())
        } else {
            Err(differ(path, original, reencoded))
        };
    }
    let (Some(a), Some(b)) = (original, reencoded) else {
        return Err(differ(path, original, reencoded));
    };
    let same = match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            // Only the root's `items` elements may gain apiVersion/kind.
            let gain = if path.len() == 2 && matches!(path[0], Segment::Key("items")) {
                items
            } else {
                None
            };
            return walk_object(x, y, path, items, gain);
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                path.push(Segment::Index(i));
                match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) => walk(Some(p), Some(q), path, items)?,
                    // A missing element is never "nothing": positions would shift.
                    (p, q) => return Err(differ(path, p, q)),
                }
                path.pop();
            }
            true
        }
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        // Type changes, e.g. a number turned into a string, or `null` against `{}`.
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(differ(path, Some(a), Some(b)))
    }
}

fn walk_object<'a>(
    original: &'a Map<String, Value>,
    reencoded: &'a Map<String, Value>,
    path: &mut Vec<Segment<'a>>,
    items: Option<&ItemGain<'a>>,
    gain: Option<&ItemGain<'a>>,
) -> Result<(), Difference> {
    // Keys of the original first, then the ones only the re-encoding has: the first difference
    // reported is then the first the reader of the original would meet.
    let extra = reencoded.keys().filter(|k| !original.contains_key(*k));
    for key in original.keys().chain(extra) {
        let (a, b) = (original.get(key), reencoded.get(key));
        path.push(Segment::Key(key));
        let gained = match (gain, b) {
            (Some(gain), Some(b))
                if is_nothing(a) && matches!(key.as_str(), "apiVersion" | "kind") =>
            {
                Some((gain, b))
            }
            _ => None,
        };
        if let Some((gain, b)) = gained {
            let allowed = match key.as_str() {
                "apiVersion" => {
                    gain.api_version.is_none_or(|v| b.as_str() == Some(v)) && b.is_string()
                }
                _ => b.as_str() == Some(gain.kind),
            };
            if !allowed {
                return Err(differ(path, a, Some(b)));
            }
        } else {
            walk(a, b, path, items)?;
        }
        path.pop();
    }
    Ok(())
}

/// Integers exactly, and only against integers; the rest (fractions, exponents) by value.
fn same_number(x: &Number, y: &Number) -> bool {
    if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
        return p == q;
    }
    if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
        return p == q;
    }
    if x.is_f64() && y.is_f64() {
        return x.as_f64() == y.as_f64();
    }
    // An integer against a float (`1` against `1.0`, 2^53 + 1 rounded), or one negative i64
    // and one u64 beyond i64::MAX.
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(a: Value, b: Value) -> Difference {
        compare(&a, &b).expect_err("a difference")
    }

    #[test]
    fn key_order_is_ignored() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"c":"x","d":[1,2]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"d":[1,2],"c":"x"},"a":1}"#).unwrap();
        assert_eq!(compare(&a, &b), Ok(()));
    }

    #[test]
    fn nothing_may_change_only_as_optional_and_list_fields_do() {
        let bare = json!({"spec": {"name": "x"}});
        // Optional field: `null` comes back absent.
        assert_eq!(
            compare(&json!({"spec": {"name": "x", "c": null}}), &bare),
            Ok(())
        );
        // Required list: absent or `null` comes back `[]`.
        let empty = json!({"spec": {"name": "x", "c": []}});
        assert_eq!(compare(&bare, &empty), Ok(()));
        assert_eq!(compare(&json!({"a": null}), &json!({"a": []})), Ok(()));
        // `[]` lost.
        assert_eq!(diff(empty.clone(), bare.clone()).path, "spec.c");
        assert_eq!(diff(json!({"a": []}), json!({"a": null})).path, "a");
        // `null` invented where nothing was (a required non-list field written as its zero).
        let d = diff(bare, json!({"spec": {"name": "x", "c": null}}));
        assert_eq!(
            (d.path.as_str(), d.reencoded.as_deref()),
            ("spec.c", Some("null"))
        );
    }

    #[test]
    fn empty_object_is_not_absent() {
        let d = diff(
            json!({"volumes": [{"name": "tmp", "emptyDir": {}}]}),
            json!({"volumes": [{"name": "tmp"}]}),
        );
        assert_eq!(d.path, "volumes[0].emptyDir");
        assert_eq!(d.original.as_deref(), Some("{}"));
        assert_eq!(d.reencoded, None);
        // And the other way round: an invented `{}`.
        let d = diff(json!({"status": null}), json!({"status": {}}));
        assert_eq!(d.path, "status");
    }

    #[test]
    fn dropped_field_is_reported_with_its_path() {
        let d = diff(
            json!({"items": [{}, {"metadata": {"managedFields": [{"fieldsV1": {"f:spec": {}}}]}}]}),
            json!({"items": [{}, {"metadata": {"managedFields": [{}]}}]}),
        );
        assert_eq!(d.path, "items[1].metadata.managedFields[0].fieldsV1");
        assert_eq!(d.original.as_deref(), Some(r#"{"f:spec":{}}"#));
        assert_eq!(
            d.to_string(),
            r#"at `items[1].metadata.managedFields[0].fieldsV1`: original {"f:spec":{}}, re-encoded (absent)"#
        );
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        let d = diff(
            json!({"metadata": {"annotations": {"k8s.io/initial-events-end": "true"}}}),
            json!({"metadata": {"annotations": {"k8s.io/initial-events-end": "false"}}}),
        );
        assert_eq!(
            d.path,
            r#"metadata.annotations["k8s.io/initial-events-end"]"#
        );
    }

    #[test]
    fn changed_string_is_reported() {
        let d = diff(
            json!({"a": "2024-01-01T00:00:00Z"}),
            json!({"a": "2024-01-01T00:00:00.000Z"}),
        );
        assert_eq!(d.path, "a");
    }

    #[test]
    fn root_difference_has_empty_path() {
        let d = diff(json!("a"), json!("b"));
        assert_eq!(d.path, "");
        assert!(d.to_string().starts_with("at `(root)`"));
    }

    #[test]
    fn added_field_is_reported() {
        let d = diff(json!({"a": 1}), json!({"a": 1, "b": ""}));
        assert_eq!(
            (d.path.as_str(), d.original, d.reencoded.as_deref()),
            ("b", None, Some(r#""""#))
        );
    }

    #[test]
    fn integers_compare_exactly_and_numbers_stay_numbers() {
        assert_eq!(diff(json!({"cpu": 1}), json!({"cpu": 1.0})).path, "cpu");
        assert_eq!(diff(json!({"cpu": 1.0}), json!({"cpu": 1})).path, "cpu");
        // 2^53 + 1 against the float it rounds to.
        let big: Value = serde_json::from_str(r#"{"n":9007199254740993}"#).unwrap();
        let rounded: Value = serde_json::from_str(r#"{"n":9007199254740992.0}"#).unwrap();
        assert_eq!(diff(big.clone(), rounded).path, "n");
        assert_eq!(compare(&big, &big), Ok(()));
        assert_eq!(compare(&json!({"x": 0.5}), &json!({"x": 0.5})), Ok(()));
        assert_eq!(compare(&json!({"n": -3}), &json!({"n": -3})), Ok(()));
        assert_eq!(
            compare(&json!({"n": u64::MAX}), &json!({"n": u64::MAX})),
            Ok(())
        );
        assert_eq!(diff(json!({"n": -1}), json!({"n": u64::MAX})).path, "n");
        assert_eq!(diff(json!({"cpu": 1}), json!({"cpu": 2})).path, "cpu");
        let d = diff(json!({"port": 8080}), json!({"port": "8080"}));
        assert_eq!(
            (d.original.as_deref(), d.reencoded.as_deref()),
            (Some("8080"), Some(r#""8080""#))
        );
        assert_eq!(diff(json!({"b": true}), json!({"b": "true"})).path, "b");
    }

    #[test]
    fn arrays_keep_length_and_order() {
        assert_eq!(diff(json!({"a": [1, 2]}), json!({"a": [1]})).path, "a[1]");
        assert_eq!(
            diff(json!({"a": [1]}), json!({"a": [1, null]})).path,
            "a[1]"
        );
        assert_eq!(
            diff(json!({"a": [1, 2]}), json!({"a": [2, 1]})).path,
            "a[0]"
        );
    }

    #[test]
    fn list_items_may_gain_their_api_version_and_kind() {
        let original =
            json!({"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": "a"}}]});
        let reencoded = json!({"kind": "PodList", "apiVersion": "v1",
            "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}]});
        assert_eq!(compare(&original, &reencoded), Ok(()));
    }

    #[test]
    fn list_items_may_not_gain_anything_else() {
        let original =
            json!({"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": "a"}}]});
        let wrong_kind = json!({"kind": "PodList", "apiVersion": "v1", "items": [{"kind": "Node", "metadata": {"name": "a"}}]});
        assert_eq!(diff(original.clone(), wrong_kind).path, "items[0].kind");
        let wrong_version = json!({"kind": "PodList", "apiVersion": "v1", "items": [{"apiVersion": "v2", "metadata": {"name": "a"}}]});
        assert_eq!(
            diff(original.clone(), wrong_version).path,
            "items[0].apiVersion"
        );
        let other_field = json!({"kind": "PodList", "apiVersion": "v1", "items": [{"spec": {}, "metadata": {"name": "a"}}]});
        assert_eq!(diff(original.clone(), other_field).path, "items[0].spec");
        let nested = json!({"kind": "PodList", "apiVersion": "v1",
            "items": [{"metadata": {"name": "a", "apiVersion": "v1"}}]});
        assert_eq!(diff(original, nested).path, "items[0].metadata.apiVersion");
    }

    #[test]
    fn invented_api_version_outside_list_items_is_reported() {
        // On an object that is not a list.
        let d = diff(
            json!({"kind": "Pod", "metadata": {}}),
            json!({"kind": "Pod", "apiVersion": "v1", "metadata": {}}),
        );
        assert_eq!(d.path, "apiVersion");
        // On nested discovery objects of a body whose kind does not end in `List`.
        let d = diff(
            json!({"kind": "APIGroupList", "groups": [{"name": "apps"}]}),
            json!({"kind": "APIGroupList", "groups": [{"name": "apps", "apiVersion": "v1", "kind": "APIGroup"}]}),
        );
        assert_eq!(d.path, "groups[0].apiVersion");
        // On the list itself.
        let d = diff(
            json!({"kind": "PodList", "items": []}),
            json!({"kind": "PodList", "apiVersion": "v1", "items": []}),
        );
        assert_eq!(d.path, "apiVersion");
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(500);
        let d = diff(json!({"a": long}), json!({}));
        let shown = d.original.unwrap();
        assert_eq!(shown.chars().count(), SHORT + 1);
        assert!(shown.ends_with('…'));
        // Cuts fall on character boundaries.
        assert!(shorten(&json!("é".repeat(200))).ends_with('…'));
    }
}
