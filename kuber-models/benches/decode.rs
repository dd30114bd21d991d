//! Decode throughput of a 5,000-pod `PodList` built from a recorded server response, beside
//! `serde_json::Value` decoding the same bytes in the same run, and memory retained per pod.
//!
//! `cargo bench -p kuber-models --bench decode` (needs ../shared/replays; says so and exits 0
//! without it). With `KUBER_DECODE_INPUT_OUT=FILE` it also writes the input there, for
//! k8s-openapi's side of the comparison (`bench-kube decode FILE`, run by `cargo xtask bench`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use kuber_models::api::core::v1::PodList;
use serde_json::Value;

/// Counts live heap bytes, to measure what a decoded list keeps.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PODS: usize = 5_000;

fn replay() -> Option<PathBuf> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/replays/v1-34/pod-list.json");
    p.exists().then_some(p)
}

/// A `PodList` of `PODS` pods cycled from the recorded list, each with a unique name and uid.
fn build_input(path: &PathBuf) -> Vec<u8> {
    let exchanges: Value =
        serde_json::from_slice(&std::fs::read(path).expect("read replay")).expect("replay JSON");
    let body = exchanges
        .as_array()
        .and_then(|a| a.iter().find_map(|e| e["response_body"].as_str()))
        .expect("a response body");
    let mut list: Value = serde_json::from_str(body).expect("pod list JSON");
    let items = list["items"].as_array().cloned().expect("items");
    let pods: Vec<Value> = (0..PODS)
        .map(|i| {
            let mut pod = items[i % items.len()].clone();
            let name = format!("{}-{i}", pod["metadata"]["name"].as_str().unwrap_or("pod"));
            pod["metadata"]["name"] = Value::from(name);
            pod["metadata"]["uid"] = Value::from(format!("00000000-0000-0000-0000-{i:012}"));
            pod
        })
        .collect();
    list["items"] = Value::from(pods);
    serde_json::to_vec(&list).expect("encode")
}

/// Best-of-rounds throughput in MB/s; each round decodes the input `reps` times.
fn throughput(bytes: &[u8], reps: usize, mut decode: impl FnMut(&[u8])) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            decode(bytes);
        }
        best = best.min(t.elapsed() / reps as u32);
    }
    bytes.len() as f64 / best.as_secs_f64() / 1e6
}

fn retained<T>(decode: impl FnOnce() -> T) -> (isize, T) {
    let before = LIVE.load(Ordering::Relaxed);
    let value = decode();
    (LIVE.load(Ordering::Relaxed) - before, value)
}

fn main() {
    let Some(path) = replay() else {
        println!("decode bench: ../shared/replays not found, nothing measured");
        return;
    };
    let input = build_input(&path);
    // The same bytes for the k8s-openapi side (`bench-kube decode`, run by `cargo xtask bench`).
    if let Some(out) = std::env::var_os("KUBER_DECODE_INPUT_OUT") {
        std::fs::write(&out, &input).expect("write the decode input");
    }
    let mb = input.len() as f64 / 1e6;
    println!("input: PodList of {PODS} pods, {mb:.1} MB");

    // Interleave the two so that machine noise hits both alike.
    let mut typed = Vec::new();
    let mut value = Vec::new();
    for _ in 0..3 {
        typed.push(throughput(&input, 3, |b| {
            let list: PodList = serde_json::from_slice(b).expect("typed decode");
            std::hint::black_box(list);
        }));
        value.push(throughput(&input, 3, |b| {
            let v: Value = serde_json::from_slice(b).expect("value decode");
            std::hint::black_box(v);
        }));
    }
    let typed = typed.into_iter().fold(0.0, f64::max);
    let value = value.into_iter().fold(0.0, f64::max);
    println!("decode PodList (kuber-models): {typed:.0} MB/s");
    println!("decode serde_json::Value:      {value:.0} MB/s");
    println!("ratio kuber-models / Value:    {:.2}x", typed / value);

    let (typed_bytes, list) =
        retained(|| serde_json::from_slice::<PodList>(&input).expect("typed decode"));
    let (value_bytes, v) =
        retained(|| serde_json::from_slice::<Value>(&input).expect("value decode"));
    println!(
        "retained per pod: kuber-models {:.1} KiB, serde_json::Value {:.1} KiB (input {:.1} KiB per pod)",
        typed_bytes as f64 / PODS as f64 / 1024.0,
        value_bytes as f64 / PODS as f64 / 1024.0,
        input.len() as f64 / PODS as f64 / 1024.0
    );
    #[cfg(feature = "protobuf")]
    protobuf(&input, &list);
    drop((list, v));
}

/// The same list in Kubernetes' protobuf encoding, decoded; per list, beside the JSON decode.
#[cfg(feature = "protobuf")]
fn protobuf(input: &[u8], list: &PodList) {
    use kuber_models::proto;
    let body = proto::encode_list(list, "v1");
    let time = |decode: &mut dyn FnMut()| {
        let mut best = Duration::MAX;
        for _ in 0..7 {
            let t = Instant::now();
            decode();
            best = best.min(t.elapsed());
        }
        best.as_secs_f64() * 1e3
    };
    let (mut json, mut pb) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        json = json.min(time(&mut || {
            let list: PodList = serde_json::from_slice(input).expect("typed decode");
            std::hint::black_box(list);
        }));
        pb = pb.min(time(&mut || {
            let list: PodList = proto::decode_object(&body).expect("protobuf decode");
            std::hint::black_box(list);
        }));
    }
    let (pb_bytes, decoded) =
        retained(|| proto::decode_object::<PodList>(&body).expect("protobuf decode"));
    assert_eq!(decoded.items.len(), PODS);
    println!(
        "protobuf: {:.1} MB; decode {pb:.1} ms vs JSON {json:.1} ms per list ({:.2}x); retained per pod {:.1} KiB",
        body.len() as f64 / 1e6,
        json / pb,
        pb_bytes as f64 / PODS as f64 / 1024.0
    );
}
