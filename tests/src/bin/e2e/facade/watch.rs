//! kuber's `ctx.watch` on the real server: through a proxy the case cuts 20 times while a writer
//! creates, updates and deletes ConfigMaps, and held down once until etcd compacted the watch's
//! resourceVersion (410 → relist). The state folded from the events must equal the server's, with
//! no write's event lost and none delivered twice. And a watch of one object by name.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use kuber::Context as Kuber;
use kuber::watch::Event;
use kuber_api::{CoreV1Api, Deleted, ListParams, Patch, PatchParams, WriteParams};
use kuber_models::Resource as _;
use kuber_models::WatchEvent;
use kuber_models::api::core::v1::{ConfigMap, ConfigMapList};
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::cluster::{Cluster, Options};
use tokio::net::{TcpListener, TcpStream};

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, create_namespace, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![
        case!("facade-watch/drops-and-compaction", drops_and_compaction),
        case!("facade-watch/single-object", single_object),
    ]
}

const LABEL: (&str, &str) = ("kuber-e2e", "facade-watch");
const SELECTOR: &str = "kuber-e2e=facade-watch";
const DROPS: usize = 20;
const NAMES: usize = 8;

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(BTreeMap::from([(LABEL.0.to_owned(), LABEL.1.to_owned())])),
            ..Default::default()
        }),
        data: Some(BTreeMap::from([("value".to_owned(), value.to_owned())])),
        ..Default::default()
    }
}

fn uid(cm: &ConfigMap) -> String {
    cm.metadata
        .as_ref()
        .and_then(|m| m.uid.clone())
        .unwrap_or_default()
}

fn rv(cm: &ConfigMap) -> u64 {
    cm.resource_version()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A TCP proxy to the API server that the case can cut (every open connection closed) or hold
/// down (new connections closed at once).
struct CutProxy {
    addr: SocketAddr,
    generation: tokio::sync::watch::Sender<u64>,
    down: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
}

impl CutProxy {
    async fn start(upstream: String) -> Result<CutProxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the proxy")?;
        let addr = listener.local_addr().context("proxy address")?;
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let down = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (cuts, is_down, count) = (generation.clone(), down.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut io, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                count.fetch_add(1, Ordering::SeqCst);
                let mut cut = cuts.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut io, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Ok(CutProxy {
            addr,
            generation,
            down,
            accepted,
        })
    }

    /// Closes every connection open through the proxy.
    fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut();
        }
    }
}

/// What the consumer saw.
#[derive(Default)]
struct Seen {
    /// name → (uid, resourceVersion), folded from the events.
    state: BTreeMap<String, (String, u64)>,
    /// (uid, resourceVersion) of every Added/Modified/Deleted event.
    events: BTreeSet<(String, u64)>,
    event_count: usize,
    duplicates: Vec<String>,
    /// resourceVersions going backwards between events.
    out_of_order: Vec<String>,
    last_rv: u64,
    deleted_uids: BTreeSet<String>,
    /// Per relist: the resourceVersion before and the list's, and the uids it dropped.
    relists: Vec<(u64, u64, BTreeSet<String>)>,
    listed: usize,
    errors: Vec<String>,
}

impl Seen {
    fn apply(&mut self, event: Event<ConfigMap>) {
        match event {
            Event::Listed {
                items,
                resource_version,
                relist,
            } => {
                self.listed += 1;
                let list_rv = resource_version.parse().unwrap_or(0);
                let state: BTreeMap<String, (String, u64)> = items
                    .iter()
                    .map(|cm| (cm.name().unwrap_or("").to_owned(), (uid(cm), rv(cm))))
                    .collect();
                if relist {
                    let kept: BTreeSet<&String> = state.values().map(|(u, _)| u).collect();
                    let dropped = self
                        .state
                        .values()
                        .map(|(u, _)| u.clone())
                        .filter(|u| !kept.contains(u))
                        .collect();
                    self.relists.push((self.last_rv, list_rv, dropped));
                }
                self.state = state;
                self.last_rv = list_rv;
            }
            Event::Added(cm) | Event::Modified(cm) => {
                self.record(&cm);
                self.state
                    .insert(cm.name().unwrap_or("").to_owned(), (uid(&cm), rv(&cm)));
            }
            Event::Deleted(cm) => {
                self.record(&cm);
                self.deleted_uids.insert(uid(&cm));
                self.state.remove(cm.name().unwrap_or(""));
            }
            Event::Bookmark { resource_version } => {
                self.last_rv = self.last_rv.max(resource_version.parse().unwrap_or(0));
            }
        }
    }

    fn record(&mut self, cm: &ConfigMap) {
        self.event_count += 1;
        let key = (uid(cm), rv(cm));
        if rv(cm) <= self.last_rv {
            self.out_of_order.push(format!(
                "{}@{} after {}",
                cm.name().unwrap_or(""),
                rv(cm),
                self.last_rv
            ));
        }
        self.last_rv = self.last_rv.max(rv(cm));
        if !self.events.insert(key) {
            self.duplicates
                .push(format!("{}@{}", cm.name().unwrap_or(""), rv(cm)));
        }
    }
}

/// One write of the writer: its kind, the object's uid and the resourceVersion it answered
/// (`None` for a delete answered with a Status).
struct Write {
    what: String,
    uid: String,
    rv: Option<u64>,
    delete: bool,
}

struct Writer {
    core: CoreV1Api,
    ns: String,
    /// name → (uid, updates so far) of the objects that exist.
    live: BTreeMap<String, (String, u32)>,
    step: usize,
    writes: Vec<Write>,
}

impl Writer {
    /// The next write: cycles through the names, creating, updating three times, deleting.
    async fn write(&mut self) -> Outcome {
        let name = format!("cm-{}", self.step % NAMES);
        self.step += 1;
        let ns = self.ns.clone();
        match self.live.get(&name).cloned() {
            None => {
                let cm = self
                    .core
                    .create_namespaced_config_map(
                        &ns,
                        &config_map(&name, "0"),
                        &WriteParams::default(),
                    )
                    .await
                    .context(format!("create {ns}/{name}"))?;
                self.live.insert(name.clone(), (uid(&cm), 0));
                self.writes.push(Write {
                    what: format!("create {name}"),
                    uid: uid(&cm),
                    rv: Some(rv(&cm)),
                    delete: false,
                });
            }
            Some((id, updates)) if updates < 3 => {
                let patch =
                    Patch::Merge(serde_json::json!({"data": {"value": (updates + 1).to_string()}}));
                let cm = self
                    .core
                    .patch_namespaced_config_map(&name, &ns, &patch, &PatchParams::default())
                    .await
                    .context(format!("patch {ns}/{name}"))?;
                self.live.insert(name.clone(), (id.clone(), updates + 1));
                self.writes.push(Write {
                    what: format!("update {name} #{}", updates + 1),
                    uid: id,
                    rv: Some(rv(&cm)),
                    delete: false,
                });
            }
            Some((id, _)) => {
                let gone = self
                    .core
                    .delete_namespaced_config_map(&name, &ns, None, &Default::default())
                    .await
                    .context(format!("delete {ns}/{name}"))?;
                self.live.remove(&name);
                let rv = match &gone {
                    Deleted::Object(cm) => Some(rv(cm)).filter(|r| *r > 0),
                    Deleted::Status(_) => None,
                };
                self.writes.push(Write {
                    what: format!("delete {name}"),
                    uid: id,
                    rv,
                    delete: true,
                });
            }
        }
        Ok(())
    }
}

/// Waits until `cond` holds of what the consumer saw.
async fn wait_for(
    seen: &Mutex<Seen>,
    within: Duration,
    what: &str,
    cond: impl Fn(&Seen) -> bool,
) -> Outcome {
    let cond = &cond;
    let waited = poll_every(what, within, Duration::from_millis(20), || async move {
        Ok(cond(&*seen.lock().map_err(|_| "poisoned")?).then_some(()))
    })
    .await;
    waited.map_err(|e| {
        let Ok(s) = seen.lock() else { return e };
        format!(
            "{e} ({} events, {} listed, errors {:?})",
            s.event_count,
            s.listed,
            s.errors.iter().rev().take(3).collect::<Vec<_>>()
        )
    })
}

async fn drops_and_compaction(e2e: &E2e) -> Outcome {
    let cluster = Cluster::start_with(Options::fast_compaction())
        .await
        .context("start a fast-compaction cluster")?;
    let admin = cluster.admin().context("admin client")?;
    let ns = "facade-watch";
    create_namespace(&admin, ns).await?;
    let upstream = cluster
        .server
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = CutProxy::start(upstream).await?;
    let mut config = cluster.admin_config().context("admin config")?;
    config.server = format!("https://{}", proxy.addr);
    let mut ctx =
        Kuber::from_client(kuber::Client::new(config).context("client through the proxy")?);
    ctx.set_ns(ns);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stream = ctx
        .watch::<ConfigMap>()
        .labels(SELECTOR)
        .backoff(Duration::from_millis(50), Duration::from_millis(500))
        .stream();
    let consumer = {
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                let Ok(mut s) = seen.lock() else { return };
                match item {
                    Ok(event) => s.apply(event),
                    Err(e) => s.errors.push(e.to_string()),
                }
            }
        })
    };
    let abort = consumer.abort_handle();
    let result = exercise(&admin, ns, &proxy, &seen).await;
    abort.abort();
    e2e.report(result?);
    Ok(())
}

/// The writes, drops and compaction; answers the report line.
async fn exercise(
    admin: &kuber::Client,
    ns: &str,
    proxy: &CutProxy,
    seen: &Mutex<Seen>,
) -> Result<String, String> {
    let core = CoreV1Api::new(admin.clone());
    let mut writer = Writer {
        core: core.clone(),
        ns: ns.to_owned(),
        live: BTreeMap::new(),
        step: 0,
        writes: Vec::new(),
    };
    wait_for(seen, Duration::from_secs(20), "the initial state", |s| {
        s.listed == 1
    })
    .await?;
    let mut drops = 0;
    let mut relisted = false;
    while drops < DROPS {
        // Events flow through the current connection, then it is cut mid-watch; writes go on
        // while the watch reconnects.
        let before = seen.lock().map_err(|_| "poisoned")?.event_count;
        for _ in 0..3 {
            writer.write().await?;
        }
        wait_for(seen, Duration::from_secs(20), "events before a cut", |s| {
            s.event_count > before
        })
        .await?;
        proxy.cut();
        drops += 1;
        for _ in 0..2 {
            writer.write().await?;
        }
        if drops == DROPS / 2 && !relisted {
            relisted = true;
            compaction(&core, ns, proxy, seen, &mut writer).await?;
        }
    }
    for _ in 0..3 {
        writer.write().await?;
    }

    // Caught up: the folded state is the server's.
    let server_state = |list: &ConfigMapList| -> BTreeMap<String, (String, u64)> {
        list.items
            .iter()
            .map(|cm| (cm.name().unwrap_or("").to_owned(), (uid(cm), rv(cm))))
            .collect()
    };
    let params = ListParams {
        label_selector: Some(SELECTOR.into()),
        ..Default::default()
    };
    let list = core
        .list_namespaced_config_map(ns, &params)
        .await
        .context("list the final state")?;
    let expected = server_state(&list);
    let waited = wait_for(seen, Duration::from_secs(30), "the folded state", |s| {
        s.state == expected
    })
    .await;
    let s = seen.lock().map_err(|_| "poisoned")?;
    if waited.is_err() {
        return Err(format!(
            "the folded state {:?} is not the server's {expected:?}",
            s.state
        ));
    }

    // Every write's event arrived, unless a relist stood in for it.
    let excused_rv = |rv: u64| {
        s.relists
            .iter()
            .any(|(from, to, _)| rv > *from && rv <= *to)
    };
    let mut lost = Vec::new();
    for w in &writer.writes {
        let found = match (w.delete, w.rv) {
            (_, Some(rv)) => s.events.contains(&(w.uid.clone(), rv)) || excused_rv(rv),
            (true, None) => {
                s.deleted_uids.contains(&w.uid)
                    || s.relists
                        .iter()
                        .any(|(_, _, dropped)| dropped.contains(&w.uid))
            }
            (false, None) => false,
        };
        if !found {
            lost.push(w.what.clone());
        }
    }
    let relists = s.relists.len();
    ensure(lost.is_empty(), || format!("events lost for {lost:?}"))?;
    ensure(s.duplicates.is_empty(), || {
        format!("events delivered twice: {:?}", s.duplicates)
    })?;
    ensure(s.out_of_order.is_empty(), || {
        format!("events out of order: {:?}", s.out_of_order)
    })?;
    ensure(relists == 1, || {
        format!("{relists} relists, expected the one compaction forced")
    })?;
    let connections = proxy.accepted.load(Ordering::SeqCst);
    ensure(connections > DROPS, || {
        format!("{connections} connections through the proxy for {DROPS} drops")
    })?;
    Ok(format!(
        "facade watch: {DROPS} drops, {relists} relist (410), {} events for {} writes, {} lost, {} duplicated ({} stream errors seen, {connections} connections)",
        s.event_count,
        writer.writes.len(),
        lost.len(),
        s.duplicates.len(),
        s.errors.len()
    ))
}

/// Holds the proxy down, writing, until etcd has compacted the watch's last resourceVersion
/// (a watch from it answers 410), then lets the watch back in: it must relist.
async fn compaction(
    core: &CoreV1Api,
    ns: &str,
    proxy: &CutProxy,
    seen: &Mutex<Seen>,
    writer: &mut Writer,
) -> Outcome {
    proxy.set_down(true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let from = seen.lock().map_err(|_| "poisoned")?.last_rv;
    let params = &ListParams {
        resource_version: Some(from.to_string()),
        label_selector: Some(SELECTOR.into()),
        timeout_seconds: Some(5),
        ..Default::default()
    };
    let what = format!("resourceVersion {from} compacted");
    // A write before each probe moves the history on; the lock lends `writer` to each attempt.
    let writer = &tokio::sync::Mutex::new(writer);
    poll_every(
        &what,
        Duration::from_secs(60),
        Duration::from_millis(500),
        || async move {
            writer.lock().await.write().await?;
            let mut probe = core
                .watch_namespaced_config_map_list(ns, params)
                .await
                .context(format!("probe watch from {from}"))?;
            let first = tokio::time::timeout(Duration::from_secs(5), probe.next()).await;
            let gone = matches!(first, Ok(Some(Ok(WatchEvent::Error(s)))) if s.code == Some(410));
            Ok(gone.then_some(()))
        },
    )
    .await?;
    proxy.set_down(false);
    wait_for(seen, Duration::from_secs(30), "the relist after 410", |s| {
        !s.relists.is_empty()
    })
    .await
}

/// A watch by name sees its object only: one Listed with it, then its own changes.
async fn single_object(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("facade-watch-one").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    for name in ["watched", "other"] {
        core.create_namespaced_config_map(&ns, &config_map(name, "0"), &WriteParams::default())
            .await
            .context(format!("create {ns}/{name}"))?;
    }
    let ctx = Kuber::from_client(e2e.admin.clone());
    let mut stream = Box::pin(
        ctx.watch::<ConfigMap>()
            .namespace(&ns)
            .name("watched")
            .stream(),
    );
    let mut next = async || -> Result<Event<ConfigMap>, String> {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
                Err(_) => return Err("no event within 20 s".into()),
                Ok(None) => return Err("the watch ended".into()),
                Ok(Some(Err(e))) => return Err(format!("watch error: {e}")),
                Ok(Some(Ok(Event::Bookmark { .. }))) => {}
                Ok(Some(Ok(event))) => return Ok(event),
            }
        }
    };
    let first = next().await?;
    let names = match &first {
        Event::Listed { items, relist, .. } => {
            ensure(!relist, || "the first Listed says relist".into())?;
            items
                .iter()
                .map(|c| c.name().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
        other => return Err(format!("first event {other:?}")),
    };
    ensure(names == ["watched"], || {
        format!("the initial state holds {names:?}")
    })?;
    let patch = |v: &str| Patch::Merge(serde_json::json!({"data": {"value": v}}));
    core.patch_namespaced_config_map("other", &ns, &patch("1"), &PatchParams::default())
        .await
        .context("patch other")?;
    core.patch_namespaced_config_map("watched", &ns, &patch("1"), &PatchParams::default())
        .await
        .context("patch watched")?;
    core.delete_namespaced_config_map("other", &ns, None, &Default::default())
        .await
        .context("delete other")?;
    core.delete_namespaced_config_map("watched", &ns, None, &Default::default())
        .await
        .context("delete watched")?;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(match next().await? {
            Event::Modified(c) => format!("MODIFIED {}", c.name().unwrap_or("")),
            Event::Deleted(c) => format!("DELETED {}", c.name().unwrap_or("")),
            other => format!("{other:?}"),
        });
    }
    ensure(got == ["MODIFIED watched", "DELETED watched"], || {
        format!("the watch of {ns}/watched saw {got:?}")
    })?;
    e2e.report("facade watch: a watch by name saw its object only (Listed, MODIFIED, DELETED)");
    Ok(())
}
