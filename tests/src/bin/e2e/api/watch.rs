//! Watches: typed events in order, bookmarks, the initial-events stream, 410 from a compacted
//! resourceVersion, the server ending the stream, and a watch of one object.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber_api::{
    CoreV1Api, DeleteParams, Deleted, ListParams, Patch, PatchParams, WatchStream, WriteParams,
};
use kuber_models::WatchEvent;
use kuber_models::api::core::v1::ConfigMap;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::cluster::{Cluster, Options};

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, create_namespace, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![
        case!("watch/events-in-order-and-bookmark", events_and_bookmark),
        case!("watch/send-initial-events", send_initial_events),
        case!(
            "watch/compacted-resource-version-410",
            compacted_resource_version
        ),
        case!("watch/server-timeout-ends-stream", server_timeout),
        case!("watch/single-object", single_object),
    ]
}

const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";
/// On every object these cases make; the watches select it, so the `kube-root-ca.crt` the
/// controller-manager puts in each namespace stays out of them.
const LABEL: (&str, &str) = ("kuber-e2e", "watch");
const SELECTOR: &str = "kuber-e2e=watch";

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

fn meta(cm: &ConfigMap) -> ObjectMeta {
    cm.metadata.clone().unwrap_or_default()
}

fn name_of(cm: &ConfigMap) -> String {
    meta(cm).name.unwrap_or_default()
}

fn rv_of(cm: &ConfigMap) -> String {
    meta(cm).resource_version.unwrap_or_default()
}

fn value_of(cm: &ConfigMap) -> Option<&str> {
    cm.data
        .as_ref()
        .and_then(|d| d.get("value"))
        .map(String::as_str)
}

/// `type name value` of an event, for messages and comparisons.
fn describe(event: &WatchEvent<ConfigMap>) -> String {
    match event {
        WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm) => format!(
            "{} {} {}",
            event.type_name(),
            name_of(cm),
            value_of(cm).unwrap_or("-")
        ),
        WatchEvent::Bookmark(cm) => format!("BOOKMARK rv={}", rv_of(cm)),
        WatchEvent::Error(status) => format!(
            "ERROR {:?} {:?} {:?}",
            status.code, status.reason, status.message
        ),
    }
}

fn is_initial_events_end(cm: &ConfigMap) -> bool {
    meta(cm)
        .annotations
        .as_ref()
        .and_then(|a| a.get(INITIAL_EVENTS_END))
        .is_some_and(|v| v == "true")
}

/// The next item of a watch within `within`: `Ok(None)` when the server ended the stream.
async fn next_event(
    stream: &mut WatchStream<ConfigMap>,
    within: Duration,
    what: &str,
) -> Result<Option<WatchEvent<ConfigMap>>, String> {
    match tokio::time::timeout(within, stream.next()).await {
        Err(_) => Err(format!(
            "{what}: no event within {} s",
            within.as_secs_f64()
        )),
        Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(format!("{what}: {e}")),
        Ok(Some(Ok(event))) => Ok(Some(event)),
    }
}

/// resourceVersions are opaque, but this server's are etcd revisions; compare them when both
/// parse.
fn not_older(rv: &str, than: &str) -> bool {
    match (rv.parse::<u64>(), than.parse::<u64>()) {
        (Ok(a), Ok(b)) => a >= b,
        _ => !rv.is_empty(),
    }
}

async fn namespace_rv(core: &CoreV1Api, ns: &str) -> Result<String, String> {
    let list = core
        .list_namespaced_config_map(
            ns,
            &ListParams {
                label_selector: Some(SELECTOR.into()),
                ..Default::default()
            },
        )
        .await
        .context(format!("list ConfigMaps in {ns}"))?;
    list.metadata
        .and_then(|m| m.resource_version)
        .filter(|rv| !rv.is_empty())
        .ok_or_else(|| format!("the ConfigMap list of {ns} has no resourceVersion"))
}

fn merge_value(value: &str) -> Patch {
    Patch::Merge(serde_json::json!({"data": {"value": value}}))
}

/// A watch from a list's resourceVersion with bookmarks allowed: a create, an update and a
/// delete arrive as ADDED, MODIFIED, DELETED with the objects (and resourceVersions) the writes
/// returned; the server sends a BOOKMARK 2 s before `timeoutSeconds`, then ends the stream.
async fn events_and_bookmark(e2e: &E2e) -> Outcome {
    const TIMEOUT: i64 = 6;
    let ns = e2e.namespace("watch-bm").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let rv = namespace_rv(&core, &ns).await?;
    let params = ListParams {
        allow_watch_bookmarks: Some(true),
        label_selector: Some(SELECTOR.into()),
        resource_version: Some(rv),
        timeout_seconds: Some(TIMEOUT),
        ..Default::default()
    };
    let started = Instant::now();
    let mut stream = core
        .watch_namespaced_config_map_list(&ns, &params)
        .await
        .context(format!("watch ConfigMaps in {ns}"))?;

    let created = core
        .create_namespaced_config_map(&ns, &config_map("alpha", "1"), &WriteParams::default())
        .await
        .context(format!("create ConfigMap {ns}/alpha"))?;
    let patched = core
        .patch_namespaced_config_map("alpha", &ns, &merge_value("2"), &PatchParams::default())
        .await
        .context(format!("patch ConfigMap {ns}/alpha"))?;
    let deleted = core
        .delete_namespaced_config_map("alpha", &ns, None, &DeleteParams::default())
        .await
        .context(format!("delete ConfigMap {ns}/alpha"))?;

    let mut events = Vec::new();
    let mut bookmark: Option<(ConfigMap, f64)> = None;
    let deadline = Duration::from_secs(TIMEOUT as u64 + 10);
    loop {
        let left = deadline.saturating_sub(started.elapsed());
        match next_event(&mut stream, left, "ConfigMap watch").await? {
            None => break,
            Some(WatchEvent::Bookmark(cm)) => {
                if bookmark.is_none() {
                    bookmark = Some((cm, started.elapsed().as_secs_f64()));
                }
            }
            Some(WatchEvent::Error(status)) => {
                return Err(format!("ERROR event: {status:?}"));
            }
            Some(event) => events.push(event),
        }
    }
    let ended = started.elapsed().as_secs_f64();

    let rvs = check_events(&events, &created, &patched, &deleted)?;

    let (bookmark, at) = bookmark.ok_or_else(|| {
        format!(
            "no BOOKMARK before the server ended the watch ({ended:.1} s, timeoutSeconds {TIMEOUT})"
        )
    })?;
    let bm_rv = rv_of(&bookmark);
    ensure(not_older(&bm_rv, &rvs[2]), || {
        format!(
            "BOOKMARK resourceVersion {bm_rv:?} is older than the last event's {}",
            rvs[2]
        )
    })?;
    ensure(meta(&bookmark).name.is_none_or(|n| n.is_empty()), || {
        "the BOOKMARK object has a name; it should carry only a resourceVersion".into()
    })?;
    ensure(bookmark.data.is_none(), || {
        "the BOOKMARK object has data".into()
    })?;
    e2e.report(format!(
        "watch: 3 events in order, BOOKMARK at {at:.1} s, stream ended at {ended:.1} s \
         (timeoutSeconds {TIMEOUT})"
    ));
    Ok(())
}

/// The three events in order, carrying the objects (resourceVersions, uid) the writes answered;
/// their resourceVersions.
fn check_events(
    events: &[WatchEvent<ConfigMap>],
    created: &ConfigMap,
    patched: &ConfigMap,
    deleted: &Deleted<ConfigMap>,
) -> Result<Vec<String>, String> {
    let got: Vec<String> = events.iter().map(describe).collect();
    ensure(
        got == ["ADDED alpha 1", "MODIFIED alpha 2", "DELETED alpha 2"],
        || format!("events {got:?}"),
    )?;
    // The events carry the objects the writes answered.
    let rvs: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm) => {
                Some(rv_of(cm))
            }
            _ => None,
        })
        .collect();
    ensure(rvs[0] == rv_of(created) && rvs[1] == rv_of(patched), || {
        format!(
            "event resourceVersions {rvs:?}; the create answered {}, the patch {}",
            rv_of(created),
            rv_of(patched)
        )
    })?;
    if let Deleted::Object(gone) = deleted {
        ensure(rvs[2] == rv_of(gone), || {
            format!(
                "DELETED has resourceVersion {}, the delete answered {}",
                rvs[2],
                rv_of(gone)
            )
        })?;
    }
    let uids: BTreeSet<Option<String>> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm) => {
                meta(cm).uid
            }
            _ => None,
        })
        .collect();
    ensure(
        uids.len() == 1 && meta(created).uid.is_some() && uids.contains(&meta(created).uid),
        || {
            format!(
                "events name uids {uids:?}, the object is {:?}",
                meta(created).uid
            )
        },
    )?;
    Ok(rvs)
}

/// `sendInitialEvents=true` + `resourceVersionMatch=NotOlderThan`: the existing objects as
/// ADDED, a BOOKMARK annotated `k8s.io/initial-events-end: "true"`, then live changes in order.
async fn send_initial_events(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("watch-init").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let existing = ["one", "three", "two"];
    let mut newest_rv = String::new();
    for name in existing {
        let cm = core
            .create_namespaced_config_map(&ns, &config_map(name, "0"), &WriteParams::default())
            .await
            .context(format!("create ConfigMap {ns}/{name}"))?;
        newest_rv = rv_of(&cm);
    }
    let params = ListParams {
        send_initial_events: Some(true),
        label_selector: Some(SELECTOR.into()),
        resource_version_match: Some("NotOlderThan".into()),
        allow_watch_bookmarks: Some(true),
        timeout_seconds: Some(60),
        ..Default::default()
    };
    let started = Instant::now();
    let mut stream = core
        .watch_namespaced_config_map_list(&ns, &params)
        .await
        .context(format!("watch ConfigMaps in {ns} with sendInitialEvents"))?;

    let mut initial = BTreeSet::new();
    let end = loop {
        match next_event(&mut stream, Duration::from_secs(20), "initial events").await? {
            None => return Err("the watch ended before the initial-events-end bookmark".into()),
            Some(WatchEvent::Added(cm)) => {
                ensure(initial.insert(name_of(&cm)), || {
                    format!("{} was sent twice among the initial events", name_of(&cm))
                })?;
            }
            Some(WatchEvent::Bookmark(cm)) if is_initial_events_end(&cm) => break cm,
            Some(WatchEvent::Bookmark(_)) => {}
            Some(other) => {
                return Err(format!("{} among the initial events", describe(&other)));
            }
        }
    };
    let initial_seconds = started.elapsed().as_secs_f64();
    let expected: BTreeSet<String> = existing.iter().map(|s| s.to_string()).collect();
    ensure(initial == expected, || {
        format!("initial ADDED events for {initial:?}, the namespace holds {expected:?}")
    })?;
    ensure(not_older(&rv_of(&end), &newest_rv), || {
        format!(
            "the initial-events-end bookmark has resourceVersion {:?}, older than the last \
             create's {newest_rv}",
            rv_of(&end)
        )
    })?;

    core.create_namespaced_config_map(&ns, &config_map("four", "0"), &WriteParams::default())
        .await
        .context(format!("create ConfigMap {ns}/four"))?;
    core.patch_namespaced_config_map("one", &ns, &merge_value("1"), &PatchParams::default())
        .await
        .context(format!("patch ConfigMap {ns}/one"))?;
    core.delete_namespaced_config_map("two", &ns, None, &DeleteParams::default())
        .await
        .context(format!("delete ConfigMap {ns}/two"))?;
    let mut live = Vec::new();
    while live.len() < 3 {
        match next_event(&mut stream, Duration::from_secs(20), "live events").await? {
            None => return Err(format!("the watch ended after {live:?}")),
            Some(WatchEvent::Bookmark(cm)) => ensure(!is_initial_events_end(&cm), || {
                "a second initial-events-end bookmark".into()
            })?,
            Some(event) => live.push(describe(&event)),
        }
    }
    ensure(
        live == ["ADDED four 0", "MODIFIED one 1", "DELETED two 0"],
        || format!("live events {live:?}"),
    )?;
    e2e.report(format!(
        "watch: sendInitialEvents gave {} ADDED + initial-events-end BOOKMARK in {initial_seconds:.2} s",
        initial.len()
    ));
    Ok(())
}

/// A watch from a resourceVersion etcd has compacted away answers (HTTP 200, then) an ERROR
/// event whose Status is 410 Expired.
async fn compacted_resource_version(e2e: &E2e) -> Outcome {
    let cluster = Cluster::start_with(Options::fast_compaction())
        .await
        .context("start a fast-compaction cluster")?;
    let client = cluster.admin().context("admin client")?;
    let core = CoreV1Api::new(client.clone());
    let ns = "watch-compacted";
    create_namespace(&client, ns).await?;
    let created = core
        .create_namespaced_config_map(ns, &config_map("probe", "0"), &WriteParams::default())
        .await
        .context(format!("create ConfigMap {ns}/probe"))?;
    let old_rv = rv_of(&created);
    for i in 1..=5 {
        core.patch_namespaced_config_map(
            "probe",
            ns,
            &merge_value(&i.to_string()),
            &PatchParams::default(),
        )
        .await
        .context(format!("patch ConfigMap {ns}/probe"))?;
    }

    let params = ListParams {
        resource_version: Some(old_rv.clone()),
        timeout_seconds: Some(10),
        ..Default::default()
    };
    let started = Instant::now();
    let attempts = &AtomicUsize::new(0);
    let (core_ref, params, old) = (&core, &params, old_rv.as_str());
    let what = format!("resourceVersion {old_rv} no longer replayed");
    let every = Duration::from_millis(500);
    let waited = poll_every(&what, Duration::from_secs(30), every, || async move {
        attempts.fetch_add(1, Ordering::Relaxed);
        let mut stream = core_ref
            .watch_namespaced_config_map_list(ns, params)
            .await
            .context(format!(
                "watch ConfigMaps in {ns} from resourceVersion {old}"
            ))?;
        let within = Duration::from_secs(10);
        match next_event(&mut stream, within, "watch from the old RV").await? {
            Some(WatchEvent::Error(status)) => Ok(Some((status, stream))),
            // Not compacted yet: the history since the old RV is replayed.
            Some(WatchEvent::Modified(cm)) if name_of(&cm) == "probe" => Ok(None),
            Some(other) => Err(format!("first event {}", describe(&other))),
            None => Err("the watch from the old RV ended without an event".into()),
        }
    })
    .await;
    let (status, mut stream) =
        waited.map_err(|e| format!("{e} ({} watches)", attempts.load(Ordering::Relaxed)))?;
    ensure(status.code == Some(410), || {
        format!("ERROR event with code {:?} ({status:?})", status.code)
    })?;
    ensure(status.reason.as_deref() == Some("Expired"), || {
        format!(
            "ERROR event with reason {:?}, expected Expired",
            status.reason
        )
    })?;
    ensure(status.status.as_deref() == Some("Failure"), || {
        format!(
            "ERROR event with status {:?}, expected Failure",
            status.status
        )
    })?;
    // The server ends the watch after the error.
    match next_event(
        &mut stream,
        Duration::from_secs(10),
        "after the ERROR event",
    )
    .await?
    {
        None => {}
        Some(event) => return Err(format!("{} after the ERROR event", describe(&event))),
    }
    e2e.report(format!(
        "watch: a compacted resourceVersion answered ERROR 410 Expired after {:.1} s ({} watches)",
        started.elapsed().as_secs_f64(),
        attempts.load(Ordering::Relaxed)
    ));
    Ok(())
}

/// `timeoutSeconds=2`: the server closes the stream, which ends (`None`) without an error.
async fn server_timeout(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("watch-timeout").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let params = ListParams {
        label_selector: Some(SELECTOR.into()),
        timeout_seconds: Some(2),
        ..Default::default()
    };
    let started = Instant::now();
    let mut stream = core
        .watch_namespaced_config_map_list(&ns, &params)
        .await
        .context(format!("watch ConfigMaps in {ns}"))?;
    let mut events = Vec::new();
    loop {
        let left = Duration::from_secs(15).saturating_sub(started.elapsed());
        match next_event(&mut stream, left, "watch with timeoutSeconds=2").await? {
            None => break,
            Some(event) => events.push(describe(&event)),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    ensure(events.is_empty(), || {
        format!("events in an empty namespace: {events:?}")
    })?;
    ensure((1.5..10.0).contains(&seconds), || {
        format!("the stream ended after {seconds:.1} s, timeoutSeconds was 2")
    })?;
    // Polled again after the end: still ended.
    ensure(stream.next().await.is_none(), || {
        "the stream yielded an item after it ended".into()
    })?;
    e2e.report(format!(
        "watch: timeoutSeconds=2 ended the stream cleanly after {seconds:.1} s"
    ));
    Ok(())
}

/// `watch_namespaced_config_map` (one object by name) sees that object's events only, although
/// another object's changes come first.
async fn single_object(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("watch-one").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let mut watched_rv = String::new();
    for name in ["watched", "other"] {
        let cm = core
            .create_namespaced_config_map(&ns, &config_map(name, "0"), &WriteParams::default())
            .await
            .context(format!("create ConfigMap {ns}/{name}"))?;
        if name == "watched" {
            watched_rv = rv_of(&cm);
        }
    }
    let params = ListParams {
        resource_version: Some(watched_rv),
        timeout_seconds: Some(30),
        ..Default::default()
    };
    let mut stream = core
        .watch_namespaced_config_map("watched", &ns, &params)
        .await
        .context(format!("watch ConfigMap {ns}/watched"))?;

    // "other" was created after "watched", and changes before each change of "watched".
    let writes: [(&str, Option<&str>); 5] = [
        ("other", Some("1")),
        ("watched", Some("1")),
        ("other", Some("2")),
        ("other", None),
        ("watched", None),
    ];
    for (name, value) in writes {
        match value {
            Some(v) => core
                .patch_namespaced_config_map(name, &ns, &merge_value(v), &PatchParams::default())
                .await
                .map(|_| ())
                .context(format!("patch ConfigMap {ns}/{name}"))?,
            None => core
                .delete_namespaced_config_map(name, &ns, None, &DeleteParams::default())
                .await
                .map(|_| ())
                .context(format!("delete ConfigMap {ns}/{name}"))?,
        }
    }
    let mut got = Vec::new();
    while got.len() < 2 {
        match next_event(&mut stream, Duration::from_secs(20), "single-object watch").await? {
            None => return Err(format!("the watch ended after {got:?}")),
            Some(WatchEvent::Bookmark(_)) => {}
            Some(event) => got.push(describe(&event)),
        }
    }
    ensure(got == ["MODIFIED watched 1", "DELETED watched 1"], || {
        format!("the watch of {ns}/watched saw {got:?}")
    })
}
