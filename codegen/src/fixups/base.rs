//! What a fixup is, and the small edits the fixups of both lists make to a document or to the
//! operations.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

use crate::model::{Model, Special, Specials};
use crate::ops::{Op, Response};

pub struct Fixup {
    pub name: &'static str,
    pub reason: &'static str,
    /// Where upstream records the defect: an issue, or the source line the spec is generated
    /// from. Every upstream bug has at least one; a Kubernetes rule may point at its source.
    pub upstream: &'static [&'static str],
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
    pub(crate) fn of(outcome: Option<bool>) -> Tally {
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
    pub(crate) fn may_change_nothing(&self, release: &str) -> bool {
        self.applies_to.is_some_and(|list| !list.contains(&release))
    }
}

pub(crate) const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// Calls `f` on every operation: `None` if it is not one to correct, else whether it changed.
pub(crate) fn each_op(ops: &mut [Op], mut f: impl FnMut(&mut Op) -> Option<bool>) -> Tally {
    ops.iter_mut().map(|op| Tally::of(f(op))).sum()
}

/// Whether the answer changed.
pub(crate) fn set_response(op: &mut Op, response: Response) -> bool {
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
pub(crate) fn mark(
    doc: &mut OpenAPI,
    specials: &mut Specials,
    name: &str,
    special: Special,
) -> Tally {
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

/// Takes `property` out of definition `def`'s required list.
pub(crate) fn unrequire(doc: &mut OpenAPI, def: &str, property: &str) -> Tally {
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
pub(crate) fn walk_schemas(
    doc: &mut OpenAPI,
    f: &mut dyn FnMut(&mut Schema) -> Option<bool>,
) -> Tally {
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
