//! An in-process Kubernetes API server for tests: every kind of kuber's generated registry is
//! served from one in-memory store, with the real server's bookkeeping (resourceVersion, uid,
//! generation, generateName), errors, selectors, paging and watches.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = kuber_testserver::TestServer::start().await?;
//! let ctx = server.context();
//! let namespaces = ctx.list_kind("Namespace").await?;
//! assert!(namespaces.items.len() >= 4);
//! # Ok(()) }
//! ```

mod apply;
mod crd;
mod defaults;
mod discovery;
mod managed;
mod patch;
mod pods;
mod schema;
mod select;
mod server;
mod smp;
mod status;
mod store;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use select::{LabelSelector, SelectorError};
pub use store::Options;

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
}

/// A running server. Dropping it stops it (open connections and watches end).
pub struct TestServer {
    url: String,
    addr: SocketAddr,
    client: kuber_api::Client,
    store: Arc<store::Store>,
    shutdown: watch::Sender<bool>,
}

impl TestServer {
    /// Starts a server on a free loopback port with the default [`Options`].
    pub async fn start() -> Result<TestServer, Error> {
        TestServer::start_with(Options::default()).await
    }

    /// Starts a server on a free loopback port.
    pub async fn start_with(options: Options) -> Result<TestServer, Error> {
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
        let url = format!("http://{addr}");
        let client = kuber_api::Client::new(kuber_api::config::Config::new(url.clone())).map_err(
            |source| Error::Client {
                url: url.clone(),
                source: Box::new(source),
            },
        )?;
        let store = Arc::new(store::Store::new(options));
        let (shutdown, stopped) = watch::channel(false);
        tokio::spawn(server::serve(listener, store.clone(), stopped));
        Ok(TestServer {
            url,
            addr,
            client,
            store,
            shutdown,
        })
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

    /// A kubeconfig (YAML) that points kubectl and other clients at this server.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kuber-testserver\n  cluster:\n    server: {url}\ncontexts:\n- name: kuber-testserver\n  context:\n    cluster: kuber-testserver\n    user: kuber-testserver\n    namespace: default\ncurrent-context: kuber-testserver\nusers:\n- name: kuber-testserver\n  user: {{}}\n",
            url = self.url
        )
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

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
