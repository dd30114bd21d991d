//! The config of a pod's service account, as client-go's `rest.InClusterConfig` builds it.

use std::path::{Path, PathBuf};

use super::error::io_message;
use super::{Auth, Config, ConfigError, Env};

/// Where the kubelet mounts the service account, below the root folder.
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "var/run/secrets/kubernetes.io/serviceaccount";

impl Config {
    /// The pod's service account: the API server at `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT`, the token in
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token` (re-read as it rotates), the CA
    /// beside it, and the namespace from `POD_NAMESPACE` or the `namespace` file.
    pub fn in_cluster() -> Result<Config, ConfigError> {
        Config::in_cluster_with(&Env::process(), Path::new("/"))
    }

    /// [`in_cluster`](Self::in_cluster) with the variables from `env` and the service-account
    /// folder below `root` instead of `/`.
    pub fn in_cluster_with(env: &Env, root: &Path) -> Result<Config, ConfigError> {
        let (host, port) = in_cluster_env(env).ok_or_else(|| ConfigError::InCluster {
            message: "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set \
                      (is this a pod?)"
                .into(),
        })?;
        if port.parse::<u16>().is_err() {
            return Err(ConfigError::InCluster {
                message: format!("KUBERNETES_SERVICE_PORT {port:?} is not a port number"),
            });
        }
        // An IPv6 address needs brackets in a URL.
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        let dir = root.join(SERVICE_ACCOUNT_DIR);

        let token: PathBuf = dir.join("token");
        // Checked now so a pod without a mounted token fails here, not at the first request.
        match std::fs::metadata(&token) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(ConfigError::token_file(&token, "is not a file")),
            Err(e) => {
                return Err(ConfigError::token_file(
                    &token,
                    format!("cannot read: {}", io_message(&e)),
                ));
            }
        }

        let mut config = Config::new(format!("https://{host}:{port}"));
        config.auth = Auth::TokenFile(token);
        let ca = dir.join("ca.crt");
        match std::fs::read(&ca) {
            Ok(pem) => config.tls.ca_pem = Some(pem),
            // client-go logs this and goes on with the system roots.
            Err(e) => {
                let (path, error) = (ca.display(), io_message(&e));
                tracing::warn!(%path, %error, "in-cluster CA unreadable; using system roots");
            }
        }
        let namespace = env.var("POD_NAMESPACE").or_else(|| {
            std::fs::read_to_string(dir.join("namespace"))
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        });
        if let Some(ns) = namespace {
            config.default_namespace = ns;
        }
        Ok(config)
    }
}

/// Host and port when both in-cluster variables are set.
pub(crate) fn in_cluster_env(env: &Env) -> Option<(String, String)> {
    Some((
        env.var("KUBERNETES_SERVICE_HOST")?,
        env.var("KUBERNETES_SERVICE_PORT")?,
    ))
}
