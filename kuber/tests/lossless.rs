//! A typed object goes out as its type wrote it: `put`, `replace` and `apply` fill `apiVersion`
//! and `kind` without a trip through `serde_json::Value` (which sends `1e3` as `1000.0`).
//! The requests go to kuber-testserver through kuber-api's transport seam: no socket.

use kuber::models::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kuber_testserver::{Match, Reply, TestServer};

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
    let server = TestServer::start().await.unwrap();
    // Each answer is the body sent (the object "as stored"): the server's own store reads
    // numbers as JSON values, and `replace` must send back what `put` got.
    server.on_request(Match::any().resource("customresourcedefinitions"), |req| {
        Some(
            Reply::new(200)
                .header("content-type", "application/json")
                .body(req.body.clone()),
        )
    });
    let ctx = server.context_in_process();

    let created = ctx.put(&crd).await.unwrap();
    ctx.replace(&created).await.unwrap();
    ctx.apply(&crd, "lossless-test").await.unwrap();

    let sent: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                String::from_utf8_lossy(&r.body).into_owned(),
            )
        })
        .collect();
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
