//! `cargo xtask bench --testserver`: kuber-testserver beside the real kube-apiserver, the same
//! kuber-api client code against both in the same run, rounds alternating which goes first,
//! printed as ratios (test server / real server; above 1 the test server is faster, except for
//! start-up where below 1 is faster).
//!
//! usage: tsbench [--rounds N]   (the real control plane from `KUBER_CONTROLPLANE_BIN` or
//! `target/controlplane`, as the e2e runner starts it)

use std::process::ExitCode;
use std::time::Instant;

use futures_util::StreamExt as _;
use kuber_api::{CoreV1Api, GetParams, ListParams, WriteParams};
use kuber_models::api::core::v1::{ConfigMap, Container, Namespace, Pod, PodSpec, ServiceAccount};
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::bench::{median, timed, watch_config_maps};
use kuber_tests::cluster::Cluster;
use kuber_testserver::TestServer;

const NS: &str = "tsbench";
const PODS: usize = 500;
const GETS: usize = 1_000;
const LISTS: usize = 20;
const WATCH_EVENTS: usize = 2_000;
const STARTS: usize = 20;

fn meta(name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: Some(name.to_owned()),
        ..ObjectMeta::default()
    })
}

fn pod(i: usize) -> Pod {
    let labels = [("app".to_owned(), format!("app-{}", i % 10))].into();
    Pod {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            ..meta(&format!("pod-{i:04}")).unwrap_or_default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("registry.example/app:1.2.3".into()),
                args: Some(vec!["--port=8080".into(), "--verbose".into()]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

/// The namespace, its service account (pods need one on the real server), the pods, and the
/// resourceVersion before the watched ConfigMaps.
async fn seed(api: &CoreV1Api) -> Result<String, String> {
    let w = WriteParams::default();
    let ns = Namespace {
        metadata: meta(NS),
        ..Namespace::default()
    };
    api.create_namespace(&ns, &w)
        .await
        .map_err(|e| format!("create namespace: {e}"))?;
    let sa = ServiceAccount {
        metadata: meta("default"),
        ..ServiceAccount::default()
    };
    if let Err(e) = api.create_namespaced_service_account(NS, &sa, &w).await
        && e.status_code() != Some(409)
    {
        return Err(format!("create service account: {e}"));
    }
    let creates = futures_util::stream::iter(0..PODS)
        .map(|i| async move {
            api.create_namespaced_pod(NS, &pod(i), &WriteParams::default())
                .await
                .map(|_| ())
                .map_err(|e| format!("create pod {i}: {e}"))
        })
        .buffer_unordered(16);
    creates
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<(), String>>()?;
    let rv = api
        .list_namespaced_config_map(NS, &ListParams::default())
        .await
        .map_err(|e| format!("list: {e}"))?
        .metadata
        .and_then(|m| m.resource_version)
        .ok_or("a list without resourceVersion")?;
    let creates = futures_util::stream::iter(0..WATCH_EVENTS)
        .map(|i| async move {
            let cm = ConfigMap {
                metadata: meta(&format!("cm-{i:05}")),
                data: Some([("k".to_owned(), format!("value {i}"))].into()),
                ..ConfigMap::default()
            };
            api.create_namespaced_config_map(NS, &cm, &WriteParams::default())
                .await
                .map(|_| ())
                .map_err(|e| format!("create ConfigMap {i}: {e}"))
        })
        .buffer_unordered(16);
    creates
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<(), String>>()?;
    Ok(rv)
}

/// GET one pod, sequentially: requests/s.
async fn gets(api: &CoreV1Api) -> Result<f64, String> {
    let took = timed(50, GETS, || async {
        api.read_namespaced_pod("pod-0000", NS, &GetParams::default())
            .await
            .map(drop)
            .map_err(|e| format!("get: {e}"))
    })
    .await?;
    Ok(GETS as f64 / took.as_secs_f64())
}

/// LIST the 500 pods (typed): lists/s.
async fn lists(api: &CoreV1Api) -> Result<f64, String> {
    let took = timed(0, LISTS, || async {
        let list = api
            .list_namespaced_pod(NS, &ListParams::default())
            .await
            .map_err(|e| format!("list: {e}"))?;
        if list.items.len() != PODS {
            return Err(format!("list: {} pods, {PODS} expected", list.items.len()));
        }
        Ok(())
    })
    .await?;
    Ok(LISTS as f64 / took.as_secs_f64())
}

/// A watch from before the ConfigMaps were made, to its last event: events/s.
async fn watch(api: &CoreV1Api, rv: &str) -> Result<f64, String> {
    let took = watch_config_maps(api, NS, rv, WATCH_EVENTS).await?;
    Ok(WATCH_EVENTS as f64 / took.as_secs_f64())
}

async fn start_ups(tls: bool) -> Result<f64, String> {
    let mut times = Vec::new();
    for _ in 0..STARTS {
        let started = Instant::now();
        let server = if tls {
            TestServer::start_tls().await
        } else {
            TestServer::start().await
        }
        .map_err(|e| format!("start: {e}"))?;
        // Ready: the first request is answered.
        server
            .context()
            .list::<Namespace>()
            .await
            .map_err(|e| format!("first list: {e}"))?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(median(&times))
}

async fn run(rounds: usize) -> Result<(), String> {
    println!(
        "== kuber-testserver beside the real kube-apiserver (kuber-api client, {rounds} rounds)"
    );
    let plain = start_ups(false).await?;
    let tls = start_ups(true).await?;
    let started = Instant::now();
    let cluster = Cluster::start()
        .await
        .map_err(|e| format!("start the control plane: {e}"))?;
    let real_start = started.elapsed().as_secs_f64();
    let real = CoreV1Api::new(cluster.admin().map_err(|e| format!("admin client: {e}"))?);
    let server = TestServer::start()
        .await
        .map_err(|e| format!("start: {e}"))?;
    server.record_requests(false);
    let fake = CoreV1Api::new(server.client());
    let fake_rv = seed(&fake).await?;
    let real_rv = seed(&real).await?;

    let clients: [(&str, &CoreV1Api, &str); 2] = [
        ("testserver", &fake, &fake_rv),
        ("apiserver", &real, &real_rv),
    ];
    let mut results: [[Vec<f64>; 3]; 2] = Default::default();
    for round in 0..rounds {
        for i in 0..2 {
            let who = (i + round) % 2;
            let (name, api, rv) = clients[who];
            let g = gets(api).await?;
            let l = lists(api).await?;
            let w = watch(api, rv).await?;
            println!(
                "  round {}: {name:<10} GET {g:>8.0} req/s  LIST(500 pods) {l:>6.1} lists/s  watch {w:>8.0} events/s",
                round + 1
            );
            results[who][0].push(g);
            results[who][1].push(l);
            results[who][2].push(w);
        }
    }
    println!(
        "start-up to first answer: TestServer::start {:.2} ms, start_tls {:.2} ms (median of {STARTS}); \
         kube-apiserver+etcd+controller-manager {:.2} s: {:.0}x / {:.0}x faster",
        plain * 1e3,
        tls * 1e3,
        real_start,
        real_start / plain,
        real_start / tls
    );
    for (k, (label, unit)) in [
        ("GET one pod, concurrency 1", "req/s"),
        ("LIST 500 pods (typed)", "lists/s"),
        ("watch 2,000 events (typed)", "events/s"),
    ]
    .iter()
    .enumerate()
    {
        let t = median(&results[0][k]);
        let r = median(&results[1][k]);
        println!(
            "{label:<28} testserver {t:>9.1} {unit}, apiserver {r:>9.1} {unit}: {:.2}x",
            t / r
        );
    }
    drop(cluster);
    Ok(())
}

fn main() -> ExitCode {
    let mut rounds = 3;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next().and_then(|n| n.parse::<usize>().ok())) {
            ("--rounds", Some(n)) if n > 0 => rounds = n,
            _ => {
                eprintln!("usage: tsbench [--rounds N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tsbench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(rounds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tsbench: {e}");
            ExitCode::FAILURE
        }
    }
}
