//! Answers: the one body type every handler returns, JSON and `Status` responses.

use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Frame, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::status::Failure;

/// Why a body stopped: only bodies a test hands in ([`crate::Reply::chunks`]) fail.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// The body of an answer of [`crate::TestServer::service`]: whole, or a stream (watches, followed
/// logs, hand-written chunks). `Send` and `Sync`, so that any client stack can hold it.
pub struct ResponseBody(Mutex<Body>);

impl ResponseBody {
    pub(crate) fn new(body: Body) -> ResponseBody {
        ResponseBody(Mutex::new(body))
    }

    fn inner(&self) -> MutexGuard<'_, Body> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseBody")
    }
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        // Polling has `&mut`: no lock is taken.
        let body = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        Pin::new(body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner().is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner().size_hint()
    }
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|n| match n {})
        .boxed_unsync()
}

/// A body of bytes with this code and Content-Type.
pub(crate) fn bytes(
    code: u16,
    content_type: &'static str,
    bytes: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(crate) fn json(code: u16, body: &Value) -> Response<Body> {
    bytes(
        code,
        "application/json",
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

pub(crate) fn fail(f: Failure) -> Response<Body> {
    json(f.code, &f.body)
}
