//! Local test servers for the client tests: plain HTTP or TLS (with certificates generated at test
//! time), a handler per test, and a record of every request the server saw.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, Version};
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kuber_api::Operation;
use kuber_api::config::{Config, TlsConfig};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub use kuber_testserver::Issued;

/// A test CA that issues server and client certificates: kuber-testserver's generator.
pub struct Ca {
    inner: kuber_testserver::Ca,
    pub pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let inner = kuber_testserver::Ca::new(name).expect("CA");
        Ca {
            pem: inner.pem().to_owned(),
            inner,
        }
    }

    /// A certificate for `names` (DNS names or IP addresses), good for a server or a client.
    pub fn issue(&self, names: &[&str], common_name: &str) -> Issued {
        self.inner
            .issue(names, common_name, &[], kuber_testserver::Purpose::Any)
            .expect("certificate")
    }
}

/// What a server offers.
pub struct Options {
    /// Serve TLS with this certificate; `None`: plain HTTP.
    pub tls: Option<Issued>,
    /// Offer h2 by ALPN (else http/1.1 only).
    pub h2: bool,
    /// Require client certificates issued by this CA.
    pub client_ca: Option<String>,
}

impl Options {
    pub fn plain() -> Options {
        Options {
            tls: None,
            h2: false,
            client_ca: None,
        }
    }

    pub fn tls(cert: Issued) -> Options {
        Options {
            tls: Some(cert),
            h2: true,
            client_ca: None,
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The request target as sent: absolute form through a proxy.
    pub uri: String,
    pub path_and_query: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub client_cert: bool,
}

pub type Reply = Response<TestBody>;
type Handler =
    Arc<dyn Fn(Seen, usize) -> Pin<Box<dyn Future<Output = Reply> + Send>> + Send + Sync>;

/// A server on 127.0.0.1 with a free port, stopped when dropped.
pub struct Server {
    pub url: String,
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Serves with `handler(request, index)`, `index` counting from 0.
    pub async fn start<F, Fut>(options: Options, handler: F) -> Server
    where
        F: Fn(Seen, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |seen, i| Box::pin(handler(seen, i)));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let acceptor = options
            .tls
            .as_ref()
            .map(|cert| tls_acceptor(cert, options.h2, options.client_ca.as_deref()));
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let seen = seen2.clone();
                let count = count.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            // A failed handshake is part of some tests: just drop the connection.
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let client_cert = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .is_some_and(|c| !c.is_empty());
                            serve(TokioIo::new(tls), handler, seen, count, client_cert).await;
                        }
                        None => serve(TokioIo::new(tcp), handler, seen, count, false).await,
                    }
                });
            }
        });
        Server {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            seen,
            task,
        }
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn requests(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }
}

async fn serve<IO>(
    io: IO,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
    client_cert: bool,
) where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let handler = handler.clone();
        let seen = seen.clone();
        let count = count.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let request = Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                path_and_query: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                version: parts.version,
                headers: parts.headers,
                body,
                client_cert,
            };
            seen.lock().expect("lock").push(request.clone());
            let index = count.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(handler(request, index).await)
        }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(io, service)
        .await;
}

fn tls_acceptor(cert: &Issued, h2: bool, client_ca: Option<&str>) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls::pki_types::pem::PemObject::pem_slice_iter(pem.as_bytes()) {
                roots.add(c.expect("client CA")).expect("client CA");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(cert.chain.clone(), cert.key())
        .expect("server cert");
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A response body: whole, or frames sent through a channel (with delays, or an abrupt end).
pub struct TestBody {
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

/// One step of a streamed body.
pub enum Step {
    Send(Bytes),
    Sleep(Duration),
    /// Break the connection (the body fails, so the server aborts it).
    Drop,
}

pub fn send(text: impl Into<Bytes>) -> Step {
    Step::Send(text.into())
}

/// A body sent step by step from a task; it ends after the last step.
pub fn streamed(steps: Vec<Step>) -> TestBody {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        for step in steps {
            match step {
                Step::Send(bytes) => {
                    if tx.send(Ok(bytes)).await.is_err() {
                        return;
                    }
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Drop => {
                    let _ = tx.send(Err("dropped on purpose".into())).await;
                    return;
                }
            }
        }
    });
    TestBody { rx }
}

pub fn whole(body: impl Into<Bytes>) -> TestBody {
    let (tx, rx) = mpsc::channel(1);
    let body = body.into();
    if !body.is_empty() {
        let _ = tx.try_send(Ok(body));
    }
    TestBody { rx }
}

/// A response with a JSON body.
pub fn json(status: u16, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .header("content-type", "application/json")
        .body(whole(body))
        .expect("response")
}

/// A `Status` answer as the API server sends it.
pub fn status(code: u16, reason: &str, message: &str) -> Reply {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    json(code, body.to_string())
}

/// A client config for `server` that trusts `ca` (if given), with short timeouts.
pub fn config(url: &str, ca: Option<&Ca>) -> Config {
    let mut config = Config::new(url);
    config.tls = TlsConfig {
        ca_pem: ca.map(|ca| ca.pem.clone().into_bytes()),
        ..TlsConfig::default()
    };
    config.connect_timeout = Some(Duration::from_secs(5));
    config.request_timeout = Some(Duration::from_secs(10));
    config
}

pub static GET_POD: Operation = Operation {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    action: "get",
    namespaced: true,
    subresource: "",
    tag: "core_v1",
    ..Operation::untyped(
        "readCoreV1NamespacedPod",
        "GET",
        "/api/v1/namespaces/{namespace}/pods/{name}",
    )
};

pub static LIST_PODS: Operation = Operation {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    action: "list",
    namespaced: true,
    subresource: "",
    tag: "core_v1",
    ..Operation::untyped(
        "listCoreV1NamespacedPod",
        "GET",
        "/api/v1/namespaces/{namespace}/pods",
    )
};

pub static CREATE_POD: Operation = Operation {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    action: "post",
    namespaced: true,
    subresource: "",
    tag: "core_v1",
    ..Operation::untyped(
        "createCoreV1NamespacedPod",
        "POST",
        "/api/v1/namespaces/{namespace}/pods",
    )
};

pub static POD_LOG: Operation = Operation {
    group: "",
    version: "v1",
    kind: "",
    plural: "pods",
    action: "get",
    namespaced: true,
    subresource: "log",
    tag: "core_v1",
    ..Operation::untyped(
        "readCoreV1NamespacedPodLog",
        "GET",
        "/api/v1/namespaces/{namespace}/pods/{name}/log",
    )
};

pub static POD_EXEC: Operation = Operation {
    group: "",
    version: "v1",
    kind: "",
    plural: "pods",
    action: "connect",
    namespaced: true,
    subresource: "exec",
    tag: "core_v1",
    ..Operation::untyped(
        "connectCoreV1GetNamespacedPodExec",
        "GET",
        "/api/v1/namespaces/{namespace}/pods/{name}/exec",
    )
};

/// A pod as JSON, named `name`.
pub fn pod(name: &str, rv: u32) -> String {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": rv.to_string()},
    })
    .to_string()
}

/// kuber-testserver answering every request by hand (`handler(request, index)`, a hook), reached
/// in process through `Client::from_service`: the tests about what the client sends and how it
/// reads answers, with no socket. [`Server`] stays for what only a socket shows (TLS, proxies,
/// HTTP versions, broken connections).
pub struct InProcess {
    pub server: kuber_testserver::TestServer,
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl InProcess {
    pub async fn start<F>(handler: F) -> InProcess
    where
        F: Fn(Seen, usize) -> Reply + Send + Sync + 'static,
    {
        let server = kuber_testserver::TestServer::start()
            .await
            .expect("test server");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        server.on_request(kuber_testserver::Match::any(), move |req| {
            let target = match &req.raw_query {
                Some(q) => format!("{}?{q}", req.path),
                None => req.path.clone(),
            };
            let request = Seen {
                method: req.method.clone(),
                uri: target.clone(),
                path_and_query: target,
                version: Version::HTTP_11,
                headers: req.headers.clone(),
                body: req.body.clone(),
                client_cert: false,
            };
            let index = {
                let mut log = log.lock().expect("lock");
                log.push(request.clone());
                log.len() - 1
            };
            Some(hook_reply(handler(request, index)))
        });
        InProcess {
            url: server.url().to_owned(),
            server,
            seen,
        }
    }

    /// A client without retries (the tests count requests), in process.
    pub fn client(&self) -> kuber_api::Client {
        self.client_with(config(&self.url, None))
            .with_retries(0, false)
    }

    /// A client with `config` (retries as it sets them), in process.
    pub fn client_with(&self, config: Config) -> kuber_api::Client {
        kuber_api::Client::from_service(self.server.service(), config).expect("client")
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn requests(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }
}

/// A [`Reply`] of this module as the test server's hook answer: status, headers, body chunks.
fn hook_reply(reply: Reply) -> kuber_testserver::Reply {
    let (parts, body) = reply.into_parts();
    let mut out = kuber_testserver::Reply::new(parts.status.as_u16());
    for (name, value) in &parts.headers {
        out = out.header(name.as_str(), value.to_str().expect("header text"));
    }
    let chunks = futures_util::stream::unfold(body.rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(std::io::Error::other), rx))
    });
    out.chunks(chunks)
}

/// A request body as JSON: a protobuf body (magic and envelope) decoded as the type its envelope
/// names and encoded as JSON, any other body read as JSON.
pub fn body_json(body: &[u8]) -> serde_json::Value {
    #[cfg(feature = "protobuf")]
    if body.starts_with(&kuber_models::proto::MAGIC) {
        return protobuf_json(body);
    }
    serde_json::from_slice(body).expect("a JSON body")
}

#[cfg(feature = "protobuf")]
fn protobuf_json(body: &[u8]) -> serde_json::Value {
    struct ToJson<'a>(&'a [u8]);
    impl kuber_models::proto::MessageVisitor for ToJson<'_> {
        type Output = serde_json::Value;
        fn visit<T>(self) -> serde_json::Value
        where
            T: kuber_models::proto::Message
                + serde_core::Serialize
                + serde_core::de::DeserializeOwned
                + Clone
                + std::fmt::Debug
                + PartialEq
                + 'static,
        {
            let value: T = kuber_models::proto::decode_object(self.0).expect("a protobuf body");
            serde_json::to_value(value).expect("JSON")
        }
    }
    let env = kuber_models::proto::decode_envelope(body).expect("a protobuf envelope");
    kuber_models::proto::with_message_type(env.api_version, env.kind, ToJson(body))
        .expect("a protobuf kind of the models")
}
