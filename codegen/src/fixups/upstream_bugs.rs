//! Upstream spec bugs: where the documents Kubernetes publishes say something its servers do not
//! do. Each names where upstream records it (an issue, or the source line the spec is generated
//! from), so that it can be dropped once fixed there; `applies_to` says which releases still
//! carry it.

use super::base::{Apply, Fixup, META, each_op, set_response, unrequire};
use crate::model::Ty;
use crate::ops::Response;

/// Lines of the apiserver's route builder, which declares Status for delete (the object only for
/// some storages) and for every deletecollection.
macro_rules! installer {
    ($lines:literal) => {
        concat!(
            "https://github.com/kubernetes/apiserver/blob/24a394e516bfda066d7e2221d7d92c052de27c54/pkg/endpoints/installer.go",
            $lines
        )
    };
}

pub const UPSTREAM_BUGS: &[Fixup] = &[
    Fixup {
        name: "events-v1-event-time-optional",
        reason: "events.k8s.io/v1 Event.eventTime is declared required but is null for events written through core/v1",
        upstream: &[
            // No omitempty, so the spec generator marks it required.
            "https://github.com/kubernetes/api/blob/10b39a39bcee995dfe7cd5e8e7b922be5e46f1e2/events/v1/types.go#L43",
            "https://github.com/kubernetes/kubernetes/issues/90482",
        ],
        applies_to: None,
        apply: Apply::Doc(|d, _| unrequire(d, "io.k8s.api.events.v1.Event", "eventTime")),
    },
    Fixup {
        name: "network-policy-pod-selector-optional",
        reason: "NetworkPolicySpec.podSelector was declared required in some releases but servers omit it",
        upstream: &[
            "https://github.com/kubernetes/kubernetes/issues/130896",
            "https://github.com/kubernetes/kubernetes/pull/131354",
        ],
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
        upstream: &[
            "https://github.com/kubernetes/kubernetes/issues/69608",
            "https://github.com/kubernetes/api/blob/10b39a39bcee995dfe7cd5e8e7b922be5e46f1e2/apps/v1/types.go#L246-L249",
        ],
        // Optional in every spec from 1.33 on; kept for older ones.
        applies_to: Some(&[]),
        apply: Apply::Doc(|d, _| unrequire(d, "io.k8s.api.apps.v1.StatefulSetSpec", "serviceName")),
    },
    Fixup {
        name: "delete-returns-object-or-status",
        reason: "delete is declared to answer Status; servers answer the object while deletion is in progress",
        upstream: &[
            "https://github.com/kubernetes/kubernetes/issues/59501",
            installer!("#L960-L973"),
        ],
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
        upstream: &[
            "https://github.com/kubernetes/kubernetes/issues/30537",
            installer!("#L990-L996"),
        ],
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
        name: "repeated-query-parameters",
        reason: "exec's command and portforward's ports are declared single values; servers take them repeated",
        upstream: &[
            "https://github.com/kubernetes/kubernetes/issues/140050",
            // PodExecOptions.Command and PodPortForwardOptions.Ports are lists.
            "https://github.com/kubernetes/api/blob/10b39a39bcee995dfe7cd5e8e7b922be5e46f1e2/core/v1/types.go#L7712",
            "https://github.com/kubernetes/api/blob/10b39a39bcee995dfe7cd5e8e7b922be5e46f1e2/core/v1/types.go#L7732",
        ],
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
        name: "binding-and-eviction-answer-status",
        reason: "creating a binding or an eviction is declared to answer the object; servers answer a Status",
        upstream: &[
            // EvictionREST.Create and BindingREST.Create return metav1.Status.
            "https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/pod/storage/eviction.go",
            "https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/pod/storage/storage.go",
        ],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixups::testing::{api, doc, find, op, required, run};
    use crate::model::Specials;

    fn fixup(name: &str) -> &'static Fixup {
        find(UPSTREAM_BUGS, name)
    }

    #[test]
    fn required_corrections() {
        let mut d = doc(serde_json::json!({
            "io.k8s.api.events.v1.Event": {"type": "object", "required": ["eventTime"], "properties": {"eventTime": {"type": "string"}}},
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
        // Absent definitions are not an error here: the fixup just changes nothing.
        assert_eq!(
            fixup("network-policy-pod-selector-optional")
                .apply_doc(&mut d, sp)
                .changed,
            0
        );
    }

    #[test]
    fn deletes_answer_the_object_or_a_status() {
        let (mut ops, model) = api();
        let mut run = |name| run(fixup(name), &mut ops, &model);
        assert_eq!(run("delete-returns-object-or-status"), 1);
        assert_eq!(run("deletecollection-returns-list"), 1);
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
    fn repeated_query_parameters_are_lists() {
        let (mut ops, model) = api();
        assert_eq!(run(fixup("repeated-query-parameters"), &mut ops, &model), 2);
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
            run(
                fixup("binding-and-eviction-answer-status"),
                &mut ops,
                &model
            ),
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
}
