//! Code generation from the live cluster: `gen --kubeconfig` makes a crate whose types read
//! what the server serves.

mod livegen;

use crate::support::Case;

/// The cases of this folder, in the order they run.
pub fn cases() -> Vec<Case> {
    livegen::cases()
}
