//! Pods that run: the control plane with kube-scheduler and our node agent (`kuber-node`), used
//! as a newcomer uses a cluster — through kubectl first (the independent proof that the agent
//! behaves as a kubelet), then through kuber's verbs.

mod interactive;
mod kubectl;
mod metrics;
mod tunnel;
mod verbs;

use std::sync::Arc;
use std::time::Duration;

use kuber_tests::cluster::Cluster;

use crate::case;
use crate::support::{Case, E2e, Outcome, create_namespace, poll};

pub fn cases() -> Vec<Case> {
    vec![
        case!("pods/kubectl-newcomer-session", kubectl::session),
        case!("pods/kubectl-workloads-and-deletion", kubectl::workloads),
        case!("pods/kuber-logs-follow-10000-lines", verbs::follow_logs),
        case!("pods/kuber-wait-rollout-and-job", verbs::rollout_and_job),
        case!(
            "pods/kuber-exec-and-port-forward",
            verbs::exec_and_port_forward
        ),
        case!(
            "pods/kuber-tty-resize-and-attach",
            interactive::kuber_tty_and_attach
        ),
        case!(
            "pods/kubectl-exec-it-attach-and-port-forward-16",
            interactive::kubectl_interactive
        ),
        case!(
            "pods/tour-and-tutorial-on-real-cluster",
            interactive::tour_and_tutorial
        ),
        case!("pods/metrics-kubectl-top-and-kuber", metrics::top_and_kuber),
        case!("pods/kuber-port-forward-spdy-tunnel", tunnel::spdy_tunnel),
    ]
}

/// The running-pods cluster and a fresh namespace on it.
pub(super) struct Pods {
    pub cluster: Arc<Cluster>,
    pub ns: String,
}

impl Pods {
    pub async fn new(e2e: &E2e, prefix: &str) -> Result<Pods, String> {
        let cluster = e2e.running_pods().await?;
        let ns = format!("e2e-{prefix}-{}", std::process::id() % 10_000);
        let admin = cluster.admin().map_err(|e| e.to_string())?;
        create_namespace(&admin, &ns).await?;
        // Pods need the namespace's default ServiceAccount (the controller-manager makes it).
        let core = kuber_api::CoreV1Api::new(admin);
        poll(
            "the default ServiceAccount",
            Duration::from_secs(30),
            || {
                let core = core.clone();
                let ns = ns.clone();
                async move {
                    Ok(core
                        .read_namespaced_service_account("default", &ns, &Default::default())
                        .await
                        .ok())
                }
            },
        )
        .await?;
        Ok(Pods { cluster, ns })
    }

    /// kubectl in this namespace; an error with its stderr unless it succeeds.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["-n", self.ns.as_str()];
        all.extend_from_slice(args);
        self.cluster.kubectl_ok(&all)
    }

    /// kubectl in this namespace, whatever its exit: (code, stdout, stderr).
    pub fn kubectl_status(&self, args: &[&str]) -> Result<(i32, String, String), String> {
        let out = self
            .cluster
            .kubectl()
            .args(["-n", self.ns.as_str()])
            .args(args)
            .output()
            .map_err(|e| format!("kubectl {}: {e}", args.join(" ")))?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// Runs each step, prefixing its error with its name; all steps run, the first failures are
/// reported together.
pub(super) fn steps(results: Vec<(&str, Outcome)>) -> Outcome {
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|(name, r)| r.err().map(|e| format!("{name}: {e}")))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n  "))
    }
}
