//! exec, attach and port-forward over WebSocket, against a local server whose side of the
//! handshake and framing is tungstenite's (not the client's code): what the client sends, how it
//! reads each channel, and how it fails.

// tungstenite's handshake callback returns its refusal (an http::Response) by value.
#![allow(clippy::result_large_err)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use kuber_api::config::{Auth, Impersonate};
use kuber_api::ws::TerminalSize;
use kuber_api::{AttachParams, Client, CoreV1Api, Error, ExecParams, PortforwardParams};
use support::{Ca, Options, Server, config, status};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Ws = WebSocketStream<Box<dyn Io>>;
type Session = Box<dyn Fn(Ws) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How the server answers a handshake.
#[derive(Clone)]
enum Answer {
    /// 101 choosing this subprotocol.
    Accept(&'static str),
    /// 101 with a `Sec-WebSocket-Accept` that is not the key's.
    WrongAccept,
    /// This status and body instead of 101.
    Refuse(u16, String),
}

/// A WebSocket server on 127.0.0.1 (TLS offering h2 and http/1.1, or plain), answering each
/// handshake with `answer(request, index)` and running `session` on each accepted connection.
struct WsServer {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WsServer {
    async fn start<A, F, Fut>(ca: Option<&Ca>, answer: A, session: F) -> WsServer
    where
        A: Fn(&Request, usize) -> Answer + Send + Sync + 'static,
        F: Fn(Ws) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = ca.map(tls_acceptor);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let session: Arc<Session> = Arc::new(Box::new(move |ws| Box::pin(session(ws))));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let io: Box<dyn Io> = match &acceptor {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(tls) => Box::new(tls),
                        Err(_) => continue,
                    },
                    None => Box::new(tcp),
                };
                let (answer, session, log) = (answer.clone(), session.clone(), log.clone());
                tokio::spawn(async move {
                    let callback = |req: &Request, res: Response| {
                        let index = {
                            let mut log = log.lock().unwrap();
                            log.push(clone_request(req));
                            log.len() - 1
                        };
                        respond(answer(req, index), res)
                    };
                    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(io, callback).await {
                        session(ws).await;
                    }
                });
            }
        });
        let scheme = if ca.is_some() { "https" } else { "http" };
        WsServer {
            url: format!("{scheme}://127.0.0.1:{port}"),
            seen,
            task,
        }
    }

    fn seen(&self) -> Vec<Request> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(clone_request)
            .collect()
    }
}

fn clone_request(req: &Request) -> Request {
    let mut out = Request::new(());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    out
}

fn respond(answer: Answer, mut res: Response) -> Result<Response, ErrorResponse> {
    match answer {
        Answer::Accept(protocol) => {
            res.headers_mut()
                .insert("sec-websocket-protocol", protocol.parse().unwrap());
            Ok(res)
        }
        Answer::WrongAccept => {
            res.headers_mut().insert(
                "sec-websocket-accept",
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".parse().unwrap(),
            );
            res.headers_mut().insert(
                "sec-websocket-protocol",
                "v5.channel.k8s.io".parse().unwrap(),
            );
            Ok(res)
        }
        Answer::Refuse(code, body) => {
            let mut refusal = ErrorResponse::new(Some(body));
            *refusal.status_mut() = http::StatusCode::from_u16(code).unwrap();
            refusal
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            Err(refusal)
        }
    }
}

/// TLS offering h2 first: a client that offered h2 for an upgrade would get it, and fail.
fn tls_acceptor(ca: &Ca) -> tokio_rustls::TlsAcceptor {
    let cert = ca.issue(&["127.0.0.1"], "server");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key())
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The next binary message, as (channel, payload); `None` at the end.
async fn next_binary(ws: &mut Ws) -> Option<(u8, Vec<u8>)> {
    while let Some(message) = ws.next().await {
        match message {
            Ok(Message::Binary(data)) if !data.is_empty() => {
                return Some((data[0], data[1..].to_vec()));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

async fn send(ws: &mut Ws, channel: u8, payload: &[u8]) {
    let mut frame = vec![channel];
    frame.extend_from_slice(payload);
    ws.send(Message::Binary(frame.into())).await.unwrap();
}

fn exit_status(code: u32) -> String {
    serde_json::json!({
        "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
        "message": format!("command terminated with non-zero exit code: {code}"),
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
    .to_string()
}

const SUCCESS: &str = r#"{"metadata":{},"status":"Success"}"#;

fn client(url: &str, ca: Option<&Ca>) -> CoreV1Api {
    CoreV1Api::new(Client::new(config(url, ca)).unwrap().with_retries(0, false))
}

fn command(args: &[&str]) -> ExecParams {
    ExecParams {
        command: args.iter().map(|a| a.to_string()).collect(),
        ..ExecParams::default()
    }
}

/// Anything that should end soon, bounded: a broken implementation fails instead of hanging.
async fn soon<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out: the session hangs")
}

#[tokio::test]
async fn the_handshake_goes_out_over_http1_with_the_clients_credentials_and_headers() {
    let ca = Ca::new("ws-ca");
    let server = WsServer::start(
        Some(&ca),
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move { send(&mut ws, 3, SUCCESS.as_bytes()).await },
    )
    .await;
    let mut cfg = config(&server.url, Some(&ca));
    cfg.auth = Auth::Bearer("s3cret".to_string().into());
    cfg.impersonate = Some(Impersonate {
        user: Some("jane".into()),
        groups: vec!["dev".into()],
        ..Impersonate::default()
    });
    let api = CoreV1Api::new(Client::new(cfg).unwrap());
    let params = ExecParams {
        container: Some("app".into()),
        stdin: Some(true),
        ..command(&["sh", "-c", "echo a b"])
    };
    // The POST operation too: a WebSocket handshake is a GET.
    let process = soon(api.connect_post_namespaced_pod_exec("web-0", "default", &params))
        .await
        .unwrap();
    assert_eq!(process.protocol(), "v5.channel.k8s.io");
    assert!(soon(process.join()).await.unwrap().success());

    let seen = server.seen();
    let req = &seen[0];
    assert_eq!(req.method(), "GET");
    assert_eq!(req.version(), http::Version::HTTP_11);
    assert_eq!(
        req.uri().to_string(),
        "/api/v1/namespaces/default/pods/web-0/exec?command=sh&command=-c&command=echo%20a%20b\
         &container=app&stdin=true"
    );
    let h = req.headers();
    assert_eq!(h["authorization"], "Bearer s3cret");
    assert_eq!(h["impersonate-user"], "jane");
    assert_eq!(h["impersonate-group"], "dev");
    assert!(h["user-agent"].to_str().unwrap().starts_with("kuber/"));
    assert_eq!(
        h["sec-websocket-protocol"],
        "v5.channel.k8s.io, v4.channel.k8s.io"
    );
    assert_eq!(h["sec-websocket-version"], "13");
    assert!(
        !h.contains_key("accept-encoding"),
        "an upgrade offers no gzip"
    );
}

#[tokio::test]
async fn a_client_wrapped_in_layers_upgrades_through_them() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move { send(&mut ws, 3, exit_status(7).as_bytes()).await },
    )
    .await;
    // Layers pass hyper's upgrade on with the answer, as tower layers do.
    let client = Client::builder(config(&server.url, None))
        .unwrap()
        .layer(tower_layer::Identity::new())
        .build();
    let process = soon(client.exec(
        kuber_api::Request::new(&support::POD_EXEC, &["default", "web-0"]).query(&command(&["x"])),
    ))
    .await
    .unwrap();
    assert_eq!(soon(process.join()).await.unwrap().code(), 7);
}

#[tokio::test]
async fn stdout_and_stderr_stay_apart_stdin_is_half_closed_and_exit_code_3_is_decoded() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move {
            // Echo stdin to stdout until the client closes stdin (v5: channel 255, byte 0).
            let mut input = Vec::new();
            while let Some((channel, payload)) = next_binary(&mut ws).await {
                match channel {
                    0 => input.extend_from_slice(&payload),
                    255 if payload == [0] => break,
                    other => panic!("unexpected channel {other}"),
                }
            }
            send(&mut ws, 1, b"out:").await;
            send(&mut ws, 1, &input).await;
            send(&mut ws, 2, b"oops").await;
            send(&mut ws, 3, exit_status(3).as_bytes()).await;
            let _ = ws.close(None).await;
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = ExecParams {
        stdin: Some(true),
        ..command(&["cat"])
    };
    let process = soon(api.connect_get_namespaced_pod_exec("web-0", "default", &params))
        .await
        .unwrap();
    assert!(process.can_close_stdin());
    // More than one pipe's worth, so the bounded buffers must move along.
    let input = "hello ".repeat(40_000);
    let output = soon(process.output(input.clone())).await.unwrap();
    assert_eq!(output.status.code(), 3);
    assert!(!output.status.success());
    assert_eq!(output.stdout, format!("out:{input}").into_bytes());
    assert_eq!(output.stderr, b"oops");
}

#[tokio::test]
async fn a_server_that_picks_v4_gets_v4_and_no_close_message() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let log = got.clone();
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v4.channel.k8s.io"),
        move |mut ws| {
            let log = log.clone();
            async move {
                let (channel, payload) = next_binary(&mut ws).await.unwrap();
                log.lock().unwrap().push((channel, payload.clone()));
                send(&mut ws, 1, &payload).await;
                send(&mut ws, 3, SUCCESS.as_bytes()).await;
                // Anything the client sends before the end is recorded: v4 has no close message.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = ws.close(None).await;
                while let Some(message) = next_binary(&mut ws).await {
                    log.lock().unwrap().push(message);
                }
            }
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = AttachParams {
        stdin: Some(true),
        ..AttachParams::default()
    };
    let mut process = soon(api.connect_get_namespaced_pod_attach("web-0", "default", &params))
        .await
        .unwrap();
    assert_eq!(process.protocol(), "v4.channel.k8s.io");
    assert!(!process.can_close_stdin());
    let mut stdin = process.stdin().unwrap();
    stdin.write_all(b"ping").await.unwrap();
    stdin.shutdown().await.unwrap();
    drop(stdin);
    let mut stdout = process.stdout().unwrap();
    let mut echoed = Vec::new();
    soon(stdout.read_to_end(&mut echoed)).await.unwrap();
    assert_eq!(echoed, b"ping");
    assert!(soon(process.join()).await.unwrap().success());
    assert_eq!(*got.lock().unwrap(), [(0, b"ping".to_vec())]);
}

#[tokio::test]
async fn resize_messages_carry_the_terminal_size_as_json() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move {
            let mut sizes = Vec::new();
            while sizes.len() < 2 {
                let (channel, payload) = next_binary(&mut ws).await.unwrap();
                assert_eq!(channel, 4);
                sizes.push(serde_json::from_slice::<serde_json::Value>(&payload).unwrap());
            }
            let expected = [
                serde_json::json!({"Width": 80, "Height": 24}),
                serde_json::json!({"Width": 132, "Height": 50}),
            ];
            let answer = if sizes == expected {
                SUCCESS.to_string()
            } else {
                exit_status(9)
            };
            send(&mut ws, 3, answer.as_bytes()).await;
            let _ = ws.close(None).await;
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = ExecParams {
        tty: Some(true),
        ..command(&["top"])
    };
    let mut process = soon(api.connect_get_namespaced_pod_exec("web-0", "default", &params))
        .await
        .unwrap();
    assert!(process.stderr().is_none(), "a terminal merges stderr");
    let resize = process.terminal_size().unwrap();
    for (width, height) in [(80, 24), (132, 50)] {
        resize.send(TerminalSize { width, height }).await.unwrap();
    }
    assert_eq!(soon(process.join()).await.unwrap().code(), 0);
    // The session is over: resizing is an error, not a panic.
    let err = resize
        .send(TerminalSize {
            width: 1,
            height: 1,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Session { .. }), "{err:?}");
}

#[tokio::test]
async fn a_failure_status_is_the_api_error_with_its_message() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move {
            let failure = r#"{"metadata":{},"status":"Failure","reason":"InternalError","code":500,
                "message":"container \"app\" not found in pod \"web-0\""}"#;
            send(&mut ws, 3, failure.as_bytes()).await;
            let _ = ws.close(None).await;
        },
    )
    .await;
    let api = client(&server.url, None);
    let process = soon(api.connect_get_namespaced_pod_exec("web-0", "default", &command(&["ls"])))
        .await
        .unwrap();
    let err = soon(process.join()).await.unwrap_err();
    let api_error = err.api().expect("an API error");
    assert_eq!(api_error.code, 500);
    assert_eq!(api_error.reason(), Some("InternalError"));
    assert!(err.to_string().contains("not found in pod"), "{err}");
}

#[tokio::test]
async fn a_403_instead_of_101_is_the_api_error() {
    // hyper's server, answering the handshake as any request: a Status, no upgrade.
    let server = Server::start(Options::plain(), |_, _| async {
        status(
            403,
            "Forbidden",
            "pods \"web-0\" is forbidden: cannot create pods/exec",
        )
    })
    .await;
    let api = client(&server.url, None);
    let err = soon(api.connect_get_namespaced_pod_exec("web-0", "default", &command(&["ls"])))
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert!(err.to_string().contains("cannot create pods/exec"), "{err}");
    assert_eq!(server.requests(), 1, "an exec is not resent");

    // And from the WebSocket server's own refusal path.
    let ws = WsServer::start(
        None,
        |_, _| {
            Answer::Refuse(
                404,
                support_status(404, "NotFound", "pods \"web-0\" not found"),
            )
        },
        |_| async {},
    )
    .await;
    let err = soon(client(&ws.url, None).connect_get_namespaced_pod_exec(
        "web-0",
        "default",
        &command(&["ls"]),
    ))
    .await
    .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

fn support_status(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    })
    .to_string()
}

#[tokio::test]
async fn a_wrong_accept_or_an_unoffered_protocol_is_refused() {
    let server = WsServer::start(None, |_, _| Answer::WrongAccept, |_| async {}).await;
    let err = soon(client(&server.url, None).connect_get_namespaced_pod_exec(
        "web-0",
        "default",
        &command(&["ls"]),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Upgrade { message, .. } if message.contains("Sec-WebSocket-Accept")),
        "{err:?}"
    );

    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v3.channel.k8s.io"),
        |_| async {},
    )
    .await;
    let err = soon(client(&server.url, None).connect_get_namespaced_pod_exec(
        "web-0",
        "default",
        &command(&["ls"]),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Upgrade { message, .. } if message.contains("none of those offered")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_the_handshake_is_sent_again() {
    let dir = std::env::temp_dir().join(format!("kuber-ws-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    std::fs::write(&path, "old-token\n").unwrap();
    let file = path.clone();
    let server = WsServer::start(
        None,
        move |req, _| match req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap())
        {
            Some("Bearer new-token") => Answer::Accept("v5.channel.k8s.io"),
            _ => {
                std::fs::write(&file, "new-token\n").unwrap();
                Answer::Refuse(401, support_status(401, "Unauthorized", "Unauthorized"))
            }
        },
        |mut ws| async move { send(&mut ws, 3, SUCCESS.as_bytes()).await },
    )
    .await;
    let mut cfg = config(&server.url, None);
    cfg.auth = Auth::TokenFile(path);
    let api = CoreV1Api::new(Client::new(cfg).unwrap());
    let process = soon(api.connect_get_namespaced_pod_exec("web-0", "default", &command(&["ls"])))
        .await
        .unwrap();
    assert!(soon(process.join()).await.unwrap().success());
    assert_eq!(server.seen().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_connection_broken_mid_stream_is_an_error_not_a_hang() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v5.channel.k8s.io"),
        |mut ws| async move {
            send(&mut ws, 1, b"partial").await;
            // Dropped without a close: the TCP connection just ends.
            drop(ws);
        },
    )
    .await;
    let api = client(&server.url, None);
    let mut process =
        soon(api.connect_get_namespaced_pod_exec("web-0", "default", &command(&["ls"])))
            .await
            .unwrap();
    let mut stdout = process.stdout().unwrap();
    let mut got = Vec::new();
    let err = soon(stdout.read_to_end(&mut got)).await.unwrap_err();
    assert_eq!(got, b"partial", "the bytes before the break arrive");
    assert!(err.to_string().contains("connection"), "{err}");
    let err = soon(process.status()).await.unwrap_err();
    assert!(matches!(err, Error::Session { .. }), "{err:?}");
}

#[tokio::test]
async fn port_forward_checks_the_port_prefix_and_moves_bytes_both_ways() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v4.channel.k8s.io"),
        |mut ws| async move {
            for (i, port) in [8080u16, 9090].into_iter().enumerate() {
                let i = u8::try_from(i).unwrap();
                send(&mut ws, 2 * i, &port.to_le_bytes()).await;
                send(&mut ws, 2 * i + 1, &port.to_le_bytes()).await;
            }
            // Echo what arrives on each data channel, with the channel's number.
            for _ in 0..2 {
                let (channel, payload) = next_binary(&mut ws).await.unwrap();
                let mut answer = format!("{channel}:").into_bytes();
                answer.extend_from_slice(&payload);
                send(&mut ws, channel, &answer).await;
            }
            let _ = ws.close(None).await;
            while next_binary(&mut ws).await.is_some() {}
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = PortforwardParams {
        ports: vec![8080, 9090],
    };
    let mut forwarder =
        soon(api.connect_get_namespaced_pod_portforward("web-0", "default", &params))
            .await
            .unwrap();
    assert_eq!(forwarder.ports(), [8080, 9090]);
    let mut web = forwarder.take_stream(8080).unwrap();
    let mut metrics = forwarder.take_stream(9090).unwrap();
    assert!(forwarder.take_stream(8080).is_none(), "taken once");
    web.write_all(b"GET /").await.unwrap();
    let mut answer = [0u8; 7];
    soon(web.read_exact(&mut answer)).await.unwrap();
    assert_eq!(&answer, b"0:GET /");
    metrics.write_all(b"up?").await.unwrap();
    let mut rest = Vec::new();
    soon(metrics.read_to_end(&mut rest)).await.unwrap();
    assert_eq!(rest, b"2:up?");
    drop((web, metrics));
    soon(forwarder.join()).await.unwrap();

    let req = &server.seen()[0];
    assert_eq!(
        req.uri().to_string(),
        "/api/v1/namespaces/default/pods/web-0/portforward?ports=8080&ports=9090"
    );
    assert_eq!(
        req.headers()["sec-websocket-protocol"],
        "v4.channel.k8s.io, portforward.k8s.io"
    );
}

#[tokio::test]
async fn a_wrong_port_prefix_and_an_error_message_are_errors_on_their_streams() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v4.channel.k8s.io"),
        |mut ws| async move {
            // Port 8080's data channel names another port.
            send(&mut ws, 0, &1234u16.to_le_bytes()).await;
            // Port 9090 is named right, then refused on its error channel.
            send(&mut ws, 2, &9090u16.to_le_bytes()).await;
            send(&mut ws, 3, &9090u16.to_le_bytes()).await;
            send(&mut ws, 2, b"early").await;
            send(
                &mut ws,
                3,
                b"error forwarding port 9090: connection refused",
            )
            .await;
            // The session stays open: the failed streams must end without waiting for it.
            tokio::time::sleep(Duration::from_secs(60)).await;
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = PortforwardParams {
        ports: vec![8080, 9090],
    };
    let mut forwarder =
        soon(api.connect_get_namespaced_pod_portforward("web-0", "default", &params))
            .await
            .unwrap();
    let mut web = forwarder.take_stream(8080).unwrap();
    let mut buf = Vec::new();
    let err = soon(web.read_to_end(&mut buf)).await.unwrap_err();
    assert!(err.to_string().contains("port 1234"), "{err}");
    assert!(err.to_string().contains("port 8080"), "{err}");

    let mut refused = forwarder.take_stream(9090).unwrap();
    let mut buf = Vec::new();
    let err = soon(refused.read_to_end(&mut buf)).await.unwrap_err();
    assert_eq!(buf, b"early", "the bytes before the error arrive");
    assert!(err.to_string().contains("connection refused"), "{err}");
    // Writing to a failed port is that error too.
    let err = refused.write_all(b"x").await.unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[tokio::test]
async fn port_forward_broken_mid_stream_and_bad_ports() {
    let server = WsServer::start(
        None,
        |_, _| Answer::Accept("v4.channel.k8s.io"),
        |mut ws| async move {
            send(&mut ws, 0, &8080u16.to_le_bytes()).await;
            send(&mut ws, 0, b"half").await;
            drop(ws);
        },
    )
    .await;
    let api = client(&server.url, None);
    let params = PortforwardParams { ports: vec![8080] };
    let mut forwarder =
        soon(api.connect_get_namespaced_pod_portforward("web-0", "default", &params))
            .await
            .unwrap();
    let mut web = forwarder.take_stream(8080).unwrap();
    let mut buf = Vec::new();
    let err = soon(web.read_to_end(&mut buf)).await.unwrap_err();
    assert_eq!(buf, b"half");
    assert!(err.to_string().contains("broke"), "{err}");
    drop(web);
    let err = soon(forwarder.join()).await.unwrap_err();
    assert!(matches!(err, Error::Session { .. }), "{err:?}");

    // Ports that cannot be named in the protocol are refused before anything is sent.
    for ports in [vec![], vec![0], vec![70_000]] {
        let err = api
            .connect_get_namespaced_pod_portforward(
                "web-0",
                "default",
                &PortforwardParams { ports },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { .. }), "{err:?}");
    }
    assert_eq!(server.seen().len(), 1);
}
