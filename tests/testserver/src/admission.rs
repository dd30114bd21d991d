//! The one admission chain every write goes through — unknown fields (`fieldValidation`),
//! defaults, CRD pruning and defaults, managedFields — then the store; and the body decoding
//! and patch checks the writes share.

use bytes::Bytes;
use kuber_api::KindInfo;
use serde_json::{Value, json};

use crate::apply;
use crate::defaults;
use crate::openapi::{self, FieldValidation};
use crate::patch;
use crate::request::Query;
use crate::schema;
use crate::smp;
use crate::status::{self, Failure};
use crate::store::{Store, Target};

/// How managedFields take a write.
pub(crate) enum Managed<'a> {
    /// An update by `manager` of `old` (none for a create), on `subresource` (`""`: the object).
    Update {
        old: Option<&'a Value>,
        manager: &'a str,
        subresource: &'a str,
    },
    /// Recorded already, by server-side apply.
    Applied,
}

/// Where the admitted object goes.
pub(crate) enum Step<'a> {
    Create,
    Replace { name: &'a str, target: Target },
}

/// What the writes of one request share.
pub(crate) struct Writer<'a> {
    pub store: &'a Store,
    pub kind: &'static KindInfo,
    pub ns: Option<&'a str>,
    pub query: &'a Query,
    pub dry_run: bool,
    /// `fieldValidation=Warn`'s findings, for the Warning headers.
    pub warnings: Vec<String>,
}

impl Writer<'_> {
    /// Admits `object` and stores it (a dry run: answers what would be stored).
    pub fn write(
        &mut self,
        mut object: Value,
        managed: Managed,
        step: Step,
    ) -> Result<Value, Failure> {
        validate_fields(self.kind, &mut object, self.query, &mut self.warnings)?;
        defaults::scheme(self.kind, &mut object);
        self.store.crds.shape(self.kind, &mut object);
        if let Managed::Update {
            old,
            manager,
            subresource,
        } = managed
        {
            apply::record_update(self.kind, old, &mut object, manager, subresource);
        }
        let stored = match step {
            Step::Create => self.store.create(self.kind, self.ns, object, self.dry_run),
            Step::Replace { name, target } => {
                self.store
                    .replace(self.kind, self.ns, name, object, target, self.dry_run)
            }
        };
        Ok(stored?)
    }
}

/// `fieldValidation`: fields `kind`'s schema does not declare fail the write (Strict), or
/// come back as warnings (Warn); unless refused, they are dropped, as the real server's typed
/// decoding drops them.
fn validate_fields(
    kind: &KindInfo,
    object: &mut Value,
    q: &Query,
    warnings: &mut Vec<String>,
) -> Result<(), Failure> {
    let mode = FieldValidation::parse(q.get("fieldValidation")).map_err(status::bad_request)?;
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

pub(crate) fn parse_body(body: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| status::bad_request(format!("the body of the request is not valid JSON: {e}")))
}

/// A patch type the route does not take. Built-in kinds answer as their router does; custom
/// resources (no schema in the spec, no strategic merge patch) list what they take.
pub(crate) fn unsupported_patch(kind: &KindInfo, content_type: &str) -> Option<Failure> {
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

pub(crate) fn patch_options_invalid(field: &str, reason: &str, message: &str) -> Failure {
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

/// An apply body: JSON, or YAML (read by `kuber_api::yaml`, the workspace's one YAML reader,
/// with sigs.k8s.io/yaml's typing of plain scalars).
pub(crate) fn parse_apply_body(body: &Bytes) -> Result<Value, Failure> {
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| status::bad_request(format!("the applied configuration is not UTF-8: {e}")))?;
    kuber_api::yaml::from_str::<Value>(text)
        .map_err(|e| status::bad_request(format!("error decoding YAML: {e}")))
}

/// `current` with a JSON, merge or strategic merge patch applied (`base`: the media type).
pub(crate) fn patched(
    kind: &KindInfo,
    current: &Value,
    base: &str,
    patch: &Value,
) -> Result<Value, Failure> {
    let mut object = current.clone();
    match base {
        "application/merge-patch+json" => patch::merge(&mut object, patch),
        "application/json-patch+json" => {
            patch::json_patch(&mut object, patch).map_err(|e| match e {
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
            })?
        }
        _ => {
            let node = schema::for_kind(kind.group, kind.version, kind.kind);
            smp::apply(&mut object, patch, node).map_err(|e| match e {
                smp::SmpError::BadRequest(m) => status::bad_request(m),
                smp::SmpError::Invalid(m) => status::failure(422, "Invalid", m, None),
            })?
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_bodies_are_json_or_yaml() {
        let yaml = Bytes::from_static(
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {tier: \"1\"}\nspec:\n  replicas: 3\n  paused: false\n",
        );
        assert_eq!(
            parse_apply_body(&yaml).unwrap(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"tier": "1"}},
                "spec": {"replicas": 3, "paused": false}})
        );
        let json_body = Bytes::from_static(br#"{"kind": "ConfigMap", "data": {"a": "1e3"}}"#);
        assert_eq!(parse_apply_body(&json_body).unwrap()["data"]["a"], "1e3");
        let bad = parse_apply_body(&Bytes::from_static(b"a: [1\n")).unwrap_err();
        assert_eq!(bad.code, 400);
        let twice = parse_apply_body(&Bytes::from_static(b"a: 1\na: 2\n")).unwrap_err();
        assert_eq!(twice.code, 400);
    }
}
