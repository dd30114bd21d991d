//! HTTP: accepting connections, routing paths to kinds of the registry, and the verbs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use kuber_api::{KINDS, KindInfo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::alias;
use crate::apply;
use crate::auth::User;
use crate::controls::{self, Shared, WatchLimit};
use crate::defaults;
use crate::discovery;
use crate::openapi::{self, FieldValidation};
use crate::options::{self, DeleteOptions, OptionsKind};
use crate::patch;
use crate::pods;
use crate::schema;
use crate::select::{FieldSelector, LabelSelector};
use crate::smp;
use crate::status::{self, Failure};
use crate::store::{Change, EventType, ReadFrom, Store, Target};
use crate::table::{self, Include};

pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let Ok((socket, _)) = accepted else { continue };
        // As Go's servers: without it the TLS handshake's small writes wait ~40 ms on the
        // peer's delayed ACK.
        let _ = socket.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stopped.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(TokioIo::new(socket), shared, None, &mut stop).await,
                Some(acceptor) => {
                    // A failed handshake ends just this connection.
                    let Ok(stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    // The user of a verified client certificate this server issued.
                    let peer = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| shared.controls.auth.cert_user(c.as_ref()));
                    connection(TokioIo::new(stream), shared, peer, &mut stop).await
                }
            }
        });
    }
}

async fn connection<IO>(
    io: TokioIo<IO>,
    shared: Arc<Shared>,
    peer: Option<User>,
    stop: &mut watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let peer = peer.clone();
        async move { Ok::<_, Infallible>(controls::handle(&shared, peer, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    // With upgrades: exec and attach switch to WebSocket.
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::select! {
        _ = conn => {}
        _ = stop.changed() => {}
    }
}

fn json_response(code: u16, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub(crate) fn fail(f: Failure) -> Response<Body> {
    json_response(f.code, &f.body)
}

fn query<B>(req: &Request<B>) -> HashMap<String, String> {
    query_map(req.uri().query())
}

/// The query's parameters, decoded, in order (repeated ones included).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The query's parameters, decoded; the last of repeated ones.
pub(crate) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    query_pairs(query).into_iter().collect()
}

/// Percent-decoding, `+` as a space.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request on a kind's paths.
struct Route {
    kind: &'static KindInfo,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn find_kind(store: &Store, group: &str, version: &str, plural: &str) -> Option<&'static KindInfo> {
    KINDS
        .iter()
        .find(|k| {
            k.group == group && k.version == version && k.plural == plural && discovery::served(k)
        })
        .or_else(|| store.crds.find(group, version, plural))
}

fn route(store: &Store, group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let namespaced_kind = |p: &str| find_kind(store, group, version, p).filter(|k| k.namespaced);
    let (kind, namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_kind(plural).is_some() => {
            (namespaced_kind(plural)?, Some((*ns).to_owned()), tail)
        }
        [plural, tail @ ..] => (find_kind(store, group, version, plural)?, None, tail),
        [] => return None,
    };
    let (name, subresource) = match rest {
        [] => (None, None),
        [name] => (Some((*name).to_owned()), None),
        [name, sub] => (Some((*name).to_owned()), Some((*sub).to_owned())),
        _ => return None,
    };
    Some(Route {
        kind,
        namespace,
        name,
        subresource,
    })
}

pub(crate) async fn handle<B>(store: &Arc<Store>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body,
    B::Error: std::fmt::Display,
{
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = req.method() == Method::GET;
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] if get => return json_response(200, &discovery::version()),
        ["healthz" | "livez" | "readyz"] if get => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"ok")).boxed_unsync());
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return r;
        }
        ["api"] if get && discovery::wants_aggregated(&accept) => {
            return aggregated_response(&discovery::aggregated(true, &store.crds));
        }
        ["apis"] if get && discovery::wants_aggregated(&accept) => {
            return aggregated_response(&discovery::aggregated(false, &store.crds));
        }
        ["api"] if get => return json_response(200, &discovery::core_versions(&host)),
        ["apis"] if get => return json_response(200, &discovery::group_list(&store.crds)),
        ["openapi", "v3"] if get => return json_response(200, &openapi::index()),
        ["openapi", "v3", doc @ ..] if get => {
            return match openapi::document(&doc.join("/")) {
                Some(bytes) => bytes_response(bytes),
                None => fail(status::no_route()),
            };
        }
        ["apis", g] if get => {
            return match discovery::group(g, &store.crds) {
                Some(v) => json_response(200, &v),
                None => fail(status::no_route()),
            };
        }
        ["api", "v1"] if get => {
            return match discovery::resource_list("", "v1") {
                Some(v) => json_response(200, &v),
                None => fail(status::no_route()),
            };
        }
        ["apis", g, v] if get => {
            return match discovery::resource_list(g, v).or_else(|| store.crds.resource_list(g, v)) {
                Some(l) => json_response(200, &l),
                None => fail(status::no_route()),
            };
        }
        ["api", "v1", rest @ ..] => (String::new(), "v1".to_owned(), rest.to_vec()),
        ["apis", g, v, rest @ ..] => ((*g).to_owned(), (*v).to_owned(), rest.to_vec()),
        _ => return fail(status::no_route()),
    };
    let Some(mut route) = route(store, &group, &version, &rest) else {
        return fail(status::no_route());
    };
    // A kind stored as another (events.k8s.io/v1 Events as core/v1 ones): the request is served
    // for the storage kind, its body and answers converted.
    let view =
        alias::storage_of(route.kind).map(|storage| std::mem::replace(&mut route.kind, storage));
    let q = query(&req);
    let uri = req.uri().clone();
    let watch_limit = req.extensions().get::<WatchLimit>().map(|l| l.0);
    let method = req.method().clone();
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Bodies are JSON only (no protobuf, no CBOR), as for custom resources.
    let base = content_type.split(';').next().unwrap_or("").trim();
    if matches!(method, Method::POST | Method::PUT)
        && !base.is_empty()
        && base != "application/json"
        && base != "*/*"
    {
        return fail(status::unsupported_media_type(base));
    }
    let user_agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return fail(status::bad_request(format!("reading the body: {e}"))),
    };
    if view.is_some() && !body.is_empty() {
        let parsed = if base == "application/apply-patch+yaml" {
            std::str::from_utf8(&body)
                .ok()
                .and_then(|t| serde_saphyr::from_str::<Value>(t).ok())
        } else {
            serde_json::from_slice::<Value>(&body).ok()
        };
        // A body that does not parse is left for the verb to refuse.
        if let Some(mut value) = parsed {
            alias::body_to_storage(route.kind, &mut value);
            if let Ok(bytes) = serde_json::to_vec(&value) {
                body = Bytes::from(bytes);
            }
        }
    }
    let pairs = query_pairs(uri.query());
    let write = Write {
        pairs: &pairs,
        content_type: &content_type,
        user_agent: &user_agent,
        body: &body,
    };
    let as_table = match table::wanted(&accept) {
        Some(api_version) => match Include::parse(q.get("includeObject").map(String::as_str)) {
            Ok(include) => Some((api_version, include)),
            Err(e) => return fail(status::bad_request(e)),
        },
        None => None,
    };
    let mut warnings = Vec::new();
    let answer = match verb(store, route, &method, &q, &write, &mut warnings) {
        Ok(Answer::Json(code, mut v)) => {
            if let Some(view) = view {
                alias::answer_to_view(view, &mut v);
            }
            Ok(Answer::Json(code, v))
        }
        other => other,
    };
    let mut response = match answer {
        Ok(Answer::Json(200, v)) if method == Method::GET && as_table.is_some() => {
            let (api_version, include) = as_table.unwrap_or(("", Include::None));
            json_response(200, &table::answer(api_version, &v, include))
        }
        Ok(Answer::Json(code, v)) => json_response(code, &v),
        Ok(Answer::Watch(mut w)) => {
            w.table = as_table;
            w.limit = watch_limit;
            w.view = view;
            watch_response(store, w)
        }
        Err(f) => fail(f),
    };
    for warning in warnings {
        let text = format!("299 - {}", serde_json::Value::String(warning));
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(hyper::header::WARNING, v);
        }
    }
    response
}

/// Aggregated discovery, with the Content-Type parameters client-go recognises it by.
fn aggregated_response(body: &Value) -> Response<Body> {
    let mut r = json_response(200, body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(discovery::AGGREGATED_CONTENT_TYPE),
    );
    r
}

fn bytes_response(bytes: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(bytes).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `fieldValidation`: fields `kind`'s schema does not declare fail the write (Strict), or
/// come back as warnings (Warn); unless refused, they are dropped, as the real server's typed
/// decoding drops them.
fn validate_fields(
    kind: &KindInfo,
    object: &mut Value,
    q: &HashMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<(), Failure> {
    let mode = FieldValidation::parse(q.get("fieldValidation").map(String::as_str))
        .map_err(status::bad_request)?;
    let unknown: Vec<String> =
        openapi::unknown_fields(kind, object, mode != FieldValidation::Strict)
            .into_iter()
            .map(|f| format!("unknown field {}", Value::String(f)))
            .collect();
    if unknown.is_empty() || mode == FieldValidation::Ignore {
        return Ok(());
    }
    if mode == FieldValidation::Strict {
        return Err(status::bad_request(format!(
            "{kind} in version {version} cannot be handled as a {kind}: strict decoding error: {}",
            unknown.join(", "),
            kind = kind.kind,
            version = Value::String(kind.version.to_owned()),
        )));
    }
    warnings.extend(unknown);
    Ok(())
}

enum Answer {
    Json(u16, Value),
    Watch(WatchRequest),
}

struct WatchRequest {
    kind: &'static KindInfo,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    from: Option<u64>,
    bookmarks: bool,
    initial_events_end: bool,
    timeout: Option<Duration>,
    /// Events' objects as Tables (`kubectl get -w`).
    table: Option<(&'static str, Include)>,
    /// Ends the watch after this many events (a test control).
    limit: Option<usize>,
    /// The kind the watcher asked for, when its objects are stored as another's.
    view: Option<&'static KindInfo>,
}

fn parse_body(body: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| status::bad_request(format!("the body of the request is not valid JSON: {e}")))
}

/// What a write brings besides its route and query.
struct Write<'a> {
    /// The query's parameters in order, repeated ones included.
    pairs: &'a [(String, String)],
    content_type: &'a str,
    user_agent: &'a str,
    body: &'a Bytes,
}

/// A patch type the route does not take. Built-in kinds answer as their router does; custom
/// resources (no schema in the spec, no strategic merge patch) list what they take.
fn unsupported_patch(kind: &KindInfo, content_type: &str) -> Option<Failure> {
    let built_in = schema::for_kind(kind.group, kind.version, kind.kind).is_some();
    let known = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ];
    if known.contains(&content_type)
        || (built_in && content_type == "application/strategic-merge-patch+json")
    {
        return None;
    }
    let mut f = if built_in {
        status::failure(
            415,
            "UnsupportedMediaType",
            "415: Unsupported Media Type".into(),
            Some(json!({})),
        )
    } else {
        status::failure(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/apply-patch+cbor".into(),
            None,
        )
    };
    if !built_in && let Some(o) = f.body.as_object_mut() {
        o.remove("details");
    }
    Some(f)
}

fn patch_options_invalid(field: &str, reason: &str, message: &str) -> Failure {
    status::failure(
        422,
        "Invalid",
        format!("PatchOptions.meta.k8s.io \"\" is invalid: {field}: {message}"),
        Some(json!({
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [{"reason": reason, "message": message, "field": field}],
        })),
    )
}

/// An apply body: JSON, or YAML.
fn parse_apply_body(body: &Bytes) -> Result<Value, Failure> {
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| status::bad_request(format!("the applied configuration is not UTF-8: {e}")))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| status::bad_request(format!("error decoding YAML: {e}")))
}

fn verb(
    store: &Arc<Store>,
    route: Route,
    method: &Method,
    q: &HashMap<String, String>,
    write: &Write,
    warnings: &mut Vec<String>,
) -> Result<Answer, Failure> {
    let (content_type, body) = (write.content_type, write.body);
    let options_kind = match *method {
        Method::POST => Some(OptionsKind::Create),
        Method::PUT => Some(OptionsKind::Update),
        Method::PATCH => Some(OptionsKind::Patch),
        _ => None,
    };
    let dry = match options_kind {
        Some(k) => options::dry_run(
            write
                .pairs
                .iter()
                .filter(|(n, _)| n == "dryRun")
                .map(|(_, v)| v.as_str()),
            k,
        )?,
        None => false,
    };
    let manager = q
        .get("fieldManager")
        .cloned()
        .unwrap_or_else(|| apply::default_manager(write.user_agent));
    let kind = route.kind;
    let ns = route.namespace.as_deref();
    // A namespaced kind's objects are named within a namespace; without one only the
    // collection (lists and watches across namespaces) is served.
    if kind.namespaced && ns.is_none() && (route.name.is_some() || method != Method::GET) {
        return Err(status::no_route());
    }
    if let (Some(sub), Some(name), Some(ns), &Method::POST) = (
        route.subresource.as_deref(),
        route.name.as_deref(),
        ns,
        method,
    ) && kind.group.is_empty()
        && kind.plural == "pods"
        && let Some(answer) = pods::post(store, sub, ns, name, &parse_body(body)?, dry)
    {
        return answer.map(|v| Answer::Json(201, v));
    }
    let target = match route.subresource.as_deref() {
        None => Target::Main,
        Some("status") if kind.subresource("status").is_some() => Target::Status,
        Some("scale") if kind.subresource("scale").is_some() => {
            return scale(store, &route, method, dry, content_type, body);
        }
        Some(s) if kind.subresource(s).is_some() => return Err(status::method_not_allowed()),
        Some(_) => return Err(status::no_route()),
    };
    let needs = |verb: &str| {
        if matches!(target, Target::Status) || kind.supports(verb) {
            Ok(())
        } else {
            Err(status::method_not_allowed())
        }
    };
    match (method, route.name.as_deref()) {
        (&Method::GET, None) => {
            let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
                .map_err(|e| status::bad_request(e.to_string()))?;
            let fields = FieldSelector::parse_for(
                q.get("fieldSelector").map_or("", String::as_str),
                kind.group,
                kind.plural,
            )
            .map_err(|e| status::bad_request(e.to_string()))?;
            let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
            let read_from = ReadFrom::parse(
                q.get("resourceVersion").map(String::as_str),
                q.get("resourceVersionMatch").map(String::as_str),
                q.get("sendInitialEvents").map(String::as_str),
                watching,
            )?;
            if watching {
                needs("watch")?;
                let rv = q.get("resourceVersion").map_or("", String::as_str);
                let initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
                let from = match rv {
                    "" | "0" => None,
                    _ if initial => None,
                    rv => Some(rv.parse::<u64>().map_err(|_| {
                        status::bad_request(format!("invalid resource version: {rv}"))
                    })?),
                };
                let timeout = q
                    .get("timeoutSeconds")
                    .and_then(|t| t.parse::<u64>().ok())
                    .map(Duration::from_secs);
                let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
                return Ok(Answer::Watch(WatchRequest {
                    kind,
                    namespace: route.namespace,
                    labels,
                    fields,
                    from,
                    bookmarks,
                    initial_events_end: initial && bookmarks,
                    timeout,
                    table: None,
                    limit: None,
                    view: None,
                }));
            }
            needs("list")?;
            let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok());
            let selecting = q.get("labelSelector").is_some_and(|s| !s.is_empty())
                || q.get("fieldSelector").is_some_and(|s| !s.is_empty());
            let list = store.list(
                kind,
                ns,
                &labels,
                &fields,
                limit,
                q.get("continue").map(String::as_str),
                selecting,
                read_from,
            )?;
            Ok(Answer::Json(200, list))
        }
        (&Method::GET, Some(name)) => {
            needs("get")?;
            Ok(Answer::Json(200, store.get(kind, ns, name)?))
        }
        (&Method::POST, None) => {
            needs("post")?;
            let mut object = parse_body(body)?;
            validate_fields(kind, &mut object, q, warnings)?;
            defaults::scheme(kind, &mut object);
            store.crds.shape(kind, &mut object);
            apply::record_update(kind, None, &mut object, &manager, "");
            Ok(Answer::Json(201, store.create(kind, ns, object, dry)?))
        }
        (&Method::PUT, Some(name)) => {
            needs("put")?;
            let mut object = parse_body(body)?;
            validate_fields(kind, &mut object, q, warnings)?;
            // Custom kinds take no unconditional update.
            if store
                .crds
                .find(kind.group, kind.version, kind.plural)
                .is_some()
                && object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                return Err(status::invalid(
                    kind.plural,
                    kind.group,
                    name,
                    &[(
                        "metadata.resourceVersion",
                        "FieldValueInvalid",
                        "Invalid value: 0: must be specified for an update".into(),
                    )],
                ));
            }
            defaults::scheme(kind, &mut object);
            store.crds.shape(kind, &mut object);
            if let Ok(old) = store.get(kind, ns, name) {
                apply::record_update(kind, Some(&old), &mut object, &manager, subresource(target));
            }
            Ok(Answer::Json(
                200,
                store.replace(kind, ns, name, object, target, dry)?,
            ))
        }
        (&Method::PATCH, Some(name)) => {
            needs("patch")?;
            let base = content_type.split(';').next().unwrap_or("").trim();
            if let Some(f) = unsupported_patch(kind, base) {
                return Err(f);
            }
            let applying = base == "application/apply-patch+yaml";
            let force = q.get("force").is_some_and(|f| f == "true" || f == "1");
            if applying && q.get("fieldManager").is_none_or(|m| m.is_empty()) {
                return Err(patch_options_invalid(
                    "fieldManager",
                    "FieldValueRequired",
                    "Required value: is required for apply patch",
                ));
            }
            if !applying && q.contains_key("force") {
                return Err(patch_options_invalid(
                    "force",
                    "FieldValueForbidden",
                    "Forbidden: may not be specified for non-apply patch",
                ));
            }
            let patch = if applying {
                parse_apply_body(body)?
            } else {
                parse_body(body)?
            };
            let sub = subresource(target);
            // A patch that names no resourceVersion applies to whatever is current, so a write
            // in between makes the server try again rather than answer 409.
            let mut attempts = 0;
            loop {
                // Warnings of the attempt that is kept.
                let mut attempt_warnings = Vec::new();
                let current = match store.get(kind, ns, name) {
                    Err(f) if f.code == 404 && applying && matches!(target, Target::Main) => {
                        let mut object =
                            apply::apply(kind, None, patch.clone(), &manager, force, sub)?;
                        object["metadata"]["name"] = json!(name);
                        validate_fields(kind, &mut object, q, warnings)?;
                        defaults::scheme(kind, &mut object);
                        store.crds.shape(kind, &mut object);
                        match store.create(kind, ns, object, dry) {
                            Err(f) if f.code == 409 && attempts < 5 => {
                                attempts += 1;
                                continue;
                            }
                            answer => return Ok(Answer::Json(201, answer?)),
                        }
                    }
                    other => other?,
                };
                let before = current.pointer("/metadata/resourceVersion").cloned();
                let mut object = match base {
                    "application/apply-patch+yaml" => {
                        let mut object = apply::apply(
                            kind,
                            Some(&current),
                            patch.clone(),
                            &manager,
                            force,
                            sub,
                        )?;
                        defaults::scheme(kind, &mut object);
                        store.crds.shape(kind, &mut object);
                        object
                    }
                    _ => {
                        let mut object = current.clone();
                        match base {
                            "application/merge-patch+json" => patch::merge(&mut object, &patch),
                            "application/json-patch+json" => patch::json_patch(&mut object, &patch)
                                .map_err(|e| match e {
                                    // The real server's words for both.
                                    patch::JsonPatchError::NotAnArray => status::bad_request(
                                        "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp".into(),
                                    ),
                                    patch::JsonPatchError::Op { .. } => status::failure(
                                        422,
                                        "Invalid",
                                        "the server rejected our request due to an error in our request".into(),
                                        Some(json!({})),
                                    ),
                                })?,
                            _ => {
                                let node = schema::for_kind(kind.group, kind.version, kind.kind);
                                smp::apply(&mut object, &patch, node).map_err(|e| match e {
                                    smp::SmpError::BadRequest(m) => status::bad_request(m),
                                    smp::SmpError::Invalid(m) => {
                                        status::failure(422, "Invalid", m, None)
                                    }
                                })?
                            }
                        }
                        defaults::scheme(kind, &mut object);
                        store.crds.shape(kind, &mut object);
                        apply::record_update(kind, Some(&current), &mut object, &manager, sub);
                        object
                    }
                };
                validate_fields(kind, &mut object, q, &mut attempt_warnings)?;
                let pinned = object.pointer("/metadata/resourceVersion").cloned() != before
                    || patch.pointer("/metadata/resourceVersion").is_some();
                match store.replace(kind, ns, name, object, target, dry) {
                    Err(f) if f.code == 409 && !pinned && attempts < 5 => attempts += 1,
                    answer => {
                        warnings.extend(attempt_warnings);
                        return Ok(Answer::Json(200, answer?));
                    }
                }
            }
        }
        (&Method::DELETE, Some(name)) => {
            needs("delete")?;
            let options = DeleteOptions::read(kind, body, write.pairs)?;
            let (object, held) = store.delete_with(
                kind,
                ns,
                name,
                options.precondition_rv.as_deref(),
                options.precondition_uid.as_deref(),
                options.dry_run,
                options.policy,
            )?;
            // Held by finalizers: the object, marked for deletion (200, as for Jobs).
            if held {
                return Ok(Answer::Json(200, object));
            }
            if Store::returns_deleted_object(kind) {
                return Ok(Answer::Json(200, object));
            }
            let uid = object
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or("");
            Ok(Answer::Json(
                200,
                status::deleted(kind.group, kind.plural, name, uid),
            ))
        }
        (&Method::DELETE, None) => {
            needs("deletecollection")?;
            let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
                .map_err(|e| status::bad_request(e.to_string()))?;
            let fields = FieldSelector::parse_for(
                q.get("fieldSelector").map_or("", String::as_str),
                kind.group,
                kind.plural,
            )
            .map_err(|e| status::bad_request(e.to_string()))?;
            let options = DeleteOptions::read(kind, body, write.pairs)?;
            let selected = store.list(
                kind,
                ns,
                &labels,
                &fields,
                None,
                None,
                true,
                ReadFrom::Latest,
            )?;
            let mut deleted = Vec::new();
            for item in selected["items"].as_array().into_iter().flatten() {
                let name = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let item_ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
                // Gone meanwhile: not an error for a collection delete.
                if let Ok((mut object, _)) = store.delete_with(
                    kind,
                    item_ns,
                    name,
                    None,
                    None,
                    options.dry_run,
                    options.policy,
                ) && let Some(o) = object.as_object_mut()
                {
                    o.remove("apiVersion");
                    o.remove("kind");
                    deleted.push(object);
                }
            }
            let mut list = selected;
            list["items"] = Value::Array(deleted);
            list["metadata"] = json!({"resourceVersion": store.resource_version().to_string()});
            Ok(Answer::Json(200, list))
        }
        _ => Err(status::method_not_allowed()),
    }
}

fn subresource(target: Target) -> &'static str {
    match target {
        Target::Main => "",
        Target::Status => "status",
    }
}

/// The scale subresource: GET, PUT, and merge or JSON patches of the `Scale`.
fn scale(
    store: &Arc<Store>,
    route: &Route,
    method: &Method,
    dry: bool,
    content_type: &str,
    body: &Bytes,
) -> Result<Answer, Failure> {
    let (kind, ns) = (route.kind, route.namespace.as_deref());
    let Some(name) = route.name.as_deref() else {
        return Err(status::no_route());
    };
    let new = match *method {
        Method::GET => return Ok(Answer::Json(200, store.get_scale(kind, ns, name)?)),
        Method::PUT => parse_body(body)?,
        Method::PATCH => {
            let patch = parse_body(body)?;
            let mut current = store.get_scale(kind, ns, name)?;
            match content_type.split(';').next().unwrap_or("").trim() {
                "application/merge-patch+json" => patch::merge(&mut current, &patch),
                "application/json-patch+json" => patch::json_patch(&mut current, &patch)
                    .map_err(|e| status::failure(422, "Invalid", e.to_string(), None))?,
                other => return Err(status::unsupported_media_type(other)),
            }
            if let Some(m) = current.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
            }
            current
        }
        _ => return Err(status::method_not_allowed()),
    };
    Ok(Answer::Json(
        200,
        store.set_scale(kind, ns, name, &new, dry)?,
    ))
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
    Some(json!({"type": kind.as_str(), "object": object}))
}

fn bookmark(w: &WatchRequest, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"type": "BOOKMARK", "object": {"kind": w.kind.kind, "apiVersion": w.kind.api_version, "metadata": metadata}})
}

fn line(v: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn watch_response(store: &Arc<Store>, w: WatchRequest) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let interval = store.options.bookmark_interval;
    match store.watch(w.kind, w.from) {
        Err(f) => {
            let event = json!({"type": "ERROR", "object": f.body});
            let _ = tx.try_send(line(&event));
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
                        if tx.send(line(&e)).await.is_err() || left == 0 {
                            return;
                        }
                    }
                    rv = rv.max(change.rv);
                }
                if w.initial_events_end && tx.send(line(&bookmark(&w, rv, true))).await.is_err() {
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
                            if tx.send(line(&bookmark(&w, rv, false))).await.is_err() {
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
                                    if tx.send(line(&e)).await.is_err() || left == 0 {
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
        Some((Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    let mut r = Response::new(StreamBody::new(body).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
