//! The kube-rs side of `realbench --pods`: the same pod, requests and checks as kuber-api's
//! side (`tests/src/bin/bench/pods.rs`), through kube-rs's `ws` feature.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt as _;

use crate::bytes::get_bytes;

/// The pod every client talks to, its nginx port, and the warm-up (as kuber-api's side).
const POD: &str = "bench-web";
const PORT: u16 = 80;
const WARM_UP_BYTES: u64 = 1 << 20;
const EXEC_WARM_UP: usize = 3;

/// A 1 MiB GET to warm one forwarded connection, then a timed `n`-byte GET on it.
pub async fn port_forward(api: &Api<Pod>, n: usize) -> Result<(usize, Duration), String> {
    let mut forwarder = api
        .portforward(POD, &[PORT])
        .await
        .map_err(|e| format!("portforward {POD}: {e}"))?;
    let mut stream = forwarder
        .take_stream(PORT)
        .ok_or_else(|| format!("portforward {POD}: no stream for port {PORT}"))?;
    get_bytes(&mut stream, WARM_UP_BYTES)
        .await
        .map_err(|e| format!("portforward {POD}: warm-up GET: {e}"))?;
    let started = Instant::now();
    let got = get_bytes(&mut stream, n as u64)
        .await
        .map_err(|e| format!("portforward {POD}: timed GET: {e}"))?;
    Ok((
        usize::try_from(got).unwrap_or(usize::MAX),
        started.elapsed(),
    ))
}

/// `count` execs of `echo x` (stdout and stderr, no stdin), each run to its end and checked.
pub async fn exec(api: &Api<Pod>, count: usize) -> Result<(usize, Duration), String> {
    for _ in 0..EXEC_WARM_UP {
        exec_once(api).await?;
    }
    let started = Instant::now();
    for _ in 0..count {
        exec_once(api).await?;
    }
    Ok((count, started.elapsed()))
}

async fn exec_once(api: &Api<Pod>) -> Result<(), String> {
    let mut process = api
        .exec(POD, ["echo", "x"], &AttachParams::default())
        .await
        .map_err(|e| format!("exec in {POD}: {e}"))?;
    let mut stdout = process.stdout().ok_or("exec: no stdout")?;
    let mut stderr = process.stderr().ok_or("exec: no stderr")?;
    let status = process.take_status().ok_or("exec: no status")?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (read_out, read_err) =
        tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
    read_out.map_err(|e| format!("exec: stdout: {e}"))?;
    read_err.map_err(|e| format!("exec: stderr: {e}"))?;
    let status = status
        .await
        .ok_or("exec: the session ended without a status")?;
    process.join().await.map_err(|e| format!("exec: {e}"))?;
    if out == b"x\n" && status.status.as_deref() == Some("Success") {
        Ok(())
    } else {
        Err(format!(
            "echo x: stdout {:?}, status {:?}",
            String::from_utf8_lossy(&out),
            status.status
        ))
    }
}
