//! port-forward as kubectl 1.30 and later does it: SPDY/3.1 inside the binary messages of one
//! WebSocket (`SPDY/3.1+portforward.k8s.io`), which the API server hands on to the kubelet's SPDY
//! server. Each connection to a port is a pair of SPDY streams (`error`, then `data`) with the
//! same `requestid`, so one session carries any number of them, each with half-close.
//!
//! Flow control: SPDY/3.1 has windows, but spdystream (the kubelet's side) neither sends
//! WINDOW_UPDATE nor honours one, so neither do we; a reader that falls behind holds the whole
//! session back once its pipe is full, as it does kubectl's.

use std::collections::HashMap;
use std::fmt;

use tokio::io::{DuplexStream, WriteHalf};
use tokio::sync::{mpsc, oneshot, watch};

use super::pipe::{Fault, Outgoing, PortStream};
use super::portforward::Ended;
use crate::{Client, Error, Request};

/// The tunnel's WebSocket subprotocol.
pub(crate) const TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";
/// What a tunnel's handshake offers: the tunnel, then the plain protocols, which a server that
/// does not tunnel picks (the tunnel then falls back to a WebSocket per connection).
#[cfg_attr(not(feature = "ws"), allow(dead_code))]
const TUNNEL_OFFERS: &[&str] = &[TUNNEL, super::V4, "portforward.k8s.io"];
/// The operation a tunnel is opened with.
const OPERATION: &str = "connectCoreV1GetNamespacedPodPortforward";

/// A port-forward session to a pod over one WebSocket: [`connect`](Self::connect) opens a
/// connection to a port of the pod, as many as wanted, at once or one after the other.
///
/// Each connection is a [`PortStream`] that half-closes: shutting it down ends what the pod's
/// port reads, and its answer still arrives. An error the pod's side reports for a connection
/// (nothing listens on the port) is [`Error::Session`] naming the port, on that stream only.
///
/// A server that does not tunnel SPDY (before Kubernetes 1.30, or with `PortForwardWebsockets`
/// off) gets a plain WebSocket session per connection instead ([`protocol`](Self::protocol)
/// tells which), without half-close. The session stays open while the tunnel or one of its
/// streams is held.
pub struct PortForwardTunnel {
    operation: &'static str,
    mode: Mode,
}

enum Mode {
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    Spdy {
        opens: mpsc::Sender<Open>,
        ended: watch::Receiver<Option<Ended>>,
        _session: Outgoing,
    },
    /// A plain port-forward per connection: the request, to which the port is added.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    Plain { client: Client, req: Box<Request> },
}

/// A connection asked of the session's task.
struct Open {
    port: u16,
    reply: oneshot::Sender<Result<PortStream, Error>>,
}

impl Client {
    /// Opens a port-forward session to pod `namespace/pod` ([`PortForwardTunnel`]): one
    /// WebSocket carrying any number of connections to the pod's ports, as kubectl does.
    pub async fn port_forward_tunnel(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Result<PortForwardTunnel, Error> {
        let operation = crate::OPERATIONS.iter().find(|o| o.id == OPERATION).ok_or(
            Error::UpgradeUnavailable {
                operation: OPERATION,
                reason: "the operation is missing from this build",
            },
        )?;
        let req = Request::new(operation, &[namespace, pod]);
        req.check()?;
        open(self, req).await
    }
}

#[cfg(not(feature = "ws"))]
async fn open(_: &Client, req: Request) -> Result<PortForwardTunnel, Error> {
    Err(Error::UpgradeUnavailable {
        operation: req.operation.id,
        reason: "kuber-api is built without its `ws` feature",
    })
}

/// The handshake, offering the tunnel first; the plain protocol on servers that do not tunnel.
#[cfg(feature = "ws")]
async fn open(client: &Client, req: Request) -> Result<PortForwardTunnel, Error> {
    let operation = req.operation.id;
    let plain = |client: &Client, req| PortForwardTunnel {
        operation,
        mode: Mode::Plain {
            client: client.clone(),
            req: Box::new(req),
        },
    };
    match client.upgrade(&req, TUNNEL_OFFERS).await {
        Ok((ws, TUNNEL)) => Ok(driver::spawn(ws, operation)),
        // The plain protocol names its ports in the request: a session per connection.
        Ok((mut ws, _)) => {
            let _ = ws.close(None).await;
            Ok(plain(client, req))
        }
        Err(e) if tunnel_refused(&e) => Ok(plain(client, req)),
        Err(e) => Err(e),
    }
}

/// A 4xx to the tunnel's handshake that the plain protocol may not get (kubectl falls back on
/// any refused upgrade; credentials, a missing pod and throttling fail the same either way).
#[cfg_attr(not(feature = "ws"), allow(dead_code))]
fn tunnel_refused(e: &Error) -> bool {
    matches!(e, Error::Api(api) if (400..500).contains(&api.code)
        && !matches!(api.code, 401 | 403 | 404 | 429))
}

impl PortForwardTunnel {
    /// The subprotocol in use: `SPDY/3.1+portforward.k8s.io` when the server tunnels, else
    /// `v4.channel.k8s.io` (a WebSocket per connection).
    pub fn protocol(&self) -> &'static str {
        match self.mode {
            Mode::Spdy { .. } => TUNNEL,
            Mode::Plain { .. } => super::V4,
        }
    }

    /// Whether the session has ended (the server closed it, or it broke): it opens no more
    /// connections. Never, for a session per connection.
    pub fn is_closed(&self) -> bool {
        match &self.mode {
            Mode::Spdy { opens, .. } => opens.is_closed(),
            Mode::Plain { .. } => false,
        }
    }

    /// Opens a connection to `port` of the pod. An error the server reports for it later (the
    /// port refused the connection) is the stream's read or write error, naming the port.
    pub async fn connect(&self, port: u16) -> Result<PortStream, Error> {
        if port == 0 {
            return Err(Error::InvalidParameter {
                operation: self.operation,
                parameter: "port".into(),
                problem: "0 is not a port (1 to 65535)".into(),
            });
        }
        match &self.mode {
            Mode::Spdy { opens, ended, .. } => {
                let gone = || self.ended_error(port, ended);
                let (reply, answer) = oneshot::channel();
                opens.send(Open { port, reply }).await.map_err(|_| gone())?;
                answer.await.map_err(|_| gone())?
            }
            Mode::Plain { client, req } => self.connect_plain(client, req, port).await,
        }
    }

    #[cfg(feature = "ws")]
    async fn connect_plain(
        &self,
        client: &Client,
        req: &Request,
        port: u16,
    ) -> Result<PortStream, Error> {
        let mut req = req.clone();
        req.query.push(("ports", port.to_string()));
        let mut forwarder = super::socket::open_port_forward(client, &req).await?;
        // The stream keeps its session open; the forwarder is not needed past it.
        forwarder.take_stream(port).ok_or_else(|| Error::Session {
            operation: self.operation,
            channel: format!("port {port}"),
            message: "the session has no stream for the port".into(),
        })
    }

    #[cfg(not(feature = "ws"))]
    async fn connect_plain(&self, _: &Client, _: &Request, _: u16) -> Result<PortStream, Error> {
        Err(Error::UpgradeUnavailable {
            operation: self.operation,
            reason: "kuber-api is built without its `ws` feature",
        })
    }

    /// Why the session's task took no more connections.
    fn ended_error(&self, port: u16, ended: &watch::Receiver<Option<Ended>>) -> Error {
        let message = match &*ended.borrow() {
            Some(Err((channel, message))) => format!("the tunnel ended ({channel}: {message})"),
            _ => "the tunnel has ended".into(),
        };
        Error::Session {
            operation: self.operation,
            channel: format!("port {port}"),
            message,
        }
    }
}

impl fmt::Debug for PortForwardTunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortForwardTunnel")
            .field("operation", &self.operation)
            .field("protocol", &self.protocol())
            .finish_non_exhaustive()
    }
}

/// One connection, as the session's task sees it: its data stream and the error stream before it.
struct Conn {
    port: u16,
    /// Where the data stream's bytes go; dropped when the stream ends or fails.
    data: Option<WriteHalf<DuplexStream>>,
    /// Stops the connection's pump when it fails (a clean end leaves it writing).
    stop: Option<oneshot::Sender<()>>,
    fault: Fault,
    /// The error stream's text.
    error: Vec<u8>,
    error_ended: bool,
    /// `Some(None)`: the server closed the data stream; `Some(Some(status))`: it reset it.
    data_ended: Option<Option<u32>>,
    /// `connect`'s answer, sent when the server accepts the data stream.
    pending: Option<(oneshot::Sender<Result<PortStream, Error>>, PortStream)>,
    reset_sent: bool,
}

impl Conn {
    fn fail(&mut self, operation: &'static str, message: String) {
        // First: a stream never handed out then drops, and its pump must not send FIN.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let channel = format!("port {}", self.port);
        match self.pending.take() {
            Some((reply, _)) => {
                let _ = reply.send(Err(Error::Session {
                    operation,
                    channel,
                    message,
                }));
            }
            None => self.fault.set(operation, channel, message),
        }
        self.data = None;
    }

    /// Ends the connection once its streams say how: an error the server wrote, a reset, or
    /// both streams closed. Whether it ended.
    fn settle(&mut self, operation: &'static str) -> bool {
        if self.error_ended && !self.error.is_empty() {
            let text = String::from_utf8_lossy(&self.error).trim().to_string();
            self.fail(operation, format!("the server reports: {text}"));
            return true;
        }
        // A refused stream fails `connect` at once.
        if let (Some(Some(status)), true) = (self.data_ended, self.pending.is_some()) {
            self.fail(
                operation,
                format!("the server refused the stream ({})", status_name(status)),
            );
            return true;
        }
        match (self.data_ended, self.error_ended) {
            (Some(Some(status)), true) => {
                let message = format!("the server reset the stream ({})", status_name(status));
                self.fail(operation, message);
                true
            }
            // A clean end: the caller shuts the data pipe down, so the reader sees its end.
            (Some(None), true) => true,
            _ => false,
        }
    }
}

/// An RST_STREAM status, as SPDY/3.1 names it.
fn status_name(status: u32) -> String {
    const NAMES: [&str; 11] = [
        "PROTOCOL_ERROR",
        "INVALID_STREAM",
        "REFUSED_STREAM",
        "UNSUPPORTED_VERSION",
        "CANCEL",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "STREAM_IN_USE",
        "STREAM_ALREADY_CLOSED",
        "INVALID_CREDENTIALS",
        "FRAME_TOO_LARGE",
    ];
    let known = usize::try_from(status)
        .ok()
        .and_then(|s| NAMES.get(s.checked_sub(1)?));
    match known {
        Some(name) => format!("RST_STREAM {name}"),
        None => format!("RST_STREAM status {status}"),
    }
}

#[cfg(feature = "ws")]
mod driver {
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::{Error as WsError, Message};

    use super::super::pipe::{self, PortStream};
    use super::super::socket::{self, Ending, Framing};
    use super::super::spdy::{self, Frame, Malformed};
    use super::*;

    /// kubectl pings the tunnel this often: it keeps idle connections through proxies alive.
    const PING_EVERY: Duration = Duration::from_secs(10);
    /// Connections waiting for the session's task.
    const OPENS_QUEUED: usize = 16;

    /// A pump's frames: DATA on one stream.
    struct Data(u32);

    impl Framing for Data {
        fn head_len(&self) -> usize {
            spdy::HEAD
        }

        fn seal(&self, head: &mut [u8], data: usize) {
            spdy::data_head(head, self.0, false, data);
        }
    }

    /// The session's task and what it keeps.
    struct Driver {
        operation: &'static str,
        blocks: spdy::HeaderBlocks,
        decoder: spdy::Decoder,
        /// The next stream id of ours: odd, two a connection.
        next_stream: u32,
        next_request: u64,
        next_ping: u32,
        /// By data stream id; the error stream's is two less.
        conns: HashMap<u32, Conn>,
        /// For new pumps and streams; weak, so that the session ends when all handles are gone.
        frames: mpsc::WeakSender<Bytes>,
        gone_away: bool,
    }

    /// Starts the session's task on a WebSocket that speaks the tunnel.
    pub(super) fn spawn<S>(mut ws: WebSocketStream<S>, operation: &'static str) -> PortForwardTunnel
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut frames) = mpsc::channel(8);
        let (opens, mut opened) = mpsc::channel(OPENS_QUEUED);
        let (done, ended) = watch::channel(None);
        let mut driver = Driver {
            operation,
            blocks: spdy::HeaderBlocks::default(),
            decoder: spdy::Decoder::default(),
            next_stream: 1,
            next_request: 0,
            next_ping: 1,
            conns: HashMap::new(),
            frames: tx.downgrade(),
            gone_away: false,
        };
        tokio::spawn(async move {
            let ending = driver.run(&mut ws, &mut frames, &mut opened).await;
            let result = driver.finish(ending, &mut opened);
            let _ = done.send(Some(result));
        });
        PortForwardTunnel {
            operation,
            mode: Mode::Spdy {
                opens,
                ended,
                _session: tx,
            },
        }
    }

    async fn send<S>(ws: &mut WebSocketStream<S>, frame: Bytes) -> Result<(), Ending>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        ws.send(Message::Binary(frame))
            .await
            .map_err(|e| Ending::Broken(e.to_string()))
    }

    impl Driver {
        async fn run<S>(
            &mut self,
            ws: &mut WebSocketStream<S>,
            frames: &mut mpsc::Receiver<Bytes>,
            opens: &mut mpsc::Receiver<Open>,
        ) -> Ending
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            let mut ping =
                tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
            ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Once the server has sent its close, nothing more may be sent.
            let mut closing = false;
            let mut opening = true;
            loop {
                let step = tokio::select! {
                    message = ws.next() => self.message(message, ws, &mut closing).await,
                    frame = frames.recv(), if !closing => match frame {
                        Some(frame) => send(ws, frame).await,
                        None => {
                            let _ = ws.send(Message::Binary(spdy::goaway(0))).await;
                            let _ = ws.close(None).await;
                            Err(Ending::Abandoned)
                        }
                    },
                    open = opens.recv(), if opening && !closing => match open {
                        Some(open) => self.open(open, ws).await,
                        None => {
                            opening = false;
                            Ok(())
                        }
                    },
                    _ = ping.tick(), if !closing => {
                        let id = self.next_ping;
                        self.next_ping = self.next_ping.wrapping_add(2) & 0x7fff_ffff | 1;
                        send(ws, spdy::ping(id)).await
                    }
                };
                if let Err(ending) = step {
                    return ending;
                }
            }
        }

        async fn message<S>(
            &mut self,
            message: Option<Result<Message, WsError>>,
            ws: &mut WebSocketStream<S>,
            closing: &mut bool,
        ) -> Result<(), Ending>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            match message {
                None => Err(Ending::Closed),
                Some(Ok(Message::Binary(data))) => {
                    self.decoder.push(&data);
                    let broken = |m: Malformed| Ending::Broken(m.to_string());
                    while let Some(frame) = self.decoder.next().map_err(broken)? {
                        self.frame(frame, ws).await?;
                    }
                    Ok(())
                }
                Some(Ok(Message::Text(_))) => Err(Ending::Broken(
                    "a text message, where the tunnel carries binary ones only".into(),
                )),
                Some(Ok(Message::Close(_))) => {
                    *closing = true;
                    Ok(())
                }
                // tungstenite answers pings.
                Some(Ok(_)) => Ok(()),
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    Err(Ending::Closed)
                }
                // The server closed first and did not wait for our answer to it.
                Some(Err(_)) if *closing => Err(Ending::Closed),
                Some(Err(e)) => Err(Ending::Broken(e.to_string())),
            }
        }

        async fn frame<S>(
            &mut self,
            frame: Frame,
            ws: &mut WebSocketStream<S>,
        ) -> Result<(), Ending>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            match frame {
                Frame::SynReply { stream, fin } => {
                    if let Some(conn) = self.conns.get_mut(&stream)
                        && let Some((reply, end)) = conn.pending.take()
                    {
                        // A connect given up on: its stream closes as it drops.
                        let _ = reply.send(Ok(end));
                    }
                    if fin {
                        self.ended(stream, None).await;
                    }
                }
                Frame::Headers { stream, fin: true } => self.ended(stream, None).await,
                Frame::Data { stream, fin, data } => {
                    self.data(stream, data, ws).await?;
                    if fin {
                        self.ended(stream, None).await;
                    }
                }
                Frame::RstStream { stream, status } => self.ended(stream, Some(status)).await,
                // Even ids are the server's pings, answered; odd ones answer ours.
                Frame::Ping { id } if id % 2 == 0 => send(ws, spdy::ping(id)).await?,
                Frame::GoAway { .. } => self.gone_away = true,
                Frame::SynStream { stream } => {
                    send(ws, spdy::rst_stream(stream, spdy::REFUSED_STREAM)).await?
                }
                Frame::Ping { .. } | Frame::Headers { .. } | Frame::Ignored => {}
            }
            Ok(())
        }

        /// The connection a stream belongs to: its data stream's id, and whether it is that one.
        fn locate(&self, stream: u32) -> Option<(u32, bool)> {
            if self.conns.contains_key(&stream) {
                Some((stream, true))
            } else if self.conns.contains_key(&stream.wrapping_add(2)) {
                Some((stream.wrapping_add(2), false))
            } else {
                None
            }
        }

        async fn data<S>(
            &mut self,
            stream: u32,
            data: Bytes,
            ws: &mut WebSocketStream<S>,
        ) -> Result<(), Ending>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            // Frames of connections that ended are dropped, as spdystream drops them.
            let Some((id, is_data)) = self.locate(stream) else {
                return Ok(());
            };
            let Some(conn) = self.conns.get_mut(&id) else {
                return Ok(());
            };
            if !is_data {
                socket::keep(&mut conn.error, &data);
                return Ok(());
            }
            if conn.data.is_none() {
                return Ok(());
            }
            socket::write_or_drop(&mut conn.data, &data).await;
            // Nobody reads the stream any more: the server may stop sending.
            if conn.data.is_none() && !conn.reset_sent {
                conn.reset_sent = true;
                send(ws, spdy::rst_stream(id, spdy::CANCEL)).await?;
            }
            Ok(())
        }

        /// A stream ended (closed, or reset with `reset`'s status).
        async fn ended(&mut self, stream: u32, reset: Option<u32>) {
            let Some((id, is_data)) = self.locate(stream) else {
                return;
            };
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            if is_data {
                conn.data_ended.get_or_insert(reset);
            } else {
                conn.error_ended = true;
            }
            if conn.settle(self.operation)
                && let Some(mut conn) = self.conns.remove(&id)
                && let Some(mut data) = conn.data.take()
            {
                // Dropping the write half alone is no end: the pump holds the read half.
                let _ = data.shutdown().await;
            }
        }

        /// Opens a connection: the error stream (closed for writing at once, as kubectl does),
        /// then the data stream, in one message.
        async fn open<S>(&mut self, open: Open, ws: &mut WebSocketStream<S>) -> Result<(), Ending>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            // The opener holds a sender, so this upgrades.
            let frames = self.frames.upgrade();
            let refusal = if frames.is_none() {
                Some("the tunnel has ended")
            } else if self.gone_away {
                Some("the server is going away (GOAWAY) and takes no new streams")
            } else if self.next_stream > 0x7fff_fffb {
                Some("the tunnel has used all its stream ids")
            } else {
                None
            };
            let (Some(frames), None) = (frames, refusal) else {
                let _ = open.reply.send(Err(Error::Session {
                    operation: self.operation,
                    channel: format!("port {}", open.port),
                    message: refusal.unwrap_or_default().into(),
                }));
                return Ok(());
            };
            let (error_id, data_id) = (self.next_stream, self.next_stream + 2);
            self.next_stream += 4;
            let (port, request) = (open.port.to_string(), self.next_request.to_string());
            self.next_request += 1;
            let error = [
                ("streamtype", "error"),
                ("port", port.as_str()),
                ("requestid", request.as_str()),
            ];
            let data = [
                ("streamtype", "data"),
                ("port", port.as_str()),
                ("requestid", request.as_str()),
            ];
            let mut wire = self.blocks.syn_stream(error_id, &error).to_vec();
            wire.extend_from_slice(&spdy::fin(error_id));
            wire.extend_from_slice(&self.blocks.syn_stream(data_id, &data));
            send(ws, Bytes::from(wire)).await?;

            let fault = Fault::default();
            let (end, theirs) = pipe::pipe(fault.clone(), frames.clone());
            let (read, write) = tokio::io::split(theirs);
            let (stop, stopped) = oneshot::channel::<()>();
            // Only a failure stops the pump: after a clean end the pod may still read.
            let stopped = async move {
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let eof = Some(spdy::fin(data_id));
            tokio::spawn(socket::pump(read, Data(data_id), frames, eof, stopped));
            self.conns.insert(
                data_id,
                Conn {
                    port: open.port,
                    data: Some(write),
                    stop: Some(stop),
                    fault,
                    error: Vec::new(),
                    error_ended: false,
                    data_ended: None,
                    pending: Some((open.reply, PortStream(end))),
                    reset_sent: false,
                },
            );
            Ok(())
        }

        /// After the connection: connections still open fail (a clean end never comes), as do
        /// those waiting to open.
        fn finish(&mut self, ending: Ending, opens: &mut mpsc::Receiver<Open>) -> Ended {
            let (message, result) = match ending {
                Ending::Broken(e) => (
                    format!("the tunnel broke: {e}"),
                    Err(("connection".to_string(), format!("broke: {e}"))),
                ),
                Ending::Closed => ("the tunnel closed before the stream ended".into(), Ok(())),
                Ending::Abandoned => ("the tunnel was closed".into(), Ok(())),
            };
            for (_, mut conn) in self.conns.drain() {
                conn.fail(self.operation, message.clone());
            }
            opens.close();
            while let Ok(open) = opens.try_recv() {
                let _ = open.reply.send(Err(Error::Session {
                    operation: self.operation,
                    channel: format!("port {}", open.port),
                    message: message.clone(),
                }));
            }
            result
        }
    }
}

#[cfg(all(test, feature = "ws"))]
mod tests {
    use bytes::Bytes;
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::Role;

    use super::super::spdy::{self, Decoder, Frame};
    use super::*;

    /// The server's end of an in-memory tunnel: SPDY frames in and out.
    struct Server {
        ws: WebSocketStream<DuplexStream>,
        decoder: Decoder,
    }

    impl Server {
        async fn frame(&mut self) -> Frame {
            loop {
                if let Some(frame) = self.decoder.next().unwrap() {
                    return frame;
                }
                match self.ws.next().await {
                    Some(Ok(Message::Binary(data))) => self.decoder.push(&data),
                    Some(Ok(_)) => {}
                    other => panic!("the client closed: {other:?}"),
                }
            }
        }

        async fn send(&mut self, frames: &[Bytes]) {
            self.ws
                .send(Message::Binary(Bytes::from(frames.concat())))
                .await
                .unwrap();
        }

        /// Takes a connection's three frames, answers both SYN_STREAMs; its data stream id.
        async fn accept(&mut self) -> u32 {
            let Frame::SynStream { stream: error } = self.frame().await else {
                panic!("no error stream")
            };
            let fin = self.frame().await;
            assert_eq!(
                fin,
                Frame::Data {
                    stream: error,
                    fin: true,
                    data: Bytes::new()
                }
            );
            let Frame::SynStream { stream: data } = self.frame().await else {
                panic!("no data stream")
            };
            assert_eq!(data, error + 2);
            self.send(&[spdy::syn_reply(error), spdy::syn_reply(data)])
                .await;
            data
        }
    }

    async fn tunnel() -> (PortForwardTunnel, Server) {
        let (a, b) = tokio::io::duplex(1 << 20);
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        let ws = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        let server = Server {
            ws,
            decoder: Decoder::default(),
        };
        (driver::spawn(client, "op"), server)
    }

    #[tokio::test]
    async fn connections_half_close_and_errors_name_their_port() {
        let (tunnel, mut server) = tunnel().await;
        assert_eq!(tunnel.protocol(), TUNNEL);
        let (stream, data) = tokio::join!(tunnel.connect(80), server.accept());
        let mut web = stream.unwrap();
        assert_eq!(data, 3);
        web.write_all(b"GET /").await.unwrap();
        web.shutdown().await.unwrap();
        let sent = server.frame().await;
        assert_eq!(
            sent,
            Frame::Data {
                stream: 3,
                fin: false,
                data: Bytes::from_static(b"GET /")
            }
        );
        let fin = server.frame().await;
        assert_eq!(
            fin,
            Frame::Data {
                stream: 3,
                fin: true,
                data: Bytes::new()
            }
        );
        // Half-closed, the answer still comes; then both streams close.
        server
            .send(&[spdy::data(3, false, b"200 OK"), spdy::fin(1), spdy::fin(3)])
            .await;
        let mut answer = Vec::new();
        web.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"200 OK");

        // A second connection on the same tunnel, refused by the pod's side.
        let (stream, data) = tokio::join!(tunnel.connect(81), server.accept());
        let mut refused = stream.unwrap();
        assert_eq!(data, 7);
        let text = b"error forwarding port 81 to pod web: connection refused";
        server
            .send(&[
                spdy::data(5, false, text),
                spdy::rst_stream(7, spdy::CANCEL),
                spdy::rst_stream(5, spdy::CANCEL),
            ])
            .await;
        let err = refused.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(err.to_string().contains("port 81"), "{err}");
        assert!(err.to_string().contains("connection refused"), "{err}");

        // The server's pings are answered.
        server.send(&[spdy::ping(2)]).await;
        assert_eq!(server.frame().await, Frame::Ping { id: 2 });
        assert!(!tunnel.is_closed());
    }

    #[tokio::test]
    async fn the_server_ending_both_streams_ends_a_reader_that_never_half_closed() {
        let (tunnel, mut server) = tunnel().await;
        let (stream, data) = tokio::join!(tunnel.connect(80), server.accept());
        let mut web = stream.unwrap();
        web.write_all(b"GET /").await.unwrap();
        assert!(matches!(
            server.frame().await,
            Frame::Data { stream: 3, .. }
        ));
        // The pod answers and closes; the client's side is still open for writing.
        server
            .send(&[
                spdy::data(data, false, b"200 OK"),
                spdy::fin(data),
                spdy::fin(1),
            ])
            .await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            web.read_to_end(&mut answer),
        );
        read.await.expect("the reader saw no end").unwrap();
        assert_eq!(answer, b"200 OK");
    }

    #[tokio::test]
    async fn a_refused_stream_fails_connect_and_a_malformed_frame_breaks_the_tunnel() {
        let (tunnel, mut server) = tunnel().await;
        let refuse = async {
            let _ = server.frame().await;
            let _ = server.frame().await;
            let _ = server.frame().await;
            server
                .send(&[spdy::rst_stream(3, spdy::REFUSED_STREAM)])
                .await;
        };
        let (refused, ()) = tokio::join!(tunnel.connect(8080), refuse);
        let err = refused.unwrap_err().to_string();
        assert!(
            err.contains("port 8080") && err.contains("REFUSED_STREAM"),
            "{err}"
        );

        let (stream, _) = tokio::join!(tunnel.connect(80), server.accept());
        let mut web = stream.unwrap();
        // RST_STREAM with a 4-byte payload: the tunnel breaks, naming the frame.
        let bad = [0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 7];
        server
            .send(&[Bytes::from_static(&[]), Bytes::copy_from_slice(&bad)])
            .await;
        let err = web.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(err.to_string().contains("RST_STREAM"), "{err}");
        while !tunnel.is_closed() {
            tokio::task::yield_now().await;
        }
        let err = tunnel.connect(80).await.unwrap_err().to_string();
        assert!(err.contains("port 80") && err.contains("broke"), "{err}");
    }
}
