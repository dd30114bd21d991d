//! Where the Kubernetes spec and real servers disagree, corrected in one place, in two lists (as
//! k8s-openapi's generator keeps them): [`rules::RULES`], how Kubernetes behaves by design where
//! an OpenAPI document cannot say it, and [`upstream_bugs::UPSTREAM_BUGS`], what the published
//! documents get wrong, each with where upstream records it.
//!
//! Each fixup names its defect, says why in one line, and reports how many places it changed.
//! Document fixups run before the model is built; operation fixups run on the operations read
//! from the paths, once the kinds are known. A fixup that changes nothing in a Kubernetes
//! release's spec is an error (the defect is gone: drop the fixup) unless it declares the
//! releases it applies to and this is not one of them.

mod base;
pub mod rules;
#[cfg(test)]
mod testing;
pub mod upstream_bugs;

use openapiv3::OpenAPI;

pub use base::{Apply, Fixup, FixupError, Tally};

use crate::model::{Model, Specials};
use crate::ops::Op;

/// Every fixup, in the order they run: the rules, then the upstream bugs.
pub fn all() -> impl Iterator<Item = &'static Fixup> {
    rules::RULES.iter().chain(upstream_bugs::UPSTREAM_BUGS)
}

/// Runs every document fixup; what each found and changed (operation fixups: nothing yet).
pub fn apply_doc(doc: &mut OpenAPI, specials: &mut Specials) -> Vec<(&'static str, Tally)> {
    all()
        .map(|f| (f.name, f.apply_doc(doc, specials)))
        .collect()
}

/// Runs every operation fixup and adds what each changed to `counts` (from [`apply_doc`]).
pub fn apply_ops(
    ops: &mut [Op],
    model: &Model,
    counts: &mut [(&'static str, Tally)],
) -> Result<(), FixupError> {
    for (f, (_, n)) in all().zip(counts.iter_mut()) {
        *n = *n + f.apply_ops(ops, model)?;
    }
    Ok(())
}

/// Refuses fixups that found what they correct in `release`'s spec already right, unless they
/// declare they may.
pub fn check_unused(counts: &[(&'static str, Tally)], release: &str) -> Result<(), FixupError> {
    let names: Vec<&'static str> = all()
        .zip(counts)
        .filter(|(f, (_, n))| n.found > 0 && n.changed == 0 && !f.may_change_nothing(release))
        .map(|(f, _)| f.name)
        .collect();
    if names.is_empty() {
        Ok(())
    } else {
        Err(FixupError::Unused {
            names,
            release: release.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testing::{doc, required};

    #[test]
    fn names_are_unique_and_reasons_short() {
        let mut names: Vec<_> = all().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all().count());
        assert!(all().all(|f| !f.reason.is_empty() && f.reason.len() < 120));
    }

    #[test]
    fn every_upstream_bug_says_where_upstream_records_it() {
        for f in upstream_bugs::UPSTREAM_BUGS {
            assert!(!f.upstream.is_empty(), "{}: no upstream link", f.name);
        }
        for f in all() {
            for link in f.upstream {
                assert!(
                    link.starts_with("https://github.com/kubernetes/") && !link.contains(' '),
                    "{}: {link}",
                    f.name
                );
                // An issue, a pull request, or a file of one commit (or master) and its lines.
                let pinned = ["/issues/", "/pull/", "/blob/"]
                    .iter()
                    .any(|p| link.contains(p));
                assert!(pinned, "{}: {link}", f.name);
            }
        }
    }

    #[test]
    fn reference_names_stay_optional() {
        // Declared optional upstream, and kept so: `[{}]` must not come back as `[{"name":""}]`.
        let mut d = doc(serde_json::json!({
            "io.k8s.api.core.v1.LocalObjectReference": {"type": "object", "properties": {"name": {"type": "string"}}},
            "io.k8s.api.core.v1.SecretKeySelector": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "name": {"type": "string"}}},
        }));
        apply_doc(&mut d, &mut Specials::new());
        assert!(required(&d, "io.k8s.api.core.v1.LocalObjectReference").is_empty());
        assert_eq!(
            required(&d, "io.k8s.api.core.v1.SecretKeySelector"),
            ["key"]
        );
    }

    #[test]
    fn a_fixup_that_changes_nothing_must_say_where_it_applies() {
        let tally = |found, changed| Tally { found, changed };
        let mut counts: Vec<(&'static str, Tally)> = all().map(|f| (f.name, tally(1, 1))).collect();
        assert!(check_unused(&counts, "1.36").is_ok());
        let at = |name: &str| all().position(|f| f.name == name).unwrap();
        // Needed by every release: finding its target already right is an error naming it and
        // the release.
        counts[at("quantity-accepts-numbers")].1 = tally(1, 0);
        let err = check_unused(&counts, "1.36").unwrap_err();
        assert_eq!(
            err.to_string(),
            "fixup `quantity-accepts-numbers` changed nothing in the Kubernetes 1.36 spec: drop \
             it or declare the releases it applies to (`applies_to`)"
        );
        // A document set without the definition (a cluster's selected groups) says nothing.
        counts[at("quantity-accepts-numbers")].1 = tally(0, 0);
        assert!(check_unused(&counts, "1.36").is_ok());
        // Declared for 1.33 only: already right in 1.36 is expected, in 1.33 an error.
        let np = at("network-policy-pod-selector-optional");
        counts[np].1 = tally(1, 0);
        assert!(check_unused(&counts, "1.36").is_ok());
        assert!(check_unused(&counts, "1.33").is_err());
    }
}
