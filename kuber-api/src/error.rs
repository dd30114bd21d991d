//! What can go wrong talking to the API server, one variant per kind of failure.
//!
//! No variant ever carries a header, a token or a password: messages are safe to log.

use std::fmt;
use std::time::Duration;

use kuber_models::apimachinery::pkg::apis::meta::v1::Status;

use crate::config::ConfigError;

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status other than 2xx. Boxed: the `Status` is large and
    /// every `Result` of the API carries this enum.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The connection failed or broke: refused, reset, DNS, proxy, I/O.
    #[error("{operation}: {}", chain(source.as_ref()))]
    Transport {
        operation: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// TLS setup or handshake failed: bad CA or client certificate, unverifiable server.
    #[error("TLS: {message}")]
    Tls { message: String },

    /// Loading the configuration or the credentials failed.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The request took longer than the client's request timeout.
    #[error("{operation}: no complete answer after {after:?}")]
    Timeout {
        operation: &'static str,
        after: Duration,
    },

    /// A 2xx answer whose body is not the expected type.
    #[error("{operation}: cannot decode {type_name} (line {line}, column {column}): {message}")]
    Decode {
        operation: &'static str,
        type_name: &'static str,
        line: usize,
        column: usize,
        message: String,
    },

    /// A 2xx protobuf answer (or watch event) that does not decode as the call's type: the
    /// field path is where it broke (`io.k8s.api.core.v1.Pod.spec.containers[0].name`).
    #[error("{operation}: cannot decode {type_name} from protobuf at {path}: {problem}")]
    DecodeProtobuf {
        operation: &'static str,
        type_name: &'static str,
        path: String,
        problem: String,
    },

    /// A 2xx answer of another kind than the call's type (a list for an object, a `Status` for
    /// a pod): decoding it would give a default-filled value.
    #[error("{operation}: expected kind {expected}, the server answered kind {received}")]
    UnexpectedKind {
        operation: &'static str,
        /// The kind of the call's type; for deletes, `<kind> or Status`.
        expected: String,
        received: String,
    },

    /// A path parameter that would name another resource than the one meant (an empty name
    /// names the whole collection), refused before anything is sent.
    #[error("{operation}: parameter {parameter} {problem}")]
    InvalidParameter {
        operation: &'static str,
        /// The parameter's name in the path template, e.g. `name`, `namespace`.
        parameter: String,
        /// What is wrong, quoting the value: `is empty`, `"a/b" may not contain '/'`.
        problem: String,
    },

    /// A server-side apply without a field manager, refused before anything is sent.
    #[error(
        "{operation}: server-side apply needs a field manager (PatchParams::field_manager); \
         nothing was sent"
    )]
    MissingFieldManager { operation: &'static str },

    /// The request could not be encoded.
    #[error("{operation}: cannot encode the request: {message}")]
    Encode {
        operation: &'static str,
        message: String,
    },

    /// exec, attach and port-forward switch to WebSocket, which this build of kuber-api leaves
    /// out (its `ws` feature), or the call was not made as an upgrade (the generated
    /// `connect_*` operations are). Nothing was sent.
    #[error("{operation} needs a WebSocket upgrade: {reason}; nothing was sent")]
    UpgradeUnavailable {
        operation: &'static str,
        reason: &'static str,
    },

    /// The server did not switch to WebSocket as asked: a 2xx answer instead of 101, a wrong
    /// `Sec-WebSocket-Accept`, no subprotocol agreed on, a transport that hands over no
    /// connection. (A non-2xx answer is [`Error::Api`], as for every call.)
    #[error("{operation}: WebSocket upgrade: {message}")]
    Upgrade {
        operation: &'static str,
        message: String,
    },

    /// An exec, attach or port-forward session broke: the connection ended before the exit
    /// status, the server broke the channel protocol, or it reported an error on a port.
    #[error("{operation}: {channel}: {message}")]
    Session {
        operation: &'static str,
        /// `stdout`, `status`, `port 8080`, `connection`, …
        channel: String,
        message: String,
    },

    /// A watch broke: the connection dropped in the middle of an event, or a line is not an
    /// event.
    #[error("{operation}: watch stream: {message}")]
    WatchStream {
        operation: &'static str,
        message: String,
    },

    /// A watch or followed log received nothing for the client's idle timeout
    /// ([`Config::idle_timeout`](crate::config::Config::idle_timeout)): the connection may be
    /// dead. Retryable: watch again from the last resourceVersion, or follow the log again.
    #[error("{operation}: nothing received for {after:?} (idle timeout); the stream may be dead")]
    IdleTimeout {
        operation: &'static str,
        after: Duration,
    },

    /// A line of a followed log is longer than the client buffers (the bound watch events
    /// have too); the stream ends.
    #[error("{operation}: a line is longer than {} MiB; giving up", .limit >> 20)]
    LineTooLong {
        operation: &'static str,
        /// The bound, in bytes.
        limit: usize,
    },

    /// The server or proxy URL (or a path built from it) is not a usable URL.
    #[error("invalid URL {url:?}: {message}")]
    InvalidUrl { url: String, message: String },
}

/// A non-2xx answer, with the `Status` the API server sends when it sends one.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The body decoded as a `Status` (`kind: Status`), when it is one.
    pub status: Option<Status>,
    /// The body as text, shortened to a few KiB.
    pub body: String,
    /// The operation that failed, e.g. `readCoreV1NamespacedPod`.
    pub operation: &'static str,
}

/// How much of an error body [`ApiError::body`] keeps.
const BODY_KEPT: usize = 4096;

impl ApiError {
    /// Builds the error from a non-2xx answer's body.
    pub(crate) fn from_body(operation: &'static str, code: u16, body: &[u8]) -> ApiError {
        // A protobuf `Status` (the answer to a protobuf Accept) is kept as its JSON, so the
        // error reads the same either way.
        #[cfg(feature = "protobuf")]
        if body.starts_with(&kuber_models::proto::MAGIC)
            && let Ok(status) = kuber_models::proto::decode_object::<Status>(body)
            && status.kind.as_deref() == Some("Status")
            && let Ok(json) = serde_json::to_vec(&status)
        {
            return ApiError {
                status: Some(status),
                ..ApiError::from_body(operation, code, &json)
            };
        }
        let status = serde_json::from_slice::<Status>(body)
            .ok()
            .filter(|s| s.kind.as_deref() == Some("Status"));
        let text = String::from_utf8_lossy(body);
        let mut end = text.len().min(BODY_KEPT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut body = text[..end].to_string();
        if end < text.len() {
            body.push('…');
        }
        ApiError {
            code,
            status,
            body,
            operation,
        }
    }

    /// A `Status` the server sent other than as an answer's body (exec's status channel), which
    /// need not say `kind: Status`.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) fn from_status(operation: &'static str, status: Status, body: &[u8]) -> ApiError {
        let code = status
            .code
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        ApiError {
            status: Some(status),
            ..ApiError::from_body(operation, code, body)
        }
    }

    pub fn status_code(&self) -> u16 {
        self.code
    }

    /// The `Status` reason (`NotFound`, `AlreadyExists`, `Conflict`, `Expired`, …), if any.
    pub fn reason(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.reason.as_deref())
            .filter(|r| !r.is_empty())
    }

    /// The `Status` message, if any.
    pub fn message(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.message.as_deref())
            .filter(|m| !m.is_empty())
    }

    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }

    /// 409: a conflict of any kind (resourceVersion mismatch, already exists, …).
    pub fn is_conflict(&self) -> bool {
        self.code == 409
    }

    pub fn is_already_exists(&self) -> bool {
        self.code == 409 && self.reason() == Some("AlreadyExists")
    }

    pub fn is_forbidden(&self) -> bool {
        self.code == 403
    }

    pub fn is_unauthorized(&self) -> bool {
        self.code == 401
    }

    /// 410: the resourceVersion a watch or list asked for is too old; list again.
    pub fn is_gone(&self) -> bool {
        self.code == 410
    }

    pub fn is_invalid(&self) -> bool {
        self.code == 422
    }

    pub fn is_too_many_requests(&self) -> bool {
        self.code == 429
    }

    /// 504, or a `ServerTimeout`/`Timeout` reason: the server gave up, the request may be retried.
    pub fn is_server_timeout(&self) -> bool {
        self.code == 504 || matches!(self.reason(), Some("ServerTimeout" | "Timeout"))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.code)?;
        match self.reason() {
            Some(reason) => write!(f, " {reason}")?,
            None => {
                let canonical = http::StatusCode::from_u16(self.code)
                    .ok()
                    .and_then(|c| c.canonical_reason());
                if let Some(canonical) = canonical {
                    write!(f, " {canonical}")?;
                }
            }
        }
        match self.message() {
            Some(message) => write!(f, ": {message}"),
            None if self.status.is_none() && !self.body.trim().is_empty() => {
                write!(f, ": {}", self.body.trim())
            }
            None => Ok(()),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(Box::new(e))
    }
}

impl Error {
    /// The API error, if the server answered with a non-2xx status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status code of an API error.
    pub fn status_code(&self) -> Option<u16> {
        self.api().map(ApiError::status_code)
    }

    /// The `Status` reason of an API error.
    pub fn reason(&self) -> Option<&str> {
        self.api().and_then(ApiError::reason)
    }

    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    pub fn is_conflict(&self) -> bool {
        self.api().is_some_and(ApiError::is_conflict)
    }

    pub fn is_already_exists(&self) -> bool {
        self.api().is_some_and(ApiError::is_already_exists)
    }

    pub fn is_forbidden(&self) -> bool {
        self.api().is_some_and(ApiError::is_forbidden)
    }

    pub fn is_unauthorized(&self) -> bool {
        self.api().is_some_and(ApiError::is_unauthorized)
    }

    pub fn is_gone(&self) -> bool {
        self.api().is_some_and(ApiError::is_gone)
    }

    pub fn is_invalid(&self) -> bool {
        self.api().is_some_and(ApiError::is_invalid)
    }

    pub fn is_too_many_requests(&self) -> bool {
        self.api().is_some_and(ApiError::is_too_many_requests)
    }

    pub fn is_server_timeout(&self) -> bool {
        self.api().is_some_and(ApiError::is_server_timeout)
    }

    /// The client gave up waiting: [`Error::Timeout`] (no whole answer within the request
    /// timeout) or [`Error::IdleTimeout`] (a stream went silent). Both may be retried.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::IdleTimeout { .. })
    }

    /// A protobuf decode error, naming the Rust type and the field path.
    #[cfg(feature = "protobuf")]
    pub(crate) fn protobuf(
        operation: &'static str,
        type_name: &'static str,
        e: &kuber_models::proto::DecodeError,
    ) -> Error {
        Error::DecodeProtobuf {
            operation,
            type_name,
            path: e.path(),
            problem: e.problem().to_owned(),
        }
    }

    /// A decode error from serde_json, naming the Rust type and the JSON position.
    pub(crate) fn decode<T: ?Sized>(operation: &'static str, e: &serde_json::Error) -> Error {
        Error::Decode {
            operation,
            type_name: std::any::type_name::<T>(),
            line: e.line(),
            column: e.column(),
            message: strip_position(e),
        }
    }
}

/// serde_json appends " at line L column C"; the variant carries those as fields.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix)
        .map(str::to_string)
        .unwrap_or(text)
}

/// An error and its sources as one line: `a: b: c`, skipping a source its parent already quotes.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut current = Some(e);
    while let Some(err) = current {
        let text = match err.downcast_ref::<hyper_util::client::legacy::Error>() {
            // "client error (Connect)" says less than its source; name the phase instead.
            Some(e) if e.is_connect() => "cannot connect".to_string(),
            Some(_) => "request failed".to_string(),
            None => err.to_string(),
        };
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        current = err.source();
    }
    out
}
