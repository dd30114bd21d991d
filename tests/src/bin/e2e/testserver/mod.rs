//! kuber-testserver's fidelity: kubectl against it, and one script of requests sent to it and
//! to the real server with the answers compared.

mod differential;
mod kubectl;

use crate::support::Case;

/// The cases of this folder, in the order they run.
pub fn cases() -> Vec<Case> {
    [kubectl::cases(), differential::cases()].concat()
}
