//! The few kubeconfig fields `gen --kubeconfig` needs to reach a cluster: the server, its CA (or
//! `insecure-skip-tls-verify`, `tls-server-name`), a client certificate and key, a bearer token.
//! Everything that would run code or change the route (exec plugins, auth providers, proxies,
//! impersonation, basic auth) is refused by its field's name: the generator reads documents, and
//! must build without the crates it generates (kuber-api has the full loader).
//!
//! `-data` fields are base64; file fields are relative to the kubeconfig's folder, as in
//! client-go. No error shows a field's value: kubeconfigs hold keys and tokens.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

/// A value that must never be shown (a token, a private key).
pub struct Secret(pub Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where and how to reach the cluster of one kubeconfig context.
#[derive(Debug)]
pub struct Target {
    /// `https://host:port[/prefix]`, without a trailing slash.
    pub server: String,
    /// PEM certificates to trust instead of the system's.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure: bool,
    /// The name to verify the server's certificate against instead of the URL's host.
    pub tls_server_name: Option<String>,
    /// The client certificate chain and its key, both PEM.
    pub client_cert: Option<(Vec<u8>, Secret)>,
    pub token: Option<Secret>,
}

/// Fields of `users[].user` that need what this reader does not do.
const REFUSED_USER: &[&str] = &[
    "exec",
    "auth-provider",
    "username",
    "password",
    "as",
    "as-uid",
    "as-groups",
    "as-user-extra",
];
/// Fields of `clusters[].cluster` that would send the requests another way.
const REFUSED_CLUSTER: &[&str] = &["proxy-url"];

fn refused(what: &str, field: &str) -> String {
    format!(
        "{what}.{field} is not supported by gen --kubeconfig (server, certificate-authority[-data], \
         insecure-skip-tls-verify, tls-server-name, client-certificate[-data], client-key[-data], \
         token and tokenFile are); fetch the documents another way and pass them with --spec"
    )
}

/// Reads the target of `context` (the current context when `None`) from the kubeconfig at `path`.
pub fn read(path: &Path, context: Option<&str>) -> Result<Target, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc = parse(&text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    resolve(&doc, context, base)
}

/// YAML (JSON is YAML too) into a value; a syntax error says where, never what is there.
/// Duplicate keys: the last wins, as Go's kubeconfig loader (and kuber-api's) reads them.
fn parse(text: &str) -> Result<Value, String> {
    let options = kuber_yaml::Options {
        duplicate_keys: kuber_yaml::DuplicateKeys::LastWins,
    };
    kuber_yaml::Document::parse(text, &options)
        .and_then(|doc| doc.deserialize())
        .map_err(|e| {
            format!(
                "not a YAML kubeconfig (line {}, column {})",
                e.line(),
                e.column()
            )
        })
}

fn resolve(doc: &Value, context: Option<&str>, base: &Path) -> Result<Target, String> {
    let name = match context {
        Some(name) => name.to_owned(),
        None => string(doc, "current-context", "the kubeconfig")?
            .filter(|c| !c.is_empty())
            .ok_or("the kubeconfig has no current-context; name one with --context")?,
    };
    let ctx = named(doc, "contexts", &name)?.ok_or_else(|| format!("no context `{name}`"))?;
    let ctx = object(ctx.get("context"), &format!("contexts[{name}].context"))?;
    let cluster_name = string_in(ctx, "cluster", &format!("contexts[{name}].context"))?
        .ok_or_else(|| format!("contexts[{name}].context has no cluster"))?;
    let cluster = named(doc, "clusters", &cluster_name)?.ok_or_else(|| {
        format!("context `{name}` names cluster `{cluster_name}`, which is not in clusters")
    })?;
    let cluster_at = format!("clusters[{cluster_name}].cluster");
    let cluster = object(cluster.get("cluster"), &cluster_at)?;
    let user = match string_in(ctx, "user", &format!("contexts[{name}].context"))? {
        Some(user_name) => {
            let user = named(doc, "users", &user_name)?.ok_or_else(|| {
                format!("context `{name}` names user `{user_name}`, which is not in users")
            })?;
            let at = format!("users[{user_name}].user");
            match user.get("user") {
                // An empty user: no credentials.
                None | Some(Value::Null) => None,
                some => Some((object(some, &at)?, at)),
            }
        }
        None => None,
    };
    let mut target = cluster_target(cluster, &cluster_at, base)?;
    if let Some((user, at)) = user {
        add_credentials(&mut target, user, &at, base)?;
    }
    Ok(target)
}

fn cluster_target(cluster: &Map<String, Value>, at: &str, base: &Path) -> Result<Target, String> {
    if let Some(field) = REFUSED_CLUSTER.iter().find(|f| cluster.contains_key(**f)) {
        return Err(refused(at, field));
    }
    let server = string_in(cluster, "server", at)?.ok_or_else(|| format!("{at} has no server"))?;
    let server = check_server(&server, at)?;
    let ca_pem = bytes(cluster, "certificate-authority", at, base)?.map(|s| s.0);
    let insecure = match cluster.get("insecure-skip-tls-verify") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(format!(
                "{at}.insecure-skip-tls-verify is not true or false"
            ));
        }
    };
    // As client-go: trusting a CA and trusting anything do not go together.
    if insecure && ca_pem.is_some() {
        return Err(format!(
            "{at}: a certificate authority with insecure-skip-tls-verify is not allowed"
        ));
    }
    Ok(Target {
        server,
        ca_pem,
        insecure,
        tls_server_name: string_in(cluster, "tls-server-name", at)?.filter(|s| !s.is_empty()),
        client_cert: None,
        token: None,
    })
}

fn add_credentials(
    target: &mut Target,
    user: &Map<String, Value>,
    at: &str,
    base: &Path,
) -> Result<(), String> {
    if let Some(field) = REFUSED_USER.iter().find(|f| user.contains_key(**f)) {
        return Err(refused(at, field));
    }
    let cert = bytes(user, "client-certificate", at, base)?;
    let key = bytes(user, "client-key", at, base)?;
    target.client_cert = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert.0, key)),
        (None, None) => None,
        (Some(_), None) => return Err(format!("{at} has a client certificate without its key")),
        (None, Some(_)) => return Err(format!("{at} has a client key without its certificate")),
    };
    // As client-go: the file, when there is one, is the token that counts.
    target.token = match string_in(user, "tokenFile", at)?.filter(|f| !f.is_empty()) {
        Some(file) => {
            let path = base.join(file);
            let text = std::fs::read(&path)
                .map_err(|e| format!("{at}.tokenFile {}: {e}", path.display()))?;
            Some(Secret(text.trim_ascii().to_vec()))
        }
        None => string_in(user, "token", at)?
            .filter(|t| !t.is_empty())
            .map(|t| Secret(t.into_bytes())),
    };
    Ok(())
}

/// The server URL, checked: http(s), a host, no credentials, no query.
fn check_server(server: &str, at: &str) -> Result<String, String> {
    let bad = |why: &str| format!("{at}.server: {why}");
    let uri: http::Uri = server.parse().map_err(|_| bad("not a URL"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return Err(bad("not an http or https URL"));
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("credentials in the URL are not supported"));
    }
    if uri.query().is_some() {
        return Err(bad("a query is not supported"));
    }
    Ok(server.trim_end_matches('/').to_owned())
}

/// `FIELD-data` (base64) or `FIELD` (a file): the bytes, if either is set.
fn bytes(
    map: &Map<String, Value>,
    field: &str,
    at: &str,
    base: &Path,
) -> Result<Option<Secret>, String> {
    let data_field = format!("{field}-data");
    if let Some(data) = string_in(map, &data_field, at)?.filter(|d| !d.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| format!("{at}.{data_field} is not base64"))?;
        return Ok(Some(Secret(decoded)));
    }
    match string_in(map, field, at)?.filter(|f| !f.is_empty()) {
        Some(file) => {
            let path: PathBuf = base.join(file);
            let read = std::fs::read(&path)
                .map_err(|e| format!("{at}.{field} {}: {e}", path.display()))?;
            Ok(Some(Secret(read)))
        }
        None => Ok(None),
    }
}

/// The `value` of the element of list `list` whose `name` is `name`.
fn named<'a>(
    doc: &'a Value,
    list: &str,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    let items = match doc.get(list) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{list} is not a list")),
    };
    for (i, item) in items.iter().enumerate() {
        let item = object(Some(item), &format!("{list}[{i}]"))?;
        if item.get("name").and_then(Value::as_str) == Some(name) {
            return Ok(Some(item));
        }
    }
    Ok(None)
}

fn object<'a>(value: Option<&'a Value>, at: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{at} is not a mapping"))
}

fn string(doc: &Value, field: &str, at: &str) -> Result<Option<String>, String> {
    match doc.as_object() {
        Some(map) => string_in(map, field, at),
        None => Err(format!("{at} is not a mapping")),
    }
}

/// A string field; numbers and booleans are taken as their text, as Go's YAML reader does.
fn string_in(map: &Map<String, Value>, field: &str, at: &str) -> Result<Option<String>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(_) => Err(format!("{at}.{field} is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tok-9f8e7d6c5b4a";

    fn doc(yaml: &str) -> Value {
        parse(yaml).unwrap()
    }

    fn config(user: &str, cluster: &str) -> String {
        format!(
            "current-context: a\ncontexts:\n- name: a\n  context: {{cluster: c, user: u}}\n\
             - name: b\n  context: {{cluster: other}}\n\
             clusters:\n- name: c\n  cluster:\n    server: https://c.example:6443/\n{cluster}\
             - name: other\n  cluster: {{server: 'http://127.0.0.1:8080'}}\n\
             users:\n- name: u\n  user:\n{user}"
        )
    }

    #[test]
    fn contexts_pick_the_cluster_and_the_user() {
        let d = doc(&config(&format!("    token: {SECRET}\n"), ""));
        let t = resolve(&d, None, Path::new("/")).unwrap();
        assert_eq!(t.server, "https://c.example:6443");
        assert_eq!(t.token.as_ref().unwrap().0, SECRET.as_bytes());
        assert!(!t.insecure && t.ca_pem.is_none() && t.client_cert.is_none());
        let t = resolve(&d, Some("b"), Path::new("/")).unwrap();
        assert_eq!(
            (t.server.as_str(), t.token.is_none()),
            ("http://127.0.0.1:8080", true)
        );
        let err = resolve(&d, Some("nope"), Path::new("/")).unwrap_err();
        assert_eq!(err, "no context `nope`");
        // Debug shows that a token is there, never what it is.
        assert!(!format!("{t:?}").contains(SECRET));
        let t = resolve(&d, None, Path::new("/")).unwrap();
        assert!(!format!("{t:?}").contains(SECRET), "{t:?}");
    }

    #[test]
    fn files_are_relative_to_the_kubeconfig_and_the_token_file_wins() {
        let dir = std::env::temp_dir().join(format!("kuber-kubeconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), "CA").unwrap();
        std::fs::write(dir.join("c.pem"), "CERT").unwrap();
        std::fs::write(dir.join("k.pem"), "KEY").unwrap();
        std::fs::write(dir.join("token"), "from-file\n").unwrap();
        let user = "    client-certificate: c.pem\n    client-key-data: S0VZ\n    \
                    token: inline\n    tokenFile: token\n";
        let d = doc(&config(user, "    certificate-authority: ca.pem\n"));
        let t = resolve(&d, None, &dir).unwrap();
        assert_eq!(t.ca_pem.as_deref(), Some(&b"CA"[..]));
        let (cert, key) = t.client_cert.as_ref().unwrap();
        assert_eq!((&cert[..], &key.0[..]), (&b"CERT"[..], &b"KEY"[..]));
        assert_eq!(t.token.as_ref().unwrap().0, b"from-file");
        let d = doc(&config("    tokenFile: missing\n", ""));
        let err = resolve(&d, None, &dir).unwrap_err();
        assert!(err.starts_with("users[u].user.tokenFile "), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_it_cannot_do_is_refused_by_the_field_s_name() {
        for (user, field) in [
            ("    exec: {command: aws}\n", "users[u].user.exec"),
            (
                "    auth-provider: {name: gcp}\n",
                "users[u].user.auth-provider",
            ),
            (
                "    username: admin\n    password: hunter2\n",
                "users[u].user.username",
            ),
            ("    as: someone\n", "users[u].user.as"),
        ] {
            let err = resolve(&doc(&config(user, "")), None, Path::new("/")).unwrap_err();
            assert!(
                err.starts_with(&format!("{field} is not supported")),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
        let proxy = "    proxy-url: http://user:pa#ss@proxy:3128\n";
        let err = resolve(&doc(&config("", proxy)), None, Path::new("/")).unwrap_err();
        assert!(
            err.starts_with("clusters[c].cluster.proxy-url is not supported"),
            "{err}"
        );
        assert!(!err.contains("pa#ss"), "{err}");
        let both = "    insecure-skip-tls-verify: true\n    certificate-authority-data: Q0E=\n";
        let err = resolve(&doc(&config("", both)), None, Path::new("/")).unwrap_err();
        assert!(
            err.contains("insecure-skip-tls-verify is not allowed"),
            "{err}"
        );
    }

    #[test]
    fn errors_never_show_a_value() {
        let bad_key =
            format!("    client-certificate-data: Q0VSVA==\n    client-key-data: '{SECRET}!'\n");
        let err = resolve(&doc(&config(&bad_key, "")), None, Path::new("/")).unwrap_err();
        assert_eq!(err, "users[u].user.client-key-data is not base64");
        let text = format!("users:\n- name: u\n  user:\n    token: {SECRET}\n   bad: [\n");
        let err = parse(&text).unwrap_err();
        assert!(err.starts_with("not a YAML kubeconfig"), "{err}");
        assert!(!err.contains(SECRET), "{err}");
        let server = "https://user:pa55word@c.example";
        let d = doc(&config("", "").replace("https://c.example:6443/", server));
        let err = resolve(&d, None, Path::new("/")).unwrap_err();
        assert_eq!(
            err,
            "clusters[c].cluster.server: credentials in the URL are not supported"
        );
    }
}
