//! `cargo xtask`: the project's own commands, listed with their arguments in [`USAGE`].

mod bench;
mod cluster;
mod gen_cmd;
mod live;
mod scratch;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  gen --spec FILE_OR_DIR [--spec ...] [--check] [--out DIR] [--kubernetes-version X.Y]
      [--cluster-scoped KIND ...]
      regenerate the committed code (or, with --out, a standalone models crate for extra
      documents such as CRDs); --check changes nothing and fails if the committed code is stale;
      kinds no path serves are namespaced unless named by --cluster-scoped
  gen --kubeconfig FILE [--context NAME] [--group GROUP[/VERSION] ...] --out DIR
      the same from a live cluster's OpenAPI v3 documents (its CRDs included), saved in
      DIR/openapi-v3 (target/openapi-v3 without --out); --group keeps only those groups
  try-gen --spec FILE_OR_DIR [--spec ...] [--cluster-scoped KIND ...]
          [--crd [--fixture JSON --type PATH] [--kind PATH=PLURAL,SCOPE ...]]
      generate from other documents into target/try-gen and build there with warnings denied;
      --kind checks a generated kind's plural and scope (Namespaced or Cluster) in a test
  bench [--no-builds] [--no-real-server | --real-server-only]
      decode throughput and memory, gen time, clean build times beside k8s-openapi, and
      kuber-api beside kube-rs on a real control plane (GET, LIST, watch)
  conformance [--shared DIR] [--verbose]
      decode and re-encode every recorded server body in ../shared/replays
  cluster build
      build kube-apiserver, kube-controller-manager, kubectl and an etcd launcher from the Go
      modules pinned in tests/controlplane (once per version, into target/controlplane)
  cluster up
      start a control plane on 127.0.0.1, write an admin kubeconfig; Ctrl-C stops and removes it
  e2e [FILTER]
      the end-to-end suite against a real control plane (builds it first)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => gen_cmd::run(&args[1..]),
        Some("conformance") => conformance(&args[1..]),
        Some("try-gen") => scratch::run(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("cluster") => cluster::cluster(&args[1..]),
        Some("e2e") => cluster::e2e(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The conformance checks need the models built, so they live in the tests crate; this runs them.
fn conformance(args: &[String]) -> Result<(), String> {
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "kuber-tests",
                "--bin",
                "conformance",
                "--",
            ])
            .args(args)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("conformance failed".into())
    }
}
