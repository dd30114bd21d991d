//! A tour of kuber (Kuber.jl's tutorial flow) against an in-process API server: no cluster, no
//! Go. The same flow runs against a real cluster with a kubeconfig.
//!
//! ```sh
//! cargo run --example tour                              # in-process kuber-testserver
//! cargo run --example tour -- --kubeconfig ~/.kube/config [--context NAME] [--namespace NS]
//! ```
//!
//! On the in-process server nothing runs pods, so the tour plays the kubelet and reports the pod
//! running through the status subresource. A real cluster without nodes leaves the pod Pending:
//! the wait gives up after 20 s and the tour goes on.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber::models::api::core::v1::{Namespace, Pod, Service};
use kuber::watch::Event;
use kuber::{Context, Deleted, kuber_obj};
use serde_json::json;

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

struct Args {
    kubeconfig: Option<String>,
    context: Option<String>,
    namespace: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        kubeconfig: None,
        context: None,
        namespace: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--kubeconfig" => &mut args.kubeconfig,
            "--context" => &mut args.context,
            "--namespace" => &mut args.namespace,
            "-h" | "--help" => {
                return Err(
                    "usage: tour [--kubeconfig PATH [--context NAME]] [--namespace NS]\n\
                     without --kubeconfig the tour runs against an in-process kuber-testserver"
                        .into(),
                );
            }
            other => return Err(format!("tour: unknown argument {other:?} (see --help)")),
        };
        *slot = Some(it.next().ok_or(format!("tour: {flag} needs a value"))?);
    }
    Ok(args)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    // Kept alive until the end: dropping the server stops it.
    let mut server = None;
    let mut ctx = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kuber::api::config::Kubeconfig::from_file(path)?;
            let config =
                kuber::api::config::Config::from_kubeconfig(&kubeconfig, args.context.as_deref())?;
            Context::from_client(kuber::api::Client::new(config)?)
        }
        None => {
            let started = Instant::now();
            let s = kuber_testserver::TestServer::start().await?;
            println!(
                "in-process API server at {} (started in {:.1} ms)",
                s.url(),
                started.elapsed().as_secs_f64() * 1e3
            );
            let ctx = s.context();
            server = Some(s);
            ctx
        }
    };
    if let Some(ns) = &args.namespace {
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

    // Lists, typed and by kind name (short names too).
    let namespaces = ctx.list::<Namespace>().await?;
    println!("namespaces: {}", names(&namespaces.items));
    let system_pods = ctx.list::<Pod>().namespace("kube-system").await?;
    println!("{} pods in kube-system", system_pods.items.len());
    let services = ctx.list_kind("svc").await?;
    println!("services here: {}", services.items.len());

    // Watch the tour's pods (Kuber.jl's `watch(ctx, list, :Pod)`): the current state first,
    // then every change, until the pod is seen deleted.
    let (listed_tx, listed) = tokio::sync::oneshot::channel();
    let watcher = tokio::spawn({
        let events = ctx.watch::<Pod>().labels("tutorial=kuber").stream();
        let mut listed_tx = Some(listed_tx);
        async move {
            let mut events = Box::pin(events);
            while let Some(event) = events.next().await {
                match event {
                    Ok(Event::Listed { items, .. }) => {
                        println!("watch: {} pods to start", items.len());
                        if let Some(tx) = listed_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Added(p)) => println!("watch: added {}", name_of(&p)),
                    Ok(Event::Modified(p)) => println!(
                        "watch: modified {} (phase {})",
                        name_of(&p),
                        p.status
                            .as_ref()
                            .and_then(|s| s.phase.as_deref())
                            .unwrap_or("")
                    ),
                    Ok(Event::Deleted(p)) => {
                        println!("watch: deleted {}", name_of(&p));
                        break;
                    }
                    Ok(Event::Bookmark { .. }) => {}
                    Err(e) => println!("watch: {e} (it goes on)"),
                }
            }
        }
    });

    // Changes from here on reach the watch as events.
    let _ = tokio::time::timeout(Duration::from_secs(30), listed).await;

    // Objects from JSON, as Kuber.jl's kuber_obj; created in the context's namespace.
    let pod: Pod = kuber_obj(NGINX_POD)?.downcast()?;
    let service: Service = kuber_obj(NGINX_SERVICE)?.downcast()?;
    let pod = ctx.put(&pod).await?;
    let service = ctx.put(&service).await?;
    println!(
        "created pod {} (uid {}) and service {}",
        name_of(&pod),
        pod.metadata
            .as_ref()
            .and_then(|m| m.uid.as_deref())
            .unwrap_or("?"),
        name_of(&service),
    );

    if server.is_some() {
        // Nothing runs pods here: report it running as a kubelet would, through `status`.
        let running = json!({"status": {"phase": "Running", "podIP": "10.0.0.7"}});
        ctx.update_status::<Pod>("nginx-pod", kuber::Patch::Merge(running))
            .await?;
    }

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

    // Change it (a merge patch of labels), then list what the tour made, by label.
    let patch = json!({"metadata": {"labels": {"tour": "changed"}}});
    let changed = ctx
        .update::<Pod>("nginx-pod", kuber::Patch::Merge(patch))
        .await?;
    println!(
        "labels now {:?}",
        changed.metadata.and_then(|m| m.labels).unwrap_or_default()
    );
    let mine = ctx.list_kind("Pod").labels("tutorial=kuber,tour").await?;
    println!(
        "tour pods: {:?}",
        mine.items.iter().map(|o| o.name()).collect::<Vec<_>>()
    );

    // Errors carry the server's Status.
    match ctx.get::<Pod>("no-such-pod").await {
        Err(e) if e.is_not_found() => println!("as expected: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    // Delete both; the answer is the object (while it terminates) or a Status.
    for (kind, name) in [("Service", "nginx-service"), ("Pod", "nginx-pod")] {
        match ctx.delete_kind(kind, name).grace_period(0).await? {
            Deleted::Object(o) => println!("deleting {kind} {}", o.name().unwrap_or(name)),
            Deleted::Status(s) => println!("deleted {kind} {name}: {:?}", s.status),
        }
    }
    // The watch ends when it sees the pod go.
    tokio::time::timeout(Duration::from_secs(60), watcher).await??;
    drop(server);
    Ok(())
}

fn names(items: &[Namespace]) -> String {
    items.iter().map(name_of).collect::<Vec<_>>().join(", ")
}

fn name_of<K: kuber::models::Resource>(object: &K) -> &str {
    object
        .metadata()
        .and_then(|m| m.name.as_deref())
        .unwrap_or("?")
}
