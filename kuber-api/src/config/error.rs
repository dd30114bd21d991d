//! Why a config could not be loaded or a credential not obtained.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong loading a config or obtaining a credential.
///
/// Every message names the file (or plugin command) and the key or context at fault, and never
/// contains a secret: no token, password, key or plugin output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No kubeconfig file exists where kubectl would look (`KUBECONFIG`, else `~/.kube/config`).
    #[error("no kubeconfig found: {}", describe_tried(.tried))]
    NotFound {
        /// The files looked for, in order; empty when `HOME` is not set either.
        tried: Vec<PathBuf>,
    },
    /// `KUBECONFIG` is set, but none of the files it lists exists. kubectl warns and carries on
    /// without a config; [`Config::infer`](super::Config::infer) stops, as the caller named one.
    #[error("KUBECONFIG lists only files that do not exist: {}", join(.files))]
    KubeconfigFilesMissing { files: Vec<PathBuf> },
    /// A kubeconfig file cannot be read, is not valid YAML, or is inconsistent.
    #[error("kubeconfig {origin}: {message}")]
    Kubeconfig {
        /// The file at fault (several, joined with the path separator, when the problem is in the
        /// merged result, e.g. a context that no file defines).
        origin: String,
        message: String,
    },
    /// An environment variable the loaders read (`HTTPS_PROXY`) cannot be used.
    #[error("environment variable {variable}: {message}")]
    Environment { variable: String, message: String },
    /// The pod's service-account config cannot be used.
    #[error("in-cluster config: {message}")]
    InCluster { message: String },
    /// A `tokenFile` (or the service-account token) cannot be used.
    #[error("token file {}: {message}", .path.display())]
    TokenFile { path: PathBuf, message: String },
    /// An exec credential plugin failed or returned something unusable.
    #[error("exec plugin {command:?}: {message}")]
    Exec { command: String, message: String },
    /// A static credential cannot be sent, e.g. a token with characters HTTP headers do not allow.
    #[error("{what}: {message}")]
    Credential { what: String, message: String },
}

impl ConfigError {
    pub(crate) fn kubeconfig(origin: impl fmt::Display, message: impl Into<String>) -> ConfigError {
        ConfigError::Kubeconfig {
            origin: origin.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn token_file(path: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError::TokenFile {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn exec(command: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Exec {
            command: command.to_owned(),
            message: message.into(),
        }
    }

    /// Whether this is [`ConfigError::NotFound`]: no kubeconfig exists at all.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfigError::NotFound { .. })
    }
}

fn join(files: &[PathBuf]) -> String {
    let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    list.join(", ")
}

fn describe_tried(tried: &[PathBuf]) -> String {
    if tried.is_empty() {
        return "KUBECONFIG is not set and neither is HOME".into();
    }
    format!("none of {} exists", join(tried))
}

/// An I/O error as a short message; the common kinds read the same on every platform.
pub(crate) fn io_message(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}
