//! Kuber.jl's metrics helpers: resource metrics of nodes and pods (`metrics.k8s.io`), custom
//! metrics (`custom.metrics.k8s.io`, v1beta2 when the server serves it, else v1beta1) and
//! external metrics (`external.metrics.k8s.io`).
//!
//! Custom metrics answer the v1beta2 [`MetricValueList`] whichever version the server used: a
//! v1beta1 answer is converted (`metricName` and `selector` become `metric`, `window` becomes
//! `windowSeconds`); the list's `apiVersion` still says which version answered.
//!
//! ```no_run
//! # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
//! let cpu = ctx.list_namespaced_custom_metrics(("pods", "cpu_usage")).await?; // pods/*/cpu_usage
//! let queue = ctx.list_external_metrics_matching("queue_depth", "queue=jobs").await?;
//! # Ok(()) }
//! ```

use std::fmt;

#[cfg(feature = "custom-metrics")]
use kuber_api::{
    CustomMetricsV1beta1Api, CustomMetricsV1beta2Api, ListNamespacedMetricValueParams,
};
#[cfg(feature = "external-metrics")]
use kuber_api::{ExternalMetricsV1beta1Api, ListNamespacedExternalMetricValueParams};
#[cfg(feature = "metrics")]
use kuber_api::{ListNamespacedPodMetricsParams, MetricsV1beta1Api};
#[cfg(feature = "custom-metrics")]
pub use kuber_models::metrics::pkg::apis::custom_metrics::v1beta2::{
    MetricIdentifier, MetricValue, MetricValueList,
};
#[cfg(feature = "external-metrics")]
pub use kuber_models::metrics::pkg::apis::external_metrics::v1beta1::{
    ExternalMetricValue, ExternalMetricValueList,
};
#[cfg(feature = "metrics")]
pub use kuber_models::metrics::pkg::apis::metrics::v1beta1::{
    ContainerMetrics, NodeMetrics, NodeMetricsList, PodMetrics, PodMetricsList,
};

use crate::{Context, Error, Result};

/// The custom metrics API group.
pub const CUSTOM_METRICS: &str = "custom.metrics.k8s.io";

/// A custom metric as the API names it (`<type>/<object>/<metric>`):
/// `"m"` is `metrics/m` (a metric of the namespace, or cluster-wide, itself),
/// `("pods", "m")` is `pods/*/m` (every pod), `("pods", "web", "m")` is `pods/web/m`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricName {
    /// `[type, object, metric]`, or `["metrics", metric]`.
    parts: Vec<String>,
}

impl MetricName {
    /// `metric` of every object of `type_` (`pods/*/metric`).
    pub fn of_all(type_: impl Into<String>, metric: impl Into<String>) -> MetricName {
        MetricName::of(type_, "*", metric)
    }

    /// `metric` of the object `object` of `type_` (`pods/web/metric`).
    pub fn of(
        type_: impl Into<String>,
        object: impl Into<String>,
        metric: impl Into<String>,
    ) -> MetricName {
        MetricName {
            parts: vec![type_.into(), object.into(), metric.into()],
        }
    }

    /// A metric of the namespace (or cluster) itself: `metrics/metric`.
    pub fn own(metric: impl Into<String>) -> MetricName {
        MetricName {
            parts: vec!["metrics".to_owned(), metric.into()],
        }
    }

    /// The path segment sent: `pods/*/cpu_usage`.
    pub fn composite(&self) -> String {
        self.parts.join("/")
    }

    /// Each part must be one path segment: a `/` would name another metric.
    #[cfg_attr(not(feature = "custom-metrics"), allow(dead_code))]
    fn check(&self) -> Result<String> {
        let names: &[&str] = match self.parts.len() {
            2 => &["type", "metric"],
            _ => &["type", "object", "metric"],
        };
        for (part, name) in self.parts.iter().zip(names) {
            let problem = if part.is_empty() {
                Some("is empty".to_owned())
            } else if part.contains('/') {
                Some(format!("{part:?} may not contain '/'"))
            } else if part == "." || part == ".." || part.contains('%') {
                Some(format!("may not be {part:?} or hold '%'"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Error::Invalid {
                    what: format!("custom metric {}: {name}", self.composite()),
                    message: problem,
                });
            }
        }
        Ok(self.composite())
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.composite())
    }
}

impl From<&str> for MetricName {
    fn from(metric: &str) -> MetricName {
        MetricName::own(metric)
    }
}

impl From<String> for MetricName {
    fn from(metric: String) -> MetricName {
        MetricName::own(metric)
    }
}

impl<T: Into<String>, M: Into<String>> From<(T, M)> for MetricName {
    fn from((type_, metric): (T, M)) -> MetricName {
        MetricName::of_all(type_, metric)
    }
}

impl<T: Into<String>, O: Into<String>, M: Into<String>> From<(T, O, M)> for MetricName {
    fn from((type_, object, metric): (T, O, M)) -> MetricName {
        MetricName::of(type_, object, metric)
    }
}

#[cfg(feature = "metrics")]
impl Context {
    /// Every node's metrics (`GET /apis/metrics.k8s.io/v1beta1/nodes`).
    pub async fn list_node_metrics(&self) -> Result<NodeMetricsList> {
        let api = MetricsV1beta1Api::new(self.client().clone());
        let params = ListNamespacedPodMetricsParams::default();
        self.timed("list", "NodeMetrics", async {
            Ok(api.list_node_metrics(&params).await?)
        })
        .await
    }

    /// One node's metrics.
    pub async fn get_node_metrics(&self, name: &str) -> Result<NodeMetrics> {
        let api = MetricsV1beta1Api::new(self.client().clone());
        self.timed("get", "NodeMetrics", async {
            Ok(api.read_node_metrics(name).await?)
        })
        .await
    }

    /// The metrics of the pods of the context's namespace; of every namespace when it is `"*"`.
    pub async fn list_pod_metrics(&self) -> Result<PodMetricsList> {
        let api = MetricsV1beta1Api::new(self.client().clone());
        let params = ListNamespacedPodMetricsParams::default();
        let ns = self.namespace();
        self.timed("list", "PodMetrics", async {
            Ok(if ns == "*" {
                api.list_pod_metrics_for_all_namespaces(&params).await?
            } else {
                api.list_namespaced_pod_metrics(ns, &params).await?
            })
        })
        .await
    }

    /// One pod's metrics, in the context's namespace.
    pub async fn get_pod_metrics(&self, name: &str) -> Result<PodMetrics> {
        let ns = self.namespace_for("get_pod_metrics")?;
        let api = MetricsV1beta1Api::new(self.client().clone());
        self.timed("get", "PodMetrics", async {
            Ok(api.read_namespaced_pod_metrics(name, ns).await?)
        })
        .await
    }
}

impl Context {
    /// The context's namespace for a call that needs one namespace (`"*"` is not one).
    #[allow(dead_code)]
    fn namespace_for(&self, verb: &'static str) -> Result<&str> {
        match self.namespace() {
            "*" => Err(Error::Missing {
                verb,
                message: "needs one namespace; the context's is \"*\" (all namespaces)".into(),
            }),
            ns => Ok(ns),
        }
    }
}

#[cfg(feature = "custom-metrics")]
impl Context {
    /// Custom metrics of objects in the context's namespace: `"m"` (`metrics/m`),
    /// `("pods", "m")` (`pods/*/m`), `("pods", "web", "m")` (`pods/web/m`).
    pub async fn list_namespaced_custom_metrics(
        &self,
        metric: impl Into<MetricName>,
    ) -> Result<MetricValueList> {
        let ns = self.namespace_for("list_namespaced_custom_metrics")?;
        self.custom_metrics(Some(ns), &metric.into(), None).await
    }

    /// Custom metrics of cluster-scoped objects (`("nodes", "m")` is `nodes/*/m`).
    pub async fn list_custom_metrics(
        &self,
        metric: impl Into<MetricName>,
    ) -> Result<MetricValueList> {
        self.custom_metrics(None, &metric.into(), None).await
    }

    /// [`Context::list_namespaced_custom_metrics`] of the series whose labels match
    /// `metric_selector` (`metricLabelSelector`).
    pub async fn list_namespaced_custom_metrics_matching(
        &self,
        metric: impl Into<MetricName>,
        metric_selector: impl fmt::Display,
    ) -> Result<MetricValueList> {
        let ns = self.namespace_for("list_namespaced_custom_metrics")?;
        let selector = metric_selector.to_string();
        self.custom_metrics(Some(ns), &metric.into(), Some(selector))
            .await
    }

    /// The version of `custom.metrics.k8s.io` to ask: the one set with
    /// [`Context::set_api_versions`], else v1beta2 when served, else v1beta1.
    pub async fn custom_metrics_version(&self) -> Result<String> {
        if let Some(v) = self.overrides.get(CUSTOM_METRICS) {
            return Ok(v.clone());
        }
        let discovery = self.discovery().await?;
        let served = discovery
            .group(CUSTOM_METRICS)
            .map(|g| g.versions)
            .unwrap_or_default();
        ["v1beta2", "v1beta1"]
            .into_iter()
            .find(|v| served.iter().any(|s| s == v))
            .map(str::to_owned)
            .ok_or_else(|| Error::NotServed {
                kind: "MetricValue".into(),
                api_version: format!("{CUSTOM_METRICS}/v1beta2"),
                served: served
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{CUSTOM_METRICS}/{v}"))
                    .collect(),
            })
    }

    async fn custom_metrics(
        &self,
        namespace: Option<&str>,
        metric: &MetricName,
        metric_selector: Option<String>,
    ) -> Result<MetricValueList> {
        let composite = metric.check()?;
        let version = self.custom_metrics_version().await?;
        let params = ListNamespacedMetricValueParams {
            label_selector: None,
            metric_label_selector: metric_selector,
        };
        let client = self.client().clone();
        self.timed("list", "MetricValue", async {
            match version.as_str() {
                "v1beta2" => {
                    let api = CustomMetricsV1beta2Api::new(client);
                    Ok(match namespace {
                        Some(ns) => {
                            api.list_namespaced_metric_value(&composite, ns, &params)
                                .await?
                        }
                        None => api.list_metric_value(&composite, &params).await?,
                    })
                }
                "v1beta1" => {
                    let api = CustomMetricsV1beta1Api::new(client);
                    let old = match namespace {
                        Some(ns) => {
                            api.list_namespaced_metric_value(&composite, ns, &params)
                                .await?
                        }
                        None => api.list_metric_value(&composite, &params).await?,
                    };
                    Ok(from_v1beta1(old))
                }
                other => Err(Error::NotServed {
                    kind: "MetricValue".into(),
                    api_version: format!("{CUSTOM_METRICS}/{other}"),
                    served: vec![
                        format!("{CUSTOM_METRICS}/v1beta2"),
                        format!("{CUSTOM_METRICS}/v1beta1"),
                    ],
                }),
            }
        })
        .await
    }
}

/// A v1beta1 answer as v1beta2 (what client-go's conversion does), members kept.
#[cfg(feature = "custom-metrics")]
pub fn from_v1beta1(
    old: kuber_models::metrics::pkg::apis::custom_metrics::v1beta1::MetricValueList,
) -> MetricValueList {
    MetricValueList {
        api_version: old.api_version,
        kind: old.kind,
        metadata: old.metadata,
        unknown_fields: old.unknown_fields,
        items: old
            .items
            .into_iter()
            .map(|v| MetricValue {
                api_version: v.api_version,
                kind: v.kind,
                described_object: v.described_object,
                metric: MetricIdentifier {
                    name: v.metric_name,
                    selector: v.selector.flatten(),
                    unknown_fields: Default::default(),
                },
                timestamp: v.timestamp,
                value: v.value,
                window_seconds: v.window,
                unknown_fields: v.unknown_fields,
            })
            .collect(),
    }
}

#[cfg(feature = "external-metrics")]
impl Context {
    /// The external metric `name` in the context's namespace
    /// (`GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{name}`).
    pub async fn list_external_metrics(&self, name: &str) -> Result<ExternalMetricValueList> {
        self.external_metrics(name, None).await
    }

    /// The series of the external metric `name` whose labels match `metric_selector` (sent as
    /// `labelSelector`, which this API applies to the metric's labels).
    pub async fn list_external_metrics_matching(
        &self,
        name: &str,
        metric_selector: impl fmt::Display,
    ) -> Result<ExternalMetricValueList> {
        self.external_metrics(name, Some(metric_selector.to_string()))
            .await
    }

    async fn external_metrics(
        &self,
        name: &str,
        selector: Option<String>,
    ) -> Result<ExternalMetricValueList> {
        let ns = self.namespace_for("list_external_metrics")?;
        let api = ExternalMetricsV1beta1Api::new(self.client().clone());
        let params = ListNamespacedExternalMetricValueParams {
            label_selector: selector,
        };
        self.timed("list", "ExternalMetricValue", async {
            Ok(api
                .list_namespaced_external_metric_value(name, ns, &params)
                .await?)
        })
        .await
    }
}
