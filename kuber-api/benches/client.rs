//! Client figures, each beside a baseline measured in the same run:
//! - requests per second of `CoreV1Api::read_namespaced_pod` against a local server answering a
//!   recorded pod, at concurrency 1 and 64, beside a bare hyper client doing the same requests
//!   (and decoding the same `Pod`, so that only the client's own overhead differs);
//! - lists per second of `CoreV1Api::list_namespaced_pod` (500 recorded pods), beside the same
//!   bare hyper client decoding the same `PodList`;
//! - watch throughput over a 10,000-event stream, beside decoding the same lines as
//!   `serde_json::Value`.
//!
//! `cargo bench -p kuber-api --bench client` (needs ../shared/replays; says so without it).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kuber_api::config::Config;
use kuber_api::{Client, CoreV1Api, GetParams, ListParams};
use kuber_models::api::core::v1::{Pod, PodList};
use serde_json::Value;

const EVENTS: usize = 10_000;
const LIST_PODS: usize = 500;

fn recorded_pods() -> Option<Vec<Value>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/replays/v1-34/pod-list.json");
    let exchanges: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let body = exchanges
        .as_array()?
        .iter()
        .find_map(|e| e["response_body"].as_str())?;
    let list: Value = serde_json::from_str(body).ok()?;
    let mut items = list["items"].as_array()?.clone();
    for pod in &mut items {
        pod["apiVersion"] = Value::from("v1");
        pod["kind"] = Value::from("Pod");
    }
    Some(items)
}

/// A local HTTP/1.1 server: a watch gets the stream, a path ending in `/pods` the list, any other
/// path the pod.
async fn serve(pod: Bytes, list: Bytes, stream: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (pod, list, stream) = (pod.clone(), list.clone(), stream.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let body = if req.uri().query().unwrap_or("").contains("watch=true") {
                        stream.clone()
                    } else if req.uri().path().ends_with("/pods") {
                        list.clone()
                    } else {
                        pod.clone()
                    };
                    async move {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    addr
}

async fn rate<F, Fut>(total: usize, concurrency: usize, f: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let started = Instant::now();
    let per_task = total / concurrency;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    f().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    (per_task * concurrency) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let Some(pods) = recorded_pods() else {
        println!("client bench: ../shared/replays not found, nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let pod = Bytes::from(serde_json::to_vec(&pods[0]).expect("pod"));
        let mut stream = Vec::new();
        for i in 0..EVENTS {
            let event = serde_json::json!({"type": "ADDED", "object": pods[i % pods.len()]});
            serde_json::to_writer(&mut stream, &event).expect("event");
            stream.push(b'\n');
        }
        let stream = Bytes::from(stream);
        let items: Vec<&Value> = pods.iter().cycle().take(LIST_PODS).collect();
        let list = serde_json::json!({
            "apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items,
        });
        let list = Bytes::from(serde_json::to_vec(&list).expect("list"));
        let addr = serve(pod.clone(), list.clone(), stream.clone()).await;
        let server = format!("http://{addr}");

        let mut config = Config::local_proxy();
        config.server = server.clone();
        let client = Client::new(config).expect("client").with_retries(0, false);
        let api = CoreV1Api::new(client);
        let bare = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<http_body_util::Empty<Bytes>>();
        let uri: hyper::Uri = format!("{server}/api/v1/namespaces/kube-system/pods/p").parse().expect("uri");

        println!("read_namespaced_pod against a local server ({} byte pod), requests/s:", pod.len());
        for (concurrency, total) in [(1usize, 4_000usize), (64, 16_000)] {
            let mut ours = Vec::new();
            let mut base = Vec::new();
            // Interleaved rounds, best of each: noise from the shared machine hits both alike.
            for _ in 0..3 {
                let api = api.clone();
                ours.push(
                    rate(total, concurrency, move || {
                        let api = api.clone();
                        async move {
                            let p: Pod = api.read_namespaced_pod("p", "kube-system", &GetParams::default()).await.expect("read");
                            std::hint::black_box(p);
                        }
                    })
                    .await,
                );
                let (bare, uri) = (bare.clone(), uri.clone());
                base.push(
                    rate(total, concurrency, move || {
                        let (bare, uri) = (bare.clone(), uri.clone());
                        async move {
                            let resp = bare.get(uri).await.expect("bare get");
                            let body = resp.into_body().collect().await.expect("body").to_bytes();
                            let p: Pod = serde_json::from_slice(&body).expect("decode");
                            std::hint::black_box(p);
                        }
                    })
                    .await,
                );
            }
            let ours = ours.into_iter().fold(0.0, f64::max);
            let base = base.into_iter().fold(0.0, f64::max);
            println!(
                "  concurrency {concurrency:>2}: kuber-api {ours:>8.0}   bare hyper {base:>8.0}   ratio {:.2}x",
                ours / base
            );
        }

        println!("list_namespaced_pod of {LIST_PODS} pods ({:.1} MB), lists/s:", list.len() as f64 / 1e6);
        let list_uri: hyper::Uri = format!("{server}/api/v1/namespaces/kube-system/pods").parse().expect("uri");
        let mut ours = Vec::new();
        let mut base = Vec::new();
        for _ in 0..3 {
            let api = api.clone();
            ours.push(
                rate(100, 1, move || {
                    let api = api.clone();
                    async move {
                        let l: PodList = api.list_namespaced_pod("kube-system", &ListParams::default()).await.expect("list");
                        assert_eq!(l.items.len(), LIST_PODS);
                        std::hint::black_box(l);
                    }
                })
                .await,
            );
            let (bare, uri) = (bare.clone(), list_uri.clone());
            base.push(
                rate(100, 1, move || {
                    let (bare, uri) = (bare.clone(), uri.clone());
                    async move {
                        let resp = bare.get(uri).await.expect("bare get");
                        let body = resp.into_body().collect().await.expect("body").to_bytes();
                        let l: PodList = serde_json::from_slice(&body).expect("decode");
                        std::hint::black_box(l);
                    }
                })
                .await,
            );
        }
        let ours = ours.into_iter().fold(0.0, f64::max);
        let base = base.into_iter().fold(0.0, f64::max);
        println!("  concurrency  1: kuber-api {ours:>8.1}   bare hyper {base:>8.1}   ratio {:.2}x", ours / base);

        // Watch throughput.
        let mut best_watch = Duration::MAX;
        let mut best_value = Duration::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let mut events = api.watch_namespaced_pod_list("kube-system", &ListParams::default()).await.expect("watch");
            let mut n = 0;
            while let Some(e) = events.next().await {
                std::hint::black_box(e.expect("event"));
                n += 1;
            }
            assert_eq!(n, EVENTS);
            best_watch = best_watch.min(started.elapsed());

            let started = Instant::now();
            for line in stream.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let v: Value = serde_json::from_slice(line).expect("value");
                std::hint::black_box(v);
            }
            best_value = best_value.min(started.elapsed());
        }
        let watch_rate = EVENTS as f64 / best_watch.as_secs_f64();
        let value_rate = EVENTS as f64 / best_value.as_secs_f64();
        println!(
            "watch of {EVENTS} pod events ({:.1} MB): kuber-api {watch_rate:.0} events/s (over HTTP), \
             serde_json::Value {value_rate:.0} events/s (in memory), ratio {:.2}x",
            stream.len() as f64 / 1e6,
            watch_rate / value_rate
        );
    });
}
