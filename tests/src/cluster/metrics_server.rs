//! metrics-server behind the aggregator, set up as on a kubeadm cluster with its release
//! manifests: an identity of its own with the roles those grant, a selectorless Service whose
//! EndpointSlice points at its 127.0.0.1 port, and the APIService `v1beta1.metrics.k8s.io`
//! whose CA bundle is the cluster CA (its serving certificate is checked).

use std::time::{Duration, Instant};

use kuber_api::ApiregistrationV1Api;
use serde_json::{Value, json};

use super::{
    Cluster, ClusterError, PkiFiles, START_TIMEOUT, base64, certs, free_port, kubeconfig_text,
};

/// The APIService metrics-server serves.
pub const METRICS_APISERVICE: &str = "v1beta1.metrics.k8s.io";
/// metrics-server's user, toward the apiserver and the node agent alike (a client certificate,
/// where a real cluster gives it a ServiceAccount token).
pub const METRICS_SERVER_USER: &str = "kuber-metrics-server";
const NAMESPACE: &str = "kube-system";
const SERVICE: &str = "metrics-server";

impl Cluster {
    /// Registers the metrics API, starts metrics-server and waits until the aggregator calls
    /// the APIService Available.
    pub(super) async fn start_metrics_server(
        &mut self,
        ca: &certs::Ca,
        files: &PkiFiles,
    ) -> Result<(), ClusterError> {
        let port = free_port()?;
        // The roles must exist first: at start it reads the authentication ConfigMap.
        self.register_metrics_api(port).await?;
        let flags = self.metrics_server_flags(ca, files, port)?;
        self.run("metrics-server", "metrics-server", &flags)?;
        self.write_facts()?;
        let started = Instant::now();
        self.wait_for_metrics_api().await?;
        self.metrics_api_after = Some(started.elapsed());
        Ok(())
    }

    fn metrics_server_flags(
        &self,
        ca: &certs::Ca,
        files: &PkiFiles,
        port: u16,
    ) -> Result<Vec<String>, ClusterError> {
        let identity = ca.client(METRICS_SERVER_USER, None)?;
        let client_crt = self.write("metrics-server-client.crt", &identity.cert)?;
        let client_key = self.write("metrics-server-client.key", &identity.key)?;
        let text = kubeconfig_text(&self.server, &self.ca_pem, "kuber-e2e", &identity);
        let kubeconfig = self.write("metrics-server.kubeconfig", &text)?;
        let serving = ca.serving_for(certs::METRICS_SERVER_NAMES, SERVICE)?;
        let crt = self.write("metrics-server.crt", &serving.cert)?;
        let key = self.write("metrics-server.key", &serving.key)?;
        let path = |p: &std::path::Path| p.display().to_string();
        Ok(vec![
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            format!("--tls-cert-file={}", path(&crt)),
            format!("--tls-private-key-file={}", path(&key)),
            format!("--kubeconfig={}", path(&kubeconfig)),
            format!("--authentication-kubeconfig={}", path(&kubeconfig)),
            format!("--authorization-kubeconfig={}", path(&kubeconfig)),
            // The node agent's serving certificate is checked against the cluster CA.
            format!("--kubelet-certificate-authority={}", path(&files.ca)),
            format!("--kubelet-client-certificate={}", path(&client_crt)),
            format!("--kubelet-client-key={}", path(&client_key)),
            "--kubelet-preferred-address-types=InternalIP".into(),
            // The agent's port is not 10250: take the one each Node reports.
            "--kubelet-use-node-status-port".into(),
            // 10 s is the least v0.8.0 accepts; the request timeout must stay under 90% of it.
            "--metric-resolution=10s".into(),
            "--kubelet-request-timeout=5s".into(),
        ])
    }

    /// The RBAC objects, Service, EndpointSlice and APIService, created as the admin.
    async fn register_metrics_api(&self, port: u16) -> Result<(), ClusterError> {
        let ctx = kuber::Context::from_client(self.admin()?);
        let ca_bundle = base64(self.ca_pem.as_bytes());
        for object in rbac().into_iter().chain(service(port, &ca_bundle)) {
            let what = format!(
                "create {} {}",
                object["kind"].as_str().unwrap_or("?"),
                object["metadata"]["name"].as_str().unwrap_or("?")
            );
            ctx.put_text(&object.to_string())
                .await
                .map_err(|e| ClusterError::Register {
                    what,
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// Polls the APIService until its `Available` condition is `True`, failing with that
    /// condition's reason and message when metrics-server exits or [`START_TIMEOUT`] passes.
    async fn wait_for_metrics_api(&mut self) -> Result<(), ClusterError> {
        let api = ApiregistrationV1Api::new(self.admin()?);
        let started = Instant::now();
        loop {
            let process = self
                .processes
                .last_mut()
                .expect("metrics-server was started");
            process.check_running()?;
            let read = api
                .read_api_service(METRICS_APISERVICE, &Default::default())
                .await;
            let condition = match read {
                Ok(service) => service
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|c| c.type_ == "Available")
                    .map(|c| {
                        let reason = c.reason.unwrap_or_default();
                        let message = c.message.unwrap_or_default();
                        (c.status, format!("{reason}: {message}"))
                    }),
                Err(e) => Some(("Unknown".into(), format!("read the APIService: {e}"))),
            };
            if condition
                .as_ref()
                .is_some_and(|(status, _)| status == "True")
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let condition = condition.map_or_else(
                    || "no Available condition".to_owned(),
                    |(status, text)| format!("Available={status}, {text}"),
                );
                return Err(ClusterError::NotAvailable {
                    apiservice: METRICS_APISERVICE,
                    seconds: START_TIMEOUT.as_secs(),
                    condition,
                    log: process.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// What metrics-server's release manifests grant its ServiceAccount, granted to its user.
fn rbac() -> Vec<Value> {
    let user = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                       "name": METRICS_SERVER_USER}]);
    let role_ref = |kind: &str, name: &str| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name});
    let rbac = "rbac.authorization.k8s.io/v1";
    let aggregate = "rbac.authorization.k8s.io/aggregate-to-";
    vec![
        // Readers of the metrics API: what `view`, `edit` and `admin` aggregate.
        json!({"apiVersion": rbac, "kind": "ClusterRole",
               "metadata": {"name": "system:aggregated-metrics-reader", "labels": {
                   format!("{aggregate}view"): "true", format!("{aggregate}edit"): "true",
                   format!("{aggregate}admin"): "true"}},
               "rules": [{"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"],
                          "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": rbac, "kind": "ClusterRole",
               "metadata": {"name": "system:metrics-server"},
               "rules": [
                   {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": rbac, "kind": "ClusterRoleBinding",
               "metadata": {"name": "system:metrics-server"},
               "roleRef": role_ref("ClusterRole", "system:metrics-server"), "subjects": user}),
        // Delegated authentication and authorization (TokenReview, SubjectAccessReview).
        json!({"apiVersion": rbac, "kind": "ClusterRoleBinding",
               "metadata": {"name": "metrics-server:system:auth-delegator"},
               "roleRef": role_ref("ClusterRole", "system:auth-delegator"), "subjects": user}),
        // The client and front-proxy CAs the apiserver publishes in kube-system.
        json!({"apiVersion": rbac, "kind": "RoleBinding",
               "metadata": {"name": "metrics-server-auth-reader", "namespace": NAMESPACE},
               "roleRef": role_ref("Role", "extension-apiserver-authentication-reader"),
               "subjects": user}),
    ]
}

/// The Service, its EndpointSlice and the APIService. The slice's address type is FQDN: an
/// IPv4 slice (and an Endpoints object) may not hold a loopback address, while the aggregator
/// dials whatever address a ready endpoint has; `127.0.0.1` is also a valid domain name.
fn service(port: u16, ca_bundle: &str) -> Vec<Value> {
    let meta = json!({"name": SERVICE, "namespace": NAMESPACE,
                      "labels": {"k8s-app": "metrics-server"}});
    vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
               "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                   "targetPort": port}]}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": {
                   "kubernetes.io/service-name": SERVICE,
                   "endpointslice.kubernetes.io/managed-by": "kuber-e2e-harness"}},
               "addressType": "FQDN",
               "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}],
               "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}),
        json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
               "metadata": {"name": METRICS_APISERVICE, "labels": {"k8s-app": "metrics-server"}},
               "spec": {"group": "metrics.k8s.io", "version": "v1beta1",
                        "service": {"name": SERVICE, "namespace": NAMESPACE, "port": 443},
                        "caBundle": ca_bundle,
                        "groupPriorityMinimum": 100, "versionPriority": 100}}),
    ]
}
