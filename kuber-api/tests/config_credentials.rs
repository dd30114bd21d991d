//! `Credentials`: static headers, token files that rotate, and exec plugins (a shell script that
//! counts its runs).

mod config_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use config_support::TempDir;
use http::HeaderValue;
use kuber_api::config::{Auth, Credentials, ExecClusterInfo, ExecConfig, Secret};

async fn header(credentials: &Credentials) -> String {
    raw(credentials).await.to_str().unwrap().to_owned()
}

async fn raw(credentials: &Credentials) -> HeaderValue {
    let value = credentials.authorization().await.unwrap().unwrap();
    assert!(value.is_sensitive());
    value
}

#[test]
fn credentials_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let c = Credentials::new(&Auth::TokenFile("/nonexistent".into()), None);
    send_sync(&c);
    send(c.authorization());
    send(c.client_identity());
}

#[tokio::test]
async fn static_credentials() {
    assert_eq!(
        Credentials::new(&Auth::None, None)
            .authorization()
            .await
            .unwrap(),
        None
    );

    let bearer = Credentials::new(&Auth::Bearer(Secret::new("abc.def".into())), None);
    assert_eq!(header(&bearer).await, "Bearer abc.def");
    bearer.invalidate(Some(&raw(&bearer).await)).await;
    assert_eq!(header(&bearer).await, "Bearer abc.def");

    let basic = Credentials::new(
        &Auth::Basic {
            username: "admin".into(),
            password: Secret::new("s3cret".into()),
        },
        None,
    );
    assert_eq!(header(&basic).await, "Basic YWRtaW46czNjcmV0");
    assert_eq!(basic.client_identity().await.unwrap().map(|_| ()), None);

    let bad = Credentials::new(
        &Auth::Bearer(Secret::new("line\nbreak-SECRET".into())),
        None,
    );
    let err = bad.authorization().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "bearer token: contains characters not allowed in an HTTP header"
    );
}

#[tokio::test]
async fn token_file_is_cached_and_reread_when_it_changes() {
    let dir = TempDir::new();
    let path = dir.write("token", "  first-token\n");
    let credentials = Credentials::new(&Auth::TokenFile(path.clone()), None);
    let first = raw(&credentials).await;
    assert_eq!(first.to_str().unwrap(), "Bearer first-token");
    let stamp = std::fs::metadata(&path).unwrap().modified().unwrap();

    // Same size, same inode, mtime put back: indistinguishable, so the cached token stays.
    std::fs::write(&path, "  other-token\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(stamp)
        .unwrap();
    assert_eq!(header(&credentials).await, "Bearer first-token");

    // A 401 for a token that is no longer the cached one changes nothing.
    credentials
        .invalidate(Some(&HeaderValue::from_static("Bearer older-token")))
        .await;
    assert_eq!(header(&credentials).await, "Bearer first-token");

    // After a 401 for the cached token the client invalidates: the file is read again.
    credentials.invalidate(Some(&first)).await;
    assert_eq!(header(&credentials).await, "Bearer other-token");
    // A second 401 for the same old token (a concurrent request) does not read it again.
    std::fs::write(&path, "  xxxxx-token\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(stamp)
        .unwrap();
    credentials.invalidate(Some(&first)).await;
    assert_eq!(header(&credentials).await, "Bearer other-token");

    // A rotation (new mtime) is noticed without invalidating.
    std::fs::write(&path, "third-token").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(stamp + Duration::from_secs(5))
        .unwrap();
    assert_eq!(header(&credentials).await, "Bearer third-token");

    // Clones share the cache.
    let clone = credentials.clone();
    assert_eq!(header(&clone).await, "Bearer third-token");
}

#[tokio::test]
async fn token_file_errors_name_the_file() {
    let dir = TempDir::new();
    let missing = dir.join("missing");
    let err = Credentials::new(&Auth::TokenFile(missing.clone()), None)
        .authorization()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "token file {}: cannot read: no such file",
            missing.display()
        )
    );

    let empty = dir.write("empty", " \n\t\n");
    let err = Credentials::new(&Auth::TokenFile(empty.clone()), None)
        .authorization()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("token file {}: is empty", empty.display())
    );
}

#[tokio::test]
async fn token_file_vanishing_keeps_the_last_token_until_invalidated() {
    let dir = TempDir::new();
    let path = dir.write("token", "kept-token");
    let credentials = Credentials::new(&Auth::TokenFile(path.clone()), None);
    let kept = raw(&credentials).await;
    assert_eq!(kept.to_str().unwrap(), "Bearer kept-token");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(header(&credentials).await, "Bearer kept-token");
    credentials.invalidate(Some(&kept)).await;
    assert!(
        credentials
            .authorization()
            .await
            .unwrap_err()
            .to_string()
            .contains("no such file")
    );
}

#[cfg(unix)]
mod support;

#[cfg(unix)]
mod exec {
    use super::*;
    use kuber_models::special::Time;

    const V1: &str = "client.authentication.k8s.io/v1";
    const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

    /// An ExecConfig running the test plugin with `PLUGIN_DIR` = `dir`.
    fn plugin(dir: &TempDir, api: &str, vars: &[(&str, &str)]) -> ExecConfig {
        let command = dir.plugin("bin/plugin.sh");
        let mut env = vec![
            ("PLUGIN_DIR".to_owned(), dir.path().display().to_string()),
            ("PLUGIN_API".to_owned(), api.to_owned()),
            ("PLUGIN_USER".to_owned(), "dave".to_owned()),
        ];
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ExecConfig {
            api_version: api.into(),
            command: command.display().to_string(),
            args: vec!["get-token".into(), "--verbose".into()],
            env,
            base_dir: None,
            provide_cluster_info: false,
            interactive_mode: Some("Never".into()),
            install_hint: None,
            cluster_config: None,
        }
    }

    fn credentials(exec: ExecConfig) -> Credentials {
        Credentials::new(&Auth::Exec(exec), None)
    }

    fn in_secs(secs: i64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Time::from_unix(now + secs).into_string()
    }

    #[tokio::test]
    async fn token_is_cached_until_invalidated() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[]));
        assert_eq!(header(&c).await, "Bearer tok-dave-1");
        assert_eq!(header(&c).await, "Bearer tok-dave-1");
        assert_eq!(header(&c.clone()).await, "Bearer tok-dave-1");
        assert_eq!(dir.runs(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.join("args")).unwrap(),
            "get-token\n--verbose\n"
        );

        let first = raw(&c).await;
        c.invalidate(Some(&first)).await;
        assert_eq!(header(&c).await, "Bearer tok-dave-2");
        assert_eq!(header(&c).await, "Bearer tok-dave-2");
        assert_eq!(dir.runs(), 2);
        // A late 401 for the first token does not run the plugin again.
        c.invalidate(Some(&first)).await;
        assert_eq!(header(&c).await, "Bearer tok-dave-2");
        assert_eq!(dir.runs(), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[]));
        let clone = c.clone();
        let (a, b, d) = tokio::join!(header(&c), header(&c), header(&clone));
        assert_eq!(
            [a, b, d],
            [
                "Bearer tok-dave-1",
                "Bearer tok-dave-1",
                "Bearer tok-dave-1"
            ]
        );
        assert_eq!(dir.runs(), 1);
    }

    #[tokio::test]
    async fn far_expiry_is_cached() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[("PLUGIN_EXPIRY", &in_secs(3600))]));
        header(&c).await;
        header(&c).await;
        assert_eq!(dir.runs(), 1);
    }

    #[tokio::test]
    async fn near_or_past_expiry_runs_again() {
        // Within the early-refresh margin: each call gets a fresh token.
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[("PLUGIN_EXPIRY", &in_secs(3))]));
        assert_eq!(header(&c).await, "Bearer tok-dave-1");
        assert_eq!(header(&c).await, "Bearer tok-dave-2");

        let dir = TempDir::new();
        let c = credentials(plugin(
            &dir,
            V1BETA1,
            &[("PLUGIN_EXPIRY", "2001-02-03T04:05:06Z")],
        ));
        assert_eq!(header(&c).await, "Bearer tok-dave-1");
        assert_eq!(header(&c).await, "Bearer tok-dave-2");
        assert_eq!(dir.runs(), 2);
    }

    #[tokio::test]
    async fn v1beta1_works_and_version_mismatch_fails() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1BETA1, &[]));
        assert_eq!(header(&c).await, "Bearer tok-dave-1");

        let dir = TempDir::new();
        let exec = plugin(&dir, V1, &[("PLUGIN_REPLY_API", V1BETA1)]);
        let command = exec.command.clone();
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "exec plugin {command:?}: returned apiVersion \"{V1BETA1}\", but the kubeconfig asks for \"{V1}\""
            )
        );
    }

    #[tokio::test]
    async fn failure_quotes_neither_stderr_nor_stdout() {
        let dir = TempDir::new();
        let exec = plugin(&dir, V1, &[("PLUGIN_MODE", "fail")]);
        let command = exec.command.clone();
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("exec plugin {command:?}: exited with status 3 (its messages are on stderr)")
        );
        assert!(!err.contains("SECRET"));
        assert!(!err.contains("login required"));
    }

    /// Set in the child process of `plugin_stderr_goes_to_our_stderr`.
    const CHILD_VAR: &str = "KUBER_TEST_PLUGIN_STDERR_CHILD";

    #[tokio::test]
    async fn plugin_stderr_goes_to_our_stderr() {
        if let Ok(dir) = std::env::var(CHILD_VAR) {
            // The child: run the failing plugin; its stderr is this process's stderr.
            let bin = TempDir::new();
            let mut exec = plugin(&bin, V1, &[("PLUGIN_MODE", "fail")]);
            exec.env.retain(|(k, _)| k != "PLUGIN_DIR");
            exec.env.push(("PLUGIN_DIR".into(), dir));
            let _ = credentials(exec).authorization().await;
            return;
        }
        let dir = TempDir::new();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "exec::plugin_stderr_goes_to_our_stderr",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_VAR, dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(dir.runs(), 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error: login required for dave"),
            "{stderr}"
        );
    }

    /// 16 requests answered 401 at once: the plugin runs once more, not 16 times.
    #[tokio::test]
    async fn concurrent_401s_run_the_plugin_once() {
        use kuber_api::{Client, Request};
        use kuber_models::DynamicObject;
        use support::{GET_POD, Options, Server, json, pod, status};

        let dir = TempDir::new();
        let server = Server::start(Options::plain(), |seen, _| async move {
            match seen
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
            {
                Some("Bearer tok-dave-1") => status(401, "Unauthorized", "Unauthorized"),
                Some(_) => json(200, pod("web", 1)),
                None => status(403, "Forbidden", "no credentials"),
            }
        })
        .await;
        let mut cfg = support::config(&server.url, None);
        cfg.auth = Auth::Exec(plugin(&dir, V1, &[]));
        let client = Client::new(cfg).unwrap();
        let calls = (0..16).map(|_| {
            let client = client.clone();
            async move {
                client
                    .call::<DynamicObject>(Request::new(&GET_POD, &["default", "web"]))
                    .await
            }
        });
        for result in futures_util::future::join_all(calls).await {
            result.unwrap();
        }
        assert_eq!(dir.runs(), 2);
        assert!(server.requests() <= 32, "{}", server.requests());
    }

    #[tokio::test]
    async fn bad_output() {
        let dir = TempDir::new();
        let exec = plugin(&dir, V1, &[("PLUGIN_MODE", "garbage")]);
        let command = exec.command.clone();
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("exec plugin {command:?}: output is not valid JSON (line 1, column 2)")
        );

        let dir = TempDir::new();
        let exec = plugin(&dir, V1, &[("PLUGIN_MODE", "empty")]);
        let command = exec.command.clone();
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "exec plugin {command:?}: returned neither status.token nor a client certificate"
            )
        );
    }

    #[tokio::test]
    async fn command_not_found_shows_install_hint() {
        let dir = TempDir::new();
        let mut exec = plugin(&dir, V1, &[]);
        exec.command = "kuber-test-no-such-plugin".into();
        exec.install_hint = Some("brew install kuber-test-plugin\n".into());
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "exec plugin \"kuber-test-no-such-plugin\": command not found; brew install kuber-test-plugin"
        );
    }

    /// The plugin's process, gone (killed and reaped, not a zombie) within 2 s.
    #[cfg(target_os = "linux")]
    async fn assert_plugin_gone(dir: &TempDir) {
        let pid = std::fs::read_to_string(dir.join("pid")).unwrap();
        let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
        for _ in 0..200 {
            if !proc.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("plugin {} still there", pid.trim());
    }

    #[tokio::test]
    async fn slow_plugin_times_out_and_is_killed() {
        for mode in ["slow", "hang-after-stdout"] {
            let dir = TempDir::new();
            let exec = plugin(&dir, V1, &[("PLUGIN_MODE", mode)]);
            let command = exec.command.clone();
            let c = credentials(exec).with_exec_timeout(Duration::from_millis(300));
            let started = std::time::Instant::now();
            let err = c.authorization().await.unwrap_err().to_string();
            assert_eq!(
                err,
                format!("exec plugin {command:?}: did not finish within 0.3 s"),
                "{mode}"
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{mode}");
            #[cfg(target_os = "linux")]
            assert_plugin_gone(&dir).await;
        }
    }

    #[tokio::test]
    async fn an_abandoned_run_kills_the_plugin() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[("PLUGIN_MODE", "slow")]));
        let run = c.authorization();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), run)
                .await
                .is_err()
        );
        #[cfg(target_os = "linux")]
        assert_plugin_gone(&dir).await;
    }

    #[tokio::test]
    async fn interactive_always_is_refused() {
        let dir = TempDir::new();
        let mut exec = plugin(&dir, V1, &[]);
        exec.interactive_mode = Some("Always".into());
        let err = credentials(exec)
            .authorization()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("interactiveMode is Always, but plugins run here without a terminal"),
            "{err}"
        );
        assert_eq!(dir.runs(), 0);
    }

    #[tokio::test]
    async fn client_certificate_from_plugin() {
        let dir = TempDir::new();
        let c = credentials(plugin(&dir, V1, &[("PLUGIN_MODE", "cert")]));
        assert_eq!(c.authorization().await.unwrap(), None);
        let identity = c.client_identity().await.unwrap().unwrap();
        assert_eq!(identity.cert_pem, b"CERT-PEM");
        assert_eq!(identity.key_pem.expose(), b"KEY-PEM-SECRET");
        assert_eq!(dir.runs(), 1);
    }

    #[tokio::test]
    async fn exec_info_tells_the_cluster_when_asked() {
        let dir = TempDir::new();
        let mut exec = plugin(&dir, V1, &[]);
        let c = credentials(exec.clone());
        header(&c).await;
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("exec-info.json")).unwrap()).unwrap();
        assert_eq!(
            info,
            serde_json::json!({"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": false}})
        );

        exec.provide_cluster_info = true;
        exec.cluster_config = Some(serde_json::json!({"audience": "kuber"}));
        let cluster = ExecClusterInfo {
            server: "https://api.test:6443".into(),
            tls_server_name: None,
            insecure_skip_tls_verify: true,
            ca_pem: None,
            // The proxy's credentials are the client's: the plugin gets the address only.
            proxy_url: Some("http://user:pw-SECRET@proxy:3128".into()),
        };
        assert!(!format!("{cluster:?}").contains("pw-SECRET"), "{cluster:?}");
        let c = Credentials::new(&Auth::Exec(exec), Some(cluster));
        header(&c).await;
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("exec-info.json")).unwrap()).unwrap();
        assert_eq!(
            info["spec"],
            serde_json::json!({
                "interactive": false,
                "cluster": {
                    "server": "https://api.test:6443",
                    "insecure-skip-tls-verify": true,
                    "proxy-url": "http://proxy:3128",
                    "config": {"audience": "kuber"},
                },
            })
        );
    }

    #[tokio::test]
    async fn relative_command_from_a_kubeconfig() {
        use kuber_api::config::{Config, Env, Kubeconfig};
        let dir = TempDir::new();
        dir.plugin("bin/plugin.sh");
        let yaml = format!(
            "current-context: c\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n\
             clusters: [{{name: k, cluster: {{server: 'https://k.test'}}}}]\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: {V1}\n      command: ./bin/plugin.sh\n      \
             provideClusterInfo: true\n      env:\n      - {{name: PLUGIN_DIR, value: '{}'}}\n      \
             - {{name: PLUGIN_API, value: {V1}}}\n      - {{name: PLUGIN_USER, value: erin}}\n",
            dir.path().display()
        );
        let path = dir.write("kubeconfig.yaml", yaml);
        let kubeconfig = Kubeconfig::from_file(&path).unwrap();
        let config =
            Config::from_kubeconfig_with(&kubeconfig, None, &Env::from_vars([("X", "y")])).unwrap();
        let c = Credentials::from_config(&config);
        assert_eq!(header(&c).await, "Bearer tok-erin-1");
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("exec-info.json")).unwrap()).unwrap();
        assert_eq!(info["spec"]["cluster"]["server"], "https://k.test");
    }
}
