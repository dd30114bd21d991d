//! Joins the protobuf facts ([`crate::proto`]) with the model: for every definition that has a
//! message, which model field each protobuf field is, how Go holds it (`spec/proto-go.facts`)
//! and so how it is written and read. A protobuf field without a property, or a property
//! without a protobuf field, is an error naming both unless `spec/proto-fixups.facts` names it.
//!
//! Rules that need no fixup: a Go embedded struct (a message of its own in protobuf, its fields
//! inline in JSON) is found by its fields; `apiVersion`/`kind` of a kind come from the envelope
//! (protobuf objects have no `TypeMeta`); a string slice that the `.proto` wraps in a message
//! (`Verbs`, `ExtraValue`) is that slice; `metav1.Duration` is the model's duration text.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Field, Model, Special, Ty, TypeBody, TypeDef};
use crate::proto::{Label, ProtoFacts, ProtoField, ProtoType};

const DURATION: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Duration";

/// How Go holds a field (`spec/proto-go.facts`), which decides when gogo writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoRepr {
    /// A non-pointer struct or scalar: always written, zero values too.
    Value,
    /// Written when not nil.
    Pointer,
    Slice,
    Map,
    /// `[]byte`: written when not nil.
    Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoField {
    pub repr: GoRepr,
    pub omitempty: bool,
    pub omitzero: bool,
}

/// `message\tfield\tgo\tjson` lines, by (message, proto field).
#[derive(Clone, Debug, Default)]
pub struct GoFacts {
    pub fields: BTreeMap<(String, String), GoField>,
}

/// What a fixup line says of one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fixup {
    /// The protobuf field's JSON name is this (the `.proto` spells it otherwise: `uID`).
    JsonName(String),
    /// A protobuf field the swagger does not describe: read and written back as an unknown field.
    ProtoOnly,
    /// A property the `.proto` does not have: never in a protobuf body.
    JsonOnly,
}

/// `spec/proto-fixups.facts`: `message\tfield\twhat[\tvalue]`.
#[derive(Clone, Debug, Default)]
pub struct Fixups {
    pub fields: BTreeMap<(String, String), Fixup>,
}

/// Everything the join reads beside the model.
#[derive(Clone, Debug, Default)]
pub struct ProtoInputs {
    pub facts: ProtoFacts,
    /// Without the Go facts every field is taken as a pointer: written when set, set when read,
    /// which round-trips the model but is not the server's bytes for Go value fields.
    pub go: Option<GoFacts>,
    pub fixups: Fixups,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct FactsError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// Lines of tab-separated columns, `#` comments and blank lines skipped.
fn fact_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

impl GoFacts {
    pub fn parse(text: &str, file: &str) -> Result<GoFacts, FactsError> {
        let mut out = GoFacts::default();
        for (line, cols) in fact_lines(text) {
            let error = |problem: String| FactsError {
                file: file.to_owned(),
                line,
                problem,
            };
            let [message, field, go, json] = cols[..] else {
                return Err(error(format!("{} columns; a line has 4", cols.len())));
            };
            let repr = match go {
                "value" => GoRepr::Value,
                "pointer" => GoRepr::Pointer,
                "slice" => GoRepr::Slice,
                "map" => GoRepr::Map,
                "bytes" => GoRepr::Bytes,
                other => return Err(error(format!("go representation {other:?}"))),
            };
            let opts: Vec<&str> = json.split(',').collect();
            let field_facts = GoField {
                repr,
                omitempty: opts.contains(&"omitempty"),
                omitzero: opts.contains(&"omitzero"),
            };
            out.fields
                .insert((message.to_owned(), field.to_owned()), field_facts);
        }
        Ok(out)
    }
}

impl Fixups {
    pub fn parse(text: &str, file: &str) -> Result<Fixups, FactsError> {
        let mut out = Fixups::default();
        for (line, cols) in fact_lines(text) {
            let error = |problem: String| FactsError {
                file: file.to_owned(),
                line,
                problem,
            };
            let fixup = match cols[..] {
                [_, _, "json-name", name] => Fixup::JsonName(name.to_owned()),
                [_, _, "proto-only"] => Fixup::ProtoOnly,
                [_, _, "json-only"] => Fixup::JsonOnly,
                _ => return Err(error(format!("not a fixup: {}", cols.join(" ")))),
            };
            out.fields
                .insert((cols[0].to_owned(), cols[1].to_owned()), fixup);
        }
        Ok(out)
    }
}

/// How the model holds the values of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Required,
    Optional,
    Vec,
    OptVec,
    Map,
    OptMap,
}

/// Which runtime codec writes one value (`kuber_models::proto::wire`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Std,
    Items,
    Duration,
    /// A message without fields (`CustomResourceSubresourceStatus`) that the model holds as
    /// raw JSON, the object `{}`.
    Empty,
}

/// A protobuf field that is a model field.
#[derive(Clone, Debug)]
pub struct Joined {
    pub number: u32,
    pub proto: String,
    pub rust: String,
    pub shape: Shape,
    pub codec: Codec,
    /// Unset is written as Go's zero value (a Go value field).
    pub write_zero: bool,
    /// A zero value reads as unset (JSON leaves it out, or writes `null`).
    pub zero_none: bool,
    /// Unset after a read becomes the zero value (JSON writes it always).
    pub fill: bool,
}

#[derive(Clone, Debug)]
pub enum Slot {
    Field(Joined),
    /// A Go embedded struct: its fields are fields of the outer model.
    Embedded {
        number: u32,
        proto: String,
        slots: Vec<Slot>,
    },
    /// Named by a `proto-only` fixup: kept as an unknown field.
    ProtoOnly {
        number: u32,
    },
}

impl Slot {
    pub fn number(&self) -> u32 {
        match self {
            Slot::Field(j) => j.number,
            Slot::Embedded { number, .. } | Slot::ProtoOnly { number } => *number,
        }
    }
}

/// One definition's message.
#[derive(Clone, Debug)]
pub struct MessageJoin {
    pub slots: Vec<Slot>,
    /// The model's `apiVersion` and `kind` fields, set from the envelope.
    pub type_meta: Option<(String, String)>,
}

/// What the join did, for `gen`'s report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinStats {
    pub messages: usize,
    pub fields: usize,
    pub embedded: usize,
    pub type_meta: usize,
    pub fixups: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Join {
    pub messages: BTreeMap<String, MessageJoin>,
    pub stats: JoinStats,
}

#[derive(Debug, thiserror::Error)]
#[error("protobuf message `{message}`, field `{field}`: {problem}")]
pub struct JoinError {
    pub message: String,
    pub field: String,
    pub problem: String,
}

/// Every problem of a join, one a line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct JoinErrors(pub Vec<JoinError>);

/// Joins every definition of `model` that has a message in `inputs`.
pub fn join(model: &Model, inputs: &ProtoInputs) -> Result<Join, JoinErrors> {
    let mut out = Join::default();
    let mut used = BTreeSet::new();
    let mut errors = Vec::new();
    for def in model.types.values() {
        let TypeBody::Struct(fields) = &def.body else {
            continue;
        };
        let Some(proto) = inputs.facts.messages.get(&def.name) else {
            continue;
        };
        let mut joiner = Joiner {
            model,
            inputs,
            def,
            fields,
            taken: BTreeSet::new(),
            used: &mut used,
            stats: &mut out.stats,
        };
        let joined = joiner
            .slots(&def.name, proto)
            .and_then(|slots| Ok((slots, joiner.leftovers()?)));
        let (slots, type_meta) = match joined {
            Ok(j) => j,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        out.stats.messages += 1;
        out.messages
            .insert(def.name.clone(), MessageJoin { slots, type_meta });
    }
    for (m, f) in inputs.fixups.fields.keys().filter(|k| !used.contains(*k)) {
        errors.push(JoinError {
            message: m.clone(),
            field: f.clone(),
            problem: "the fixup names nothing the join needed it for (stale?)".into(),
        });
    }
    if !errors.is_empty() {
        return Err(JoinErrors(errors));
    }
    out.stats.fixups = used.len();
    Ok(out)
}

struct Joiner<'a> {
    model: &'a Model,
    inputs: &'a ProtoInputs,
    def: &'a TypeDef,
    fields: &'a [Field],
    /// JSON names of the model fields joined so far.
    taken: BTreeSet<String>,
    used: &'a mut BTreeSet<(String, String)>,
    stats: &'a mut JoinStats,
}

impl<'a> Joiner<'a> {
    fn error(&self, message: &str, field: &str, problem: impl Into<String>) -> JoinError {
        JoinError {
            message: message.to_owned(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    fn fixup(&mut self, message: &str, field: &str) -> Option<Fixup> {
        let k = (message.to_owned(), field.to_owned());
        let f = self.inputs.fixups.fields.get(&k).cloned();
        if f.is_some() {
            self.used.insert(k);
        }
        f
    }

    /// The slots of `message` (the definition's own, or an embedded one's) in `.proto` order.
    fn slots(&mut self, message: &str, proto: &[ProtoField]) -> Result<Vec<Slot>, JoinError> {
        let mut slots = Vec::with_capacity(proto.len());
        for pf in proto {
            let json = match self.fixup(message, &pf.name) {
                Some(Fixup::ProtoOnly) => {
                    slots.push(Slot::ProtoOnly { number: pf.number });
                    continue;
                }
                Some(Fixup::JsonName(n)) => n,
                _ => pf.name.clone(),
            };
            let field = self
                .fields
                .iter()
                .find(|f| !f.rest && f.json == json && !self.taken.contains(&f.json));
            if let Some(field) = field {
                let joined = self.field(message, pf, field)?;
                self.taken.insert(field.json.clone());
                self.stats.fields += 1;
                slots.push(Slot::Field(joined));
            } else if let Some(inner) = self.embedded(pf) {
                let inner_name = inner.0.to_owned();
                let inner_slots = self.slots(&inner_name, inner.1)?;
                self.stats.embedded += 1;
                slots.push(Slot::Embedded {
                    number: pf.number,
                    proto: pf.name.clone(),
                    slots: inner_slots,
                });
            } else {
                return Err(self.error(
                    message,
                    &pf.name,
                    format!(
                        "no property `{json}` of `{}` (add a fixup to spec/proto-fixups.facts)",
                        self.def.name
                    ),
                ));
            }
        }
        Ok(slots)
    }

    /// A message field whose message's fields are all properties of this model not joined yet:
    /// a Go embedded struct.
    fn embedded(&self, pf: &ProtoField) -> Option<(&'a str, &'a [ProtoField])> {
        let (ProtoType::Message(m), Label::Optional) = (&pf.ty, pf.label) else {
            return None;
        };
        let inputs: &'a ProtoInputs = self.inputs;
        let (m, inner) = inputs.facts.messages.get_key_value(m)?;
        let free = |name: &str| {
            self.fields
                .iter()
                .any(|f| !f.rest && f.json == name && !self.taken.contains(&f.json))
        };
        let fits = |f: &ProtoField| free(&f.name) || self.embedded(f).is_some();
        (!inner.is_empty() && inner.iter().all(fits)).then_some((m.as_str(), inner.as_slice()))
    }

    /// Model fields no protobuf field took: `apiVersion`/`kind` of a kind, or a fixup.
    fn leftovers(&mut self) -> Result<Option<(String, String)>, JoinError> {
        let mut type_meta = (None, None);
        for f in self.fields {
            if f.rest || self.taken.contains(&f.json) {
                continue;
            }
            match f.json.as_str() {
                "apiVersion" if !self.def.gvks.is_empty() => type_meta.0 = Some(f.rust.clone()),
                "kind" if !self.def.gvks.is_empty() => type_meta.1 = Some(f.rust.clone()),
                _ => match self.fixup(&self.def.name, &f.json) {
                    Some(Fixup::JsonOnly) => {}
                    _ => {
                        return Err(self.error(
                            &self.def.name,
                            &f.json,
                            "a property with no protobuf field (add a fixup to spec/proto-fixups.facts)",
                        ));
                    }
                },
            }
        }
        Ok(match type_meta {
            (Some(a), Some(k)) => {
                self.stats.type_meta += 1;
                Some((a, k))
            }
            (None, None) => None,
            _ => {
                return Err(self.error(
                    &self.def.name,
                    "apiVersion",
                    "only one of apiVersion and kind has no protobuf field",
                ));
            }
        })
    }

    fn field(&self, message: &str, pf: &ProtoField, f: &Field) -> Result<Joined, JoinError> {
        let err = |p: String| self.error(message, &pf.name, p);
        let (shape, elem) = match (&f.ty, pf.label, f.required) {
            (Ty::Vec(t), Label::Repeated, true) => (Shape::Vec, &**t),
            (Ty::Vec(t), Label::Repeated, false) => (Shape::OptVec, &**t),
            (Ty::Map(t), Label::Map, true) => (Shape::Map, &**t),
            (Ty::Map(t), Label::Map, false) => (Shape::OptMap, &**t),
            (Ty::Nullable(_), ..) => return Err(err("nullable fields are not supported".into())),
            (t, Label::Optional, true) => (Shape::Required, t),
            (t, Label::Optional, false) => (Shape::Optional, t),
            (t, label, _) => {
                return Err(err(format!(
                    "model type {} does not fit a {label:?} field",
                    t.describe()
                )));
            }
        };
        let value_ty = match &pf.ty {
            ProtoType::Map { value, .. } => &**value,
            t => t,
        };
        let codec = self.codec(elem, value_ty).ok_or_else(|| {
            err(format!(
                "model type {} does not fit protobuf type {value_ty}",
                elem.describe()
            ))
        })?;
        let go = self.go(message, pf);
        let optional = shape == Shape::Optional;
        let value = go.repr == GoRepr::Value;
        let nil_is_zero = codec == Codec::Std && self.zero_reads_as_unset(elem);
        let zero_none =
            optional && value && (go.omitzero || nil_is_zero || (go.omitempty && is_scalar(elem)));
        Ok(Joined {
            number: pf.number,
            proto: pf.name.clone(),
            rust: f.rust.clone(),
            shape,
            codec,
            write_zero: optional && value,
            zero_none,
            fill: optional && value && !zero_none && matches!(codec, Codec::Std | Codec::Empty),
        })
    }

    /// How Go holds the field: from the Go facts, else as a pointer (see [`ProtoInputs::go`]).
    fn go(&self, message: &str, pf: &ProtoField) -> GoField {
        let k = (message.to_owned(), pf.name.clone());
        if let Some(go) = self.inputs.go.as_ref().and_then(|g| g.fields.get(&k)) {
            return *go;
        }
        let repr = match pf.label {
            Label::Repeated => GoRepr::Slice,
            Label::Map => GoRepr::Map,
            Label::Optional => GoRepr::Pointer,
        };
        GoField {
            repr,
            omitempty: true,
            omitzero: false,
        }
    }

    /// Types whose Go zero value JSON writes as `null`, read as unset: Time, MicroTime, the raw
    /// JSON types.
    fn zero_reads_as_unset(&self, ty: &Ty) -> bool {
        matches!(
            self.resolve(ty),
            Ty::Special(Special::Time | Special::MicroTime | Special::RawJson)
        )
    }

    /// A model type seen through the definitions that only stand for another type.
    fn resolve(&self, ty: &Ty) -> Ty {
        let mut ty = ty;
        for _ in 0..8 {
            let Ty::Named(n) = ty else { break };
            match self.model.types.get(n).map(|d| &d.body) {
                Some(TypeBody::Alias(t)) => ty = t,
                Some(TypeBody::Special(s)) => return Ty::Special(*s),
                _ => break,
            }
        }
        ty.clone()
    }

    /// The codec that writes a model value of `ty` as protobuf type `proto`, if they fit.
    fn codec(&self, ty: &Ty, proto: &ProtoType) -> Option<Codec> {
        let resolved = self.resolve(ty);
        let ty = &resolved;
        match proto {
            ProtoType::Scalar(s) => {
                let fits = matches!(
                    (s.as_str(), ty),
                    ("string", Ty::String)
                        | ("bool", Ty::Bool)
                        | ("int32" | "int64", Ty::I32 | Ty::I64)
                        | ("double", Ty::F64)
                        | ("bytes", Ty::Special(Special::ByteString))
                );
                fits.then_some(Codec::Std)
            }
            ProtoType::Message(m) if m == DURATION => {
                (ty == &Ty::String).then_some(Codec::Duration)
            }
            ProtoType::Message(m) => {
                let no_fields = self.inputs.facts.messages.get(m).is_some_and(Vec::is_empty);
                if no_fields && ty == &Ty::Special(Special::RawJson) {
                    return Some(Codec::Empty);
                }
                if let Some(def) = self.model.types.get(m) {
                    let named = Ty::Named(m.clone());
                    let want = self.resolve(&named);
                    let same = &want == ty || matches!(ty, Ty::Named(n) if n == &def.name);
                    return same.then_some(Codec::Std);
                }
                let items = self.inputs.facts.messages.get(m)?;
                let is_items = matches!(&items[..], [f] if f.name == "items"
                    && f.label == Label::Repeated && f.ty == ProtoType::Scalar("string".into()));
                (is_items && ty == &Ty::Vec(Box::new(Ty::String))).then_some(Codec::Items)
            }
            ProtoType::Map { .. } => None,
        }
    }
}

/// Strings, numbers and booleans: what `omitempty` leaves out when zero.
fn is_scalar(ty: &Ty) -> bool {
    matches!(ty, Ty::String | Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(schemas: serde_json::Value) -> Model {
        let doc: openapiv3::OpenAPI = serde_json::from_value(json!({
            "openapi": "3.0.0", "info": {"title": "t", "version": "v"}, "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap();
        Model::build(&doc, &Default::default()).unwrap()
    }

    fn inputs(facts: &str, go: &str, fixups: &str) -> ProtoInputs {
        ProtoInputs {
            facts: ProtoFacts::parse(facts, "proto.facts").unwrap(),
            go: Some(GoFacts::parse(go, "proto-go.facts").unwrap()),
            fixups: Fixups::parse(fixups, "proto-fixups.facts").unwrap(),
        }
    }

    fn gadget() -> Model {
        let str_ = json!({"type": "string"});
        model(json!({
            "a.v1.Gadget": {"type": "object",
                "x-kubernetes-group-version-kind": [{"group": "a", "version": "v1", "kind": "Gadget"}],
                "properties": {"apiVersion": str_, "kind": str_, "name": str_, "size": {"type": "integer", "format": "int32"},
                               "ref": str_, "verbs": {"type": "array", "items": str_}, "every": str_,
                               "uID": str_}},
        }))
    }

    const FACTS: &str = "a.v1.Gadget\tname\t1\tlen\tstring\toptional\n\
        a.v1.Gadget\tsize\t2\tvarint\tint32\toptional\n\
        a.v1.Gadget\tinline\t3\tlen\ta.v1.Embedded\toptional\n\
        a.v1.Gadget\tverbs\t4\tlen\ta.v1.Verbs\toptional\n\
        a.v1.Gadget\tevery\t5\tlen\tio.k8s.apimachinery.pkg.apis.meta.v1.Duration\toptional\n\
        a.v1.Gadget\tuid\t6\tlen\tstring\toptional\n\
        a.v1.Embedded\tref\t1\tlen\tstring\toptional\n\
        a.v1.Verbs\titems\t1\tlen\tstring\trepeated\n";
    const GO: &str = "a.v1.Gadget\tname\tvalue\tomitempty\na.v1.Gadget\tsize\tpointer\tomitempty\n\
        a.v1.Gadget\tuid\tvalue\talways\n";

    fn field<'j>(slots: &'j [Slot], proto: &str) -> &'j Joined {
        find(slots, proto).unwrap_or_else(|| panic!("no field {proto}"))
    }

    fn find<'j>(slots: &'j [Slot], proto: &str) -> Option<&'j Joined> {
        slots.iter().find_map(|s| match s {
            Slot::Field(j) if j.proto == proto => Some(j),
            Slot::Embedded { slots, .. } => find(slots, proto),
            _ => None,
        })
    }

    #[test]
    fn fields_join_with_how_go_holds_them() {
        let fixups = "a.v1.Gadget\tuid\tjson-name\tuID\n";
        let join = join(&gadget(), &inputs(FACTS, GO, fixups)).unwrap();
        let m = &join.messages["a.v1.Gadget"];
        assert_eq!(m.type_meta, Some(("api_version".into(), "kind".into())));
        let name = field(&m.slots, "name");
        // A Go value string with omitempty: always written, "" reads as unset.
        assert!(name.write_zero && name.zero_none && !name.fill);
        let size = field(&m.slots, "size");
        assert!(!size.write_zero && !size.zero_none, "a pointer");
        let uid = field(&m.slots, "uid");
        // No omitempty: JSON writes "" too, so a read sets it.
        assert!(uid.write_zero && !uid.zero_none && uid.fill);
        assert!(matches!(&m.slots[2], Slot::Embedded { number: 3, .. }));
        assert_eq!(field(&m.slots, "ref").rust, "ref_");
        assert_eq!(field(&m.slots, "verbs").codec, Codec::Items);
        assert_eq!(field(&m.slots, "every").codec, Codec::Duration);
        assert_eq!(
            join.stats,
            JoinStats {
                messages: 1,
                fields: 6,
                embedded: 1,
                type_meta: 1,
                fixups: 1
            }
        );
    }

    #[test]
    fn what_does_not_join_is_an_error_naming_message_and_field() {
        let err = join(&gadget(), &inputs(FACTS, GO, ""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("protobuf message `a.v1.Gadget`, field `uid`: no property `uid`"),
            "{err}"
        );
        // A property the .proto lacks.
        let facts: String = FACTS
            .lines()
            .filter(|l| !l.contains("\tsize\t"))
            .map(|l| format!("{l}\n"))
            .collect();
        let fixups = "a.v1.Gadget\tuid\tjson-name\tuID\n";
        let err = join(&gadget(), &inputs(&facts, GO, fixups))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `size`: a property with no protobuf field"),
            "{err}"
        );
        let fixups = "a.v1.Gadget\tuid\tjson-name\tuID\na.v1.Gadget\tsize\tjson-only\n";
        assert!(join(&gadget(), &inputs(&facts, GO, fixups)).is_ok());
        // A fixup nothing needs is stale.
        let fixups = "a.v1.Gadget\tuid\tjson-name\tuID\na.v1.Other\tx\tproto-only\n";
        let err = join(&gadget(), &inputs(FACTS, GO, fixups))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`a.v1.Other`, field `x`: the fixup names nothing"),
            "{err}"
        );
        // A type that does not fit.
        let facts = FACTS.replace("size\t2\tvarint\tint32", "size\t2\tlen\tstring");
        let fixups = "a.v1.Gadget\tuid\tjson-name\tuID\n";
        let err = join(&gadget(), &inputs(&facts, GO, fixups))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `size`: model type int32 does not fit protobuf type string"),
            "{err}"
        );
    }

    #[test]
    fn facts_files_are_checked() {
        let err = GoFacts::parse("m\tf\tvalue\n", "g").unwrap_err();
        assert_eq!(
            (err.line, err.problem.as_str()),
            (1, "3 columns; a line has 4")
        );
        let err = GoFacts::parse("# c\nm\tf\tref\tomitempty\n", "g").unwrap_err();
        assert!(
            err.to_string().starts_with("g:2: go representation"),
            "{err}"
        );
        let err = Fixups::parse("m\tf\trename\n", "x").unwrap_err();
        assert!(err.problem.contains("not a fixup"), "{err}");
    }
}
