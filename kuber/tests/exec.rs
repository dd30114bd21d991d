//! exec, attach and port-forward against kuber-testserver's WebSocket sessions.

mod support;

use std::time::Duration;

use kuber::{Context, Error};
use kuber_testserver::{ExecOutput, TestServer};
use support::Server;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  containers: [{name: app, image: nginx}, {name: side, image: busybox}]\n";

/// A server with pod default/web (containers `app` and `side`), and a context on it.
async fn with_pod() -> (Server, Context) {
    let server = Server::start().await;
    let ctx = sessions(&server);
    ctx.put_text(POD).await.unwrap();
    server.forget();
    (server, ctx)
}

/// The context sessions go through: the server's own, over its socket (WebSocket upgrades).
fn sessions(server: &Server) -> Context {
    TestServer::context(server)
}

/// A 64-bit FNV-1a checksum.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

#[tokio::test]
async fn exec_feeds_stdin_and_reports_stdout_stderr_and_exit_code_as_data() {
    let (server, ctx) = with_pod().await;
    server.on_exec(|req| ExecOutput {
        stdout: [b"out:".as_slice(), &req.stdin].concat(),
        stderr: format!("{}:{}", req.container, req.command.join(" ")).into_bytes(),
        exit_code: 3,
    });
    let out = ctx
        .exec("web", ["sh", "-c", "cat; exit 3"])
        .container("side")
        .stdin("hello")
        .await
        .unwrap();
    assert_eq!(out.stdout, b"out:hello");
    assert_eq!(out.stderr, b"side:sh -c cat; exit 3");
    assert_eq!(out.status.code(), 3);
    assert!(!out.status.success());

    // A reader as stdin, read to its end; exit 0.
    server.on_exec(|req| ExecOutput {
        stdout: req.stdin.clone(),
        ..ExecOutput::default()
    });
    let input = vec![7u8; 100_000];
    let out = ctx
        .exec("web", ["cat"])
        .container("app")
        .stdin_reader(std::io::Cursor::new(input.clone()))
        .await
        .unwrap();
    assert_eq!((out.stdout, out.status.success()), (input, true));
}

#[tokio::test]
async fn exec_start_answers_the_live_process() {
    let (server, ctx) = with_pod().await;
    server.on_exec(|req| ExecOutput {
        stdout: req.stdin.to_ascii_uppercase(),
        exit_code: 1,
        ..ExecOutput::default()
    });
    let mut process = ctx
        .exec("web", ["tr"])
        .container("app")
        .stdin_pipe()
        .start()
        .await
        .unwrap();
    let mut stdin = process.stdin().expect("stdin asked for");
    stdin.write_all(b"abc").await.unwrap();
    stdin.shutdown().await.unwrap();
    let mut stdout = String::new();
    process
        .stdout()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert_eq!(stdout, "ABC");
    assert_eq!(process.join().await.unwrap().code(), 1);
}

#[tokio::test]
async fn an_empty_command_is_refused_before_sending() {
    let (server, ctx) = with_pod().await;
    let err = ctx.exec("web", Vec::<String>::new()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Missing { verb: "exec", message } if message.contains("default/web")),
        "{err:?}"
    );
    let err = ctx.exec("", ["ls"]).await.unwrap_err();
    assert!(matches!(err, Error::Missing { .. }), "{err:?}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[tokio::test]
async fn a_missing_pod_is_not_found_with_its_context() {
    let (_server, ctx) = with_pod().await;
    let err = ctx.exec("nope", ["ls"]).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        matches!(&err, Error::Pod { verb: "exec", namespace, pod, .. } if namespace == "default" && pod == "nope"),
        "{err:?}"
    );
    let err = ctx.attach("nope").start().await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = ctx.port_forward("nope", 80).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        err.to_string().contains("port_forward pod default/nope"),
        "{err}"
    );
}

#[tokio::test]
async fn attach_reaches_the_handler() {
    let (server, ctx) = with_pod().await;
    server.on_exec(|req| ExecOutput {
        stdout: format!("{} {:?} ", req.container, req.command).into_bytes(),
        stderr: req.stdin.clone(),
        exit_code: 0,
    });
    let mut session = ctx
        .attach("web")
        .container("side")
        .stdin(true)
        .start()
        .await
        .unwrap();
    let mut stdin = session.stdin().expect("stdin asked for");
    stdin.write_all(b"typed").await.unwrap();
    stdin.shutdown().await.unwrap();
    let out = session.output(Vec::new()).await.unwrap();
    assert_eq!(out.stdout, b"side [] ");
    assert_eq!(out.stderr, b"typed");
    let sent = server.requests();
    assert!(
        sent.iter().any(|r| r.path.ends_with("/pods/web/attach")),
        "{sent:?}"
    );
}

/// An echo server on port 8080 of pod default/web.
fn echo(server: &Server) {
    server.on_port_forward("default", "web", 8080, |conn| async move {
        let (mut from, mut to) = tokio::io::split(conn);
        let _ = tokio::io::copy(&mut from, &mut to).await;
    });
}

#[tokio::test]
async fn a_port_forward_stream_carries_a_mebibyte_both_ways() {
    let (server, ctx) = with_pod().await;
    echo(&server);
    let stream = ctx.port_forward("web", 8080).await.unwrap();
    let (mut read, mut write) = tokio::io::split(stream);
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i * 31 % 251) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        write.write_all(&sent).await.unwrap();
        write
    });
    let mut back = vec![0; data.len()];
    read.read_exact(&mut back).await.unwrap();
    assert_eq!(checksum(&back), checksum(&data));
    drop(writer.await.unwrap());
    let sent = server.requests();
    assert!(
        sent.iter()
            .any(|r| r.path.ends_with("/pods/web/portforward")),
        "{sent:?}"
    );
}

/// Writes `data` to a connection to `addr` and answers as many bytes as came back (fewer if it
/// closed first). The protocol has no half-close: the echo never sees an end of the input.
async fn round_trip(addr: std::net::SocketAddr, data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let conn = TcpStream::connect(addr).await?;
    let (mut read, mut write) = conn.into_split();
    let len = data.len();
    let writer = tokio::spawn(async move { write.write_all(&data).await.map(|()| write) });
    let mut back = Vec::with_capacity(len);
    (&mut read).take(len as u64).read_to_end(&mut back).await?;
    // A closed connection may refuse the rest of the writes: no matter here.
    let _ = writer.await;
    Ok(back)
}

#[tokio::test]
async fn the_listener_forwards_concurrent_connections_and_outlives_a_failed_one() {
    let (server, ctx) = with_pod().await;
    // Echoes, except a connection starting with `X`: its handler fails and drops it at once.
    server.on_port_forward("default", "web", 8080, |conn| async move {
        let (mut from, mut to) = tokio::io::split(conn);
        let mut first = [0u8; 1];
        if from.read_exact(&mut first).await.is_err() || first[0] == b'X' {
            return;
        }
        let _ = to.write_all(&first).await;
        let _ = tokio::io::copy(&mut from, &mut to).await;
    });
    let forwarder = ctx
        .port_forward("web", 8080)
        .listen("127.0.0.1:0")
        .await
        .unwrap();
    let addr = forwarder.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let data: Vec<u8> = (0..20_000u32)
                .map(|j| b'a' + ((j as u8) ^ i) % 26)
                .collect();
            tokio::spawn(async move { (round_trip(addr, data.clone()).await, data) })
        })
        .collect();
    for task in tasks {
        let (back, data) = task.await.unwrap();
        assert_eq!(checksum(&back.unwrap()), checksum(&data));
    }
    // The test server does not tunnel: the tunnel's handshake (refused, no ports named), then
    // a plain session per connection.
    assert_eq!(server.requests().len(), 17, "a session per connection");

    // The failing handler ends its connection alone; so does a refused handshake.
    let failed = round_trip(addr, b"Xboom".to_vec())
        .await
        .unwrap_or_default();
    assert!(failed.is_empty(), "{failed:?}");
    server.on_port_forward("default", "web", 8080, |conn| async move {
        let (mut from, mut to) = tokio::io::split(conn);
        let _ = tokio::io::copy(&mut from, &mut to).await;
    });
    let refused = ctx
        .port_forward("nope", 8080)
        .listen("127.0.0.1:0")
        .await
        .unwrap();
    let gone = round_trip(refused.local_addr(), b"hi".to_vec())
        .await
        .unwrap_or_default();
    assert!(gone.is_empty(), "{gone:?}");
    wait_until(|| refused.failures() == 1).await;

    let back = round_trip(addr, b"still here".to_vec()).await.unwrap();
    assert_eq!(back, b"still here");

    // Stopped: the port is closed.
    forwarder.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        round_trip(addr, b"x".to_vec())
            .await
            .map_or(true, |b| b.is_empty())
    );
}

async fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not done in time");
}
