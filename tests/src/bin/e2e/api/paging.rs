//! Chunked lists: `limit`/`continue` over hundreds of objects, and a continue token that has
//! outlived etcd's history.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber_api::{CoreV1Api, DeleteParams, Error, ListParams, WriteParams};
use kuber_models::api::core::v1::{ConfigMap, ConfigMapList};
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::cluster::{Cluster, Options};

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, create_namespace, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![
        case!("paging/limit-continue-500-objects", limit_continue),
        case!("paging/expired-continue-410", expired_continue),
    ]
}

/// How many objects the paging case lists, and the page size.
const OBJECTS: usize = 520;
const PAGE: i64 = 100;
/// Creates in flight at once.
const CONCURRENCY: usize = 16;

fn config_map(name: &str, index: usize) -> ConfigMap {
    ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        }),
        data: Some(BTreeMap::from([("index".to_owned(), index.to_string())])),
        ..Default::default()
    }
}

fn name_of(cm: &ConfigMap) -> &str {
    cm.metadata
        .as_ref()
        .and_then(|m| m.name.as_deref())
        .unwrap_or("")
}

/// Creates `names` in `ns`, `CONCURRENCY` at a time.
async fn create_all(core: &CoreV1Api, ns: &str, names: &[String]) -> Outcome {
    // Owned values in each future: a borrowed closure argument makes the case future not Send.
    let jobs: Vec<(usize, String)> = names.iter().cloned().enumerate().collect();
    let results: Vec<Result<(), String>> = futures_util::stream::iter(jobs)
        .map(|(i, name)| {
            let (core, ns) = (core.clone(), ns.to_owned());
            async move {
                core.create_namespaced_config_map(
                    &ns,
                    &config_map(&name, i),
                    &WriteParams::default(),
                )
                .await
                .map(|_| ())
                .context(format!("create ConfigMap {ns}/{name}"))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    ensure(failed.is_empty(), || {
        format!(
            "{} of {} creates failed; first: {}",
            failed.len(),
            names.len(),
            failed[0]
        )
    })
}

fn page_params(limit: i64, token: Option<String>) -> ListParams {
    ListParams {
        limit: Some(limit),
        continue_: token,
        ..Default::default()
    }
}

/// The continue token of a page, `None` when it is the last.
fn continue_of(list: &ConfigMapList) -> Option<String> {
    list.metadata
        .as_ref()
        .and_then(|m| m.continue_.clone())
        .filter(|c| !c.is_empty())
}

/// Pages through 520 ConfigMaps 100 at a time: every object once, `remainingItemCount` counts
/// down, every page is of the first page's snapshot (an object created and one deleted after
/// page 1 do not change what later pages show), and the last page has no continue token.
async fn limit_continue(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("paging").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let names: Vec<String> = (0..OBJECTS).map(|i| format!("cm-{i:04}")).collect();
    let started = Instant::now();
    create_all(&core, &ns, &names).await?;
    let create_seconds = started.elapsed().as_secs_f64();

    let (seen, pages, total) = page_through(&core, &ns, &names).await?;
    check_seen(&seen, total, &names)?;
    // 520 objects would pile up on a shared cluster run after run.
    core.delete_namespace(&ns, None, &DeleteParams::default())
        .await
        .context(format!("delete namespace {ns}"))?;
    e2e.report(format!(
        "paging: {OBJECTS} objects in {pages} pages (limit {PAGE}; created {CONCURRENCY} at a \
         time in {create_seconds:.1} s)"
    ));
    Ok(())
}

/// Lists `ns` page by page: how often each name was seen, how many pages, and the snapshot's
/// size page 1 announced. Checks each page's size, resourceVersion and remainingItemCount;
/// after page 1 creates one object and deletes the last of `names`.
async fn page_through(
    core: &CoreV1Api,
    ns: &str,
    names: &[String],
) -> Result<(BTreeMap<String, usize>, usize, Option<usize>), String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut pages = 0usize;
    let mut token: Option<String> = None;
    let mut snapshot_rv: Option<String> = None;
    // The snapshot's size, from page 1: ours plus what the controller-manager adds to every
    // namespace (kube-root-ca.crt), if it was there yet.
    let mut total: Option<usize> = None;
    loop {
        ensure(pages <= OBJECTS / PAGE as usize + 1, || {
            format!("still paging after {pages} pages of {PAGE}")
        })?;
        let list = core
            .list_namespaced_config_map(ns, &page_params(PAGE, token.clone()))
            .await
            .context(format!("list ConfigMaps in {ns}, page {}", pages + 1))?;
        pages += 1;
        ensure(!list.items.is_empty(), || format!("page {pages} is empty"))?;
        ensure(list.items.len() <= PAGE as usize, || {
            format!("page {pages} has {} items, limit {PAGE}", list.items.len())
        })?;
        for item in &list.items {
            *seen.entry(name_of(item).to_owned()).or_default() += 1;
        }
        let meta = list.metadata.clone().unwrap_or_default();
        let rv = meta.resource_version.clone().unwrap_or_default();
        match &snapshot_rv {
            None => snapshot_rv = Some(rv),
            Some(first) => ensure(*first == rv, || {
                format!("page {pages} has resourceVersion {rv}, page 1 had {first}")
            })?,
        }
        let seen_total: usize = seen.values().sum();
        token = continue_of(&list);
        match &token {
            Some(_) => {
                let remaining = meta.remaining_item_count.unwrap_or(-1);
                let total = *total.get_or_insert(seen_total + remaining.max(0) as usize);
                let expected = total.saturating_sub(seen_total) as i64;
                ensure(meta.remaining_item_count == Some(expected), || {
                    format!(
                        "page {pages}: remainingItemCount {:?} after {seen_total} items, \
                         expected {expected}",
                        meta.remaining_item_count
                    )
                })?;
            }
            None => {
                ensure(matches!(meta.remaining_item_count, None | Some(0)), || {
                    format!(
                        "the last page (page {pages}) has remainingItemCount {:?}",
                        meta.remaining_item_count
                    )
                })?;
                break;
            }
        }
        if pages == 1 {
            // Changes after the first page must not show in the snapshot the token names.
            core.create_namespaced_config_map(
                ns,
                &config_map("zz-late", OBJECTS),
                &WriteParams::default(),
            )
            .await
            .context(format!("create ConfigMap {ns}/zz-late"))?;
            let last = &names[OBJECTS - 1];
            core.delete_namespaced_config_map(last, ns, None, &DeleteParams::default())
                .await
                .context(format!("delete ConfigMap {ns}/{last}"))?;
        }
    }
    Ok((seen, pages, total))
}

/// Every object of `names` seen once (the one deleted after page 1 too), the one created after
/// it never, nothing else but kube-root-ca.crt, and as many as page 1 announced.
fn check_seen(seen: &BTreeMap<String, usize>, total: Option<usize>, names: &[String]) -> Outcome {
    let twice: Vec<&String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    ensure(twice.is_empty(), || {
        format!(
            "{} objects seen more than once, e.g. {}",
            twice.len(),
            twice[0]
        )
    })?;
    ensure(!seen.contains_key("zz-late"), || {
        "an object created after page 1 showed up in a later page".into()
    })?;
    let expected: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let got: BTreeSet<&str> = seen
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with("cm-"))
        .collect();
    let listed: usize = seen.values().sum();
    ensure(total.is_none_or(|t| t == listed), || {
        format!("page 1 announced {total:?} objects in all, {listed} were listed")
    })?;
    let foreign: Vec<&String> = seen.keys().filter(|n| !n.starts_with("cm-")).collect();
    ensure(foreign.iter().all(|n| *n == "kube-root-ca.crt"), || {
        format!("objects this case did not make: {foreign:?}")
    })?;
    let missing: Vec<&&str> = expected.difference(&got).collect();
    ensure(missing.is_empty(), || {
        format!(
            "{} objects never listed (one deleted after page 1 must still be), e.g. {}",
            missing.len(),
            missing[0]
        )
    })?;
    ensure(got.len() == OBJECTS, || {
        format!("{} distinct objects listed, {OBJECTS} expected", got.len())
    })?;
    Ok(())
}

/// A continue token whose snapshot etcd has compacted answers 410 Expired, and the Status
/// carries a fresh token that continues (inconsistently) after the last key of the first page.
async fn expired_continue(e2e: &E2e) -> Outcome {
    let cluster = Cluster::start_with(Options::fast_compaction())
        .await
        .context("start a fast-compaction cluster")?;
    let client = cluster.admin().context("admin client")?;
    let core = CoreV1Api::new(client.clone());
    let ns = "paging-expired";
    create_namespace(&client, ns).await?;
    let first: Vec<String> = (0..10).map(|i| format!("cm-{i:02}")).collect();
    create_all(&core, ns, &first).await?;

    let page = core
        .list_namespaced_config_map(ns, &page_params(4, None))
        .await
        .context("list the first page of 4")?;
    let token = continue_of(&page).ok_or("the first page of 4 (of 10) has no continue token")?;
    let page_names: Vec<&str> = page.items.iter().map(name_of).collect();
    ensure(page_names == ["cm-00", "cm-01", "cm-02", "cm-03"], || {
        format!("first page {page_names:?}")
    })?;
    // Writes after the snapshot, so that compaction moves past it.
    let later: Vec<String> = (0..5).map(|i| format!("cm-later-{i}")).collect();
    create_all(&core, ns, &later).await?;

    let started = Instant::now();
    let (core, token) = (&core, token.as_str());
    let what = "the continue token refused after compaction";
    let api = poll_every(
        what,
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async move {
            let second = page_params(4, Some(token.to_owned()));
            match core.list_namespaced_config_map(ns, &second).await {
                Err(Error::Api(api)) => Ok(Some(api)),
                Err(e) => Err(format!("list the second page: {e}")),
                Ok(next) => {
                    // Still consistent: the later objects must not show.
                    let names: Vec<&str> = next.items.iter().map(name_of).collect();
                    ensure(names == ["cm-04", "cm-05", "cm-06", "cm-07"], || {
                        format!("second page before compaction: {names:?}")
                    })?;
                    Ok(None)
                }
            }
        },
    )
    .await?;
    let waited = started.elapsed().as_secs_f64();
    ensure(api.is_gone(), || format!("expected 410 Gone, got {api}"))?;
    ensure(api.reason() == Some("Expired"), || {
        format!(
            "410 with reason {:?}, expected Expired ({api})",
            api.reason()
        )
    })?;
    let status = api
        .status
        .as_ref()
        .ok_or("the 410 body was not decoded as a Status")?;
    ensure(status.code == Some(410), || {
        format!("Status code {:?} in the 410 body", status.code)
    })?;
    let fresh = status
        .metadata
        .as_ref()
        .and_then(|m| m.continue_.clone())
        .filter(|c| !c.is_empty())
        .ok_or("the 410 Status carries no metadata.continue to go on with")?;

    // Going on from the fresh token: the rest of the old keys and the later objects.
    let mut rest = Vec::new();
    let mut token = Some(fresh);
    for _ in 0..10 {
        let Some(t) = token.take() else { break };
        let next = core
            .list_namespaced_config_map(ns, &page_params(4, Some(t)))
            .await
            .context("list with the continue token of the 410 Status")?;
        rest.extend(next.items.iter().map(|c| name_of(c).to_owned()));
        token = continue_of(&next);
    }
    ensure(token.is_none(), || "still paging after 10 pages".into())?;
    let mut expected: Vec<String> = first[4..].to_vec();
    expected.extend(later.iter().cloned());
    expected.sort();
    ensure(rest == expected, || {
        format!("continuing from the 410's token listed {rest:?}, expected {expected:?}")
    })?;
    e2e.report(format!(
        "paging: continue token expired (410 Expired, fresh token honoured) {waited:.1} s after \
         the writes"
    ));
    Ok(())
}
