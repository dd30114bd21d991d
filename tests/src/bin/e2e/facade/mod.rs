//! The `kuber` facade alone, on the real control plane: one verb script run over a table of
//! kinds (one row each: a minimal valid object), custom resources by kind name, discovery and
//! its overrides, paging, namespace rules, errors, logs and eviction. Every step is a scenario;
//! the report line counts them (`facade: N/N scenarios, K kinds, G groups`).
//!
//! Answers are checked against the server: objects are read back (and, once per kind, through
//! kubectl), never compared with what the same call answered.

mod crd;
mod discovery;
mod errors;
mod kinds;
mod objects;
mod paging;
mod pods;
mod script;
mod selectors;
mod steps;
mod watch;

use crate::case;
use crate::support::{Case, CaseFuture, E2e, Outcome, ensure};
use crd::crd;
use discovery::discovery;
use errors::errors;
use kinds::kinds;
use paging::paging;
use pods::logs_and_eviction;
use steps::tally;

pub fn cases() -> Vec<Case> {
    let mut cases = selectors::cases();
    cases.extend([
        case!("facade/kinds-verb-script", kinds),
        case!("facade/crd-by-kind-name", crd),
        case!("facade/discovery-overrides", discovery),
        case!("facade/paging-pages", paging),
        case!("facade/errors", errors),
        case!("facade/logs-and-eviction", logs_and_eviction),
        case!("facade/report", report),
        case!("facade/on-testserver", on_testserver),
    ]);
    cases.extend(watch::cases());
    cases
}

/// The same scenarios against kuber-testserver, started in this process: its own tally,
/// reported as one line, failing the case when a scenario fails there.
async fn on_testserver(e2e: &E2e) -> Outcome {
    let server = kuber_testserver::TestServer::start()
        .await
        .map_err(|e| format!("starting kuber-testserver: {e}"))?;
    let dir = std::env::temp_dir().join(format!(
        "kuber-e2e-testserver-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig())
        .map_err(|e| format!("{}: {e}", kubeconfig.display()))?;
    let on = e2e.on_server(server.client(), server.client(), kubeconfig);

    // The real server's tally is kept aside and put back after.
    let real = tally(std::mem::take);
    let mut failed_cases = Vec::new();
    let runs: [(&str, CaseFuture<'_>); 6] = [
        ("kinds-verb-script", Box::pin(kinds(&on))),
        ("crd-by-kind-name", Box::pin(crd(&on))),
        ("discovery-overrides", Box::pin(discovery(&on))),
        ("paging-pages", Box::pin(paging(&on))),
        ("errors", Box::pin(errors(&on))),
        ("logs-and-eviction", Box::pin(logs_and_eviction(&on))),
    ];
    for (name, run) in runs {
        if let Err(e) = run.await {
            failed_cases.push(format!("{name}: {e}"));
        }
    }
    let (passed, total, kinds, groups, failures) = tally(|t| {
        (
            t.passed,
            t.total,
            t.kinds.len(),
            t.groups.len(),
            std::mem::take(&mut t.failures),
        )
    });
    tally(|t| *t = real);
    // Differences from the real server the test server keeps on purpose, each named here and
    // reported; any other failed scenario fails the case.
    let (known, unexpected): (Vec<String>, Vec<String>) = failures.into_iter().partition(|f| {
        KNOWN_TESTSERVER_DIFFERENCES
            .iter()
            .any(|k| f.starts_with(k))
    });
    for k in &known {
        e2e.report(format!("facade on kuber-testserver: known difference: {k}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    e2e.report(format!(
        "facade on kuber-testserver: {passed}/{total} scenarios, {kinds} kinds, {groups} groups"
    ));
    ensure(
        unexpected.is_empty() && passed + known.len() == total,
        || {
            format!(
                "on kuber-testserver, {} scenario(s) failed:\n  {}\n  (cases: {})",
                total - passed,
                unexpected.join("\n  "),
                failed_cases.join("; ")
            )
        },
    )
}

/// Scenarios the test server answers differently from the real one on purpose (prefixes of
/// the scenario names); none today.
const KNOWN_TESTSERVER_DIFFERENCES: &[&str] = &[];

async fn report(e2e: &E2e) -> Outcome {
    let (passed, total, kinds, groups) =
        tally(|t| (t.passed, t.total, t.kinds.len(), t.groups.len()));
    e2e.report(format!(
        "facade: {passed}/{total} scenarios, {kinds} kinds, {groups} groups"
    ));
    ensure(passed == total, || {
        format!("{} scenario(s) failed", total - passed)
    })
}
