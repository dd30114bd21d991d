//! `pods/NAME/exec` and `attach` over WebSocket with the `v5.channel.k8s.io` subprotocol (and
//! `v4`), as kubectl and client-go speak it: binary messages whose first byte is the channel
//! (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize; v5's 255 closes a channel). The
//! command is answered by the test's closure once stdin is closed.

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::controls::{ExecHandler, ExecOutput, ExecRequest, PodRef};
use crate::pods::container_of;
use crate::request::Parsed;
use crate::response::{self, Body};
use crate::status;
use crate::store::Store;

const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// No message from a test client is larger (stdin chunks are 32 KiB in client-go).
const MAX_MESSAGE: u64 = 16 << 20;

fn accept_key(key: &[u8]) -> String {
    let mut input = key.to_vec();
    input.extend_from_slice(GUID.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Exec or attach on the pod of `req`, answered by `handler` once the WebSocket is up.
pub(crate) fn handle(
    store: &Store,
    handler: Option<ExecHandler>,
    req: &mut Parsed,
) -> Response<Body> {
    let q = &req.query;
    let flag = |k: &str| q.flag(k);
    let namespace = req.info.namespace.clone().unwrap_or_default();
    let pod = req.info.name.clone().unwrap_or_default();
    let container = match container_of(store, &namespace, &pod, q.get("container")) {
        Ok(c) => c,
        Err(f) => return response::fail(f),
    };
    let is_websocket = req
        .header(UPGRADE)
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req.headers.get(SEC_WEBSOCKET_KEY).cloned();
    let (true, Some(key)) = (is_websocket, key) else {
        return response::fail(status::bad_request(
            "exec and attach are served over WebSocket (v5.channel.k8s.io) only".into(),
        ));
    };
    let offered = req
        .headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let Some(protocol) = PROTOCOLS.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return response::fail(status::bad_request(format!(
            "no supported WebSocket subprotocol offered ({}); supported: {}",
            offered.join(", "),
            PROTOCOLS.join(", ")
        )));
    };
    let request = ExecRequest {
        pod: PodRef {
            namespace,
            name: pod,
        },
        container,
        command: q.all("command").map(str::to_owned).collect(),
        stdin: Vec::new(),
        tty: flag("tty"),
    };
    let (stdin, stdout, stderr) = (flag("stdin"), flag("stdout"), flag("stderr"));
    let v5 = *protocol == PROTOCOLS[0];
    // Only a connection (not an in-process service) can be upgraded.
    let Some(upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return response::fail(status::bad_request(
            "exec and attach need a connection that can be upgraded".into(),
        ));
    };
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut io = TokioIo::new(upgraded);
        let _ = session(&mut io, request, handler, stdin, stdout, stderr, v5).await;
    });
    let mut r = Response::new(Empty::<Bytes>::new().map_err(|n| match n {}).boxed_unsync());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept_key(key.as_bytes())) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    h.insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    r
}

async fn session<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    mut request: ExecRequest,
    handler: Option<ExecHandler>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    v5: bool,
) -> std::io::Result<()> {
    if stdin {
        // Until v5's close of channel 0, or the peer's close.
        while let Some((opcode, payload)) = read_message(io).await? {
            match (opcode, payload.as_slice()) {
                (0x8, _) => break,
                (0x9, _) => write_frame(io, 0xA, &payload).await?,
                (0x2, [0, data @ ..]) => request.stdin.extend_from_slice(data),
                (0x2, [255, 0]) if v5 => break,
                _ => {}
            }
        }
    }
    let output = match &handler {
        Some(h) => h(&request),
        None => ExecOutput {
            stderr: b"no exec handler: set one with TestServer::on_exec\n".to_vec(),
            exit_code: 126,
            ..ExecOutput::default()
        },
    };
    if stdout && !output.stdout.is_empty() {
        write_channel(io, 1, &output.stdout).await?;
    }
    if stderr && !output.stderr.is_empty() {
        write_channel(io, 2, &output.stderr).await?;
    }
    let status = if output.exit_code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command {:?}, exit code {}",
                request.command, output.exit_code
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": output.exit_code.to_string()}]},
        })
    };
    write_channel(io, 3, &serde_json::to_vec(&status).unwrap_or_default()).await?;
    // Normal closure (1000).
    write_frame(io, 0x8, &[0x03, 0xE8]).await?;
    io.flush().await
}

async fn write_channel<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    channel: u8,
    data: &[u8],
) -> std::io::Result<()> {
    let mut payload = Vec::with_capacity(data.len() + 1);
    payload.push(channel);
    payload.extend_from_slice(data);
    write_frame(io, 0x2, &payload).await
}

/// One unmasked frame, FIN set (servers never mask).
async fn write_frame<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    opcode: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    io.write_all(&frame).await
}

/// The next whole message (fragments joined): its opcode and unmasked payload; `None` at EOF.
async fn read_message<IO: AsyncRead + Unpin>(
    io: &mut IO,
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut message = Vec::new();
    let mut opcode = 0;
    loop {
        let mut head = [0u8; 2];
        match io.read_exact(&mut head).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let fin = head[0] & 0x80 != 0;
        let op = head[0] & 0x0F;
        let masked = head[1] & 0x80 != 0;
        let len = match head[1] & 0x7F {
            126 => u64::from(io.read_u16().await?),
            127 => io.read_u64().await?,
            n => u64::from(n),
        };
        if len + message.len() as u64 > MAX_MESSAGE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a WebSocket message over {MAX_MESSAGE} bytes"),
            ));
        }
        let mut mask = [0u8; 4];
        if masked {
            io.read_exact(&mut mask).await?;
        }
        let mut payload = vec![0u8; len as usize];
        io.read_exact(&mut payload).await?;
        if masked {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
        }
        // Control frames may come between fragments: answer them as whole messages.
        if op >= 0x8 {
            return Ok(Some((op, payload)));
        }
        if op != 0 {
            opcode = op;
        }
        message.extend_from_slice(&payload);
        if fin {
            return Ok(Some((opcode, message)));
        }
    }
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
