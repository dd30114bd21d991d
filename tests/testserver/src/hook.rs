//! Requests a test answers by hand ([`crate::TestServer::on_request`]): any status, headers and
//! body — whole, or chunks that may stall or end with an error — or a pass to the server.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};

use crate::request::{Parsed, RequestInfo, SECRET_HEADERS};
use crate::response::{self, Body, BoxError};

/// A request as a hook sees it: as received, credentials included (`Debug` leaves them out).
#[derive(Clone)]
pub struct HookRequest {
    pub method: String,
    /// As sent (still percent-encoded).
    pub path: String,
    /// The query as sent (still percent-encoded).
    pub raw_query: Option<String>,
    /// Decoded, in the order sent.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub info: RequestInfo,
}

impl HookRequest {
    pub(crate) fn of(req: &Parsed) -> HookRequest {
        HookRequest {
            method: req.method.to_string(),
            path: req.raw_path.clone(),
            raw_query: req.raw_query.clone(),
            query: req.query.pairs().to_vec(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            info: req.info.clone(),
        }
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Header `name`, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl std::fmt::Debug for HookRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| match SECRET_HEADERS.contains(&k.as_str()) {
                true => (k.as_str(), "<redacted>"),
                false => (k.as_str(), v.to_str().unwrap_or("<not text>")),
            })
            .collect();
        f.debug_struct("HookRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("info", &self.info)
            .finish()
    }
}

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

enum ReplyBody {
    Whole(Bytes),
    Chunks(Chunks),
}

/// A hand-written answer: `Reply::new(503).header("Retry-After", "2").body("busy")`.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: ReplyBody,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Reply {
    /// An empty answer with this status (an unknown code is sent as 500).
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Whole(Bytes::new()),
        }
    }

    /// `body` as JSON text, with `Content-Type: application/json`.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::new(status)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// Adds a header; a name or value HTTP does not allow is left out.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The whole body, sent as it is (malformed JSON included).
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = ReplyBody::Whole(body.into());
        self
    }

    /// The body as chunks sent as they come: a stream that stays pending stalls the answer,
    /// one that ends with an error cuts it (the connection is closed mid-body).
    pub fn chunks(
        mut self,
        chunks: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Reply {
        self.body = ReplyBody::Chunks(Box::pin(chunks));
        self
    }

    pub(crate) fn into_response(self) -> Response<Body> {
        let body = match self.body {
            ReplyBody::Whole(bytes) => response::full(bytes),
            ReplyBody::Chunks(chunks) => StreamBody::new(
                chunks.map(|c| c.map(Frame::data).map_err(|e| Box::new(e) as BoxError)),
            )
            .boxed_unsync(),
        };
        let mut r = Response::new(body);
        *r.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                r.headers_mut().append(n, v);
            }
        }
        r
    }
}

pub(crate) type HookHandler = Arc<dyn Fn(&HookRequest) -> Option<Reply> + Send + Sync>;
