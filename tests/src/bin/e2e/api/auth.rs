//! Who the server sees and how the connection is made: client certificates over HTTP/2,
//! forbidden token users, impersonation, exec plugins, `tls-server-name` and a wrong CA.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kuber_api::config::{Config, Impersonate, Kubeconfig};
use kuber_api::{
    AuthenticationV1Api, Client, CoreV1Api, Error, ListParams, OPERATIONS, Request, WriteParams,
};
use kuber_models::api::authentication::v1::{SelfSubjectReview, UserInfo};
use kuber_tests::cluster::{ADMIN_USER, RESTRICTED_USER, TLS_SERVER_NAME, base64};
use serde_json::json;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "auth/client-certificate-over-http2",
            client_certificate_http2
        ),
        case!("auth/restricted-token-is-forbidden", restricted_forbidden),
        case!("auth/impersonation-user-groups-uid-extra", impersonation),
        case!("auth/exec-plugin-token", exec_plugin),
        case!("auth/tls-server-name", tls_server_name),
        case!("auth/wrong-ca-fails-clearly", wrong_ca),
    ]
}

/// A bound on calls that must fail fast (a TLS failure must not hang).
const QUICK: Duration = Duration::from_secs(30);

/// Who the server says `client` is.
async fn whoami(client: &Client, who: &str) -> Result<UserInfo, String> {
    let review = AuthenticationV1Api::new(client.clone())
        .create_self_subject_review(&SelfSubjectReview::default(), &WriteParams::default())
        .await
        .context(format!("create SelfSubjectReview as {who}"))?;
    review
        .status
        .and_then(|s| s.user_info)
        .ok_or_else(|| format!("SelfSubjectReview as {who}: no status.userInfo"))
}

/// The admin's certificate works, over HTTP/2 (ALPN), and names the admin in system:masters.
async fn client_certificate_http2(e2e: &E2e) -> Outcome {
    let op = OPERATIONS
        .iter()
        .find(|o| o.id == "getCodeVersion")
        .ok_or("no getCodeVersion operation")?;
    let response = e2e
        .admin
        .send(Request::at(op, "/version", &[]))
        .await
        .context("send GET /version")?;
    ensure(response.version() == hyper::Version::HTTP_2, || {
        format!("negotiated {:?}, expected HTTP/2", response.version())
    })?;
    ensure(response.status().as_u16() == 200, || {
        format!("GET /version answered {}", response.status())
    })?;
    let user = whoami(&e2e.admin, "admin").await?;
    ensure(user.username.as_deref() == Some(ADMIN_USER), || {
        format!("admin is {:?}", user.username)
    })?;
    let groups = user.groups.unwrap_or_default();
    ensure(
        groups.iter().any(|g| g == "system:masters")
            && groups.iter().any(|g| g == "system:authenticated"),
        || format!("admin groups {groups:?}"),
    )
}

/// The restricted user may authenticate but do nothing else: 403, with the server's Status.
async fn restricted_forbidden(e2e: &E2e) -> Outcome {
    let user = whoami(&e2e.restricted, "restricted").await?;
    ensure(
        user.username.as_deref() == Some(RESTRICTED_USER)
            && user.uid.as_deref() == Some("kuber-restricted-uid"),
        || format!("restricted user is {user:?}"),
    )?;
    let ns = e2e.namespace("auth-forbidden").await?;
    let result = CoreV1Api::new(e2e.restricted.clone())
        .list_namespaced_config_map(&ns, &ListParams::default())
        .await;
    let err = match result {
        Ok(list) => {
            return Err(format!(
                "the restricted user listed {} configmaps",
                list.items.len()
            ));
        }
        Err(e) => e,
    };
    ensure(err.is_forbidden(), || format!("expected 403, got {err}"))?;
    ensure(err.reason() == Some("Forbidden"), || {
        format!("reason {:?}", err.reason())
    })?;
    let api = err.api().ok_or("not an API error")?;
    let status = api
        .status
        .as_ref()
        .ok_or("the 403 body was not decoded as a Status")?;
    ensure(
        status.code == Some(403) && status.status.as_deref() == Some("Failure"),
        || format!("Status {status:?}"),
    )?;
    let details = status.details.as_ref().ok_or("Status without details")?;
    ensure(details.kind.as_deref() == Some("configmaps"), || {
        format!("details {details:?}")
    })?;
    let message = status.message.as_deref().unwrap_or_default();
    ensure(
        message.contains(RESTRICTED_USER) && message.contains(&ns),
        || format!("message {message:?} names neither the user nor the namespace"),
    )?;
    // Writes are refused the same way.
    let write = CoreV1Api::new(e2e.restricted.clone())
        .create_namespaced_config_map(&ns, &Default::default(), &WriteParams::default())
        .await;
    ensure(matches!(&write, Err(e) if e.is_forbidden()), || {
        format!("create as the restricted user: {:?}", write.err())
    })?;
    CoreV1Api::new(e2e.admin.clone())
        .delete_namespace(&ns, None, &Default::default())
        .await
        .map(drop)
        .context(format!("delete namespace {ns}"))
}

/// The admin impersonates a user with groups, uid and extra; the server sees exactly those.
async fn impersonation(e2e: &E2e) -> Outcome {
    let mut config = e2e.cluster.admin_config().context("admin config")?;
    config.impersonate = Some(Impersonate {
        user: Some("jane@kuber.example".into()),
        uid: Some("uid-4711".into()),
        groups: vec!["kuber-devs".into(), "kuber-ops".into()],
        extra: vec![
            (
                "scopes.kuber.example/team".into(),
                vec!["a".into(), "b c".into()],
            ),
            ("reason".into(), vec!["e2e".into()]),
        ],
    });
    let client = Client::new(config).context("client")?;
    let user = whoami(&client, "impersonated jane").await?;
    ensure(
        user.username.as_deref() == Some("jane@kuber.example"),
        || format!("username {:?}", user.username),
    )?;
    ensure(user.uid.as_deref() == Some("uid-4711"), || {
        format!("uid {:?}", user.uid)
    })?;
    let groups = user.groups.clone().unwrap_or_default();
    ensure(
        groups == ["kuber-devs", "kuber-ops", "system:authenticated"],
        || format!("groups {groups:?}"),
    )?;
    let extra = user.extra.clone().unwrap_or_default();
    let expected = [
        ("reason".to_owned(), vec!["e2e".to_owned()]),
        (
            "scopes.kuber.example/team".to_owned(),
            vec!["a".to_owned(), "b c".to_owned()],
        ),
    ]
    .into_iter()
    .collect();
    ensure(extra == expected, || format!("extra {extra:?}"))
}

/// A fresh private folder for files a case writes.
fn scratch_dir(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("kuber-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).context(format!("create {}", dir.display()))?;
    Ok(dir)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).context(format!("write {}", path.display()))
}

/// A kubeconfig for the cluster with `cluster` fields added and `user` as the user.
fn kubeconfig(
    e2e: &E2e,
    server: &str,
    cluster: serde_json::Value,
    user: serde_json::Value,
) -> String {
    let mut cluster_fields = json!({
        "server": server,
        "certificate-authority-data": base64(e2e.cluster.ca_pem.as_bytes()),
    });
    if let (Some(fields), Some(extra)) = (cluster_fields.as_object_mut(), cluster.as_object()) {
        fields.extend(extra.clone());
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": cluster_fields}],
        "users": [{"name": "e2e", "user": user}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e"}}],
        "current-context": "e2e",
    })
    .to_string()
}

fn client_from(path: &Path) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::from_file(path).context(format!("read {}", path.display()))?;
    let config = Config::from_kubeconfig(&kubeconfig, None).context("config from kubeconfig")?;
    Client::new(config).context("client from kubeconfig")
}

/// An exec plugin (relative command, args, env) hands out the restricted user's token.
async fn exec_plugin(e2e: &E2e) -> Outcome {
    let dir = scratch_dir("exec")?;
    let script = "#!/bin/sh\n\
        # Records what it was given, then hands out the token.\n\
        printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/exec-info.json\"\n\
        printf '%s %s' \"$1\" \"$KUBER_E2E_FLAVOUR\" > \"$(dirname \"$0\")/exec-args.txt\"\n\
        printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
        \"status\":{\"token\":\"%s\"}}\\n' \"$KUBER_E2E_TOKEN\"\n";
    let plugin = dir.join("token-plugin.sh");
    write(&plugin, script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o700))
            .context("chmod the plugin")?;
    }
    let path = dir.join("kubeconfig");
    let text = kubeconfig(
        e2e,
        &e2e.cluster.server,
        json!({}),
        json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "./token-plugin.sh",
            "args": ["--flag-from-kubeconfig"],
            "env": [
                {"name": "KUBER_E2E_TOKEN", "value": e2e.cluster.restricted_token},
                {"name": "KUBER_E2E_FLAVOUR", "value": "vanilla"},
            ],
            "interactiveMode": "Never",
        }}),
    );
    write(&path, &text)?;
    let client = client_from(&path)?;
    let user = whoami(&client, "exec plugin user").await?;
    ensure(user.username.as_deref() == Some(RESTRICTED_USER), || {
        format!("the exec plugin's token is user {:?}", user.username)
    })?;
    let args = std::fs::read_to_string(dir.join("exec-args.txt")).context("read exec-args.txt")?;
    ensure(args == "--flag-from-kubeconfig vanilla", || {
        format!("the plugin got args/env {args:?}")
    })?;
    let info = std::fs::read_to_string(dir.join("exec-info.json")).context("read exec-info")?;
    let info: serde_json::Value =
        serde_json::from_str(&info).context(format!("KUBERNETES_EXEC_INFO {info:?}"))?;
    ensure(
        info["apiVersion"] == "client.authentication.k8s.io/v1"
            && info["kind"] == "ExecCredential"
            && info["spec"]["interactive"] == false,
        || format!("KUBERNETES_EXEC_INFO {info}"),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Whether `e` (or its message) is a TLS failure that says what is wrong with the certificate.
fn is_clear_tls_error(e: &Error, words: &[&str]) -> bool {
    let text = e.to_string().to_lowercase();
    matches!(e, Error::Tls { .. }) && words.iter().any(|w| text.contains(w))
}

/// `tls-server-name` is the name the certificate is checked against: the certificate's own
/// name works, another name fails with a TLS error about the name.
async fn tls_server_name(e2e: &E2e) -> Outcome {
    let dir = scratch_dir("tls-name")?;
    let admin = json!({
        "client-certificate-data": base64(e2e.cluster.admin_identity.cert.as_bytes()),
        "client-key-data": base64(e2e.cluster.admin_identity.key.as_bytes()),
    });
    let good = dir.join("good");
    write(
        &good,
        &kubeconfig(
            e2e,
            &e2e.cluster.server,
            json!({"tls-server-name": TLS_SERVER_NAME}),
            admin.clone(),
        ),
    )?;
    let client = client_from(&good)?;
    let user = whoami(
        &client,
        &format!("admin via tls-server-name {TLS_SERVER_NAME}"),
    )
    .await?;
    ensure(user.username.as_deref() == Some(ADMIN_USER), || {
        format!("user {:?}", user.username)
    })?;

    let bad = dir.join("bad");
    write(
        &bad,
        &kubeconfig(
            e2e,
            &e2e.cluster.server,
            json!({"tls-server-name": "wrong.test"}),
            admin,
        ),
    )?;
    let client = client_from(&bad)?;
    let result = tokio::time::timeout(QUICK, whoami_raw(&client)).await;
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Err(_) => Err(format!(
            "tls-server-name wrong.test: no answer within {QUICK:?}"
        )),
        Ok(Ok(_)) => Err("tls-server-name wrong.test was accepted".into()),
        Ok(Err(e)) => {
            ensure(
                is_clear_tls_error(&e, &["name", "wrong.test", "notvalidforname"]),
                || format!("tls-server-name wrong.test: unclear error: {e} ({e:?})"),
            )?;
            e2e.report(format!("auth: tls-server-name wrong.test fails with: {e}"));
            Ok(())
        }
    }
}

/// The SelfSubjectReview call with its error kept typed.
async fn whoami_raw(client: &Client) -> Result<SelfSubjectReview, Error> {
    AuthenticationV1Api::new(client.clone())
        .create_self_subject_review(&SelfSubjectReview::default(), &WriteParams::default())
        .await
}

/// A CA that did not sign the server's certificate: a prompt TLS error about the certificate.
async fn wrong_ca(e2e: &E2e) -> Outcome {
    let ca = fresh_ca()?;
    let mut config = e2e.cluster.admin_config().context("admin config")?;
    config.tls.ca_pem = Some(ca.into_bytes());
    let client = Client::new(config).context("client")?;
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(QUICK, whoami_raw(&client)).await;
    match result {
        Err(_) => Err(format!("a wrong CA: no answer within {QUICK:?}")),
        Ok(Ok(_)) => Err("a server certificate from another CA was accepted".into()),
        Ok(Err(e)) => {
            ensure(
                is_clear_tls_error(&e, &["not signed by a trusted ca"]),
                || format!("a wrong CA: unclear error: {e} ({e:?})"),
            )?;
            // TLS failures are not retried: the answer comes at once.
            ensure(started.elapsed() < Duration::from_secs(5), || {
                format!("a wrong CA took {:?} to fail", started.elapsed())
            })?;
            e2e.report(format!("auth: a wrong CA fails with: {e}"));
            Ok(())
        }
    }
}

/// A self-signed CA certificate no one else uses.
fn fresh_ca() -> Result<String, String> {
    let ca = kuber_testserver::Ca::new("kuber-e2e-other-ca").map_err(|e| e.to_string())?;
    Ok(ca.pem().to_owned())
}
