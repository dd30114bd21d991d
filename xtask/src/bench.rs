//! `cargo xtask bench`: the figures the issues ask for, each beside a baseline measured in the
//! same run (the machines are shared and noisy, so only ratios mean much).
//!
//! 1. decode throughput and heap kept per pod (`cargo bench -p kuber-models --bench decode`),
//!    beside k8s-openapi decoding the same bytes (`bench-kube decode`; must stay at least 2x);
//! 2. client requests/s beside bare hyper, watch events/s (`cargo bench -p kuber-api --bench client`);
//!    `gen` wall time for the committed spec;
//! 3. real server: kuber-api beside kube-rs on one real control plane (GET at concurrency 1 and
//!    32, LIST of 2,000 ConfigMaps, a watch of 5,000 events), `tests/src/bin/realbench.rs` for
//!    kuber-api and the standalone crate `tests/bench-kube` (not a workspace member, so kube-rs
//!    never enters the default build) for kube-rs;
//! 4. clean builds of kuber-models and kuber-api (all groups, core only) beside k8s-openapi 0.29;
//! 5. the kuber facade's overhead: each verb beside the kuber-api call it makes
//!    (`cargo bench -p kuber --bench verbs`);
//! 6. clean builds of the same small app on each SDK (`tests/bench-apps`, its own workspace
//!    outside this one; [`crate::app_builds`]): dev builds alternating, ratios to kube-rs's, the
//!    critical path of each from `--timings`, then one release build each with its binary size.
//!
//! 7. kuber-testserver beside the real kube-apiserver: start-up, GET, LIST of 500 pods and watch
//!    events/s with the same kuber-api client code (`tests/src/bin/tsbench.rs`, release).
//! 8. pods: port-forward throughput (100 MiB through one forwarded connection, every byte
//!    checked) and exec round trips on one pod of a control plane with a node, kuber-api beside
//!    kube-rs (`bench-kube`, its `ws` feature) and kubectl (`realbench --pods`,
//!    `tests/src/bin/bench/pods.rs`).
//!
//! Flags: `--no-builds` skips 4 and 6, `--no-real-server` skips 3 and 8, `--real-server-only`
//! runs 3 alone, `--verbs` runs 5 alone, `--compile` runs 6 alone (`--no-release` leaves out its
//! release builds), `--testserver` runs 7 alone, `--pods` runs 8 alone; `--rounds N` for 6 and 7
//! (2 by default; 3 for `--testserver`).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::app_builds::app_builds;
use crate::layout::workspace_root;
use crate::process::{cargo, run, tests_bin};

pub fn main(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let shared = root.join("../shared");
    let flag = |name: &str| args.iter().any(|a| a == name);
    let skip_builds = flag("--no-builds");
    let mut rounds = 2;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--no-builds" | "--no-real-server" | "--real-server-only" | "--verbs" | "--compile"
            | "--no-release" | "--testserver" | "--pods" => {}
            "--rounds" => {
                rounds = rest
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n > 0)
                    .ok_or("bench: --rounds needs a count above 0")?;
            }
            unknown => {
                return Err(format!(
                    "bench: unknown flag {unknown} (--no-builds, --no-real-server, \
                     --real-server-only, --verbs, --compile, --no-release, --testserver, --pods, \
                     --rounds N)"
                ));
            }
        }
    }
    if flag("--real-server-only") {
        return real_server(&root);
    }
    if flag("--pods") {
        return pods(&root);
    }
    if flag("--testserver") {
        let rounds = if args.iter().any(|a| a == "--rounds") {
            rounds
        } else {
            3
        };
        return testserver(&root, rounds);
    }
    if flag("--verbs") || flag("--compile") {
        if flag("--verbs") {
            verbs(&root)?;
        }
        if flag("--compile") {
            app_builds(&root, rounds, !flag("--no-release"))?;
        }
        return Ok(());
    }

    println!("== decode");
    let input = root.join("target/bench-decode-podlist.json");
    run(cargo()
        .current_dir(&root)
        .env("KUBER_DECODE_INPUT_OUT", &input)
        .args(["bench", "-q", "-p", "kuber-models", "--bench", "decode"]))?;
    if input.exists() {
        let bench_kube = build_bench_kube(&root)?;
        println!("k8s-openapi 0.29 on the same input (bench-kube decode):");
        run(Command::new(bench_kube).arg("decode").arg(&input))?;
    }

    println!("\n== client");
    run(cargo()
        .current_dir(&root)
        .args(["bench", "-q", "-p", "kuber-api", "--bench", "client"]))?;

    println!("\n== gen");
    let spec = shared.join("spec/v2/kubernetes-1.36.swagger.json");
    if spec.exists() {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for _ in 0..5 {
            // --check does all the work of gen (load, fix, model, emit, compare) but the writes.
            times.push(run(Command::new(&exe)
                .args(["gen", "--check", "--spec"])
                .arg(&spec)
                .stdout(std::process::Stdio::null()))?);
        }
        times.sort();
        println!(
            "cargo xtask gen (1.36, xtask built): median {:.2} s over 5 runs",
            times[2].as_secs_f64()
        );
    } else {
        println!("../shared not found: gen not timed");
    }

    verbs(&root)?;

    if !flag("--no-real-server") {
        real_server(&root)?;
        pods(&root)?;
    }

    if skip_builds {
        return Ok(());
    }
    println!("\n== clean builds (debug, 2 cores)");
    let target = root.join("target/bench-builds");
    let models = time_clean(
        &target.join("all"),
        cargo()
            .current_dir(&root)
            .args(["build", "-q", "-p", "kuber-models"]),
    )?;
    let core = time_clean(
        &target.join("core"),
        cargo().current_dir(&root).args([
            "build",
            "-q",
            "-p",
            "kuber-models",
            "--no-default-features",
            "--features",
            "core",
        ]),
    )?;
    let api = time_clean(
        &target.join("api-all"),
        cargo()
            .current_dir(&root)
            .args(["build", "-q", "-p", "kuber-api"]),
    )?;
    let api_core = time_clean(
        &target.join("api-core"),
        cargo().current_dir(&root).args([
            "build",
            "-q",
            "-p",
            "kuber-api",
            "--no-default-features",
            "--features",
            "core",
        ]),
    )?;
    let baseline_dir = target.join("k8s-openapi-crate");
    fs::create_dir_all(baseline_dir.join("src")).map_err(|e| e.to_string())?;
    fs::write(
        baseline_dir.join("Cargo.toml"),
        "[package]\nname = \"baseline\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         k8s-openapi = { version = \"0.29\", features = [\"latest\"] }\n\n[workspace]\n",
    )
    .map_err(|e| e.to_string())?;
    fs::write(baseline_dir.join("src/lib.rs"), "pub use k8s_openapi;\n")
        .map_err(|e| e.to_string())?;
    run(cargo().current_dir(&baseline_dir).args(["fetch", "-q"]))?;
    let baseline = time_clean(
        &target.join("baseline"),
        cargo()
            .current_dir(&baseline_dir)
            .args(["build", "-q", "-p", "k8s-openapi"]),
    )?;
    let b = baseline.as_secs_f64();
    println!("k8s-openapi 0.29 (latest):      {b:.1} s (baseline)");
    println!(
        "kuber-models, all groups:       {:.1} s ({:.2}x of baseline)",
        models.as_secs_f64(),
        models.as_secs_f64() / b
    );
    println!(
        "kuber-models, core only:        {:.1} s ({:.2}x of baseline)",
        core.as_secs_f64(),
        core.as_secs_f64() / b
    );
    println!(
        "kuber-api, all groups:          {:.1} s (client, TLS and models included)",
        api.as_secs_f64()
    );
    println!(
        "kuber-api, core only:           {:.1} s",
        api_core.as_secs_f64()
    );
    app_builds(&root, rounds, !flag("--no-release"))
}

/// The facade's overhead over kuber-api (a local server, same client, same run).
fn verbs(root: &Path) -> Result<(), String> {
    println!("\n== kuber verbs beside kuber-api");
    run(cargo()
        .current_dir(root)
        .args(["bench", "-q", "-p", "kuber", "--bench", "verbs"]))?;
    Ok(())
}

/// The apps of `tests/bench-apps` (package, what it is), built clean in debug in each round;
/// the first is the baseline the others are compared to.
/// kuber-api beside kube-rs against a real control plane (`target/controlplane`, built by
/// `cargo xtask cluster build`). Both sides are built in release; kube-rs in its own target
/// folder from its committed lock file.
fn real_server(root: &Path) -> Result<(), String> {
    println!("\n== real server (kuber-api beside kube-rs)");
    let bench_kube = build_bench_kube(root)?;
    run(tests_bin("realbench")
        .current_dir(root)
        .args(["--runs", "5", "--bench-kube"])
        .arg(&bench_kube))?;
    Ok(())
}

/// port-forward and exec on a pod: kuber-api beside kube-rs and kubectl, on a control plane
/// with a node (`realbench --pods`).
fn pods(root: &Path) -> Result<(), String> {
    println!("\n== pods: port-forward and exec (kuber-api beside kube-rs and kubectl)");
    let bench_kube = build_bench_kube(root)?;
    run(tests_bin("realbench")
        .current_dir(root)
        .args(["--pods", "--runs", "5", "--bench-kube"])
        .arg(&bench_kube))?;
    Ok(())
}

/// kuber-testserver beside the real kube-apiserver (`tests/src/bin/tsbench.rs`), in release.
fn testserver(root: &Path, rounds: usize) -> Result<(), String> {
    println!("\n== kuber-testserver beside kube-apiserver");
    run(tests_bin("tsbench")
        .current_dir(root)
        .arg("--rounds")
        .arg(rounds.to_string()))?;
    Ok(())
}

/// Builds `tests/bench-kube` (kube-rs and k8s-openapi) in release, in its own target folder
/// from its committed lock file; the path of the binary.
fn build_bench_kube(root: &Path) -> Result<std::path::PathBuf, String> {
    let target = root.join("target/bench-kube");
    run(cargo()
        .current_dir(root)
        .args([
            "build",
            "-q",
            "--release",
            "--locked",
            "--manifest-path",
            "tests/bench-kube/Cargo.toml",
            "--target-dir",
        ])
        .arg(&target))?;
    Ok(target.join("release/bench-kube"))
}

/// Times a build in an empty target folder (dependencies included, as a user's first build).
fn time_clean(target: &Path, cmd: &mut Command) -> Result<Duration, String> {
    let _ = fs::remove_dir_all(target);
    run(cmd.env("CARGO_TARGET_DIR", target))
}
