//! A [`Config`] from one context of a kubeconfig, checked as client-go's `ConfirmUsable` checks
//! it.

use std::path::Path;

use kuber_models::special::ByteString;

use super::kubeconfig::{AuthInfo, Cluster, Kubeconfig, NamedAuthInfo, NamedCluster};
use super::url::{ProxyUrlError, parse_proxy, redact};
use super::{Auth, Config, ConfigError, Env, ExecConfig, Impersonate, Secret, TlsConfig};

const EXEC_V1: &str = "client.authentication.k8s.io/v1";
const EXEC_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The cluster extension whose value exec plugins get as `spec.cluster.config`.
const EXEC_EXTENSION: &str = "client.authentication.k8s.io/exec";

impl Config {
    /// The config of `context`, or of the kubeconfig's `current-context` when `None`.
    ///
    /// The proxy is the cluster's `proxy-url`, else what `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`
    /// in the process environment select. Certificate files are read now; a `tokenFile` and exec
    /// plugins are used per request by [`Credentials`](super::Credentials).
    pub fn from_kubeconfig(
        kubeconfig: &Kubeconfig,
        context: Option<&str>,
    ) -> Result<Config, ConfigError> {
        Config::from_kubeconfig_with(kubeconfig, context, &Env::process())
    }

    /// [`from_kubeconfig`](Self::from_kubeconfig) reading proxy variables from `env`.
    pub fn from_kubeconfig_with(
        kubeconfig: &Kubeconfig,
        context: Option<&str>,
        env: &Env,
    ) -> Result<Config, ConfigError> {
        let named_context = match context {
            Some(name) => kubeconfig.context(name).ok_or_else(|| {
                ConfigError::kubeconfig(
                    kubeconfig.origin_label(),
                    format!("context {name:?} is not defined"),
                )
            })?,
            None => {
                let name = kubeconfig.current_context.as_deref().ok_or_else(|| {
                    ConfigError::kubeconfig(
                        kubeconfig.origin_label(),
                        "current-context is not set and no context was named",
                    )
                })?;
                kubeconfig.context(name).ok_or_else(|| {
                    let origin = kubeconfig
                        .current_context_origin
                        .as_deref()
                        .map_or_else(|| kubeconfig.origin_label(), |p| p.display().to_string());
                    ConfigError::kubeconfig(
                        origin,
                        format!("current-context names context {name:?}, which is not defined"),
                    )
                })?
            }
        };
        let ctx_name = &named_context.name;
        let ctx_origin = named_context.origin.display();
        let ctx = &named_context.context;

        let cluster_name = nonempty(&ctx.cluster).ok_or_else(|| {
            ConfigError::kubeconfig(
                &ctx_origin,
                format!("context {ctx_name:?} names no cluster"),
            )
        })?;
        let cluster = kubeconfig.cluster(cluster_name).ok_or_else(|| {
            ConfigError::kubeconfig(
                &ctx_origin,
                format!(
                    "context {ctx_name:?} names cluster {cluster_name:?}, which is not defined"
                ),
            )
        })?;
        let user = match nonempty(&ctx.user) {
            // Lenient where client-go is strict: no user means no credentials.
            None => None,
            Some(user_name) => Some(kubeconfig.user(user_name).ok_or_else(|| {
                ConfigError::kubeconfig(
                    &ctx_origin,
                    format!("context {ctx_name:?} names user {user_name:?}, which is not defined"),
                )
            })?),
        };

        let mut config = cluster_config(cluster, env)?;
        if let Some(user) = user {
            apply_user(&mut config, user, &cluster.cluster)?;
        }
        if let Some(ns) = nonempty(&ctx.namespace) {
            config.default_namespace = ns.to_owned();
        }
        Ok(config)
    }
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn nonempty_path(value: &Option<std::path::PathBuf>) -> Option<&Path> {
    value.as_deref().filter(|v| !v.as_os_str().is_empty())
}

fn cluster_config(named: &NamedCluster, env: &Env) -> Result<Config, ConfigError> {
    let name = &named.name;
    let origin = named.origin.display();
    let err =
        |message: String| ConfigError::kubeconfig(&origin, format!("cluster {name:?}: {message}"));
    let c = &named.cluster;

    let ca_pem = match (
        nonempty(&c.certificate_authority_data),
        nonempty_path(&c.certificate_authority),
    ) {
        (Some(_), Some(_)) => {
            return Err(err(
                "both certificate-authority-data and certificate-authority are set; keep one"
                    .into(),
            ));
        }
        (Some(data), None) => {
            Some(decode_base64(data).map_err(|e| err(format!("certificate-authority-data: {e}")))?)
        }
        (None, Some(path)) => Some(
            read_file(path)
                .map_err(|e| err(format!("certificate-authority {}: {e}", path.display())))?,
        ),
        (None, None) => None,
    };
    if c.insecure_skip_tls_verify && ca_pem.is_some() {
        return Err(err(
            "insecure-skip-tls-verify cannot be combined with a certificate authority".into(),
        ));
    }

    let server = nonempty(&c.server).ok_or_else(|| err("server is not set".into()))?;
    let server =
        normalize_server(server).map_err(|m| err(format!("server {:?}: {m}", redact(server))))?;

    let proxy = match nonempty(&c.proxy_url) {
        Some(url) => {
            parse_proxy(url).map_err(|e| {
                let shown = redact(url);
                match e {
                    ProxyUrlError::Malformed(m) => err(format!(
                        "proxy-url {shown:?} (at clusters[{}].cluster.proxy-url): {m}",
                        named.index
                    )),
                    ProxyUrlError::Unusable(m) => err(format!("proxy-url {shown:?}: {m}")),
                }
            })?;
            Some(url.to_owned())
        }
        None => match super::proxy::env_proxy(env, &server) {
            Some((variable, url)) => {
                parse_proxy(&url).map_err(|m| ConfigError::Environment {
                    variable: variable.into(),
                    message: format!("{:?}: {m}", redact(&url)),
                })?;
                Some(url)
            }
            None => None,
        },
    };

    let mut config = Config::new(server);
    config.tls = TlsConfig {
        ca_pem,
        insecure_skip_verify: c.insecure_skip_tls_verify,
        server_name: nonempty(&c.tls_server_name).map(str::to_owned),
        client_cert_pem: None,
        client_key_pem: None,
    };
    config.proxy = proxy;
    config.disable_compression = c.disable_compression;
    Ok(config)
}

/// Adds `https://` when the scheme is missing, checks the URL and drops a trailing `/`.
///
/// client-go's REST layer picks https for a bare `host:port` when TLS settings exist and http
/// otherwise; kubectl, reading a kubeconfig, always ends up with http and then leaves out the
/// CA and the user's credentials. https keeps every setting usable and never sends a credential
/// in the clear; a plain-http server needs `http://` spelled out.
fn normalize_server(server: &str) -> Result<String, String> {
    let server = server.trim();
    let full = if server.contains("://") {
        server.to_owned()
    } else {
        format!("https://{server}")
    };
    let uri: http::Uri = full.parse().map_err(|_| "not a valid URL".to_owned())?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => return Err("scheme must be https or http".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(full.trim_end_matches('/').to_owned())
}

fn apply_user(
    config: &mut Config,
    named: &NamedAuthInfo,
    cluster: &Cluster,
) -> Result<(), ConfigError> {
    let name = &named.name;
    let origin = named.origin.display();
    let err =
        |message: String| ConfigError::kubeconfig(&origin, format!("user {name:?}: {message}"));
    let u: &AuthInfo = &named.user;

    if let Some(provider) = &u.auth_provider {
        return Err(err(format!(
            "auth-provider {:?} is not supported (the in-tree providers were removed from \
             Kubernetes); use an exec credential plugin instead, e.g. gke-gcloud-auth-plugin or \
             kubelogin",
            provider.name
        )));
    }

    // Client certificate (may be combined with a token or a password).
    let cert = match (
        nonempty(&u.client_certificate_data),
        nonempty_path(&u.client_certificate),
    ) {
        (Some(_), Some(_)) => {
            return Err(err(
                "both client-certificate-data and client-certificate are set; keep one".into(),
            ));
        }
        (Some(data), None) => {
            Some(decode_base64(data).map_err(|e| err(format!("client-certificate-data: {e}")))?)
        }
        (None, Some(path)) => Some(
            read_file(path)
                .map_err(|e| err(format!("client-certificate {}: {e}", path.display())))?,
        ),
        (None, None) => None,
    };
    let key_data = u
        .client_key_data
        .as_ref()
        .map(Secret::expose)
        .filter(|k| !k.is_empty());
    let key = match (key_data, nonempty_path(&u.client_key)) {
        (Some(_), Some(_)) => {
            return Err(err(
                "both client-key-data and client-key are set; keep one".into()
            ));
        }
        // The decoder's message quotes a character of the input: not for a key.
        (Some(data), None) => Some(
            decode_base64(data).map_err(|_| err("client-key-data is not valid base64".into()))?,
        ),
        (None, Some(path)) => {
            Some(read_file(path).map_err(|e| err(format!("client-key {}: {e}", path.display())))?)
        }
        (None, None) => None,
    };
    match (cert, key) {
        (Some(cert), Some(key)) => {
            config.tls.client_cert_pem = Some(cert);
            config.tls.client_key_pem = Some(Secret::new(key));
        }
        (Some(_), None) => {
            return Err(err(
                "client-certificate is set without client-key(-data)".into()
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "client-key is set without client-certificate(-data)".into()
            ));
        }
        (None, None) => {}
    }

    // Header credentials: a token or a password, not both, as client-go requires.
    let token = u
        .token
        .as_ref()
        .map(Secret::expose)
        .filter(|t| !t.is_empty());
    let token_file = nonempty_path(&u.token_file);
    let password = u
        .password
        .as_ref()
        .map(Secret::expose)
        .filter(|p| !p.is_empty());
    let basic = nonempty(&u.username).is_some() || password.is_some();
    let mut methods = Vec::new();
    if token.is_some() || token_file.is_some() {
        methods.push("token");
    }
    if basic {
        methods.push("username/password");
    }
    if methods.len() > 1 {
        return Err(err(format!(
            "more than one authentication method is set ({}); keep one",
            methods.join(", ")
        )));
    }
    // client-go reads `tokenFile` for every request and sends `token` only while the file
    // cannot be read. An exec plugin is a last resort: with a token, a password or a client
    // certificate configured, client-go never runs it. Its section is still checked.
    let exec = match &u.exec {
        Some(exec) => {
            Some(exec_config(exec, named, cluster).map_err(|m| err(format!("exec: {m}")))?)
        }
        None => None,
    };
    config.auth = match (token, token_file) {
        (Some(token), Some(path)) => Auth::TokenFileWithFallback {
            path: path.to_path_buf(),
            fallback: Secret::new(token.clone()),
        },
        (None, Some(path)) => Auth::TokenFile(path.to_path_buf()),
        (Some(token), None) => Auth::Bearer(Secret::new(token.clone())),
        (None, None) if basic => Auth::Basic {
            username: u.username.clone().unwrap_or_default(),
            password: Secret::new(password.cloned().unwrap_or_default()),
        },
        (None, None) => match exec {
            Some(exec) if config.tls.client_cert_pem.is_none() => Auth::Exec(exec),
            _ => Auth::None,
        },
    };
    if u.exec.is_some() && !matches!(config.auth, Auth::Exec(_)) {
        tracing::debug!(user = %name, "static credentials set: exec plugin not used");
    }

    // Impersonation.
    let extra: Vec<(String, Vec<String>)> = u
        .impersonate_user_extra
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match nonempty(&u.impersonate) {
        Some(user) => {
            config.impersonate = Some(Impersonate {
                user: Some(user.to_owned()),
                uid: nonempty(&u.impersonate_uid).map(str::to_owned),
                groups: u.impersonate_groups.clone(),
                extra,
            });
        }
        None if nonempty(&u.impersonate_uid).is_some()
            || !u.impersonate_groups.is_empty()
            || !extra.is_empty() =>
        {
            return Err(err(
                "as-uid, as-groups or as-user-extra is set without as (the user to impersonate)"
                    .into(),
            ));
        }
        None => {}
    }
    Ok(())
}

fn exec_config(
    exec: &super::kubeconfig::ExecPlugin,
    named: &NamedAuthInfo,
    cluster: &Cluster,
) -> Result<ExecConfig, String> {
    let command = nonempty(&exec.command).ok_or("command is not set")?;
    let api_version = match nonempty(&exec.api_version) {
        Some(v @ (EXEC_V1 | EXEC_V1BETA1)) => v.to_owned(),
        Some(v) => {
            return Err(format!(
                "apiVersion {v:?} is not supported; use {EXEC_V1} or {EXEC_V1BETA1}"
            ));
        }
        None => return Err("apiVersion is not set".into()),
    };
    let interactive_mode = match nonempty(&exec.interactive_mode) {
        Some(m @ ("Never" | "IfAvailable" | "Always")) => Some(m.to_owned()),
        Some(m) => {
            return Err(format!(
                "interactiveMode {m:?} is not one of Never, IfAvailable, Always"
            ));
        }
        None => None,
    };
    let mut env = Vec::with_capacity(exec.env.len());
    for var in &exec.env {
        if var.name.is_empty() {
            return Err("an env entry has no name".into());
        }
        env.push((var.name.clone(), var.value.clone()));
    }
    let cluster_config = cluster
        .extensions
        .iter()
        .find(|e| e.name == EXEC_EXTENSION)
        .and_then(|e| e.extension.clone());
    Ok(ExecConfig {
        api_version,
        command: command.to_owned(),
        args: exec.args.clone(),
        env,
        base_dir: named
            .origin
            .parent()
            .and_then(|p| std::path::absolute(p).ok()),
        provide_cluster_info: exec.provide_cluster_info,
        interactive_mode,
        install_hint: nonempty(&exec.install_hint).map(str::to_owned),
        cluster_config,
    })
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    ByteString::from_base64(text.trim())
        .map(ByteString::into_bytes)
        .map_err(|e| e.to_string())
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read: {}", super::error::io_message(&e)))
}
