//! The kubeconfig file (`apiVersion: v1`, `kind: Config`) and how kubectl finds and merges it.
//!
//! Fields follow client-go's `clientcmd/api/v1`. Unknown fields are ignored, `null` reads as
//! unset, and `extensions` are ignored except a cluster's `client.authentication.k8s.io/exec`
//! one, which exec plugins may ask for.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::de::struct_deserialize;
use super::error::io_message;
use super::{ConfigError, Env, Secret};
use crate::yaml;

/// A kubeconfig: one file, or several merged the way kubectl merges `KUBECONFIG`.
///
/// Every named entry remembers the file it came from (`origin`), and relative paths in it
/// (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`, and an exec
/// `command` containing a `/`) are already resolved against that file's folder.
#[derive(Clone, Debug, Default)]
pub struct Kubeconfig {
    pub clusters: Vec<NamedCluster>,
    pub contexts: Vec<NamedContext>,
    pub users: Vec<NamedAuthInfo>,
    pub current_context: Option<String>,
    pub preferences: Option<Preferences>,
    /// The files this was read from, highest precedence first; empty for text not from a file.
    pub files: Vec<PathBuf>,
    /// The file whose `current-context` is in effect.
    pub current_context_origin: Option<PathBuf>,
}

#[derive(Clone, Debug, Default)]
pub struct Preferences {
    pub colors: bool,
}

#[derive(Clone, Debug, Default)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: Cluster,
    /// The file this entry came from.
    pub origin: PathBuf,
    /// Its position in that file's `clusters` list, for errors that name the key at fault.
    pub index: usize,
}

/// `Debug` hides a password in `server` or `proxy-url`.
#[derive(Clone, Default)]
pub struct Cluster {
    pub server: Option<String>,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// A PEM file (absolute once loaded from a file).
    pub certificate_authority: Option<PathBuf>,
    /// Base64 of the PEM bundle, decoded when a config is built so errors can name it.
    pub certificate_authority_data: Option<String>,
    pub proxy_url: Option<String>,
    pub disable_compression: bool,
    pub extensions: Vec<NamedExtension>,
}

#[derive(Clone, Debug, Default)]
pub struct NamedExtension {
    pub name: String,
    pub extension: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default)]
pub struct NamedContext {
    pub name: String,
    pub context: Context,
    /// The file this entry came from.
    pub origin: PathBuf,
}

#[derive(Clone, Debug, Default)]
pub struct Context {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NamedAuthInfo {
    pub name: String,
    pub user: AuthInfo,
    /// The file this entry came from.
    pub origin: PathBuf,
}

/// A `users` entry. Secrets are [`Secret`]s, so `Debug` output hides them.
#[derive(Clone, Debug, Default)]
pub struct AuthInfo {
    pub client_certificate: Option<PathBuf>,
    /// Base64 of the PEM certificate chain.
    pub client_certificate_data: Option<String>,
    pub client_key: Option<PathBuf>,
    /// Base64 of the PEM private key.
    pub client_key_data: Option<Secret<String>>,
    pub token: Option<Secret<String>>,
    pub token_file: Option<PathBuf>,
    pub impersonate: Option<String>,
    pub impersonate_uid: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    /// Only the name is kept: the deprecated providers are not supported, and their `config`
    /// holds tokens.
    pub auth_provider: Option<AuthProvider>,
    pub exec: Option<ExecPlugin>,
}

#[derive(Clone, Debug, Default)]
pub struct AuthProvider {
    pub name: String,
}

/// A user's `exec` section: a `client.authentication.k8s.io` credential plugin. `Debug` hides
/// `args` and the values of `env`, which may be credentials.
#[derive(Clone, Default)]
pub struct ExecPlugin {
    pub api_version: Option<String>,
    /// Absolute once loaded from a file, if it contains a `/`; else looked up in `PATH`.
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<ExecEnvVar>,
    pub install_hint: Option<String>,
    pub provide_cluster_info: bool,
    pub interactive_mode: Option<String>,
}

/// `Debug` hides the value, which may be a credential.
#[derive(Clone, Default)]
pub struct ExecEnvVar {
    pub name: String,
    pub value: String,
}

// The field names as in client-go's `clientcmd/api/v1` (kebab-case, except `exec`'s camelCase).
struct_deserialize!(Kubeconfig {
    "clusters" => clusters: null_default,
    "contexts" => contexts: null_default,
    "users" => users: null_default,
    "current-context" => current_context: value,
    "preferences" => preferences: value,
});
struct_deserialize!(Preferences { "colors" => colors: null_default });
struct_deserialize!(NamedCluster {
    "name" => name: null_default,
    "cluster" => cluster: null_default,
});
struct_deserialize!(Cluster {
    "server" => server: value,
    "tls-server-name" => tls_server_name: value,
    "insecure-skip-tls-verify" => insecure_skip_tls_verify: null_default,
    "certificate-authority" => certificate_authority: value,
    "certificate-authority-data" => certificate_authority_data: value,
    "proxy-url" => proxy_url: value,
    "disable-compression" => disable_compression: null_default,
    "extensions" => extensions: null_default,
});
struct_deserialize!(NamedExtension {
    "name" => name: null_default,
    "extension" => extension: value,
});
struct_deserialize!(NamedContext {
    "name" => name: null_default,
    "context" => context: null_default,
});
struct_deserialize!(Context {
    "cluster" => cluster: value,
    "user" => user: value,
    "namespace" => namespace: value,
});
struct_deserialize!(NamedAuthInfo {
    "name" => name: null_default,
    "user" => user: null_default,
});
struct_deserialize!(AuthInfo {
    "client-certificate" => client_certificate: value,
    "client-certificate-data" => client_certificate_data: value,
    "client-key" => client_key: value,
    "client-key-data" => client_key_data: value,
    "token" => token: value,
    "tokenFile" => token_file: value,
    "as" => impersonate: value,
    "as-uid" => impersonate_uid: value,
    "as-groups" => impersonate_groups: null_default,
    "as-user-extra" => impersonate_user_extra: null_default,
    "username" => username: value,
    "password" => password: value,
    "auth-provider" => auth_provider: value,
    "exec" => exec: value,
});
struct_deserialize!(AuthProvider { "name" => name: null_default });
struct_deserialize!(ExecPlugin {
    "apiVersion" => api_version: value,
    "command" => command: value,
    "args" => args: null_default,
    "env" => env: null_default,
    "installHint" => install_hint: value,
    "provideClusterInfo" => provide_cluster_info: null_default,
    "interactiveMode" => interactive_mode: value,
});
struct_deserialize!(ExecEnvVar {
    "name" => name: null_default,
    "value" => value: null_default,
});

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |url: &Option<String>| url.as_deref().map(super::url::redact);
        f.debug_struct("Cluster")
            .field("server", &redact(&self.server))
            .field("tls_server_name", &self.tls_server_name)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("certificate_authority", &self.certificate_authority)
            .field(
                "certificate_authority_data",
                &self
                    .certificate_authority_data
                    .as_ref()
                    .map(|d| format!("<{} bytes>", d.len())),
            )
            .field("proxy_url", &redact(&self.proxy_url))
            .field("disable_compression", &self.disable_compression)
            .field("extensions", &self.extensions)
            .finish()
    }
}

impl std::fmt::Debug for ExecPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecPlugin")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &super::redacted_args(&self.args))
            .field("env", &self.env)
            .field("install_hint", &self.install_hint)
            .field("provide_cluster_info", &self.provide_cluster_info)
            .field("interactive_mode", &self.interactive_mode)
            .finish()
    }
}

impl std::fmt::Debug for ExecEnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}=<redacted>", self.name)
    }
}

impl Kubeconfig {
    /// Loads the kubeconfig kubectl would use: the files listed in `KUBECONFIG` (separated by `:`,
    /// `;` on Windows), merged; else `~/.kube/config`.
    ///
    /// Files of the list that do not exist are skipped; if none exists, or the default file does
    /// not, the error is [`ConfigError::NotFound`].
    pub fn load_default() -> Result<Kubeconfig, ConfigError> {
        Kubeconfig::load_default_with(&Env::process())
    }

    /// [`load_default`](Self::load_default) reading `KUBECONFIG` and `HOME` from `env`.
    pub fn load_default_with(env: &Env) -> Result<Kubeconfig, ConfigError> {
        match env.var("KUBECONFIG") {
            Some(list) => {
                let paths: Vec<PathBuf> = std::env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect();
                Kubeconfig::from_files(&paths)
            }
            None => {
                let path = env
                    .home_dir()
                    .ok_or(ConfigError::NotFound { tried: Vec::new() })?
                    .join(".kube")
                    .join("config");
                Kubeconfig::from_files(std::slice::from_ref(&path))
            }
        }
    }

    /// Reads and merges `paths` in precedence order, as kubectl merges `KUBECONFIG`: for
    /// clusters, contexts and users the first file to define a name wins (the whole entry; later
    /// files add nothing to it), and `current-context` comes from the first file that sets it.
    /// Missing files are skipped (a path listed twice is read once); if none exists the error is
    /// [`ConfigError::NotFound`].
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<Kubeconfig, ConfigError> {
        let mut seen = HashSet::new();
        let mut merged: Option<Kubeconfig> = None;
        let mut tried = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if !seen.insert(path.to_path_buf()) {
                continue;
            }
            tried.push(path.to_path_buf());
            let text = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(read_error(path, &e)),
            };
            let config = Kubeconfig::from_bytes(&text, path)?;
            merged = Some(match merged {
                None => config,
                Some(m) => m.merge(config),
            });
        }
        merged.ok_or(ConfigError::NotFound { tried })
    }

    /// Reads one file; a missing file is an error (not [`ConfigError::NotFound`], which means no
    /// default file exists).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Kubeconfig, ConfigError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| read_error(path, &e))?;
        Kubeconfig::from_bytes(&bytes, path)
    }

    /// Parses YAML (or JSON) text. `origin` names the text in errors, and relative paths in it
    /// are resolved against its folder (the current folder for a bare name).
    pub fn from_yaml(text: &str, origin: impl AsRef<Path>) -> Result<Kubeconfig, ConfigError> {
        let origin = origin.as_ref();
        let mut config = parse(text, origin)?;
        config.files = vec![origin.to_path_buf()];
        if config
            .current_context
            .as_deref()
            .is_some_and(|c| !c.is_empty())
        {
            config.current_context_origin = Some(origin.to_path_buf());
        } else {
            config.current_context = None;
        }
        let base = base_dir(origin);
        for (index, c) in config.clusters.iter_mut().enumerate() {
            c.origin = origin.to_path_buf();
            c.index = index;
            resolve(&mut c.cluster.certificate_authority, &base);
        }
        for c in &mut config.contexts {
            c.origin = origin.to_path_buf();
        }
        for u in &mut config.users {
            u.origin = origin.to_path_buf();
            let user = &mut u.user;
            resolve(&mut user.client_certificate, &base);
            resolve(&mut user.client_key, &base);
            resolve(&mut user.token_file, &base);
            if let Some(exec) = &mut user.exec {
                // A bare name is looked up in PATH; only a path is relative to the file.
                if let Some(cmd) = exec
                    .command
                    .as_mut()
                    .filter(|c| c.contains('/') || (cfg!(windows) && c.contains('\\')))
                {
                    let path = Path::new(cmd.as_str());
                    if path.is_relative() {
                        *cmd = base.join(path).to_string_lossy().into_owned();
                    }
                }
            }
        }
        // Within one file the first entry of a name counts, as across files.
        dedup_by_name(&mut config.clusters, |c| &c.name);
        dedup_by_name(&mut config.contexts, |c| &c.name);
        dedup_by_name(&mut config.users, |u| &u.name);
        Ok(config)
    }

    fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Kubeconfig, ConfigError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            ConfigError::kubeconfig(
                origin.display(),
                format!("not UTF-8 text (byte {})", e.valid_up_to()),
            )
        })?;
        Kubeconfig::from_yaml(text, origin)
    }

    /// Merges `lower` under `self`: `self`'s entries and `current-context` win.
    pub fn merge(mut self, lower: Kubeconfig) -> Kubeconfig {
        fn add<T>(high: &mut Vec<T>, low: Vec<T>, name: impl Fn(&T) -> &str) {
            let names: HashSet<String> = high.iter().map(|t| name(t).to_owned()).collect();
            high.extend(low.into_iter().filter(|t| !names.contains(name(t))));
        }
        add(&mut self.clusters, lower.clusters, |c| &c.name);
        add(&mut self.contexts, lower.contexts, |c| &c.name);
        add(&mut self.users, lower.users, |u| &u.name);
        if self.current_context.is_none() {
            self.current_context = lower.current_context;
            self.current_context_origin = lower.current_context_origin;
        }
        if self.preferences.is_none() {
            self.preferences = lower.preferences;
        }
        self.files.extend(lower.files);
        self
    }

    pub fn cluster(&self, name: &str) -> Option<&NamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&NamedAuthInfo> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Whether nothing is defined: no clusters, contexts, users or current context.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
            && self.contexts.is_empty()
            && self.users.is_empty()
            && self.current_context.is_none()
    }

    /// The files, joined with the platform's path separator, for errors about the merged whole.
    pub(crate) fn origin_label(&self) -> String {
        if self.files.is_empty() {
            return "<none>".into();
        }
        let sep = if cfg!(windows) { ";" } else { ":" };
        self.files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(sep)
    }
}

fn read_error(path: &Path, e: &std::io::Error) -> ConfigError {
    ConfigError::kubeconfig(path.display(), format!("cannot read: {}", io_message(e)))
}

fn parse(text: &str, origin: &Path) -> Result<Kubeconfig, ConfigError> {
    // Go's YAML reader keeps the last of duplicate keys.
    let options = yaml::Options {
        duplicate_keys: yaml::DuplicateKeys::LastWins,
    };
    // The messages name positions and expected types, never the values.
    let invalid = |message: String| ConfigError::kubeconfig(origin.display(), message);
    let document =
        yaml::Document::parse(text, &options).map_err(|e| invalid(format!("invalid YAML: {e}")))?;
    // The error's path names the key at fault: "invalid YAML at users[0].user.exec: …".
    document.deserialize().map_err(|e| match e.path() {
        Some(_) => invalid(format!("invalid YAML {e}")),
        None => invalid(format!("invalid YAML: {e}")),
    })
}

fn base_dir(origin: &Path) -> PathBuf {
    let parent = origin.parent().unwrap_or(Path::new(""));
    std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
}

fn resolve(path: &mut Option<PathBuf>, base: &Path) {
    match path {
        Some(p) if p.as_os_str().is_empty() => *path = None,
        Some(p) if p.is_relative() => *p = base.join(&*p),
        _ => {}
    }
}

fn dedup_by_name<T>(items: &mut Vec<T>, name: impl Fn(&T) -> &str) {
    let mut seen = HashSet::new();
    items.retain(|t| seen.insert(name(t).to_owned()));
}

#[cfg(test)]
mod yaml_tests {
    use serde_json::json;

    use super::Kubeconfig;

    const KUBECONFIG: &str = r#"# written by kubectl, then edited
apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://127.0.0.1:6443   # the local one
    extensions: &ext
    - name: client.authentication.k8s.io/exec
      extension: {audience: 'api', "x": [1, 2.5, true, null]}
  name: kind-kind
- name: "staging"
  cluster:
    server: 'https://staging:443'
    insecure-skip-tls-verify: true
    extensions: *ext
contexts:
- context: &ctx
    cluster: kind-kind
    user: kind-kind
    namespace: 123
  name: kind-kind
- name: other
  context:
    <<: *ctx
    namespace: "default"
current-context: kind-kind
users:
- name: kind-kind
  user:
    token: >-
      abc.def
      ghi
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /usr/bin/helper
      args: []
      env:
      - {name: A, value: "1"}
      - name: B
        value: |
          two
          lines
      interactiveMode: Never
"#;

    #[test]
    fn reads_a_kubectl_style_kubeconfig() {
        let k = Kubeconfig::from_yaml(KUBECONFIG, "k.yaml").unwrap();
        assert_eq!(k.current_context.as_deref(), Some("kind-kind"));
        let kind = &k.cluster("kind-kind").unwrap().cluster;
        assert_eq!(kind.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(
            kind.extensions[0].extension,
            Some(json!({"audience": "api", "x": [1, 2.5, true, null]}))
        );
        let staging = &k.cluster("staging").unwrap().cluster;
        assert!(staging.insecure_skip_tls_verify);
        assert_eq!(staging.extensions.len(), 1, "alias expanded");
        // A plain 123 where a string is wanted is the string "123".
        let ctx = &k.context("kind-kind").unwrap().context;
        assert_eq!(ctx.namespace.as_deref(), Some("123"));
        // Merged in from the anchor, the explicit key winning.
        let other = &k.context("other").unwrap().context;
        assert_eq!(other.cluster.as_deref(), Some("kind-kind"));
        assert_eq!(other.namespace.as_deref(), Some("default"));
        let user = &k.user("kind-kind").unwrap().user;
        assert_eq!(user.token.as_ref().unwrap().expose(), "abc.def ghi");
        let exec = user.exec.as_ref().unwrap();
        assert!(exec.args.is_empty());
        assert_eq!(exec.env[1].value, "two\nlines\n");
    }
}
