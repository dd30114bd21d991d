//! Every recorded scenario, written with kuber-api, reproduces its exchanges against the replay
//! server. Needs `../shared/replays` beside the workspace root; passes without it.

use std::path::Path;

use kuber_tests::scenarios::run_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_scenarios_reproduce() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/replays");
    if !dir.is_dir() {
        eprintln!("skipped: no recorded traffic at {}", dir.display());
        return;
    }
    let summary = run_dir(&dir).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        summary.ok(),
        "{}\n{}",
        summary.failures.join("\n"),
        summary.line()
    );
}
