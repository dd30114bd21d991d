//! Where the Kubernetes spec and real servers disagree, corrected in one place.
//!
//! Each fixup names its defect, says why in one line, and reports how many places it changed.
//! Document fixups run before the model is built; operation fixups run on the operations read
//! from the paths, once the kinds are known. A fixup that changes nothing in a Kubernetes
//! release's spec is an error (the defect is gone: drop the fixup) unless it declares the
//! releases it applies to and this is not one of them.

use openapiv3::{
    OpenAPI, ReferenceOr, Schema, SchemaKind, StringType, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::model::{Model, Special, Specials, Ty};
use crate::ops::{Op, Response};

pub struct Fixup {
    pub name: &'static str,
    pub reason: &'static str,
    /// The releases (`"1.33"`) whose spec has the defect; `None`: every release. `Some(&[])`: no
    /// release, only other documents (CRDs).
    pub applies_to: Option<&'static [&'static str]>,
    pub apply: Apply,
}

pub enum Apply {
    /// Corrects the document; may name definitions carried by hand-written types.
    Doc(fn(&mut OpenAPI, &mut Specials) -> Tally),
    /// Corrects the operations read from the paths (the model's kinds are known).
    Ops(fn(&mut [Op], &Model) -> Result<Tally, String>),
}

/// What a fixup found to correct in the documents, and how much of it it changed. A fixup that
/// finds nothing (a partial document set without its definitions) has nothing to say about the
/// release; one that finds its targets already right does.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub found: usize,
    pub changed: usize,
}

impl Tally {
    /// One place looked at: `None` when it is not one the fixup corrects.
    fn of(outcome: Option<bool>) -> Tally {
        match outcome {
            None => Tally::default(),
            Some(changed) => Tally {
                found: 1,
                changed: usize::from(changed),
            },
        }
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, other: Tally) -> Tally {
        Tally {
            found: self.found + other.found,
            changed: self.changed + other.changed,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |a, b| a + b)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixupError {
    #[error("fixup `{name}`: {message}")]
    Failed { name: &'static str, message: String },
    #[error(
        "fixup{} {} changed nothing in the Kubernetes {release} spec: drop {} or declare the \
         releases {} to (`applies_to`)",
        if names.len() == 1 { "" } else { "s" },
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        if names.len() == 1 { "it" } else { "them" },
        if names.len() == 1 { "it applies" } else { "they apply" }
    )]
    Unused {
        names: Vec<&'static str>,
        release: String,
    },
}

impl Fixup {
    /// Runs a document fixup; an operation fixup changes nothing here.
    pub fn apply_doc(&self, doc: &mut OpenAPI, specials: &mut Specials) -> Tally {
        match self.apply {
            Apply::Doc(f) => f(doc, specials),
            Apply::Ops(_) => Tally::default(),
        }
    }

    /// Runs an operation fixup; a document fixup changes nothing here.
    pub fn apply_ops(&self, ops: &mut [Op], model: &Model) -> Result<Tally, FixupError> {
        match self.apply {
            Apply::Doc(_) => Ok(Tally::default()),
            Apply::Ops(f) => f(ops, model).map_err(|message| FixupError::Failed {
                name: self.name,
                message,
            }),
        }
    }

    /// Whether finding nothing to change in `release`'s spec is expected.
    fn may_change_nothing(&self, release: &str) -> bool {
        self.applies_to.is_some_and(|list| !list.contains(&release))
    }
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";
const APIEXT: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

pub const FIXUPS: &[Fixup] = &[
    Fixup {
        name: "quantity-accepts-numbers",
        reason: "Quantity is typed string, but servers and users also send JSON numbers",
        applies_to: None,
        apply: Apply::Doc(|d, sp| {
            mark(
                d,
                sp,
                "io.k8s.apimachinery.pkg.api.resource.Quantity",
                Special::Quantity,
            )
        }),
    },
    Fixup {
        name: "micro-time-is-not-time",
        reason: "MicroTime is declared date-time like Time, but carries exactly six fractional digits",
        applies_to: None,
        apply: Apply::Doc(|d, sp| mark(d, sp, &format!("{META}.MicroTime"), Special::MicroTime)),
    },
    Fixup {
        name: "json-schema-unions",
        reason: "JSONSchemaPropsOr{Array,Bool,StringArray} have no schema; on the wire they are schema-or-X unions",
        applies_to: None,
        apply: Apply::Doc(|d, sp| {
            mark(
                d,
                sp,
                &format!("{APIEXT}.JSONSchemaPropsOrArray"),
                Special::JsonSchemaPropsOrArray,
            ) + mark(
                d,
                sp,
                &format!("{APIEXT}.JSONSchemaPropsOrBool"),
                Special::JsonSchemaPropsOrBool,
            ) + mark(
                d,
                sp,
                &format!("{APIEXT}.JSONSchemaPropsOrStringArray"),
                Special::JsonSchemaPropsOrStringArray,
            )
        }),
    },
    Fixup {
        name: "int-or-string-extension",
        reason: "CRD schemas mark int-or-string with x-kubernetes-int-or-string (an anyOf), not a format",
        // Release specs have no such schema (found nothing: nothing to say); CRD documents do.
        applies_to: None,
        apply: Apply::Doc(|d, _| {
            walk_schemas(d, &mut |s| {
                let marked = s.schema_data.extensions.get("x-kubernetes-int-or-string")
                    == Some(&Value::Bool(true));
                let format = VariantOrUnknownOrEmpty::Unknown("int-or-string".into());
                let done = matches!(&s.schema_kind, SchemaKind::Type(Type::String(t)) if t.format == format);
                if !marked {
                    return None;
                }
                if !done {
                    // The form the release specs use for IntOrString, which the model knows.
                    s.schema_kind = SchemaKind::Type(Type::String(StringType {
                        format,
                        ..StringType::default()
                    }));
                }
                Some(!done)
            })
        }),
    },
    Fixup {
        name: "events-v1-event-time-optional",
        reason: "events.k8s.io/v1 Event.eventTime is declared required but is null for events written through core/v1",
        applies_to: None,
        apply: Apply::Doc(|d, _| unrequire(d, "io.k8s.api.events.v1.Event", "eventTime")),
    },
    Fixup {
        name: "network-policy-pod-selector-optional",
        reason: "NetworkPolicySpec.podSelector was declared required in some releases but servers omit it",
        applies_to: Some(&["1.33"]),
        apply: Apply::Doc(|d, _| {
            unrequire(
                d,
                "io.k8s.api.networking.v1.NetworkPolicySpec",
                "podSelector",
            )
        }),
    },
    Fixup {
        name: "stateful-set-service-name-optional",
        reason: "StatefulSetSpec.serviceName was declared required in some releases; it is optional since 1.3x",
        // Optional in every spec from 1.33 on; kept for older ones.
        applies_to: Some(&[]),
        apply: Apply::Doc(|d, _| unrequire(d, "io.k8s.api.apps.v1.StatefulSetSpec", "serviceName")),
    },
    Fixup {
        name: "delete-returns-object-or-status",
        reason: "delete is declared to answer Status; servers answer the object while deletion is in progress",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                if op.action != "delete" {
                    return None;
                }
                let kind = op.kind_ty()?;
                Some(set_response(op, Response::Deleted(kind)))
            }))
        }),
    },
    Fixup {
        name: "deletecollection-returns-list",
        reason: "deletecollection is declared to answer Status; servers answer the list of deleted objects",
        applies_to: None,
        apply: Apply::Ops(|ops, model| {
            Ok(each_op(ops, |op| {
                if op.action != "deletecollection" {
                    return None;
                }
                let list = op
                    .kind_def
                    .as_ref()
                    .and_then(|d| model.kinds.get(d))
                    .and_then(|k| k.list_def.clone())?;
                Some(set_response(op, Response::Deleted(Ty::Named(list))))
            }))
        }),
    },
    Fixup {
        name: "watch-is-an-event-stream",
        reason: "watch responses are typed as the list kind; on the wire they are newline-delimited events",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            let mut n = Tally::default();
            for op in ops.iter_mut().filter(|o| is_watch(o)) {
                let Some(kind) = op.kind_ty() else {
                    return Err(format!("watch `{}` ({}) has no kind", op.id, op.path));
                };
                n = n + Tally::of(Some(set_response(op, Response::Watch(kind))));
            }
            Ok(n)
        }),
    },
    Fixup {
        name: "watch-on-the-list-path",
        reason: "the /watch/ paths are deprecated: watches go to the list path with watch=true, one object by its name",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                let rp = op.resource.as_ref().filter(|r| r.watch)?;
                if !is_watch(op) {
                    return None;
                }
                let list = op.path.replacen("/watch/", "/", 1);
                let named = rp.named;
                let list = if named {
                    list.trim_end_matches("/{name}").to_owned()
                } else {
                    list
                };
                let changed = op.request_path.as_ref() != Some(&list) || op.select_name != named;
                op.request_path = Some(list);
                op.select_name = named;
                Some(changed)
            }))
        }),
    },
    Fixup {
        name: "discovery-without-trailing-slash",
        reason: "discovery paths are declared with a trailing slash (/apis/); servers and clients use them without",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                if op.path.len() <= 1 || !op.path.ends_with('/') {
                    return None;
                }
                let trimmed = op.path.trim_end_matches('/').to_owned();
                let changed = op.request_path.as_ref() != Some(&trimmed);
                op.request_path = Some(trimmed);
                Some(changed)
            }))
        }),
    },
    Fixup {
        name: "connect-streams-need-upgrade",
        reason: "exec/attach/portforward are declared as plain calls but need a WebSocket/SPDY upgrade",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                if op.action != "connect" {
                    return None;
                }
                let upgrade = ["exec", "attach", "portforward"].contains(&op.subresource());
                let response = if upgrade {
                    Response::Upgrade
                } else if op.path.contains("/proxy") {
                    Response::Bytes
                } else {
                    return None;
                };
                Some(set_response(op, response))
            }))
        }),
    },
    Fixup {
        name: "repeated-query-parameters",
        reason: "exec's command and portforward's ports are declared single values; servers take them repeated",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                let name = match op.subresource() {
                    "exec" => "command",
                    "portforward" => "ports",
                    _ => return None,
                };
                let q = op.query.iter_mut().find(|q| q.name == name)?;
                let single = !matches!(q.ty, Ty::Vec(_));
                if single {
                    q.ty = Ty::Vec(Box::new(q.ty.clone()));
                }
                Some(single)
            }))
        }),
    },
    Fixup {
        name: "log-can-be-followed",
        reason: "logs are declared as one text answer; with `follow` the body keeps coming and is read as it arrives",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                if op.subresource() != "log" || op.response != Response::Text {
                    return None;
                }
                let changed = !op.streams_body;
                op.streams_body = true;
                Some(changed)
            }))
        }),
    },
    Fixup {
        name: "binding-and-eviction-answer-status",
        reason: "creating a binding or an eviction is declared to answer the object; servers answer a Status",
        applies_to: None,
        apply: Apply::Ops(|ops, _| {
            Ok(each_op(ops, |op| {
                let subresource_create = ["/binding", "/bindings", "/eviction"]
                    .iter()
                    .any(|s| op.path.ends_with(s))
                    && op.action == "post";
                subresource_create
                    .then(|| set_response(op, Response::Typed(Ty::Named(format!("{META}.Status")))))
            }))
        }),
    },
];

/// Runs every document fixup; what each found and changed (operation fixups: nothing yet).
pub fn apply_doc(doc: &mut OpenAPI, specials: &mut Specials) -> Vec<(&'static str, Tally)> {
    FIXUPS
        .iter()
        .map(|f| (f.name, f.apply_doc(doc, specials)))
        .collect()
}

/// Runs every operation fixup and adds what each changed to `counts` (from [`apply_doc`]).
pub fn apply_ops(
    ops: &mut [Op],
    model: &Model,
    counts: &mut [(&'static str, Tally)],
) -> Result<(), FixupError> {
    for (f, (_, n)) in FIXUPS.iter().zip(counts.iter_mut()) {
        *n = *n + f.apply_ops(ops, model)?;
    }
    Ok(())
}

/// Refuses fixups that found what they correct in `release`'s spec already right, unless they
/// declare they may.
pub fn check_unused(counts: &[(&'static str, Tally)], release: &str) -> Result<(), FixupError> {
    let names: Vec<&'static str> = FIXUPS
        .iter()
        .zip(counts)
        .filter(|(f, (_, n))| n.found > 0 && n.changed == 0 && !f.may_change_nothing(release))
        .map(|(f, _)| f.name)
        .collect();
    if names.is_empty() {
        Ok(())
    } else {
        Err(FixupError::Unused {
            names,
            release: release.to_owned(),
        })
    }
}

fn is_watch(op: &Op) -> bool {
    op.action == "watch" || op.action == "watchlist"
}

/// Calls `f` on every operation: `None` if it is not one to correct, else whether it changed.
fn each_op(ops: &mut [Op], mut f: impl FnMut(&mut Op) -> Option<bool>) -> Tally {
    ops.iter_mut().map(|op| Tally::of(f(op))).sum()
}

/// Whether the answer changed.
fn set_response(op: &mut Op, response: Response) -> bool {
    let changed = op.response != response;
    op.response = response;
    changed
}

fn schema_mut<'a>(doc: &'a mut OpenAPI, name: &str) -> Option<&'a mut Schema> {
    match doc.components.as_mut()?.schemas.get_mut(name)? {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { .. } => None,
    }
}

/// Names the hand-written type that carries definition `name`, when the document has it.
fn mark(doc: &mut OpenAPI, specials: &mut Specials, name: &str, special: Special) -> Tally {
    if schema_mut(doc, name).is_none() {
        return Tally::default();
    }
    Tally::of(Some(
        specials.insert(name.to_owned(), special) != Some(special),
    ))
}
fn required_mut(s: &mut Schema) -> Option<&mut Vec<String>> {
    match &mut s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => Some(&mut o.required),
        SchemaKind::Any(a) => Some(&mut a.required),
        _ => None,
    }
}

fn has_property(s: &Schema, property: &str) -> bool {
    match &s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => o.properties.contains_key(property),
        SchemaKind::Any(a) => a.properties.contains_key(property),
        _ => false,
    }
}

fn unrequire(doc: &mut OpenAPI, def: &str, property: &str) -> Tally {
    let Some(s) = schema_mut(doc, def).filter(|s| has_property(s, property)) else {
        return Tally::default();
    };
    let Some(req) = required_mut(s) else {
        return Tally::of(Some(false));
    };
    let before = req.len();
    req.retain(|r| r != property);
    Tally::of(Some(before != req.len()))
}

/// Calls `f` on every schema of the document, nested ones included; counts the `true`s.
fn walk_schemas(doc: &mut OpenAPI, f: &mut dyn FnMut(&mut Schema) -> Option<bool>) -> Tally {
    let Some(components) = doc.components.as_mut() else {
        return Tally::default();
    };
    let mut n = Tally::default();
    for s in components.schemas.values_mut() {
        if let ReferenceOr::Item(s) = s {
            n = n + walk(s, f);
        }
    }
    n
}

fn walk(s: &mut Schema, f: &mut dyn FnMut(&mut Schema) -> Option<bool>) -> Tally {
    let mut n = Tally::of(f(s));
    let mut each = |r: &mut ReferenceOr<Box<Schema>>| {
        if let ReferenceOr::Item(inner) = r {
            n = n + walk(inner, f);
        }
    };
    match &mut s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => {
            o.properties.values_mut().for_each(&mut each);
            if let Some(openapiv3::AdditionalProperties::Schema(a)) = &mut o.additional_properties
                && let ReferenceOr::Item(inner) = a.as_mut()
            {
                n = n + walk(inner, f);
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
    use crate::model::{Scope, TypeBody};

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
        let mut sp = Specials::new();
        assert_eq!(
            fixup("quantity-accepts-numbers")
                .apply_doc(&mut d, &mut sp)
                .changed,
            1
        );
        assert_eq!(
            fixup("micro-time-is-not-time")
                .apply_doc(&mut d, &mut sp)
                .changed,
            1
        );
        assert_eq!(
            sp["io.k8s.apimachinery.pkg.api.resource.Quantity"],
            Special::Quantity
        );
        assert_eq!(
            sp["io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"],
            Special::MicroTime
        );
        // Idempotent: a second run changes nothing.
        assert_eq!(
            fixup("quantity-accepts-numbers")
                .apply_doc(&mut d, &mut sp)
                .changed,
            0
        );
        let model = Model::build(&d, &sp).unwrap();
        assert!(matches!(
            model.types["io.k8s.apimachinery.pkg.api.resource.Quantity"].body,
            TypeBody::Special(Special::Quantity)
        ));
    }

    #[test]
    fn json_schema_unions_are_typed() {
        let mut d = doc(serde_json::json!({
            format!("{APIEXT}.JSONSchemaPropsOrArray"): {},
            format!("{APIEXT}.JSONSchemaPropsOrBool"): {},
            format!("{APIEXT}.JSONSchemaPropsOrStringArray"): {},
        }));
        let mut sp = Specials::new();
        assert_eq!(
            fixup("json-schema-unions")
                .apply_doc(&mut d, &mut sp)
                .changed,
            3
        );
        assert_eq!(
            sp[&format!("{APIEXT}.JSONSchemaPropsOrBool")],
            Special::JsonSchemaPropsOrBool
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
        let mut sp = Specials::new();
        let fix = fixup("int-or-string-extension");
        assert_eq!(fix.apply_doc(&mut d, &mut sp).changed, 2);
        assert_eq!(
            fix.apply_doc(&mut d, &mut sp).changed,
            0,
            "a second run changes nothing"
        );
        let model = Model::build(&d, &sp).unwrap();
        let TypeBody::Struct(fields) = &model.types["io.example.v1.ThingSpec"].body else {
            panic!("struct expected");
        };
        let ty = |name: &str| fields.iter().find(|f| f.json == name).unwrap().ty.clone();
        assert_eq!(ty("port"), Ty::Special(Special::IntOrString));
        assert_eq!(
            ty("ports"),
            Ty::Vec(Box::new(Ty::Special(Special::IntOrString)))
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
        let sp = &mut Specials::new();
        assert_eq!(
            fixup("events-v1-event-time-optional")
                .apply_doc(&mut d, sp)
                .changed,
            1
        );
        assert!(required(&d, "io.k8s.api.events.v1.Event").is_empty());
        assert_eq!(
            fixup("stateful-set-service-name-optional")
                .apply_doc(&mut d, sp)
                .changed,
            1
        );
        assert_eq!(
            required(&d, "io.k8s.api.apps.v1.StatefulSetSpec"),
            ["selector"]
        );
        // Reference names stay optional, as declared: `[{}]` must not come back as
        // `[{"name":""}]`.
        apply_doc(&mut d, sp);
        assert!(required(&d, "io.k8s.api.core.v1.LocalObjectReference").is_empty());
        assert_eq!(
            required(&d, "io.k8s.api.core.v1.SecretKeySelector"),
            ["key"]
        );
        // Absent definitions are not an error here: the fixup just changes nothing.
        assert_eq!(
            fixup("network-policy-pod-selector-optional")
                .apply_doc(&mut d, sp)
                .changed,
            0
        );
    }

    /// A small API: pods (with log, exec, proxy, eviction, binding), deployments with scale,
    /// discovery, and the watch paths.
    fn api() -> (Vec<Op>, Model) {
        let answers = |def: &str| {
            serde_json::json!({"200": {"description": "", "content": {"application/json":
            {"schema": {"$ref": format!("#/components/schemas/{def}")}}}}})
        };
        let text = serde_json::json!({"200": {"description": "", "content": {"*/*": {"schema": {"type": "string"}}}}});
        let gvk =
            |g: &str, v: &str, k: &str| serde_json::json!({"group": g, "version": v, "kind": k});
        let pod = gvk("", "v1", "Pod");
        let meta =
            serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}});
        let kind = |k: Value| serde_json::json!({"type": "object", "properties": {"metadata": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}, "x-kubernetes-group-version-kind": [k]});
        let list = |item: &str, k: Value| serde_json::json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}, "x-kubernetes-group-version-kind": [k]});
        let q = |name: &str, ty: &str| serde_json::json!({"in": "query", "name": name, "schema": {"type": ty}});
        let d: OpenAPI = serde_json::from_value(serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "components": {"schemas": {
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": meta,
                "io.k8s.apimachinery.pkg.apis.meta.v1.Status": kind(gvk("", "v1", "Status")),
                "io.k8s.api.core.v1.Pod": kind(pod.clone()),
                "io.k8s.api.core.v1.PodList": list("io.k8s.api.core.v1.Pod", gvk("", "v1", "PodList")),
                "io.k8s.api.core.v1.Binding": kind(gvk("", "v1", "Binding")),
                "io.k8s.api.policy.v1.Eviction": kind(gvk("policy", "v1", "Eviction")),
                "io.k8s.api.apps.v1.Deployment": kind(gvk("apps", "v1", "Deployment")),
                "io.k8s.api.autoscaling.v1.Scale": kind(gvk("autoscaling", "v1", "Scale")),
            }},
            "paths": {
                "/apis/": {"get": {"operationId": "getAPIVersions", "tags": ["apis"], "responses": answers("io.k8s.apimachinery.pkg.apis.meta.v1.Status")}},
                "/api/v1/namespaces/{namespace}/pods/{name}": {
                    "delete": {"operationId": "deleteCoreV1NamespacedPod", "tags": ["core_v1"], "responses": answers("io.k8s.apimachinery.pkg.apis.meta.v1.Status"), "x-kubernetes-action": "delete", "x-kubernetes-group-version-kind": pod},
                    "get": {"operationId": "readCoreV1NamespacedPod", "tags": ["core_v1"], "responses": answers("io.k8s.api.core.v1.Pod"), "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": pod}
                },
                "/api/v1/namespaces/{namespace}/pods": {
                    "delete": {"operationId": "deleteCoreV1CollectionNamespacedPod", "tags": ["core_v1"], "responses": answers("io.k8s.apimachinery.pkg.apis.meta.v1.Status"), "x-kubernetes-action": "deletecollection", "x-kubernetes-group-version-kind": pod},
                    "get": {"operationId": "listCoreV1NamespacedPod", "tags": ["core_v1"], "responses": answers("io.k8s.api.core.v1.PodList"), "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": pod}
                },
                "/api/v1/watch/namespaces/{namespace}/pods": {"get": {"operationId": "watchCoreV1NamespacedPodList", "tags": ["core_v1"], "responses": answers("io.k8s.apimachinery.pkg.apis.meta.v1.Status"), "x-kubernetes-action": "watchlist", "x-kubernetes-group-version-kind": pod}},
                "/api/v1/watch/namespaces/{namespace}/pods/{name}": {"get": {"operationId": "watchCoreV1NamespacedPod", "tags": ["core_v1"], "responses": answers("io.k8s.apimachinery.pkg.apis.meta.v1.Status"), "x-kubernetes-action": "watch", "x-kubernetes-group-version-kind": pod}},
                "/api/v1/namespaces/{namespace}/pods/{name}/log": {"get": {"operationId": "readCoreV1NamespacedPodLog", "tags": ["core_v1"], "responses": text, "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": pod}},
                "/api/v1/namespaces/{namespace}/pods/{name}/exec": {"get": {"operationId": "connectCoreV1GetNamespacedPodExec", "tags": ["core_v1"], "responses": text, "x-kubernetes-action": "connect",
                    "parameters": [q("command", "string"), q("container", "string")],
                    "x-kubernetes-group-version-kind": gvk("", "v1", "PodExecOptions")}},
                "/api/v1/namespaces/{namespace}/pods/{name}/portforward": {"get": {"operationId": "connectCoreV1GetNamespacedPodPortforward", "tags": ["core_v1"], "responses": text, "x-kubernetes-action": "connect",
                    "parameters": [q("ports", "integer")]}},
                "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}": {"get": {"operationId": "connectCoreV1GetNamespacedPodProxyWithPath", "tags": ["core_v1"], "responses": text, "x-kubernetes-action": "connect"}},
                "/api/v1/namespaces/{namespace}/pods/{name}/eviction": {"post": {"operationId": "createCoreV1NamespacedPodEviction", "tags": ["core_v1"], "responses": answers("io.k8s.api.policy.v1.Eviction"), "x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk("policy", "v1", "Eviction")}},
                "/api/v1/namespaces/{namespace}/bindings": {"post": {"operationId": "createCoreV1NamespacedBinding", "tags": ["core_v1"], "responses": answers("io.k8s.api.core.v1.Binding"), "x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk("", "v1", "Binding")}},
                "/apis/apps/v1/deployments": {"get": {"operationId": "listAppsV1DeploymentForAllNamespaces", "tags": ["apps_v1"], "responses": answers("io.k8s.api.apps.v1.Deployment"), "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk("apps", "v1", "Deployment")}},
                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale": {"get": {"operationId": "readAppsV1NamespacedDeploymentScale", "tags": ["apps_v1"], "responses": answers("io.k8s.api.autoscaling.v1.Scale"), "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk("autoscaling", "v1", "Scale")}}
            }
        }))
        .unwrap();
        let mut model = Model::build(&d, &Specials::new()).unwrap();
        let ops = crate::ops::collect(&d, &model).unwrap();
        model.kinds = crate::kinds::derive(&ops, &model);
        (ops, model)
    }

    fn op<'a>(ops: &'a [Op], id: &str) -> &'a Op {
        ops.iter().find(|o| o.id == id).unwrap()
    }

    fn run(name: &str, ops: &mut [Op], model: &Model) -> usize {
        let n = fixup(name).apply_ops(ops, model).unwrap();
        let again = fixup(name).apply_ops(ops, model).unwrap();
        assert_eq!(again.changed, 0, "{name}: a second run changes nothing");
        assert_eq!(
            again.found, n.found,
            "{name}: a second run finds the same places"
        );
        n.changed
    }

    #[test]
    fn kinds_come_from_the_operations() {
        let (_, model) = api();
        let pod = &model.kinds["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            (pod.plural.as_str(), pod.scope),
            ("pods", Scope::Namespaced)
        );
        assert_eq!(pod.list_def.as_deref(), Some("io.k8s.api.core.v1.PodList"));
        assert_eq!(
            pod.subresources
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["eviction", "exec", "log", "portforward", "proxy"]
        );
        assert_eq!(pod.subresource_kinds["eviction"].api_version(), "policy/v1");
        let deployment = &model.kinds["io.k8s.api.apps.v1.Deployment"];
        let scale = &deployment.subresource_kinds["scale"];
        assert_eq!(
            (scale.kind.as_str(), scale.api_version()),
            ("Scale", "autoscaling/v1".into())
        );
    }

    #[test]
    fn deletes_answer_the_object_or_a_status() {
        let (mut ops, model) = api();
        assert_eq!(run("delete-returns-object-or-status", &mut ops, &model), 1);
        assert_eq!(run("deletecollection-returns-list", &mut ops, &model), 1);
        let named = |n: &str| Ty::Named(n.to_owned());
        assert_eq!(
            op(&ops, "deleteCoreV1NamespacedPod").response,
            Response::Deleted(named("io.k8s.api.core.v1.Pod"))
        );
        assert_eq!(
            op(&ops, "deleteCoreV1CollectionNamespacedPod").response,
            Response::Deleted(named("io.k8s.api.core.v1.PodList"))
        );
    }

    #[test]
    fn watches_are_event_streams_on_the_list_path() {
        let (mut ops, model) = api();
        assert_eq!(run("watch-is-an-event-stream", &mut ops, &model), 2);
        assert_eq!(run("watch-on-the-list-path", &mut ops, &model), 2);
        let one = op(&ops, "watchCoreV1NamespacedPod");
        assert_eq!(
            one.response,
            Response::Watch(Ty::Named("io.k8s.api.core.v1.Pod".into()))
        );
        assert_eq!(
            (one.request_path.as_deref(), one.select_name),
            (Some("/api/v1/namespaces/{namespace}/pods"), true)
        );
        let list = op(&ops, "watchCoreV1NamespacedPodList");
        assert_eq!(
            (list.request_path.as_deref(), list.select_name),
            (Some("/api/v1/namespaces/{namespace}/pods"), false)
        );
        assert_eq!(op(&ops, "readCoreV1NamespacedPod").request_path, None);
    }

    #[test]
    fn a_watch_without_a_kind_is_an_error() {
        let (mut ops, model) = api();
        let watch = ops
            .iter_mut()
            .find(|o| o.id == "watchCoreV1NamespacedPod")
            .unwrap();
        watch.kind_def = None;
        let err = fixup("watch-is-an-event-stream")
            .apply_ops(&mut ops, &model)
            .unwrap_err();
        assert!(
            err.to_string().contains("watchCoreV1NamespacedPod"),
            "{err}"
        );
    }

    #[test]
    fn discovery_logs_and_connect_streams() {
        let (mut ops, model) = api();
        assert_eq!(run("discovery-without-trailing-slash", &mut ops, &model), 1);
        assert_eq!(
            op(&ops, "getAPIVersions").request_path.as_deref(),
            Some("/apis")
        );
        assert_eq!(run("log-can-be-followed", &mut ops, &model), 1);
        assert!(op(&ops, "readCoreV1NamespacedPodLog").streams_body);
        assert!(!op(&ops, "readCoreV1NamespacedPod").streams_body);
        assert_eq!(run("connect-streams-need-upgrade", &mut ops, &model), 3);
        assert_eq!(
            op(&ops, "connectCoreV1GetNamespacedPodExec").response,
            Response::Upgrade
        );
        assert_eq!(
            op(&ops, "connectCoreV1GetNamespacedPodProxyWithPath").response,
            Response::Bytes
        );
    }

    #[test]
    fn repeated_query_parameters_are_lists() {
        let (mut ops, model) = api();
        assert_eq!(run("repeated-query-parameters", &mut ops, &model), 2);
        let ty = |id: &str, name: &str| {
            op(&ops, id)
                .query
                .iter()
                .find(|q| q.name == name)
                .unwrap()
                .ty
                .clone()
        };
        let exec = "connectCoreV1GetNamespacedPodExec";
        assert_eq!(ty(exec, "command"), Ty::Vec(Box::new(Ty::String)));
        assert_eq!(ty(exec, "container"), Ty::String);
        assert_eq!(
            ty("connectCoreV1GetNamespacedPodPortforward", "ports"),
            Ty::Vec(Box::new(Ty::I64))
        );
    }

    #[test]
    fn bindings_and_evictions_answer_status() {
        let (mut ops, model) = api();
        assert_eq!(
            run("binding-and-eviction-answer-status", &mut ops, &model),
            2
        );
        let status = Response::Typed(Ty::Named(format!("{META}.Status")));
        assert_eq!(
            op(&ops, "createCoreV1NamespacedPodEviction").response,
            status
        );
        assert_eq!(op(&ops, "createCoreV1NamespacedBinding").response, status);
        assert_ne!(op(&ops, "readCoreV1NamespacedPod").response, status);
    }

    #[test]
    fn a_fixup_that_changes_nothing_must_say_where_it_applies() {
        let tally = |found, changed| Tally { found, changed };
        let mut counts: Vec<(&'static str, Tally)> =
            FIXUPS.iter().map(|f| (f.name, tally(1, 1))).collect();
        assert!(check_unused(&counts, "1.36").is_ok());
        let at = |name: &str| FIXUPS.iter().position(|f| f.name == name).unwrap();
        // Needed by every release: finding its target already right is an error naming it and
        // the release.
        counts[at("quantity-accepts-numbers")].1 = tally(1, 0);
        let err = check_unused(&counts, "1.36").unwrap_err();
        assert_eq!(
            err.to_string(),
            "fixup `quantity-accepts-numbers` changed nothing in the Kubernetes 1.36 spec: drop \
             it or declare the releases it applies to (`applies_to`)"
        );
        // A document set without the definition (a cluster's selected groups) says nothing.
        counts[at("quantity-accepts-numbers")].1 = tally(0, 0);
        assert!(check_unused(&counts, "1.36").is_ok());
        // Declared for 1.33 only: already right in 1.36 is expected, in 1.33 an error.
        let np = at("network-policy-pod-selector-optional");
        counts[np].1 = tally(1, 0);
        assert!(check_unused(&counts, "1.36").is_ok());
        assert!(check_unused(&counts, "1.33").is_err());
    }
}
