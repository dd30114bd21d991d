//! Tokens, passwords and keys never show in `Debug` output or error messages.

mod config_support;

use config_support::fixture;
use kuber_api::config::{
    Auth, Config, Credentials, Env, ExecConfig, Impersonate, Kubeconfig, Secret,
};

/// Every secret the fixtures and this test hold carries one of these.
const SECRET_MARKERS: &[&str] = &[
    "SECRET",
    "s3cret",
    // client-key-data in auth.yaml, and the key inside it.
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tClMwVlpMVVJCVkVFdFUwVkRVa1ZVTFRjMwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==",
    "S0VZLURBVEEtU0VDUkVULTc3",
    "BEGIN PRIVATE KEY",
];

fn assert_clean(text: &str) {
    for marker in SECRET_MARKERS {
        assert!(!text.contains(marker), "{marker:?} leaked in:\n{text}");
    }
}

fn no_env() -> Env {
    Env::from_vars(Vec::<(String, String)>::new())
}

/// A config with every field set, credentials included.
fn full_config() -> Config {
    let kubeconfig = Kubeconfig::from_file(fixture("auth.yaml")).unwrap();
    let mut config =
        Config::from_kubeconfig_with(&kubeconfig, Some("cert-data"), &no_env()).unwrap();
    assert!(config.tls.client_key_pem.is_some());
    config.tls.ca_pem =
        Some(b"-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n".to_vec());
    config.tls.server_name = Some("api.internal".into());
    config.server = "https://admin:server-pass-SECRET@api.test:6443".into();
    config.proxy = Some("http://proxyuser:proxy-pass-SECRET@proxy.corp:3128".into());
    config.impersonate = Some(Impersonate {
        user: Some("jane".into()),
        uid: Some("1".into()),
        groups: vec!["g".into()],
        extra: vec![("k".into(), vec!["v".into()])],
    });
    config.auth = Auth::Basic {
        username: "admin".into(),
        password: Secret::new("basic-s3cret".into()),
    };
    config
}

fn exec_auth() -> Auth {
    Auth::Exec(ExecConfig {
        api_version: "client.authentication.k8s.io/v1".into(),
        command: "plugin".into(),
        args: vec!["--flag".into(), "--client-secret=arg-SECRET".into()],
        env: vec![("API_KEY".into(), "env-SECRET".into())],
        base_dir: None,
        provide_cluster_info: true,
        interactive_mode: None,
        install_hint: None,
        cluster_config: Some(serde_json::json!({"apiKey": "ext-SECRET"})),
    })
}

#[test]
fn config_debug_hides_secrets() {
    let config = full_config();
    let text = format!("{config:?} {config:#?}");
    assert_clean(&text);
    // The rest is still there to debug with.
    assert!(text.contains("api.test:6443"), "{text}");
    assert!(text.contains("proxy.corp:3128"), "{text}");
    assert!(text.contains("admin"), "{text}");
    assert!(text.contains("jane"), "{text}");
}

#[test]
fn every_auth_debug_hides_secrets() {
    let auths = [
        Auth::Bearer(Secret::new("bearer-SECRET".into())),
        Auth::Basic {
            username: "u".into(),
            password: Secret::new("pw-SECRET".into()),
        },
        Auth::TokenFile("/var/run/token".into()),
        exec_auth(),
    ];
    for auth in auths {
        let mut config = Config::new("https://api.test");
        config.auth = auth;
        assert_clean(&format!("{config:?}"));
        let credentials = Credentials::from_config(&config);
        assert_clean(&format!("{credentials:?} {credentials:#?}"));
    }
}

#[test]
fn kubeconfig_debug_hides_secrets() {
    for file in ["auth.yaml", "errors/auth-provider.yaml", "merge/third.json"] {
        let kubeconfig = Kubeconfig::from_file(fixture(file)).unwrap();
        assert_clean(&format!("{kubeconfig:?}"));
    }
}

#[test]
fn exec_args_and_env_values_are_redacted_everywhere() {
    // OIDC plugins take client secrets as arguments (client-go redacts them too).
    let yaml = "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n\
        clusters: [{name: k, cluster: {server: 'https://k.test', \
        proxy-url: 'http://proxyuser:proxy-pass-SECRET@proxy.corp:3128'}}]\n\
        users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, \
        command: kubelogin, args: [get-token, --oidc-client-secret=arg-SECRET], \
        env: [{name: TOKEN, value: env-SECRET}]}}}]\n";
    let kubeconfig = Kubeconfig::from_yaml(yaml, "test.yaml").unwrap();
    let text = format!("{kubeconfig:?} {kubeconfig:#?}");
    assert_clean(&text);
    assert!(text.contains("kubelogin"), "{text}");
    assert!(text.contains("TOKEN"), "{text}");
    assert!(text.contains("proxy.corp:3128"), "{text}");

    let config = Config::from_kubeconfig_with(&kubeconfig, None, &no_env()).unwrap();
    let text = format!("{config:?} {config:#?}");
    assert_clean(&text);
    assert!(text.contains("kubelogin"), "{text}");
    let credentials = Credentials::from_config(&config);
    assert_clean(&format!("{credentials:?} {credentials:#?}"));
}

#[tokio::test]
async fn headers_are_sensitive() {
    let credentials = Credentials::new(&Auth::Bearer(Secret::new("bearer-SECRET".into())), None);
    let header = credentials.authorization().await.unwrap().unwrap();
    assert!(header.is_sensitive());
    assert_clean(&format!("{header:?}"));
}

#[test]
fn errors_hide_secrets() {
    let env = no_env();
    let errors = [
        Kubeconfig::from_file(fixture("errors/bad-yaml.yaml")).unwrap_err(),
        Kubeconfig::from_file(fixture("errors/bad-type.yaml")).unwrap_err(),
        Config::from_kubeconfig_with(
            &Kubeconfig::from_file(fixture("errors/auth-provider.yaml")).unwrap(),
            None,
            &env,
        )
        .unwrap_err(),
        Config::from_kubeconfig_with(
            &Kubeconfig::from_file(fixture("errors/missing-cluster.yaml")).unwrap(),
            None,
            &env,
        )
        .unwrap_err(),
    ];
    for err in errors {
        assert_clean(&format!("{err} {err:?}"));
    }
}

/// Proxy URLs that do not parse, each hiding `s3cret` in its password: unencoded `#`, `/`, `?`,
/// a space, `"`, a bad escape, no scheme; and forms Go reads with the password's end in the
/// host, path or fragment (`user:12#s3cret@…` is host `user`, port 12).
const MALFORMED_PROXIES: &[&str] = &[
    "http://user:s3cret#pw@proxy.corp:3128",
    "http://user:s3cret/pw@proxy.corp:3128",
    "http://user:s3cret?pw@proxy.corp:3128",
    "http://user:s3cret pw@proxy.corp:3128",
    "https://user:s3cret\"pw@proxy.corp",
    "socks5://user:s3cret%zz@proxy.corp:1080",
    "user:s3cret#pw@proxy.corp:3128",
    "http://user:12#s3cret@proxy.corp:3128",
    "http://user:12/s3cret@proxy.corp:3128",
];

#[test]
fn malformed_proxy_urls_are_refused_without_showing_the_password() {
    for proxy in MALFORMED_PROXIES {
        // A kubeconfig's proxy-url: refused, naming the key; Debug shows no password.
        let yaml = format!(
            "current-context: c\ncontexts: [{{name: c, context: {{cluster: bad}}}}]\n\
             clusters: [{{name: good, cluster: {{server: 'https://k.test'}}}}, \
             {{name: bad, cluster: {{server: 'https://k.test', proxy-url: '{proxy}'}}}}]\n"
        );
        let kubeconfig = Kubeconfig::from_yaml(&yaml, "proxy.yaml").unwrap();
        assert_clean(&format!("{kubeconfig:?} {kubeconfig:#?}"));
        let err = Config::from_kubeconfig_with(&kubeconfig, None, &no_env()).unwrap_err();
        let text = format!("{err} {err:?}");
        assert_clean(&text);
        assert!(
            text.contains("clusters[1].cluster.proxy-url"),
            "{proxy}: {text}"
        );

        // The same from HTTPS_PROXY: refused, naming the variable.
        let yaml = "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n\
                    clusters: [{name: k, cluster: {server: 'https://k.test'}}]\n";
        let kubeconfig = Kubeconfig::from_yaml(yaml, "env.yaml").unwrap();
        let env = Env::from_vars([("HTTPS_PROXY", *proxy)]);
        assert_clean(&format!("{env:?}"));
        let err = Config::from_kubeconfig_with(&kubeconfig, None, &env).unwrap_err();
        let text = format!("{err} {err:?}");
        assert_clean(&text);
        assert!(text.contains("HTTPS_PROXY"), "{proxy}: {text}");

        // Set by hand: Debug of the config, its credentials and the client's refusal are clean.
        let mut config = Config::new("https://k.test");
        config.proxy = Some((*proxy).into());
        config.auth = exec_auth();
        assert_clean(&format!("{config:?} {config:#?}"));
        let credentials = Credentials::from_config(&config);
        assert_clean(&format!("{credentials:?}"));
        let err = kuber_api::Client::new(config).unwrap_err();
        let text = format!("{err} {err:?}");
        assert_clean(&text);
        assert!(text.contains("proxy"), "{proxy}: {text}");
    }
}

#[test]
fn a_server_url_that_does_not_parse_shows_only_its_scheme() {
    for server in [
        "https://admin:s3cret#pw@api.test:6443",
        "https://admin:12/s3cret@api.test:6443",
    ] {
        let config = Config::new(server);
        let text = format!("{config:?}");
        assert_clean(&text);
        assert!(text.contains("https://"), "{text}");
        if let Err(err) = kuber_api::Client::new(config.clone()) {
            assert_clean(&format!("{err} {err:?}"));
        }
        if let Ok(client) = kuber_api::Client::new(config) {
            assert_clean(&format!("{client:?}"));
        }
    }
}
