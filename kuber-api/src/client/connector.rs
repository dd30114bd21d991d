//! Connections: TCP (directly or through an HTTP proxy), then TLS, all under the connect timeout.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// An HTTP proxy: where it is, and its credentials from the URL's user info.
#[derive(Clone)]
pub(crate) struct Proxy {
    uri: Uri,
    authorization: Option<HeaderValue>,
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port]`. Only http proxies are supported (as most
    /// cluster proxies are); https and socks proxies are refused rather than misused.
    pub(crate) fn parse(url: &str) -> Result<Proxy, Error> {
        let invalid = |message: &str| Error::InvalidUrl {
            url: redact_userinfo(url),
            message: message.into(),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http:// proxies are supported"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let (userinfo, host_port) = match authority.as_str().rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority.as_str()),
        };
        let uri = Uri::builder()
            .scheme("http")
            .authority(host_port)
            .path_and_query("/")
            .build()
            .map_err(|_| invalid("bad host"))?;
        let authorization = match userinfo {
            Some(userinfo) => {
                let decoded = percent_decode(userinfo);
                let mut value = HeaderValue::try_from(format!("Basic {}", base64(&decoded)))
                    .map_err(|_| invalid("bad user info"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Proxy { uri, authorization })
    }

    /// `Proxy-Authorization` for requests sent through the proxy in absolute form.
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uri)
    }
}

/// The URL with any `user:password@` removed, for messages.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) if scheme.is_empty() => format!("<redacted>@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The connector the pooled client uses.
#[derive(Clone)]
pub(crate) struct Connector {
    https: HttpsConnector<TcpConnector>,
    timeout: Option<Duration>,
}

impl Connector {
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        server_name: Option<rustls::pki_types::ServerName<'static>>,
        proxy: Option<Proxy>,
        timeout: Option<Duration>,
    ) -> Connector {
        let mut http = HttpConnector::new();
        // The https connector wraps it, so it must accept https URLs.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        let tunnel = proxy.as_ref().map(|p| {
            let tunnel = Tunnel::new(p.uri.clone(), http.clone());
            match &p.authorization {
                Some(auth) => tunnel.with_auth(auth.clone()),
                None => tunnel,
            }
        });
        let tcp = TcpConnector {
            http,
            proxy: proxy.map(|p| p.uri),
            tunnel,
        };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        // `tls-server-name` replaces the URL host for both SNI and verification, as in client-go.
        let builder = match server_name {
            Some(name) => builder.with_server_name_resolver(FixedServerNameResolver::new(name)),
            None => builder,
        };
        // h2 and http/1.1 by ALPN; plain http is HTTP/1.1.
        let https = builder.enable_all_versions().wrap_connector(tcp);
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

/// TCP to the server, or to the proxy: a CONNECT tunnel for https servers, a plain connection
/// (requests in absolute form) for http servers.
#[derive(Clone)]
struct TcpConnector {
    http: HttpConnector,
    proxy: Option<Uri>,
    tunnel: Option<Tunnel<HttpConnector>>,
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
        match (&self.proxy, &mut self.tunnel) {
            (Some(_), Some(tunnel)) if is_https => {
                let connecting = tunnel.call(dst);
                Box::pin(async move {
                    // TunnelError says which step failed ("tunnel error: proxy authorization required").
                    let io = connecting.await.map_err(|e| Box::new(e) as BoxError)?;
                    Ok(Conn { io, proxied: false })
                })
            }
            (Some(proxy), _) => {
                let connecting = self.http.call(proxy.clone());
                Box::pin(async move {
                    Ok(Conn {
                        io: connecting.await?,
                        proxied: true,
                    })
                })
            }
            (None, _) => {
                let connecting = self.http.call(dst);
                Box::pin(async move {
                    Ok(Conn {
                        io: connecting.await?,
                        proxied: false,
                    })
                })
            }
        }
    }
}

/// A TCP connection that knows whether it goes to a proxy (requests then use absolute form).
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
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
        assert!(Proxy::parse("socks5://h:1").is_err());
    }
}
