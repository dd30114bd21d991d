//! Garbage collection by ownerReferences, done at once rather than by a controller: the three
//! propagation policies, the finalizers the real server marks owners with, and dependents that
//! keep other owners losing only the reference to the one that went.

use kuber_api::KindInfo;
use serde_json::Value;

use super::{ResourceKey, Store, StoreError, Target, meta};

/// How a delete treats the objects the deleted one owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The owner goes at once, its dependents after it.
    Background,
    /// The owner waits (finalizer `foregroundDeletion`) until its dependents are gone.
    Foreground,
    /// The dependents lose the reference (finalizer `orphan` meanwhile).
    Orphan,
}

/// A delete's options, as the store takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub dry_run: bool,
    pub policy: Policy,
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

impl Deletion {
    /// A real delete with `policy` and no preconditions.
    pub fn with(policy: Policy) -> Deletion {
        Deletion {
            dry_run: false,
            policy,
            precondition_rv: None,
            precondition_uid: None,
        }
    }
}

/// The policy of a delete that names none.
pub fn default_policy(kind: &KindInfo) -> Policy {
    if ORPHAN_BY_DEFAULT.contains(&(kind.group, kind.plural)) {
        Policy::Orphan
    } else {
        Policy::Background
    }
}

/// Kinds whose delete orphans by default, kept from before garbage collection (the real
/// server's `DefaultGarbageCollectionPolicy` for these group-versions).
const ORPHAN_BY_DEFAULT: &[(&str, &str)] = &[("", "replicationcontrollers"), ("batch", "jobs")];

const ORPHAN: &str = "orphan";
const FOREGROUND: &str = "foregroundDeletion";
/// Who the removal of owner references is recorded for.
const COLLECTOR: &str = "generic-garbage-collector";

/// The finalizer a policy holds the owner with.
pub fn finalizer(policy: Policy) -> Option<&'static str> {
    match policy {
        Policy::Background => None,
        Policy::Foreground => Some(FOREGROUND),
        Policy::Orphan => Some(ORPHAN),
    }
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

impl Store {
    /// The kind a stored object is answered as.
    fn kind_of(&self, res: &ResourceKey, object: &Value) -> Option<&'static KindInfo> {
        let api_version = object.get("apiVersion").and_then(Value::as_str)?;
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        self.crds.find(&res.0, version, &res.1).or_else(|| {
            let kind = object.get("kind").and_then(Value::as_str)?;
            kuber_api::registry::find(kind, Some(api_version))
        })
    }

    fn uid_exists(&self, uid: &str) -> bool {
        self.lock()
            .objects
            .values()
            .flat_map(|m| m.values())
            .any(|o| meta(o, "uid").as_deref() == Some(uid))
    }

    fn dependents(&self, uid: &str) -> Vec<(ResourceKey, Value)> {
        self.lock()
            .objects
            .iter()
            .flat_map(|(res, m)| m.values().map(move |o| (res.clone(), o)))
            .filter(|(_, o)| owner_uids(o).iter().any(|u| u == uid))
            .map(|(res, o)| (res, o.clone()))
            .collect()
    }

    /// DELETE with garbage collection: `Ok((answer, still there))`.
    pub fn delete_with(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        name: &str,
        options: &Deletion,
    ) -> Result<(Value, bool), StoreError> {
        let policy = options.policy;
        let (answer, held) = self.delete(kind, ns, name, options, finalizer(policy))?;
        if options.dry_run {
            return Ok((answer, held));
        }
        let uid = meta(&answer, "uid").unwrap_or_default();
        match policy {
            Policy::Background if !held => self.collect(&uid),
            Policy::Background => {}
            Policy::Foreground | Policy::Orphan => {
                for (res, dependent) in self.dependents(&uid) {
                    let others = owner_uids(&dependent)
                        .into_iter()
                        .any(|u| u != uid && self.uid_exists(&u));
                    if policy == Policy::Orphan || others {
                        self.drop_owner(&res, &dependent, &uid);
                    } else if let Some(k) = self.kind_of(&res, &dependent) {
                        let dns = meta(&dependent, "namespace");
                        let dname = meta(&dependent, "name").unwrap_or_default();
                        let foreground = Deletion::with(Policy::Foreground);
                        let _ = self.delete_with(k, dns.as_deref(), &dname, &foreground);
                    }
                }
                if let Some(f) = finalizer(policy) {
                    self.remove_finalizer(kind, ns, name, f);
                }
            }
        }
        Ok((answer, held))
    }

    /// After the object `uid` is gone: its dependents go too, unless they have other owners
    /// (then only the reference goes).
    pub(super) fn collect(&self, uid: &str) {
        if uid.is_empty() {
            return;
        }
        for (res, dependent) in self.dependents(uid) {
            let others = owner_uids(&dependent)
                .into_iter()
                .any(|u| u != uid && self.uid_exists(&u));
            if others {
                self.drop_owner(&res, &dependent, uid);
            } else if let Some(k) = self.kind_of(&res, &dependent) {
                let dns = meta(&dependent, "namespace");
                let dname = meta(&dependent, "name").unwrap_or_default();
                let options = Deletion::with(default_policy(k));
                let _ = self.delete_with(k, dns.as_deref(), &dname, &options);
            }
        }
    }

    /// Removes the reference to `uid` from `dependent`, recorded as the collector's update.
    fn drop_owner(&self, res: &ResourceKey, dependent: &Value, uid: &str) {
        let Some(kind) = self.kind_of(res, dependent) else {
            return;
        };
        let mut new = dependent.clone();
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            let refs: Vec<Value> = m
                .get("ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                .cloned()
                .collect();
            if refs.is_empty() {
                m.remove("ownerReferences");
            } else {
                m.insert("ownerReferences".into(), Value::Array(refs));
            }
        }
        crate::apply::record_update(kind, Some(dependent), &mut new, COLLECTOR, "");
        let ns = meta(dependent, "namespace");
        let name = meta(dependent, "name").unwrap_or_default();
        let _ = self.replace(kind, ns.as_deref(), &name, new, Target::Main, false);
    }

    fn remove_finalizer(&self, kind: &KindInfo, ns: Option<&str>, name: &str, finalizer: &str) {
        let Ok(mut object) = self.get(kind, ns, name) else {
            return;
        };
        if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            let left: Vec<Value> = m
                .get("finalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|f| f.as_str() != Some(finalizer))
                .cloned()
                .collect();
            if left.is_empty() {
                m.remove("finalizers");
            } else {
                m.insert("finalizers".into(), Value::Array(left));
            }
        }
        let _ = self.replace(kind, ns, name, object, Target::Main, false);
    }
}
