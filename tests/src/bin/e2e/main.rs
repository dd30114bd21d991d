//! `e2e [FILTER…]`: the end-to-end suite against a real control plane (see
//! `kuber_tests::cluster`). Each case is written as a user of kuber-api would write it.
//!
//! One cluster serves every case (each works in namespaces of its own); cases that need other
//! server flags start their own. With `KUBER_CLUSTER_DIR` set to the folder of a running
//! `cargo xtask cluster up`, the suite uses that cluster instead of starting one.
//!
//! The cases, by subject: `harness` (the cluster harness itself), `api/` (kuber-api on the real
//! server), `codegen/` (generation from the live cluster), `testserver/` (kuber-testserver beside
//! the real server), `facade/` (the `kuber` facade) and `pods/` (running pods, on a second
//! cluster with a scheduler and our node agent); `support` is what they share.
//!
//! Prints each case's verdict, the report lines cases add (e.g. `K kinds listed, N bodies
//! exact`), then `e2e: N passed, M failed` and `N/M cases passed`; exits 1 on any failure.

mod api;
mod codegen;
mod facade;
mod harness;
mod pods;
mod support;
mod testserver;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use kuber_tests::cluster::{Cluster, Options};

use support::{Case, E2e};

/// Every case, in the order they run.
fn all_cases() -> Vec<Case> {
    [
        harness::cases(),
        api::cases(),
        codegen::cases(),
        testserver::cases(),
        facade::cases(),
        pods::cases(),
    ]
    .concat()
}

/// A case that takes longer than this is failed (and the suite goes on).
const CASE_TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    let mut filters: Vec<String> = std::env::args().skip(1).collect();
    if filters.iter().any(|f| f == "-h" || f == "--help") {
        println!("usage: e2e [--list] [FILTER...]   (runs the cases whose name contains a FILTER)");
        return ExitCode::SUCCESS;
    }
    if let Some(at) = filters.iter().position(|f| f == "--list") {
        filters.remove(at);
        // The names only, without starting a control plane.
        let names: Vec<&str> = selected(&filters).iter().map(|c| c.name).collect();
        println!("{}", names.join("\n"));
        return ExitCode::SUCCESS;
    }
    // A panicking case is reported as failed; one line says where, not a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("e2e: {info}")));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("e2e: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(filters))
}

/// The cases whose name contains one of `filters` (all of them without filters).
fn selected(filters: &[String]) -> Vec<Case> {
    all_cases()
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str())))
        .collect()
}

async fn run(filters: Vec<String>) -> ExitCode {
    let cases = selected(&filters);
    if cases.is_empty() {
        eprintln!("e2e: no case matches {filters:?}");
        return ExitCode::FAILURE;
    }

    let started = Instant::now();
    let attached = std::env::var_os("KUBER_CLUSTER_DIR");
    let cluster = match &attached {
        Some(dir) => Cluster::attach(std::path::Path::new(dir)),
        // Pods stay stored, never run, on the shared cluster (the cases of running pods start
        // their own: E2e::running_pods).
        None => {
            Cluster::start_with(Options {
                nodes: 0,
                ..Options::default()
            })
            .await
        }
    };
    let cluster = match cluster {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("e2e: cannot start the control plane: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "control plane {} ready in {:.1} s",
        cluster.server,
        started.elapsed().as_secs_f64()
    );
    let e2e = match if attached.is_some() {
        E2e::attached(cluster)
    } else {
        E2e::new(cluster)
    } {
        Ok(e2e) => e2e,
        Err(e) => {
            eprintln!("e2e: {e}");
            return ExitCode::FAILURE;
        }
    };

    // A signal (Ctrl-C, SIGTERM of a CI timeout, SIGHUP) ends the suite early but still drops
    // the cluster, which stops its processes.
    tokio::select! {
        code = run_cases(&e2e, &cases) => code,
        signal = kuber_tests::cluster::wait_for_signal() => {
            eprintln!("e2e: {signal}; stopping the control plane");
            ExitCode::FAILURE
        }
    }
}

async fn run_cases(e2e: &E2e, cases: &[Case]) -> ExitCode {
    let (mut passed, mut failed) = (0usize, Vec::new());
    for case in cases {
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            CASE_TIMEOUT,
            std::panic::AssertUnwindSafe((case.run)(e2e)).catch_unwind(),
        )
        .await;
        let seconds = started.elapsed().as_secs_f64();
        let verdict = match outcome {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(panic)) => Err(format!("panicked: {}", panic_text(&*panic))),
            Err(_) => Err(format!("timed out after {} s", CASE_TIMEOUT.as_secs())),
        };
        match verdict {
            Ok(()) => {
                passed += 1;
                println!("ok      {} ({seconds:.1} s)", case.name);
            }
            Err(e) => {
                println!("FAILED  {} ({seconds:.1} s): {e}", case.name);
                failed.push(case.name);
            }
        }
    }

    println!();
    for line in e2e.report_lines() {
        println!("{line}");
    }
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
    }
    println!("e2e: {passed} passed, {} failed", failed.len());
    println!("{passed}/{} cases passed", cases.len());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}
