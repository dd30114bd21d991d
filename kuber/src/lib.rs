//! Kuber.jl's few verbs over every kind of the Kubernetes API: `get`, `list`, `put`, `update`,
//! `delete`, `watch` and `sel`, in a typed form (`ctx.get::<Pod>(name)`) and by kind name
//! (`ctx.get_kind("Deployment", name)`), over the generated kind registry of
//! [`kuber_api`] — no hand-written code per kind.
//!
//! ```no_run
//! # async fn run() -> kuber::Result<()> {
//! use kuber::Context;
//! use kuber::models::api::core::v1::Pod;
//!
//! let ctx = Context::infer()?;
//! let pods = ctx.list::<Pod>().labels(kuber::sel("app", kuber::sel::Op::In, ["web"])?).await?;
//! let web = ctx.get_kind("deploy", "web").await?; // an Object: downcast or read as is
//! println!("{} pods; {} is a {}", pods.items.len(), web.name().unwrap_or(""), web.kind());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

// The serde traits come from serde_core (no derive is used here): cargo builds it early in a
// clean build, where the `serde` facade crate waits behind its build script (issue 10).
extern crate serde_core as serde;

mod context;
mod discovery;
mod error;
#[cfg(feature = "core")]
pub mod exec;
pub mod metrics;
pub mod names;
mod object;
pub mod sel;
mod target;
mod verbs;
pub mod wait;
pub mod watch;
mod wire;

pub use context::{Context, LOCAL_PROXY};
pub use discovery::{Discovery, Group};
pub use error::{Error, Result};
#[cfg(feature = "core")]
pub use exec::{Attach, Exec, Forwarder, PortForward};
/// What exec, attach and port-forward answer.
pub use kuber_api::ws::{
    AttachedProcess, ExecOutput, ExecReader, ExecWriter, ExitStatus, PortStream, TerminalSize,
};
pub use metrics::MetricName;
pub use object::{List, Object, TypeInfo, kuber_obj, kuber_obj_value, kuber_type};
pub use sel::sel;
pub use verbs::{
    BoxFuture, Delete, DeleteCollection, Get, ListCall, Logs, PatchBody, PatchType, Propagation,
    Put, Update,
};
pub use wait::WaitFor;

/// The operations and client underneath (every operation of the API).
pub use kuber_api as api;
pub use kuber_api::{Client, Deleted, Patch};
/// The generated types.
pub use kuber_models as models;
pub use kuber_models::{DynamicObject, WatchEvent};
