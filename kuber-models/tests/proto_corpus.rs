//! Bodies recorded from the real 1.36.3 control plane (`tests/proto-corpus/record.sh`): each
//! protobuf body decodes to the value its JSON read decodes to, and encodes back to the server's
//! bytes exactly. The watch stream's frames too.
#![cfg(all(feature = "protobuf", feature = "all"))]

use std::path::PathBuf;

use kuber_models::proto::{self, Message, MessageVisitor};

fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/proto-corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a whole body as the type of its envelope, compares it with the JSON read and
/// encodes it again.
struct Check<'a> {
    body: &'a [u8],
    json: &'a [u8],
}

impl MessageVisitor for Check<'_> {
    type Output = Result<(), String>;
    fn visit<T>(self) -> Self::Output
    where
        T: Message
            + serde_core::Serialize
            + serde_core::de::DeserializeOwned
            + Clone
            + std::fmt::Debug
            + PartialEq
            + 'static,
    {
        let env = proto::decode_envelope(self.body).map_err(|e| e.to_string())?;
        let value: T = proto::decode_object(self.body).map_err(|e| e.to_string())?;
        let from_json: T = serde_json::from_slice(self.json).map_err(|e| e.to_string())?;
        if value != from_json {
            return Err(format!(
                "protobuf read differs from the JSON read:\n{}\n{}",
                serde_json::to_string(&value).unwrap(),
                serde_json::to_string(&from_json).unwrap()
            ));
        }
        let mut raw = Vec::new();
        value.encode(&mut raw);
        let again = proto::encode_envelope(env.api_version, env.kind, &raw);
        if again != self.body {
            let at = again.iter().zip(self.body).position(|(a, b)| a != b);
            return Err(format!(
                "re-encoded bytes differ (lengths {} and {}, first difference at {at:?})",
                again.len(),
                self.body.len()
            ));
        }
        Ok(())
    }
}

fn check(body: &[u8], json: &[u8]) -> Result<(), String> {
    let env = proto::decode_envelope(body).map_err(|e| e.to_string())?;
    proto::with_message_type(env.api_version, env.kind, Check { body, json })
        .ok_or_else(|| format!("no message type for {} {}", env.api_version, env.kind))?
}

const BODIES: &[&str] = &[
    "pod",
    "deployment",
    "service",
    "configmap",
    "secret",
    "configmap-list",
    "node",
    "lease",
    "crd",
    "event-list",
    "core-event-list",
    "status-404",
];

#[test]
fn recorded_bodies_read_as_their_json_and_re_encode_exactly() {
    let mut failures = Vec::new();
    for name in BODIES {
        let body = corpus(&format!("{name}.pb"));
        let json = corpus(&format!("{name}.json"));
        if let Err(e) = check(&body, &json) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_recorded_watch_reads_as_its_json_lines() {
    let stream = corpus("watch.pb");
    let json = corpus("watch.json");
    let lines: Vec<serde_json::Value> = json
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let (mut at, mut events, mut rebuilt) = (0, Vec::new(), Vec::new());
    while let Some((frame, used)) = proto::next_frame(&stream[at..]).unwrap() {
        let event = proto::decode_watch_frame(frame).unwrap();
        proto::encode_watch_frame(event.event_type, event.object, &mut rebuilt);
        events.push((event.event_type.to_owned(), event.object.to_vec()));
        at += used;
    }
    assert_eq!(at, stream.len(), "no bytes after the last frame");
    assert_eq!(rebuilt, stream, "frames re-encode exactly");
    assert_eq!(events.len(), lines.len());
    assert!(events.iter().any(|(t, _)| t == "BOOKMARK"), "a bookmark");
    for ((event_type, object), line) in events.iter().zip(&lines) {
        assert_eq!(line["type"], event_type.as_str());
        let mut line_object = line["object"].clone();
        if event_type == "BOOKMARK" {
            // Each watch ends its initial events at the resourceVersion it started from, and the
            // two recorded watches started apart: take the protobuf one's.
            let body = proto::decode_envelope(object).unwrap();
            let cm = kuber_models::api::core::v1::ConfigMap::decode(body.raw).unwrap();
            let rv = cm.metadata.unwrap().resource_version.unwrap();
            line_object["metadata"]["resourceVersion"] = rv.into();
        }
        let json = serde_json::to_vec(&line_object).unwrap();
        check(object, &json).unwrap_or_else(|e| panic!("{event_type}: {e}"));
    }
}

/// With `KUBER_PROTO_BODIES=DIR`: every `NAME.pb` there that is a protobuf body, against its
/// `NAME.json` (a folder of LISTs recorded from a live server, say; not committed).
#[test]
fn bodies_of_a_folder_given() {
    let Some(dir) = std::env::var_os("KUBER_PROTO_BODIES") else {
        return;
    };
    let (mut checked, mut failures) = (0, Vec::new());
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    names.sort();
    for pb in names {
        let body = std::fs::read(&pb).unwrap();
        if !body.starts_with(&proto::MAGIC) {
            continue;
        }
        let json = std::fs::read(pb.with_extension("json")).unwrap();
        let env = proto::decode_envelope(&body).unwrap();
        let json_kind = serde_json::from_slice::<serde_json::Value>(&json).unwrap()["kind"].clone();
        // A custom resource answers protobuf with a 406 Status; metrics.k8s.io has no facts.
        if json_kind != env.kind || env.api_version.starts_with("metrics.k8s.io/") {
            println!("skipped {}: {} {}", pb.display(), env.api_version, env.kind);
            continue;
        }
        checked += 1;
        if let Err(e) = check(&body, &json) {
            failures.push(format!("{}: {e}", pb.display()));
        }
    }
    println!("{checked} protobuf bodies checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
