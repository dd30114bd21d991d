//! Interactive sessions on running pods — a terminal (its size, a resize, stderr merged),
//! attach to a main process, kubectl's `exec -it`, `attach -i` and `port-forward` under load —
//! and the tour and the tutorial run against a cluster whose pods run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kuber::Context as Ctx;
use kuber::TerminalSize;
use kuber::models::api::core::v1::Pod;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

use super::verbs::{context, fetch_bytes};
use super::{Pods, steps};
use crate::support::{Context, E2e, Outcome, ensure, output_within};

/// How long one read of a session may wait before the step fails (a guard, not a measure).
const READ_LIMIT: Duration = Duration::from_secs(30);

/// A busybox pod whose main process answers each stdin line on stdout and on stderr.
const ECHO: &str = r#"while read line; do echo "got $line"; echo "err $line" >&2; done"#;

/// A busybox pod that prints a numbered line five times a second.
const TICKER: &str = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done";

/// Reads `reader` into `buf` until `done` finds what it wants in all read so far; the error
/// shows what came.
async fn read_until<R, T>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    what: &str,
    mut done: impl FnMut(&[u8]) -> Option<T>,
) -> Result<T, String>
where
    R: AsyncRead + Unpin,
{
    let reading = async {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(found) = done(buf) {
                return Ok(found);
            }
            match reader.read(&mut chunk).await {
                Ok(0) => return Err("the stream ended".to_owned()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    let result = tokio::time::timeout(READ_LIMIT, reading).await;
    let failure = match result {
        Ok(Ok(found)) => return Ok(found),
        Ok(Err(e)) => e,
        Err(_) => format!("nothing more within {} s", READ_LIMIT.as_secs()),
    };
    Err(format!(
        "{what}: {failure}; read so far {:?}",
        String::from_utf8_lossy(buf)
    ))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The value a shell printed between `tag` and the next `:`, skipping the terminal's echo of
/// the command itself (where `$(...)` stands unexpanded).
fn tagged(buf: &[u8], tag: &str) -> Option<String> {
    let text = String::from_utf8_lossy(buf);
    text.match_indices(tag).find_map(|(i, _)| {
        let rest = &text[i + tag.len()..];
        let value = &rest[..rest.find(':')?];
        (!value.starts_with('$')).then(|| value.to_owned())
    })
}

async fn create(ctx: &Ctx, pod: serde_json::Value) -> Outcome {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?").to_owned();
    ctx.put_text(&pod.to_string())
        .await
        .context(format!("create pod {name}"))?;
    ctx.wait_for::<Pod>(&name)
        .condition("Ready")
        .timeout(Duration::from_secs(90))
        .await
        .context(format!("wait until pod {name} is Ready"))?;
    Ok(())
}

fn busybox(name: &str, script: &str, stdin: bool) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "busybox", "stdin": stdin,
                                 "command": ["sh", "-c", script]}]}
    })
}

/// The three pods both interactive cases use: a sleeper to exec in, the echo pod (stdin open)
/// and the ticker.
async fn interactive_pods(ctx: &Ctx) -> Outcome {
    create(ctx, busybox("shell", "sleep 3600", false)).await?;
    create(ctx, busybox("echo", ECHO, true)).await?;
    create(ctx, busybox("ticker", TICKER, false)).await
}

// ---------------------------------------------------------------------------------------------
// Through kuber

/// `exec` with a terminal: its first size and a resize seen by `stty size`, stderr merged into
/// stdout with the terminal's line endings, the exit code; `attach` to a main process reading
/// stdin and to one printing.
pub async fn kuber_tty_and_attach(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kuber-tty").await?;
    let ctx = context(&pods)?;
    interactive_pods(&ctx).await?;
    let results = vec![
        ("exec-tty-resize", exec_tty(&ctx).await),
        ("attach-stdin", attach_stdin(&ctx).await),
        ("attach-output", attach_output(&ctx).await),
    ];
    steps(results)
}

async fn exec_tty(ctx: &Ctx) -> Outcome {
    let mut sh = ctx
        .exec("shell", ["sh"])
        .tty()
        .stdin_pipe()
        .start()
        .await
        .context("exec sh with a tty")?;
    let resize = sh
        .terminal_size()
        .ok_or("a tty session has no resize channel")?;
    resize
        .send(TerminalSize {
            width: 80,
            height: 24,
        })
        .await
        .context("send 24x80")?;
    ensure(sh.stderr().is_none(), || {
        "a tty session has a stderr apart".into()
    })?;
    let mut stdin = sh.stdin().ok_or("no stdin")?;
    let mut stdout = sh.stdout().ok_or("no stdout")?;
    let mut seen = Vec::new();
    let mut asked = 0;
    // The size and stdin travel on different channels: `stty size` is asked again (a few times
    // at most) until the size sent shows; a size never applied never shows.
    let mut size_becomes = async |want: &str, seen: &mut Vec<u8>| -> Result<(), String> {
        let mut answers = Vec::new();
        for _ in 0..5 {
            asked += 1;
            let tag = format!("S{asked}:");
            let line = format!("echo {tag}$(stty size):\n");
            stdin.write_all(line.as_bytes()).await.context("write")?;
            let answer = read_until(&mut stdout, seen, "stty size", |b| tagged(b, &tag)).await?;
            if answer == want {
                return Ok(());
            }
            answers.push(answer);
        }
        Err(format!("stty size answered {answers:?}, never {want:?}"))
    };
    size_becomes("24 80", &mut seen).await?;
    resize
        .send(TerminalSize {
            width: 120,
            height: 40,
        })
        .await
        .context("send 40x120")?;
    size_becomes("40 120", &mut seen).await?;
    // One terminal: stdout then stderr in order, each line ended "\r\n" (the pty's onlcr).
    let line = "echo O$((1+1)); echo E$((2+1)) >&2; exit 5\n";
    stdin.write_all(line.as_bytes()).await.context("write")?;
    read_until(&mut stdout, &mut seen, "merged output", |b| {
        contains(b, b"O2\r\nE3\r\n").then_some(())
    })
    .await?;
    drop((stdin, stdout));
    let status = sh.status().await.context("exit status")?;
    ensure(status.code() == 5, || {
        format!("exit code {} (want 5)", status.code())
    })
}

/// Attached with stdin to the echo pod's main process.
async fn attach_echo(ctx: &Ctx, what: &str) -> Result<kuber::AttachedProcess, String> {
    ctx.attach("echo").stdin(true).start().await.context(what)
}

/// The echo pod's main process: lines written through attach come back on its stdout and its
/// stderr, apart.
async fn attach_stdin(ctx: &Ctx) -> Outcome {
    let mut session = attach_echo(ctx, "attach").await?;
    let mut stdin = session.stdin().ok_or("no stdin")?;
    let mut stdout = session.stdout().ok_or("no stdout")?;
    let mut stderr = session.stderr().ok_or("no stderr")?;
    stdin
        .write_all(b"one\ntwo words\n")
        .await
        .context("write")?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let want_out = b"got one\ngot two words\n";
    let want_err = b"err one\nerr two words\n";
    let (read_out, read_err) = tokio::join!(
        read_until(&mut stdout, &mut out, "stdout", |b| {
            (b.len() >= want_out.len()).then_some(())
        }),
        read_until(&mut stderr, &mut err, "stderr", |b| {
            (b.len() >= want_err.len()).then_some(())
        }),
    );
    read_out?;
    read_err?;
    ensure(out == want_out && err == want_err, || {
        format!(
            "stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        )
    })?;
    // Detaching leaves the process running: a second attach is answered as the first.
    drop((stdin, stdout, stderr, session));
    let mut again = attach_echo(ctx, "attach again").await?;
    let mut stdin = again.stdin().ok_or("no stdin")?;
    let mut stdout = again.stdout().ok_or("no stdout")?;
    stdin.write_all(b"three\n").await.context("write")?;
    let mut out = Vec::new();
    read_until(&mut stdout, &mut out, "stdout of the second attach", |b| {
        contains(b, b"got three\n").then_some(())
    })
    .await?;
    ensure(out == b"got three\n", || {
        format!("second attach read {:?}", String::from_utf8_lossy(&out))
    })
}

/// The ticks of a line (`tick N`) in `text`, each whole line in order.
fn ticks(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("tick ")?.parse().ok())
        .collect()
}

/// Attach shows the process's output from now on, not its log from the start: after the log
/// has tick 5, the first line attach reads is a later one, and the lines follow on.
async fn attach_output(ctx: &Ctx) -> Outcome {
    crate::support::poll("tick 5 in the ticker's log", READ_LIMIT, || async {
        let log = ctx.logs("ticker").await.context("logs")?;
        Ok(ticks(&log).contains(&5).then_some(()))
    })
    .await?;
    let mut session = ctx.attach("ticker").start().await.context("attach")?;
    ensure(session.stdin().is_none(), || {
        "attach without stdin has a stdin".into()
    })?;
    let mut stdout = session.stdout().ok_or("no stdout")?;
    let mut out = Vec::new();
    read_until(&mut stdout, &mut out, "ticks", |b| {
        (b.iter().filter(|c| **c == b'\n').count() >= 4).then_some(())
    })
    .await?;
    // Whole lines only: a read may end inside one.
    let whole = &out[..=out.iter().rposition(|c| *c == b'\n').unwrap_or(0)];
    let text = String::from_utf8_lossy(whole);
    let seen = ticks(&text);
    let consecutive = seen.windows(2).all(|w| w[1] == w[0] + 1);
    ensure(
        seen.len() >= 4
            && seen[0] > 5
            && consecutive
            && text.lines().all(|l| l.starts_with("tick ")),
        || format!("attach read {text:?}"),
    )
}

// ---------------------------------------------------------------------------------------------
// Through kubectl

/// A child process killed when dropped, whatever way the step ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

impl Running {
    fn spawn(mut command: Command) -> Result<Running, String> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let shown = format!("{:?}", command.as_std());
        command
            .spawn()
            .map(Running)
            .map_err(|e| format!("start {shown}: {e}"))
    }

    /// Kills it and waits until it is gone.
    async fn stop(mut self) -> Outcome {
        let _ = self.0.start_kill();
        tokio::time::timeout(READ_LIMIT, self.0.wait())
            .await
            .map_err(|_| "the process did not end once killed".to_owned())?
            .map(drop)
            .context("wait")
    }
}

/// kubectl in the pods' namespace, as a tokio command.
fn kubectl(pods: &Pods, args: &[&str]) -> Command {
    let mut command = Command::from(pods.cluster.kubectl());
    command.args(["-n", &pods.ns]).args(args);
    command
}

/// `kubectl exec -it`, `attach -i`, `port-forward` with 16 connections at once.
pub async fn kubectl_interactive(e2e: &E2e) -> Outcome {
    let pods = Pods::new(e2e, "kubectl-it").await?;
    let ctx = context(&pods)?;
    interactive_pods(&ctx).await?;
    let web = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                 "ports": [{"containerPort": 80}]}]}
    });
    create(&ctx, web).await?;
    let results = vec![
        ("exec-it", exec_it(&pods).await),
        ("attach-i", attach_i(&pods).await),
        ("port-forward-16", port_forward_16(e2e, &pods).await),
    ];
    steps(results)
}

/// Quotes `word` for `sh -c`.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `kubectl exec -it shell -- sh` on a pseudo-terminal (util-linux `script`): kubectl asks for
/// a remote terminal only when its stdin is one. The shell prints 42 only if its stdin is a
/// terminal, and kubectl exits with the shell's code.
async fn exec_it(pods: &Pods) -> Outcome {
    let std = pods.cluster.kubectl();
    let mut line = vec![std.get_program().to_string_lossy().into_owned()];
    line.extend(["-n", &pods.ns, "exec", "-it", "shell", "--", "sh"].map(str::to_owned));
    let line = line.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" ");
    let mut command = Command::new("script");
    command.args(["-qfec", &line, "/dev/null"]);
    for (key, value) in std.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let mut child = Running::spawn(command)?;
    let mut stdin = child.0.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.0.stdout.take().ok_or("no stdout")?;
    stdin
        .write_all(b"test -t 0 && echo $((6*7)); exit 3\n")
        .await
        .context("type")?;
    // Held open until kubectl ends: an end of input would reach the shell as ^D.
    let mut out = Vec::new();
    tokio::time::timeout(READ_LIMIT, stdout.read_to_end(&mut out))
        .await
        .map_err(|_| {
            format!(
                "kubectl exec -it did not end; it printed {:?}",
                String::from_utf8_lossy(&out)
            )
        })?
        .context("read")?;
    let status = tokio::time::timeout(READ_LIMIT, child.0.wait())
        .await
        .map_err(|_| "kubectl exec -it did not exit".to_owned())?
        .context("wait")?;
    drop(stdin);
    let text = String::from_utf8_lossy(&out);
    // The shell's prompt may come first on the line when the input arrived before it.
    let answered = |l: &str| l.trim_end().trim_start_matches(['#', '$', ' ']) == "42";
    ensure(text.lines().any(answered), || format!("no 42 in {text:?}"))?;
    ensure(status.code() == Some(3), || {
        format!("kubectl exec -it exited {status} (want 3); it printed {text:?}")
    })
}

/// `kubectl attach -i echo`: a line in, its answers out on kubectl's stdout and stderr.
async fn attach_i(pods: &Pods) -> Outcome {
    let mut child = Running::spawn(kubectl(pods, &["attach", "-i", "echo"]))?;
    let mut stdin = child.0.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.0.stderr.take().ok_or("no stderr")?;
    stdin.write_all(b"from kubectl\n").await.context("write")?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (read_out, read_err) = tokio::join!(
        read_until(&mut stdout, &mut out, "kubectl attach stdout", |b| {
            contains(b, b"got from kubectl\n").then_some(())
        }),
        read_until(&mut stderr, &mut err, "kubectl attach stderr", |b| {
            contains(b, b"err from kubectl\n").then_some(())
        }),
    );
    let stopped = child.stop().await;
    read_out?;
    read_err?;
    ensure(!contains(&out, b"err from"), || {
        format!("stderr reached stdout: {:?}", String::from_utf8_lossy(&out))
    })?;
    stopped
}

/// `kubectl port-forward pod/web PORT:80`, then 16 connections at once, each 1 MiB checked.
async fn port_forward_16(e2e: &E2e, pods: &Pods) -> Outcome {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("pick a free port")?
        .port();
    let mapping = format!("{port}:80");
    let mut child = Running::spawn(kubectl(
        pods,
        &["port-forward", "--address=127.0.0.1", "pod/web", &mapping],
    ))?;
    let mut stdout = child.0.stdout.take().ok_or("no stdout")?;
    let ready = format!("Forwarding from 127.0.0.1:{port} -> 80");
    let mut out = Vec::new();
    read_until(&mut stdout, &mut out, "kubectl port-forward", |b| {
        contains(b, ready.as_bytes()).then_some(())
    })
    .await?;
    // Its stdout keeps being read (a line per connection), so kubectl never blocks on it.
    let drain = tokio::spawn(async move {
        let mut sink = tokio::io::sink();
        let _ = tokio::io::copy(&mut stdout, &mut sink).await;
    });
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let fetched = futures_util::future::join_all((0..16).map(|_| fetch_bytes(addr, 1 << 20)))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>();
    let stopped = child.stop().await;
    drain.abort();
    let fetched = fetched?;
    e2e.report(format!(
        "pods: kubectl port-forward carried 16 connections at once, {} bytes checked",
        fetched.iter().sum::<usize>()
    ));
    stopped
}

// ---------------------------------------------------------------------------------------------
// The tour and the tutorial

/// Where this workspace's cargo puts its builds.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target"),
    }
}

fn workspace_root() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests_crate.parent().unwrap_or(tests_crate).to_path_buf()
}

/// How long a built example may take to its end.
const EXAMPLE_LIMIT: Duration = Duration::from_secs(180);

/// What both examples print once they have seen their pod run and then go.
fn ran_and_went(stdout: &str) -> Outcome {
    ensure(stdout.contains("pod phase: \"Running\""), || {
        format!("the pod never showed Running:\n{stdout}")
    })?;
    ensure(stdout.contains("watch: deleted nginx-pod"), || {
        format!("the watch never saw the pod go:\n{stdout}")
    })
}

/// `examples/tour.rs` (kuber-testserver's) and kuber's `examples/tutorial.rs`, built once and
/// run with the admin kubeconfig, each in a namespace of its own: both succeed and their
/// nginx pod runs on the node.
pub async fn tour_and_tutorial(e2e: &E2e) -> Outcome {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = tokio::process::Command::new(&cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "kuber-testserver",
            "--example",
            "tour",
        ])
        .args(["-p", "kuber", "--example", "tutorial"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let built = tokio::time::timeout(Duration::from_secs(900), build)
        .await
        .map_err(|_| "cargo build of the examples: not done within 900 s".to_owned())?
        .context("cargo build")?;
    ensure(built.status.success(), || {
        format!(
            "cargo build of the examples failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        )
    })?;
    let examples = target_dir().join("debug/examples");

    let tour_pods = Pods::new(e2e, "tour").await?;
    let kubeconfig = tour_pods.cluster.kubeconfig.clone();
    let mut tour = Command::new(examples.join("tour"));
    tour.arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--namespace", &tour_pods.ns]);
    let tour = output_within(tour, "the tour", EXAMPLE_LIMIT)
        .await
        .and_then(|out| ran_and_went(&out));

    let tutorial_pods = Pods::new(e2e, "tutorial").await?;
    let mut tutorial = Command::new(examples.join("tutorial"));
    tutorial
        .env("KUBECONFIG", &kubeconfig)
        .args(["--namespace", &tutorial_pods.ns]);
    let tutorial = output_within(tutorial, "the tutorial", EXAMPLE_LIMIT)
        .await
        .and_then(|out| ran_and_went(&out));
    if tour.is_ok() && tutorial.is_ok() {
        e2e.report("pods: the tour and the tutorial ran on the real control plane, their nginx pod Running on the node");
    }
    steps(vec![("tour", tour), ("tutorial", tutorial)])
}
