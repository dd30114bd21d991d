//! Kubernetes' protobuf encoding on the real server, read without kuber-api's own decoding:
//! every served built-in list read as protobuf decodes to the value the JSON read of the same
//! resourceVersion gives and re-encodes to the server's bytes (run inside the listing case, while
//! its objects exist), and a protobuf watch gives its events, the initial-events bookmark and an
//! ERROR 410 (on a cluster that compacts every second) as frames that decode and re-encode
//! exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use kuber_api::{Client, CoreV1Api, KindInfo, Operation, Request, WriteParams};
use kuber_models::api::core::v1::ConfigMap;
use kuber_models::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status};
use kuber_models::proto::{self, Message};

use crate::case;
use kuber_tests::cluster::{Cluster, Options};

use crate::support::{Case, Context, E2e, Outcome, create_namespace, ensure, poll_every};

pub fn cases() -> Vec<Case> {
    vec![case!("protobuf/watch-frames-bookmark-and-410", watch)]
}

/// What client-go's typed clients send.
const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

/// Lists compared JSON against protobuf, for the listing case's report.
#[derive(Default)]
pub struct Compared {
    pub kinds: usize,
    pub items: usize,
    /// Bodies whose re-encoding gave the server's bytes.
    pub exact: usize,
    /// Kinds the server answered in JSON although protobuf came first.
    pub json_only: Vec<String>,
    pub failures: Vec<String>,
}

impl Compared {
    pub fn report(&self) -> String {
        format!(
            "protobuf: {} kinds compared JSON vs protobuf ({} items), {} bodies byte-exact; JSON only: {}",
            self.kinds,
            self.items,
            self.exact,
            if self.json_only.is_empty() {
                "none".to_owned()
            } else {
                self.json_only.join(", ")
            }
        )
    }

    /// Reads the list of `op` in protobuf, then in JSON at the same resourceVersion, and checks
    /// that both give one value and that the protobuf body re-encodes byte for byte.
    pub async fn list(
        &mut self,
        client: &Client,
        info: &KindInfo,
        op: &'static Operation,
        args: &[&str],
    ) {
        let what = format!("{} {}", info.api_version, info.list_kind);
        if let Err(e) = self.list_inner(client, op, args, &what).await {
            self.failures.push(format!("{what} (protobuf): {e}"));
        }
    }

    async fn list_inner(
        &mut self,
        client: &Client,
        op: &'static Operation,
        args: &[&str],
        what: &str,
    ) -> Result<(), String> {
        let body = client
            .call_bytes(Request::new(op, args).accept(ACCEPT))
            .await
            .map_err(|e| format!("{}: {e}", op.id))?;
        if !body.starts_with(&proto::MAGIC) {
            self.json_only.push(what.to_owned());
            return Ok(());
        }
        let first = kuber_tests::protobuf::to_json(&body)?;
        // The JSON read of the same state; a list not kept in etcd (ComponentStatus) has no
        // resourceVersion and is read again as it is.
        let rv = first["metadata"]["resourceVersion"].as_str().unwrap_or("");
        let mut json_read = Request::new(op, args);
        if !rv.is_empty() {
            json_read = json_read
                .set("resourceVersion", rv.to_owned())
                .set("resourceVersionMatch", "Exact");
        }
        let json = client
            .call_text(json_read)
            .await
            .map_err(|e| format!("JSON list at resourceVersion {rv:?}: {e}"))?;
        kuber_tests::protobuf::check_body(&body, json.as_bytes())?;
        self.kinds += 1;
        self.items += first["items"].as_array().map_or(0, Vec::len);
        self.exact += 1;
        Ok(())
    }
}

/// One frame as read: the event type and the object's whole body.
struct Frame {
    event_type: String,
    object: Vec<u8>,
}

/// Reads the watch body frame by frame.
struct Frames {
    body: kuber_api::ResponseBody,
    buf: Vec<u8>,
}

impl Frames {
    async fn next(&mut self, within: Duration) -> Result<Option<Frame>, String> {
        loop {
            if let Some((frame, used)) = proto::next_frame(&self.buf).map_err(|e| e.to_string())? {
                let event = proto::decode_watch_frame(frame).map_err(|e| e.to_string())?;
                let out = Frame {
                    event_type: event.event_type.to_owned(),
                    object: event.object.to_vec(),
                };
                self.buf.drain(..used);
                return Ok(Some(out));
            }
            let chunk = tokio::time::timeout(within, self.body.frame())
                .await
                .map_err(|_| format!("no watch frame within {} s", within.as_secs()))?;
            match chunk {
                None => return Ok(None),
                Some(frame) => {
                    let frame = frame.map_err(|e| format!("watch body: {e}"))?;
                    if let Ok(data) = frame.into_data() {
                        let data: Bytes = data;
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

async fn open_watch(
    client: &Client,
    ns: &str,
    query: &[(&'static str, &str)],
) -> Result<Frames, String> {
    let op = kuber_api::OPERATIONS
        .iter()
        .find(|o| o.id == "listCoreV1NamespacedConfigMap")
        .ok_or("no listCoreV1NamespacedConfigMap operation")?;
    let mut req = Request::new(op, &[ns]).accept(ACCEPT).set("watch", "true");
    for (k, v) in query {
        req = req.set(k, *v);
    }
    let res = client.send(req).await.context("open the protobuf watch")?;
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    ensure(
        content_type == "application/vnd.kubernetes.protobuf;stream=watch",
        || format!("the watch answered Content-Type {content_type:?}"),
    )?;
    Ok(Frames {
        body: res.into_body(),
        buf: Vec::new(),
    })
}

/// Decodes a frame's object as `T` and checks that it re-encodes to the frame's bytes.
fn exact<T: Message>(frame: &Frame) -> Result<T, String> {
    let value: T = proto::decode_object(&frame.object)
        .map_err(|e| format!("{} frame: {e}", frame.event_type))?;
    let env = proto::decode_envelope(&frame.object).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    value.encode(&mut raw);
    let again = proto::encode_envelope(env.api_version, env.kind, &raw);
    ensure(again == frame.object, || {
        format!(
            "{} frame: the object re-encodes to {} bytes, the server sent {}",
            frame.event_type,
            again.len(),
            frame.object.len()
        )
    })?;
    Ok(value)
}

/// Watches from a compacted resourceVersion until the server answers with an ERROR frame.
async fn expired(within: Duration) -> Result<Status, String> {
    let cluster = Cluster::start_with(Options::fast_compaction())
        .await
        .context("start a fast-compaction cluster")?;
    let client = cluster.admin().context("admin client")?;
    let ns = "protobuf-expired";
    create_namespace(&client, ns).await?;
    let core = CoreV1Api::new(client.clone());
    let w = WriteParams::default();
    let first = core
        .create_namespaced_config_map(ns, &config_map("probe", "0"), &w)
        .await
        .context("create ConfigMap probe")?;
    let old = first
        .metadata
        .and_then(|m| m.resource_version)
        .unwrap_or_default();
    for i in 1..=5 {
        core.replace_namespaced_config_map("probe", ns, &config_map("probe", &i.to_string()), &w)
            .await
            .context("replace ConfigMap probe")?;
    }
    let (client, old) = (&client, old.as_str());
    let frame = poll_every(
        &format!("resourceVersion {old} compacted"),
        Duration::from_secs(40),
        Duration::from_millis(500),
        || async move {
            let query = [("resourceVersion", old), ("timeoutSeconds", "10")];
            let mut frames = open_watch(client, ns, &query).await?;
            let frame = frames.next(within).await?.ok_or("the watch sent nothing")?;
            Ok((frame.event_type == "ERROR").then_some(frame))
        },
    )
    .await?;
    let status: Status = exact(&frame)?;
    ensure(status.code == Some(410), || {
        format!("ERROR frame {status:?}")
    })?;
    Ok(status)
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        }),
        data: Some(BTreeMap::from([("value".to_owned(), value.to_owned())])),
        ..Default::default()
    }
}

async fn watch(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("protobuf-watch").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    let w = WriteParams::default();
    core.create_namespaced_config_map(&ns, &config_map("before", "0"), &w)
        .await
        .context("create ConfigMap before")?;

    let within = Duration::from_secs(20);
    let mut frames = open_watch(
        &e2e.admin,
        &ns,
        &[
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", "60"),
        ],
    )
    .await?;
    let mut seen = Vec::new();
    // The initial state: `before` (and the root CA the controller-manager may have put here).
    loop {
        let frame = frames.next(within).await?.ok_or("the watch ended early")?;
        let cm: ConfigMap = exact(&frame)?;
        let name = cm
            .metadata
            .clone()
            .unwrap_or_default()
            .name
            .unwrap_or_default();
        if frame.event_type == "BOOKMARK" {
            let end = cm.metadata.and_then(|m| m.annotations).is_some_and(|a| {
                a.get("k8s.io/initial-events-end")
                    .is_some_and(|v| v == "true")
            });
            if end {
                break;
            }
            continue;
        }
        seen.push(format!("{} {name}", frame.event_type));
    }
    ensure(seen.iter().any(|s| s == "ADDED before"), || {
        format!("initial events {seen:?} lack ADDED before")
    })?;

    core.create_namespaced_config_map(&ns, &config_map("during", "1"), &w)
        .await
        .context("create ConfigMap during")?;
    core.replace_namespaced_config_map("during", &ns, &config_map("during", "2"), &w)
        .await
        .context("replace ConfigMap during")?;
    core.delete_namespaced_config_map("during", &ns, None, &Default::default())
        .await
        .context("delete ConfigMap during")?;
    let mut changes = Vec::new();
    while changes.len() < 3 {
        let frame = frames.next(within).await?.ok_or("the watch ended early")?;
        if frame.event_type == "BOOKMARK" {
            continue;
        }
        let cm: ConfigMap = exact(&frame)?;
        let meta = cm.metadata.unwrap_or_default();
        if meta.name.as_deref() == Some("during") {
            let value = cm
                .data
                .unwrap_or_default()
                .remove("value")
                .unwrap_or_default();
            changes.push(format!("{} {value}", frame.event_type));
        }
    }
    ensure(changes == ["ADDED 1", "MODIFIED 2", "DELETED 2"], || {
        format!("events {changes:?}")
    })?;

    // A resourceVersion compacted away, on a cluster that compacts every second: an ERROR
    // frame holding a 410 Status.
    let status = expired(within).await?;
    e2e.report(format!(
        "protobuf watch: {} initial, 3 changes, the initial-events-end bookmark and a 410 ({}), every frame byte-exact",
        seen.len(),
        status.reason.unwrap_or_default()
    ));
    Ok(())
}
