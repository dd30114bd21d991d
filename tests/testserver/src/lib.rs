//! An in-process Kubernetes API server for tests: every kind of kuber's generated registry is
//! served from one in-memory store, with the real server's bookkeeping (resourceVersion, uid,
//! generation, generateName), errors, selectors, paging and watches.
//!
//! Bodies, answers and watches of built-in kinds may be JSON or Kubernetes' protobuf
//! (`application/vnd.kubernetes.protobuf`, what kubectl's typed commands send), chosen from
//! `Accept` as the real server chooses; custom resources answer JSON.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = kuber_testserver::TestServer::start().await?;
//! let ctx = server.context();
//! let namespaces = ctx.list_kind("Namespace").await?;
//! assert!(namespaces.items.len() >= 4);
//! # Ok(()) }
//! ```
//!
//! Test controls act on the requests a [`Match`] selects: [`TestServer::fail`] (any code, 429
//! with `Retry-After`), [`TestServer::delay`], [`TestServer::drop_watches`], and
//! [`TestServer::requests`] records every request. [`TestServer::start_tls`] serves HTTPS with a
//! CA made at start; users authenticate with [`TestServer::client_cert`] or
//! [`TestServer::token`], and [`TestServer::deny`] answers them 403. Pod logs, exec and
//! port-forwards are answered by closures ([`TestServer::on_logs`], [`TestServer::on_exec`],
//! [`TestServer::on_port_forward`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use kuber_testserver::{Match, TestServer};
//! let server = TestServer::start().await?;
//! server.fail(Match::verb("list").resource("pods")).times(2).with(429);
//! server.on_logs(|_pod, _container, _options| "hello\n".into());
//! # Ok(()) }
//! ```

mod admission;
mod alias;
mod api;
mod apply;
mod auth;
mod controls;
mod crd;
mod defaults;
mod discovery;
mod exec;
mod hook;
mod managed;
mod negotiate;
mod openapi;
mod options;
mod patch;
mod pipeline;
mod pods;
mod portforward;
mod protobuf;
mod request;
mod response;
mod schema;
mod select;
mod server;
mod smp;
mod status;
mod store;
mod table;
mod tls;
mod validate;
mod watch;
mod websocket;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kuber_api::config::{Auth, Config, Secret};
use tokio::net::TcpListener;

pub use auth::User;
pub use controls::{
    ExecEvents, ExecOutput, ExecRequest, Fault, LogOptions, LogOutput, PodRef, RecordedRequest,
    RuleId, TerminalSize,
};
pub use hook::{HookRequest, Reply};
pub use request::{Match, RequestInfo};
pub use response::{BoxError, ResponseBody};
pub use select::{LabelSelector, SelectorError};
pub use server::Service;
pub use store::Options;
pub use tls::{Ca, ClientCert, Issued, Purpose, TlsError};

/// The user of the handed-out client and kubeconfig on a TLS server.
pub const ADMIN: &str = "admin";

/// How a client made by [`TestServer::client_as`] authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// None: 401 on a TLS server.
    Anonymous,
    /// A bearer token from [`TestServer::token`].
    Token(Secret<String>),
    /// A client certificate from [`TestServer::client_cert`] (TLS servers only).
    Cert(ClientCert),
}

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding the test server to {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("making a client for the test server at {url}: {source}")]
    Client {
        url: String,
        source: Box<kuber_api::Error>,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("client certificates need a TLS server (TestServer::start_tls)")]
    NotTls,
}

/// A running server. Dropping it stops it (open connections and watches end).
pub struct TestServer {
    url: String,
    addr: SocketAddr,
    client: kuber_api::Client,
    /// The same over [`TestServer::service`].
    in_process: kuber_api::Client,
    store: Arc<store::Store>,
    controls: Arc<controls::Controls>,
    shared: Arc<controls::Shared>,
    pki: Option<tls::Pki>,
    admin: Option<ClientCert>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl TestServer {
    /// Starts a server on a free loopback port with the default [`Options`].
    pub async fn start() -> Result<TestServer, Error> {
        TestServer::start_with(Options::default()).await
    }

    /// Starts a server on a free loopback port.
    pub async fn start_with(options: Options) -> Result<TestServer, Error> {
        TestServer::launch(options, false).await
    }

    /// Starts an HTTPS server with the default [`Options`]: a CA and certificates made now;
    /// requests without credentials get 401. [`TestServer::client`], [`TestServer::context`] and
    /// [`TestServer::kubeconfig`] carry the CA and the certificate of user [`ADMIN`] (group
    /// `system:masters`).
    pub async fn start_tls() -> Result<TestServer, Error> {
        TestServer::start_tls_with(Options::default()).await
    }

    /// [`TestServer::start_tls`] with these options.
    pub async fn start_tls_with(options: Options) -> Result<TestServer, Error> {
        TestServer::launch(options, true).await
    }

    async fn launch(options: Options, with_tls: bool) -> Result<TestServer, Error> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| Error::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        let controls = Arc::new(controls::Controls::default());
        let (url, pki, admin) = if with_tls {
            let pki = tls::Pki::new()?;
            let (admin, der) = pki.issue(ADMIN, &["system:masters"])?;
            controls
                .auth
                .add_cert(der.to_vec(), ADMIN, &["system:masters"]);
            controls
                .auth
                .required
                .store(true, std::sync::atomic::Ordering::Relaxed);
            (format!("https://{addr}"), Some(pki), Some(admin))
        } else {
            (format!("http://{addr}"), None, None)
        };
        let acceptor = pki.as_ref().map(|p| p.acceptor.clone());
        let store = Arc::new(store::Store::new(options));
        let shared = Arc::new(controls::Shared {
            store: store.clone(),
            controls: controls.clone(),
        });
        let (shutdown, stopped) = tokio::sync::watch::channel(false);
        let client_error = |source| Error::Client {
            url: url.clone(),
            source: Box::new(source),
        };
        let peer = admin.as_ref().map(user_of);
        let in_process = kuber_api::Client::from_service(
            Service::new(shared.clone(), peer),
            Config::new(url.clone()),
        )
        .map_err(client_error)?;
        let mut server = TestServer {
            client: kuber_api::Client::new(Config::new(url.clone())).map_err(client_error)?,
            in_process,
            url,
            addr,
            store,
            controls,
            shared: shared.clone(),
            pki,
            admin,
            shutdown,
        };
        if let Some(admin) = server.admin.clone() {
            server.client = server.client_as(&Credentials::Cert(admin))?;
        }
        tokio::spawn(server::serve(listener, shared, acceptor, stopped));
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kuber-api client for this server.
    pub fn client(&self) -> kuber_api::Client {
        self.client.clone()
    }

    /// A kuber context on this server (namespace `default`).
    pub fn context(&self) -> kuber::Context {
        kuber::Context::from_client(self.client.clone())
    }

    /// A kuber-api client that reaches this server without a socket, through
    /// [`TestServer::service`]: answered as [`TestServer::client`] is (on a TLS server: as
    /// [`ADMIN`]), with kuber-api's retries, timeouts and decoding above it. Exec, attach and
    /// port-forward, TLS and proxies need the socket's client.
    pub fn client_in_process(&self) -> kuber_api::Client {
        self.in_process.clone()
    }

    /// A kuber context (namespace `default`) on [`TestServer::client_in_process`].
    pub fn context_in_process(&self) -> kuber::Context {
        kuber::Context::from_client(self.in_process.clone())
    }

    /// A kubeconfig (YAML) that points kubectl and other clients at this server (on a TLS
    /// server: its CA and the [`ADMIN`] certificate).
    pub fn kubeconfig(&self) -> String {
        let ca = match &self.pki {
            Some(pki) => format!(
                "\n    certificate-authority-data: {}",
                BASE64.encode(pki.ca_pem.as_bytes())
            ),
            None => String::new(),
        };
        let user = match &self.admin {
            Some(admin) => format!(
                "\n    client-certificate-data: {}\n    client-key-data: {}",
                BASE64.encode(admin.cert_pem.as_bytes()),
                BASE64.encode(admin.key_pem().as_bytes())
            ),
            None => " {}".to_owned(),
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kuber-testserver\n  cluster:\n    server: {url}{ca}\ncontexts:\n- name: kuber-testserver\n  context:\n    cluster: kuber-testserver\n    user: kuber-testserver\n    namespace: default\ncurrent-context: kuber-testserver\nusers:\n- name: kuber-testserver\n  user:{user}\n",
            url = self.url
        )
    }

    /// The CA of a TLS server (PEM).
    pub fn ca_pem(&self) -> Option<&str> {
        self.pki.as_ref().map(|p| p.ca_pem.as_str())
    }

    /// A client config for this server that authenticates with `credentials` (and trusts the
    /// server's CA).
    pub fn config_as(&self, credentials: &Credentials) -> Config {
        let mut config = Config::new(self.url.clone());
        config.tls.ca_pem = self.pki.as_ref().map(|p| p.ca_pem.as_bytes().to_vec());
        match credentials {
            Credentials::Anonymous => {}
            Credentials::Token(token) => config.auth = Auth::Bearer(token.clone()),
            Credentials::Cert(cert) => {
                config.tls.client_cert_pem = Some(cert.cert_pem.as_bytes().to_vec());
                config.tls.client_key_pem = Some(Secret::new(cert.key_pem().as_bytes().to_vec()));
            }
        }
        config
    }

    /// A kuber-api client that authenticates with `credentials`.
    pub fn client_as(&self, credentials: &Credentials) -> Result<kuber_api::Client, Error> {
        if matches!(credentials, Credentials::Cert(_)) && self.pki.is_none() {
            return Err(Error::NotTls);
        }
        kuber_api::Client::new(self.config_as(credentials)).map_err(|source| Error::Client {
            url: self.url.clone(),
            source: Box::new(source),
        })
    }

    /// A kuber context (namespace `default`) that authenticates with `credentials`.
    pub fn context_as(&self, credentials: &Credentials) -> Result<kuber::Context, Error> {
        Ok(kuber::Context::from_client(self.client_as(credentials)?))
    }

    /// A client certificate for `user` in `groups` (the organizations of its subject), signed by
    /// the server's CA. Needs a TLS server.
    pub fn client_cert(&self, user: &str, groups: &[&str]) -> Result<ClientCert, Error> {
        let pki = self.pki.as_ref().ok_or(Error::NotTls)?;
        let (cert, der) = pki.issue(user, groups)?;
        self.controls.auth.add_cert(der.to_vec(), user, groups);
        Ok(cert)
    }

    /// A bearer token for `user` (no groups); plain servers accept tokens too. Wrap it in
    /// [`Credentials::Token`] for [`TestServer::client_as`].
    pub fn token(&self, user: &str) -> Secret<String> {
        Secret::new(self.controls.auth.token(user, &[]))
    }

    /// [`TestServer::token`] for a user in `groups`.
    pub fn token_with_groups(&self, user: &str, groups: &[&str]) -> Secret<String> {
        Secret::new(self.controls.auth.token(user, groups))
    }

    /// Forbids `user` the requests `matching` selects: 403 with the real server's message
    /// (`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the
    /// namespace "ns"`). Everything else is allowed.
    pub fn deny(&self, user: &str, matching: Match) {
        self.controls.auth.deny(user, matching);
    }

    /// Takes back every [`TestServer::deny`].
    pub fn clear_denials(&self) {
        self.controls.auth.clear_denials();
    }

    /// Makes the requests `matching` selects fail; finish with [`Fault::with`] (a code and the
    /// real server's Status for it) or [`Fault::with_status`]:
    /// `server.fail(Match::verb("list").resource("pods")).times(2).with(429)`.
    pub fn fail(&self, matching: Match) -> Fault<'_> {
        Fault::new(&self.controls, matching)
    }

    /// Delays the answers to the requests `matching` selects (a watch: its start).
    pub fn delay(&self, matching: Match, by: Duration) -> RuleId {
        self.controls.delay(matching, by)
    }

    /// Ends each watch `matching` selects after it has sent `events` events (bookmarks not
    /// counted), as a server restart or a load balancer would.
    pub fn drop_watches(&self, matching: Match, events: usize) -> RuleId {
        self.controls.drop_watches(matching, events)
    }

    /// Takes a control or hook away; `false` when it was already gone (a counted failure used
    /// up).
    pub fn remove(&self, rule: RuleId) -> bool {
        self.controls.remove(rule)
    }

    /// Takes every failure, delay, watch drop and hook away.
    pub fn clear_controls(&self) {
        self.controls.clear();
    }

    /// Every request received so far, in order (without credentials).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.controls.requests()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        self.controls.clear_requests();
    }

    /// Stops (`false`) or resumes recording requests (on from the start; long benchmarks turn
    /// it off).
    pub fn record_requests(&self, on: bool) {
        self.controls.set_recording(on);
    }

    /// Answers `GET pods/NAME/log` with `logs(pod, container, options)`. The pod must exist;
    /// the container is the one asked for, else the pod's only one.
    pub fn on_logs<F>(&self, logs: F)
    where
        F: Fn(&PodRef, &str, &LogOptions) -> LogOutput + Send + Sync + 'static,
    {
        *self
            .controls
            .logs
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(logs));
    }

    /// Answers exec and attach (WebSocket, `v5.channel.k8s.io` or `v4`) with
    /// `exec(request)`, once the client has closed stdin (at once without stdin). v4 cannot
    /// close stdin alone: there the client's Close ends stdin, and no output can follow it.
    pub fn on_exec<F>(&self, exec: F)
    where
        F: Fn(&ExecRequest) -> ExecOutput + Send + Sync + 'static,
    {
        self.on_exec_with_events(move |request, _| exec(request));
    }

    /// [`TestServer::on_exec`] with what else the client sent: the terminal sizes of channel 4.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use kuber_testserver::{ExecOutput, TestServer};
    /// let server = TestServer::start().await?;
    /// server.on_exec_with_events(|_request, events| ExecOutput {
    ///     stdout: format!("{:?}\n", events.resizes).into_bytes(),
    ///     ..ExecOutput::default()
    /// });
    /// # Ok(()) }
    /// ```
    pub fn on_exec_with_events<F>(&self, exec: F)
    where
        F: Fn(&ExecRequest, &ExecEvents) -> ExecOutput + Send + Sync + 'static,
    {
        *self
            .controls
            .exec
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(exec));
    }

    /// Answers port-forwards to `port` of pod `namespace/pod` (WebSocket, `v4.channel.k8s.io`
    /// or `portforward.k8s.io`): each forwarded connection runs `handler` on the server's end
    /// of it, a byte stream. The client's bytes are read from it, what is written goes back;
    /// the connection ends when the handler drops its end (or shuts down writing), and the
    /// handler reads EOF when the client goes. A later call for the same pod and port replaces
    /// the handler. Ports without one answer as the kubelet does when nothing listens: an
    /// error-channel message ending in `connection refused`. The pod need not declare the port.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use kuber_testserver::TestServer;
    /// let server = TestServer::start().await?;
    /// // An echo server on port 8080 of pod default/web.
    /// server.on_port_forward("default", "web", 8080, |conn| async move {
    ///     let (mut from, mut to) = tokio::io::split(conn);
    ///     let _ = tokio::io::copy(&mut from, &mut to).await;
    /// });
    /// // Port 5432 of pod default/db forwarded to a real socket.
    /// let db: std::net::SocketAddr = "127.0.0.1:5432".parse()?;
    /// server.on_port_forward("default", "db", 5432, move |mut conn| async move {
    ///     if let Ok(mut socket) = tokio::net::TcpStream::connect(db).await {
    ///         let _ = tokio::io::copy_bidirectional(&mut conn, &mut socket).await;
    ///     }
    /// });
    /// # Ok(()) }
    /// ```
    pub fn on_port_forward<F, Fut>(&self, namespace: &str, pod: &str, port: u16, handler: F)
    where
        F: Fn(tokio::io::DuplexStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let pod = PodRef {
            namespace: namespace.to_owned(),
            name: pod.to_owned(),
        };
        let handler: controls::PortForwardHandler = Arc::new(move |conn| Box::pin(handler(conn)));
        self.controls
            .port_forwards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((pod, port), handler);
    }

    /// The server as a `tower_service::Service` of `http::Request<B>` → `http::Response<ResponseBody>`,
    /// without a socket: each request takes the path a socket's does (recording, hooks,
    /// authentication, controls, the API), so it answers as the socket would. Requests without
    /// credentials of their own come as the handed-out client's connection does (on a TLS
    /// server: as [`ADMIN`]). Exec, attach and port-forward need a socket (the WebSocket
    /// upgrade).
    pub fn service(&self) -> Service {
        Service::new(self.shared.clone(), self.admin.as_ref().map(user_of))
    }

    /// Answers by hand the requests `matching` selects: `handler` gives a [`Reply`], or `None`
    /// to pass the request on (to the next hook, then the server). Hooks see each request after
    /// it is recorded and before authentication and the other controls, in the order
    /// installed; [`TestServer::remove`] takes one away.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use kuber_testserver::{Match, Reply, TestServer};
    /// let server = TestServer::start().await?;
    /// server.on_request(Match::verb("get").resource("pods"), |req| {
    ///     (req.info.name.as_deref() == Some("broken")).then(|| Reply::new(200).body("{not json"))
    /// });
    /// # Ok(()) }
    /// ```
    pub fn on_request<F>(&self, matching: Match, handler: F) -> RuleId
    where
        F: Fn(&HookRequest) -> Option<Reply> + Send + Sync + 'static,
    {
        self.controls.on_request(matching, Arc::new(handler))
    }

    /// Forgets the watch history up to now: watches from an older resourceVersion get 410.
    pub fn compact(&self) {
        self.store.compact();
    }

    /// The server's current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.store.resource_version()
    }
}

/// The user a client certificate of this server authenticates.
fn user_of(cert: &ClientCert) -> auth::User {
    auth::User {
        name: cert.user.clone(),
        groups: cert.groups.clone(),
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
