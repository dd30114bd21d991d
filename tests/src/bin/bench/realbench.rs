//! `cargo xtask bench` against a real control plane: kuber-api beside kube-rs, both on the same
//! cluster in the same run, as ratios.
//!
//! usage:
//!   realbench --bench-kube PATH [--runs N] [--pods]
//!       start a cluster, seed it, run every measurement with each client in turn (the order
//!       alternating from round to round), print the medians; `--pods` instead measures
//!       port-forward and exec on a pod of a cluster with a node, kubectl beside ([`pods`])
//!   realbench measure KUBECONFIG NAMESPACE MEASUREMENT [--count N] [--rv RV] [--kubectl]
//!       the kuber-api side of one measurement (kubectl's with `--kubectl`), one JSON line (what
//!       bench-kube prints for kube-rs)
//!
//! Every run is a fresh process for both clients, so neither keeps connections or caches from a
//! previous run; each warms up before it is timed.

mod pods;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kuber_api::config::{Config, Encoding, Kubeconfig};
use kuber_api::{Client, CoreV1Api, GetParams, ListParams, OPERATIONS, Request, WriteParams};
use kuber_models::api::core::v1::{ConfigMap, Namespace, Pod};
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::bench::{median, timed, watch_config_maps};
use kuber_tests::cluster::Cluster;

const GET_NAME: &str = "bench-get";
const NS_GET: &str = "bench-get";
const NS_LIST: &str = "bench-list";
const NS_WATCH: &str = "bench-watch";
const NS_PODS: &str = "bench-pods";
const LIST_SIZE: usize = 2_000;
const WATCH_EVENTS: usize = 5_000;
/// Concurrent writers while seeding.
const SEED_WORKERS: usize = 32;
/// How long one measurement process may take before it is called hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// One measurement: its name (shared with bench-kube), namespace, count and unit.
struct Measurement {
    name: &'static str,
    label: &'static str,
    namespace: &'static str,
    count: usize,
    unit: &'static str,
}

const MEASUREMENTS: [Measurement; 5] = [
    Measurement {
        name: "get-c1",
        label: "GET one ConfigMap, concurrency 1",
        namespace: NS_GET,
        count: 1_000,
        unit: "req/s",
    },
    Measurement {
        name: "get-c32",
        label: "GET one ConfigMap, concurrency 32",
        namespace: NS_GET,
        count: 4_000,
        unit: "req/s",
    },
    Measurement {
        name: "list",
        label: "LIST 2,000 ConfigMaps (typed)",
        namespace: NS_LIST,
        count: 20,
        unit: "lists/s",
    },
    Measurement {
        name: "list-pods",
        label: "LIST 2,000 pods (typed)",
        namespace: NS_PODS,
        count: 10,
        unit: "lists/s",
    },
    Measurement {
        name: "watch",
        label: "watch 5,000 events (typed)",
        namespace: NS_WATCH,
        count: WATCH_EVENTS,
        unit: "events/s",
    },
];

/// The clients compared: kuber-api (protobuf for built-in kinds, its default), kuber-api with
/// JSON only, kube-rs over h2 like kuber-api, kube-rs as it comes; kubectl (the pods section
/// only).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Side {
    Kuber,
    KuberJson,
    KubeH2,
    KubeDefault,
    Kubectl,
}

const SIDES: [Side; 4] = [
    Side::Kuber,
    Side::KuberJson,
    Side::KubeH2,
    Side::KubeDefault,
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("realbench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.first().map(String::as_str) == Some("measure") {
        runtime
            .block_on(measure(&args[1..]))
            .map(|line| println!("{line}"))
    } else {
        runtime.block_on(orchestrate(&args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("realbench: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The kuber-api side of one measurement.

/// `measure`'s arguments.
struct MeasureArgs {
    kubeconfig: String,
    namespace: String,
    name: String,
    count: Option<usize>,
    rv: Option<String>,
    kubectl: bool,
    json: bool,
}

fn measure_args(args: &[String]) -> Result<MeasureArgs, String> {
    let mut positional = Vec::new();
    let (mut count, mut rv, mut kubectl, mut json) = (None, None, false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--count" => {
                let value = it.next().ok_or("--count needs a value")?;
                count = Some(
                    value
                        .parse::<usize>()
                        .map_err(|e| format!("--count: {e}"))?,
                );
            }
            "--rv" => rv = Some(it.next().ok_or("--rv needs a value")?.clone()),
            "--kubectl" => kubectl = true,
            "--json" => json = true,
            _ => positional.push(arg.clone()),
        }
    }
    let [kubeconfig, namespace, name]: [String; 3] = positional.try_into().map_err(|_| {
        "usage: realbench measure KUBECONFIG NAMESPACE MEASUREMENT [--count N] [--rv RV] [--kubectl] [--json]"
    })?;
    Ok(MeasureArgs {
        kubeconfig,
        namespace,
        name,
        count,
        rv,
        kubectl,
        json,
    })
}

async fn measure(args: &[String]) -> Result<String, String> {
    let a = measure_args(args)?;
    let (kubeconfig, namespace, name, count) = (&a.kubeconfig, &a.namespace, &a.name, a.count);
    if a.kubectl {
        let count = count.unwrap_or(pods::KUBECTL_EXECS);
        let (done, elapsed) = pods::kubectl(Path::new(kubeconfig), namespace, name, count).await?;
        return Ok(result_line("kubectl", name, done, elapsed, "?"));
    }
    let kc = Kubeconfig::from_file(kubeconfig).map_err(|e| format!("read {kubeconfig}: {e}"))?;
    let mut config = Config::from_kubeconfig(&kc, None).map_err(|e| format!("kubeconfig: {e}"))?;
    if a.json {
        config = config.with_encoding(Encoding::Json);
    }
    let client = Client::new(config).map_err(|e| format!("client: {e}"))?;
    let version = http_version(&client).await?;
    let api = CoreV1Api::new(client);
    let (done, elapsed) = match name.as_str() {
        "get-c1" => get_c1(&api, namespace, count.unwrap_or(1000)).await?,
        "get-c32" => get_concurrent(&api, namespace, count.unwrap_or(4000), 32).await?,
        "list" => list(&api, namespace, count.unwrap_or(20)).await?,
        "list-pods" => list_pods(&api, namespace, count.unwrap_or(10)).await?,
        "watch" => {
            let rv = a.rv.as_deref().ok_or("watch needs --rv")?;
            watch(&api, namespace, rv, count.unwrap_or(WATCH_EVENTS)).await?
        }
        "port-forward" => pods::port_forward(&api, namespace, count.unwrap_or(100 << 20)).await?,
        "exec" => pods::exec(&api, namespace, count.unwrap_or(100)).await?,
        other => return Err(format!("unknown measurement {other}")),
    };
    let side = if a.json {
        "kuber-api JSON"
    } else {
        "kuber-api"
    };
    Ok(result_line(side, name, done, elapsed, &version))
}

/// The control plane with its node, and its admin client.
async fn start_cluster() -> Result<(Cluster, Client), String> {
    let started = Instant::now();
    let cluster = Cluster::start()
        .await
        .map_err(|e| format!("cluster: {e}"))?;
    println!(
        "control plane with a node ready in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        cluster.server
    );
    let admin = cluster.admin().map_err(|e| format!("admin client: {e}"))?;
    Ok((cluster, admin))
}

/// The JSON line of one run (what bench-kube prints too).
fn result_line(client: &str, name: &str, done: usize, elapsed: Duration, http: &str) -> String {
    serde_json::json!({
        "client": client,
        "measurement": name,
        "count": done,
        "seconds": elapsed.as_secs_f64(),
        "rate": pods::rate(name, done, elapsed),
        "http": http,
    })
    .to_string()
}

/// The HTTP version the client's pool negotiates, from one raw request.
async fn http_version(client: &Client) -> Result<String, String> {
    let op = OPERATIONS
        .iter()
        .find(|op| op.id == "getCodeVersion")
        .ok_or("getCodeVersion is not among the operations")?;
    let res = client
        .send(Request::at(op, "/version", &[]))
        .await
        .map_err(|e| format!("GET /version: {e}"))?;
    Ok(format!("{:?}", res.version()))
}

async fn get_one(api: &CoreV1Api, ns: &str) -> Result<(), String> {
    let cm = api
        .read_namespaced_config_map(GET_NAME, ns, &GetParams::default())
        .await
        .map_err(|e| format!("read ConfigMap {ns}/{GET_NAME}: {e}"))?;
    match cm.data.as_ref().map(|d| d.len()) {
        Some(n) if n > 0 => Ok(()),
        _ => Err(format!("read ConfigMap {ns}/{GET_NAME}: no data decoded")),
    }
}

async fn get_c1(api: &CoreV1Api, ns: &str, count: usize) -> Result<(usize, Duration), String> {
    let took = timed(50, count, || get_one(api, ns)).await?;
    Ok((count, took))
}

async fn get_concurrent(
    api: &CoreV1Api,
    ns: &str,
    count: usize,
    workers: usize,
) -> Result<(usize, Duration), String> {
    let api = Arc::new(api.clone());
    let ns: Arc<str> = ns.into();
    let run = |per: usize| {
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let (api, ns) = (api.clone(), ns.clone());
                tokio::spawn(async move {
                    for _ in 0..per {
                        get_one(&api, &ns).await?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        async move {
            for task in tasks {
                task.await.map_err(|e| format!("task: {e}"))??;
            }
            Ok::<(), String>(())
        }
    };
    // Warm-up: every worker's connection (HTTP/1.1) or stream (h2) is open before timing.
    run(5).await?;
    let per = count.div_ceil(workers);
    let started = Instant::now();
    run(per).await?;
    Ok((per * workers, started.elapsed()))
}

/// `count` timed lists, each checked for the first list's length and for decoded content
/// (`decoded`: items with their data or spec); `read` answers each list's items.
async fn checked_lists<T, F, Fut>(
    what: &str,
    count: usize,
    decoded: fn(&T) -> bool,
    read: F,
) -> Result<(usize, Duration), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, kuber_api::Error>>,
{
    let expected = read().await.map_err(|e| format!("{what}: {e}"))?.len();
    let took = timed(0, count, || async {
        let items = read().await.map_err(|e| format!("{what}: {e}"))?;
        if items.len() != expected || !items.iter().all(decoded) {
            return Err(format!(
                "{what}: {} items, {expected} expected",
                items.len()
            ));
        }
        Ok(())
    })
    .await?;
    Ok((count, took))
}

async fn list(api: &CoreV1Api, ns: &str, count: usize) -> Result<(usize, Duration), String> {
    let what = format!("list ConfigMaps in {ns}");
    checked_lists(
        &what,
        count,
        |cm: &ConfigMap| cm.data.is_some(),
        || async {
            let list = api
                .list_namespaced_config_map(ns, &ListParams::default())
                .await?;
            Ok(list.items)
        },
    )
    .await
}

async fn list_pods(api: &CoreV1Api, ns: &str, count: usize) -> Result<(usize, Duration), String> {
    let what = format!("list pods in {ns}");
    checked_lists(
        &what,
        count,
        |p: &Pod| p.spec.is_some(),
        || async {
            let list = api.list_namespaced_pod(ns, &ListParams::default()).await?;
            Ok(list.items)
        },
    )
    .await
}

async fn watch(
    api: &CoreV1Api,
    ns: &str,
    rv: &str,
    count: usize,
) -> Result<(usize, Duration), String> {
    Ok((count, watch_config_maps(api, ns, rv, count).await?))
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

async fn orchestrate(args: &[String]) -> Result<(), String> {
    let (bench_kube, runs, pods) = parse_args(args)?;
    let me = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    if pods {
        return pods::orchestrate(me, bench_kube, runs).await;
    }

    let (cluster, admin) = start_cluster().await?;
    let api = CoreV1Api::new(admin);
    seed(&api).await?;
    let runner = Runner {
        me,
        bench_kube,
        kubeconfig: cluster.kubeconfig.clone(),
    };
    let (rates, http) = measure_all(&runner, &api, runs).await?;
    drop(cluster);
    print_table(runs, &rates, &http);
    Ok(())
}

/// `--bench-kube PATH [--runs N] [--pods]`: the bench-kube binary (built), the rounds, and
/// whether to run the pods section instead.
fn parse_args(args: &[String]) -> Result<(PathBuf, usize, bool), String> {
    let mut bench_kube = None;
    let mut runs = 5usize;
    let mut pods = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench-kube" => {
                bench_kube = Some(PathBuf::from(it.next().ok_or("--bench-kube needs a path")?))
            }
            "--runs" => {
                runs = it
                    .next()
                    .ok_or("--runs needs a number")?
                    .parse()
                    .map_err(|e| format!("--runs: {e}"))?
            }
            "--pods" => pods = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let bench_kube = bench_kube.ok_or(
        "usage: realbench --bench-kube PATH [--runs N] [--pods] (PATH: the bench-kube binary, see `cargo xtask bench`)",
    )?;
    if !bench_kube.is_file() {
        return Err(format!("{} is not built", bench_kube.display()));
    }
    Ok((bench_kube, runs, pods))
}

/// The namespaces, the ConfigMap GET reads and the LIST_SIZE ConfigMaps LIST reads.
async fn seed(api: &CoreV1Api) -> Result<(), String> {
    for ns in [NS_GET, NS_LIST, NS_WATCH, NS_PODS] {
        create_namespace(api, ns).await?;
    }
    let seeded = Instant::now();
    create_config_maps(api, NS_GET, &[GET_NAME.to_owned()]).await?;
    let names: Vec<String> = (0..LIST_SIZE).map(|i| format!("cm-{i:05}")).collect();
    create_config_maps(api, NS_LIST, &names).await?;
    println!(
        "seeded {} ConfigMaps of ~1 KiB in {:.1} s",
        LIST_SIZE + 1,
        seeded.elapsed().as_secs_f64()
    );
    let seeded = Instant::now();
    create_pods(api, NS_PODS, LIST_SIZE).await?;
    println!(
        "seeded {LIST_SIZE} pods (pending: no node matches their selector) in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Figures of one measurement: one per run for each side.
type Rates = BTreeMap<&'static str, BTreeMap<Side, Vec<f64>>>;

/// Every measurement `runs` times with each side in turn, the order alternating: the figures,
/// and what HTTP version each side negotiated.
async fn measure_all(
    runner: &Runner,
    api: &CoreV1Api,
    runs: usize,
) -> Result<(Rates, BTreeMap<Side, String>), String> {
    // rates[measurement][side] = one figure per run; http[side] = what it negotiated.
    let mut rates: Rates = BTreeMap::new();
    let mut http: BTreeMap<Side, String> = BTreeMap::new();
    let mut batch = 0usize;
    for m in &MEASUREMENTS {
        // The watch reads a batch of events made just before; a batch per round keeps them
        // recent enough for the watch cache, and every client of a round reads the same one.
        for round in 0..runs {
            let rv = if m.name == "watch" {
                batch += 1;
                Some(make_watch_batch(api, batch).await?)
            } else {
                None
            };
            let mut order = SIDES.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for side in order {
                let result = runner.run(side, m, rv.as_deref()).await?;
                http.insert(side, result.http);
                rates
                    .entry(m.name)
                    .or_default()
                    .entry(side)
                    .or_default()
                    .push(result.rate);
            }
        }
        print_runs(m, &rates[m.name]);
    }
    Ok((rates, http))
}

/// The medians as a table, each kube-rs side beside kuber-api.
fn print_table(runs: usize, rates: &Rates, http: &BTreeMap<Side, String>) {
    println!(
        "\nreal server: kube-apiserver 1.36.3 on 127.0.0.1 (etcd, apiserver and client share 2 cores); \
         median of {runs} runs, each client a fresh process, order alternating"
    );
    println!(
        "HTTP negotiated: kuber-api {}, kube-rs (h2 stack) {}, kube-rs (default) {}; kuber-api \
         reads and writes built-in kinds in protobuf, kuber JSON is it with Encoding::Json",
        http.get(&Side::Kuber).map_or("?", String::as_str),
        http.get(&Side::KubeH2).map_or("?", String::as_str),
        http.get(&Side::KubeDefault).map_or("?", String::as_str),
    );
    println!(
        "\n| measurement | kuber-api (protobuf) | kuber-api JSON | protobuf / JSON | kube-rs, h2 | ratio | kube-rs, default (HTTP/1.1) | ratio |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for m in &MEASUREMENTS {
        let figures = &rates[m.name];
        let median = |side: Side| figures.get(&side).map_or(f64::NAN, |v| median(v));
        let (k, json, h2, h1) = (
            median(Side::Kuber),
            median(Side::KuberJson),
            median(Side::KubeH2),
            median(Side::KubeDefault),
        );
        println!(
            "| {} | {} {unit} | {} {unit} | {:.2}x | {} {unit} | {:.2}x | {} {unit} | {:.2}x |",
            m.label,
            fmt_rate(k),
            fmt_rate(json),
            k / json,
            fmt_rate(h2),
            k / h2,
            fmt_rate(h1),
            k / h1,
            unit = m.unit,
        );
    }
}

struct Runner {
    me: PathBuf,
    bench_kube: PathBuf,
    kubeconfig: PathBuf,
}

struct RunResult {
    rate: f64,
    http: String,
}

impl Runner {
    async fn run(
        &self,
        side: Side,
        m: &Measurement,
        rv: Option<&str>,
    ) -> Result<RunResult, String> {
        let mut cmd = match side {
            Side::Kuber | Side::KuberJson | Side::Kubectl => {
                let mut cmd = tokio::process::Command::new(&self.me);
                cmd.arg("measure");
                cmd
            }
            Side::KubeH2 | Side::KubeDefault => tokio::process::Command::new(&self.bench_kube),
        };
        // kubectl execs a process per exec: fewer of them.
        let count = match (side, m.name) {
            (Side::Kubectl, "exec") => pods::KUBECTL_EXECS,
            _ => m.count,
        };
        cmd.arg(&self.kubeconfig)
            .args([m.namespace, m.name, "--count", &count.to_string()]);
        if let Some(rv) = rv {
            cmd.args(["--rv", rv]);
        }
        match side {
            Side::KubeH2 => {
                cmd.args(["--http", "h2"]);
            }
            Side::KubeDefault => {
                cmd.args(["--http", "default"]);
            }
            Side::Kubectl => {
                cmd.arg("--kubectl");
            }
            Side::KuberJson => {
                cmd.arg("--json");
            }
            Side::Kuber => {}
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("start {side:?} {}: {e}", m.name))?;
        let out = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| format!("{side:?} {} took longer than {RUN_TIMEOUT:?}", m.name))?
            .map_err(|e| format!("{side:?} {}: {e}", m.name))?;
        if !out.status.success() {
            return Err(format!(
                "{side:?} {} failed ({}): {}",
                m.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("{side:?} {}: not a JSON line ({e}): {line:?}", m.name))?;
        let rate = value["rate"]
            .as_f64()
            .ok_or_else(|| format!("{side:?} {}: no rate in {line}", m.name))?;
        let done = value["count"].as_u64().unwrap_or(0);
        if done < count as u64 {
            return Err(format!(
                "{side:?} {}: {done} done, {count} expected",
                m.name
            ));
        }
        Ok(RunResult {
            rate,
            http: value["http"].as_str().unwrap_or("?").to_owned(),
        })
    }
}

fn print_runs(m: &Measurement, figures: &BTreeMap<Side, Vec<f64>>) {
    println!("{} ({}):", m.label, m.unit);
    for (side, values) in figures {
        let list: Vec<String> = values.iter().map(|v| fmt_rate(*v)).collect();
        println!("  {:<12} {}", side_name(*side), list.join("  "));
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Kuber => "kuber-api",
        Side::KuberJson => "kuber JSON",
        Side::KubeH2 => "kube-rs h2",
        Side::KubeDefault => "kube-rs",
        Side::Kubectl => "kubectl",
    }
}

fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

async fn create_namespace(api: &CoreV1Api, name: &str) -> Result<(), String> {
    let ns = Namespace {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        }),
        ..Namespace::default()
    };
    api.create_namespace(&ns, &WriteParams::default())
        .await
        .map_err(|e| format!("create Namespace {name}: {e}"))?;
    Ok(())
}

/// ~1 KiB of data in 8 keys, as a small application config would have.
fn config_map(name: &str) -> ConfigMap {
    let data = (0..8)
        .map(|k| {
            (
                format!("key-{k}"),
                format!("{name}-{k}-").repeat(128 / (name.len() + 4) + 1),
            )
        })
        .collect();
    ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(BTreeMap::from([("app".to_owned(), "realbench".to_owned())])),
            ..ObjectMeta::default()
        }),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// A pod as a Deployment's would look: two containers with ports, env, probes, resources and
/// mounts. Its node selector matches no node, so it stays stored and pending.
fn pod(name: &str) -> Result<Pod, String> {
    let value = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": "realbench", "tier": "web", "pod-template-hash": "7d9f8c6b5"},
            "annotations": {"kuber.example/revision": "3", "kuber.example/owner": "team-a"}
        },
        "spec": {
            "nodeSelector": {"kuber-bench": "no-such-node"},
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example/web:1.27.3",
                    "args": ["--port=8080", "--metrics-port=9090", "--log-level=info"],
                    "ports": [
                        {"name": "http", "containerPort": 8080},
                        {"name": "metrics", "containerPort": 9090}
                    ],
                    "env": (0..6).map(|i| serde_json::json!({"name": format!("SETTING_{i}"), "value": format!("value-{i}-{name}")})).collect::<Vec<_>>(),
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"}
                    },
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
                    "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "initialDelaySeconds": 10},
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}]
                },
                {
                    "name": "sidecar",
                    "image": "registry.example/proxy:2.4.1",
                    "ports": [{"name": "proxy", "containerPort": 15001}],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}
                }
            ],
            "volumes": [{"name": "config", "configMap": {"name": "web-config"}}]
        }
    });
    serde_json::from_value(value).map_err(|e| format!("pod {name}: {e}"))
}

/// Creates `count` pods in `ns` with [`SEED_WORKERS`] writers.
async fn create_pods(api: &CoreV1Api, ns: &str, count: usize) -> Result<(), String> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..SEED_WORKERS)
        .map(|_| {
            let (api, ns, next) = (api.clone(), ns.to_owned(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), String>(());
                    }
                    let name = format!("web-{i:05}");
                    api.create_namespaced_pod(&ns, &pod(&name)?, &WriteParams::default())
                        .await
                        .map_err(|e| format!("create pod {ns}/{name}: {e}"))?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| format!("seed task: {e}"))??;
    }
    Ok(())
}

/// Creates the ConfigMaps `names` in `ns` with [`SEED_WORKERS`] writers.
async fn create_config_maps(api: &CoreV1Api, ns: &str, names: &[String]) -> Result<(), String> {
    let names: Arc<[String]> = names.into();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..SEED_WORKERS.min(names.len()))
        .map(|_| {
            let (api, ns, names, next) = (api.clone(), ns.to_owned(), names.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = names.get(i) else {
                        return Ok::<(), String>(());
                    };
                    api.create_namespaced_config_map(
                        &ns,
                        &config_map(name),
                        &WriteParams::default(),
                    )
                    .await
                    .map_err(|e| format!("create ConfigMap {ns}/{name}: {e}"))?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| format!("seed task: {e}"))??;
    }
    Ok(())
}

/// Creates [`WATCH_EVENTS`] ConfigMaps in the watch namespace and returns the resourceVersion
/// from before them: a watch from it sees exactly those ADDED events.
async fn make_watch_batch(api: &CoreV1Api, batch: usize) -> Result<String, String> {
    let list = api
        .list_namespaced_config_map(
            NS_WATCH,
            &ListParams {
                limit: Some(1),
                ..ListParams::default()
            },
        )
        .await
        .map_err(|e| format!("list ConfigMaps in {NS_WATCH}: {e}"))?;
    let rv = list
        .metadata
        .and_then(|m| m.resource_version)
        .ok_or("list ConfigMaps: no resourceVersion")?;
    let started = Instant::now();
    let names: Vec<String> = (0..WATCH_EVENTS)
        .map(|i| format!("b{batch}-{i:05}"))
        .collect();
    create_config_maps(api, NS_WATCH, &names).await?;
    println!(
        "watch batch {batch}: {WATCH_EVENTS} ConfigMaps created in {:.1} s after resourceVersion {rv}",
        started.elapsed().as_secs_f64()
    );
    Ok(rv)
}
