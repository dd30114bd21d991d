//! Test controls: injected failures (any code, 429 with `Retry-After`), latency, watches dropped
//! after some events, the record of every request, and pod logs, exec and port-forwards answered
//! by the test's closures.
//! [`crate::pipeline`] consults them for every request.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::hook::HookHandler;
use crate::request::{Match, RequestInfo};
use crate::status;
use crate::store::Store;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// A control installed on a server; [`crate::TestServer::remove`] takes it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(u64);

#[derive(Debug, Clone)]
enum Action {
    Fail {
        code: u16,
        body: Value,
        retry_after: Option<u64>,
    },
    Delay(Duration),
    DropWatch(usize),
}

/// A hand-answering hook installed on a server.
struct Hook {
    id: RuleId,
    matching: Match,
    handler: HookHandler,
}

#[derive(Debug)]
struct Rule {
    id: RuleId,
    matching: Match,
    /// `None`: every matching request.
    remaining: Option<usize>,
    action: Action,
}

/// A request as the server received it, for assertions. Credentials are not kept: the
/// `authorization`, `proxy-authorization` and `cookie` headers read `<redacted>`.
#[derive(Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Decoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// Lower-case names, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub info: RequestInfo,
    /// Who sent it, when known (a token or a client certificate of this server; `admin` for the
    /// handed-out client).
    pub user: Option<String>,
}

impl RecordedRequest {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, when it is JSON or a protobuf body of a built-in type (read through
    /// the type its envelope names).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body)
            .ok()
            .or_else(|| crate::protobuf::to_json(&self.body))
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("info", &self.info)
            .field("user", &self.user)
            .finish()
    }
}

/// Options of a log request, from its query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub limit_bytes: Option<i64>,
}

/// The pod a log, exec or port-forward request is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
}

/// What a log closure answers: the whole log, or a stream of chunks (a followed log ends when
/// the stream does).
pub enum LogOutput {
    Text(String),
    Stream(Pin<Box<dyn Stream<Item = String> + Send>>),
}

impl LogOutput {
    pub fn text(text: impl Into<String>) -> LogOutput {
        LogOutput::Text(text.into())
    }

    /// Chunks sent as they come (each usually one line, with its newline).
    pub fn stream(chunks: impl Stream<Item = String> + Send + 'static) -> LogOutput {
        LogOutput::Stream(Box::pin(chunks))
    }
}

impl From<String> for LogOutput {
    fn from(text: String) -> LogOutput {
        LogOutput::Text(text)
    }
}

impl From<&str> for LogOutput {
    fn from(text: &str) -> LogOutput {
        LogOutput::Text(text.to_owned())
    }
}

pub(crate) type LogHandler = Arc<dyn Fn(&PodRef, &str, &LogOptions) -> LogOutput + Send + Sync>;

/// What an exec closure answers: the command's output and exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// An exec request: the pod, the container, the command and what was sent on stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub pod: PodRef,
    pub container: String,
    pub command: Vec<String>,
    pub stdin: Vec<u8>,
    pub tty: bool,
}

/// A terminal size a client sent on channel 4 (client-go's `TerminalSize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TerminalSize {
    pub width: u16,
    pub height: u16,
}

/// What a client sent during an exec or attach besides stdin, for the closures of
/// [`crate::TestServer::on_exec_with_events`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecEvents {
    /// The terminal sizes sent before stdin was closed, in order.
    pub resizes: Vec<TerminalSize>,
}

pub(crate) type ExecHandler = Arc<dyn Fn(&ExecRequest, &ExecEvents) -> ExecOutput + Send + Sync>;

/// Answers one forwarded connection: the server's end of it.
pub(crate) type PortForwardHandler =
    Arc<dyn Fn(tokio::io::DuplexStream) -> BoxFuture<'static, ()> + Send + Sync>;

/// The controls of one server.
#[derive(Default)]
pub(crate) struct Controls {
    rules: Mutex<Vec<Rule>>,
    next_id: AtomicU64,
    requests: Mutex<Vec<RecordedRequest>>,
    not_recording: AtomicBool,
    pub logs: RwLock<Option<LogHandler>>,
    pub exec: RwLock<Option<ExecHandler>>,
    pub port_forwards: RwLock<HashMap<(PodRef, u16), PortForwardHandler>>,
    hooks: RwLock<Vec<Hook>>,
    pub auth: Auth,
}

/// What the controls make of a request.
pub(crate) struct Decision {
    pub delay: Duration,
    /// The code, body and `Retry-After` seconds of an injected failure.
    pub failure: Option<(u16, Value, Option<u64>)>,
    /// Events a watch sends before the server ends it.
    pub watch_limit: Option<usize>,
}

impl Controls {
    fn next_id(&self) -> RuleId {
        RuleId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn add(&self, matching: Match, remaining: Option<usize>, action: Action) -> RuleId {
        let id = self.next_id();
        lock(&self.rules).push(Rule {
            id,
            matching,
            remaining,
            action,
        });
        id
    }

    pub fn delay(&self, matching: Match, by: Duration) -> RuleId {
        self.add(matching, None, Action::Delay(by))
    }

    pub fn drop_watches(&self, matching: Match, after_events: usize) -> RuleId {
        self.add(matching, None, Action::DropWatch(after_events))
    }

    /// Answers the requests `matching` selects with `handler`, unless it passes.
    pub fn on_request(&self, matching: Match, handler: HookHandler) -> RuleId {
        let id = self.next_id();
        write(&self.hooks).push(Hook {
            id,
            matching,
            handler,
        });
        id
    }

    /// The hooks that may answer `info`, in the order installed.
    pub fn hooks_for(&self, info: &RequestInfo) -> Vec<HookHandler> {
        read(&self.hooks)
            .iter()
            .filter(|h| h.matching.matches(info))
            .map(|h| h.handler.clone())
            .collect()
    }

    pub fn remove(&self, id: RuleId) -> bool {
        let mut rules = lock(&self.rules);
        let before = rules.len();
        rules.retain(|r| r.id != id);
        let mut hooks = write(&self.hooks);
        let hooks_before = hooks.len();
        hooks.retain(|h| h.id != id);
        rules.len() != before || hooks.len() != hooks_before
    }

    pub fn clear(&self) {
        lock(&self.rules).clear();
        write(&self.hooks).clear();
    }

    pub fn recording(&self) -> bool {
        !self.not_recording.load(Ordering::Relaxed)
    }

    pub fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    pub fn log_handler(&self) -> Option<LogHandler> {
        read(&self.logs).clone()
    }

    pub fn exec_handler(&self) -> Option<ExecHandler> {
        read(&self.exec).clone()
    }

    pub fn port_forward_handler(&self, pod: &PodRef, port: u16) -> Option<PortForwardHandler> {
        read(&self.port_forwards).get(&(pod.clone(), port)).cloned()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    pub fn set_recording(&self, on: bool) {
        self.not_recording.store(!on, Ordering::Relaxed);
    }

    /// The total latency, the failure to answer (consuming one of its counts) and the watch
    /// limit for a request.
    pub fn decide(&self, info: &RequestInfo) -> Decision {
        let mut rules = lock(&self.rules);
        let mut delay = Duration::ZERO;
        let mut failure = None;
        let mut watch_limit = None;
        for rule in rules.iter_mut() {
            if !rule.matching.matches(info) || rule.remaining == Some(0) {
                continue;
            }
            match &rule.action {
                Action::Delay(d) => delay += *d,
                Action::DropWatch(n) if info.verb == "watch" && watch_limit.is_none() => {
                    watch_limit = Some(*n)
                }
                Action::DropWatch(_) => continue,
                Action::Fail { .. } if failure.is_none() => failure = Some(rule.action.clone()),
                Action::Fail { .. } => continue,
            }
            if let Some(n) = &mut rule.remaining {
                *n -= 1;
            }
        }
        // Used-up counted rules go.
        rules.retain(|r| r.remaining != Some(0));
        let failure = match failure {
            Some(Action::Fail {
                code,
                body,
                retry_after,
            }) => Some((code, body, retry_after)),
            _ => None,
        };
        Decision {
            delay,
            failure,
            watch_limit,
        }
    }
}

/// [`crate::TestServer::fail`]'s builder: the failure is installed by [`Fault::with`] or
/// [`Fault::with_status`].
#[must_use = "nothing is injected until `with` or `with_status` is called"]
pub struct Fault<'a> {
    controls: &'a Controls,
    matching: Match,
    times: Option<usize>,
    retry_after: Option<u64>,
    message: Option<String>,
}

impl<'a> Fault<'a> {
    pub(crate) fn new(controls: &'a Controls, matching: Match) -> Fault<'a> {
        Fault {
            controls,
            matching,
            times: None,
            retry_after: None,
            message: None,
        }
    }

    /// Only the next `n` matching requests fail (every one by default).
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Every matching request fails (the default).
    pub fn always(mut self) -> Self {
        self.times = None;
        self
    }

    /// The `Retry-After` header in seconds (and `details.retryAfterSeconds`); 429 has 1 unless
    /// set, as the real server's overload answers.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The Status message instead of the usual one for the code.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Fails with `code` and the Status body the real server sends with it.
    pub fn with(self, code: u16) -> RuleId {
        let (reason, default) = reason_of(code);
        let message = self.message.clone().unwrap_or_else(|| default.to_owned());
        let retry_after = self.retry_after.or((code == 429).then_some(1));
        let mut failure = status::failure(code, reason, message, None);
        if let Some(s) = retry_after {
            failure.body["details"] = json!({"retryAfterSeconds": s});
        }
        self.install(code, failure.body, retry_after)
    }

    /// Fails with `code` and this body (a `Status`, or anything the test wants to send).
    pub fn with_status(self, code: u16, body: Value) -> RuleId {
        let retry_after = self.retry_after;
        self.install(code, body, retry_after)
    }

    fn install(self, code: u16, body: Value, retry_after: Option<u64>) -> RuleId {
        self.controls.add(
            self.matching,
            self.times,
            Action::Fail {
                code,
                body,
                retry_after,
            },
        )
    }
}

/// The reason and message the real server gives with each code.
fn reason_of(code: u16) -> (&'static str, &'static str) {
    match code {
        400 => (
            "BadRequest",
            "the server rejected our request for an unknown reason",
        ),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden"),
        404 => (
            "NotFound",
            "the server could not find the requested resource",
        ),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
        409 => (
            "Conflict",
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
        410 => ("Expired", "the resource version is too old"),
        413 => ("RequestEntityTooLarge", "the request is too large"),
        415 => (
            "UnsupportedMediaType",
            "the body of the request was in an unknown format",
        ),
        422 => ("Invalid", "the request is invalid"),
        429 => (
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        500 => (
            "InternalError",
            "Internal error occurred: injected by the test server",
        ),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        _ => ("", "injected by the test server"),
    }
}

/// Everything one server's connections share.
pub(crate) struct Shared {
    pub store: Arc<Store>,
    pub controls: Arc<Controls>,
}
