//! Operations: one per path and method, read in one pass over the paths with the resource each
//! path names. Kinds are derived from them (`crate::kinds`), then the operation fixups correct
//! how servers really answer (`crate::fixups`).

use std::collections::{BTreeMap, BTreeSet};

use heck::ToPascalCase;
use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

use crate::model::{Gvk, Model, Ty};
use crate::names;
use crate::paths::{ResourcePath, parse_path};

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("operation `{op}` ({method} {path}): {message}")]
    Operation {
        op: String,
        method: String,
        path: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A definition, decoded.
    Typed(Ty),
    /// Text (logs, well-known documents, anything without a JSON schema).
    Text,
    /// Raw bytes (proxy verbs).
    Bytes,
    /// The object or a `Status` (delete); the list or a `Status` (delete-collection).
    Deleted(Ty),
    /// A stream of watch events of this type.
    Watch(Ty),
    /// exec/attach/portforward: needs a connection upgrade.
    Upgrade,
}

#[derive(Debug, Clone)]
pub struct QueryParam {
    pub name: String,
    pub rust: String,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct Op {
    /// The operationId; `""` when the spec gives none (an error only when emitting the API).
    pub id: String,
    pub method: &'static str,
    pub path: String,
    /// The first tag; `""` when the spec gives none.
    pub tag: String,
    /// Rust struct of the tag, e.g. `CoreV1Api`.
    pub api: String,
    /// Method name, e.g. `list_namespaced_pod`.
    pub name: String,
    pub action: String,
    /// The kind the spec says the operation serves (`Scale` of `autoscaling/v1` on
    /// `deployments/{name}/scale`).
    pub gvk: Option<Gvk>,
    /// The definition of `gvk`, when the model has one.
    pub kind_def: Option<String>,
    /// The resource the path names; `None` for discovery, version and well-known paths.
    pub resource: Option<ResourcePath>,
    /// Whether the path has a `{namespace}` parameter.
    pub namespaced: bool,
    /// Path parameter names in the spec's order, which is the argument order.
    pub path_params: Vec<String>,
    pub query: Vec<QueryParam>,
    /// Body type and whether it is required.
    pub body: Option<(Ty, bool)>,
    pub response: Response,
    /// The path requests go to when it is not `path` (fixups: watches on the list path,
    /// discovery without its trailing slash).
    pub request_path: Option<String>,
    /// A watch of one object: the list path with `metadata.name` selected.
    pub select_name: bool,
    /// The body can also be read as it arrives (followed logs).
    pub streams_body: bool,
}

impl Op {
    /// The path's group, else (a path naming no resource, as the custom metrics'
    /// `{compositemetricname}`) the group of the operation's kind.
    pub fn group(&self) -> &str {
        match (&self.resource, &self.gvk) {
            (Some(r), _) => r.group.as_str(),
            (None, Some(g)) => g.group.as_str(),
            (None, None) => "",
        }
    }

    pub fn version(&self) -> &str {
        match (&self.resource, &self.gvk) {
            (Some(r), _) => r.version.as_str(),
            (None, Some(g)) => g.version.as_str(),
            (None, None) => "",
        }
    }

    pub fn plural(&self) -> &str {
        self.resource.as_ref().map_or("", |r| r.plural.as_str())
    }

    /// `""` when the operation is on the resource itself.
    pub fn subresource(&self) -> &str {
        self.resource
            .as_ref()
            .and_then(|r| r.subresource.as_deref())
            .unwrap_or("")
    }

    /// The type of `gvk`, when the model has one.
    pub fn kind_ty(&self) -> Option<Ty> {
        self.kind_def.clone().map(Ty::Named)
    }
}

/// `core_v1` → `CoreV1Api`, `rbacAuthorization_v1` → `RbacAuthorizationV1Api`.
pub fn api_struct(tag: &str) -> String {
    format!("{}Api", tag_prefix(tag))
}

/// The group-version part of operationIds under this tag: `CoreV1`, `RbacAuthorizationV1`.
fn tag_prefix(tag: &str) -> String {
    tag.split('_')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `listCoreV1NamespacedPod` under `core_v1` → `list_namespaced_pod`; `getCodeVersion` under
/// `version` → `get_code`.
pub fn method_name(op_id: &str, tag: &str) -> String {
    let prefix = tag_prefix(tag);
    let stripped = match op_id.find(&prefix) {
        Some(i) if i > 0 => format!("{}{}", &op_id[..i], &op_id[i + prefix.len()..]),
        _ => op_id.to_owned(),
    };
    names::snake(&stripped)
}

fn method_of(m: &str) -> &'static str {
    match m {
        "get" => "GET",
        "put" => "PUT",
        "post" => "POST",
        "delete" => "DELETE",
        "patch" => "PATCH",
        "head" => "HEAD",
        "options" => "OPTIONS",
        _ => "TRACE",
    }
}

fn schema_ty(s: &Schema) -> Ty {
    match &s.schema_kind {
        SchemaKind::Type(Type::Boolean(_)) => Ty::Bool,
        SchemaKind::Type(Type::Integer(i)) => match &i.format {
            openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => Ty::I32,
            _ => Ty::I64,
        },
        SchemaKind::Type(Type::Array(a)) => {
            let item = a
                .items
                .as_ref()
                .and_then(|i| i.as_item())
                .map(|i| schema_ty(i))
                .unwrap_or(Ty::String);
            Ty::Vec(Box::new(item))
        }
        _ => Ty::String,
    }
}

fn ref_name(r: &str) -> Option<&str> {
    r.strip_prefix("#/components/schemas/")
}

fn resolve_param<'a>(doc: &'a OpenAPI, p: &'a ReferenceOr<Parameter>) -> Option<&'a Parameter> {
    match p {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            doc.components.as_ref()?.parameters.get(name)?.as_item()
        }
    }
}

fn body_of(op: &openapiv3::Operation) -> Option<(Ty, bool)> {
    let body = op.request_body.as_ref()?.as_item()?;
    let media = body.content.values().next()?;
    let ty = match media.schema.as_ref()? {
        ReferenceOr::Reference { reference } => Ty::Named(ref_name(reference)?.to_owned()),
        ReferenceOr::Item(_) => return None,
    };
    Some((ty, body.required))
}

fn typed_response(op: &openapiv3::Operation) -> Option<Response> {
    for code in [200u16, 201, 202] {
        let Some(ReferenceOr::Item(resp)) = op
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(code))
        else {
            continue;
        };
        let Some(media) = resp
            .content
            .get("application/json")
            .or_else(|| resp.content.values().next())
        else {
            continue;
        };
        return Some(match media.schema.as_ref() {
            Some(ReferenceOr::Reference { reference }) => match ref_name(reference) {
                Some(n) => Response::Typed(Ty::Named(n.to_owned())),
                None => Response::Text,
            },
            _ => Response::Text,
        });
    }
    None
}

/// Every operation of the document, in path order. Missing operationIds and tags are left empty
/// here (a components-and-paths CRD document still yields kinds) and refused by [`check`].
pub fn collect(doc: &OpenAPI, model: &Model) -> Result<Vec<Op>, OpError> {
    let by_gvk = model.type_by_gvk();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let resource = parse_path(path);
        for (m, op) in item.iter() {
            let method = method_of(m);
            let err = |message: String| OpError::Operation {
                op: op.operation_id.clone().unwrap_or_default(),
                method: method.to_owned(),
                path: path.clone(),
                message,
            };
            let id = op.operation_id.clone().unwrap_or_default();
            let tag = op.tags.first().cloned().unwrap_or_default();
            let action = op
                .extensions
                .get("x-kubernetes-action")
                .and_then(|a| a.as_str())
                .unwrap_or("")
                .to_owned();
            let gvk = Gvk::from_extensions(&op.extensions).into_iter().next();
            let kind_def = gvk
                .as_ref()
                .and_then(|g| by_gvk.get(g))
                .map(|d| d.name.clone());
            let mut query = Vec::new();
            let mut path_params = Vec::new();
            for p in item.parameters.iter().chain(op.parameters.iter()) {
                let Some(p) = resolve_param(doc, p) else {
                    return Err(err("a parameter $ref does not resolve".into()));
                };
                let data = p.parameter_data_ref();
                let ty = match &data.format {
                    ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) => schema_ty(s),
                    _ => Ty::String,
                };
                // An operation's own parameter list may repeat one of its path's.
                let known = query.iter().any(|q: &QueryParam| q.name == data.name);
                match p {
                    Parameter::Query { .. } if !known => query.push(QueryParam {
                        name: data.name.clone(),
                        rust: names::field_name(&data.name),
                        ty,
                    }),
                    Parameter::Path { .. } => path_params.push(data.name.clone()),
                    _ => {}
                }
            }
            // Spec order is the argument order (as in Kuber.jl and the Python client: name first).
            path_params.dedup();
            out.push(Op {
                api: api_struct(&tag),
                name: method_name(&id, &tag),
                id,
                method,
                path: path.clone(),
                tag,
                action,
                gvk,
                kind_def,
                resource: resource.clone(),
                namespaced: path.contains("{namespace}"),
                path_params,
                query,
                body: body_of(op),
                response: typed_response(op).unwrap_or(Response::Text),
                request_path: None,
                select_name: false,
                streams_body: false,
            });
        }
    }
    Ok(out)
}

/// What the API crate needs of every operation: an operationId, a tag, and a method name its
/// struct does not have yet.
pub fn check(ops: &[Op]) -> Result<(), OpError> {
    let mut taken: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for op in ops {
        let err = |message: String| OpError::Operation {
            op: op.id.clone(),
            method: op.method.to_owned(),
            path: op.path.clone(),
            message,
        };
        if op.id.is_empty() {
            return Err(err("has no operationId".into()));
        }
        if op.tag.is_empty() {
            return Err(err("has no tag".into()));
        }
        if !taken.entry(&op.api).or_default().insert(&op.name) {
            return Err(err(format!(
                "method name `{}` of `{}` is taken by another operation",
                op.name, op.api
            )));
        }
    }
    Ok(())
}

/// Name of the shared query-parameter struct for operations with these actions.
pub fn params_struct_name(actions: &BTreeSet<&str>, first: &Op) -> String {
    let only = |set: &[&str]| actions.iter().all(|a| set.contains(a));
    if only(&["list", "watch", "watchlist"]) {
        return "ListParams".into();
    }
    if only(&["post", "put"]) {
        return "WriteParams".into();
    }
    if only(&["patch"]) {
        return "PatchParams".into();
    }
    if only(&["delete"]) {
        return "DeleteParams".into();
    }
    if only(&["deletecollection"]) {
        return "DeleteCollectionParams".into();
    }
    if !first.subresource().is_empty() {
        return format!("{}Params", first.subresource().to_pascal_case());
    }
    if only(&["get"]) {
        return "GetParams".into();
    }
    format!("{}Params", first.name.to_pascal_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kuber_jl() {
        assert_eq!(api_struct("core_v1"), "CoreV1Api");
        assert_eq!(api_struct("rbacAuthorization_v1"), "RbacAuthorizationV1Api");
        assert_eq!(
            api_struct("flowcontrolApiserver_v1"),
            "FlowcontrolApiserverV1Api"
        );
        assert_eq!(api_struct("version"), "VersionApi");
        assert_eq!(
            method_name("listCoreV1NamespacedPod", "core_v1"),
            "list_namespaced_pod"
        );
        assert_eq!(
            method_name("readAppsV1NamespacedDeploymentStatus", "apps_v1"),
            "read_namespaced_deployment_status"
        );
        assert_eq!(method_name("getCodeVersion", "version"), "get_code");
        assert_eq!(
            method_name("getCoreAPIVersions", "core"),
            "get_api_versions"
        );
        assert_eq!(method_name("getAPIVersions", "apis"), "get_api_versions");
        assert_eq!(
            method_name("getAppsV1APIResources", "apps_v1"),
            "get_api_resources"
        );
        assert_eq!(method_name("getAppsAPIGroup", "apps"), "get_api_group");
        assert_eq!(
            method_name("logFileListHandler", "logs"),
            "log_file_list_handler"
        );
    }
}
