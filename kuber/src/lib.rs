//! The verb facade (get, list, put, update, delete, watch, sel) over the kind registry (being built).
//!
//! What exists so far: [`mod@sel`], label and field selector builders, and the Kuber.jl-shaped
//! [`fn@sel`] helper.

pub mod sel;

pub use sel::sel;
