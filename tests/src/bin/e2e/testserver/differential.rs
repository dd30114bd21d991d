//! The differential suite: one script of raw requests sent in order to kuber-testserver (started
//! here) and to the real control plane, each in a namespace of its own run; answers compared
//! after masking what always differs (uids, times, resourceVersion values, continue tokens,
//! generated name suffixes). A report, not a gate: the case passes when the script ran.
//!
//! Prints `differential: N/M responses equivalent` and every difference (request, what differed,
//! the masked JSON path).

use std::collections::HashMap;
use std::time::Duration;

use http_body_util::BodyExt as _;
use kuber_api::request::{Body, Operation};
use kuber_api::{Client, Request};
use serde_json::{Value, json};

use crate::case;
use crate::support::{Case, E2e, Outcome};

pub fn cases() -> Vec<Case> {
    vec![case!("differential", differential)]
}

const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

static GET: Operation = Operation::untyped("differentialGet", "GET", "/");
static POST: Operation = Operation::untyped("differentialPost", "POST", "/");
static PUT: Operation = Operation::untyped("differentialPut", "PUT", "/");
static PATCH: Operation = Operation::untyped("differentialPatch", "PATCH", "/");
static DELETE: Operation = Operation::untyped("differentialDelete", "DELETE", "/");

/// What a step does to one side only before it is sent.
#[derive(Clone, Copy, PartialEq)]
enum Hook {
    None,
    /// The test server forgets its watch history (the real one's is long gone for RV 1).
    Compact,
    /// Controllers (GC, CRD establishment) work asynchronously on the real server.
    Settle,
}

/// How answers are compared.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// The masked bodies.
    Body,
    /// Only the status code and the names of the listed items (lists of defaulted kinds).
    Names,
}

struct Step {
    method: &'static str,
    /// Path and query, with `$var` placeholders.
    path: String,
    content_type: &'static str,
    body: Option<String>,
    /// `(var, JSON pointer)`: values of the answer later steps use.
    save: Vec<(&'static str, &'static str)>,
    hook: Hook,
    compare: Compare,
}

fn step(method: &'static str, path: &str) -> Step {
    Step {
        method,
        path: path.to_owned(),
        content_type: JSON,
        body: None,
        save: Vec::new(),
        hook: Hook::None,
        compare: Compare::Body,
    }
}

fn get(path: &str) -> Step {
    step("GET", path)
}
fn post(path: &str, body: &str) -> Step {
    step("POST", path).body(JSON, body)
}
fn put(path: &str, body: &str) -> Step {
    step("PUT", path).body(JSON, body)
}
fn patch(path: &str, content_type: &'static str, body: &str) -> Step {
    step("PATCH", path).body(content_type, body)
}
fn delete(path: &str) -> Step {
    step("DELETE", path)
}

impl Step {
    fn body(mut self, content_type: &'static str, body: &str) -> Step {
        self.content_type = content_type;
        self.body = Some(body.to_owned());
        self
    }
    fn save(mut self, var: &'static str, pointer: &'static str) -> Step {
        self.save.push((var, pointer));
        self
    }
    fn hook(mut self, hook: Hook) -> Step {
        self.hook = hook;
        self
    }
    fn names(mut self) -> Step {
        self.compare = Compare::Names;
        self
    }
}

const CM: &str = "/api/v1/namespaces/$ns/configmaps";

fn cm(name: &str, labels: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","labels":{labels}}},"data":{{"k":"v"}}}}"#
    )
}

/// The script. `$ns` is the run's namespace, `$group` its CRD group.
fn script() -> Vec<Step> {
    let mut s = vec![
        // Namespace.
        post("/api/v1/namespaces", r#"{"metadata":{"name":"$ns"}}"#),
        get("/api/v1/namespaces/$ns"),
        post("/api/v1/namespaces", r#"{"metadata":{"name":"$ns"}}"#),
        get("/api/v1/namespaces?fieldSelector=metadata.name%3D$ns").names(),
        get("/api/v1/namespaces?fieldSelector=status.phase%3DActive,metadata.name%3D$ns").names(),
        get("/api/v1/namespaces?fieldSelector=spec.foo%3Dx"),
        // ConfigMaps: create, get, errors.
        post(CM, &cm("a", r#"{"app":"web","tier":"front"}"#))
            .save("rv_a", "/metadata/resourceVersion"),
        post(CM, &cm("b", r#"{"app":"db"}"#)),
        post(
            CM,
            r#"{"metadata":{"generateName":"gen-","labels":{"app":"web"}},"data":{"x":"1"}}"#,
        )
        .save("gen", "/metadata/name"),
        get(&format!("{CM}/a")),
        get(&format!("{CM}/$gen")),
        get(&format!("{CM}/missing")),
        post(CM, &cm("a", r#"{}"#)),
        post(CM, &cm("Bad_Name", r#"{}"#)),
        post(CM, r#"{"metadata":{"labels":{"a":"b"}}}"#),
        post(
            CM,
            r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"wrongkind"}}"#,
        ),
        post(
            CM,
            r#"{"metadata":{"name":"otherns","namespace":"elsewhere"}}"#,
        ),
        post(CM, "{not json"),
        post(
            "/api/v1/namespaces/nonexistent-diff-ns/configmaps",
            &cm("x", "{}"),
        ),
        step("POST", &format!("{CM}/a")).body(JSON, &cm("a", "{}")),
        step("PUT", CM).body(JSON, &cm("a", "{}")),
        // Label selectors.
        get(&format!("{CM}?labelSelector=app")),
        get(&format!("{CM}?labelSelector=app%3Dweb")),
        get(&format!("{CM}?labelSelector=app%3D%3Dweb")),
        get(&format!("{CM}?labelSelector=app%20in%20(web,db)")),
        get(&format!("{CM}?labelSelector=app%20notin%20(web),app")),
        get(&format!("{CM}?labelSelector=app!%3Dweb,app")),
        get(&format!("{CM}?labelSelector=!tier,app")),
        get(&format!("{CM}?labelSelector=tier,app%3Dweb")),
        get(&format!("{CM}?labelSelector=app%20in")),
        get(&format!("{CM}?labelSelector=app%3Dweb,")),
        // Field selectors.
        get(&format!("{CM}?fieldSelector=metadata.name%3Da")),
        get(&format!(
            "{CM}?fieldSelector=metadata.name!%3Da&labelSelector=app"
        )),
        get(&format!(
            "{CM}?fieldSelector=metadata.namespace%3D$ns&labelSelector=app%3Ddb"
        )),
        get(&format!("{CM}?fieldSelector=data.k%3Dv")),
        get(&format!("{CM}?fieldSelector=metadata.name")),
    ];
    // Paging over six more.
    for i in 0..6 {
        s.push(post(CM, &cm(&format!("page-{i}"), r#"{"paged":"yes"}"#)));
    }
    s.extend([
        get(&format!("{CM}?labelSelector=paged&limit=2")).save("c1", "/metadata/continue"),
        get(&format!("{CM}?labelSelector=paged&limit=2&continue=$c1")).save("c2", "/metadata/continue"),
        get(&format!("{CM}?labelSelector=paged&limit=2&continue=$c2")),
        get(&format!("{CM}?labelSelector=paged&limit=10")),
        get(&format!("{CM}?labelSelector=paged&limit=0")),
        get(&format!("{CM}?labelSelector=paged&continue=bm90LWEtdG9rZW4")),
        get(&format!("{CM}?labelSelector=paged&limit=3&fieldSelector=metadata.name!%3Dpage-0")),
        // resourceVersion semantics on lists.
        get(&format!("{CM}?labelSelector=paged&resourceVersion=0")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=$rv_a&resourceVersionMatch=NotOlderThan")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=$rv_a&resourceVersionMatch=Exact")),
        get(&format!("{CM}?labelSelector=paged&resourceVersionMatch=NotOlderThan")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=abc")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=1&resourceVersionMatch=Exact")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=$rv_a&resourceVersionMatch=Bogus")),
        get(&format!("{CM}?labelSelector=paged&resourceVersion=99999999999&resourceVersionMatch=NotOlderThan")),
        get(&format!("{CM}/a?resourceVersion=0")),
        // Updates.
        put(&format!("{CM}/a"), r#"{"metadata":{"name":"a","resourceVersion":"$rv_a","labels":{"app":"web","tier":"front"}},"data":{"k":"v2"}}"#).save("rv_a2", "/metadata/resourceVersion"),
        put(&format!("{CM}/a"), r#"{"metadata":{"name":"a","resourceVersion":"$rv_a"},"data":{"k":"stale"}}"#),
        put(&format!("{CM}/a"), r#"{"metadata":{"name":"other"},"data":{}}"#),
        put(&format!("{CM}/missing"), r#"{"metadata":{"name":"missing"},"data":{}}"#),
        put(&format!("{CM}/a"), r#"{"metadata":{"name":"a","labels":{"app":"web","tier":"front"}},"data":{"k":"v2"}}"#),
        put(&format!("{CM}/a"), r#"{"metadata":{"name":"a","labels":{"app":"web","tier":"front"}},"data":{"k":"v3"}}"#),
        put(&format!("{CM}/a"), r#"[1,2]"#),
        // Patches.
        patch(&format!("{CM}/a"), MERGE, r#"{"data":{"m":"1"},"metadata":{"annotations":{"note":"x"}}}"#),
        patch(&format!("{CM}/a"), MERGE, r#"{"data":{"m":null}}"#),
        patch(&format!("{CM}/a"), MERGE, r#"{"metadata":{"resourceVersion":"$rv_a"},"data":{"z":"1"}}"#),
        patch(&format!("{CM}/a"), JSON_PATCH, r#"[{"op":"add","path":"/data/j","value":"1"}]"#),
        patch(&format!("{CM}/a"), JSON_PATCH, r#"[{"op":"replace","path":"/data/j","value":"2"},{"op":"remove","path":"/data/k"}]"#),
        patch(&format!("{CM}/a"), JSON_PATCH, r#"[{"op":"test","path":"/data/j","value":"nope"}]"#),
        patch(&format!("{CM}/a"), JSON_PATCH, r#"[{"op":"remove","path":"/data/absent"}]"#),
        patch(&format!("{CM}/a"), JSON_PATCH, r#"{"op":"add"}"#),
        patch(&format!("{CM}/a"), STRATEGIC, r#"{"data":{"s":"1"}}"#),
        patch(&format!("{CM}/missing"), MERGE, r#"{"data":{"s":"1"}}"#),
        patch(&format!("{CM}/a"), "text/plain", r#"{"data":{"s":"1"}}"#),
        // Create bodies: a type with no decoder (415), protobuf without its prefix (400).
        step("POST", CM).body("text/plain", "x"),
        step("POST", CM).body("application/vnd.kubernetes.protobuf", "not protobuf"),
        patch(&format!("{CM}/a"), MERGE, "{not json"),
        get(&format!("{CM}/a")),
        // Server-side apply: create, conflict, force.
        patch(&format!("{CM}/applied?fieldManager=alice"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"owner":"alice"}}"#),
        patch(&format!("{CM}/applied?fieldManager=alice"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"owner":"alice","more":"1"}}"#),
        patch(&format!("{CM}/applied?fieldManager=bob"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"owner":"bob"}}"#),
        patch(&format!("{CM}/applied?fieldManager=bob&force=true"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"owner":"bob"}}"#),
        patch(&format!("{CM}/applied"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"}}"#),
        patch(&format!("{CM}/applied?fieldManager=alice"), APPLY, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"more":"1"}}"#),
        get(&format!("{CM}/applied")),
        // dryRun.
        post(&format!("{CM}?dryRun=All"), &cm("dry", "{}")),
        get(&format!("{CM}/dry")),
        delete(&format!("{CM}/a?dryRun=All")),
        get(&format!("{CM}/a?resourceVersion=0")).save("rv_a3", "/metadata/resourceVersion"),
        // Watches (bounded): from a resourceVersion, with selectors, initial events, 410.
        get(&format!("{CM}?watch=true&resourceVersion=$rv_a&timeoutSeconds=2&labelSelector=app")),
        get(&format!("{CM}?watch=true&resourceVersion=$rv_a&timeoutSeconds=2&fieldSelector=metadata.name%3Da")),
        get(&format!("{CM}?watch=true&resourceVersion=$rv_a3&timeoutSeconds=1")),
        get(&format!("{CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=app%3Ddb")),
        get(&format!("{CM}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&timeoutSeconds=1")),
        get(&format!("{CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")),
        get(&format!("{CM}?watch=true&resourceVersion=1&timeoutSeconds=1")).hook(Hook::Compact),
        get(&format!("{CM}?watch=true&resourceVersion=abc&timeoutSeconds=1")),
        get(&format!("{CM}?watch=true&timeoutSeconds=1&labelSelector=paged%3Dyes,app")),
        // Deletes.
        delete(&format!("{CM}/b")),
        delete(&format!("{CM}/b")),
        step("DELETE", &format!("{CM}/$gen")).body(JSON, r#"{"preconditions":{"resourceVersion":"1"}}"#),
        step("DELETE", &format!("{CM}/$gen")).body(JSON, r#"{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}"#),
        delete(&format!("{CM}/$gen")),
        delete(&format!("{CM}?labelSelector=paged%3Dyes,!keep&fieldSelector=metadata.name!%3Dpage-5")),
        get(&format!("{CM}?labelSelector=paged")),
        // A finalizer holds a delete.
        post(CM, r#"{"metadata":{"name":"held","finalizers":["example.com/hold"]}}"#),
        delete(&format!("{CM}/held")),
        get(&format!("{CM}/held")),
        delete(&format!("{CM}/held")),
        patch(&format!("{CM}/held"), MERGE, r#"{"metadata":{"finalizers":null}}"#),
        get(&format!("{CM}/held")),
    ]);
    s.extend(secrets_and_events());
    s.extend(workloads());
    s.extend(defaults());
    s.extend(garbage_collection());
    s.extend(custom_resources());
    s.extend([
        // Paths and methods the server does not serve.
        get("/api/v1/namespaces/$ns/nothings"),
        get("/apis/nogroup.example/v1/things"),
        delete("/api/v1/namespaces/$ns/configmaps/a/status"),
        get("/api/v1/namespaces/$ns/pods/missing/status"),
        step("PATCH", "/api/v1/namespaces/$ns/configmaps").body(MERGE, "{}"),
        get("/api/v1/componentstatuses/nothing"),
        // The namespace goes last.
        delete("/api/v1/namespaces/$ns"),
        get(&format!("{CM}/a")),
        post(CM, &cm("late", "{}")),
    ]);
    s
}

fn secrets_and_events() -> Vec<Step> {
    let secrets = "/api/v1/namespaces/$ns/secrets";
    let events = "/api/v1/namespaces/$ns/events";
    let event = |name: &str, object: &str, reason: &str, type_: &str| {
        format!(
            r#"{{"metadata":{{"name":"{name}"}},"involvedObject":{{"kind":"ConfigMap","namespace":"$ns","name":"{object}","apiVersion":"v1"}},"reason":"{reason}","message":"m","type":"{type_}","source":{{"component":"diff"}},"reportingComponent":"diff"}}"#
        )
    };
    vec![
        post(
            secrets,
            r#"{"metadata":{"name":"opaque"},"stringData":{"a":"b"}}"#,
        ),
        post(
            secrets,
            r#"{"metadata":{"name":"tls"},"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}}"#,
        ),
        post(
            secrets,
            r#"{"metadata":{"name":"basic"},"type":"kubernetes.io/basic-auth","stringData":{"username":"u"}}"#,
        ),
        post(
            secrets,
            r#"{"metadata":{"name":"badtls"},"type":"kubernetes.io/tls","data":{}}"#,
        ),
        get(&format!("{secrets}/opaque")),
        get(&format!("{secrets}?fieldSelector=type%3Dkubernetes.io/tls")).names(),
        get(&format!("{secrets}?fieldSelector=type!%3DOpaque")).names(),
        get(&format!("{secrets}?fieldSelector=type%3DOpaque")).names(),
        put(
            &format!("{secrets}/tls"),
            r#"{"metadata":{"name":"tls"},"type":"Opaque","data":{}}"#,
        ),
        post(events, &event("e1", "a", "Created", "Normal")),
        post(events, &event("e2", "a", "Failed", "Warning")),
        post(events, &event("e3", "b", "Created", "Normal")),
        get(&format!("{events}/e1")),
        get(&format!("{events}?fieldSelector=involvedObject.name%3Da")).names(),
        get(&format!("{events}?fieldSelector=reason%3DCreated")).names(),
        get(&format!("{events}?fieldSelector=type%3DWarning")).names(),
        get(&format!(
            "{events}?fieldSelector=involvedObject.kind%3DConfigMap,involvedObject.name!%3Da"
        ))
        .names(),
        get(&format!("{events}?fieldSelector=source%3Ddiff")).names(),
        get(&format!("{events}?fieldSelector=involvedObject.uid%3D")).names(),
        get(&format!("{events}?fieldSelector=message%3Dm")),
    ]
}

fn workloads() -> Vec<Step> {
    let pods = "/api/v1/namespaces/$ns/pods";
    let deploys = "/apis/apps/v1/namespaces/$ns/deployments";
    let rs = "/apis/apps/v1/namespaces/$ns/replicasets";
    let jobs = "/apis/batch/v1/namespaces/$ns/jobs";
    let pod = |name: &str, node: &str, restart: &str| {
        format!(
            r#"{{"metadata":{{"name":"{name}","labels":{{"pod":"yes"}}}},"spec":{{"nodeName":"{node}","restartPolicy":"{restart}","automountServiceAccountToken":false,"containers":[{{"name":"c","image":"busybox"}}]}}}}"#
        )
    };
    let template = r#"{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#;
    vec![
        post(pods, &pod("p1", "node-a", "Always")),
        post(pods, &pod("p2", "node-b", "Never")),
        post(pods, &pod("p3", "node-a", "OnFailure")),
        post(pods, r#"{"metadata":{"name":"noimage"},"spec":{"containers":[{"name":"c"}]}}"#),
        get(&format!("{pods}?fieldSelector=spec.nodeName%3Dnode-a")).names(),
        get(&format!("{pods}?fieldSelector=spec.nodeName!%3Dnode-a")).names(),
        get(&format!("{pods}?fieldSelector=spec.restartPolicy%3DNever")).names(),
        get(&format!("{pods}?fieldSelector=status.phase%3DPending")).names(),
        get(&format!("{pods}?fieldSelector=spec.schedulerName%3Ddefault-scheduler")).names(),
        get(&format!("{pods}?fieldSelector=spec.serviceAccountName%3Ddefault")).names(),
        get(&format!("{pods}?fieldSelector=status.podIP%3D")).names(),
        get(&format!("{pods}?fieldSelector=status.nominatedNodeName%3D")).names(),
        get(&format!("{pods}?fieldSelector=spec.nodeName%3Dnode-a,spec.restartPolicy%3DAlways")).names(),
        get(&format!("{pods}?fieldSelector=spec.hostname%3Dx")),
        get(&format!("{pods}?labelSelector=pod%3Dyes&limit=1")).names(),
        put(&format!("{pods}/p1/status"), r#"{"metadata":{"name":"p1"},"status":{"phase":"Running","podIP":"10.0.0.1"}}"#).names(),
        get(&format!("{pods}?fieldSelector=status.phase%3DRunning")).names(),
        get(&format!("{pods}?fieldSelector=status.podIP%3D10.0.0.1")).names(),
        get(&format!("{pods}?watch=true&fieldSelector=spec.nodeName%3Dnode-b&timeoutSeconds=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")).names(),
        delete(&format!("{pods}/p3")).names(),
        // Deployments: generation, status and scale subresources.
        post(deploys, &format!(r#"{{"metadata":{{"name":"d"}},"spec":{{"replicas":1,"selector":{{"matchLabels":{{"app":"d"}}}},"template":{template}}}}}"#)).names(),
        get(&format!("{deploys}/d/scale")),
        put(&format!("{deploys}/d/scale"), r#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d","namespace":"$ns"},"spec":{"replicas":3}}"#),
        get(&format!("{deploys}/d/scale")),
        patch(&format!("{deploys}/d/scale"), MERGE, r#"{"spec":{"replicas":2}}"#),
        patch(&format!("{deploys}/d"), MERGE, r#"{"metadata":{"labels":{"x":"y"}}}"#).names(),
        patch(&format!("{deploys}/d"), STRATEGIC, r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}"#).names(),
        get(&format!("{deploys}?fieldSelector=metadata.name%3Dd")).names(),
        get(&format!("{deploys}?fieldSelector=status.replicas%3D0")),
        post(deploys, r#"{"metadata":{"name":"bad"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"y"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#),
        // ReplicaSets: scale and status.replicas.
        post(rs, &format!(r#"{{"metadata":{{"name":"r"}},"spec":{{"replicas":0,"selector":{{"matchLabels":{{"app":"d"}}}},"template":{template}}}}}"#)).names(),
        get(&format!("{rs}/r/scale")),
        get(&format!("{rs}?fieldSelector=status.replicas%3D0")).names(),
        get(&format!("{rs}?fieldSelector=status.replicas%3D5")).names(),
        get("/api/v1/namespaces/$ns/replicationcontrollers?fieldSelector=status.replicas%3D0").names(),
        // Jobs (suspended: nothing runs).
        post(jobs, r#"{"metadata":{"name":"j"},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}"#).names(),
        get(&format!("{jobs}?fieldSelector=status.successful%3D0")).names(),
        get(&format!("{jobs}/j/scale")),
        // Cluster-scoped field selectors.
        get("/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue").names(),
        get("/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%3Dexample.com/none").names(),
    ]
}

/// What the server fills in on create, for the kinds users create most.
fn defaults() -> Vec<Step> {
    let services = "/api/v1/namespaces/$ns/services";
    let apps = "/apis/apps/v1/namespaces/$ns";
    let spec = r#"{"containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":80}]},{"name":"l","image":"busybox:latest"},{"name":"n","image":"registry.example/x"}]}"#;
    let template = format!(r#"{{"metadata":{{"labels":{{"app":"w"}}}},"spec":{spec}}}"#);
    let selector = r#"{"matchLabels":{"app":"w"}}"#;
    vec![
        post(
            "/api/v1/namespaces/$ns/pods",
            &format!(r#"{{"metadata":{{"name":"defaults"}},"spec":{spec}}}"#),
        ),
        post(
            services,
            r#"{"metadata":{"name":"svc"},"spec":{"selector":{"app":"w"},"ports":[{"port":80}]}}"#,
        ),
        post(
            services,
            r#"{"metadata":{"name":"headless"},"spec":{"clusterIP":"None","ports":[{"name":"h","port":81,"targetPort":"http","protocol":"UDP"}]}}"#,
        ),
        put(
            &format!("{services}/headless"),
            r#"{"metadata":{"name":"headless"},"spec":{"clusterIP":"10.0.0.99","ports":[{"name":"h","port":81,"targetPort":"http","protocol":"UDP"}]}}"#,
        ),
        post(
            "/api/v1/namespaces/$ns/serviceaccounts",
            r#"{"metadata":{"name":"sa"}}"#,
        ),
        post(
            &format!("{apps}/deployments"),
            &format!(
                r#"{{"metadata":{{"name":"dd"}},"spec":{{"selector":{selector},"template":{template}}}}}"#
            ),
        ),
        post(
            &format!("{apps}/statefulsets"),
            &format!(
                r#"{{"metadata":{{"name":"ss"}},"spec":{{"serviceName":"svc","selector":{selector},"template":{template}}}}}"#
            ),
        ),
        post(
            &format!("{apps}/daemonsets"),
            &format!(
                r#"{{"metadata":{{"name":"ds"}},"spec":{{"selector":{selector},"template":{template}}}}}"#
            ),
        ),
        post(
            &format!("{apps}/replicasets"),
            &format!(
                r#"{{"metadata":{{"name":"rs"}},"spec":{{"replicas":0,"selector":{selector},"template":{template}}}}}"#
            ),
        ),
        post(
            "/apis/batch/v1/namespaces/$ns/cronjobs",
            r#"{"metadata":{"name":"cj"},"spec":{"schedule":"0 0 1 1 *","suspend":true,"jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}}"#,
        ),
        post(
            "/apis/batch/v1/namespaces/$ns/jobs",
            r#"{"metadata":{"name":"j2"},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}"#,
        ),
        post(
            "/api/v1/namespaces/$ns/pods",
            r#"{"metadata":{"name":"noname"},"spec":{"containers":[{"image":"busybox"}]}}"#,
        ),
        post(
            &format!("{apps}/deployments"),
            r#"{"metadata":{"name":"nosel"},"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#,
        ),
    ]
}

fn garbage_collection() -> Vec<Step> {
    let owner_ref = |uid_var: &str, name: &str| {
        format!(r#"[{{"apiVersion":"v1","kind":"ConfigMap","name":"{name}","uid":"${uid_var}"}}]"#)
    };
    let child = |name: &str, owner: &str, uid_var: &str| {
        format!(
            r#"{{"metadata":{{"name":"{name}","labels":{{"gc":"yes"}},"ownerReferences":{}}}}}"#,
            owner_ref(uid_var, owner)
        )
    };
    vec![
        post(
            CM,
            r#"{"metadata":{"name":"owner-bg","labels":{"gc":"owner"}}}"#,
        )
        .save("uid_bg", "/metadata/uid"),
        post(
            CM,
            r#"{"metadata":{"name":"owner-fg","labels":{"gc":"owner"}}}"#,
        )
        .save("uid_fg", "/metadata/uid"),
        post(
            CM,
            r#"{"metadata":{"name":"owner-or","labels":{"gc":"owner"}}}"#,
        )
        .save("uid_or", "/metadata/uid"),
        post(CM, &child("child-bg", "owner-bg", "uid_bg")),
        post(CM, &child("child-fg", "owner-fg", "uid_fg")),
        post(CM, &child("child-or", "owner-or", "uid_or")),
        step("DELETE", &format!("{CM}/owner-bg"))
            .body(JSON, r#"{"propagationPolicy":"Background"}"#),
        get(&format!("{CM}/child-bg")).hook(Hook::Settle),
        step("DELETE", &format!("{CM}/owner-fg"))
            .body(JSON, r#"{"propagationPolicy":"Foreground"}"#),
        get(&format!("{CM}/child-fg")).hook(Hook::Settle),
        get(&format!("{CM}/owner-fg")),
        step("DELETE", &format!("{CM}/owner-or")).body(JSON, r#"{"propagationPolicy":"Orphan"}"#),
        get(&format!("{CM}/child-or")).hook(Hook::Settle),
        get(&format!("{CM}?labelSelector=gc")),
        step("DELETE", &format!("{CM}/child-or")).body(JSON, r#"{"propagationPolicy":"Sideways"}"#),
        // Default policies per kind, the legacy orphanDependents, delete-collection.
        post(
            "/apis/batch/v1/namespaces/$ns/jobs",
            r#"{"metadata":{"name":"gcjob"},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}"#,
        )
        .save("uid_job", "/metadata/uid")
        .names(),
        post(
            CM,
            r#"{"metadata":{"name":"child-job","ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"gcjob","uid":"$uid_job"}]}}"#,
        ),
        delete("/apis/batch/v1/namespaces/$ns/jobs/gcjob").names(),
        get(&format!("{CM}/child-job")).hook(Hook::Settle),
        post(
            "/api/v1/namespaces/$ns/replicationcontrollers",
            r#"{"metadata":{"name":"gcrc"},"spec":{"replicas":0,"selector":{"rc":"x"},"template":{"metadata":{"labels":{"rc":"x"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"#,
        )
        .save("uid_rc", "/metadata/uid")
        .names(),
        post(
            CM,
            r#"{"metadata":{"name":"child-rc","ownerReferences":[{"apiVersion":"v1","kind":"ReplicationController","name":"gcrc","uid":"$uid_rc"}]}}"#,
        ),
        delete("/api/v1/namespaces/$ns/replicationcontrollers/gcrc").names(),
        get(&format!("{CM}/child-rc")).hook(Hook::Settle),
        post(CM, r#"{"metadata":{"name":"owner-leg"}}"#).save("uid_leg", "/metadata/uid"),
        post(CM, &child("child-leg", "owner-leg", "uid_leg")),
        step("DELETE", &format!("{CM}/owner-leg")).body(JSON, r#"{"orphanDependents":true}"#),
        get(&format!("{CM}/child-leg")).hook(Hook::Settle),
        post(CM, r#"{"metadata":{"name":"owner-col","labels":{"gccol":"owner"}}}"#)
            .save("uid_col", "/metadata/uid"),
        post(CM, &child("child-col", "owner-col", "uid_col")),
        delete(&format!("{CM}?labelSelector=gccol%3Downer")),
        get(&format!("{CM}/child-col")).hook(Hook::Settle),
        step("DELETE", &format!("{CM}/child-col")).body(
            JSON,
            r#"{"propagationPolicy":"Orphan","orphanDependents":false}"#,
        ),
    ]
}

fn custom_resources() -> Vec<Step> {
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let widgets = "/apis/$group/v1/namespaces/$ns/widgets";
    let crd = r#"{"metadata":{"name":"widgets.$group"},"spec":{"group":"$group","scope":"Namespaced",
        "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
        "versions":[{"name":"v1","served":true,"storage":true,
          "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},
          "schema":{"openAPIV3Schema":{"type":"object","properties":{
            "spec":{"type":"object","properties":{
              "size":{"type":"integer","default":1},
              "replicas":{"type":"integer"},
              "color":{"type":"string","default":"blue"},
              "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
            "status":{"type":"object","properties":{"replicas":{"type":"integer"},"ready":{"type":"boolean"}}}}}}}]}}"#;
    vec![
        post(crds, crd),
        get(widgets).hook(Hook::Settle),
        get("/apis/$group/v1"),
        post(
            widgets,
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w1","labels":{"w":"1"}},"spec":{"replicas":1,"unknown":"dropped","extra":{"kept":true}}}"#,
        ),
        get(&format!("{widgets}/w1")),
        post(
            widgets,
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"size":5},"status":{"replicas":9}}"#,
        ),
        post(
            widgets,
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w3"},"spec":{"size":"big"}}"#,
        ),
        post(
            widgets,
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{}}"#,
        ),
        get(widgets),
        get(&format!("{widgets}?labelSelector=w%3D1")),
        get(&format!("{widgets}?fieldSelector=metadata.name%3Dw2")),
        get("/apis/$group/v1/widgets?labelSelector=w"),
        put(
            &format!("{widgets}/w1/status"),
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":100},"status":{"replicas":1,"ready":true}}"#,
        ),
        get(&format!("{widgets}/w1")),
        get(&format!("{widgets}/w1/scale")),
        put(
            &format!("{widgets}/w1/scale"),
            r#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"w1","namespace":"$ns"},"spec":{"replicas":4}}"#,
        ),
        get(&format!("{widgets}/w1")),
        patch(
            &format!("{widgets}/w1"),
            MERGE,
            r#"{"spec":{"color":"red","bogus":1}}"#,
        ),
        patch(
            &format!("{widgets}/w1"),
            JSON_PATCH,
            r#"[{"op":"add","path":"/spec/extra/more","value":2}]"#,
        ),
        patch(
            &format!("{widgets}/w1"),
            STRATEGIC,
            r#"{"spec":{"color":"green"}}"#,
        ),
        patch(
            &format!("{widgets}/w1?fieldManager=carol"),
            APPLY,
            r#"{"apiVersion":"$group/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"color":"black"}}"#,
        ),
        get(&format!(
            "{widgets}?watch=true&resourceVersion=0&timeoutSeconds=1"
        )),
        delete(&format!("{widgets}/w2")),
        delete(&format!("{widgets}/w2")),
        delete(&format!("{crds}/widgets.$group")).names(),
        get(&format!("{widgets}/w1")).hook(Hook::Settle),
        get(&format!("{crds}/widgets.$group")),
    ]
}

/// One side's answer: status code and the body (a watch: its events as an array).
#[derive(Clone)]
struct Answer {
    code: u16,
    body: Value,
}

struct Run {
    client: Client,
    vars: HashMap<String, String>,
    test_server: Option<kuber_testserver::TestServer>,
}

impl Run {
    fn fill(&self, text: &str) -> String {
        let mut vars: Vec<(&String, &String)> = self.vars.iter().collect();
        // Longest first: `$rv_a2` before `$rv_a`.
        vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let mut out = text.to_owned();
        for (k, v) in vars {
            out = out.replace(&format!("${k}"), v);
        }
        out
    }

    async fn send(&mut self, step: &Step) -> Answer {
        match step.hook {
            Hook::Compact => {
                if let Some(server) = &self.test_server {
                    server.compact();
                }
            }
            Hook::Settle if self.test_server.is_none() => {
                tokio::time::sleep(Duration::from_secs(3)).await
            }
            _ => {}
        }
        let op = match step.method {
            "GET" => &GET,
            "POST" => &POST,
            "PUT" => &PUT,
            "PATCH" => &PATCH,
            _ => &DELETE,
        };
        let path = self.fill(&step.path);
        let mut req = Request::at(op, &path, &[]);
        if let Some(body) = &step.body {
            req.body = Some(Body {
                content_type: step.content_type,
                bytes: self.fill(body).into_bytes(),
            });
        }
        let watch = path.contains("watch=true");
        let answer = match tokio::time::timeout(Duration::from_secs(20), self.client.send(req))
            .await
        {
            Err(_) => Answer {
                code: 0,
                body: json!("timed out after 20 s"),
            },
            Ok(Err(e)) => match e.api() {
                Some(api) => Answer {
                    code: api.code,
                    body: serde_json::from_str(&api.body).unwrap_or(json!(api.body)),
                },
                None => Answer {
                    code: 0,
                    body: json!(format!("transport: {e}")),
                },
            },
            Ok(Ok(res)) => {
                let code = res.status().as_u16();
                let bytes =
                    match tokio::time::timeout(Duration::from_secs(20), res.into_body().collect())
                        .await
                    {
                        Ok(Ok(b)) => b.to_bytes().to_vec(),
                        Ok(Err(e)) => format!("body: {e}").into_bytes(),
                        Err(_) => b"body timed out".to_vec(),
                    };
                let body = if watch {
                    Value::Array(
                        bytes
                            .split(|b| *b == b'\n')
                            .filter(|l| !l.is_empty())
                            .map(|l| {
                                serde_json::from_slice(l)
                                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(l)))
                            })
                            .collect(),
                    )
                } else {
                    serde_json::from_slice(&bytes)
                        .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
                };
                Answer { code, body }
            }
        };
        for (var, pointer) in &step.save {
            if let Some(v) = answer.body.pointer(pointer).and_then(Value::as_str) {
                self.vars.insert((*var).to_owned(), v.to_owned());
            }
        }
        answer
    }
}

/// Masks what always differs. `rvs` names each object resourceVersion by where it was first
/// seen (step, order within the step), so equal and distinct versions are still compared, and a
/// version only one side shows (a controller's write) does not rename every later one.
struct Masker {
    rvs: HashMap<String, String>,
    /// The step being masked, and how many versions it showed first.
    step: usize,
    fresh: usize,
    generated: Vec<String>,
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// A uid where it is a value of something else (a label's, a selector's).
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_hexdigit())
}

/// Uids inside a text (managedFields keys name owner references by uid).
fn mask_uuids(s: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        if s.is_char_boundary(i)
            && s.len() - i >= 36
            && s.is_char_boundary(i + 36)
            && is_uuid(&s[i..i + 36])
        {
            out.push_str("<uid>");
            i += 36;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Digit runs of 3 or more in a message (resourceVersions, uids' parts) become `N`.
fn mask_digits(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once('\u{0}')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() >= 3 {
            out.push('N');
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\u{0}' {
            out.push(c);
        }
    }
    out
}

impl Masker {
    /// `plain`: resourceVersions here are the server's (list metadata, bookmarks), not objects'.
    fn mask(&mut self, v: &Value, plain: bool) -> Value {
        match v {
            Value::Object(m) => {
                let bookmark = m.get("type").is_some_and(|t| t == "BOOKMARK");
                if let (Some(Value::String(g)), Some(Value::String(n))) =
                    (m.get("generateName"), m.get("name"))
                    && n.starts_with(g.as_str())
                    && n.len() == g.len() + 5
                    && !self.generated.contains(n)
                {
                    self.generated.push(n.clone());
                }
                let mut out = serde_json::Map::new();
                for (k, x) in m {
                    let masked = match (k.as_str(), x) {
                        ("uid", Value::String(_)) => json!("<uid>"),
                        // Allocated from the service range at random.
                        ("clusterIP", Value::String(s)) if s != "None" => json!("<ip>"),
                        ("clusterIPs", Value::Array(ips)) => Value::Array(
                            ips.iter()
                                .map(|ip| match ip.as_str() {
                                    Some("None") => ip.clone(),
                                    _ => json!("<ip>"),
                                })
                                .collect(),
                        ),
                        ("continue", Value::String(s)) if !s.is_empty() => json!("<continue>"),
                        ("resourceVersion", Value::String(s)) if plain || s.is_empty() => {
                            json!("<rv>")
                        }
                        ("resourceVersion", Value::String(s)) => {
                            let name = match self.rvs.get(s) {
                                Some(name) => name.clone(),
                                None => {
                                    let name = format!("<rv@{}.{}>", self.step, self.fresh);
                                    self.fresh += 1;
                                    self.rvs.insert(s.clone(), name.clone());
                                    name
                                }
                            };
                            json!(name)
                        }
                        ("message", Value::String(s)) => {
                            let mut s = mask_uuids(s);
                            for g in &self.generated {
                                s = s
                                    .replace(g.as_str(), &format!("{}<suffix>", &g[..g.len() - 5]));
                            }
                            json!(mask_digits(&s))
                        }
                        // Objects controllers add on the real server only.
                        ("items", Value::Array(items)) => Value::Array(
                            items
                                .iter()
                                .filter(|i| {
                                    i.pointer("/metadata/name").and_then(Value::as_str)
                                        != Some("kube-root-ca.crt")
                                })
                                .map(|i| self.mask(i, false))
                                .collect(),
                        ),
                        ("metadata", _) if m.contains_key("items") => self.mask(x, true),
                        ("object", _) if bookmark => self.mask(x, true),
                        _ => self.mask(x, plain),
                    };
                    out.insert(mask_uuids(k), masked);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.mask(x, plain)).collect()),
            Value::String(s) if is_time(s) => json!("<time>"),
            Value::String(s) if is_uuid(s) => json!("<uid>"),
            Value::String(s) => {
                let mut s = s.clone();
                for g in &self.generated {
                    s = s.replace(g.as_str(), &format!("{}<suffix>", &g[..g.len() - 5]));
                }
                json!(s)
            }
            other => other.clone(),
        }
    }

    fn answer(&mut self, a: &Answer, compare: Compare) -> Value {
        // Watch events about objects controllers add on the real server only.
        let body = match &a.body {
            Value::Array(events) => Value::Array(
                events
                    .iter()
                    .filter(|e| {
                        e.pointer("/object/metadata/name").and_then(Value::as_str)
                            != Some("kube-root-ca.crt")
                    })
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        };
        let mut masked = self.mask(&body, false);
        if compare == Compare::Names {
            fn names(v: &Value) -> Value {
                let items = v
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .or_else(|| {
                        v.as_array().map(|events| {
                            events
                                .iter()
                                .filter_map(|e| e.get("object").cloned())
                                .collect()
                        })
                    });
                match items {
                    Some(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| i.pointer("/metadata/name").cloned().unwrap_or(Value::Null))
                            .collect(),
                    ),
                    None => v.pointer("/metadata/name").cloned().unwrap_or_else(
                        || json!({"reason": v.get("reason"), "message": v.get("message")}),
                    ),
                }
            }
            masked = names(&masked);
        }
        masked
    }
}

/// `v` without any `managedFields` (to compare semantics apart from server-side apply).
fn without_managed_fields(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "managedFields")
                .map(|(k, x)| (k.clone(), without_managed_fields(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_managed_fields).collect()),
        other => other.clone(),
    }
}

/// The JSON paths where `a` and `b` differ, with both values.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => differences(u, v, &p, out),
                    (u, v) => out.push(format!("{p}: test={} real={}", short(u), short(v))),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{path}/{i}"), out);
            }
        }
        _ if a != b => out.push(format!(
            "{path}: test={} real={}",
            short(Some(a)),
            short(Some(b))
        )),
        _ => {}
    }
}

fn short(v: Option<&Value>) -> String {
    let text = v.map_or("(absent)".to_owned(), Value::to_string);
    if text.len() > 160 {
        let mut end = 160;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    } else {
        text
    }
}

async fn differential(e2e: &E2e) -> Outcome {
    let server = kuber_testserver::TestServer::start()
        .await
        .map_err(|e| format!("start the test server: {e}"))?;
    let suffix = std::process::id() % 100_000;
    let base_vars = HashMap::from([
        ("ns".to_owned(), format!("diff-{suffix}")),
        ("group".to_owned(), format!("d{suffix}.kuber.example")),
    ]);
    let script = script();
    let mut test = Run {
        client: server.client().with_retries(0, false),
        vars: base_vars.clone(),
        test_server: Some(server),
    };
    let mut real = Run {
        client: e2e.admin.clone().with_retries(0, false),
        vars: base_vars,
        test_server: None,
    };
    let mut test_answers = Vec::new();
    for step in &script {
        test_answers.push(test.send(step).await);
    }
    let mut real_answers = Vec::new();
    for step in &script {
        real_answers.push(real.send(step).await);
    }
    let (mut mt, mut mr) = (
        Masker {
            rvs: HashMap::new(),
            step: 0,
            fresh: 0,
            generated: Vec::new(),
        },
        Masker {
            rvs: HashMap::new(),
            step: 0,
            fresh: 0,
            generated: Vec::new(),
        },
    );
    let mut equivalent = 0;
    let mut without_managed = 0;
    let mut lines = Vec::new();
    // KUBER_DIFF_DUMP=FILE: every masked answer pair, one JSON line per step (for reading the
    // real server's full answers).
    let mut dump = Vec::new();
    for (i, step) in script.iter().enumerate() {
        let (t, r) = (&test_answers[i], &real_answers[i]);
        for m in [&mut mt, &mut mr] {
            m.step = i;
            m.fresh = 0;
        }
        let (bt, br) = (mt.answer(t, step.compare), mr.answer(r, step.compare));
        let request = format!("#{i} {} {}", step.method, real.fill(&step.path));
        let request = match step.body.is_some() {
            true => format!("{request} ({})", step.content_type),
            false => request,
        };
        dump.push(json!({"step": request, "test": {"code": t.code, "body": t.body}, "real": {"code": r.code, "body": r.body}}).to_string());
        if t.code == r.code {
            let mut diffs = Vec::new();
            differences(
                &without_managed_fields(&bt),
                &without_managed_fields(&br),
                "",
                &mut diffs,
            );
            if diffs.is_empty() {
                without_managed += 1;
            }
        }
        if t.code != r.code {
            lines.push(format!(
                "{request}: status test={} real={} | test: {} | real: {}",
                t.code,
                r.code,
                short(Some(&bt)),
                short(Some(&br))
            ));
            continue;
        }
        let mut diffs = Vec::new();
        differences(&bt, &br, "", &mut diffs);
        if diffs.is_empty() {
            equivalent += 1;
        } else {
            let n = diffs.len();
            diffs.truncate(4);
            let more = if n > 4 {
                format!(" (+{} more)", n - 4)
            } else {
                String::new()
            };
            lines.push(format!("{request}: {}{more}", diffs.join("; ")));
        }
    }
    let summary = format!(
        "differential: {equivalent}/{} responses equivalent",
        script.len()
    );
    let summary_managed = format!(
        "differential: {without_managed}/{} responses equivalent ignoring managedFields",
        script.len()
    );
    println!("{summary}");
    println!("{summary_managed}");
    for line in &lines {
        println!("  {line}");
    }
    if let Ok(file) = std::env::var("KUBER_DIFF_DUMP") {
        std::fs::write(&file, dump.join("\n")).map_err(|e| format!("write {file}: {e}"))?;
    }
    e2e.report(summary);
    e2e.report(summary_managed);
    Ok(())
}
