//! How answers become values or errors.

mod support;

use http::Response;
use kuber_api::{Client, Error, Request};
use kuber_models::DynamicObject;
use support::{CREATE_POD, GET_POD, InProcess, POD_EXEC, json, status, whole};

fn get_pod() -> Request {
    Request::new(&GET_POD, &["default", "x"])
}

async fn answering(reply: fn() -> support::Reply) -> (InProcess, Client) {
    let server = InProcess::start(move |_, _| reply()).await;
    let client = server.client();
    (server, client)
}

#[tokio::test]
async fn a_status_answer_becomes_an_api_error() {
    let (_server, client) = answering(|| status(404, "NotFound", r#"pods "x" not found"#)).await;
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    assert!(err.is_not_found());
    assert!(!err.is_conflict() && !err.is_gone() && !err.is_forbidden());
    assert_eq!(err.status_code(), Some(404));
    assert_eq!(err.reason(), Some("NotFound"));
    assert_eq!(
        err.to_string(),
        r#"readCoreV1NamespacedPod: 404 NotFound: pods "x" not found"#
    );
    let Error::Api(api) = err else {
        panic!("not an API error")
    };
    let status = api.status.as_ref().unwrap();
    assert_eq!(status.code, Some(404));
    assert_eq!(status.message.as_deref(), Some(r#"pods "x" not found"#));
    assert_eq!(api.operation, "readCoreV1NamespacedPod");
    assert!(api.body.contains("NotFound"));
}

#[tokio::test]
async fn already_exists_is_a_conflict() {
    let (_server, client) =
        answering(|| status(409, "AlreadyExists", r#"pods "x" already exists"#)).await;
    let req = Request::new(&CREATE_POD, &["default"])
        .json(&serde_json::json!({}))
        .unwrap();
    let err = client.call::<DynamicObject>(req).await.unwrap_err();
    assert!(err.is_conflict() && err.is_already_exists(), "{err:?}");
}

#[tokio::test]
async fn a_non_status_error_body_is_kept_as_text() {
    let (_server, client) = answering(|| {
        Response::builder()
            .status(404)
            .header("content-type", "text/plain")
            .body(whole("404 page not found\n"))
            .unwrap()
    })
    .await;
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.reason(), None);
    assert_eq!(
        err.to_string(),
        "readCoreV1NamespacedPod: 404 Not Found: 404 page not found"
    );
}

#[tokio::test]
async fn a_decode_error_names_the_type_and_position() {
    let (_server, client) = answering(|| {
        json(
            200,
            "{\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": 42}\n}",
        )
    })
    .await;
    let err = client.call::<DynamicObject>(get_pod()).await.unwrap_err();
    match &err {
        Error::Decode {
            operation,
            type_name,
            line,
            column,
            message,
        } => {
            assert_eq!(*operation, "readCoreV1NamespacedPod");
            assert!(type_name.ends_with("DynamicObject"), "{type_name}");
            assert_eq!(*line, 3);
            assert!(*column > 10, "{column}");
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("not a decode error: {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("DynamicObject") && text.contains("line 3"),
        "{text}"
    );
}

#[tokio::test]
async fn bytes_text_and_raw_answers() {
    let (server, client) = answering(|| {
        Response::builder()
            .status(200)
            .header("x-answer", "42")
            .body(whole(&b"\xffbinary"[..]))
            .unwrap()
    })
    .await;
    let bytes = client.call_bytes(get_pod()).await.unwrap();
    assert_eq!(&bytes[..], b"\xffbinary");
    let text = client.call_text(get_pod()).await.unwrap();
    assert_eq!(text, "\u{fffd}binary");
    let res = client.send(get_pod()).await.unwrap();
    assert_eq!(res.headers()["x-answer"], "42");
    assert_eq!(server.seen()[0].headers["accept"], "*/*");
}

#[tokio::test]
async fn a_request_may_ask_for_another_representation() {
    const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let (server, client) = answering(|| json(200, "{}")).await;
    client
        .call::<DynamicObject>(get_pod().accept(AGGREGATED))
        .await
        .unwrap();
    client.call::<DynamicObject>(get_pod()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].headers["accept"], AGGREGATED);
    assert_eq!(seen[1].headers["accept"], "application/json");

    // A media type that cannot be a header value is an error naming it, never a panic.
    let err = client
        .call::<DynamicObject>(get_pod().accept("application/json\nX-Evil: 1"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a valid header value"),
        "{err}"
    );
    assert_eq!(server.seen().len(), 2, "nothing was sent");
}

#[tokio::test]
async fn exec_sent_as_a_plain_call_is_refused_before_sending() {
    let (server, client) = answering(|| json(200, "{}")).await;
    let err = client
        .call_text(Request::new(&POD_EXEC, &["default", "x"]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UpgradeUnavailable {
                operation: "connectCoreV1GetNamespacedPodExec",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("connect_*"), "{err}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn clients_share_one_pool_across_tasks() {
    let (server, client) = answering(|| json(200, "{\"kind\":\"Pod\"}")).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.call::<DynamicObject>(get_pod()).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(), 8);
    assert_eq!(client.default_namespace(), "default");
    assert_eq!(client.config_server(), server.url);
}
