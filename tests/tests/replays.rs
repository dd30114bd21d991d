//! Every response body recorded from real kube-apiservers round-trips. Needs `../shared/replays`
//! beside the workspace root; passes without it (machines that only have the repository).

use kuber_tests::{check_replays, default_shared_dir};

#[test]
fn recorded_bodies_roundtrip() {
    let dir = default_shared_dir().join("replays");
    if !dir.is_dir() {
        eprintln!("skipped: no recorded traffic at {}", dir.display());
        return;
    }
    let summary = check_replays(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> = summary.failures.iter().map(ToString::to_string).collect();
    assert!(summary.ok(), "{}\n{}", failures.join("\n"), summary.line());
}
