//! What kubectl needs from the server beyond the verbs: aggregated discovery, `/openapi/v3`,
//! Table answers and `fieldValidation`, checked on the wire (headers included).

use kuber_testserver::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const KUBECTL_DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const KUBECTL_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

struct Answer {
    code: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The lines of a watch body.
    fn events(&self) -> Vec<Value> {
        self.body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }
}

/// One HTTP/1.1 request on its own connection, read to its end.
async fn request(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut socket = TcpStream::connect(server.addr()).await.unwrap();
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr(),
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    socket.write_all(text.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let code = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked");
    if chunked {
        let mut body = Vec::new();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap(), 16).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest.drain(..end + 2 + size + 2);
        }
        rest = body;
    }
    Answer {
        code,
        headers,
        body: rest,
    }
}

async fn get(server: &TestServer, path: &str, accept: &str) -> Answer {
    request(server, "GET", path, &[("Accept", accept)], "").await
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

#[tokio::test]
async fn aggregated_discovery_is_served_when_asked_for_with_its_content_type() {
    let server = TestServer::start().await.unwrap();
    let apis = get(&server, "/apis", KUBECTL_DISCOVERY).await;
    assert_eq!(apis.code, 200);
    // client-go takes the body as aggregated only with these parameters.
    assert_eq!(
        apis.header("content-type"),
        Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    );
    let apis = apis.json();
    assert_eq!(
        (&apis["kind"], &apis["apiVersion"]),
        (
            &json!("APIGroupDiscoveryList"),
            &json!("apidiscovery.k8s.io/v2")
        )
    );
    let apps = apis["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    assert_eq!(apps["versions"][0]["version"], "v1");
    assert_eq!(apps["versions"][0]["freshness"], "Current");
    let deployments = find(&apps["versions"][0]["resources"], "resource", "deployments");
    assert_eq!(
        deployments["responseKind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert_eq!(deployments["scope"], "Namespaced");
    assert_eq!(deployments["singularResource"], "deployment");
    assert_eq!(deployments["shortNames"], json!(["deploy"]));
    assert_eq!(deployments["categories"], json!(["all"]));
    let scale = find(&deployments["subresources"], "subresource", "scale");
    assert_eq!(
        scale["responseKind"],
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    );
    let autoscaling = apis["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "autoscaling")
        .unwrap();
    assert_eq!(
        autoscaling["versions"][0]["version"], "v2",
        "preferred first"
    );

    let core = get(&server, "/api", KUBECTL_DISCOVERY).await.json();
    assert_eq!(core["items"][0]["metadata"]["name"], "");
    let pods = find(
        &core["items"][0]["versions"][0]["resources"],
        "resource",
        "pods",
    );
    assert_eq!(pods["scope"], "Namespaced");
    assert_eq!(pods["categories"], json!(["all"]));
    let namespaces = find(
        &core["items"][0]["versions"][0]["resources"],
        "resource",
        "namespaces",
    );
    assert_eq!(namespaces["scope"], "Cluster");
    assert!(namespaces.get("categories").is_none());

    // Without the aggregated media type first: the legacy documents.
    for accept in [
        "application/json",
        "application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "",
    ] {
        let legacy = get(&server, "/apis", accept).await;
        assert_eq!(legacy.header("content-type"), Some("application/json"));
        assert_eq!(legacy.json()["kind"], "APIGroupList", "{accept}");
    }
    let v1 = get(&server, "/api/v1", "application/json").await.json();
    assert_eq!(
        find(&v1["resources"], "name", "services")["categories"],
        json!(["all"])
    );
}

#[tokio::test]
async fn openapi_v3_documents_carry_kinds_field_validation_and_patch_facts() {
    let server = TestServer::start().await.unwrap();
    let index = get(&server, "/openapi/v3", "application/json").await.json();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    assert!(index["paths"]["api/v1"].is_object());
    assert!(index["paths"].get("apis/metrics.k8s.io/v1beta1").is_none());

    let doc = get(&server, &url, "application/json").await;
    assert_eq!(doc.code, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.0.0");
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    let params = &patch["parameters"];
    assert_eq!(find(params, "name", "fieldValidation")["in"], "query");
    assert!(patch["requestBody"]["content"]["application/strategic-merge-patch+json"].is_object());
    // A subresource's kind is its own.
    let scale =
        &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
    assert_eq!(
        scale["x-kubernetes-group-version-kind"]["group"],
        "autoscaling"
    );

    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"],
        "Deployment"
    );
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    // Only what the group-version reaches.
    assert!(schemas.get("io.k8s.api.batch.v1.Job").is_none());
    // Every $ref resolves inside the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(
            schemas.get(name).is_some(),
            "{name} is referenced but absent"
        );
    }

    assert_eq!(
        get(&server, "/openapi/v3/apis/nope/v1", "application/json")
            .await
            .code,
        404
    );
    // kubectl asks v2 for protobuf only: a 404 makes it use v3.
    let v2 = get(
        &server,
        "/openapi/v2",
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    )
    .await;
    assert_eq!(v2.code, 404);
}

async fn create(server: &TestServer, path: &str, body: &Value, query: &str) -> Answer {
    request(
        server,
        "POST",
        &format!("{path}{query}"),
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await
}

#[tokio::test]
async fn tables_for_get_list_and_watch() {
    let server = TestServer::start().await.unwrap();
    let cms = "/api/v1/namespaces/default/configmaps";
    let created = std::time::Instant::now();
    for name in ["alpha", "beta"] {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
        assert_eq!(create(&server, cms, &cm, "").await.code, 201);
    }
    let list = get(&server, cms, KUBECTL_TABLE).await.json();
    assert_eq!(
        (&list["kind"], &list["apiVersion"]),
        (&json!("Table"), &json!("meta.k8s.io/v1"))
    );
    let columns: Vec<&Value> = list["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(columns, [&json!("Name"), &json!("Age")]);
    assert_eq!(list["columnDefinitions"][0]["format"], "name");
    // The age in kubectl's form, whole seconds since creation (a loaded machine may take a few).
    assert_eq!(list["rows"][0]["cells"][0], "alpha");
    let age = list["rows"][0]["cells"][1].as_str().unwrap();
    let seconds: u64 = age.strip_suffix('s').and_then(|n| n.parse().ok()).unwrap();
    assert!(seconds <= created.elapsed().as_secs(), "age {age}");
    assert_eq!(list["rows"][1]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(list["rows"][1]["object"]["metadata"]["name"], "beta");
    assert!(list["metadata"]["resourceVersion"].is_string());

    let whole = get(
        &server,
        &format!("{cms}?includeObject=Object"),
        KUBECTL_TABLE,
    )
    .await
    .json();
    assert_eq!(whole["rows"][0]["object"]["kind"], "ConfigMap");
    assert_eq!(whole["rows"][0]["object"]["apiVersion"], "v1");
    let none = get(&server, &format!("{cms}?includeObject=None"), KUBECTL_TABLE)
        .await
        .json();
    assert!(none["rows"][0].get("object").is_none());
    let bad = get(&server, &format!("{cms}?includeObject=Some"), KUBECTL_TABLE).await;
    assert_eq!(bad.code, 400);

    let one = get(&server, &format!("{cms}/beta"), KUBECTL_TABLE)
        .await
        .json();
    assert_eq!(one["kind"], "Table");
    assert_eq!(one["rows"].as_array().unwrap().len(), 1);
    assert_eq!(one["rows"][0]["cells"][0], "beta");
    let beta1 = get(
        &server,
        &format!("{cms}/beta"),
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
    )
    .await
    .json();
    assert_eq!(beta1["apiVersion"], "meta.k8s.io/v1beta1");
    // Plain JSON is still the object.
    assert_eq!(
        get(&server, &format!("{cms}/beta"), "application/json")
            .await
            .json()["kind"],
        "ConfigMap"
    );

    let watch = get(
        &server,
        &format!("{cms}?watch=true&timeoutSeconds=1"),
        KUBECTL_TABLE,
    )
    .await;
    let events = watch.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["kind"], "Table");
    assert_eq!(events[0]["object"]["rows"][0]["cells"][0], "alpha");
}

#[tokio::test]
async fn field_validation_strict_warn_and_ignore() {
    let server = TestServer::start().await.unwrap();
    let deploys = "/apis/apps/v1/namespaces/default/deployments";
    let deploy = |name: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"any": "label"}, "bogus": 1},
            "spec": {
                "selector": {"matchLabels": {"app": "x"}},
                "template": {
                    "metadata": {"labels": {"app": "x"}},
                    "spec": {"containers": [{"name": "x", "image": "x", "nope": true}]},
                },
            },
        })
    };
    let strict = create(
        &server,
        deploys,
        &deploy("strict"),
        "?fieldValidation=Strict",
    )
    .await;
    assert_eq!(strict.code, 400);
    let status = strict.json();
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "metadata.bogus", unknown field "spec.template.spec.containers[0].nope""#
    );

    let warned = create(&server, deploys, &deploy("warned"), "?fieldValidation=Warn").await;
    assert_eq!(warned.code, 201);
    assert_eq!(
        warned.headers("warning"),
        [
            r#"299 - "unknown field \"metadata.bogus\"""#,
            r#"299 - "unknown field \"spec.template.spec.containers[0].nope\"""#
        ]
    );
    // The real server's default is to warn as well.
    assert_eq!(
        create(&server, deploys, &deploy("default"), "")
            .await
            .headers("warning")
            .len(),
        2
    );
    let ignored = create(
        &server,
        deploys,
        &deploy("ignored"),
        "?fieldValidation=Ignore",
    )
    .await;
    assert_eq!(ignored.code, 201);
    assert!(ignored.headers("warning").is_empty());
    assert_eq!(
        create(&server, deploys, &deploy("x"), "?fieldValidation=Sometimes")
            .await
            .code,
        400
    );

    // A patch is checked as the object it makes.
    let patch = |body: &str, mode: &str| {
        let path = format!("{deploys}/ignored?fieldValidation={mode}");
        let server = &server;
        let body = body.to_owned();
        async move {
            request(
                server,
                "PATCH",
                &path,
                &[("Content-Type", "application/merge-patch+json")],
                &body,
            )
            .await
        }
    };
    let refused = patch(r#"{"spec":{"replicaz":3}}"#, "Strict").await;
    assert_eq!(refused.code, 400);
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .ends_with(r#"unknown field "spec.replicaz""#)
    );
    let fine = patch(r#"{"spec":{"replicas":3}}"#, "Strict").await;
    assert_eq!(fine.code, 200, "{:?}", fine.json());
    // Maps take any key; objects without a schema of their fields take anything.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "annotations": {"x/y": "z"}}, "data": {"anything": "goes"}});
    let ok = create(
        &server,
        "/api/v1/namespaces/default/configmaps",
        &cm,
        "?fieldValidation=Strict",
    )
    .await;
    assert_eq!(ok.code, 201);
}
