//! `cargo xtask cluster build|up` and `cargo xtask e2e`: a real Kubernetes control plane built
//! from the Go modules pinned in `tests/controlplane/go.mod`.
//!
//! `build` runs `go build` once per pinned version into `target/controlplane/<version>/`; a stamp
//! of the inputs (go.mod, go.sum, the etcd launcher, the flags) makes a second run a no-op.
//! metrics-server is built into the same folder from `tests/controlplane/metrics-server`, a module
//! of its own with a stamp of its own.
//! `up` and `e2e` run binaries of the tests crate, which holds the harness (certificates, ports,
//! processes, kubeconfig) so that Rust tests and this command share it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::layout::workspace_root;
use crate::process::{cargo, release_bin};

/// The Go module that pins the control plane, relative to the workspace root.
pub const MODULE_DIR: &str = "tests/controlplane";
/// The build tags of the control plane; other programs of the module built with these (and
/// `-trimpath`, [`go_env`]) reuse the compiled Kubernetes packages from Go's build cache.
pub const GO_TAGS: &str = "selinux,notest";
/// What `build` produces: the Kubernetes commands, our etcd launcher and our node agent.
const COMMANDS: &[(&str, &str)] = &[
    ("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"),
    (
        "kube-controller-manager",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
    ),
    ("kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"),
    ("kubectl", "k8s.io/kubernetes/cmd/kubectl"),
    ("kuber-etcd", "./kuber-etcd"),
    ("kuber-node", "./kuber-node"),
];
/// Our own Go programs: every `.go` file in these folders is an input of the build stamp.
const OWN_PROGRAMS: &[&str] = &["kuber-etcd", "kuber-node"];
/// metrics-server, from a module of its own so that its pins do not move the control plane's.
const METRICS_SERVER_DIR: &str = "tests/controlplane/metrics-server";
const METRICS_SERVER: (&str, &str) = (
    "metrics-server",
    "sigs.k8s.io/metrics-server/cmd/metrics-server",
);

pub fn cluster(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("build") => build(&args[1..]).map(|_| ()),
        Some("up") => {
            build(&[])?;
            become_tests_bin("cluster", args)
        }
        _ => Err("usage: cargo xtask cluster build | up".into()),
    }
}

pub fn e2e(args: &[String]) -> Result<(), String> {
    build(&[])?;
    // The suite also runs the `cluster` binary, as `cluster up` does.
    let status = cargo()
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "kuber-tests",
            "--bins",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the e2e suite failed".into());
    }
    // Exec, as `cluster up`: a SIGTERM to `cargo xtask e2e` reaches the suite, which stops
    // its control planes.
    become_tests_bin("e2e", args)
}

/// go.mod, go.sum and the sources of our own programs, relative to the module, sorted.
fn stamp_inputs(module: &Path) -> Result<Vec<String>, String> {
    let mut inputs = vec!["go.mod".to_owned(), "go.sum".to_owned()];
    for program in OWN_PROGRAMS {
        let dir = module.join(program);
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.ends_with(".go"))
            .map(|name| format!("{program}/{name}"))
            .collect();
        files.sort();
        inputs.extend(files);
    }
    Ok(inputs)
}

/// The Kubernetes version `go.mod` pins, e.g. `v1.36.3`.
pub fn pinned_version(root: &Path) -> Result<String, String> {
    let go_mod = root.join(MODULE_DIR).join("go.mod");
    let text = fs::read_to_string(&go_mod)
        .map_err(|e| format!("cannot read {}: {e}", go_mod.display()))?;
    required_version(&text, "k8s.io/kubernetes").ok_or_else(|| {
        format!(
            "{}: no `k8s.io/kubernetes vX.Y.Z` requirement",
            go_mod.display()
        )
    })
}

/// The version a go.mod requires `module` at (in a `require` block or line).
fn required_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let line = line.trim().trim_start_matches("require").trim_start();
        let mut words = line.split_whitespace();
        (words.next() == Some(module))
            .then(|| words.next())
            .flatten()
            .filter(|v| v.starts_with('v'))
            .map(str::to_owned)
    })
}

/// Where the binaries of `version` are built.
pub fn bin_dir(root: &Path, version: &str) -> PathBuf {
    root.join("target/controlplane").join(version)
}

/// The link-time version facts `/version` and `kubectl version` report (what upstream's
/// `hack/lib/version.sh` sets); without them gitVersion stays `v0.0.0-master+$Format:%H$`.
/// `build_date` is the release's time as the module proxy records it; the module carries no
/// commit id, so gitCommit is left empty rather than invented.
fn ldflags(version: &str, build_date: &str) -> Result<String, String> {
    let mut parts = version.trim_start_matches('v').split('.');
    let (major, minor) = match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => {
            return Err(format!(
                "go.mod pins `{version}`, which is not vMAJOR.MINOR.PATCH"
            ));
        }
    };
    let mut flags = vec!["-s".to_owned(), "-w".to_owned()];
    for package in [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ] {
        for (name, value) in [
            ("gitVersion", version),
            ("gitMajor", major),
            ("gitMinor", minor),
            ("gitTreeState", "clean"),
            ("gitCommit", ""),
            ("buildDate", build_date),
        ] {
            flags.push(format!("-X {package}.{name}={value}"));
        }
    }
    Ok(flags.join(" "))
}

/// Builds the control plane, then metrics-server, each unless its stamp says it is built from
/// the same inputs.
pub fn build(args: &[String]) -> Result<PathBuf, String> {
    if let Some(extra) = args.first() {
        return Err(format!("cluster build takes no arguments (got `{extra}`)"));
    }
    let root = workspace_root();
    let version = pinned_version(&root)?;
    check_matches_spec(&root, &version)?;
    let out = bin_dir(&root, &version);
    build_control_plane(&root, &version, &out)?;
    build_metrics_server(&root, &out)?;
    Ok(out)
}

fn build_control_plane(root: &Path, version: &str, out: &Path) -> Result<(), String> {
    let module = root.join(MODULE_DIR);
    let stamp = stamp_of(&module, &stamp_inputs(&module)?, &ldflags(version, "")?)?;
    let stamp_file = out.join(".inputs.sha256");
    let names: Vec<&str> = COMMANDS.iter().map(|(name, _)| *name).collect();
    if is_fresh(out, &names, &stamp_file, &stamp) {
        println!("control plane {version} is up to date in {}", out.display());
        return Ok(());
    }
    let go = go_command()?;
    let flags = ldflags(version, &release_time(&go, &module, version)?)?;
    println!(
        "building the control plane {version} from Go modules into {}",
        out.display()
    );
    let packages: Vec<&str> = COMMANDS.iter().map(|(_, package)| *package).collect();
    let build = GoBuild {
        go: &go,
        module: &module,
        tags: GO_TAGS,
        flags: &flags,
        out,
    };
    build.run(&packages, &names, &stamp_file, &stamp)
}

/// metrics-server's link flags: the version its own release build sets (client-go's only;
/// component-base's would change the API versions it emulates).
fn metrics_server_ldflags(version: &str) -> String {
    format!("-s -w -X k8s.io/client-go/pkg/version.gitVersion={version}")
}

fn build_metrics_server(root: &Path, out: &Path) -> Result<(), String> {
    let module = root.join(METRICS_SERVER_DIR);
    let go_mod = module.join("go.mod");
    let text = fs::read_to_string(&go_mod)
        .map_err(|e| format!("cannot read {}: {e}", go_mod.display()))?;
    let version = required_version(&text, "sigs.k8s.io/metrics-server").ok_or_else(|| {
        format!(
            "{}: no `sigs.k8s.io/metrics-server vX.Y.Z` requirement",
            go_mod.display()
        )
    })?;
    let flags = metrics_server_ldflags(&version);
    let inputs = ["go.mod".to_owned(), "go.sum".to_owned()];
    let stamp = stamp_of(&module, &inputs, &flags)?;
    let stamp_file = out.join(".metrics-server.sha256");
    let (name, package) = METRICS_SERVER;
    if is_fresh(out, &[name], &stamp_file, &stamp) {
        println!(
            "metrics-server {version} is up to date in {}",
            out.display()
        );
        return Ok(());
    }
    println!("building metrics-server {version} into {}", out.display());
    let go = go_command()?;
    let build = GoBuild {
        go: &go,
        module: &module,
        tags: "",
        flags: &flags,
        out,
    };
    build.run(&[package], &[name], &stamp_file, &stamp)
}

/// The SHA-256 of `inputs` (paths relative to `module`, each hashed with its name) and `flags`.
fn stamp_of(module: &Path, inputs: &[String], flags: &str) -> Result<String, String> {
    let mut stamp = Sha256::new();
    for input in inputs {
        let path = module.join(input);
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        stamp.update(input.as_bytes());
        stamp.update(&bytes);
    }
    stamp.update(flags.as_bytes());
    Ok(format!("{:x}\n", stamp.finalize()))
}

/// Every binary of `names` is in `out` and `stamp_file` holds `stamp`.
fn is_fresh(out: &Path, names: &[&str], stamp_file: &Path, stamp: &str) -> bool {
    names.iter().all(|name| out.join(name).is_file())
        && fs::read_to_string(stamp_file).is_ok_and(|s| s == stamp)
}

/// One `go build` of some packages of a module into `out`.
struct GoBuild<'a> {
    go: &'a Path,
    module: &'a Path,
    tags: &'a str,
    flags: &'a str,
    out: &'a Path,
}

impl GoBuild<'_> {
    /// Builds `packages` (whose binaries are `names`), then writes `stamp`; the old stamp goes
    /// first, so that binaries of a failed build are never taken for fresh ones.
    fn run(
        &self,
        packages: &[&str],
        names: &[&str],
        stamp_file: &Path,
        stamp: &str,
    ) -> Result<(), String> {
        let out = self.out;
        fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        let _ = fs::remove_file(stamp_file);
        let started = Instant::now();
        let mut cmd = Command::new(self.go);
        go_env(&mut cmd)
            .current_dir(self.module)
            .args([
                "build",
                "-trimpath",
                "-tags",
                self.tags,
                "-ldflags",
                self.flags,
                "-o",
            ])
            .arg(format!("{}/", out.display()))
            .args(packages);
        let status = cmd
            .status()
            .map_err(|e| format!("cannot run {}: {e}", self.go.display()))?;
        if !status.success() {
            return Err(format!(
                "go build of {} failed ({status})",
                names.join(", ")
            ));
        }
        println!(
            "built {} in {:.0} s",
            names.join(", "),
            started.elapsed().as_secs_f64()
        );
        fs::write(stamp_file, stamp)
            .map_err(|e| format!("cannot write {}: {e}", stamp_file.display()))
    }
}

/// How every Go command of ours runs: static binaries as upstream builds them, with no C
/// toolchain; never another Go than this one; go.mod as committed. Go's caches are its defaults
/// (`go env GOCACHE GOMODCACHE`), shared by every command.
pub fn go_env(cmd: &mut Command) -> &mut Command {
    cmd.env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=readonly -buildvcs=false")
}

/// `go` from `GO`, else PATH, else Go's default install location; a clear error without it.
pub fn go_command() -> Result<PathBuf, String> {
    const HINT: &str =
        "the control plane is built from Go modules with Go 1.26 (https://go.dev/doc/install)";
    if let Some(go) = std::env::var_os("GO") {
        let go = PathBuf::from(go);
        return if go.is_file() {
            Ok(go)
        } else {
            Err(format!("GO={} is not a file: {HINT}", go.display()))
        };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("go"));
    on_path
        .chain([PathBuf::from("/usr/local/go/bin/go")])
        .find(|go| go.is_file())
        .ok_or_else(|| {
            format!("Go is not installed (no `go` on PATH nor /usr/local/go/bin/go): {HINT}")
        })
}

/// When `version` of k8s.io/kubernetes was published, from the module proxy's record (which
/// `go mod download` also fetches the module by).
fn release_time(go: &Path, module: &Path, version: &str) -> Result<String, String> {
    let output = Command::new(go)
        .current_dir(module)
        .args([
            "mod",
            "download",
            "-json",
            &format!("k8s.io/kubernetes@{version}"),
        ])
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "go mod download k8s.io/kubernetes@{version} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let download: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("go mod download -json: {e}"))?;
    let info_path = download["Info"].as_str().unwrap_or_default();
    let info: serde_json::Value = fs::read(info_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| format!("go mod download gave no readable .info file ({info_path:?})"))?;
    info["Time"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{info_path}: no Time"))
}

/// The binaries must serve the API the committed code is generated from.
fn check_matches_spec(root: &Path, version: &str) -> Result<(), String> {
    let source = root.join("spec/source.json");
    let Ok(text) = fs::read_to_string(&source) else {
        return Ok(());
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", source.display()))?;
    let spec_minor = json["generated_from"][0]["kubernetes"]
        .as_str()
        .unwrap_or("");
    let pinned_minor = minor_of(version);
    if !spec_minor.is_empty() && spec_minor != pinned_minor {
        return Err(format!(
            "{MODULE_DIR}/go.mod pins Kubernetes {version}, but the committed code is generated \
             from the {spec_minor} spec (spec/source.json)"
        ));
    }
    Ok(())
}

/// `v1.36.3` → `1.36`.
fn minor_of(version: &str) -> String {
    let parts: Vec<&str> = version.trim_start_matches('v').splitn(3, '.').collect();
    parts[..parts.len().min(2)].join(".")
}

/// Builds the tests package's `bin` and turns this process into it (Unix `exec`), so that a
/// SIGTERM or SIGINT sent to `cargo xtask cluster up` itself reaches the harness, which stops
/// every process it started; a parent that died first would leave them running.
fn become_tests_bin(bin: &str, args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let version = pinned_version(&root)?;
    let status = cargo()
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "kuber-tests",
            "--bin",
            bin,
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building {bin} failed"));
    }
    let mut cmd = Command::new(release_bin(&root, bin));
    cmd.current_dir(&root)
        .args(args)
        .env("KUBER_CONTROLPLANE_BIN", bin_dir(&root, &version));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let error = cmd.exec();
        Err(format!("cannot run {bin}: {error}"))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(|e| format!("cannot run {bin}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{bin} failed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_read_from_go_mod() {
        let go_mod = "module x\n\ngo 1.26.0\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.6.8\n\
                      \tk8s.io/kubernetes v1.36.3\n)\n\nreplace k8s.io/api => k8s.io/api v0.36.3\n";
        let k8s = "k8s.io/kubernetes";
        assert_eq!(required_version(go_mod, k8s).as_deref(), Some("v1.36.3"));
        let one_line = "require k8s.io/kubernetes v1.35.0\n";
        assert_eq!(required_version(one_line, k8s).as_deref(), Some("v1.35.0"));
        assert_eq!(required_version("require k8s.io/api v0.36.3\n", k8s), None);
        assert_eq!(required_version("// k8s.io/kubernetes\n", k8s), None);
    }

    #[test]
    fn version_facts_are_linked_into_both_version_packages() {
        let flags = ldflags("v1.36.3", "2026-07-22T18:07:38Z").expect("flags");
        for package in [
            "k8s.io/component-base/version",
            "k8s.io/client-go/pkg/version",
        ] {
            for fact in [
                "gitVersion=v1.36.3",
                "gitMajor=1",
                "gitMinor=36",
                "gitTreeState=clean",
                "buildDate=2026-07-22T18:07:38Z",
            ] {
                let flag = format!("-X {package}.{fact}");
                assert!(flags.contains(&flag), "{flag}");
            }
        }
        assert!(ldflags("latest", "").is_err());
        assert_eq!(minor_of("v1.36.3"), "1.36");
    }

    #[test]
    fn metrics_server_is_pinned_in_a_module_of_its_own() {
        let go_mod = workspace_root().join(METRICS_SERVER_DIR).join("go.mod");
        let text = fs::read_to_string(&go_mod).expect("metrics-server's go.mod");
        let version = required_version(&text, "sigs.k8s.io/metrics-server");
        assert_eq!(version.as_deref(), Some("v0.8.0"));
        assert_eq!(required_version(&text, "k8s.io/kubernetes"), None);
        let flags = metrics_server_ldflags("v0.8.0");
        assert!(flags.contains("-X k8s.io/client-go/pkg/version.gitVersion=v0.8.0"));
        assert!(!flags.contains("component-base"), "{flags}");
    }

    #[test]
    fn the_pinned_release_matches_the_committed_spec() {
        let root = workspace_root();
        let version = pinned_version(&root).expect("go.mod pins k8s.io/kubernetes");
        check_matches_spec(&root, &version).expect("same minor as spec/source.json");
        assert!(check_matches_spec(&root, "v1.35.4").is_err());
    }
}
