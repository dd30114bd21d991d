//! HTTP: accepting connections, and the in-process service; both hand each request to
//! [`crate::pipeline`], parsed once.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::auth::User;
use crate::controls::Shared;
use crate::pipeline;
use crate::request::Parsed;
use crate::response::{self, Body, BoxError, ResponseBody};
use crate::status;

/// Reads a request once and serves it: the one way in for sockets and the service.
async fn respond<B>(shared: &Shared, peer: Option<User>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    match Parsed::read(req).await {
        Ok(parsed) => pipeline::handle(shared, peer, parsed).await,
        Err(e) => response::fail(status::bad_request(e)),
    }
}

/// [`crate::TestServer::service`]: the server without a socket.
#[derive(Clone)]
pub struct Service {
    shared: Arc<Shared>,
    /// Who the requests come from without credentials of their own, as a connection's client
    /// certificate says it.
    peer: Option<User>,
}

impl Service {
    pub(crate) fn new(shared: Arc<Shared>, peer: Option<User>) -> Service {
        Service { shared, peer }
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Service")
    }
}

impl<B> tower_service::Service<Request<B>> for Service
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        // Credentials of its own: as a connection without a client certificate.
        let peer = match req.headers().contains_key(hyper::header::AUTHORIZATION) {
            true => None,
            false => self.peer.clone(),
        };
        Box::pin(async move {
            let response = respond(&shared, peer, req).await;
            Ok(response.map(ResponseBody::new))
        })
    }
}

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let Ok((socket, _)) = accepted else { continue };
        // As Go's servers: without it the TLS handshake's small writes wait ~40 ms on the
        // peer's delayed ACK.
        let _ = socket.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stopped.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(TokioIo::new(socket), shared, None, &mut stop).await,
                Some(acceptor) => {
                    // A failed handshake ends just this connection.
                    let Ok(stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    // The user of a verified client certificate this server issued.
                    let peer = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| shared.controls.auth.cert_user(c.as_ref()));
                    connection(TokioIo::new(stream), shared, peer, &mut stop).await
                }
            }
        });
    }
}

async fn connection<IO>(
    io: TokioIo<IO>,
    shared: Arc<Shared>,
    peer: Option<User>,
    stop: &mut watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let peer = peer.clone();
        async move { Ok::<_, Infallible>(respond(&shared, peer, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    // With upgrades: exec and attach switch to WebSocket.
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::select! {
        _ = conn => {}
        _ = stop.changed() => {}
    }
}
