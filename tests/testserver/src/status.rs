//! `Status` answers with the real server's codes, reasons and messages.

use serde_json::{Value, json};

/// A failed request: HTTP code and the `Status` body.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: u16,
    pub body: Value,
}

/// The resource as the server names it in messages: `pods`, `deployments.apps`.
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(group: &str, plural: &str, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": plural});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

pub fn failure(code: u16, reason: &str, message: String, details: Option<Value>) -> Failure {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    Failure { code, body }
}

pub fn not_found(group: &str, plural: &str, name: &str) -> Failure {
    failure(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", qualified(group, plural)),
        Some(details(group, plural, name)),
    )
}

pub fn already_exists(group: &str, plural: &str, name: &str) -> Failure {
    failure(
        409,
        "AlreadyExists",
        format!("{} \"{name}\" already exists", qualified(group, plural)),
        Some(details(group, plural, name)),
    )
}

pub fn conflict(group: &str, plural: &str, name: &str) -> Failure {
    failure(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            qualified(group, plural)
        ),
        Some(details(group, plural, name)),
    )
}

/// A delete whose preconditions do not hold: named by kind, as the real server does.
pub fn precondition_failed(kind: &str, group: &str, name: &str, why: &str) -> Failure {
    let mut d = json!({"name": name, "kind": kind});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    failure(
        409,
        "Conflict",
        format!("Operation cannot be fulfilled on {kind} \"{name}\": {why}"),
        Some(d),
    )
}

/// 422 with one cause per field.
pub fn invalid(kind: &str, group: &str, name: &str, causes: &[(&str, &str, String)]) -> Failure {
    let text: Vec<String> = causes
        .iter()
        .map(|(field, _, message)| format!("{field}: {message}"))
        .collect();
    // Kinds of a group are named with it: `Deployment.apps`.
    let qualified = match group {
        "" => kind.to_owned(),
        g => format!("{kind}.{g}"),
    };
    let message = if text.len() == 1 {
        format!("{qualified} \"{name}\" is invalid: {}", text[0])
    } else {
        format!("{qualified} \"{name}\" is invalid: [{}]", text.join(", "))
    };
    let causes: Vec<Value> = causes
        .iter()
        .map(|(field, reason, message)| json!({"reason": reason, "message": message, "field": field}))
        .collect();
    let mut d = json!({"kind": kind, "causes": causes});
    if !name.is_empty() {
        d["name"] = json!(name);
    }
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    failure(422, "Invalid", message, Some(d))
}

pub fn bad_request(message: String) -> Failure {
    failure(400, "BadRequest", message, None)
}

/// What the server answers for a path it does not serve.
pub fn no_route() -> Failure {
    failure(
        404,
        "NotFound",
        "the server could not find the requested resource".into(),
        Some(json!({})),
    )
}

pub fn method_not_allowed() -> Failure {
    failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource".into(),
        Some(json!({})),
    )
}

/// A body whose Content-Type the handler has no decoder for, with the types it has
/// (negotiation's errUnsupportedMediaType: no details).
pub fn unsupported_media_type(accepted: &str) -> Failure {
    failure(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {accepted}"
        ),
        None,
    )
}

/// The ERROR event of a watch from a resourceVersion older than the kept history.
pub fn expired(requested: u64, oldest: u64) -> Failure {
    failure(
        410,
        "Expired",
        format!("too old resource version: {requested} ({oldest})"),
        Some(json!({})),
    )
}

/// A delete's answer when the object is gone at once (the kinds that do not answer the object).
pub fn deleted(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    let mut d = details(group, plural, name);
    d["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}

/// 422 for query parameters the server's ListOptions validation refuses.
pub fn invalid_list_options(field: &str, reason: &str, message: &str) -> Failure {
    invalid_options("ListOptions", field, reason, message)
}

/// 422 for options (`ListOptions`, `DeleteOptions`) the server's validation refuses.
pub fn invalid_options(kind: &str, field: &str, reason: &str, message: &str) -> Failure {
    failure(
        422,
        "Invalid",
        format!("{kind}.meta.k8s.io \"\" is invalid: {field}: {message}"),
        Some(json!({
            "group": "meta.k8s.io",
            "kind": kind,
            "causes": [{"reason": reason, "message": message, "field": field}],
        })),
    )
}

/// A resourceVersion that is not a number.
pub fn invalid_resource_version(rv: &str) -> Failure {
    bad_request(format!(
        "invalid resource version: resourceVersion: Invalid value: \"{rv}\": strconv.ParseUint: parsing \"{rv}\": invalid syntax"
    ))
}

/// A list or watch from a resourceVersion the server has not reached (it waits, then 504).
pub fn too_large_resource_version(requested: u64, current: u64) -> Failure {
    failure(
        504,
        "Timeout",
        format!("Timeout: Too large resource version: {requested}, current: {current}"),
        Some(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        })),
    )
}

/// An exact list from a resourceVersion older than the kept history.
pub fn list_too_old() -> Failure {
    failure(
        410,
        "Expired",
        "The resourceVersion for the provided list is too old.".into(),
        Some(json!({})),
    )
}

/// A continue token from before the kept history.
pub fn continue_too_old() -> Failure {
    failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
        None,
    )
}
