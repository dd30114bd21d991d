//! The service-account config under a temp root, and how `infer` chooses.

mod config_support;

use std::path::Path;

use config_support::{TempDir, fixture};
use kuber_api::config::{Auth, Config, Credentials, Env};

const SA: &str = "var/run/secrets/kubernetes.io/serviceaccount";

fn pod_root(namespace: Option<&str>) -> TempDir {
    let root = TempDir::new();
    root.write(&format!("{SA}/token"), "sa-token-SECRET\n");
    root.write(
        &format!("{SA}/ca.crt"),
        "-----BEGIN CERTIFICATE-----\ncGFk\n-----END CERTIFICATE-----\n",
    );
    if let Some(ns) = namespace {
        root.write(&format!("{SA}/namespace"), ns);
    }
    root
}

fn pod_env(host: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KUBERNETES_SERVICE_HOST", host.to_owned()),
        ("KUBERNETES_SERVICE_PORT", "443".to_owned()),
    ]
}

#[tokio::test]
async fn service_account() {
    let root = pod_root(Some("team-ns\n"));
    let config =
        Config::in_cluster_with(&Env::from_vars(pod_env("10.96.0.1")), root.path()).unwrap();
    assert_eq!(config.server, "https://10.96.0.1:443");
    assert_eq!(config.default_namespace, "team-ns");
    assert_eq!(
        config.tls.ca_pem.as_deref(),
        Some(
            std::fs::read(root.join(&format!("{SA}/ca.crt")))
                .unwrap()
                .as_slice()
        )
    );
    match &config.auth {
        Auth::TokenFile(path) => assert_eq!(path, &root.join(&format!("{SA}/token"))),
        other => panic!("{other:?}"),
    }
    let header = Credentials::from_config(&config)
        .authorization()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header.to_str().unwrap(), "Bearer sa-token-SECRET");
}

#[test]
fn ipv6_host_gets_brackets() {
    let root = pod_root(None);
    let config =
        Config::in_cluster_with(&Env::from_vars(pod_env("fd00:10:96::1")), root.path()).unwrap();
    assert_eq!(config.server, "https://[fd00:10:96::1]:443");
    assert_eq!(config.default_namespace, "default");
}

#[test]
fn pod_namespace_variable_wins() {
    let root = pod_root(Some("from-file"));
    let mut env = pod_env("10.96.0.1");
    env.push(("POD_NAMESPACE", "from-env".into()));
    let config = Config::in_cluster_with(&Env::from_vars(env), root.path()).unwrap();
    assert_eq!(config.default_namespace, "from-env");
}

#[test]
fn missing_ca_falls_back_to_system_roots() {
    let root = TempDir::new();
    root.write(&format!("{SA}/token"), "t");
    let config =
        Config::in_cluster_with(&Env::from_vars(pod_env("10.96.0.1")), root.path()).unwrap();
    assert_eq!(config.tls.ca_pem, None);
}

#[test]
fn errors() {
    let root = TempDir::new();
    let err = Config::in_cluster_with(
        &Env::from_vars([("KUBERNETES_SERVICE_HOST", "10.0.0.1")]),
        root.path(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set (is this a pod?)"
    );

    let env = Env::from_vars([
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("KUBERNETES_SERVICE_PORT", "https"),
    ]);
    let err = Config::in_cluster_with(&env, root.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "in-cluster config: KUBERNETES_SERVICE_PORT \"https\" is not a port number"
    );

    let err =
        Config::in_cluster_with(&Env::from_vars(pod_env("10.0.0.1")), root.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "token file {}: cannot read: no such file",
            root.join(&format!("{SA}/token")).display()
        )
    );
}

#[test]
fn infer_prefers_kubeconfig() {
    // As kubectl and kube-rs do; more in config_precedence.rs.
    let root = pod_root(None);
    let mut env = pod_env("10.96.0.1");
    env.push(("KUBECONFIG", fixture("auth.yaml").display().to_string()));
    let config = Config::infer_with(&Env::from_vars(env), root.path()).unwrap();
    assert_eq!(config.server, "https://plain.test:6443");
}

#[test]
fn infer_uses_kubeconfig_when_in_cluster_is_unusable() {
    let empty_root = TempDir::new();
    let mut env = pod_env("10.96.0.1");
    env.push(("KUBECONFIG", fixture("auth.yaml").display().to_string()));
    let config = Config::infer_with(&Env::from_vars(env), empty_root.path()).unwrap();
    assert_eq!(config.server, "https://plain.test:6443");

    // Without a kubeconfig the in-cluster error is the answer.
    let env = Env::from_vars(pod_env("10.96.0.1"));
    let err = Config::infer_with(&env, empty_root.path()).unwrap_err();
    assert!(err.to_string().starts_with("token file "), "{err}");
}

#[test]
fn infer_uses_kubeconfig() {
    let env = Env::from_vars([(
        "KUBECONFIG",
        fixture("merge/third.json").display().to_string(),
    )]);
    let config = Config::infer_with(&env, Path::new("/nonexistent")).unwrap();
    assert_eq!(config.server, "https://third.test");
}

#[test]
fn infer_falls_back_to_kubectl_proxy() {
    let home = TempDir::new();
    let env = Env::from_vars([("HOME", home.path().display().to_string())]);
    let config = Config::infer_with(&env, Path::new("/nonexistent")).unwrap();
    assert_eq!(config.server, "http://localhost:8001");
    assert!(matches!(config.auth, Auth::None));
    assert_eq!(config.default_namespace, "default");

    // An empty kubeconfig is as good as none.
    home.write(".kube/config", "");
    assert_eq!(
        Config::infer_with(&env, Path::new("/nonexistent"))
            .unwrap()
            .server,
        "http://localhost:8001"
    );
}

#[test]
fn infer_reports_a_broken_kubeconfig() {
    let env = Env::from_vars([(
        "KUBECONFIG",
        fixture("errors/missing-cluster.yaml").display().to_string(),
    )]);
    let err = Config::infer_with(&env, Path::new("/nonexistent")).unwrap_err();
    assert!(
        err.to_string()
            .contains("names cluster \"c2\", which is not defined"),
        "{err}"
    );
}
