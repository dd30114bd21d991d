//! Strategic merge patch and server-side apply against the test server. Expected values are what
//! the real 1.36 kube-apiserver answered to the same requests (fields it fills in by defaulting,
//! which the test server does not do, left out of the requests or noted).

use kuber::models::api::apps::v1::Deployment;
use kuber::models::api::core::v1::ConfigMap;
use kuber::{Context, Patch};
use kuber_testserver::TestServer;
use serde_json::{Value, json};

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers}}}
    })
}

async fn create(ctx: &Context, object: Value, manager: &str) -> Value {
    let d: Deployment = serde_json::from_value(object).unwrap();
    let created = ctx.put(&d).field_manager(manager).await.unwrap();
    serde_json::to_value(created).unwrap()
}

async fn smp(ctx: &Context, patch: Value) -> Value {
    let d = ctx
        .update::<Deployment>("web", Patch::Strategic(patch))
        .await
        .unwrap();
    serde_json::to_value(d).unwrap()
}

async fn apply(ctx: &Context, manager: &str, force: bool, object: Value) -> kuber::Result<Value> {
    let kind = object["kind"].as_str().unwrap().to_owned();
    let name = object["metadata"]["name"].as_str().unwrap().to_owned();
    let call = ctx
        .update_kind(&kind, &name, Patch::Apply(object))
        .field_manager(manager);
    let answer = if force {
        call.force().await
    } else {
        call.await
    }?;
    Ok(serde_json::to_value(answer).unwrap())
}

fn names(d: &Value) -> Vec<String> {
    d.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The managedFields entry of `manager`.
fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> &'a Value {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .unwrap_or_else(|| panic!("no {operation} entry of {manager} in {object:#}"))
}

/// The 409 message and `(field, message)` of each cause.
fn conflict(err: &kuber::Error) -> (String, Vec<(String, String)>) {
    assert_eq!(err.status_code(), Some(409), "{err}");
    assert_eq!(err.reason(), Some("Conflict"));
    let status = serde_json::to_value(err.status().unwrap()).unwrap();
    let causes = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["reason"], "FieldManagerConflict");
            (
                c["field"].as_str().unwrap().to_owned(),
                c["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (status["message"].as_str().unwrap().to_owned(), causes)
}

#[tokio::test]
async fn strategic_patch_merges_containers_by_name_and_puts_new_ones_first() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    create(
        &ctx,
        deployment(json!([
            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "b:1", "args": ["x", "y"]}
        ])),
        "creator",
    )
    .await;
    let pod =
        |containers: Value| json!({"spec": {"template": {"spec": {"containers": containers}}}});
    // Real server: ["c", "a", "b"].
    let d = smp(&ctx, pod(json!([{"name": "c", "image": "c:1"}]))).await;
    assert_eq!(names(&d), ["c", "a", "b"]);
    // Ports merge by containerPort; args (no strategy) are replaced.
    let d = smp(
        &ctx,
        pod(json!([
            {"name": "a", "ports": [{"containerPort": 443, "protocol": "TCP"}]},
            {"name": "b", "image": "b:2", "args": ["z"]}
        ])),
    )
    .await;
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(&d), ["c", "a", "b"]);
    assert_eq!(c[1]["image"], "a:1");
    let ports: Vec<&Value> = c[1]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["containerPort"])
        .collect();
    assert_eq!(ports, [&json!(443), &json!(80)]);
    assert_eq!(
        (&c[2]["image"], &c[2]["args"]),
        (&json!("b:2"), &json!(["z"]))
    );
    // `$patch: delete` removes the item with that merge key.
    let d = smp(&ctx, pod(json!([{"name": "c", "$patch": "delete"}]))).await;
    assert_eq!(names(&d), ["a", "b"]);
    // The patch's manager, when it names none: the user agent up to its `/` (kuber/…).
    let patcher = entry(&d, "kuber", "Update");
    assert_eq!(
        patcher["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"a\"}": {"f:ports": {"k:{\"containerPort\":443,\"protocol\":\"TCP\"}": {
                ".": {}, "f:containerPort": {}, "f:protocol": {}}}},
            "k:{\"name\":\"b\"}": {"f:args": {}, "f:image": {}}}}}}})
    );
}

#[tokio::test]
async fn strategic_patch_directives() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let mut d = deployment(json!([{"name": "a", "image": "a:1"}]));
    d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
    create(&ctx, d, "creator").await;
    // Real server: finalizers ["x/a", "x/b"], strategy {"type": "Recreate"}.
    let d = smp(
        &ctx,
        json!({"metadata": {"finalizers": ["x/a", "x/b"]},
            "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    )
    .await;
    assert_eq!(d["metadata"]["finalizers"], json!(["x/a", "x/b"]));
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    // Real server: finalizers ["x/b"], labels gone.
    let d = smp(
        &ctx,
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x/a"], "labels": {"$patch": "delete"}}}),
    )
    .await;
    assert_eq!(d["metadata"]["finalizers"], json!(["x/b"]));
    assert_eq!(d["metadata"].get("labels"), None);
    // A primitive list with the merge strategy takes the union, new items first.
    let d = smp(&ctx, json!({"metadata": {"finalizers": ["x/c", "x/b"]}})).await;
    assert_eq!(d["metadata"]["finalizers"], json!(["x/c", "x/b"]));
    let d = smp(
        &ctx,
        json!({"metadata": {"finalizers": null}, "spec": {"replicas": null}}),
    )
    .await;
    assert_eq!(d["metadata"].get("finalizers"), None);
    // Removed, then defaulted back, as by the real server.
    assert_eq!(d["spec"].get("replicas"), Some(&json!(1)));
}

#[tokio::test]
async fn apply_creates_and_records_what_the_manager_applied() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made\n  labels: {a: b}\ndata:\n  k: v\n";
    let body = kuber::PatchBody::text(kuber::PatchType::Apply, text).unwrap();
    let made = ctx
        .update::<ConfigMap>("made", body)
        .field_manager("ssa")
        .await
        .unwrap();
    let made = serde_json::to_value(made).unwrap();
    assert_eq!(made["data"], json!({"k": "v"}));
    let fields = made["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(fields.len(), 1);
    let e = &fields[0];
    // The real server's entry, time aside.
    assert_eq!(
        (
            &e["manager"],
            &e["operation"],
            &e["apiVersion"],
            &e["fieldsType"]
        ),
        (
            &json!("ssa"),
            &json!("Apply"),
            &json!("v1"),
            &json!("FieldsV1")
        )
    );
    assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        e["fieldsV1"],
        json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:a": {}}}})
    );
    // A write that changes nothing leaves managedFields (and the resourceVersion) alone.
    let again = apply(&ctx, "ssa", false, serde_yaml_like(text))
        .await
        .unwrap();
    assert_eq!(
        again["metadata"]["resourceVersion"],
        made["metadata"]["resourceVersion"]
    );
}

/// The YAML above as JSON.
fn serde_yaml_like(_: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "made", "labels": {"a": "b"}}, "data": {"k": "v"}})
}

#[tokio::test]
async fn create_records_an_update_entry_for_its_manager() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let d = create(
        &ctx,
        deployment(json!([{"name": "a", "image": "a:1"}])),
        "creator",
    )
    .await;
    let e = entry(&d, "creator", "Update");
    assert_eq!(e["apiVersion"], "apps/v1");
    // The real server's set: the writer owns what decoding defaulted too.
    let container = json!({".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
        "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}});
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {},
                "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
                "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": container},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                        "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}}})
    );
    // managedFields are no spec change.
    assert_eq!(d["metadata"]["generation"], 1);
    let d = smp(&ctx, json!({"metadata": {"labels": {"tier": "x"}}})).await;
    assert_eq!(d["metadata"]["generation"], 1);
}

#[tokio::test]
async fn apply_conflicts_name_the_owner_and_force_takes_the_fields() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    create(
        &ctx,
        deployment(json!([{"name": "a", "image": "a:1"}])),
        "creator",
    )
    .await;
    let applied = |labels: Value, replicas: Value, image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas,
                "template": {"spec": {"containers": [{"name": "a", "image": image}]}}}})
    };
    // Same values as the owner's: shared, no conflict. A different one: the real server's 409.
    let err = apply(
        &ctx,
        "mgr1",
        false,
        applied(json!({"app": "web"}), json!(1), "a:2"),
    )
    .await
    .unwrap_err();
    let (message, causes) = conflict(&err);
    assert_eq!(
        message,
        "Apply failed with 1 conflict: conflict with \"creator\" using apps/v1: .spec.template.spec.containers[name=\"a\"].image"
    );
    assert_eq!(
        causes,
        [(
            ".spec.template.spec.containers[name=\"a\"].image".to_owned(),
            "conflict with \"creator\" using apps/v1".to_owned()
        )]
    );
    let err = apply(
        &ctx,
        "mgr1",
        false,
        applied(json!({"app": "x"}), json!(3), "a:2"),
    )
    .await
    .unwrap_err();
    let (message, causes) = conflict(&err);
    assert_eq!(
        message,
        "Apply failed with 3 conflicts: conflicts with \"creator\" using apps/v1:\n- .metadata.labels.app\n- .spec.replicas\n- .spec.template.spec.containers[name=\"a\"].image"
    );
    assert_eq!(causes.len(), 3);
    assert_eq!(causes[1].0, ".spec.replicas");
    // Nothing was written.
    let d = serde_json::to_value(ctx.get::<Deployment>("web").await.unwrap()).unwrap();
    assert_eq!(d["spec"]["replicas"], 1);

    // force: the applier takes the fields; the creator keeps what it shares.
    let d = apply(
        &ctx,
        "mgr1",
        true,
        applied(json!({"tier": "x"}), json!(3), "a:2"),
    )
    .await
    .unwrap();
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["labels"], json!({"app": "web", "tier": "x"}));
    let mine = entry(&d, "mgr1", "Apply");
    assert_eq!(
        mine["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}, "f:spec": {"f:replicas": {},
            "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    let creator = &entry(&d, "creator", "Update")["fieldsV1"]["f:spec"];
    assert!(creator.get("f:replicas").is_none());
    assert_eq!(
        creator["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"a\"}"],
        json!({".": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {},
            "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}})
    );
    // Apply entries come first, as the real server orders them.
    assert_eq!(d["metadata"]["managedFields"][0]["manager"], "mgr1");

    // Another applier: the conflict names the applier without a version.
    let err = apply(
        &ctx,
        "mgr2",
        false,
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 4}}),
    )
    .await
    .unwrap_err();
    let (message, causes) = conflict(&err);
    assert_eq!(
        message,
        "Apply failed with 1 conflict: conflict with \"mgr1\": .spec.replicas"
    );
    assert_eq!(
        causes,
        [(
            ".spec.replicas".to_owned(),
            "conflict with \"mgr1\"".to_owned()
        )]
    );

    // Applying again without the label and replicas removes them (replicas then defaults
    // back to 1, as on the real server).
    let d = apply(
        &ctx,
        "mgr1",
        false,
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}}}),
    )
    .await
    .unwrap();
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["spec"].get("replicas"), Some(&json!(1)));
    assert_eq!(
        entry(&d, "mgr1", "Apply")["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // A field another manager owns stays: the container's name is the creator's too.
    assert_eq!(names(&d), ["a"]);
}

/// A PATCH of the Deployment `web` sent as it is (kuber refuses these two mistakes itself, so the
/// raw request shows the server's answer): the `Status` of the failure.
async fn raw_patch(
    server: &TestServer,
    content_type: &'static str,
    patch: Value,
    force: bool,
) -> Value {
    let op = kuber::api::OPERATIONS
        .iter()
        .find(|o| o.id == "patchAppsV1NamespacedDeployment")
        .unwrap();
    let mut req = kuber::api::Request::new(op, &["default", "web"]);
    if force {
        req = req.set("force", "true");
    }
    req.body = Some(kuber::api::request::Body {
        content_type,
        bytes: patch.to_string().into_bytes(),
    });
    match server.client().call::<Value>(req).await.unwrap_err() {
        kuber::api::Error::Api(e) => {
            assert_eq!(e.code, 422, "{e}");
            serde_json::from_str(&e.body).unwrap()
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn apply_and_force_need_the_right_options() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    create(
        &ctx,
        deployment(json!([{"name": "a", "image": "a:1"}])),
        "creator",
    )
    .await;
    let status = raw_patch(
        &server,
        // With a parameter, which kuber-api's own check does not look for.
        "application/apply-patch+yaml; charset=utf-8",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
        false,
    )
    .await;
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(
        status["details"],
        json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired",
            "message": "Required value: is required for apply patch", "field": "fieldManager"}]})
    );
    let status = raw_patch(&server, "application/merge-patch+json", json!({}), true).await;
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
}
