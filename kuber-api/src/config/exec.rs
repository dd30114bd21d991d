//! Running a `client.authentication.k8s.io` exec credential plugin once.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kuber_models::special::{ByteString, Time};

use super::de::struct_deserialize;
use super::{Config, ConfigError, ExecConfig, Secret};

/// What an exec plugin learns about the cluster when it sets `provideClusterInfo`.
///
/// `proxy_url` reaches the plugin without user info: the proxy's credentials are the client's.
/// `Debug` hides them too.
#[derive(Clone, Default, PartialEq)]
pub struct ExecClusterInfo {
    pub server: String,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// Sent base64-encoded as `certificate-authority-data`.
    pub ca_pem: Option<Vec<u8>>,
    pub proxy_url: Option<String>,
}

impl ExecClusterInfo {
    pub fn from_config(config: &Config) -> ExecClusterInfo {
        ExecClusterInfo {
            server: config.server.clone(),
            tls_server_name: config.tls.server_name.clone(),
            insecure_skip_tls_verify: config.tls.insecure_skip_verify,
            ca_pem: config.tls.ca_pem.clone(),
            proxy_url: config.proxy.as_deref().and_then(super::url::strip_userinfo),
        }
    }
}

impl fmt::Debug for ExecClusterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecClusterInfo")
            .field("server", &super::url::redact(&self.server))
            .field("tls_server_name", &self.tls_server_name)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|c| format!("<{} bytes>", c.len())),
            )
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(super::url::redact),
            )
            .finish()
    }
}

/// What a plugin returned.
pub(crate) struct ExecOutput {
    pub token: Option<Secret<String>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret<Vec<u8>>>,
    pub expires_at: Option<SystemTime>,
}

#[derive(Default)]
struct ExecCredential {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<ExecCredentialStatus>,
}

#[derive(Default)]
struct ExecCredentialStatus {
    expiration_timestamp: Option<String>,
    token: Option<Secret<String>>,
    client_certificate_data: Option<String>,
    client_key_data: Option<Secret<String>>,
}

struct_deserialize!(ExecCredential {
    "apiVersion" => api_version: value,
    "kind" => kind: value,
    "status" => status: value,
});
struct_deserialize!(ExecCredentialStatus {
    "expirationTimestamp" => expiration_timestamp: value,
    "token" => token: value,
    "clientCertificateData" => client_certificate_data: value,
    "clientKeyData" => client_key_data: value,
});

pub(crate) async fn run(
    exec: &ExecConfig,
    cluster: Option<&ExecClusterInfo>,
    timeout: Duration,
) -> Result<ExecOutput, ConfigError> {
    let fail = |message: String| ConfigError::exec(&exec.command, message);
    if exec.interactive_mode.as_deref() == Some("Always") {
        return Err(fail(
            "interactiveMode is Always, but plugins run here without a terminal".into(),
        ));
    }

    let program = program_path(exec);
    let mut command = std::process::Command::new(&program);
    command
        .args(&exec.args)
        .envs(exec.env.iter().map(|(k, v)| (k, v)))
        .env("KUBERNETES_EXEC_INFO", exec_info(exec, cluster))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // The user's stderr, as client-go does: login prompts and instructions must be seen,
        // and what a plugin prints there may be secret, so errors never quote it.
        .stderr(Stdio::inherit());
    let mut child = spawn(&mut command).await.map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => match &exec.install_hint {
                Some(hint) => format!("command not found; {}", hint.trim()),
                None => "command not found".into(),
            },
            std::io::ErrorKind::PermissionDenied => "cannot be run: permission denied".into(),
            _ => format!("cannot be started: {e}"),
        })
    })?;
    let stdout = child.stdout.take();
    // From here a timed-out or abandoned run kills the plugin.
    let mut running = Running(Some(child));
    let deadline = tokio::time::Instant::now() + timeout;
    let timed_out = || fail(format!("did not finish within {} s", timeout.as_secs_f64()));

    // std's pipes block, so stdout is read on a blocking thread; it ends when the plugin closes
    // stdout (by exiting, or killed). tokio's `process` feature would do the same with a signal
    // driver, at a cost in every build (issue 10).
    let read = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        match stdout {
            Some(mut pipe) => std::io::Read::read_to_end(&mut pipe, &mut out).map(|_| out),
            None => Ok(out),
        }
    });
    let stdout = match tokio::time::timeout_at(deadline, read).await {
        Ok(Ok(Ok(out))) => out,
        Ok(Ok(Err(e))) => return Err(fail(format!("failed while running: {e}"))),
        Ok(Err(e)) => return Err(fail(format!("failed while running: {e}"))),
        Err(_) => return Err(timed_out()),
    };
    // Its stdout closed, the plugin is ending: poll for its status, briefly.
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match running.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if tokio::time::Instant::now() >= deadline => return Err(timed_out()),
            Ok(None) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(fail(format!("failed while running: {e}"))),
        }
    };
    if !status.success() {
        // stdout is never quoted either: it may hold a token.
        return Err(fail(match status.code() {
            Some(code) => format!("exited with status {code} (its messages are on stderr)"),
            None => "was killed by a signal".into(),
        }));
    }
    parse_output(exec, &stdout).map_err(fail)
}

/// A command containing a `/` is a path, relative to the kubeconfig's folder; a bare name is
/// looked up in `PATH`.
fn program_path(exec: &ExecConfig) -> PathBuf {
    let command = PathBuf::from(&exec.command);
    match &exec.base_dir {
        Some(base) if command.is_relative() && command.components().count() > 1 => {
            base.join(command)
        }
        _ => command,
    }
}

/// A plugin's process until its status is read: dropped early (timeout, error, or the caller's
/// future abandoned), it kills the plugin, and reaps it.
struct Running(Option<std::process::Child>);

impl Running {
    fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        let Some(child) = self.0.as_mut() else {
            return Err(std::io::Error::other("already reaped"));
        };
        let status = child.try_wait()?;
        if status.is_some() {
            self.0 = None;
        }
        Ok(status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            // Reaped at once if SIGKILL was quick, else on a thread: no zombie, no blocking here.
            if !matches!(child.try_wait(), Ok(Some(_))) {
                std::thread::spawn(move || child.wait());
            }
        }
    }
}

/// Spawns, retrying briefly while the executable is busy: a script just written by this process
/// (or being replaced) can be open for writing in a child forked by another thread.
async fn spawn(command: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 5 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            result => return result,
        }
    }
}

/// `KUBERNETES_EXEC_INFO`: an ExecCredential with the spec the plugin may read.
fn exec_info(exec: &ExecConfig, cluster: Option<&ExecClusterInfo>) -> String {
    let mut spec = serde_json::Map::new();
    spec.insert("interactive".into(), false.into());
    if let (true, Some(c)) = (exec.provide_cluster_info, cluster) {
        let mut info = serde_json::Map::new();
        info.insert("server".into(), c.server.clone().into());
        if let Some(name) = &c.tls_server_name {
            info.insert("tls-server-name".into(), name.clone().into());
        }
        if c.insecure_skip_tls_verify {
            info.insert("insecure-skip-tls-verify".into(), true.into());
        }
        if let Some(ca) = &c.ca_pem {
            info.insert(
                "certificate-authority-data".into(),
                ByteString(ca.clone()).to_base64().into(),
            );
        }
        // A URL that does not parse is left out: where its password ends is unknown.
        if let Some(proxy) = c.proxy_url.as_deref().and_then(super::url::strip_userinfo) {
            info.insert("proxy-url".into(), proxy.into());
        }
        if let Some(config) = &exec.cluster_config {
            info.insert("config".into(), config.clone());
        }
        spec.insert("cluster".into(), info.into());
    }
    serde_json::json!({
        "apiVersion": exec.api_version,
        "kind": "ExecCredential",
        "spec": spec,
    })
    .to_string()
}

fn parse_output(exec: &ExecConfig, stdout: &[u8]) -> Result<ExecOutput, String> {
    // serde_json's messages can quote values; only the position is reported.
    let credential: ExecCredential = serde_json::from_slice(stdout).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax => "is not valid JSON",
            serde_json::error::Category::Eof => "is truncated or empty JSON",
            serde_json::error::Category::Data => "is not an ExecCredential",
            serde_json::error::Category::Io => "cannot be read",
        };
        format!("output {what} (line {}, column {})", e.line(), e.column())
    })?;
    match credential.api_version.as_deref() {
        Some(v) if v == exec.api_version => {}
        Some(v) => {
            return Err(format!(
                "returned apiVersion {v:?}, but the kubeconfig asks for {:?}",
                exec.api_version
            ));
        }
        None => return Err("output has no apiVersion".into()),
    }
    if let Some(kind) = credential
        .kind
        .as_deref()
        .filter(|k| *k != "ExecCredential")
    {
        return Err(format!("returned kind {kind:?}, not ExecCredential"));
    }
    let status = credential.status.ok_or("output has no status")?;
    let token = status.token.filter(|t| !t.expose().is_empty());
    let cert = status.client_certificate_data.filter(|c| !c.is_empty());
    let key = status.client_key_data.filter(|k| !k.expose().is_empty());
    if cert.is_some() != key.is_some() {
        return Err("returned only one of clientCertificateData and clientKeyData".into());
    }
    if token.is_none() && cert.is_none() {
        return Err("returned neither status.token nor a client certificate".into());
    }
    let expires_at = match status
        .expiration_timestamp
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(text) => {
            let (secs, nanos) = Time::from(text).unix_timestamp().map_err(|_| {
                format!("status.expirationTimestamp {text:?} is not an RFC 3339 time")
            })?;
            // Times before 1970 are long past: treat them as the epoch.
            Some(match u64::try_from(secs) {
                Ok(secs) => UNIX_EPOCH + Duration::new(secs, nanos),
                Err(_) => UNIX_EPOCH,
            })
        }
    };
    Ok(ExecOutput {
        token,
        client_cert_pem: cert.map(String::into_bytes),
        client_key_pem: key.map(|k| Secret::new(k.expose().clone().into_bytes())),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(api_version: &str) -> ExecConfig {
        ExecConfig {
            api_version: api_version.into(),
            command: "plugin".into(),
            args: vec![],
            env: vec![],
            base_dir: None,
            provide_cluster_info: true,
            interactive_mode: None,
            install_hint: None,
            cluster_config: Some(serde_json::json!({"audience": "x"})),
        }
    }

    #[test]
    fn exec_info_carries_cluster() {
        let cluster = ExecClusterInfo {
            server: "https://c:6443".into(),
            tls_server_name: Some("name".into()),
            insecure_skip_tls_verify: false,
            ca_pem: Some(b"PEM".to_vec()),
            proxy_url: None,
        };
        let info: serde_json::Value = serde_json::from_str(&exec_info(
            &exec("client.authentication.k8s.io/v1"),
            Some(&cluster),
        ))
        .unwrap();
        assert_eq!(
            info,
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "spec": {
                    "interactive": false,
                    "cluster": {
                        "server": "https://c:6443",
                        "tls-server-name": "name",
                        "certificate-authority-data": "UEVN",
                        "config": {"audience": "x"},
                    },
                },
            })
        );
    }

    #[test]
    fn parse_errors_never_quote_output() {
        let e = exec("client.authentication.k8s.io/v1");
        let bad = br#"{"apiVersion":"client.authentication.k8s.io/v1","status":"s3cr3t"}"#;
        let msg = parse_output(&e, bad).err().unwrap();
        assert!(!msg.contains("s3cr3t"), "{msg}");
        assert!(msg.starts_with("output is not an ExecCredential"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_ignored_and_duplicates_refused() {
        let e = exec("client.authentication.k8s.io/v1");
        let ok = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"x":[1]},
            "status":{"token":"t","future":null}}"#;
        let out = parse_output(&e, ok).ok().unwrap();
        assert_eq!(out.token.unwrap().expose(), "t");
        let twice = br#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"a","token":"b"}}"#;
        let msg = parse_output(&e, twice).err().unwrap();
        assert!(msg.starts_with("output is not an ExecCredential"), "{msg}");
        let null = br#"{"apiVersion":"client.authentication.k8s.io/v1","status":null}"#;
        assert_eq!(
            parse_output(&e, null).err().unwrap(),
            "output has no status"
        );
        let list = br#"["client.authentication.k8s.io/v1"]"#;
        let msg = parse_output(&e, list).err().unwrap();
        assert!(msg.starts_with("output is not an ExecCredential"), "{msg}");
    }
}
