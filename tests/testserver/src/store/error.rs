//! Why the store refuses a read or a write, as data; [`crate::api`] turns these into the real
//! server's `Status` answers.

use crate::status::Failure;

/// A refusal of the store. Resources are named by group and plural, kinds by their name.
#[derive(Debug, Clone)]
pub enum StoreError {
    NotFound {
        group: String,
        plural: String,
        name: String,
    },
    AlreadyExists {
        group: String,
        plural: String,
        name: String,
    },
    /// A resourceVersion that is not the stored one.
    Conflict {
        group: String,
        plural: String,
        name: String,
    },
    /// A delete's uid or resourceVersion precondition that does not hold.
    PreconditionFailed {
        kind: String,
        group: String,
        name: String,
        why: String,
    },
    /// A create without name or generateName.
    NameRequired {
        kind: String,
        group: String,
    },
    /// The namespace of a create does not exist.
    NamespaceNotFound(String),
    /// A body that does not fit its path (not an object, another kind, name or namespace).
    Mismatch(String),
    /// The kind has no scale subresource, or its replicas path is not an object.
    NoScale,
    BadScalePath,
    /// A list or watch from a resourceVersion the store has not reached.
    TooLargeResourceVersion {
        requested: u64,
        current: u64,
    },
    /// An exact list from before the kept history.
    ListTooOld,
    /// A continue token from before the kept history.
    ContinueTooOld,
    /// A watch from before the kept history.
    Expired {
        requested: u64,
        oldest: u64,
    },
    /// What the object checks the store runs on commit (names, per-kind rules, CRD schemas)
    /// refused, in the real server's words.
    Rejected(Failure),
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> StoreError {
        StoreError::Rejected(f)
    }
}

impl StoreError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    pub fn not_found(kind: &kuber_api::KindInfo, name: &str) -> StoreError {
        StoreError::NotFound {
            group: kind.group.to_owned(),
            plural: kind.plural.to_owned(),
            name: name.to_owned(),
        }
    }

    pub fn conflict(kind: &kuber_api::KindInfo, name: &str) -> StoreError {
        StoreError::Conflict {
            group: kind.group.to_owned(),
            plural: kind.plural.to_owned(),
            name: name.to_owned(),
        }
    }
}
