//! The metrics helpers against kuber-testserver answering canned bodies: the exact paths sent
//! (composite names with their `/` and `*`), the v1beta2 → v1beta1 fallback, every field decoded
//! and re-encoded byte for byte, and the errors.

use std::collections::HashMap;
use std::sync::Arc;

use kuber::metrics::{
    ExternalMetricValueList, MetricName, MetricValueList, NodeMetrics, NodeMetricsList, PodMetrics,
    PodMetricsList,
};
use kuber::{Context, Error};
use kuber_testserver::{Match, Reply};
use serde_core::Serialize;
use serde_core::de::DeserializeOwned;

mod support;

/// Path (without query) → body; anything else is a 404 `Status`.
type Routes = HashMap<String, String>;

/// kuber-testserver answering every request from `routes` (a hook): the bodies must come back
/// byte for byte, and the discovery must list the custom metrics versions a test asks for.
struct Server(support::Server);

impl Server {
    async fn start(routes: Routes) -> Server {
        let server = support::Server::start().await;
        let routes = Arc::new(routes);
        server.on_request(Match::any(), move |req| {
            let answer = |code| Reply::new(code).header("content-type", "application/json");
            Some(match routes.get(&req.path) {
                Some(body) => answer(200).body(body.clone()),
                None => answer(404).body(
                    r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"the server could not find the requested resource"}"#,
                ),
            })
        });
        Server(server)
    }

    fn context(&self, namespace: &str) -> Context {
        let mut ctx = self.0.context();
        ctx.set_ns(namespace);
        ctx
    }

    /// Every request target (path and query, as sent) in arrival order.
    fn seen(&self) -> Vec<String> {
        self.0.paths()
    }
}

const API: &str = r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#;

fn apis(custom_versions: &[&str]) -> String {
    let versions: Vec<String> = custom_versions
        .iter()
        .map(|v| format!(r#"{{"groupVersion":"custom.metrics.k8s.io/{v}","version":"{v}"}}"#))
        .collect();
    let Some(preferred) = versions.first() else {
        return r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"#.into();
    };
    format!(
        r#"{{"kind":"APIGroupList","apiVersion":"v1","groups":[{{"name":"custom.metrics.k8s.io","versions":[{}],"preferredVersion":{preferred}}}]}}"#,
        versions.join(",")
    )
}

// Canned answers, members in the order the models write them, so that a re-encode is
// byte-identical when every member was decoded.
const NODES: &str = r#"{"apiVersion":"metrics.k8s.io/v1beta1","items":[{"metadata":{"creationTimestamp":"2026-01-02T03:04:05Z","labels":{"kubernetes.io/hostname":"n1"},"name":"n1"},"timestamp":"2026-01-02T03:04:00Z","usage":{"cpu":"137492246n","memory":"1183356Ki"},"window":"10.065s"}],"kind":"NodeMetricsList","metadata":{}}"#;
const NODE: &str = r#"{"apiVersion":"metrics.k8s.io/v1beta1","kind":"NodeMetrics","metadata":{"name":"n1"},"timestamp":"2026-01-02T03:04:00Z","usage":{"cpu":"1m","memory":"1183356Ki"},"window":"10.065s"}"#;
const PODS: &str = r#"{"apiVersion":"metrics.k8s.io/v1beta1","items":[{"containers":[{"name":"app","usage":{"cpu":"1m","memory":"12Mi"}},{"name":"sidecar","usage":{"cpu":"0","memory":"3500Ki"}}],"metadata":{"name":"web-1","namespace":"default"},"timestamp":"2026-01-02T03:04:00Z","window":"15s"}],"kind":"PodMetricsList","metadata":{}}"#;
const POD: &str = r#"{"apiVersion":"metrics.k8s.io/v1beta1","containers":[{"name":"app","usage":{"cpu":"250m","memory":"64Mi"}}],"kind":"PodMetrics","metadata":{"name":"web-1","namespace":"default"},"timestamp":"2026-01-02T03:04:00Z","window":"15s"}"#;
const CUSTOM_V2: &str = r#"{"apiVersion":"custom.metrics.k8s.io/v1beta2","items":[{"describedObject":{"apiVersion":"/v1","kind":"Pod","name":"web-1","namespace":"default"},"metric":{"name":"http_requests","selector":{"matchLabels":{"verb":"GET"}}},"timestamp":"2026-01-02T03:04:00Z","value":"1500m","windowSeconds":60}],"kind":"MetricValueList","metadata":{}}"#;
const CUSTOM_V1: &str = r#"{"apiVersion":"custom.metrics.k8s.io/v1beta1","items":[{"describedObject":{"apiVersion":"/v1","kind":"Pod","name":"web-1","namespace":"default"},"metricName":"http_requests","selector":null,"timestamp":"2026-01-02T03:04:00Z","value":"2","window":30}],"kind":"MetricValueList","metadata":{}}"#;
const EXTERNAL: &str = r#"{"apiVersion":"external.metrics.k8s.io/v1beta1","items":[{"metricLabels":{"queue":"jobs"},"metricName":"queue_depth","timestamp":"2026-01-02T03:04:00Z","value":"42","window":60}],"kind":"ExternalMetricValueList","metadata":{}}"#;

fn routes(custom_versions: &[&str]) -> Routes {
    let mut r = Routes::new();
    r.insert("/api".into(), API.into());
    r.insert("/apis".into(), apis(custom_versions));
    let m = "/apis/metrics.k8s.io/v1beta1";
    r.insert(format!("{m}/nodes"), NODES.into());
    r.insert(format!("{m}/nodes/n1"), NODE.into());
    r.insert(format!("{m}/pods"), PODS.into());
    r.insert(format!("{m}/namespaces/default/pods"), PODS.into());
    r.insert(format!("{m}/namespaces/default/pods/web-1"), POD.into());
    for (v, body) in [("v1beta2", CUSTOM_V2), ("v1beta1", CUSTOM_V1)] {
        let c = format!("/apis/custom.metrics.k8s.io/{v}");
        for composite in [
            "pods/*/http_requests",
            "pods/web-1/http_requests",
            "metrics/http_requests",
            "nodes/*/http_requests",
        ] {
            r.insert(format!("{c}/namespaces/default/{composite}"), body.into());
            r.insert(format!("{c}/{composite}"), body.into());
        }
    }
    r.insert(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth".into(),
        EXTERNAL.into(),
    );
    r
}

/// Decodes `body` as `T` and re-encodes it: the same bytes.
fn round_trip<T: DeserializeOwned + Serialize>(body: &str) -> T {
    let value: T = serde_json::from_str(body).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), body);
    value
}

#[tokio::test]
async fn resource_metrics_go_to_their_paths_and_decode_every_field() {
    let server = Server::start(routes(&["v1beta2", "v1beta1"])).await;
    let ctx = server.context("default");

    let nodes = ctx.list_node_metrics().await.unwrap();
    assert_eq!(nodes, round_trip::<NodeMetricsList>(NODES));
    assert_eq!(nodes.items[0].usage["cpu"].as_str(), "137492246n");
    assert_eq!(nodes.items[0].window, "10.065s");
    let node = ctx.get_node_metrics("n1").await.unwrap();
    assert_eq!(node, round_trip::<NodeMetrics>(NODE));
    assert_eq!(node.usage["memory"].as_str(), "1183356Ki");

    let pods = ctx.list_pod_metrics().await.unwrap();
    assert_eq!(pods, round_trip::<PodMetricsList>(PODS));
    assert_eq!(
        pods.items[0].containers[1].usage["memory"].as_str(),
        "3500Ki"
    );
    let pod = ctx.get_pod_metrics("web-1").await.unwrap();
    assert_eq!(pod, round_trip::<PodMetrics>(POD));

    let all = server.context("*").list_pod_metrics().await.unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(
        server.seen(),
        [
            "/apis/metrics.k8s.io/v1beta1/nodes",
            "/apis/metrics.k8s.io/v1beta1/nodes/n1",
            "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
            "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
            "/apis/metrics.k8s.io/v1beta1/pods",
        ]
    );
}

#[tokio::test]
async fn custom_metrics_keep_slash_and_wildcard_and_prefer_v1beta2() {
    let server = Server::start(routes(&["v1beta2", "v1beta1"])).await;
    let ctx = server.context("default");
    let expected = round_trip::<MetricValueList>(CUSTOM_V2);

    assert_eq!(
        ctx.list_namespaced_custom_metrics(("pods", "http_requests"))
            .await
            .unwrap(),
        expected
    );
    ctx.list_namespaced_custom_metrics(("pods", "web-1", "http_requests"))
        .await
        .unwrap();
    ctx.list_namespaced_custom_metrics("http_requests")
        .await
        .unwrap();
    ctx.list_custom_metrics(("nodes", "http_requests"))
        .await
        .unwrap();
    let got = ctx
        .list_namespaced_custom_metrics_matching(
            MetricName::of_all("pods", "http_requests"),
            "verb=GET",
        )
        .await
        .unwrap();
    assert_eq!(got.items[0].metric.name, "http_requests");
    assert_eq!(got.items[0].window_seconds, Some(60));
    assert_eq!(got.items[0].value.as_str(), "1500m");

    let v = "/apis/custom.metrics.k8s.io/v1beta2";
    assert_eq!(
        server.seen(),
        [
            "/api".to_owned(),
            "/apis".to_owned(),
            format!("{v}/namespaces/default/pods/*/http_requests"),
            format!("{v}/namespaces/default/pods/web-1/http_requests"),
            format!("{v}/namespaces/default/metrics/http_requests"),
            format!("{v}/nodes/*/http_requests"),
            format!("{v}/namespaces/default/pods/*/http_requests?metricLabelSelector=verb%3DGET"),
        ]
    );
}

#[tokio::test]
async fn custom_metrics_fall_back_to_v1beta1_converted() {
    let server = Server::start(routes(&["v1beta1"])).await;
    let ctx = server.context("default");
    // The v1beta1 body decodes and re-encodes whole (its null selector included).
    round_trip::<kuber::models::metrics::pkg::apis::custom_metrics::v1beta1::MetricValueList>(
        CUSTOM_V1,
    );

    let got = ctx
        .list_namespaced_custom_metrics(("pods", "http_requests"))
        .await
        .unwrap();
    assert_eq!(
        got.api_version.as_deref(),
        Some("custom.metrics.k8s.io/v1beta1")
    );
    let item = &got.items[0];
    assert_eq!(item.metric.name, "http_requests");
    assert_eq!(item.metric.selector, None);
    assert_eq!(item.window_seconds, Some(30));
    assert_eq!(item.value.as_str(), "2");
    assert_eq!(item.described_object.name.as_deref(), Some("web-1"));
    assert_eq!(item.timestamp.as_str(), "2026-01-02T03:04:00Z");
    assert_eq!(
        server.seen().last().unwrap(),
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests"
    );
}

#[tokio::test]
async fn custom_metrics_not_served_is_named() {
    let server = Server::start(routes(&[])).await;
    let err = server
        .context("default")
        .list_custom_metrics(("nodes", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotServed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "MetricValue (custom.metrics.k8s.io/v1beta2) is not served by the server"
    );
    // Nothing but discovery was asked.
    assert_eq!(server.seen(), ["/api", "/apis"]);
}

#[tokio::test]
async fn bad_metric_names_are_refused_before_sending() {
    let server = Server::start(routes(&["v1beta2"])).await;
    let ctx = server.context("default");
    for (name, problem) in [
        (
            MetricName::of_all("pods", "a/b"),
            "custom metric pods/*/a/b: metric: \"a/b\" may not contain '/'",
        ),
        (
            MetricName::of_all("", "m"),
            "custom metric /*/m: type: is empty",
        ),
        (
            MetricName::of("pods", "..", "m"),
            "custom metric pods/../m: object: may not be \"..\" or hold '%'",
        ),
        (
            MetricName::own(""),
            "custom metric metrics/: metric: is empty",
        ),
    ] {
        let err = ctx.list_namespaced_custom_metrics(name).await.unwrap_err();
        assert_eq!(err.to_string(), problem);
    }
    assert!(server.seen().is_empty(), "{:?}", server.seen());

    // One namespace is needed: "*" is refused, naming the helper.
    let err = server
        .context("*")
        .list_namespaced_custom_metrics("m")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("list_namespaced_custom_metrics: needs one namespace"),
        "{err}"
    );
    // An empty external metric name is the kuber-api refusal, naming the parameter.
    let err = ctx.list_external_metrics("").await.unwrap_err();
    assert!(err.to_string().contains("metricName"), "{err}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

#[tokio::test]
async fn external_metrics_with_a_metric_selector() {
    let server = Server::start(routes(&[])).await;
    let ctx = server.context("default");
    let all = ctx.list_external_metrics("queue_depth").await.unwrap();
    assert_eq!(all, round_trip::<ExternalMetricValueList>(EXTERNAL));
    assert_eq!(all.items[0].metric_labels["queue"], "jobs");
    assert_eq!(all.items[0].window, Some(60));
    ctx.list_external_metrics_matching("queue_depth", "queue in (jobs,mail)")
        .await
        .unwrap();
    let missing = ctx.list_external_metrics("absent").await.unwrap_err();
    assert_eq!(missing.status_code(), Some(404), "{missing:?}");
    let p = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default";
    assert_eq!(
        server.seen(),
        [
            format!("{p}/queue_depth"),
            format!("{p}/queue_depth?labelSelector=queue%20in%20%28jobs%2Cmail%29"),
            format!("{p}/absent"),
        ]
    );
}

#[test]
fn metric_names_follow_kuber_jl() {
    assert_eq!(MetricName::from("m").composite(), "metrics/m");
    assert_eq!(MetricName::from(("pods", "m")).composite(), "pods/*/m");
    assert_eq!(
        MetricName::from(("pods", "web", "m")).composite(),
        "pods/web/m"
    );
    assert_eq!(MetricName::from(String::from("m")).to_string(), "metrics/m");
}
