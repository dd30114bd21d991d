//! Decodes a server body into the generated models, re-encodes it and compares.
//!
//! The type is picked the way a client would: from the body's `apiVersion`/`kind` through
//! [`kuber_models::with_type`], [`DynamicObject`] for kinds the models do not know. A kind the
//! API serves (in `kuber_api::KINDS`, or its list) that falls back to `DynamicObject` is a
//! failure: the typed model was never checked. Decoding goes through `serde_json::from_str`, the
//! path real clients take.

use std::fmt;

use kuber_models::{DynamicList, DynamicObject, TypeVisitor, WatchEvent};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use crate::compare::{Difference, compare};

/// How a response body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Blank: no body to check.
    Empty,
    /// One JSON object.
    Object,
    /// A watch stream: one `{"type", "object"}` event per line.
    Watch,
}

/// A body that round-tripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// 1-based line within the response of a watch event; `None` for a single object.
    pub line: Option<usize>,
    /// The Rust type it was decoded as.
    pub type_name: &'static str,
}

/// All bodies of a response round-tripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub shape: Shape,
    /// One per watch event, one for a single object, none for a blank response.
    pub bodies: Vec<Checked>,
}

/// A body that did not round-trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// 1-based line within the response of a watch event; `None` for a single object.
    pub line: Option<usize>,
    /// The Rust type it was decoded as, once one was chosen.
    pub type_name: Option<&'static str>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The body is not JSON at all (nothing to blame on the models).
    NotJson(String),
    /// A line of a watch stream is not a `{"type", "object"}` event.
    NotAnEvent(String),
    /// The model rejected the body. `message` includes the line and column; `path` is where in
    /// the body, when it could be found.
    Decode {
        message: String,
        line: usize,
        column: usize,
        path: Option<String>,
    },
    /// The model could not encode what it decoded.
    Encode(String),
    /// The re-encoding lost, changed or invented something.
    Mismatch(Difference),
    /// Decoding the re-encoding gave a different value (the model cannot read its own output).
    Unstable(String),
    /// A kind the API serves has no model to decode it (it would only be checked as
    /// `DynamicObject`).
    Untyped { api_version: String, kind: String },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(t) = self.type_name {
            write!(f, "as {t}: ")?;
        }
        match &self.reason {
            Reason::NotJson(e) => write!(f, "not JSON: {e}"),
            Reason::NotAnEvent(e) => write!(f, "not a watch event: {e}"),
            Reason::Decode {
                message,
                path: Some(path),
                ..
            } => write!(f, "decode error at `{path}`: {message}"),
            Reason::Decode {
                message,
                path: None,
                ..
            } => write!(f, "decode error: {message}"),
            Reason::Encode(e) => write!(f, "encode error: {e}"),
            Reason::Mismatch(d) => write!(f, "re-encoding differs {d}"),
            Reason::Unstable(e) => write!(f, "re-encoding decodes differently: {e}"),
            Reason::Untyped { api_version, kind } => write!(
                f,
                "{api_version} {kind} is a kind the API serves but no model decodes it"
            ),
        }
    }
}

impl std::error::Error for Failure {}

/// Round-trips every body of a response; the first failure, if any.
pub fn roundtrip_body(text: &str) -> Result<Outcome, Failure> {
    let (shape, results) = roundtrip_bodies(text);
    let bodies = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Outcome { shape, bodies })
}

/// Round-trips every body of a response: one result per watch event, one for a single object.
pub fn roundtrip_bodies(text: &str) -> (Shape, Vec<Result<Checked, Failure>>) {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    if lines.is_empty() {
        return (Shape::Empty, Vec::new());
    }
    // Several lines each holding a whole JSON value: a watch stream. A body spread over lines
    // (pretty-printed) never has a complete value on its first line.
    if lines.len() > 1 && serde_json::from_str::<IgnoredAny>(lines[0].1).is_ok() {
        let results = lines
            .iter()
            .map(|&(n, line)| roundtrip_event(line, Some(n)))
            .collect();
        return (Shape::Watch, results);
    }
    let original: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                Shape::Object,
                vec![Err(failure(None, None, Reason::NotJson(e.to_string())))],
            );
        }
    };
    if is_event(&original) {
        // A stream that carried a single event.
        let result = roundtrip_event(text, Some(lines[0].0));
        return (Shape::Watch, vec![result]);
    }
    let check = Check {
        text,
        original: &original,
        line: None,
        event: false,
    };
    let result = match type_of(&original) {
        Some((api_version, kind)) => with_type(api_version, kind, check),
        None => dynamic(&original, check),
    };
    (Shape::Object, vec![result])
}

/// Round-trips `text` as a `T` (whatever its apiVersion/kind say): for checking a type directly.
pub fn roundtrip_as<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(
    text: &str,
) -> Result<Checked, Failure> {
    let original: Value = serde_json::from_str(text)
        .map_err(|e| failure(None, None, Reason::NotJson(e.to_string())))?;
    check::<T>(text, &original, None)
}

fn roundtrip_event(text: &str, line: Option<usize>) -> Result<Checked, Failure> {
    let original: Value = serde_json::from_str(text)
        .map_err(|e| failure(line, None, Reason::NotJson(e.to_string())))?;
    if !is_event(&original) {
        let why = format!(
            "expected an object with only `type` and `object`, got {}",
            crate::compare::shorten(&original)
        );
        return Err(failure(line, None, Reason::NotAnEvent(why)));
    }
    let check = Check {
        text,
        original: &original,
        line,
        event: true,
    };
    match original.get("object").and_then(type_of) {
        Some((api_version, kind)) => with_type(api_version, kind, check),
        None => dynamic(check.original, check),
    }
}

/// `with_type`, falling back to [`DynamicObject`] / [`DynamicList`] for kinds the models do not know.
fn with_type(api_version: &str, kind: &str, check: Check<'_>) -> Result<Checked, Failure> {
    let typed = kuber_models::with_type(api_version, kind, check);
    with_type_or(typed, api_version, kind, check)
}

/// The typed result when there is one; else a failure for a served kind, `DynamicObject` for the
/// rest.
fn with_type_or(
    typed: Option<Result<Checked, Failure>>,
    api_version: &str,
    kind: &str,
    check: Check<'_>,
) -> Result<Checked, Failure> {
    if let Some(result) = typed {
        return result;
    }
    if is_served(api_version, kind) {
        let reason = Reason::Untyped {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        };
        return Err(failure(check.line, None, reason));
    }
    dynamic(check.original, check)
}

/// Whether `kind` (or the kind of whose list it is) is in `kuber_api::KINDS`.
fn is_served(api_version: &str, kind: &str) -> bool {
    kuber_api::KINDS
        .iter()
        .any(|k| k.api_version == api_version && (k.kind == kind || k.list_kind == kind))
}

/// Lists (a `kind` ending in `List` with `items`) carry `ListMeta`, single objects `ObjectMeta`.
fn dynamic(original: &Value, check: Check<'_>) -> Result<Checked, Failure> {
    let is_list = original
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && original.get("items").is_some_and(Value::is_array);
    if is_list {
        check.visit::<DynamicList>()
    } else {
        check.visit::<DynamicObject>()
    }
}

fn is_event(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 2 && o.get("type").is_some_and(Value::is_string) && o.contains_key("object")
    })
}

fn type_of(v: &Value) -> Option<(&str, &str)> {
    Some((v.get("apiVersion")?.as_str()?, v.get("kind")?.as_str()?))
}

fn failure(line: Option<usize>, type_name: Option<&'static str>, reason: Reason) -> Failure {
    Failure {
        line,
        type_name,
        reason,
    }
}

#[derive(Clone, Copy)]
struct Check<'a> {
    text: &'a str,
    original: &'a Value,
    line: Option<usize>,
    /// Decode `WatchEvent<T>` rather than `T`.
    event: bool,
}

impl TypeVisitor for Check<'_> {
    type Output = Result<Checked, Failure>;

    fn visit<T>(self) -> Self::Output
    where
        T: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + 'static,
    {
        if self.event {
            check::<WatchEvent<T>>(self.text, self.original, self.line)
        } else {
            check::<T>(self.text, self.original, self.line)
        }
    }
}

fn check<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(
    text: &str,
    original: &Value,
    line: Option<usize>,
) -> Result<Checked, Failure> {
    let type_name = std::any::type_name::<T>();
    let fail = |reason| failure(line, Some(type_name), reason);
    let typed: T = serde_json::from_str(text).map_err(|e| {
        fail(Reason::Decode {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
            path: decode_path::<T>(text),
        })
    })?;
    let reencoded =
        serde_json::to_value(&typed).map_err(|e| fail(Reason::Encode(e.to_string())))?;
    compare(original, &reencoded).map_err(|d| fail(Reason::Mismatch(d)))?;
    // What a client sends back must read as what it holds.
    let wire = serde_json::to_string(&typed).map_err(|e| fail(Reason::Encode(e.to_string())))?;
    match serde_json::from_str::<T>(&wire) {
        Ok(again) if again == typed => {}
        Ok(again) => {
            let again = serde_json::to_value(&again).unwrap_or(Value::Null);
            let why = match compare(&reencoded, &again) {
                Err(d) => d.to_string(),
                Ok(()) => "equal JSON but unequal values (PartialEq)".to_owned(),
            };
            return Err(fail(Reason::Unstable(why)));
        }
        Err(e) => return Err(fail(Reason::Unstable(e.to_string()))),
    }
    Ok(Checked { line, type_name })
}

/// Where decoding fails, found by decoding again with path tracking (only on failure: the
/// tracking wrapper is not the decode path clients use).
fn decode_path<T: DeserializeOwned>(text: &str) -> Option<String> {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => None,
        Err(e) => Some(e.path().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_empty() {
        assert_eq!(
            roundtrip_body(" \n\n").unwrap(),
            Outcome {
                shape: Shape::Empty,
                bodies: vec![]
            }
        );
    }

    #[test]
    fn unknown_kinds_and_kindless_bodies_are_dynamic() {
        for text in [
            r#"{"apiVersion":"x.example/v1","kind":"Thing","spec":{"a":[1,{}]}}"#,
            r#"{"spec":{}}"#,
        ] {
            let out = roundtrip_body(text).unwrap();
            assert_eq!(out.shape, Shape::Object);
            assert_eq!(
                out.bodies[0].type_name,
                std::any::type_name::<DynamicObject>()
            );
        }
    }

    #[test]
    fn served_kinds_never_fall_back_to_dynamic() {
        // Pod is served and typed; a served kind the models cannot decode is a failure.
        assert!(roundtrip_body(r#"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#).is_ok());
        assert!(is_served("v1", "Pod") && is_served("v1", "PodList"));
        assert!(!is_served("x.example/v1", "Thing"));
        let empty = Value::Object(Default::default());
        let check = Check {
            text: "{}",
            original: &empty,
            line: None,
            event: false,
        };
        let err = with_type_or(None, "v1", "Pod", check).unwrap_err();
        assert!(matches!(err.reason, Reason::Untyped { .. }), "{err}");
        assert!(with_type_or(None, "x.example/v1", "Thing", check).is_ok());
    }

    #[test]
    fn not_json_is_reported() {
        let err = roundtrip_body("{\"kind\":").unwrap_err();
        assert!(matches!(err.reason, Reason::NotJson(_)), "{err}");
    }

    #[test]
    fn stream_lines_must_be_events() {
        let (shape, results) = roundtrip_bodies("{\"a\":1}\n{\"type\":\"ADDED\",\"object\":{}}\n");
        assert_eq!(shape, Shape::Watch);
        let err = results[0].clone().unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(matches!(err.reason, Reason::NotAnEvent(_)), "{err}");
        assert!(results[1].is_ok(), "{:?}", results[1]);
    }
}
