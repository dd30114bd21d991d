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
#[cfg(test)]
mod test_server;

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

    /// A kubeconfig for `server` in a fresh folder: the CA as data, the client certificate and
    /// key as files beside it (relative paths), the token inline; a non-empty `cluster` line
    /// replaces the CA's.
    fn kubeconfig(
        name: &str,
        server: &str,
        pki: &test_server::Pki,
        token: &str,
        cluster: &str,
    ) -> PathBuf {
        use base64::Engine as _;
        let dir = std::env::temp_dir().join(format!("kuber-live-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("client.crt"), &pki.client_pem).unwrap();
        fs::write(dir.join("client.key"), &pki.client_key_pem).unwrap();
        let ca = base64::engine::general_purpose::STANDARD.encode(&pki.ca_pem);
        let cluster = if cluster.is_empty() {
            format!("certificate-authority-data: {ca}")
        } else {
            cluster.to_owned()
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: c\n  cluster:\n    \
             server: {server}\n    {cluster}\ncontexts:\n- name: test\n  context: {{cluster: c, user: u}}\n\
             users:\n- name: u\n  user:\n    client-certificate: client.crt\n    \
             client-key: client.key\n    token: {token}\n"
        );
        let path = dir.join("config");
        fs::write(&path, text).unwrap();
        path
    }

    fn fetch_into(config: &Path, groups: &[String]) -> Result<(Fetched, PathBuf), String> {
        let dir = config.parent().unwrap().join("documents");
        let source = Source {
            kubeconfig: config,
            context: None,
            groups,
        };
        fetch(&source, &dir).map(|f| (f, dir))
    }

    #[test]
    fn documents_come_over_tls_with_the_ca_the_client_certificate_and_the_token() {
        let pki = test_server::Pki::new();
        let server = test_server::start(&pki);
        let config = kubeconfig("ok", &server, &pki, test_server::TOKEN, "");
        let (fetched, dir) = fetch_into(&config, &["apps".to_owned()]).unwrap();
        assert_eq!(
            (fetched.documents, fetched.server.as_str()),
            (1, server.as_str())
        );
        let apps = fs::read_to_string(dir.join("apis_apps_v1.json")).unwrap();
        assert_eq!(apps, test_server::APPS_DOC);
        assert!(!dir.join("api_v1.json").exists());
        let (fetched, dir) = fetch_into(&config, &[]).unwrap();
        assert_eq!(fetched.documents, 2);
        let core = fs::read_to_string(dir.join("api_v1.json")).unwrap();
        assert_eq!(core, test_server::CORE_DOC);
        let err = fetch_into(&config, &["batch".to_owned()]).err().unwrap();
        assert!(err.contains("groups served: core, apps"), "{err}");
        let _ = fs::remove_dir_all(config.parent().unwrap());
    }

    #[test]
    fn refusals_name_the_status_and_never_the_token() {
        let pki = test_server::Pki::new();
        let server = test_server::start(&pki);
        let config = kubeconfig("401", &server, &pki, "wrong-token-value", "");
        let err = fetch_into(&config, &[]).err().unwrap();
        assert_eq!(err, "GET /openapi/v3: HTTP 401: Unauthorized");
        let _ = fs::remove_dir_all(config.parent().unwrap());
    }

    #[test]
    fn a_server_of_another_ca_is_not_trusted_unless_told_to_skip_the_check() {
        let pki = test_server::Pki::new();
        let server = test_server::start(&pki);
        let other = test_server::Pki::new();
        use base64::Engine as _;
        let ca = base64::engine::general_purpose::STANDARD.encode(&other.ca_pem);
        let wrong = format!("certificate-authority-data: {ca}");
        let config = kubeconfig("ca", &server, &pki, test_server::TOKEN, &wrong);
        let err = fetch_into(&config, &[]).err().unwrap();
        assert!(
            err.starts_with(&format!("cannot reach {server}: ")),
            "{err}"
        );
        assert!(err.contains("certificate"), "{err}");
        assert!(!err.contains(test_server::TOKEN), "{err}");
        let config = kubeconfig(
            "skip",
            &server,
            &pki,
            test_server::TOKEN,
            "insecure-skip-tls-verify: true",
        );
        assert_eq!(fetch_into(&config, &[]).unwrap().0.documents, 2);
        let _ = fs::remove_dir_all(config.parent().unwrap());
    }
}
