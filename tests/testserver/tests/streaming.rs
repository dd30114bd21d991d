//! Exec, attach and port-forward over WebSocket, with tokio-tungstenite as the client (the crate
//! kuber-api's client uses): channels, subprotocols, stdin's close, resizes, the port prefix,
//! bytes both ways, and the errors before the upgrade.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use kuber_testserver::{ExecOutput, TerminalSize, TestServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
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

/// The code of an upgrade the server refused.
async fn refused(server: &TestServer, path: &str, protocols: &str) -> u16 {
    match connect(server, path, protocols).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        other => panic!("upgraded: {:?}", other.map(|(_, protocol)| protocol)),
    }
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
        assert_eq!(refused(&server, &path, "channel.k8s.io").await, 400);
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
async fn exec_and_port_forward_refuse_plain_http_with_400() {
    let server = server_with_pod("p").await;
    let exec = format!("{EXEC}&command=ls&stdout=true");
    let forward = "/api/v1/namespaces/default/pods/p/portforward?ports=80";
    for path in [exec.as_str(), forward] {
        let (code, body) = call(&server, "GET", path, "", "").await;
        assert_eq!(code, 400, "{path}: {body}");
        assert_eq!(body["kind"], "Status", "{path}: {body}");
        assert_eq!(body["reason"], "BadRequest", "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("over WebSocket"), "{path}: {message}");
    }
}

const FORWARD: &str = "/api/v1/namespaces/default/pods/web/portforward";

/// An echo server on `port` of pod default/web.
fn echo(server: &TestServer, port: u16) {
    server.on_port_forward("default", "web", port, |conn| async move {
        let (mut from, mut to) = tokio::io::split(conn);
        let _ = tokio::io::copy(&mut from, &mut to).await;
    });
}

/// The next binary message.
async fn next_binary(ws: &mut Ws) -> Vec<u8> {
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Binary(b) => return b.to_vec(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn port_forward_first_says_the_port_on_both_channels() {
    let server = server_with_pod("web").await;
    echo(&server, 8080);
    tokio::time::timeout(LIMIT, async {
        for (offered, chosen) in [
            ("v4.channel.k8s.io", Some("v4.channel.k8s.io")),
            ("portforward.k8s.io", Some("portforward.k8s.io")),
            ("", None),
        ] {
            let path = format!("{FORWARD}?ports=8080");
            let (mut ws, protocol) = connect(&server, &path, offered).await.unwrap();
            assert_eq!(protocol.as_deref(), chosen);
            // 8080 = 0x1F90, little-endian.
            assert_eq!(next_binary(&mut ws).await, [0, 0x90, 0x1F]);
            assert_eq!(next_binary(&mut ws).await, [1, 0x90, 0x1F]);
            ws.send(message(0, b"ping")).await.unwrap();
            assert_eq!(next_binary(&mut ws).await, b"\x00ping");
        }
    })
    .await
    .unwrap();
}

/// Bytes that do not repeat within a chunk (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

#[tokio::test]
async fn port_forward_carries_a_mebibyte_both_ways() {
    const LEN: usize = 1 << 20;
    let server = server_with_pod("web").await;
    // Echoes and hashes what it read: the client checks each direction on its own.
    let (received, mut digest) = tokio::sync::mpsc::unbounded_channel();
    server.on_port_forward("default", "web", 5432, move |conn| {
        let received = received.clone();
        async move {
            let (mut from, mut to) = tokio::io::split(conn);
            let mut seen = Vec::new();
            let mut buf = vec![0; 8192];
            while seen.len() < LEN {
                let n = from.read(&mut buf).await.unwrap();
                assert!(n > 0, "EOF after {} bytes", seen.len());
                to.write_all(&buf[..n]).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            received.send(sha256(&seen)).unwrap();
        }
    });
    let data = noise(LEN);
    tokio::time::timeout(LIMIT, async {
        let (ws, _) = connect(
            &server,
            &format!("{FORWARD}?ports=5432"),
            "v4.channel.k8s.io",
        )
        .await
        .unwrap();
        let (mut sink, mut stream) = ws.split();
        let chunks: Vec<Message> = data.chunks(30_000).map(|c| message(0, c)).collect();
        let sending = tokio::spawn(async move {
            for chunk in chunks {
                sink.send(chunk).await.unwrap();
            }
            sink
        });
        let mut echoed = Vec::new();
        let mut prefixes = 0;
        while echoed.len() < LEN {
            let Message::Binary(m) = stream.next().await.unwrap().unwrap() else {
                continue;
            };
            match (m[0], prefixes) {
                (0 | 1, p) if p < 2 => prefixes += 1,
                (0, _) => echoed.extend_from_slice(&m[1..]),
                _ => panic!("unexpected message on channel {}: {:?}", m[0], &m[1..]),
            }
        }
        assert_eq!(echoed.len(), LEN);
        assert_eq!(sha256(&echoed), sha256(&data), "the bytes echoed back");
        assert_eq!(
            digest.recv().await.unwrap(),
            sha256(&data),
            "the bytes the handler read"
        );
        // The handler returned: its port is done, and so is the session.
        let mut ws = sending.await.unwrap().reunite(stream).unwrap();
        let (rest, close) = until_close(&mut ws).await;
        assert!(rest.is_empty(), "{rest:?}");
        assert_eq!(close, Some(CloseCode::Normal));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn port_forward_serves_two_ports_at_once() {
    let server = server_with_pod("web").await;
    for (port, tag) in [(8080, "http"), (9090, "metrics")] {
        server.on_port_forward("default", "web", port, move |conn| async move {
            let (mut from, mut to) = tokio::io::split(conn);
            let mut buf = vec![0; 1024];
            while let Ok(n @ 1..) = from.read(&mut buf).await {
                let answer = format!("{tag}:{}", String::from_utf8_lossy(&buf[..n]));
                if to.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
    tokio::time::timeout(LIMIT, async {
        let path = format!("{FORWARD}?ports=8080,9090");
        let (mut ws, _) = connect(&server, &path, "v4.channel.k8s.io").await.unwrap();
        let mut prefixes = Vec::new();
        for _ in 0..4 {
            prefixes.push(next_binary(&mut ws).await);
        }
        prefixes.sort();
        assert_eq!(
            prefixes,
            [
                [0, 0x90, 0x1F],
                [1, 0x90, 0x1F],
                [2, 0x82, 0x23],
                [3, 0x82, 0x23]
            ]
        );
        ws.send(message(2, b"b")).await.unwrap();
        assert_eq!(next_binary(&mut ws).await, b"\x02metrics:b");
        ws.send(message(0, b"a")).await.unwrap();
        assert_eq!(next_binary(&mut ws).await, b"\x00http:a");
        ws.close(None).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn port_forward_without_a_handler_says_connection_refused_on_the_error_channel() {
    let server = server_with_pod("web").await;
    echo(&server, 8080);
    tokio::time::timeout(LIMIT, async {
        // 7000 has no handler: its error channel says so; 8080 still works.
        let path = format!("{FORWARD}?ports=7000,8080");
        let (mut ws, _) = connect(&server, &path, "v4.channel.k8s.io").await.unwrap();
        let mut error = None;
        for _ in 0..5 {
            let m = next_binary(&mut ws).await;
            if m[0] == 1 && m.len() > 3 {
                error = Some(String::from_utf8(m[1..].to_vec()).unwrap());
            }
        }
        let error = error.expect("a message on channel 1");
        assert!(
            error.starts_with("error forwarding port 7000 to pod web_default, uid "),
            "{error}"
        );
        assert!(error.contains("connection refused"), "{error}");
        ws.send(message(2, b"still")).await.unwrap();
        assert_eq!(next_binary(&mut ws).await, b"\x02still");

        // Only ports without handlers: the error, then the server closes.
        let path = format!("{FORWARD}?ports=7000");
        let (mut ws, _) = connect(&server, &path, "v4.channel.k8s.io").await.unwrap();
        let (messages, close) = until_close(&mut ws).await;
        assert_eq!(messages[..2], [vec![0, 0x58, 0x1B], vec![1, 0x58, 0x1B]]);
        let error = String::from_utf8_lossy(&on(&messages, 1)[1]).into_owned();
        assert!(
            error.contains("port 7000") && error.contains("connection refused"),
            "{error}"
        );
        assert_eq!(close, Some(CloseCode::Normal));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn port_forward_checks_its_ports_with_400() {
    let server = server_with_pod("web").await;
    for (query, named) in [
        ("?ports=0", "\"0\""),
        ("?ports=65536", "\"65536\""),
        ("?ports=8080,http", "\"http\""),
        ("?ports=8080&ports=-1", "\"-1\""),
        ("", "\"ports\" is required"),
        ("?ports=", "\"\""),
    ] {
        let path = format!("{FORWARD}{query}");
        let (code, body) = call(&server, "GET", &path, "", "").await;
        assert_eq!(code, 400, "{query}: {body}");
        assert_eq!(body["reason"], "BadRequest", "{query}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(named), "{query}: {message}");
    }
    // The same before an upgrade.
    assert_eq!(
        refused(
            &server,
            &format!("{FORWARD}?ports=99999"),
            "v4.channel.k8s.io"
        )
        .await,
        400
    );
}

#[tokio::test]
async fn port_forward_to_an_unknown_pod_is_404() {
    let server = server_with_pod("web").await;
    let path = "/api/v1/namespaces/default/pods/nope/portforward?ports=80";
    let (code, body) = call(&server, "GET", path, "", "").await;
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "NotFound");
    assert_eq!(body["message"], "pods \"nope\" not found");
    assert_eq!(refused(&server, path, "v4.channel.k8s.io").await, 404);
}
