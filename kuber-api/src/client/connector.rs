//! Connections: TCP (directly, or through an http, https or SOCKS5 proxy with the `proxy`
//! feature), then TLS, all under the connect timeout.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

pub(crate) use crate::config::url::redact;

#[cfg(feature = "proxy")]
mod proxy;
#[cfg(feature = "proxy")]
pub(crate) use proxy::{Proxy, ProxyError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// The connector the pooled client uses.
#[derive(Clone)]
pub(crate) struct Connector {
    https: HttpsConnector<TcpConnector>,
    timeout: Option<Duration>,
}

impl Connector {
    /// `proxy_tls` is the TLS configuration for an https proxy ([`super::tls::proxy_client_config`]).
    /// `http2`: offer h2 by ALPN (with the `http2` feature); connections for upgrades must not,
    /// as HTTP/2 cannot switch protocols.
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        server_name: Option<rustls::pki_types::ServerName<'static>>,
        #[cfg(feature = "proxy")] proxy: Option<(Proxy, rustls::ClientConfig)>,
        timeout: Option<Duration>,
        http2: bool,
    ) -> Connector {
        let mut http = HttpConnector::new();
        // The https connector wraps it, so it must accept https URLs.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        #[cfg(feature = "proxy")]
        let via = proxy.map(|(proxy, proxy_tls)| proxy::Via::new(proxy, proxy_tls, &http));
        let tcp = TcpConnector {
            http,
            #[cfg(feature = "proxy")]
            via,
        };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        // `tls-server-name` replaces the URL host for both SNI and verification, as in client-go.
        let builder = match server_name {
            Some(name) => builder.with_server_name_resolver(FixedServerNameResolver::new(name)),
            None => builder,
        };
        // h2 and http/1.1 by ALPN; plain http is HTTP/1.1. HTTP/1.1 alone offers no ALPN
        // (hyper-rustls's setting), which servers answer with HTTP/1.1.
        #[cfg(feature = "http2")]
        let https = if http2 {
            builder.enable_all_versions().wrap_connector(tcp)
        } else {
            builder.enable_http1().wrap_connector(tcp)
        };
        #[cfg(not(feature = "http2"))]
        let https = {
            let _ = http2;
            builder.enable_http1().wrap_connector(tcp)
        };
        Connector { https, timeout }
    }
}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<Conn>;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.https.call(dst);
        let timeout = self.timeout;
        Box::pin(async move {
            match timeout {
                Some(after) => match tokio::time::timeout(after, connecting).await {
                    Ok(result) => result,
                    Err(_) => Err(Box::new(ConnectTimeout(after)) as BoxError),
                },
                None => connecting.await,
            }
        })
    }
}

/// Connecting (TCP, proxy and TLS) took longer than the connect timeout.
#[derive(Debug)]
pub(crate) struct ConnectTimeout(pub(crate) Duration);

impl fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect timed out after {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimeout {}

/// TCP to the server, or through the proxy.
#[derive(Clone)]
struct TcpConnector {
    http: HttpConnector,
    /// The proxy route, if any.
    #[cfg(feature = "proxy")]
    via: Option<proxy::Via>,
}

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

impl Service<Uri> for TcpConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = BoxFuture<Conn>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        #[cfg(feature = "proxy")]
        if let Some(via) = &mut self.via {
            return via.call(&mut self.http, dst);
        }
        let connecting = self.http.call(dst);
        Box::pin(async move {
            Ok(Conn {
                io: MaybeHttpsStream::Http(connecting.await?),
                proxied: false,
            })
        })
    }
}

/// A connection that knows whether it goes to a proxy (requests then use absolute form): TCP, or
/// TLS to an https proxy.
pub(crate) struct Conn {
    io: Stream,
    /// Requests go to an http(s) proxy in absolute form.
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
