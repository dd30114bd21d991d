//! The kube-rs side of `cargo xtask bench` (real server). `realbench` (kuber-tests) starts the
//! cluster, seeds it and runs this once per measurement, beside its own kuber-api side that does
//! the same work; each run prints one JSON line.
//!
//! usage: bench-kube KUBECONFIG NAMESPACE MEASUREMENT [--http default|h2] [--count N] [--rv RV]
//!        bench-kube decode PODLIST_JSON
//!
//! `decode` is the k8s-openapi side of the decode bench: the same `PodList` bytes that
//! `cargo bench -p kuber-models --bench decode` measures, decoded into k8s-openapi's `PodList`
//! (throughput, best of rounds, and heap kept per pod, by a counting allocator).
//!
//! Measurements: get-c1, get-c32 (one ConfigMap `bench-get`), list (every ConfigMap of the
//! namespace, decoded into the typed list), list-pods (every pod of the namespace), watch (from `--rv`, until N typed events);
//! port-forward (N bytes through one forwarded connection, MiB/s) and exec (N execs of
//! `echo x`) on the pod `bench-web` (`pods`, the `ws` feature).
//!
//! `--http default` is the client `Client::try_from(config)` builds (kube-rs offers only
//! HTTP/1.1 by ALPN); `--http h2` is the same tower stack over a connector that also offers h2,
//! which is what kuber-api offers.

// The checked download through a forwarded port, the same file kuber-api's side uses.
#[path = "../../src/bench/bytes.rs"]
mod bytes;
mod pods;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::client::ConfigExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

const GET_NAME: &str = "bench-get";

/// Counts live heap bytes, for the heap kept per decoded pod.
struct Counting;

static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            std::sync::atomic::Ordering::Relaxed,
        );
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `bench-kube decode FILE`: one JSON line with MB/s and KiB kept per pod.
fn decode(path: &str) -> Result<(), String> {
    type PodList = k8s_openapi::List<k8s_openapi::api::core::v1::Pod>;
    let input = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..3 {
            let list: PodList = serde_json::from_slice(&input).map_err(|e| e.to_string())?;
            std::hint::black_box(list);
        }
        best = best.min(t.elapsed() / 3);
    }
    let before = LIVE.load(std::sync::atomic::Ordering::Relaxed);
    let list: PodList = serde_json::from_slice(&input).map_err(|e| e.to_string())?;
    let kept = LIVE.load(std::sync::atomic::Ordering::Relaxed) - before;
    let pods = list.items.len().max(1);
    println!(
        "{{\"decode_mb_s\":{:.1},\"kib_per_pod\":{:.1},\"pods\":{}}}",
        input.len() as f64 / best.as_secs_f64() / 1e6,
        kept as f64 / pods as f64 / 1024.0,
        list.items.len()
    );
    Ok(())
}

struct Args {
    kubeconfig: String,
    namespace: String,
    measurement: String,
    http: String,
    count: Option<usize>,
    rv: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut http = "default".to_string();
    let mut count = None;
    let mut rv = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--http" => http = value()?,
            "--count" => count = Some(value()?.parse().map_err(|e| format!("--count: {e}"))?),
            "--rv" => rv = Some(value()?),
            _ => positional.push(arg),
        }
    }
    let [kubeconfig, namespace, measurement]: [String; 3] = positional.try_into().map_err(|_| {
        "usage: bench-kube KUBECONFIG NAMESPACE MEASUREMENT [--http default|h2] [--count N] [--rv RV]"
            .to_string()
    })?;
    Ok(Args {
        kubeconfig,
        namespace,
        measurement,
        http,
        count,
        rv,
    })
}

async fn client(args: &Args) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::read_from(&args.kubeconfig)
        .map_err(|e| format!("read {}: {e}", args.kubeconfig))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| format!("kubeconfig {}: {e}", args.kubeconfig))?;
    match args.http.as_str() {
        "default" => Client::try_from(config).map_err(|e| format!("client: {e}")),
        "h2" => h2_client(config),
        other => Err(format!("--http {other}: expected default or h2")),
    }
}

/// kube-rs's default stack (base URI, retries, auth, extra headers, timeouts, tracing) with
/// the one change that the TLS connector offers h2 as well as HTTP/1.1.
fn h2_client(config: Config) -> Result<Client, String> {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use kube::client::retry::RetryPolicy;
    use tower::ServiceBuilder;
    use tower::retry::RetryLayer;
    use tower_http::trace::TraceLayer;

    let tls = config
        .rustls_client_config()
        .map_err(|e| format!("tls: {e}"))?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let hyper: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then_some(RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer().map_err(|e| format!("auth: {e}"))?)
        .layer(
            config
                .extra_headers_layer()
                .map_err(|e| format!("headers: {e}"))?,
        )
        .layer(TraceLayer::new_for_http())
        .map_err(tower::BoxError::from)
        .service(hyper);
    Ok(Client::new(service, config.default_namespace))
}

/// The HTTP version the client's pool negotiates, from one raw request.
async fn http_version(client: &Client) -> Result<String, String> {
    let req = http::Request::get("/version")
        .body(kube::client::Body::empty())
        .map_err(|e| e.to_string())?;
    let res = client
        .send(req)
        .await
        .map_err(|e| format!("GET /version: {e}"))?;
    Ok(format!("{:?}", res.version()))
}

async fn get_c1(api: &Api<ConfigMap>, count: usize) -> Result<(usize, Duration), String> {
    for _ in 0..50 {
        api.get(GET_NAME).await.map_err(|e| format!("get: {e}"))?;
    }
    let started = Instant::now();
    for _ in 0..count {
        let cm = api.get(GET_NAME).await.map_err(|e| format!("get: {e}"))?;
        check_get(&cm)?;
    }
    Ok((count, started.elapsed()))
}

async fn get_concurrent(
    api: &Api<ConfigMap>,
    count: usize,
    workers: usize,
) -> Result<(usize, Duration), String> {
    let api = Arc::new(api.clone());
    let run = |per: usize| {
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let api = api.clone();
                tokio::spawn(async move {
                    for _ in 0..per {
                        let cm = api.get(GET_NAME).await.map_err(|e| format!("get: {e}"))?;
                        check_get(&cm)?;
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

fn check_get(cm: &ConfigMap) -> Result<(), String> {
    match cm.data.as_ref().map(|d| d.len()) {
        Some(n) if n > 0 => Ok(()),
        _ => Err(format!("get {GET_NAME}: no data decoded")),
    }
}

async fn list(api: &Api<ConfigMap>, count: usize) -> Result<(usize, Duration), String> {
    let expected = api
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("list: {e}"))?
        .items
        .len();
    let started = Instant::now();
    for _ in 0..count {
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("list: {e}"))?;
        if list.items.len() != expected || list.items.iter().any(|cm| cm.data.is_none()) {
            return Err(format!(
                "list: {} items, {expected} expected",
                list.items.len()
            ));
        }
    }
    Ok((count, started.elapsed()))
}

async fn list_pods(
    api: &Api<k8s_openapi::api::core::v1::Pod>,
    count: usize,
) -> Result<(usize, Duration), String> {
    let expected = api
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("list pods: {e}"))?
        .items
        .len();
    let started = Instant::now();
    for _ in 0..count {
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("list pods: {e}"))?;
        if list.items.len() != expected || list.items.iter().any(|p| p.spec.is_none()) {
            return Err(format!(
                "list pods: {} items, {expected} expected",
                list.items.len()
            ));
        }
    }
    Ok((count, started.elapsed()))
}

async fn watch(api: &Api<ConfigMap>, rv: &str, count: usize) -> Result<(usize, Duration), String> {
    let params = WatchParams {
        bookmarks: true,
        timeout: Some(120),
        ..WatchParams::default()
    };
    let started = Instant::now();
    let stream = api
        .watch(&params, rv)
        .await
        .map_err(|e| format!("watch: {e}"))?;
    let mut stream = std::pin::pin!(stream);
    let mut seen = 0;
    while seen < count {
        match stream.try_next().await.map_err(|e| format!("watch: {e}"))? {
            Some(WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm)) => {
                if cm.metadata.name.is_none() {
                    return Err("watch: an event without a name".into());
                }
                seen += 1;
            }
            Some(WatchEvent::Bookmark(_)) => {}
            Some(WatchEvent::Error(e)) => {
                return Err(format!("watch: ERROR event {} {}", e.code, e.message));
            }
            None => return Err(format!("watch: the server closed after {seen} events")),
        }
    }
    Ok((seen, started.elapsed()))
}

async fn run(args: Args) -> Result<String, String> {
    let client = client(&args).await?;
    let version = http_version(&client).await?;
    let pods: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(client.clone(), &args.namespace);
    let api: Api<ConfigMap> = Api::namespaced(client, &args.namespace);
    let (done, elapsed) = match args.measurement.as_str() {
        "port-forward" => pods::port_forward(&pods, args.count.unwrap_or(100 << 20)).await?,
        "exec" => pods::exec(&pods, args.count.unwrap_or(100)).await?,
        "get-c1" => get_c1(&api, args.count.unwrap_or(1000)).await?,
        "get-c32" => get_concurrent(&api, args.count.unwrap_or(4000), 32).await?,
        "list" => list(&api, args.count.unwrap_or(20)).await?,
        "list-pods" => list_pods(&pods, args.count.unwrap_or(10)).await?,
        "watch" => {
            let rv = args.rv.as_deref().ok_or("watch needs --rv")?;
            watch(&api, rv, args.count.unwrap_or(5000)).await?
        }
        other => return Err(format!("unknown measurement {other}")),
    };
    let mut rate = done as f64 / elapsed.as_secs_f64();
    if args.measurement == "port-forward" {
        // MiB/s, as realbench prints it.
        rate /= f64::from(1 << 20);
    }
    let line = serde_json::json!({
        "client": "kube-rs",
        "variant": args.http,
        "measurement": args.measurement,
        "count": done,
        "seconds": elapsed.as_secs_f64(),
        "rate": rate,
        "http": version,
    });
    Ok(line.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("decode") {
        return match argv.get(1).map(|p| decode(p)) {
            Some(Ok(())) => ExitCode::SUCCESS,
            Some(Err(e)) => {
                eprintln!("bench-kube decode: {e}");
                ExitCode::FAILURE
            }
            None => {
                eprintln!("usage: bench-kube decode PODLIST_JSON");
                ExitCode::FAILURE
            }
        };
    }
    let result = match parse_args() {
        Ok(args) => run(args).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-kube: {e}");
            ExitCode::FAILURE
        }
    }
}
