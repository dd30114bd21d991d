//! The intermediate model: every definition as a type, every kind with its endpoints.
//! Built from an `openapiv3::OpenAPI` that the fixups have already corrected.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use crate::names;

/// Definitions the fixups found to be carried by a hand-written type, by spec name.
pub type Specials = BTreeMap<String, Special>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("definition `{def}`: {message}")]
    Definition { def: String, message: String },
    #[error("definition `{def}`, property `{property}`: {message}")]
    Property {
        def: String,
        property: String,
        message: String,
    },
}

/// Hand-written types of `kuber_models::special`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Special {
    IntOrString,
    Quantity,
    Time,
    MicroTime,
    ByteString,
    RawJson,
    JsonSchemaPropsOrArray,
    JsonSchemaPropsOrBool,
    JsonSchemaPropsOrStringArray,
}

impl Special {
    /// Name of the type in `kuber_models::special`.
    pub fn rust_name(self) -> &'static str {
        match self {
            Special::IntOrString => "IntOrString",
            Special::Quantity => "Quantity",
            Special::Time => "Time",
            Special::MicroTime => "MicroTime",
            Special::ByteString => "ByteString",
            Special::RawJson => "RawJson",
            Special::JsonSchemaPropsOrArray => "JSONSchemaPropsOrArray",
            Special::JsonSchemaPropsOrBool => "JSONSchemaPropsOrBool",
            Special::JsonSchemaPropsOrStringArray => "JSONSchemaPropsOrStringArray",
        }
    }

    /// The JSON-schema unions hold `JSONSchemaProps`, which lives in an optional group.
    pub fn needs_apiextensions(self) -> bool {
        matches!(
            self,
            Special::JsonSchemaPropsOrArray
                | Special::JsonSchemaPropsOrBool
                | Special::JsonSchemaPropsOrStringArray
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    String,
    Bool,
    I32,
    I64,
    F64,
    Special(Special),
    /// Another definition, by its spec name.
    Named(String),
    Vec(Box<Ty>),
    Map(Box<Ty>),
    /// `nullable: true`: `null` is a value of its own, kept on re-encode (`Option<T>`).
    Nullable(Box<Ty>),
}

impl Ty {
    /// Short fact for generated docs: `string`, `array of Container`, …
    pub fn describe(&self) -> String {
        match self {
            Ty::String => "string".into(),
            Ty::Bool => "boolean".into(),
            Ty::I32 => "int32".into(),
            Ty::I64 => "int64".into(),
            Ty::F64 => "double".into(),
            Ty::Special(s) => s.rust_name().into(),
            Ty::Named(n) => n.rsplit('.').next().unwrap_or(n).to_owned(),
            Ty::Vec(t) => format!("array of {}", t.describe()),
            Ty::Map(t) => format!("map of string to {}", t.describe()),
            Ty::Nullable(t) => format!("nullable {}", t.describe()),
        }
    }

    /// The definition this type holds directly (no Vec or Map between), seen through `Nullable`.
    pub fn direct_named(&self) -> Option<&str> {
        match self {
            Ty::Named(n) => Some(n),
            Ty::Nullable(t) => t.direct_named(),
            _ => None,
        }
    }
}

/// The spec's extension naming the kind of a definition or an operation.
pub const GVK_EXT: &str = "x-kubernetes-group-version-kind";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// One `{group, version, kind}` object of `x-kubernetes-group-version-kind`.
    pub fn from_json(value: &serde_json::Value) -> Option<Gvk> {
        Some(Gvk {
            group: value.get("group")?.as_str()?.to_owned(),
            version: value.get("version")?.as_str()?.to_owned(),
            kind: value.get("kind")?.as_str()?.to_owned(),
        })
    }

    /// Every kind `x-kubernetes-group-version-kind` names among `extensions`: a list on
    /// definitions, a single object on operations.
    pub fn from_extensions(extensions: &indexmap::IndexMap<String, serde_json::Value>) -> Vec<Gvk> {
        match extensions.get(GVK_EXT) {
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(Gvk::from_json).collect()
            }
            Some(one) => Gvk::from_json(one).into_iter().collect(),
            None => Vec::new(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub json: String,
    pub rust: String,
    pub ty: Ty,
    pub required: bool,
    /// Set when the field's type contains this struct again without a Vec/Map in between.
    pub boxed: bool,
    /// The field takes every member no other field names: `ty` is a `Map` of what
    /// `additionalProperties` allows. `json` is empty then. (Members of other structs that no field
    /// names, `x-kubernetes-preserve-unknown-fields` ones included, go to their `unknown_fields`.)
    pub rest: bool,
}

#[derive(Debug, Clone)]
pub enum TypeBody {
    Struct(Vec<Field>),
    /// Carried by a hand-written type.
    Special(Special),
    /// A definition that is just another type (`type X = …`).
    Alias(Ty),
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Spec name, e.g. `io.k8s.api.core.v1.Pod`.
    pub name: String,
    /// Module path below the crate root, e.g. `["api", "core", "v1"]`.
    pub module: Vec<String>,
    pub ident: String,
    pub body: TypeBody,
    pub gvks: Vec<Gvk>,
    /// Cargo feature that gates the module, if any.
    pub feature: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// A kind served by the API: what the `Resource` impl and the registry say about it.
#[derive(Debug, Clone)]
pub struct Kind {
    pub def: String,
    pub gvk: Gvk,
    pub plural: String,
    pub scope: Scope,
    pub list_def: Option<String>,
    pub subresources: BTreeSet<String>,
    /// Subresource → the kind its operations serve (`scale` → `autoscaling/v1` `Scale`).
    pub subresource_kinds: BTreeMap<String, Gvk>,
    /// `x-kubernetes-action`s seen on the kind's own paths (get, list, create, …).
    pub verbs: BTreeSet<String>,
    /// No path serves the kind (a components-only CRD document): plural and scope are guesses,
    /// verbs unknown (empty). See `crate::kinds::guess_pathless`.
    pub guessed: bool,
}

#[derive(Debug, Default)]
pub struct Model {
    pub types: BTreeMap<String, TypeDef>,
    pub kinds: BTreeMap<String, Kind>,
}

impl Model {
    /// Every definition as a type; `kinds` is left empty for `crate::kinds::derive`.
    pub fn build(doc: &OpenAPI, specials: &Specials) -> Result<Model, ModelError> {
        let mut builder = Builder {
            types: BTreeMap::new(),
            specials,
        };
        if let Some(components) = &doc.components {
            for (name, schema) in &components.schemas {
                let ReferenceOr::Item(schema) = schema else {
                    return Err(ModelError::Definition {
                        def: name.clone(),
                        message: "a definition that is only a $ref is not supported".into(),
                    });
                };
                builder.definition(name, schema)?;
            }
        }
        let mut model = Model {
            types: builder.types,
            kinds: BTreeMap::new(),
        };
        model.mark_boxed();
        Ok(model)
    }

    pub fn type_by_gvk(&self) -> BTreeMap<&Gvk, &TypeDef> {
        let mut out = BTreeMap::new();
        for t in self.types.values() {
            for g in &t.gvks {
                out.insert(g, t);
            }
        }
        out
    }

    /// Box every field whose type reaches its own struct again without a Vec or Map between.
    fn mark_boxed(&mut self) {
        let direct: BTreeMap<String, Vec<String>> = self
            .types
            .iter()
            .map(|(name, t)| {
                let targets = match &t.body {
                    TypeBody::Struct(fields) => fields
                        .iter()
                        .filter_map(|f| f.ty.direct_named().map(str::to_owned))
                        .collect(),
                    TypeBody::Alias(t) => t.direct_named().map(str::to_owned).into_iter().collect(),
                    _ => Vec::new(),
                };
                (name.clone(), targets)
            })
            .collect();
        let reaches = |from: &str, to: &str| -> bool {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_owned()];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n.clone())
                    && let Some(next) = direct.get(&n)
                {
                    stack.extend(next.iter().cloned());
                }
            }
            false
        };
        for (name, t) in self.types.iter_mut() {
            if let TypeBody::Struct(fields) = &mut t.body {
                for f in fields.iter_mut() {
                    if let Some(target) = f.ty.direct_named() {
                        f.boxed = reaches(target, name);
                    }
                }
            }
        }
    }
}

struct Builder<'a> {
    types: BTreeMap<String, TypeDef>,
    specials: &'a Specials,
}

/// Where a definition lives: module path and cargo feature.
pub fn locate(def: &str) -> (Vec<String>, String, Option<String>) {
    let parts: Vec<&str> = def.split('.').collect();
    let (module_parts, last) = match parts.split_last() {
        Some((last, rest)) => (rest.to_vec(), *last),
        None => (Vec::new(), def),
    };
    let stripped: Vec<&str> = if def.starts_with("io.k8s.") {
        module_parts[2..].to_vec()
    } else {
        module_parts
    };
    let module: Vec<String> = stripped.iter().map(|p| names::module_segment(p)).collect();
    let feature = match module.first().map(String::as_str) {
        Some("api") => module.get(1).map(|g| names::feature_name(g)),
        Some("apiextensions_apiserver") => Some("apiextensions".to_owned()),
        Some("kube_aggregator") => Some("apiregistration".to_owned()),
        // k8s.io/metrics: one feature per group (`metrics::pkg::apis::custom_metrics`).
        Some("metrics") if def.starts_with("io.k8s.metrics.pkg.apis.") => {
            module.get(3).map(|g| names::feature_name(g))
        }
        _ => None,
    };
    (module, names::type_name(last), feature)
}

fn ref_target(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("#/components/schemas/")
        .or_else(|| reference.strip_prefix("#/definitions/"))
}

impl Builder<'_> {
    fn definition(&mut self, name: &str, schema: &Schema) -> Result<(), ModelError> {
        let (module, ident, feature) = locate(name);
        let body = if let Some(special) = self.specials.get(name) {
            TypeBody::Special(*special)
        } else if let Some(shape) = object_shape(schema).filter(|s| !s.props.is_empty()) {
            TypeBody::Struct(self.struct_fields(name, &shape)?)
        } else {
            // Whether a field holding this definition may be `null` is the field's business.
            match self.ty(name, "", schema)? {
                Ty::Nullable(t) => TypeBody::Alias(*t),
                t => TypeBody::Alias(t),
            }
        };
        self.types.insert(
            name.to_owned(),
            TypeDef {
                name: name.to_owned(),
                module,
                ident,
                body,
                gvks: Gvk::from_extensions(&schema.schema_data.extensions),
                feature,
            },
        );
        Ok(())
    }

    /// The fields of an object with properties: one per property, then the field for the members
    /// no property names, when the schema keeps them.
    fn struct_fields(&mut self, def: &str, shape: &ObjectShape) -> Result<Vec<Field>, ModelError> {
        let mut fields = self.fields(def, shape.props, shape.required)?;
        let rest = match shape.additional {
            Some(AdditionalProperties::Schema(s)) => Some((
                "additionalProperties",
                self.boxed_ty(def, "additionalProperties", &unbox_ref(s))?,
            )),
            Some(AdditionalProperties::Any(true)) => {
                Some(("additionalProperties", Ty::Special(Special::RawJson)))
            }
            Some(AdditionalProperties::Any(false)) => None,
            None => None,
        };
        if let Some((name, ty)) = rest {
            // A property may already have the name: the rest field steps aside, it never fails.
            let mut rust = names::field_name(name);
            while fields.iter().any(|f| f.rust == rust) {
                rust.push('_');
            }
            fields.push(Field {
                json: String::new(),
                rust,
                ty: Ty::Map(Box::new(ty)),
                required: true,
                boxed: false,
                rest: true,
            });
        }
        Ok(fields)
    }

    fn fields(
        &mut self,
        def: &str,
        props: &indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &[String],
    ) -> Result<Vec<Field>, ModelError> {
        let mut fields = Vec::with_capacity(props.len());
        let mut taken = BTreeSet::new();
        for (json, prop) in props {
            let ty = match prop {
                ReferenceOr::Reference { reference } => self.reference(def, json, reference)?,
                ReferenceOr::Item(s) => self.ty(def, json, s)?,
            };
            let rust = names::field_name(json);
            if !taken.insert(rust.clone()) {
                return Err(ModelError::Property {
                    def: def.to_owned(),
                    property: json.clone(),
                    message: format!("its Rust name `{rust}` is already taken by another property"),
                });
            }
            fields.push(Field {
                json: json.clone(),
                rust,
                ty,
                required: required.contains(json),
                boxed: false,
                rest: false,
            });
        }
        Ok(fields)
    }

    fn reference(&self, def: &str, property: &str, reference: &str) -> Result<Ty, ModelError> {
        match ref_target(reference) {
            Some(target) => Ok(Ty::Named(target.to_owned())),
            None => Err(ModelError::Property {
                def: def.to_owned(),
                property: property.to_owned(),
                message: format!("unsupported $ref `{reference}`"),
            }),
        }
    }

    fn boxed_ty(
        &mut self,
        def: &str,
        property: &str,
        s: &ReferenceOr<Box<Schema>>,
    ) -> Result<Ty, ModelError> {
        match s {
            ReferenceOr::Reference { reference } => self.reference(def, property, reference),
            ReferenceOr::Item(s) => self.ty(def, property, s),
        }
    }

    /// The Rust type of an inline schema. `property` names it in errors and in synthesized type
    /// names. `nullable: true` makes it `Nullable`, so that a `null` survives decoding.
    fn ty(&mut self, def: &str, property: &str, schema: &Schema) -> Result<Ty, ModelError> {
        let ty = self.shape_ty(def, property, schema)?;
        Ok(
            if schema.schema_data.nullable && !matches!(ty, Ty::Nullable(_)) {
                Ty::Nullable(Box::new(ty))
            } else {
                ty
            },
        )
    }

    fn shape_ty(&mut self, def: &str, property: &str, schema: &Schema) -> Result<Ty, ModelError> {
        if let Some(shape) = object_shape(schema) {
            return self.object_ty(def, property, &shape);
        }
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => match &s.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::Byte) => {
                    Ty::Special(Special::ByteString)
                }
                VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => Ty::Special(Special::Time),
                VariantOrUnknownOrEmpty::Unknown(f) if f == "int-or-string" => {
                    Ty::Special(Special::IntOrString)
                }
                _ => Ty::String,
            },
            SchemaKind::Type(Type::Boolean(_)) => Ty::Bool,
            SchemaKind::Type(Type::Integer(i)) => match &i.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => Ty::I32,
                _ => Ty::I64,
            },
            SchemaKind::Type(Type::Number(_)) => Ty::F64,
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => Ty::Vec(Box::new(self.item_ty(def, property, items)?)),
                None => Ty::Vec(Box::new(Ty::Special(Special::RawJson))),
            },
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => match &all_of[0] {
                ReferenceOr::Reference { reference } => self.reference(def, property, reference)?,
                ReferenceOr::Item(s) => self.ty(def, property, s)?,
            },
            SchemaKind::Any(any) => match &any.items {
                Some(items) => Ty::Vec(Box::new(self.item_ty(def, property, items)?)),
                // No shape at all: arbitrary JSON, kept as it came.
                None => Ty::Special(Special::RawJson),
            },
            other => {
                return Err(ModelError::Property {
                    def: def.to_owned(),
                    property: property.to_owned(),
                    message: format!("unsupported schema shape {}", shape_name(other)),
                });
            }
        })
    }

    fn item_ty(
        &mut self,
        def: &str,
        property: &str,
        items: &ReferenceOr<Box<Schema>>,
    ) -> Result<Ty, ModelError> {
        let item_property = format!("{property}Item");
        self.boxed_ty(def, &item_property, items)
    }

    fn object_ty(
        &mut self,
        def: &str,
        property: &str,
        shape: &ObjectShape,
    ) -> Result<Ty, ModelError> {
        if !shape.props.is_empty() {
            // An inline object (CRD schemas are full of them) becomes a type of its own,
            // named after where it sits: `CertificateSpec` + `privateKey` → `CertificateSpecPrivateKey`.
            let name = format!("{def}{}", heck::ToPascalCase::to_pascal_case(property));
            if self.types.contains_key(&name) {
                return Err(ModelError::Property {
                    def: def.to_owned(),
                    property: property.to_owned(),
                    message: format!(
                        "the inline object's synthesized name `{name}` is already a definition"
                    ),
                });
            }
            let fields = self.struct_fields(&name, shape)?;
            let (module, ident, feature) = locate(&name);
            self.types.insert(
                name.clone(),
                TypeDef {
                    name: name.clone(),
                    module,
                    ident,
                    body: TypeBody::Struct(fields),
                    gvks: Vec::new(),
                    feature,
                },
            );
            return Ok(Ty::Named(name));
        }
        Ok(match shape.additional {
            Some(AdditionalProperties::Schema(s)) => {
                Ty::Map(Box::new(self.boxed_ty(def, property, &unbox_ref(s))?))
            }
            // `type: object` with nothing else, or with x-kubernetes-preserve-unknown-fields and
            // no properties: any JSON object, kept as it came.
            _ => Ty::Special(Special::RawJson),
        })
    }
}

fn unbox_ref(s: &ReferenceOr<Schema>) -> ReferenceOr<Box<Schema>> {
    match s {
        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
            reference: reference.clone(),
        },
        ReferenceOr::Item(s) => ReferenceOr::Item(Box::new(s.clone())),
    }
}

/// What an object schema says about its members.
struct ObjectShape<'a> {
    props: &'a indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: &'a [String],
    additional: Option<&'a AdditionalProperties>,
}

/// The members of an object schema, or of a schema without a type that has object keywords.
fn object_shape(schema: &Schema) -> Option<ObjectShape<'_>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => Some(ObjectShape {
            props: &o.properties,
            required: &o.required,
            additional: o.additional_properties.as_ref(),
        }),
        SchemaKind::Any(a)
            if a.items.is_none()
                && (!a.properties.is_empty() || a.additional_properties.is_some()) =>
        {
            Some(ObjectShape {
                props: &a.properties,
                required: &a.required,
                additional: a.additional_properties.as_ref(),
            })
        }
        _ => None,
    }
}

fn shape_name(kind: &SchemaKind) -> &'static str {
    match kind {
        SchemaKind::OneOf { .. } => "oneOf",
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::AllOf { .. } => "allOf with several members",
        SchemaKind::Not { .. } => "not",
        _ => "of this kind",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A model of the given components-only definitions.
    fn model(schemas: Value) -> Model {
        let doc: OpenAPI = serde_json::from_value(json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v"},
            "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap();
        Model::build(&doc, &Default::default()).unwrap()
    }

    fn fields<'m>(m: &'m Model, def: &str) -> &'m [Field] {
        match &m.types[def].body {
            TypeBody::Struct(f) => f,
            other => panic!("{def} is {other:?}"),
        }
    }

    fn field<'m>(m: &'m Model, def: &str, json: &str) -> &'m Field {
        fields(m, def).iter().find(|f| f.json == json).unwrap()
    }

    fn rest<'m>(m: &'m Model, def: &str) -> Option<&'m Field> {
        fields(m, def).iter().find(|f| f.rest)
    }

    fn raw() -> Ty {
        Ty::Special(Special::RawJson)
    }

    fn map(t: Ty) -> Ty {
        Ty::Map(Box::new(t))
    }

    fn nullable(t: Ty) -> Ty {
        Ty::Nullable(Box::new(t))
    }

    #[test]
    fn preserve_unknown_fields_without_properties_is_any_json() {
        let m = model(json!({"a.v1.G": {"type": "object", "properties": {
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "untyped": {"x-kubernetes-preserve-unknown-fields": true},
            "embedded": {"type": "object", "x-kubernetes-embedded-resource": true,
                         "x-kubernetes-preserve-unknown-fields": true}
        }}}));
        for f in ["config", "untyped", "embedded"] {
            assert_eq!(field(&m, "a.v1.G", f).ty, raw(), "{f}");
        }
        assert!(rest(&m, "a.v1.G").is_none());
    }

    #[test]
    fn preserve_unknown_fields_with_properties_types_the_named_members() {
        let m = model(json!({
            "a.v1.G": {"type": "object", "properties": {
                "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                             "properties": {"kind": {"type": "string"}}}
            }},
            "a.v1.Top": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"name": {"type": "string"}}}
        }));
        // The named members are typed; the others go to `unknown_fields`, which every
        // generated struct has (see the emitter's tests), so no rest field is added here.
        for def in ["a.v1.GTemplate", "a.v1.Top"] {
            assert!(rest(&m, def).is_none(), "{def}");
            assert_eq!(fields(&m, def).len(), 1, "{def}");
        }
    }

    #[test]
    fn additional_properties_beside_properties_are_a_typed_map_of_the_rest() {
        let m = model(json!({
            "a.v1.G": {"type": "object", "properties": {
                "limits": {"type": "object", "properties": {"default": {"type": "integer", "format": "int32"}},
                           "additionalProperties": {"type": "integer", "format": "int32"}},
                "anything": {"type": "object", "properties": {"a": {"type": "string"}},
                             "additionalProperties": true},
                "closed": {"type": "object", "properties": {"a": {"type": "string"}},
                           "additionalProperties": false},
                "objects": {"type": "object", "properties": {"a": {"type": "string"}},
                            "additionalProperties": {"type": "object", "properties": {"b": {"type": "string"}}}},
                // additionalProperties says what the rest is; preserve adds nothing.
                "both": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"a": {"type": "string"}},
                         "additionalProperties": {"type": "string"}}
            }},
            "a.v1.Top": {"type": "object", "properties": {"a": {"type": "string"}},
                         "additionalProperties": {"type": "boolean"}}
        }));
        let r = rest(&m, "a.v1.GLimits").unwrap();
        assert_eq!(
            (r.rust.as_str(), &r.ty),
            ("additional_properties", &map(Ty::I32))
        );
        assert_eq!(field(&m, "a.v1.GLimits", "default").ty, Ty::I32);
        assert_eq!(rest(&m, "a.v1.GAnything").unwrap().ty, map(raw()));
        assert!(rest(&m, "a.v1.GClosed").is_none());
        assert_eq!(
            rest(&m, "a.v1.GObjects").unwrap().ty,
            map(Ty::Named("a.v1.GObjectsAdditionalProperties".into()))
        );
        assert!(m.types.contains_key("a.v1.GObjectsAdditionalProperties"));
        assert_eq!(rest(&m, "a.v1.GBoth").unwrap().ty, map(Ty::String));
        assert_eq!(rest(&m, "a.v1.Top").unwrap().ty, map(Ty::Bool));
        // Without properties it stays a plain map.
        let m = model(
            json!({"a.v1.M": {"type": "object", "additionalProperties": {"type": "string"}}}),
        );
        assert!(matches!(&m.types["a.v1.M"].body, TypeBody::Alias(t) if *t == map(Ty::String)));
    }

    #[test]
    fn the_rest_field_steps_aside_for_a_property_of_its_name() {
        let m = model(json!({
            "a.v1.G": {"type": "object", "properties": {"additionalProperties": {"type": "string"}},
                       "additionalProperties": {"type": "string"}}
        }));
        let fields = fields(&m, "a.v1.G");
        let got: Vec<&str> = fields.iter().map(|f| f.rust.as_str()).collect();
        assert_eq!(got, ["additional_properties", "additional_properties_"]);
        assert!(!fields[0].rest && fields[1].rest);
    }

    #[test]
    fn nullable_schemas_keep_null() {
        let m = model(json!({
            "a.v1.G": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer", "nullable": true},
                "note": {"type": "string", "nullable": true},
                "plain": {"type": "string"},
                "owner": {"type": "object", "nullable": true, "properties": {"name": {"type": "string"}}},
                "ref": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/a.v1.Other"}]},
                "extra": {"type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "nullable": true}},
                "aliases": {"type": "array", "items": {"type": "string", "nullable": true}}
            }},
            "a.v1.Other": {"type": "string"},
            "a.v1.NullableDef": {"type": "string", "nullable": true}
        }));
        let ty = |f: &str| field(&m, "a.v1.G", f).ty.clone();
        assert_eq!(ty("size"), nullable(Ty::I64));
        assert!(field(&m, "a.v1.G", "size").required);
        assert_eq!(ty("note"), nullable(Ty::String));
        assert_eq!(ty("plain"), Ty::String);
        assert_eq!(ty("owner"), nullable(Ty::Named("a.v1.GOwner".into())));
        assert_eq!(ty("ref"), nullable(Ty::Named("a.v1.Other".into())));
        assert_eq!(ty("extra"), nullable(raw()));
        assert_eq!(ty("labels"), map(nullable(Ty::String)));
        assert_eq!(ty("aliases"), Ty::Vec(Box::new(nullable(Ty::String))));
        assert_eq!(ty("note").describe(), "nullable string");
        // A definition is not a field: whether `null` is allowed is said where it is used.
        assert!(matches!(
            &m.types["a.v1.NullableDef"].body,
            TypeBody::Alias(Ty::String)
        ));
    }

    #[test]
    fn a_nullable_field_of_its_own_type_is_boxed() {
        let m = model(json!({"a.v1.Node": {"type": "object", "properties": {
            "next": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/a.v1.Node"}]},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/a.v1.Node"}}
        }}}));
        assert!(field(&m, "a.v1.Node", "next").boxed);
        assert!(!field(&m, "a.v1.Node", "children").boxed);
    }
}
