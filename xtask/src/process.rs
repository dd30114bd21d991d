//! Running other programs: cargo (the one that runs xtask, when known), the binaries of the
//! `tests` package (which need the generated crates xtask must not depend on), any command timed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The cargo that runs this xtask (`$CARGO`), else the one on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `cargo run --quiet --release -p kuber-tests --bin BIN --`; its arguments follow.
pub fn tests_bin(bin: &str) -> Command {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "kuber-tests",
        "--bin",
        bin,
        "--",
    ]);
    cmd
}

/// Where `cargo build --release` puts the binary `name` of this workspace
/// (`CARGO_TARGET_DIR` when set).
pub fn release_bin(root: &Path, name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                root.join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| root.join("target"));
    target.join("release").join(name)
}

/// Runs `cmd` to its end; how long it took, or an error naming it when it failed.
pub fn run(cmd: &mut Command) -> Result<Duration, String> {
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{cmd:?} failed"));
    }
    Ok(started.elapsed())
}
