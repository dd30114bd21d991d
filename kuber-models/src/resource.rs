//! What every served kind and every list knows about itself.

use crate::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// A kind the API serves, with where it is served.
pub trait Resource {
    /// API group, empty for the core group.
    const GROUP: &'static str;
    const VERSION: &'static str;
    /// `group/version`, or just `version` for the core group.
    const API_VERSION: &'static str;
    const KIND: &'static str;
    /// Path segment of the collection, e.g. `pods`.
    const PLURAL: &'static str;
    const SCOPE: Scope;

    fn metadata(&self) -> Option<&ObjectMeta>;
    /// The metadata, created empty if the object has none yet.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;

    fn name(&self) -> Option<&str> {
        self.metadata()?.name.as_deref()
    }

    fn namespace(&self) -> Option<&str> {
        self.metadata()?.namespace.as_deref()
    }

    fn resource_version(&self) -> Option<&str> {
        self.metadata()?.resource_version.as_deref()
    }
}

/// A list kind (`PodList`) and the kind of its items.
pub trait ListResource {
    type Item: Resource;
    const KIND: &'static str;

    fn items(&self) -> &[Self::Item];
    fn into_items(self) -> Vec<Self::Item>;
    fn list_metadata(&self) -> Option<&ListMeta>;
}

/// Receives the Rust type behind an apiVersion/kind, see [`crate::with_type`].
pub trait TypeVisitor {
    type Output;
    fn visit<T>(self) -> Self::Output
    where
        T: serde::Serialize
            + serde::de::DeserializeOwned
            + Clone
            + std::fmt::Debug
            + PartialEq
            + 'static;
}
