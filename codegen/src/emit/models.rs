//! The models crate: one file per module of definitions, the module tree, kind impls, and the
//! apiVersion/kind dispatch.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::{EmitError, Output, render};
use crate::model::{Field, Kind, Model, Scope, Special, Ty, TypeBody, TypeDef};
use crate::proto_join::{Join, MessageJoin};

/// Which crate the code is for.
#[derive(Debug, Clone)]
pub enum Target {
    /// `kuber-models` itself: everything under `crate::`.
    KuberModels,
    /// A standalone crate for extra documents (CRDs): `io.k8s.*` definitions are taken from
    /// `kuber_models`, the rest are emitted into this crate.
    Standalone,
    /// Code in another crate that uses the models (the API crate): every type from `kuber_models`.
    User,
}

/// Names the generated code must not shadow, since it uses them unqualified.
const PRELUDE_NAMES: &[&str] = &[
    "String", "Vec", "Option", "Box", "Some", "None", "Default", "Result", "Ok", "Err",
];

/// The field of every generated struct that keeps the members the model does not know.
const UNKNOWN_FIELDS: &str = "unknown_fields";

pub struct ModelsEmitter<'a> {
    model: &'a Model,
    /// The protobuf join: `Message` impls for its definitions (kuber-models only).
    proto: Option<&'a Join>,
    target: Target,
    /// Root folder of the generated files, relative to the output root.
    root: String,
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// One `#[doc]` per line, so the output reads as `///` comments.
fn doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

impl<'a> ModelsEmitter<'a> {
    pub fn new(model: &'a Model, target: Target, root: impl Into<String>) -> Self {
        ModelsEmitter {
            model,
            proto: None,
            target,
            root: root.into(),
        }
    }

    /// Emits the protobuf encoding of the joined definitions too.
    pub fn with_proto(mut self, join: Option<&'a Join>) -> Self {
        self.proto = join;
        self
    }

    fn message_join(&self, def: &TypeDef) -> Option<&'a MessageJoin> {
        if !matches!(self.target, Target::KuberModels) {
            return None;
        }
        self.proto?.messages.get(&def.name)
    }

    fn is_own(&self, def: &TypeDef) -> bool {
        match self.target {
            Target::KuberModels => true,
            Target::Standalone => !def.name.starts_with("io.k8s."),
            Target::User => false,
        }
    }

    fn models_root(&self) -> TokenStream {
        match self.target {
            Target::KuberModels => quote!(crate),
            Target::Standalone | Target::User => quote!(::kuber_models),
        }
    }

    /// Path to a definition as seen from `from` (a module path of this crate).
    fn def_path(&self, name: &str, from: &[String]) -> TokenStream {
        let Some(def) = self.model.types.get(name) else {
            // Checked in `emit`; keep the output parseable.
            return quote!(());
        };
        let id = ident(&def.ident);
        let own = self.is_own(def);
        if own && def.module == from {
            return quote!(#id);
        }
        let root = if own {
            quote!(crate)
        } else {
            quote!(::kuber_models)
        };
        let segs = def.module.iter().map(|s| ident(s));
        quote!(#root #(:: #segs)* :: #id)
    }

    fn special_path(&self, s: Special) -> TokenStream {
        let root = self.models_root();
        let id = ident(s.rust_name());
        quote!(#root::special::#id)
    }

    fn special_path_named(&self, name: &str) -> TokenStream {
        let root = self.models_root();
        let id = ident(name);
        quote!(#root::special::#id)
    }

    pub(crate) fn ty(&self, ty: &Ty, from: &[String]) -> TokenStream {
        match ty {
            Ty::String => quote!(String),
            Ty::Bool => quote!(bool),
            Ty::I32 => quote!(i32),
            Ty::I64 => quote!(i64),
            // Keeps the wire text (`1.0`, `1e3`, integers beyond 2^53), which `f64` would not.
            Ty::F64 => self.special_path_named("Number"),
            Ty::Special(s) => self.special_path(*s),
            Ty::Named(n) => self.def_path(n, from),
            Ty::Vec(t) => {
                let t = self.ty(t, from);
                quote!(Vec<#t>)
            }
            Ty::Map(t) => {
                let t = self.ty(t, from);
                quote!(::std::collections::BTreeMap<String, #t>)
            }
            Ty::Nullable(t) => {
                let t = self.ty(t, from);
                quote!(Option<#t>)
            }
        }
    }

    /// A nullable optional field is `Option<Option<T>>`: absent, `null`, or a value, each
    /// re-encoded as it came.
    fn field_ty(&self, f: &Field, from: &[String]) -> TokenStream {
        let t = match (&f.ty, f.boxed) {
            (Ty::Nullable(inner), true) => {
                let t = self.ty(inner, from);
                quote!(Option<Box<#t>>)
            }
            (ty, true) => {
                let t = self.ty(ty, from);
                quote!(Box<#t>)
            }
            (ty, false) => self.ty(ty, from),
        };
        if f.required { t } else { quote!(Option<#t>) }
    }

    pub fn emit(&self) -> Result<Output, EmitError> {
        self.check()?;
        let mut out = Output::default();
        // module path → definitions in it (own only)
        let mut modules: BTreeMap<Vec<String>, Vec<&TypeDef>> = BTreeMap::new();
        for def in self.model.types.values().filter(|d| self.is_own(d)) {
            modules.entry(def.module.clone()).or_default().push(def);
        }
        // Every ancestor module exists, with its children and the feature gating each child.
        let mut children: BTreeMap<Vec<String>, BTreeMap<String, Option<String>>> = BTreeMap::new();
        for (module, defs) in &modules {
            let feature = defs.iter().find_map(|d| d.feature.clone());
            for depth in 0..module.len() {
                let parent = module[..depth].to_vec();
                let child = module[depth].clone();
                // The gate sits on the group module (`api::apps`), one below `api`.
                let gate = if depth + 1 == feature_depth(module) {
                    feature.clone()
                } else {
                    None
                };
                let entry = children
                    .entry(parent)
                    .or_default()
                    .entry(child)
                    .or_insert(gate.clone());
                if entry.is_none() {
                    *entry = gate;
                }
            }
            children.entry(module.clone()).or_default();
        }
        for (module, kids) in &children {
            let defs = modules.get(module).map(Vec::as_slice).unwrap_or(&[]);
            let has_kids = !kids.is_empty();
            let file = module_file(&self.root, module, has_kids);
            let mut items = TokenStream::new();
            if module.is_empty() {
                let text = "Every definition of the spec, under its module path.";
                items.extend(quote!(#![doc = #text]));
                if matches!(self.target, Target::KuberModels) {
                    items.extend(quote!(
                        #[doc(hidden)]
                        pub mod dispatch;
                    ));
                }
            }
            for (kid, gate) in kids {
                let id = ident(kid);
                let cfg = gate.as_ref().map(|f| quote!(#[cfg(feature = #f)]));
                items.extend(quote!(#cfg pub mod #id;));
            }
            for def in defs {
                items.extend(self.definition(def)?);
            }
            out.files.insert(file.clone(), render(&file, items)?);
        }
        if matches!(self.target, Target::KuberModels) {
            let file = format!("{}/dispatch.rs", self.root);
            out.files
                .insert(file.clone(), render(&file, self.dispatch())?);
        }
        out.features = self.features();
        Ok(out)
    }

    /// Catches what would make the output wrong rather than fail to build.
    fn check(&self) -> Result<(), EmitError> {
        for def in self.model.types.values() {
            if PRELUDE_NAMES.contains(&def.ident.as_str()) {
                return Err(EmitError::Definition {
                    def: def.name.clone(),
                    message: format!(
                        "type name `{}` would shadow a prelude name the generated code uses",
                        def.ident
                    ),
                });
            }
            if let TypeBody::Struct(fields) = &def.body {
                for f in fields {
                    if f.rust == UNKNOWN_FIELDS {
                        return Err(EmitError::Definition {
                            def: def.name.clone(),
                            message: format!(
                                "property `{}` would take the name `{UNKNOWN_FIELDS}`, which holds the members the model does not know",
                                f.json
                            ),
                        });
                    }
                    for n in named(&f.ty) {
                        if !self.model.types.contains_key(n) {
                            return Err(EmitError::Definition {
                                def: def.name.clone(),
                                message: format!(
                                    "property `{}` refers to `{n}`, which is not defined",
                                    f.json
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn features(&self) -> BTreeMap<String, Vec<String>> {
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for def in self.model.types.values().filter(|d| self.is_own(d)) {
            let Some(feature) = &def.feature else {
                continue;
            };
            let entry = deps.entry(feature.clone()).or_default();
            let mut needs = |other: Option<&String>| {
                if let Some(o) = other.filter(|o| *o != feature) {
                    entry.insert(o.clone());
                }
            };
            match &def.body {
                TypeBody::Struct(fields) => {
                    for f in fields {
                        for n in named(&f.ty) {
                            needs(self.model.types.get(n).and_then(|d| d.feature.as_ref()));
                        }
                    }
                }
                TypeBody::Alias(t) => {
                    for n in named(t) {
                        needs(self.model.types.get(n).and_then(|d| d.feature.as_ref()));
                    }
                }
                TypeBody::Special(_) => {}
            }
        }
        deps.into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect()
    }

    fn definition(&self, def: &TypeDef) -> Result<TokenStream, EmitError> {
        let id = ident(&def.ident);
        let kind = self.model.kinds.get(&def.name);
        let docs = doc(&self.type_doc(def, kind));
        if let TypeBody::Special(s) | TypeBody::Alias(Ty::Special(s)) = &def.body {
            // Carried by a hand-written type: re-export it under the spec's name.
            let path = self.special_path(*s);
            let cfg = s
                .needs_apiextensions()
                .then(|| quote!(#[cfg(feature = "apiextensions")]));
            return Ok(if s.rust_name() == def.ident {
                quote!(#cfg #docs pub use #path;)
            } else {
                quote!(#cfg #docs pub type #id = #path;)
            });
        }
        Ok(match &def.body {
            TypeBody::Special(_) => TokenStream::new(),
            TypeBody::Alias(t) => {
                let t = self.ty(t, &def.module);
                quote!(#docs pub type #id = #t;)
            }
            TypeBody::Struct(fields) => {
                let mut tokens = self.structure(def, fields, docs);
                if let Some(kind) = kind {
                    tokens.extend(self.resource_impl(def, fields, kind));
                }
                if let Some(item) = self.list_item_of(def) {
                    tokens.extend(self.list_impl(def, fields, item));
                }
                if let Some(join) = self.message_join(def) {
                    tokens.extend(super::proto::message_impl(def, join));
                }
                tokens
            }
        })
    }

    fn type_doc(&self, def: &TypeDef, kind: Option<&Kind>) -> String {
        let mut text = format!("`{}`", def.name);
        if let Some(k) = kind {
            let scope = match k.scope {
                Scope::Namespaced => "namespaced",
                Scope::Cluster => "cluster-scoped",
            };
            text.push_str(&format!(
                "\n\nKind `{}` of `{}`, {scope}, plural `{}`.",
                k.gvk.kind,
                k.gvk.api_version(),
                k.plural
            ));
            if !k.subresources.is_empty() {
                let subs: Vec<String> = k.subresources.iter().map(|s| format!("`{s}`")).collect();
                text.push_str(&format!(" Subresources: {}.", subs.join(", ")));
            }
            if k.guessed {
                text.push_str(
                    "\n\nNo path of the documents serves this kind: the plural was guessed from \
                     the kind (client-go's rule, except that a vowel before a final `y` keeps it) and the scope is namespaced unless `gen \
                     --cluster-scoped` declared it.",
                );
            }
        } else if def.gvks.len() == 1 {
            let g = &def.gvks[0];
            text.push_str(&format!("\n\nKind `{}` of `{}`.", g.kind, g.api_version()));
        }
        text
    }

    fn structure(&self, def: &TypeDef, fields: &[Field], docs: TokenStream) -> TokenStream {
        let id = ident(&def.ident);
        let name = &def.ident;
        let from = &def.module;
        let decls = fields.iter().map(|f| {
            let fid = format_ident!("{}", f.rust);
            let t = self.field_ty(f, from);
            let text = if f.rest {
                doc(&format!(
                    "The members no other field names: {}.",
                    f.ty.describe()
                ))
            } else {
                let req = if f.required { ", required" } else { "" };
                doc(&format!("`{}`: {}{req}.", f.json, f.ty.describe()))
            };
            quote!(#text pub #fid: #t,)
        });
        let unknown = ident(UNKNOWN_FIELDS);
        let unknown_doc =
            doc("Members this version of the model does not know, written back on encode.");
        let root = self.models_root();
        let (named, rest): (Vec<&Field>, Vec<&Field>) = fields.iter().partition(|f| !f.rest);
        // Each field is one call returning nothing (serialize) or the `Result` as is (decode):
        // no `?` per field, whose desugaring was most of these bodies' compile time (issue 10).
        let ser = named.iter().map(|f| {
            let fid = format_ident!("{}", f.rust);
            let key = &f.json;
            if f.required {
                quote!(w.required(#key, &self.#fid);)
            } else {
                quote!(w.optional(#key, &self.#fid);)
            }
        });
        let de = named.iter().map(|f| {
            let fid = format_ident!("{}", f.rust);
            let key = &f.json;
            if f.required {
                quote!(#key => #root::codec::set_required(&mut self.#fid, map),)
            } else if matches!(f.ty, Ty::Nullable(_)) {
                // Only called for a member that is there: `null` is `Some(None)`.
                quote!(#key => #root::codec::set_present(&mut self.#fid, map),)
            } else {
                quote!(#key => #root::codec::set(&mut self.#fid, map),)
            }
        });
        // Members no field names go to the typed map of the rest when the schema has one
        // (additionalProperties), else to the raw unknown members.
        let (other, write_rest) = match rest.first() {
            Some(f) => {
                let fid = format_ident!("{}", f.rust);
                let keys = named.iter().map(|f| &f.json);
                (
                    quote!(_ => #root::codec::insert_rest(&mut self.#fid, key, map),),
                    // A member a field names is written from the field, never twice.
                    quote!(w.rest(&self.#fid, &[#(#keys),*]);),
                )
            }
            None => (
                quote!(_ => #root::codec::unknown(&mut self.#unknown, key, map),),
                TokenStream::new(),
            ),
        };
        let w_mut = (!named.is_empty() || !rest.is_empty()).then(|| quote!(mut));
        quote! {
            #docs
            #[derive(Clone, Debug, Default, PartialEq)]
            pub struct #id {
                #(#decls)*
                #unknown_doc
                pub #unknown: #root::UnknownFields,
            }

            impl serde::Serialize for #id {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let #w_mut w = #root::codec::MapWriter::start(serializer)?;
                    #(#ser)*
                    #write_rest
                    w.end(&self.#unknown)
                }
            }

            impl<'de> serde::Deserialize<'de> for #id {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #root::codec::deserialize_struct(deserializer)
                }
            }

            impl #root::codec::DecodeFields for #id {
                const NAME: &'static str = #name;
                fn decode_field<'de, A: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
                    match key {
                        #(#de)*
                        #other
                    }
                }
            }
        }
    }

    fn meta_field<'f>(&self, fields: &'f [Field], def: &str) -> Option<&'f Field> {
        fields
            .iter()
            .find(|f| f.json == "metadata" && f.ty == Ty::Named(def.to_owned()) && !f.boxed)
    }

    fn resource_impl(&self, def: &TypeDef, fields: &[Field], kind: &Kind) -> TokenStream {
        let Some(meta) = self.meta_field(fields, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        else {
            return TokenStream::new();
        };
        let id = ident(&def.ident);
        let root = self.models_root();
        let (group, version, kind_name, plural) = (
            &kind.gvk.group,
            &kind.gvk.version,
            &kind.gvk.kind,
            &kind.plural,
        );
        let api_version = kind.gvk.api_version();
        let scope = match kind.scope {
            Scope::Namespaced => quote!(#root::Scope::Namespaced),
            Scope::Cluster => quote!(#root::Scope::Cluster),
        };
        let om = self.def_path(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            &def.module,
        );
        let accessors = if meta.required {
            quote! {
                fn metadata(&self) -> Option<&#om> { Some(&self.metadata) }
                fn metadata_mut(&mut self) -> &mut #om { &mut self.metadata }
            }
        } else {
            quote! {
                fn metadata(&self) -> Option<&#om> { self.metadata.as_ref() }
                fn metadata_mut(&mut self) -> &mut #om { self.metadata.get_or_insert_with(Default::default) }
            }
        };
        quote! {
            impl #root::Resource for #id {
                const GROUP: &'static str = #group;
                const VERSION: &'static str = #version;
                const API_VERSION: &'static str = #api_version;
                const KIND: &'static str = #kind_name;
                const PLURAL: &'static str = #plural;
                const SCOPE: #root::Scope = #scope;
                #accessors
            }
        }
    }

    /// The kind whose list this definition is, if any.
    fn list_item_of(&self, def: &TypeDef) -> Option<&Kind> {
        self.model
            .kinds
            .values()
            .find(|k| k.list_def.as_deref() == Some(def.name.as_str()))
    }

    fn list_impl(&self, def: &TypeDef, fields: &[Field], item: &Kind) -> TokenStream {
        let id = ident(&def.ident);
        let root = self.models_root();
        let item_path = self.def_path(&item.def, &def.module);
        let lm = self.def_path("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", &def.module);
        let Some(items) = fields.iter().find(|f| f.json == "items") else {
            return TokenStream::new();
        };
        let (items_ref, items_own) = if items.required {
            (quote!(&self.items), quote!(self.items))
        } else {
            (
                quote!(self.items.as_deref().unwrap_or_default()),
                quote!(self.items.unwrap_or_default()),
            )
        };
        let meta = match self.meta_field(fields, "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta") {
            Some(f) if f.required => quote!(Some(&self.metadata)),
            Some(_) => quote!(self.metadata.as_ref()),
            None => quote!(None),
        };
        let kind = format!("{}List", item.gvk.kind);
        quote! {
            impl #root::ListResource for #id {
                type Item = #item_path;
                const KIND: &'static str = #kind;
                fn items(&self) -> &[#item_path] { #items_ref }
                fn into_items(self) -> Vec<#item_path> { #items_own }
                fn list_metadata(&self) -> Option<&#lm> { #meta }
            }
        }
    }

    /// `with_type`: calls a visitor with the Rust type of an apiVersion/kind, without
    /// instantiating anything in this crate (the visitor is generic, the caller pays).
    fn dispatch(&self) -> TokenStream {
        let mut arms = Vec::new();
        let mut seen = BTreeSet::new();
        for def in self.model.types.values() {
            if !matches!(def.body, TypeBody::Struct(_)) {
                continue;
            }
            for g in &def.gvks {
                let api_version = g.api_version();
                if !seen.insert((api_version.clone(), g.kind.clone())) {
                    continue;
                }
                let kind = &g.kind;
                let path = self.def_path(&def.name, &[]);
                let cfg = def.feature.as_ref().map(|f| quote!(#[cfg(feature = #f)]));
                arms.push(quote!(#cfg (#api_version, #kind) => Some(visitor.visit::<#path>()),));
            }
        }
        let messages = self.message_dispatch();
        quote! {
            #[doc = " Calls `visitor` with the type that carries `apiVersion`/`kind`; `None` when no"]
            #[doc = " enabled definition has them."]
            pub fn with_type<V: crate::TypeVisitor>(api_version: &str, kind: &str, visitor: V) -> Option<V::Output> {
                match (api_version, kind) {
                    #(#arms)*
                    _ => None,
                }
            }
            #messages
        }
    }

    /// `with_message_type`: as `with_type`, over the kinds with a protobuf encoding.
    fn message_dispatch(&self) -> TokenStream {
        let mut arms = Vec::new();
        let mut seen = BTreeSet::new();
        for def in self.model.types.values() {
            if self.message_join(def).is_none() {
                continue;
            }
            for g in &def.gvks {
                let api_version = g.api_version();
                if !seen.insert((api_version.clone(), g.kind.clone())) {
                    continue;
                }
                let kind = &g.kind;
                let path = self.def_path(&def.name, &[]);
                let cfg = def.feature.as_ref().map(|f| quote!(#[cfg(feature = #f)]));
                arms.push(quote!(#cfg (#api_version, #kind) => Some(visitor.visit::<#path>()),));
            }
        }
        let body = if arms.is_empty() {
            // Documents without protobuf facts: JSON only.
            quote!(let _ = (api_version, kind, visitor); None)
        } else {
            quote!(match (api_version, kind) { #(#arms)* _ => None, })
        };
        quote! {
            #[doc = " Calls `visitor` with the type that carries `apiVersion`/`kind` and has a protobuf"]
            #[doc = " encoding; `None` when no enabled definition does."]
            #[cfg(feature = "protobuf")]
            pub fn with_message_type<V: crate::proto::MessageVisitor>(api_version: &str, kind: &str, visitor: V) -> Option<V::Output> {
                #body
            }
        }
    }
}

/// Depth of the module that carries the feature gate: `api::<group>` and the top modules of the
/// optional aggregated groups.
fn feature_depth(module: &[String]) -> usize {
    match module.first().map(String::as_str) {
        Some("api") => 2,
        Some("metrics") if module.get(1).is_some_and(|m| m == "pkg") => 4,
        _ => 1,
    }
}

fn module_file(root: &str, module: &[String], has_children: bool) -> String {
    if module.is_empty() {
        return format!("{root}/mod.rs");
    }
    let joined = module.join("/");
    if has_children {
        format!("{root}/{joined}/mod.rs")
    } else {
        format!("{root}/{joined}.rs")
    }
}

/// Definitions a type refers to.
pub fn named(ty: &Ty) -> Vec<&str> {
    match ty {
        Ty::Named(n) => vec![n.as_str()],
        Ty::Vec(t) | Ty::Map(t) | Ty::Nullable(t) => named(t),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The generated file of `a::v1` for these definitions, as a standalone crate.
    fn emitted(schemas: serde_json::Value) -> String {
        let doc: openapiv3::OpenAPI = serde_json::from_value(json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap();
        let model = Model::build(&doc, &Default::default()).unwrap();
        let out = ModelsEmitter::new(&model, Target::Standalone, "src")
            .emit()
            .unwrap();
        out.files["src/a/v1.rs"].clone()
    }

    /// `text` without whitespace or the trailing commas of broken lines, so that checks do not
    /// depend on line breaking.
    fn squeeze(text: &str) -> String {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        text.replace(",>", ">").replace(",)", ")")
    }

    #[test]
    fn nullable_fields_tell_null_from_absent() {
        let text = squeeze(&emitted(
            json!({"a.v1.G": {"type": "object", "required": ["size"],
            "properties": {
                "size": {"type": "integer", "nullable": true},
                "note": {"type": "string", "nullable": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "nullable": true}}
            }}}),
        ));
        for want in [
            // Optional: absent (None), null (Some(None)) or a value.
            "pubnote:Option<Option<String>>,",
            r#""note"=>::kuber_models::codec::set_present(&mutself.note,map),"#,
            r#"w.optional("note",&self.note);"#,
            // Required: null or a value, always written.
            "pubsize:Option<i64>,",
            r#""size"=>::kuber_models::codec::set_required(&mutself.size,map),"#,
            r#"w.required("size",&self.size);"#,
            "publabels:Option<::std::collections::BTreeMap<String,Option<String>>>,",
        ] {
            assert!(text.contains(want), "missing {want} in {text}");
        }
    }

    #[test]
    fn structs_with_a_rest_field_write_it_after_the_fields() {
        let text = squeeze(&emitted(json!({
            "a.v1.Limits": {"type": "object", "properties": {"default": {"type": "integer", "format": "int32"}},
                            "additionalProperties": {"type": "integer", "format": "int32"}},
            "a.v1.Template": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                              "required": ["kind"], "properties": {"kind": {"type": "string"}}}
        })));
        for want in [
            "pubadditional_properties:::std::collections::BTreeMap<String,i32>,",
            "pubunknown_fields:::kuber_models::UnknownFields,",
            "::kuber_models::codec::insert_rest(&mutself.additional_properties,key,map)",
            // Preserved members of Template are its unknown fields, as in every struct.
            "_=>::kuber_models::codec::unknown(&mutself.unknown_fields,key,map),",
            r#""default"=>::kuber_models::codec::set(&mutself.default,map),"#,
            r#"w.optional("default",&self.default);"#,
            r#"w.required("kind",&self.kind);"#,
            r#"w.rest(&self.additional_properties,&["default"]);w.end(&self.unknown_fields)"#,
            "w.end(&self.unknown_fields)",
        ] {
            assert!(text.contains(want), "missing {want} in {text}");
        }
        assert_eq!(
            text.matches("MapWriter::start(serializer)?").count(),
            2,
            "{text}"
        );
        // No `?` per field (issue 10): one for the start of each map, none in decode_field.
        assert_eq!(text.matches("?").count(), 2, "{text}");
        assert!(!text.contains("codec::skip"), "{text}");
    }
}
