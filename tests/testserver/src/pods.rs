//! The pod subresources a client posts to: `eviction` (the pod is deleted at once: nothing here
//! runs it, so there is no graceful stop to wait for) and `binding` (what the scheduler posts);
//! and `log`, answered by the test's closure.

use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::controls::{LogHandler, LogOptions, LogOutput, PodRef};
use crate::options;
use crate::request::Parsed;
use crate::response::{self, Body};
use crate::status::{self, Failure};
use crate::store::{Store, Target};

fn success() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

fn body_name<'a>(body: &'a Value, what: &str) -> Result<&'a str, Failure> {
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(status::bad_request(format!(
            "name in URL does not match name in {what} object"
        )));
    }
    Ok(name)
}

/// POST `pods/{name}/{sub}` for `eviction` and `binding`; `None` for other subresources.
pub fn post(
    store: &Store,
    sub: &str,
    ns: &str,
    name: &str,
    body: &Value,
    dry_run: bool,
) -> Option<Result<Value, Failure>> {
    let pods = kuber_api::KINDS
        .iter()
        .find(|k| k.group.is_empty() && k.plural == "pods")?;
    Some(match sub {
        "eviction" => (|| {
            if body_name(body, "Eviction")? != name {
                return Err(status::bad_request(
                    "name in URL does not match name in Eviction object".into(),
                ));
            }
            let options = options::eviction_options(pods, body.get("deleteOptions"), dry_run)?;
            store.delete_with(pods, Some(ns), name, &options)?;
            Ok(success())
        })(),
        "binding" => (|| {
            if body_name(body, "Binding")? != name {
                return Err(status::bad_request(
                    "name in URL does not match name in Binding object".into(),
                ));
            }
            let node = body
                .pointer("/target/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut pod = store.get(pods, Some(ns), name)?;
            if let Some(bound) = pod
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                return Err(status::failure(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{bound}\""
                    ),
                    Some(json!({"name": name, "kind": "pods/binding"})),
                ));
            }
            pod["spec"]["nodeName"] = json!(node);
            store.replace(pods, Some(ns), name, pod, Target::Main, dry_run)?;
            Ok(success())
        })(),
        _ => return None,
    })
}

/// The pod a log, exec or port-forward request is for (404 when there is none).
pub(crate) fn pod(store: &Store, namespace: &str, name: &str) -> Result<Value, Failure> {
    let kind = kuber_api::KINDS
        .iter()
        .find(|k| k.group.is_empty() && k.version == "v1" && k.plural == "pods")
        .ok_or_else(status::no_route)?;
    Ok(store.get(kind, Some(namespace), name)?)
}

/// The pod's container a log or exec request is for: the one named, else the only one.
pub(crate) fn container_of(
    store: &Store,
    namespace: &str,
    pod: &str,
    asked: Option<&str>,
) -> Result<String, Failure> {
    let object = self::pod(store, namespace, pod)?;
    let names = |key: &str| -> Vec<String> {
        object
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let containers = names("containers");
    match asked {
        Some(c)
            if containers.iter().any(|n| n == c)
                || names("initContainers").contains(&c.to_owned()) =>
        {
            Ok(c.to_owned())
        }
        Some(c) => Err(status::bad_request(format!(
            "container {c} is not valid for pod {pod}"
        ))),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => Err(status::bad_request(format!(
            "a container name must be specified for pod {pod}, choose one of: [{}]",
            containers.join(" ")
        ))),
    }
}

/// `GET pods/NAME/log`, answered by the test's closure.
pub(crate) fn logs(store: &Store, handler: Option<LogHandler>, req: &Parsed) -> Response<Body> {
    let (info, q) = (&req.info, &req.query);
    let namespace = info.namespace.clone().unwrap_or_default();
    let pod = info.name.clone().unwrap_or_default();
    let container = match container_of(store, &namespace, &pod, q.get("container")) {
        Ok(c) => c,
        Err(f) => return response::fail(f),
    };
    let flag = |k: &str| q.flag(k);
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let options = LogOptions {
        follow: flag("follow"),
        previous: flag("previous"),
        timestamps: flag("timestamps"),
        tail_lines: number("tailLines"),
        since_seconds: number("sinceSeconds"),
        limit_bytes: number("limitBytes"),
    };
    let Some(handler) = handler else {
        // No kubelet runs the pod. A pod on no node has no log yet: the real server answers
        // 204; one bound to a node is what a real cluster says of a container never started.
        let scheduled = self::pod(store, &namespace, &pod)
            .ok()
            .and_then(|p| {
                p.pointer("/spec/nodeName")
                    .and_then(Value::as_str)
                    .map(str::len)
            })
            .is_some_and(|len| len > 0);
        if !scheduled {
            let mut r = Response::new(response::full(Bytes::new()));
            *r.status_mut() = hyper::StatusCode::NO_CONTENT;
            return r;
        }
        return response::fail(status::bad_request(format!(
            "container \"{container}\" in pod \"{pod}\" is waiting to start: ContainerCreating"
        )));
    };
    let pod_ref = PodRef {
        namespace,
        name: pod,
    };
    let body: Body = match handler(&pod_ref, &container, &options) {
        LogOutput::Text(text) => response::full(text),
        LogOutput::Stream(chunks) => StreamBody::new(
            chunks.map(|c| Ok::<_, response::BoxError>(Frame::data(Bytes::from(c)))),
        )
        .boxed_unsync(),
    };
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}
