//! The facade's scenarios: each step is run, counted and remembered in a tally the `report`
//! case prints.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;

use kuber::Context as Ctx;

use crate::support::{E2e, Outcome};

#[derive(Default)]
pub(super) struct Tally {
    pub(super) passed: usize,
    pub(super) total: usize,
    pub(super) kinds: BTreeSet<String>,
    pub(super) groups: BTreeSet<String>,
    pub(super) failures: Vec<String>,
}

pub(super) static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

pub(super) fn tally<T>(f: impl FnOnce(&mut Tally) -> T) -> T {
    let mut guard = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(Tally::default))
}

/// The scenarios of one case: each step is run, counted and remembered; the case fails when
/// any step did.
pub(super) struct Steps {
    pub(super) failures: Vec<String>,
}

impl Steps {
    pub(super) fn new() -> Steps {
        Steps {
            failures: Vec::new(),
        }
    }

    pub(super) async fn run(&mut self, name: String, step: impl Future<Output = Outcome>) {
        let outcome = step.await;
        tally(|t| {
            t.total += 1;
            match &outcome {
                Ok(()) => t.passed += 1,
                Err(e) => t.failures.push(format!("{name}: {e}")),
            }
        });
        if let Err(e) = outcome {
            self.failures.push(format!("{name}: {e}"));
        }
    }

    pub(super) fn covered(kind: &str, group: &str) {
        tally(|t| {
            t.kinds.insert(kind.to_owned());
            t.groups
                .insert(if group.is_empty() { "core" } else { group }.to_owned());
        });
    }

    pub(super) fn outcome(self) -> Outcome {
        match self.failures.len() {
            0 => Ok(()),
            n => Err(format!(
                "{n} scenario(s) failed:\n  {}",
                self.failures.join("\n  ")
            )),
        }
    }
}

/// What a case's steps share: the suite, a context and its namespace.
pub(super) struct On<'a> {
    pub(super) e2e: &'a E2e,
    pub(super) ctx: Ctx,
    pub(super) ns: String,
}
