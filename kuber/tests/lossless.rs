//! A typed object goes out as its type wrote it: `put`, `replace` and `apply` fill `apiVersion`
//! and `kind` without a trip through `serde_json::Value` (which sends `1e3` as `1000.0`).
//! The requests go to an in-process service through kuber-api's transport seam: no socket.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http_body_util::Full;
use kuber::Context;
use kuber::api::RequestBody;
use kuber::api::client::transport::Service;
use kuber::api::config::Config;
use kuber::models::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Answers every request with its own body (the object "as stored"), recording what was sent.
struct Echo(Arc<Mutex<Vec<(String, String)>>>);

impl Service<hyper::Request<RequestBody>> for Echo {
    type Response = hyper::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: hyper::Request<RequestBody>) -> Self::Future {
        let method = req.method().to_string();
        let body = req.into_body().into_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        self.0.lock().unwrap().push((method, text));
        std::future::ready(Ok(hyper::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .unwrap()))
    }
}

#[tokio::test]
async fn numbers_keep_their_text_through_put_replace_and_apply() {
    // No apiVersion or kind: the verbs fill them in.
    let crd: CustomResourceDefinition = serde_json::from_str(
        r#"{"metadata":{"name":"widgets.example.com","resourceVersion":"1"},
            "spec":{"group":"example.com","scope":"Namespaced",
              "names":{"plural":"widgets","kind":"Widget"},
              "versions":[{"name":"v1","served":true,"storage":true,
                "schema":{"openAPIV3Schema":{"type":"object","maximum":1e3,"minimum":1.50}}}]}}"#,
    )
    .unwrap();
    let sent = Arc::default();
    let client = kuber::Client::from_service(
        Echo(Arc::clone(&sent)),
        Config::new("https://in-process.invalid"),
    )
    .unwrap();
    let ctx = Context::from_client(client);

    let created = ctx.put(&crd).await.unwrap();
    ctx.replace(&created).await.unwrap();
    ctx.apply(&crd, "lossless-test").await.unwrap();

    let sent = sent.lock().unwrap().clone();
    let methods: Vec<&str> = sent.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods, ["POST", "PUT", "PATCH"]);
    for (method, body) in &sent {
        assert!(body.contains(r#""maximum":1e3"#), "{method}: {body}");
        assert!(body.contains(r#""minimum":1.50"#), "{method}: {body}");
        assert!(
            body.contains(r#""apiVersion":"apiextensions.k8s.io/v1""#),
            "{method}: {body}"
        );
        assert!(
            body.contains(r#""kind":"CustomResourceDefinition""#),
            "{method}: {body}"
        );
    }
}
