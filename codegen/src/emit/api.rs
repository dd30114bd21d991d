//! The API crate: one struct per spec tag with a method per operation, the shared query
//! parameter structs, the operation table and the kind registry.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::models::{ModelsEmitter, Target, named};
use super::{EmitError, Output, render};
use crate::model::{Model, Ty};
use crate::ops::{Op, Response, params_struct_name};

pub struct ApiEmitter<'a> {
    model: &'a Model,
    ops: &'a [Op],
    root: String,
    /// Definitions with a protobuf `Message` impl in kuber-models (the protobuf join's).
    messages: BTreeSet<String>,
}

fn lines_doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

impl<'a> ApiEmitter<'a> {
    pub fn new(model: &'a Model, ops: &'a [Op], root: impl Into<String>) -> Self {
        ApiEmitter {
            model,
            ops,
            root: root.into(),
            messages: BTreeSet::new(),
        }
    }

    /// The definitions that are protobuf messages: their answers are asked for in protobuf
    /// (`call::Protobuf`), and creates and replaces of those that are resources send protobuf.
    pub fn with_messages(mut self, messages: impl IntoIterator<Item = String>) -> Self {
        self.messages = messages.into_iter().collect();
        self
    }

    fn is_message(&self, ty: &Ty) -> bool {
        matches!(ty, Ty::Named(n) if self.messages.contains(n))
    }

    /// A message with a `Resource` impl (a served kind with `metadata`), which
    /// `Request::message` needs for the envelope's apiVersion and kind.
    fn is_resource_message(&self, ty: &Ty) -> bool {
        let Ty::Named(n) = ty else {
            return false;
        };
        let has_meta = self.model.types.get(n).is_some_and(|def| {
            matches!(&def.body, crate::model::TypeBody::Struct(fields) if fields.iter().any(|f| {
                f.json == "metadata"
                    && !f.boxed
                    && f.ty == Ty::Named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into())
            }))
        });
        self.is_message(ty) && self.model.kinds.contains_key(n) && has_meta
    }

    fn type_path(&self, ty: &Ty) -> TokenStream {
        ModelsEmitter::new(self.model, Target::User, "").ty(ty, &[])
    }

    fn feature_of(&self, ty: &Ty) -> Vec<String> {
        named(ty)
            .iter()
            .filter_map(|n| self.model.types.get(*n)?.feature.clone())
            .collect()
    }

    /// The kinds a typed answer may have: the type's kind (and `Status` for deletes); `None`
    /// when the type has no single kind to check.
    fn answer_kinds(&self, response: &Response) -> Option<Vec<String>> {
        let (Response::Typed(Ty::Named(name)) | Response::Deleted(Ty::Named(name))) = response
        else {
            return None;
        };
        let kinds: BTreeSet<&str> = self
            .model
            .types
            .get(name)?
            .gvks
            .iter()
            .map(|g| g.kind.as_str())
            .collect();
        let [kind] = kinds.into_iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let mut out = vec![kind.to_owned()];
        if matches!(response, Response::Deleted(_)) && kind != "Status" {
            out.push("Status".to_owned());
        }
        Some(out)
    }

    /// How the operation answers, for the table: the definition's spec name where there is one.
    fn response_shape(&self, response: &Response) -> TokenStream {
        let def = |t: &Ty| match t {
            Ty::Named(n) => n.clone(),
            other => other.describe(),
        };
        let is_list = |t: &Ty| matches!(t, Ty::Named(n) if self.model.kinds.values().any(|k| k.list_def.as_ref() == Some(n)));
        match response {
            Response::Typed(t) if is_list(t) => {
                let d = def(t);
                quote!(crate::ResponseShape::List(#d))
            }
            Response::Typed(t) => {
                let d = def(t);
                quote!(crate::ResponseShape::Object(#d))
            }
            Response::Deleted(t) if is_list(t) => {
                let d = def(t);
                quote!(crate::ResponseShape::ListOrStatus(#d))
            }
            Response::Deleted(t) => {
                let d = def(t);
                quote!(crate::ResponseShape::ObjectOrStatus(#d))
            }
            Response::Watch(t) => {
                let d = def(t);
                quote!(crate::ResponseShape::WatchStream(#d))
            }
            Response::Text => quote!(crate::ResponseShape::Text),
            Response::Bytes => quote!(crate::ResponseShape::Bytes),
            Response::Upgrade => quote!(crate::ResponseShape::Upgrade),
        }
    }

    fn op_types(op: &Op) -> Vec<&Ty> {
        let mut out = Vec::new();
        if let Some((t, _)) = &op.body {
            out.push(t);
        }
        match &op.response {
            Response::Typed(t) | Response::Deleted(t) | Response::Watch(t) => out.push(t),
            _ => {}
        }
        out
    }

    pub fn emit(&self) -> Result<Output, EmitError> {
        let mut out = Output::default();
        let index: BTreeMap<&str, usize> = self
            .ops
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();

        // Query parameter structs, shared by every operation with the same parameters.
        let mut sets: BTreeMap<Vec<(String, Ty)>, Vec<&Op>> = BTreeMap::new();
        for op in self.ops.iter().filter(|o| !o.query.is_empty()) {
            let mut key: Vec<(String, Ty)> = op
                .query
                .iter()
                .map(|q| (q.name.clone(), q.ty.clone()))
                .collect();
            key.sort();
            sets.entry(key).or_default().push(op);
        }
        let mut params_of: BTreeMap<&str, String> = BTreeMap::new();
        let mut params_items = TokenStream::new();
        let mut used = BTreeSet::new();
        // Larger sets first, so the common structs get the plain names.
        let mut ordered: Vec<_> = sets.iter().collect();
        ordered.sort_by_key(|(k, ops)| (std::cmp::Reverse(ops.len()), (*k).clone()));
        for (key, ops) in ordered {
            let actions: BTreeSet<&str> = ops.iter().map(|o| o.action.as_str()).collect();
            let mut name = params_struct_name(&actions, ops[0]);
            if !used.insert(name.clone()) {
                name = format!(
                    "{}Params",
                    heck::ToPascalCase::to_pascal_case(ops[0].name.as_str())
                );
                if !used.insert(name.clone()) {
                    return Err(EmitError::Definition {
                        def: ops[0].id.clone(),
                        message: format!("query parameter struct name `{name}` is taken twice"),
                    });
                }
            }
            for op in ops {
                params_of.insert(op.id.as_str(), name.clone());
            }
            params_items.extend(self.params_struct(&name, key, ops));
        }
        let file = format!("{}/params.rs", self.root);
        out.files.insert(
            file.clone(),
            render(&file, quote!(#![allow(clippy::doc_markdown)] #params_items))?,
        );

        // Operation table.
        let entries = self.ops.iter().map(|op| {
            let (id, method, path, tag) = (&op.id, op.method, &op.path, &op.tag);
            let (group, version) = (op.group(), op.version());
            let kind = op.gvk.as_ref().map(|g| g.kind.clone()).unwrap_or_default();
            let kind_api_version = op.gvk.as_ref().map(|g| g.api_version()).unwrap_or_default();
            let (plural, action, namespaced, sub) = (op.plural(), &op.action, op.namespaced, op.subresource());
            let response = self.response_shape(&op.response);
            let (body, body_required) = match &op.body {
                Some((Ty::Named(n), required)) => (n.clone(), *required),
                _ => (String::new(), false),
            };
            let query = params_of.get(op.id.as_str()).cloned().unwrap_or_default();
            let request_path = op.request_path.as_deref().unwrap_or(&op.path);
            let select_name = op.select_name;
            quote! {
                crate::Operation { id: #id, method: #method, path: #path, group: #group, version: #version,
                    kind: #kind, kind_api_version: #kind_api_version, plural: #plural, action: #action,
                    namespaced: #namespaced, subresource: #sub, tag: #tag, response: #response,
                    body: #body, body_required: #body_required, query: #query,
                    request_path: #request_path, select_name: #select_name },
            }
        });
        let count = Literal::usize_unsuffixed(self.ops.len());
        let file = format!("{}/operations.rs", self.root);
        let table = quote! {
            #[doc = " Every operation of the spec, in spec order."]
            pub static OPERATIONS: [crate::Operation; #count] = [#(#entries)*];
        };
        out.files.insert(file.clone(), render(&file, table)?);

        // Kind registry.
        let file = format!("{}/registry.rs", self.root);
        out.files
            .insert(file.clone(), render(&file, self.registry(&index))?);

        // One struct per tag.
        let mut tags: BTreeMap<&str, Vec<&Op>> = BTreeMap::new();
        for op in self.ops {
            tags.entry(op.tag.as_str()).or_default().push(op);
        }
        let mut mod_items = quote! {
            mod operations;
            pub use operations::OPERATIONS;
            mod params;
            pub use params::*;
            mod registry;
            pub use registry::KINDS;
        };
        let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (tag, ops) in &tags {
            let module = heck::ToSnakeCase::to_snake_case(*tag);
            let module_id = format_ident!("{}", crate::names::module_segment(&module));
            let api = format_ident!("{}", ops[0].api);
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            let mut needed = BTreeSet::new();
            for op in ops {
                for t in Self::op_types(op) {
                    for f in self.feature_of(t) {
                        *counts.entry(f.clone()).or_default() += 1;
                        needed.insert(f);
                    }
                }
            }
            let gate = counts
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(f, _)| f.clone());
            if let Some(g) = &gate {
                let entry = features.entry(g.clone()).or_default();
                entry.insert(format!("kuber-models/{g}"));
                entry.extend(needed.iter().map(|f| format!("kuber-models/{f}")));
            }
            let cfg = gate.as_ref().map(|f| quote!(#[cfg(feature = #f)]));
            mod_items.extend(quote!(#cfg mod #module_id; #cfg pub use #module_id::#api;));
            let file = format!("{}/{}.rs", self.root, module_id);
            out.files.insert(
                file.clone(),
                render(&file, self.api_struct(tag, ops, &index, &params_of)?)?,
            );
        }
        let file = format!("{}/mod.rs", self.root);
        out.files.insert(file.clone(), render(&file, mod_items)?);
        out.features = features
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect();
        Ok(out)
    }

    fn params_struct(&self, name: &str, key: &[(String, Ty)], ops: &[&Op]) -> TokenStream {
        let id = format_ident!("{}", name);
        let first = ops[0];
        let fields: Vec<_> = key
            .iter()
            .map(|(json, ty)| {
                let rust = first
                    .query
                    .iter()
                    .find(|q| &q.name == json)
                    .map(|q| q.rust.clone())
                    .unwrap_or_default();
                (json.clone(), format_ident!("{}", rust), ty.clone())
            })
            .collect();
        let decls = fields.iter().map(|(json, rust, ty)| {
            let t = self.type_path(ty);
            let (t, text) = match ty {
                Ty::Vec(_) => (t, format!("`{json}` (repeated)")),
                _ => (quote!(Option<#t>), format!("`{json}`")),
            };
            let doc = lines_doc(&text);
            quote!(#doc pub #rust: #t,)
        });
        let appends = fields.iter().map(|(json, rust, ty)| match ty {
            Ty::Vec(_) => quote!(for v in &self.#rust { query.push((#json, v.to_string())); }),
            _ => quote!(if let Some(v) = &self.#rust { query.push((#json, v.to_string())); }),
        });
        let doc = lines_doc(&format!(
            "Query parameters of {} operations (e.g. `{}`).",
            ops.len(),
            first.id
        ));
        quote! {
            #doc
            #[derive(Clone, Debug, Default, PartialEq)]
            pub struct #id { #(#decls)* }
            impl crate::QueryParams for #id {
                fn append_to(&self, query: &mut Vec<(&'static str, String)>) { #(#appends)* }
            }
        }
    }

    fn api_struct(
        &self,
        tag: &str,
        ops: &[&Op],
        index: &BTreeMap<&str, usize>,
        params_of: &BTreeMap<&str, String>,
    ) -> Result<TokenStream, EmitError> {
        let api = format_ident!("{}", ops[0].api);
        let doc = lines_doc(&format!(
            "Operations tagged `{tag}` ({} of them).",
            ops.len()
        ));
        let methods = ops
            .iter()
            .map(|op| self.method(op, index, params_of))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(quote! {
            #doc
            #[derive(Clone, Debug)]
            pub struct #api { client: crate::Client }
            impl #api {
                pub fn new(client: crate::Client) -> Self { Self { client } }
                pub fn client(&self) -> &crate::Client { &self.client }
                #(#methods)*
            }
        })
    }

    fn method(
        &self,
        op: &Op,
        index: &BTreeMap<&str, usize>,
        params_of: &BTreeMap<&str, String>,
    ) -> Result<TokenStream, EmitError> {
        let name = format_ident!("{}", op.name);
        let i = Literal::usize_unsuffixed(index.get(op.id.as_str()).copied().unwrap_or(0));
        let mut args = Vec::new();
        for p in &op.path_params {
            let id = format_ident!("{}", crate::names::field_name(p));
            args.push(quote!(#id: &str));
        }
        let mut body_step = quote!();
        if let Some((ty, required)) = &op.body {
            let is_patch =
                matches!(ty, Ty::Named(n) if n == "io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
            if is_patch {
                args.push(quote!(body: &crate::Patch));
                body_step = quote!(.patch(body));
            } else {
                let t = self.type_path(ty);
                // Creates and replaces of built-in kinds go in protobuf, as client-go's.
                let message = matches!(op.method, "POST" | "PUT") && self.is_resource_message(ty);
                if *required && message {
                    args.push(quote!(body: &#t));
                    body_step = quote!(.message(body));
                } else if *required {
                    args.push(quote!(body: &#t));
                    body_step = quote!(.json(body));
                } else {
                    args.push(quote!(body: Option<&#t>));
                    body_step = quote!(.json_opt(body));
                }
            }
        }
        let query_step = match params_of.get(op.id.as_str()) {
            Some(p) => {
                let p = format_ident!("{}", p);
                args.push(quote!(params: &crate::#p));
                quote!(.query(params))
            }
            None => quote!(),
        };
        // Where the fixups route the request (watches, discovery), else the spec's path.
        let template = op.request_path.clone().unwrap_or_else(|| op.path.clone());
        let mut in_template: Vec<&String> = op
            .path_params
            .iter()
            .filter(|p| template.contains(&format!("{{{p}}}")))
            .collect();
        in_template.sort_by_key(|p| template.find(&format!("{{{p}}}")));
        let path_args = in_template
            .iter()
            .map(|p| format_ident!("{}", crate::names::field_name(p)));
        let build = if template == op.path {
            quote!(crate::Request::new(&crate::OPERATIONS[#i], &[#(#path_args),*]))
        } else {
            quote!(crate::Request::at(&crate::OPERATIONS[#i], #template, &[#(#path_args),*]))
        };
        let watch_step = match (&op.response, op.select_name) {
            (Response::Watch(_), true) => quote!(.set("watch", "true").select_name(name)),
            (Response::Watch(_), false) => quote!(.set("watch", "true")),
            _ => quote!(),
        };
        // Typed answers must be of the type's kind: a list or a Status decoded as an object
        // would come out default-filled.
        let kinds_step = match self.answer_kinds(&op.response) {
            Some(kinds) => quote!(.expect_kinds(&[#(#kinds),*])),
            None => quote!(),
        };
        let req = quote!(#build #query_step #watch_step #kinds_step #body_step);
        // Every method returns a `Call`: the request goes out on one shared path, only the
        // decoding is per type (see kuber-api's client/call.rs). `#[inline]` makes each method
        // (and the encoding of its body type) compiled only in the programs that call it, not
        // 1,100 times in kuber-api.
        let ret = match &op.response {
            // Built-in kinds are asked for in protobuf when the client's encoding says so.
            Response::Typed(t) if self.is_message(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<#t, crate::call::Protobuf>)
            }
            Response::Typed(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<#t>)
            }
            Response::Deleted(t) if self.is_message(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<crate::Deleted<#t>, crate::call::Protobuf>)
            }
            Response::Deleted(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<crate::Deleted<#t>>)
            }
            Response::Text => quote!(crate::Call<String, crate::call::Text>),
            Response::Bytes => quote!(crate::Call<bytes::Bytes, crate::call::Bytes>),
            Response::Watch(t) if self.is_message(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<crate::client::WatchStream<#t>, crate::call::Protobuf>)
            }
            Response::Watch(t) => {
                let t = self.type_path(t);
                quote!(crate::Call<crate::client::WatchStream<#t>, crate::call::Watch>)
            }
            // A WebSocket session (kuber-api's `ws` module): a process, or a stream per port.
            Response::Upgrade if op.subresource() == "portforward" => {
                quote!(crate::Call<crate::ws::Portforwarder, crate::call::Upgrade>)
            }
            Response::Upgrade => {
                quote!(crate::Call<crate::ws::AttachedProcess, crate::call::Upgrade>)
            }
        };
        let mut text = format!("`{} {}` (`{}`).", op.method, op.path, op.id);
        if op.response == Response::Upgrade {
            text.push_str("\n\nA WebSocket session ([`crate::ws`]); the handshake is a GET whatever the method.");
        }
        let doc = lines_doc(&text);
        // Logs can also be read as they come (`follow`): a second method streams the body.
        let stream = op.streams_body.then(|| {
            let stream_name = format_ident!("{}_stream", op.name);
            let doc = lines_doc(&format!("{text} The body as it arrives, for `follow`."));
            quote! {
                #doc
                #[inline]
                pub fn #stream_name(&self, #(#args),*) -> crate::Call<crate::ByteStream, crate::call::Stream> {
                    crate::Call::new(&self.client, #req)
                }
            }
        });
        Ok(quote! {
            #doc
            #[inline]
            pub fn #name(&self, #(#args),*) -> #ret {
                crate::Call::new(&self.client, #req)
            }
            #stream
        })
    }

    fn registry(&self, index: &BTreeMap<&str, usize>) -> TokenStream {
        let entries = self.model.kinds.values().map(|k| {
            let (group, version, kind, plural) = (&k.gvk.group, &k.gvk.version, &k.gvk.kind, &k.plural);
            let api_version = k.gvk.api_version();
            let namespaced = k.scope == crate::model::Scope::Namespaced;
            let list_kind = k
                .list_def
                .as_ref()
                .and_then(|l| self.model.types.get(l))
                .map(|d| d.ident.clone())
                .unwrap_or_default();
            let verbs = k.verbs.iter();
            let subs = k.subresources.iter().map(|name| {
                let (group, version, kind) = match k.subresource_kinds.get(name) {
                    Some(g) => (g.group.as_str(), g.version.as_str(), g.kind.as_str()),
                    None => ("", "", ""),
                };
                quote!(crate::registry::Subresource { name: #name, group: #group, version: #version, kind: #kind })
            });
            let ops: Vec<Literal> = self
                .ops
                .iter()
                .filter(|o| o.group() == group && o.version() == version && o.plural() == plural)
                .filter_map(|o| index.get(o.id.as_str()))
                .map(|i| Literal::u16_unsuffixed(*i as u16))
                .collect();
            quote! {
                crate::registry::KindInfo { group: #group, version: #version, api_version: #api_version,
                    kind: #kind, plural: #plural, namespaced: #namespaced, list_kind: #list_kind,
                    verbs: &[#(#verbs),*], subresources: &[#(#subs),*], operations: &[#(#ops),*] },
            }
        });
        let count = Literal::usize_unsuffixed(self.model.kinds.len());
        quote! {
            #[doc = " Every kind the API serves, with where and how (see `crate::registry`)."]
            pub static KINDS: [crate::registry::KindInfo; #count] = [#(#entries)*];
        }
    }
}
