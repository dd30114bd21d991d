//! Every operation of the Kubernetes API, grouped per API group-version (`CoreV1Api`,
//! `AppsV1Api`, …) as in Kuber.jl and the official Python client, over a hyper + rustls client.

// The serde traits come from serde_core (no derive is used here): cargo builds it early in a
// clean build, where the `serde` facade crate waits behind its build script (issue 10).
extern crate serde_core as serde;

pub mod backoff;
pub mod client;
pub mod config;
mod error;
// Formatted by prettyplease when generated; rustfmt would fight `cargo xtask gen --check`.
#[rustfmt::skip]
mod generated;
pub mod random;
pub mod registry;
pub mod request;
mod response;
pub mod ws;
pub use kuber_yaml as yaml;

pub use client::{ByteStream, ClientStats, Lines, WatchStream};
pub use client::{Call, Client, ClientBuilder, call};
pub use client::{HyperTransport, RequestBody, ResponseBody};
pub use config::Encoding;
pub use error::ApiError;
pub use error::Error;
pub use generated::*;
pub use registry::{KindInfo, RegistryError, Subresource};
pub use request::{Operation, Patch, QueryParams, Request, ResponseShape};
pub use response::Deleted;
