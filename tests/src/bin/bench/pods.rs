//! `realbench --pods`: port-forward throughput and exec round trips on one pod of a control plane
//! with a node (kube-scheduler and kuber-node), for kuber-api, kube-rs (`bench-kube`) and
//! kubectl, each run a fresh process, the order alternating from round to round.
//!
//! port-forward: one forwarded connection to the pod's nginx (kuber-node's `/bytes`), a 1 MiB
//! GET to warm it, then a timed 100 MiB GET on the same connection, every byte checked.
//! exec: `echo x` run to its end again and again (stdout and stderr, no stdin, as kubectl's
//! default), its output checked; kubectl starts a process per exec, so its column says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use kuber::Context;
use kuber::models::api::core::v1::{Pod, ServiceAccount};
use kuber_api::{CoreV1Api, ExecParams, PortforwardParams};
use kuber_tests::bench::bytes::get_bytes;
use kuber_tests::bench::{median, timed};
use kuber_tests::cluster::Cluster;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::{Measurement, Runner, Side, create_namespace, fmt_rate, print_runs, side_name};

pub const NS_PODS: &str = "bench-pods";
/// The pod every client talks to (nginx: kuber-node's HTTP server on port 80).
pub const POD: &str = "bench-web";
const PORT: u16 = 80;
/// Read before timing, on the connection that is then timed.
pub const WARM_UP_BYTES: u64 = 1 << 20;
const EXEC_WARM_UP: usize = 3;
/// kubectl's execs a run (a process each: slower by nature, so fewer).
pub const KUBECTL_EXECS: usize = 20;

pub const MEASUREMENTS: [Measurement; 2] = [
    Measurement {
        name: "port-forward",
        label: "port-forward: 100 MiB GET over one forwarded connection",
        namespace: NS_PODS,
        count: 100 << 20,
        unit: "MiB/s",
    },
    Measurement {
        name: "exec",
        label: "exec `echo x`, sequential round trips",
        namespace: NS_PODS,
        count: 100,
        unit: "execs/s",
    },
];

const SIDES: [Side; 3] = [Side::Kuber, Side::KubeDefault, Side::Kubectl];

/// What a measurement's JSON `rate` is in: MiB/s for the port-forward's bytes, else per second.
pub fn rate(measurement: &str, done: usize, elapsed: Duration) -> f64 {
    let per_second = done as f64 / elapsed.as_secs_f64();
    if measurement == "port-forward" {
        per_second / f64::from(1 << 20)
    } else {
        per_second
    }
}

// ---------------------------------------------------------------------------------------------
// kuber-api's side, and kubectl's (run by `realbench measure ... --kubectl`).

/// A 100 MiB GET through `Client::port_forward` (the generated `connect_get_namespaced_pod_
/// portforward`), after a warm-up GET on the same stream.
pub async fn port_forward(
    api: &CoreV1Api,
    ns: &str,
    n: usize,
) -> Result<(usize, Duration), String> {
    let params = PortforwardParams {
        ports: vec![i64::from(PORT)],
    };
    let mut forwarder = api
        .connect_get_namespaced_pod_portforward(POD, ns, &params)
        .await
        .map_err(|e| format!("port-forward {ns}/{POD}: {e}"))?;
    let mut stream = forwarder
        .take_stream(PORT)
        .ok_or_else(|| format!("port-forward {ns}/{POD}: no stream for port {PORT}"))?;
    timed_download(&mut stream, n).await
}

/// The warm-up GET, then the timed one: bytes read and how long the timed GET took.
async fn timed_download<S>(stream: &mut S, n: usize) -> Result<(usize, Duration), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    get_bytes(stream, WARM_UP_BYTES)
        .await
        .map_err(|e| format!("warm-up GET: {e}"))?;
    let started = Instant::now();
    let got = get_bytes(stream, n as u64)
        .await
        .map_err(|e| format!("timed GET: {e}"))?;
    Ok((
        usize::try_from(got).unwrap_or(usize::MAX),
        started.elapsed(),
    ))
}

/// `count` execs of `echo x` through `connect_get_namespaced_pod_exec`, each run to its end.
pub async fn exec(api: &CoreV1Api, ns: &str, count: usize) -> Result<(usize, Duration), String> {
    let params = ExecParams {
        command: vec!["echo".into(), "x".into()],
        stdout: Some(true),
        stderr: Some(true),
        ..ExecParams::default()
    };
    let once = || async {
        let process = api
            .connect_get_namespaced_pod_exec(POD, ns, &params)
            .await
            .map_err(|e| format!("exec in {ns}/{POD}: {e}"))?;
        let out = process
            .output(Vec::new())
            .await
            .map_err(|e| format!("exec in {ns}/{POD}: {e}"))?;
        check_echo(&out.stdout, out.status.success())
    };
    Ok((count, timed(EXEC_WARM_UP, count, once).await?))
}

/// What `echo x` must give.
fn check_echo(stdout: &[u8], success: bool) -> Result<(), String> {
    if stdout == b"x\n" && success {
        Ok(())
    } else {
        Err(format!(
            "echo x: stdout {:?}, success {success}",
            String::from_utf8_lossy(stdout)
        ))
    }
}

/// kubectl's side of a measurement, on the cluster whose admin kubeconfig is `kubeconfig`.
pub async fn kubectl(
    kubeconfig: &Path,
    ns: &str,
    name: &str,
    count: usize,
) -> Result<(usize, Duration), String> {
    let dir = kubeconfig
        .parent()
        .ok_or_else(|| format!("{} has no folder", kubeconfig.display()))?;
    let cluster = Cluster::attach(dir).map_err(|e| format!("cluster in {}: {e}", dir.display()))?;
    match name {
        "port-forward" => kubectl_port_forward(&cluster, ns, count).await,
        "exec" => kubectl_exec(&cluster, ns, count).await,
        other => Err(format!("kubectl: unknown measurement {other}")),
    }
}

/// `kubectl port-forward pod/POD :80`, then the GETs through the local port it prints.
async fn kubectl_port_forward(
    cluster: &Cluster,
    ns: &str,
    n: usize,
) -> Result<(usize, Duration), String> {
    let mut cmd = tokio::process::Command::from(cluster.kubectl());
    cmd.args([
        "-n",
        ns,
        "port-forward",
        &format!("pod/{POD}"),
        &format!(":{PORT}"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("start kubectl port-forward: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("kubectl port-forward: no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    // "Forwarding from 127.0.0.1:PORT -> 80"
    let port = loop {
        let line = lines
            .next_line()
            .await
            .map_err(|e| format!("read kubectl port-forward: {e}"))?
            .ok_or("kubectl port-forward ended before it printed its local port")?;
        let port = line
            .strip_prefix("Forwarding from 127.0.0.1:")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse::<u16>().ok());
        if let Some(port) = port {
            break port;
        }
    };
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect to kubectl's port {port}: {e}"))?;
    let result = timed_download(&mut stream, n).await;
    drop(stream);
    let _ = child.kill().await;
    result
}

/// `kubectl exec POD -- echo x`, `count` times (a kubectl process each).
async fn kubectl_exec(
    cluster: &Cluster,
    ns: &str,
    count: usize,
) -> Result<(usize, Duration), String> {
    let once = || async {
        let mut cmd = tokio::process::Command::from(cluster.kubectl());
        let out = cmd
            .args(["-n", ns, "exec", POD, "--", "echo", "x"])
            .output()
            .await
            .map_err(|e| format!("kubectl exec: {e}"))?;
        check_echo(&out.stdout, out.status.success()).map_err(|e| {
            format!(
                "kubectl exec: {e}; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    Ok((count, timed(1, count, once).await?))
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

/// Starts a cluster with one node, makes the pod, runs every measurement `runs` times per side
/// (`me`: this binary, for kuber-api's and kubectl's runs; `bench_kube`: kube-rs's).
pub async fn orchestrate(me: PathBuf, bench_kube: PathBuf, runs: usize) -> Result<(), String> {
    let (cluster, admin) = crate::start_cluster().await?;
    make_pod(admin).await?;
    let runner = Runner {
        me,
        bench_kube,
        kubeconfig: cluster.kubeconfig.clone(),
    };
    let (rates, errors) = measure_all(&runner, runs).await;
    drop(cluster);
    print_table(runs, &rates, &errors);
    Ok(())
}

/// The namespace and the nginx pod, Ready.
async fn make_pod(admin: kuber_api::Client) -> Result<(), String> {
    create_namespace(&CoreV1Api::new(admin.clone()), NS_PODS).await?;
    let mut ctx = Context::from_client(admin);
    ctx.set_ns(NS_PODS);
    // The controller-manager makes the namespace's default ServiceAccount, which pods need.
    ctx.wait_for::<ServiceAccount>("default")
        .until(|_| true)
        .timeout(Duration::from_secs(60))
        .await
        .map_err(|e| format!("wait for {NS_PODS}'s default ServiceAccount: {e}"))?;
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD},
        "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                 "ports": [{"containerPort": PORT}]}]}
    });
    ctx.put_text(&pod.to_string())
        .await
        .map_err(|e| format!("create pod {NS_PODS}/{POD}: {e}"))?;
    ctx.wait_for::<Pod>(POD)
        .condition("Ready")
        .timeout(Duration::from_secs(90))
        .await
        .map_err(|e| format!("wait for pod {NS_PODS}/{POD} to be Ready: {e}"))?;
    Ok(())
}

type Rates = BTreeMap<&'static str, BTreeMap<Side, Vec<f64>>>;
/// The first failure of a side in a measurement (that side is not run again in it).
type Errors = BTreeMap<(&'static str, Side), String>;

async fn measure_all(runner: &Runner, runs: usize) -> (Rates, Errors) {
    let mut rates: Rates = BTreeMap::new();
    let mut errors: Errors = BTreeMap::new();
    for m in &MEASUREMENTS {
        for round in 0..runs {
            let mut order = SIDES.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for side in order {
                if errors.contains_key(&(m.name, side)) {
                    continue;
                }
                match runner.run(side, m, None).await {
                    Ok(result) => rates
                        .entry(m.name)
                        .or_default()
                        .entry(side)
                        .or_default()
                        .push(result.rate),
                    Err(e) => {
                        eprintln!("{} {}: {e}", side_name(side), m.name);
                        errors.insert((m.name, side), e);
                    }
                }
            }
        }
        print_runs(m, rates.get(m.name).unwrap_or(&BTreeMap::new()));
    }
    (rates, errors)
}

fn print_table(runs: usize, rates: &Rates, errors: &Errors) {
    println!(
        "\npods: one nginx pod on kuber-node, kube-apiserver 1.36.3 on 127.0.0.1 (everything on \
         2 cores); median of {runs} runs, each client a fresh process, order alternating"
    );
    println!(
        "\n| measurement | kuber-api | kube-rs | ratio | kubectl | ratio |\n|---|---|---|---|---|---|"
    );
    for m in &MEASUREMENTS {
        let cell = |side: Side| -> (f64, String) {
            if let Some(e) = errors.get(&(m.name, side)) {
                // One table row whatever the error says.
                let e = e.replace(['\n', '|'], " ");
                return (f64::NAN, format!("failed: {}", e.trim()));
            }
            let v = rates
                .get(m.name)
                .and_then(|f| f.get(&side))
                .map_or(f64::NAN, |v| median(v));
            (v, format!("{} {}", fmt_rate(v), m.unit))
        };
        let (k, kt) = cell(Side::Kuber);
        let (r, rt) = cell(Side::KubeDefault);
        let (c, mut ct) = cell(Side::Kubectl);
        if m.name == "exec" {
            ct.push_str(" (a process per exec)");
        }
        println!(
            "| {} | {kt} | {rt} | {} | {ct} | {} |",
            m.label,
            ratio(k, r),
            ratio(k, c)
        );
    }
}

/// `a / b` as a ratio, or a dash where either side has no figure.
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r.is_finite() {
        format!("{r:.2}x")
    } else {
        "-".into()
    }
}
