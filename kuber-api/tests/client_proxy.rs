//! Every proxy scheme the config accepts, through small proxies run in the test: http and
//! https (TLS to the proxy) CONNECT proxies, SOCKS5 with and without credentials, with names
//! resolved here (socks5) or by the proxy (socks5h). Each proxy counts its connections, so a
//! request that went around it fails the test.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kuber_api::config::{Config, Env, Kubeconfig};
use kuber_api::{Client, Error, Request};
use kuber_models::DynamicObject;
use support::{Ca, GET_POD, Issued, Options, Server, config, json, pod};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn get_pod() -> Request {
    Request::new(&GET_POD, &["default", "web"])
}

async fn pod_server(options: Options) -> Server {
    Server::start(options, |_, _| async { json(200, pod("web", 1)) }).await
}

/// What a test proxy saw.
#[derive(Default)]
struct Record {
    connections: AtomicUsize,
    /// CONNECT heads, or SOCKS5 targets (`domain:port` or `ip:port`) and credentials.
    requests: Mutex<Vec<String>>,
}

impl Record {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

struct TestProxy {
    addr: SocketAddr,
    record: Arc<Record>,
}

/// Accepts connections, wraps them (TLS or not), and hands them to `handle`.
async fn spawn_proxy<F, Fut>(tls: Option<Issued>, handle: F) -> TestProxy
where
    F: Fn(Box<dyn Io>, Arc<Record>) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::new(Record::default());
    let acceptor = tls.map(|cert| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(cert.chain.clone(), cert.key())
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let shared = record.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            shared.connections.fetch_add(1, Ordering::SeqCst);
            let (handle, record, acceptor) = (handle.clone(), shared.clone(), acceptor.clone());
            tokio::spawn(async move {
                let io: Box<dyn Io> = match acceptor {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(tls) => Box::new(tls),
                        Err(_) => return,
                    },
                    None => Box::new(tcp),
                };
                handle(io, record).await;
            });
        }
    });
    TestProxy { addr, record }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An HTTP CONNECT proxy relaying every tunnel to `upstream` (so names need not resolve);
/// with `password`, tunnels need `Proxy-Authorization` for `user:password`.
async fn connect_proxy(tls: Option<Issued>, upstream: SocketAddr, auth: Option<&str>) -> TestProxy {
    let expected = auth.map(|a| format!("proxy-authorization: basic {}", b64(a.as_bytes())));
    spawn_proxy(tls, move |mut io, record| {
        let expected = expected.clone();
        async move {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if io.read(&mut byte).await.unwrap_or(0) == 0 {
                    return;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            record.requests.lock().unwrap().push(head.clone());
            if let Some(expected) = expected
                && !head
                    .to_ascii_lowercase()
                    .contains(&expected.to_ascii_lowercase())
            {
                let _ = io
                    .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                    .await;
                return;
            }
            let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = io
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await;
            let _ = tokio::io::copy_bidirectional(&mut io, &mut outbound).await;
        }
    })
    .await
}

/// A SOCKS5 proxy (RFC 1928/1929) relaying every tunnel to `upstream`; with `auth`, only that
/// user and password are let in.
async fn socks5_proxy(
    upstream: SocketAddr,
    auth: Option<(&'static str, &'static str)>,
) -> TestProxy {
    spawn_proxy(None, move |mut io, record| async move {
        let mut buf = [0u8; 2];
        if io.read_exact(&mut buf).await.is_err() {
            return;
        }
        let mut methods = vec![0u8; usize::from(buf[1])];
        let _ = io.read_exact(&mut methods).await;
        let log = |line: String| record.requests.lock().unwrap().push(line);
        if let Some((user, password)) = auth {
            if !methods.contains(&2) {
                let _ = io.write_all(&[5, 0xff]).await;
                return;
            }
            let _ = io.write_all(&[5, 2]).await;
            let mut ver_len = [0u8; 2];
            let _ = io.read_exact(&mut ver_len).await;
            let mut got_user = vec![0u8; usize::from(ver_len[1])];
            let _ = io.read_exact(&mut got_user).await;
            let mut len = [0u8; 1];
            let _ = io.read_exact(&mut len).await;
            let mut got_password = vec![0u8; usize::from(len[0])];
            let _ = io.read_exact(&mut got_password).await;
            let ok = got_user == user.as_bytes() && got_password == password.as_bytes();
            log(format!(
                "auth {} {}",
                String::from_utf8_lossy(&got_user),
                ok
            ));
            let _ = io.write_all(&[1, if ok { 0 } else { 1 }]).await;
            if !ok {
                return;
            }
        } else {
            let _ = io.write_all(&[5, 0]).await;
        }
        let mut head = [0u8; 4];
        if io.read_exact(&mut head).await.is_err() {
            return;
        }
        let host = match head[3] {
            1 => {
                let mut ip = [0u8; 4];
                let _ = io.read_exact(&mut ip).await;
                std::net::Ipv4Addr::from(ip).to_string()
            }
            4 => {
                let mut ip = [0u8; 16];
                let _ = io.read_exact(&mut ip).await;
                format!("[{}]", std::net::Ipv6Addr::from(ip))
            }
            _ => {
                let mut len = [0u8; 1];
                let _ = io.read_exact(&mut len).await;
                let mut name = vec![0u8; usize::from(len[0])];
                let _ = io.read_exact(&mut name).await;
                format!("name {}", String::from_utf8_lossy(&name))
            }
        };
        let mut port = [0u8; 2];
        let _ = io.read_exact(&mut port).await;
        log(format!("{host}:{}", u16::from_be_bytes(port)));
        let Ok(mut outbound) = TcpStream::connect(upstream).await else {
            return;
        };
        let _ = io.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        let _ = tokio::io::copy_bidirectional(&mut io, &mut outbound).await;
    })
    .await
}

fn b64(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

fn server_addr(server: &Server) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port))
}

async fn tls_server(ca: &Ca, name: &str) -> Server {
    pod_server(Options::tls(ca.issue(&[name], "apiserver"))).await
}

fn client_via(server_url: &str, ca: &Ca, proxy: String) -> Client {
    let mut cfg = config(server_url, Some(ca));
    cfg.proxy = Some(proxy);
    Client::new(cfg).unwrap().with_retries(0, false)
}

#[tokio::test]
async fn an_https_proxy_is_reached_over_tls_then_tunnels_to_the_server() {
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "127.0.0.1").await;
    let proxy = connect_proxy(
        Some(ca.issue(&["127.0.0.1"], "proxy")),
        server_addr(&server),
        Some("user:p@ss"),
    )
    .await;
    let url = format!("https://user:p%40ss@{}", proxy.addr);
    let client = client_via(&server.url, &ca, url);
    assert!(!format!("{client:?}").contains("p%40ss"));
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(proxy.record.connections(), 1);
    let heads = proxy.record.requests();
    assert!(heads[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn an_https_proxy_forwards_an_http_server_in_absolute_form() {
    // The "proxy" answers itself over TLS; what matters is the request it gets.
    let ca = Ca::new("cluster CA");
    let mut options = Options::tls(ca.issue(&["127.0.0.1"], "proxy"));
    options.h2 = false;
    let proxy = pod_server(options).await;
    let url = proxy.url.replace("https://", "https://user:pass@");
    let client = client_via("http://kube.internal:8080", &ca, url);
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    let seen = &proxy.seen()[0];
    assert_eq!(
        seen.uri,
        "http://kube.internal:8080/api/v1/namespaces/default/pods/web"
    );
    assert_eq!(seen.headers["proxy-authorization"], "Basic dXNlcjpwYXNz");
}

#[tokio::test]
async fn https_proxy_from_the_environment_works() {
    // Before: an https:// proxy in HTTPS_PROXY made every client fail to build.
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "kube.test").await;
    let proxy = connect_proxy(
        Some(ca.issue(&["127.0.0.1"], "proxy")),
        server_addr(&server),
        None,
    )
    .await;
    let yaml = format!(
        "current-context: c\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n\
         clusters: [{{name: k, cluster: {{server: 'https://kube.test:{}', \
         certificate-authority-data: {}}}}}]\nusers: [{{name: u, user: {{}}}}]\n",
        server.port,
        b64(ca.pem.as_bytes())
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml, "test").unwrap();
    let env = Env::from_vars([("HTTPS_PROXY", format!("https://{}", proxy.addr))]);
    let cfg = Config::from_kubeconfig_with(&kubeconfig, None, &env).unwrap();
    assert_eq!(cfg.proxy, Some(format!("https://{}", proxy.addr)));
    let client = Client::new(cfg).unwrap();
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(proxy.record.connections(), 1);
    assert!(proxy.record.requests()[0].starts_with(&format!("CONNECT kube.test:{}", server.port)));
}

#[tokio::test]
async fn an_https_proxy_with_an_untrusted_certificate_is_a_tls_error_naming_the_proxy() {
    let ca = Ca::new("cluster CA");
    let other = Ca::new("someone else");
    let server = tls_server(&ca, "127.0.0.1").await;
    let proxy = connect_proxy(
        Some(other.issue(&["127.0.0.1"], "proxy")),
        server_addr(&server),
        None,
    )
    .await;
    let url = format!("https://user:pw-SECRET@{}", proxy.addr);
    let err = client_via(&server.url, &ca, url)
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(
        text.contains(&format!("proxy https://{}", proxy.addr)),
        "{text}"
    );
    assert!(!text.contains("SECRET"), "{text}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn refused_proxy_credentials_are_an_error_without_them() {
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "127.0.0.1").await;
    let proxy = connect_proxy(None, server_addr(&server), Some("user:right")).await;
    let url = format!("http://user:pw-SECRET@{}", proxy.addr);
    let err = client_via(&server.url, &ca, url)
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("proxy authorization required"), "{text}");
    assert!(text.contains(&proxy.addr.to_string()), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
}

#[tokio::test]
async fn socks5_without_credentials_resolves_names_here() {
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "localhost").await;
    let proxy = socks5_proxy(server_addr(&server), None).await;
    let server_url = format!("https://localhost:{}", server.port);
    let client = client_via(&server_url, &ca, format!("socks5://{}", proxy.addr));
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(proxy.record.connections(), 1);
    let target = &proxy.record.requests()[0];
    // An address, not the name: socks5 resolves locally.
    assert!(
        target == &format!("127.0.0.1:{}", server.port)
            || target == &format!("[::1]:{}", server.port),
        "{target}"
    );
}

#[tokio::test]
async fn socks5h_with_credentials_leaves_names_to_the_proxy() {
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "kube.test").await;
    let proxy = socks5_proxy(server_addr(&server), Some(("alice", "s3:cr@t"))).await;
    let server_url = format!("https://kube.test:{}", server.port);
    let proxy_url = format!("socks5h://alice:s3%3Acr%40t@{}", proxy.addr);
    let mut cfg = config(&server_url, Some(&ca));
    cfg.proxy = Some(proxy_url);
    assert!(!format!("{cfg:?}").contains("cr%40t"), "{cfg:?}");
    let client = Client::new(cfg).unwrap();
    assert!(!format!("{client:?}").contains("cr%40t"));
    let _: DynamicObject = client.call(get_pod()).await.unwrap();
    assert_eq!(
        proxy.record.requests(),
        [
            "auth alice true".to_owned(),
            format!("name kube.test:{}", server.port)
        ]
    );
    // An http server goes through the tunnel too, with its own port (not 443).
    let plain = pod_server(Options::plain()).await;
    let proxy = socks5_proxy(server_addr(&plain), None).await;
    let mut cfg = config(&format!("http://kube.test:{}", plain.port), None);
    cfg.proxy = Some(format!("socks5h://{}", proxy.addr));
    let _: DynamicObject = Client::new(cfg).unwrap().call(get_pod()).await.unwrap();
    assert_eq!(
        proxy.record.requests(),
        [format!("name kube.test:{}", plain.port)]
    );
    let seen = &plain.seen()[0];
    assert_eq!(seen.uri, "/api/v1/namespaces/default/pods/web");
    assert!(!seen.headers.contains_key("proxy-authorization"));
}

#[tokio::test]
async fn socks5_refusing_the_credentials_is_an_error_without_them() {
    let ca = Ca::new("cluster CA");
    let server = tls_server(&ca, "127.0.0.1").await;
    let proxy = socks5_proxy(server_addr(&server), Some(("alice", "right"))).await;
    let url = format!("socks5://alice:pw-SECRET@{}", proxy.addr);
    let err = client_via(&server.url, &ca, url)
        .call::<DynamicObject>(get_pod())
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("credentials not accepted"), "{text}");
    assert!(text.contains(&format!("socks5://{}", proxy.addr)), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn unsupported_proxy_schemes_are_refused_without_credentials() {
    let mut cfg = Config::new("https://kube.test");
    cfg.proxy = Some("socks4://user:pw-SECRET@proxy:1080".into());
    let err = Client::new(cfg).unwrap_err().to_string();
    assert!(err.contains("socks5h"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");
}
