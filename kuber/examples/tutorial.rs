//! Kuber.jl's tutorial flow with kuber's verbs: discovery, lists, an nginx pod and a service from
//! JSON, wait for them, list, watch, delete.
//!
//! ```sh
//! cargo run -p kuber --example tutorial                      # the kubeconfig's cluster
//! cargo run -p kuber --example tutorial -- --proxy           # `kubectl proxy` on localhost:8001
//! cargo run -p kuber --example tutorial -- --namespace demo  # another namespace than the context's
//! ```
//!
//! Without a kubelet (a bare control plane) the pod is never scheduled: the wait gives up after
//! 20 s and the tutorial goes on.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber::models::api::core::v1::{Namespace, Pod, Service};
use kuber::watch::Event;
use kuber::{Context, Deleted, kuber_obj};

const NGINX_POD: &str = r#"{
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "nginx-pod", "labels": {"name": "nginx-pod", "tutorial": "kuber"}},
    "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]}
}"#;

const NGINX_SERVICE: &str = r#"{
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "nginx-service", "labels": {"tutorial": "kuber"}},
    "spec": {"type": "ClusterIP", "ports": [{"port": 80}], "selector": {"name": "nginx-pod"}}
}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ctx = if args.iter().any(|a| a == "--proxy") {
        Context::new()?
    } else {
        Context::infer()?
    };
    if let Some(i) = args.iter().position(|a| a == "--namespace") {
        let ns = args.get(i + 1).ok_or("--namespace needs a value")?;
        ctx.set_ns(ns.as_str());
    }
    println!("server {}, namespace {}", ctx.server(), ctx.namespace());

    // Discovery: what the server serves (fetched once, on first use).
    let discovery = ctx.discovery().await?;
    println!(
        "core {:?}; {} groups, e.g. {}",
        discovery.core_versions,
        discovery.groups.len(),
        discovery
            .groups
            .iter()
            .take(4)
            .map(|g| format!("{}/{}", g.name, g.preferred_version))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Lists, typed and by kind name.
    let namespaces = ctx.list::<Namespace>().await?;
    println!("namespaces: {}", names(&namespaces.items));
    let system_pods = ctx.list::<Pod>().namespace("kube-system").await?;
    println!("{} pods in kube-system", system_pods.items.len());
    let services = ctx.list_kind("svc").await?;
    println!("services here: {}", services.items.len());

    // Watch the tutorial's pods from now on (Kuber.jl's `watch(ctx, list, :Pod)`): the current
    // state first, then every change, until the pod is seen deleted.
    let watcher = tokio::spawn({
        let events = ctx.watch::<Pod>().labels("tutorial=kuber").stream();
        async move {
            let mut events = Box::pin(events);
            while let Some(event) = events.next().await {
                match event {
                    Ok(Event::Listed { items, .. }) => {
                        println!("watch: {} pods to start", items.len())
                    }
                    Ok(Event::Added(p)) => {
                        println!("watch: added {}", name_of(p.metadata.as_ref()))
                    }
                    Ok(Event::Modified(p)) => {
                        println!("watch: modified {}", name_of(p.metadata.as_ref()))
                    }
                    Ok(Event::Deleted(p)) => {
                        println!("watch: deleted {}", name_of(p.metadata.as_ref()));
                        break;
                    }
                    Ok(Event::Bookmark { .. }) => {}
                    Err(e) => println!("watch: {e} (it goes on)"),
                }
            }
        }
    });

    // Objects from JSON, as Kuber.jl's kuber_obj; created in the context's namespace.
    let pod: Pod = kuber_obj(NGINX_POD)?.downcast()?;
    let service: Service = kuber_obj(NGINX_SERVICE)?.downcast()?;
    let pod = ctx.put(&pod).await?;
    let service = ctx.put(&service).await?;
    println!(
        "created pod {} and service {} (cluster IP {})",
        name_of(pod.metadata.as_ref()),
        name_of(service.metadata.as_ref()),
        service
            .spec
            .as_ref()
            .and_then(|s| s.cluster_ip.as_deref())
            .unwrap_or("none")
    );

    // Wait for the pod to run.
    let started = Instant::now();
    loop {
        let pod = ctx.get::<Pod>("nginx-pod").await?;
        let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
        println!("pod phase: {phase:?}");
        if phase == "Running" || started.elapsed() > Duration::from_secs(20) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    // List what the tutorial made, by label.
    let mine = ctx.list_kind("Pod").labels("tutorial=kuber").await?;
    println!(
        "tutorial pods: {:?}",
        mine.items.iter().map(|o| o.name()).collect::<Vec<_>>()
    );

    // Delete both; the answer is the object (while it terminates) or a Status.
    for (kind, name) in [("Service", "nginx-service"), ("Pod", "nginx-pod")] {
        match ctx.delete_kind(kind, name).grace_period(0).await? {
            Deleted::Object(o) => println!("deleting {kind} {}", o.name().unwrap_or(name)),
            Deleted::Status(s) => println!("deleted {kind} {name}: {:?}", s.status),
        }
    }
    // The watch ends when it sees the pod go.
    tokio::time::timeout(Duration::from_secs(60), watcher).await??;
    Ok(())
}

fn names(items: &[Namespace]) -> String {
    items
        .iter()
        .map(|n| name_of(n.metadata.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_of(meta: Option<&kuber::models::apimachinery::pkg::apis::meta::v1::ObjectMeta>) -> &str {
    meta.and_then(|m| m.name.as_deref()).unwrap_or("?")
}
