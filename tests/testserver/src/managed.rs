//! Field sets as server-side apply tracks them: which fields of an object a manager owns, in the
//! `fieldsV1` form of `metadata.managedFields` (`f:name`, `k:{"name":"c"}`, `v:"x"`, `.`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::schema::Node;

/// One step of a path. The order (fields, then keys, values, indices) is the one entries are
/// written in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Field(String),
    /// An item of a `map` list: its key fields as a JSON object, keys sorted.
    Key(String),
    /// An item of a `set` list: its JSON.
    Value(String),
    Index(usize),
}

impl Step {
    fn encode(&self) -> String {
        match self {
            Step::Field(f) => format!("f:{f}"),
            Step::Key(k) => format!("k:{k}"),
            Step::Value(v) => format!("v:{v}"),
            Step::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Step> {
        let (kind, rest) = s.split_at_checked(2)?;
        Some(match kind {
            "f:" => Step::Field(rest.to_owned()),
            "k:" => Step::Key(canonical(rest)?),
            "v:" => Step::Value(canonical(rest)?),
            "i:" => Step::Index(rest.parse().ok()?),
            _ => return None,
        })
    }

    /// As conflicts name it: `.spec`, `[name="c"]`, `[="x"]`, `[0]`.
    fn display(&self) -> String {
        match self {
            Step::Field(f) => format!(".{f}"),
            Step::Key(k) => {
                let parts: Vec<String> = match serde_json::from_str::<Map<String, Value>>(k) {
                    Ok(m) => m.iter().map(|(n, v)| format!("{n}={v}")).collect(),
                    Err(_) => vec![k.clone()],
                };
                format!("[{}]", parts.join(","))
            }
            Step::Value(v) => format!("[={v}]"),
            Step::Index(i) => format!("[{i}]"),
        }
    }
}

/// JSON text with object keys sorted (serde_json's map is ordered by key).
fn canonical(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| v.to_string())
}

pub type Path = Vec<Step>;

pub fn display(path: &[Step]) -> String {
    path.iter().map(Step::display).collect()
}

/// A set of paths, as a tree: `member` says the path to this node is in the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    member: bool,
    children: BTreeMap<Step, Set>,
}

impl Set {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    pub fn insert(&mut self, path: &[Step]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// The subtree under `path` (members at or below it).
    pub fn under(&self, path: &[Step]) -> Option<&Set> {
        match path.split_first() {
            None => Some(self),
            Some((first, rest)) => self.children.get(first)?.under(rest),
        }
    }

    pub fn union(&mut self, other: &Set) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.children.entry(k.clone()).or_default().union(c);
        }
    }

    /// Members of `self` that are not members of `other`.
    pub fn difference(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    pub fn intersection(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(o) = other.children.get(k) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// The members under the top-level `step` only.
    pub fn only(&self, step: &Step) -> Set {
        let mut out = Set::default();
        if let Some(c) = self.children.get(step) {
            out.children.insert(step.clone(), c.clone());
        }
        out
    }

    /// Removes the path and everything under it.
    pub fn remove_tree(&mut self, path: &[Step]) {
        match path.split_first() {
            None => *self = Set::default(),
            Some((first, rest)) => {
                if let Some(c) = self.children.get_mut(first) {
                    c.remove_tree(rest);
                    if c.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Every member path, in order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` JSON.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, c) in &self.children {
            m.insert(k.encode(), c.to_fields_v1());
        }
        Value::Object(m)
    }

    pub fn from_fields_v1(v: &Value) -> Set {
        let mut set = Set::default();
        if let Value::Object(m) = v {
            for (k, c) in m {
                if k == "." {
                    set.member = true;
                } else if let Some(step) = Step::decode(k) {
                    let mut child = Set::from_fields_v1(c);
                    if c.as_object().is_some_and(Map::is_empty) {
                        child.member = true;
                    }
                    set.children.insert(step, child);
                }
            }
        }
        set
    }
}

/// The step to a list item, from the list's schema: `k:` for `map` lists, `v:` for `set` lists.
pub fn item_step(list: Option<Node>, item: &Value, index: usize) -> Step {
    match list.map(|n| n.list_type()) {
        Some("map") => {
            let keys = list.map(|n| n.list_map_keys()).unwrap_or_default();
            let mut k = Map::new();
            for name in keys {
                if let Some(v) = item.get(name) {
                    k.insert(name.to_owned(), v.clone());
                }
            }
            Step::Key(Value::Object(k).to_string())
        }
        Some("set") => Step::Value(item.to_string()),
        _ => Step::Index(index),
    }
}

/// Whether a list is merged item by item (else it is owned and replaced whole).
pub fn granular_list(node: Option<Node>) -> bool {
    matches!(node.map(|n| n.list_type()), Some("map" | "set"))
}

/// Whether an object is merged member by member.
pub fn granular_map(node: Option<Node>) -> bool {
    !node.is_some_and(|n| n.atomic_map())
}

/// The fields an applied configuration sets (structured-merge-diff's rule: leaves, list items,
/// map entries, empty objects and nulls are members; struct fields that hold members are not).
pub fn fields_of(value: &Value, node: Option<Node>) -> Set {
    let mut set = Set::default();
    walk_fields(value, node, &mut Vec::new(), &mut set);
    set
}

fn walk_fields(value: &Value, node: Option<Node>, path: &mut Path, set: &mut Set) {
    match value {
        Value::Object(m) if granular_map(node) => {
            for (k, v) in m {
                let child = node.and_then(|n| n.field(k));
                path.push(Step::Field(k.clone()));
                walk_fields(v, child, path, set);
                let empty = v.is_null() || v.as_object().is_some_and(Map::is_empty);
                if empty || !node.is_some_and(|n| n.declares(k)) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) if granular_list(node) => {
            let item_node = node.and_then(|n| n.items());
            for (i, item) in items.iter().enumerate() {
                path.push(item_step(node, item, i));
                walk_fields(item, item_node, path, set);
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// What changed between two versions of an object, as field sets.
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    pub fn changed(&self) -> Set {
        let mut s = self.added.clone();
        s.union(&self.modified);
        s
    }
}

pub fn compare(old: &Value, new: &Value, node: Option<Node>) -> Comparison {
    let mut c = Comparison::default();
    diff(Some(old), Some(new), node, &mut Vec::new(), &mut c);
    c
}

fn children(v: Option<&Value>, node: Option<Node>) -> Vec<(Step, Value)> {
    match v {
        Some(Value::Object(m)) if granular_map(node) => m
            .iter()
            .map(|(k, v)| (Step::Field(k.clone()), v.clone()))
            .collect(),
        Some(Value::Array(items)) if granular_list(node) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item_step(node, item, i), item.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn child_node<'a>(node: Option<Node<'a>>, step: &Step) -> Option<Node<'a>> {
    match step {
        Step::Field(f) => node.and_then(|n| n.field(f)),
        _ => node.and_then(|n| n.items()),
    }
}

fn composite(v: Option<&Value>, node: Option<Node>) -> bool {
    match v {
        Some(Value::Object(_)) => granular_map(node),
        Some(Value::Array(_)) => granular_list(node),
        _ => false,
    }
}

fn diff(
    old: Option<&Value>,
    new: Option<&Value>,
    node: Option<Node>,
    path: &mut Path,
    c: &mut Comparison,
) {
    if old == new {
        return;
    }
    let (o_comp, n_comp) = (composite(old, node), composite(new, node));
    if old.is_some() && new.is_some() && !(o_comp && n_comp) {
        let null_or_composite = |v: Option<&Value>, comp| comp || v.is_some_and(Value::is_null);
        // null → object: the members are added, the field itself was there.
        if !(null_or_composite(old, o_comp) && null_or_composite(new, n_comp)) {
            c.modified.insert(path);
            return;
        }
    }
    let olds = children(old, node);
    let news = children(new, node);
    for (step, nv) in &news {
        let ov = olds.iter().find(|(s, _)| s == step).map(|(_, v)| v);
        path.push(step.clone());
        if ov.is_none() {
            c.added.insert(path);
        }
        diff(ov, Some(nv), child_node(node, step), path, c);
        path.pop();
    }
    for (step, ov) in &olds {
        if news.iter().any(|(s, _)| s == step) {
            continue;
        }
        path.push(step.clone());
        c.removed.insert(path);
        diff(Some(ov), None, child_node(node, step), path, c);
        path.pop();
    }
}

/// Removes the value at `path` (and then the objects and lists it leaves empty on the way).
pub fn remove_path(value: &mut Value, path: &[Step], node: Option<Node>) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match (value, first) {
        (Value::Object(m), Step::Field(f)) => {
            if rest.is_empty() {
                m.remove(f).is_some()
            } else {
                let child = node.and_then(|n| n.field(f));
                let Some(v) = m.get_mut(f) else { return false };
                let done = remove_path(v, rest, child);
                if done && is_empty_composite(v) {
                    m.remove(f);
                }
                done
            }
        }
        (Value::Array(items), step) => {
            let Some(i) = items
                .iter()
                .enumerate()
                .position(|(i, item)| &item_step(node, item, i) == step)
            else {
                return false;
            };
            if rest.is_empty() {
                items.remove(i);
                true
            } else {
                let child = node.and_then(|n| n.items());
                remove_path(&mut items[i], rest, child)
            }
        }
        _ => false,
    }
}

fn is_empty_composite(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    #[test]
    fn applied_fields_of_a_deployment_in_fields_v1_form() {
        let d = schema::for_kind("apps", "v1", "Deployment");
        let config = json!({"spec": {"replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "i",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}}});
        let set = fields_of(&config, d);
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}, "f:selector": {},
                "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {},
                            "f:containerPort": {}, "f:protocol": {}}}}}}}}})
        );
        assert_eq!(Set::from_fields_v1(&set.to_fields_v1()), set);
        let paths: Vec<String> = set.paths().iter().map(|p| display(p)).collect();
        assert!(paths.contains(&".spec.template.spec.containers[name=\"c\"].image".to_owned()));
        assert!(paths.contains(&".spec.template.spec.containers[name=\"c\"].ports[containerPort=80,protocol=\"TCP\"]".to_owned()));
    }

    #[test]
    fn comparison_marks_added_members_and_their_parents() {
        let d = schema::for_kind("apps", "v1", "Deployment");
        let old = json!({"metadata": {}, "spec": {"replicas": 1}});
        let new = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 2}});
        let c = compare(&old, &new, d);
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
        assert_eq!(
            c.modified.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}}})
        );
        let back = compare(&new, &old, d);
        assert_eq!(
            back.removed.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
    }
}
