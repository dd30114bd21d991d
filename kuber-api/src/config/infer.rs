//! Choosing a config without being told: in-cluster, kubeconfig, or `kubectl proxy`.

use std::path::Path;

use super::in_cluster::in_cluster_env;
use super::proxy::redact_userinfo;
use super::{Auth, Config, ConfigError, Env, Kubeconfig};

impl Config {
    /// The config a program should use when given none:
    ///
    /// 1. in a pod (`KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` set), the service
    ///    account ([`Config::in_cluster`]); if that fails (no token mounted), the kubeconfig, and
    ///    the in-cluster error when there is none;
    /// 2. the kubeconfig kubectl would use ([`Kubeconfig::load_default`]), current context;
    /// 3. `kubectl proxy` on `http://localhost:8001` ([`Config::local_proxy`]), when no
    ///    kubeconfig exists or it is empty.
    ///
    /// A kubeconfig that exists but is broken is an error, not a reason to fall back. The choice
    /// is logged at debug level (never a credential).
    pub fn infer() -> Result<Config, ConfigError> {
        Config::infer_with(&Env::process(), Path::new("/"))
    }

    /// [`infer`](Self::infer) with variables from `env` and the service-account folder below
    /// `root`.
    pub fn infer_with(env: &Env, root: &Path) -> Result<Config, ConfigError> {
        let mut in_cluster_error = None;
        if in_cluster_env(env).is_some() {
            match Config::in_cluster_with(env, root) {
                Ok(config) => {
                    log_choice("in-cluster service account", &config);
                    return Ok(config);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "in-cluster config unusable; trying kubeconfig");
                    in_cluster_error = Some(e);
                }
            }
        }
        match Kubeconfig::load_default_with(env) {
            Ok(kubeconfig) if !kubeconfig.is_empty() => {
                let config = Config::from_kubeconfig_with(&kubeconfig, None, env)?;
                let context = kubeconfig.current_context.as_deref().unwrap_or_default();
                tracing::debug!(files = %kubeconfig.origin_label(), context, "using kubeconfig");
                log_choice("kubeconfig", &config);
                Ok(config)
            }
            Ok(_) | Err(ConfigError::NotFound { .. }) => {
                if let Some(e) = in_cluster_error {
                    return Err(e);
                }
                let config = Config::local_proxy();
                log_choice("no kubeconfig; kubectl proxy default", &config);
                Ok(config)
            }
            Err(e) => Err(e),
        }
    }
}

fn log_choice(source: &str, config: &Config) {
    let auth = match &config.auth {
        Auth::None => "none",
        Auth::Bearer(_) => "bearer token",
        Auth::TokenFile(_) => "token file",
        Auth::Basic { .. } => "basic",
        Auth::Exec(_) => "exec plugin",
    };
    tracing::debug!(
        source,
        server = %redact_userinfo(&config.server),
        namespace = %config.default_namespace,
        auth,
        client_cert = config.tls.client_cert_pem.is_some(),
        proxy = config.proxy.is_some(),
        "kuber config chosen"
    );
}
