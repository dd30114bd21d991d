//! Test controls: injected failures (any code, 429 with `Retry-After`), latency, watches dropped
//! after some events, the record of every request, and pod logs answered by the test's closure.
//! Every request passes here first (authentication and authorization too), then goes to
//! [`crate::server`].

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use crate::auth::{Auth, User};
use crate::server::{self, Body};
use crate::status::{self, Failure};
use crate::store::Store;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the server knows of a request before serving it, as the real server's request info:
/// the verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`)
/// and, for resource paths, the resource and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub verb: String,
    /// `None` for paths that are not resources (`/version`, `/api`, `/healthz`).
    pub resource: Option<String>,
    /// `""` for the core group.
    pub group: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl RequestInfo {
    pub(crate) fn parse(method: &Method, path: &str, query: Option<&str>) -> RequestInfo {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, rest): (&str, &[&str]) = match segments.as_slice() {
            ["api", "v1", rest @ ..] if !rest.is_empty() => ("", rest),
            ["apis", g, _, rest @ ..] if !rest.is_empty() => (g, rest),
            _ => {
                return RequestInfo {
                    verb: method.as_str().to_ascii_lowercase(),
                    ..RequestInfo::default()
                };
            }
        };
        // `namespaces/NS/RESOURCE/...`, but `namespaces/NS/status|finalize` are the namespace's
        // own subresources. A namespace is its own namespace, as the real server's authorizer
        // sees it.
        let (namespace, parts): (Option<&str>, &[&str]) = match rest {
            ["namespaces", ns, sub, ..] if !matches!(*sub, "status" | "finalize") => {
                (Some(ns), &rest[2..])
            }
            ["namespaces", ns, ..] => (Some(ns), rest),
            _ => (None, rest),
        };
        let name = parts.get(1).map(|s| (*s).to_owned());
        let watching =
            query.is_some_and(|q| q.split('&').any(|p| matches!(p, "watch=true" | "watch=1")));
        let verb = match (method, name.is_some()) {
            (&Method::GET, _) if watching => "watch",
            (&Method::GET, true) => "get",
            (&Method::GET, false) => "list",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, true) => "delete",
            (&Method::DELETE, false) => "deletecollection",
            (m, _) => {
                return RequestInfo {
                    verb: m.as_str().to_ascii_lowercase(),
                    ..RequestInfo::default()
                };
            }
        };
        RequestInfo {
            verb: verb.to_owned(),
            resource: parts.first().map(|s| (*s).to_owned()),
            group: group.to_owned(),
            subresource: parts.get(2).map(|s| (*s).to_owned()),
            namespace: namespace.map(str::to_owned),
            name,
        }
    }
}

/// Which requests a control applies to: every field set must match. Build it from
/// [`Match::any`] or [`Match::verb`].
///
/// ```
/// use kuber_testserver::Match;
/// let m = Match::verb("list").resource("pods").namespace("ns");
/// # let _ = m;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    verb: Option<String>,
    resource: Option<String>,
    group: Option<String>,
    subresource: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

impl Match {
    /// Every request, resource or not.
    pub fn any() -> Match {
        Match::default()
    }

    /// Requests with this verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`.
    pub fn verb(verb: &str) -> Match {
        Match {
            verb: Some(verb.to_owned()),
            ..Match::default()
        }
    }

    /// Requests on this resource: its plural (`pods`); `pods/log` names a subresource too.
    pub fn resource(mut self, resource: &str) -> Match {
        match resource.split_once('/') {
            Some((r, sub)) => {
                self.resource = Some(r.to_owned());
                self.subresource = Some(sub.to_owned());
            }
            None => self.resource = Some(resource.to_owned()),
        }
        self
    }

    /// Requests in this API group (`""`: the core group).
    pub fn group(mut self, group: &str) -> Match {
        self.group = Some(group.to_owned());
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Match {
        self.subresource = Some(subresource.to_owned());
        self
    }

    pub fn namespace(mut self, namespace: &str) -> Match {
        self.namespace = Some(namespace.to_owned());
        self
    }

    pub fn name(mut self, name: &str) -> Match {
        self.name = Some(name.to_owned());
        self
    }

    pub(crate) fn matches(&self, info: &RequestInfo) -> bool {
        fn same(want: &Option<String>, got: Option<&str>) -> bool {
            want.as_deref().is_none_or(|w| got == Some(w))
        }
        same(&self.verb, Some(&info.verb))
            && same(&self.resource, info.resource.as_deref())
            && same(
                &self.group,
                info.resource.as_ref().map(|_| info.group.as_str()),
            )
            && same(&self.subresource, info.subresource.as_deref())
            && same(&self.namespace, info.namespace.as_deref())
            && same(&self.name, info.name.as_deref())
    }
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

    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
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

const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

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

/// The pod a log or exec request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
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

pub(crate) type ExecHandler = Arc<dyn Fn(&ExecRequest) -> ExecOutput + Send + Sync>;

/// The controls of one server.
#[derive(Default)]
pub(crate) struct Controls {
    rules: Mutex<Vec<Rule>>,
    next_id: AtomicU64,
    requests: Mutex<Vec<RecordedRequest>>,
    not_recording: AtomicBool,
    pub logs: RwLock<Option<LogHandler>>,
    pub exec: RwLock<Option<ExecHandler>>,
    pub auth: Auth,
}

/// The limit of events a watch sends before the server ends it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WatchLimit(pub usize);

impl Controls {
    fn add(&self, matching: Match, remaining: Option<usize>, action: Action) -> RuleId {
        let id = RuleId(self.next_id.fetch_add(1, Ordering::Relaxed));
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

    pub fn remove(&self, id: RuleId) -> bool {
        let mut rules = lock(&self.rules);
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    pub fn clear(&self) {
        lock(&self.rules).clear();
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
    fn decide(&self, info: &RequestInfo) -> (Duration, Option<Action>, Option<usize>) {
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
        (delay, failure, watch_limit)
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

/// Serves one request: record, authenticate, authorize, delay, fail, then the verbs.
/// `peer` is the user of the connection's client certificate, if any.
pub(crate) async fn handle(
    shared: &Shared,
    peer: Option<User>,
    req: Request<Incoming>,
) -> Response<Body> {
    let controls = &shared.controls;
    let info = RequestInfo::parse(req.method(), req.uri().path(), req.uri().query());
    let user = controls.auth.authenticate(peer, req.headers());
    let is_exec = info.resource.as_deref() == Some("pods")
        && matches!(info.subresource.as_deref(), Some("exec" | "attach"));
    let (mut parts, body) = if is_exec {
        // The WebSocket upgrade needs the request itself; its body is empty.
        let (parts, body) = req.into_parts();
        (parts, Either::Upgrade(body))
    } else {
        let (parts, body) = req.into_parts();
        match body.collect().await {
            Ok(b) => (parts, Either::Bytes(b.to_bytes())),
            Err(e) => {
                return server::fail(status::bad_request(format!("reading the body: {e}")));
            }
        }
    };
    if !controls.not_recording.load(Ordering::Relaxed) {
        let query = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (server::decode(k), server::decode(v))
            })
            .collect();
        let headers = parts
            .headers
            .iter()
            .map(|(k, v)| {
                let value = if SECRET_HEADERS.contains(&k.as_str()) {
                    "<redacted>".to_owned()
                } else {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                };
                (k.as_str().to_owned(), value)
            })
            .collect();
        lock(&controls.requests).push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query,
            headers,
            body: match &body {
                Either::Bytes(b) => b.clone(),
                Either::Upgrade(_) => Bytes::new(),
            },
            info: info.clone(),
            user: user
                .as_ref()
                .ok()
                .and_then(|u| u.as_ref().map(|u| u.name.clone())),
        });
    }
    let user = match user {
        Ok(u) => u,
        Err(f) => return server::fail(f),
    };
    if let Some(f) = controls.auth.authorize(user.as_ref(), &info) {
        return server::fail(f);
    }
    let (delay, failure, watch_limit) = controls.decide(&info);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(Action::Fail {
        code,
        body,
        retry_after,
    }) = failure
    {
        let mut r = server::fail(Failure { code, body });
        if let Some(s) = retry_after {
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
        }
        return r;
    }
    if let Some(n) = watch_limit {
        parts.extensions.insert(WatchLimit(n));
    }
    match body {
        Either::Upgrade(body) => {
            let req = Request::from_parts(parts, body);
            crate::exec::handle(shared, &info, req).await
        }
        Either::Bytes(body) => {
            if info.resource.as_deref() == Some("pods")
                && info.subresource.as_deref() == Some("log")
                && info.verb == "get"
            {
                return logs(shared, &info, parts.uri.query());
            }
            server::handle(&shared.store, Request::from_parts(parts, Full::new(body))).await
        }
    }
}

enum Either {
    Bytes(Bytes),
    Upgrade(Incoming),
}

/// The pod's container a log or exec request is for: the one named, else the only one.
pub(crate) fn container_of(
    store: &Store,
    namespace: &str,
    pod: &str,
    asked: Option<&str>,
) -> Result<String, Failure> {
    let kind = kuber_api::KINDS
        .iter()
        .find(|k| k.group.is_empty() && k.version == "v1" && k.plural == "pods")
        .ok_or_else(status::no_route)?;
    let object = store.get(kind, Some(namespace), pod)?;
    let names = |key: &str| -> Vec<String> {
        object
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let containers = names("containers");
    match asked {
        Some(c)
            if containers.iter().any(|n| n == c)
                || names("initContainers").contains(&c.to_owned()) =>
        {
            Ok(c.to_owned())
        }
        Some(c) => Err(status::bad_request(format!(
            "container {c} is not valid for pod {pod}"
        ))),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => Err(status::bad_request(format!(
            "a container name must be specified for pod {pod}, choose one of: [{}]",
            containers.join(" ")
        ))),
    }
}

/// `GET pods/NAME/log`, answered by the test's closure.
fn logs(shared: &Shared, info: &RequestInfo, query: Option<&str>) -> Response<Body> {
    let q = server::query_map(query);
    let namespace = info.namespace.clone().unwrap_or_default();
    let pod = info.name.clone().unwrap_or_default();
    let container = match container_of(
        &shared.store,
        &namespace,
        &pod,
        q.get("container").map(String::as_str),
    ) {
        Ok(c) => c,
        Err(f) => return server::fail(f),
    };
    let flag = |k: &str| q.get(k).is_some_and(|v| v == "true" || v == "1");
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let options = LogOptions {
        follow: flag("follow"),
        previous: flag("previous"),
        timestamps: flag("timestamps"),
        tail_lines: number("tailLines"),
        since_seconds: number("sinceSeconds"),
        limit_bytes: number("limitBytes"),
    };
    let handler = shared
        .controls
        .logs
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let Some(handler) = handler else {
        // No kubelet runs the pod. A pod on no node has no log yet: the real server answers
        // 204; one bound to a node is what a real cluster says of a container never started.
        let scheduled = kuber_api::KINDS
            .iter()
            .find(|k| k.group.is_empty() && k.version == "v1" && k.plural == "pods")
            .and_then(|kind| shared.store.get(kind, Some(&namespace), &pod).ok())
            .and_then(|p| {
                p.pointer("/spec/nodeName")
                    .and_then(Value::as_str)
                    .map(str::len)
            })
            .is_some_and(|len| len > 0);
        if !scheduled {
            let mut r = Response::new(Full::new(Bytes::new()).boxed_unsync());
            *r.status_mut() = hyper::StatusCode::NO_CONTENT;
            return r;
        }
        return server::fail(status::bad_request(format!(
            "container \"{container}\" in pod \"{pod}\" is waiting to start: ContainerCreating"
        )));
    };
    let pod_ref = PodRef {
        namespace,
        name: pod,
    };
    let body: Body = match handler(&pod_ref, &container, &options) {
        LogOutput::Text(text) => Full::new(Bytes::from(text)).boxed_unsync(),
        LogOutput::Stream(chunks) => {
            StreamBody::new(chunks.map(|c| Ok::<_, Infallible>(Frame::data(Bytes::from(c)))))
                .boxed_unsync()
        }
    };
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        RequestInfo::parse(&method, path, query)
    }

    #[test]
    fn request_info_reads_verbs_and_scopes_as_the_real_server() {
        let list = info(Method::GET, "/api/v1/namespaces/ns/pods", None);
        assert_eq!(
            (
                list.verb.as_str(),
                list.resource.as_deref(),
                list.namespace.as_deref()
            ),
            ("list", Some("pods"), Some("ns"))
        );
        let watch = info(Method::GET, "/apis/apps/v1/deployments", Some("watch=true"));
        assert_eq!(
            (watch.verb.as_str(), watch.group.as_str()),
            ("watch", "apps")
        );
        assert_eq!(watch.namespace, None);
        let log = info(Method::GET, "/api/v1/namespaces/ns/pods/p/log", None);
        assert_eq!(
            (
                log.verb.as_str(),
                log.name.as_deref(),
                log.subresource.as_deref()
            ),
            ("get", Some("p"), Some("log"))
        );
        let status = info(Method::PUT, "/api/v1/namespaces/ns/status", None);
        assert_eq!(
            (
                status.resource.as_deref(),
                status.name.as_deref(),
                status.subresource.as_deref()
            ),
            (Some("namespaces"), Some("ns"), Some("status"))
        );
        assert_eq!(status.namespace.as_deref(), Some("ns"));
        let dc = info(Method::DELETE, "/api/v1/namespaces/ns/configmaps", None);
        assert_eq!(dc.verb, "deletecollection");
        let version = info(Method::GET, "/version", None);
        assert_eq!(
            (version.verb.as_str(), version.resource.as_deref()),
            ("get", None)
        );
        assert!(!Match::verb("get").resource("pods").matches(&version));
        assert!(Match::any().matches(&version));
        assert!(Match::any().resource("pods/log").matches(&log));
        assert!(!Match::any().resource("pods/exec").matches(&log));
    }
}
