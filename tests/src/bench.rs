//! What the benchmark binaries of `cargo xtask bench` share (`src/bin/bench/`: `realbench`,
//! kuber-api on a real control plane; `tsbench`, kuber-testserver beside it): the timed loop, a
//! watch read to its last event, and the median of rounds; [`bytes`], a checked download through
//! a forwarded port.

pub mod bytes;

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber_api::{CoreV1Api, ListParams};
use kuber_models::WatchEvent;

/// `warm_up` untimed calls of `call`, then `count` timed ones: how long those took.
pub async fn timed<F, Fut>(warm_up: usize, count: usize, mut call: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    for _ in 0..warm_up {
        call().await?;
    }
    let started = Instant::now();
    for _ in 0..count {
        call().await?;
    }
    Ok(started.elapsed())
}

/// A watch of the ConfigMaps in `ns` from `rv` (bookmarks on, 120 s: what kube-rs sends for
/// `WatchParams { bookmarks: true, timeout: Some(120) }`), read to its `count`-th object event:
/// how long from the request on.
pub async fn watch_config_maps(
    api: &CoreV1Api,
    ns: &str,
    rv: &str,
    count: usize,
) -> Result<Duration, String> {
    let params = ListParams {
        allow_watch_bookmarks: Some(true),
        timeout_seconds: Some(120),
        resource_version: Some(rv.to_owned()),
        ..ListParams::default()
    };
    let started = Instant::now();
    let mut stream = api
        .watch_namespaced_config_map_list(ns, &params)
        .await
        .map_err(|e| format!("watch ConfigMaps in {ns}: {e}"))?;
    let mut seen = 0;
    while seen < count {
        match stream.next().await {
            Some(Ok(
                WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm),
            )) => {
                if cm.metadata.and_then(|m| m.name).is_none() {
                    return Err("watch: an event without a name".into());
                }
                seen += 1;
            }
            Some(Ok(WatchEvent::Bookmark(_))) => {}
            Some(Ok(WatchEvent::Error(status))) => {
                return Err(format!(
                    "watch: ERROR event {} {}",
                    status.code.unwrap_or_default(),
                    status.message.unwrap_or_default()
                ));
            }
            Some(Err(e)) => return Err(format!("watch ConfigMaps in {ns}: {e}")),
            None => return Err(format!("watch: the server closed after {seen} events")),
        }
    }
    Ok(started.elapsed())
}

/// The median (of an even count, the mean of the middle two); NaN of none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
