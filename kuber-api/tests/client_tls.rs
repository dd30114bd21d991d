//! TLS, HTTP versions, proxies and the headers every request carries.

mod support;

use http::Version;
use kuber_api::config::{Auth, ExecConfig, Impersonate, Secret};
use kuber_api::{Client, Error, Request};
use kuber_models::DynamicObject;
use support::{Ca, GET_POD, Options, Server, config, json, pod};

fn get_pod() -> Request {
    Request::new(&GET_POD, &["default", "web"])
}

async fn pod_server(options: Options) -> Server {
    Server::start(options, |_, _| async { json(200, pod("web", 1)) }).await
}

#[cfg(feature = "http2")]
#[tokio::test]
async fn tls_with_the_configured_ca_works_and_negotiates_h2() {
    let ca = Ca::new("cluster CA");
    let server = pod_server(Options::tls(ca.issue(&["127.0.0.1"], "apiserver"))).await;
    let client = Client::new(config(&server.url, Some(&ca))).unwrap();
    let pod: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(pod.metadata.unwrap().name.as_deref(), Some("web"));
    assert_eq!(server.seen()[0].version, Version::HTTP_2);
}

#[tokio::test]
async fn http1_when_the_server_offers_only_http1() {
    let ca = Ca::new("cluster CA");
    let mut options = Options::tls(ca.issue(&["127.0.0.1"], "apiserver"));
    options.h2 = false;
    let server = pod_server(options).await;
    let client = Client::new(config(&server.url, Some(&ca))).unwrap();
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.version == Version::HTTP_11));
}

#[tokio::test]
async fn plain_http_works() {
    let server = pod_server(Options::plain()).await;
    let client = Client::new(config(&server.url, None)).unwrap();
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(server.seen()[0].version, Version::HTTP_11);
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused() {
    let ca = Ca::new("cluster CA");
    let other = Ca::new("someone else");
    let server = pod_server(Options::tls(other.issue(&["127.0.0.1"], "impostor"))).await;
    let client = Client::new(config(&server.url, Some(&ca)))
        .unwrap()
        .with_retries(0, false);
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    // Says what is wrong and where to look, not only rustls's `UnknownIssuer`.
    let text = err.to_string();
    assert!(text.contains("not signed by a trusted CA"), "{text}");
    assert!(text.contains("certificate-authority"), "{text}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = Ca::new("cluster CA");
    let server = pod_server(Options::tls(ca.issue(&["kube.internal"], "apiserver"))).await;
    let client = Client::new(config(&server.url, Some(&ca)))
        .unwrap()
        .with_retries(0, false);
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn tls_server_name_is_verified_instead_of_the_url_host() {
    let ca = Ca::new("cluster CA");
    let server = pod_server(Options::tls(ca.issue(&["kube.internal"], "apiserver"))).await;
    let mut cfg = config(&server.url, Some(&ca));
    cfg.tls.server_name = Some("kube.internal".into());
    let client = Client::new(cfg).unwrap();
    let _: DynamicObject = client.call(get_pod()).await.unwrap();

    let mut cfg = config(&server.url, Some(&ca));
    cfg.tls.server_name = Some("other.internal".into());
    let err = Client::new(cfg)
        .unwrap()
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn insecure_skip_verify_accepts_any_certificate() {
    let other = Ca::new("unknown");
    let server = pod_server(Options::tls(other.issue(&["somewhere.else"], "x"))).await;
    let mut cfg = config(&server.url, None);
    cfg.tls.insecure_skip_verify = true;
    let _: DynamicObject = Client::new(cfg).unwrap().call(get_pod()).await.unwrap();
}

#[tokio::test]
async fn client_certificates_authenticate() {
    let ca = Ca::new("cluster CA");
    let users = Ca::new("client CA");
    let mut options = Options::tls(ca.issue(&["127.0.0.1"], "apiserver"));
    options.client_ca = Some(users.pem.clone());
    let server = pod_server(options).await;

    let jane = users.issue(&[], "jane");
    let mut cfg = config(&server.url, Some(&ca));
    cfg.tls.client_cert_pem = Some(jane.cert_pem.clone().into_bytes());
    cfg.tls.client_key_pem = Some(Secret::new(jane.key_pem().as_bytes().to_vec()));
    let _: DynamicObject = Client::new(cfg).unwrap().call(get_pod()).await.unwrap();
    assert!(server.seen()[0].client_cert);

    // Without a certificate the server ends the handshake.
    let client = Client::new(config(&server.url, Some(&ca)))
        .unwrap()
        .with_retries(0, false);
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    assert!(
        matches!(err, Error::Tls { .. } | Error::Transport { .. }),
        "{err:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[cfg(unix)]
#[tokio::test]
async fn an_exec_plugin_can_return_a_client_certificate() {
    use std::os::unix::fs::PermissionsExt as _;

    let ca = Ca::new("cluster CA");
    let users = Ca::new("client CA");
    let mut options = Options::tls(ca.issue(&["127.0.0.1"], "apiserver"));
    options.client_ca = Some(users.pem.clone());
    let server = pod_server(options).await;

    let jane = users.issue(&[], "jane");
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": jane.cert_pem, "clientKeyData": jane.key_pem()},
    });
    let dir = std::env::temp_dir().join(format!("kuber-client-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plugin = dir.join("plugin.sh");
    std::fs::write(
        &plugin,
        format!("#!/bin/sh\ncat <<'EOF'\n{credential}\nEOF\n"),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut cfg = config(&server.url, Some(&ca));
    cfg.auth = Auth::Exec(ExecConfig {
        api_version: "client.authentication.k8s.io/v1".into(),
        command: plugin.display().to_string(),
        args: Vec::new(),
        env: Vec::new(),
        base_dir: None,
        provide_cluster_info: false,
        interactive_mode: None,
        install_hint: None,
        cluster_config: None,
    });
    let _: DynamicObject = Client::new(cfg).unwrap().call(get_pod()).await.unwrap();
    let seen = server.seen();
    assert!(seen[0].client_cert);
    assert!(seen[0].headers.get("authorization").is_none());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn bad_tls_material_is_reported_when_the_client_is_built() {
    let mut cfg = config("https://127.0.0.1:1", None);
    cfg.tls.ca_pem = Some(b"not a certificate".to_vec());
    assert!(matches!(Client::new(cfg), Err(Error::Tls { .. })));

    let mut cfg = config("https://127.0.0.1:1", None);
    cfg.tls.client_cert_pem = Some(Ca::new("x").pem.into_bytes());
    assert!(matches!(Client::new(cfg), Err(Error::Tls { .. })));

    let err = Client::new(config("ftp://127.0.0.1", None)).unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn requests_carry_user_agent_accept_auth_and_impersonation() {
    let server = pod_server(Options::plain()).await;
    let mut cfg = config(&format!("{}/prefix/", server.url), None);
    cfg.auth = Auth::Bearer(Secret::new("s3cr3t-token".into()));
    cfg.impersonate = Some(Impersonate {
        user: Some("jane".into()),
        uid: Some("1234".into()),
        groups: vec!["dev".into(), "ops".into()],
        extra: vec![("reason".into(), vec!["testing".into()])],
    });
    let client = Client::new(cfg).unwrap();
    let _: DynamicObject = client.call(get_pod().set("pretty", "true")).await.unwrap();
    let seen = &server.seen()[0];
    assert_eq!(
        seen.path_and_query,
        "/prefix/api/v1/namespaces/default/pods/web?pretty=true"
    );
    assert_eq!(seen.headers["authorization"], "Bearer s3cr3t-token");
    assert_eq!(seen.headers["accept"], "application/json");
    assert!(
        seen.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("kuber/")
    );
    assert_eq!(seen.headers["impersonate-user"], "jane");
    assert_eq!(seen.headers["impersonate-uid"], "1234");
    let groups: Vec<_> = seen.headers.get_all("impersonate-group").iter().collect();
    assert_eq!(groups, ["dev", "ops"]);
    assert_eq!(seen.headers["impersonate-extra-reason"], "testing");

    let debug = format!("{client:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("127.0.0.1"), "{debug}");
}

/// Through http(s) proxies (the `proxy` feature).
#[cfg(feature = "proxy")]
mod through_a_proxy {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn https_through_a_proxy_uses_a_connect_tunnel() {
        let ca = Ca::new("cluster CA");
        let server = pod_server(Options::tls(ca.issue(&["127.0.0.1"], "apiserver"))).await;
        let (proxy_url, connects) = connect_proxy().await;
        let mut cfg = config(&server.url, Some(&ca));
        cfg.proxy = Some(proxy_url.replace("http://", "http://user:p%40ss@"));
        let client = Client::new(cfg).unwrap();
        assert!(!format!("{client:?}").contains("p%40ss"));
        let _: DynamicObject = client.call(get_pod()).await.unwrap();
        let connects = connects.lock().unwrap().clone();
        assert_eq!(connects.len(), 1);
        assert!(
            connects[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)),
            "{}",
            connects[0]
        );
        // user:p@ss in base64
        assert!(
            connects[0].contains("Basic dXNlcjpwQHNz"),
            "{}",
            connects[0]
        );
    }

    #[tokio::test]
    async fn http_through_a_proxy_uses_absolute_form() {
        // The "proxy" answers itself; what matters is the request line it gets.
        let proxy = pod_server(Options::plain()).await;
        let mut cfg = config("http://kube.internal:8080", None);
        cfg.proxy = Some(proxy.url.replace("http://", "http://user:pass@"));
        let _: DynamicObject = Client::new(cfg).unwrap().call(get_pod()).await.unwrap();
        let seen = &proxy.seen()[0];
        assert_eq!(
            seen.uri,
            "http://kube.internal:8080/api/v1/namespaces/default/pods/web"
        );
        assert_eq!(seen.headers["host"], "kube.internal:8080");
        assert_eq!(seen.headers["proxy-authorization"], "Basic dXNlcjpwYXNz");
    }

    /// A CONNECT proxy: records the request head, answers 200, then relays bytes.
    async fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let record = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if inbound.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    record.lock().unwrap().push(head);
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    inbound
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        (url, heads)
    }
}
