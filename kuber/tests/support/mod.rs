//! kuber-testserver for kuber's integration tests: a context on it without client retries (the
//! tests count requests), each request's target as sent, and scripted discovery for the tests
//! about kind resolution.

#![allow(dead_code)]

use std::convert::Infallible;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kuber::Context;
use kuber::api::Client;
use kuber::api::config::Config;
use kuber_testserver::{HookRequest, Match, RecordedRequest, Reply, TestServer};
use tokio::net::TcpListener;
use tower_service::Service as _;

/// A test server behind a loopback front that notes each request's target as sent. The server
/// records queries decoded; the tests also check how kuber-api encodes them (`%20`, `%3D`).
pub struct Server {
    server: TestServer,
    url: String,
    targets: Arc<Mutex<Vec<String>>>,
    front: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.front.abort();
    }
}

impl Deref for Server {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl Server {
    pub async fn start() -> Server {
        let server = TestServer::start().await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (service, noted) = (server.service(), targets.clone());
        let front = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (service, noted) = (service.clone(), noted.clone());
                tokio::spawn(async move {
                    let forward =
                        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                            noted
                                .lock()
                                .unwrap()
                                .push(format!("{} {}", req.method(), req.uri()));
                            let mut service = service.clone();
                            async move { Ok::<_, Infallible>(service.call(req).await.unwrap()) }
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), forward)
                        .await;
                });
            }
        });
        Server {
            server,
            url,
            targets,
            front,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A context on this server: namespace `default`, no retries.
    pub fn context(&self) -> Context {
        let client = Client::new(Config::new(&self.url))
            .unwrap()
            .with_retries(0, false);
        Context::from_client(client)
    }

    /// `METHOD /path?query` of every request so far, as sent.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    /// Where [`Server::targets`] are kept: a hook may read its own request's.
    pub fn target_log(&self) -> Arc<Mutex<Vec<String>>> {
        self.targets.clone()
    }

    /// [`Server::targets`] without discovery.
    pub fn lines(&self) -> Vec<String> {
        self.targets()
            .into_iter()
            .filter(|t| !is_discovery(t.split(' ').nth(1).unwrap_or("")))
            .collect()
    }

    /// The requests other than discovery, as the server recorded them.
    pub fn calls(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| !is_discovery(&r.path))
            .collect()
    }

    /// Forgets the requests so far (the setup's).
    pub fn forget(&self) {
        self.clear_requests();
        self.targets.lock().unwrap().clear();
    }
}

/// `/api`, `/api/v1`, `/apis`, `/apis/GROUP`, `/apis/GROUP/VERSION`: no resource named.
pub fn is_discovery(target: &str) -> bool {
    let path = target.split('?').next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.first() {
        Some(&"api") => segments.len() <= 2,
        Some(&"apis") => segments.len() <= 3,
        _ => false,
    }
}

/// Answers discovery as a cluster with core v1; apps v1 (deployments); events.k8s.io v1;
/// autoscaling preferring a version the models do not have (v9) and also serving v2 and v1;
/// example.com v1 with a `Widget` custom resource; gone.example.com v1 whose resources 404 (a CRD
/// deleted since). No batch group.
/// Other discovery paths are not found, as on such a cluster.
pub fn script_discovery(server: &TestServer) {
    server.on_request(Match::any(), |req| {
        discovery(&req.path).or_else(|| {
            is_discovery(&req.path).then(|| Reply::new(404).body("404 page not found\n"))
        })
    });
}

fn discovery(path: &str) -> Option<Reply> {
    let body = match path {
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
        "/apis/gone.example.com/v1" => {
            return Some(Reply::new(404).body("404 page not found\n"));
        }
        _ => return None,
    };
    Some(
        Reply::new(200)
            .header("content-type", "application/json")
            .body(body),
    )
}

/// A JSON answer, as the scripted answers are written.
pub fn json(status: u16, body: impl Into<String>) -> Option<Reply> {
    Some(
        Reply::new(status)
            .header("content-type", "application/json")
            .body(body.into()),
    )
}

/// The last path segment of a request (its name, for a named one).
pub fn last_segment(req: &HookRequest) -> String {
    req.path.rsplit('/').next().unwrap_or_default().to_owned()
}
