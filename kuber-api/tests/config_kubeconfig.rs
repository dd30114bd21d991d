//! Kubeconfig loading as kubectl does it: merging, relative paths, contexts, every kind of user,
//! and errors that name the file and key.

mod config_support;

use std::path::{Path, PathBuf};

use config_support::{TempDir, fixture};
use kuber_api::config::{Auth, Config, ConfigError, Env, Impersonate, Kubeconfig};

/// No proxy variables, so results do not depend on the machine.
fn no_env() -> Env {
    Env::from_vars(Vec::<(String, String)>::new())
}

fn config(kubeconfig: &Kubeconfig, context: Option<&str>) -> Config {
    Config::from_kubeconfig_with(kubeconfig, context, &no_env()).unwrap()
}

fn auth_yaml() -> Kubeconfig {
    Kubeconfig::from_file(fixture("auth.yaml")).unwrap()
}

fn merged(files: &[PathBuf]) -> Kubeconfig {
    Kubeconfig::from_files(files).unwrap()
}

fn first() -> PathBuf {
    fixture("merge/first.yaml")
}
fn second() -> PathBuf {
    fixture("merge/other/second.yaml")
}
fn third() -> PathBuf {
    fixture("merge/third.json")
}

fn err_string(path: &Path, context: Option<&str>) -> String {
    let kubeconfig = match Kubeconfig::from_file(path) {
        Ok(k) => k,
        Err(e) => return e.to_string(),
    };
    Config::from_kubeconfig_with(&kubeconfig, context, &no_env())
        .unwrap_err()
        .to_string()
}

#[test]
fn first_file_wins_each_name_and_current_context() {
    let k = merged(&[
        first(),
        fixture("merge/does-not-exist.yaml"),
        second(),
        third(),
    ]);
    assert_eq!(k.files, vec![first(), second(), third()]);
    assert_eq!(k.current_context.as_deref(), Some("dev"));
    assert_eq!(k.current_context_origin, Some(first()));

    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        k.clusters
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        names(vec!["shared", "first-only", "second-only", "third-only"])
    );
    assert_eq!(
        k.contexts
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        names(vec!["dev", "first-ctx", "prod", "cross", "third"])
    );
    assert_eq!(
        k.users.iter().map(|u| u.name.clone()).collect::<Vec<_>>(),
        names(vec!["alice", "bob", "carol"])
    );

    // The whole "shared" entry is first.yaml's; second.yaml's server is not mixed in.
    let shared = k.cluster("shared").unwrap();
    assert_eq!(
        shared.cluster.server.as_deref(),
        Some("https://first.example.test:6443")
    );
    assert_eq!(shared.origin, first());

    // Current context: dev from first.yaml, with first.yaml's alice (token file) and namespace.
    let c = config(&k, None);
    assert_eq!(c.server, "https://first.example.test:6443");
    assert_eq!(c.default_namespace, "team-a");
    assert_eq!(
        c.tls.ca_pem.as_deref(),
        Some(std::fs::read(fixture("merge/ca.pem")).unwrap().as_slice())
    );
    match &c.auth {
        Auth::TokenFile(path) => assert_eq!(path, &fixture("merge/token.txt")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reversed_order_lets_the_other_file_win() {
    let k = merged(&[second(), first()]);
    assert_eq!(k.current_context.as_deref(), Some("prod"));
    let dev = config(&k, Some("dev"));
    assert_eq!(dev.server, "https://second.example.test");
    assert_eq!(dev.default_namespace, "loses");
    let alice = k.user("alice").unwrap();
    assert_eq!(
        alice.user.token.as_ref().unwrap().expose(),
        "second-alice-token"
    );
}

#[test]
fn relative_paths_resolve_against_each_files_folder() {
    let k = merged(&[first(), second()]);
    // bob comes from merge/other/second.yaml, so his files are in merge/other/.
    let prod = config(&k, Some("prod"));
    assert_eq!(
        prod.tls.client_cert_pem.as_deref(),
        Some(
            std::fs::read(fixture("merge/other/client.pem"))
                .unwrap()
                .as_slice()
        )
    );
    assert_eq!(
        prod.tls.client_key_pem.as_ref().unwrap().expose(),
        &std::fs::read(fixture("merge/other/client-key.pem")).unwrap()
    );
    let bob = k.user("bob").unwrap();
    assert_eq!(
        bob.user.client_key.as_deref(),
        Some(fixture("merge/other/client-key.pem").as_path())
    );
    // A context of one file may name a cluster of another.
    let cross = config(&k, Some("cross"));
    assert_eq!(cross.server, "https://10.0.0.1:6443");
    assert_eq!(cross.tls.server_name.as_deref(), Some("api.first.test"));
    assert_eq!(cross.default_namespace, "default");
}

#[test]
fn named_context_and_json_file() {
    let k = merged(&[first(), second(), third()]);
    let prod = config(&k, Some("prod"));
    assert_eq!(prod.server, "https://second.example.test");
    assert_eq!(prod.default_namespace, "prod-ns");
    assert_eq!(prod.proxy.as_deref(), Some("http://proxy.second.test:3128"));

    let third = config(&k, Some("third"));
    assert_eq!(third.server, "https://third.test");
    assert!(third.tls.insecure_skip_verify);
    assert_eq!(third.default_namespace, "default");
    match &third.auth {
        Auth::Basic { username, password } => {
            assert_eq!(username, "carol");
            assert_eq!(password.expose(), "carol-pass-SECRET");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn load_default_reads_kubeconfig_list() {
    let sep = if cfg!(windows) { ";" } else { ":" };
    let list = format!(
        "{}{sep}{sep}{}{sep}{}",
        fixture("merge/missing.yaml").display(),
        first().display(),
        second().display()
    );
    let env = Env::from_vars([("KUBECONFIG", list), ("HOME", "/nonexistent-home".into())]);
    let k = Kubeconfig::load_default_with(&env).unwrap();
    assert_eq!(k.files, vec![first(), second()]);
    assert_eq!(k.current_context.as_deref(), Some("dev"));

    // The same file twice is read once.
    let env = Env::from_vars([(
        "KUBECONFIG",
        format!("{}{sep}{}", second().display(), second().display()),
    )]);
    assert_eq!(
        Kubeconfig::load_default_with(&env).unwrap().files,
        vec![second()]
    );
}

#[test]
fn load_default_with_no_existing_file_is_not_found() {
    let missing = fixture("merge/missing.yaml");
    let env = Env::from_vars([("KUBECONFIG", missing.display().to_string())]);
    let err = Kubeconfig::load_default_with(&env).unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!("no kubeconfig found: none of {} exists", missing.display())
    );

    let err = Kubeconfig::load_default_with(&no_env()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no kubeconfig found: KUBECONFIG is not set and neither is HOME"
    );
}

#[test]
fn load_default_falls_back_to_home() {
    let home = TempDir::new();
    let env = Env::from_vars([("HOME", home.path().display().to_string())]);
    let err = Kubeconfig::load_default_with(&env).unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let path = home.write(".kube/config", std::fs::read(third()).unwrap());
    let k = Kubeconfig::load_default_with(&env).unwrap();
    assert_eq!(k.files, vec![path]);
    assert_eq!(config(&k, None).server, "https://third.test");
}

#[test]
fn every_kind_of_user() {
    let k = auth_yaml();

    let c = config(&k, None);
    assert_eq!(c.server, "https://plain.test:6443");
    assert_eq!(c.default_namespace, "tokens");
    match &c.auth {
        Auth::Bearer(t) => assert_eq!(t.expose(), "static-token-SECRET1"),
        other => panic!("{other:?}"),
    }

    match config(&k, Some("file")).auth {
        Auth::TokenFile(p) => assert_eq!(p, fixture("certs/token")),
        other => panic!("{other:?}"),
    }

    match config(&k, Some("basic")).auth {
        Auth::Basic { username, password } => {
            assert_eq!(username, "admin");
            assert_eq!(password.expose(), "basic-pass-SECRET2");
        }
        other => panic!("{other:?}"),
    }

    let data = config(&k, Some("cert-data"));
    assert!(matches!(data.auth, Auth::None));
    assert!(
        String::from_utf8(data.tls.client_cert_pem.unwrap())
            .unwrap()
            .contains("Y2xpZW50LWNlcnQtZGF0YQ==")
    );
    let key = data.tls.client_key_pem.unwrap();
    assert!(
        String::from_utf8(key.expose().clone())
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );

    let files = config(&k, Some("cert-file"));
    assert_eq!(
        files.tls.client_cert_pem.unwrap(),
        std::fs::read(fixture("certs/client.pem")).unwrap()
    );
    assert_eq!(
        files.tls.client_key_pem.unwrap().expose(),
        &std::fs::read(fixture("certs/client.key")).unwrap()
    );

    // client-go: `tokenFile` wins over `token`, which is the fallback.
    match config(&k, Some("token-and-file")).auth {
        Auth::TokenFileWithFallback { path, fallback } => {
            assert_eq!(path, fixture("certs/token"));
            assert_eq!(fallback.expose(), "wins-token-SECRET5");
        }
        other => panic!("{other:?}"),
    }

    let none = config(&k, Some("noscheme"));
    assert!(matches!(none.auth, Auth::None));
    // No scheme: https, even without TLS settings.
    assert_eq!(none.server, "https://plain.test:8080");
}

#[test]
fn exec_users() {
    let k = auth_yaml();
    let c = config(&k, Some("exec-v1"));
    assert_eq!(c.server, "https://exec.test:443");
    let Auth::Exec(exec) = &c.auth else {
        panic!("{:?}", c.auth)
    };
    assert_eq!(exec.api_version, "client.authentication.k8s.io/v1");
    assert_eq!(exec.command, "kuber-test-plugin");
    assert_eq!(exec.args, ["get-token", "--cluster", "x"]);
    assert_eq!(
        exec.env,
        [("PLUGIN_USER".to_owned(), "dave-env-SECRET3".to_owned())]
    );
    assert!(exec.provide_cluster_info);
    assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
    assert_eq!(
        exec.install_hint.as_deref(),
        Some("install kuber-test-plugin")
    );
    assert_eq!(
        exec.cluster_config,
        Some(serde_json::json!({"audience": "kuber-test"}))
    );
    assert_eq!(exec.base_dir.as_deref(), Some(fixture("").as_path()));

    let c = config(&k, Some("exec-v1beta1"));
    let Auth::Exec(exec) = &c.auth else {
        panic!("{:?}", c.auth)
    };
    assert_eq!(exec.api_version, "client.authentication.k8s.io/v1beta1");
    // A command with a slash is relative to the kubeconfig's folder.
    assert_eq!(Path::new(&exec.command), fixture("bin/plugin"));
    assert!(exec.env.is_empty());
    assert_eq!(exec.interactive_mode, None);
    assert!(!exec.provide_cluster_info);
}

#[test]
fn impersonation() {
    let c = config(&auth_yaml(), Some("impersonate"));
    assert_eq!(
        c.impersonate,
        Some(Impersonate {
            user: Some("jane".into()),
            uid: Some("1234".into()),
            groups: vec!["dev".into(), "ops".into()],
            extra: vec![
                ("reason".into(), vec!["testing".into()]),
                ("scopes".into(), vec!["a".into(), "b".into()])
            ],
        })
    );
    assert!(matches!(c.auth, Auth::Bearer(_)));
    assert_eq!(config(&auth_yaml(), None).impersonate, None);
}

#[test]
fn cluster_settings() {
    let k = auth_yaml();
    let tls = config(&k, Some("tls"));
    assert_eq!(tls.server, "https://10.1.2.3:6443");
    assert_eq!(tls.tls.server_name.as_deref(), Some("kubernetes.default"));
    assert_eq!(
        tls.tls.ca_pem.unwrap(),
        std::fs::read(fixture("certs/ca.pem")).unwrap()
    );
    assert!(!tls.tls.insecure_skip_verify);

    let proxied = config(&k, Some("proxied"));
    assert_eq!(proxied.proxy.as_deref(), Some("socks5://proxy.test:1080"));

    let insecure = config(&k, Some("insecure"));
    assert!(insecure.tls.insecure_skip_verify);
    assert_eq!(insecure.tls.ca_pem, None);

    let exec = config(&k, Some("exec-v1"));
    assert!(
        String::from_utf8(exec.tls.ca_pem.unwrap())
            .unwrap()
            .contains("Y2EtZnJvbS1kYXRh")
    );
}

#[test]
fn proxy_from_environment_unless_no_proxy() {
    let k = auth_yaml();
    let env = Env::from_vars([
        ("HTTPS_PROXY", "proxy.corp:3128"),
        ("HTTP_PROXY", "http://wrong:1"),
    ]);
    let c = Config::from_kubeconfig_with(&k, None, &env).unwrap();
    assert_eq!(c.proxy.as_deref(), Some("http://proxy.corp:3128"));

    let env = Env::from_vars([
        ("https_proxy", "http://proxy.corp:3128"),
        ("no_proxy", ".test"),
    ]);
    let c = Config::from_kubeconfig_with(&k, None, &env).unwrap();
    assert_eq!(c.proxy, None);

    // proxy-url beats the environment, even NO_PROXY.
    let env = Env::from_vars([("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", "*")]);
    let c = Config::from_kubeconfig_with(&k, Some("proxied"), &env).unwrap();
    assert_eq!(c.proxy.as_deref(), Some("socks5://proxy.test:1080"));

    // An http server uses HTTP_PROXY.
    let env = Env::from_vars([
        ("HTTPS_PROXY", "http://s:1"),
        ("HTTP_PROXY", "http://plain-proxy:8080"),
    ]);
    let plain = Kubeconfig::from_yaml(
        "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n\
         clusters: [{name: k, cluster: {server: 'http://plain.test:8080'}}]\n",
        "plain.yaml",
    )
    .unwrap();
    let c = Config::from_kubeconfig_with(&plain, None, &env).unwrap();
    assert_eq!(c.proxy.as_deref(), Some("http://plain-proxy:8080"));
}

#[test]
fn missing_context() {
    let path = fixture("errors/missing-context.yaml");
    assert_eq!(
        err_string(&path, None),
        format!(
            "kubeconfig {}: current-context names context \"nope\", which is not defined",
            path.display()
        )
    );
    assert_eq!(
        err_string(&path, Some("other")),
        format!(
            "kubeconfig {}: context \"other\" is not defined",
            path.display()
        )
    );
}

#[test]
fn missing_context_in_a_merge_names_all_files() {
    let k = merged(&[first(), second()]);
    let err = Config::from_kubeconfig_with(&k, Some("nope"), &no_env()).unwrap_err();
    let sep = if cfg!(windows) { ";" } else { ":" };
    assert_eq!(
        err.to_string(),
        format!(
            "kubeconfig {}{sep}{}: context \"nope\" is not defined",
            first().display(),
            second().display()
        )
    );
}

#[test]
fn missing_cluster() {
    let path = fixture("errors/missing-cluster.yaml");
    assert_eq!(
        err_string(&path, None),
        format!(
            "kubeconfig {}: context \"dev\" names cluster \"c2\", which is not defined",
            path.display()
        )
    );
}

#[test]
fn missing_user() {
    let path = fixture("errors/missing-user.yaml");
    assert_eq!(
        err_string(&path, None),
        format!(
            "kubeconfig {}: context \"dev\" names user \"u2\", which is not defined",
            path.display()
        )
    );
}

#[test]
fn bad_base64() {
    let path = fixture("errors/bad-base64.yaml");
    assert_eq!(
        err_string(&path, None),
        format!(
            "kubeconfig {}: cluster \"c1\": certificate-authority-data: invalid base64: invalid character '*' at offset 4",
            path.display()
        )
    );
}

#[test]
fn bad_yaml() {
    let path = fixture("errors/bad-yaml.yaml");
    let err = Kubeconfig::from_file(&path).unwrap_err();
    assert!(matches!(err, ConfigError::Kubeconfig { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "kubeconfig {}: invalid YAML: line 6 column 4: while parsing a block mapping, did not find expected key",
            path.display()
        )
    );
    assert!(!err.to_string().contains("SECRET"));
}

#[test]
fn bad_type_names_the_key() {
    let path = fixture("errors/bad-type.yaml");
    let err = Kubeconfig::from_file(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "kubeconfig {}: invalid YAML at clusters[0].cluster.insecure-skip-tls-verify: line 5 column 31: invalid type: string, expected a boolean",
            path.display()
        )
    );
}

#[test]
fn auth_provider_is_refused() {
    let path = fixture("errors/auth-provider.yaml");
    let err = err_string(&path, None);
    assert!(
        err.starts_with(&format!(
            "kubeconfig {}: user \"gcp-user\": auth-provider \"gcp\" is not supported",
            path.display()
        )),
        "{err}"
    );
    assert!(err.contains("exec credential plugin"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");
}

#[test]
fn missing_file_named_explicitly() {
    let path = fixture("merge/missing.yaml");
    let err = Kubeconfig::from_file(&path).unwrap_err();
    assert!(!err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!("kubeconfig {}: cannot read: no such file", path.display())
    );
}

/// Inline cases: each error names the file and the entry at fault.
#[test]
fn inconsistent_entries() {
    let cases: &[(&str, &str)] = &[
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]",
            "cluster \"c\": server is not set",
        ),
        (
            "contexts: [{name: a, context: {user: u}}]",
            "context \"a\" names no cluster",
        ),
        ("", "current-context is not set and no context was named"),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {token: t-SECRET, username: x, password: p-SECRET}}]",
            "user \"u\": more than one authentication method is set (token, username/password); keep one",
        ),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {as-groups: [g]}}]",
            "user \"u\": as-uid, as-groups or as-user-extra is set without as (the user to impersonate)",
        ),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}}]",
            "user \"u\": exec: apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported; \
             use client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1",
        ),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1}}}]",
            "user \"u\": exec: command is not set",
        ),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {client-certificate-data: QUJD}}]",
            "user \"u\": client-certificate is set without client-key(-data)",
        ),
        (
            "contexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://c'}}]\n\
             users: [{name: u, user: {client-certificate-data: QUJD, client-key-data: 'not base64 SECRET'}}]",
            "user \"u\": client-key-data is not valid base64",
        ),
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://c', \
             certificate-authority-data: QUJD, certificate-authority: /ca.pem}}]",
            "cluster \"c\": both certificate-authority-data and certificate-authority are set; keep one",
        ),
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://c', \
             certificate-authority-data: QUJD, insecure-skip-tls-verify: true}}]",
            "cluster \"c\": insecure-skip-tls-verify cannot be combined with a certificate authority",
        ),
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://c', \
             certificate-authority: no-such-ca.pem}}]",
            "cluster \"c\": certificate-authority {dir}/no-such-ca.pem: cannot read: no such file",
        ),
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'ftp://c'}}]",
            "cluster \"c\": server \"ftp://c\": scheme must be https or http",
        ),
        (
            "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://c', \
             proxy-url: 'ftp://user:pw-SECRET@p'}}]",
            "cluster \"c\": proxy-url \"ftp://<redacted>@p\": scheme must be http, https, socks5 or socks5h",
        ),
    ];
    let dir = TempDir::new();
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let path = dir.join(&format!("case{i}.yaml"));
        let text = if yaml.is_empty() {
            String::new()
        } else {
            format!("current-context: a\n{yaml}")
        };
        let k = Kubeconfig::from_yaml(&text, &path).unwrap();
        let err = Config::from_kubeconfig_with(&k, None, &no_env())
            .unwrap_err()
            .to_string();
        let expected = expected.replace("{dir}", &dir.path().display().to_string());
        assert_eq!(
            err,
            format!("kubeconfig {}: {expected}", path.display()),
            "case {i}"
        );
        assert!(!err.contains("SECRET"), "case {i}: {err}");
    }
}

#[test]
fn nulls_unknown_fields_and_duplicates_are_tolerated() {
    let yaml = "apiVersion: v1\nkind: Config\nclusters: null\nusers:\n- name: u\n  user:\n    token: a\n    token: b\n    \
                future-field: {x: 1}\n  extra: 1\ncontexts: [{name: a, context: {cluster: null, user: u, extensions: null}}]\n\
                preferences: {colors: true, extensions: [{name: x, extension: {}}]}\n";
    let k = Kubeconfig::from_yaml(yaml, "inline.yaml").unwrap();
    assert!(k.clusters.is_empty());
    // Go's YAML reader keeps the last of duplicate keys.
    assert_eq!(
        k.user("u").unwrap().user.token.as_ref().unwrap().expose(),
        "b"
    );
    assert!(k.preferences.unwrap().colors);
    assert_eq!(k.current_context, None);
}

#[test]
fn empty_current_context_counts_as_unset_in_merges() {
    let dir = TempDir::new();
    let a = dir.write("a.yaml", "current-context: \"\"\n");
    let b = dir.write("b.yaml", "current-context: from-b\n");
    let k = merged(&[a, b.clone()]);
    assert_eq!(k.current_context.as_deref(), Some("from-b"));
    assert_eq!(k.current_context_origin, Some(b));
}

/// Decoding edge cases: each wrong type is named by its path, without the value.
#[test]
fn wrong_types_are_named_by_path() {
    let cases: &[(&str, &str)] = &[
        (
            "users: [{name: u, user: {exec: {command: x, args: [a, {k: SECRET}]}}}]",
            "invalid YAML at users[0].user.exec.args[1]: line 1 column 55: invalid type: map, expected a string",
        ),
        (
            "contexts: [{name: a, context: {namespace: [SECRET]}}]",
            "invalid YAML at contexts[0].context.namespace: line 1 column 43: invalid type: sequence, expected a string",
        ),
        (
            "users: [{name: u, user: {token: {t: SECRET}}}]",
            "invalid YAML at users[0].user.token: line 1 column 33: invalid type: map, expected a string",
        ),
        (
            "clusters: [{name: c, cluster: [SECRET]}]",
            "invalid YAML at clusters[0].cluster: line 1 column 31: invalid type: sequence, expected struct Cluster",
        ),
        (
            "clusters: {name: c}",
            "invalid YAML at clusters: line 1 column 11: invalid type: map, expected a sequence",
        ),
        (
            "preferences: {colors: 7}",
            "invalid YAML at preferences.colors: line 1 column 23: invalid type: integer, expected a boolean",
        ),
        (
            "users: [{name: u, user: {as-user-extra: {k: SECRET}}}]",
            "invalid YAML at users[0].user.as-user-extra.k: line 1 column 45: invalid type: string, expected a sequence",
        ),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let err = Kubeconfig::from_yaml(yaml, "inline.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("kubeconfig inline.yaml: {expected}"),
            "case {i}"
        );
        assert!(!err.contains("SECRET"), "case {i}: {err}");
    }
}

#[test]
fn nulls_read_as_empty_and_odd_keys_are_ignored() {
    let yaml = "contexts: null\nusers: null\npreferences: null\ncurrent-context: null\n\
                clusters:\n- {name: c, cluster: null, 1: x, true: y}\n- name: d\n  cluster:\n    \
                server: 'https://d'\n    insecure-skip-tls-verify: null\n    extensions: \
                [{name: n, extension: {a: [1]}}, null-ext: 1]\n";
    let k = Kubeconfig::from_yaml(yaml, "inline.yaml").unwrap();
    assert!(k.contexts.is_empty() && k.users.is_empty());
    assert!(k.preferences.is_none() && k.current_context.is_none());
    assert_eq!(k.cluster("c").unwrap().cluster.server, None);
    let d = &k.cluster("d").unwrap().cluster;
    assert!(!d.insecure_skip_tls_verify);
    assert_eq!(d.extensions.len(), 2);
    assert_eq!(
        d.extensions[0].extension,
        Some(serde_json::json!({"a": [1]}))
    );

    let yaml = "users:\n- name: u\n  user:\n    as-groups: null\n    as-user-extra: null\n    \
                exec: {command: x, args: null, env: [{name: null, value: null}], provideClusterInfo: null}\n\
                - name: v\n  user: null\n";
    let k = Kubeconfig::from_yaml(yaml, "inline.yaml").unwrap();
    let u = &k.user("u").unwrap().user;
    assert!(u.impersonate_groups.is_empty() && u.impersonate_user_extra.is_empty());
    let exec = u.exec.as_ref().unwrap();
    assert!(exec.args.is_empty() && !exec.provide_cluster_info);
    assert_eq!(
        (exec.env[0].name.as_str(), exec.env[0].value.as_str()),
        ("", "")
    );
    assert!(k.user("v").unwrap().user.exec.is_none());

    // A plain scalar is text where a string is expected, as in Go's YAML reader.
    let k = Kubeconfig::from_yaml(
        "contexts: [{name: 5, context: {namespace: 7, cluster: true}}]",
        "inline.yaml",
    )
    .unwrap();
    let c = &k.context("5").unwrap().context;
    assert_eq!(
        (c.namespace.as_deref(), c.cluster.as_deref()),
        (Some("7"), Some("true"))
    );
}
