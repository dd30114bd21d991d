//! The context every verb runs in (Kuber.jl's `KuberContext`): a kuber-api client, a default
//! namespace, retries, a timeout, and the server's discovery, fetched once on first use.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kuber_api::Client;
use kuber_api::config::Config;

use crate::discovery::{Discovery, DiscoveryCache, Resolver};
use crate::{Error, Result};

tokio::task_local! {
    /// The timeout [`Context::with_timeout`] sets for the calls inside it, in that task only.
    static SCOPED_TIMEOUT: Duration;
}

/// Where verbs go and how: cheap to clone; clones share the connection pool and the discovery
/// cache, and each has its own namespace, retries and timeout.
///
/// ```no_run
/// # async fn run() -> kuber::Result<()> {
/// use kuber::Context;
/// use kuber::models::api::core::v1::Pod;
///
/// let mut ctx = Context::infer()?; // kubeconfig, or in-cluster
/// ctx.set_ns("kube-system");
/// for pod in ctx.list::<Pod>().await? {
///     println!("{}", pod.metadata.unwrap_or_default().name.unwrap_or_default());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    pub(crate) client: Client,
    namespace: String,
    timeout: Option<Duration>,
    /// Set by [`Context::set_retries`], kept across [`Context::set_server`].
    retries: Option<(u32, bool)>,
    /// Versions chosen per group (`core` for the core group), before the server's preferred ones.
    pub(crate) overrides: Arc<BTreeMap<String, String>>,
    discovery: DiscoveryCache,
}

/// Kuber.jl's default: `kubectl proxy`'s address.
pub const LOCAL_PROXY: &str = "http://localhost:8001";

impl Context {
    /// Kuber.jl's default context: `http://localhost:8001` (what `kubectl proxy` serves),
    /// namespace `default`, 5 retries of calls that change nothing.
    pub fn new() -> Result<Context> {
        Ok(Context::from_client(Client::local_proxy()?))
    }

    /// From the kubeconfig (`KUBECONFIG`, `~/.kube/config`: context, certificates, tokens, exec
    /// plugins, proxies) or, inside a pod, the in-cluster service account; the namespace is the
    /// kubeconfig context's.
    pub fn infer() -> Result<Context> {
        Ok(Context::from_client(Client::try_default()?))
    }

    /// Around an existing client (its namespace is the context's default).
    pub fn from_client(client: Client) -> Context {
        let namespace = match client.default_namespace() {
            "" => "default".to_owned(),
            ns => ns.to_owned(),
        };
        Context {
            client,
            namespace,
            timeout: None,
            retries: None,
            overrides: Arc::default(),
            discovery: DiscoveryCache::default(),
        }
    }

    /// The kuber-api client, for any operation the verbs do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        self.client.config_server()
    }

    /// Talks to another server (same credentials and settings). Discovery starts over.
    pub fn set_server(&mut self, url: &str) -> Result<()> {
        let config = Config {
            server: url.to_owned(),
            ..self.client.config().clone()
        };
        let (count, all_apis) = self
            .retries
            .unwrap_or((config.retries.count, config.retries.all_apis));
        self.client = Client::new(config)?.with_retries(count, all_apis);
        self.discovery = DiscoveryCache::default();
        Ok(())
    }

    /// The default namespace of namespaced calls.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Sets the default namespace; `"*"` makes lists and watches span all namespaces.
    pub fn set_ns(&mut self, namespace: impl Into<String>) {
        self.namespace = namespace.into();
    }

    /// Retries: `count` more attempts after a failure that may be retried (connection errors,
    /// 429, 5xx, honouring Retry-After). Only calls that change nothing are retried, unless
    /// `all_apis`.
    pub fn set_retries(&mut self, count: u32, all_apis: bool) {
        self.retries = Some((count, all_apis));
        self.client = self.client.clone().with_retries(count, all_apis);
    }

    /// A bound on each call of this context (and its later clones), discovery included;
    /// `None`: only the client's. Watches and followed logs are bounded by it until their
    /// answer starts.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The timeout of calls made here: [`Context::with_timeout`]'s inside it, else the context's.
    pub fn timeout(&self) -> Option<Duration> {
        SCOPED_TIMEOUT.try_with(|t| *t).ok().or(self.timeout)
    }

    /// Runs `f` with `timeout` on every call made inside it, in this task only: other tasks
    /// using this context (or its clones) keep theirs. Kuber.jl's `with_timeout` changes a
    /// timeout all tasks share; this one cannot leak.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use std::time::Duration;
    /// use kuber::models::api::core::v1::Pod;
    /// let pods = ctx
    ///     .with_timeout(Duration::from_secs(2), async { ctx.list::<Pod>().await })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_timeout<F: Future>(&self, timeout: Duration, f: F) -> F::Output {
        SCOPED_TIMEOUT.scope(timeout, f).await
    }

    /// Chooses versions per group before the server's preferred ones, e.g.
    /// `[("autoscaling", "v1")]`; `core` names the core group. Applies to verbs by kind name.
    pub fn set_api_versions<G, V>(&mut self, overrides: impl IntoIterator<Item = (G, V)>)
    where
        G: Into<String>,
        V: Into<String>,
    {
        self.overrides = Arc::new(
            overrides
                .into_iter()
                .map(|(g, v)| (g.into(), v.into()))
                .collect(),
        );
    }

    /// The server's groups and versions, fetched on first use and cached (clones share it).
    pub async fn discovery(&self) -> Result<Arc<Discovery>> {
        self.timed("get", "discovery", self.discovery.get(&self.client))
            .await
    }

    /// Forgets the cached discovery: the next verb by kind name fetches it again.
    pub fn refresh_discovery(&self) {
        self.discovery.clear();
    }

    /// What kind names are resolved with: the client, the discovery, the version overrides.
    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver {
            client: &self.client,
            cache: &self.discovery,
            overrides: &self.overrides,
        }
    }

    /// Runs one call under the context's timeout.
    pub(crate) async fn timed<T>(
        &self,
        verb: &'static str,
        kind: &str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.timeout() {
            None => call.await,
            Some(after) => tokio::time::timeout(after, call).await.unwrap_or_else(|_| {
                Err(Error::Timeout {
                    verb,
                    kind: kind.to_owned(),
                    after,
                })
            }),
        }
    }
}

impl From<Client> for Context {
    fn from(client: Client) -> Context {
        Context::from_client(client)
    }
}
