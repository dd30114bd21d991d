//! The kuber-api app's program, built with the `core` group only.

include!("../../kuber-api-list-pods/src/main.rs");
