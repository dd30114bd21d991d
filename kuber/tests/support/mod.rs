//! kuber-testserver for kuber's integration tests, reached without a socket: a context on it
//! without client retries (the tests count requests), each request's target as sent, and
//! scripted discovery for the tests about kind resolution.

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use kuber::Context;
use kuber::api::Client;
use kuber::api::config::Config;
use kuber_testserver::{HookRequest, Match, RecordedRequest, Reply, TestServer};
use tower_service::Service;

/// A test server whose contexts note each request's target as sent. The server records queries
/// decoded; the tests also check how kuber-api encodes them (`%20`, `%3D`).
pub struct Server {
    server: TestServer,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Deref for Server {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// [`TestServer::service`] noting `METHOD /path?query` of each request before it goes in.
#[derive(Clone)]
struct Noting<S> {
    inner: S,
    targets: Arc<Mutex<Vec<String>>>,
}

impl<S: Service<hyper::Request<B>>, B> Service<hyper::Request<B>> for Noting<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: hyper::Request<B>) -> S::Future {
        let target = req.uri().path_and_query().map_or("", |p| p.as_str());
        let line = format!("{} {target}", req.method());
        self.targets.lock().unwrap().push(line);
        self.inner.call(req)
    }
}

impl Server {
    pub async fn start() -> Server {
        Server {
            server: TestServer::start().await.unwrap(),
            targets: Arc::default(),
        }
    }

    /// A context on this server (namespace `default`, no retries), in process.
    pub fn context(&self) -> Context {
        let service = Noting {
            inner: self.server.service(),
            targets: self.targets.clone(),
        };
        let config = Config::new(self.server.url());
        let client = Client::from_service(service, config).unwrap();
        Context::from_client(client.with_retries(0, false))
    }

    /// `METHOD /path?query` of every request so far, as sent.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    /// `/path?query` of every request so far, as sent.
    pub fn paths(&self) -> Vec<String> {
        let target = |t: &String| t.split_once(' ').map_or("", |(_, t)| t).to_owned();
        self.targets().iter().map(target).collect()
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
