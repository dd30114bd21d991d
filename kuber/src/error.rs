//! One error type for every verb: the server's answer (with its `Status`), and what kuber itself
//! refuses before sending anything (an unknown kind, a missing name, text that is no object).

use kuber_models::apimachinery::pkg::apis::meta::v1::Status;

/// What a verb can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call failed: a non-2xx answer (with the server's `Status`, see [`Error::status`]),
    /// the connection, TLS, credentials, a timeout, a body that would not decode.
    #[error(transparent)]
    Api(#[from] kuber_api::Error),

    /// No kind of that name: not in the models, not served by the server.
    #[error("unknown kind `{name}`{}", did_you_mean(close))]
    UnknownKind {
        /// The name as given.
        name: String,
        /// Known kind names (and plurals) closest to `name`, best first.
        close: Vec<String>,
    },

    /// The kind exists, but the server does not serve it (in that version).
    #[error(
        "{kind} ({api_version}) is not served by the server{}",
        served_instead(served)
    )]
    NotServed {
        /// The kind.
        kind: String,
        /// The apiVersion asked for.
        api_version: String,
        /// apiVersions of the kind the server does serve.
        served: Vec<String>,
    },

    /// A label or field selector that breaks the server's rules.
    #[error(transparent)]
    Selector(#[from] crate::sel::SelectorError),

    /// The kind has no such operation (a `delete` of a kind that cannot be deleted, a namespaced
    /// call of a cluster-scoped kind...).
    #[error("{kind} ({api_version}): {message}")]
    NoOperation {
        /// The kind.
        kind: String,
        /// Its apiVersion.
        api_version: String,
        /// Which operation is missing.
        message: String,
    },

    /// The verb needs something the call or object did not give (a name, a kind).
    #[error("{verb}: {message}")]
    Missing {
        /// The verb.
        verb: &'static str,
        /// What is missing.
        message: String,
    },

    /// Text or a value given as an object is not one (bad JSON/YAML, no `kind`), with where.
    #[error("{what}: {message}")]
    Invalid {
        /// What was read (`put text`, `object value`, an apiVersion and kind).
        what: String,
        /// What is wrong, with where (line, column, member) when the parser says.
        message: String,
    },

    /// An object asked for as a type it is not.
    #[error("{api_version} {kind} is not a {expected}")]
    WrongType {
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
        /// The Rust type asked for.
        expected: &'static str,
    },

    /// The call took longer than the context's (or [`crate::Context::with_timeout`]'s) timeout.
    #[error("{verb} {kind}: no answer within {after:?}")]
    Timeout {
        /// The verb (`get`, `list`...).
        verb: &'static str,
        /// The kind it was called on.
        kind: String,
        /// The timeout.
        after: std::time::Duration,
    },

    /// exec, attach or port-forward could not run on a pod: the handshake was refused (no such
    /// pod or container, forbidden) or the session broke. A non-zero exit is no error.
    #[error("{verb} pod {namespace}/{pod}: {source}")]
    Pod {
        /// `exec`, `attach` or `port_forward`.
        verb: &'static str,
        /// The pod's namespace.
        namespace: String,
        /// The pod.
        pod: String,
        /// What failed.
        #[source]
        source: Box<kuber_api::Error>,
    },

    /// A local address to listen on (port-forward) could not be bound.
    #[error("port_forward: cannot listen on {address}: {source}")]
    Listen {
        /// The address as given.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn did_you_mean(close: &[String]) -> String {
    match close {
        [] => String::new(),
        names => format!(" (did you mean {}?)", names.join(", ")),
    }
}

fn served_instead(served: &[String]) -> String {
    if served.is_empty() {
        String::new()
    } else {
        format!("; it serves {}", served.join(", "))
    }
}

/// `Result` with kuber's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn api(&self) -> Option<&kuber_api::Error> {
        match self {
            Error::Api(e) => Some(e),
            Error::Pod { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The `Status` the server answered with, for a non-2xx answer that carried one.
    pub fn status(&self) -> Option<&Status> {
        self.api()?.api()?.status.as_ref()
    }

    /// The HTTP status code of a non-2xx answer.
    pub fn status_code(&self) -> Option<u16> {
        self.api()?.status_code()
    }

    /// The `Status` reason (`NotFound`, `AlreadyExists`, `Conflict`, ...).
    pub fn reason(&self) -> Option<&str> {
        self.api()?.reason()
    }

    /// 404: no such object (or collection).
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_not_found)
    }

    /// 409 Conflict: a replace with a stale resourceVersion, an apply conflict.
    pub fn is_conflict(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_conflict)
    }

    /// 409 AlreadyExists: a create of a name that is taken.
    pub fn is_already_exists(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_already_exists)
    }

    /// 403.
    pub fn is_forbidden(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_forbidden)
    }

    /// 401.
    pub fn is_unauthorized(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_unauthorized)
    }

    /// 410 Gone: a resourceVersion or continue token older than the server keeps.
    pub fn is_gone(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_gone)
    }

    /// 422: the server refused the object.
    pub fn is_invalid(&self) -> bool {
        self.api().is_some_and(kuber_api::Error::is_invalid)
    }

    /// 429.
    pub fn is_too_many_requests(&self) -> bool {
        self.api()
            .is_some_and(kuber_api::Error::is_too_many_requests)
    }

    /// The context's timeout, or the client's request timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
            || self.api().is_some_and(kuber_api::Error::is_timeout)
    }
}

/// Up to three names closest to `name` (edit distance at most a third of its length, or a
/// name containing it), best first.
pub(crate) fn close_names<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = name.to_ascii_lowercase();
    let limit = (wanted.len() / 3).max(1);
    let mut scored: Vec<(usize, String)> = known
        .filter_map(|k| {
            let lower = k.to_ascii_lowercase();
            let d = distance(&wanted, &lower);
            let contains = wanted.len() >= 3 && lower.contains(&wanted);
            (d <= limit || contains)
                .then(|| (if contains { d.min(limit) } else { d }, k.to_owned()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// Levenshtein distance over bytes (kind names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_rank_by_distance() {
        let known = ["Deployment", "DaemonSet", "deployments", "Pod", "Endpoints"];
        assert_eq!(
            close_names("Deploymnet", known.iter().copied()),
            ["Deployment", "deployments"]
        );
        assert_eq!(close_names("Podd", known.iter().copied()), ["Pod"]);
        assert!(close_names("Zebra", known.iter().copied()).is_empty());
        let err = Error::UnknownKind {
            name: "Deploymnet".into(),
            close: close_names("Deploymnet", known.iter().copied()),
        };
        assert_eq!(
            err.to_string(),
            "unknown kind `Deploymnet` (did you mean Deployment, deployments?)"
        );
    }
}
