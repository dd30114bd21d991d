//! `conformance [--shared DIR] [--verbose]`: decodes every response body recorded in `DIR/replays` into the
//! generated models, re-encodes it and compares; then plays every recorded scenario with kuber-api
//! against a local server that checks each request; then checks the protobuf corpus recorded from
//! the real server (`kuber_tests::protobuf`). Prints each failure, then `N/M bodies round-trip
//! exactly`, `N/M exchanges reproduced` and the protobuf bodies checked; exits 1 unless all are
//! complete (M > 0), 2 when it cannot run.

use std::path::PathBuf;
use std::process::ExitCode;

use kuber_tests::{check_replays, default_shared_dir, scenarios};

// The full text is `cargo xtask conformance --help`'s, which checks arguments before building this.
const USAGE: &str =
    "usage: conformance [--shared DIR] [--verbose] (see `cargo xtask conformance --help`)";

struct Args {
    shared: PathBuf,
    verbose: bool,
}

fn main() -> ExitCode {
    let Args { shared, verbose } = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("conformance: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let replays = shared.join("replays");
    if !replays.is_dir() {
        eprintln!(
            "conformance: no recorded traffic: `{}` is not a directory (pass --shared DIR, the directory holding replays/)",
            replays.display()
        );
        return ExitCode::from(2);
    }
    let summary = match check_replays(&replays, verbose) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: cannot read replays: {e}");
            return ExitCode::from(2);
        }
    };
    for failure in &summary.failures {
        println!("FAIL {failure}");
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("conformance: cannot start a tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let played = match runtime.block_on(scenarios::run_dir(&replays)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: cannot read replays: {e}");
            return ExitCode::from(2);
        }
    };
    for failure in &played.failures {
        println!("FAIL {failure}");
    }
    // The protobuf bodies recorded from the real server (they live beside the models).
    let corpus = kuber_tests::protobuf::corpus_dir();
    let protobuf = match kuber_tests::protobuf::check_folder(&corpus) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("conformance: cannot read the protobuf corpus: {e}");
            return ExitCode::from(2);
        }
    };
    for failure in &protobuf.failures {
        println!("FAIL {failure}");
    }
    println!("{}", summary.line());
    println!("{}", played.line());
    println!(
        "{} protobuf bodies and {} watch frames read as their JSON and re-encode exactly, {} failed",
        protobuf.bodies,
        protobuf.watch_frames,
        protobuf.failures.len()
    );
    let protobuf_ok = protobuf.failures.is_empty() && protobuf.bodies > 0;
    if summary.ok() && played.ok() && protobuf_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `None` when help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut shared = None;
    let mut verbose = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shared" => {
                shared = Some(PathBuf::from(
                    args.next().ok_or("--shared needs a directory")?,
                ))
            }
            "-v" | "--verbose" => verbose = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(Some(Args {
        shared: shared.unwrap_or_else(default_shared_dir),
        verbose,
    }))
}
