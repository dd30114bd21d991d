//! What the fixup tests share: small documents and a small API read into operations.

use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};
use serde_json::Value;

use super::base::Fixup;
use crate::kinds;
use crate::model::{Model, Specials};
use crate::ops::{self, Op};

/// A document with these schemas and no paths.
pub fn doc(schemas: Value) -> OpenAPI {
    serde_json::from_value(serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "v"},
        "paths": {},
        "components": {"schemas": schemas}
    }))
    .unwrap()
}

/// The fixup of `list` named `name`.
pub fn find(list: &'static [Fixup], name: &str) -> &'static Fixup {
    list.iter().find(|f| f.name == name).unwrap()
}

/// The required properties of object schema `name`.
pub fn required(d: &OpenAPI, name: &str) -> Vec<String> {
    match d.components.as_ref().unwrap().schemas.get(name).unwrap() {
        ReferenceOr::Item(s) => match &s.schema_kind {
            SchemaKind::Type(Type::Object(o)) => o.required.clone(),
            _ => panic!("not an object"),
        },
        _ => panic!("ref"),
    }
}

/// A small API: pods (with log, exec, proxy, eviction, binding), deployments with scale,
/// discovery, and the watch paths.
pub fn api() -> (Vec<Op>, Model) {
    let answers = |def: &str| {
        serde_json::json!({"200": {"description": "", "content": {"application/json":
        {"schema": {"$ref": format!("#/components/schemas/{def}")}}}}})
    };
    let text = serde_json::json!({"200": {"description": "", "content": {"*/*": {"schema": {"type": "string"}}}}});
    let gvk = |g: &str, v: &str, k: &str| serde_json::json!({"group": g, "version": v, "kind": k});
    let pod = gvk("", "v1", "Pod");
    let meta = serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}});
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
    let ops = ops::collect(&d, &model).unwrap();
    model.kinds = kinds::derive(&ops, &model);
    (ops, model)
}

pub fn op<'a>(ops: &'a [Op], id: &str) -> &'a Op {
    ops.iter().find(|o| o.id == id).unwrap()
}

pub fn run(fixup: &Fixup, ops: &mut [Op], model: &Model) -> usize {
    let name = fixup.name;
    let n = fixup.apply_ops(ops, model).unwrap();
    let again = fixup.apply_ops(ops, model).unwrap();
    assert_eq!(again.changed, 0, "{name}: a second run changes nothing");
    assert_eq!(
        again.found, n.found,
        "{name}: a second run finds the same places"
    );
    n.changed
}
