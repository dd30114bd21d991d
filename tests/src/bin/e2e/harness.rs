//! The harness itself: the pinned release answers, a panicking test leaves nothing behind, and
//! `cluster up` serves kubectl until Ctrl-C, then removes everything.

use std::io::{BufRead as _, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use kuber_api::CoreV1Api;
use kuber_tests::cluster::Cluster;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![
        case!("harness/version-and-namespace", version_and_namespace),
        case!("harness/guard-stops-everything-on-panic", guard_on_panic),
        case!("harness/cluster-up-kubectl-ctrl-c", cluster_up),
        case!("harness/xtask-cluster-up-sigterm", xtask_cluster_up),
        case!("harness/xtask-e2e-sigterm-mid-suite", xtask_e2e_sigterm),
    ]
}

/// `/version` reports the pinned release and a fresh namespace can be made and read.
async fn version_and_namespace(e2e: &E2e) -> Outcome {
    let info = kuber_api::VersionApi::new(e2e.admin.clone())
        .get_code()
        .await
        .context("GET /version")?;
    ensure(info.git_version.starts_with("v1.36."), || {
        format!("gitVersion {} is not a 1.36 release", info.git_version)
    })?;
    ensure(info.major == "1" && info.minor == "36", || {
        format!("major/minor {}/{}", info.major, info.minor)
    })?;
    e2e.report(format!(
        "server {} (major {}, minor {}, built {}, {})",
        info.git_version, info.major, info.minor, info.build_date, info.go_version
    ));
    let ns = e2e.namespace("harness").await?;
    let read = CoreV1Api::new(e2e.admin.clone())
        .read_namespace(&ns, &Default::default())
        .await
        .context("read the new namespace")?;
    ensure(
        read.metadata.and_then(|m| m.name).as_deref() == Some(&ns),
        || "the namespace read back has another name".into(),
    )
}

/// A test that panics while holding a cluster: unwinding drops the guard, which stops every
/// process and removes the folder.
async fn guard_on_panic(_: &E2e) -> Outcome {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let cluster = Cluster::start_with(kuber_tests::cluster::Options {
            controller_manager: false,
            nodes: 0,
            ..Default::default()
        })
        .await;
        let facts = cluster
            .as_ref()
            .map(|c| (c.pids(), c.dir().to_path_buf()))
            .map_err(|e| e.to_string());
        let _ = tx.send(facts);
        let _cluster = cluster;
        panic!("a test failing while it holds a cluster");
    });
    let joined = task.await;
    let (pids, dir) = rx.await.context("the task's cluster facts")??;
    ensure(joined.is_err_and(|e| e.is_panic()), || {
        "the task did not panic".into()
    })?;
    ensure(pids.len() == 2, || {
        format!("expected 2 processes, got {pids:?}")
    })?;
    let alive: Vec<u32> = pids.into_iter().filter(|pid| running(*pid)).collect();
    ensure(alive.is_empty(), || {
        format!("processes still running after the panic: {alive:?}")
    })?;
    ensure(!dir.exists(), || {
        format!("{} is left behind", dir.display())
    })
}

/// `cluster up` (what `cargo xtask cluster up` runs): kubectl works with the kubeconfig it
/// prints; SIGINT (Ctrl-C) stops etcd, the apiserver, the controller-manager, the scheduler
/// and the node agent, and removes the folder.
async fn cluster_up(e2e: &E2e) -> Outcome {
    let bin = std::env::current_exe()
        .context("locate the e2e binary")?
        .with_file_name("cluster");
    ensure(bin.is_file(), || {
        format!("{} is not built (cargo xtask e2e builds it)", bin.display())
    })?;
    let mut cmd = Command::new(bin);
    cmd.arg("up");
    stop_cluster_up(e2e, cmd, "-INT").await
}

/// `cargo xtask cluster up` itself, as a script or a CI step's timeout stops it: SIGTERM to
/// the process that was started (not its group) leaves nothing behind.
async fn xtask_cluster_up(e2e: &E2e) -> Outcome {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["xtask", "cluster", "up"]);
    stop_cluster_up(e2e, cmd, "-TERM").await
}

/// `cargo xtask e2e` stopped by SIGTERM (a CI step's timeout) while a case runs: the suite says
/// so, fails, and every process it started (its control plane, the case's own) is gone.
async fn xtask_e2e_sigterm(e2e: &E2e) -> Outcome {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // A case that starts a cluster of its own, so the signal lands while it runs.
    cmd.args(["xtask", "e2e", "harness/guard-stops-everything-on-panic"])
        .env("KUBER_CONTROLPLANE_BIN", e2e.cluster.bin())
        .env_remove("KUBER_CLUSTER_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let mut child = Running(cmd.spawn().context("start `cargo xtask e2e`")?);
        let stdout = child.0.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.starts_with("control plane https://"));
        ensure(ready.is_some(), || {
            "the suite ended before its control plane was ready".into()
        })?;
        let pid = child.0.id();
        let started = children_of(pid);
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let status = child.0.wait().context("wait for `cargo xtask e2e`")?;
        let mut stderr = String::new();
        if let Some(mut err) = child.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
        }
        Ok((started, status, rest, stderr))
    });
    let (started, status, rest, stderr) = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .context("`cargo xtask e2e` did not stop within 120 s of SIGTERM")?
        .context("the task running `cargo xtask e2e`")??;
    ensure(started.len() >= 2, || {
        format!("expected the suite's etcd and apiserver among its children, found {started:?}")
    })?;
    ensure(!status.success(), || {
        format!("the interrupted suite exited {status}; printed {rest:?}")
    })?;
    ensure(
        stderr.contains("terminated; stopping the control plane"),
        || format!("the suite's stderr after SIGTERM: {stderr:?}"),
    )?;
    let alive: Vec<u32> = started.into_iter().filter(|pid| running(*pid)).collect();
    ensure(alive.is_empty(), || {
        format!("still running after SIGTERM: {alive:?}")
    })?;
    e2e.report("SIGTERM mid-suite: the suite stopped its control plane and exited 1".to_string());
    Ok(())
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat")).is_ok_and(|stat| {
                // After the `(comm)`: state, then the parent's pid.
                stat.rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().nth(1))
                    == Some(pid.to_string().as_str())
            })
        })
        .collect()
}

/// Starts `cmd` (a `cluster up`), checks it serves kubectl, sends it `signal` and checks that
/// every process it started is gone with its folder.
async fn stop_cluster_up(e2e: &E2e, mut cmd: Command, signal: &'static str) -> Outcome {
    let controlplane = e2e.cluster.bin().to_path_buf();
    cmd.env("KUBER_CONTROLPLANE_BIN", &controlplane);
    let mut up = tokio::task::spawn_blocking(move || start_cluster_up(cmd, &controlplane))
        .await
        .context("cluster up")??;

    let _ = Command::new("kill")
        .args([signal, &up.child.0.id().to_string()])
        .status();
    let child = &std::sync::Mutex::new(&mut up.child.0);
    let every = Duration::from_millis(50);
    let stopped = poll_every(
        "`cluster up` stopped after the signal",
        Duration::from_secs(30),
        every,
        || async move {
            let mut child = child.lock().map_err(|_| "poisoned")?;
            Ok(child.try_wait().ok().flatten())
        },
    )
    .await;
    let status = match stopped {
        Ok(status) => status,
        // Dropping `up` stops it.
        Err(e) => return Err(e),
    };
    let lines = up.lines;
    let rest = tokio::task::spawn_blocking(move || lines.map_while(Result::ok).collect())
        .await
        .context("the output of `cluster up`")?;
    up.facts.check(status, rest)
}

/// A running `cluster up`, what it printed so far, and what was seen while it ran.
struct ClusterUp {
    child: Running,
    lines: Lines<BufReader<ChildStdout>>,
    facts: UpFacts,
}

/// A case that fails or times out must not leave its `cluster up` running: SIGINT (which it
/// handles by stopping everything), then SIGKILL.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            for _ in 0..300 {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

struct UpFacts {
    dir: PathBuf,
    namespaces: Output,
    listed: String,
    pids: Vec<u32>,
}

/// Starts `cluster up`, waits for its kubeconfig, lists namespaces with kubectl and notes the
/// cluster's processes.
fn start_cluster_up(mut cmd: Command, controlplane: &Path) -> Result<ClusterUp, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start `cluster up`")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let kubeconfig = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(path) = line.strip_prefix("admin kubeconfig: ") {
                    break PathBuf::from(path);
                }
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("`cluster up` ended before printing its kubeconfig".into());
            }
        }
    };
    let dir = kubeconfig
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let namespaces = Command::new(controlplane.join("kubectl"))
        .args(["get", "ns", "-o", "name"])
        .env("KUBECONFIG", &kubeconfig)
        .env("KUBECACHEDIR", dir.join("kubectl-cache"))
        .output()
        .context("kubectl get ns");
    let namespaces = match namespaces {
        Ok(out) => out,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let listed = String::from_utf8_lossy(&namespaces.stdout).into_owned();
    let pids = processes_under(&dir);
    let facts = UpFacts {
        dir,
        namespaces,
        listed,
        pids,
    };
    Ok(ClusterUp {
        child: Running(child),
        lines,
        facts,
    })
}

impl UpFacts {
    /// What `cluster up` did: kubectl listed the namespaces, its six processes ran, and after
    /// the signal it exited 0, said so, and left no process and no folder behind.
    fn check(self, status: ExitStatus, rest: Vec<String>) -> Outcome {
        let UpFacts {
            dir,
            namespaces,
            listed,
            pids,
        } = self;
        ensure(namespaces.status.success(), || {
            format!(
                "kubectl get ns failed: {}",
                String::from_utf8_lossy(&namespaces.stderr)
            )
        })?;
        ensure(listed.contains("namespace/kube-system"), || {
            format!("kubectl get ns printed {listed:?}")
        })?;
        ensure(pids.len() == 6, || {
            format!(
                "expected etcd, apiserver, controller-manager, scheduler, node agent and \
                 metrics-server, found pids {pids:?}"
            )
        })?;
        ensure(status.success(), || format!("`cluster up` exited {status}"))?;
        ensure(
            rest.iter().any(|l| l.contains("nothing left running")),
            || format!("`cluster up` printed {rest:?} after the signal"),
        )?;
        let alive: Vec<u32> = pids.into_iter().filter(|pid| running(*pid)).collect();
        ensure(alive.is_empty(), || format!("still running: {alive:?}"))?;
        ensure(!dir.exists(), || {
            format!("{} is left behind", dir.display())
        })
    }
}

/// Whether a process with `pid` runs (and is not a zombie waiting for its parent).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Processes whose command line names `dir` (the cluster's own processes).
fn processes_under(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
        })
        .filter(|pid| running(*pid))
        .collect()
}
