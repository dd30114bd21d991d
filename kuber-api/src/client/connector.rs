//! Connections: TCP (directly, or through an http, https or SOCKS5 proxy), then TLS, all under
//! the connect timeout.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::Error;
use crate::config::Secret;
pub(crate) use crate::config::proxy::redact_userinfo;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// How the proxy is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// `http://`: CONNECT for https servers, absolute-form requests for http ones.
    Http,
    /// `https://`: the same, inside TLS to the proxy.
    Https,
    /// `socks5://` (names resolved here) or `socks5h://` (names resolved by the proxy).
    Socks5 { remote_dns: bool },
}

/// A proxy: where it is, and its credentials from the URL's user info.
#[derive(Clone)]
pub(crate) struct Proxy {
    kind: ProxyKind,
    /// `http(s)://host:port/`, without user info; a SOCKS proxy's address as `http://` for the
    /// TCP connector.
    uri: Uri,
    /// `scheme://host:port`, for messages.
    shown: String,
    /// `Proxy-Authorization` (http and https proxies).
    authorization: Option<HeaderValue>,
    /// SOCKS5 username and password.
    socks_auth: Option<(String, Secret<String>)>,
}

impl Proxy {
    /// Parses `scheme://[user:password@]host[:port]` with scheme `http`, `https`, `socks5` or
    /// `socks5h`, as Go's transport (and so kubectl) takes them. The port defaults to 80, 443
    /// and 1080. Errors never quote the user info.
    pub(crate) fn parse(url: &str) -> Result<Proxy, Error> {
        let invalid = |message: &str| Error::InvalidUrl {
            url: redact_userinfo(url),
            message: message.into(),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let (kind, default_port) = match uri.scheme_str() {
            Some("http") => (ProxyKind::Http, 80),
            Some("https") => (ProxyKind::Https, 443),
            Some("socks5") => (ProxyKind::Socks5 { remote_dns: false }, 1080),
            Some("socks5h") => (ProxyKind::Socks5 { remote_dns: true }, 1080),
            _ => {
                return Err(invalid(
                    "the proxy scheme must be http, https, socks5 or socks5h",
                ));
            }
        };
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let userinfo = authority.as_str().rsplit_once('@').map(|(u, _)| u);
        let host = authority.host();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = authority.port_u16().unwrap_or(default_port);
        let scheme = if kind == ProxyKind::Https {
            "https"
        } else {
            "http"
        };
        let uri = Uri::builder()
            .scheme(scheme)
            .authority(format!("{host}:{port}"))
            .path_and_query("/")
            .build()
            .map_err(|_| invalid("bad host"))?;
        let shown = format!("{}://{host}:{port}", uri_scheme(url));
        let (mut authorization, mut socks_auth) = (None, None);
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let (user, password) = (percent_decode(user), percent_decode(password));
            match kind {
                ProxyKind::Http | ProxyKind::Https => {
                    let mut basic = user;
                    basic.push(b':');
                    basic.extend_from_slice(&password);
                    let mut value = HeaderValue::try_from(format!("Basic {}", base64(&basic)))
                        .map_err(|_| invalid("bad user info"))?;
                    value.set_sensitive(true);
                    authorization = Some(value);
                }
                ProxyKind::Socks5 { .. } => {
                    // RFC 1929: each at most 255 bytes.
                    let (Ok(user), Ok(password)) =
                        (String::from_utf8(user), String::from_utf8(password))
                    else {
                        return Err(invalid("SOCKS5 user info is not UTF-8"));
                    };
                    if user.len() > 255 || password.len() > 255 {
                        return Err(invalid(
                            "SOCKS5 user name and password are at most 255 bytes each",
                        ));
                    }
                    socks_auth = Some((user, Secret::new(password)));
                }
            }
        }
        Ok(Proxy {
            kind,
            uri,
            shown,
            authorization,
            socks_auth,
        })
    }

    /// `Proxy-Authorization` for requests an http(s) proxy forwards in absolute form.
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        match self.kind {
            ProxyKind::Http | ProxyKind::Https => self.authorization.as_ref(),
            ProxyKind::Socks5 { .. } => None,
        }
    }
}

fn uri_scheme(url: &str) -> &str {
    url.split_once("://").map_or("", |(s, _)| s)
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// A failure on the way to or through the proxy, naming the proxy (never its credentials).
#[derive(Debug)]
pub(crate) struct ProxyError {
    proxy: String,
    message: &'static str,
    source: Option<BoxError>,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.message)
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl ProxyError {
    /// The proxy it names.
    pub(crate) fn proxy(&self) -> &str {
        &self.proxy
    }
}

/// The connector the pooled client uses.
#[derive(Clone)]
pub(crate) struct Connector {
    https: HttpsConnector<TcpConnector>,
    timeout: Option<Duration>,
}

impl Connector {
    /// `proxy_tls` is the TLS configuration for an https proxy ([`super::tls::proxy_client_config`]).
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        server_name: Option<rustls::pki_types::ServerName<'static>>,
        proxy: Option<(Proxy, rustls::ClientConfig)>,
        timeout: Option<Duration>,
    ) -> Connector {
        let mut http = HttpConnector::new();
        // The https connector wraps it, so it must accept https URLs.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        let route = match proxy {
            None => Route::Direct,
            Some((proxy, proxy_tls)) => match proxy.kind {
                ProxyKind::Http | ProxyKind::Https => {
                    // TLS to the proxy for https proxies (by the URI's scheme); HTTP/1.1, which
                    // CONNECT and absolute-form requests need.
                    let to_proxy = hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(proxy_tls)
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(http.clone());
                    let tunnel = Tunnel::new(proxy.uri.clone(), to_proxy.clone());
                    let tunnel = match &proxy.authorization {
                        Some(auth) => tunnel.with_auth(auth.clone()),
                        None => tunnel,
                    };
                    Route::Http(Box::new(HttpRoute {
                        proxy,
                        to_proxy,
                        tunnel,
                    }))
                }
                ProxyKind::Socks5 { remote_dns } => Route::Socks {
                    proxy: Box::new(proxy),
                    remote_dns,
                },
            },
        };
        let tcp = TcpConnector { http, route };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        // `tls-server-name` replaces the URL host for both SNI and verification, as in client-go.
        let builder = match server_name {
            Some(name) => builder.with_server_name_resolver(FixedServerNameResolver::new(name)),
            None => builder,
        };
        // h2 and http/1.1 by ALPN; plain http is HTTP/1.1.
        #[cfg(feature = "http2")]
        let https = builder.enable_all_versions().wrap_connector(tcp);
        #[cfg(not(feature = "http2"))]
        let https = builder.enable_http1().wrap_connector(tcp);
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
    route: Route,
}

type ToProxy = HttpsConnector<HttpConnector>;
type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

#[derive(Clone)]
enum Route {
    Direct,
    /// An http or https proxy: a CONNECT tunnel for https servers, the proxy itself (requests
    /// in absolute form) for http servers.
    Http(Box<HttpRoute>),
    /// A SOCKS5 tunnel for every server.
    Socks {
        proxy: Box<Proxy>,
        remote_dns: bool,
    },
}

#[derive(Clone)]
struct HttpRoute {
    proxy: Proxy,
    to_proxy: ToProxy,
    tunnel: Tunnel<ToProxy>,
}

impl Service<Uri> for TcpConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = BoxFuture<Conn>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let is_https = dst.scheme_str() == Some("https");
        match &mut self.route {
            Route::Direct => {
                let connecting = self.http.call(dst);
                Box::pin(async move {
                    Ok(Conn {
                        io: MaybeHttpsStream::Http(connecting.await?),
                        proxied: false,
                    })
                })
            }
            Route::Http(route) if is_https => {
                let shown = route.proxy.shown.clone();
                let connecting = route.tunnel.call(dst);
                Box::pin(async move {
                    // TunnelError says which step failed ("proxy authorization required").
                    let io = connecting
                        .await
                        .map_err(|e| proxy_error(&shown, "CONNECT", e))?;
                    Ok(Conn { io, proxied: false })
                })
            }
            Route::Http(route) => {
                let shown = route.proxy.shown.clone();
                let connecting = route.to_proxy.call(route.proxy.uri.clone());
                Box::pin(async move {
                    let io = connecting
                        .await
                        .map_err(|e| proxy_error(&shown, "cannot connect", e))?;
                    Ok(Conn { io, proxied: true })
                })
            }
            Route::Socks { proxy, remote_dns } => {
                let proxy = proxy.clone();
                let remote_dns = *remote_dns;
                let connecting = self.http.call(proxy.uri.clone());
                Box::pin(async move {
                    let shown = &proxy.shown;
                    // The names reach the proxy as given (socks5h) or as addresses resolved
                    // here, without blocking the runtime (socks5).
                    let target = socks_target(&dst, remote_dns)
                        .await
                        .map_err(|e| proxy_error(shown, "cannot resolve the server", e))?;
                    // Our own TCP connection, so that its errors keep their cause.
                    let tcp = connecting
                        .await
                        .map_err(|e| proxy_error(shown, "cannot connect", e))?;
                    let socks = SocksV5::new(proxy.uri.clone(), Established(Some(tcp)));
                    let mut socks = match &proxy.socks_auth {
                        Some((user, password)) => {
                            socks.with_auth(user.clone(), password.expose().clone())
                        }
                        None => socks,
                    };
                    // Its messages name the step ("credentials not accepted"), nothing secret.
                    let tcp = socks
                        .call(target)
                        .await
                        .map_err(|e| proxy_error(shown, "SOCKS5", e.to_string()))?;
                    Ok(Conn {
                        io: MaybeHttpsStream::Http(tcp),
                        proxied: false,
                    })
                })
            }
        }
    }
}

fn proxy_error(proxy: &str, message: &'static str, source: impl Into<BoxError>) -> BoxError {
    Box::new(ProxyError {
        proxy: proxy.to_owned(),
        message,
        source: Some(source.into()),
    })
}

/// A connection already made, handed to the SOCKS handshake as its "connector".
struct Established(Option<TokioIo<TcpStream>>);

impl Service<Uri> for Established {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = std::future::Ready<Result<TokioIo<TcpStream>, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| io::Error::other("the connection to the proxy was used already")),
        )
    }
}

/// The server's address for the SOCKS request, always with its port (hyper-util assumes 443):
/// its name for socks5h, an address resolved here for socks5.
async fn socks_target(dst: &Uri, remote_dns: bool) -> Result<Uri, BoxError> {
    let host = dst.host().ok_or("the server URL has no host")?;
    let port = dst
        .port_u16()
        .unwrap_or(if dst.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let authority = if remote_dns || bare.parse::<std::net::IpAddr>().is_ok() {
        format!("{host}:{port}")
    } else {
        let addr = tokio::net::lookup_host((bare, port))
            .await?
            .next()
            .ok_or("the server's name resolves to no address")?;
        addr.to_string()
    };
    Ok(Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query("/")
        .build()?)
}

/// A connection that knows whether it goes to a proxy (requests then use absolute form): TCP, or
/// TLS to an https proxy.
pub(crate) struct Conn {
    io: Stream,
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

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding, for basic credentials.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn proxy_user_info_becomes_basic_auth_and_is_redacted() {
        let p = Proxy::parse("http://us%40er:pa%3Ass@proxy.local:3128").unwrap();
        assert_eq!(p.uri.to_string(), "http://proxy.local:3128/");
        assert_eq!(
            p.authorization().unwrap(),
            &format!("Basic {}", base64(b"us@er:pa:ss"))
        );
        assert_eq!(
            redact_userinfo("http://u:p@h:1/x"),
            "http://<redacted>@h:1/x"
        );
        assert!(Proxy::parse("ftp://h:1").is_err());
    }
}
