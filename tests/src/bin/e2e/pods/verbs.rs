//! kuber's verbs on running pods: a followed log of real output, and `wait_for` on workloads
//! that a kubelet makes progress.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber::Context as Ctx;
use kuber::models::api::apps::v1::Deployment;
use kuber::models::api::batch::v1::Job;
use kuber::models::api::core::v1::Pod;
use kuber_tests::bench::bytes::PATTERN;

use super::{Pods, steps};
use crate::support::{Context, E2e, Outcome, ensure};

const LINES: usize = 10_000;

pub(super) fn context(pods: &Pods) -> Result<Ctx, String> {
    let mut ctx = Ctx::from_client(pods.cluster.admin().map_err(|e| e.to_string())?);
    ctx.set_ns(pods.ns.clone());
    Ok(ctx)
}

/// A container writes 10,000 numbered lines while `logs().follow()` reads: every line once,
/// in order, and the stream ends when the container does.
pub async fn follow_logs(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kuber-logs").await?;
    let ctx = context(&pods)?;
    let script = format!(
        "sleep 2; i=1; while [ $i -le {LINES} ]; do echo line $i; i=$((i+1)); done; sleep 1"
    );
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "writer"},
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": "w", "image": "busybox", "command": ["sh", "-c", script]}
        ]}
    });
    ctx.put_text(&pod.to_string())
        .await
        .context("create the writer")?;
    ctx.wait_for::<Pod>("writer")
        .jsonpath("{.status.phase}", Some("Running"))
        .timeout(Duration::from_secs(60))
        .await
        .context("wait until the writer runs")?;
    let started = Instant::now();
    let follow = ctx.logs("writer").follow().await.context("follow")?;
    let lines: Vec<String> =
        tokio::time::timeout(Duration::from_secs(120), follow.collect::<Vec<_>>())
            .await
            .map_err(|_| "the followed log did not end within 120 s of the container's end")?
            .into_iter()
            .collect::<Result<_, _>>()
            .context("a followed line")?;
    let wrong = lines
        .iter()
        .enumerate()
        .find(|(i, line)| **line != format!("line {}", i + 1));
    ensure(lines.len() == LINES && wrong.is_none(), || {
        format!(
            "{} lines followed (want {LINES}); first wrong: {wrong:?}",
            lines.len()
        )
    })?;
    e2e.report(format!(
        "pods: logs().follow() read {} lines in order in {:.1} s",
        lines.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// A Deployment becomes Available and a Job Complete, awaited with `wait_for` (kubectl wait's
/// conditions, over a watch).
pub async fn rollout_and_job(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kuber-wait").await?;
    let ctx = context(&pods)?;
    let results = vec![
        ("deployment-available", deployment(&ctx).await),
        ("job-complete", job(&ctx).await),
        ("pod-deleted", deleted(&ctx).await),
    ];
    steps(results)
}

async fn deployment(ctx: &Ctx) -> Outcome {
    let deploy = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                       "ports": [{"containerPort": 80}]}]}}}
    });
    ctx.put_text(&deploy.to_string()).await.context("create")?;
    let available = ctx
        .wait_for::<Deployment>("web")
        .condition("Available")
        .timeout(Duration::from_secs(120))
        .await
        .context("wait for Available")?;
    let replicas = available
        .and_then(|d| d.status)
        .and_then(|s| s.available_replicas);
    // Available holds at minAvailable; all replicas follow shortly.
    let all = ctx
        .wait_for::<Deployment>("web")
        .jsonpath("{.status.availableReplicas}", Some("2"))
        .timeout(Duration::from_secs(60))
        .await
        .context("wait for 2 available replicas")?;
    ensure(replicas.is_some() && all.is_some(), || {
        format!("Available with availableReplicas {replicas:?}")
    })
}

async fn job(ctx: &Ctx) -> Outcome {
    let job = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo done; exit 0"]}]}}}
    });
    ctx.put_text(&job.to_string()).await.context("create")?;
    let done = ctx
        .wait_for::<Job>("once")
        .condition("Complete")
        .timeout(Duration::from_secs(120))
        .await
        .context("wait for Complete")?;
    let succeeded = done.and_then(|j| j.status).and_then(|s| s.succeeded);
    ensure(succeeded == Some(1), || format!("succeeded {succeeded:?}"))
}

/// `wait_for(..).deleted()` ends when the agent has stopped the container and finalized the
/// pod; a wait that times out says so.
async fn deleted(ctx: &Ctx) -> Outcome {
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper"},
        "spec": {"containers": [{"name": "s", "image": "busybox", "command": ["sleep", "3600"]}]}
    });
    ctx.put_text(&pod.to_string()).await.context("create")?;
    let short = ctx
        .wait_for::<Pod>("sleeper")
        .jsonpath("{.status.phase}", Some("Succeeded"))
        .timeout(Duration::from_secs(2))
        .await;
    ensure(matches!(short, Err(kuber::Error::Timeout { .. })), || {
        format!("a wait that cannot be met answered {short:?}")
    })?;
    ctx.wait_for::<Pod>("sleeper")
        .condition("Ready")
        .timeout(Duration::from_secs(60))
        .await
        .context("wait for Ready")?;
    ctx.delete::<Pod>("sleeper").await.context("delete")?;
    let gone = ctx
        .wait_for::<Pod>("sleeper")
        .deleted()
        .timeout(Duration::from_secs(60))
        .await
        .context("wait for the deletion")?;
    ensure(gone.is_none(), || "deleted() answered an object".into())
}

/// `ctx.exec` on a running container: stdin in, stdout and stderr apart, exit code 3 as data;
/// `ctx.port_forward(..).listen(..)`: 100 MiB through one connection, every byte checked, and
/// 16 connections at once.
pub async fn exec_and_port_forward(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kuber-exec").await?;
    let ctx = context(&pods)?;
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
    let results = vec![
        ("exec", exec(&ctx).await),
        ("port-forward", port_forward(e2e, &ctx).await),
    ];
    steps(results)
}

async fn exec(ctx: &Ctx) -> Outcome {
    let out = ctx
        .exec("web", ["sh", "-c", "cat; echo to-stderr >&2; exit 3"])
        .stdin(b"from stdin\n".to_vec())
        .await
        .context("exec")?;
    ensure(out.status.code() == 3, || {
        format!("exit code {}", out.status.code())
    })?;
    ensure(out.stdout == b"from stdin\n", || {
        format!("stdout {:?}", String::from_utf8_lossy(&out.stdout))
    })?;
    ensure(out.stderr == b"to-stderr\n", || {
        format!("stderr {:?}", String::from_utf8_lossy(&out.stderr))
    })
}

/// GET /bytes?n=N through `addr`; every byte of the body checked against the server's pattern.
pub(super) async fn fetch_bytes(addr: std::net::SocketAddr, n: usize) -> Result<usize, String> {
    use tokio::io::AsyncWriteExt as _;
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .context("connect to the forwarded port")?;
    let request = format!("GET /bytes?n={n} HTTP/1.0\r\nHost: web\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .context("write")?;
    read_pattern_body(&mut stream, n).await
}

/// Reads an HTTP answer to its end and checks its body: `n` bytes of the server's pattern.
pub(super) async fn read_pattern_body(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    n: usize,
) -> Result<usize, String> {
    use tokio::io::AsyncReadExt as _;
    let mut body = Vec::with_capacity(n + 512);
    stream.read_to_end(&mut body).await.context("read")?;
    let start = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header end")?
        + 4;
    let body = &body[start..];
    let bad = body
        .iter()
        .enumerate()
        .position(|(i, b)| *b != PATTERN[i % PATTERN.len()]);
    ensure(body.len() == n && bad.is_none(), || {
        format!("{} bytes of {n}, first wrong at {bad:?}", body.len())
    })?;
    Ok(body.len())
}

async fn port_forward(e2e: &E2e, ctx: &Ctx) -> Outcome {
    let forwarder = ctx
        .port_forward("web", 80)
        .listen("127.0.0.1:0")
        .await
        .context("listen")?;
    let addr = forwarder.local_addr();
    let started = Instant::now();
    let big = fetch_bytes(addr, 100 << 20).await?;
    let seconds = started.elapsed().as_secs_f64();
    let many = futures_util::future::join_all((0..16).map(|i| fetch_bytes(addr, 100_000 + i)))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    e2e.report(format!(
        "pods: port-forward 100 MiB checked in {seconds:.1} s ({:.0} MiB/s); 16 connections at once, {} bytes",
        big as f64 / seconds / 1048576.0,
        many.iter().sum::<usize>()
    ));
    ensure(forwarder.failures() == 0, || {
        format!("{} forwarded connections failed", forwarder.failures())
    })
}
