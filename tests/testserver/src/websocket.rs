//! The WebSocket side of exec, attach and port-forward: hyper does the HTTP upgrade (so it works
//! on every connection the server accepts, TLS included) and tokio-tungstenite frames the
//! messages, as kuber-api's client does. Messages are binary, their first byte the channel.

use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Empty};
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::request::Parsed;
use crate::response::Body;
use crate::status::{self, Failure};

pub(crate) type Socket = WebSocketStream<TokioIo<Upgraded>>;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// No message from a test client is larger (stdin chunks are 32 KiB in client-go).
pub(crate) const MAX_MESSAGE: usize = 16 << 20;
/// How long a closed session waits for the peer's Close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// RFC 6455's `Sec-WebSocket-Accept` (tokio-tungstenite's helper needs its `handshake` feature).
fn accept_key(key: &[u8]) -> String {
    let mut input = key.to_vec();
    input.extend_from_slice(GUID.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// A WebSocket request the server takes: the subprotocol chosen and the connection to come.
pub(crate) struct Accepted {
    protocol: Option<&'static str>,
    accept: String,
    upgrade: OnUpgrade,
}

/// Checks that `req` asks for a WebSocket with one of `supported` (in the server's order of
/// preference; with `none_ok`, offering none is fine too). `what` names the request in errors.
pub(crate) fn accept(
    req: &mut Parsed,
    supported: &[&'static str],
    none_ok: bool,
    what: &str,
) -> Result<Accepted, Failure> {
    let is_websocket = req
        .header(UPGRADE)
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req
        .headers
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| accept_key(k.as_bytes()));
    let (true, Some(accept)) = (is_websocket, key) else {
        return Err(status::bad_request(format!(
            "{what} is served over WebSocket only ({})",
            supported.join(", ")
        )));
    };
    let offered = req
        .headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>();
    let protocol = supported.iter().find(|p| offered.contains(p)).copied();
    if protocol.is_none() && !(none_ok && offered.is_empty()) {
        return Err(status::bad_request(format!(
            "no supported WebSocket subprotocol offered ({}); supported: {}",
            offered.join(", "),
            supported.join(", ")
        )));
    }
    // Only a connection (not an in-process service) can be upgraded.
    let Some(upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return Err(status::bad_request(format!(
            "{what} needs a connection that can be upgraded"
        )));
    };
    Ok(Accepted {
        protocol,
        accept,
        upgrade,
    })
}

impl Accepted {
    pub(crate) fn protocol(&self) -> Option<&'static str> {
        self.protocol
    }

    /// The 101 answer; `session` runs on the WebSocket once hyper hands the connection over.
    pub(crate) fn respond<F, Fut>(self, session: F) -> Response<Body>
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let upgrade = self.upgrade;
        tokio::spawn(async move {
            let Ok(upgraded) = upgrade.await else { return };
            let config = WebSocketConfig::default()
                .max_message_size(Some(MAX_MESSAGE))
                .max_frame_size(Some(MAX_MESSAGE));
            let ws = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            session(ws).await;
        });
        let mut r = Response::new(Empty::<Bytes>::new().map_err(|n| match n {}).boxed_unsync());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(v) = HeaderValue::from_str(&self.accept) {
            h.insert(SEC_WEBSOCKET_ACCEPT, v);
        }
        if let Some(p) = self.protocol {
            h.insert("sec-websocket-protocol", HeaderValue::from_static(p));
        }
        r
    }
}

/// A binary message on `channel`.
pub(crate) fn channel(channel: u8, data: &[u8]) -> Message {
    let mut payload = Vec::with_capacity(data.len() + 1);
    payload.push(channel);
    payload.extend_from_slice(data);
    Message::Binary(payload.into())
}

/// Ends a session with a Close (1000; 1009 for a message over the limit), then waits a while for
/// the peer's, so that what it sent last does not reset the connection before it has read ours.
pub(crate) async fn finish(mut ws: Socket, outcome: Result<(), WsError>) {
    let (code, reason) = match &outcome {
        Ok(()) => (CloseCode::Normal, ""),
        Err(WsError::ConnectionClosed | WsError::AlreadyClosed | WsError::Io(_)) => return,
        Err(WsError::Capacity(_)) => (CloseCode::Size, "message too big"),
        Err(_) => (CloseCode::Protocol, "protocol error"),
    };
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if ws.close(Some(frame)).await.is_err() {
        return;
    }
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_is_rfc_6455s_example() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
