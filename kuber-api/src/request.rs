//! What a generated operation hands the client: the filled-in path, query and body.

use std::borrow::Cow;

use kuber_models::Resource;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::Error;

/// The media type of server-side apply bodies.
const APPLY: &str = "application/apply-patch+yaml";

/// The `Accept` of calls answering built-in kinds when the client's encoding is protobuf, as
/// client-go's typed clients send it: protobuf, else JSON (aggregated APIs may serve only JSON).
pub const PROTOBUF_ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

/// The media type of protobuf bodies.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// One operation of the spec, as [`crate::OPERATIONS`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The spec's operationId, e.g. `listCoreV1NamespacedPod`.
    pub id: &'static str,
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`.
    pub method: &'static str,
    /// The spec's path template, e.g. `/api/v1/namespaces/{namespace}/pods`.
    pub path: &'static str,
    /// API group (`""` for core and for unversioned operations).
    pub group: &'static str,
    /// API version (`""` for unversioned operations such as discovery).
    pub version: &'static str,
    /// Kind the operation serves (`x-kubernetes-group-version-kind`), `""` if none.
    pub kind: &'static str,
    /// The kind's apiVersion, which a subresource's may not share with its path: `Scale` on
    /// `deployments/{name}/scale` is `autoscaling/v1`, `Eviction` is `policy/v1`. `""` if none.
    pub kind_api_version: &'static str,
    /// Resource collection the path names, e.g. `pods`; `""` if none.
    pub plural: &'static str,
    /// `x-kubernetes-action`: get, list, watch, watchlist, post, put, patch, delete,
    /// deletecollection, connect; `""` if none.
    pub action: &'static str,
    /// Whether the path has a `{namespace}` parameter.
    pub namespaced: bool,
    /// e.g. `status`, `scale`, `log`, `exec`; `""` if the operation is on the resource itself.
    pub subresource: &'static str,
    /// The spec tag the operation is grouped under, e.g. `core_v1`.
    pub tag: &'static str,
    /// What a successful call answers.
    pub response: ResponseShape,
    /// The body's definition (`io.k8s.api.apps.v1.Deployment`; `…meta.v1.Patch` for patches),
    /// `""` if the call takes none.
    pub body: &'static str,
    pub body_required: bool,
    /// The query parameter struct of the generated method (`ListParams`), `""` if none.
    pub query: &'static str,
    /// Where requests go, which differs from `path` for watches (the list path with
    /// `watch=true`; the `/watch/` paths are deprecated) and discovery (no trailing slash).
    pub request_path: &'static str,
    /// A watch of one object: `request_path` is the list path and the name goes in the
    /// `metadata.name` field selector.
    pub select_name: bool,
}

/// How an operation answers. Definitions are spec names (`io.k8s.api.core.v1.Pod`, which is
/// `kuber_models::api::core::v1::Pod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseShape {
    /// Not described (operations the spec does not have).
    Unknown,
    Object(&'static str),
    /// The object, or a `Status` (deletes: the object while finalizers run).
    ObjectOrStatus(&'static str),
    List(&'static str),
    /// The list of what was deleted, or a `Status` (deletecollection).
    ListOrStatus(&'static str),
    /// Newline-delimited watch events of objects of this definition.
    WatchStream(&'static str),
    Text,
    Bytes,
    /// Needs a connection upgrade (exec, attach, portforward).
    Upgrade,
}

impl Operation {
    /// An operation the spec does not describe (`/readyz`, the OpenAPI v3 index, custom objects
    /// by path): no group, kind or action. Set what a caller relies on with struct update:
    /// `Operation { action: "get", ..Operation::untyped(id, "GET", path) }`.
    pub const fn untyped(id: &'static str, method: &'static str, path: &'static str) -> Operation {
        Operation {
            id,
            method,
            path,
            group: "",
            version: "",
            kind: "",
            plural: "",
            action: "",
            namespaced: false,
            subresource: "",
            tag: "",
            kind_api_version: "",
            response: ResponseShape::Unknown,
            body: "",
            body_required: false,
            query: "",
            request_path: path,
            select_name: false,
        }
    }

    /// Calls that change nothing: the only ones retried unless retries cover all APIs.
    pub fn is_read_only(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "OPTIONS")
    }
}

/// The body of a request.
#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A request ready for the client.
#[derive(Debug, Clone)]
pub struct Request {
    pub operation: &'static Operation,
    /// Path with its parameters filled in and percent-encoded.
    pub path: String,
    /// Query pairs, not yet encoded.
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Body>,
    /// The `Accept` header, when the answer is negotiated (aggregated discovery, Table); `None`:
    /// what the call's kind of answer needs (JSON, or anything for text and streams).
    pub accept: Option<&'static str>,
    /// Kinds a JSON answer may have (the call's type, and `Status` for deletes); another kind is
    /// [`Error::UnexpectedKind`]. Empty: any.
    pub kinds: &'static [&'static str],
    /// A path parameter that may not be sent: the request fails with it instead.
    refused: Option<Refused>,
    /// The body in protobuf ([`Request::message`]), sent instead of `body` when the client's
    /// encoding is protobuf.
    message: Option<Vec<u8>>,
}

/// Why a path parameter is refused, kept until the request is sent.
#[derive(Debug, Clone)]
struct Refused {
    parameter: String,
    problem: String,
}

impl Request {
    /// Fills the operation's path template with `args`, in template order.
    pub fn new(operation: &'static Operation, args: &[&str]) -> Request {
        Request::at(operation, operation.path, args)
    }

    /// Like [`Request::new`], on another path template (a watch sent to its list path).
    /// A parameter that is empty, `.` or `..`, or holds `/` or `%`, would name another resource
    /// (an empty name is the whole collection): the request is then refused when sent.
    pub fn at(operation: &'static Operation, template: &str, args: &[&str]) -> Request {
        Request {
            operation,
            path: fill_path(template, args),
            query: Vec::new(),
            body: None,
            accept: None,
            kinds: &[],
            refused: check_path(template, args),
            message: None,
        }
    }

    /// The kinds a JSON answer may have, see [`Request::kinds`].
    pub fn expect_kinds(mut self, kinds: &'static [&'static str]) -> Request {
        self.kinds = kinds;
        self
    }

    /// [`Error::InvalidParameter`] if a path parameter was refused;
    /// [`Error::MissingFieldManager`] for a server-side apply without a field manager.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(r) = &self.refused {
            return Err(Error::InvalidParameter {
                operation: self.operation.id,
                parameter: r.parameter.clone(),
                problem: r.problem.clone(),
            });
        }
        // The server refuses it too, but only after a round trip and with a vaguer message.
        let applies = self.body.as_ref().is_some_and(|b| b.content_type == APPLY);
        let managed = self
            .query
            .iter()
            .any(|(name, value)| *name == "fieldManager" && !value.is_empty());
        if applies && !managed {
            return Err(Error::MissingFieldManager {
                operation: self.operation.id,
            });
        }
        Ok(())
    }

    /// Asks for another representation, e.g. aggregated discovery:
    /// `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.
    pub fn accept(mut self, media_type: &'static str) -> Request {
        self.accept = Some(media_type);
        self
    }

    pub fn query(mut self, params: &impl QueryParams) -> Request {
        params.append_to(&mut self.query);
        self
    }

    /// Adds one query pair, replacing a pair of the same name.
    pub fn set(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.query.retain(|(n, _)| *n != name);
        self.query.push((name, value.into()));
        self
    }

    /// A JSON body. The object a create or replace sends gets the operation's `apiVersion` and
    /// `kind` when it has none, so a typed object built with `Default` is complete.
    pub fn json(mut self, body: &impl Serialize) -> Result<Request, Error> {
        let encode_error = |e: serde_json::Error| Error::Encode {
            operation: self.operation.id,
            message: e.to_string(),
        };
        let op = self.operation;
        // A create or replace of the resource itself sends an object of the operation's kind;
        // subresources (binding, eviction, scale) take other kinds.
        let typed = matches!(op.action, "post" | "put") && op.subresource.is_empty();
        let mut bytes = serde_json::to_vec(body).map_err(encode_error)?;
        if typed && !op.kind.is_empty() {
            let api_version = match op.group {
                "" => Cow::Borrowed(op.version),
                group => Cow::Owned(format!("{group}/{}", op.version)),
            };
            bytes = with_type_meta(bytes, &api_version, op.kind).map_err(encode_error)?;
        }
        self.body = Some(Body {
            content_type: "application/json",
            bytes,
        });
        self.message = None;
        Ok(self)
    }

    /// A create or replace body of a built-in kind: JSON in [`Request::body`], and with the
    /// `protobuf` feature its protobuf encoding, which the client sends instead when its
    /// encoding is protobuf. A value holding JSON members the models do not know gets no
    /// protobuf encoding (it would drop them): it goes as JSON.
    #[cfg(feature = "protobuf")]
    pub fn message<T>(self, body: &T) -> Result<Request, Error>
    where
        T: Serialize + kuber_models::proto::Message + Resource,
    {
        let mut req = self.json(body)?;
        req.message = kuber_models::proto::encode_object_lossless(body);
        Ok(req)
    }

    /// A create or replace body of a built-in kind: JSON (this build has no `protobuf`).
    #[cfg(not(feature = "protobuf"))]
    pub fn message<T: Serialize + Resource>(self, body: &T) -> Result<Request, Error> {
        self.json(body)
    }

    /// A protobuf body (magic, envelope, message) for the JSON body already set, sent instead of
    /// it when the client's encoding is protobuf: for callers that encode a type picked at run
    /// time. Without a JSON body it is not sent.
    pub fn message_bytes(mut self, bytes: Vec<u8>) -> Request {
        self.message = Some(bytes);
        self
    }

    /// The protobuf body [`Request::message`] encoded, if any.
    pub fn protobuf_body(&self) -> Option<&[u8]> {
        self.message.as_deref()
    }

    /// What goes on the wire: the protobuf body when `protobuf` and there is one, else `body`.
    pub(crate) fn wire_body(&self, protobuf: bool) -> Option<(&'static str, &[u8])> {
        match (&self.message, &self.body) {
            (Some(message), Some(_)) if protobuf => Some((PROTOBUF, message)),
            (_, Some(body)) => Some((body.content_type, &body.bytes)),
            (_, None) => None,
        }
    }

    /// An optional body: none sent when `None`.
    pub fn json_opt(self, body: Option<&impl Serialize>) -> Result<Request, Error> {
        match body {
            Some(b) => self.json(b),
            None => Ok(self),
        }
    }

    pub fn patch(mut self, patch: &Patch) -> Result<Request, Error> {
        let bytes = patch.body().map_err(|e| Error::Encode {
            operation: self.operation.id,
            message: e.to_string(),
        })?;
        self.body = Some(Body {
            content_type: patch.content_type(),
            bytes,
        });
        self.message = None;
        Ok(self)
    }

    /// Path and encoded query, as sent: `/api/v1/namespaces/default/pods?limit=10`.
    pub fn path_and_query(&self) -> String {
        let mut out = self.path.clone();
        for (i, (name, value)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            encode_into(&mut out, name, QUERY);
            out.push('=');
            encode_into(&mut out, value, QUERY);
        }
        out
    }
}

/// Option structs of the generated API append their set fields.
pub trait QueryParams {
    fn append_to(&self, query: &mut Vec<(&'static str, String)>);
}

/// Operations without query parameters.
impl QueryParams for () {
    fn append_to(&self, _: &mut Vec<(&'static str, String)>) {}
}

/// A patch and its type.
#[derive(Debug, Clone)]
pub enum Patch {
    /// RFC 6902 JSON patch: an array of operations.
    Json(serde_json::Value),
    /// RFC 7386 JSON merge patch.
    Merge(serde_json::Value),
    /// Kubernetes strategic merge patch (built-in kinds only).
    Strategic(serde_json::Value),
    /// Server-side apply: the fields this manager owns. Needs `field_manager` in the params.
    Apply(serde_json::Value),
    /// Server-side apply of an encoded object, sent as its text ([`Patch::apply`]'s: no trip
    /// through `Value`, so `1e3` stays `1e3`).
    ApplyEncoded(Box<serde_json::value::RawValue>),
}

impl PartialEq for Patch {
    fn eq(&self, other: &Patch) -> bool {
        match (self, other) {
            (Patch::Json(a), Patch::Json(b))
            | (Patch::Merge(a), Patch::Merge(b))
            | (Patch::Strategic(a), Patch::Strategic(b))
            | (Patch::Apply(a), Patch::Apply(b)) => a == b,
            (Patch::ApplyEncoded(a), Patch::ApplyEncoded(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl Patch {
    /// Server-side apply of a typed object. `apiVersion` and `kind`, which the server requires
    /// in an apply, are taken from `K` when the object leaves them unset. The call needs a
    /// field manager ([`PatchParams::field_manager`](crate::PatchParams)); without one it is
    /// refused before anything is sent. For an untyped object use [`Patch::Apply`].
    ///
    /// The object goes as its type encodes it ([`Patch::ApplyEncoded`]): numbers keep their
    /// text.
    pub fn apply<K: Resource + Serialize>(object: &K) -> Result<Patch, serde_json::Error> {
        let bytes = with_type_meta(serde_json::to_vec(object)?, K::API_VERSION, K::KIND)?;
        // serde_json wrote the bytes, so they are UTF-8 JSON; the checks are for the type's sake.
        let text = String::from_utf8(bytes).map_err(serde::ser::Error::custom)?;
        Ok(Patch::ApplyEncoded(
            serde_json::value::RawValue::from_string(text)?,
        ))
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            Patch::Apply(_) | Patch::ApplyEncoded(_) => APPLY,
        }
    }

    /// The patch as a `Value`; `None` for [`Patch::ApplyEncoded`] (its text is in
    /// [`Patch::body`]).
    pub fn value(&self) -> Option<&serde_json::Value> {
        match self {
            Patch::Json(v) | Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => Some(v),
            Patch::ApplyEncoded(_) => None,
        }
    }

    /// The bytes sent.
    pub fn body(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Patch::Json(v) | Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => {
                serde_json::to_vec(v)
            }
            Patch::ApplyEncoded(raw) => Ok(raw.get().as_bytes().to_vec()),
        }
    }
}

/// An encoded JSON object with `apiVersion` and `kind` (its TypeMeta) set where they are
/// missing, `null` or empty: what creates, replaces and applies of a typed object send. Members
/// stay as encoded (no trip through `Value`, which would lose number text such as `1e3`); the
/// bytes are returned untouched when nothing is missing or they are not an object.
pub fn with_type_meta(
    bytes: Vec<u8>,
    api_version: &str,
    kind: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    type Members = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;
    let Ok(mut object) = serde_json::from_slice::<Members>(&bytes) else {
        return Ok(bytes);
    };
    let unset = |object: &Members, key: &str| {
        object
            .get(key)
            .is_none_or(|v| matches!(v.get(), "null" | "\"\""))
    };
    if !unset(&object, "apiVersion") && !unset(&object, "kind") {
        return Ok(bytes);
    }
    for (key, filled) in [("apiVersion", api_version), ("kind", kind)] {
        if unset(&object, key) {
            object.insert(key.to_owned(), serde_json::value::to_raw_value(filled)?);
        }
    }
    serde_json::to_vec(&object)
}

/// What is encoded in a path segment: all but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// In query names and values: all but what Go's `url.QueryEscape` leaves (a space is `%20`).
const QUERY: &AsciiSet = SEGMENT;

fn encode_into(out: &mut String, text: &str, set: &'static AsciiSet) {
    out.extend(utf8_percent_encode(text, set));
}

/// Parameters that are paths of their own, slashes included: `{path}` of proxy operations,
/// `{logpath}` of `/logs/`.
fn is_multi_segment(name: &str) -> bool {
    matches!(name, "path" | "logpath")
}

/// The custom metrics API's `{compositemetricname}` (`pods/*/cpu_usage`, `metrics/queue`): its
/// `/` and the `*` wildcard go out as they are, as client-go sends them.
fn is_composite(name: &str) -> bool {
    name == "compositemetricname"
}

/// In a composite metric name: a segment's, but the `*` wildcard is left as it is.
const COMPOSITE_SEGMENT: &AsciiSet = &SEGMENT.remove(b'*');

/// The parameter names of `template`, in order.
fn parameters(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(name, _)| name)
}

/// The first parameter `fill_path` would turn into another resource than the one meant. Names
/// follow client-go's request builder: not empty, not `.` or `..`, no `/` or `%`. Multi-segment
/// parameters keep their slashes and may be empty, but no segment may be `.` or `..` (which
/// would climb out of the proxied object).
fn check_path(template: &str, args: &[&str]) -> Option<Refused> {
    let mut args = args.iter();
    for name in parameters(template) {
        let arg = args.next().copied().unwrap_or_default();
        let problem = if is_composite(name) {
            if arg.is_empty() {
                Some("is empty".to_owned())
            } else if arg
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            {
                Some(format!(
                    "{arg:?} may not have an empty, \".\" or \"..\" segment"
                ))
            } else {
                arg.contains('%')
                    .then(|| format!("{arg:?} may not contain '%'"))
            }
        } else if is_multi_segment(name) {
            arg.split('/')
                .any(|s| s == "." || s == "..")
                .then(|| format!("{arg:?} may not have a \".\" or \"..\" segment"))
        } else if arg.is_empty() {
            Some("is empty".to_owned())
        } else if arg == "." || arg == ".." {
            Some(format!("may not be {arg:?}"))
        } else {
            ['/', '%']
                .into_iter()
                .find(|c| arg.contains(*c))
                .map(|c| format!("{arg:?} may not contain '{c}'"))
        };
        if let Some(problem) = problem {
            return Some(Refused {
                parameter: name.to_owned(),
                problem,
            });
        }
    }
    None
}

/// Replaces each `{param}` of `template` with the next arg, percent-encoded; `{path}` (proxy
/// paths) and `{logpath}` keep their slashes.
pub fn fill_path(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        let arg = args.next().copied().unwrap_or_default();
        if is_multi_segment(name) || is_composite(name) {
            let keep = if is_composite(name) {
                COMPOSITE_SEGMENT
            } else {
                SEGMENT
            };
            for (i, part) in arg.split('/').enumerate() {
                if i > 0 {
                    out.push('/');
                }
                encode_into(&mut out, part, keep);
            }
        } else {
            encode_into(&mut out, arg, SEGMENT);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

impl Request {
    /// Narrows a watch of a collection to the object called `name` (what a watch of one object
    /// is on the wire), keeping any field selector the caller gave.
    pub fn select_name(mut self, name: &str) -> Request {
        // The name is the `{name}` of the watch's own path: the same rules hold.
        if self.refused.is_none() {
            self.refused = check_path("{name}", &[name]);
        }
        let by_name = format!("metadata.name={}", escape_selector_value(name));
        let selector = match self.query.iter().find(|(n, _)| *n == "fieldSelector") {
            Some((_, given)) if !given.is_empty() => format!("{given},{by_name}"),
            _ => by_name,
        };
        self.set("fieldSelector", selector)
    }
}

/// A field selector value as client-go escapes it: `\`, `,` and `=` would otherwise end it.
fn escape_selector_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// What the generated methods call: one generic function per answer shape, so each operation adds
// no state machine of its own.

/// A request, or the error building it gave (a body that would not encode).
pub trait IntoRequest {
    fn into_request(self) -> Result<Request, Error>;
}

impl IntoRequest for Request {
    fn into_request(self) -> Result<Request, Error> {
        self.check()?;
        Ok(self)
    }
}

impl IntoRequest for Result<Request, Error> {
    fn into_request(self) -> Result<Request, Error> {
        self?.into_request()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_the_type_keeps_every_member_as_encoded() {
        let filled = with_type_meta(
            br#"{"metadata":{},"n":1e3,"kind":""}"#.to_vec(),
            "v1",
            "Pod",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(filled).unwrap(),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{},"n":1e3}"#
        );
        let complete = br#"{"kind":"Pod","apiVersion":"v1","n":1e3}"#.to_vec();
        assert_eq!(
            with_type_meta(complete.clone(), "v2", "X").unwrap(),
            complete
        );
        assert_eq!(
            with_type_meta(b"[1]".to_vec(), "v1", "Pod").unwrap(),
            b"[1]"
        );
    }

    #[test]
    fn paths_are_filled_and_encoded() {
        assert_eq!(
            fill_path(
                "/api/v1/namespaces/{namespace}/pods/{name}",
                &["default", "a b/c"]
            ),
            "/api/v1/namespaces/default/pods/a%20b%2Fc"
        );
        assert_eq!(
            fill_path(
                "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
                &["ns", "p", "x/y z"]
            ),
            "/api/v1/namespaces/ns/pods/p/proxy/x/y%20z"
        );
    }

    static OP: Operation = Operation {
        id: "listCoreV1NamespacedPod",
        method: "GET",
        path: "/api/v1/namespaces/{namespace}/pods",
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        action: "list",
        namespaced: true,
        subresource: "",
        tag: "core_v1",
        kind_api_version: "v1",
        response: ResponseShape::List("io.k8s.api.core.v1.PodList"),
        body: "",
        body_required: false,
        query: "ListParams",
        request_path: "/api/v1/namespaces/{namespace}/pods",
        select_name: false,
    };

    #[test]
    fn selected_names_are_escaped_and_checked() {
        let r = Request::new(&OP, &["default"])
            .set("fieldSelector", "status.phase=Running")
            .select_name("a,b=c");
        assert_eq!(
            r.query,
            [(
                "fieldSelector",
                r"status.phase=Running,metadata.name=a\,b\=c".to_owned()
            )]
        );
        assert!(r.check().is_ok());
        let err = Request::new(&OP, &["default"]).select_name("").check();
        assert_eq!(
            err.unwrap_err().to_string(),
            "listCoreV1NamespacedPod: parameter name is empty"
        );
    }

    #[test]
    fn log_paths_keep_their_slashes() {
        assert_eq!(
            fill_path("/logs/{logpath}", &["pods/a b.log"]),
            "/logs/pods/a%20b.log"
        );
        assert!(check_path("/logs/{logpath}", &["pods/a.log"]).is_none());
        assert!(check_path("/logs/{logpath}", &["../etc/passwd"]).is_some());
    }

    #[test]
    fn composite_metric_names_keep_slashes_and_wildcards() {
        let t = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{compositemetricname}";
        assert_eq!(
            fill_path(t, &["default", "pods/*/cpu_usage"]),
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/cpu_usage"
        );
        assert_eq!(
            fill_path(t, &["default", "pods/a b/m"]),
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/a%20b/m"
        );
        assert!(check_path(t, &["default", "pods/*/cpu_usage"]).is_none());
        for bad in [
            "",
            "pods/../m",
            "pods/./m",
            "..",
            "pods//m",
            "pods/*/",
            "pods/%2F/m",
        ] {
            let refused = check_path(t, &["default", bad]);
            assert_eq!(
                refused.map(|r| r.parameter),
                Some("compositemetricname".to_owned()),
                "{bad:?}"
            );
        }
        // Elsewhere a `*` is still encoded and a `/` still refused.
        assert_eq!(
            fill_path("/api/v1/nodes/{name}", &["a*b"]),
            "/api/v1/nodes/a%2Ab"
        );
        assert!(check_path("/api/v1/nodes/{name}", &["a/b"]).is_some());
    }

    #[test]
    fn query_is_encoded_and_set_replaces() {
        let r = Request::new(&OP, &["default"])
            .set("labelSelector", "app=web,tier in (a,b)")
            .set("limit", "5");
        assert_eq!(
            r.path_and_query(),
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&limit=5"
        );
        let r = r.set("limit", "7");
        assert!(r.path_and_query().ends_with("limit=7"));
    }
}
