//! `kubectl wait` as a verb: one object watched until a condition holds, it is deleted, or a
//! timeout passes.
//!
//! ```no_run
//! # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
//! use std::time::Duration;
//! use kuber::models::api::apps::v1::Deployment;
//! use kuber::models::api::core::v1::Pod;
//!
//! // kubectl wait --for=condition=Available deploy/web --timeout=60s
//! ctx.wait_for::<Deployment>("web").condition("Available").timeout(Duration::from_secs(60)).await?;
//! // kubectl wait --for=jsonpath='{.status.phase}'=Running pod/nginx
//! ctx.wait_for::<Pod>("nginx").jsonpath("{.status.phase}", Some("Running")).await?;
//! // kubectl wait --for=delete pod/nginx
//! ctx.wait_for::<Pod>("nginx").deleted().await?;
//! # Ok(()) }
//! ```

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::Value;

use crate::watch::{Event, Watch, Watchable};
use crate::{BoxFuture, Context, Error, Result};

/// kubectl's default `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What makes a wait end.
enum Until<K> {
    /// `status.conditions[type=NAME].status == VALUE`.
    Condition { name: String, value: String },
    /// The value at a path, present (any value) or equal to the text given.
    Path {
        path: Vec<Step>,
        expected: Option<String>,
    },
    /// A predicate of the caller's.
    Predicate(Box<dyn FnMut(&K) -> bool + Send>),
    /// The object is gone.
    Deleted,
}

/// One step of a path: a member or an index.
#[derive(Debug, PartialEq)]
enum Step {
    Member(String),
    Index(usize),
}

/// [`Context::wait_for`]: the builder of a wait.
#[must_use = "a wait does nothing until awaited"]
pub struct WaitFor<K> {
    watch: Watch<K>,
    name: String,
    kind: String,
    timeout: Duration,
    until: Result<Until<K>>,
}

impl Context {
    /// Waits until the object `name` of kind `K` meets what the builder says
    /// ([`WaitFor::condition`] by default: `Ready`); answers the object as it was then (`None`
    /// after [`WaitFor::deleted`]). See [the module](crate::wait).
    pub fn wait_for<K>(&self, name: &str) -> WaitFor<K>
    where
        K: kuber_models::Resource + Watchable + Serialize,
    {
        WaitFor {
            watch: self.watch::<K>().name(name),
            name: name.to_owned(),
            kind: K::KIND.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            until: Ok(Until::Condition {
                name: "Ready".into(),
                value: "True".into(),
            }),
        }
    }
}

impl<K: Watchable + Serialize> WaitFor<K> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.watch = self.watch.namespace(namespace);
        self
    }

    /// How long to wait before [`Error::Timeout`] (30 s by default, as kubectl).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `--for=condition=NAME` (status `True`), or `NAME=VALUE` for another status
    /// (`Ready=False`).
    pub fn condition(mut self, condition: &str) -> Self {
        let (name, value) = condition.split_once('=').unwrap_or((condition, "True"));
        self.until = Ok(Until::Condition {
            name: name.to_owned(),
            value: value.to_owned(),
        });
        self
    }

    /// `--for=jsonpath=PATH[=VALUE]`: the value at `path` (`{.status.phase}`,
    /// `.status.containerStatuses[0].ready`) exists, or equals `expected` as kubectl prints it
    /// (strings as they are, other values as JSON).
    pub fn jsonpath(mut self, path: &str, expected: Option<&str>) -> Self {
        self.until = parse_path(path).map(|path| Until::Path {
            path,
            expected: expected.map(str::to_owned),
        });
        self
    }

    /// Until `predicate` answers `true` for the object.
    pub fn until(mut self, predicate: impl FnMut(&K) -> bool + Send + 'static) -> Self {
        self.until = Ok(Until::Predicate(Box::new(predicate)));
        self
    }

    /// `--for=delete`: until the object is gone (at once if it does not exist).
    pub fn deleted(mut self) -> Self {
        self.until = Ok(Until::Deleted);
        self
    }

    async fn run(self) -> Result<Option<K>> {
        let WaitFor {
            watch,
            name,
            kind,
            timeout,
            until,
        } = self;
        let mut until = until?;
        let outcome = tokio::time::timeout(timeout, async {
            let mut events = std::pin::pin!(watch.stream());
            while let Some(event) = events.next().await {
                if let Some(done) = step(&mut until, event?) {
                    return Ok(done);
                }
            }
            Err(Error::Missing {
                verb: "wait",
                message: format!("the watch of {kind} {name} ended"),
            })
        })
        .await;
        outcome.unwrap_or(Err(Error::Timeout {
            verb: "wait",
            kind,
            after: timeout,
        }))
    }
}

/// What one event decides: `Some` ends the wait with the object (or `None`: deleted).
fn step<K: Serialize>(until: &mut Until<K>, event: Event<K>) -> Option<Option<K>> {
    let object = match event {
        Event::Listed { mut items, .. } => match items.pop() {
            Some(object) => object,
            None => return matches!(until, Until::Deleted).then_some(None),
        },
        Event::Added(object) | Event::Modified(object) => object,
        Event::Deleted(_) => return matches!(until, Until::Deleted).then_some(None),
        Event::Bookmark { .. } => return None,
    };
    meets(until, &object).then_some(Some(object))
}

fn meets<K: Serialize>(until: &mut Until<K>, object: &K) -> bool {
    let value = || serde_json::to_value(object).unwrap_or(Value::Null);
    match until {
        Until::Deleted => false,
        Until::Predicate(predicate) => predicate(object),
        Until::Condition { name, value: want } => {
            let value = value();
            let conditions = value["status"]["conditions"].as_array().cloned();
            conditions.unwrap_or_default().iter().any(|c| {
                c["type"].as_str() == Some(name.as_str())
                    && c["status"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(want))
            })
        }
        Until::Path { path, expected } => {
            let value = value();
            match (at(&value, path), expected) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(found), Some(want)) => printed(found) == *want,
            }
        }
    }
}

fn at<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Member(name) => v.get(name),
        Step::Index(i) => v.get(i),
    })
}

/// A value as kubectl's jsonpath prints it: strings bare, the rest as JSON.
fn printed(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `{.a.b[0].c}` or `.a.b[0].c` into steps; an error names what is not understood.
fn parse_path(text: &str) -> Result<Vec<Step>> {
    let invalid = |message: String| Error::Invalid {
        what: format!("jsonpath `{text}`"),
        message,
    };
    let inner = text.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(inner);
    let inner = inner
        .strip_prefix('.')
        .ok_or_else(|| invalid("a path starts with `.`".into()))?;
    let mut steps = Vec::new();
    for part in inner.split('.') {
        let (member, mut rest) = part.split_once('[').map_or((part, ""), |(m, r)| (m, r));
        if member.is_empty() {
            return Err(invalid("an empty member name".into()));
        }
        steps.push(Step::Member(member.to_owned()));
        while !rest.is_empty() {
            let (index, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid(format!("`[` without `]` in `{part}`")))?;
            let index = index.parse().map_err(|_| {
                invalid(format!(
                    "`[{index}]`: only numeric indices are understood (no filters)"
                ))
            })?;
            steps.push(Step::Index(index));
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return Err(invalid(format!("`{after}` after an index in `{part}`")));
            }
        }
    }
    Ok(steps)
}

impl<K: Watchable + Serialize> IntoFuture for WaitFor<K> {
    type Output = Result<Option<K>>;
    type IntoFuture = BoxFuture<'static, Option<K>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_kubectl_writes_them() {
        let steps = parse_path("{.status.containerStatuses[0].ready}").unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Member("status".into()),
                Step::Member("containerStatuses".into()),
                Step::Index(0),
                Step::Member("ready".into()),
            ]
        );
        assert_eq!(parse_path(".a[1][2]").unwrap().len(), 3);
        for bad in ["status.phase", "{.a..b}", ".a[x]", ".a[0", ".a[0]b"] {
            let e = parse_path(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn conditions_paths_and_deletion_decide_as_kubectl() {
        let pod = serde_json::json!({
            "status": {"phase": "Running", "restarts": 2,
                       "conditions": [{"type": "Ready", "status": "False"}]}
        });
        let mut ready: Until<Value> = Until::Condition {
            name: "Ready".into(),
            value: "True".into(),
        };
        assert!(!meets(&mut ready, &pod));
        let mut not_ready: Until<Value> = Until::Condition {
            name: "Ready".into(),
            value: "false".into(),
        };
        assert!(meets(&mut not_ready, &pod));
        let path = |p: &str, want: Option<&str>| Until::<Value>::Path {
            path: parse_path(p).unwrap(),
            expected: want.map(str::to_owned),
        };
        assert!(meets(&mut path(".status.phase", Some("Running")), &pod));
        assert!(!meets(&mut path(".status.phase", Some("Pending")), &pod));
        assert!(meets(&mut path(".status.restarts", Some("2")), &pod));
        assert!(meets(&mut path(".status.phase", None), &pod));
        assert!(!meets(&mut path(".status.podIP", None), &pod));

        let mut deleted: Until<Value> = Until::Deleted;
        assert_eq!(step(&mut deleted, Event::Modified(pod.clone())), None);
        assert_eq!(step(&mut deleted, Event::Deleted(pod.clone())), Some(None));
        let listed_empty = Event::Listed {
            items: Vec::new(),
            resource_version: "1".into(),
            relist: false,
        };
        assert_eq!(step(&mut deleted, listed_empty), Some(None));
    }
}
