//! Choosing a config without being told: kubeconfig, in-cluster, or `kubectl proxy`.

use std::path::Path;

use super::in_cluster::in_cluster_env;
use super::url::redact;
use super::{Auth, Config, ConfigError, Env, Kubeconfig};

impl Config {
    /// The config a program should use when given none, in the order kubectl and kube-rs use:
    ///
    /// 1. the kubeconfig kubectl would use ([`Kubeconfig::load_default`]: the files in
    ///    `KUBECONFIG`, else `~/.kube/config`), current context;
    /// 2. in a pod (`KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` set), the service
    ///    account ([`Config::in_cluster`]);
    /// 3. `kubectl proxy` on `http://localhost:8001` ([`Config::local_proxy`]).
    ///
    /// A kubeconfig that is empty counts as none. A kubeconfig that exists but is broken is an
    /// error, and so is a `KUBECONFIG` listing only files that do not exist
    /// ([`ConfigError::KubeconfigFilesMissing`]; kubectl warns and goes on without one): the
    /// caller named a config, so nothing else is used in its place. The choice is logged at
    /// debug level (never a credential).
    pub fn infer() -> Result<Config, ConfigError> {
        Config::infer_with(&Env::process(), Path::new("/"))
    }

    /// [`infer`](Self::infer) with variables from `env` and the service-account folder below
    /// `root`.
    pub fn infer_with(env: &Env, root: &Path) -> Result<Config, ConfigError> {
        match Kubeconfig::load_default_with(env) {
            Ok(kubeconfig) if !kubeconfig.is_empty() => {
                let config = Config::from_kubeconfig_with(&kubeconfig, None, env)?;
                let context = kubeconfig.current_context.as_deref().unwrap_or_default();
                tracing::debug!(files = %kubeconfig.origin_label(), context, "using kubeconfig");
                log_choice("kubeconfig", &config);
                return Ok(config);
            }
            Err(ConfigError::NotFound { tried })
                if !tried.is_empty() && env.var("KUBECONFIG").is_some() =>
            {
                return Err(ConfigError::KubeconfigFilesMissing { files: tried });
            }
            Ok(_) | Err(ConfigError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        if in_cluster_env(env).is_some() {
            let config = Config::in_cluster_with(env, root)?;
            log_choice("in-cluster service account", &config);
            return Ok(config);
        }
        let config = Config::local_proxy();
        log_choice("no kubeconfig; kubectl proxy default", &config);
        Ok(config)
    }
}

fn log_choice(source: &str, config: &Config) {
    let auth = match &config.auth {
        Auth::None => "none",
        Auth::Bearer(_) => "bearer token",
        Auth::TokenFile(_) | Auth::TokenFileWithFallback { .. } => "token file",
        Auth::Basic { .. } => "basic",
        Auth::Exec(_) => "exec plugin",
    };
    tracing::debug!(
        source,
        server = %redact(&config.server),
        namespace = %config.default_namespace,
        auth,
        client_cert = config.tls.client_cert_pem.is_some(),
        proxy = config.proxy.is_some(),
        "kuber config chosen"
    );
}
