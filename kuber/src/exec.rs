//! Running pods: [`Context::exec`], [`Context::attach`] and [`Context::port_forward`] (kubectl's
//! `exec`, `attach` and `port-forward`), over kuber-api's WebSocket sessions ([`kuber_api::ws`]).

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kuber_api::ws::{AttachedProcess, ExecOutput, PortForwardTunnel, PortStream};
use kuber_api::{AttachParams, CoreV1Api, ExecParams, PortforwardParams};
use tokio::io::{AsyncRead, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::task::{JoinHandle, JoinSet};

use crate::verbs::{BoxFuture, need_name, scope};
use crate::{Context, Error, Result};

/// What is written to the process's stdin, then closed.
type Input = Pin<Box<dyn AsyncRead + Send>>;

/// The pod a session is for, and its errors' context.
struct PodAt<'a> {
    ctx: &'a Context,
    verb: &'static str,
    namespace: String,
    pod: String,
}

impl<'a> PodAt<'a> {
    fn new(ctx: &'a Context, verb: &'static str, pod: &str, namespace: Option<&str>) -> Self {
        // "*" (all namespaces) means nothing for one pod: the context's namespace stands.
        let namespace = scope(ctx, namespace, None).unwrap_or(ctx.namespace());
        PodAt {
            ctx,
            verb,
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
        }
    }

    fn error(&self, source: kuber_api::Error) -> Error {
        Error::Pod {
            verb: self.verb,
            namespace: self.namespace.clone(),
            pod: self.pod.clone(),
            source: Box::new(source),
        }
    }

    /// Opens the session under the context's timeout (the handshake only: a session runs as
    /// long as it runs).
    async fn open<T>(&self, call: impl Future<Output = Result<T, kuber_api::Error>>) -> Result<T> {
        need_name(self.verb, "Pod", &self.pod)?;
        let call = async { call.await.map_err(|e| self.error(e)) };
        self.ctx.timed(self.verb, "Pod", call).await
    }

    fn api(&self) -> CoreV1Api {
        CoreV1Api::new(self.ctx.client().clone())
    }
}

// ---------------------------------------------------------------------------------------------
// exec

/// [`Context::exec`]: a command in a pod's container, run to its end (`.await`) or live
/// (`.start()`).
#[must_use = "a verb does nothing until awaited"]
pub struct Exec<'a> {
    ctx: &'a Context,
    pod: String,
    namespace: Option<String>,
    params: ExecParams,
    input: Option<Input>,
}

impl<'a> Exec<'a> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// The container, when the pod has several.
    pub fn container(mut self, name: &str) -> Self {
        self.params.container = Some(name.to_owned());
        self
    }

    /// Writes `input` to the process's stdin, then closes it.
    pub fn stdin(self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin_reader(std::io::Cursor::new(input.into()))
    }

    /// Copies `reader` to the process's stdin to its end, then closes it.
    pub fn stdin_reader(mut self, reader: impl AsyncRead + Send + 'static) -> Self {
        self.params.stdin = Some(true);
        self.input = Some(Box::pin(reader));
        self
    }

    /// Opens stdin for [`start`](Self::start)'s caller to write (`process.stdin()`).
    pub fn stdin_pipe(mut self) -> Self {
        self.params.stdin = Some(true);
        self.input = None;
        self
    }

    /// Runs the command in a terminal: stderr is merged into stdout.
    pub fn tty(mut self) -> Self {
        self.params.tty = Some(true);
        self.params.stderr = Some(false);
        self
    }

    /// Starts the process and answers it live, to stream its pipes. Input given by
    /// [`stdin`](Self::stdin) or [`stdin_reader`](Self::stdin_reader) is fed by a task of its
    /// own (the process's `stdin()` is then taken).
    pub async fn start(self) -> Result<AttachedProcess> {
        let (mut process, input) = self.open().await?;
        // Only given input takes the pipe: `stdin_pipe` leaves it to the caller.
        if let Some(input) = input
            && let Some(stdin) = process.stdin()
        {
            tokio::spawn(feed(input, stdin));
        }
        Ok(process)
    }

    async fn open(mut self) -> Result<(AttachedProcess, Option<Input>)> {
        let at = PodAt::new(self.ctx, "exec", &self.pod, self.namespace.as_deref());
        if self.params.command.is_empty() {
            return Err(Error::Missing {
                verb: "exec",
                message: format!("no command to run in pod {}/{}", at.namespace, at.pod),
            });
        }
        // kubectl's defaults, said explicitly: some servers read a missing flag as false.
        self.params.stdout.get_or_insert(true);
        self.params.stderr.get_or_insert(true);
        let api = at.api();
        let call = api.connect_get_namespaced_pod_exec(&at.pod, &at.namespace, &self.params);
        Ok((at.open(call.into_future()).await?, self.input))
    }

    /// Runs the process to its end: stdout and stderr apart, and its exit code (a non-zero exit
    /// is data, not an error, as `kubectl exec` reports it).
    async fn run(self) -> Result<ExecOutput> {
        let at = PodAt::new(self.ctx, "exec", &self.pod, self.namespace.as_deref());
        let (mut process, input) = self.open().await?;
        let stdin = process.stdin();
        let fed = async move {
            if let (Some(input), Some(stdin)) = (input, stdin) {
                feed(input, stdin).await;
            }
        };
        // `output` reads stdout and stderr concurrently; stdin, taken, is fed alongside.
        let ((), output) = tokio::join!(fed, process.output(Vec::new()));
        output.map_err(|e| at.error(e))
    }
}

/// Copies `input` to stdin and closes it; a process that exits without reading all of it is no
/// error of ours.
async fn feed(mut input: Input, mut stdin: kuber_api::ws::ExecWriter) {
    let _ = tokio::io::copy(&mut input, &mut stdin).await;
    let _ = stdin.shutdown().await;
}

impl<'a> IntoFuture for Exec<'a> {
    type Output = Result<ExecOutput>;
    type IntoFuture = BoxFuture<'a, ExecOutput>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

// ---------------------------------------------------------------------------------------------
// attach

/// [`Context::attach`]: the running process of a pod's container (its main process).
#[must_use = "a verb does nothing until started"]
pub struct Attach<'a> {
    ctx: &'a Context,
    pod: String,
    namespace: Option<String>,
    params: AttachParams,
}

impl<'a> Attach<'a> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// The container, when the pod has several.
    pub fn container(mut self, name: &str) -> Self {
        self.params.container = Some(name.to_owned());
        self
    }

    /// Whether to open the process's stdin (the container must have `stdin: true`).
    pub fn stdin(mut self, stdin: bool) -> Self {
        self.params.stdin = Some(stdin);
        self
    }

    /// A terminal (the container must have `tty: true`): stderr is merged into stdout.
    pub fn tty(mut self) -> Self {
        self.params.tty = Some(true);
        self.params.stderr = Some(false);
        self
    }

    /// Attaches and answers the live session.
    pub async fn start(mut self) -> Result<AttachedProcess> {
        let at = PodAt::new(self.ctx, "attach", &self.pod, self.namespace.as_deref());
        self.params.stdout.get_or_insert(true);
        self.params.stderr.get_or_insert(true);
        let api = at.api();
        let call = api.connect_get_namespaced_pod_attach(&at.pod, &at.namespace, &self.params);
        at.open(call.into_future()).await
    }
}

// ---------------------------------------------------------------------------------------------
// port-forward

/// [`Context::port_forward`]: a connection to a port of a pod (`.await`), or a local listener
/// forwarding each connection it accepts (`.listen(addr)`).
#[must_use = "a verb does nothing until awaited"]
#[derive(Clone)]
pub struct PortForward<'a> {
    ctx: &'a Context,
    pod: String,
    namespace: Option<String>,
    port: u16,
}

impl<'a> PortForward<'a> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// One connection: a session of its own, as kubectl opens per accepted connection.
    async fn connect(self) -> Result<PortStream> {
        let at = PodAt::new(
            self.ctx,
            "port_forward",
            &self.pod,
            self.namespace.as_deref(),
        );
        let params = PortforwardParams {
            ports: vec![self.port.into()],
        };
        let api = at.api();
        let call = api.connect_get_namespaced_pod_portforward(&at.pod, &at.namespace, &params);
        let mut forwarder = at.open(call.into_future()).await?;
        // The stream keeps the session open; the forwarder is not needed past it.
        forwarder.take_stream(self.port).ok_or_else(|| {
            at.error(kuber_api::Error::Session {
                operation: "connectCoreV1GetNamespacedPodPortforward",
                channel: "data".into(),
                message: format!("the session has no stream for port {}", self.port),
            })
        })
    }

    /// Listens on `address` (e.g. `"127.0.0.1:0"`) and forwards each accepted connection, until
    /// the [`Forwarder`] is dropped or stopped. As kubectl, all connections share one WebSocket
    /// that tunnels SPDY (opened with the first connection, again if it ends); a server that
    /// does not tunnel gets a session per connection. A connection that fails (refused by the
    /// pod, the session broke) ends alone.
    pub async fn listen(
        self,
        address: impl ToSocketAddrs + std::fmt::Display,
    ) -> Result<Forwarder> {
        let listen_error = |source| Error::Listen {
            address: address.to_string(),
            source,
        };
        let listener = TcpListener::bind(&address).await.map_err(listen_error)?;
        let local_addr = listener.local_addr().map_err(listen_error)?;
        // A connection is refused the same way later; a missing name is better said now.
        need_name("port_forward", "Pod", &self.pod)?;
        let target = Target {
            ctx: self.ctx.clone(),
            pod: self.pod,
            namespace: self.namespace,
            port: self.port,
            tunnel: tokio::sync::Mutex::new(None),
        };
        let failures = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(listener, Arc::new(target), failures.clone()));
        Ok(Forwarder {
            local_addr,
            failures,
            task,
        })
    }
}

impl<'a> IntoFuture for PortForward<'a> {
    type Output = Result<PortStream>;
    type IntoFuture = BoxFuture<'a, PortStream>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

/// What a [`Forwarder`]'s connections go to, owned by its task: one tunnel for all of them,
/// opened with the first and again after it ends.
struct Target {
    ctx: Context,
    pod: String,
    namespace: Option<String>,
    port: u16,
    tunnel: tokio::sync::Mutex<Option<Arc<PortForwardTunnel>>>,
}

impl Target {
    /// The tunnel, opened if there is none or it ended.
    async fn tunnel(&self, at: &PodAt<'_>) -> Result<Arc<PortForwardTunnel>> {
        let mut slot = self.tunnel.lock().await;
        if let Some(tunnel) = slot.as_ref().filter(|t| !t.is_closed()) {
            return Ok(tunnel.clone());
        }
        let client = self.ctx.client().clone();
        let tunnel = at
            .open(client.port_forward_tunnel(&at.namespace, &at.pod))
            .await?;
        Ok(slot.insert(Arc::new(tunnel)).clone())
    }

    /// A connection to the pod's port, over the tunnel.
    async fn connect(&self) -> Result<PortStream> {
        let at = PodAt::new(
            &self.ctx,
            "port_forward",
            &self.pod,
            self.namespace.as_deref(),
        );
        let tunnel = self.tunnel(&at).await?;
        at.open(tunnel.connect(self.port)).await
    }
}

/// A local listener forwarding to a port of a pod ([`PortForward::listen`]), as
/// `kubectl port-forward` does. Dropping it (or [`stop`](Self::stop)) closes the listener and
/// every forwarded connection.
#[derive(Debug)]
pub struct Forwarder {
    local_addr: SocketAddr,
    failures: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// The local address listened on (with the port chosen, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many connections failed so far (their session refused or broken). kuber logs
    /// nothing; this is where such failures show.
    pub fn failures(&self) -> usize {
        self.failures.load(Ordering::Relaxed)
    }

    /// Stops listening and closes every forwarded connection.
    pub fn stop(self) {}
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        // The connections' tasks are in the accept task's JoinSet: aborted with it.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, target: Arc<Target>, failures: Arc<AtomicUsize>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let (target, failures) = (target.clone(), failures.clone());
                    connections.spawn(async move {
                        if !forward(socket, &target).await {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                // Out of file descriptors and the like: the next accept may do; not a hot loop.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            // Reaps finished connections, so that the set holds only live ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One accepted connection, over the target's tunnel, until either side ends (each side's end
/// is passed on as a half-close); whether it went without failure.
async fn forward(mut socket: TcpStream, target: &Target) -> bool {
    match target.connect().await {
        Ok(mut stream) => tokio::io::copy_bidirectional(&mut socket, &mut stream)
            .await
            .is_ok(),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The verbs on Context

impl Context {
    /// Runs `command` in a pod (kubectl's `exec`): `.await` runs it to its end and answers
    /// stdout, stderr and the exit code — a non-zero exit is data, not an error.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// let out = ctx.exec("web-0", ["sh", "-c", "cat; exit 3"]).stdin("hello").await?;
    /// assert_eq!((out.stdout, out.status.code()), (b"hello".to_vec(), 3));
    /// // Live: the process's pipes as they come.
    /// let mut process = ctx.exec("web-0", ["top"]).container("app").tty().start().await?;
    /// let stdout = process.stdout();
    /// # Ok(()) }
    /// ```
    pub fn exec<I, S>(&self, pod: &str, command: I) -> Exec<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Exec {
            ctx: self,
            pod: pod.to_owned(),
            namespace: None,
            params: ExecParams {
                command: command.into_iter().map(Into::into).collect(),
                ..ExecParams::default()
            },
            input: None,
        }
    }

    /// Attaches to the running process of a pod's container (kubectl's `attach`).
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// let mut session = ctx.attach("web-0").stdin(true).start().await?;
    /// let (stdin, stdout) = (session.stdin(), session.stdout());
    /// # Ok(()) }
    /// ```
    pub fn attach(&self, pod: &str) -> Attach<'_> {
        Attach {
            ctx: self,
            pod: pod.to_owned(),
            namespace: None,
            params: AttachParams::default(),
        }
    }

    /// Forwards to `port` of a pod (kubectl's `port-forward`): `.await` answers one connection
    /// (an `AsyncRead + AsyncWrite` stream); `.listen(addr)` forwards each connection a local
    /// listener accepts.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use tokio::io::AsyncWriteExt;
    /// let mut stream = ctx.port_forward("db-0", 5432).await?;
    /// stream.write_all(b"ping").await.ok();
    /// let forwarder = ctx.port_forward("web-0", 8080).listen("127.0.0.1:0").await?;
    /// println!("http://{}/", forwarder.local_addr());
    /// # Ok(()) }
    /// ```
    pub fn port_forward(&self, pod: &str, port: u16) -> PortForward<'_> {
        PortForward {
            ctx: self,
            pod: pod.to_owned(),
            namespace: None,
            port,
        }
    }
}
