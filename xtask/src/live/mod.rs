//! `gen --kubeconfig`: fetches a cluster's OpenAPI v3 documents into a folder, which `gen` then
//! reads like any `--spec` folder.
//!
//! `GET /openapi/v3` is an index, `{"paths": {"apis/apps/v1": {"serverRelativeURL":
//! "/openapi/v3/apis/apps/v1?hash=…"}, …}}`; each entry is one document, built-in groups, CRDs and
//! aggregated APIs alike. The requests go through a small client of our own ([`client`]) over the
//! few kubeconfig fields it needs ([`kubeconfig`]), not through kuber-api: the generator must
//! build when the code it generates does not.

mod client;
mod kubeconfig;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use client::Fetcher;

/// What to fetch and from where.
pub struct Source<'a> {
    pub kubeconfig: &'a Path,
    pub context: Option<&'a str>,
    /// `--group` values; empty: every document of the index.
    pub groups: &'a [String],
}

/// What a fetch wrote.
pub struct Fetched {
    pub server: String,
    pub documents: usize,
    pub bytes: usize,
    pub seconds: f64,
}

/// One document the index lists.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    /// The index key, e.g. `apis/apps/v1`.
    pub key: String,
    /// Where to get it, e.g. `/openapi/v3/apis/apps/v1?hash=…`.
    pub url: String,
}

/// Fetches the documents `source` selects into `dir` (emptied first), one `<key>.json` each
/// with `/` turned into `_`, so the loader reads them in key order.
pub fn fetch(source: &Source, dir: &Path) -> Result<Fetched, String> {
    let started = Instant::now();
    let target = kubeconfig::read(source.kubeconfig, source.context)?;
    let fetcher = Fetcher::new(&target)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (documents, bytes) = runtime.block_on(fetch_all(&fetcher, source.groups, dir))?;
    Ok(Fetched {
        server: fetcher.server().to_owned(),
        documents,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn fetch_all(
    fetcher: &Fetcher,
    groups: &[String],
    dir: &Path,
) -> Result<(usize, usize), String> {
    let server = fetcher.server();
    let index = fetcher.get("/openapi/v3").await?;
    let entries = parse_index(&index)?;
    let selected: Vec<&Entry> = entries
        .iter()
        .filter(|e| groups.is_empty() || groups.iter().any(|g| matches_group(&e.key, g)))
        .collect();
    if selected.is_empty() {
        // Sorted by key, so each group's versions are adjacent.
        let mut known: Vec<&str> = entries
            .iter()
            .filter_map(|e| group_version(&e.key).map(|(g, _)| g))
            .collect();
        known.dedup();
        return Err(format!(
            "no document of {server}/openapi/v3 matches --group {}; groups served: {}",
            groups.join(", --group "),
            known.join(", ")
        ));
    }
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut bytes = 0;
    for entry in &selected {
        let body = fetcher.get(&entry.url).await?;
        let path = dir.join(file_name(&entry.key));
        fs::write(&path, &body).map_err(|e| format!("{}: {e}", path.display()))?;
        bytes += body.len();
    }
    Ok((selected.len(), bytes))
}

/// The index's entries, sorted by key.
pub fn parse_index(body: &[u8]) -> Result<Vec<Entry>, String> {
    let bad = |why: &str| format!("GET /openapi/v3: not an OpenAPI v3 index: {why}");
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let paths = value
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| bad("no `paths` object"))?;
    let mut out = Vec::with_capacity(paths.len());
    for (key, item) in paths {
        let url = item
            .get("serverRelativeURL")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad(&format!("`{key}` has no serverRelativeURL")))?;
        // The URL is sent as a path: it must be one, and stay on this server.
        if !url.starts_with('/') || url.starts_with("//") || url.contains(['{', '}', ' ']) {
            return Err(bad(&format!(
                "`{key}` has an unusable serverRelativeURL {url:?}"
            )));
        }
        out.push(Entry {
            key: key.clone(),
            url: url.to_owned(),
        });
    }
    if out.is_empty() {
        return Err(bad("it lists no document"));
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// `api/v1` → `("core", "v1")`, `apis/apps/v1` → `("apps", "v1")`; `None` for the discovery
/// documents (`api`, `apis`, `apis/apps`, `version`, …).
pub fn group_version(key: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        ["api", version] => Some(("core", version)),
        ["apis", group, version] => Some((group, version)),
        _ => None,
    }
}

/// Whether `--group filter` (`GROUP` or `GROUP/VERSION`, `core` for the legacy group) keeps the
/// document `key`.
pub fn matches_group(key: &str, filter: &str) -> bool {
    let Some((group, version)) = group_version(key) else {
        return false;
    };
    match filter.split_once('/') {
        Some((g, v)) => g == group && v == version,
        None => filter == group,
    }
}

/// `apis/apps/v1` → `apis_apps_v1.json`.
pub fn file_name(key: &str) -> String {
    format!("{}.json", key.replace(['/', '\\'], "_"))
}

/// Where `gen --kubeconfig` puts the documents: beside the crate with `--out`, else under
/// `target/`.
pub fn documents_dir(out: Option<&Path>, workspace: &Path) -> PathBuf {
    match out {
        Some(dir) => dir.join("openapi-v3"),
        None => workspace.join("target/openapi-v3"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"paths": {
        "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=AB12"},
        "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=CD34"},
        "apis/apps": {"serverRelativeURL": "/openapi/v3/apis/apps?hash=EF"},
        "version": {"serverRelativeURL": "/openapi/v3/version?hash=01"},
        "apis/livegen.kuber.test/v1": {"serverRelativeURL": "/openapi/v3/apis/livegen.kuber.test/v1?hash=99"}
    }}"#;

    #[test]
    fn index_entries_sorted_with_their_urls() {
        let entries = parse_index(INDEX.as_bytes()).unwrap();
        let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "api/v1",
                "apis/apps",
                "apis/apps/v1",
                "apis/livegen.kuber.test/v1",
                "version"
            ]
        );
        assert_eq!(entries[0].url, "/openapi/v3/api/v1?hash=CD34");
    }

    #[test]
    fn index_that_is_not_one_is_refused() {
        for body in [
            "[]",
            "{}",
            r#"{"paths": {}}"#,
            r#"{"paths": {"api/v1": {}}}"#,
            r#"{"paths": {"api/v1": {"serverRelativeURL": "https://elsewhere/x"}}}"#,
            r#"{"paths": {"api/v1": {"serverRelativeURL": "//elsewhere/x"}}}"#,
            "not json",
        ] {
            let err = parse_index(body.as_bytes()).unwrap_err();
            assert!(
                err.starts_with("GET /openapi/v3: not an OpenAPI v3 index"),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn group_filters() {
        assert!(matches_group("api/v1", "core"));
        assert!(matches_group("api/v1", "core/v1"));
        assert!(matches_group("apis/apps/v1", "apps"));
        assert!(matches_group("apis/apps/v1", "apps/v1"));
        assert!(!matches_group("apis/apps/v1", "apps/v2"));
        assert!(!matches_group("apis/apps", "apps"));
        assert!(!matches_group("apis/livegen.kuber.test/v1", "kuber.test"));
        assert!(matches_group(
            "apis/livegen.kuber.test/v1",
            "livegen.kuber.test"
        ));
        assert!(!matches_group("version", "version"));
    }

    #[test]
    fn file_names_keep_key_order() {
        assert_eq!(file_name("apis/apps/v1"), "apis_apps_v1.json");
        assert_eq!(file_name("api/v1"), "api_v1.json");
        assert!(file_name("api/v1") < file_name("apis/apps/v1"));
    }
}
