//! port-forward as kubectl 1.30+ does it, through kuber-api's [`PortForwardTunnel`]: SPDY/3.1
//! over one WebSocket, to a real kube-apiserver that hands it on to the node agent's SPDY server.

use std::time::{Duration, Instant};

use kuber::Context as Ctx;
use kuber::models::api::core::v1::Pod;
use kuber_api::ws::PortForwardTunnel;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::verbs::read_pattern_body;
use super::{Pods, steps};
use crate::support::{Context, E2e, Outcome, ensure};

const MIB: usize = 1 << 20;
/// Any step that takes longer is stuck.
const LIMIT: Duration = Duration::from_secs(120);

/// One tunnel: the server chose the SPDY tunnel; 16 connections at once of 1 MiB each, 64 MiB
/// through one, a half-closed request answered whole, and a port nothing listens on refused
/// with an error naming it.
pub async fn spdy_tunnel(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kuber-tunnel").await?;
    let admin = pods.cluster.admin().map_err(|e| e.to_string())?;
    let mut ctx = Ctx::from_client(admin.clone());
    ctx.set_ns(pods.ns.clone());
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                 "ports": [{"containerPort": 80}]}]}
    });
    ctx.put_text(&pod.to_string()).await.context("create")?;
    ctx.wait_for::<Pod>("web")
        .condition("Ready")
        .timeout(Duration::from_secs(60))
        .await
        .context("wait for Ready")?;
    let tunnel = admin
        .port_forward_tunnel(&pods.ns, "web")
        .await
        .context("open the tunnel")?;
    ensure(tunnel.protocol() == "SPDY/3.1+portforward.k8s.io", || {
        format!(
            "the server chose {}, not the SPDY tunnel",
            tunnel.protocol()
        )
    })?;
    let results = vec![
        ("16-at-once", many(&tunnel).await),
        ("64-mib", big(e2e, &tunnel).await),
        ("half-close", half_close(&tunnel).await),
        ("closed-port", closed_port(&tunnel).await),
        // The tunnel still serves after a connection failed.
        (
            "after-failure",
            fetch(&tunnel, 1000, false).await.map(|_| ()),
        ),
    ];
    steps(results)
}

/// GET /bytes?n=N over a new connection of the tunnel (HTTP/1.0: the server closes after the
/// answer); `half_close` shuts the stream's writing down after the request. The body checked
/// against the pattern; its length.
async fn fetch(tunnel: &PortForwardTunnel, n: usize, half_close: bool) -> Result<usize, String> {
    let mut stream = tunnel.connect(80).await.context("connect to port 80")?;
    let request = format!("GET /bytes?n={n} HTTP/1.0\r\nHost: web\r\n\r\n");
    let exchange = async {
        stream
            .write_all(request.as_bytes())
            .await
            .context("write")?;
        if half_close {
            stream.shutdown().await.context("shutdown (FIN)")?;
        }
        read_pattern_body(&mut stream, n).await
    };
    tokio::time::timeout(LIMIT, exchange)
        .await
        .map_err(|_| format!("GET of {n} bytes took over {LIMIT:?}"))?
}

async fn many(tunnel: &PortForwardTunnel) -> Outcome {
    let got = futures_util::future::join_all((0..16).map(|_| fetch(tunnel, MIB, false)))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    ensure(got.iter().all(|n| *n == MIB), || format!("{got:?}"))
}

async fn big(e2e: &E2e, tunnel: &PortForwardTunnel) -> Outcome {
    let started = Instant::now();
    let n = fetch(tunnel, 64 * MIB, false).await?;
    let seconds = started.elapsed().as_secs_f64();
    e2e.report(format!(
        "pods: SPDY tunnel: 64 MiB checked in {seconds:.1} s ({:.0} MiB/s); 16 connections of 1 MiB at once on the same WebSocket",
        n as f64 / seconds / MIB as f64
    ));
    Ok(())
}

async fn half_close(tunnel: &PortForwardTunnel) -> Outcome {
    fetch(tunnel, 100_000, true).await.map(|_| ())
}

/// Port 81: nothing listens there; the server's error names the port.
async fn closed_port(tunnel: &PortForwardTunnel) -> Outcome {
    let attempt = async {
        let mut stream = tunnel.connect(81).await?;
        let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map(|_| answer)
            .map_err(
                |e| match e.into_inner().map(|e| e.downcast::<kuber_api::Error>()) {
                    Some(Ok(e)) => *e,
                    other => kuber_api::Error::Session {
                        operation: "read",
                        channel: "port 81".into(),
                        message: format!("{other:?}"),
                    },
                },
            )
    };
    let outcome = tokio::time::timeout(LIMIT, attempt)
        .await
        .map_err(|_| "port 81 neither answered nor failed")?;
    match outcome {
        Ok(answer) => Err(format!(
            "port 81 answered {} bytes instead of an error",
            answer.len()
        )),
        Err(e @ kuber_api::Error::Session { .. }) => {
            let text = e.to_string();
            ensure(text.contains("port 81"), || {
                format!("the error names no port: {text}")
            })
        }
        Err(e) => Err(format!("not a session error: {e:?}")),
    }
}
