//! Every definition of the Kubernetes API as a Rust type.
//!
//! Types live under their spec name without the leading `io.k8s.`: `io.k8s.api.core.v1.Pod` is
//! [`api::core::v1::Pod`](crate::api::core::v1::Pod). API groups are cargo features (`all` by
//! default); the `apimachinery` types are always there.
//!
//! Hand-written types: the special value types in [`special`], [`WatchEvent`] for watch streams,
//! [`DynamicObject`] / [`DynamicList`] for kinds the models do not know, and
//! [`UnknownFields`], the members of an object a generated struct has no field for.

// The serde traits come from serde_core (no derive is used here): cargo builds it early in a
// clean build, where the `serde` facade crate waits behind its build script (issue 10).
extern crate serde_core as serde;

#[doc(hidden)]
pub mod codec;
mod dynamic;
// Formatted by prettyplease when generated; rustfmt would fight `cargo xtask gen --check`.
#[rustfmt::skip]
mod generated;
#[cfg(feature = "protobuf")]
pub mod proto;
mod resource;
pub mod special;
mod unknown;
mod watch;

pub use dynamic::{DynamicList, DynamicObject};
pub use generated::dispatch::with_type;
pub use generated::*;
pub use resource::{ListResource, Resource, Scope, TypeVisitor};
pub use unknown::UnknownFields;
pub use watch::WatchEvent;
