//! `pods/NAME/portforward?ports=P,Q` over WebSocket (`v4.channel.k8s.io`, `portforward.k8s.io`,
//! or no subprotocol), as the kubelet serves it: for the i-th port, channel 2i carries data and
//! 2i+1 errors, and each channel's first server message is the port (2 bytes, little-endian).
//! Each forwarded connection is answered by the test's handler for the pod and port
//! ([`crate::TestServer::on_port_forward`]); with none, the error channel says the connection
//! was refused. The session ends when every port's handler is done, or the client closes.

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use hyper::{Method, Response};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::controls::{Controls, PodRef, PortForwardHandler};
use crate::pods;
use crate::request::Parsed;
use crate::response::{self, Body};
use crate::status::{self, Failure};
use crate::store::Store;
use crate::websocket::{self, Socket};

const PROTOCOLS: [&str; 2] = ["v4.channel.k8s.io", "portforward.k8s.io"];
/// Channels are one byte, two per port.
const MAX_PORTS: usize = 128;
/// Bytes read from a handler per message sent.
const CHUNK: usize = 32 << 10;
/// Each direction's buffer between the session and a handler.
const PIPE: usize = 64 << 10;

/// One requested port and what answers it.
struct Forward {
    port: u16,
    handler: Option<PortForwardHandler>,
}

/// What the per-port readers tell the session.
enum Event {
    Data(usize, Bytes),
    Done,
}

/// Port-forward to the pod of `req`.
pub(crate) fn handle(store: &Store, controls: &Controls, req: &mut Parsed) -> Response<Body> {
    match accept(store, controls, req) {
        Ok(r) => r,
        Err(f) => response::fail(f),
    }
}

fn accept(store: &Store, controls: &Controls, req: &mut Parsed) -> Result<Response<Body>, Failure> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(status::method_not_allowed());
    }
    // As the real server, options first, then the pod; declared container ports do not matter.
    let ports = parse_ports(req.query.all("ports"))?;
    let target = PodRef {
        namespace: req.info.namespace.clone().unwrap_or_default(),
        name: req.info.name.clone().unwrap_or_default(),
    };
    let pod = pods::pod(store, &target.namespace, &target.name)?;
    let uid = pod
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let accepted = websocket::accept(req, &PROTOCOLS, true, "pods/portforward")?;
    let forwards: Vec<Forward> = ports
        .into_iter()
        .map(|port| Forward {
            port,
            handler: controls.port_forward_handler(&target, port),
        })
        .collect();
    Ok(accepted.respond(move |mut ws| async move {
        let outcome = session(&mut ws, &target, &uid, forwards).await;
        websocket::finish(ws, outcome).await;
    }))
}

/// The ports of every `ports` parameter, each one a number or a comma-separated list (as
/// kube-apiserver reads them).
fn parse_ports<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<u16>, Failure> {
    let mut ports = Vec::new();
    for value in values {
        for p in value.split(',') {
            match p.parse::<u16>() {
                Ok(port) if port > 0 => ports.push(port),
                _ => {
                    return Err(status::bad_request(format!(
                        "invalid port {p:?} in ports={value:?}: a port is a number from 1 to 65535"
                    )));
                }
            }
        }
    }
    if ports.is_empty() {
        return Err(status::bad_request(
            "query parameter \"ports\" is required: the pod's ports to forward".into(),
        ));
    }
    if ports.len() > MAX_PORTS {
        return Err(status::bad_request(format!(
            "at most {MAX_PORTS} ports can be forwarded at once, {} were asked for",
            ports.len()
        )));
    }
    Ok(ports)
}

/// The data and error channels of the i-th port (i < [`MAX_PORTS`]).
fn channels(i: usize) -> (u8, u8) {
    let data = u8::try_from(2 * i).unwrap_or(u8::MAX - 1);
    (data, data + 1)
}

async fn session(
    ws: &mut Socket,
    target: &PodRef,
    uid: &str,
    forwards: Vec<Forward>,
) -> Result<(), WsError> {
    for (i, f) in forwards.iter().enumerate() {
        let (data, error) = channels(i);
        ws.send(websocket::channel(data, &f.port.to_le_bytes()))
            .await?;
        ws.send(websocket::channel(error, &f.port.to_le_bytes()))
            .await?;
    }
    let (events, mut from_handlers) = mpsc::channel(16);
    // Aborted when the session ends: a handler that never closes its end keeps nothing running.
    let mut readers = JoinSet::new();
    let mut to_handlers = Vec::with_capacity(forwards.len());
    for (i, f) in forwards.into_iter().enumerate() {
        let Some(handler) = f.handler else {
            let refused = refused(target, uid, f.port);
            ws.send(websocket::channel(channels(i).1, refused.as_bytes()))
                .await?;
            to_handlers.push(None);
            continue;
        };
        let (ours, theirs) = tokio::io::duplex(PIPE);
        tokio::spawn(handler(theirs));
        let (from, to) = tokio::io::split(ours);
        readers.spawn(read_handler(i, from, events.clone()));
        // Unbounded: the session never waits on a handler, which may be waiting on the session.
        let (input, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_handler(queue, to));
        to_handlers.push(Some(input));
    }
    drop(events);
    let mut open = readers.len();
    while open > 0 {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(message) => deliver(message?, &to_handlers),
                None => return Ok(()),
            },
            Some(event) = from_handlers.recv() => match event {
                Event::Data(i, bytes) => ws.send(websocket::channel(channels(i).0, &bytes)).await?,
                Event::Done => open -= 1,
            },
        }
    }
    Ok(())
}

/// The kubelet's words for a port nothing listens on.
fn refused(target: &PodRef, uid: &str, port: u16) -> String {
    format!(
        "error forwarding port {port} to pod {}_{}, uid {uid}: dial tcp4 127.0.0.1:{port}: connect: connection refused (kuber-testserver: no TestServer::on_port_forward handler for this pod and port)",
        target.name, target.namespace
    )
}

/// A client message on a data channel goes to that port's handler; others are dropped.
fn deliver(message: Message, to_handlers: &[Option<mpsc::UnboundedSender<Bytes>>]) {
    let Message::Binary(data) = message else {
        return;
    };
    let Some(&channel) = data.first() else {
        return;
    };
    if channel % 2 != 0 {
        return;
    }
    if let Some(Some(input)) = to_handlers.get(usize::from(channel / 2)) {
        let _ = input.send(data.slice(1..));
    }
}

async fn read_handler(i: usize, mut from: ReadHalf<DuplexStream>, to: mpsc::Sender<Event>) {
    let mut buf = vec![0; CHUNK];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = Bytes::copy_from_slice(&buf[..n]);
                if to.send(Event::Data(i, chunk)).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.send(Event::Done).await;
}

/// Until the session ends (then the handler reads EOF) or the handler drops its end.
async fn write_handler(mut queue: mpsc::UnboundedReceiver<Bytes>, mut to: WriteHalf<DuplexStream>) {
    while let Some(bytes) = queue.recv().await {
        if to.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Vec<u16>, String> {
        parse_ports(values.iter().copied()).map_err(|f| f.body["message"].to_string())
    }

    #[test]
    fn ports_are_repeated_or_comma_separated_and_each_in_range() {
        assert_eq!(parse(&["80", "8080,9090"]), Ok(vec![80, 8080, 9090]));
        for (bad, named) in [
            ("0", "\\\"0\\\""),
            ("65536", "65536"),
            ("80,x", "\\\"x\\\""),
            ("", "\\\"\\\""),
        ] {
            let message = parse(&[bad]).unwrap_err();
            assert!(message.contains(named), "{bad}: {message}");
        }
        assert!(parse(&[]).unwrap_err().contains("required"));
        let many = (1..=129)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse(&[&many]).unwrap_err().contains("at most 128"));
    }

    #[test]
    fn every_ports_channels_fit_a_byte() {
        assert_eq!(channels(0), (0, 1));
        assert_eq!(channels(MAX_PORTS - 1), (254, 255));
    }
}
