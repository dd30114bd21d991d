//! Cross-crate tests of kuber and the conformance check: every response body recorded from real
//! kube-apiservers must decode into the generated models and re-encode without loss.
//!
//! - [`bench`]: the timed loop, watch and median `cargo xtask bench`'s binaries share;
//! - [`cluster`]: the real control plane harness (certificates, ports, processes);
//! - [`compare`]: the JSON comparison and its rules;
//! - [`protobuf`]: protobuf bodies against their JSON reads (the recorded corpus, the e2e);
//! - [`replay`]: reading the recorded exchanges;
//! - [`roundtrip`]: decode, re-encode and compare one response body;
//! - [`check_replays`]: all of it over a directory of replays (the `conformance` binary);
//! - [`replay_server`]: a local server that checks our requests against a replay file's and
//!   answers with the recorded responses;
//! - [`scenarios`]: the recorded scenarios written with kuber-api, played against that server.

pub mod bench;
pub mod cluster;
pub mod compare;
pub mod protobuf;
pub mod replay;
pub mod replay_server;
pub mod roundtrip;
pub mod scenarios;

use std::path::{Path, PathBuf};

use crate::roundtrip::{Failure, roundtrip_bodies};

/// `../shared` beside the workspace root, where CI and developers keep the recorded traffic.
pub fn default_shared_dir() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests_crate
        .parent()
        .unwrap_or(tests_crate)
        .join("../shared")
}

/// The hand-made JSON bodies under `tests/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A body of a recorded response that did not round-trip.
#[derive(Debug, Clone)]
pub struct ReplayFailure {
    /// The replay file, relative to the directory checked.
    pub file: PathBuf,
    /// Index of the exchange within the file.
    pub index: usize,
    pub method: String,
    pub url: String,
    pub failure: Failure,
}

impl std::fmt::Display for ReplayFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            file,
            index,
            method,
            url,
            failure,
        } = self;
        write!(f, "{} #{index} {method} {url}: {failure}", file.display())
    }
}

/// What [`check_replays`] found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Response bodies checked; each event of a watch stream counts as one.
    pub bodies: usize,
    /// Bodies that round-tripped exactly.
    pub passed: usize,
    pub failures: Vec<ReplayFailure>,
}

impl Summary {
    /// The one-line verdict the conformance check prints.
    pub fn line(&self) -> String {
        format!("{}/{} bodies round-trip exactly", self.passed, self.bodies)
    }

    /// Every body passed, and there was at least one.
    pub fn ok(&self) -> bool {
        self.passed == self.bodies && self.bodies > 0
    }
}

/// Round-trips every non-empty response body of every replay file under `dir`; with `verbose`,
/// prints each body that passes and the type it decoded as.
pub fn check_replays(dir: &Path, verbose: bool) -> Result<Summary, replay::Error> {
    let mut summary = Summary::default();
    for (path, exchanges) in replay::load_dir(dir)? {
        let file = path.strip_prefix(dir).unwrap_or(&path).to_owned();
        for (index, exchange) in exchanges.iter().enumerate() {
            let (_, results) = roundtrip_bodies(&exchange.response_body);
            for result in results {
                summary.bodies += 1;
                match result {
                    Ok(checked) => {
                        summary.passed += 1;
                        if verbose {
                            let line = checked
                                .line
                                .map(|n| format!(" line {n}"))
                                .unwrap_or_default();
                            let (method, url) = (&exchange.request_method, &exchange.request_url);
                            println!(
                                "ok {} #{index} {method} {url}{line}: {}",
                                file.display(),
                                checked.type_name
                            );
                        }
                    }
                    Err(failure) => summary.failures.push(ReplayFailure {
                        file: file.clone(),
                        index,
                        method: exchange.request_method.clone(),
                        url: exchange.request_url.clone(),
                        failure,
                    }),
                }
            }
        }
    }
    Ok(summary)
}
