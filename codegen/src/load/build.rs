//! OpenAPI 3 shaped tree → `openapiv3::OpenAPI`, piece by piece.
//!
//! `openapiv3` types use `#[serde(flatten)]` and untagged enums, which buffer their input, so a
//! serde error inside them has no path beyond the buffered value. Deserializing each schema,
//! parameter, request body and response on its own keeps error locations precise.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use indexmap::IndexMap;
use openapiv3::{
    Components, OpenAPI, Operation, PathItem, Paths, ReferenceOr, Response, Responses, Schema,
    StatusCode,
};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::LoadError;
use super::json::{Json, Map, pointer, push_segment};
use super::refs::Kind;

/// Methods of a path item, in `openapiv3::PathItem` order.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where each part of the tree came from, for error locations.
pub(crate) struct Places {
    /// JSON pointer of each components map in the document as written.
    pub components: fn(Kind) -> String,
}

impl Places {
    pub(crate) fn v3() -> Places {
        Places {
            components: |k| format!("components/{}", k.key()),
        }
    }

    pub(crate) fn v2() -> Places {
        Places {
            components: |k| {
                k.v2_key()
                    .map_or_else(|| format!("components/{}", k.key()), str::to_owned)
            },
        }
    }
}

pub(crate) fn wrong_type(
    file: &Path,
    location: &str,
    expected: &'static str,
    found: &Json,
) -> LoadError {
    LoadError::WrongType {
        file: file.to_path_buf(),
        location: location.to_owned(),
        expected,
        found: found.kind(),
    }
}

pub(crate) fn invalid(file: &Path, location: &str, message: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        file: file.to_path_buf(),
        location: location.to_owned(),
        message: message.into(),
    }
}

/// Deserializes one piece; errors name `location` plus the path inside the piece.
pub(crate) fn de<T: DeserializeOwned>(
    file: &Path,
    location: &str,
    value: &Json,
) -> Result<T, LoadError> {
    try_de(value).map_err(|(inner, message)| invalid(file, &join(location, &inner), message))
}

/// The error as (path inside `value`, message).
fn try_de<T: DeserializeOwned>(value: &Json) -> Result<T, (String, String)> {
    // openapiv3's `ReferenceOr` deserializer has an `expect` on a path believed unreachable; a
    // panic there must still become an error naming the file, not abort the generator.
    let result = catch_unwind(AssertUnwindSafe(|| {
        serde_path_to_error::deserialize::<_, T>(value)
    }));
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let mut at = String::new();
            for segment in e.path().iter() {
                match segment {
                    Segment::Seq { index } => push_segment(&mut at, &index.to_string()),
                    Segment::Map { key } => push_segment(&mut at, key),
                    Segment::Enum { variant } => push_segment(&mut at, variant),
                    Segment::Unknown => {}
                }
            }
            Err((at, e.into_inner().to_string()))
        }
        Err(_) => Err((
            String::new(),
            "the openapiv3 deserializer panicked on this value".into(),
        )),
    }
}

fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (_, true) => base.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) => format!("{base}/{rest}"),
    }
}

/// Deserializes a schema; when it fails, finds the innermost nested schema that fails, because
/// serde's own path stops at the first buffered (flattened or untagged) level.
fn schema(file: &Path, location: &str, value: &Json) -> Result<ReferenceOr<Schema>, LoadError> {
    try_de(value).map_err(|(inner, message)| {
        let (at, message) =
            innermost_failure(location, value).unwrap_or((join(location, &inner), message));
        invalid(file, &at, message)
    })
}

fn innermost_failure(location: &str, value: &Json) -> Option<(String, String)> {
    let map = value.as_object()?;
    let mut children: Vec<(String, &Json)> = Vec::new();
    if let Some(props) = map.get("properties").and_then(Json::as_object) {
        children.extend(
            props
                .iter()
                .map(|(name, v)| (pointer(location, &["properties", name]), v)),
        );
    }
    for key in ["items", "additionalProperties", "not"] {
        match map.get(key) {
            Some(v @ Json::Object(_)) => children.push((pointer(location, &[key]), v)),
            Some(Json::Array(items)) if key == "items" => {
                children.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (pointer(location, &[key, &i.to_string()]), v)),
                );
            }
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Json::Array(items)) = map.get(key) {
            children.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (pointer(location, &[key, &i.to_string()]), v)),
            );
        }
    }
    children
        .into_iter()
        .find_map(|(at, child)| match try_de::<ReferenceOr<Schema>>(child) {
            Ok(_) => None,
            Err((inner, message)) => {
                Some(innermost_failure(&at, child).unwrap_or((join(&at, &inner), message)))
            }
        })
}

pub(crate) fn take_object(
    file: &Path,
    map: &mut Map,
    key: &str,
    at: &str,
) -> Result<Option<Map>, LoadError> {
    match map.shift_remove(key) {
        None => Ok(None),
        Some(Json::Object(m)) => Ok(Some(m)),
        Some(other) => Err(wrong_type(file, &pointer(at, &[key]), "an object", &other)),
    }
}

pub(crate) fn take_array(
    file: &Path,
    map: &mut Map,
    key: &str,
    at: &str,
) -> Result<Option<Vec<Json>>, LoadError> {
    match map.shift_remove(key) {
        None => Ok(None),
        Some(Json::Array(a)) => Ok(Some(a)),
        Some(other) => Err(wrong_type(file, &pointer(at, &[key]), "an array", &other)),
    }
}

/// Moves the `x-*` keys of `map` into an extensions map.
fn extensions(
    file: &Path,
    map: &mut Map,
    at: &str,
) -> Result<IndexMap<String, serde_json::Value>, LoadError> {
    let keys: Vec<String> = map
        .keys()
        .filter(|k| k.starts_with("x-"))
        .cloned()
        .collect();
    let mut out = IndexMap::with_capacity(keys.len());
    for key in keys {
        if let Some(v) = map.shift_remove(&key) {
            let value = de(file, &pointer(at, &[&key]), &v)?;
            out.insert(key, value);
        }
    }
    Ok(out)
}

fn optional<T: DeserializeOwned>(
    file: &Path,
    map: &mut Map,
    key: &str,
    at: &str,
) -> Result<Option<T>, LoadError> {
    map.shift_remove(key)
        .map(|v| de(file, &pointer(at, &[key]), &v))
        .transpose()
}

/// Builds the document from an OpenAPI 3 shaped root whose `openapi`, `info` and `paths` exist.
pub(crate) fn openapi(file: &Path, mut root: Map, places: &Places) -> Result<OpenAPI, LoadError> {
    let openapi = match root.shift_remove("openapi") {
        Some(Json::String(s)) => s,
        Some(other) => return Err(wrong_type(file, "openapi", "a string", &other)),
        None => return Err(invalid(file, "openapi", "missing")),
    };
    let info = match root.shift_remove("info") {
        Some(v) => de(file, "info", &v)?,
        None => return Err(invalid(file, "info", "missing")),
    };
    let paths = match take_object(file, &mut root, "paths", "")? {
        Some(p) => paths(file, p)?,
        None => Paths::default(),
    };
    let components = take_object(file, &mut root, "components", "")?
        .map(|c| components(file, c, places))
        .transpose()?;
    Ok(OpenAPI {
        openapi,
        info,
        servers: optional(file, &mut root, "servers", "")?.unwrap_or_default(),
        paths,
        components,
        security: optional(file, &mut root, "security", "")?,
        tags: optional(file, &mut root, "tags", "")?.unwrap_or_default(),
        external_docs: optional(file, &mut root, "externalDocs", "")?,
        extensions: extensions(file, &mut root, "")?,
    })
}

fn components(file: &Path, mut map: Map, places: &Places) -> Result<Components, LoadError> {
    let mut c = Components::default();
    for kind in Kind::ALL {
        let Some(entries) = map.shift_remove(kind.key()) else {
            continue;
        };
        let at = (places.components)(kind);
        let Json::Object(entries) = entries else {
            return Err(wrong_type(file, &at, "an object", &entries));
        };
        match kind {
            Kind::Schemas => {
                let mut out = IndexMap::with_capacity(entries.len());
                for (name, v) in entries {
                    let item = schema(file, &pointer(&at, &[&name]), &v)?;
                    out.insert(name, item);
                }
                c.schemas = out;
            }
            Kind::Parameters => c.parameters = named(file, &at, entries)?,
            Kind::Responses => c.responses = named(file, &at, entries)?,
            Kind::RequestBodies => c.request_bodies = named(file, &at, entries)?,
            Kind::Headers => c.headers = named(file, &at, entries)?,
            Kind::Examples => c.examples = named(file, &at, entries)?,
            Kind::Links => c.links = named(file, &at, entries)?,
            Kind::Callbacks => c.callbacks = named(file, &at, entries)?,
            Kind::SecuritySchemes => c.security_schemes = named(file, &at, entries)?,
        }
    }
    c.extensions = extensions(file, &mut map, "components")?;
    Ok(c)
}

fn named<T: DeserializeOwned>(
    file: &Path,
    at: &str,
    entries: Map,
) -> Result<IndexMap<String, ReferenceOr<T>>, LoadError> {
    let mut out = IndexMap::with_capacity(entries.len());
    for (name, v) in entries {
        let item = de(file, &pointer(at, &[&name]), &v)?;
        out.insert(name, item);
    }
    Ok(out)
}

fn paths(file: &Path, mut map: Map) -> Result<Paths, LoadError> {
    let extensions = extensions(file, &mut map, "paths")?;
    let mut paths = IndexMap::with_capacity(map.len());
    for (path, item) in map {
        let at = pointer("paths", &[&path]);
        let Json::Object(item) = item else {
            return Err(wrong_type(file, &at, "an object", &item));
        };
        let item = if item.contains_key("$ref") {
            de(file, &at, &Json::Object(item))?
        } else {
            ReferenceOr::Item(path_item(file, &at, item)?)
        };
        paths.insert(path, item);
    }
    Ok(Paths { paths, extensions })
}

fn path_item(file: &Path, at: &str, mut map: Map) -> Result<PathItem, LoadError> {
    let parameters = list(file, &mut map, "parameters", at)?;
    let mut ops: Vec<(&str, Operation)> = Vec::new();
    for method in METHODS {
        if let Some(op) = take_object(file, &mut map, method, at)? {
            ops.push((method, operation(file, &pointer(at, &[method]), op)?));
        }
    }
    let mut item: PathItem = de(file, at, &Json::Object(map))?;
    item.parameters = parameters;
    for (method, op) in ops {
        let slot = match method {
            "get" => &mut item.get,
            "put" => &mut item.put,
            "post" => &mut item.post,
            "delete" => &mut item.delete,
            "options" => &mut item.options,
            "head" => &mut item.head,
            "patch" => &mut item.patch,
            _ => &mut item.trace,
        };
        *slot = Some(op);
    }
    Ok(item)
}

/// An array under `key`, each element deserialized on its own.
fn list<T: DeserializeOwned>(
    file: &Path,
    map: &mut Map,
    key: &str,
    at: &str,
) -> Result<Vec<T>, LoadError> {
    let Some(items) = take_array(file, map, key, at)? else {
        return Ok(Vec::new());
    };
    let at = pointer(at, &[key]);
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| de(file, &pointer(&at, &[&i.to_string()]), &v))
        .collect()
}

fn operation(file: &Path, at: &str, mut map: Map) -> Result<Operation, LoadError> {
    let parameters = list(file, &mut map, "parameters", at)?;
    let request_body = optional(file, &mut map, "requestBody", at)?;
    let responses = match take_object(file, &mut map, "responses", at)? {
        Some(r) => responses(file, &pointer(at, &["responses"]), r)?,
        None => Responses::default(),
    };
    // `responses` is a required field of `Operation`; the real one is filled in below.
    map.insert("responses".to_owned(), Json::Object(Map::new()));
    let mut op: Operation = de(file, at, &Json::Object(map))?;
    op.parameters = parameters;
    op.request_body = request_body;
    op.responses = responses;
    Ok(op)
}

fn responses(file: &Path, at: &str, mut map: Map) -> Result<Responses, LoadError> {
    let extensions = extensions(file, &mut map, at)?;
    let mut out = Responses {
        extensions,
        ..Responses::default()
    };
    for (code, v) in map {
        let here = pointer(at, &[&code]);
        let response: ReferenceOr<Response> = de(file, &here, &v)?;
        if code == "default" {
            out.default = Some(response);
        } else {
            let status = status_code(&code).ok_or_else(|| {
                invalid(file, &here, format!("`{code}` is not an HTTP status code"))
            })?;
            out.responses.insert(status, response);
        }
    }
    Ok(out)
}

/// `200` → `Code(200)`, `2XX` → `Range(2)`.
fn status_code(code: &str) -> Option<StatusCode> {
    if let Some(class) = code.strip_suffix("XX").or_else(|| code.strip_suffix("xx")) {
        let class: u16 = class.parse().ok()?;
        return (1..=5).contains(&class).then_some(StatusCode::Range(class));
    }
    let n: u16 = code.parse().ok()?;
    (100..=599).contains(&n).then_some(StatusCode::Code(n))
}
