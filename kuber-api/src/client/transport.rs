//! The seam between the client and the network: any tower [`Service`] of
//! `http::Request<RequestBody>` to `http::Response<B>`, the pooled hyper + rustls connection
//! ([`HyperTransport`]) being the default.
//!
//! Everything that makes a call a Kubernetes call (credentials and their refresh on a 401,
//! impersonation, retries and backoff, timeouts, gzip, the kind check) stays above the seam, in
//! [`Client`](super::Client): a service below it sees finished requests and hands back answers,
//! as kube-client's does. Layers (tracing, metrics, an auth of one's own) wrap the service in
//! the usual tower way ([`ClientBuilder::layer`](super::ClientBuilder::layer)).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http::header::{PROXY_AUTHORIZATION, UPGRADE};
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::connector::Connector;
#[cfg(feature = "proxy")]
use super::connector::Proxy;
#[cfg(not(feature = "proxy"))]
use super::connector::redact;
use super::tls::{self, ExecIdentity};
use crate::Error;
use crate::config::{Auth, ClientIdentity, Config};

/// The traits a transport and its layers implement, for those who write their own.
pub use tower_layer::Layer;
pub use tower_service::Service;

/// The error type of the seam: whatever the service fails with, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The body of a request the client sends: the whole encoded body (JSON, a patch), or none.
///
/// The client builds every request in full before it reaches the service, so a service (or a
/// layer, or an in-process server) may read it at once with [`RequestBody::as_bytes`].
/// `Debug` shows only the length: a body may be a Secret.
#[derive(Clone, Default)]
pub struct RequestBody {
    /// `None` once polled, or for a request without a body.
    data: Option<Bytes>,
}

impl RequestBody {
    /// A body of `bytes` (none if empty).
    pub fn new(bytes: impl Into<Bytes>) -> RequestBody {
        let bytes = bytes.into();
        RequestBody {
            data: (!bytes.is_empty()).then_some(bytes),
        }
    }

    /// No body.
    pub fn empty() -> RequestBody {
        RequestBody { data: None }
    }

    /// The bytes not yet polled: all of them until the body is read as a [`Body`].
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or_default()
    }

    /// The bytes not yet polled.
    pub fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestBody(<{} bytes>)", self.as_bytes().len())
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> RequestBody {
        RequestBody::new(bytes)
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> RequestBody {
        RequestBody::new(bytes)
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.get_mut().data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// The body of an answer as the service handed it over: hyper's own for the default transport,
/// any other [`Body`] boxed.
pub struct ResponseBody(Inner);

enum Inner {
    Hyper(Incoming),
    /// In a mutex only to be `Sync` (streams built on it are), which bodies need not be; it is
    /// polled through `&mut` (`get_mut`), so never locked on the way.
    Boxed(Mutex<UnsyncBoxBody<Bytes, BoxError>>),
}

impl ResponseBody {
    /// Any body, boxed (a `ResponseBody` is taken as it is, so layers that pass the default
    /// transport's bodies through cost no box).
    pub fn new<B>(body: B) -> ResponseBody
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(own) = (&mut slot as &mut dyn Any).downcast_mut::<Option<ResponseBody>>()
            && let Some(own) = own.take()
        {
            return own;
        }
        // Still full: only a `ResponseBody` was taken out.
        let Some(body) = slot else {
            return ResponseBody::new(http_body_util::Empty::<Bytes>::new());
        };
        ResponseBody(Inner::Boxed(Mutex::new(
            body.map_err(Into::into).boxed_unsync(),
        )))
    }

    fn hyper(body: Incoming) -> ResponseBody {
        ResponseBody(Inner::Hyper(body))
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Hyper(_) => "ResponseBody(hyper)",
            Inner::Boxed(_) => "ResponseBody(boxed)",
        })
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            Inner::Hyper(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|f| f.map(|f| f.map_err(Into::into))),
            Inner::Boxed(body) => {
                let body = match body.get_mut() {
                    Ok(body) => body,
                    Err(poisoned) => poisoned.into_inner(),
                };
                Pin::new(body).poll_frame(cx)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Hyper(body) => body.is_end_stream(),
            Inner::Boxed(body) => body.lock().is_ok_and(|b| b.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Hyper(body) => body.size_hint(),
            Inner::Boxed(body) => body.lock().map(|b| b.size_hint()).unwrap_or_default(),
        }
    }
}

/// The default transport: pooled HTTP/1.1 and (with `http2`) HTTP/2 connections over rustls,
/// through the config's proxy, within its connect timeout. Requests with an `Upgrade` header
/// (exec, attach, port-forward) go over HTTP/1.1 connections of their own, and a 101 answer
/// carries hyper's upgrade. Cheap to clone: clones share the pool.
///
/// It is a [`Service`], so it can be wrapped in layers and handed to
/// [`Client::from_service`](super::Client::from_service); [`Client::new`](super::Client::new)
/// uses it as it is.
#[derive(Clone)]
pub struct HyperTransport {
    shared: Arc<HyperShared>,
}

struct HyperShared {
    /// Replaced (with a fresh pool) only when an exec plugin hands out a new client certificate,
    /// so that no request goes out on a connection made with the old one.
    pool: RwLock<Pools>,
    connector: Connector,
    /// The same connections without HTTP/2, for requests that upgrade (exec, attach,
    /// port-forward): an HTTP/2 connection cannot switch protocols.
    http1_connector: Connector,
    /// The client certificate of an exec plugin, for exec credentials without a configured one.
    exec_identity: Option<Arc<ExecIdentity>>,
    /// For an http server behind an http(s) proxy: requests in absolute form carry the proxy's
    /// credentials themselves (https servers use a CONNECT tunnel, SOCKS its handshake). Added
    /// here, below any layer, so no layer sees them.
    proxy_authorization: Option<HeaderValue>,
}

impl HyperTransport {
    /// The transport `config` describes: its TLS settings, proxy and connect timeout. Fails on
    /// unusable TLS material or proxy.
    pub fn new(config: &Config) -> Result<HyperTransport, Error> {
        let exec_identity = match (&config.auth, &config.tls.client_cert_pem) {
            (Auth::Exec(_), None) => Some(Arc::new(ExecIdentity::new())),
            _ => None,
        };
        let tls = tls::client_config(&config.tls, exec_identity.clone())?;
        let server_name = config
            .tls
            .server_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(tls::server_name)
            .transpose()?;
        #[cfg(feature = "proxy")]
        let proxy = config
            .proxy
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(Proxy::parse)
            .transpose()?;
        // Going around a proxy the config names would be a request nobody meant.
        #[cfg(not(feature = "proxy"))]
        if let Some(proxy) = config.proxy.as_deref().filter(|p| !p.is_empty()) {
            return Err(Error::InvalidUrl {
                url: redact(proxy),
                message: "a proxy is set (proxy-url, or HTTPS_PROXY/HTTP_PROXY), but kuber-api \
                          is built without its `proxy` feature"
                    .into(),
            });
        }
        #[cfg(feature = "proxy")]
        let http_server = config
            .server
            .parse::<http::Uri>()
            .is_ok_and(|u| u.scheme_str() == Some("http"));
        #[cfg(feature = "proxy")]
        let proxy_authorization = proxy
            .as_ref()
            .and_then(Proxy::authorization)
            .filter(|_| http_server)
            .cloned();
        #[cfg(not(feature = "proxy"))]
        let proxy_authorization = None;
        #[cfg(feature = "proxy")]
        let proxy = match proxy {
            Some(proxy) => Some((proxy, tls::proxy_client_config(&config.tls)?)),
            None => None,
        };
        let connector = |tls, http2| {
            Connector::new(
                tls,
                server_name.clone(),
                #[cfg(feature = "proxy")]
                proxy.clone(),
                config.connect_timeout,
                http2,
            )
        };
        let http1_connector = connector(tls.clone(), false);
        let connector = connector(tls, true);
        Ok(HyperTransport {
            shared: Arc::new(HyperShared {
                pool: RwLock::new(Pools::new(&connector, &http1_connector)),
                connector,
                http1_connector,
                exec_identity,
                proxy_authorization,
            }),
        })
    }

    /// Sends one request on a pooled connection.
    pub(crate) fn request(
        &self,
        mut req: http::Request<RequestBody>,
    ) -> impl Future<Output = Result<http::Response<ResponseBody>, BoxError>> + Send + 'static {
        if let Some(auth) = &self.shared.proxy_authorization {
            req.headers_mut().insert(PROXY_AUTHORIZATION, auth.clone());
        }
        let pools = match self.shared.pool.read() {
            Ok(pools) => pools.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let pool = if req.headers().contains_key(UPGRADE) {
            // An upgrade is an HTTP/1.1 exchange whatever the request says (hyper would refuse
            // `Connection: Upgrade` on HTTP/2).
            *req.version_mut() = http::Version::HTTP_11;
            pools.http1
        } else {
            pools.any
        };
        let answer = pool.request(req);
        async move {
            match answer.await {
                Ok(res) => Ok(res.map(ResponseBody::hyper)),
                Err(e) => Err(Box::new(e) as BoxError),
            }
        }
    }

    /// Whether client certificates come from an exec plugin.
    pub(crate) fn takes_exec_identity(&self) -> bool {
        self.shared.exec_identity.is_some()
    }

    /// Takes the exec plugin's current client certificate; a new one gets a fresh pool.
    pub(crate) fn update_exec_identity(&self, current: &ClientIdentity) -> Result<(), Error> {
        let Some(identity) = &self.shared.exec_identity else {
            return Ok(());
        };
        if identity.update(current)? {
            let fresh = Pools::new(&self.shared.connector, &self.shared.http1_connector);
            match self.shared.pool.write() {
                Ok(mut pool) => *pool = fresh,
                Err(poisoned) => *poisoned.into_inner() = fresh,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("exec_identity", &self.shared.exec_identity.is_some())
            .finish_non_exhaustive()
    }
}

impl Service<http::Request<RequestBody>> for HyperTransport {
    type Response = http::Response<ResponseBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<http::Response<ResponseBody>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The pool takes any number of requests.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<RequestBody>) -> Self::Future {
        Box::pin(self.request(req))
    }
}

/// The connection pools of one client certificate: replaced together.
#[derive(Clone)]
struct Pools {
    /// HTTP/1.1 or (with `http2`) HTTP/2 per connection, as ALPN decides.
    any: PooledClient<Connector, RequestBody>,
    /// HTTP/1.1 only, for upgrades.
    http1: PooledClient<Connector, RequestBody>,
}

impl Pools {
    fn new(connector: &Connector, http1_connector: &Connector) -> Pools {
        Pools {
            any: pool(connector.clone(), 90),
            // An upgraded connection leaves the pool; one answered otherwise (a 403) may be
            // kept a little, for the retry after a 401.
            http1: pool(http1_connector.clone(), 10),
        }
    }
}

/// A pooled client keeping idle connections `idle_secs` seconds.
fn pool(connector: Connector, idle_secs: u64) -> PooledClient<Connector, RequestBody> {
    let mut builder = PooledClient::builder(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(idle_secs));
    // HTTP/2 pings find dead connections, which matters for long watches.
    #[cfg(feature = "http2")]
    builder
        .http2_keep_alive_interval(Duration::from_secs(30))
        .http2_keep_alive_timeout(Duration::from_secs(15));
    builder.build(connector)
}

/// Where a client's requests go.
pub(crate) enum Transport {
    /// The default, called directly (no boxing of the service).
    Hyper(HyperTransport),
    /// Any other service, layers over the default included.
    Service(Box<dyn Erased>),
}

impl Transport {
    /// `service` behind a lock (the bounds are [`Locked`]'s).
    pub(crate) fn service<S>(service: S) -> Transport
    where
        Locked<S>: Erased + 'static,
    {
        Transport::Service(Box::new(Locked(tokio::sync::Mutex::new(service))))
    }

    pub(crate) async fn send(
        &self,
        req: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>, BoxError> {
        match self {
            Transport::Hyper(hyper) => hyper.request(req).await,
            Transport::Service(service) => service.send(req).await,
        }
    }
}

/// A service behind `&self`, whatever its type.
pub(crate) trait Erased: Send + Sync {
    fn send(
        &self,
        req: http::Request<RequestBody>,
    ) -> BoxFuture<'_, Result<http::Response<ResponseBody>, BoxError>>;
}

/// Services take `&mut self` and need not be `Clone` or `Sync`: the lock is held while the
/// service gets ready and takes the request, not while it answers (what tower's `Buffer` does,
/// without its task).
pub(crate) struct Locked<S>(tokio::sync::Mutex<S>);

impl<S, B> Erased for Locked<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn send(
        &self,
        req: http::Request<RequestBody>,
    ) -> BoxFuture<'_, Result<http::Response<ResponseBody>, BoxError>> {
        Box::pin(async move {
            let answer = {
                let mut service = self.0.lock().await;
                std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(Into::into)?;
                service.call(req)
            };
            let res = answer.await.map_err(Into::into)?;
            Ok(res.map(ResponseBody::new))
        })
    }
}
