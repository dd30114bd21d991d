//! kuber-api on the real control plane: discovery, every served list, writes, paging, watches,
//! custom resources, auth and TLS, kubectl beside kuber-api, request safety, apply, gzip and
//! proxies.

mod apply;
mod auth;
mod compression;
mod crd;
mod crud;
mod discovery;
mod kubectl;
mod listing;
mod paging;
mod protobuf;
mod proxy;
mod safety;
mod watch;

use crate::support::Case;

/// The cases of this folder, in the order they run.
pub fn cases() -> Vec<Case> {
    [
        discovery::cases(),
        listing::cases(),
        crud::cases(),
        paging::cases(),
        watch::cases(),
        protobuf::cases(),
        crd::cases(),
        auth::cases(),
        kubectl::cases(),
        safety::cases(),
        apply::cases(),
        compression::cases(),
        proxy::cases(),
    ]
    .concat()
}
