//! A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler, a node agent of ours (`kuber-node`: Nodes whose pods' containers run as
//! local processes) and metrics-server behind the aggregator, built from the Go modules pinned
//! in `tests/controlplane` (`cargo xtask cluster build`), started on free 127.0.0.1 ports with a
//! fresh data folder, a generated PKI and an admin kubeconfig.
//!
//! [`Cluster`] is a guard: dropping it (also while a test panics) kills every process and removes
//! the folder. Several tests share one cluster by borrowing it; tests that need other server
//! flags start their own with [`Options`].
//!
//! The binaries are found in `KUBER_CONTROLPLANE_BIN`, else in `target/controlplane/<version>`
//! of this workspace (the version `tests/controlplane/go.mod` pins).

mod certs;
mod metrics_server;
mod podnet;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kuber_api::config::{Auth, Config, Kubeconfig, Secret, TlsConfig};
use kuber_api::{Client, Operation, Request};

pub use certs::{Pem, TLS_SERVER_NAME};
pub use metrics_server::{METRICS_APISERVICE, METRICS_SERVER_USER};

/// The restricted user of the token file: authenticated, but granted nothing by RBAC.
pub const RESTRICTED_USER: &str = "kuber-restricted";
/// The admin user of the client certificate, in group `system:masters`.
pub const ADMIN_USER: &str = "kuber-admin";
/// How long start-up may take before it is called failed.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "the control plane binaries are not built: {0} is missing (run `cargo xtask cluster build`)"
    )]
    NotBuilt(PathBuf),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("certificates: {0}")]
    Certificates(String),
    #[error("{process} did not become ready within {seconds} s; last lines of its log:\n{log}")]
    NotReady {
        process: &'static str,
        seconds: u64,
        log: String,
    },
    #[error("{process} exited during start-up ({status}); last lines of its log:\n{log}")]
    Exited {
        process: &'static str,
        status: String,
        log: String,
    },
    #[error("pod network: {0}")]
    PodNetwork(String),
    #[error(
        "APIService {apiservice} is not Available after {seconds} s ({condition}); last lines \
         of metrics-server's log:\n{log}"
    )]
    NotAvailable {
        apiservice: &'static str,
        seconds: u64,
        condition: String,
        log: String,
    },
    #[error("{what}: {message}")]
    Register { what: String, message: String },
    #[error("client: {0}")]
    Client(#[from] kuber_api::Error),
    #[error("kubeconfig: {0}")]
    Config(#[from] kuber_api::config::ConfigError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// How a cluster is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// Flags added to kube-apiserver's (a later flag of the same name wins).
    pub apiserver_flags: Vec<String>,
    /// Run kube-controller-manager (garbage collection, namespace deletion, service accounts).
    pub controller_manager: bool,
    /// Nodes that run pods: kube-scheduler and our node agent (`kuber-node`, a kubelet whose
    /// containers are local processes) registering this many Nodes; 0 runs neither.
    pub nodes: u32,
    /// With nodes: metrics-server, registered as `v1beta1.metrics.k8s.io` (`kubectl top`).
    pub metrics_server: bool,
}

/// Every group-version of the spec is served, alpha and beta ones included, so that every
/// generated kind meets the real server.
const SERVE_ALL_APIS: [&str; 2] = [
    "--runtime-config=api/all=true",
    "--feature-gates=AllAlpha=true,AllBeta=true",
];

impl Default for Options {
    fn default() -> Self {
        Options {
            apiserver_flags: SERVE_ALL_APIS.map(String::from).to_vec(),
            controller_manager: true,
            nodes: 1,
            metrics_server: true,
        }
    }
}

impl Options {
    /// Old history disappears within seconds: etcd is compacted every 2 s and the watch cache,
    /// which would otherwise keep events for minutes, is off. Watches from an old
    /// resourceVersion and stale continue tokens then answer 410 Gone.
    pub fn fast_compaction() -> Options {
        let mut options = Options::default();
        options.apiserver_flags.extend([
            "--etcd-compaction-interval=2s".into(),
            "--watch-cache=false".into(),
        ]);
        options.controller_manager = false;
        options.nodes = 0;
        options
    }

    /// Whether metrics-server runs: asked for, and there are nodes to scrape.
    pub fn runs_metrics_server(&self) -> bool {
        self.metrics_server && self.nodes > 0
    }
}

/// One running process, killed when dropped.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[String],
        dir: &Path,
    ) -> Result<Process, ClusterError> {
        let log = dir.join(format!("{name}.log"));
        let out = fs::File::create(&log).map_err(io(format!("create {}", log.display())))?;
        let err = out.try_clone().map_err(io("log file"))?;
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io(format!("start {}", bin.display())))?;
        Ok(Process { name, child, log })
    }

    /// The last lines of the log, for errors.
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// An error if the process has exited.
    fn check_running(&mut self) -> Result<(), ClusterError> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(ClusterError::Exited {
                process: self.name,
                status: status.to_string(),
                log: self.log_tail(),
            }),
            _ => Ok(()),
        }
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first lets etcd and the apiserver close their files; then make sure.
            terminate(&self.child);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
fn terminate(child: &Child) {
    // `kill` is the portable way to send SIGTERM without linking libc into the tests.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(not(unix))]
fn terminate(_child: &Child) {}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running control plane. Dropping it stops every process and removes its folder.
pub struct Cluster {
    /// Stopped in reverse order: node agent, scheduler, controller-manager, apiserver, etcd.
    processes: Vec<Process>,
    dir: PathBuf,
    bin: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub server: String,
    pub port: u16,
    /// The admin kubeconfig (client certificate in `system:masters`).
    pub kubeconfig: PathBuf,
    /// The cluster CA, PEM.
    pub ca_pem: String,
    /// The admin's client certificate and key.
    pub admin_identity: Pem,
    /// The bearer token of [`RESTRICTED_USER`].
    pub restricted_token: String,
    pub etcd_url: String,
    /// How long after metrics-server's start `v1beta1.metrics.k8s.io` became Available (None
    /// without metrics-server, or attached).
    pub metrics_api_after: Option<Duration>,
    /// Keep the folder (`KUBER_CLUSTER_KEEP`, or a cluster this value did not start).
    keep: bool,
    /// The node agent's pod addresses, claimed while the cluster runs (released after it stops).
    pod_net: Option<podnet::PodNet>,
}

/// What every cluster runs (kubectl for the tests that drive it).
const CONTROL_PLANE_BINARIES: [&str; 4] = [
    "kuber-etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kubectl",
];
/// What a cluster with nodes runs besides.
const NODE_BINARIES: [&str; 2] = ["kube-scheduler", "kuber-node"];
/// The user kube-apiserver presents to the node agent (kubeadm's name for it).
pub const KUBELET_CLIENT_USER: &str = "kube-apiserver-kubelet-client";
/// The user kube-apiserver presents to aggregated APIs (kubeadm's name for it).
pub const FRONT_PROXY_USER: &str = "front-proxy-client";

/// The files of a cluster's PKI.
struct PkiFiles {
    ca: PathBuf,
    front_proxy_ca: PathBuf,
    front_proxy_client_crt: PathBuf,
    front_proxy_client_key: PathBuf,
    serving_crt: PathBuf,
    serving_key: PathBuf,
    kubelet_client_crt: PathBuf,
    kubelet_client_key: PathBuf,
    sa_key: PathBuf,
    sa_pub: PathBuf,
    tokens: PathBuf,
}

/// The facts [`Cluster::attach`] reads back, in `cluster.json` of the folder.
const FACTS_FILE: &str = "cluster.json";

impl Cluster {
    /// A cluster with the default options (every component, one node, metrics-server).
    pub async fn start() -> Result<Cluster, ClusterError> {
        Cluster::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Result<Cluster, ClusterError> {
        let bin = bin_dir();
        let node_binaries = if options.nodes > 0 {
            &NODE_BINARIES[..]
        } else {
            &[]
        };
        let metrics_binary = if options.runs_metrics_server() {
            &["metrics-server"][..]
        } else {
            &[]
        };
        let needed = CONTROL_PLANE_BINARIES.iter().chain(node_binaries);
        for name in needed.chain(metrics_binary) {
            if !bin.join(name).is_file() {
                return Err(ClusterError::NotBuilt(bin.join(name)));
            }
        }
        let dir = make_data_dir()?;
        let mut cluster = Cluster {
            processes: Vec::new(),
            dir: dir.clone(),
            bin,
            server: String::new(),
            port: 0,
            kubeconfig: dir.join("admin.kubeconfig"),
            ca_pem: String::new(),
            admin_identity: Pem {
                cert: String::new(),
                key: String::new(),
            },
            restricted_token: String::new(),
            etcd_url: String::new(),
            metrics_api_after: None,
            keep: std::env::var_os("KUBER_CLUSTER_KEEP").is_some(),
            pod_net: None,
        };
        // From here on a failure drops `cluster`, which stops what started and removes `dir`.
        cluster.launch(&options).await?;
        Ok(cluster)
    }

    /// The cluster another process started (`cargo xtask cluster up`) in `dir`: used, not owned,
    /// so dropping it stops nothing.
    pub fn attach(dir: &Path) -> Result<Cluster, ClusterError> {
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(io(format!("read {}", path.display())))
        };
        let facts: serde_json::Value =
            serde_json::from_str(&read(FACTS_FILE)?).map_err(|e| ClusterError::Io {
                what: format!("parse {}", dir.join(FACTS_FILE).display()),
                source: std::io::Error::other(e),
            })?;
        let text = |key: &str| facts[key].as_str().unwrap_or_default().to_owned();
        Ok(Cluster {
            processes: Vec::new(),
            dir: dir.to_path_buf(),
            bin: PathBuf::from(text("bin")),
            server: text("server"),
            port: facts["port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0),
            kubeconfig: dir.join("admin.kubeconfig"),
            ca_pem: read("ca.crt")?,
            admin_identity: Pem {
                cert: read("admin.crt")?,
                key: read("admin.key")?,
            },
            restricted_token: text("restricted_token"),
            etcd_url: text("etcd_url"),
            metrics_api_after: None,
            keep: true,
            pod_net: None,
        })
    }

    async fn launch(&mut self, options: &Options) -> Result<(), ClusterError> {
        let ca = certs::Ca::new("kuber-e2e-ca")?;
        let files = self.write_pki(&ca)?;
        self.start_etcd().await?;
        self.start_apiserver(&files, options).await?;
        if options.controller_manager {
            self.start_controller_manager(&ca, &files).await?;
        }
        if options.nodes > 0 {
            self.start_scheduler(&ca).await?;
            let mut clients = vec![KUBELET_CLIENT_USER];
            if options.runs_metrics_server() {
                clients.push(METRICS_SERVER_USER);
            }
            self.start_node_agent(&ca, &files, options.nodes, &clients)
                .await?;
        }
        if options.runs_metrics_server() {
            self.start_metrics_server(&ca, &files).await?;
        }
        Ok(())
    }

    /// Starts one of the cluster's binaries, logging into the cluster's folder; stopped with it.
    fn run(
        &mut self,
        name: &'static str,
        binary: &str,
        flags: &[String],
    ) -> Result<(), ClusterError> {
        let process = Process::spawn(name, &self.bin.join(binary), flags, &self.dir)?;
        self.processes.push(process);
        Ok(())
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, ClusterError> {
        let path = self.dir.join(name);
        fs::write(&path, text).map_err(io(format!("write {}", path.display())))?;
        Ok(path)
    }

    /// The certificates, keys and token file of this cluster, written into its folder.
    fn write_pki(&mut self, ca: &certs::Ca) -> Result<PkiFiles, ClusterError> {
        let serving = ca.serving()?;
        let admin = ca.client(ADMIN_USER, Some("system:masters"))?;
        let kubelet_client = ca.client(KUBELET_CLIENT_USER, Some("system:masters"))?;
        let (sa_key, sa_pub) = certs::service_account_key()?;
        // What kubeadm makes: a CA of its own for the identity the aggregator proxies with.
        let front_proxy = certs::Ca::new("kuber-e2e-front-proxy-ca")?;
        let front_proxy_client = front_proxy.client(FRONT_PROXY_USER, None)?;
        self.ca_pem = ca.cert_pem.clone();
        self.admin_identity = admin.clone();
        self.restricted_token = random_token();
        self.write("admin.crt", &admin.cert)?;
        self.write("admin.key", &admin.key)?;
        let tokens = format!(
            "{},{RESTRICTED_USER},kuber-restricted-uid,\"kuber-e2e\"\n",
            self.restricted_token
        );
        Ok(PkiFiles {
            ca: self.write("ca.crt", &ca.cert_pem)?,
            front_proxy_ca: self.write("front-proxy-ca.crt", &front_proxy.cert_pem)?,
            front_proxy_client_crt: self
                .write("front-proxy-client.crt", &front_proxy_client.cert)?,
            front_proxy_client_key: self
                .write("front-proxy-client.key", &front_proxy_client.key)?,
            serving_crt: self.write("apiserver.crt", &serving.cert)?,
            serving_key: self.write("apiserver.key", &serving.key)?,
            kubelet_client_crt: self.write("apiserver-kubelet-client.crt", &kubelet_client.cert)?,
            kubelet_client_key: self.write("apiserver-kubelet-client.key", &kubelet_client.key)?,
            sa_key: self.write("sa.key", &sa_key)?,
            sa_pub: self.write("sa.pub", &sa_pub)?,
            tokens: self.write("tokens.csv", &tokens)?,
        })
    }

    async fn start_etcd(&mut self) -> Result<(), ClusterError> {
        let etcd_port = free_port()?;
        let peer_port = free_port()?;
        self.etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let etcd_dir = self.dir.join("etcd");
        self.run(
            "etcd",
            "kuber-etcd",
            &[
                format!("--data-dir={}", etcd_dir.display()),
                format!("--listen-client-url={}", self.etcd_url),
                format!("--listen-peer-url=http://127.0.0.1:{peer_port}"),
            ],
        )?;
        self.wait_for_log("etcd ready").await
    }

    async fn start_apiserver(
        &mut self,
        files: &PkiFiles,
        options: &Options,
    ) -> Result<(), ClusterError> {
        self.port = free_port()?;
        self.server = format!("https://127.0.0.1:{}", self.port);
        let path = |p: &PathBuf| p.display().to_string();
        let mut flags = vec![
            format!("--etcd-servers={}", self.etcd_url),
            "--bind-address=127.0.0.1".into(),
            // Hosts without a default route cannot resolve an advertise address of their own.
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", self.port),
            format!("--cert-dir={}", self.dir.join("apiserver-certs").display()),
            format!("--tls-cert-file={}", path(&files.serving_crt)),
            format!("--tls-private-key-file={}", path(&files.serving_key)),
            format!("--client-ca-file={}", path(&files.ca)),
            format!("--token-auth-file={}", path(&files.tokens)),
            "--authorization-mode=RBAC".into(),
            format!("--service-account-issuer={}", self.server),
            format!("--service-account-key-file={}", path(&files.sa_pub)),
            format!("--service-account-signing-key-file={}", path(&files.sa_key)),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--allow-privileged=true".into(),
            // The node agent's serving certificate is checked, and the apiserver presents its
            // own client certificate to it, as on a real cluster.
            format!("--kubelet-certificate-authority={}", path(&files.ca)),
            format!(
                "--kubelet-client-certificate={}",
                path(&files.kubelet_client_crt)
            ),
            format!("--kubelet-client-key={}", path(&files.kubelet_client_key)),
            "--kubelet-preferred-address-types=InternalIP".into(),
            // The aggregator's flags as kubeadm sets them: requests proxied to an aggregated API
            // carry the user in headers, vouched for by the front-proxy client certificate.
            format!(
                "--requestheader-client-ca-file={}",
                path(&files.front_proxy_ca)
            ),
            format!("--requestheader-allowed-names={FRONT_PROXY_USER}"),
            "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
            "--requestheader-group-headers=X-Remote-Group".into(),
            "--requestheader-username-headers=X-Remote-User".into(),
            format!(
                "--proxy-client-cert-file={}",
                path(&files.front_proxy_client_crt)
            ),
            format!(
                "--proxy-client-key-file={}",
                path(&files.front_proxy_client_key)
            ),
            // No kube-proxy: the aggregator dials the endpoint, not the Service's cluster IP.
            "--enable-aggregator-routing=true".into(),
            // Pods must not wait for a default ServiceAccount to be created (what envtest
            // does), and no agent here mounts tokens.
            "--disable-admission-plugins=ServiceAccount".into(),
            "--endpoint-reconciler-type=none".into(),
            "--profiling=false".into(),
        ];
        flags.extend(options.apiserver_flags.iter().cloned());
        self.run("kube-apiserver", "kube-apiserver", &flags)?;
        let admin = kubeconfig_text(
            &self.server,
            &self.ca_pem,
            "kuber-e2e",
            &self.admin_identity,
        );
        fs::write(&self.kubeconfig, admin)
            .map_err(io(format!("write {}", self.kubeconfig.display())))?;
        self.write_facts()?;
        self.wait_ready().await
    }

    /// `cluster.json`: what [`Cluster::attach`] and the tests of `cluster up` read back.
    fn write_facts(&self) -> Result<PathBuf, ClusterError> {
        let facts = serde_json::json!({
            "server": self.server,
            "port": self.port,
            "etcd_url": self.etcd_url,
            "restricted_token": self.restricted_token,
            "bin": self.bin,
            "pids": self.pids(),
        });
        self.write(FACTS_FILE, &facts.to_string())
    }

    /// A kubeconfig for `user` (in `group`), written as `<name>.kubeconfig`.
    fn component_kubeconfig(
        &self,
        ca: &certs::Ca,
        name: &str,
        user: &str,
        group: Option<&str>,
    ) -> Result<PathBuf, ClusterError> {
        let identity = ca.client(user, group)?;
        let text = kubeconfig_text(&self.server, &self.ca_pem, "kuber-e2e", &identity);
        self.write(&format!("{name}.kubeconfig"), &text)
    }

    async fn start_controller_manager(
        &mut self,
        ca: &certs::Ca,
        files: &PkiFiles,
    ) -> Result<(), ClusterError> {
        let kubeconfig = self.component_kubeconfig(
            ca,
            "controller-manager",
            "system:kube-controller-manager",
            Some("system:masters"),
        )?;
        self.run(
            "kube-controller-manager",
            "kube-controller-manager",
            &[
                format!("--kubeconfig={}", kubeconfig.display()),
                "--leader-elect=false".into(),
                // No serving endpoint: nothing here scrapes it.
                "--secure-port=0".into(),
                format!(
                    "--service-account-private-key-file={}",
                    files.sa_key.display()
                ),
                format!("--root-ca-file={}", files.ca.display()),
                "--use-service-account-credentials=false".into(),
                "--controllers=*".into(),
                "--profiling=false".into(),
            ],
        )?;
        self.wait_for_controller_manager().await
    }

    /// kube-scheduler as the user RBAC's bootstrap policy grants scheduling to.
    async fn start_scheduler(&mut self, ca: &certs::Ca) -> Result<(), ClusterError> {
        let kubeconfig =
            self.component_kubeconfig(ca, "scheduler", "system:kube-scheduler", None)?;
        self.run(
            "kube-scheduler",
            "kube-scheduler",
            &[
                format!("--kubeconfig={}", kubeconfig.display()),
                format!("--authentication-kubeconfig={}", kubeconfig.display()),
                format!("--authorization-kubeconfig={}", kubeconfig.display()),
                "--leader-elect=false".into(),
                "--secure-port=0".into(),
                "--profiling=false".into(),
            ],
        )?;
        // Its informers are synced once it logs that it serves; without a port, that log line
        // is the only sign.
        self.wait_for_log("Starting Kubernetes Scheduler").await
    }

    /// The node agent: `nodes` Nodes on one TLS port of its own, certificate from the cluster
    /// CA, serving only the client certificates of `clients` (the apiserver's kubelet client,
    /// metrics-server).
    async fn start_node_agent(
        &mut self,
        ca: &certs::Ca,
        files: &PkiFiles,
        nodes: u32,
        clients: &[&str],
    ) -> Result<(), ClusterError> {
        let kubeconfig = self.component_kubeconfig(
            ca,
            "node-agent",
            "system:kuber-node",
            Some("system:masters"),
        )?;
        let serving = ca.serving()?;
        let crt = self.write("kuber-node.crt", &serving.cert)?;
        let key = self.write("kuber-node.key", &serving.key)?;
        let root = self.dir.join("node");
        fs::create_dir_all(&root).map_err(io(format!("create {}", root.display())))?;
        let pod_net = podnet::PodNet::claim().map_err(ClusterError::PodNetwork)?;
        // A port per node: metrics-server and the apiserver tell nodes apart by it.
        let ports: Vec<String> = free_ports(nodes)?.iter().map(u16::to_string).collect();
        self.run(
            "kuber-node",
            "kuber-node",
            &[
                format!("--kubeconfig={}", kubeconfig.display()),
                format!("--nodes={nodes}"),
                "--node-prefix=kuber-node".into(),
                "--address=127.0.0.1".into(),
                format!("--port={}", ports.join(",")),
                format!("--tls-cert-file={}", crt.display()),
                format!("--tls-private-key-file={}", key.display()),
                format!("--client-ca-file={}", files.ca.display()),
                format!("--allowed-client={}", clients.join(",")),
                format!("--root-dir={}", root.display()),
                format!("--pod-ip-prefix={}", pod_net.prefix),
            ],
        )?;
        self.pod_net = Some(pod_net);
        self.wait_for_log("kuber-node ready").await?;
        self.write_facts().map(|_| ())
    }

    /// Polls `ready` every `interval` until it answers `true`, failing when the process started
    /// last exits or [`START_TIMEOUT`] passes.
    async fn wait_until<F, Fut>(
        &mut self,
        interval: Duration,
        mut ready: F,
    ) -> Result<(), ClusterError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        loop {
            let process = self.processes.last_mut().expect("a started process");
            process.check_running()?;
            if ready().await {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let process = self.processes.last_mut().expect("a started process");
                return Err(ClusterError::NotReady {
                    process: process.name,
                    seconds: START_TIMEOUT.as_secs(),
                    log: process.log_tail(),
                });
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Waits until the log of the process started last contains `needle`.
    async fn wait_for_log(&mut self, needle: &str) -> Result<(), ClusterError> {
        let log = self
            .processes
            .last()
            .expect("a started process")
            .log
            .clone();
        self.wait_until(Duration::from_millis(50), || {
            let found = fs::read_to_string(&log).is_ok_and(|t| t.contains(needle));
            std::future::ready(found)
        })
        .await
    }

    /// Waits until `/readyz` answers `ok` to the admin (every post-start hook done, including
    /// the RBAC bootstrap roles the other users depend on).
    async fn wait_ready(&mut self) -> Result<(), ClusterError> {
        let client = self.admin()?;
        self.wait_until(Duration::from_millis(100), || async {
            let answer = client.call_text(Request::new(&READYZ, &[])).await;
            answer.is_ok_and(|text| text.trim() == "ok")
        })
        .await
    }

    /// The controller-manager is working once its service-account controller has made the
    /// `default` ServiceAccount of the `default` namespace.
    async fn wait_for_controller_manager(&mut self) -> Result<(), ClusterError> {
        let core = kuber_api::CoreV1Api::new(self.admin()?);
        self.wait_until(Duration::from_millis(200), || async {
            core.read_namespaced_service_account("default", "default", &Default::default())
                .await
                .is_ok()
        })
        .await
    }

    /// The admin's config, read back from the kubeconfig file as a user's program would.
    pub fn admin_config(&self) -> Result<Config, ClusterError> {
        let kubeconfig = Kubeconfig::from_file(&self.kubeconfig)?;
        Ok(Config::from_kubeconfig(&kubeconfig, None)?)
    }

    /// A client for the admin (client certificate, `system:masters`).
    pub fn admin(&self) -> Result<Client, ClusterError> {
        Ok(Client::new(self.admin_config()?)?)
    }

    /// A config for the restricted token user, who may do nothing RBAC does not grant.
    pub fn restricted_config(&self) -> Config {
        let mut config = Config::new(self.server.clone());
        config.tls = TlsConfig {
            ca_pem: Some(self.ca_pem.clone().into_bytes()),
            ..TlsConfig::default()
        };
        config.auth = Auth::Bearer(Secret::new(self.restricted_token.clone()));
        config
    }

    pub fn restricted(&self) -> Result<Client, ClusterError> {
        Ok(Client::new(self.restricted_config())?)
    }

    /// The folder of this cluster's files (certificates, kubeconfigs, logs, etcd data).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of the control plane binaries.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `kubectl` as the admin, with a discovery cache of this cluster's own.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(self.bin.join("kubectl"));
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.join("kubectl-cache"))
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs kubectl with `args`; an error with its stderr unless it succeeds.
    pub fn kubectl_ok(&self, args: &[&str]) -> Result<String, String> {
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .kubectl()
            .args(args)
            .output()
            .map_err(|e| format!("kubectl {}: {e}", args.join(" ")))?;
        if status.success() {
            Ok(String::from_utf8_lossy(&stdout).into_owned())
        } else {
            Err(format!(
                "kubectl {} failed ({status}): {}",
                args.join(" "),
                String::from_utf8_lossy(&stderr).trim()
            ))
        }
    }

    /// The process ids of etcd, the apiserver and the controller-manager (empty when attached).
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|p| p.child.id()).collect()
    }

    /// Whether every process is still running.
    pub fn check(&mut self) -> Result<(), ClusterError> {
        self.processes
            .iter_mut()
            .try_for_each(Process::check_running)
    }

    /// Stops every process and removes the folder (what dropping does).
    pub fn stop(self) {}
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let owned = !self.processes.is_empty();
        while let Some(mut process) = self.processes.pop() {
            process.stop();
        }
        if !owned {
            // Attached: another process owns the folder.
        } else if self.keep {
            eprintln!("KUBER_CLUSTER_KEEP: kept {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `/readyz`: not in the spec, so not a generated operation.
static READYZ: Operation = Operation::untyped("readyz", "GET", "/readyz");

/// Where the binaries are: `KUBER_CONTROLPLANE_BIN`, else `target/controlplane/<pinned version>`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBER_CONTROLPLANE_BIN") {
        return PathBuf::from(dir);
    }
    let root = workspace_root();
    let version = fs::read_to_string(root.join("tests/controlplane/go.mod"))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut words = line.split_whitespace();
                (words.next() == Some("k8s.io/kubernetes"))
                    .then(|| words.next().map(str::to_owned))
                    .flatten()
            })
        })
        .unwrap_or_default();
    root.join("target/controlplane").join(version)
}

fn workspace_root() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests_crate.parent().unwrap_or(tests_crate).to_path_buf()
}

/// A kubeconfig (JSON is YAML) with one cluster, user and context, certificates embedded.
pub fn kubeconfig_text(server: &str, ca_pem: &str, name: &str, identity: &Pem) -> String {
    let b64 = |s: &str| base64(s.as_bytes());
    let json = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": server,
            "certificate-authority-data": b64(ca_pem),
        }}],
        "users": [{"name": name, "user": {
            "client-certificate-data": b64(&identity.cert),
            "client-key-data": b64(&identity.key),
        }}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    });
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

/// Standard base64 with padding (what kubeconfig `-data` fields hold).
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh folder under the system temp dir, private to this user.
fn make_data_dir() -> Result<PathBuf, ClusterError> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let name = format!("kuber-cluster-{}-{attempt}", std::process::id());
        let dir = base.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                        .map_err(io(format!("chmod {}", dir.display())))?;
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(format!("create {}", dir.display()))(e)),
        }
    }
    Err(ClusterError::Io {
        what: format!("create a folder in {}", base.display()),
        source: std::io::Error::other("100 names taken"),
    })
}

/// A port nothing listens on now (the OS picks it; the race with other processes is harmless
/// on a test machine).
fn free_port() -> Result<u16, ClusterError> {
    Ok(free_ports(1)?[0])
}

/// `n` distinct free ports: all are held while the OS picks, so none comes twice.
fn free_ports(n: u32) -> Result<Vec<u16>, ClusterError> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(io("find a free port")))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr().map_err(io("find a free port"))?.port()))
        .collect()
}

/// 32 random hex characters from the OS (a token no other run shares).
fn random_token() -> String {
    format!(
        "{:016x}{:016x}",
        kuber_api::random::u64(),
        kuber_api::random::u64()
    )
}

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal went away), whichever comes first: what
/// stops a program holding a cluster, which then drops it.
pub async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut hangup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
                _ = hangup.recv() => "hung up",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "interrupted"
}
