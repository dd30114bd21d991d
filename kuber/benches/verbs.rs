//! What the facade costs: each `kuber` verb beside the kuber-api call it makes, on the same client
//! against a local server, in alternating rounds of the same run (issue 8: ≤ 5 % slower).
//!
//! - GET: `ctx.get::<Pod>(name)` beside `CoreV1Api::read_namespaced_pod` (a recorded pod);
//! - LIST: `ctx.list::<Pod>()` beside `CoreV1Api::list_namespaced_pod` (500 such pods);
//! - by kind name: `ctx.get_kind("Pod", name)` (an `Object`), and then `downcast::<Pod>()`,
//!   beside the same GET.
//!
//! Each round times a batch of each side, the order flipping every round; the figure is the
//! median over rounds of the per-round ratio, so drift on the shared machine hits both sides.
//!
//! `cargo bench -p kuber --bench verbs` (also `cargo xtask bench --verbs`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kuber::Context;
use kuber::api::config::Config;
use kuber::api::{Client, CoreV1Api, GetParams, ListParams};
use kuber::models::api::core::v1::{Pod, PodList};
use serde_json::Value;

const NS: &str = "bench";
const NAME: &str = "web-0";
const LIST_PODS: usize = 500;

/// The recorded pod as recorded, and a list of `LIST_PODS` of it (distinct names and uids; items without
/// apiVersion/kind, as servers send them).
fn bodies() -> (Bytes, Bytes) {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/pod.json");
    let text = std::fs::read(fixture).expect("tests/fixtures/pod.json");
    let pod: Value = serde_json::from_slice(&text).expect("pod.json");
    let items: Vec<Value> = (0..LIST_PODS)
        .map(|i| {
            let mut item = pod.clone();
            let map = item.as_object_mut().expect("pod object");
            map.remove("apiVersion");
            map.remove("kind");
            item["metadata"]["name"] = Value::from(format!("web-{i}"));
            item["metadata"]["uid"] = Value::from(format!("6f1d3b52-0000-4000-8000-{i:012}"));
            item
        })
        .collect();
    // Written as the API server writes it: `kind` first (kuber-api peeks at it before decoding).
    let mut list =
        br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"918273"},"items":["#
            .to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            list.push(b',');
        }
        serde_json::to_writer(&mut list, item).expect("item");
    }
    list.extend_from_slice(b"]}");
    (Bytes::from(text), Bytes::from(list))
}

/// An HTTP/1.1 server on 127.0.0.1: discovery of the core group, the pod by name, the list.
async fn serve(pod: Bytes, list: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let api = Bytes::from_static(
        br#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#,
    );
    let apis = Bytes::from_static(br#"{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"#);
    let resources = Bytes::from_static(
        br#"{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"],"shortNames":["po"]}]}"#,
    );
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (pod, list, api, apis, resources) = (
                pod.clone(),
                list.clone(),
                api.clone(),
                apis.clone(),
                resources.clone(),
            );
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let path = req.uri().path();
                    let found = match path {
                        "/api" => Some(api.clone()),
                        "/apis" => Some(apis.clone()),
                        "/api/v1" => Some(resources.clone()),
                        p if p.ends_with("/pods") => Some(list.clone()),
                        p if p.contains("/pods/") => Some(pod.clone()),
                        _ => None,
                    };
                    let response = match found {
                        Some(body) => hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body)),
                        None => hyper::Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::new())),
                    };
                    async move { Ok::<_, Infallible>(response.expect("response")) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    addr
}

/// The time of `batch` sequential calls of `f`.
async fn time<F, Fut>(batch: usize, f: &F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    for _ in 0..batch {
        f().await;
    }
    started.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `rounds` rounds of `batch` calls of each side, alternating which goes first; prints the
/// median time per call of each and the median of the per-round ratios.
async fn compare<A, FA, B, FB>(label: &str, rounds: usize, batch: usize, ours: A, base: B)
where
    A: Fn() -> FA,
    FA: Future<Output = ()>,
    B: Fn() -> FB,
    FB: Future<Output = ()>,
{
    // Warm-up: connections, discovery, allocator.
    time(batch, &ours).await;
    time(batch, &base).await;
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = time(batch, &ours).await;
            (ta, time(batch, &base).await)
        } else {
            let tb = time(batch, &base).await;
            (time(batch, &ours).await, tb)
        };
        let per = |t: Duration| t.as_secs_f64() * 1e6 / batch as f64;
        a.push(per(ta));
        b.push(per(tb));
        ratios.push(ta.as_secs_f64() / tb.as_secs_f64());
    }
    println!(
        "{label:<42} = {:.3}   ({:.1} µs vs {:.1} µs per call, median of {rounds} rounds of {batch})",
        median(ratios),
        median(a),
        median(b),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (pod, list) = bodies();
        println!(
            "kuber verbs beside the kuber-api calls they make (local server, same client): \
             pod {} bytes, list of {LIST_PODS} pods {:.1} MB",
            pod.len(),
            list.len() as f64 / 1e6
        );
        let addr = serve(pod, list).await;
        let mut config = Config::local_proxy();
        config.server = format!("http://{addr}");
        let client = Client::new(config).expect("client");
        let api = CoreV1Api::new(client.clone());
        let mut ctx = Context::from_client(client);
        ctx.set_ns(NS);
        let (ctx, api) = (&ctx, &api);

        let kuber_get = || async move {
            let p: Pod = ctx.get::<Pod>(NAME).await.expect("kuber get");
            std::hint::black_box(p);
        };
        let api_get = || async move {
            let p: Pod = api
                .read_namespaced_pod(NAME, NS, &GetParams::default())
                .await
                .expect("read_namespaced_pod");
            std::hint::black_box(p);
        };
        compare("kuber get / kuber-api get", 41, 200, kuber_get, api_get).await;

        let kuber_list = || async move {
            let l = ctx.list::<Pod>().await.expect("kuber list");
            assert_eq!(l.items.len(), LIST_PODS);
            std::hint::black_box(l);
        };
        let api_list = || async move {
            let l: PodList = api
                .list_namespaced_pod(NS, &ListParams::default())
                .await
                .expect("list_namespaced_pod");
            assert_eq!(l.items.len(), LIST_PODS);
            std::hint::black_box(l);
        };
        compare("kuber list / kuber-api list", 21, 4, kuber_list, api_list).await;

        let kind_get = || async move {
            let o = ctx.get_kind("Pod", NAME).await.expect("kuber get_kind");
            std::hint::black_box(o);
        };
        compare("kuber get_kind / kuber-api get", 41, 200, kind_get, api_get).await;

        let kind_get = || async move {
            let o = ctx.get_kind("Pod", NAME).await.expect("kuber get_kind");
            let p: Pod = o.downcast().expect("downcast");
            std::hint::black_box(p);
        };
        compare(
            "kuber get_kind+downcast / kuber-api get",
            41,
            200,
            kind_get,
            api_get,
        )
        .await;
    });
}
