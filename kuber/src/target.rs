//! Where a verb goes: a kind the registry knows (its generated operations), or one discovery
//! found (custom resources: paths built from group, version and plural).

use std::borrow::Cow;

use kuber_api::{KindInfo, Operation, Request};
use kuber_models::apimachinery::pkg::apis::meta::v1::{APIResource, APIResourceList};

use crate::{Error, Result};

/// A resolved kind.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub group: Cow<'static, str>,
    pub version: Cow<'static, str>,
    pub api_version: Cow<'static, str>,
    pub kind: Cow<'static, str>,
    pub plural: Cow<'static, str>,
    pub namespaced: bool,
    /// The registry's entry; `None` for kinds only discovery knows.
    pub info: Option<&'static KindInfo>,
    /// Verbs discovery lists (kinds only discovery knows).
    pub verbs: Vec<String>,
    /// Subresources discovery lists (`status`, `scale`).
    pub subresources: Vec<String>,
}

impl Target {
    pub(crate) fn registered(info: &'static KindInfo) -> Target {
        Target {
            group: Cow::Borrowed(info.group),
            version: Cow::Borrowed(info.version),
            api_version: Cow::Borrowed(info.api_version),
            kind: Cow::Borrowed(info.kind),
            plural: Cow::Borrowed(info.plural),
            namespaced: info.namespaced,
            info: Some(info),
            verbs: Vec::new(),
            subresources: Vec::new(),
        }
    }

    /// A typed kind: the registry's entry, or (a type generated outside kuber-models, e.g. from
    /// a CRD document) its own constants with every verb.
    pub(crate) fn of<K: kuber_models::Resource>() -> Target {
        if let Some(info) = kuber_api::KINDS
            .iter()
            .find(|k| k.kind == K::KIND && k.api_version == K::API_VERSION)
        {
            return Target::registered(info);
        }
        Target {
            group: Cow::Borrowed(K::GROUP),
            version: Cow::Borrowed(K::VERSION),
            api_version: Cow::Borrowed(K::API_VERSION),
            kind: Cow::Borrowed(K::KIND),
            plural: Cow::Borrowed(K::PLURAL),
            namespaced: K::SCOPE == kuber_models::Scope::Namespaced,
            info: None,
            verbs: Vec::new(),
            subresources: vec!["status".into(), "scale".into()],
        }
    }

    pub(crate) fn discovered(
        api_version: &str,
        resource: &APIResource,
        list: &APIResourceList,
    ) -> Target {
        let (group, version) = split_api_version(api_version);
        let prefix = format!("{}/", resource.name);
        Target {
            group: Cow::Owned(group.to_owned()),
            version: Cow::Owned(version.to_owned()),
            api_version: Cow::Owned(api_version.to_owned()),
            kind: Cow::Owned(resource.kind.clone()),
            plural: Cow::Owned(resource.name.clone()),
            namespaced: resource.namespaced,
            info: None,
            verbs: resource.verbs.clone(),
            subresources: list
                .resources
                .iter()
                .filter_map(|r| r.name.strip_prefix(&prefix).map(str::to_owned))
                .collect(),
        }
    }

    /// The request for `action` (`get`, `list`, `post`, `put`, `patch`, `delete`,
    /// `deletecollection`) on the kind or its `subresource`, in `namespace` (`None`: cluster-wide,
    /// which for namespaced kinds is all namespaces), on the object `name`.
    pub(crate) fn request(
        &self,
        action: &'static str,
        subresource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Request> {
        let namespace = if self.namespaced { namespace } else { None };
        match self.info {
            Some(info) => {
                let op = info
                    .operation(action, subresource, namespace.is_some())
                    .map_err(|e| self.no_operation(e.to_string()))?;
                let args = args(op.request_path, namespace, name);
                Ok(Request::at(op, op.request_path, &args))
            }
            None => self.built(action, subresource, namespace, name),
        }
    }

    fn no_operation(&self, message: String) -> Error {
        Error::NoOperation {
            kind: self.kind.to_string(),
            api_version: self.api_version.to_string(),
            message,
        }
    }

    /// A request to a path built from group, version and plural.
    fn built(
        &self,
        action: &'static str,
        subresource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Request> {
        let verb = match action {
            "post" => "create",
            "put" => "update",
            other => other,
        };
        if subresource.is_empty() && !self.verbs.is_empty() && !self.verbs.iter().any(|v| v == verb)
        {
            return Err(self.no_operation(format!(
                "the server lists no `{verb}` verb for {}",
                self.plural
            )));
        }
        if !subresource.is_empty() && !self.subresources.iter().any(|s| s == subresource) {
            return Err(
                self.no_operation(format!("the server lists no `{subresource}` subresource"))
            );
        }
        let op = dynamic_operation(action);
        let mut template = String::from(if self.group.is_empty() {
            "/api/{version}"
        } else {
            "/apis/{group}/{version}"
        });
        let mut args: Vec<&str> = Vec::with_capacity(6);
        if !self.group.is_empty() {
            args.push(&self.group);
        }
        args.push(&self.version);
        if let Some(ns) = namespace {
            template.push_str("/namespaces/{namespace}");
            args.push(ns);
        }
        template.push_str("/{plural}");
        args.push(&self.plural);
        if let Some(name) = name {
            template.push_str("/{name}");
            args.push(name);
        }
        if !subresource.is_empty() {
            template.push_str("/{subresource}");
            args.push(subresource);
        }
        Ok(Request::at(op, &template, &args))
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (`""`, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// The values for `template`'s parameters: `namespace` and `name`.
fn args<'a>(template: &str, namespace: Option<&'a str>, name: Option<&'a str>) -> Vec<&'a str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(param, _)| match param {
            "namespace" => namespace.unwrap_or_default(),
            "name" => name.unwrap_or_default(),
            _ => "",
        })
        .collect()
}

macro_rules! dynamic_ops {
    ($($name:ident = $id:literal, $method:literal, $action:literal;)*) => {
        $(static $name: Operation = Operation {
            action: $action,
            ..Operation::untyped($id, $method, "/apis/{group}/{version}/{plural}")
        };)*
        fn dynamic_operation(action: &str) -> &'static Operation {
            match action {
                $($action => &$name,)*
                _ => &GET,
            }
        }
    };
}

dynamic_ops! {
    GET = "getDiscoveredResource", "GET", "get";
    LIST = "listDiscoveredResource", "GET", "list";
    POST = "createDiscoveredResource", "POST", "post";
    PUT = "replaceDiscoveredResource", "PUT", "put";
    PATCH = "patchDiscoveredResource", "PATCH", "patch";
    DELETE = "deleteDiscoveredResource", "DELETE", "delete";
    DELETECOLLECTION = "deletecollectionDiscoveredResource", "DELETE", "deletecollection";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_kinds_use_their_generated_operations() {
        let pod = Target::registered(kuber_api::registry::find("Pod", Some("v1")).unwrap());
        let r = pod.request("get", "", Some("ns"), Some("p")).unwrap();
        assert_eq!(r.operation.id, "readCoreV1NamespacedPod");
        assert_eq!(r.path, "/api/v1/namespaces/ns/pods/p");
        let all = pod.request("list", "", None, None).unwrap();
        assert_eq!(all.path, "/api/v1/pods");
        let ns = Target::registered(kuber_api::registry::find("Namespace", Some("v1")).unwrap());
        // Cluster-scoped kinds ignore the namespace.
        let r = ns
            .request("get", "", Some("default"), Some("kube-system"))
            .unwrap();
        assert_eq!(r.path, "/api/v1/namespaces/kube-system");
        let err = pod.request("get", "", None, Some("p")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Pod (v1): Pod (v1) has no cluster-wide `get`"
        );
    }

    #[test]
    fn discovered_kinds_get_built_paths_and_checked_verbs() {
        let list: APIResourceList = serde_json::from_str(
            r#"{"groupVersion":"example.com/v1","resources":[
                {"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget","verbs":["get","list","create"]},
                {"name":"widgets/status","singularName":"","namespaced":true,"kind":"Widget","verbs":["get","patch"]}]}"#,
        )
        .unwrap();
        let t = Target::discovered("example.com/v1", &list.resources[0], &list);
        let r = t.request("get", "", Some("ns"), Some("w 1")).unwrap();
        assert_eq!(r.path, "/apis/example.com/v1/namespaces/ns/widgets/w%201");
        let r = t.request("get", "status", Some("ns"), Some("w")).unwrap();
        assert_eq!(
            r.path,
            "/apis/example.com/v1/namespaces/ns/widgets/w/status"
        );
        let err = t.request("delete", "", Some("ns"), Some("w")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Widget (example.com/v1): the server lists no `delete` verb for widgets"
        );
        // An empty name is refused when sent, never a collection URL.
        let r = t.request("post", "", Some("ns"), Some("")).unwrap();
        assert!(r.check().is_err());
    }
}
