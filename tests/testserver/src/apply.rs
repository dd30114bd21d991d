//! Server-side apply and `metadata.managedFields`: who owns which fields, conflicts when an apply
//! would change another manager's fields, and the `Update` entries of every other write.

use kuber_api::KindInfo;
use serde_json::{Map, Value, json};

use crate::managed::{self, Comparison, Set, Step};
use crate::schema::{self, Node};
use crate::status::{self, Failure};

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: String,
    set: Set,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.manager.is_empty() {
            m.insert("manager".into(), json!(self.manager));
        }
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }

    /// As conflicts name the manager: appliers by name, updaters with their version.
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        // The manager's identity holds no time, so the real server names none.
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

fn entries_of(object: &Value) -> Vec<Entry> {
    let list = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            Entry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: e.get("time").and_then(Value::as_str).map(str::to_owned),
                subresource: s("subresource"),
                set: Set::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
            }
        })
        .collect()
}

/// Writes the entries, in the real server's order (operation, time, manager), empty ones dropped.
fn store_entries(object: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::to_json).collect()),
        );
    }
}

fn now() -> String {
    kuber::models::special::Time::now().into_string()
}

fn field(name: &str) -> Step {
    Step::Field(name.to_owned())
}

/// What no manager owns: type and identity fields, and what the server keeps itself.
fn strip(set: &Set, kind: &KindInfo, subresource: &str) -> Set {
    let mut out = set.clone();
    let mut exact = Set::default();
    exact.insert(&[field("apiVersion")]);
    exact.insert(&[field("kind")]);
    exact.insert(&[field("metadata")]);
    for f in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        exact.insert(&[field("metadata"), field(f)]);
        if f == "managedFields" {
            out.remove_tree(&[field("metadata"), field(f)]);
        }
    }
    out = out.difference(&exact);
    // A write to one part of an object with a status subresource leaves the other part alone.
    if kind.subresource("status").is_some() {
        if subresource == "status" {
            out = out.only(&field("status"));
        } else {
            out.remove_tree(&[field("status")]);
        }
    }
    out
}

fn node_of(kind: &KindInfo) -> Option<Node<'static>> {
    schema::for_kind(kind.group, kind.version, kind.kind)
}

/// The object the real server compares a create with: Go's zero value of the kind. Its
/// non-pointer structs are there already and its required lists are there as null, so creating
/// them is no change of their own (only their members are).
fn zero_value(new: &Value, node: Option<Node>) -> Value {
    const ALWAYS_THERE: [&str; 6] = [
        "metadata",
        "spec",
        "status",
        "template",
        "strategy",
        "updateStrategy",
    ];
    let Value::Object(m) = new else {
        return json!({});
    };
    let mut out = Map::new();
    for (k, v) in m {
        let child = node.and_then(|n| n.field(k));
        let required = node.is_some_and(|n| n.requires(k));
        match v {
            Value::Object(_) if ALWAYS_THERE.contains(&k.as_str()) || required => {
                out.insert(k.clone(), zero_value(v, child));
            }
            Value::Array(_) if required => {
                out.insert(k.clone(), Value::Null);
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// The manager of a write that names none: the user agent up to its first `/`, else `unknown`.
pub fn default_manager(user_agent: &str) -> String {
    match user_agent.split('/').next().unwrap_or("") {
        "" => "unknown".into(),
        prefix => prefix.to_owned(),
    }
}

/// Records a create, replace or non-apply patch by `manager` in `new`'s managedFields.
pub fn record_update(
    kind: &KindInfo,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
) {
    let node = node_of(kind);
    // A body that brings its own managedFields replaces them (`[]` clears them); one that brings
    // none keeps the stored ones.
    let brought = new
        .pointer("/metadata/managedFields")
        .filter(|v| !v.is_null())
        .cloned();
    let mut entries = match (&brought, old) {
        (Some(_), _) => entries_of(new),
        (None, Some(old)) => entries_of(old),
        (None, None) => Vec::new(),
    };
    let before = match old {
        Some(o) => o.clone(),
        None => zero_value(new, node),
    };
    let c = compare(&before, new, node, kind, subresource);
    let changed = c.changed();
    for e in &mut entries {
        e.set = e.set.difference(&c.removed);
        if !e.same_owner(manager, "Update", subresource) {
            e.set = e.set.difference(&changed);
        }
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_owner(manager, "Update", subresource))
        {
            Some(e) => {
                e.set.union(&changed);
                e.time = Some(now());
                e.api_version = kind.api_version.to_owned();
            }
            None => entries.push(Entry {
                manager: manager.to_owned(),
                operation: "Update".into(),
                api_version: kind.api_version.to_owned(),
                time: Some(now()),
                subresource: subresource.to_owned(),
                set: changed,
            }),
        }
    }
    if brought.is_some() || old.is_some() || !entries.is_empty() {
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        store_entries(new, entries);
    }
}

fn compare(old: &Value, new: &Value, node: Option<Node>, kind: &KindInfo, sub: &str) -> Comparison {
    let c = managed::compare(old, new, node);
    Comparison {
        added: strip(&c.added, kind, sub),
        modified: strip(&c.modified, kind, sub),
        removed: strip(&c.removed, kind, sub),
    }
}

/// Merges an applied configuration into the live object: objects member by member, `map` and
/// `set` lists item by item, everything else (atomic) replaced.
fn merge(live: &Value, config: &Value, node: Option<Node>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if managed::granular_map(node) => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let child = node.and_then(|n| n.field(k));
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, cv, child),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) if managed::granular_list(node) => {
            let items = node.and_then(|n| n.items());
            let step = |v: &Value, i| managed::item_step(node, v, i);
            let lsteps: Vec<Step> = l.iter().enumerate().map(|(i, v)| step(v, i)).collect();
            let csteps: Vec<Step> = c.iter().enumerate().map(|(i, v)| step(v, i)).collect();
            let merged_item = |ci: usize| match lsteps.iter().position(|s| *s == csteps[ci]) {
                Some(li) => merge(&l[li], &c[ci], items),
                None => c[ci].clone(),
            };
            let mut out = Vec::new();
            let mut taken = vec![false; c.len()];
            let mut ci = 0;
            for (li, ls) in lsteps.iter().enumerate() {
                match csteps.iter().position(|s| s == ls) {
                    None => out.push(l[li].clone()),
                    Some(target) if !taken[target] => {
                        // The applied items up to this shared one, in the applied order.
                        while ci <= target {
                            if !taken[ci] {
                                out.push(merged_item(ci));
                                taken[ci] = true;
                            }
                            ci += 1;
                        }
                    }
                    Some(_) => {}
                }
            }
            for (i, t) in taken.iter().enumerate() {
                if !t {
                    out.push(merged_item(i));
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Fields the manager applied before and no longer applies, and no one else owns, go.
fn prune(object: &mut Value, last: &Set, now: &Set, others: &Set, node: Option<Node>) {
    let gone = last.difference(now);
    for path in gone.paths() {
        let owned_below = |s: &Set| s.under(&path).is_some_and(|u| !u.is_empty());
        if owned_below(others) || owned_below(now) {
            continue;
        }
        managed::remove_path(object, &path, node);
    }
}

fn conflict_failure(conflicts: &[(String, String)]) -> Failure {
    let message = if let [(manager, path)] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {manager}: {path}")
    } else {
        let mut lines = Vec::new();
        let mut last: Option<&str> = None;
        for (manager, path) in conflicts {
            if last != Some(manager) {
                lines.push(format!("conflicts with {manager}:"));
                last = Some(manager);
            }
            lines.push(format!("- {path}"));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(manager, path)| {
            json!({"reason": "FieldManagerConflict", "message": format!("conflict with {manager}"), "field": path})
        })
        .collect();
    status::failure(409, "Conflict", message, Some(json!({"causes": causes})))
}

fn bad(message: impl Into<String>) -> Failure {
    status::bad_request(message.into())
}

/// A server-side apply of `config` by `manager` on `live` (`None`: the object is created).
/// Answers the object to store, managedFields included.
pub fn apply(
    kind: &KindInfo,
    live: Option<&Value>,
    mut config: Value,
    manager: &str,
    force: bool,
    subresource: &str,
) -> Result<Value, Failure> {
    let node = node_of(kind);
    let Some(c) = config.as_object_mut() else {
        return Err(bad("the applied configuration is not an object"));
    };
    match c.get("kind").and_then(Value::as_str) {
        Some(k) if k == kind.kind => {}
        Some(k) => {
            return Err(bad(format!(
                "the kind in the body ({k}) does not match the kind of the path ({})",
                kind.kind
            )));
        }
        None => return Err(bad("Object 'Kind' is missing in the applied configuration")),
    }
    if c.get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|m| !m.is_null())
    {
        return Err(bad("metadata.managedFields must be nil"));
    }
    let applied = strip(&managed::fields_of(&config, node), kind, subresource);
    // What the applier may not set here is dropped from the object as well.
    if kind.subresource("status").is_some()
        && let Some(c) = config.as_object_mut()
    {
        c.remove(if subresource == "status" {
            "spec"
        } else {
            "status"
        });
    }
    let empty = json!({});
    let base = live.unwrap_or(&empty);
    let mut entries = entries_of(base);
    if live.is_some() && entries.is_empty() {
        // An object nobody manages yet: its fields are the previous writer's.
        let set = strip(&managed::fields_of(base, node), kind, "");
        entries.push(Entry {
            manager: "before-first-apply".into(),
            operation: "Update".into(),
            api_version: kind.api_version.to_owned(),
            time: None,
            subresource: String::new(),
            set,
        });
    }
    let mine = |e: &Entry| e.same_owner(manager, "Apply", subresource);
    let last = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut others = Set::default();
    for e in entries.iter().filter(|e| !mine(e)) {
        others.union(&e.set);
    }
    let mut merged = merge(base, &config, node);
    prune(&mut merged, &last, &applied, &others, node);
    let c = compare(base, &merged, node, kind, subresource);
    let changed = c.changed();
    let mut conflicts = Vec::new();
    for e in entries.iter_mut().filter(|e| !mine(e)) {
        let clash = e.set.intersection(&changed);
        if clash.is_empty() {
            continue;
        }
        for p in clash.paths() {
            conflicts.push((e.describe(), managed::display(&p)));
        }
        if force {
            e.set = e.set.difference(&clash);
        }
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort();
        return Err(conflict_failure(&conflicts));
    }
    for e in &mut entries {
        e.set = e.set.difference(&c.removed);
    }
    let unchanged = live.is_some() && changed.is_empty() && c.removed.is_empty();
    match entries.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            e.set = applied;
            e.api_version = kind.api_version.to_owned();
            if !unchanged {
                e.time = Some(now());
            }
        }
        None => entries.push(Entry {
            manager: manager.to_owned(),
            operation: "Apply".into(),
            api_version: kind.api_version.to_owned(),
            time: Some(now()),
            subresource: subresource.to_owned(),
            set: applied,
        }),
    }
    if let Some(m) = merged.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    } else if let Some(o) = merged.as_object_mut() {
        o.insert("metadata".into(), json!({}));
    }
    store_entries(&mut merged, entries);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> &'static KindInfo {
        kuber_api::registry::find("Deployment", Some("apps/v1")).unwrap()
    }

    #[test]
    fn the_default_manager_comes_from_the_user_agent() {
        // The real server: `probe/1.0` → `probe`, no user agent → `unknown`.
        assert_eq!(default_manager("probe/1.0 (linux)"), "probe");
        assert_eq!(default_manager(""), "unknown");
    }

    #[test]
    fn list_map_items_merge_in_the_applied_order_keeping_the_others() {
        let node = node_of(deployments()).and_then(|n| {
            let spec = n.field("spec")?.field("template")?.field("spec")?;
            spec.field("containers")
        });
        let live = json!([{"name": "a", "image": "1"}, {"name": "b"}, {"name": "c"}]);
        let config = json!([{"name": "x"}, {"name": "b", "image": "2"}]);
        let merged = merge(&live, &config, node);
        assert_eq!(
            merged,
            json!([{"name": "a", "image": "1"}, {"name": "x"}, {"name": "b", "image": "2"}, {"name": "c"}])
        );
    }
}
