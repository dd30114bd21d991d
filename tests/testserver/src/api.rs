//! The API's paths: discovery and OpenAPI documents, and each kind's paths of the registry routed
//! to its verbs. Takes a parsed request; writes go through [`crate::admission`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response};
use kuber_api::{KINDS, KindInfo};
use serde_json::{Value, json};

use crate::admission::{self, Managed, Step, Writer, parse_body};
use crate::alias;
use crate::apply;
use crate::discovery;
use crate::negotiate::{self, Media};
use crate::openapi;
use crate::options::{self, OptionsKind};
use crate::pods;
use crate::protobuf;
use crate::request::{Parsed, Query};
use crate::response::{self, Body};
use crate::status::{self, Failure};
use crate::store::{Deletion, ListQuery, Store, StoreError, Target};
use crate::table::{self, Include};
use crate::watch::{self, WatchRequest};

/// A request on a kind's paths.
struct Route {
    kind: &'static KindInfo,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

/// The `(apiVersion, kind)` a write's body is: the kind's own, or a subresource's (`Binding` on
/// `pods/binding`, `Scale` on `…/scale`, `Eviction`), as the registry's operation names it.
fn body_type(kind: &'static KindInfo, route: &Route) -> (&'static str, &'static str) {
    let own = (kind.api_version, kind.kind);
    let Some(sub) = route.subresource.as_deref() else {
        return own;
    };
    kind.operations()
        .find(|o| o.subresource == sub && matches!(o.method, "POST" | "PUT") && !o.kind.is_empty())
        .map_or(own, |o| {
            let api_version = if o.kind_api_version.is_empty() {
                kind.api_version
            } else {
                o.kind_api_version
            };
            (api_version, o.kind)
        })
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

/// Serves a request on the API's paths; `watch_limit` ends a watch after that many events.
pub(crate) fn handle(
    store: &Arc<Store>,
    req: &Parsed,
    watch_limit: Option<usize>,
) -> Response<Body> {
    let Some(segments) = &req.segments else {
        // Go's HTTP server refuses a path that does not decode, before any handler.
        return response::bytes(400, "text/plain; charset=utf-8", "400 Bad Request");
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let accept = req.header(header::ACCEPT).unwrap_or("");
    if req.method == Method::GET
        && let Some(answer) = discovery_paths(store, req, &segments)
    {
        return answer;
    }
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return protobuf::fail_in(accept, status::no_route()),
    };
    match route(store, group, version, rest) {
        Some(route) => resource(store, req, route, watch_limit),
        None => protobuf::fail_in(accept, status::no_route()),
    }
}

/// GETs of discovery, version, health and OpenAPI paths; `None` for other paths.
fn discovery_paths(store: &Store, req: &Parsed, segments: &[&str]) -> Option<Response<Body>> {
    let accept = req.header(header::ACCEPT).unwrap_or("");
    let found = |v: Option<Value>| match v {
        Some(v) => response::json(200, &v),
        None => response::fail(status::no_route()),
    };
    Some(match segments {
        ["version"] => response::json(200, &discovery::version()),
        ["healthz" | "livez" | "readyz"] => response::bytes(200, "text/plain", "ok"),
        ["api"] if discovery::wants_aggregated(accept) => {
            aggregated(&discovery::aggregated(true, &store.crds))
        }
        ["apis"] if discovery::wants_aggregated(accept) => {
            aggregated(&discovery::aggregated(false, &store.crds))
        }
        ["api"] => {
            let host = req.header(header::HOST).unwrap_or("127.0.0.1");
            response::json(200, &discovery::core_versions(host))
        }
        ["apis"] => response::json(200, &discovery::group_list(&store.crds)),
        ["openapi", "v3"] => response::json(200, &openapi::index()),
        ["openapi", "v3", doc @ ..] => match openapi::document(&doc.join("/")) {
            Some(bytes) => response::bytes(200, "application/json", bytes),
            None => response::fail(status::no_route()),
        },
        ["apis", g] => found(discovery::group(g, &store.crds)),
        ["api", "v1"] => found(discovery::resource_list("", "v1")),
        ["apis", g, v] => {
            found(discovery::resource_list(g, v).or_else(|| store.crds.resource_list(g, v)))
        }
        _ => return None,
    })
}

/// Aggregated discovery, with the Content-Type parameters client-go recognises it by.
fn aggregated(body: &Value) -> Response<Body> {
    let mut r = response::json(200, body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(discovery::AGGREGATED_CONTENT_TYPE),
    );
    r
}

/// What a verb answers.
enum Answer {
    Json(u16, Value),
    Watch(WatchRequest),
}

/// One request on a kind's paths, as the verbs take it.
struct Call<'a> {
    store: &'a Arc<Store>,
    route: Route,
    method: &'a Method,
    query: &'a Query,
    /// The Content-Type without parameters.
    media_type: &'a str,
    user_agent: &'a str,
    body: &'a Bytes,
}

fn resource(
    store: &Arc<Store>,
    req: &Parsed,
    mut route: Route,
    watch_limit: Option<usize>,
) -> Response<Body> {
    // A kind stored as another (events.k8s.io/v1 Events as core/v1 ones): the request is served
    // for the storage kind, its body and answers converted.
    let view =
        alias::storage_of(route.kind).map(|storage| std::mem::replace(&mut route.kind, storage));
    let kind = route.kind;
    let custom = store
        .crds
        .find(kind.group, kind.version, kind.plural)
        .is_some();
    let accept = req.header(header::ACCEPT).unwrap_or("");
    // Failures are written in what the client accepts, protobuf included.
    let fail = |f: Failure| protobuf::fail_in(accept, f);
    // The answer's type is chosen before the body is read, as the real handlers do.
    let collection = req.method == Method::GET && route.name.is_none();
    let watching = collection && req.query.flag("watch");
    let chosen = match negotiate::output(accept, custom, collection, watching) {
        Ok(c) => c,
        Err(f) => return fail(f),
    };
    // Media types are case-insensitive (Go's mime.ParseMediaType lowercases them).
    let content_type = req
        .header(header::CONTENT_TYPE)
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut media_type = content_type.split(';').next().unwrap_or("").trim();
    let mut body = req.body.clone();
    // The kind a body is read as (its view's, for a kind stored as another).
    let body_kind = view.unwrap_or(kind);
    let reads_body = match req.method {
        Method::POST | Method::PUT => true,
        // DeleteOptions are read by the meta codecs, which take protobuf for any kind.
        Method::DELETE => !req.body.is_empty(),
        _ => false,
    };
    if reads_body {
        let read = match media_type {
            "" | "application/json" | "*/*" => Ok(None),
            negotiate::PROTOBUF if req.method == Method::DELETE => {
                protobuf::delete_options_body(&req.body).map(Some)
            }
            negotiate::PROTOBUF if custom => Err(protobuf::custom_body(kind)),
            negotiate::PROTOBUF => {
                protobuf::request_body(body_type(body_kind, &route), &req.body).map(Some)
            }
            // JSON is what the verbs read.
            negotiate::YAML => admission::parse_apply_body(&req.body)
                .map(|v| Some(serde_json::to_vec(&v).unwrap_or_default())),
            _ => Err(status::unsupported_media_type(negotiate::SUPPORTED)),
        };
        match read {
            Ok(Some(json)) => {
                body = Bytes::from(json);
                media_type = "application/json";
            }
            Ok(None) => {}
            Err(f) => return fail(f),
        }
    }
    if view.is_some() && !body.is_empty() {
        body = to_storage(kind, media_type, &body);
    }
    let as_table = match chosen.table {
        Some(api_version) => match Include::parse(req.query.get("includeObject")) {
            Ok(include) => Some((api_version, include)),
            Err(e) => return fail(status::bad_request(e)),
        },
        None => None,
    };
    let call = Call {
        store,
        route,
        method: &req.method,
        query: &req.query,
        media_type,
        user_agent: req.header(header::USER_AGENT).unwrap_or(""),
        body: &body,
    };
    let mut warnings = Vec::new();
    let mut response = match verb(&call, &mut warnings) {
        Ok(Answer::Json(code, mut v)) => {
            if let Some(view) = view {
                alias::answer_to_view(view, &mut v);
            }
            match as_table {
                Some((api_version, include)) if code == 200 && req.method == Method::GET => {
                    response::json(200, &table::answer(api_version, &v, include))
                }
                _ if code == 200 && req.method == Method::GET && chosen.partial.is_some() => {
                    let (api_version, list) = chosen.partial.unwrap_or(("", false));
                    match table::partial(api_version, &v, list) {
                        Ok(p) => response::json(200, &p),
                        Err(is_list) => fail(not_partial(kind, custom, list, is_list)),
                    }
                }
                _ if chosen.media == Media::Protobuf => protobuf::answer(code, &v),
                _ => response::json(code, &v),
            }
        }
        Ok(Answer::Watch(mut w)) => {
            w.table = as_table;
            w.limit = watch_limit;
            w.view = view;
            w.protobuf = chosen.media == Media::Protobuf;
            w.partial = chosen.partial.map(|(api_version, _)| api_version);
            watch::watch_response(store, w)
        }
        Err(f) => fail(f),
    };
    for warning in warnings {
        let text = format!("299 - {}", Value::String(warning));
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// The 406 of a PartialObjectMetadata conversion of the wrong shape, naming the Go type the
/// real server holds.
fn not_partial(kind: &KindInfo, custom: bool, wanted_list: bool, is_list: bool) -> Failure {
    let suffix = if is_list { "List" } else { "" };
    let held = if custom {
        format!("*unstructured.Unstructured{suffix}")
    } else {
        format!(
            "*{}.{}{suffix}",
            protobuf::internal_package(kind.group),
            kind.kind
        )
    };
    let (asked, what) = if wanted_list {
        ("PartialObjectMetadataList", "is not a list")
    } else {
        ("PartialObjectMetadata", "is a list")
    };
    status::failure(
        406,
        "NotAcceptable",
        format!("you requested {asked}, but the requested object {what} ({held})"),
        None,
    )
}

/// A body in the view's form turned into the storage kind's; one that does not parse is left
/// for the verb to refuse.
fn to_storage(storage: &KindInfo, media_type: &str, body: &Bytes) -> Bytes {
    let parsed = if media_type == "application/apply-patch+yaml" {
        admission::parse_apply_body(body).ok()
    } else {
        serde_json::from_slice::<Value>(body).ok()
    };
    let Some(mut value) = parsed else {
        return body.clone();
    };
    alias::body_to_storage(storage, &mut value);
    serde_json::to_vec(&value).map_or_else(|_| body.clone(), Bytes::from)
}

fn verb(call: &Call, warnings: &mut Vec<String>) -> Result<Answer, Failure> {
    let (kind, ns, method) = (
        call.route.kind,
        call.route.namespace.as_deref(),
        call.method,
    );
    // A namespaced kind's objects are named within a namespace; without one only the
    // collection (lists and watches across namespaces) is served.
    if kind.namespaced && ns.is_none() && (call.route.name.is_some() || method != Method::GET) {
        return Err(status::no_route());
    }
    let dry_run = dry_run(call)?;
    if let Some(answer) = pod_post(call, dry_run)? {
        return Ok(answer);
    }
    let target = match call.route.subresource.as_deref() {
        None => Target::Main,
        Some("status") if kind.subresource("status").is_some() => Target::Status,
        Some("scale") if kind.subresource("scale").is_some() => return scale(call, dry_run),
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
    let mut writer = Writer {
        store: call.store,
        kind,
        ns,
        query: call.query,
        dry_run,
        warnings: Vec::new(),
    };
    let answer = match (method, call.route.name.as_deref()) {
        (&Method::GET, None) if call.query.flag("watch") => {
            needs("watch")?;
            watch_of(call)
        }
        (&Method::GET, None) => {
            needs("list")?;
            let list = options::list_query(kind, call.query, false)?;
            Ok(Answer::Json(200, call.store.list(kind, ns, &list)?))
        }
        (&Method::GET, Some(name)) => {
            needs("get")?;
            Ok(Answer::Json(200, call.store.get(kind, ns, name)?))
        }
        (&Method::POST, None) => {
            needs("post")?;
            create(call, &mut writer)
        }
        (&Method::PUT, Some(name)) => {
            needs("put")?;
            replace(call, &mut writer, name, target)
        }
        (&Method::PATCH, Some(name)) => {
            needs("patch")?;
            patch(call, &mut writer, name, target)
        }
        (&Method::DELETE, Some(name)) => {
            needs("delete")?;
            delete(call, name)
        }
        (&Method::DELETE, None) => {
            needs("deletecollection")?;
            delete_collection(call)
        }
        _ => Err(status::method_not_allowed()),
    };
    warnings.append(&mut writer.warnings);
    answer
}

/// The `dryRun` of a create, update or patch (a delete's comes with its DeleteOptions).
fn dry_run(call: &Call) -> Result<bool, Failure> {
    let kind = match *call.method {
        Method::POST => OptionsKind::Create,
        Method::PUT => OptionsKind::Update,
        Method::PATCH => OptionsKind::Patch,
        _ => return Ok(false),
    };
    options::dry_run(call.query.all("dryRun"), kind)
}

/// POSTs to a pod's `eviction` and `binding`; `None` for other requests.
fn pod_post(call: &Call, dry_run: bool) -> Result<Option<Answer>, Failure> {
    let route = &call.route;
    let (Some(sub), Some(name), Some(ns), &Method::POST) = (
        route.subresource.as_deref(),
        route.name.as_deref(),
        route.namespace.as_deref(),
        call.method,
    ) else {
        return Ok(None);
    };
    if !route.kind.group.is_empty() || route.kind.plural != "pods" {
        return Ok(None);
    }
    let body = parse_body(call.body)?;
    match pods::post(call.store, sub, ns, name, &body, dry_run) {
        Some(answer) => Ok(Some(Answer::Json(201, answer?))),
        None => Ok(None),
    }
}

/// `fieldManager`, else the one the user agent makes.
fn manager(call: &Call) -> String {
    call.query
        .get("fieldManager")
        .map(str::to_owned)
        .unwrap_or_else(|| apply::default_manager(call.user_agent))
}

fn watch_of(call: &Call) -> Result<Answer, Failure> {
    let q = call.query;
    let list = options::list_query(call.route.kind, q, true)?;
    let initial = q.get("sendInitialEvents") == Some("true");
    let from = match q.get("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        _ if initial => None,
        rv => Some(
            rv.parse::<u64>()
                .map_err(|_| status::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let bookmarks = q.get("allowWatchBookmarks") == Some("true");
    Ok(Answer::Watch(WatchRequest {
        kind: call.route.kind,
        namespace: call.route.namespace.clone(),
        labels: list.labels,
        fields: list.fields,
        from,
        bookmarks,
        initial_events_end: initial && bookmarks,
        timeout: q
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map(Duration::from_secs),
        table: None,
        limit: None,
        view: None,
        protobuf: false,
        partial: None,
    }))
}

fn create(call: &Call, writer: &mut Writer) -> Result<Answer, Failure> {
    let object = parse_body(call.body)?;
    let manager = manager(call);
    let managed = Managed::Update {
        old: None,
        manager: &manager,
        subresource: "",
    };
    Ok(Answer::Json(
        201,
        writer.write(object, managed, Step::Create)?,
    ))
}

fn replace(
    call: &Call,
    writer: &mut Writer,
    name: &str,
    target: Target,
) -> Result<Answer, Failure> {
    let kind = call.route.kind;
    let object = parse_body(call.body)?;
    // Custom kinds take no unconditional update.
    if call
        .store
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
    let manager = manager(call);
    let old = call.store.get(kind, writer.ns, name).ok();
    let managed = Managed::Update {
        old: old.as_ref(),
        manager: &manager,
        subresource: subresource(target),
    };
    let step = Step::Replace { name, target };
    Ok(Answer::Json(200, writer.write(object, managed, step)?))
}

fn patch(call: &Call, writer: &mut Writer, name: &str, target: Target) -> Result<Answer, Failure> {
    let (kind, q, media_type) = (call.route.kind, call.query, call.media_type);
    if let Some(f) = admission::unsupported_patch(kind, media_type) {
        return Err(f);
    }
    let applying = media_type == "application/apply-patch+yaml";
    let force = q.flag("force");
    if applying && q.get("fieldManager").is_none_or(str::is_empty) {
        return Err(admission::patch_options_invalid(
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        ));
    }
    if !applying && q.contains("force") {
        return Err(admission::patch_options_invalid(
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
        ));
    }
    let patch = if applying {
        admission::parse_apply_body(call.body)?
    } else {
        parse_body(call.body)?
    };
    let manager = manager(call);
    let sub = subresource(target);
    // A patch that names no resourceVersion applies to whatever is current, so a write in
    // between makes the server try again rather than answer 409.
    let mut attempts = 0;
    loop {
        // Warnings of the attempt that is kept.
        writer.warnings.clear();
        let current = match call.store.get(kind, writer.ns, name) {
            Err(e) if e.is_not_found() && applying && matches!(target, Target::Main) => {
                let mut object = apply::apply(kind, None, patch.clone(), &manager, force, sub)?;
                object["metadata"]["name"] = json!(name);
                match writer.write(object, Managed::Applied, Step::Create) {
                    Err(f) if f.code == 409 && attempts < 5 => {
                        attempts += 1;
                        continue;
                    }
                    answer => return Ok(Answer::Json(201, answer?)),
                }
            }
            other => other?,
        };
        let (object, managed) = if applying {
            let object = apply::apply(kind, Some(&current), patch.clone(), &manager, force, sub)?;
            (object, Managed::Applied)
        } else {
            let object = admission::patched(kind, &current, media_type, &patch)?;
            let managed = Managed::Update {
                old: Some(&current),
                manager: &manager,
                subresource: sub,
            };
            (object, managed)
        };
        let pinned = object.pointer("/metadata/resourceVersion")
            != current.pointer("/metadata/resourceVersion")
            || patch.pointer("/metadata/resourceVersion").is_some();
        match writer.write(object, managed, Step::Replace { name, target }) {
            Err(f) if f.code == 409 && !pinned && attempts < 5 => attempts += 1,
            answer => return Ok(Answer::Json(200, answer?)),
        }
    }
}

fn delete(call: &Call, name: &str) -> Result<Answer, Failure> {
    let (kind, ns) = (call.route.kind, call.route.namespace.as_deref());
    let options = options::delete_options(kind, call.body, call.query)?;
    let (object, held) = call.store.delete_with(kind, ns, name, &options)?;
    // Held by finalizers: the object, marked for deletion (200, as for Jobs).
    if held || Store::returns_deleted_object(kind) {
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

fn delete_collection(call: &Call) -> Result<Answer, Failure> {
    let (kind, ns) = (call.route.kind, call.route.namespace.as_deref());
    let selected = options::list_query(kind, call.query, false)?;
    // Each object goes with the options but their preconditions.
    let each = Deletion {
        precondition_rv: None,
        precondition_uid: None,
        ..options::delete_options(kind, call.body, call.query)?
    };
    let every = ListQuery {
        selecting: true,
        ..ListQuery {
            labels: selected.labels,
            fields: selected.fields,
            ..ListQuery::all()
        }
    };
    let mut list = call.store.list(kind, ns, &every)?;
    let mut deleted = Vec::new();
    for item in list["items"].as_array().into_iter().flatten() {
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let item_ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
        // Gone meanwhile: not an error for a collection delete.
        if let Ok((mut object, _)) = call.store.delete_with(kind, item_ns, name, &each)
            && let Some(o) = object.as_object_mut()
        {
            o.remove("apiVersion");
            o.remove("kind");
            deleted.push(object);
        }
    }
    list["items"] = Value::Array(deleted);
    list["metadata"] = json!({"resourceVersion": call.store.resource_version().to_string()});
    Ok(Answer::Json(200, list))
}

fn subresource(target: Target) -> &'static str {
    match target {
        Target::Main => "",
        Target::Status => "status",
    }
}

/// The scale subresource: GET, PUT, and merge or JSON patches of the `Scale`.
fn scale(call: &Call, dry_run: bool) -> Result<Answer, Failure> {
    let (kind, ns) = (call.route.kind, call.route.namespace.as_deref());
    let Some(name) = call.route.name.as_deref() else {
        return Err(status::no_route());
    };
    let new = match *call.method {
        Method::GET => return Ok(Answer::Json(200, call.store.get_scale(kind, ns, name)?)),
        Method::PUT => parse_body(call.body)?,
        Method::PATCH => {
            let patch = parse_body(call.body)?;
            let mut current = call.store.get_scale(kind, ns, name)?;
            match call.media_type {
                "application/merge-patch+json" => crate::patch::merge(&mut current, &patch),
                "application/json-patch+json" => crate::patch::json_patch(&mut current, &patch)
                    .map_err(|e| status::failure(422, "Invalid", e.to_string(), None))?,
                other => {
                    return Err(admission::unsupported_patch(kind, other)
                        .unwrap_or_else(|| status::unsupported_media_type(negotiate::SUPPORTED)));
                }
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
        call.store.set_scale(kind, ns, name, &new, dry_run)?,
    ))
}

/// The one place store refusals become the real server's `Status` answers.
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::NotFound {
                group,
                plural,
                name,
            } => status::not_found(&group, &plural, &name),
            StoreError::AlreadyExists {
                group,
                plural,
                name,
            } => status::already_exists(&group, &plural, &name),
            StoreError::Conflict {
                group,
                plural,
                name,
            } => status::conflict(&group, &plural, &name),
            StoreError::PreconditionFailed {
                kind,
                group,
                name,
                why,
            } => status::precondition_failed(&kind, &group, &name, &why),
            StoreError::NameRequired { kind, group } => status::invalid(
                &kind,
                &group,
                "",
                &[(
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required".into(),
                )],
            ),
            StoreError::NamespaceNotFound(ns) => status::not_found("", "namespaces", &ns),
            StoreError::Mismatch(message) => status::bad_request(message),
            StoreError::NoScale => status::method_not_allowed(),
            StoreError::BadScalePath => {
                status::bad_request("the scale path is not an object".into())
            }
            StoreError::TooLargeResourceVersion { requested, current } => {
                status::too_large_resource_version(requested, current)
            }
            StoreError::ListTooOld => status::list_too_old(),
            StoreError::ContinueTooOld => status::continue_too_old(),
            StoreError::Expired { requested, oldest } => status::expired(requested, oldest),
            StoreError::Rejected(f) => f,
        }
    }
}
