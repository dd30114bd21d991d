//! The kind registry the verbs stand on: for every kind the API serves, where it is served and
//! by which operations. The table itself ([`crate::KINDS`]) is generated.

use crate::{OPERATIONS, Operation};

/// One kind the API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// The list kind, e.g. `PodList`; `""` if the kind has no list operation.
    pub list_kind: &'static str,
    /// `x-kubernetes-action`s of its own paths (get, list, post, …).
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// Indices into [`OPERATIONS`] of every operation on its paths, subresources included.
    pub operations: &'static [u16],
}

/// A subresource of a kind, with the kind its operations serve, which may be of another group
/// (`scale`: `Scale` of `autoscaling/v1`; `eviction`: `Eviction` of `policy/v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// e.g. `status`, `scale`, `log`.
    pub name: &'static str,
    /// `""` for the core group, and with `version` and `kind` when the spec names no kind.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

impl Subresource {
    /// `group/version`, or `version` for the core group; `""` when no kind is known.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// What the registry cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The kind has the operation, but not in that scope (a namespaced get of a cluster-scoped
    /// kind, a get of a namespaced kind across namespaces).
    #[error(
        "{kind} ({api_version}) has no {scope} `{action}`{}",
        on_subresource(subresource)
    )]
    Scope {
        kind: &'static str,
        api_version: &'static str,
        scope: &'static str,
        action: String,
        subresource: String,
    },
    #[error(
        "{kind} ({api_version}) has no `{action}` operation{}",
        on_subresource(subresource)
    )]
    NoOperation {
        kind: &'static str,
        api_version: &'static str,
        action: String,
        subresource: String,
    },
}

fn on_subresource(subresource: &str) -> String {
    if subresource.is_empty() {
        String::new()
    } else {
        format!(" on `{subresource}`")
    }
}

impl KindInfo {
    pub fn operations(&self) -> impl Iterator<Item = &'static Operation> + '_ {
        self.operations
            .iter()
            .filter_map(|i| OPERATIONS.get(usize::from(*i)))
    }

    /// The operation for `action` on the kind itself (`subresource` `""`) or on a subresource, in
    /// a namespace (`namespaced`) or not (cluster-scoped kinds; all namespaces for lists and
    /// watches of namespaced ones). A scope the kind does not have for it is an error, never the
    /// other scope's operation.
    pub fn operation(
        &self,
        action: &str,
        subresource: &str,
        namespaced: bool,
    ) -> Result<&'static Operation, RegistryError> {
        let mut candidates = self
            .operations()
            .filter(|o| o.action == action && o.subresource == subresource)
            .peekable();
        if candidates.peek().is_none() {
            return Err(RegistryError::NoOperation {
                kind: self.kind,
                api_version: self.api_version,
                action: action.to_owned(),
                subresource: subresource.to_owned(),
            });
        }
        candidates
            .find(|o| o.namespaced == namespaced)
            .ok_or_else(|| RegistryError::Scope {
                kind: self.kind,
                api_version: self.api_version,
                scope: if namespaced {
                    "namespaced"
                } else {
                    "cluster-wide"
                },
                action: action.to_owned(),
                subresource: subresource.to_owned(),
            })
    }

    /// The subresource called `name`, with its kind.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
}

/// How stable a version is, for choosing one when a kind is named without its apiVersion:
/// GA beats beta beats alpha, then the higher number wins (what kubectl prefers in practice).
pub fn version_rank(version: &str) -> (u8, u32, u32) {
    let rest = version.strip_prefix('v').unwrap_or(version);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stability, minor) = if let Some(n) = tail.strip_prefix("beta") {
        (1, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (0, n.parse().unwrap_or(0))
    } else if tail.is_empty() {
        (2, 0)
    } else {
        (0, 0)
    };
    (stability, major, minor)
}

/// Finds a kind by name (`Deployment`, also its plural `deployments` or lower-case `deployment`),
/// optionally with its apiVersion (`apps/v1`). Without an apiVersion the most stable version wins;
/// a kind served by several groups (`Event` in `v1` and `events.k8s.io/v1`) goes to the core
/// group first, as kubectl does.
pub fn find(kind: &str, api_version: Option<&str>) -> Option<&'static KindInfo> {
    let matches = |k: &&KindInfo| {
        (k.kind == kind || k.plural == kind || k.kind.eq_ignore_ascii_case(kind))
            && api_version.is_none_or(|v| k.api_version == v)
    };
    crate::KINDS
        .iter()
        .filter(matches)
        .max_by_key(|k| (k.group.is_empty(), version_rank(k.version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresources_carry_their_own_kind() {
        let deployment = find("Deployment", Some("apps/v1")).unwrap();
        let scale = deployment.subresource("scale").unwrap();
        assert_eq!(
            (scale.kind, scale.api_version().as_str()),
            ("Scale", "autoscaling/v1")
        );
        let status = deployment.subresource("status").unwrap();
        assert_eq!(
            (status.kind, status.api_version().as_str()),
            ("Deployment", "apps/v1")
        );
        let op = deployment.operation("get", "scale", true).unwrap();
        assert_eq!(
            (op.kind, op.kind_api_version, op.group),
            ("Scale", "autoscaling/v1", "apps")
        );
        let pod = find("Pod", Some("v1")).unwrap();
        let eviction = pod.subresource("eviction").unwrap();
        assert_eq!(
            (eviction.kind, eviction.api_version().as_str()),
            ("Eviction", "policy/v1")
        );
    }

    #[test]
    fn a_scope_the_kind_lacks_is_an_error() {
        let namespace = find("Namespace", Some("v1")).unwrap();
        assert_eq!(
            namespace.operation("get", "", true),
            Err(RegistryError::Scope {
                kind: "Namespace",
                api_version: "v1",
                scope: "namespaced",
                action: "get".into(),
                subresource: String::new(),
            })
        );
        assert!(namespace.operation("get", "", false).is_ok());
        let pod = find("Pod", Some("v1")).unwrap();
        let err = pod.operation("get", "", false).unwrap_err();
        assert_eq!(err.to_string(), "Pod (v1) has no cluster-wide `get`");
        // Listing across namespaces is a scope pods have.
        let all = pod.operation("list", "", false).unwrap();
        assert_eq!(all.id, "listCoreV1PodForAllNamespaces");
        assert_eq!(
            pod.operation("list", "", true).unwrap().id,
            "listCoreV1NamespacedPod"
        );
        assert!(matches!(
            pod.operation("scale", "", true),
            Err(RegistryError::NoOperation { kind: "Pod", .. })
        ));
    }

    #[test]
    fn operations_say_how_they_answer() {
        let pod = find("Pod", Some("v1")).unwrap();
        let op = |action, sub, ns| pod.operation(action, sub, ns).unwrap();
        assert_eq!(
            op("get", "", true).response,
            crate::ResponseShape::Object("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            op("list", "", true).response,
            crate::ResponseShape::List("io.k8s.api.core.v1.PodList")
        );
        assert_eq!(op("list", "", true).query, "ListParams");
        assert_eq!(
            op("delete", "", true).response,
            crate::ResponseShape::ObjectOrStatus("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            op("deletecollection", "", true).response,
            crate::ResponseShape::ListOrStatus("io.k8s.api.core.v1.PodList")
        );
        assert_eq!(
            (
                op("post", "", true).body,
                op("post", "", true).body_required
            ),
            ("io.k8s.api.core.v1.Pod", true)
        );
        assert_eq!(op("get", "log", true).response, crate::ResponseShape::Text);
        assert_eq!(
            op("connect", "exec", true).response,
            crate::ResponseShape::Upgrade
        );
        let watch = op("watch", "", true);
        assert_eq!(
            watch.response,
            crate::ResponseShape::WatchStream("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            watch.path,
            "/api/v1/watch/namespaces/{namespace}/pods/{name}"
        );
        assert_eq!(
            (watch.request_path, watch.select_name),
            ("/api/v1/namespaces/{namespace}/pods", true)
        );
        let discovery = OPERATIONS
            .iter()
            .find(|o| o.id == "getAPIVersions")
            .unwrap();
        assert_eq!(
            (discovery.path, discovery.request_path),
            ("/apis/", "/apis")
        );
    }

    #[test]
    fn versions_rank_like_kubectl() {
        let mut v = ["v1beta1", "v2", "v1", "v1alpha1", "v2beta2", "v1beta2"];
        v.sort_by_key(|v| version_rank(v));
        assert_eq!(v, ["v1alpha1", "v1beta1", "v1beta2", "v2beta2", "v1", "v2"]);
    }
}
