//! Protobuf bodies against their JSON reads: a body decodes (as the type its envelope names) to
//! the value the JSON read of the same state decodes to, and encodes back to the server's bytes.
//! The e2e suite checks what the real server answers; the conformance run and the tests check
//! the recorded corpus (`kuber-models/tests/proto-corpus`).

use std::path::{Path, PathBuf};

use kuber_models::proto::{self, Message, MessageVisitor};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::compare::compare;

/// The corpus recorded from the real 1.36.3 control plane (`record.sh` there).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kuber-models/tests/proto-corpus")
}

/// Checks one whole body (magic, envelope, message) against the JSON read of the same object.
pub fn check_body(body: &[u8], json: &[u8]) -> Result<(), String> {
    let env = proto::decode_envelope(body).map_err(|e| e.to_string())?;
    proto::with_message_type(env.api_version, env.kind, Alike { body, json })
        .ok_or_else(|| format!("no message type for {} {}", env.api_version, env.kind))?
}

/// A whole body as the JSON its typed value serializes to.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let env = proto::decode_envelope(body).map_err(|e| e.to_string())?;
    proto::with_message_type(env.api_version, env.kind, AsJson(body))
        .ok_or_else(|| format!("no message type for {} {}", env.api_version, env.kind))?
}

struct AsJson<'a>(&'a [u8]);

impl MessageVisitor for AsJson<'_> {
    type Output = Result<Value, String>;

    fn visit<T>(self) -> Self::Output
    where
        T: Message + Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + 'static,
    {
        let value: T = proto::decode_object(self.0).map_err(|e| format!("decode: {e}"))?;
        serde_json::to_value(&value).map_err(|e| format!("to JSON: {e}"))
    }
}

struct Alike<'a> {
    body: &'a [u8],
    json: &'a [u8],
}

impl MessageVisitor for Alike<'_> {
    type Output = Result<(), String>;

    fn visit<T>(self) -> Self::Output
    where
        T: Message + Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + 'static,
    {
        let from_pb: T = proto::decode_object(self.body).map_err(|e| format!("decode: {e}"))?;
        let from_json: T =
            serde_json::from_slice(self.json).map_err(|e| format!("JSON decode: {e}"))?;
        // As JSON too, under the conformance rules: the protobuf read written as JSON is the
        // server's JSON (which also covers what the models keep as unknown).
        let server: Value = serde_json::from_slice(self.json).map_err(|e| e.to_string())?;
        let ours = serde_json::to_value(&from_pb).map_err(|e| e.to_string())?;
        compare(&server, &ours)
            .map_err(|d| format!("the protobuf read, as JSON, is not the server's JSON {d}"))?;
        if from_pb != from_json {
            return Err("the typed values differ although their JSON is equal".into());
        }
        let env = proto::decode_envelope(self.body).map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        from_pb.encode(&mut raw);
        let again = proto::encode_envelope(env.api_version, env.kind, &raw);
        if again != self.body {
            let at = again.iter().zip(self.body).position(|(a, b)| a != b);
            return Err(format!(
                "re-encoded bytes differ (lengths {} and {}, first difference at byte {})",
                again.len(),
                self.body.len(),
                at.unwrap_or(again.len().min(self.body.len()))
            ));
        }
        Ok(())
    }
}

/// A watch stream's frames: each re-encodes exactly and its object is checked against the JSON
/// line of the same position (`json_lines`: the JSON watch of the same events). Answers the
/// number of frames.
pub fn check_watch(stream: &[u8], json_lines: &[u8]) -> Result<usize, String> {
    let lines: Vec<Value> = json_lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(serde_json::from_slice)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("JSON watch line: {e}"))?;
    let (mut at, mut rebuilt, mut frames) = (0, Vec::new(), 0);
    while let Some((frame, used)) =
        proto::next_frame(&stream[at..]).map_err(|e| format!("frame {frames}: {e}"))?
    {
        let event = proto::decode_watch_frame(frame).map_err(|e| format!("frame {frames}: {e}"))?;
        proto::encode_watch_frame(event.event_type, event.object, &mut rebuilt);
        let line = lines
            .get(frames)
            .ok_or_else(|| format!("frame {frames} has no JSON line"))?;
        if line["type"] != event.event_type {
            return Err(format!(
                "frame {frames}: {} where the JSON watch has {}",
                event.event_type, line["type"]
            ));
        }
        let mut object = line["object"].clone();
        if event.event_type == "BOOKMARK" {
            // A bookmark carries the resourceVersion its own watch reached: take the frame's.
            let ours = to_json(event.object)?;
            object["metadata"]["resourceVersion"] = ours["metadata"]["resourceVersion"].clone();
        }
        let json = serde_json::to_vec(&object).map_err(|e| e.to_string())?;
        check_body(event.object, &json).map_err(|e| format!("frame {frames}: {e}"))?;
        at += used;
        frames += 1;
    }
    if at != stream.len() {
        return Err(format!("{} bytes after the last frame", stream.len() - at));
    }
    if rebuilt != stream {
        return Err("the frames do not re-encode to the stream".into());
    }
    if frames != lines.len() {
        return Err(format!("{frames} frames, {} JSON lines", lines.len()));
    }
    Ok(frames)
}

/// What [`check_folder`] found.
#[derive(Debug, Default)]
pub struct Checked {
    pub bodies: usize,
    pub watch_frames: usize,
    pub failures: Vec<String>,
}

/// Every `NAME.pb` of `dir` against its `NAME.json`: whole bodies, and watch streams
/// (`NAME.pb` without the magic, `NAME.json` one event per line).
pub fn check_folder(dir: &Path) -> Result<Checked, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    names.sort();
    let mut checked = Checked::default();
    for pb in names {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let (body, json) = (read(&pb)?, read(&pb.with_extension("json"))?);
        let outcome = if body.starts_with(&proto::MAGIC) {
            check_body(&body, &json).map(|()| checked.bodies += 1)
        } else {
            check_watch(&body, &json).map(|n| checked.watch_frames += n)
        };
        if let Err(e) = outcome {
            checked.failures.push(format!("{}: {e}", pb.display()));
        }
    }
    Ok(checked)
}
