//! What every case works with: the cluster, clients, fresh namespaces, report lines, and the
//! small checks cases share.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kuber_api::{ApiextensionsV1Api, Client, CoreV1Api, DeleteParams, GetParams, WriteParams};
use kuber_models::api::core::v1::Namespace;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_tests::cluster::{Cluster, ClusterError};

/// Runs a command to its end within `limit` (killed if not done); its stdout, or an error naming
/// `what` with its status, stdout and stderr.
pub async fn output_within(
    mut command: tokio::process::Command,
    what: &str,
    limit: Duration,
) -> Result<String, String> {
    command
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .map_err(|_| format!("{what}: not done within {} s", limit.as_secs()))?
        .context(what)?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{what} failed ({}):\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Nodes of the control plane whose pods run.
pub const RUNNING_NODES: u32 = 2;

/// What a case answers: `Err` says what went wrong, with enough context to find it.
pub type Outcome = Result<(), String>;
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One named case of the suite.
#[derive(Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub run: for<'a> fn(&'a E2e) -> CaseFuture<'a>,
}

/// `case!(name, async_fn)`: a [`Case`] running `async fn(&E2e) -> Outcome`.
#[macro_export]
macro_rules! case {
    ($name:expr, $f:path) => {
        $crate::support::Case {
            name: $name,
            run: |e2e| Box::pin($f(e2e)),
        }
    };
}

/// The suite's shared state.
pub struct E2e {
    /// The real control plane (its binaries run kubectl also when the cases target another
    /// server).
    pub cluster: Arc<Cluster>,
    /// The admin (client certificate in `system:masters`).
    pub admin: Client,
    /// A token user that RBAC grants nothing.
    pub restricted: Client,
    namespaces: AtomicUsize,
    report: Mutex<Vec<String>>,
    /// Where kubectl points instead of the cluster: a kubeconfig and a discovery cache folder.
    kubectl_target: Option<(PathBuf, PathBuf)>,
    /// A second control plane whose pods run (scheduler and node agent), started by the first
    /// case that asks for it ([`E2e::running_pods`]) and stopped with the suite. The shared
    /// cluster has no nodes, so that the cases written for stored-only pods stay exact.
    nodes: tokio::sync::OnceCell<Result<Arc<Cluster>, String>>,
    attached: bool,
}

impl E2e {
    pub fn new(cluster: Cluster) -> Result<E2e, ClusterError> {
        Ok(E2e {
            admin: cluster.admin()?,
            restricted: cluster.restricted()?,
            cluster: Arc::new(cluster),
            namespaces: AtomicUsize::new(0),
            report: Mutex::new(Vec::new()),
            kubectl_target: None,
            nodes: tokio::sync::OnceCell::new(),
            attached: false,
        })
    }

    /// The suite on a cluster another process started (`cargo xtask cluster up`, with nodes):
    /// it also serves the cases whose pods must run.
    pub fn attached(cluster: Cluster) -> Result<E2e, ClusterError> {
        Ok(E2e {
            attached: true,
            ..E2e::new(cluster)?
        })
    }

    /// The control plane whose pods run: the attached `cluster up`, else one started on the
    /// first call (with its node agent and scheduler).
    pub async fn running_pods(&self) -> Result<Arc<Cluster>, String> {
        if self.attached {
            return Ok(self.cluster.clone());
        }
        self.nodes
            .get_or_init(|| async {
                let started = Instant::now();
                // Two nodes: each served on its own port, as two kubelets would be.
                let options = kuber_tests::cluster::Options {
                    nodes: RUNNING_NODES,
                    ..Default::default()
                };
                let cluster = Cluster::start_with(options)
                    .await
                    .map_err(|e| format!("start a control plane with nodes: {e}"))?;
                self.report(format!(
                    "control plane with {RUNNING_NODES} nodes ready in {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
                Ok(Arc::new(cluster))
            })
            .await
            .clone()
    }

    /// The same suite state aimed at another server (e.g. kuber-testserver): cases use
    /// `admin`/`restricted` and [`E2e::kubectl_ok`] runs the cluster's kubectl with `kubeconfig`.
    pub fn on_server(&self, admin: Client, restricted: Client, kubeconfig: PathBuf) -> E2e {
        let cache = kubeconfig.with_extension("kubectl-cache");
        E2e {
            cluster: self.cluster.clone(),
            admin,
            restricted,
            namespaces: AtomicUsize::new(0),
            report: Mutex::new(Vec::new()),
            kubectl_target: Some((kubeconfig, cache)),
            nodes: tokio::sync::OnceCell::new(),
            attached: false,
        }
    }

    /// Runs kubectl against the server the cases target; an error with its stderr unless it
    /// succeeds.
    pub fn kubectl_ok(&self, args: &[&str]) -> Result<String, String> {
        let Some((kubeconfig, cache)) = &self.kubectl_target else {
            return self.cluster.kubectl_ok(args);
        };
        let out = self
            .cluster
            .kubectl()
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", cache)
            .args(args)
            .output()
            .map_err(|e| format!("kubectl {}: {e}", args.join(" ")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "kubectl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Creates a namespace no other case uses, named after `prefix`.
    pub async fn namespace(&self, prefix: &str) -> Result<String, String> {
        let n = self.namespaces.fetch_add(1, Ordering::Relaxed);
        let name = format!("e2e-{prefix}-{n}-{}", std::process::id() % 10_000);
        create_namespace(&self.admin, &name).await?;
        Ok(name)
    }

    /// Adds a line to the summary printed after all cases.
    pub fn report(&self, line: impl Into<String>) {
        if let Ok(mut lines) = self.report.lock() {
            lines.push(line.into());
        }
    }

    pub fn report_lines(&self) -> Vec<String> {
        self.report.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Creates the namespace `name` (on any cluster `client` reaches).
pub async fn create_namespace(client: &Client, name: &str) -> Outcome {
    let namespace = Namespace {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    CoreV1Api::new(client.clone())
        .create_namespace(&namespace, &WriteParams::default())
        .await
        .map(|_| ())
        .map_err(|e| format!("create namespace {name}: {e}"))
}

/// `Err(message)` unless `condition`.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition { Ok(()) } else { Err(message()) }
}

/// Adds what was being done to an error.
pub trait Context<T> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Calls `attempt` every 250 ms until it answers `Some`, at most for `limit`; the error names
/// `what` was awaited.
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, attempt: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    poll_every(what, limit, Duration::from_millis(250), attempt).await
}

/// [`poll`] with another pause between attempts.
pub async fn poll_every<T, F, Fut>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut attempt: F,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = attempt().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("{what}: not within {limit:?}"));
        }
        tokio::time::sleep(every).await;
    }
}

/// Waits until the CustomResourceDefinition `name` has every condition of `conditions` true
/// (e.g. `Established`), at most 30 s.
pub async fn crd_conditions(client: &Client, name: &str, conditions: &[&str]) -> Outcome {
    let crds = &ApiextensionsV1Api::new(client.clone());
    let what = format!(
        "CustomResourceDefinition {name} {}",
        conditions.join(" and ")
    );
    poll_every(
        &what,
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async move {
            let read = crds
                .read_custom_resource_definition(name, &GetParams::default())
                .await
                .context(format!("read CustomResourceDefinition {name}"))?;
            let found = read.status.and_then(|s| s.conditions).unwrap_or_default();
            let true_ = |type_: &str| found.iter().any(|c| c.type_ == type_ && c.status == "True");
            Ok(conditions.iter().all(|c| true_(c)).then_some(()))
        },
    )
    .await
}

/// Deletes the CustomResourceDefinition `name` and waits until it is gone (its finalizer
/// removes the objects first), at most 60 s; answers how long that took.
pub async fn delete_crd(client: &Client, name: &str) -> Result<f64, String> {
    let crds = &ApiextensionsV1Api::new(client.clone());
    let started = Instant::now();
    crds.delete_custom_resource_definition(name, None, &DeleteParams::default())
        .await
        .context(format!("delete CustomResourceDefinition {name}"))?;
    let what = format!("CustomResourceDefinition {name} gone");
    poll_every(
        &what,
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async move {
            match crds
                .read_custom_resource_definition(name, &GetParams::default())
                .await
            {
                Err(e) if e.is_not_found() => Ok(Some(())),
                Err(e) => Err(format!("read CustomResourceDefinition {name}: {e}")),
                Ok(_) => Ok(None),
            }
        },
    )
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// CRD schemas, as the cases that install CRDs write them.
pub mod schemas {
    use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
        CustomResourceDefinition, CustomResourceDefinitionNames, CustomResourceDefinitionSpec,
        CustomResourceDefinitionVersion, CustomResourceValidation, JSONSchemaProps,
    };
    use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use kuber_models::special::JSONSchemaPropsOrArray;

    /// A namespaced CRD `<plural>.<group>` serving and storing one `version` with `schema`.
    pub fn namespaced_crd(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        schema: JSONSchemaProps,
    ) -> CustomResourceDefinition {
        CustomResourceDefinition {
            metadata: Some(ObjectMeta {
                name: Some(format!("{plural}.{group}")),
                ..Default::default()
            }),
            spec: CustomResourceDefinitionSpec {
                group: group.into(),
                names: CustomResourceDefinitionNames {
                    kind: kind.into(),
                    plural: plural.into(),
                    singular: Some(kind.to_lowercase()),
                    list_kind: Some(format!("{kind}List")),
                    ..Default::default()
                },
                scope: "Namespaced".into(),
                versions: vec![CustomResourceDefinitionVersion {
                    name: version.into(),
                    served: true,
                    storage: true,
                    schema: Some(CustomResourceValidation {
                        open_apiv3_schema: Some(schema),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// A schema of one OpenAPI type (`string`, `integer`, `object`, …).
    pub fn schema(type_: &str) -> JSONSchemaProps {
        JSONSchemaProps {
            type_: Some(type_.into()),
            ..Default::default()
        }
    }

    pub fn object_schema(properties: &[(&str, JSONSchemaProps)]) -> JSONSchemaProps {
        JSONSchemaProps {
            properties: Some(
                properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            ),
            ..schema("object")
        }
    }

    pub fn array_of(items: JSONSchemaProps) -> JSONSchemaProps {
        JSONSchemaProps {
            items: Some(JSONSchemaPropsOrArray::Schema(Box::new(items))),
            ..schema("array")
        }
    }
}
