//! Store semantics the differential suite showed missing: per-kind field selectors, CRDs served
//! at once (defaults, pruning), the scale subresource, resourceVersion semantics on lists.

mod support;

use kuber_testserver::TestServer;
use serde_json::{Value, json};
use support::{call, names};

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    call(server, "GET", path, "application/json", "").await
}
async fn post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    call(server, "POST", path, "application/json", &body.to_string()).await
}

#[tokio::test]
async fn pods_events_and_secrets_select_on_their_own_fields() {
    let server = TestServer::start().await.unwrap();
    for (name, node, restart) in [("p1", "a", "Always"), ("p2", "b", "Never")] {
        let pod = json!({"metadata": {"name": name}, "spec": {"nodeName": node, "restartPolicy": restart, "containers": [{"name": "c", "image": "i"}]}});
        assert_eq!(
            post(&server, "/api/v1/namespaces/default/pods", pod)
                .await
                .0,
            201
        );
    }
    let pods = "/api/v1/namespaces/default/pods?fieldSelector=";
    let (code, list) = get(&server, &format!("{pods}spec.nodeName%3Da")).await;
    assert_eq!((code, names(&list)), (200, vec!["p1".to_owned()]));
    let (_, list) = get(&server, &format!("{pods}spec.restartPolicy!%3DNever")).await;
    assert_eq!(names(&list), ["p1"]);
    // Absent fields compare as the real server's defaulting would have set them.
    let (_, list) = get(
        &server,
        &format!("{pods}status.phase%3DPending,spec.schedulerName%3Ddefault-scheduler"),
    )
    .await;
    assert_eq!(names(&list), ["p1", "p2"]);
    let (code, status) = get(&server, &format!("{pods}spec.hostname%3Dx")).await;
    assert_eq!(
        (code, status["message"].as_str()),
        (400, Some("field label not supported: spec.hostname"))
    );

    let secret = json!({"metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    post(&server, "/api/v1/namespaces/default/secrets", secret).await;
    post(
        &server,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "o"}}),
    )
    .await;
    let (_, list) = get(
        &server,
        "/api/v1/namespaces/default/secrets?fieldSelector=type%3DOpaque",
    )
    .await;
    assert_eq!(names(&list), ["o"]);

    let event = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p1"}, "reason": "Started", "type": "Normal", "source": {"component": "k"}});
    post(&server, "/api/v1/namespaces/default/events", event).await;
    let (_, list) = get(&server, "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dp1,reason%3DStarted,source%3Dk").await;
    assert_eq!(names(&list), ["e"]);

    // Kinds without fields of their own: the newer message.
    let (code, status) = get(
        &server,
        "/api/v1/namespaces/default/configmaps?fieldSelector=data.k%3Dv",
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(
        status["message"],
        "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert!(status.get("details").is_none(), "{status}");
}

#[tokio::test]
async fn namespaces_carry_their_name_label() {
    let server = TestServer::start().await.unwrap();
    let (_, ns) = post(
        &server,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "x"}}),
    )
    .await;
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "x");
    let (_, list) = get(
        &server,
        "/api/v1/namespaces?fieldSelector=status.phase%3DActive,metadata.name%3Dx",
    )
    .await;
    assert_eq!(names(&list), ["x"]);
}

#[tokio::test]
async fn crds_are_served_at_once_with_defaults_pruning_status_and_scale() {
    let server = TestServer::start().await.unwrap();
    let crd = json!({"metadata": {"name": "widgets.ex.com"}, "spec": {"group": "ex.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [{"name": "v1", "served": true, "storage": true,
          "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"replicas": {"type": "integer"}, "color": {"type": "string", "default": "blue"},
              "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}}}]}});
    let (code, created) = post(
        &server,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        crd,
    )
    .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["status"]["conditions"][1]["type"], "Established");
    let (code, list) = get(&server, "/apis/ex.com/v1").await;
    assert_eq!(code, 200);
    assert_eq!(list["resources"][0]["name"], "widgets");

    let widgets = "/apis/ex.com/v1/namespaces/default/widgets";
    let w = json!({"apiVersion": "ex.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"replicas": 1, "unknown": 1, "extra": {"kept": true}}, "status": {"replicas": 7}, "top": 1});
    let (code, w) = post(&server, widgets, w).await;
    assert_eq!(code, 201, "{w}");
    assert_eq!(
        w["spec"],
        json!({"replicas": 1, "color": "blue", "extra": {"kept": true}})
    );
    assert!(w.get("top").is_none() && w.get("status").is_none(), "{w}");

    let (code, scale) = get(&server, &format!("{widgets}/w/scale")).await;
    assert_eq!(
        (code, &scale["kind"], &scale["spec"]["replicas"]),
        (200, &json!("Scale"), &json!(1))
    );
    let (code, _) = call(
        &server,
        "PATCH",
        &format!("{widgets}/w/scale"),
        "application/merge-patch+json",
        r#"{"spec":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        get(&server, &format!("{widgets}/w")).await.1["spec"]["replicas"],
        4
    );

    let (code, _) = call(
        &server,
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.ex.com",
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(get(&server, &format!("{widgets}/w")).await.0, 404);
}

#[tokio::test]
async fn deployments_scale_through_their_subresource() {
    let server = TestServer::start().await.unwrap();
    let d = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    post(&server, "/apis/apps/v1/namespaces/default/deployments", d).await;
    let path = "/apis/apps/v1/namespaces/default/deployments/d/scale";
    let (code, scale) = get(&server, path).await;
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["status"]["selector"], "app=d");
    let body = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "d"}, "spec": {"replicas": 3}});
    let (code, scale) = call(&server, "PUT", path, "application/json", &body.to_string()).await;
    assert_eq!((code, &scale["spec"]["replicas"]), (200, &json!(3)));
    let (_, d) = get(&server, "/apis/apps/v1/namespaces/default/deployments/d").await;
    assert_eq!(
        (&d["spec"]["replicas"], &d["metadata"]["generation"]),
        (&json!(3), &json!(2))
    );
}

#[tokio::test]
async fn lists_honour_resource_version_semantics() {
    let server = TestServer::start().await.unwrap();
    let cms = "/api/v1/namespaces/default/configmaps";
    let (_, a) = post(&server, cms, json!({"metadata": {"name": "a"}})).await;
    let rv = a["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    post(&server, cms, json!({"metadata": {"name": "b"}})).await;
    let (_, exact) = get(
        &server,
        &format!("{cms}?resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(names(&exact), ["a"]);
    assert_eq!(exact["metadata"]["resourceVersion"], rv);
    let (_, newer) = get(
        &server,
        &format!("{cms}?resourceVersion={rv}&resourceVersionMatch=NotOlderThan"),
    )
    .await;
    assert_eq!(names(&newer), ["a", "b"]);

    let (code, s) = get(&server, &format!("{cms}?resourceVersionMatch=NotOlderThan")).await;
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")));
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .ends_with("resourceVersionMatch is forbidden unless resourceVersion is provided")
    );
    let (code, s) = get(
        &server,
        &format!("{cms}?resourceVersion=99999999&resourceVersionMatch=NotOlderThan"),
    )
    .await;
    assert_eq!(
        (code, s["details"]["causes"][0]["reason"].as_str()),
        (504, Some("ResourceVersionTooLarge"))
    );
    assert_eq!(
        get(&server, &format!("{cms}?resourceVersion=abc")).await.0,
        400
    );
    let (code, s) = get(&server, &format!("{cms}?watch=true&sendInitialEvents=true")).await;
    assert_eq!(code, 422);
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
    );
    server.compact();
    let (code, _) = get(
        &server,
        &format!("{cms}?resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(code, 410);
}

async fn delete(server: &TestServer, path: &str, options: Value) -> (u16, Value) {
    let body = if options.is_null() {
        String::new()
    } else {
        options.to_string()
    };
    call(server, "DELETE", path, "application/json", &body).await
}

const GC_CM: &str = "/api/v1/namespaces/default/configmaps";

/// Creates a ConfigMap owned by the objects `owners` (`(apiVersion, kind, name, uid)`).
async fn owned(server: &TestServer, name: &str, owners: &[(&str, &str, &str, &str)]) {
    let refs: Vec<Value> = owners
        .iter()
        .map(|(v, k, n, u)| json!({"apiVersion": v, "kind": k, "name": n, "uid": u}))
        .collect();
    let (code, _) = post(
        server,
        GC_CM,
        json!({"metadata": {"name": name, "ownerReferences": refs}}),
    )
    .await;
    assert_eq!(code, 201);
}

async fn owner(server: &TestServer, name: &str) -> String {
    let (code, o) = post(server, GC_CM, json!({"metadata": {"name": name}})).await;
    assert_eq!(code, 201);
    o["metadata"]["uid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn background_deletion_collects_dependents_after_the_owner() {
    let server = TestServer::start().await.unwrap();
    let uid = owner(&server, "o").await;
    owned(&server, "c", &[("v1", "ConfigMap", "o", &uid)]).await;
    let (code, answer) = delete(
        &server,
        &format!("{GC_CM}/o"),
        json!({"propagationPolicy": "Background"}),
    )
    .await;
    assert_eq!((code, answer["kind"].as_str()), (200, Some("Status")));
    assert_eq!(get(&server, &format!("{GC_CM}/c")).await.0, 404);
}

#[tokio::test]
async fn foreground_deletion_marks_the_owner_then_removes_dependents_and_owner() {
    let server = TestServer::start().await.unwrap();
    let uid = owner(&server, "o").await;
    owned(&server, "c", &[("v1", "ConfigMap", "o", &uid)]).await;
    let (code, answer) = delete(
        &server,
        &format!("{GC_CM}/o"),
        json!({"propagationPolicy": "Foreground"}),
    )
    .await;
    // As the real server: the owner, marked, with the finalizer that holds it.
    assert_eq!(code, 200);
    assert_eq!(answer["kind"], "ConfigMap");
    assert_eq!(
        answer["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert_eq!(answer["metadata"]["deletionGracePeriodSeconds"], 0);
    assert!(answer["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(get(&server, &format!("{GC_CM}/c")).await.0, 404);
    assert_eq!(get(&server, &format!("{GC_CM}/o")).await.0, 404);
}

#[tokio::test]
async fn orphan_deletion_leaves_dependents_without_the_reference() {
    let server = TestServer::start().await.unwrap();
    let uid = owner(&server, "o").await;
    owned(&server, "c", &[("v1", "ConfigMap", "o", &uid)]).await;
    let (code, answer) = delete(
        &server,
        &format!("{GC_CM}/o"),
        json!({"propagationPolicy": "Orphan"}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(answer["metadata"]["finalizers"], json!(["orphan"]));
    let (code, child) = get(&server, &format!("{GC_CM}/c")).await;
    assert_eq!(code, 200);
    assert!(child["metadata"].get("ownerReferences").is_none());
    // The only manager owned just the reference: no entry is left.
    assert!(child["metadata"].get("managedFields").is_none(), "{child}");
    assert_eq!(get(&server, &format!("{GC_CM}/o")).await.0, 404);
    // The legacy flag means the same.
    let uid = owner(&server, "o2").await;
    owned(&server, "c2", &[("v1", "ConfigMap", "o2", &uid)]).await;
    let (_, answer) = delete(
        &server,
        &format!("{GC_CM}/o2"),
        json!({"orphanDependents": true}),
    )
    .await;
    assert_eq!(answer["metadata"]["finalizers"], json!(["orphan"]));
    assert_eq!(get(&server, &format!("{GC_CM}/c2")).await.0, 200);
}

#[tokio::test]
async fn jobs_and_replication_controllers_orphan_by_default() {
    let server = TestServer::start().await.unwrap();
    let (code, job) = post(
        &server,
        "/apis/batch/v1/namespaces/default/jobs",
        json!({"metadata": {"name": "j"}, "spec": {"suspend": true, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}),
    )
    .await;
    assert_eq!(code, 201);
    let uid = job["metadata"]["uid"].as_str().unwrap().to_owned();
    owned(&server, "from-job", &[("batch/v1", "Job", "j", &uid)]).await;
    let (code, answer) = delete(
        &server,
        "/apis/batch/v1/namespaces/default/jobs/j",
        Value::Null,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(answer["metadata"]["finalizers"], json!(["orphan"]));
    let (code, child) = get(&server, &format!("{GC_CM}/from-job")).await;
    assert_eq!(code, 200);
    assert!(child["metadata"].get("ownerReferences").is_none());
    // A ConfigMap owner: Background by default.
    let uid = owner(&server, "o").await;
    owned(&server, "c", &[("v1", "ConfigMap", "o", &uid)]).await;
    assert_eq!(
        delete(&server, &format!("{GC_CM}/o"), Value::Null).await.0,
        200
    );
    assert_eq!(get(&server, &format!("{GC_CM}/c")).await.0, 404);
}

#[tokio::test]
async fn dependents_with_another_owner_only_lose_the_reference() {
    let server = TestServer::start().await.unwrap();
    let a = owner(&server, "a").await;
    let b = owner(&server, "b").await;
    owned(
        &server,
        "c",
        &[("v1", "ConfigMap", "a", &a), ("v1", "ConfigMap", "b", &b)],
    )
    .await;
    assert_eq!(
        delete(&server, &format!("{GC_CM}/a"), Value::Null).await.0,
        200
    );
    let (code, child) = get(&server, &format!("{GC_CM}/c")).await;
    assert_eq!(code, 200);
    assert_eq!(child["metadata"]["ownerReferences"][0]["uid"], json!(b));
    assert_eq!(
        child["metadata"]["ownerReferences"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn delete_collection_collects_and_answers_items_as_stored() {
    let server = TestServer::start().await.unwrap();
    let (_, o) = post(
        &server,
        GC_CM,
        json!({"metadata": {"name": "o", "labels": {"owner": "yes"}}}),
    )
    .await;
    let uid = o["metadata"]["uid"].as_str().unwrap().to_owned();
    owned(&server, "c", &[("v1", "ConfigMap", "o", &uid)]).await;
    let (code, list) = delete(
        &server,
        &format!("{GC_CM}?labelSelector=owner"),
        Value::Null,
    )
    .await;
    assert_eq!(code, 200);
    let item = &list["items"][0]["metadata"];
    assert_eq!(item["resourceVersion"], o["metadata"]["resourceVersion"]);
    assert!(item.get("deletionTimestamp").is_none());
    assert_eq!(get(&server, &format!("{GC_CM}/c")).await.0, 404);
}

#[tokio::test]
async fn invalid_propagation_policies_are_refused_as_the_real_server_does() {
    let server = TestServer::start().await.unwrap();
    owner(&server, "o").await;
    let (code, status) = delete(
        &server,
        &format!("{GC_CM}/o"),
        json!({"propagationPolicy": "Sideways"}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueNotSupported"
    );
    let (code, status) = delete(
        &server,
        &format!("{GC_CM}/o"),
        json!({"propagationPolicy": "Orphan", "orphanDependents": false}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "Invalid value: \"Orphan\": orphanDependents and deletionPropagation cannot be both set"
    );
    assert_eq!(get(&server, &format!("{GC_CM}/o")).await.0, 200);
}

const POD_SPEC: &str = r#"{"containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":80}]},{"name":"l","image":"busybox:latest"},{"name":"n","image":"registry.example/x"}]}"#;

/// The pod spec defaults the real 1.36 server answered for `POD_SPEC`.
fn defaulted_pod_spec() -> Value {
    let container = |name: &str, image: &str, pull: &str| {
        json!({"name": name, "image": image, "imagePullPolicy": pull, "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
    };
    let mut c = container("c", "nginx:1.27", "IfNotPresent");
    c["ports"] = json!([{"containerPort": 80, "protocol": "TCP"}]);
    json!({
        "containers": [c, container("l", "busybox:latest", "Always"), container("n", "registry.example/x", "Always")],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "terminationGracePeriodSeconds": 30,
    })
}

#[tokio::test]
async fn pods_and_workloads_are_defaulted_as_the_real_server_does() {
    let server = TestServer::start().await.unwrap();
    let spec: Value = serde_json::from_str(POD_SPEC).unwrap();
    let (code, pod) = post(
        &server,
        "/api/v1/namespaces/default/pods",
        json!({"metadata": {"name": "p"}, "spec": spec}),
    )
    .await;
    assert_eq!(code, 201);
    let mut expected = defaulted_pod_spec();
    expected["enableServiceLinks"] = json!(true);
    expected["priority"] = json!(0);
    expected["preemptionPolicy"] = json!("PreemptLowerPriority");
    expected["tolerations"] = json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ]);
    assert_eq!(pod["spec"], expected);
    assert_eq!(
        pod["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
    // The writer owns the decoding defaults, not the admission ones.
    let owned = &pod["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"];
    assert!(owned.get("f:dnsPolicy").is_some() && owned.get("f:priority").is_none());

    let (code, d) = post(
        &server,
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "w"}},
            "template": {"metadata": {"labels": {"app": "w"}}, "spec": spec}}}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(d["spec"]["template"]["spec"], defaulted_pod_spec());
    assert_eq!(
        (
            &d["spec"]["replicas"],
            &d["spec"]["strategy"],
            &d["spec"]["revisionHistoryLimit"],
            &d["spec"]["progressDeadlineSeconds"]
        ),
        (
            &json!(1),
            &json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            &json!(10),
            &json!(600)
        )
    );
    assert_eq!(d["status"], json!({}));

    let (code, job) = post(
        &server,
        "/apis/batch/v1/namespaces/default/jobs",
        json!({"metadata": {"name": "j"}, "spec": {"suspend": true, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}),
    )
    .await;
    assert_eq!(code, 201);
    let uid = job["metadata"]["uid"].clone();
    assert_eq!(job["metadata"]["labels"]["controller-uid"], uid);
    assert_eq!(
        job["metadata"]["labels"]["batch.kubernetes.io/job-name"],
        "j"
    );
    assert_eq!(
        job["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    assert_eq!(
        (
            &job["spec"]["backoffLimit"],
            &job["spec"]["completionMode"],
            &job["spec"]["podReplacementPolicy"]
        ),
        (
            &json!(6),
            &json!("NonIndexed"),
            &json!("TerminatingOrFailed")
        )
    );
}

#[tokio::test]
async fn services_get_an_address_and_secrets_fold_string_data() {
    let server = TestServer::start().await.unwrap();
    let (code, svc) = post(
        &server,
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "s"}, "spec": {"selector": {"app": "w"}, "ports": [{"port": 80}]}}),
    )
    .await;
    assert_eq!(code, 201);
    let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_owned();
    assert!(ip.starts_with("10.0.0."), "{ip}");
    let mut spec = svc["spec"].clone();
    spec["clusterIP"] = json!("IP");
    spec["clusterIPs"] = json!(["IP"]);
    assert_eq!(
        spec,
        json!({"clusterIP": "IP", "clusterIPs": ["IP"], "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"app": "w"}, "sessionAffinity": "None", "type": "ClusterIP"})
    );
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let (_, headless) = post(
        &server,
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 81, "targetPort": "http"}]}}),
    )
    .await;
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");
    assert_eq!(headless["spec"]["ports"][0]["targetPort"], "http");

    let (code, secret) = post(
        &server,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "s", "labels": {}}, "stringData": {"a": "b"}}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(secret["data"], json!({"a": "Yg=="}));
    assert_eq!(secret["type"], "Opaque");
    assert!(secret.get("stringData").is_none());
    // Empty label maps are dropped, as by the real server.
    assert!(secret["metadata"].get("labels").is_none());
    let owned = &secret["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(owned["f:data"], json!({".": {}, "f:a": {}}));
}

async fn put(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    call(server, "PUT", path, "application/json", &body.to_string()).await
}

#[tokio::test]
async fn invalid_objects_are_refused_with_the_real_causes() {
    let server = TestServer::start().await.unwrap();
    let (code, status) = post(
        &server,
        "/api/v1/namespaces/default/pods",
        json!({"metadata": {"name": "noimage"}, "spec": {"containers": [{"name": "c"}]}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "Pod \"noimage\" is invalid: spec.containers[0].image: Required value"
    );
    let (code, status) = post(
        &server,
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"metadata": {"name": "nosel"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "Deployment.apps \"nosel\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`]"
    );
    assert_eq!(status["details"]["group"], "apps");

    let secrets = "/api/v1/namespaces/default/secrets";
    let (code, status) = post(
        &server,
        secrets,
        json!({"metadata": {"name": "badtls"}, "type": "kubernetes.io/tls", "data": {}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "Secret \"badtls\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]"
    );
    let (code, _) = post(
        &server,
        secrets,
        json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
    )
    .await;
    assert_eq!(code, 201);
    let (code, status) = put(
        &server,
        &format!("{secrets}/tls"),
        json!({"metadata": {"name": "tls"}, "type": "Opaque", "data": {}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "Secret \"tls\" is invalid: type: Invalid value: \"Opaque\": field is immutable"
    );
}

#[tokio::test]
async fn custom_objects_are_type_checked_and_need_a_resource_version_to_replace() {
    let server = TestServer::start().await.unwrap();
    let (code, _) = post(
        &server,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        json!({"metadata": {"name": "gadgets.t.example"}, "spec": {"group": "t.example", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}}),
    )
    .await;
    assert_eq!(code, 201);
    let gadgets = "/apis/t.example/v1/namespaces/default/gadgets";
    let (code, status) = post(
        &server,
        gadgets,
        json!({"apiVersion": "t.example/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": "big"}}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "Gadget.t.example \"g\" is invalid: spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueTypeInvalid"
    );
    let body = json!({"apiVersion": "t.example/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 1}});
    assert_eq!(post(&server, gadgets, body.clone()).await.0, 201);
    let (code, status) = put(&server, &format!("{gadgets}/g"), body).await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "gadgets.t.example \"g\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"
    );
}

#[tokio::test]
async fn small_answers_match_the_real_server() {
    let server = TestServer::start().await.unwrap();
    // The update that removes the last finalizer answers the version last stored.
    let (_, held) = post(
        &server,
        GC_CM,
        json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let (_, marked) = delete(&server, &format!("{GC_CM}/held"), Value::Null).await;
    assert_ne!(
        marked["metadata"]["resourceVersion"],
        held["metadata"]["resourceVersion"]
    );
    let (code, gone) = call(
        &server,
        "PATCH",
        &format!("{GC_CM}/held"),
        "application/merge-patch+json",
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        gone["metadata"]["resourceVersion"],
        marked["metadata"]["resourceVersion"]
    );
    assert_eq!(get(&server, &format!("{GC_CM}/held")).await.0, 404);
    // Services carry no generation.
    let (_, svc) = post(
        &server,
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await;
    assert!(svc["metadata"].get("generation").is_none());
    // A scale of zero replicas leaves spec.replicas out.
    let (_, _) = post(
        &server,
        "/apis/apps/v1/namespaces/default/replicasets",
        json!({"metadata": {"name": "r"}, "spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    )
    .await;
    let (_, scale) = get(
        &server,
        "/apis/apps/v1/namespaces/default/replicasets/r/scale",
    )
    .await;
    assert_eq!(scale["spec"], json!({}));
    // CRDs default their conversion; custom lists keep apiVersion and kind on items.
    let (_, crd) = post(
        &server,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        json!({"metadata": {"name": "gadgets.t.example"}, "spec": {"group": "t.example", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}),
    )
    .await;
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    let gadgets = "/apis/t.example/v1/namespaces/default/gadgets";
    post(
        &server,
        gadgets,
        json!({"apiVersion": "t.example/v1", "kind": "Gadget", "metadata": {"name": "g"}}),
    )
    .await;
    let (_, list) = get(&server, gadgets).await;
    assert_eq!(list["items"][0]["kind"], "Gadget");
}

#[tokio::test]
async fn error_messages_use_the_real_servers_words() {
    let server = TestServer::start().await.unwrap();
    let (_, cm) = post(&server, GC_CM, json!({"metadata": {"name": "m"}})).await;
    let rv = cm["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, status) = delete(
        &server,
        &format!("{GC_CM}/m"),
        json!({"preconditions": {"resourceVersion": "1"}}),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        status["message"],
        format!(
            "Operation cannot be fulfilled on ConfigMap \"m\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ({rv}). The object might have been modified"
        )
    );
    assert_eq!(status["details"]["kind"], "ConfigMap");
    let json_patch = |body: &'static str| {
        let server = &server;
        async move {
            call(
                server,
                "PATCH",
                &format!("{GC_CM}/m"),
                "application/json-patch+json",
                body,
            )
            .await
        }
    };
    let (code, status) = json_patch(r#"[{"op":"test","path":"/data/x","value":"y"}]"#).await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "the server rejected our request due to an error in our request"
    );
    let (code, status) = json_patch(r#"{"op":"add"}"#).await;
    assert_eq!(code, 400);
    assert_eq!(
        status["message"],
        "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"
    );
    let (code, status) = get(
        &server,
        &format!("{GC_CM}?resourceVersion=1&resourceVersionMatch=Bogus"),
    )
    .await;
    assert_eq!(code, 422);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .ends_with("supported values: \"Exact\", \"NotOlderThan\", \"\""),
        "{status}"
    );
}
