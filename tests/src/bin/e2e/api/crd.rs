//! A CustomResourceDefinition's life, and its objects handled as `DynamicObject`s through the
//! client's generic call API (custom resources have no generated operations).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kuber_api::{
    ApiextensionsV1Api, Client, Deleted, Error, Operation, Patch, Request, WatchStream, WriteParams,
};
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresources, JSONSchemaProps,
};
use kuber_models::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status};
use kuber_models::special::RawJson;
use kuber_models::{DynamicList, DynamicObject, WatchEvent};
use serde_json::{Value, json};

use crate::case;
use crate::support::schemas::{namespaced_crd, object_schema, schema};
use crate::support::{Case, Context, E2e, Outcome, crd_conditions, delete_crd, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![case!("crd/lifecycle-dynamic-objects", lifecycle)]
}

const VERSION: &str = "v1";
const KIND: &str = "Widget";
const PLURAL: &str = "widgets";
const FIELD_MANAGER: &str = "kuber-e2e";

// The generic operations every custom resource has, described once as a user would.
const COLLECTION: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}";
const OBJECT: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}";
const STATUS: &str = "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status";

const fn custom(
    id: &'static str,
    method: &'static str,
    path: &'static str,
    action: &'static str,
    subresource: &'static str,
) -> Operation {
    Operation {
        action,
        namespaced: true,
        subresource,
        tag: "custom_objects",
        ..Operation::untyped(id, method, path)
    }
}

static CREATE: Operation = custom(
    "createNamespacedCustomObject",
    "POST",
    COLLECTION,
    "post",
    "",
);
static LIST: Operation = custom("listNamespacedCustomObject", "GET", COLLECTION, "list", "");
static GET: Operation = custom("getNamespacedCustomObject", "GET", OBJECT, "get", "");
static REPLACE: Operation = custom("replaceNamespacedCustomObject", "PUT", OBJECT, "put", "");
static PATCH: Operation = custom("patchNamespacedCustomObject", "PATCH", OBJECT, "patch", "");
static DELETE: Operation = custom(
    "deleteNamespacedCustomObject",
    "DELETE",
    OBJECT,
    "delete",
    "",
);
static PATCH_STATUS: Operation = custom(
    "patchNamespacedCustomObjectStatus",
    "PATCH",
    STATUS,
    "patch",
    "status",
);

/// The widgets of one namespace.
struct Widgets {
    client: Client,
    group: String,
    namespace: String,
}

impl Widgets {
    fn collection(&self, op: &'static Operation) -> Request {
        Request::new(op, &[&self.group, VERSION, &self.namespace, PLURAL])
    }

    fn object(&self, op: &'static Operation, name: &str) -> Request {
        Request::new(op, &[&self.group, VERSION, &self.namespace, PLURAL, name])
    }

    async fn create(&self, object: &DynamicObject) -> Result<DynamicObject, Error> {
        self.client
            .call(self.collection(&CREATE).json(object)?)
            .await
    }

    async fn list(&self, label_selector: Option<&str>) -> Result<DynamicList, Error> {
        let mut req = self.collection(&LIST);
        if let Some(selector) = label_selector {
            req = req.set("labelSelector", selector);
        }
        self.client.call(req).await
    }

    async fn get(&self, name: &str) -> Result<DynamicObject, Error> {
        self.client.call(self.object(&GET, name)).await
    }

    async fn replace(&self, name: &str, object: &DynamicObject) -> Result<DynamicObject, Error> {
        self.client
            .call(self.object(&REPLACE, name).json(object)?)
            .await
    }

    async fn patch(&self, name: &str, patch: &Patch) -> Result<DynamicObject, Error> {
        self.client
            .call(self.object(&PATCH, name).patch(patch)?)
            .await
    }

    async fn patch_status(&self, name: &str, patch: &Patch) -> Result<DynamicObject, Error> {
        self.client
            .call(self.object(&PATCH_STATUS, name).patch(patch)?)
            .await
    }

    async fn apply(&self, name: &str, object: &Value, force: bool) -> Result<DynamicObject, Error> {
        let req = self
            .object(&PATCH, name)
            .patch(&Patch::Apply(object.clone()))?
            .set("fieldManager", FIELD_MANAGER)
            .set("force", force.to_string());
        self.client.call(req).await
    }

    async fn watch(&self, resource_version: &str) -> Result<WatchStream<DynamicObject>, Error> {
        let req = self
            .collection(&LIST)
            .set("watch", "true")
            .set("resourceVersion", resource_version)
            .set("timeoutSeconds", "60");
        self.client.watch(req).await
    }

    async fn delete(&self, name: &str) -> Result<Deleted<DynamicObject>, Error> {
        self.client.call(self.object(&DELETE, name)).await
    }
}

/// Namespaced `Widget`: `spec.size` required, an integer ≥ 1; `spec.extra` keeps whatever it is
/// given; a status subresource.
fn widget_crd(group: &str) -> CustomResourceDefinition {
    let spec = JSONSchemaProps {
        required: Some(vec!["size".into()]),
        ..object_schema(&[
            (
                "size",
                JSONSchemaProps {
                    minimum: Some(kuber_models::special::Number::from(1)),
                    ..schema("integer")
                },
            ),
            ("color", schema("string")),
            (
                "extra",
                JSONSchemaProps {
                    x_kubernetes_preserve_unknown_fields: Some(true),
                    ..schema("object")
                },
            ),
        ])
    };
    let status = object_schema(&[("phase", schema("string")), ("observed", schema("integer"))]);
    let root = JSONSchemaProps {
        required: Some(vec!["spec".into()]),
        ..object_schema(&[("spec", spec), ("status", status)])
    };
    let mut crd = namespaced_crd(group, VERSION, KIND, PLURAL, root);
    for version in &mut crd.spec.versions {
        version.subresources = Some(CustomResourceSubresources {
            status: Some(RawJson::from_value(&json!({}))),
            ..Default::default()
        });
    }
    crd
}

fn widget(group: &str, name: &str, spec: Value) -> Result<DynamicObject, String> {
    serde_json::from_value(json!({
        "apiVersion": format!("{group}/{VERSION}"),
        "kind": KIND,
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": spec,
    }))
    .context(format!("build Widget {name}"))
}

/// A member of a dynamic object as a `Value` (`Null` when absent).
fn member(object: &DynamicObject, key: &str) -> Value {
    object
        .fields
        .get(key)
        .map(RawJson::to_value)
        .unwrap_or(Value::Null)
}

fn meta(object: &DynamicObject) -> ObjectMeta {
    object.metadata.clone().unwrap_or_default()
}

fn name_of(object: &DynamicObject) -> String {
    meta(object).name.unwrap_or_default()
}

/// The CRD's life: created and Established, its objects created, read, listed, patched (object
/// and status), replaced and deleted as `DynamicObject`s, unknown fields kept only where the
/// schema says so, invalid objects refused with 422 naming the field; then the CRD deleted and
/// gone. The CRD is deleted even when a step fails.
async fn lifecycle(e2e: &E2e) -> Outcome {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let group = format!("e2e{}-{}.kuber.test", std::process::id(), nanos % 100_000);
    let crd = widget_crd(&group);
    let crd_name = format!("{PLURAL}.{group}");
    let crds = ApiextensionsV1Api::new(e2e.admin.clone());
    let created = crds
        .create_custom_resource_definition(&crd, &WriteParams::default())
        .await
        .context(format!("create CustomResourceDefinition {crd_name}"))?;
    let outcome = with_crd(e2e, &group, &crd_name, created).await;
    let removal = delete_crd(&e2e.admin, &crd_name).await;
    outcome?;
    let seconds = removal?;
    e2e.report(format!(
        "crd: CustomResourceDefinition deleted and gone after {seconds:.2} s"
    ));
    Ok(())
}

async fn with_crd(
    e2e: &E2e,
    group: &str,
    crd_name: &str,
    created: CustomResourceDefinition,
) -> Outcome {
    check_schema_echo(&created, group)?;
    let started = Instant::now();
    crd_conditions(&e2e.admin, crd_name, &["Established", "NamesAccepted"]).await?;
    let established = started.elapsed().as_secs_f64();

    let ns = e2e.namespace("crd").await?;
    let widgets = Widgets {
        client: e2e.admin.clone(),
        group: group.into(),
        namespace: ns.clone(),
    };
    let extra = json!({
        "nested": {"list": [1, "two", {"three": 3.5}], "flag": true},
        "text": "kept",
    });
    let created = create_w1(&widgets, group, &extra).await?;
    // Every later change arrives on a watch from w1's creation.
    let mut events = widgets
        .watch(meta(&created).resource_version.as_deref().unwrap_or(""))
        .await
        .context(format!("watch Widgets in {ns}"))?;
    widgets
        .create(&widget(group, "w2", json!({"size": 1}))?)
        .await
        .context(format!("create Widget {ns}/w2"))?;

    read_and_list(&widgets, &created).await?;
    patches(&widgets, &extra).await?;
    status_and_replace(&widgets).await?;
    apply_conflict(&widgets, group).await?;
    invalid_writes(&widgets, group).await?;
    delete_both(&widgets).await?;
    watched_in_order(&mut events).await?;

    let left = widgets
        .list(None)
        .await
        .context("list Widgets after the deletes")?;
    ensure(left.items.is_empty(), || {
        format!("{} Widgets left after deleting both", left.items.len())
    })?;
    e2e.report(format!(
        "crd: Widget Established in {established:.2} s; create/get/list/patch/status/replace/\
         apply/delete and a watch, as DynamicObject; 4 invalid writes refused with 422 naming spec.size"
    ));
    Ok(())
}

/// The created CRD answers its group, kind and one version, and the schema kept
/// `x-kubernetes-preserve-unknown-fields`.
fn check_schema_echo(created: &CustomResourceDefinition, group: &str) -> Outcome {
    ensure(
        created.spec.group == group
            && created.spec.names.kind == KIND
            && created.spec.versions.len() == 1,
        || format!("the created CRD answers spec {:?}", created.spec.names),
    )?;
    let echoed = created.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_apiv3_schema.as_ref())
        .and_then(|s| s.properties.as_ref())
        .and_then(|p| p.get("spec"))
        .and_then(|s| s.properties.as_ref())
        .and_then(|p| p.get("extra"))
        .and_then(|e| e.x_kubernetes_preserve_unknown_fields);
    ensure(echoed == Some(true), || {
        format!(
            "the schema came back without spec.extra's x-kubernetes-preserve-unknown-fields ({echoed:?})"
        )
    })?;
    Ok(())
}

/// Creates w1 (retrying the 404 of a handler a moment behind Established): its metadata, kind,
/// preserved `spec.extra` and pruned unknown field.
async fn create_w1(widgets: &Widgets, group: &str, extra: &Value) -> Result<DynamicObject, String> {
    let ns = &widgets.namespace;
    let w1 = widget(
        group,
        "w1",
        json!({"size": 3, "color": "blue", "extra": extra, "bogus": "pruned"}),
    )?;
    // Established can run a moment ahead of the handler: retry a 404 briefly.
    let what = format!("create Widget {ns}/w1");
    let (widgets_ref, w1_ref, what_ref) = (&widgets, &w1, what.as_str());
    let created = poll_every(
        what_ref,
        Duration::from_secs(10),
        Duration::from_millis(200),
        || async move {
            match widgets_ref.create(w1_ref).await {
                Err(Error::Api(api)) if api.is_not_found() => Ok(None),
                other => other.context(what_ref).map(Some),
            }
        },
    )
    .await?;
    let m = meta(&created);
    ensure(
        m.name.as_deref() == Some("w1")
            && m.namespace.as_deref() == Some(ns.as_str())
            && m.uid.as_deref().is_some_and(|u| !u.is_empty())
            && m.generation == Some(1),
        || format!("created Widget metadata {m:?}"),
    )?;
    ensure(
        created.kind.as_deref() == Some(KIND)
            && created.api_version.as_deref() == Some(format!("{group}/{VERSION}").as_str()),
        || {
            format!(
                "created Widget is {:?} {:?}",
                created.api_version, created.kind
            )
        },
    )?;
    let spec = member(&created, "spec");
    ensure(spec["extra"] == *extra, || {
        format!(
            "spec.extra (preserved unknown fields) came back as {}",
            spec["extra"]
        )
    })?;
    ensure(spec.get("bogus").is_none(), || {
        format!("spec.bogus, outside the preserved subtree, was not pruned: {spec}")
    })?;
    ensure(spec["size"] == 3 && spec["color"] == "blue", || {
        format!("spec came back as {spec}")
    })?;
    Ok(created)
}

/// w1 read by name is what create answered; the list and a label selector list both, then w2.
async fn read_and_list(widgets: &Widgets, created: &DynamicObject) -> Outcome {
    let ns = &widgets.namespace;
    let read = widgets
        .get("w1")
        .await
        .context(format!("get Widget {ns}/w1"))?;
    ensure(read == *created, || {
        format!("the Widget read back differs from the one created: {read:?} vs {created:?}")
    })?;

    let list = widgets
        .list(None)
        .await
        .context(format!("list Widgets in {ns}"))?;
    let names: Vec<String> = list.items.iter().map(name_of).collect();
    ensure(names == ["w1", "w2"], || format!("listed {names:?}"))?;
    ensure(list.kind.as_deref() == Some("WidgetList"), || {
        format!("list kind {:?}", list.kind)
    })?;
    ensure(
        list.metadata
            .as_ref()
            .and_then(|m| m.resource_version.as_deref())
            .is_some_and(|rv| !rv.is_empty()),
        || "the WidgetList has no resourceVersion".into(),
    )?;
    ensure(list.items[0] == read, || {
        "w1 in the list differs from w1 read by name".into()
    })?;
    let selected = widgets
        .list(Some("app=w2"))
        .await
        .context(format!("list Widgets in {ns} with app=w2"))?;
    let names: Vec<String> = selected.items.iter().map(name_of).collect();
    ensure(names == ["w2"], || format!("app=w2 selected {names:?}"))?;
    Ok(())
}

/// A merge patch (into the preserved subtree too), a JSON patch whose test holds and one whose
/// test fails.
async fn patches(widgets: &Widgets, extra: &Value) -> Outcome {
    let ns = &widgets.namespace;
    // A merge patch merges into the preserved subtree too.
    let patch = Patch::Merge(json!({"spec": {"size": 5, "extra": {"added": "yes"}}}));
    let patched = widgets
        .patch("w1", &patch)
        .await
        .context(format!("merge-patch Widget {ns}/w1"))?;
    let spec = member(&patched, "spec");
    let mut merged_extra = extra.clone();
    merged_extra["added"] = json!("yes");
    ensure(spec["size"] == 5 && spec["extra"] == merged_extra, || {
        format!("patched spec {spec}")
    })?;
    ensure(meta(&patched).generation == Some(2), || {
        format!(
            "generation {:?} after a spec patch",
            meta(&patched).generation
        )
    })?;
    // An RFC 6902 patch whose test holds, then one whose test fails (422, nothing changed).
    let json_patch = Patch::Json(json!([
        {"op": "test", "path": "/spec/size", "value": 5},
        {"op": "replace", "path": "/spec/color", "value": "yellow"},
    ]));
    let patched = widgets
        .patch("w1", &json_patch)
        .await
        .context(format!("JSON-patch Widget {ns}/w1"))?;
    let spec = member(&patched, "spec");
    ensure(spec["color"] == "yellow" && spec["size"] == 5, || {
        format!("spec after the JSON patch {spec}")
    })?;
    ensure(meta(&patched).generation == Some(3), || {
        format!(
            "generation {:?} after the JSON patch",
            meta(&patched).generation
        )
    })?;
    let failing = Patch::Json(json!([
        {"op": "test", "path": "/spec/size", "value": 99},
        {"op": "replace", "path": "/spec/color", "value": "black"},
    ]));
    match widgets.patch("w1", &failing).await {
        Err(Error::Api(api)) if api.is_invalid() => {}
        other => {
            return Err(format!(
                "a JSON patch whose test fails answered {other:?}, expected 422"
            ));
        }
    }
    Ok(())
}

/// The status subresource, then a replace that changes the spec and ignores the status, then
/// the same replace again (stale).
async fn status_and_replace(widgets: &Widgets) -> Outcome {
    let ns = &widgets.namespace;
    // The status subresource: its own endpoint, no generation bump.
    let status_patch = Patch::Merge(json!({"status": {"phase": "Ready", "observed": 2}}));
    let with_status = widgets
        .patch_status("w1", &status_patch)
        .await
        .context(format!("patch the status of Widget {ns}/w1"))?;
    ensure(
        member(&with_status, "status") == json!({"phase": "Ready", "observed": 2}),
        || {
            format!(
                "status after the status patch {}",
                member(&with_status, "status")
            )
        },
    )?;
    ensure(meta(&with_status).generation == Some(3), || {
        format!(
            "generation {:?} after a status patch",
            meta(&with_status).generation
        )
    })?;

    // A replace changes the spec; the status it carries is ignored on the main resource.
    let mut replacement = with_status.clone();
    let mut spec = member(&with_status, "spec");
    spec["color"] = json!("red");
    replacement
        .fields
        .insert("spec".into(), RawJson::from_value(&spec));
    replacement.fields.insert(
        "status".into(),
        RawJson::from_value(&json!({"phase": "Ignored"})),
    );
    let replaced = widgets
        .replace("w1", &replacement)
        .await
        .context(format!("replace Widget {ns}/w1"))?;
    ensure(member(&replaced, "spec")["color"] == "red", || {
        format!("spec after replace {}", member(&replaced, "spec"))
    })?;
    ensure(member(&replaced, "status")["phase"] == "Ready", || {
        format!("status after replace {}", member(&replaced, "status"))
    })?;
    ensure(
        meta(&replaced).generation == Some(4)
            && meta(&replaced).resource_version != meta(&with_status).resource_version,
        || format!("replaced metadata {:?}", meta(&replaced)),
    )?;
    // The same replacement again carries a stale resourceVersion.
    match widgets.replace("w1", &replacement).await {
        Err(Error::Api(api)) if api.is_conflict() => {}
        other => {
            return Err(format!(
                "a replace with a stale resourceVersion answered {other:?}, expected 409"
            ));
        }
    }
    Ok(())
}

/// Server-side apply: a conflict naming the field, then forced.
async fn apply_conflict(widgets: &Widgets, group: &str) -> Outcome {
    let ns = &widgets.namespace;
    // Server-side apply of a field another manager set (the create's): a 409 conflict naming
    // the field, then forced.
    let intent = json!({
        "apiVersion": format!("{group}/{VERSION}"),
        "kind": KIND,
        "metadata": {"name": "w2"},
        "spec": {"size": 2, "extra": {"applied": [true]}},
    });
    match widgets.apply("w2", &intent, false).await {
        Err(Error::Api(api)) if api.is_conflict() => {
            let fields: Vec<String> = api
                .status
                .and_then(|s| s.details)
                .and_then(|d| d.causes)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.field)
                .collect();
            ensure(fields.iter().any(|f| f == ".spec.size"), || {
                format!("the apply conflict names the fields {fields:?}, expected .spec.size")
            })?;
        }
        other => {
            return Err(format!(
                "applying spec.size, owned by the creator, answered {other:?}, expected 409"
            ));
        }
    }
    let applied = widgets
        .apply("w2", &intent, true)
        .await
        .context(format!("server-side apply Widget {ns}/w2 with force"))?;
    let spec = member(&applied, "spec");
    ensure(
        spec["size"] == 2 && spec["extra"] == json!({"applied": [true]}),
        || format!("spec after apply {spec}"),
    )?;
    let managers: Vec<(String, String)> = meta(&applied)
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    ensure(
        managers.contains(&(FIELD_MANAGER.into(), "Apply".into())),
        || format!("managedFields after apply: {managers:?}"),
    )?;
    Ok(())
}

/// Writes against the schema refused with 422 naming the field.
async fn invalid_writes(widgets: &Widgets, group: &str) -> Outcome {
    // Objects against the schema: 422 Invalid, a cause per bad field.
    let invalid = [
        (
            "w-small",
            json!({"size": 0}),
            "spec.size",
            "FieldValueInvalid",
        ),
        (
            "w-missing",
            json!({"color": "green"}),
            "spec.size",
            "FieldValueRequired",
        ),
        (
            "w-string",
            json!({"size": "big"}),
            "spec.size",
            "FieldValueTypeInvalid",
        ),
    ];
    for (name, spec, field, reason) in invalid {
        let refused = widgets.create(&widget(group, name, spec.clone())?).await;
        let status = invalid_status(refused, &format!("create Widget {name} with spec {spec}"))?;
        check_invalid(&status, name, field, reason)?;
    }
    // The same through a patch of an existing object.
    let refused = widgets
        .patch("w2", &Patch::Merge(json!({"spec": {"size": -4}})))
        .await;
    let status = invalid_status(refused, "patch Widget w2 to size -4")?;
    check_invalid(&status, "w2", "spec.size", "FieldValueInvalid")?;
    Ok(())
}

/// Deletes w1 and w2; both are gone.
async fn delete_both(widgets: &Widgets) -> Outcome {
    let ns = &widgets.namespace;
    for name in ["w1", "w2"] {
        let deleted = widgets
            .delete(name)
            .await
            .context(format!("delete Widget {ns}/{name}"))?;
        if let Deleted::Object(object) = &deleted {
            ensure(name_of(object) == name, || {
                format!("deleting {name} answered {}", name_of(object))
            })?;
        }
        match widgets.get(name).await {
            Err(Error::Api(api)) if api.is_not_found() => {}
            other => return Err(format!("get Widget {name} after its delete: {other:?}")),
        }
    }
    Ok(())
}

/// The watch from w1's creation saw every change, in order, and none of the refused writes.
async fn watched_in_order(events: &mut WatchStream<DynamicObject>) -> Outcome {
    // The watch saw every change, in order, and none of the refused writes.
    let expected = [
        "ADDED w2",
        "MODIFIED w1",
        "MODIFIED w1",
        "MODIFIED w1",
        "MODIFIED w1",
        "MODIFIED w2",
        "DELETED w1",
        "DELETED w2",
    ];
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        match tokio::time::timeout(Duration::from_secs(20), events.next()).await {
            Err(_) => return Err(format!("Widget watch: nothing after {seen:?} for 20 s")),
            Ok(None) => return Err(format!("the Widget watch ended after {seen:?}")),
            Ok(Some(Err(e))) => return Err(format!("Widget watch after {seen:?}: {e}")),
            Ok(Some(Ok(WatchEvent::Bookmark(_)))) => {}
            Ok(Some(Ok(WatchEvent::Error(status)))) => {
                return Err(format!("Widget watch ERROR {status:?}"));
            }
            Ok(Some(Ok(
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o),
            ))) if o.kind.as_deref() != Some(KIND) => {
                return Err(format!("a watch event carries kind {:?}", o.kind));
            }
            Ok(Some(Ok(event))) => {
                let name = match &event {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                        name_of(o)
                    }
                    _ => String::new(),
                };
                seen.push(format!("{} {name}", event.type_name()));
            }
        }
    }
    ensure(seen == expected, || format!("Widget watch saw {seen:?}"))?;
    Ok(())
}

/// The Status of a 422 Invalid answer.
fn invalid_status(answer: Result<DynamicObject, Error>, what: &str) -> Result<Status, String> {
    match answer {
        Err(Error::Api(api)) if api.is_invalid() => api.status.clone().ok_or_else(|| {
            format!(
                "{what}: the 422 body was not decoded as a Status: {}",
                api.body
            )
        }),
        Err(e) => Err(format!("{what}: expected 422 Invalid, got {e}")),
        Ok(object) => Err(format!("{what}: accepted ({:?})", member(&object, "spec"))),
    }
}

fn check_invalid(status: &Status, name: &str, field: &str, reason: &str) -> Outcome {
    ensure(
        status.code == Some(422) && status.reason.as_deref() == Some("Invalid"),
        || {
            format!(
                "{name}: Status code {:?} reason {:?}",
                status.code, status.reason
            )
        },
    )?;
    let details = status.details.clone().unwrap_or_default();
    ensure(
        details.kind.as_deref() == Some(KIND) && details.name.as_deref() == Some(name),
        || {
            format!(
                "{name}: Status details name {:?} kind {:?}",
                details.name, details.kind
            )
        },
    )?;
    let causes: BTreeMap<String, String> = details
        .causes
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.field.unwrap_or_default(), c.reason.unwrap_or_default()))
        .collect();
    ensure(
        causes.get(field).map(String::as_str) == Some(reason),
        || format!("{name}: causes {causes:?}, expected {field} {reason}"),
    )
}
