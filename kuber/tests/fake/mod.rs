//! A scripted API server for the verb tests: discovery for a few groups, one handler per test,
//! and a record of every request (method, path and query, content type, body).

#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kuber::Context;
use kuber_api::Client;
use kuber_api::config::Config;
use tokio::net::TcpListener;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: String,
}

impl Seen {
    /// `METHOD /path?query`.
    pub fn line(&self) -> String {
        if self.query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.query)
        }
    }
}

/// An answer: status and JSON body.
pub type Reply = (u16, String);
type Handler = Arc<dyn Fn(&Seen) -> Pin<Box<dyn Future<Output = Reply> + Send>> + Send + Sync>;

pub struct Fake {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Discovery: core v1; apps v1; events.k8s.io v1; gone.example.com v1 whose resources 404; autoscaling preferring a version the models do
/// not have (v9) and also serving v2 and v1; example.com v1 with a `Widget` custom resource.
pub fn discovery(seen: &Seen) -> Option<Reply> {
    let body = match seen.path.as_str() {
        "/api" => r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#,
        "/apis" => {
            r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
            {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
            {"name":"events.k8s.io","versions":[{"groupVersion":"events.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"events.k8s.io/v1","version":"v1"}},
            {"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v9","version":"v9"},{"groupVersion":"autoscaling/v2","version":"v2"},{"groupVersion":"autoscaling/v1","version":"v1"}],"preferredVersion":{"groupVersion":"autoscaling/v9","version":"v9"}},
            {"name":"example.com","versions":[{"groupVersion":"example.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"example.com/v1","version":"v1"}},
            {"name":"gone.example.com","versions":[{"groupVersion":"gone.example.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"gone.example.com/v1","version":"v1"}}]}"#
        }
        "/apis/example.com/v1" => {
            r#"{"kind":"APIResourceList","groupVersion":"example.com/v1","resources":[
            {"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget","verbs":["get","list","create","patch","delete"],"shortNames":["wd"]},
            {"name":"widgets/status","singularName":"","namespaced":true,"kind":"Widget","verbs":["get","patch"]}]}"#
        }
        "/apis/apps/v1" => {
            r#"{"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
            {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get","list"],"shortNames":["deploy"]}]}"#
        }
        "/api/v1" | "/apis/events.k8s.io/v1" | "/apis/autoscaling/v9" => {
            r#"{"kind":"APIResourceList","groupVersion":"x","resources":[]}"#
        }
        // Listed in /apis, but gone (a CRD deleted since): what a stale discovery meets.
        "/apis/gone.example.com/v1" => return Some((404, "404 page not found\n".to_owned())),
        _ => return None,
    };
    Some((200, body.to_owned()))
}

impl Fake {
    /// Serves discovery, and everything else with `handler`.
    pub async fn start<F, Fut>(handler: F) -> Fake
    where
        F: Fn(Seen) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |seen: &Seen| {
            let seen = seen.clone();
            match discovery(&seen) {
                Some(reply) => Box::pin(async move { reply }),
                None => Box::pin(handler(seen)),
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                            let handler = handler.clone();
                            let record = record.clone();
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let seen = Seen {
                                    method: parts.method.to_string(),
                                    path: parts.uri.path().to_owned(),
                                    query: parts.uri.query().unwrap_or_default().to_owned(),
                                    content_type: parts
                                        .headers
                                        .get("content-type")
                                        .and_then(|v| v.to_str().ok())
                                        .unwrap_or_default()
                                        .to_owned(),
                                    body: String::from_utf8_lossy(&body).into_owned(),
                                };
                                record.lock().unwrap().push(seen.clone());
                                let (status, body) = handler(&seen).await;
                                Ok::<_, Infallible>(
                                    hyper::Response::builder()
                                        .status(status)
                                        .header("content-type", "application/json")
                                        .body(Full::new(Bytes::from(body)))
                                        .unwrap(),
                                )
                            }
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Fake { url, seen, task }
    }

    /// A context on this server: namespace `default`, no retries.
    pub fn context(&self) -> Context {
        let client = Client::new(Config::new(&self.url))
            .unwrap()
            .with_retries(0, false);
        Context::from_client(client)
    }

    /// Every request so far, discovery included.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests other than discovery.
    pub fn calls(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| discovery(s).is_none())
            .collect()
    }

    /// `METHOD /path?query` of the requests other than discovery.
    pub fn lines(&self) -> Vec<String> {
        self.calls().iter().map(Seen::line).collect()
    }
}

/// An object answer echoing what a create/patch would store: `{"apiVersion","kind","metadata":{"name"}}`.
pub fn object(api_version: &str, kind: &str, name: &str) -> Reply {
    (
        200,
        format!(
            r#"{{"apiVersion":"{api_version}","kind":"{kind}","metadata":{{"name":"{name}","namespace":"default"}}}}"#
        ),
    )
}

pub fn status(code: u16, reason: &str, message: &str) -> Reply {
    (
        code,
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{message}","reason":"{reason}","code":{code}}}"#
        ),
    )
}
