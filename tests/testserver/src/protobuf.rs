//! Kubernetes' protobuf encoding at the server's edge: stored JSON objects written as protobuf
//! bodies and watch frames, protobuf request bodies read into the JSON the pipeline takes. The
//! type of each comes from its apiVersion/kind (`kuber_models::proto::with_message_type`).

use hyper::Response;
use kuber_api::KindInfo;
use kuber_models::proto::{self, Message, MessageVisitor};
use serde_json::Value;

use crate::negotiate::{self, PROTOBUF};
use crate::response::{self, Body};
use crate::status::{self, Failure};

/// The Content-Type of a protobuf watch.
pub(crate) const WATCH_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

struct Encode<'a>(&'a Value);

impl MessageVisitor for Encode<'_> {
    type Output = Result<Vec<u8>, String>;

    fn visit<T>(self) -> Self::Output
    where
        T: Message + serde_core::Serialize + serde_core::de::DeserializeOwned + 'static,
    {
        let typed: T = serde_json::from_value(self.0.clone()).map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        typed.encode(&mut raw);
        Ok(raw)
    }
}

/// A whole body (magic, envelope) for a JSON object with its apiVersion and kind.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let raw = proto::with_message_type(api_version, kind, Encode(value))
        .ok_or_else(|| format!("no protobuf message for {api_version}, Kind={kind}"))?
        .map_err(|e| format!("{api_version}, Kind={kind} is not protobuf-encodable: {e}"))?;
    Ok(proto::encode_envelope(api_version, kind, &raw))
}

/// An answer in protobuf; an object the models cannot type is a 500 in JSON.
pub(crate) fn answer(code: u16, value: &Value) -> Response<Body> {
    match encode(value) {
        Ok(bytes) => response::bytes(code, PROTOBUF, bytes),
        Err(e) => response::fail(status::failure(500, "InternalError", e, None)),
    }
}

/// A failure's `Status` in protobuf.
pub(crate) fn fail(f: Failure) -> Response<Body> {
    let mut r = answer(f.code, &f.body);
    // Kept when the Status itself could not be encoded (it always can).
    if r.status().as_u16() != f.code {
        r = response::fail(f);
    }
    r
}

/// A failure in what `accept` takes for errors: protobuf when asked, else JSON (the real
/// server writes every Status through its negotiation, authn/authz refusals and 404s too).
pub(crate) fn fail_in(accept: &str, f: Failure) -> Response<Body> {
    match negotiate::for_errors(accept) {
        negotiate::Media::Protobuf => fail(f),
        _ => response::fail(f),
    }
}

struct Decode<'a> {
    raw: &'a [u8],
    api_version: &'a str,
    kind: &'a str,
}

impl MessageVisitor for Decode<'_> {
    type Output = Result<Value, String>;

    fn visit<T>(self) -> Self::Output
    where
        T: Message + serde_core::Serialize + serde_core::de::DeserializeOwned + 'static,
    {
        let mut typed =
            T::decode(self.raw).map_err(|e| format!("{}: {}", e.path(), e.problem()))?;
        typed.set_type_meta(self.api_version, self.kind);
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }
}

/// Why a body did not decode, as the real decoder says it: before its type was known (no
/// magic, a broken envelope) or after.
enum BodyError {
    Unrecognized(String),
    Typed {
        api_version: String,
        kind: String,
        problem: String,
    },
}

/// A body's object as JSON; `default` is the endpoint's (apiVersion, kind), which an envelope
/// without them takes (the decoder's copyKindDefaults).
fn decode(body: &[u8], default: Option<(&str, &str)>) -> Result<Value, BodyError> {
    // The protobuf serializer's own checks of the prefix (k8s.io/apimachinery/pkg/runtime/
    // serializer/protobuf).
    if body.is_empty() {
        return Err(BodyError::Unrecognized("empty data".into()));
    }
    if !body.starts_with(&proto::MAGIC) {
        // The prefix as Go's %v prints a byte slice.
        let prefix: Vec<String> = proto::MAGIC.iter().map(u8::to_string).collect();
        return Err(BodyError::Unrecognized(format!(
            "provided data does not appear to be a protobuf message, expected prefix [{}]",
            prefix.join(" ")
        )));
    }
    if body.len() == proto::MAGIC.len() {
        return Err(BodyError::Unrecognized("empty body".into()));
    }
    let env = proto::decode_envelope(body)
        .map_err(|e| BodyError::Unrecognized(format!("{}: {}", e.path(), e.problem())))?;
    let (mut api_version, mut kind) = (env.api_version, env.kind);
    if let Some((default_api, default_kind)) = default {
        if kind.is_empty() {
            kind = default_kind;
        }
        if api_version.is_empty() {
            api_version = default_api;
        }
    }
    let typed = |problem: String| BodyError::Typed {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        problem,
    };
    if !env.content_encoding.is_empty() {
        return Err(typed(format!(
            "content encoding {:?} is not supported",
            env.content_encoding
        )));
    }
    let visitor = Decode {
        raw: env.raw,
        api_version,
        kind,
    };
    proto::with_message_type(api_version, kind, visitor)
        .ok_or_else(|| {
            typed(format!(
                "no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/runtime/scheme.go:111\""
            ))
        })?
        .map_err(typed)
}

/// Go's `summarizeData` of a body in the 400 message: hex of its first 30 bytes.
fn summary(body: &[u8]) -> String {
    const MAX: usize = 30;
    let hex: String = body.iter().take(MAX).map(|b| format!("{b:02x}")).collect();
    match body.len() {
        0 => "<empty>".into(),
        n if n > MAX => format!("{hex} ..."),
        _ => hex,
    }
}

/// A POST or PUT body in protobuf as the JSON body it stands for; 400 as the real create and
/// update handlers answer a body that does not decode (their transformDecodeError).
/// `(api_version, kind)`: what the endpoint reads (a subresource's own kind: `Binding`, `Scale`).
pub(crate) fn request_body(
    (api_version, kind): (&str, &str),
    body: &[u8],
) -> Result<Vec<u8>, Failure> {
    let value = decode(body, Some((api_version, kind))).map_err(|e| match e {
        BodyError::Unrecognized(problem) => status::bad_request(format!(
            "the object provided is unrecognized (must be of type {kind}): {problem} ({})",
            summary(body)
        )),
        BodyError::Typed {
            api_version,
            kind: got,
            problem,
        } => status::bad_request(format!(
            // Go's `gvk.Version`: without the group.
            "{got} in version {:?} cannot be handled as a {kind}: {problem}",
            api_version.rsplit('/').next().unwrap_or(""),
        )),
    })?;
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let (got_api, got) = (text("apiVersion"), text("kind"));
    if got != kind {
        // Another kind does not convert to the endpoint's internal type; Go's %T names the
        // versioned type by its version package, the internal one by its group's.
        let version = got_api.rsplit('/').next().unwrap_or("");
        let internal = internal_package(group);
        return Err(status::bad_request(format!(
            "{got} in version {version:?} cannot be handled as a {kind}: converting ({version}.{got}) to ({internal}.{kind}): unknown conversion",
        )));
    }
    serde_json::to_vec(&value).map_err(|e| status::bad_request(e.to_string()))
}

/// The Go package of a group's internal types, as `%T` names them (`core.ConfigMap`).
pub(crate) fn internal_package(group: &str) -> &str {
    match group {
        "" => "core",
        "internal.apiserver.k8s.io" => "apiserverinternal",
        g => g.split('.').next().unwrap_or(g),
    }
}

/// A custom resource's body in protobuf. The CRD handler offers protobuf but has no decoder
/// for it: v1.36 panics in its schemaCoercingDecoder and drops the connection. Here a 500.
pub(crate) fn custom_body(kind: &KindInfo) -> Failure {
    status::failure(
        500,
        "InternalError",
        format!(
            "Internal error occurred: {} takes no protobuf bodies (the real server's handler fails on them without an answer)",
            kind.kind
        ),
        None,
    )
}

/// A delete's body in protobuf (DeleteOptions, under any group's version, as clients register
/// it) as JSON; 400 as the real handler answers anything else.
pub(crate) fn delete_options_body(body: &[u8]) -> Result<Vec<u8>, Failure> {
    let value = match decode(body, Some(("v1", "DeleteOptions"))) {
        Ok(v) => v,
        // Every group's DeleteOptions is the one type.
        Err(BodyError::Typed { kind, .. }) if kind == "DeleteOptions" => {
            let env =
                proto::decode_envelope(body).map_err(|e| status::bad_request(e.to_string()))?;
            let visitor = Decode {
                raw: env.raw,
                api_version: env.api_version,
                kind: "DeleteOptions",
            };
            proto::with_message_type("v1", "DeleteOptions", visitor)
                .unwrap_or_else(|| Err("DeleteOptions has no protobuf message".into()))
                .map_err(status::bad_request)?
        }
        Err(BodyError::Typed { problem, .. } | BodyError::Unrecognized(problem)) => {
            return Err(status::bad_request(problem));
        }
    };
    let text = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let kind = text("kind");
    if kind != "DeleteOptions" {
        // The meta scheme the real handler decodes with knows no other kind.
        return Err(status::bad_request(format!(
            "no kind {kind:?} is registered for version {:?} in scheme \"pkg/runtime/scheme.go:111\"",
            text("apiVersion")
        )));
    }
    serde_json::to_vec(&value).map_err(|e| status::bad_request(e.to_string()))
}

/// A recorded body in protobuf as JSON, its type from its envelope.
pub(crate) fn to_json(body: &[u8]) -> Option<Value> {
    decode(body, None).ok()
}

/// One watch frame: the event's type and its object's whole body.
pub(crate) fn watch_frame(event: &Value) -> Vec<u8> {
    let kind = event["type"].as_str().unwrap_or("");
    let object = match encode(&event["object"]) {
        Ok(bytes) => bytes,
        Err(e) => {
            let f = status::failure(500, "InternalError", e, None);
            let mut out = Vec::new();
            if let Ok(status) = encode(&f.body) {
                proto::encode_watch_frame("ERROR", &status, &mut out);
            }
            return out;
        }
    };
    let mut out = Vec::new();
    proto::encode_watch_frame(kind, &object, &mut out);
    out
}
