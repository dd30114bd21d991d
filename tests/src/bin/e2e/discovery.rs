//! (being written)

use crate::support::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
