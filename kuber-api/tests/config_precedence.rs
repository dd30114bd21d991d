//! Which config and which credential win when several are present: kubeconfig before the pod's
//! service account, a token file before an inline token, static credentials before an exec
//! plugin; and what a schemeless `server:` means.

mod config_support;

use std::path::Path;

use config_support::{TempDir, fixture};
use kuber_api::config::{Auth, Config, ConfigError, Credentials, Env, Kubeconfig};

const SA: &str = "var/run/secrets/kubernetes.io/serviceaccount";

/// A pod's root folder with a mounted service-account token.
fn pod_root() -> TempDir {
    let root = TempDir::new();
    root.write(&format!("{SA}/token"), "sa-token-SECRET\n");
    root
}

fn pod_env(extra: &[(&str, String)]) -> Env {
    let mut vars = vec![
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1".to_owned()),
        ("KUBERNETES_SERVICE_PORT", "443".to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    Env::from_vars(vars)
}

fn from_yaml(yaml: &str) -> Config {
    let k = Kubeconfig::from_yaml(yaml, "test.yaml").unwrap();
    Config::from_kubeconfig_with(&k, None, &Env::from_vars(Vec::<(String, String)>::new())).unwrap()
}

/// A kubeconfig whose only user is `user` (YAML flow mapping), on `server`.
fn with_user(server: &str, user: &str) -> String {
    format!(
        "current-context: c\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n\
         clusters: [{{name: k, cluster: {{server: '{server}'}}}}]\n\
         users: [{{name: u, user: {user}}}]\n"
    )
}

#[test]
fn infer_prefers_kubeconfig_variable_over_in_cluster() {
    let root = pod_root();
    let env = pod_env(&[("KUBECONFIG", fixture("auth.yaml").display().to_string())]);
    let config = Config::infer_with(&env, root.path()).unwrap();
    assert_eq!(config.server, "https://plain.test:6443");
}

#[test]
fn infer_prefers_home_kubeconfig_over_in_cluster() {
    let root = pod_root();
    let home = TempDir::new();
    home.write(
        ".kube/config",
        std::fs::read(fixture("merge/third.json")).unwrap(),
    );
    let env = pod_env(&[("HOME", home.path().display().to_string())]);
    let config = Config::infer_with(&env, root.path()).unwrap();
    assert_eq!(config.server, "https://third.test");
}

#[test]
fn infer_uses_in_cluster_without_kubeconfig() {
    let root = pod_root();
    let home = TempDir::new();
    let env = pod_env(&[("HOME", home.path().display().to_string())]);
    let config = Config::infer_with(&env, root.path()).unwrap();
    assert_eq!(config.server, "https://10.96.0.1:443");
    assert!(
        matches!(config.auth, Auth::TokenFile(_)),
        "{:?}",
        config.auth
    );

    // An empty kubeconfig is as good as none.
    home.write(".kube/config", "");
    let config = Config::infer_with(&env, root.path()).unwrap();
    assert_eq!(config.server, "https://10.96.0.1:443");
}

#[test]
fn kubeconfig_variable_of_missing_files_is_an_error() {
    let dir = TempDir::new();
    let (a, b) = (dir.join("a.yaml"), dir.join("b.yaml"));
    let sep = if cfg!(windows) { ";" } else { ":" };
    let list = format!("{}{sep}{}", a.display(), b.display());
    let expected = format!(
        "KUBECONFIG lists only files that do not exist: {}, {}",
        a.display(),
        b.display()
    );

    // Not the kubectl proxy default...
    let env = Env::from_vars([("KUBECONFIG", list.clone())]);
    let err = Config::infer_with(&env, Path::new("/nonexistent")).unwrap_err();
    assert!(
        matches!(&err, ConfigError::KubeconfigFilesMissing { files } if files == &[a.clone(), b.clone()]),
        "{err:?}"
    );
    assert_eq!(err.to_string(), expected);
    assert!(!err.is_not_found());

    // ...and not the service account either: the caller named a config.
    let root = pod_root();
    let err = Config::infer_with(&pod_env(&[("KUBECONFIG", list)]), root.path()).unwrap_err();
    assert_eq!(err.to_string(), expected);
}

#[tokio::test]
async fn token_file_wins_over_inline_token_which_is_the_fallback() {
    let dir = TempDir::new();
    let file = dir.write("token", "file-token\n");
    let config = from_yaml(&with_user(
        "https://k.test",
        &format!("{{token: inline-token, tokenFile: '{}'}}", file.display()),
    ));
    let credentials = Credentials::from_config(&config);
    let header = |c: Credentials| async move {
        c.authorization()
            .await
            .unwrap()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header(credentials.clone()).await, "Bearer file-token");

    // The file rotates: its new content is used.
    std::fs::write(&file, "rotated-token-longer\n").unwrap();
    assert_eq!(
        header(credentials.clone()).await,
        "Bearer rotated-token-longer"
    );

    // Unreadable from the start: the inline token.
    let missing = dir.join("missing");
    let config = from_yaml(&with_user(
        "https://k.test",
        &format!(
            "{{token: inline-token, tokenFile: '{}'}}",
            missing.display()
        ),
    ));
    assert_eq!(
        header(Credentials::from_config(&config)).await,
        "Bearer inline-token"
    );
}

#[test]
fn static_credentials_win_over_exec() {
    let exec = "exec: {apiVersion: client.authentication.k8s.io/v1, command: never-run}";
    let dir = TempDir::new();
    let file = dir.write("token", "t");
    let cert = fixture("certs/client.pem");
    let key = fixture("certs/client.key");

    let config = from_yaml(&with_user(
        "https://k.test",
        &format!("{{token: tok, {exec}}}"),
    ));
    assert!(
        matches!(&config.auth, Auth::Bearer(t) if t.expose() == "tok"),
        "{:?}",
        config.auth
    );

    let config = from_yaml(&with_user(
        "https://k.test",
        &format!("{{tokenFile: '{}', {exec}}}", file.display()),
    ));
    assert!(
        matches!(&config.auth, Auth::TokenFile(p) if p == &file),
        "{:?}",
        config.auth
    );

    let config = from_yaml(&with_user(
        "https://k.test",
        &format!("{{username: u, password: p, {exec}}}"),
    ));
    assert!(
        matches!(&config.auth, Auth::Basic { .. }),
        "{:?}",
        config.auth
    );

    let config = from_yaml(&with_user(
        "https://k.test",
        &format!(
            "{{client-certificate: '{}', client-key: '{}', {exec}}}",
            cert.display(),
            key.display()
        ),
    ));
    assert!(matches!(config.auth, Auth::None), "{:?}", config.auth);
    assert!(config.tls.client_cert_pem.is_some());

    // Alone, exec is used.
    let config = from_yaml(&with_user("https://k.test", &format!("{{{exec}}}")));
    assert!(matches!(config.auth, Auth::Exec(_)), "{:?}", config.auth);
}

#[test]
fn token_and_basic_together_are_still_refused() {
    let k = Kubeconfig::from_yaml(
        &with_user(
            "https://k.test",
            "{tokenFile: /t, username: u, password: p}",
        ),
        "test.yaml",
    )
    .unwrap();
    let err = Config::from_kubeconfig_with(&k, None, &Env::from_vars([("X", "y")])).unwrap_err();
    assert!(
        err.to_string()
            .contains("more than one authentication method is set (token, username/password)"),
        "{err}"
    );
}

#[test]
fn schemeless_server_is_https() {
    for (server, expected) in [
        ("10.0.0.1:6443", "https://10.0.0.1:6443"),
        ("example.com", "https://example.com"),
        ("localhost:8443", "https://localhost:8443"),
        ("[fd00::1]:6443", "https://[fd00::1]:6443"),
        // An explicit scheme is kept.
        ("http://example.com:8080", "http://example.com:8080"),
    ] {
        let config = from_yaml(&with_user(server, "{token: t}"));
        assert_eq!(config.server, expected, "{server}");
    }
}
