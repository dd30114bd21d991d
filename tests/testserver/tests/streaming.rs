//! Exec and attach over WebSocket, with tokio-tungstenite as the client (the crate kuber-api's
//! client uses): channels, subprotocols, stdin's close, resizes, and the errors before the
//! upgrade.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use kuber_testserver::{ExecOutput, TerminalSize, TestServer};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use support::call;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Every test is bounded: a broken server fails it rather than hanging it.
const LIMIT: Duration = Duration::from_secs(20);

async fn server_with_pod(name: &str) -> TestServer {
    let server = TestServer::start().await.unwrap();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]},
    });
    let (code, body) = call(
        &server,
        "POST",
        "/api/v1/namespaces/default/pods",
        "application/json",
        &pod.to_string(),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    server
}

/// A WebSocket to `path` offering `protocols`; the subprotocol the server chose comes back.
async fn connect(
    server: &TestServer,
    path: &str,
    protocols: &str,
) -> Result<(Ws, Option<String>), WsError> {
    let mut request = format!("ws://{}{path}", server.addr())
        .into_client_request()
        .unwrap();
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
    }
    let (ws, response) = tokio_tungstenite::connect_async(request).await?;
    let chosen = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    Ok((ws, chosen))
}

fn message(channel: u8, data: &[u8]) -> Message {
    let mut payload = vec![channel];
    payload.extend_from_slice(data);
    Message::Binary(payload.into())
}

/// Every binary message until the server's Close, and that Close's code.
async fn until_close(ws: &mut Ws) -> (Vec<Vec<u8>>, Option<CloseCode>) {
    let mut messages = Vec::new();
    while let Some(m) = ws.next().await {
        match m.unwrap() {
            Message::Binary(b) => messages.push(b.to_vec()),
            Message::Close(frame) => return (messages, frame.map(|f| f.code)),
            _ => {}
        }
    }
    (messages, None)
}

/// The messages of `channel`, their channel byte dropped.
fn on(messages: &[Vec<u8>], channel: u8) -> Vec<Vec<u8>> {
    messages
        .iter()
        .filter(|m| m.first() == Some(&channel))
        .map(|m| m[1..].to_vec())
        .collect()
}

fn status_of(messages: &[Vec<u8>]) -> Value {
    let status = on(messages, 3);
    assert_eq!(status.len(), 1, "one Status on channel 3: {messages:?}");
    serde_json::from_slice(&status[0]).unwrap()
}

const EXEC: &str = "/api/v1/namespaces/default/pods/p/exec?container=app";

#[tokio::test]
async fn exec_and_attach_send_stdout_stderr_and_the_exit_code() {
    let server = server_with_pod("p").await;
    server.on_exec(|req| ExecOutput {
        stdout: format!("{} in {}", req.command.join(" "), req.container).into_bytes(),
        stderr: b"warn\n".to_vec(),
        exit_code: if req.command.is_empty() { 0 } else { 3 },
    });
    tokio::time::timeout(LIMIT, async {
        let path = format!("{EXEC}&command=ls&command=-l&stdout=true&stderr=true");
        let (mut ws, chosen) = connect(&server, &path, "v5.channel.k8s.io, v4.channel.k8s.io")
            .await
            .unwrap();
        assert_eq!(chosen.as_deref(), Some("v5.channel.k8s.io"));
        let (messages, close) = until_close(&mut ws).await;
        assert_eq!(on(&messages, 1), [b"ls -l in app".to_vec()]);
        assert_eq!(on(&messages, 2), [b"warn\n".to_vec()]);
        let status = status_of(&messages);
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(status["details"]["causes"][0]["message"], "3");
        assert_eq!(close, Some(CloseCode::Normal));

        // Attach: no command, exit 0; stderr not asked for, so not sent.
        let path = "/api/v1/namespaces/default/pods/p/attach?stdout=true";
        let (mut ws, _) = connect(&server, path, "v5.channel.k8s.io").await.unwrap();
        let (messages, _) = until_close(&mut ws).await;
        assert_eq!(on(&messages, 1), [b" in app".to_vec()]);
        assert!(on(&messages, 2).is_empty(), "{messages:?}");
        assert_eq!(status_of(&messages)["status"], "Success");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn exec_reads_stdin_until_v5_closes_channel_0() {
    let server = server_with_pod("p").await;
    server.on_exec(|req| ExecOutput {
        stdout: req.stdin.to_ascii_uppercase(),
        ..ExecOutput::default()
    });
    tokio::time::timeout(LIMIT, async {
        let path = format!("{EXEC}&command=cat&stdin=true&stdout=true");
        let (mut ws, _) = connect(&server, &path, "v5.channel.k8s.io").await.unwrap();
        ws.send(message(0, b"hel")).await.unwrap();
        ws.send(message(0, b"lo")).await.unwrap();
        // Stdout is the handler's answer: nothing comes before stdin is closed.
        let early = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
        assert!(
            early.is_err(),
            "answered before stdin was closed: {early:?}"
        );
        ws.send(message(255, &[0])).await.unwrap();
        let (messages, close) = until_close(&mut ws).await;
        assert_eq!(on(&messages, 1), [b"HELLO".to_vec()]);
        assert_eq!(status_of(&messages)["status"], "Success");
        assert_eq!(close, Some(CloseCode::Normal));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn exec_negotiates_v4_when_only_v4_is_offered() {
    let server = server_with_pod("p").await;
    let (stdins, mut stdin) = tokio::sync::mpsc::unbounded_channel();
    server.on_exec(move |req| {
        let _ = stdins.send(req.stdin.clone());
        ExecOutput {
            stdout: b"v4 out".to_vec(),
            exit_code: 2,
            ..ExecOutput::default()
        }
    });
    tokio::time::timeout(LIMIT, async {
        let path = format!("{EXEC}&command=true&stdout=true");
        let (mut ws, chosen) = connect(&server, &path, "v4.channel.k8s.io").await.unwrap();
        assert_eq!(chosen.as_deref(), Some("v4.channel.k8s.io"));
        let (messages, _) = until_close(&mut ws).await;
        assert_eq!(on(&messages, 1), [b"v4 out".to_vec()]);
        assert_eq!(status_of(&messages)["details"]["causes"][0]["message"], "2");
        assert_eq!(stdin.recv().await.unwrap(), b"");

        // v4 cannot close stdin alone: the client's Close ends it, and the handler sees it all.
        let path = format!("{EXEC}&command=cat&stdin=true&stdout=true");
        let (mut ws, _) = connect(&server, &path, "v4.channel.k8s.io").await.unwrap();
        ws.send(message(0, b"abc")).await.unwrap();
        ws.close(None).await.unwrap();
        while ws.next().await.is_some() {}
        assert_eq!(stdin.recv().await.unwrap(), b"abc");

        // Neither v5 nor v4: refused before the upgrade.
        match connect(&server, &path, "channel.k8s.io").await {
            Err(WsError::Http(response)) => assert_eq!(response.status(), 400),
            other => panic!("{:?}", other.map(|(_, p)| p)),
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn resizes_reach_the_exec_handler() {
    let server = server_with_pod("p").await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    server.on_exec_with_events(move |req, events| {
        record
            .lock()
            .unwrap()
            .extend(events.resizes.iter().copied());
        ExecOutput {
            stdout: format!(
                "tty={} stdin={:?}",
                req.tty,
                String::from_utf8_lossy(&req.stdin)
            )
            .into_bytes(),
            ..ExecOutput::default()
        }
    });
    tokio::time::timeout(LIMIT, async {
        let path = format!("{EXEC}&command=sh&stdin=true&stdout=true&tty=true");
        let (mut ws, _) = connect(&server, &path, "v5.channel.k8s.io").await.unwrap();
        ws.send(message(4, br#"{"Width":80,"Height":24}"#))
            .await
            .unwrap();
        ws.send(message(0, b"ls\r")).await.unwrap();
        ws.send(message(4, b"not a size")).await.unwrap();
        ws.send(message(4, br#"{"Width":132,"Height":43}"#))
            .await
            .unwrap();
        ws.send(message(255, &[0])).await.unwrap();
        let (messages, _) = until_close(&mut ws).await;
        assert_eq!(on(&messages, 1), [b"tty=true stdin=\"ls\\r\"".to_vec()]);
    })
    .await
    .unwrap();
    let size = |width, height| TerminalSize { width, height };
    assert_eq!(*seen.lock().unwrap(), [size(80, 24), size(132, 43)]);
}

#[tokio::test]
async fn exec_refuses_plain_http_with_400() {
    let server = server_with_pod("p").await;
    let (code, body) = call(
        &server,
        "GET",
        &format!("{EXEC}&command=ls&stdout=true"),
        "",
        "",
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["reason"], "BadRequest", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("over WebSocket"), "{message}");
}
