//! The recorded scenarios, each written as a user of kuber-api would write it: typed bodies, the
//! generated operation for each call, a check that the typed answer makes sense.
//!
//! A scenario takes from the recording only what its author knew anyway: the objects it sends
//! (decoded from the recorded request bodies into the model types), and the namespace of each
//! call. Everything else (query parameters, when to stop polling, label selectors) comes from the
//! code and the answers, so a wrong call shows up as a mismatch at the [`ReplayServer`].
//!
//! [`run_file`] plays one replay file: a server with its exchanges, a client pointed at it, the
//! scenario named after the file. An exchange is reproduced when the server saw the request it
//! recorded and the scenario handled the answer as expected.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt as _;
use kuber_api::config::Config;
use kuber_api::{
    ApiextensionsV1Api, ApisApi, AppsV1Api, BatchV1Api, Client, CoreV1Api, DeleteCollectionParams,
    DeleteParams, Deleted, Error, GetParams, ListParams, Operation, Patch, PatchParams, Request,
    WatchStream, WriteParams,
};
use kuber_models::api::apps::v1::Deployment;
use kuber_models::api::batch::v1::Job;
use kuber_models::api::core::v1::Pod;
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kuber_models::{DynamicList, DynamicObject, WatchEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::replay::{self, Exchange};
use crate::replay_server::ReplayServer;

/// The scenario of each replay file name, in the order they are listed.
pub const SCENARIOS: &[&str] = &[
    "api_versions-list",
    "custom_resource_definition-test",
    "deployment-list",
    "job-create",
    "patch-deployment",
    "pod-list",
    "watch_event-watch_pods",
    "watch_event-watch_pods_without_initial_events",
];

/// A whole scenario may take this long (watches included) before it is called stuck.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the scenario called `name` (a replay file's stem).
pub async fn run(name: &str, ctx: &mut Ctx) -> Result<(), String> {
    match name {
        "api_versions-list" => api_versions_list(ctx).await,
        "custom_resource_definition-test" => custom_resource_definition_test(ctx).await,
        "deployment-list" => deployment_list(ctx).await,
        "job-create" => job_create(ctx).await,
        "patch-deployment" => patch_deployment(ctx).await,
        "pod-list" => pod_list(ctx).await,
        "watch_event-watch_pods" => watch_event_watch_pods(ctx).await,
        "watch_event-watch_pods_without_initial_events" => {
            watch_event_watch_pods_without_initial_events(ctx).await
        }
        other => Err(format!("no scenario is written for `{other}`")),
    }
}

/// What a scenario works with: the client, the recorded exchanges (for request bodies and
/// namespaces) and the verdict on each answer.
pub struct Ctx {
    pub client: Client,
    exchanges: Vec<Exchange>,
    cursor: usize,
    verdicts: Vec<Option<Result<(), String>>>,
    /// Pause between polls of something that is still changing.
    pub poll: Duration,
}

/// The recorded exchange the next call is meant to reproduce.
#[derive(Debug, Clone)]
pub struct Step {
    pub index: usize,
    pub exchange: Exchange,
}

impl Ctx {
    pub fn new(client: Client, exchanges: Vec<Exchange>) -> Ctx {
        let verdicts = vec![None; exchanges.len()];
        Ctx {
            client,
            exchanges,
            cursor: 0,
            verdicts,
            poll: Duration::from_millis(5),
        }
    }

    /// The next recorded exchange; an error when the scenario makes more calls than recorded.
    pub fn step(&mut self) -> Result<Step, String> {
        let exchange = self.exchanges.get(self.cursor).cloned().ok_or_else(|| {
            format!(
                "the scenario makes more calls than the {} recorded",
                self.exchanges.len()
            )
        })?;
        let step = Step {
            index: self.cursor,
            exchange,
        };
        self.cursor += 1;
        Ok(step)
    }

    /// Records how the answer to `step` was handled.
    pub fn record(&mut self, step: &Step, verdict: Result<(), String>) {
        self.verdicts[step.index] = Some(verdict);
    }

    /// Records a call that should succeed: its error, or what `check` says of its value, which is
    /// handed back when the call succeeded.
    pub fn settle<T>(
        &mut self,
        step: &Step,
        result: Result<T, Error>,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                self.record(step, check(&value));
                Some(value)
            }
            Err(e) => {
                self.record(step, Err(format!("call failed: {e}")));
                None
            }
        }
    }

    /// Verdicts in file order; `None` where the scenario never got to an exchange.
    pub fn verdicts(&self) -> &[Option<Result<(), String>>] {
        &self.verdicts
    }
}

impl Step {
    /// The recorded request body as a `T`, as the scenario's author built it.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.exchange.request_body).map_err(|e| {
            format!(
                "#{}: the recorded request body is not a {}: {e}",
                self.index,
                std::any::type_name::<T>()
            )
        })
    }

    /// The recorded response body as JSON, for checks that compare with what the server said.
    pub fn response(&self) -> Result<Value, String> {
        serde_json::from_str(&self.exchange.response_body)
            .map_err(|e| format!("#{}: the recorded response is not JSON: {e}", self.index))
    }

    /// The `{namespace}` of the recorded URL.
    pub fn namespace(&self) -> Result<String, String> {
        let path = self.path();
        let mut segments = path.split('/');
        segments
            .by_ref()
            .find(|s| *s == "namespaces")
            .and_then(|_| segments.next())
            .map(str::to_owned)
            .ok_or_else(|| format!("#{}: no namespace in {}", self.index, path))
    }

    fn path(&self) -> &str {
        let url = &self.exchange.request_url;
        url.split_once('?').map_or(url.as_str(), |(p, _)| p)
    }

    /// Lines of a recorded watch body: one event each.
    pub fn recorded_events(&self) -> Vec<Value> {
        self.exchange
            .response_body
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

fn name_of(meta: Option<&ObjectMeta>) -> &str {
    meta.and_then(|m| m.name.as_deref()).unwrap_or("")
}

fn named(meta: Option<&ObjectMeta>, want: &str) -> Result<(), String> {
    let got = name_of(meta);
    ensure(got == want, || {
        format!("answer names {got:?}, expected {want:?}")
    })
}

/// A delete answers with the object (still being deleted) or a `Status`: whichever the server
/// recorded is what the typed result must be.
fn deleted_as_recorded<T>(step: &Step, deleted: &Deleted<T>) -> Result<(), String> {
    let recorded = step.response()?;
    let recorded_status = recorded["kind"] == "Status";
    match deleted {
        Deleted::Status(s) if recorded_status => {
            ensure(s.status.as_deref() == Some("Success"), || {
                format!("delete status {:?}, expected Success", s.status)
            })
        }
        Deleted::Object(_) if !recorded_status => Ok(()),
        Deleted::Status(_) => Err(format!(
            "decoded as Deleted::Status, but the server sent a {}",
            recorded["kind"]
        )),
        Deleted::Object(_) => {
            Err("decoded as Deleted::Object, but the server sent a Status".into())
        }
    }
}

/// Reads events until `stop` says the last one has come or the server ends the stream.
async fn read_events<T: DeserializeOwned>(
    mut stream: WatchStream<T>,
    mut stop: impl FnMut(&WatchEvent<T>) -> bool,
) -> Result<Vec<WatchEvent<T>>, String> {
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        let event =
            event.map_err(|e| format!("watch failed after {} events: {e}", events.len()))?;
        let last = stop(&event);
        events.push(event);
        if last {
            break;
        }
    }
    Ok(events)
}

fn event_types<T>(events: &[WatchEvent<T>]) -> Vec<&'static str> {
    events.iter().map(WatchEvent::type_name).collect()
}

fn recorded_types(step: &Step) -> Vec<String> {
    step.recorded_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// `GET /apis`: the API groups the server serves.
pub async fn api_versions_list(ctx: &mut Ctx) -> Result<(), String> {
    let apis = ApisApi::new(ctx.client.clone());
    let step = ctx.step()?;
    let result = apis.get_api_versions().await;
    ctx.settle(&step, result, |list| {
        ensure(list.groups.iter().any(|g| g.name == "apps"), || {
            "no `apps` group in the answer".into()
        })?;
        ensure(list.groups.iter().all(|g| !g.versions.is_empty()), || {
            "a group without versions".into()
        })
    });
    Ok(())
}

/// The pods of a namespace.
pub async fn pod_list(ctx: &mut Ctx) -> Result<(), String> {
    let core = CoreV1Api::new(ctx.client.clone());
    let step = ctx.step()?;
    let namespace = step.namespace()?;
    let recorded = step.response()?["items"].as_array().map_or(0, Vec::len);
    let result = core
        .list_namespaced_pod(&namespace, &ListParams::default())
        .await;
    ctx.settle(&step, result, |list| {
        ensure(list.items.len() == recorded && recorded > 0, || {
            format!("{} pods, the server sent {recorded}", list.items.len())
        })?;
        ensure(
            list.items.iter().all(|p| {
                p.metadata.as_ref().and_then(|m| m.namespace.as_deref()) == Some(&namespace)
            }),
            || format!("a pod outside {namespace}"),
        )
    });
    Ok(())
}

/// The deployments of a namespace.
pub async fn deployment_list(ctx: &mut Ctx) -> Result<(), String> {
    let apps = AppsV1Api::new(ctx.client.clone());
    let step = ctx.step()?;
    let namespace = step.namespace()?;
    let recorded = step.response()?["items"].as_array().map_or(0, Vec::len);
    let result = apps
        .list_namespaced_deployment(&namespace, &ListParams::default())
        .await;
    ctx.settle(&step, result, |list| {
        ensure(list.items.len() == recorded && recorded > 0, || {
            format!(
                "{} deployments, the server sent {recorded}",
                list.items.len()
            )
        })?;
        ensure(list.items.iter().all(|d| d.spec.is_some()), || {
            "a deployment without spec".into()
        })
    });
    Ok(())
}

/// A job that fails (`exit 5`, no retries): create it, poll it until it has failed, find its pod,
/// delete the job and its pods.
pub async fn job_create(ctx: &mut Ctx) -> Result<(), String> {
    let batch = BatchV1Api::new(ctx.client.clone());
    let core = CoreV1Api::new(ctx.client.clone());

    let step = ctx.step()?;
    let job: Job = step.body()?;
    let namespace = step.namespace()?;
    let name = name_of(job.metadata.as_ref()).to_owned();
    let result = batch
        .create_namespaced_job(&namespace, &job, &WriteParams::default())
        .await;
    ctx.settle(&step, result, |created| {
        named(created.metadata.as_ref(), &name)
    })
    .ok_or("the job was not created")?;

    // Poll until the job has a terminal condition.
    let finished = |job: &Job| {
        job.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.status == "True" && matches!(c.type_.as_str(), "Failed" | "Complete"))
            .map(|c| c.type_.clone())
    };
    loop {
        let step = ctx.step()?;
        let result = batch
            .read_namespaced_job(&name, &namespace, &GetParams::default())
            .await;
        let job = ctx
            .settle(&step, result, |job| {
                named(job.metadata.as_ref(), &name)?;
                let failed = job.status.as_ref().and_then(|s| s.failed);
                match finished(job) {
                    Some(condition) if condition != "Failed" || failed != Some(1) => Err(format!(
                        "job ended {condition} with failed={failed:?}; it exits 5 with no retries"
                    )),
                    _ => Ok(()),
                }
            })
            .ok_or("reading the job failed")?;
        if finished(&job).is_some() {
            break;
        }
        tokio::time::sleep(ctx.poll).await;
    }

    // Its pod: every pod of the namespace, those labelled with the job's name.
    let step = ctx.step()?;
    let result = core
        .list_namespaced_pod(&namespace, &ListParams::default())
        .await;
    ctx.settle(&step, result, |pods| {
        let mine: Vec<_> = pods
            .items
            .iter()
            .filter(|p| {
                let labels = p.metadata.as_ref().and_then(|m| m.labels.as_ref());
                labels.and_then(|l| l.get("job-name")) == Some(&name)
            })
            .collect();
        ensure(mine.len() == 1, || {
            format!("{} pods of the job, expected 1", mine.len())
        })?;
        let exit_code = mine[0]
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.first())
            .and_then(|c| c.state.as_ref())
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code);
        ensure(exit_code == Some(5), || {
            format!("the pod's container exit code is {exit_code:?}, expected 5")
        })
    });

    let step = ctx.step()?;
    let result = batch
        .delete_namespaced_job(&name, &namespace, None, &DeleteParams::default())
        .await;
    ctx.settle(&step, result, |deleted| deleted_as_recorded(&step, deleted));

    // Deleting a job leaves its pods; they go by the label the job controller gives them.
    let step = ctx.step()?;
    let params = DeleteCollectionParams {
        label_selector: Some(format!("job-name={name}")),
        ..Default::default()
    };
    let result = core
        .delete_collection_namespaced_pod(&namespace, None, &params)
        .await;
    ctx.settle(&step, result, |deleted| {
        deleted_as_recorded(&step, deleted)?;
        let count = match deleted {
            Deleted::Object(list) => list.items.len(),
            Deleted::Status(_) => return Ok(()),
        };
        ensure(count == 1, || format!("{count} pods deleted, expected 1"))
    });
    Ok(())
}

/// The image a patch sets on the first container (the scenarios' patches are all `Value`s).
fn patched_image(patch: &Patch) -> Option<&str> {
    match patch {
        Patch::Json(ops) => ops.as_array()?.last()?.get("value")?.as_str(),
        Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => v
            .pointer("/spec/template/spec/containers/0/image")?
            .as_str(),
        Patch::ApplyEncoded(_) => None,
    }
}

fn first_image(deployment: &Deployment) -> Option<&str> {
    deployment
        .spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .as_deref()
}

/// A deployment's image changed with each kind of patch, then the deployment and its pods deleted.
pub async fn patch_deployment(ctx: &mut Ctx) -> Result<(), String> {
    let apps = AppsV1Api::new(ctx.client.clone());
    let core = CoreV1Api::new(ctx.client.clone());

    let step = ctx.step()?;
    let deployment: Deployment = step.body()?;
    let namespace = step.namespace()?;
    let name = name_of(deployment.metadata.as_ref()).to_owned();
    let result = apps
        .create_namespaced_deployment(&namespace, &deployment, &WriteParams::default())
        .await;
    ctx.settle(&step, result, |created| {
        named(created.metadata.as_ref(), &name)?;
        ensure(first_image(created) == first_image(&deployment), || {
            format!("created with image {:?}", first_image(created))
        })
    })
    .ok_or("the deployment was not created")?;

    let patches: [fn(Value) -> Patch; 3] = [Patch::Json, Patch::Merge, Patch::Strategic];
    for make in patches {
        let step = ctx.step()?;
        let patch = make(step.body()?);
        let result = apps
            .patch_namespaced_deployment(&name, &namespace, &patch, &PatchParams::default())
            .await;
        ctx.settle(&step, result, |patched| {
            let want = patched_image(&patch);
            let got = first_image(patched);
            ensure(want.is_some() && got == want, || {
                format!("image {got:?} after the patch, expected {want:?}")
            })
        });
    }

    let step = ctx.step()?;
    let result = apps
        .delete_namespaced_deployment(&name, &namespace, None, &DeleteParams::default())
        .await;
    ctx.settle(&step, result, |deleted| deleted_as_recorded(&step, deleted));

    // The deployment's pods, by the labels of its selector.
    let selector = deployment
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .ok_or("the deployment has no selector labels")?;
    let step = ctx.step()?;
    let params = DeleteCollectionParams {
        label_selector: Some(selector),
        ..Default::default()
    };
    let result = core
        .delete_collection_namespaced_pod(&namespace, None, &params)
        .await;
    ctx.settle(&step, result, |deleted| deleted_as_recorded(&step, deleted));
    Ok(())
}

/// Every event of a pod watch from now (the server sends the existing pods as `ADDED` first).
/// The recorded stream ends by itself; against a live server this would wait for the watch's
/// server-side timeout.
pub async fn watch_event_watch_pods(ctx: &mut Ctx) -> Result<(), String> {
    let core = CoreV1Api::new(ctx.client.clone());
    let step = ctx.step()?;
    let namespace = step.namespace()?;
    let recorded = recorded_types(&step);
    let stream = core
        .watch_namespaced_pod_list(&namespace, &ListParams::default())
        .await;
    let Some(stream) = ctx.settle(&step, stream, |_| Ok(())) else {
        return Ok(());
    };
    let verdict = read_events(stream, |_| false).await.and_then(|events| {
        let types = event_types(&events);
        ensure(types == recorded && !types.is_empty(), || {
            format!("events {types:?}, the server sent {recorded:?}")
        })?;
        ensure(
            events.iter().all(|e| match e {
                WatchEvent::Added(pod) => {
                    pod.metadata.as_ref().and_then(|m| m.namespace.as_deref()) == Some(&namespace)
                }
                _ => false,
            }),
            || format!("an event that is not a pod of {namespace} being added"),
        )
    });
    ctx.record(&step, verdict);
    Ok(())
}

/// A watch that starts with the current pods and says, with a bookmark, when they have all come
/// (what a list-then-watch does in one request).
pub async fn watch_event_watch_pods_without_initial_events(ctx: &mut Ctx) -> Result<(), String> {
    let core = CoreV1Api::new(ctx.client.clone());
    let step = ctx.step()?;
    let namespace = step.namespace()?;
    let recorded = recorded_types(&step);
    let params = ListParams {
        allow_watch_bookmarks: Some(true),
        send_initial_events: Some(true),
        // The combination the API server requires with sendInitialEvents.
        resource_version: Some("0".into()),
        resource_version_match: Some("NotOlderThan".into()),
        ..Default::default()
    };
    let stream = core.watch_namespaced_pod_list(&namespace, &params).await;
    let Some(stream) = ctx.settle(&step, stream, |_| Ok(())) else {
        return Ok(());
    };
    let end_of_initial_events = |event: &WatchEvent<Pod>| match event {
        WatchEvent::Bookmark(pod) => {
            let annotations = pod.metadata.as_ref().and_then(|m| m.annotations.as_ref());
            annotations.and_then(|a| a.get("k8s.io/initial-events-end")) == Some(&"true".into())
        }
        _ => false,
    };
    let verdict = read_events(stream, end_of_initial_events)
        .await
        .and_then(|events| {
            let types = event_types(&events);
            ensure(types == recorded, || {
                format!("events {types:?}, the server sent {recorded:?}")
            })?;
            ensure(events.last().is_some_and(end_of_initial_events), || {
                "no bookmark marking the end of the initial events".into()
            })?;
            let added = types.iter().filter(|t| **t == "ADDED").count();
            ensure(added > 0 && added + 1 == types.len(), || {
                format!("{added} pods before the bookmark in {types:?}")
            })
        });
    ctx.record(&step, verdict);
    Ok(())
}

// Custom resources have no generated API: a user describes the generic operations once, on the
// paths every custom resource has (what the official clients call CustomObjectsApi).

const CUSTOM_COLLECTION: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}";
const CUSTOM_OBJECT: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}";

const fn custom_operation(
    id: &'static str,
    method: &'static str,
    path: &'static str,
    action: &'static str,
) -> Operation {
    Operation {
        action,
        namespaced: true,
        tag: "custom_objects",
        ..Operation::untyped(id, method, path)
    }
}

pub static CREATE_NAMESPACED_CUSTOM_OBJECT: Operation = custom_operation(
    "createNamespacedCustomObject",
    "POST",
    CUSTOM_COLLECTION,
    "post",
);
pub static LIST_NAMESPACED_CUSTOM_OBJECT: Operation = custom_operation(
    "listNamespacedCustomObject",
    "GET",
    CUSTOM_COLLECTION,
    "list",
);
pub static GET_NAMESPACED_CUSTOM_OBJECT: Operation =
    custom_operation("getNamespacedCustomObject", "GET", CUSTOM_OBJECT, "get");
pub static DELETE_NAMESPACED_CUSTOM_OBJECT: Operation = custom_operation(
    "deleteNamespacedCustomObject",
    "DELETE",
    CUSTOM_OBJECT,
    "delete",
);

/// The objects of one custom resource in one namespace.
struct CustomObjects<'a> {
    client: &'a Client,
    group: &'a str,
    version: &'a str,
    plural: &'a str,
    namespace: &'a str,
}

impl CustomObjects<'_> {
    fn collection(&self, operation: &'static Operation) -> Request {
        Request::new(
            operation,
            &[self.group, self.version, self.namespace, self.plural],
        )
    }

    fn object(&self, operation: &'static Operation, name: &str) -> Request {
        Request::new(
            operation,
            &[self.group, self.version, self.namespace, self.plural, name],
        )
    }

    async fn create(&self, object: &DynamicObject) -> Result<DynamicObject, Error> {
        let req = self
            .collection(&CREATE_NAMESPACED_CUSTOM_OBJECT)
            .json(object)?;
        self.client.call(req).await
    }

    async fn list(&self) -> Result<DynamicList, Error> {
        self.client
            .call(self.collection(&LIST_NAMESPACED_CUSTOM_OBJECT))
            .await
    }

    async fn get(&self, name: &str) -> Result<DynamicObject, Error> {
        self.client
            .call(self.object(&GET_NAMESPACED_CUSTOM_OBJECT, name))
            .await
    }

    async fn watch(&self) -> Result<WatchStream<DynamicObject>, Error> {
        let req = self
            .collection(&LIST_NAMESPACED_CUSTOM_OBJECT)
            .set("watch", "true");
        self.client.watch(req).await
    }

    async fn delete(&self, name: &str) -> Result<Deleted<DynamicObject>, Error> {
        self.client
            .call(self.object(&DELETE_NAMESPACED_CUSTOM_OBJECT, name))
            .await
    }
}

fn dynamic_name(object: &DynamicObject) -> &str {
    name_of(object.metadata.as_ref())
}

/// A CRD's life: create it, see its names accepted, create two objects of it, list, get and
/// watch them, delete them, have three invalid objects refused (422), delete the CRD.
pub async fn custom_resource_definition_test(ctx: &mut Ctx) -> Result<(), String> {
    let crds = ApiextensionsV1Api::new(ctx.client.clone());

    let step = ctx.step()?;
    let crd: CustomResourceDefinition = step.body()?;
    let crd_name = name_of(crd.metadata.as_ref()).to_owned();
    let result = crds
        .create_custom_resource_definition(&crd, &WriteParams::default())
        .await;
    ctx.settle(&step, result, |created| {
        named(created.metadata.as_ref(), &crd_name)
    })
    .ok_or("the CRD was not created")?;

    // Wait until the API server has accepted the CRD's names.
    let accepted = |crd: &CustomResourceDefinition| {
        crd.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "NamesAccepted" && c.status == "True")
    };
    loop {
        let step = ctx.step()?;
        let result = crds
            .read_custom_resource_definition(&crd_name, &GetParams::default())
            .await;
        let read = ctx
            .settle(&step, result, |read| {
                named(read.metadata.as_ref(), &crd_name)
            })
            .ok_or("reading the CRD failed")?;
        if accepted(&read) {
            break;
        }
        tokio::time::sleep(ctx.poll).await;
    }

    let version = crd
        .spec
        .versions
        .iter()
        .find(|v| v.served)
        .map(|v| v.name.clone())
        .ok_or("the CRD serves no version")?;
    // Two valid objects.
    let creates = [ctx.step()?, ctx.step()?];
    let namespace = creates[0].namespace()?;
    let client = ctx.client.clone();
    let foobars = CustomObjects {
        client: &client,
        group: &crd.spec.group,
        version: &version,
        plural: &crd.spec.names.plural,
        namespace: &namespace,
    };
    let mut names = Vec::new();
    for step in creates {
        let object: DynamicObject = step.body()?;
        let name = dynamic_name(&object).to_owned();
        let result = foobars.create(&object).await;
        ctx.settle(&step, result, |created| {
            ensure(dynamic_name(created) == name, || {
                format!("created {:?}, expected {name:?}", dynamic_name(created))
            })?;
            ensure(
                created.fields.get("spec") == object.fields.get("spec"),
                || "the spec came back changed".into(),
            )
        });
        names.push(name);
    }

    let step = ctx.step()?;
    let result = foobars.list().await;
    ctx.settle(&step, result, |list| {
        let listed: Vec<&str> = list.items.iter().map(dynamic_name).collect();
        ensure(listed == names, || {
            format!("listed {listed:?}, expected {names:?}")
        })?;
        let kind = list.kind.as_deref().unwrap_or("");
        ensure(kind == format!("{}List", crd.spec.names.kind), || {
            format!("list kind {kind:?}")
        })
    });

    for name in &names {
        let step = ctx.step()?;
        let result = foobars.get(name).await;
        ctx.settle(&step, result, |object| {
            ensure(dynamic_name(object) == name, || {
                format!("got {:?}, expected {name:?}", dynamic_name(object))
            })?;
            ensure(object.kind.as_deref() == Some(&crd.spec.names.kind), || {
                format!("kind {:?}", object.kind)
            })
        });
    }

    // The watch starts with both objects; a real server keeps it open, so stop once both came.
    let step = ctx.step()?;
    let stream = foobars.watch().await;
    if let Some(stream) = ctx.settle(&step, stream, |_| Ok(())) {
        let mut seen = Vec::new();
        let events = read_events(stream, |event| {
            if let WatchEvent::Added(object) = event {
                seen.push(dynamic_name(object).to_owned());
            }
            seen.len() == names.len()
        })
        .await;
        let verdict = events.and_then(|events| {
            let added: Vec<&str> = events
                .iter()
                .filter_map(|e| match e {
                    WatchEvent::Added(o) => Some(dynamic_name(o)),
                    _ => None,
                })
                .collect();
            ensure(added == names, || {
                format!("watch added {added:?}, expected {names:?}")
            })
        });
        ctx.record(&step, verdict);
    }

    for name in &names {
        let step = ctx.step()?;
        let result = foobars.delete(name).await;
        ctx.settle(&step, result, |deleted| deleted_as_recorded(&step, deleted));
    }

    // Objects the schema refuses: the server answers 422 Invalid.
    for _ in 0..3 {
        let step = ctx.step()?;
        let object: DynamicObject = step.body()?;
        let verdict = match foobars.create(&object).await {
            Ok(created) => Err(format!(
                "{:?} was created; the schema refuses it",
                dynamic_name(&created)
            )),
            Err(Error::Api(e)) if e.is_invalid() => ensure(e.reason() == Some("Invalid"), || {
                format!("422 with reason {:?}", e.reason())
            }),
            Err(e) => Err(format!("expected a 422 Invalid API error, got: {e}")),
        };
        ctx.record(&step, verdict);
    }

    let step = ctx.step()?;
    let result = crds
        .delete_custom_resource_definition(&crd_name, None, &DeleteParams::default())
        .await;
    ctx.settle(&step, result, |deleted| {
        deleted_as_recorded(&step, deleted)?;
        match deleted {
            Deleted::Object(crd) => named(crd.metadata.as_ref(), &crd_name),
            Deleted::Status(_) => Ok(()),
        }
    });
    Ok(())
}

/// How one replay file went.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The file, as given to [`run_file`].
    pub file: String,
    pub exchanges: usize,
    pub reproduced: usize,
    /// One line per problem, each naming the file and, where there is one, the exchange.
    pub failures: Vec<String>,
}

/// A client for the replay server at `url`: plain http, no credentials, and no retries, which
/// would send a request twice.
pub fn client_for(url: &str) -> Result<Client, Error> {
    let mut config = Config::local_proxy();
    config.server = url.to_owned();
    config.request_timeout = Some(Duration::from_secs(30));
    Ok(Client::new(config)?.with_retries(0, false))
}

/// Plays the replay file `file` (its stem names the scenario) against its exchanges.
pub async fn run_file(file: &str, scenario: &str, exchanges: Vec<Exchange>) -> FileReport {
    let mut report = FileReport {
        file: file.to_owned(),
        exchanges: exchanges.len(),
        ..Default::default()
    };
    let server = match ReplayServer::start(exchanges.clone()).await {
        Ok(s) => s,
        Err(e) => {
            report
                .failures
                .push(format!("{file}: cannot start the replay server: {e}"));
            return report;
        }
    };
    let client = match client_for(server.url()) {
        Ok(c) => c,
        Err(e) => {
            server.finish();
            report
                .failures
                .push(format!("{file}: cannot build a client: {e}"));
            return report;
        }
    };
    let mut ctx = Ctx::new(client, exchanges.clone());
    let outcome = match tokio::time::timeout(SCENARIO_TIMEOUT, run(scenario, &mut ctx)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("stuck for {SCENARIO_TIMEOUT:?}")),
    };
    let served = server.finish();
    if let Err(e) = outcome {
        report
            .failures
            .push(format!("{file}: scenario stopped: {e}"));
    }
    for (i, ex) in exchanges.iter().enumerate() {
        let what = format!("{file} #{i} {} {}", ex.request_method, ex.request_url);
        let server_problem = served.problems_of(i);
        let verdict = &ctx.verdicts()[i];
        if let Some(problem) = &server_problem {
            report.failures.push(format!("{what}: request: {problem}"));
        }
        match verdict {
            Some(Ok(())) if server_problem.is_none() => report.reproduced += 1,
            Some(Ok(())) => {}
            Some(Err(e)) => report.failures.push(format!("{what}: answer: {e}")),
            None if server_problem.is_none() => report
                .failures
                .push(format!("{what}: answer: the scenario never judged it")),
            None => {}
        }
    }
    report.failures.extend(
        served
            .unexpected
            .iter()
            .map(|r| format!("{file}: unexpected request after the last exchange: {r}")),
    );
    report
}

/// Totals over many replay files.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub exchanges: usize,
    pub reproduced: usize,
    pub failures: Vec<String>,
}

impl Summary {
    /// The one-line verdict the conformance check prints.
    pub fn line(&self) -> String {
        format!(
            "{}/{} exchanges reproduced",
            self.reproduced, self.exchanges
        )
    }

    /// Every exchange reproduced, there was at least one, and nothing else went wrong.
    pub fn ok(&self) -> bool {
        self.reproduced == self.exchanges && self.exchanges > 0 && self.failures.is_empty()
    }

    pub fn add(&mut self, report: FileReport) {
        self.exchanges += report.exchanges;
        self.reproduced += report.reproduced;
        self.failures.extend(report.failures);
    }
}

/// Plays every replay file under `dir` (recursively, sorted), each with the scenario its stem
/// names.
pub async fn run_dir(dir: &Path) -> Result<Summary, replay::Error> {
    let mut summary = Summary::default();
    for (path, exchanges) in replay::load_dir(dir)? {
        let file = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let scenario = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        summary.add(run_file(&file, &scenario, exchanges).await);
    }
    Ok(summary)
}
