//! The real API server through proxies run in the process: an HTTP CONNECT proxy and a SOCKS5
//! proxy resolving names itself (socks5h), both asking for credentials. Each counts its
//! connections, so a call that went around it fails the case.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kuber_api::{Client, CoreV1Api, ListParams};
use kuber_tests::cluster::base64;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![
        case!("proxy/http-connect-with-credentials", http_connect),
        case!("proxy/socks5h-with-credentials", socks5h),
    ]
}

const USER: &str = "e2e";
const PASSWORD: &str = "pw:e2e@proxy";

/// Lists namespaces through `proxy_url` and checks the proxy carried it.
async fn list_through(e2e: &E2e, proxy_url: String, connections: &AtomicUsize) -> Outcome {
    let mut config = e2e.admin.config().clone();
    config.proxy = Some(proxy_url);
    let client = Client::new(config).context("client through the proxy")?;
    ensure(!format!("{client:?}").contains("e2e@proxy"), || {
        "the proxy password shows in Debug".into()
    })?;
    let list = CoreV1Api::new(client)
        .list_namespace(&ListParams::default())
        .await
        .context("list namespaces through the proxy")?;
    ensure(
        list.items
            .iter()
            .any(|n| n.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some("default")),
        || "the list through the proxy has no default namespace".into(),
    )?;
    let n = connections.load(Ordering::SeqCst);
    ensure(n >= 1, || format!("the proxy saw {n} connections"))
}

async fn http_connect(e2e: &E2e) -> Outcome {
    let (addr, connections) = spawn(Kind::Connect).await?;
    let url = format!("http://{USER}:{}@{addr}", encode(PASSWORD));
    list_through(e2e, url, &connections).await
}

async fn socks5h(e2e: &E2e) -> Outcome {
    let (addr, connections) = spawn(Kind::Socks5).await?;
    let url = format!("socks5h://{USER}:{}@{addr}", encode(PASSWORD));
    list_through(e2e, url, &connections).await
}

/// The password as URL user info (every byte but letters and digits escaped).
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Clone, Copy)]
enum Kind {
    Connect,
    Socks5,
}

/// A proxy on a free port; it counts the connections that authenticated.
async fn spawn(kind: Kind) -> Result<(SocketAddr, Arc<AtomicUsize>), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind the proxy")?;
    let addr = listener.local_addr().context("proxy address")?;
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((io, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let target = match kind {
                    Kind::Connect => connect_handshake(io).await,
                    Kind::Socks5 => socks5_handshake(io).await,
                };
                if let Ok((mut io, target)) = target
                    && let Ok(mut upstream) = TcpStream::connect(&target).await
                {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let reply: &[u8] = match kind {
                        Kind::Connect => b"HTTP/1.1 200 Connection established\r\n\r\n",
                        Kind::Socks5 => &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0],
                    };
                    if io.write_all(reply).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut io, &mut upstream).await;
                    }
                }
            });
        }
    });
    Ok((addr, connections))
}

type Handshake = Result<(TcpStream, String), ()>;

/// Reads `CONNECT host:port`, checking `Proxy-Authorization`.
async fn connect_handshake(mut io: TcpStream) -> Handshake {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if io.read(&mut byte).await.map_err(|_| ())? == 0 || head.len() > 8192 {
            return Err(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let expected = format!(
        "proxy-authorization: basic {}",
        base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    if !head.contains(&expected.to_ascii_lowercase()) {
        let _ = io
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .await;
        return Err(());
    }
    let target = head.split_whitespace().nth(1).ok_or(())?.to_owned();
    Ok((io, target))
}

/// A SOCKS5 handshake with user/password (RFC 1928, 1929); resolves names itself.
async fn socks5_handshake(mut io: TcpStream) -> Handshake {
    let e = |_| ();
    let mut two = [0u8; 2];
    io.read_exact(&mut two).await.map_err(e)?;
    let mut methods = vec![0u8; usize::from(two[1])];
    io.read_exact(&mut methods).await.map_err(e)?;
    if !methods.contains(&2) {
        let _ = io.write_all(&[5, 0xff]).await;
        return Err(());
    }
    io.write_all(&[5, 2]).await.map_err(e)?;
    io.read_exact(&mut two[..2]).await.map_err(e)?;
    let user = read_bytes(&mut io, usize::from(two[1])).await?;
    let len = read_bytes(&mut io, 1).await?[0];
    let password = read_bytes(&mut io, usize::from(len)).await?;
    let ok = user == USER.as_bytes() && password == PASSWORD.as_bytes();
    io.write_all(&[1, if ok { 0 } else { 1 }])
        .await
        .map_err(e)?;
    if !ok {
        return Err(());
    }
    let head = read_bytes(&mut io, 4).await?;
    let host = match head[3] {
        1 => std::net::Ipv4Addr::from(
            <[u8; 4]>::try_from(read_bytes(&mut io, 4).await?).map_err(|_| ())?,
        )
        .to_string(),
        3 => {
            let len = read_bytes(&mut io, 1).await?[0];
            String::from_utf8(read_bytes(&mut io, usize::from(len)).await?).map_err(|_| ())?
        }
        _ => return Err(()),
    };
    let port = read_bytes(&mut io, 2).await?;
    Ok((
        io,
        format!("{host}:{}", u16::from_be_bytes([port[0], port[1]])),
    ))
}

async fn read_bytes<R: AsyncRead + AsyncWrite + Unpin>(
    io: &mut R,
    n: usize,
) -> Result<Vec<u8>, ()> {
    let mut buf = vec![0u8; n];
    io.read_exact(&mut buf).await.map_err(|_| ())?;
    Ok(buf)
}
