//! The pod subresources a client posts to: `eviction` (the pod is deleted at once: nothing here
//! runs it, so there is no graceful stop to wait for) and `binding` (what the scheduler posts).

use serde_json::{Value, json};

use crate::options::DeleteOptions;
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
            let options = DeleteOptions::of_eviction(pods, body.get("deleteOptions"), dry_run)?;
            store.delete_with(
                pods,
                Some(ns),
                name,
                options.precondition_rv.as_deref(),
                options.precondition_uid.as_deref(),
                options.dry_run,
                options.policy,
            )?;
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
