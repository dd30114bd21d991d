//! Where the API server is and how to talk to it: kubeconfig (as kubectl reads it), in-cluster
//! service-account config, or the `kubectl proxy` default.
//!
//! These types are what the client is built from; the loaders fill them in:
//!
//! - [`Config::infer`]: kubeconfig (as kubectl finds it), else in-cluster, else `kubectl proxy`.
//! - [`Kubeconfig`] and [`Config::from_kubeconfig`]: kubeconfig files, merged as kubectl does.
//! - [`Config::in_cluster`]: the pod's service account.
//! - [`Credentials`]: the `Authorization` header for each request (token files, exec plugins).
//!
//! Loading reads a few small local files once, so it is synchronous and works before a runtime
//! exists; [`Credentials`] runs for every request and is async.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

mod credentials;
mod de;
mod env;
mod error;
mod exec;
mod from_kubeconfig;
mod in_cluster;
mod infer;
pub mod kubeconfig;
pub(crate) mod proxy;
pub(crate) mod url;

pub use credentials::{ClientIdentity, Credentials};
pub use env::Env;
pub use error::ConfigError;
pub use exec::ExecClusterInfo;
pub use kubeconfig::Kubeconfig;
pub use proxy::{no_proxy_matches, proxy_from_env};

/// Everything the client needs to reach one cluster as one user.
///
/// `Debug` hides credentials, including a password in a proxy or server URL.
#[derive(Clone)]
pub struct Config {
    /// Base URL of the API server, e.g. `https://10.0.0.1:6443` or `http://localhost:8001`.
    pub server: String,
    pub tls: TlsConfig,
    pub auth: Auth,
    /// Proxy for every request (`proxy-url`, or `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` matches).
    pub proxy: Option<String>,
    pub impersonate: Option<Impersonate>,
    pub connect_timeout: Option<Duration>,
    /// Bound on a whole request; watches and followed logs use the server's `timeoutSeconds` instead.
    pub request_timeout: Option<Duration>,
    /// How long a watch or followed log may send nothing before it ends with the retryable
    /// [`Error::IdleTimeout`](crate::Error::IdleTimeout), so that a dead connection (no HTTP/2
    /// pings over HTTP/1.1) cannot hang it forever. 5 minutes by default: the API server sends
    /// watches with `allowWatchBookmarks` a bookmark every minute, so only a silent watch without
    /// bookmarks or a quiet log is cut (kube-rs cuts any read after 295 s). `None`: no bound.
    pub idle_timeout: Option<Duration>,
    pub retries: Retries,
    /// The cluster's `disable-compression`: answers are not asked for gzip. Off by default: the
    /// client offers gzip and decodes what comes gzip-encoded (the API server compresses answers
    /// over 128 KiB), as client-go does. Without the `gzip` feature nothing is offered whatever
    /// this says.
    pub disable_compression: bool,
    /// The namespace of the kubeconfig context or of the pod; `"default"` when neither names one.
    pub default_namespace: String,
    /// How built-in kinds go over the wire (client-go's `ContentConfig`): protobuf by default
    /// when kuber-api has its `protobuf` feature, else JSON.
    pub encoding: Encoding,
}

/// The encoding of requests and answers of built-in kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// `Accept: application/vnd.kubernetes.protobuf, application/json` for built-in kinds, and
    /// their create and replace bodies in protobuf (JSON when protobuf would drop members the
    /// models do not know). Custom resources, patches, tables and text stay JSON. Without the
    /// `protobuf` feature this is [`Encoding::Json`].
    #[cfg_attr(feature = "protobuf", default)]
    Protobuf,
    /// JSON only.
    #[cfg_attr(not(feature = "protobuf"), default)]
    Json,
}

impl Encoding {
    /// Whether calls of built-in kinds use protobuf: [`Encoding::Protobuf`] in a build with it.
    pub fn is_protobuf(self) -> bool {
        cfg!(feature = "protobuf") && self == Encoding::Protobuf
    }
}

impl Config {
    /// A config for `server` with no TLS settings, no credentials and the default timeouts.
    pub fn new(server: impl Into<String>) -> Config {
        Config {
            server: server.into(),
            tls: TlsConfig::default(),
            auth: Auth::None,
            proxy: None,
            impersonate: None,
            connect_timeout: Some(Duration::from_secs(30)),
            request_timeout: Some(Duration::from_secs(300)),
            idle_timeout: Some(Duration::from_secs(300)),
            retries: Retries::default(),
            disable_compression: false,
            default_namespace: "default".into(),
            encoding: Encoding::default(),
        }
    }

    /// The same config with another [`Encoding`]: `Encoding::Json` asks for and sends JSON only.
    pub fn with_encoding(mut self, encoding: Encoding) -> Config {
        self.encoding = encoding;
        self
    }

    /// `kubectl proxy`'s address: no TLS, no credentials.
    pub fn local_proxy() -> Config {
        Config::new("http://localhost:8001")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server", &url::redact(&self.server))
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field("proxy", &self.proxy.as_deref().map(url::redact))
            .field("impersonate", &self.impersonate)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retries", &self.retries)
            .field("disable_compression", &self.disable_compression)
            .field("default_namespace", &self.default_namespace)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// Like Kuber.jl's `set_retries`: how often to retry, and whether mutating calls are retried too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    pub count: u32,
    /// Off by default: only calls that change nothing (GET, HEAD, OPTIONS) are retried, and any
    /// call the server answers 429/5xx with `Retry-After`.
    pub all_apis: bool,
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            count: 5,
            all_apis: false,
        }
    }
}

#[derive(Clone, Default)]
pub struct TlsConfig {
    /// PEM bundle of the cluster CA (`certificate-authority-data` or the file's content), then
    /// the only trust anchor. `None`: the system's trust store, as Go reads it (`SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` when set, else the platform's), loaded once per process; the bundled
    /// Mozilla roots (webpki-roots) only when that store is missing or empty.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    /// `tls-server-name`: the name the server certificate is checked against, when it is not the
    /// host of `server`.
    pub server_name: Option<String>,
    /// Client certificate chain and key, PEM.
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret<Vec<u8>>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|c| format!("<{} bytes>", c.len())),
            )
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("server_name", &self.server_name)
            .field(
                "client_cert_pem",
                &self
                    .client_cert_pem
                    .as_ref()
                    .map(|c| format!("<{} bytes>", c.len())),
            )
            .field("client_key_pem", &self.client_key_pem)
            .finish()
    }
}

/// How requests authenticate.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(Secret<String>),
    /// `tokenFile`: read again when it changes (projected service-account tokens rotate).
    TokenFile(PathBuf),
    /// `tokenFile` and `token` both set: the file's content wins (it rotates), `token` is sent
    /// while the file cannot be read. client-go ranks them the same way.
    TokenFileWithFallback {
        path: PathBuf,
        fallback: Secret<String>,
    },
    Basic {
        username: String,
        password: Secret<String>,
    },
    /// A `client.authentication.k8s.io` exec plugin.
    Exec(ExecConfig),
}

/// `Debug` shows the names of `env` but neither their values nor `args`: both may hold
/// credentials (OIDC plugins take client secrets as arguments).
#[derive(Clone, PartialEq)]
pub struct ExecConfig {
    /// `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`.
    pub api_version: String,
    pub command: String,
    pub args: Vec<String>,
    /// Set for the plugin on top of this process's environment.
    pub env: Vec<(String, String)>,
    /// Folder relative commands are resolved against (the kubeconfig's).
    pub base_dir: Option<PathBuf>,
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable` or `Always`; `None` means `IfAvailable`. Plugins never get a
    /// terminal here, so `Always` fails.
    pub interactive_mode: Option<String>,
    /// `installHint`: shown when the command is not found.
    pub install_hint: Option<String>,
    /// The cluster's `client.authentication.k8s.io/exec` extension, passed to the plugin as
    /// `spec.cluster.config` when `provide_cluster_info` is set.
    pub cluster_config: Option<serde_json::Value>,
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(name, _)| format!("{name}=<redacted>"))
            .collect();
        f.debug_struct("ExecConfig")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &redacted_args(&self.args))
            .field("env", &env)
            .field("base_dir", &self.base_dir)
            .field("provide_cluster_info", &self.provide_cluster_info)
            .field("interactive_mode", &self.interactive_mode)
            .field("install_hint", &self.install_hint)
            .field(
                "cluster_config",
                &self.cluster_config.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

/// How `Debug` shows exec plugin arguments: only how many there are.
pub(crate) fn redacted_args(args: &[String]) -> impl fmt::Debug {
    struct Redacted(usize);
    impl fmt::Debug for Redacted {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                0 => f.write_str("[]"),
                n => write!(f, "<{n} redacted>"),
            }
        }
    }
    Redacted(args.len())
}

/// `--as`, `--as-group`, `--as-uid`, `--as-user-extra`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Impersonate {
    pub user: Option<String>,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: Vec<(String, Vec<String>)>,
}

/// A value that must never reach logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself; call only where it is used, never to print it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}
