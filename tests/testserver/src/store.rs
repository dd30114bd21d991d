//! The one in-memory store: objects as JSON values per resource, one resourceVersion counter for
//! the whole server, and the history of changes watches start from.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kuber_api::KindInfo;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::select::{FieldSelector, LabelSelector};

mod error;
mod gc;
pub use error::StoreError;
pub use gc::{Deletion, Policy, default_policy};

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many changes the watch history keeps; watches from before it get 410 Gone.
    pub history: usize,
    /// How often watches with `allowWatchBookmarks` get a bookmark (the real server: ~1 min).
    pub bookmark_interval: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            history: 10_000,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

const NAMESPACE_MISMATCH: &str =
    "the namespace of the provided object does not match the namespace sent on the request";

fn precondition_failed(kind: &KindInfo, name: &str, why: String) -> StoreError {
    StoreError::PreconditionFailed {
        kind: kind.kind.to_owned(),
        group: kind.group.to_owned(),
        name: name.to_owned(),
        why,
    }
}

/// The namespaces a fresh cluster has.
const INITIAL_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Kinds whose delete answers the deleted object rather than a Success `Status` (the real
/// server's `ReturnDeletedObject` registries).
const DELETE_RETURNS_OBJECT: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "namespaces"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
];

/// Where objects of one resource live, whatever version they are asked in.
pub(crate) type ResourceKey = (String, String);
/// `(namespace, name)`, namespace `""` for cluster-scoped kinds: etcd's key order.
type ObjectKey = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as the history and the live watches see it.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub resource: ResourceKey,
    pub kind: EventType,
    pub object: Value,
    /// The object before a modification, to tell selector transitions.
    pub old: Option<Value>,
}

struct Inner {
    rv: u64,
    objects: BTreeMap<ResourceKey, BTreeMap<ObjectKey, Value>>,
    history: VecDeque<Arc<Change>>,
    /// Watches from a resourceVersion below this get 410.
    oldest: u64,
}

pub struct Store {
    inner: Mutex<Inner>,
    /// The kinds CRDs define.
    pub crds: crate::crd::Crds,
    changes: broadcast::Sender<Arc<Change>>,
    pub options: Options,
}

/// What a watch starts with: the events it owes and the live feed after them.
pub struct WatchStart {
    pub backlog: Vec<Arc<Change>>,
    pub live: broadcast::Receiver<Arc<Change>>,
    pub rv: u64,
}

fn resource(kind: &KindInfo) -> ResourceKey {
    (kind.group.to_owned(), kind.plural.to_owned())
}

fn meta(object: &Value, field: &str) -> Option<String> {
    object
        .get("metadata")?
        .get(field)?
        .as_str()
        .map(str::to_owned)
}

fn meta_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// The object as answered for `kind`'s version.
fn presented(kind: &KindInfo, object: &Value) -> Value {
    let mut o = object.clone();
    o["apiVersion"] = json!(kind.api_version);
    o["kind"] = json!(kind.kind);
    o
}

/// What a list or watch asks of resourceVersions (`resourceVersion`, `resourceVersionMatch`,
/// `sendInitialEvents`), validated as the real server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// The newest state (no resourceVersion).
    Latest,
    /// `resourceVersion=0`: any state; ours is the newest.
    Any,
    /// At least this version.
    NotOlderThan(u64),
    /// Exactly the state at this version.
    Exact(u64),
}

/// Where a paged list goes on: the state it was read at and the last key it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    pub rv: u64,
    pub namespace: String,
    pub name: String,
}

impl Continue {
    /// The token of a page that ends at `(namespace, name)` of the state at `rv`.
    pub fn token(rv: u64, namespace: &str, name: &str) -> String {
        format!("{rv}/{namespace}/{name}")
    }

    pub fn parse(token: &str) -> Option<Continue> {
        let (rv, key) = token.split_once('/')?;
        let (namespace, name) = key.split_once('/')?;
        Some(Continue {
            rv: rv.parse().ok()?,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// What a list asks for: selectors, a page, and which state.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// Whether a selector was given (a selecting list answers no remainingItemCount).
    pub selecting: bool,
    pub limit: Option<usize>,
    pub continue_from: Option<Continue>,
    pub from: ReadFrom,
}

impl ListQuery {
    /// Every object, newest state.
    pub fn all() -> ListQuery {
        ListQuery {
            labels: LabelSelector::default(),
            fields: FieldSelector::default(),
            selecting: false,
            limit: None,
            continue_from: None,
            from: ReadFrom::Latest,
        }
    }
}

/// Where a write goes.
#[derive(Clone, Copy)]
pub enum Target {
    Main,
    Status,
}

impl Store {
    pub fn new(options: Options) -> Store {
        let (changes, _) = broadcast::channel(4096);
        let store = Store {
            inner: Mutex::new(Inner {
                rv: 0,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                oldest: 0,
            }),
            changes,
            options,
            crds: Default::default(),
        };
        if let Some(ns) = kuber_api::registry::find("Namespace", Some("v1")) {
            for name in INITIAL_NAMESPACES {
                let _ = store.create(ns, None, json!({"metadata": {"name": name}}), false);
            }
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Forgets the history: watches from any resourceVersion before now get 410.
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.oldest = inner.rv;
    }

    fn uid(&self) -> String {
        let (a, b) = (
            kuber_api::random::u64(),
            kuber_api::random::u64() ^ 0x5bd1_e995,
        );
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// The 5 characters the server appends to a `generateName`.
    fn name_suffix(&self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut n = kuber_api::random::u64();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
                n /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }

    fn record(&self, inner: &mut Inner, change: Change) {
        let change = Arc::new(change);
        inner.history.push_back(change.clone());
        while inner.history.len() > self.options.history {
            if let Some(gone) = inner.history.pop_front() {
                inner.oldest = gone.rv;
            }
        }
        let _ = self.changes.send(change);
    }

    fn namespace_exists(inner: &Inner, ns: &str) -> bool {
        inner
            .objects
            .get(&(String::new(), "namespaces".to_owned()))
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_owned())))
    }

    /// The name of a create: its own, else its generateName and a random suffix.
    fn name_of(
        &self,
        kind: &KindInfo,
        m: &mut serde_json::Map<String, Value>,
    ) -> Result<String, StoreError> {
        let mut name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            match m.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => {
                    name = format!("{prefix}{}", self.name_suffix());
                    m.insert("name".into(), json!(name));
                }
                _ => {
                    return Err(StoreError::NameRequired {
                        kind: kind.kind.to_owned(),
                        group: kind.group.to_owned(),
                    });
                }
            }
        }
        Ok(name)
    }

    /// POST.
    pub fn create(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        mut body: Value,
        dry_run: bool,
    ) -> Result<Value, StoreError> {
        fits_kind(kind, &body)?;
        let mut inner = self.lock();
        let m = meta_mut(&mut body);
        let name = self.name_of(kind, m)?;
        let ns = if kind.namespaced {
            let url_ns = ns.unwrap_or("");
            match m.get("namespace").and_then(Value::as_str) {
                Some(body_ns) if !body_ns.is_empty() && body_ns != url_ns => {
                    return Err(StoreError::Mismatch(NAMESPACE_MISMATCH.into()));
                }
                _ => {}
            }
            m.insert("namespace".into(), json!(url_ns));
            if !Self::namespace_exists(&inner, url_ns) {
                return Err(StoreError::NamespaceNotFound(url_ns.to_owned()));
            }
            url_ns.to_owned()
        } else {
            m.remove("namespace");
            String::new()
        };
        let prefix = m.get("generateName").and_then(Value::as_str);
        crate::validate::name(kind, &name, prefix)?;
        let key = (ns, name.clone());
        if inner
            .objects
            .get(&resource(kind))
            .is_some_and(|objects| objects.contains_key(&key))
        {
            return Err(StoreError::AlreadyExists {
                group: kind.group.to_owned(),
                plural: kind.plural.to_owned(),
                name,
            });
        }
        let rv = inner.rv + 1;
        m.insert("uid".into(), json!(self.uid()));
        if dry_run {
            m.remove("resourceVersion");
        } else {
            m.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        m.insert("creationTimestamp".into(), json!(now()));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        server_fields(kind, &mut body, &name);
        crate::defaults::created(kind, &mut body);
        self.crds.shape(kind, &mut body);
        crate::validate::object(kind, &body, None)?;
        self.crds.validate(kind, &body)?;
        if is_crd(kind) {
            body["status"] = crd_status(&body);
        }
        let object = presented(kind, &body);
        if dry_run {
            return Ok(object);
        }
        if is_crd(kind) {
            self.crds.register(&object);
        }
        inner.rv = rv;
        inner
            .objects
            .entry(resource(kind))
            .or_default()
            .insert(key, object.clone());
        self.record(
            &mut inner,
            Change {
                rv,
                resource: resource(kind),
                kind: EventType::Added,
                object: object.clone(),
                old: None,
            },
        );
        Ok(object)
    }

    pub fn get(&self, kind: &KindInfo, ns: Option<&str>, name: &str) -> Result<Value, StoreError> {
        let inner = self.lock();
        let key = (ns.unwrap_or("").to_owned(), name.to_owned());
        inner
            .objects
            .get(&resource(kind))
            .and_then(|m| m.get(&key))
            .map(|o| presented(kind, o))
            .ok_or_else(|| StoreError::not_found(kind, name))
    }

    /// LIST, in key order, with selectors and paging. `ns` `None`: every namespace.
    pub fn list(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        q: &ListQuery,
    ) -> Result<Value, StoreError> {
        let (labels, fields, limit, from) = (&q.labels, &q.fields, q.limit, q.from);
        let custom = self
            .crds
            .find(kind.group, kind.version, kind.plural)
            .is_some();
        let inner = self.lock();
        let mut at = inner.rv;
        match from {
            ReadFrom::NotOlderThan(n) | ReadFrom::Exact(n) if n > inner.rv => {
                return Err(StoreError::TooLargeResourceVersion {
                    requested: n,
                    current: inner.rv,
                });
            }
            ReadFrom::Exact(n) if n < inner.oldest => return Err(StoreError::ListTooOld),
            ReadFrom::Exact(n) => at = n,
            _ => {}
        }
        let snapshot;
        let objects_now = inner.objects.get(&resource(kind));
        let objects = if at == inner.rv {
            objects_now
        } else {
            snapshot = Self::rewind(&inner, kind, at);
            Some(&snapshot)
        };
        let start = match &q.continue_from {
            Some(c) => {
                if c.rv < inner.oldest {
                    return Err(StoreError::ContinueTooOld);
                }
                Some((c.namespace.clone(), c.name.clone()))
            }
            None => None,
        };
        let mut items = Vec::new();
        let mut more = None;
        let mut remaining = 0usize;
        if let Some(objects) = objects {
            for ((ons, oname), object) in objects {
                if ns.is_some_and(|n| n != ons) {
                    continue;
                }
                if let Some(start) = &start
                    && (ons.clone(), oname.clone()) <= *start
                {
                    continue;
                }
                if !labels.matches_object(object) || !fields.matches_object(object) {
                    continue;
                }
                if limit.is_some_and(|l| l > 0 && items.len() >= l) {
                    if more.is_none() {
                        let last: &Value = items.last().unwrap_or(object);
                        more = Some(Continue::token(
                            at,
                            &meta(last, "namespace").unwrap_or_default(),
                            &meta(last, "name").unwrap_or_default(),
                        ));
                    }
                    remaining += 1;
                    continue;
                }
                let mut item = object.clone();
                // Built-in kinds' items go without apiVersion and kind; custom ones keep them.
                if !custom && let Some(o) = item.as_object_mut() {
                    o.remove("apiVersion");
                    o.remove("kind");
                }
                // Remember the key in the item's own metadata for the token above.
                items.push(item);
            }
        }
        let mut list_meta = json!({"resourceVersion": at.to_string()});
        if let Some(token) = more {
            list_meta["continue"] = json!(token);
            if !q.selecting {
                list_meta["remainingItemCount"] = json!(remaining);
            }
        }
        Ok(json!({
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": list_meta,
            "items": items,
        }))
    }

    /// Where a kind's scale subresource reads: spec replicas, status replicas, label selector
    /// (JSON pointers); `None` for the label selector: `spec.selector` as a label selector.
    fn scale_paths(&self, kind: &KindInfo) -> Option<(String, String, Option<String>)> {
        kind.subresource("scale")?;
        let pointer = |p: &str| p.trim_start_matches('.').replace('.', "/");
        match self.crds.scale_paths(kind) {
            Some((spec, status, selector)) => Some((
                format!("/{}", pointer(&spec)),
                format!("/{}", pointer(&status)),
                selector.map(|s| format!("/{}", pointer(&s))),
            )),
            None => Some(("/spec/replicas".into(), "/status/replicas".into(), None)),
        }
    }

    /// GET of the scale subresource: an `autoscaling/v1` `Scale`.
    pub fn get_scale(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, StoreError> {
        let object = self.get(kind, ns, name)?;
        self.scale_of(kind, &object)
    }

    /// The `Scale` of an object of `kind`.
    fn scale_of(&self, kind: &KindInfo, object: &Value) -> Result<Value, StoreError> {
        let (spec, status, selector) = self.scale_paths(kind).ok_or(StoreError::NoScale)?;
        let selector = match selector {
            Some(p) => object.pointer(&p).cloned(),
            None => selector_text(object.pointer("/spec/selector")),
        };
        let mut scale_status =
            json!({"replicas": object.pointer(&status).cloned().unwrap_or(json!(0))});
        if let Some(s) = selector.filter(|s| s.as_str().is_some_and(|s| !s.is_empty())) {
            scale_status["selector"] = s;
        }
        let mut metadata = json!({});
        for field in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
        ] {
            if let Some(v) = object.pointer(&format!("/metadata/{field}")) {
                metadata[field] = v.clone();
            }
        }
        Ok(json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": metadata,
            // Zero is left out, as the real server's Scale does.
            "spec": match object.pointer(&spec).cloned().unwrap_or(json!(0)) {
                r if r == json!(0) => json!({}),
                r => json!({"replicas": r}),
            },
            "status": scale_status,
        }))
    }

    /// PUT of the scale subresource: the object's spec replicas set from `scale`.
    pub fn set_scale(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        name: &str,
        scale: &Value,
        dry_run: bool,
    ) -> Result<Value, StoreError> {
        let (spec, _, _) = self.scale_paths(kind).ok_or(StoreError::NoScale)?;
        let mut object = self.get(kind, ns, name)?;
        if let Some(rv) = scale
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv)
                != object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(StoreError::conflict(kind, name));
        }
        let replicas = scale.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
        let mut at = &mut object;
        let parts: Vec<&str> = spec.trim_start_matches('/').split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            if !at.is_object() {
                *at = json!({});
            }
            if i + 1 == parts.len() {
                at[*part] = replicas.clone();
                break;
            }
            at = at
                .as_object_mut()
                .map(|m| m.entry(part.to_string()).or_insert_with(|| json!({})))
                .ok_or(StoreError::BadScalePath)?;
        }
        // The object as written (or as a dry run would have written it).
        let written = self.replace(kind, ns, name, object, Target::Main, dry_run)?;
        self.scale_of(kind, &written)
    }

    /// The objects of `kind` as they were at resourceVersion `at`, undoing the later history.
    fn rewind(inner: &Inner, kind: &KindInfo, at: u64) -> BTreeMap<ObjectKey, Value> {
        let key_of = |o: &Value| {
            (
                meta(o, "namespace").unwrap_or_default(),
                meta(o, "name").unwrap_or_default(),
            )
        };
        let mut objects = inner
            .objects
            .get(&resource(kind))
            .cloned()
            .unwrap_or_default();
        for change in inner.history.iter().rev() {
            if change.rv <= at {
                break;
            }
            if change.resource != resource(kind) {
                continue;
            }
            let key = key_of(&change.object);
            match (change.kind, &change.old) {
                (EventType::Added, _) => {
                    objects.remove(&key);
                }
                (_, Some(old)) => {
                    objects.insert(key, old.clone());
                }
                (_, None) => {
                    objects.insert(key, change.object.clone());
                }
            }
        }
        objects
    }

    /// PUT, and the second half of PATCH: `body` is the whole new object.
    pub fn replace(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        name: &str,
        body: Value,
        target: Target,
        dry_run: bool,
    ) -> Result<Value, StoreError> {
        fits_path(kind, ns, name, &body)?;
        let mut inner = self.lock();
        let key = (ns.unwrap_or("").to_owned(), name.to_owned());
        let Some(old) = inner
            .objects
            .get(&resource(kind))
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(StoreError::not_found(kind, name));
        };
        if let Some(rv) = meta(&body, "resourceVersion").filter(|r| !r.is_empty())
            && Some(&rv) != meta(&old, "resourceVersion").as_ref()
        {
            return Err(StoreError::conflict(kind, name));
        }
        let mut new = merged(kind, target, &old, body);
        new = presented(kind, &new);
        self.crds.shape(kind, &mut new);
        if matches!(target, Target::Main) {
            crate::validate::object(kind, &new, Some(&old))?;
        }
        self.crds.validate(kind, &new)?;
        meta_mut(&mut new).insert(
            "resourceVersion".into(),
            old.pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null),
        );
        if new == old {
            // A write that changes nothing is not stored and keeps the resourceVersion.
            return Ok(old);
        }
        if let Some(g) = old.pointer("/metadata/generation").and_then(Value::as_i64)
            && new.get("spec") != old.get("spec")
        {
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        if dry_run {
            return Ok(new);
        }
        inner.rv += 1;
        let rv = inner.rv;
        meta_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
        let finished =
            new.pointer("/metadata/deletionTimestamp").is_some() && !has_finalizers(&new);
        if is_crd(kind) && !finished && !dry_run {
            self.crds.register(&new);
        }
        let old_rv = old.pointer("/metadata/resourceVersion").cloned();
        let objects = inner.objects.entry(resource(kind)).or_default();
        let (event, old) = if finished {
            objects.remove(&key);
            (EventType::Deleted, None)
        } else {
            objects.insert(key, new.clone());
            (EventType::Modified, Some(old))
        };
        self.record(
            &mut inner,
            Change {
                rv,
                resource: resource(kind),
                kind: event,
                object: new.clone(),
                old,
            },
        );
        drop(inner);
        if finished {
            // The last finalizer went: what it owned goes after it.
            self.collect(&meta(&new, "uid").unwrap_or_default());
            // Answered at the version it was last stored with, as by the real server.
            if let Some(rv) = old_rv {
                meta_mut(&mut new).insert("resourceVersion".into(), rv);
            }
        }
        Ok(new)
    }

    /// The namespace controller's work, done at once: everything inside `name` goes first.
    fn empty_namespace(&self, inner: &mut Inner, name: &str) {
        let mut gone = Vec::new();
        for (res, objects) in inner.objects.iter_mut() {
            let keys: Vec<ObjectKey> = objects
                .keys()
                .filter(|(n, _)| *n == name)
                .cloned()
                .collect();
            for k in keys {
                if let Some(o) = objects.remove(&k) {
                    gone.push((res.clone(), o));
                }
            }
        }
        for (res, mut o) in gone {
            inner.rv += 1;
            let rv = inner.rv;
            meta_mut(&mut o).insert("resourceVersion".into(), json!(rv.to_string()));
            self.record(
                inner,
                Change {
                    rv,
                    resource: res,
                    kind: EventType::Deleted,
                    object: o,
                    old: None,
                },
            );
        }
    }

    /// A CRD's kind goes, and its objects with it.
    fn drop_crd(&self, inner: &mut Inner, name: &str, old: &Value) {
        self.crds.unregister(name);
        let resource_key = (
            old.pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            old.pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        );
        inner.objects.remove(&resource_key);
    }

    /// DELETE: the object while finalizers hold it (`true`: still there), else gone.
    fn delete(
        &self,
        kind: &KindInfo,
        ns: Option<&str>,
        name: &str,
        options: &Deletion,
        finalizer: Option<&str>,
    ) -> Result<(Value, bool), StoreError> {
        let mut inner = self.lock();
        let key = (ns.unwrap_or("").to_owned(), name.to_owned());
        let Some(old) = inner
            .objects
            .get(&resource(kind))
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(StoreError::not_found(kind, name));
        };
        check_preconditions(
            kind,
            name,
            &old,
            options.precondition_rv.as_deref(),
            options.precondition_uid.as_deref(),
        )?;
        let is_namespace = kind.group.is_empty() && kind.plural == "namespaces";
        let mut new = marked(&old, finalizer, is_namespace);
        // A dry run answers what the delete would make of the object, and changes nothing.
        let graceful = kind.group.is_empty() && matches!(kind.plural, "pods" | "namespaces");
        if options.dry_run {
            let held = has_finalizers(&new);
            if !held && !graceful {
                return Ok((old, false));
            }
            return Ok((new, held));
        }
        if is_namespace {
            self.empty_namespace(&mut inner, name);
        }
        if is_crd(kind) {
            self.drop_crd(&mut inner, name, &old);
        }
        inner.rv += 1;
        let rv = inner.rv;
        meta_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
        let held = has_finalizers(&new);
        let objects = inner.objects.entry(resource(kind)).or_default();
        if held {
            if meta(&old, "deletionTimestamp").is_some() {
                // Already being deleted: nothing changes.
                inner.rv -= 1;
                return Ok((old, true));
            }
            objects.insert(key, new.clone());
        } else {
            objects.remove(&key);
        }
        self.record(
            &mut inner,
            Change {
                rv,
                resource: resource(kind),
                kind: if held {
                    EventType::Modified
                } else {
                    EventType::Deleted
                },
                object: new.clone(),
                // Deletes keep it too, for lists of an older resourceVersion.
                old: Some(old.clone()),
            },
        );
        // Gone at once: answered as it was last stored (pods go gracefully: marked).
        if !held && !graceful {
            return Ok((old, false));
        }
        Ok((new, held))
    }

    pub fn returns_deleted_object(kind: &KindInfo) -> bool {
        DELETE_RETURNS_OBJECT.contains(&(kind.group, kind.plural))
    }

    /// The changes after `from` and the feed of the later ones; `None`: every current object as
    /// ADDED first.
    pub fn watch(&self, kind: &KindInfo, from: Option<u64>) -> Result<WatchStart, StoreError> {
        let inner = self.lock();
        let live = self.changes.subscribe();
        let backlog = match from {
            Some(rv) if rv < inner.oldest => {
                return Err(StoreError::Expired {
                    requested: rv,
                    oldest: inner.oldest + 1,
                });
            }
            Some(rv) => inner
                .history
                .iter()
                .filter(|c| c.rv > rv && c.resource == resource(kind))
                .cloned()
                .collect(),
            None => inner
                .objects
                .get(&resource(kind))
                .into_iter()
                .flat_map(|m| m.values())
                .map(|o| {
                    Arc::new(Change {
                        rv: inner.rv,
                        resource: resource(kind),
                        kind: EventType::Added,
                        object: o.clone(),
                        old: None,
                    })
                })
                .collect(),
        };
        Ok(WatchStart {
            backlog,
            live,
            rv: inner.rv,
        })
    }
}

/// A create's body is an object of the path's kind.
fn fits_kind(kind: &KindInfo, body: &Value) -> Result<(), StoreError> {
    if !body.is_object() {
        return Err(StoreError::Mismatch(format!(
            "the body of the request is not a {} object",
            kind.kind
        )));
    }
    if let Some(k) = body.get("kind").and_then(Value::as_str)
        && k != kind.kind
    {
        return Err(StoreError::Mismatch(format!(
            "the kind in the body ({k}) does not match the kind of the path ({})",
            kind.kind
        )));
    }
    Ok(())
}

/// What a create sets that the server owns: generation, no status on kinds with a status
/// subresource, a namespace's finalizer, phase and name label.
fn server_fields(kind: &KindInfo, body: &mut Value, name: &str) {
    // Services and namespaces keep no generation on the real server (a protobuf body always
    // has a namespace's spec, as Go's JSON has it).
    let untracked = kind.group.is_empty() && matches!(kind.plural, "services" | "namespaces");
    if body.get("spec").is_some() && !untracked {
        meta_mut(body).insert("generation".into(), json!(1));
    } else {
        meta_mut(body).remove("generation");
    }
    if kind.subresource("status").is_some()
        && let Some(o) = body.as_object_mut()
    {
        o.remove("status");
    }
    if kind.group.is_empty() && kind.plural == "namespaces" {
        body["spec"] = json!({"finalizers": ["kubernetes"]});
        body["status"] = json!({"phase": "Active"});
        let labels = meta_mut(body).entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
}

/// A replace's body fits its path: an object, of the path's name and namespace.
fn fits_path(
    kind: &KindInfo,
    ns: Option<&str>,
    name: &str,
    body: &Value,
) -> Result<(), StoreError> {
    if !body.is_object() {
        return Err(StoreError::Mismatch(format!(
            "the body of the request is not a {} object",
            kind.kind
        )));
    }
    match meta(body, "name") {
        Some(n) if n != name => {
            return Err(StoreError::Mismatch(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        _ => {}
    }
    if kind.namespaced
        && let Some(bns) = meta(body, "namespace").filter(|n| !n.is_empty())
        && Some(bns.as_str()) != ns
    {
        return Err(StoreError::Mismatch(NAMESPACE_MISMATCH.into()));
    }
    Ok(())
}

/// The object a replace of `old` with `body` makes: the status subresource takes only the
/// status, the object all but the status and the metadata the server owns.
fn merged(kind: &KindInfo, target: Target, old: &Value, mut body: Value) -> Value {
    let has_status = kind.subresource("status").is_some();
    match target {
        Target::Status => {
            let mut new = old.clone();
            match body.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(o) = new.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
            // Metadata changes other than labels and annotations are ignored as well.
            new
        }
        Target::Main => {
            if has_status {
                match old.get("status") {
                    Some(s) => body["status"] = s.clone(),
                    None => {
                        if let Some(o) = body.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            }
            // What the server owns in metadata stays as it was.
            let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
            let m = meta_mut(&mut body);
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
                "name",
            ] {
                match old_meta.get(field) {
                    Some(v) => m.insert(field.into(), v.clone()),
                    None => m.remove(field),
                };
            }
            body
        }
    }
}

/// A delete's preconditions against the stored object.
fn check_preconditions(
    kind: &KindInfo,
    name: &str,
    old: &Value,
    precondition_rv: Option<&str>,
    precondition_uid: Option<&str>,
) -> Result<(), StoreError> {
    let (have_rv, have_uid) = (
        meta(old, "resourceVersion").unwrap_or_default(),
        meta(old, "uid").unwrap_or_default(),
    );
    if let Some(rv) = precondition_rv.filter(|rv| *rv != have_rv) {
        return Err(precondition_failed(
            kind,
            name,
            format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({have_rv}). The object might have been modified"
            ),
        ));
    }
    if let Some(uid) = precondition_uid.filter(|u| *u != have_uid) {
        return Err(precondition_failed(
            kind,
            name,
            format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({have_uid}). The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok(())
}

/// The object as a delete marks it: the policy's finalizer, deletionTimestamp, and a
/// namespace's Terminating phase.
fn marked(old: &Value, finalizer: Option<&str>, is_namespace: bool) -> Value {
    let mut new = old.clone();
    if let Some(f) = finalizer
        && meta(&new, "deletionTimestamp").is_none()
    {
        let list = meta_mut(&mut new)
            .entry("finalizers")
            .or_insert_with(|| json!([]));
        if let Some(l) = list.as_array_mut()
            && !l.iter().any(|x| x == f)
        {
            l.push(json!(f));
        }
    }
    if meta(&new, "deletionTimestamp").is_none() {
        let m = meta_mut(&mut new);
        m.insert("deletionTimestamp".into(), json!(now()));
        // Namespaces wait for their controller, with no grace period.
        if !is_namespace {
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
    }
    if is_namespace {
        new["status"] = json!({"phase": "Terminating"});
    }
    new
}

/// A `LabelSelector` object as the `key=value,key in (a,b)` text a `Scale` carries.
fn selector_text(selector: Option<&Value>) -> Option<Value> {
    let selector = selector?;
    let mut terms: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        terms.push(match e.get("operator").and_then(Value::as_str) {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("DoesNotExist") => format!("!{key}"),
            _ => key.to_owned(),
        });
    }
    Some(json!(terms.join(",")))
}

fn is_crd(kind: &KindInfo) -> bool {
    kind.group == "apiextensions.k8s.io" && kind.plural == "customresourcedefinitions"
}

/// What the apiextensions controllers write at once: names accepted, established.
fn crd_status(crd: &Value) -> Value {
    let now = now();
    let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    json!({
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or_else(|| json!({})),
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "storedVersions": stored,
    })
}

/// Now, to the second, as the API server writes timestamps (`2026-01-02T03:04:05Z`).
fn now() -> String {
    kuber::models::special::Time::now().into_string()
}
