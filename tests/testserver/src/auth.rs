//! Who sent a request (bearer tokens and client certificates this server handed out) and the
//! rules that forbid a user a verb on a resource, answered 401 and 403 as the real server does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use serde_json::json;

use crate::request::{Match, RequestInfo};
use crate::status::{self, Failure};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Auth {
    /// Requests without credentials get 401 (on with TLS).
    pub required: AtomicBool,
    tokens: Mutex<HashMap<String, User>>,
    /// Client certificates this server issued, by their DER bytes (the CA's key never leaves the
    /// server, so a verified certificate is one of these).
    certs: Mutex<HashMap<Vec<u8>, User>>,
    denied: Mutex<Vec<(String, Match)>>,
}

fn unauthorized() -> Failure {
    status::failure(401, "Unauthorized", "Unauthorized".into(), None)
}

impl Auth {
    /// A new bearer token for `user` (member of `groups`).
    pub fn token(&self, user: &str, groups: &[&str]) -> String {
        let mut token = String::from("kuber-testserver-");
        for _ in 0..2 {
            token.push_str(&format!("{:016x}", kuber_api::random::u64()));
        }
        lock(&self.tokens).insert(token.clone(), user_of(user, groups));
        token
    }

    pub fn add_cert(&self, der: Vec<u8>, user: &str, groups: &[&str]) {
        lock(&self.certs).insert(der, user_of(user, groups));
    }

    /// The user of a verified client certificate.
    pub fn cert_user(&self, der: &[u8]) -> Option<User> {
        lock(&self.certs).get(der).cloned()
    }

    pub fn deny(&self, user: &str, matching: Match) {
        lock(&self.denied).push((user.to_owned(), matching));
    }

    pub fn clear_denials(&self) {
        lock(&self.denied).clear();
    }

    /// The user of a request: its client certificate, else its bearer token. `Ok(None)`: no
    /// credentials, accepted while authentication is off.
    pub fn authenticate(
        &self,
        peer: Option<User>,
        headers: &HeaderMap,
    ) -> Result<Option<User>, Failure> {
        if let Some(user) = peer {
            return Ok(Some(user));
        }
        if let Some(value) = headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(unauthorized)?;
            return lock(&self.tokens)
                .get(token)
                .cloned()
                .map(Some)
                .ok_or_else(unauthorized);
        }
        if self.required.load(Ordering::Relaxed) {
            return Err(unauthorized());
        }
        Ok(None)
    }

    /// 403 when a rule forbids this user the request. Only resource requests are checked.
    pub fn authorize(&self, user: Option<&User>, info: &RequestInfo) -> Option<Failure> {
        let user = user?;
        let resource = info.resource.as_deref()?;
        let denied = lock(&self.denied)
            .iter()
            .any(|(who, m)| *who == user.name && m.matches(info));
        denied.then(|| forbidden(&user.name, resource, info))
    }
}

fn user_of(name: &str, groups: &[&str]) -> User {
    User {
        name: name.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

/// The real server's 403: `pods "x" is forbidden: User "alice" cannot get resource "pods" in API
/// group "" in the namespace "ns"`.
fn forbidden(user: &str, resource: &str, info: &RequestInfo) -> Failure {
    let full = match &info.subresource {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };
    let scope = match &info.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    let why = format!(
        "User \"{user}\" cannot {} resource \"{full}\" in API group \"{}\" {scope}",
        info.verb, info.group
    );
    let qualified = status::qualified(&info.group, resource);
    let name = info.name.as_deref().unwrap_or("");
    let message = if name.is_empty() {
        format!("{qualified} is forbidden: {why}")
    } else {
        format!("{qualified} \"{name}\" is forbidden: {why}")
    };
    let mut details = json!({"kind": resource});
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    if !info.group.is_empty() {
        details["group"] = json!(info.group);
    }
    status::failure(403, "Forbidden", message, Some(details))
}
