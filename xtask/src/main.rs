//! `cargo xtask`: the project's own commands, listed with their arguments in [`USAGE`].

mod app_builds;
mod bench;
mod cluster;
mod gen_cmd;
mod layout;
mod live;
mod process;
mod proto_facts;
mod proto_go_facts;
mod scratch;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  gen --spec FILE_OR_DIR [--spec ...] [--check] [--out DIR | --root DIR]
      [--kubernetes-version X.Y] [--cluster-scoped KIND ...]
      regenerate the committed code (of the workspace at --root, this one by default; or, with
      --out, a standalone models crate for extra documents such as CRDs); --check changes
      nothing and fails if the code is stale; kinds no path serves are namespaced unless named
      by --cluster-scoped
  gen --kubeconfig FILE [--context NAME] [--group GROUP[/VERSION] ...] [--out DIR]
      the same from a live cluster's OpenAPI v3 documents (its CRDs included), saved in
      DIR/openapi-v3 (target/openapi-v3 without --out); --group keeps only those groups; the
      kubeconfig's server, CA, client certificate and token are used, exec plugins, auth
      providers, proxies and impersonation are refused
  try-gen --spec FILE_OR_DIR [--spec ...] [--cluster-scoped KIND ...]
          [--crd [--fixture JSON --type PATH] [--kind PATH=PLURAL,SCOPE ...]]
      generate from other documents into target/try-gen and build there with warnings denied;
      --kind checks a generated kind's plural and scope (Namespaced or Cluster) in a test
  proto-facts --proto DIR [--tag MODULE=TAG ...] [--check]
      extract the messages, field numbers and wire types of the generated.proto files under DIR
      (../shared/proto/v0.36.3; its name is the tag, --tag overrides it for one module) into
      spec/proto.facts; --check fails if the committed file differs
  proto-go-facts [--check]
      how the Go types hold each protobuf field (value, pointer, slice, map, bytes) and their json
      tag options, by reflection (go run tests/controlplane/proto-go-facts; maintainers only),
      cross-checked against spec/proto.facts, into spec/proto-go.facts; --check fails if the
      committed file differs
  bench [--no-builds] [--no-real-server | --real-server-only] [--verbs] [--compile [--rounds N]]
      decode throughput and memory, gen time, clean build times beside k8s-openapi, and
      kuber-api beside kube-rs on a real control plane (GET, LIST, watch), kuber verbs beside
      kuber-api calls, and the list-pods app on kuber beside kube-rs (tests/bench-apps);
      --verbs or --compile runs those two alone
  conformance [--shared DIR] [--verbose]
      decode and re-encode every response body recorded in DIR/replays (DIR: ../shared beside
      the workspace root), then replay each recorded exchange through kuber-api against a local
      server; --verbose also lists the bodies that pass
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
        Some("gen") => gen_cmd::parse(&args[1..]).and_then(|request| gen_cmd::run(&request)),
        Some("conformance") => conformance(&args[1..]),
        Some("try-gen") => scratch::run(&args[1..]),
        Some("proto-facts") => proto_facts::main(&args[1..]),
        Some("proto-go-facts") => proto_go_facts::main(&args[1..]),
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

const CONFORMANCE_USAGE: &str = "usage: cargo xtask conformance [--shared DIR] [--verbose]

Decodes and re-encodes every response body recorded in DIR/replays, then replays each recorded
exchange through kuber-api against a local server that checks every request.
  --shared DIR   the directory holding replays/ (default: ../shared beside the workspace root)
  -v, --verbose  also list each body that passes, with the type it decoded as
Exits 1 when something does not conform, 2 when the check cannot run.";

/// Checks the arguments before building anything: `Ok(false)` when help was asked for.
fn conformance_args(args: &[String]) -> Result<bool, String> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shared" => {
                args.next().ok_or_else(|| {
                    format!("conformance: --shared needs a directory\n\n{CONFORMANCE_USAGE}")
                })?;
            }
            "-v" | "--verbose" => {}
            "-h" | "--help" => return Ok(false),
            other => {
                return Err(format!(
                    "conformance: unexpected argument `{other}`\n\n{CONFORMANCE_USAGE}"
                ));
            }
        }
    }
    Ok(true)
}

/// The conformance checks need the models built, so they live in the tests crate; this runs them.
fn conformance(args: &[String]) -> Result<(), String> {
    if !conformance_args(args)? {
        println!("{CONFORMANCE_USAGE}");
        return Ok(());
    }
    let status = process::tests_bin("conformance")
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(2) => Err("conformance could not run (see above)".into()),
        _ => Err("conformance: some bodies or exchanges do not conform (see above)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn conformance_arguments_are_checked_before_building() {
        assert_eq!(conformance_args(&args(&[])), Ok(true));
        assert_eq!(conformance_args(&args(&["--shared", "/x", "-v"])), Ok(true));
        assert_eq!(conformance_args(&args(&["--help"])), Ok(false));
        let e = conformance_args(&args(&["--shared"])).unwrap_err();
        assert!(
            e.contains("--shared needs a directory")
                && e.contains("usage: cargo xtask conformance")
        );
        let e = conformance_args(&args(&["--bogus"])).unwrap_err();
        assert!(e.contains("`--bogus`"), "{e}");
        // The summary names every flag the runner accepts.
        for flag in ["--shared DIR", "--verbose", "-v", "DIR/replays"] {
            assert!(
                USAGE.contains(flag) || CONFORMANCE_USAGE.contains(flag),
                "{flag}"
            );
        }
    }
}
