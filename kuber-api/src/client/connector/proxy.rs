//! Proxies (feature `proxy`): http and https proxies (CONNECT tunnels for https servers,
//! absolute-form requests for http ones) and SOCKS5, as Go's transport (and so kubectl) speaks
//! to them.

use std::fmt;
use std::io;
use std::task::{Context, Poll};

use http::{HeaderValue, Uri};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::rt::TokioIo;
use kuber_models::special::ByteString;
use tokio::net::TcpStream;
use tower_service::Service;

use super::{BoxError, BoxFuture, Conn, redact};
use crate::Error;
use crate::config::Secret;
use crate::config::url::parse_proxy;

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
    /// Parses `scheme://[user:password@]host[:port][/]` with scheme `http`, `https`, `socks5` or
    /// `socks5h`, as Go's transport (and so kubectl) takes them ([`parse_proxy`]). The port
    /// defaults to 80, 443 and 1080. Errors never quote the user info, nor anything past the
    /// scheme of a URL that does not parse.
    pub(crate) fn parse(url: &str) -> Result<Proxy, Error> {
        let invalid = |message: String| Error::InvalidUrl {
            url: redact(url),
            message: format!("proxy: {message}"),
        };
        let parsed = parse_proxy(url).map_err(|e| invalid(e.to_string()))?;
        let (kind, default_port) = match parsed.scheme {
            "http" => (ProxyKind::Http, 80),
            "https" => (ProxyKind::Https, 443),
            "socks5" => (ProxyKind::Socks5 { remote_dns: false }, 1080),
            _ => (ProxyKind::Socks5 { remote_dns: true }, 1080),
        };
        // IPv6 addresses go back into brackets.
        let host = match parsed.host {
            v6 if v6.contains(':') => format!("[{v6}]"),
            name => name.to_owned(),
        };
        let port: u16 = match parsed.port {
            Some(port) => port.parse().map_err(|_| invalid("invalid port".into()))?,
            None => default_port,
        };
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
            .map_err(|_| invalid("invalid host".into()))?;
        let shown = format!("{}://{host}:{port}", parsed.scheme);
        let (mut authorization, mut socks_auth) = (None, None);
        if let Some(userinfo) = parsed.userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let (user, password) = (percent_decode(user), percent_decode(password));
            match kind {
                ProxyKind::Http | ProxyKind::Https => {
                    let mut basic = user;
                    basic.push(b':');
                    basic.extend_from_slice(&password);
                    let mut value =
                        HeaderValue::try_from(format!("Basic {}", ByteString(basic).to_base64()))
                            .map_err(|_| invalid("invalid user info".into()))?;
                    value.set_sensitive(true);
                    authorization = Some(value);
                }
                ProxyKind::Socks5 { .. } => {
                    // RFC 1929: each at most 255 bytes.
                    let (Ok(user), Ok(password)) =
                        (String::from_utf8(user), String::from_utf8(password))
                    else {
                        return Err(invalid("SOCKS5 user info is not UTF-8".into()));
                    };
                    if user.len() > 255 || password.len() > 255 {
                        return Err(invalid(
                            "SOCKS5 user name and password are at most 255 bytes each".into(),
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

/// How requests reach the server through a proxy.
#[derive(Clone)]
pub(super) enum Via {
    /// An http or https proxy: a CONNECT tunnel for https servers, the proxy itself (requests
    /// in absolute form) for http servers.
    Http(Box<HttpRoute>),
    /// A SOCKS5 tunnel for every server.
    Socks { proxy: Box<Proxy>, remote_dns: bool },
}

type ToProxy = HttpsConnector<HttpConnector>;

impl Via {
    /// `proxy_tls` is the TLS configuration for an https proxy ([`super::super::tls::proxy_client_config`]).
    pub(super) fn new(proxy: Proxy, proxy_tls: rustls::ClientConfig, http: &HttpConnector) -> Via {
        match proxy.kind {
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
                Via::Http(Box::new(HttpRoute {
                    proxy,
                    to_proxy,
                    tunnel,
                }))
            }
            ProxyKind::Socks5 { remote_dns } => Via::Socks {
                proxy: Box::new(proxy),
                remote_dns,
            },
        }
    }

    pub(super) fn call(&mut self, http: &mut HttpConnector, dst: Uri) -> BoxFuture<Conn> {
        let is_https = dst.scheme_str() == Some("https");
        match self {
            Via::Http(route) if is_https => {
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
            Via::Http(route) => {
                let shown = route.proxy.shown.clone();
                let connecting = route.to_proxy.call(route.proxy.uri.clone());
                Box::pin(async move {
                    let io = connecting
                        .await
                        .map_err(|e| proxy_error(&shown, "cannot connect", e))?;
                    Ok(Conn { io, proxied: true })
                })
            }
            Via::Socks { proxy, remote_dns } => {
                let proxy = proxy.clone();
                let remote_dns = *remote_dns;
                let connecting = http.call(proxy.uri.clone());
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

#[derive(Clone)]
pub(super) struct HttpRoute {
    proxy: Proxy,
    to_proxy: ToProxy,
    tunnel: Tunnel<ToProxy>,
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

fn percent_decode(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_user_info_becomes_basic_auth_and_is_redacted() {
        let p = Proxy::parse("http://us%40er:pa%3Ass@proxy.local:3128").unwrap();
        assert_eq!(p.uri.to_string(), "http://proxy.local:3128/");
        assert_eq!(p.authorization().unwrap(), "Basic dXNAZXI6cGE6c3M=");
        assert_eq!(redact("http://u:p@h:1/x"), "http://<redacted>@h:1/x");
        assert!(Proxy::parse("ftp://h:1").is_err());
        // Go takes an `@` in the password; the user info ends at the last one.
        let p = Proxy::parse("http://u:p@ss@proxy.local").unwrap();
        assert_eq!(p.uri.to_string(), "http://proxy.local:80/");
        assert_eq!(p.authorization().unwrap(), "Basic dTpwQHNz");
    }
}
