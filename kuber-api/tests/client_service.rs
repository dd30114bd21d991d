//! The transport seam: a client over any tower `Service`, layers over the default transport,
//! and what stays above the seam (credentials and their refresh, retries, the kind check).

mod support;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Full;
use kuber_api::config::{Auth, Config, Secret};
use kuber_api::{Client, CoreV1Api, Error, GetParams, ListParams, RequestBody, WriteParams};
use kuber_models::api::core::v1::Pod;
use tower_layer::Layer;
use tower_service::Service;

/// No such host resolves: a request that reached the network would fail.
const SERVER: &str = "https://in-process.invalid:6443";

/// What a service saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    headers: http::HeaderMap,
    body: Bytes,
}

type Answer = Result<http::Response<Full<Bytes>>, &'static str>;
type Answering = Box<dyn FnMut(&Seen) -> Answer + Send>;

/// An in-process API server: answers from a queue (the last one repeats), records requests.
/// Neither `Clone` nor `Sync`, which the seam does not ask for.
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: VecDeque<Answering>,
    _not_sync: std::cell::Cell<()>,
}

impl Fake {
    fn new(seen: &Arc<Mutex<Vec<Seen>>>) -> Fake {
        Fake {
            seen: seen.clone(),
            answers: VecDeque::new(),
            _not_sync: std::cell::Cell::new(()),
        }
    }

    fn then(mut self, answer: impl FnMut(&Seen) -> Answer + Send + 'static) -> Fake {
        self.answers.push_back(Box::new(answer));
        self
    }
}

impl Service<http::Request<RequestBody>> for Fake {
    type Response = http::Response<Full<Bytes>>;
    type Error = &'static str;
    type Future = std::future::Ready<Answer>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<RequestBody>) -> Self::Future {
        let seen = Seen {
            method: req.method().to_string(),
            uri: req.uri().to_string(),
            headers: req.headers().clone(),
            body: req.into_body().into_bytes(),
        };
        self.seen.lock().unwrap().push(seen.clone());
        let answer = if self.answers.len() > 1 {
            self.answers.pop_front().map(|mut a| a(&seen))
        } else {
            self.answers.front_mut().map(|a| a(&seen))
        };
        std::future::ready(answer.unwrap_or(Err("no answer")))
    }
}

fn reply(code: u16, body: impl Into<Bytes>) -> Answer {
    Ok(http::Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(body.into()))
        .unwrap())
}

fn pod_json() -> String {
    support::pod("web", 1)
}

fn config() -> Config {
    let mut config = Config::new(SERVER);
    config.auth = Auth::Bearer(Secret::new("tok".into()));
    config
}

#[tokio::test]
async fn calls_go_through_a_service_without_a_socket() {
    let seen = Arc::default();
    let events = format!(
        "{{\"type\":\"ADDED\",\"object\":{}}}\n{{\"type\":\"MODIFIED\",\"object\":{}}}\n",
        pod_json(),
        pod_json()
    );
    let fake = Fake::new(&seen)
        .then(|_| reply(200, pod_json()))
        .then(|_| reply(201, pod_json()))
        .then(move |_| reply(200, events.clone()))
        .then(|_| reply(200, r#"{"kind":"PodList","apiVersion":"v1","items":[]}"#));
    let client = Client::from_service(fake, config()).unwrap();
    assert!(format!("{client:?}").contains("service"), "{client:?}");
    let api = CoreV1Api::new(client.clone());

    let pod = api
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap();
    assert_eq!(pod.metadata.unwrap().name.as_deref(), Some("web"));
    api.create_namespaced_pod("default", &Pod::default(), &WriteParams::default())
        .await
        .unwrap();
    let mut watch = api
        .watch_namespaced_pod_list("default", &ListParams::default())
        .await
        .unwrap();
    let mut types = Vec::new();
    while let Some(event) = watch.next().await {
        types.push(event.unwrap().type_name().to_owned());
    }
    assert_eq!(types, ["ADDED", "MODIFIED"]);
    // The kind check is the client's: a list where a pod was expected is refused.
    let err = api
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedKind { .. }), "{err:?}");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    // What a logging layer would print of a body: its length, not a Secret's data.
    let body = RequestBody::new(seen[1].body.clone());
    assert_eq!(
        format!("{body:?}"),
        format!("RequestBody(<{} bytes>)", seen[1].body.len())
    );
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].uri,
        "https://in-process.invalid:6443/api/v1/namespaces/default/pods/web"
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer tok");
    // Layers that log headers see the credential as sensitive (`Debug` hides it).
    assert!(seen[0].headers["authorization"].is_sensitive());
    // Built-in kinds go in protobuf when the build has it (the default encoding then).
    let protobuf = kuber_api::Encoding::default().is_protobuf();
    let (accept, content_type) = match protobuf {
        true => (
            kuber_api::request::PROTOBUF_ACCEPT,
            kuber_api::request::PROTOBUF,
        ),
        false => ("application/json", "application/json"),
    };
    assert_eq!(seen[0].headers["accept"], accept);
    assert!(seen[0].body.is_empty());
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].headers["content-type"], content_type);
    let created = support::body_json(&seen[1].body);
    assert_eq!(created["kind"], "Pod");
    assert!(seen[2].uri.contains("watch=true"), "{}", seen[2].uri);
    assert_eq!(client.stats().responses, 4);
}

/// Counts the requests it passes on and marks them with a header.
#[derive(Clone, Default)]
struct Count(Arc<Mutex<Vec<String>>>);

impl<S> Layer<S> for Count {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            seen: self.0.clone(),
        }
    }
}

struct Counted<S> {
    inner: S,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S: Service<http::Request<RequestBody>>> Service<http::Request<RequestBody>> for Counted<S>
where
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<RequestBody>) -> Self::Future {
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {}", req.method(), req.uri().path()));
        req.headers_mut()
            .insert("x-layer", http::HeaderValue::from_static("counted"));
        Box::pin(self.inner.call(req))
    }
}

#[tokio::test]
async fn a_layer_sees_each_request_over_a_service() {
    let seen = Arc::default();
    let fake = Fake::new(&seen).then(|s: &Seen| {
        assert_eq!(s.headers["x-layer"], "counted");
        reply(200, pod_json())
    });
    let count = Count::default();
    let client = Client::from_service(count.layer(fake), config()).unwrap();
    let api = CoreV1Api::new(client);
    for _ in 0..3 {
        api.read_namespaced_pod("web", "default", &GetParams::default())
            .await
            .unwrap();
    }
    assert_eq!(
        count.0.lock().unwrap().as_slice(),
        ["GET /api/v1/namespaces/default/pods/web"; 3]
    );
}

#[tokio::test]
async fn builder_layers_wrap_the_default_transport() {
    let server = support::Server::start(support::Options::plain(), |seen, _| async move {
        match seen.headers.get("x-layer") {
            Some(_) => support::json(200, support::pod("web", 1)),
            None => support::status(400, "BadRequest", "no layer"),
        }
    })
    .await;
    let count = Count::default();
    let client = Client::builder(support::config(&server.url, None))
        .unwrap()
        .layer(count.clone())
        .build();
    let pod = CoreV1Api::new(client)
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap();
    assert_eq!(pod.metadata.unwrap().name.as_deref(), Some("web"));
    assert_eq!(count.0.lock().unwrap().len(), 1);
    assert_eq!(server.requests(), 1);
}

/// Reads the pod through `service`, retrying after 1 ms.
async fn read_pod<S>(service: S, config: Config)
where
    S: Service<http::Request<RequestBody>, Response = http::Response<Full<Bytes>>>,
    S: Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let client = Client::from_service(service, config)
        .unwrap()
        .with_backoff_base(Duration::from_millis(1));
    CoreV1Api::new(client)
        .read_namespaced_pod("web", "default", &GetParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn retries_happen_above_the_seam() {
    let seen = Arc::default();
    let fake = Fake::new(&seen)
        .then(|_| {
            Ok(http::Response::builder()
                .status(429)
                .header("retry-after", "0")
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap())
        })
        .then(|_| reply(200, pod_json()));
    let count = Count::default();
    read_pod(count.layer(fake), config()).await;
    // Each attempt is a request of its own through the layer and the service.
    assert_eq!(count.0.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap().len(), 2);

    // A service's error: a read is sent again, a create (which may have been applied) is not.
    let seen = Arc::default();
    let fake = Fake::new(&seen)
        .then(|_| Err("connection reset"))
        .then(|_| reply(200, pod_json()));
    read_pod(fake, config()).await;
    assert_eq!(seen.lock().unwrap().len(), 2);
    let fake = Fake::new(&seen).then(|_| Err("connection reset"));
    let api = CoreV1Api::new(Client::from_service(fake, config()).unwrap());
    let err = api
        .create_namespaced_pod("default", &Pod::default(), &WriteParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(format!("{err:?}").contains("connection reset"), "{err:?}");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_401_refreshes_the_credentials_above_the_seam() {
    let dir = std::env::temp_dir().join(format!("kuber-service-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "old-token\n").unwrap();
    let path = token_file.clone();
    let seen = Arc::default();
    let fake = Fake::new(&seen).then(move |s: &Seen| match s.headers.get("authorization") {
        Some(v) if v == "Bearer new-token" => reply(200, pod_json()),
        _ => {
            // The token rotates while the client still holds the old one.
            std::fs::write(&path, "new-token\n").unwrap();
            reply(
                401,
                r#"{"kind":"Status","code":401,"reason":"Unauthorized"}"#,
            )
        }
    });
    let mut config = Config::new(SERVER);
    config.auth = Auth::TokenFile(token_file);
    read_pod(fake, config).await;
    let seen = seen.lock().unwrap();
    let sent: Vec<_> = seen
        .iter()
        .map(|s| s.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer old-token", "Bearer new-token"]);
    let _ = std::fs::remove_dir_all(dir);
}
