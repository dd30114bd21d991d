//! A local HTTP/1.1 server that plays one replay file back: each request it receives is checked
//! against the next recorded exchange and answered with that exchange's recorded response.
//!
//! What must match: the method, the path, the query as a multiset of decoded `(name, value)`
//! pairs (recorded URLs start their query with `?&`; `+` and `%20` are both a space), the content
//! type (none recorded means no body) and, when there is a body, the body as a
//! `serde_json::Value`. A request that does not match still gets the recorded answer, so the
//! exchanges after it stay in step and are judged on their own.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::compare::shorten;
use crate::replay::Exchange;

/// How many pieces a watch body is sent in: enough that events are cut mid-line.
const WATCH_CHUNKS: usize = 4;
/// Pause between those pieces, so they reach the client as separate reads.
const CHUNK_PAUSE: Duration = Duration::from_millis(2);

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What one request looked like on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub method: String,
    /// Path and query as sent, e.g. `/api/v1/namespaces/default/pods?limit=5`.
    pub target: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// How an exchange fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No request reached the server for it.
    NotRequested,
    /// The request matched.
    Matched,
    /// The request differed; one message per difference.
    Mismatch(Vec<String>),
}

/// Every exchange's [`Check`], in file order, and the requests that came after the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub checks: Vec<Check>,
    /// Requests beyond the recorded exchanges, as `METHOD target`.
    pub unexpected: Vec<String>,
}

impl Report {
    pub fn matched(&self, index: usize) -> bool {
        matches!(self.checks.get(index), Some(Check::Matched))
    }

    /// Every exchange matched and nothing else was asked.
    pub fn all_matched(&self) -> bool {
        self.unexpected.is_empty() && self.checks.iter().all(|c| *c == Check::Matched)
    }

    /// What went wrong with exchange `index`, if anything.
    pub fn problems_of(&self, index: usize) -> Option<String> {
        match self.checks.get(index)? {
            Check::Matched => None,
            Check::NotRequested => Some("never requested".into()),
            Check::Mismatch(diffs) => Some(diffs.join("; ")),
        }
    }

    /// One line per problem, naming the exchange.
    pub fn problems(&self, exchanges: &[Exchange]) -> Vec<String> {
        let mut out = Vec::new();
        for (i, ex) in exchanges.iter().enumerate() {
            if let Some(problem) = self.problems_of(i) {
                let (method, url) = (&ex.request_method, &ex.request_url);
                out.push(format!("#{i} {method} {url}: {problem}"));
            }
        }
        out.extend(
            self.unexpected
                .iter()
                .map(|r| format!("unexpected request after the last exchange: {r}")),
        );
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let matched = self.checks.iter().filter(|c| **c == Check::Matched).count();
        write!(f, "{matched}/{} matched", self.checks.len())?;
        if !self.unexpected.is_empty() {
            write!(f, ", {} unexpected", self.unexpected.len())?;
        }
        Ok(())
    }
}

struct Shared {
    exchanges: Vec<Exchange>,
    state: Mutex<State>,
    /// Signalled when the last exchange has been taken: the server accepts no more connections.
    exhausted: Notify,
}

struct State {
    next: usize,
    checks: Vec<Check>,
    unexpected: Vec<String>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep reporting.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The server for one replay file; [`ReplayServer::finish`] stops it and says what happened.
pub struct ReplayServer {
    url: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl ReplayServer {
    /// Listens on `127.0.0.1:0` and serves `exchanges` in order.
    pub async fn start(exchanges: Vec<Exchange>) -> io::Result<ReplayServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next: 0,
                checks: vec![Check::NotRequested; exchanges.len()],
                unexpected: Vec::new(),
            }),
            exhausted: Notify::new(),
            exchanges,
        });
        if shared.exchanges.is_empty() {
            shared.exhausted.notify_one();
        }
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            Arc::clone(&connections),
        ));
        Ok(ReplayServer {
            url,
            shared,
            accept,
            connections,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops serving (open connections included) and reports on every exchange.
    pub fn finish(self) -> Report {
        self.accept.abort();
        for task in self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        let state = self.shared.lock();
        Report {
            checks: state.checks.clone(),
            unexpected: state.unexpected.clone(),
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
) {
    loop {
        let stream = tokio::select! {
            // Bounded: once every exchange is taken, no new connection is served.
            () = shared.exhausted.notified() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            // A client closing its pooled connection is not a replay problem.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = req.method().as_str().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, format!("body: {e}"))),
    };
    let sent = SentRequest {
        method,
        target,
        content_type,
        body,
    };

    let index = {
        let mut state = shared.lock();
        if state.next < shared.exchanges.len() {
            let i = state.next;
            state.next += 1;
            let diffs = compare_request(&shared.exchanges[i], &sent);
            state.checks[i] = if diffs.is_empty() {
                Check::Matched
            } else {
                Check::Mismatch(diffs)
            };
            if state.next == shared.exchanges.len() {
                shared.exhausted.notify_one();
            }
            Some(i)
        } else {
            state
                .unexpected
                .push(format!("{} {}", sent.method, sent.target));
            None
        }
    };
    Ok(match index {
        Some(i) => respond(&shared.exchanges[i]),
        None => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no recorded exchange is left for this request".into(),
        ),
    })
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut res = Response::new(Full::new(Bytes::from(text)).boxed_unsync());
    *res.status_mut() = status;
    res
}

/// The recorded answer; a watch's body goes out in a few pieces, cut wherever they fall.
fn respond(ex: &Exchange) -> Response<Body> {
    let bytes = Bytes::from(ex.response_body.clone());
    let status =
        StatusCode::from_u16(ex.response_status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if is_watch(&ex.request_url) && status.is_success() && !bytes.is_empty() {
        let size = bytes.len().div_ceil(WATCH_CHUNKS);
        let pieces: Vec<Bytes> = (0..bytes.len())
            .step_by(size)
            .map(|start| bytes.slice(start..bytes.len().min(start + size)))
            .collect();
        let frames = stream::unfold(pieces.into_iter(), |mut pieces| async move {
            let piece = pieces.next()?;
            tokio::time::sleep(CHUNK_PAUSE).await;
            Some((Ok(Frame::data(piece)), pieces))
        });
        StreamBody::new(frames).boxed_unsync()
    } else {
        Full::new(bytes).boxed_unsync()
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

fn is_watch(url: &str) -> bool {
    let (_, query) = split_target(url);
    query_pairs(query)
        .iter()
        .any(|(n, v)| n == "watch" && (v == "true" || v == "1"))
}

/// A protobuf body (the client's creates and replaces of built-in kinds) against the recorded
/// JSON request: the recorded object, encoded in protobuf as the apiserver's Go types would
/// encode it, must be the bytes sent; then the request compares as if it had sent that JSON.
/// Other requests compare as sent.
fn as_json(expected: &Exchange, sent: &SentRequest) -> Result<Option<SentRequest>, String> {
    let protobuf = sent
        .content_type
        .as_deref()
        .is_some_and(|ct| media_type(ct) == kuber_api::request::PROTOBUF);
    if !protobuf {
        return Ok(None);
    }
    let env = kuber_models::proto::decode_envelope(&sent.body).map_err(|e| e.to_string())?;
    let check = SameBytes {
        sent: &sent.body,
        recorded: &expected.request_body,
    };
    let differs = kuber_models::proto::with_message_type(env.api_version, env.kind, check)
        .ok_or_else(|| format!("no protobuf type for {}/{}", env.api_version, env.kind))??;
    Ok(Some(SentRequest {
        content_type: Some("application/json".into()),
        // The same bytes: the recorded body; else the sent value's JSON, which shows where.
        body: differs.unwrap_or_else(|| expected.request_body.clone().into()),
        ..sent.clone()
    }))
}

/// The recorded JSON body as the type the visitor is handed, encoded in protobuf, against the
/// bytes sent: `None` when they are the same, else the JSON of the value sent.
struct SameBytes<'a> {
    sent: &'a [u8],
    recorded: &'a str,
}

impl kuber_models::proto::MessageVisitor for SameBytes<'_> {
    type Output = Result<Option<Vec<u8>>, String>;
    fn visit<T>(self) -> Self::Output
    where
        T: kuber_models::proto::Message
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Clone
            + fmt::Debug
            + PartialEq
            + 'static,
    {
        use kuber_models::proto;
        let recorded: T = serde_json::from_str(self.recorded)
            .map_err(|e| format!("the recorded body does not decode: {e}"))?;
        let raw = proto::encode_lossless(&recorded)
            .ok_or("sent in protobuf, which cannot carry all the recorded body holds")?;
        let value: Value = serde_json::from_str(self.recorded).map_err(|e| e.to_string())?;
        let env = proto::decode_envelope(self.sent).map_err(|e| e.to_string())?;
        let api_version = value["apiVersion"].as_str().unwrap_or(env.api_version);
        let kind = value["kind"].as_str().unwrap_or(env.kind);
        if proto::encode_envelope(api_version, kind, &raw) == self.sent {
            return Ok(None);
        }
        let sent: T = proto::decode_object(self.sent).map_err(|e| e.to_string())?;
        serde_json::to_vec(&sent)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// What differs between the recorded request of `expected` and `sent`; empty when they match.
pub fn compare_request(expected: &Exchange, sent: &SentRequest) -> Vec<String> {
    let decoded = match as_json(expected, sent) {
        Ok(decoded) => decoded,
        Err(e) => return vec![format!("body: protobuf that does not decode ({e})")],
    };
    let sent = decoded.as_ref().unwrap_or(sent);
    let mut diffs = Vec::new();
    if !expected.request_method.eq_ignore_ascii_case(&sent.method) {
        diffs.push(format!(
            "method: expected {}, sent {}",
            expected.request_method, sent.method
        ));
    }

    let (want_path, want_query) = split_target(&expected.request_url);
    let (sent_path, sent_query) = split_target(&sent.target);
    let (want_path, sent_path) = (
        percent_decode(want_path, false),
        percent_decode(sent_path, false),
    );
    if want_path != sent_path {
        diffs.push(format!("path: expected {want_path}, sent {sent_path}"));
    }

    let (missing, extra) = multiset_difference(query_pairs(want_query), query_pairs(sent_query));
    if !missing.is_empty() || !extra.is_empty() {
        let show = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", show(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("unexpected {}", show(&extra)));
        }
        diffs.push(format!("query: {}", parts.join("; ")));
    }

    match (&expected.request_content_type, &sent.content_type) {
        (None, None) => {}
        (None, Some(ct)) => diffs.push(format!("content type: expected none (no body), sent {ct}")),
        (Some(want), None) => diffs.push(format!("content type: expected {want}, sent none")),
        (Some(want), Some(got)) if media_type(want) != media_type(got) => {
            diffs.push(format!("content type: expected {want}, sent {got}"));
        }
        (Some(_), Some(_)) => {}
    }

    match &expected.request_content_type {
        None if !sent.body.is_empty() => diffs.push(format!(
            "body: expected none, sent {} bytes",
            sent.body.len()
        )),
        None => {}
        Some(_) => diffs.extend(compare_body(&expected.request_body, &sent.body)),
    }
    diffs
}

fn compare_body(expected: &str, sent: &[u8]) -> Option<String> {
    let Ok(want) = serde_json::from_str::<Value>(expected) else {
        // Not JSON (never so in the recordings): the bytes must be the same.
        return (expected.as_bytes() != sent)
            .then(|| "body: differs from the recorded text".into());
    };
    let got = match serde_json::from_slice::<Value>(sent) {
        Ok(v) => v,
        Err(e) => return Some(format!("body: not JSON ({e})")),
    };
    let mut path = String::new();
    first_difference(Some(&want), Some(&got), &mut path).map(|(path, want, got)| {
        let show = |v: Option<&Value>| v.map_or_else(|| "(absent)".to_owned(), shorten);
        let path = if path.is_empty() { "/".into() } else { path };
        format!(
            "body: at {path} expected {}, sent {}",
            show(want),
            show(got)
        )
    })
}

type Difference<'a> = (String, Option<&'a Value>, Option<&'a Value>);

/// The first place, as a JSON pointer, where two values differ.
fn first_difference<'a>(
    want: Option<&'a Value>,
    got: Option<&'a Value>,
    path: &mut String,
) -> Option<Difference<'a>> {
    let here = |path: &String| Some((path.clone(), want, got));
    match (want, got) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let found = first_difference(a.get(k), b.get(k), path);
                path.truncate(len);
                found
            })
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => (0..a.len().max(b.len())).find_map(|i| {
            let len = path.len();
            path.push_str(&format!("/{i}"));
            let found = first_difference(a.get(i), b.get(i), path);
            path.truncate(len);
            found
        }),
        (a, b) if a == b => None,
        _ => here(path),
    }
}

/// `type/subtype` in lower case, without parameters such as `charset`.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Path and query (without `?`) of a request target.
fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

/// Decoded `(name, value)` pairs; empty pieces (the recorded `?&`) are skipped.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// What `want` has that `got` lacks, and the reverse, counting repeats.
fn multiset_difference<T: Ord + Clone>(mut want: Vec<T>, mut got: Vec<T>) -> (Vec<T>, Vec<T>) {
    want.sort();
    got.sort();
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < want.len() || j < got.len() {
        match (want.get(i), got.get(j)) {
            (Some(a), Some(b)) if a == b => (i, j) = (i + 1, j + 1),
            (Some(a), Some(b)) if a < b => {
                missing.push(a.clone());
                i += 1;
            }
            (Some(a), None) => {
                missing.push(a.clone());
                i += 1;
            }
            (_, Some(b)) => {
                extra.push(b.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (missing, extra)
}

/// `%XX` decoded (a malformed escape is kept as it is); with `plus_is_space`, `+` is a space as
/// in form-encoded queries.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    // `+` first, so that an escaped `%2B` stays a plus.
    let text = if plus_is_space {
        std::borrow::Cow::Owned(text.replace('+', " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    percent_encoding::percent_decode_str(&text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(method: &str, url: &str, content_type: Option<&str>, body: &str) -> Exchange {
        Exchange {
            request_url: url.into(),
            request_method: method.into(),
            request_body: body.into(),
            request_content_type: content_type.map(Into::into),
            response_status_code: 200,
            response_body: "{}".into(),
        }
    }

    fn sent(method: &str, target: &str, content_type: Option<&str>, body: &str) -> SentRequest {
        SentRequest {
            method: method.into(),
            target: target.into(),
            content_type: content_type.map(Into::into),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn queries_are_multisets_of_decoded_pairs() {
        let ex = exchange("GET", "/p?&labelSelector=a%3Db%20c&watch=true", None, "");
        assert!(
            compare_request(
                &ex,
                &sent("GET", "/p?watch=true&labelSelector=a%3Db+c", None, "")
            )
            .is_empty()
        );
        assert!(
            compare_request(
                &ex,
                &sent("GET", "/p?labelSelector=a=b%20c&watch=true", None, "")
            )
            .is_empty()
        );
        let diffs = compare_request(&ex, &sent("GET", "/p?watch=true&watch=true", None, ""));
        assert_eq!(
            diffs,
            ["query: missing labelSelector=a=b c; unexpected watch=true"]
        );
    }

    #[test]
    fn method_path_content_type_and_body_are_named() {
        let ex = exchange(
            "PATCH",
            "/x/a",
            Some("application/json-patch+json"),
            r#"[{"op":"add","path":"/a","value":1}]"#,
        );
        let diffs = compare_request(
            &ex,
            &sent(
                "POST",
                "/x/b",
                Some("application/merge-patch+json"),
                r#"[{"op":"add","path":"/a","value":2}]"#,
            ),
        );
        assert_eq!(
            diffs,
            [
                "method: expected PATCH, sent POST",
                "path: expected /x/a, sent /x/b",
                "content type: expected application/json-patch+json, sent application/merge-patch+json",
                "body: at /0/value expected 1, sent 2",
            ]
        );
        let get = exchange("GET", "/x", None, "");
        assert_eq!(
            compare_request(&get, &sent("GET", "/x", Some("application/json"), "{}")),
            [
                "content type: expected none (no body), sent application/json",
                "body: expected none, sent 2 bytes"
            ]
        );
    }

    #[test]
    fn bodies_compare_as_values() {
        let ex = exchange(
            "POST",
            "/x",
            Some("application/json"),
            r#"{"a":1,"b":{"c":[1,2]}}"#,
        );
        assert!(
            compare_request(
                &ex,
                &sent(
                    "POST",
                    "/x",
                    Some("application/json; charset=utf-8"),
                    r#"{"b":{"c":[1,2]},"a":1}"#
                )
            )
            .is_empty()
        );
        assert_eq!(
            compare_request(
                &ex,
                &sent(
                    "POST",
                    "/x",
                    Some("application/json"),
                    r#"{"a":1,"b":{"c":[1]}}"#
                )
            ),
            ["body: at /b/c/1 expected 2, sent (absent)"]
        );
        assert_eq!(
            compare_request(&ex, &sent("POST", "/x", Some("application/json"), "nope")),
            ["body: not JSON (expected ident at line 1 column 2)"]
        );
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%3Db%2", false), "a=b%2");
        assert_eq!(percent_decode("a+b%20c", true), "a b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%zz%", false), "%zz%");
        assert_eq!(percent_decode("a%2Bb+c", true), "a+b c");
        assert_eq!(percent_decode("%aé%e2%82%ac", false), "%aé€");
    }
}
