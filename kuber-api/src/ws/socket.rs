//! The task that drives a session's WebSocket: messages in, to the pipes by channel; frames the
//! handles send, out. One task a session; pipes that write (stdin, a port) have a pump task
//! each, so a quiet one holds nothing up.

use std::future::Future;

use bytes::{BufMut as _, Bytes, BytesMut};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::WriteHalf;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, DuplexStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::debug;

use super::exec::{self, AttachedProcess, Outcome, Streams, TerminalSizeSender};
use super::pipe::{self, ExecReader, ExecWriter, Fault, Outgoing, PortStream};
use super::portforward::{self, Ended, Portforwarder};
use crate::{Client, Error, Request};

/// At most this much a handle writes goes into one message.
const CHUNK: usize = 32 << 10;
/// Frames queued from the handles to the connection.
const QUEUED: usize = 8;
/// The most of a status or port error kept (a `Status` is a few hundred bytes).
const REPORT_LIMIT: usize = 64 << 10;

/// Starts exec or attach: the upgrade, then the session's task.
pub(crate) async fn open_exec(client: &Client, req: &Request) -> Result<AttachedProcess, Error> {
    let streams = Streams::from_query(&req.query);
    let (ws, protocol) = client.upgrade(req, super::EXEC_PROTOCOLS).await?;
    Ok(spawn_exec(ws, protocol, streams, req.operation.id))
}

/// Starts port-forward: the ports checked, the upgrade, then the session's task.
pub(crate) async fn open_port_forward(
    client: &Client,
    req: &Request,
) -> Result<Portforwarder, Error> {
    let ports = portforward::ports(req)?;
    let (ws, _) = client.upgrade(req, super::PORT_FORWARD_PROTOCOLS).await?;
    Ok(spawn_port_forward(ws, ports, req.operation.id))
}

/// How the connection ended.
pub(crate) enum Ending {
    /// The close handshake, or the end of the stream after it.
    Closed,
    Broken(String),
    /// Every handle was dropped; the client closed the connection.
    Abandoned,
}

/// What a session does with the messages that arrive.
enum Channels {
    Exec(ExecChannels),
    Forward(Vec<Forward>),
}

struct ExecChannels {
    stdout: Option<DuplexStream>,
    stderr: Option<DuplexStream>,
    status: Vec<u8>,
}

/// One forwarded port, as the task sees it.
struct Forward {
    port: u16,
    /// Where the port's data goes; dropped once the port failed.
    data: Option<WriteHalf<DuplexStream>>,
    /// Dropped once the port failed: its pump lets go of the other half, so the stream ends now.
    stop: Option<oneshot::Sender<()>>,
    fault: Fault,
    /// The port prefix of the data and error channels, read so far (two bytes each).
    prefix: [Vec<u8>; 2],
    error: Vec<u8>,
}

/// Exchanges messages until the connection ends.
async fn serve<S>(
    ws: &mut WebSocketStream<S>,
    outgoing: &mut mpsc::Receiver<Bytes>,
    channels: &mut Channels,
    operation: &'static str,
) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Once the server has sent its close, nothing more may be sent.
    let mut closing = false;
    loop {
        tokio::select! {
            message = ws.next() => match message {
                None => return Ending::Closed,
                Some(Ok(Message::Binary(data))) => channels.deliver(data, operation).await,
                Some(Ok(Message::Close(_))) => closing = true,
                // tungstenite answers pings; these protocols send no text.
                Some(Ok(_)) => {}
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    return Ending::Closed;
                }
                // The server closed first and did not wait for our answer to it.
                Some(Err(_)) if closing => return Ending::Closed,
                Some(Err(e)) => return Ending::Broken(e.to_string()),
            },
            frame = outgoing.recv(), if !closing => match frame {
                Some(frame) => {
                    if let Err(e) = ws.send(Message::Binary(frame)).await {
                        return Ending::Broken(e.to_string());
                    }
                }
                None => {
                    let _ = ws.close(None).await;
                    return Ending::Abandoned;
                }
            },
        }
    }
}

impl Channels {
    async fn deliver(&mut self, data: Bytes, operation: &'static str) {
        let Some(&channel) = data.first() else {
            return;
        };
        let payload = data.slice(1..);
        match self {
            Channels::Exec(exec) => exec.deliver(channel, &payload).await,
            Channels::Forward(forwards) => {
                let Some(forward) = forwards.get_mut(usize::from(channel / 2)) else {
                    debug!(
                        operation,
                        channel, "message on a channel of no port; dropped"
                    );
                    return;
                };
                if channel % 2 == 0 {
                    forward.data(&payload, operation).await;
                } else {
                    forward.error(&payload, operation);
                }
            }
        }
    }
}

impl ExecChannels {
    async fn deliver(&mut self, channel: u8, payload: &[u8]) {
        match channel {
            exec::STDOUT => write_or_drop(&mut self.stdout, payload).await,
            exec::STDERR => write_or_drop(&mut self.stderr, payload).await,
            exec::STATUS => keep(&mut self.status, payload),
            // v5: the server closed an output; its reader sees the end now.
            exec::CLOSE => match payload {
                [exec::STDOUT] => self.stdout = None,
                [exec::STDERR] => self.stderr = None,
                _ => {}
            },
            // A channel this client does not know.
            _ => {}
        }
    }
}

/// Writes to a pipe, waiting for room; a pipe whose reader is gone takes no more.
pub(crate) async fn write_or_drop<W: AsyncWrite + Unpin>(pipe: &mut Option<W>, payload: &[u8]) {
    if let Some(w) = pipe
        && w.write_all(payload).await.is_err()
    {
        *pipe = None;
    }
}

/// Appends to a report, up to [`REPORT_LIMIT`].
pub(crate) fn keep(report: &mut Vec<u8>, payload: &[u8]) {
    let room = REPORT_LIMIT.saturating_sub(report.len());
    report.extend_from_slice(&payload[..payload.len().min(room)]);
}

impl Forward {
    /// The first two bytes of each channel name the port; the rest of `payload` after them.
    fn strip<'a>(&mut self, which: usize, payload: &'a [u8]) -> Result<&'a [u8], u16> {
        let prefix = &mut self.prefix[which];
        if prefix.len() == 2 {
            return Ok(payload);
        }
        let take = (2 - prefix.len()).min(payload.len());
        prefix.extend_from_slice(&payload[..take]);
        if let [low, high] = prefix[..] {
            let named = u16::from_le_bytes([low, high]);
            if named != self.port {
                return Err(named);
            }
        }
        Ok(&payload[take..])
    }

    fn fail(&mut self, operation: &'static str, message: String) {
        self.fault
            .set(operation, format!("port {}", self.port), message);
        self.data = None;
        self.stop = None;
    }

    async fn data(&mut self, payload: &[u8], operation: &'static str) {
        match self.strip(0, payload) {
            Ok(rest) if !rest.is_empty() => write_or_drop(&mut self.data, rest).await,
            Ok(_) => {}
            Err(named) => self.fail(
                operation,
                format!("the server named port {named} on this port's data channel"),
            ),
        }
    }

    fn error(&mut self, payload: &[u8], operation: &'static str) {
        match self.strip(1, payload) {
            Ok(rest) => keep(&mut self.error, rest),
            Err(named) => {
                return self.fail(
                    operation,
                    format!("the server named port {named} on this port's error channel"),
                );
            }
        }
        if !self.error.is_empty() {
            let text = String::from_utf8_lossy(&self.error).trim().to_string();
            self.fail(operation, format!("the server reports: {text}"));
        }
    }
}

/// How a pump frames what it reads: a head of `head_len()` bytes before the data, filled in once the
/// data's length is known (a channel byte; a SPDY DATA header).
pub(crate) trait Framing {
    fn head_len(&self) -> usize;
    fn seal(&self, head: &mut [u8], data: usize);
}

/// The channel protocols: the channel's number before the data.
impl Framing for u8 {
    fn head_len(&self) -> usize {
        1
    }

    fn seal(&self, head: &mut [u8], _: usize) {
        head[0] = *self;
    }
}

/// Copies what a handle writes into frames, until it closes (then sends `eof`, if any), the
/// session ends or `stop` fires.
pub(crate) async fn pump(
    mut from: impl AsyncRead + Unpin,
    framing: impl Framing,
    to: Outgoing,
    eof: Option<Bytes>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let head = framing.head_len();
    loop {
        let mut frame = BytesMut::with_capacity(CHUNK + head);
        frame.put_bytes(0, head);
        let read = tokio::select! {
            // A stop wins over what was read with it.
            biased;
            () = &mut stop => return,
            () = to.closed() => return,
            read = from.read_buf(&mut frame) => read,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                framing.seal(&mut frame[..head], n);
                if to.send(frame.freeze()).await.is_err() {
                    return;
                }
            }
        }
    }
    if let Some(eof) = eof {
        let _ = to.send(eof).await;
    }
}

/// An output pipe, if asked for: the handle's end and the task's.
fn output(
    wanted: bool,
    fault: &Fault,
    tx: &Outgoing,
) -> (Option<ExecReader>, Option<DuplexStream>) {
    if !wanted {
        return (None, None);
    }
    let (end, theirs) = pipe::pipe(fault.clone(), tx.clone());
    (Some(ExecReader(end)), Some(theirs))
}

fn spawn_exec<S>(
    mut ws: WebSocketStream<S>,
    protocol: &'static str,
    streams: Streams,
    operation: &'static str,
) -> AttachedProcess
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(QUEUED);
    let fault = Fault::default();
    let (stdout, stdout_pipe) = output(streams.stdout, &fault, &tx);
    let (stderr, stderr_pipe) = output(streams.stderr, &fault, &tx);
    let stdin = streams.stdin.then(|| {
        let (end, theirs) = pipe::pipe(Fault::default(), tx.clone());
        // Only v5 can tell the process its stdin ended.
        let eof = (protocol == super::V5).then(|| Bytes::from_static(&[exec::CLOSE, exec::STDIN]));
        tokio::spawn(pump(
            theirs,
            exec::STDIN,
            tx.clone(),
            eof,
            std::future::pending(),
        ));
        ExecWriter(end)
    });
    let resize = streams
        .tty
        .then(|| TerminalSizeSender::new(operation, tx.clone()));
    let (done, outcome) = watch::channel(None);
    tokio::spawn(async move {
        let mut channels = Channels::Exec(ExecChannels {
            stdout: stdout_pipe,
            stderr: stderr_pipe,
            status: Vec::new(),
        });
        let ending = serve(&mut ws, &mut rx, &mut channels, operation).await;
        let Channels::Exec(exec) = channels else {
            return;
        };
        let result = exec_outcome(&exec.status, ending, operation, &fault);
        // The pipes end (with the fault, if any) before the status is told.
        drop(exec);
        let _ = done.send(Some(result));
    });
    AttachedProcess {
        operation,
        protocol,
        stdin,
        stdout,
        stderr,
        resize,
        outcome,
        _session: tx,
    }
}

/// The status the server sent, or why there is none (the output pipes get that too).
fn exec_outcome(status: &[u8], ending: Ending, operation: &'static str, fault: &Fault) -> Outcome {
    if !status.is_empty() {
        return exec::decode_status(operation, status);
    }
    let (channel, message) = match ending {
        Ending::Broken(e) => ("connection", format!("broke before the exit status: {e}")),
        Ending::Closed => (
            "status",
            "the server closed the session without an exit status".into(),
        ),
        Ending::Abandoned => ("status", "every handle of the session was dropped".into()),
    };
    fault.set(operation, channel.into(), message.clone());
    Outcome::Broken {
        channel: channel.into(),
        message,
    }
}

fn spawn_port_forward<S>(
    mut ws: WebSocketStream<S>,
    ports: Vec<u16>,
    operation: &'static str,
) -> Portforwarder
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(QUEUED);
    let mut streams = Vec::with_capacity(ports.len());
    let mut forwards = Vec::with_capacity(ports.len());
    for (i, &port) in ports.iter().enumerate() {
        let fault = Fault::default();
        let (end, theirs) = pipe::pipe(fault.clone(), tx.clone());
        let (read, write) = tokio::io::split(theirs);
        // At most 128 ports (checked), so the data channel fits in a byte.
        let channel = u8::try_from(2 * i).unwrap_or(u8::MAX);
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        tokio::spawn(pump(read, channel, tx.clone(), None, stopped));
        streams.push(Some(PortStream(end)));
        forwards.push(Forward {
            port,
            data: Some(write),
            stop: Some(stop),
            fault,
            prefix: [Vec::new(), Vec::new()],
            error: Vec::new(),
        });
    }
    let (done, ended) = watch::channel(None);
    tokio::spawn(async move {
        let mut channels = Channels::Forward(forwards);
        let ending = serve(&mut ws, &mut rx, &mut channels, operation).await;
        let result: Ended = match ending {
            Ending::Broken(e) => {
                if let Channels::Forward(forwards) = &mut channels {
                    for forward in forwards {
                        forward.fail(operation, format!("the connection broke: {e}"));
                    }
                }
                Err(("connection".into(), format!("broke: {e}")))
            }
            Ending::Closed | Ending::Abandoned => Ok(()),
        };
        drop(channels);
        let _ = done.send(Some(result));
    });
    Portforwarder {
        operation,
        ports,
        streams,
        ended,
        _session: tx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(port: u16) -> Forward {
        Forward {
            port,
            data: None,
            stop: None,
            fault: Fault::default(),
            prefix: [Vec::new(), Vec::new()],
            error: Vec::new(),
        }
    }

    #[test]
    fn the_port_prefix_may_come_in_pieces_or_with_data() {
        let mut f = forward(8080);
        let [low, high] = 8080u16.to_le_bytes();
        assert_eq!(f.strip(0, &[low]), Ok(&[][..]));
        assert_eq!(f.strip(0, &[high, b'a']), Ok(&b"a"[..]));
        // After the prefix, everything is data, even bytes that look like a port.
        assert_eq!(f.strip(0, &[low, high]), Ok(&[low, high][..]));
        assert_eq!(f.strip(1, &[low, high, b'x']), Ok(&b"x"[..]));
        let mut f = forward(8080);
        assert_eq!(f.strip(1, &1234u16.to_le_bytes()), Err(1234));
    }
}
