//! Watches: the events of the store's feed a watch selects, bookmarks, the initial-events-end
//! bookmark, and the test control that ends a watch after some events.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use kuber_api::KindInfo;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::alias;
use crate::response::{Body, BoxError};
use crate::select::{FieldSelector, LabelSelector};
use crate::status::Failure;
use crate::store::{Change, EventType, Store};
use crate::table::{self, Include};

/// A watch to serve.
pub(crate) struct WatchRequest {
    pub kind: &'static KindInfo,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub from: Option<u64>,
    pub bookmarks: bool,
    pub initial_events_end: bool,
    pub timeout: Option<Duration>,
    /// Events' objects as Tables (`kubectl get -w`).
    pub table: Option<(&'static str, Include)>,
    /// Ends the watch after this many events (a test control).
    pub limit: Option<usize>,
    /// The kind the watcher asked for, when its objects are stored as another's.
    pub view: Option<&'static KindInfo>,
    /// Length-prefixed protobuf frames rather than JSON lines.
    pub protobuf: bool,
    /// Events' objects as PartialObjectMetadata of this apiVersion.
    pub partial: Option<&'static str>,
}

/// The watch event of `change` for this watch, if it concerns it: selector transitions turn
/// modifications into ADDED or DELETED.
fn event_for(w: &WatchRequest, change: &Change) -> Option<Value> {
    if change.resource != (w.kind.group.to_owned(), w.kind.plural.to_owned()) {
        return None;
    }
    let selected = |o: &Value| {
        let ns_ok = w
            .namespace
            .as_deref()
            .is_none_or(|ns| o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns));
        ns_ok && w.labels.matches_object(o) && w.fields.matches_object(o)
    };
    let now = selected(&change.object);
    let before = change.old.as_ref().is_some_and(selected);
    let kind = match change.kind {
        EventType::Modified if now && before => EventType::Modified,
        EventType::Modified if now => EventType::Added,
        EventType::Modified if before => EventType::Deleted,
        EventType::Modified => return None,
        k if now => k,
        _ => return None,
    };
    let mut object = change.object.clone();
    object["apiVersion"] = json!(w.kind.api_version);
    object["kind"] = json!(w.kind.kind);
    if let Some(view) = w.view {
        alias::object_to_view(view, &mut object);
    }
    if let Some((api_version, include)) = w.table {
        object = table::answer(api_version, &object, include);
    }
    if let Some(api_version) = w.partial {
        object = table::partial_object(api_version, &object);
    }
    Some(json!({"type": kind.as_str(), "object": object}))
}

fn bookmark(w: &WatchRequest, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    // A kind served as another's view (events.k8s.io Events) bookmarks in its own form: in
    // protobuf the type decides the field numbers.
    let shown = w.view.unwrap_or(w.kind);
    let (kind, api_version) = match w.partial {
        Some(api_version) => ("PartialObjectMetadata", api_version),
        None => (shown.kind, shown.api_version),
    };
    json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version, "metadata": metadata}})
}

/// One event as sent: a JSON line, or a protobuf frame.
fn line(protobuf: bool, v: &Value) -> Bytes {
    if protobuf {
        return Bytes::from(crate::protobuf::watch_frame(v));
    }
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

pub(crate) fn watch_response(store: &Arc<Store>, w: WatchRequest) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let content_type = if w.protobuf {
        crate::protobuf::WATCH_CONTENT_TYPE
    } else {
        "application/json"
    };
    let interval = store.options.bookmark_interval;
    match store.watch(w.kind, w.from) {
        Err(e) => {
            let f: Failure = e.into();
            let event = json!({"type": "ERROR", "object": f.body});
            let _ = tx.try_send(line(w.protobuf, &event));
        }
        Ok(start) => {
            tokio::spawn(async move {
                let mut rv = start.rv;
                // Events left before a test control ends the watch.
                let mut left = w.limit.unwrap_or(usize::MAX);
                if left == 0 {
                    return;
                }
                for change in &start.backlog {
                    if let Some(e) = event_for(&w, change) {
                        left = left.saturating_sub(1);
                        if tx.send(line(w.protobuf, &e)).await.is_err() || left == 0 {
                            return;
                        }
                    }
                    rv = rv.max(change.rv);
                }
                if w.initial_events_end
                    && tx
                        .send(line(w.protobuf, &bookmark(&w, rv, true)))
                        .await
                        .is_err()
                {
                    return;
                }
                let mut live = start.live;
                let deadline = w.timeout.map(|t| tokio::time::Instant::now() + t);
                let mut ticks = tokio::time::interval(interval);
                ticks.tick().await;
                loop {
                    let sleep = async {
                        match deadline {
                            Some(d) => tokio::time::sleep_until(d).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = sleep => return,
                        _ = tx.closed() => return,
                        _ = ticks.tick(), if w.bookmarks => {
                            if tx.send(line(w.protobuf, &bookmark(&w, rv, false))).await.is_err() {
                                return;
                            }
                        }
                        change = live.recv() => match change {
                            Ok(change) => {
                                if change.rv <= start.rv {
                                    continue;
                                }
                                rv = change.rv;
                                if let Some(e) = event_for(&w, &change) {
                                    left = left.saturating_sub(1);
                                    if tx.send(line(w.protobuf, &e)).await.is_err() || left == 0 {
                                        return;
                                    }
                                }
                            }
                            // Too slow a reader, or the server stopped: the watch ends.
                            Err(broadcast::error::RecvError::Lagged(_))
                            | Err(broadcast::error::RecvError::Closed) => return,
                        },
                    }
                }
            });
        }
    }
    let body = stream::unfold(rx, |mut rx| async move {
        let bytes = rx.recv().await?;
        Some((Ok::<_, BoxError>(Frame::data(bytes)), rx))
    });
    let mut r = Response::new(StreamBody::new(body).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
