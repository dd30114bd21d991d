//! Where the Kubernetes spec and real servers disagree, corrected in one place.
//!
//! Each fixup names its defect, says why in one line, and reports how many places it changed, so a
//! spec that no longer has the defect shows up as a fixup that changed nothing.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

use crate::model::SPECIAL_EXT;
use crate::ops::RESPONSE_EXT;

pub struct Fixup {
    pub name: &'static str,
    pub reason: &'static str,
    apply: fn(&mut OpenAPI) -> usize,
}

impl Fixup {
    pub fn apply(&self, doc: &mut OpenAPI) -> usize {
        (self.apply)(doc)
    }
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";
const APIEXT: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

pub const FIXUPS: &[Fixup] = &[
    Fixup {
        name: "quantity-accepts-numbers",
        reason: "Quantity is typed string, but servers and users also send JSON numbers",
        apply: |d| {
            mark(
                d,
                &["io.k8s.apimachinery.pkg.api.resource.Quantity"],
                "quantity",
            )
        },
    },
    Fixup {
        name: "micro-time-is-not-time",
        reason: "MicroTime is declared date-time like Time, but carries exactly six fractional digits",
        apply: |d| mark(d, &[&format!("{META}.MicroTime")], "micro-time"),
    },
    Fixup {
        name: "json-schema-unions",
        reason: "JSONSchemaPropsOr{Array,Bool,StringArray} have no schema; on the wire they are schema-or-X unions",
        apply: |d| {
            mark(
                d,
                &[&format!("{APIEXT}.JSONSchemaPropsOrArray")],
                "json-schema-props-or-array",
            ) + mark(
                d,
                &[&format!("{APIEXT}.JSONSchemaPropsOrBool")],
                "json-schema-props-or-bool",
            ) + mark(
                d,
                &[&format!("{APIEXT}.JSONSchemaPropsOrStringArray")],
                "json-schema-props-or-string-array",
            )
        },
    },
    Fixup {
        name: "int-or-string-extension",
        reason: "CRD schemas mark int-or-string with x-kubernetes-int-or-string (an anyOf), not a format",
        apply: |d| {
            walk_schemas(d, &mut |s| {
                if s.schema_data.extensions.get("x-kubernetes-int-or-string")
                    == Some(&Value::Bool(true))
                    && !s.schema_data.extensions.contains_key(SPECIAL_EXT)
                {
                    s.schema_data
                        .extensions
                        .insert(SPECIAL_EXT.into(), Value::from("int-or-string"));
                    true
                } else {
                    false
                }
            })
        },
    },
    Fixup {
        name: "events-v1-event-time-optional",
        reason: "events.k8s.io/v1 Event.eventTime is declared required but is null for events written through core/v1",
        apply: |d| unrequire(d, "io.k8s.api.events.v1.Event", "eventTime"),
    },
    Fixup {
        name: "network-policy-pod-selector-optional",
        reason: "NetworkPolicySpec.podSelector was declared required in some releases but servers omit it",
        apply: |d| {
            unrequire(
                d,
                "io.k8s.api.networking.v1.NetworkPolicySpec",
                "podSelector",
            )
        },
    },
    Fixup {
        name: "stateful-set-service-name-optional",
        reason: "StatefulSetSpec.serviceName was declared required in some releases; it is optional since 1.3x",
        apply: |d| unrequire(d, "io.k8s.api.apps.v1.StatefulSetSpec", "serviceName"),
    },
    Fixup {
        name: "delete-returns-object-or-status",
        reason: "delete is declared to answer Status; servers answer the object while deletion is in progress",
        apply: |d| respond(d, &["delete"], "object-or-status"),
    },
    Fixup {
        name: "deletecollection-returns-list",
        reason: "deletecollection is declared to answer Status; servers answer the list of deleted objects",
        apply: |d| respond(d, &["deletecollection"], "list-or-status"),
    },
    Fixup {
        name: "watch-is-an-event-stream",
        reason: "watch responses are typed as the list kind; on the wire they are newline-delimited events",
        apply: |d| respond(d, &["watch", "watchlist"], "watch-events"),
    },
    Fixup {
        name: "connect-streams-need-upgrade",
        reason: "exec/attach/portforward are declared as plain calls but need a WebSocket/SPDY upgrade",
        apply: |d| {
            each_operation(d, &mut |path, op| {
                let upgrade = ["/exec", "/attach", "/portforward"]
                    .iter()
                    .any(|s| path.ends_with(s));
                let proxy = path.contains("/proxy");
                let action = op
                    .extensions
                    .get("x-kubernetes-action")
                    .and_then(Value::as_str);
                if action != Some("connect") || op.extensions.contains_key(RESPONSE_EXT) {
                    return false;
                }
                let response = if upgrade {
                    "upgrade"
                } else if proxy {
                    "bytes"
                } else {
                    return false;
                };
                op.extensions
                    .insert(RESPONSE_EXT.into(), Value::from(response));
                true
            })
        },
    },
    Fixup {
        name: "binding-and-eviction-answer-status",
        reason: "creating a binding or an eviction is declared to answer the object; servers answer a Status",
        apply: |d| {
            each_operation(d, &mut |path, op| {
                let subresource_create = ["/binding", "/bindings", "/eviction"]
                    .iter()
                    .any(|s| path.ends_with(s))
                    && op.extensions.get("x-kubernetes-action") == Some(&Value::from("post"));
                subresource_create && answer_with(op, &format!("{META}.Status"))
            })
        },
    },
    Fixup {
        name: "connect-option-kinds",
        reason: "connect operations name option kinds (PodExecOptions, ...) that are not definitions",
        apply: |d| {
            let defined: std::collections::BTreeSet<String> = d
                .components
                .as_ref()
                .map(|c| {
                    c.schemas
                        .values()
                        .filter_map(|s| s.as_item())
                        .filter_map(|s| {
                            s.schema_data
                                .extensions
                                .get("x-kubernetes-group-version-kind")
                        })
                        .filter_map(Value::as_array)
                        .flatten()
                        .filter_map(|g| g.get("kind").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            each_operation(d, &mut |_, op| {
                let kind = op
                    .extensions
                    .get("x-kubernetes-group-version-kind")
                    .and_then(|g| g.get("kind"))
                    .and_then(Value::as_str);
                match kind {
                    Some(k) if !defined.contains(k) => {
                        op.extensions
                            .shift_remove("x-kubernetes-group-version-kind");
                        true
                    }
                    _ => false,
                }
            })
        },
    },
];

/// Applies every fixup; returns (name, places changed) for the summary.
pub fn apply_all(doc: &mut OpenAPI) -> Vec<(&'static str, usize)> {
    FIXUPS.iter().map(|f| (f.name, f.apply(doc))).collect()
}

fn schema_mut<'a>(doc: &'a mut OpenAPI, name: &str) -> Option<&'a mut Schema> {
    match doc.components.as_mut()?.schemas.get_mut(name)? {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { .. } => None,
    }
}

fn mark(doc: &mut OpenAPI, names: &[&str], special: &str) -> usize {
    let mut n = 0;
    for name in names {
        if let Some(s) = schema_mut(doc, name)
            && s.schema_data
                .extensions
                .get(SPECIAL_EXT)
                .and_then(Value::as_str)
                != Some(special)
        {
            s.schema_data
                .extensions
                .insert(SPECIAL_EXT.into(), Value::from(special));
            n += 1;
        }
    }
    n
}

fn required_mut(s: &mut Schema) -> Option<&mut Vec<String>> {
    match &mut s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => Some(&mut o.required),
        SchemaKind::Any(a) => Some(&mut a.required),
        _ => None,
    }
}

fn unrequire(doc: &mut OpenAPI, def: &str, property: &str) -> usize {
    let Some(req) = schema_mut(doc, def).and_then(required_mut) else {
        return 0;
    };
    let before = req.len();
    req.retain(|r| r != property);
    before - req.len()
}

/// Calls `f` on every operation with its path; counts the `true`s.
fn each_operation(
    doc: &mut OpenAPI,
    f: &mut dyn FnMut(&str, &mut openapiv3::Operation) -> bool,
) -> usize {
    let mut n = 0;
    for (path, item) in doc.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            n += usize::from(f(path, op));
        }
    }
    n
}

/// Marks how operations with these actions really answer.
fn respond(doc: &mut OpenAPI, actions: &[&str], response: &str) -> usize {
    each_operation(doc, &mut |_, op| {
        let action = op
            .extensions
            .get("x-kubernetes-action")
            .and_then(Value::as_str);
        if action.is_some_and(|a| actions.contains(&a)) && !op.extensions.contains_key(RESPONSE_EXT)
        {
            op.extensions
                .insert(RESPONSE_EXT.into(), Value::from(response));
            true
        } else {
            false
        }
    })
}

/// Points the success answers (200, 201, 202) of `op` at the schema `definition`; whether any
/// changed.
fn answer_with(op: &mut openapiv3::Operation, definition: &str) -> bool {
    let reference = format!("#/components/schemas/{definition}");
    let mut changed = false;
    for code in [200u16, 201, 202] {
        let Some(ReferenceOr::Item(response)) = op
            .responses
            .responses
            .get_mut(&openapiv3::StatusCode::Code(code))
        else {
            continue;
        };
        for media in response.content.values_mut() {
            let already = matches!(&media.schema, Some(ReferenceOr::Reference { reference: r }) if *r == reference);
            if !already {
                media.schema = Some(ReferenceOr::Reference {
                    reference: reference.clone(),
                });
                changed = true;
            }
        }
    }
    changed
}

/// Calls `f` on every schema of the document, nested ones included; counts the `true`s.
fn walk_schemas(doc: &mut OpenAPI, f: &mut dyn FnMut(&mut Schema) -> bool) -> usize {
    let Some(components) = doc.components.as_mut() else {
        return 0;
    };
    let mut n = 0;
    for s in components.schemas.values_mut() {
        if let ReferenceOr::Item(s) = s {
            n += walk(s, f);
        }
    }
    n
}

fn walk(s: &mut Schema, f: &mut dyn FnMut(&mut Schema) -> bool) -> usize {
    let mut n = usize::from(f(s));
    let mut each = |r: &mut ReferenceOr<Box<Schema>>| {
        if let ReferenceOr::Item(inner) = r {
            n += walk(inner, f);
        }
    };
    match &mut s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => {
            o.properties.values_mut().for_each(&mut each);
            if let Some(openapiv3::AdditionalProperties::Schema(a)) = &mut o.additional_properties
                && let ReferenceOr::Item(inner) = a.as_mut()
            {
                n += walk(inner, f);
            }
        }
        SchemaKind::Type(Type::Array(a)) => {
            if let Some(items) = &mut a.items {
                each(items);
            }
        }
        SchemaKind::Any(a) => {
            a.properties.values_mut().for_each(&mut each);
            if let Some(items) = &mut a.items {
                each(items);
            }
        }
        _ => {}
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap()
    }

    fn fixup(name: &str) -> &'static Fixup {
        FIXUPS.iter().find(|f| f.name == name).unwrap()
    }

    fn ext(d: &OpenAPI, name: &str) -> Option<String> {
        match d.components.as_ref()?.schemas.get(name)? {
            ReferenceOr::Item(s) => s
                .schema_data
                .extensions
                .get(SPECIAL_EXT)?
                .as_str()
                .map(str::to_owned),
            _ => None,
        }
    }

    fn required(d: &OpenAPI, name: &str) -> Vec<String> {
        match d.components.as_ref().unwrap().schemas.get(name).unwrap() {
            ReferenceOr::Item(s) => match &s.schema_kind {
                SchemaKind::Type(Type::Object(o)) => o.required.clone(),
                _ => panic!("not an object"),
            },
            _ => panic!("ref"),
        }
    }

    #[test]
    fn names_are_unique_and_reasons_short() {
        let mut names: Vec<_> = FIXUPS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FIXUPS.len());
        assert!(
            FIXUPS
                .iter()
                .all(|f| !f.reason.is_empty() && f.reason.len() < 120)
        );
    }

    #[test]
    fn quantity_and_micro_time_are_marked_once() {
        let mut d = doc(serde_json::json!({
            "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": {"type": "string", "format": "date-time"},
        }));
        assert_eq!(fixup("quantity-accepts-numbers").apply(&mut d), 1);
        assert_eq!(fixup("micro-time-is-not-time").apply(&mut d), 1);
        assert_eq!(
            ext(&d, "io.k8s.apimachinery.pkg.api.resource.Quantity").as_deref(),
            Some("quantity")
        );
        assert_eq!(
            ext(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime").as_deref(),
            Some("micro-time")
        );
        // Idempotent: a second run changes nothing.
        assert_eq!(fixup("quantity-accepts-numbers").apply(&mut d), 0);
    }

    #[test]
    fn json_schema_unions_are_typed() {
        let mut d = doc(serde_json::json!({
            format!("{APIEXT}.JSONSchemaPropsOrArray"): {},
            format!("{APIEXT}.JSONSchemaPropsOrBool"): {},
            format!("{APIEXT}.JSONSchemaPropsOrStringArray"): {},
        }));
        assert_eq!(fixup("json-schema-unions").apply(&mut d), 3);
        assert_eq!(
            ext(&d, &format!("{APIEXT}.JSONSchemaPropsOrBool")).as_deref(),
            Some("json-schema-props-or-bool")
        );
    }

    #[test]
    fn int_or_string_extension_is_found_nested() {
        let mut d = doc(serde_json::json!({
            "io.example.v1.Thing": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "ports": {"type": "array", "items": {"x-kubernetes-int-or-string": true}}
                }}
            }}
        }));
        assert_eq!(fixup("int-or-string-extension").apply(&mut d), 2);
    }

    fn ops_doc() -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "components": {"schemas": {"io.k8s.api.core.v1.Pod": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Pod"}]}}},
            "paths": {
                "/api/v1/namespaces/{namespace}/pods/{name}": {
                    "delete": {"responses": {}, "x-kubernetes-action": "delete"},
                    "get": {"responses": {}, "x-kubernetes-action": "get"}
                },
                "/api/v1/namespaces/{namespace}/pods": {
                    "delete": {"responses": {}, "x-kubernetes-action": "deletecollection"},
                    "get": {"responses": {}, "x-kubernetes-action": "list"}
                },
                "/api/v1/watch/namespaces/{namespace}/pods": {"get": {"responses": {}, "x-kubernetes-action": "watchlist"}},
                "/api/v1/namespaces/{namespace}/pods/{name}/exec": {"get": {"responses": {}, "x-kubernetes-action": "connect",
                    "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "PodExecOptions"}}},
                "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}": {"get": {"responses": {}, "x-kubernetes-action": "connect",
                    "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "Pod"}}}
            }
        }))
        .unwrap()
    }

    fn response_of(d: &OpenAPI, path: &str, delete: bool) -> Option<String> {
        let item = d.paths.paths.get(path)?.as_item()?;
        let op = if delete {
            item.delete.as_ref()?
        } else {
            item.get.as_ref()?
        };
        op.extensions.get(RESPONSE_EXT)?.as_str().map(str::to_owned)
    }

    #[test]
    fn bindings_and_evictions_answer_status() {
        let answers = |kind: &str| {
            serde_json::json!({"201": {"description": "", "content": {"application/json":
            {"schema": {"$ref": format!("#/components/schemas/io.k8s.api.{kind}")}}}}})
        };
        let mut d: OpenAPI = serde_json::from_value(serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "paths": {
                "/api/v1/namespaces/{namespace}/pods/{name}/eviction": {"post": {"responses": answers("policy.v1.Eviction"), "x-kubernetes-action": "post"}},
                "/api/v1/namespaces/{namespace}/pods/{name}/binding": {"post": {"responses": answers("core.v1.Binding"), "x-kubernetes-action": "post"}},
                "/api/v1/namespaces/{namespace}/bindings": {"post": {"responses": answers("core.v1.Binding"), "x-kubernetes-action": "post"}},
                "/api/v1/namespaces/{namespace}/pods": {"post": {"responses": answers("core.v1.Pod"), "x-kubernetes-action": "post"}}
            }
        }))
        .unwrap();
        let fix = fixup("binding-and-eviction-answer-status");
        assert_eq!(fix.apply(&mut d), 3);
        assert_eq!(fix.apply(&mut d), 0, "a second run changes nothing");
        let answer = |path: &str| {
            let op = d.paths.paths[path]
                .as_item()
                .unwrap()
                .post
                .as_ref()
                .unwrap();
            let ReferenceOr::Item(r) = &op.responses.responses[&openapiv3::StatusCode::Code(201)]
            else {
                panic!("inline response expected");
            };
            match &r.content["application/json"].schema {
                Some(ReferenceOr::Reference { reference }) => reference.clone(),
                other => panic!("{other:?}"),
            }
        };
        let status = format!("#/components/schemas/{META}.Status");
        assert_eq!(
            answer("/api/v1/namespaces/{namespace}/pods/{name}/eviction"),
            status
        );
        assert_eq!(answer("/api/v1/namespaces/{namespace}/bindings"), status);
        assert_eq!(
            answer("/api/v1/namespaces/{namespace}/pods"),
            "#/components/schemas/io.k8s.api.core.v1.Pod"
        );
    }

    #[test]
    fn operation_responses_are_corrected() {
        let mut d = ops_doc();
        assert_eq!(fixup("delete-returns-object-or-status").apply(&mut d), 1);
        assert_eq!(fixup("deletecollection-returns-list").apply(&mut d), 1);
        assert_eq!(fixup("watch-is-an-event-stream").apply(&mut d), 1);
        assert_eq!(fixup("connect-streams-need-upgrade").apply(&mut d), 2);
        let pod = "/api/v1/namespaces/{namespace}/pods/{name}";
        assert_eq!(
            response_of(&d, pod, true).as_deref(),
            Some("object-or-status")
        );
        assert_eq!(response_of(&d, pod, false), None);
        assert_eq!(
            response_of(&d, "/api/v1/namespaces/{namespace}/pods", true).as_deref(),
            Some("list-or-status")
        );
        assert_eq!(
            response_of(&d, "/api/v1/watch/namespaces/{namespace}/pods", false).as_deref(),
            Some("watch-events")
        );
        assert_eq!(
            response_of(&d, &format!("{pod}/exec"), false).as_deref(),
            Some("upgrade")
        );
        assert_eq!(
            response_of(&d, &format!("{pod}/proxy/{{path}}"), false).as_deref(),
            Some("bytes")
        );
    }

    #[test]
    fn connect_option_kinds_are_dropped() {
        let mut d = ops_doc();
        assert_eq!(fixup("connect-option-kinds").apply(&mut d), 1);
        let exec = d.paths.paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
            .as_item()
            .unwrap();
        assert!(
            !exec
                .get
                .as_ref()
                .unwrap()
                .extensions
                .contains_key("x-kubernetes-group-version-kind")
        );
    }

    #[test]
    fn required_corrections() {
        let mut d = doc(serde_json::json!({
            "io.k8s.api.events.v1.Event": {"type": "object", "required": ["eventTime"], "properties": {"eventTime": {"type": "string"}}},
            "io.k8s.api.core.v1.LocalObjectReference": {"type": "object", "properties": {"name": {"type": "string"}}},
            "io.k8s.api.core.v1.SecretKeySelector": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "name": {"type": "string"}}},
            "io.k8s.api.apps.v1.StatefulSetSpec": {"type": "object", "required": ["serviceName", "selector"], "properties": {"serviceName": {"type": "string"}, "selector": {"type": "string"}}},
        }));
        assert_eq!(fixup("events-v1-event-time-optional").apply(&mut d), 1);
        assert!(required(&d, "io.k8s.api.events.v1.Event").is_empty());
        assert_eq!(fixup("stateful-set-service-name-optional").apply(&mut d), 1);
        assert_eq!(
            required(&d, "io.k8s.api.apps.v1.StatefulSetSpec"),
            ["selector"]
        );
        // Reference names stay optional, as declared: `[{}]` must not come back as
        // `[{"name":""}]`.
        for f in FIXUPS {
            f.apply(&mut d);
        }
        assert!(required(&d, "io.k8s.api.core.v1.LocalObjectReference").is_empty());
        assert_eq!(
            required(&d, "io.k8s.api.core.v1.SecretKeySelector"),
            ["key"]
        );
        // Absent definitions are not an error: the fixup just changes nothing.
        assert_eq!(
            fixup("network-policy-pod-selector-optional").apply(&mut d),
            0
        );
    }
}
