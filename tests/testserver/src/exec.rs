//! `pods/NAME/exec` and `attach` over WebSocket with the `v5.channel.k8s.io` subprotocol (and
//! `v4`), as kubectl and client-go speak it: binary messages whose first byte is the channel
//! (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize; v5's 255 closes a channel). The
//! command is answered by the test's closure once stdin is closed.

use futures_util::{SinkExt as _, StreamExt as _};
use hyper::Response;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::controls::{ExecEvents, ExecHandler, ExecOutput, ExecRequest, PodRef, TerminalSize};
use crate::pods::container_of;
use crate::request::Parsed;
use crate::response::{self, Body};
use crate::websocket::{self, Socket};

const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const STDIN: u8 = 0;
const RESIZE: u8 = 4;
/// v5: `[255, channel]` closes the client's side of a channel.
const CLOSE: u8 = 255;

/// What the client asked to have streamed.
#[derive(Clone, Copy)]
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
    v5: bool,
}

/// Exec or attach on the pod of `req`, answered by `handler` once the WebSocket is up.
pub(crate) fn handle(
    store: &crate::store::Store,
    handler: Option<ExecHandler>,
    req: &mut Parsed,
) -> Response<Body> {
    let q = &req.query;
    let namespace = req.info.namespace.clone().unwrap_or_default();
    let pod = req.info.name.clone().unwrap_or_default();
    let container = match container_of(store, &namespace, &pod, q.get("container")) {
        Ok(c) => c,
        Err(f) => return response::fail(f),
    };
    let request = ExecRequest {
        pod: PodRef {
            namespace,
            name: pod,
        },
        container,
        command: q.all("command").map(str::to_owned).collect(),
        stdin: Vec::new(),
        tty: q.flag("tty"),
    };
    let mut streams = Streams {
        stdin: q.flag("stdin"),
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        v5: false,
    };
    let what = format!("pods/{}", req.info.subresource.as_deref().unwrap_or("exec"));
    let accepted = match websocket::accept(req, &PROTOCOLS, false, &what) {
        Ok(a) => a,
        Err(f) => return response::fail(f),
    };
    streams.v5 = accepted.protocol() == Some(PROTOCOLS[0]);
    accepted.respond(move |mut ws| async move {
        let outcome = session(&mut ws, request, handler, streams).await;
        websocket::finish(ws, outcome).await;
    })
}

async fn session(
    ws: &mut Socket,
    mut request: ExecRequest,
    handler: Option<ExecHandler>,
    streams: Streams,
) -> Result<(), WsError> {
    let mut events = ExecEvents::default();
    if streams.stdin {
        read_stdin(ws, &mut request, &mut events, streams.v5).await?;
    }
    let output = match &handler {
        Some(h) => h(&request, &events),
        None => ExecOutput {
            stderr: b"no exec handler: set one with TestServer::on_exec\n".to_vec(),
            exit_code: 126,
            ..ExecOutput::default()
        },
    };
    if streams.stdout && !output.stdout.is_empty() {
        ws.send(websocket::channel(1, &output.stdout)).await?;
    }
    if streams.stderr && !output.stderr.is_empty() {
        ws.send(websocket::channel(2, &output.stderr)).await?;
    }
    let status = serde_json::to_vec(&final_status(&request, output.exit_code)).unwrap_or_default();
    ws.send(websocket::channel(3, &status)).await
}

/// Stdin and resizes until v5's close of channel 0, or the peer's Close (all v4 has: the output
/// cannot follow it, so v4 sessions with stdin answer nothing but to the handler).
async fn read_stdin(
    ws: &mut Socket,
    request: &mut ExecRequest,
    events: &mut ExecEvents,
    v5: bool,
) -> Result<(), WsError> {
    while let Some(message) = ws.next().await {
        let Message::Binary(data) = message? else {
            continue;
        };
        match data.as_ref() {
            [STDIN, rest @ ..] => request.stdin.extend_from_slice(rest),
            [CLOSE, STDIN] if v5 => break,
            [RESIZE, size @ ..] => events.resizes.extend(terminal_size(size)),
            _ => {}
        }
    }
    Ok(())
}

/// client-go's `TerminalSize` JSON (`{"Width":80,"Height":24}`); anything else is ignored, as
/// the kubelet does.
fn terminal_size(json: &[u8]) -> Option<TerminalSize> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let field = |k: &str| v.get(k)?.as_u64().and_then(|n| u16::try_from(n).ok());
    Some(TerminalSize {
        width: field("Width")?,
        height: field("Height")?,
    })
}

/// The Status sent on channel 3, as the kubelet words it.
fn final_status(request: &ExecRequest, exit_code: i32) -> Value {
    if exit_code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command {:?}, exit code {exit_code}",
            request.command
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sizes_are_client_gos_json_and_nothing_else() {
        let size = terminal_size(br#"{"Width":80,"Height":24}"#);
        assert_eq!(
            size,
            Some(TerminalSize {
                width: 80,
                height: 24
            })
        );
        for bad in [
            &b"{}"[..],
            b"not json",
            br#"{"Width":70000,"Height":1}"#,
            b"",
        ] {
            assert_eq!(terminal_size(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
