//! The WebSocket handshake (RFC 6455) of exec, attach and port-forward, on the path every call
//! takes: the same transport (TLS, client certificates, proxies, layers), credentials and their
//! refresh after a 401, impersonation and safety checks. hyper does the upgrade; tungstenite
//! only frames the connection it hands over.

use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL};
use http::header::{SEC_WEBSOCKET_VERSION, UPGRADE};
use http::{HeaderMap, HeaderValue};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use kuber_models::special::ByteString;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::{Answer, Client, Mode};
use crate::{Error, Request};

/// An upgraded connection, framed.
pub(crate) type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// RFC 6455's constant for `Sec-WebSocket-Accept`.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The largest message or frame taken from the server: output comes in pieces of a few KiB.
const MAX_MESSAGE: usize = 8 << 20;

impl Client {
    /// Sends `req` as a WebSocket handshake offering `offers` (preferred first); returns the
    /// framed connection and the subprotocol the server chose. A non-2xx answer is
    /// [`Error::Api`], as for any call.
    pub(crate) async fn upgrade(
        &self,
        req: &Request,
        offers: &'static [&'static str],
    ) -> Result<(Socket, &'static str), Error> {
        let operation = req.operation.id;
        let failed = |message: String| Error::Upgrade { operation, message };
        let key = handshake_key();
        let headers = handshake_headers(&key, offers).map_err(failed)?;
        let mut res = match self.execute(req, Mode::Upgrade, Some(&headers)).await? {
            Answer::Open(res) => res,
            Answer::Read { status, .. } => {
                return Err(failed(format!(
                    "the server answered {status} instead of switching protocols (101)"
                )));
            }
        };
        let protocol = check_answer(res.headers(), &key, offers).map_err(failed)?;
        let upgraded = hyper::upgrade::on(&mut res).await.map_err(|e| {
            failed(format!(
                "the transport handed over no connection ({e}); a transport of one's own must \
                 keep hyper's upgrade in the answer"
            ))
        })?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(config))
                .await;
        Ok((socket, protocol))
    }
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64.
fn handshake_key() -> String {
    let mut nonce = crate::random::u64().to_le_bytes().to_vec();
    nonce.extend_from_slice(&crate::random::u64().to_le_bytes());
    ByteString(nonce).to_base64()
}

/// The `Sec-WebSocket-Accept` a server must answer `key` with.
fn accept_for(key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{ACCEPT_GUID}").as_bytes(),
    );
    ByteString(digest.as_ref().to_vec()).to_base64()
}

fn handshake_headers(key: &str, offers: &[&str]) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    let value = |v: &str| HeaderValue::from_str(v).map_err(|_| format!("bad header value {v:?}"));
    headers.insert(SEC_WEBSOCKET_KEY, value(key)?);
    headers.insert(SEC_WEBSOCKET_PROTOCOL, value(&offers.join(", "))?);
    Ok(headers)
}

/// Checks a 101: a WebSocket upgrade, the accept for `key`, and one of `offers` chosen.
fn check_answer(
    headers: &HeaderMap,
    key: &str,
    offers: &'static [&'static str],
) -> Result<&'static str, String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if !text(UPGRADE).is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket")) {
        return Err("the 101 answer does not switch to `websocket`".into());
    }
    let upgrades = text(CONNECTION).is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !upgrades {
        return Err("the 101 answer lacks `Connection: Upgrade`".into());
    }
    if text(SEC_WEBSOCKET_ACCEPT) != Some(accept_for(key).as_str()) {
        return Err(
            "Sec-WebSocket-Accept does not match the key sent (not a WebSocket server, or \
             something in between rewrote the answer)"
                .into(),
        );
    }
    let chosen = text(SEC_WEBSOCKET_PROTOCOL).map(str::trim);
    match chosen.and_then(|c| offers.iter().find(|o| **o == c)) {
        Some(protocol) => Ok(protocol),
        None => Err(format!(
            "the server chose subprotocol {:?}, none of those offered ({})",
            chosen.unwrap_or(""),
            offers.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_rfc_6455s() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let (a, b) = (handshake_key(), handshake_key());
        assert_ne!(a, b);
        assert_eq!(ByteString::from_base64(&a).unwrap().0.len(), 16);
    }

    #[test]
    fn a_101_must_choose_an_offered_protocol() {
        let key = handshake_key();
        let mut headers = HeaderMap::new();
        headers.insert(UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept_for(&key).parse().unwrap());
        let offers = crate::ws::EXEC_PROTOCOLS;
        let err = check_answer(&headers, &key, offers).unwrap_err();
        assert!(err.contains("none of those offered"), "{err}");
        headers.insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v4.channel.k8s.io"),
        );
        assert_eq!(
            check_answer(&headers, &key, offers),
            Ok("v4.channel.k8s.io")
        );
        headers.insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v9.channel.k8s.io"),
        );
        assert!(check_answer(&headers, &key, offers).is_err());
    }
}
