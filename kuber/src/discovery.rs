//! Discovery and kind resolution: which groups and versions the server serves (fetched once,
//! shared by clones of a context), and which version and path a kind name goes to.
//!
//! The rule for a kind name, deterministic whatever the server:
//! 1. `Kind.group`, `plural.group` or `group/Kind` names the group; an explicit apiVersion names
//!    the version too (used as given, as Kuber.jl's per-call `apiversion`).
//! 2. Among the groups that have a kind of that name (kind, plural or lower-case kind), the core
//!    group wins, then the group the server lists first in `/apis` (its own priority order,
//!    which kubectl follows too). So `Event` is `v1`, not `events.k8s.io`.
//! 3. In that group: the version set with [`crate::Context::set_api_versions`], else the server's
//!    preferred version, else the most stable other served version the models know (Kuber.jl
//!    drops the group instead), else the preferred version untyped ([`kuber_models::DynamicObject`]).
//! 4. Names the models do not know (custom resources, aggregated APIs, short names such as
//!    `deploy`) are looked up in the server's resource lists in the same group order.
//! 5. Any miss (an unknown kind, or a kind or apiVersion not served), whether the kind was named
//!    or came from an object's `apiVersion`/`kind`, refreshes discovery once and looks again
//!    (a CRD created a moment ago), as kubectl's deferred mapper does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kuber_api::{ApisApi, Client, CoreApi, KindInfo, Operation, Request};
use kuber_models::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList, APIVersions};

use crate::error::close_names;
use crate::target::{Target, split_api_version};
use crate::{Error, Result};

/// The groups and versions a server serves.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Core versions as `/api` lists them.
    pub core_versions: Vec<String>,
    /// Named groups, in the server's order.
    pub groups: Vec<Group>,
    /// Resource lists fetched so far, by group/version.
    resources: Mutex<HashMap<String, Arc<APIResourceList>>>,
}

/// One API group as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `apps`, `""` for the core group.
    pub name: String,
    /// The version the server prefers.
    pub preferred_version: String,
    /// Every served version, preferred first.
    pub versions: Vec<String>,
}

impl Discovery {
    /// A group by name (`""` or `core` for the core group).
    pub fn group(&self, name: &str) -> Option<Group> {
        if name.is_empty() || name == "core" {
            let first = self.core_versions.first()?;
            return Some(Group {
                name: String::new(),
                preferred_version: first.clone(),
                versions: self.core_versions.clone(),
            });
        }
        self.groups.iter().find(|g| g.name == name).cloned()
    }

    /// Whether the server serves `apiVersion`.
    pub fn serves(&self, api_version: &str) -> bool {
        let (group, version) = split_api_version(api_version);
        self.group(group)
            .is_some_and(|g| g.versions.iter().any(|v| v == version))
    }

    /// Groups in resolution order: core, then the server's order.
    fn ordered(&self) -> impl Iterator<Item = Group> + '_ {
        self.group("")
            .into_iter()
            .chain(self.groups.iter().cloned())
    }
}

/// The discovery shared by a context's clones.
#[derive(Clone, Debug, Default)]
pub(crate) struct DiscoveryCache {
    /// The discovery read last; `None` before first use and after a reset.
    slot: Arc<Mutex<Option<Arc<Discovery>>>>,
    /// Held while reading, so that calls waiting for the same discovery read it once.
    reading: Arc<tokio::sync::Mutex<()>>,
}

impl DiscoveryCache {
    pub(crate) async fn get(&self, client: &Client) -> Result<Arc<Discovery>> {
        if let Some(discovery) = lock(&self.slot).clone() {
            return Ok(discovery);
        }
        let _reading = self.reading.lock().await;
        // Another call may have read it while this one waited.
        if let Some(discovery) = lock(&self.slot).clone() {
            return Ok(discovery);
        }
        let discovery = Arc::new(fetch(client).await?);
        *lock(&self.slot) = Some(discovery.clone());
        Ok(discovery)
    }

    pub(crate) fn clear(&self) {
        *lock(&self.slot) = None;
    }

    /// Forgets `stale`, unless another call has replaced it already.
    fn reset(&self, stale: &Arc<Discovery>) {
        let mut slot = lock(&self.slot);
        if slot.as_ref().is_some_and(|d| Arc::ptr_eq(d, stale)) {
            *slot = None;
        }
    }
}

async fn fetch(client: &Client) -> Result<Discovery> {
    let core: APIVersions = CoreApi::new(client.clone()).get_api_versions().await?;
    let named: APIGroupList = ApisApi::new(client.clone()).get_api_versions().await?;
    let groups = named
        .groups
        .into_iter()
        .map(|g| {
            let versions: Vec<String> = g.versions.into_iter().map(|v| v.version).collect();
            let preferred_version = g
                .preferred_version
                .map(|p| p.version)
                .or_else(|| versions.first().cloned())
                .unwrap_or_default();
            let mut ordered = vec![preferred_version.clone()];
            ordered.extend(versions.into_iter().filter(|v| *v != preferred_version));
            Group {
                name: g.name,
                preferred_version,
                versions: ordered,
            }
        })
        .collect();
    Ok(Discovery {
        core_versions: core.versions,
        groups,
        resources: Mutex::default(),
    })
}

/// The resources of one group/version, fetched once per discovery.
async fn resources(
    client: &Client,
    discovery: &Discovery,
    api_version: &str,
) -> Result<Arc<APIResourceList>> {
    if let Some(r) = lock(&discovery.resources).get(api_version) {
        return Ok(r.clone());
    }
    let list = Arc::new(resource_list(client, api_version).await?);
    lock(&discovery.resources).insert(api_version.to_owned(), list.clone());
    Ok(list)
}

static RESOURCES: Operation = Operation {
    action: "get",
    ..Operation::untyped(
        "getDiscoveredAPIResources",
        "GET",
        "/apis/{group}/{version}",
    )
};

/// `GET /api/v1` or `/apis/{group}/{version}`: the resources of one group/version.
async fn resource_list(client: &Client, api_version: &str) -> Result<APIResourceList> {
    let req = match api_version.split_once('/') {
        Some((group, version)) => {
            Request::at(&RESOURCES, "/apis/{group}/{version}", &[group, version])
        }
        None => Request::at(&RESOURCES, "/api/{version}", &[api_version]),
    };
    req.check()?;
    Ok(client.call(req).await?)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A kind name as the user wrote it: `Deployment`, `deployments`, `deploy`, `Deployment.apps`,
/// `apps/Deployment`.
struct KindName<'a> {
    name: &'a str,
    group: Option<&'a str>,
}

impl<'a> KindName<'a> {
    fn parse(text: &'a str) -> KindName<'a> {
        if let Some((group, name)) = text.split_once('/') {
            let group = if group == "core" { "" } else { group };
            return KindName {
                name,
                group: Some(group),
            };
        }
        match text.split_once('.') {
            Some((name, group)) => KindName {
                name,
                group: Some(group),
            },
            None => KindName {
                name: text,
                group: None,
            },
        }
    }

    fn matches_info(&self, k: &KindInfo) -> bool {
        self.group.is_none_or(|g| g == k.group)
            && (k.kind == self.name
                || k.plural == self.name
                || k.kind.eq_ignore_ascii_case(self.name))
    }
}

/// What resolving a kind name needs of a context.
#[derive(Clone, Copy)]
pub(crate) struct Resolver<'a> {
    pub(crate) client: &'a Client,
    pub(crate) cache: &'a DiscoveryCache,
    /// Versions chosen per group (`core` for the core group).
    pub(crate) overrides: &'a BTreeMap<String, String>,
}

/// Resolves a kind name (and optional apiVersion) to where its verbs go. Any miss resets
/// discovery and looks once more, as kubectl's deferred mapper does: a CRD (or a version of
/// one) created since discovery was read is found.
pub(crate) async fn resolve(
    r: Resolver<'_>,
    text: &str,
    api_version: Option<&str>,
) -> Result<Target> {
    if text.is_empty() {
        return Err(Error::Missing {
            verb: "resolve",
            message: "the kind name is empty".into(),
        });
    }
    let name = KindName::parse(text);
    if let Some(api_version) = api_version
        && let Some(info) = kuber_api::registry::find(name.name, Some(api_version))
    {
        return Ok(Target::registered(info));
    }
    let discovery = r.cache.get(r.client).await?;
    match lookup(r, &discovery, text, api_version).await {
        Err(Error::UnknownKind { .. } | Error::NotServed { .. }) => {
            r.cache.reset(&discovery);
            let discovery = r.cache.get(r.client).await?;
            lookup(r, &discovery, text, api_version).await
        }
        found => found,
    }
}

/// [`resolve`] in one discovery.
async fn lookup(
    r: Resolver<'_>,
    discovery: &Discovery,
    text: &str,
    api_version: Option<&str>,
) -> Result<Target> {
    let name = KindName::parse(text);
    let found = match api_version {
        Some(api_version) => {
            let found = served(r, discovery, &name, api_version).await?;
            if found.is_none()
                && let Some(e) = not_served(&name, api_version, discovery)
            {
                return Err(e);
            }
            found
        }
        None => resolve_in(r, discovery, &name).await?,
    };
    found.ok_or_else(|| unknown(text, Some(discovery)))
}

async fn resolve_in(
    r: Resolver<'_>,
    discovery: &Discovery,
    name: &KindName<'_>,
) -> Result<Option<Target>> {
    let known: Vec<&'static KindInfo> = kuber_api::KINDS
        .iter()
        .filter(|k| name.matches_info(k))
        .collect();
    if !known.is_empty() {
        let served_groups: Vec<Group> = discovery
            .ordered()
            .filter(|g| known.iter().any(|k| k.group == g.name))
            .collect();
        let Some(group) = served_groups.first() else {
            let first = known[0];
            return Err(Error::NotServed {
                kind: first.kind.to_owned(),
                api_version: first.api_version.to_owned(),
                served: Vec::new(),
            });
        };
        let key = if group.name.is_empty() {
            "core"
        } else {
            &group.name
        };
        let api_version_of = |v: &str| {
            if group.name.is_empty() {
                v.to_owned()
            } else {
                format!("{}/{v}", group.name)
            }
        };
        let in_group: Vec<&&KindInfo> = known.iter().filter(|k| k.group == group.name).collect();
        let version = match r.overrides.get(key) {
            Some(v) => v.clone(),
            None => {
                let preferred = &group.preferred_version;
                if in_group.iter().any(|k| k.version == preferred) {
                    preferred.clone()
                } else {
                    // The most stable served version the models know.
                    let mut compiled: Vec<&String> = group
                        .versions
                        .iter()
                        .filter(|v| in_group.iter().any(|k| k.version == **v))
                        .collect();
                    compiled.sort_by_key(|v| kuber_api::registry::version_rank(v));
                    match compiled.last() {
                        Some(v) => (*v).clone(),
                        None => preferred.clone(),
                    }
                }
            }
        };
        if let Some(info) = in_group.iter().find(|k| k.version == version) {
            return Ok(Some(Target::registered(info)));
        }
        // The models lack that version: serve it untyped when the server has it.
        let api_version = api_version_of(&version);
        return match served(r, discovery, name, &api_version).await? {
            Some(target) => Ok(Some(target)),
            // A known kind in a version the server does not serve (an override, say): no
            // refresh will find it, and "unknown kind" would be wrong.
            None => Err(
                not_served(name, &api_version, discovery).unwrap_or_else(|| Error::NotServed {
                    kind: name.name.to_owned(),
                    api_version: api_version.clone(),
                    served: Vec::new(),
                }),
            ),
        };
    }
    for group in discovery.ordered() {
        if name.group.is_some_and(|g| g != group.name) {
            continue;
        }
        let key = if group.name.is_empty() {
            "core"
        } else {
            &group.name
        };
        let version = r.overrides.get(key).unwrap_or(&group.preferred_version);
        let api_version = if group.name.is_empty() {
            version.clone()
        } else {
            format!("{}/{version}", group.name)
        };
        if let Some(target) = served(r, discovery, name, &api_version).await? {
            return Ok(Some(target));
        }
    }
    Ok(None)
}

/// The kind in the server's resource list of `api_version`: typed when the models know it there.
async fn served(
    r: Resolver<'_>,
    discovery: &Discovery,
    name: &KindName<'_>,
    api_version: &str,
) -> Result<Option<Target>> {
    if !discovery.serves(api_version) {
        return Ok(None);
    }
    let list = match resources(r.client, discovery, api_version).await {
        Ok(list) => list,
        // A group gone since discovery ran (a deleted CRD), or an aggregated API whose backend
        // is down: it has no kinds to offer now, as kubectl treats it.
        Err(e) if matches!(e.status_code(), Some(404 | 503)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let found = list.resources.iter().find(|r| {
        !r.name.contains('/')
            && (r.kind == name.name
                || r.name == name.name
                || r.singular_name == name.name
                || r.kind.eq_ignore_ascii_case(name.name)
                || r.short_names.iter().flatten().any(|s| s == name.name))
    });
    let Some(resource) = found else {
        return Ok(None);
    };
    if let Some(info) = kuber_api::registry::find(&resource.kind, Some(api_version)) {
        return Ok(Some(Target::registered(info)));
    }
    Ok(Some(Target::discovered(api_version, resource, &list)))
}

/// For a kind the models know, asked for in a version the server does not serve: what it
/// serves instead (the versions of the groups that have the kind).
fn not_served(name: &KindName<'_>, api_version: &str, discovery: &Discovery) -> Option<Error> {
    let known: Vec<&KindInfo> = kuber_api::KINDS
        .iter()
        .filter(|k| name.matches_info(k))
        .collect();
    let first = known.first()?;
    let mut served: Vec<String> = Vec::new();
    for group in discovery.ordered() {
        if !known.iter().any(|k| k.group == group.name) {
            continue;
        }
        for v in &group.versions {
            served.push(if group.name.is_empty() {
                v.clone()
            } else {
                format!("{}/{v}", group.name)
            });
        }
    }
    Some(Error::NotServed {
        kind: first.kind.to_owned(),
        api_version: api_version.to_owned(),
        served,
    })
}

fn unknown(text: &str, discovery: Option<&Discovery>) -> Error {
    let mut names: Vec<&str> = kuber_api::KINDS
        .iter()
        .flat_map(|k| [k.kind, k.plural])
        .collect();
    let fetched: Vec<Arc<APIResourceList>> = discovery
        .map(|d| lock(&d.resources).values().cloned().collect())
        .unwrap_or_default();
    for list in &fetched {
        names.extend(list.resources.iter().map(|r| r.kind.as_str()));
    }
    Error::UnknownKind {
        name: text.to_owned(),
        close: close_names(KindName::parse(text).name, names.into_iter()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_may_name_their_group() {
        let n = KindName::parse("Deployment.apps");
        assert_eq!((n.name, n.group), ("Deployment", Some("apps")));
        let n = KindName::parse("events.k8s.io/Event");
        assert_eq!((n.name, n.group), ("Event", Some("events.k8s.io")));
        let n = KindName::parse("core/Event");
        assert_eq!((n.name, n.group), ("Event", Some("")));
        let n = KindName::parse("pods");
        assert_eq!((n.name, n.group), ("pods", None));
    }

    /// A context whose every request fails.
    fn offline() -> crate::Context {
        let config = kuber_api::config::Config::new("http://127.0.0.1:9");
        crate::Context::from_client(kuber_api::Client::new(config).unwrap())
    }

    #[test]
    fn a_known_kind_in_an_unserved_version_is_not_served() {
        let d = Discovery {
            core_versions: vec!["v1".into()],
            groups: vec![Group {
                name: "autoscaling".into(),
                preferred_version: "v2".into(),
                versions: vec!["v2".into(), "v1".into()],
            }],
            resources: Mutex::default(),
        };
        let mut ctx = offline();
        ctx.set_api_versions([("autoscaling", "v9")]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let want = "HorizontalPodAutoscaler (autoscaling/v9) is not served by the server; \
                    it serves autoscaling/v2, autoscaling/v1";
        // An override (found in the discovery at hand: no request).
        let err = rt
            .block_on(lookup(ctx.resolver(), &d, "HorizontalPodAutoscaler", None))
            .unwrap_err();
        assert_eq!(err.to_string(), want);
        // A per-call apiVersion.
        ctx.set_api_versions::<&str, &str>([]);
        let err = rt
            .block_on(lookup(
                ctx.resolver(),
                &d,
                "horizontalpodautoscalers",
                Some("autoscaling/v9"),
            ))
            .unwrap_err();
        assert!(matches!(err, Error::NotServed { .. }), "{err}");
    }

    #[test]
    fn the_core_group_is_listed_first() {
        let d = Discovery {
            core_versions: vec!["v1".into()],
            groups: vec![Group {
                name: "events.k8s.io".into(),
                preferred_version: "v1".into(),
                versions: vec!["v1".into()],
            }],
            resources: Mutex::default(),
        };
        let names: Vec<String> = d.ordered().map(|g| g.name).collect();
        assert_eq!(names, ["", "events.k8s.io"]);
        assert!(d.serves("v1") && d.serves("events.k8s.io/v1") && !d.serves("apps/v1"));
    }
}
