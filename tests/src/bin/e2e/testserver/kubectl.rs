//! kubectl (the 1.36 one built with the control plane) against kuber-testserver, the in-process
//! API server: each case starts a server in this process, writes its kubeconfig to a folder of
//! its own with a discovery cache of its own, runs kubectl and checks what kubectl prints.
//!
//! Strategic merge patch and server-side apply are the server's newest verbs: the cases that
//! need them are `apply-client-side` (a changed manifest), `apply-server-side` and the
//! strategic `patch`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kuber_api::{AppsV1Api, CoreV1Api, GetParams, WriteParams};
use kuber_models::api::core::v1::ConfigMap;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_testserver::TestServer;
use serde_json::Value;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![
        case!("kubectl_testserver/get", get),
        case!("kubectl_testserver/get-watch", get_watch),
        case!("kubectl_testserver/create", create),
        case!(
            "kubectl_testserver/typed-create-protobuf",
            typed_create_protobuf
        ),
        case!("kubectl_testserver/validate", validate),
        case!("kubectl_testserver/apply-client-side", apply_client_side),
        case!("kubectl_testserver/apply-server-side", apply_server_side),
        case!("kubectl_testserver/patch", patch),
        case!("kubectl_testserver/delete", delete),
        case!("kubectl_testserver/explain", explain),
    ]
}

/// What one kubectl run printed.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// A test server with kubectl pointed at it.
struct Kubectl {
    server: TestServer,
    dir: PathBuf,
    kubectl: PathBuf,
}

impl Drop for Kubectl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Kubectl {
    async fn start(e2e: &E2e) -> Result<Kubectl, String> {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let server = TestServer::start().await.context("start the test server")?;
        let dir = std::env::temp_dir().join(format!(
            "kuber-e2e-kubectl-testserver-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("cache")).context(format!("create {}", dir.display()))?;
        std::fs::write(dir.join("kubeconfig"), server.kubeconfig()).context("write kubeconfig")?;
        Ok(Kubectl {
            server,
            dir,
            kubectl: e2e.cluster.bin().join("kubectl"),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.args(args)
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .env("KUBECACHEDIR", self.dir.join("cache"))
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs kubectl to its end, off the runtime's threads (the server runs on them).
    async fn run(&self, args: &[&str]) -> Result<Run, String> {
        let mut cmd = self.command(args);
        let line = args.join(" ");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .context(format!("kubectl {line}"))?
            .context(format!("kubectl {line}"))?;
        Ok(Run {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// kubectl's stdout; an error with its stderr unless it succeeds.
    async fn ok(&self, args: &[&str]) -> Result<String, String> {
        let run = self.run(args).await?;
        if run.success {
            Ok(run.stdout)
        } else {
            Err(format!(
                "kubectl {} failed: {}",
                args.join(" "),
                run.stderr.trim()
            ))
        }
    }

    /// kubectl's stderr; an error unless it fails.
    async fn fails(&self, args: &[&str]) -> Result<String, String> {
        let run = self.run(args).await?;
        if run.success {
            Err(format!(
                "kubectl {} succeeded, expected a failure: {}",
                args.join(" "),
                run.stdout.trim()
            ))
        } else {
            Ok(run.stderr)
        }
    }

    /// Writes a manifest into the run's folder.
    fn file(&self, name: &str, text: &str) -> Result<String, String> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).context(format!("write {}", path.display()))?;
        path_text(&path)
    }

    fn core(&self) -> CoreV1Api {
        CoreV1Api::new(self.server.client())
    }

    async fn create_configmap(&self, name: &str, labels: &[(&str, &str)]) -> Outcome {
        let cm = ConfigMap {
            metadata: Some(ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                ..Default::default()
            }),
            data: Some([("a".to_owned(), "1".to_owned())].into()),
            ..Default::default()
        };
        self.core()
            .create_namespaced_config_map("default", &cm, &WriteParams::default())
            .await
            .map(drop)
            .context(format!("create ConfigMap {name}"))
    }

    async fn configmap_data(&self, name: &str) -> Result<Value, String> {
        let cm = self
            .core()
            .read_namespaced_config_map(name, "default", &GetParams::default())
            .await
            .context(format!("read ConfigMap {name}"))?;
        serde_json::to_value(cm.data.unwrap_or_default()).context("encode data")
    }
}

fn path_text(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// The first column of a table's rows, after checking its header.
fn table_names(table: &str, header: &[&str]) -> Result<Vec<String>, String> {
    let mut lines = table.lines();
    let first: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    ensure(first == header, || {
        format!("table header {first:?}, expected {header:?}:\n{table}")
    })?;
    Ok(lines
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1
      - name: sidecar
        image: busybox:1
";

/// `get`: the table of names and ages, `-o json`, `-l`, one object, and `get all` (categories).
async fn get(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    k.create_configmap("alpha", &[("tier", "front")]).await?;
    k.create_configmap("beta", &[("tier", "back")]).await?;

    let names = table_names(&k.ok(&["get", "configmaps"]).await?, &["NAME", "AGE"])?;
    ensure(names == ["alpha", "beta"], || {
        format!("kubectl get configmaps lists {names:?}")
    })?;
    let one = table_names(&k.ok(&["get", "cm", "beta"]).await?, &["NAME", "AGE"])?;
    ensure(one == ["beta"], || {
        format!("kubectl get cm beta lists {one:?}")
    })?;

    let json: Value = serde_json::from_str(&k.ok(&["get", "configmaps", "-o", "json"]).await?)
        .context("kubectl get -o json: not JSON")?;
    let listed: Vec<&str> = json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    ensure(
        json["kind"] == "List"
            && listed == ["alpha", "beta"]
            && json["items"][0]["kind"] == "ConfigMap",
        || format!("kubectl get -o json: {json}"),
    )?;

    let labelled = k
        .ok(&["get", "configmaps", "-l", "tier=front", "-o", "name"])
        .await?;
    ensure(labelled.trim() == "configmap/alpha", || {
        format!("kubectl get -l tier=front: {labelled:?}")
    })?;
    let wide = k
        .ok(&["get", "configmaps", "-A", "-l", "tier in (front,back)"])
        .await?;
    let header: Vec<&str> = wide
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    ensure(header == ["NAMESPACE", "NAME", "AGE"], || {
        format!("kubectl get -A: {wide}")
    })?;

    k.ok(&["create", "-f", &k.file("web.yaml", DEPLOYMENT)?])
        .await?;
    let all = k.ok(&["get", "all"]).await?;
    ensure(all.contains("deployment.apps/web"), || {
        format!("kubectl get all does not show the Deployment:\n{all}")
    })?;
    e2e.report("kubectl_testserver: get (table, -o json, -l, -A, one object, all) passes");
    Ok(())
}

/// `get -w` of a list and of one object: the later change is printed.
async fn get_watch(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    k.create_configmap("watched", &[]).await?;
    for args in [
        &["get", "configmaps", "-w"][..],
        &["get", "configmap", "watched", "-w"][..],
    ] {
        // Only this kubectl's requests, to see when its watch opens.
        k.server.clear_requests();
        let mut cmd = k.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().context("spawn kubectl get -w")?;
        let stdout = child.stdout.take().ok_or("kubectl's stdout")?;
        let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let outcome = async {
            let mut next = async || {
                let line = tokio::time::timeout(Duration::from_secs(20), lines.recv())
                    .await
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        format!("kubectl {}: no more lines after {seen:?}", args.join(" "))
                    })?;
                seen.push(line.clone());
                Ok::<_, String>(line)
            };
            ensure(next().await?.starts_with("NAME"), || "no header".into())?;
            ensure(next().await?.starts_with("watched "), || "no row".into())?;
            // kubectl prints the row from its GET, then watches; it skips the watch's first
            // event (the object as it is), so the change is made once the watch is open.
            let watching = || {
                k.server.requests().iter().any(|r| {
                    r.path.ends_with("/configmaps")
                        && r.query.iter().any(|(n, v)| n == "watch" && v == "true")
                })
            };
            // A watch never opened shows in the check below as the change not printed.
            let every = Duration::from_millis(20);
            let _ = poll_every(
                "kubectl's watch",
                Duration::from_secs(20),
                every,
                || async { Ok(watching().then_some(())) },
            )
            .await;
            // The watch request is recorded as it arrives; let the server start answering it.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut cm = k
                .core()
                .read_namespaced_config_map("watched", "default", &GetParams::default())
                .await
                .context("read watched")?;
            cm.data = Some([("changed".to_owned(), args.len().to_string())].into());
            k.core()
                .replace_namespaced_config_map("watched", "default", &cm, &WriteParams::default())
                .await
                .context("replace watched")?;
            ensure(next().await?.starts_with("watched "), || {
                "the change was not printed".into()
            })
        }
        .await;
        // Only the kubectl this case started.
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        outcome.map_err(|e| format!("kubectl {}: {e} (printed {seen:?})", args.join(" ")))?;
    }
    e2e.report("kubectl_testserver: get -w (list and one object) prints the later change");
    Ok(())
}

/// `create -f`: objects of two groups; a second create is the real AlreadyExists.
async fn create(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made\ndata:\n  key: value\n",
    )?;
    let out = k.ok(&["create", "-f", &cm]).await?;
    ensure(out.trim() == "configmap/made created", || {
        format!("kubectl create: {out:?}")
    })?;
    let again = k.fails(&["create", "-f", &cm]).await?;
    ensure(
        again.contains(r#"Error from server (AlreadyExists): error when creating"#)
            && again.contains(r#"configmaps "made" already exists"#),
        || format!("second kubectl create: {again:?}"),
    )?;
    let out = k
        .ok(&["create", "-f", &k.file("web.yaml", DEPLOYMENT)?])
        .await?;
    ensure(out.trim() == "deployment.apps/web created", || {
        format!("kubectl create: {out:?}")
    })?;
    let replicas = k
        .ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
        .await?;
    ensure(replicas == "2", || format!("replicas {replicas:?}"))?;
    ensure(
        k.configmap_data("made").await? == serde_json::json!({"key": "value"}),
        || "ConfigMap made's data".into(),
    )?;
    e2e.report("kubectl_testserver: create -f (core and apps, AlreadyExists) passes");
    Ok(())
}

/// kubectl's typed creates, which send protobuf bodies and ask for protobuf answers: the same
/// commands on the test server and on the real one print the same lines and store objects that
/// read back alike (`-o json`, server-set fields dropped).
async fn typed_create_protobuf(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    k.server.record_requests(true);
    let ns = e2e.namespace("typed").await?;
    let commands: [(&str, Vec<&str>, &str); 5] = [
        (
            "namespace",
            vec!["create", "namespace", "typed-made"],
            "namespace/typed-made",
        ),
        (
            "configmap",
            vec![
                "create",
                "configmap",
                "settings",
                "--from-literal=a=1",
                "--from-literal=b=two",
            ],
            "configmap/settings",
        ),
        (
            "secret",
            vec![
                "create",
                "secret",
                "generic",
                "token",
                "--from-literal=token=s3cr3t",
            ],
            "secret/token",
        ),
        (
            "deployment",
            vec![
                "create",
                "deployment",
                "web",
                "--image=registry.example/web:1",
                "--replicas=2",
            ],
            "deployment.apps/web",
        ),
        (
            "serviceaccount",
            vec!["create", "serviceaccount", "robot"],
            "serviceaccount/robot",
        ),
    ];
    let mut compared = Vec::new();
    for (what, args, object) in &commands {
        let namespaced = *what != "namespace";
        let mut here: Vec<&str> = args.clone();
        let mut there: Vec<&str> = args.clone();
        if namespaced {
            here.extend(["-n", "default"]);
            there.extend(["-n", ns.as_str()]);
        }
        let ours = k.ok(&here).await?;
        let real = e2e.kubectl_ok(&there)?;
        ensure(ours == real, || {
            format!(
                "kubectl {}: test server {ours:?}, real server {real:?}",
                args.join(" ")
            )
        })?;
        let get: Vec<&str> = vec!["get", object, "-o", "json"];
        let mut ours_get = get.clone();
        let mut real_get = get.clone();
        if namespaced {
            ours_get.extend(["-n", "default"]);
            real_get.extend(["-n", ns.as_str()]);
        }
        let ours = comparable(&k.ok(&ours_get).await?)?;
        let real = comparable(&e2e.kubectl_ok(&real_get)?)?;
        ensure(ours == real, || {
            format!("{object}: the test server stored {ours}\nthe real server {real}")
        })?;
        compared.push(*what);
    }
    let _ = e2e.kubectl_ok(&["delete", "namespace", "typed-made", "--wait=false"]);
    // kubectl did send protobuf: the creates' bodies, and an Accept that asks for it first.
    let posts: Vec<_> = k
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    let protobuf = posts
        .iter()
        .filter(|r| r.header("content-type") == Some("application/vnd.kubernetes.protobuf"))
        .count();
    ensure(protobuf == commands.len(), || {
        format!(
            "{protobuf} of {} POSTs had protobuf bodies ({:?})",
            posts.len(),
            posts
                .iter()
                .map(|r| r.header("content-type"))
                .collect::<Vec<_>>()
        )
    })?;
    e2e.report(format!(
        "kubectl_testserver: typed creates in protobuf ({}) print and store as on the real server",
        compared.join(", ")
    ));
    Ok(())
}

/// `kubectl get -o json` output without what each server sets on its own (uid, times,
/// resourceVersion, managedFields, the namespace, generated values and status).
fn comparable(text: &str) -> Result<Value, String> {
    let mut v: Value = serde_json::from_str(text).context("parse kubectl -o json")?;
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "managedFields",
            "namespace",
        ] {
            meta.remove(key);
        }
        // The real deployment controller's revision (the test server runs no controllers yet).
        if let Some(notes) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            notes.remove("deployment.kubernetes.io/revision");
            if notes.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.remove("status");
    }
    Ok(v)
}

/// kubectl's default `--validate=strict` validates on the server: an unknown field is a 400;
/// `--validate=warn` prints the server's warnings; `--validate=false` ignores it.
async fn validate(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    let manifest = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\nbogus: 1\n"
        )
    };
    let strict = k
        .fails(&["create", "-f", &k.file("s.yaml", &manifest("strict"))?])
        .await?;
    ensure(
        strict.contains(r#"Error from server (BadRequest): error when creating"#)
            && strict.contains(
                r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus""#,
            ),
        || format!("kubectl create with an unknown field: {strict:?}"),
    )?;
    let run = k
        .run(&[
            "create",
            "--validate=warn",
            "-f",
            &k.file("w.yaml", &manifest("warned"))?,
        ])
        .await?;
    ensure(
        run.success && run.stderr.contains(r#"Warning: unknown field "bogus""#),
        || {
            format!(
                "kubectl create --validate=warn: {:?} {:?}",
                run.stdout, run.stderr
            )
        },
    )?;
    let run = k
        .run(&[
            "create",
            "--validate=false",
            "-f",
            &k.file("i.yaml", &manifest("ignored"))?,
        ])
        .await?;
    ensure(run.success && !run.stderr.contains("Warning"), || {
        format!(
            "kubectl create --validate=false: {:?} {:?}",
            run.stdout, run.stderr
        )
    })?;
    e2e.report("kubectl_testserver: --validate=strict|warn|false take the server-side path");
    Ok(())
}

/// Client-side `apply`: created, then a changed manifest is patched (kubectl sends a strategic
/// merge patch), then unchanged.
async fn apply_client_side(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    let path = k.file("web.yaml", DEPLOYMENT)?;
    let out = k.ok(&["apply", "-f", &path]).await?;
    ensure(out.trim() == "deployment.apps/web created", || {
        format!("first apply: {out:?}")
    })?;
    k.file(
        "web.yaml",
        &DEPLOYMENT
            .replace("nginx:1", "nginx:2")
            .replace("replicas: 2", "replicas: 3"),
    )?;
    let out = k.ok(&["apply", "-f", &path]).await?;
    ensure(out.trim() == "deployment.apps/web configured", || {
        format!("second apply: {out:?}")
    })?;
    let out = k.ok(&["apply", "-f", &path]).await?;
    ensure(out.trim() == "deployment.apps/web unchanged", || {
        format!("third apply: {out:?}")
    })?;
    let deploy = AppsV1Api::new(k.server.client())
        .read_namespaced_deployment("web", "default", &GetParams::default())
        .await
        .context("read Deployment web")?;
    let spec = deploy.spec.ok_or("Deployment web has no spec")?;
    let images: Vec<String> = spec
        .template
        .spec
        .map(|s| s.containers.into_iter().filter_map(|c| c.image).collect())
        .unwrap_or_default();
    ensure(
        spec.replicas == Some(3) && images == ["nginx:2", "busybox:1"],
        || {
            format!(
                "applied Deployment: replicas {:?}, images {images:?}",
                spec.replicas
            )
        },
    )?;
    e2e.report("kubectl_testserver: apply (client-side: created, configured, unchanged) passes");
    Ok(())
}

/// `apply --server-side`: created by manager kubectl; another manager changing its field is a
/// conflict naming it; `--force-conflicts` takes it over.
async fn apply_server_side(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    let manifest = |value: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  key: {value}\n")
    };
    let path = k.file("ssa.yaml", &manifest("one"))?;
    let out = k.ok(&["apply", "--server-side", "-f", &path]).await?;
    ensure(out.trim() == "configmap/ssa serverside-applied", || {
        format!("apply --server-side: {out:?}")
    })?;
    k.file("ssa.yaml", &manifest("two"))?;
    let conflict = k
        .fails(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            &path,
        ])
        .await?;
    ensure(
        conflict.contains("Apply failed with 1 conflict")
            && conflict.contains(r#"conflict with "kubectl""#)
            && conflict.contains(".data.key"),
        || format!("conflicting apply: {conflict:?}"),
    )?;
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            &path,
        ])
        .await?;
    ensure(out.trim() == "configmap/ssa serverside-applied", || {
        format!("apply --force-conflicts: {out:?}")
    })?;
    ensure(
        k.configmap_data("ssa").await? == serde_json::json!({"key": "two"}),
        || "ConfigMap ssa after --force-conflicts".into(),
    )?;
    let managers = k
        .ok(&[
            "get",
            "cm",
            "ssa",
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await?;
    ensure(managers.split_whitespace().any(|m| m == "other"), || {
        format!("managedFields managers {managers:?}")
    })?;
    e2e.report("kubectl_testserver: apply --server-side (conflict, --force-conflicts) passes");
    Ok(())
}

/// `patch` of the three types.
async fn patch(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    k.create_configmap("patched", &[]).await?;
    let out = k
        .ok(&[
            "patch",
            "cm",
            "patched",
            "--type=merge",
            "-p",
            r#"{"data":{"b":"2"}}"#,
        ])
        .await?;
    ensure(out.trim() == "configmap/patched patched", || {
        format!("patch --type=merge: {out:?}")
    })?;
    k.ok(&[
        "patch",
        "cm",
        "patched",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/a","value":"9"}]"#,
    ])
    .await?;
    let data = k.configmap_data("patched").await?;
    ensure(data == serde_json::json!({"a": "9", "b": "2"}), || {
        format!("data after merge and JSON patches: {data}")
    })?;
    // A JSON patch that cannot apply fails and changes nothing.
    k.fails(&[
        "patch",
        "cm",
        "patched",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/data/none"}]"#,
    ])
    .await?;
    ensure(k.configmap_data("patched").await? == data, || {
        "a failed JSON patch changed the ConfigMap".into()
    })?;

    // Strategic (kubectl's default): the container list merges by name.
    k.ok(&["create", "-f", &k.file("web.yaml", DEPLOYMENT)?])
        .await?;
    let out = k
        .ok(&[
            "patch",
            "deployment",
            "web",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}}}}"#,
        ])
        .await?;
    ensure(out.trim() == "deployment.apps/web patched", || {
        format!("strategic patch: {out:?}")
    })?;
    let images = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].image}",
        ])
        .await?;
    ensure(images == "nginx:1 busybox:2", || {
        format!("images after the strategic patch: {images:?}")
    })?;
    e2e.report("kubectl_testserver: patch --type=strategic|merge|json passes");
    Ok(())
}

/// `delete` waits for the object to be gone (list+watch with the initial-events-end
/// bookmark): it must return, and the object is gone.
async fn delete(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    k.create_configmap("gone", &[]).await?;
    k.create_configmap("kept", &[]).await?;
    let started = std::time::Instant::now();
    let out = k
        .ok(&["delete", "configmap", "gone", "--timeout=30s"])
        .await?;
    ensure(
        out.trim() == r#"configmap "gone" deleted from default namespace"#,
        || format!("kubectl delete: {out:?}"),
    )?;
    ensure(started.elapsed() < Duration::from_secs(10), || {
        format!("kubectl delete took {:?}", started.elapsed())
    })?;
    let err = k.fails(&["get", "configmap", "gone"]).await?;
    ensure(
        err.trim() == r#"Error from server (NotFound): configmaps "gone" not found"#,
        || format!("get after delete: {err:?}"),
    )?;
    let out = k
        .ok(&[
            "delete",
            "-f",
            &k.file("web.yaml", DEPLOYMENT)?,
            "--ignore-not-found",
        ])
        .await?;
    ensure(out.trim().is_empty(), || {
        format!("delete of nothing: {out:?}")
    })?;
    let left = table_names(&k.ok(&["get", "cm"]).await?, &["NAME", "AGE"])?;
    ensure(left == ["kept"], || format!("left after delete: {left:?}"))?;
    e2e.report(format!(
        "kubectl_testserver: delete returns ({} ms) and the object is gone",
        started.elapsed().as_millis()
    ));
    Ok(())
}

/// `explain` reads the server's OpenAPI v3: fields and their types (no descriptions are served).
async fn explain(e2e: &E2e) -> Outcome {
    let k = Kubectl::start(e2e).await?;
    let out = k.ok(&["explain", "pods.spec.containers"]).await?;
    for expected in [
        "KIND:       Pod",
        "VERSION:    v1",
        "FIELD: containers <[]Container>",
        "name\t<string> -required-",
        "image\t<string>",
        "env\t<[]EnvVar>",
        "ports\t<[]ContainerPort>",
    ] {
        ensure(out.contains(expected), || {
            format!("kubectl explain pods.spec.containers lacks {expected:?}:\n{out}")
        })?;
    }
    let out = k.ok(&["explain", "deployments.spec.replicas"]).await?;
    ensure(
        out.contains("GROUP:      apps") && out.contains("FIELD: replicas <integer>"),
        || format!("kubectl explain deployments.spec.replicas:\n{out}"),
    )?;
    let out = k.fails(&["explain", "pods.spec.nothing"]).await?;
    ensure(out.contains(r#"field "nothing" does not exist"#), || {
        format!("kubectl explain of a missing field: {out:?}")
    })?;
    e2e.report("kubectl_testserver: explain reads fields and types from /openapi/v3");
    Ok(())
}
