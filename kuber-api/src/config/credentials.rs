//! The runtime authenticator: the `Authorization` header for each request, with token files
//! re-read as they rotate and exec-plugin tokens cached until they expire.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use kuber_models::special::ByteString;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::io_message;
use super::exec::{self, ExecClusterInfo, ExecOutput};
use super::{Auth, Config, ConfigError, ExecConfig, Secret};

/// How long a token file's content is trusted without re-reading, even if its mtime is unchanged
/// (client-go re-reads every minute too).
const TOKEN_FILE_MAX_AGE: Duration = Duration::from_secs(60);
/// Exec tokens are refreshed this long before they expire, so a request does not carry a token
/// that lapses in flight.
const EXEC_EXPIRY_MARGIN: Duration = Duration::from_secs(10);
const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// A client certificate and key an exec plugin returned, PEM.
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Secret<Vec<u8>>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &self.key_pem)
            .finish()
    }
}

/// The authenticator the client asks for every request's `Authorization` header.
///
/// Cheap to clone (clones share the caches) and `Send + Sync`. Bearer and basic credentials are
/// fixed; a token file is re-read when its mtime (or size) changes and at least every 60 s; an
/// exec plugin runs once for all concurrent callers and its token is kept until shortly before
/// `expirationTimestamp` (or, without one, until [`invalidate`](Self::invalidate)).
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    kind: Kind,
    /// Bumped by `invalidate` (under the cache's lock); a cache entry from an older generation
    /// is stale.
    generation: AtomicU64,
}

enum Kind {
    None,
    Bearer(Secret<String>),
    Basic {
        username: String,
        password: Secret<String>,
    },
    TokenFile {
        path: PathBuf,
        /// The kubeconfig's inline `token`, sent while the file cannot be read.
        fallback: Option<Secret<String>>,
        cache: Mutex<Option<FileToken>>,
    },
    Exec(Box<ExecState>),
}

struct ExecState {
    config: ExecConfig,
    cluster: Option<ExecClusterInfo>,
    timeout_ms: AtomicU64,
    cache: Mutex<Option<Arc<ExecCached>>>,
}

struct FileToken {
    header: HeaderValue,
    stamp: FileStamp,
    read_at: Instant,
    generation: u64,
}

/// What tells a rewritten token file apart: mtime, size, and (unix) inode, which changes when a
/// projected token's symlink is swapped.
#[derive(Clone, Debug, PartialEq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    ino: u64,
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            ino,
        }
    }
}

struct ExecCached {
    output: ExecOutput,
    header: Option<HeaderValue>,
    /// When to run the plugin again; `None`: only after `invalidate`.
    refresh_at: Option<SystemTime>,
    generation: u64,
}

impl Credentials {
    /// The authenticator for `auth`. `cluster` is what an exec plugin with
    /// `provideClusterInfo` is told; [`from_config`](Self::from_config) fills it in.
    pub fn new(auth: &Auth, cluster: Option<ExecClusterInfo>) -> Credentials {
        let kind = match auth {
            Auth::None => Kind::None,
            Auth::Bearer(token) => Kind::Bearer(token.clone()),
            Auth::Basic { username, password } => Kind::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            Auth::TokenFile(path) => Kind::TokenFile {
                path: path.clone(),
                fallback: None,
                cache: Mutex::new(None),
            },
            Auth::TokenFileWithFallback { path, fallback } => Kind::TokenFile {
                path: path.clone(),
                fallback: Some(fallback.clone()),
                cache: Mutex::new(None),
            },
            Auth::Exec(config) => Kind::Exec(Box::new(ExecState {
                config: config.clone(),
                cluster,
                timeout_ms: AtomicU64::new(DEFAULT_EXEC_TIMEOUT.as_millis() as u64),
                cache: Mutex::new(None),
            })),
        };
        Credentials {
            inner: Arc::new(Inner {
                kind,
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// The authenticator for `config.auth`, telling exec plugins about `config`'s cluster.
    pub fn from_config(config: &Config) -> Credentials {
        Credentials::new(&config.auth, Some(ExecClusterInfo::from_config(config)))
    }

    /// How long an exec plugin may run (60 s unless set); applies to all clones.
    pub fn with_exec_timeout(self, timeout: Duration) -> Credentials {
        if let Kind::Exec(state) = &self.inner.kind {
            let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            state.timeout_ms.store(ms, Ordering::Relaxed);
        }
        self
    }

    /// The `Authorization` header for the next request, `None` when there are no header
    /// credentials (none at all, or an exec plugin that returned only a client certificate).
    /// The value is marked sensitive, so `http` and `hyper` keep it out of debug output.
    pub async fn authorization(&self) -> Result<Option<HeaderValue>, ConfigError> {
        match &self.inner.kind {
            Kind::None => Ok(None),
            Kind::Bearer(token) => {
                bearer(token.expose())
                    .map(Some)
                    .map_err(|message| ConfigError::Credential {
                        what: "bearer token".into(),
                        message,
                    })
            }
            Kind::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                sensitive(&format!(
                    "Basic {}",
                    ByteString(raw.into_bytes()).to_base64()
                ))
                .map(Some)
                .map_err(|message| ConfigError::Credential {
                    what: format!("basic credentials of user {username:?}"),
                    message,
                })
            }
            Kind::TokenFile {
                path,
                fallback,
                cache,
            } => self
                .file_token(path, fallback.as_ref(), cache)
                .await
                .map(Some),
            Kind::Exec(state) => Ok(self.exec_credential(state).await?.header.clone()),
        }
    }

    /// The client certificate and key an exec plugin returned, if it returned one (running the
    /// plugin if its result is stale). `None` for every other kind of credential.
    pub async fn client_identity(&self) -> Result<Option<ClientIdentity>, ConfigError> {
        let Kind::Exec(state) = &self.inner.kind else {
            return Ok(None);
        };
        let cached = self.exec_credential(state).await?;
        Ok(
            match (
                &cached.output.client_cert_pem,
                &cached.output.client_key_pem,
            ) {
                (Some(cert), Some(key)) => Some(ClientIdentity {
                    cert_pem: cert.clone(),
                    key_pem: key.clone(),
                }),
                _ => None,
            },
        )
    }

    /// After a 401 for a request sent with the `Authorization` header `rejected` (`None`: an exec
    /// plugin's client certificate alone): forgets the cached token if it is still that one, so
    /// the next call re-reads the token file or runs the exec plugin again.
    ///
    /// A token that was already replaced is not refreshed again: when many requests sent with
    /// one token are refused together, the file is read or the plugin run once. Fixed tokens
    /// and passwords have nothing to refresh.
    pub async fn invalidate(&self, rejected: Option<&HeaderValue>) {
        // Checked and bumped under the cache's lock, so concurrent callers see each other's bump
        // (and wait for a refresh in progress, whose new token they then do not match).
        let still_cached = match &self.inner.kind {
            Kind::TokenFile { cache, .. } => {
                let cache = cache.lock().await;
                let generation = self.inner.generation.load(Ordering::Acquire);
                let hit = cache
                    .as_ref()
                    .is_some_and(|c| c.generation == generation && Some(&c.header) == rejected);
                if hit {
                    self.bump(generation);
                }
                hit
            }
            Kind::Exec(state) => {
                let cache = state.cache.lock().await;
                let generation = self.inner.generation.load(Ordering::Acquire);
                let hit = cache
                    .as_ref()
                    .is_some_and(|c| c.generation == generation && c.header.as_ref() == rejected);
                if hit {
                    self.bump(generation);
                }
                hit
            }
            Kind::None | Kind::Bearer(_) | Kind::Basic { .. } => false,
        };
        if still_cached {
            tracing::debug!("credential rejected; it will be fetched again");
        }
    }

    fn bump(&self, generation: u64) {
        self.inner
            .generation
            .store(generation + 1, Ordering::Release);
    }

    async fn file_token(
        &self,
        path: &Path,
        fallback: Option<&Secret<String>>,
        cache: &Mutex<Option<FileToken>>,
    ) -> Result<HeaderValue, ConfigError> {
        let mut cache = cache.lock().await;
        let generation = self.inner.generation.load(Ordering::Acquire);
        if let Some(c) = cache.as_ref().filter(|c| c.generation == generation)
            && c.read_at.elapsed() < TOKEN_FILE_MAX_AGE
            && let Ok(meta) = std::fs::metadata(path)
            && FileStamp::of(&meta) == c.stamp
        {
            return Ok(c.header.clone());
        }
        match read_token_file(path) {
            Ok((header, stamp)) => {
                *cache = Some(FileToken {
                    header: header.clone(),
                    stamp,
                    read_at: Instant::now(),
                    generation,
                });
                Ok(header)
            }
            // A rotation caught mid-way: keep the token we have unless it was rejected
            // (client-go does the same).
            Err(e) => match (
                cache.as_ref().filter(|c| c.generation == generation),
                fallback,
            ) {
                (Some(c), _) => {
                    tracing::warn!(error = %e, "keeping the previous token");
                    Ok(c.header.clone())
                }
                (None, Some(token)) => {
                    tracing::debug!(error = %e, "using the kubeconfig's inline token");
                    bearer(token.expose()).map_err(|message| ConfigError::Credential {
                        what: "token".into(),
                        message,
                    })
                }
                (None, None) => Err(e),
            },
        }
    }

    async fn exec_credential(&self, state: &ExecState) -> Result<Arc<ExecCached>, ConfigError> {
        // Held while the plugin runs, so concurrent callers wait for that one run.
        let mut cache = state.cache.lock().await;
        let generation = self.inner.generation.load(Ordering::Acquire);
        if let Some(c) = cache.as_ref() {
            let fresh = c.refresh_at.is_none_or(|at| SystemTime::now() < at);
            if c.generation == generation && fresh {
                return Ok(c.clone());
            }
        }
        let timeout = Duration::from_millis(state.timeout_ms.load(Ordering::Relaxed));
        tracing::debug!(command = %state.config.command, "running exec credential plugin");
        let output = exec::run(&state.config, state.cluster.as_ref(), timeout).await?;
        let header = match &output.token {
            Some(token) => Some(bearer(token.expose()).map_err(|m| {
                ConfigError::exec(&state.config.command, format!("status.token {m}"))
            })?),
            None => None,
        };
        let refresh_at = output
            .expires_at
            .map(|t| t.checked_sub(EXEC_EXPIRY_MARGIN).unwrap_or(t));
        let cached = Arc::new(ExecCached {
            output,
            header,
            refresh_at,
            generation,
        });
        *cache = Some(cached.clone());
        Ok(cached)
    }
}

fn read_token_file(path: &Path) -> Result<(HeaderValue, FileStamp), ConfigError> {
    let err = |message: String| ConfigError::token_file(path, message);
    // Stamp first: a rewrite after it is noticed on the next call.
    // std::fs: a token file is a few hundred bytes on a local (often in-memory) file system, read
    // at most once a minute; tokio::fs would hand each call to a blocking thread.
    let meta =
        std::fs::metadata(path).map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| err("is not UTF-8 text".into()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(err("is empty".into()));
    }
    let header = bearer(token).map_err(|m| err(format!("token {m}")))?;
    Ok((header, FileStamp::of(&meta)))
}

fn bearer(token: &str) -> Result<HeaderValue, String> {
    sensitive(&format!("Bearer {token}"))
}

fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut header = HeaderValue::from_str(value)
        .map_err(|_| "contains characters not allowed in an HTTP header".to_owned())?;
    header.set_sensitive(true);
    Ok(header)
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::None => f.write_str("Credentials(None)"),
            Kind::Bearer(_) => f.write_str("Credentials(Bearer(<redacted>))"),
            Kind::Basic { username, .. } => write!(
                f,
                "Credentials(Basic {{ username: {username:?}, password: <redacted> }})"
            ),
            Kind::TokenFile {
                path,
                fallback: None,
                ..
            } => write!(f, "Credentials(TokenFile({}))", path.display()),
            Kind::TokenFile { path, .. } => write!(
                f,
                "Credentials(TokenFileWithFallback({}, <redacted>))",
                path.display()
            ),
            Kind::Exec(state) => write!(f, "Credentials(Exec({:?}))", state.config),
        }
    }
}
