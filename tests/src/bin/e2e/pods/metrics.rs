//! Metrics of running pods: metrics-server v0.8.0 scrapes the node agent's `/metrics/resource`
//! and serves `metrics.k8s.io` through the aggregator; `kubectl top` reads it first (the
//! independent proof), then kuber's helpers must answer the same pods and nodes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use kuber::Context as Ctx;
use kuber::metrics::{NodeMetrics, PodMetrics};
use kuber::models::api::core::v1::Pod;
use kuber::models::apimachinery::pkg::api::resource::Quantity;
use kuber::models::apimachinery::pkg::apis::meta::v1::Time;

use super::{Pods, steps};
use crate::support::{Context, E2e, Outcome, ensure};

/// How long metrics may take: two scrapes 10 s apart after the pods start, and the
/// aggregator's discovery.
const METRICS_LIMIT: Duration = Duration::from_secs(120);

/// A pod that spins and one that sleeps; `kubectl top nodes|pods` list them, then
/// `list_node_metrics`, `get_node_metrics`, `list_pod_metrics` and `get_pod_metrics` agree:
/// same names and namespace, busy CPU above idle CPU, memory, windows and timestamps set.
pub async fn top_and_kuber(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "metrics").await?;
    let mut ctx = Ctx::from_client(pods.cluster.admin().map_err(|e| e.to_string())?);
    ctx.set_ns(pods.ns.clone());
    // On different nodes where there are two: each node's port answers for its own pods only.
    let nodes = node_names(&pods)?;
    let (first, last) = (&nodes[0], &nodes[nodes.len() - 1]);
    for (name, container, script, node) in [
        ("busy", "burn", "while :; do :; done", last),
        ("idle", "rest", "exec sleep 3600", first),
    ] {
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": container, "image": "busybox",
                                     "command": ["sh", "-c", script]}],
                     "nodeSelector": {"kubernetes.io/hostname": node}}
        });
        ctx.put_text(&pod.to_string())
            .await
            .context(format!("create {name}"))?;
    }
    for name in ["busy", "idle"] {
        ctx.wait_for::<Pod>(name)
            .jsonpath("{.status.phase}", Some("Running"))
            .timeout(Duration::from_secs(60))
            .await
            .context(format!("wait until {name} runs"))?;
    }
    let apiservice = apiservice_available(&pods);
    let top = kubectl_top(e2e, &pods, &nodes).await;
    let kuber = match &top {
        Ok(()) => kuber_metrics(&ctx, &pods.ns, &nodes).await,
        Err(_) => Err("skipped: kubectl top never showed the pods".into()),
    };
    if let Some(after) = pods.cluster.metrics_api_after {
        e2e.report(format!(
            "metrics: {} Available {:.1} s after metrics-server started",
            kuber_tests::cluster::METRICS_APISERVICE,
            after.as_secs_f64()
        ));
    }
    steps(vec![
        ("apiservice", apiservice),
        ("kubectl top", top),
        ("kuber metrics", kuber),
    ])
}

/// `kubectl get apiservice v1beta1.metrics.k8s.io`: Available=True, as kubectl prints it.
fn apiservice_available(pods: &Pods) -> Outcome {
    let name = kuber_tests::cluster::METRICS_APISERVICE;
    let status = pods.cluster.kubectl_ok(&[
        "get",
        "apiservice",
        name,
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Available\")].status}",
    ])?;
    ensure(status == "True", || format!("Available is {status:?}"))?;
    let table = pods.cluster.kubectl_ok(&["get", "apiservice", name])?;
    ensure(
        table.contains("kube-system/metrics-server") && table.contains("True"),
        || format!("kubectl get apiservice printed\n{table}"),
    )
}

fn node_names(pods: &Pods) -> Result<Vec<String>, String> {
    let out =
        pods.cluster
            .kubectl_ok(&["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"])?;
    let names: Vec<String> = out.split_whitespace().map(str::to_owned).collect();
    ensure(!names.is_empty(), || "no nodes".into())?;
    Ok(names)
}

/// Polls `kubectl top nodes` and `kubectl top pods` until every node and both pods are listed
/// with usage, then checks `--containers` names the containers.
async fn kubectl_top(e2e: &E2e, pods: &Pods, nodes: &[String]) -> Outcome {
    let started = Instant::now();
    loop {
        let node_table = pods.cluster.kubectl_ok(&["top", "nodes"]);
        let pod_table = pods.kubectl(&["top", "pods"]);
        if let (Ok(node_table), Ok(pod_table)) = (&node_table, &pod_table) {
            let listed = |table: &str, name: &str| {
                table
                    .lines()
                    .skip(1)
                    .any(|l| l.split_whitespace().next() == Some(name))
            };
            if nodes.iter().all(|n| listed(node_table, n))
                && ["busy", "idle"].iter().all(|p| listed(pod_table, p))
            {
                e2e.report(format!(
                    "metrics: kubectl top nodes ({:.0} s after the pods ran)\n{}",
                    started.elapsed().as_secs_f64(),
                    node_table.trim_end()
                ));
                e2e.report(format!(
                    "metrics: kubectl top pods -n {}\n{}",
                    pods.ns,
                    pod_table.trim_end()
                ));
                return top_containers(pods);
            }
        }
        let last = format!("top nodes: {node_table:?}\ntop pods: {pod_table:?}");
        if started.elapsed() > METRICS_LIMIT {
            return Err(format!(
                "not within {METRICS_LIMIT:?}; last answers:\n{last}"
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// `kubectl top pod busy --containers`: the pod's one container, by name.
fn top_containers(pods: &Pods) -> Outcome {
    let table = pods.kubectl(&["top", "pod", "busy", "--containers", "--no-headers"])?;
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    ensure(
        rows.len() == 1 && rows[0].get(..2) == Some(&["busy", "burn"][..]),
        || format!("kubectl top pod busy --containers printed\n{table}"),
    )
}

/// kuber's helpers answer what `kubectl top` showed, with sensible numbers.
async fn kuber_metrics(ctx: &Ctx, ns: &str, nodes: &[String]) -> Outcome {
    let listed = ctx.list_node_metrics().await.context("list_node_metrics")?;
    let mut names: Vec<String> = listed.items.iter().map(node_name).collect();
    names.sort();
    let mut want = nodes.to_vec();
    want.sort();
    ensure(names == want, || {
        format!("list_node_metrics named {names:?}, the nodes are {want:?}")
    })?;
    for node in &listed.items {
        check_node(node)?;
    }
    let one = ctx
        .get_node_metrics(&nodes[0])
        .await
        .context("get_node_metrics")?;
    ensure(node_name(&one) == nodes[0], || {
        format!("get_node_metrics({}) named {:?}", nodes[0], node_name(&one))
    })?;
    check_node(&one)?;

    let listed = ctx.list_pod_metrics().await.context("list_pod_metrics")?;
    let mut pods: Vec<(String, String)> = listed.items.iter().map(pod_ref).collect();
    pods.sort();
    let want = vec![
        ("busy".to_owned(), ns.to_owned()),
        ("idle".to_owned(), ns.to_owned()),
    ];
    ensure(pods == want, || {
        format!("list_pod_metrics in {ns} answered {pods:?}")
    })?;
    let find = |name: &str| listed.items.iter().find(|p| pod_ref(p).0 == name);
    let (Some(busy), Some(idle)) = (find("busy"), find("idle")) else {
        return Err("busy or idle missing".into());
    };
    let busy_cpu = check_pod(busy, "burn")?;
    let idle_cpu = check_pod(idle, "rest")?;
    // A spinning shell holds most of a core; a sleeping one next to nothing.
    ensure(busy_cpu > 0.05 && busy_cpu > idle_cpu + 0.04, || {
        format!("busy uses {busy_cpu} cores, idle {idle_cpu}")
    })?;
    let one = ctx
        .get_pod_metrics("busy")
        .await
        .context("get_pod_metrics")?;
    ensure(pod_ref(&one) == want[0], || {
        format!("get_pod_metrics(busy) answered {:?}", pod_ref(&one))
    })?;
    let cpu = check_pod(&one, "burn")?;
    ensure(cpu > 0.05, || format!("get_pod_metrics(busy): {cpu} cores"))
}

fn node_name(m: &NodeMetrics) -> String {
    m.metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_default()
}

fn pod_ref(m: &PodMetrics) -> (String, String) {
    let meta = m.metadata.clone().unwrap_or_default();
    (
        meta.name.unwrap_or_default(),
        meta.namespace.unwrap_or_default(),
    )
}

/// CPU and memory above zero, a window and a recent timestamp.
fn check_node(m: &NodeMetrics) -> Outcome {
    let name = node_name(m);
    let what = format!("node {name}");
    let cpu = quantity(&m.usage, "cpu", &what)?;
    let memory = quantity(&m.usage, "memory", &what)?;
    ensure(cpu > 0.0 && memory > 0.0, || {
        format!("{what}: cpu {cpu}, memory {memory}")
    })?;
    check_window(&m.window, &m.timestamp, &what)
}

/// The pod's one container is `container`, with memory above zero; answers its CPU in cores.
fn check_pod(m: &PodMetrics, container: &str) -> Result<f64, String> {
    let what = format!("pod {}", pod_ref(m).0);
    let names: Vec<&str> = m.containers.iter().map(|c| c.name.as_str()).collect();
    ensure(names == [container], || {
        format!("{what}: containers {names:?}, want [{container:?}]")
    })?;
    let usage = &m.containers[0].usage;
    let cpu = quantity(usage, "cpu", &what)?;
    let memory = quantity(usage, "memory", &what)?;
    ensure(memory > 0.0, || format!("{what}: memory {memory}"))?;
    check_window(&m.window, &m.timestamp, &what)?;
    Ok(cpu)
}

fn quantity(usage: &BTreeMap<String, Quantity>, resource: &str, what: &str) -> Result<f64, String> {
    let q = usage
        .get(resource)
        .ok_or_else(|| format!("{what}: no {resource} in {usage:?}"))?;
    q.to_f64()
        .map_err(|e| format!("{what}: {resource} {:?}: {e}", q.as_str()))
}

/// The window is a Go duration of at least a second (two scrapes apart, 10 s here) and the
/// timestamp lies in the last few minutes.
fn check_window(window: &str, timestamp: &Time, what: &str) -> Outcome {
    let seconds = go_duration_seconds(window)
        .ok_or_else(|| format!("{what}: window {window:?} is not a duration"))?;
    ensure((1.0..=120.0).contains(&seconds), || {
        format!("{what}: window {window:?}")
    })?;
    let at = timestamp
        .to_system_time()
        .map_err(|e| format!("{what}: timestamp {:?}: {e}", timestamp.as_str()))?;
    let age = SystemTime::now()
        .duration_since(at)
        .unwrap_or(Duration::ZERO);
    ensure(
        !timestamp.is_zero() && age < Duration::from_secs(300),
        || format!("{what}: timestamp {:?} is {age:?} old", timestamp.as_str()),
    )
}

/// `1m0.5s`, `10.002s`, `900ms` → seconds.
fn go_duration_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|&i| i > 0)?;
        let value: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let (scale, unit) = [("ms", 1e-3), ("h", 3600.0), ("m", 60.0), ("s", 1.0)]
            .into_iter()
            .map(|(u, s)| (s, u))
            .find(|(_, u)| rest.starts_with(u))?;
        total += value * scale;
        rest = &rest[unit.len()..];
    }
    (!text.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::go_duration_seconds;

    #[test]
    fn go_durations_read_as_seconds() {
        assert_eq!(go_duration_seconds("10.5s"), Some(10.5));
        assert_eq!(go_duration_seconds("1m0.5s"), Some(60.5));
        assert_eq!(go_duration_seconds("900ms"), Some(0.9));
        assert_eq!(go_duration_seconds(""), None);
        assert_eq!(go_duration_seconds("10"), None);
        assert_eq!(go_duration_seconds("s"), None);
    }
}
