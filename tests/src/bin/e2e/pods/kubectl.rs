//! What a newcomer types: `kubectl run`, `logs`, `exec`, `port-forward`, `rollout status`,
//! `wait`, `delete` — each answer checked as kubectl prints it on a cluster with a kubelet.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{Pods, steps};
use crate::support::{E2e, Outcome, ensure};

/// `kubectl get nodes`, `run nginx`, `exec` (stdout, stderr, exit code), `port-forward` and
/// `logs` of a finished pod.
pub async fn session(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kubectl-pods").await?;
    let nodes = pods.kubectl(&["get", "nodes"])?;
    ensure(nodes.lines().skip(1).any(|l| l.contains(" Ready ")), || {
        format!("no Ready node:\n{nodes}")
    })?;
    pods.kubectl(&["run", "nginx", "--image=nginx", "--port=80"])?;
    pods.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/nginx",
        "--timeout=90s",
    ])?;
    let results = vec![
        ("exec", exec(&pods)),
        ("port-forward", port_forward(&pods)),
        ("logs", logs(&pods)),
    ];
    e2e.report(format!("pods: kubectl get nodes\n{}", nodes.trim_end()));
    steps(results)
}

/// `kubectl exec` keeps stdout and stderr apart and exits with the command's code.
fn exec(pods: &Pods) -> Outcome {
    let (code, out, err) = pods.kubectl_status(&[
        "exec",
        "nginx",
        "--",
        "sh",
        "-c",
        "echo to-stdout; echo to-stderr >&2; exit 3",
    ])?;
    ensure(code == 3, || {
        format!("exit code {code} (stdout {out:?}, stderr {err:?})")
    })?;
    ensure(out == "to-stdout\n", || format!("stdout {out:?}"))?;
    ensure(
        err.contains("to-stderr") && !err.contains("to-stdout"),
        || format!("stderr {err:?}"),
    )
}

/// `kubectl port-forward pod/nginx :80`, then HTTP through the local port it prints.
fn port_forward(pods: &Pods) -> Outcome {
    let mut child = pods
        .cluster
        .kubectl()
        .args(["-n", &pods.ns, "port-forward", "pod/nginx", ":80"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start kubectl port-forward: {e}"))?;
    let outcome = forwarded_get(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

fn forwarded_get(child: &mut Child) -> Outcome {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    // "Forwarding from 127.0.0.1:PORT -> 80"
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.strip_prefix("Forwarding from 127.0.0.1:")?;
            rest.split_whitespace().next()?.parse::<u16>().ok()
        })
        .ok_or("kubectl port-forward printed no local port")?;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: nginx\r\n\r\n")
        .map_err(|e| format!("write through the forwarded port: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("read through the forwarded port: {e}"))?;
    ensure(
        answer.starts_with("HTTP/1.") && answer.contains(" 200 "),
        || format!("the pod answered {:?}", &answer[..answer.len().min(200)]),
    )
}

/// `kubectl logs` of a pod that ran to its end, whole, `--tail` and `--timestamps`.
fn logs(pods: &Pods) -> Outcome {
    pods.kubectl(&[
        "run",
        "counter",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; done",
    ])?;
    pods.kubectl(&[
        "wait",
        "--for=jsonpath={.status.phase}=Succeeded",
        "pod/counter",
        "--timeout=60s",
    ])?;
    let all = pods.kubectl(&["logs", "counter"])?;
    ensure(all == "line 1\nline 2\nline 3\n", || {
        format!("logs {all:?}")
    })?;
    let tail = pods.kubectl(&["logs", "counter", "--tail=1"])?;
    ensure(tail == "line 3\n", || format!("--tail=1 {tail:?}"))?;
    let stamped = pods.kubectl(&["logs", "counter", "--timestamps"])?;
    ensure(
        stamped.lines().count() == 3
            && stamped
                .lines()
                .all(|l| l.split_once(' ').is_some_and(|(t, _)| t.contains('T'))),
        || format!("--timestamps {stamped:?}"),
    )
}

/// `kubectl create deployment` + `rollout status`, `create job` + `wait --for=condition=complete`,
/// and `delete pod` waiting for the container's SIGTERM handler.
pub async fn workloads(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kubectl-workloads").await?;
    let results = vec![
        ("rollout", rollout(&pods)),
        ("job", job(&pods)),
        ("graceful-delete", graceful_delete(&pods)),
    ];
    steps(results)
}

fn rollout(pods: &Pods) -> Outcome {
    pods.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ])?;
    let status = pods.kubectl(&["rollout", "status", "deploy/web", "--timeout=120s"])?;
    ensure(status.contains("successfully rolled out"), || {
        format!("rollout status printed {status:?}")
    })?;
    let ready = pods.kubectl(&[
        "get",
        "deploy/web",
        "-o",
        "jsonpath={.status.availableReplicas}",
    ])?;
    ensure(ready == "2", || format!("availableReplicas {ready:?}"))
}

fn job(pods: &Pods) -> Outcome {
    pods.kubectl(&[
        "create",
        "job",
        "once",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        "echo job done",
    ])?;
    pods.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "--timeout=120s",
    ])?;
    let log = pods.kubectl(&["logs", "job/once"])?;
    ensure(log == "job done\n", || format!("job log {log:?}"))
}

/// A container that traps SIGTERM and takes 2 s to finish: `kubectl delete` waits for it
/// (not the 30 s grace period, not nothing).
fn graceful_delete(pods: &Pods) -> Outcome {
    pods.kubectl(&[
        "run",
        "trapper",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "trap 'echo got TERM; sleep 2; exit 0' TERM; while true; do sleep 0.1; done",
    ])?;
    pods.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/trapper",
        "--timeout=60s",
    ])?;
    let started = Instant::now();
    pods.kubectl(&["delete", "pod", "trapper", "--timeout=60s"])?;
    let took = started.elapsed();
    ensure(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(25),
        || format!("kubectl delete took {took:?}: the SIGTERM handler ran 2 s"),
    )?;
    let (code, _, err) = pods.kubectl_status(&["get", "pod", "trapper"])?;
    ensure(code != 0 && err.contains("NotFound"), || {
        format!("the pod is still there after delete: {err}")
    })
}
