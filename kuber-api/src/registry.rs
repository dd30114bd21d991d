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
    pub subresources: &'static [&'static str],
    /// Indices into [`OPERATIONS`] of every operation on its paths, subresources included.
    pub operations: &'static [u16],
}

impl KindInfo {
    pub fn operations(&self) -> impl Iterator<Item = &'static Operation> + '_ {
        self.operations
            .iter()
            .filter_map(|i| OPERATIONS.get(usize::from(*i)))
    }

    /// The operation for `action` on the kind itself (`subresource` `""`) or on a subresource;
    /// when both a namespaced and an all-namespaces form exist, `namespaced` picks one.
    pub fn operation(
        &self,
        action: &str,
        subresource: &str,
        namespaced: bool,
    ) -> Option<&'static Operation> {
        let mut candidates = self
            .operations()
            .filter(|o| o.action == action && o.subresource == subresource);
        let first = candidates.next()?;
        if first.namespaced == namespaced || !self.namespaced {
            return Some(first);
        }
        candidates
            .find(|o| o.namespaced == namespaced)
            .or(Some(first))
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
}

/// How stable a version is, for choosing one when a kind is named without its apiVersion:
/// GA beats beta beats alpha, then the higher number wins (what kubectl prefers in practice).
fn version_rank(version: &str) -> (u8, u32, u32) {
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
    fn versions_rank_like_kubectl() {
        let mut v = ["v1beta1", "v2", "v1", "v1alpha1", "v2beta2", "v1beta2"];
        v.sort_by_key(|v| version_rank(v));
        assert_eq!(v, ["v1alpha1", "v1beta1", "v1beta2", "v2beta2", "v1", "v2"]);
    }
}
