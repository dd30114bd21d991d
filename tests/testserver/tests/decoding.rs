//! Queries and paths decoded once, as Go's net/url: a malformed escape drops its query pair (as
//! `URL.Query()` does for kube-apiserver), path segments are percent-decoded (`system%3Afoo` is
//! ClusterRole `system:foo`), and no query or path, however odd, panics the server.

mod support;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use kuber::models::api::rbac::v1::ClusterRole;
use kuber_testserver::TestServer;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower_service::Service as _;

/// One raw HTTP/1.1 request line (any bytes) with a body: the answer's code and text; `None`
/// when the connection closed without an answer.
async fn raw(
    server: &TestServer,
    request_target: &[u8],
    method: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut req = format!("{method} ").into_bytes();
    req.extend_from_slice(request_target);
    req.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    s.write_all(&req).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text.get(9..12)?.parse().ok()?;
    Some((code, text.split_once("\r\n\r\n")?.1.to_owned()))
}

async fn names(server: &TestServer, target: &[u8]) -> Vec<String> {
    let (code, body) = raw(server, target, "GET", "").await.expect("an answer");
    assert_eq!(code, 200, "{body}");
    support::names(&serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn a_malformed_escape_drops_its_pair_and_nothing_else() {
    let server = TestServer::start().await.unwrap();
    for (name, labels) in [
        ("a", json!({"tier": "front"})),
        ("b", json!({"tier": "back"})),
    ] {
        let cm = json!({"metadata": {"name": name, "labels": labels}});
        let (code, body) = raw(
            &server,
            b"/api/v1/namespaces/default/configmaps",
            "POST",
            &cm.to_string(),
        )
        .await
        .unwrap();
        assert_eq!(code, 201, "{body}");
    }
    // `%a` then a two-byte character: the pair is dropped, as Go's ParseQuery does, so the list
    // is unfiltered; the connection task used to panic on it.
    let target = "/api/v1/namespaces/default/configmaps?labelSelector=%aé".as_bytes();
    assert_eq!(names(&server, target).await, ["a", "b"]);
    // The other pairs stay; `+` is a space and `%3D` an `=` in a query.
    let target = b"/api/v1/namespaces/default/configmaps?x=%zz&labelSelector=tier+%3D+front";
    assert_eq!(names(&server, target).await, ["a"]);
    // A `;` makes a pair Go refuses too.
    let target = b"/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dfront;x";
    assert_eq!(names(&server, target).await, ["a", "b"]);
    // The record keeps what was decoded.
    let last = server.requests().pop().unwrap();
    assert_eq!(last.query, []);
}

#[tokio::test]
async fn path_segments_are_percent_decoded() {
    let server = TestServer::start().await.unwrap();
    let ctx = server.context();
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "system:foo"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    }))
    .unwrap();
    ctx.put(&role).await.unwrap();
    // kuber sends the name as `system%3Afoo`, as client-go does.
    let got = ctx.get::<ClusterRole>("system:foo").await.unwrap();
    assert_eq!(
        got.metadata.and_then(|m| m.name).as_deref(),
        Some("system:foo")
    );
    let path = b"/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Afoo";
    let (code, body) = raw(&server, path, "GET", "").await.unwrap();
    assert_eq!(code, 200, "{body}");
    // The record keeps the path as sent; the request info has the name decoded.
    let last = server.requests().pop().unwrap();
    assert_eq!(
        last.path,
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Afoo"
    );
    assert_eq!(last.info.name.as_deref(), Some("system:foo"));
    // A path that does not decode is Go's HTTP server's 400.
    let (code, body) = raw(&server, b"/api/v1/namespaces/%zz", "GET", "")
        .await
        .unwrap();
    assert_eq!((code, body.as_str()), (400, "400 Bad Request"));
}

/// A small deterministic generator of odd text: escapes (whole, cut, malformed), multi-byte
/// characters, separators.
struct Odd(u64);

impl Odd {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn text(&mut self, pieces: &[&str]) -> String {
        let n = self.next() % 12;
        (0..n)
            .map(|_| pieces[(self.next() as usize) % pieces.len()])
            .collect()
    }
}

const PIECES: &[&str] = &[
    "%",
    "%a",
    "%aé",
    "%zz",
    "%3A",
    "%2F",
    "%C3",
    "%A9",
    "%e2%82",
    "+",
    "=",
    "&",
    ";",
    "é",
    "€",
    "😀",
    "a",
    "/",
    "..",
    ".",
    "?",
    "#",
    "%00",
    "%FF",
    "labelSelector",
    "watch",
    "limit",
    "continue",
    "dryRun",
    "All",
    "fieldSelector",
    "metadata.name",
    "!",
    "(",
    ")",
    ",",
];

#[tokio::test]
async fn odd_queries_and_paths_never_panic() {
    let server = TestServer::start().await.unwrap();
    let mut service = server.service();
    let mut odd = Odd(17);
    let bases = [
        "/api/v1/namespaces/default/configmaps",
        "/api/v1/namespaces/",
        "/apis/apps/v1/deployments",
        "/apis/",
        "/",
    ];
    let mut answered = 0;
    for i in 0..3000 {
        let base = bases[i % bases.len()];
        let target = format!("{base}{}?{}", odd.text(PIECES), odd.text(PIECES));
        // What the `http` crate takes as a URI reaches the server; the rest never would.
        let Ok(uri) = target.parse::<hyper::Uri>() else {
            continue;
        };
        let method = ["GET", "DELETE", "PATCH"][i % 3];
        let req = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let answer = service.call(req).await.unwrap();
        assert!(answer.status().as_u16() >= 200, "{target}");
        if method != "GET" || !target.contains("watch") {
            let _ = answer.into_body().collect().await;
        }
        answered += 1;
    }
    assert!(answered > 1000, "{answered}");
    // And as raw bytes on the socket, where hyper's own parser comes first.
    for _ in 0..200 {
        let target = format!(
            "/api/v1/namespaces/default/configmaps{}?{}",
            odd.text(PIECES),
            odd.text(PIECES)
        );
        let target: Vec<u8> = target.bytes().filter(|b| !b" #\r\n".contains(b)).collect();
        let answer = raw(&server, &target, "GET", "").await;
        assert!(
            answer.is_some(),
            "no answer to {}",
            String::from_utf8_lossy(&target)
        );
    }
    // Still serving.
    let (code, _) = raw(&server, b"/api/v1/namespaces", "GET", "")
        .await
        .unwrap();
    assert_eq!(code, 200);
}
