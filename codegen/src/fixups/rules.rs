//! Kubernetes' own rules: how the API behaves by design where an OpenAPI document cannot say it
//! (types with their own wire form, streams, upgrades, the deprecated watch paths, discovery's
//! trailing slash). These hold for every release; none is a defect to be fixed upstream.

use openapiv3::{SchemaKind, StringType, Type, VariantOrUnknownOrEmpty};
use serde_json::Value;

use super::base::{Apply, Fixup, META, Tally, each_op, mark, set_response, walk_schemas};
use crate::model::Special;
use crate::ops::{Op, Response};

const APIEXT: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

pub const RULES: &[Fixup] = &[
    Fixup {
        name: "quantity-accepts-numbers",
        reason: "Quantity is typed string, but servers and users also send JSON numbers",
        upstream: &[
            "https://github.com/kubernetes/apimachinery/blob/eed236ceee2c19c2753a3d93ac0631dc20750454/pkg/api/resource/quantity.go#L733",
        ],
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
        upstream: &[
            "https://github.com/kubernetes/apimachinery/blob/eed236ceee2c19c2753a3d93ac0631dc20750454/pkg/apis/meta/v1/micro_time.go#L113",
        ],
        applies_to: None,
        apply: Apply::Doc(|d, sp| mark(d, sp, &format!("{META}.MicroTime"), Special::MicroTime)),
    },
    Fixup {
        name: "json-schema-unions",
        reason: "JSONSchemaPropsOr{Array,Bool,StringArray} have no schema; on the wire they are schema-or-X unions",
        upstream: &[],
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
        upstream: &[],
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
        name: "watch-is-an-event-stream",
        reason: "watch responses are typed as the list kind; on the wire they are newline-delimited events",
        upstream: &[],
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
        upstream: &[],
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
        upstream: &[],
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
        upstream: &[],
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
        name: "log-can-be-followed",
        reason: "logs are declared as one text answer; with `follow` the body keeps coming and is read as it arrives",
        upstream: &[],
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
];

fn is_watch(op: &Op) -> bool {
    op.action == "watch" || op.action == "watchlist"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixups::testing::{api, doc, find, op, run};
    use crate::model::{Model, Scope, Specials, Ty, TypeBody};

    fn fixup(name: &str) -> &'static Fixup {
        find(RULES, name)
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
    fn watches_are_event_streams_on_the_list_path() {
        let (mut ops, model) = api();
        assert_eq!(run(fixup("watch-is-an-event-stream"), &mut ops, &model), 2);
        assert_eq!(run(fixup("watch-on-the-list-path"), &mut ops, &model), 2);
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
        assert_eq!(
            run(fixup("discovery-without-trailing-slash"), &mut ops, &model),
            1
        );
        assert_eq!(
            op(&ops, "getAPIVersions").request_path.as_deref(),
            Some("/apis")
        );
        assert_eq!(run(fixup("log-can-be-followed"), &mut ops, &model), 1);
        assert!(op(&ops, "readCoreV1NamespacedPodLog").streams_body);
        assert!(!op(&ops, "readCoreV1NamespacedPod").streams_body);
        assert_eq!(
            run(fixup("connect-streams-need-upgrade"), &mut ops, &model),
            3
        );
        assert_eq!(
            op(&ops, "connectCoreV1GetNamespacedPodExec").response,
            Response::Upgrade
        );
        assert_eq!(
            op(&ops, "connectCoreV1GetNamespacedPodProxyWithPath").response,
            Response::Bytes
        );
    }
}
