//! `cargo xtask proto-facts`: the field numbers of Kubernetes' `generated.proto` files as one
//! facts-only file, `spec/proto.facts` ([`codegen::proto`]), which `gen` reads beside the swagger.

use std::fs;
use std::path::{Path, PathBuf};

use codegen::proto::{ProtoFacts, parse_proto};

use crate::layout::workspace_root;

/// Where the facts live in the workspace.
pub const FACTS_FILE: &str = "spec/proto.facts";

/// Test-only packages of apimachinery: no API serves them.
const SKIPPED: &[&str] = &["k8s.io/apimachinery/pkg/apis/testapigroup/"];

pub fn main(args: &[String]) -> Result<(), String> {
    let (mut proto, mut tags, mut check) = (None, Vec::new(), false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--proto" => proto = it.next().map(PathBuf::from),
            "--tag" => tags.push(it.next().ok_or("proto-facts: --tag needs MODULE=TAG")?),
            "--check" => check = true,
            other => return Err(format!("proto-facts: unknown argument `{other}`")),
        }
    }
    let proto = proto.ok_or("proto-facts: --proto DIR is required (../shared/proto/v0.36.3)")?;
    let tags = tags
        .iter()
        .map(|t| {
            t.split_once('=')
                .map(|(m, v)| (m.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("proto-facts: --tag {t}: not MODULE=TAG"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let facts = extract(&proto, &tags)?;
    let text = facts.to_text();
    let fields: usize = facts.messages.values().map(Vec::len).sum();
    let stale = format!(
        "is not what {} gives: run cargo xtask proto-facts",
        proto.display()
    );
    write_or_check(FACTS_FILE, &text, check, &stale)?;
    record_facts(
        FACTS_FILE,
        "proto facts",
        &text,
        &facts.sources,
        check,
        &stale,
    )?;
    if !check {
        println!(
            "{FACTS_FILE}: {} messages, {fields} fields from {}",
            facts.messages.len(),
            proto.display()
        );
    }
    Ok(())
}

/// Writes `text` to the workspace file `rel`, or with `check` fails (saying `stale`) if the
/// committed file differs.
pub fn write_or_check(rel: &str, text: &str, check: bool, stale: &str) -> Result<(), String> {
    let path = workspace_root().join(rel);
    if check {
        let committed = fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
        if committed != text {
            return Err(format!("{rel} {stale}"));
        }
        println!("{rel} is fresh");
        return Ok(());
    }
    fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The provenance of a facts file in `spec/source.json` (its `facts` list, beside the documents
/// `gen` records): file, format, sha256 and the modules it comes from. With `check`, fails
/// (saying `stale`) if the recorded entry differs.
pub fn record_facts(
    rel: &str,
    format: &str,
    text: &str,
    sources: &[String],
    check: bool,
    stale: &str,
) -> Result<(), String> {
    let path = workspace_root().join(SOURCE_RECORD);
    let old = fs::read_to_string(&path).map_err(|e| format!("{SOURCE_RECORD}: {e}"))?;
    let new = with_facts_entry(&old, &facts_entry(rel, format, text, sources))?;
    if check {
        if new != old {
            return Err(format!("{SOURCE_RECORD}: the entry of {rel} {stale}"));
        }
        return Ok(());
    }
    fs::write(&path, new).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where `gen` records the documents, and these commands the facts files.
const SOURCE_RECORD: &str = "spec/source.json";

fn facts_entry(rel: &str, format: &str, text: &str, sources: &[String]) -> serde_json::Value {
    serde_json::json!({
        "file": rel,
        "format": format,
        "sha256": crate::gen_cmd::sha256_hex(text.as_bytes()),
        "sources": sources,
    })
}

/// `record` (source.json's text) with `entry` in its `facts` list, replacing the one of the
/// same file; the list sorted by file.
fn with_facts_entry(record: &str, entry: &serde_json::Value) -> Result<String, String> {
    let mut json: serde_json::Value =
        serde_json::from_str(record).map_err(|e| format!("{SOURCE_RECORD}: {e}"))?;
    let object = json
        .as_object_mut()
        .ok_or_else(|| format!("{SOURCE_RECORD}: not an object"))?;
    let list = object
        .entry("facts")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| format!("{SOURCE_RECORD}: `facts` is not a list"))?;
    list.retain(|e| e["file"] != entry["file"]);
    list.push(entry.clone());
    list.sort_by(|a, b| a["file"].as_str().cmp(&b["file"].as_str()));
    let mut text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Every `generated.proto` under `dir` (its last component the default tag), in path order.
fn extract(dir: &Path, tags: &[(String, String)]) -> Result<ProtoFacts, String> {
    let default_tag = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.starts_with('v'))
        .ok_or_else(|| format!("{}: name the folder of a tag (v0.36.3)", dir.display()))?;
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut facts = ProtoFacts::default();
    for file in files {
        let rel = file
            .strip_prefix(dir)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        if SKIPPED.iter().any(|s| rel.starts_with(s)) {
            continue;
        }
        let module = module_of(&rel)
            .ok_or_else(|| format!("{rel}: not under k8s.io/<module>/"))?
            .to_owned();
        let tag = tags
            .iter()
            .find(|(m, _)| *m == module)
            .map_or(default_tag, |(_, t)| t.as_str());
        let source = format!("{module} {tag}");
        if !facts.sources.contains(&source) {
            facts.sources.push(source);
        }
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let messages = parse_proto(&text, &rel).map_err(|e| e.to_string())?;
        facts.add(&rel, messages).map_err(|e| e.to_string())?;
    }
    if facts.messages.is_empty() {
        return Err(format!("{}: no generated.proto found", dir.display()));
    }
    facts.sources.sort();
    Ok(facts)
}

/// `k8s.io/api/core/v1/generated.proto` → `k8s.io/api`.
fn module_of(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("k8s.io/")?;
    let end = rest.find('/')?;
    Some(&rel[.."k8s.io/".len() + end])
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "generated.proto") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_facts_entry_replaces_the_one_of_its_file() {
        let record = "{\n  \"generated_from\": []\n}\n";
        let a = facts_entry("spec/b.facts", "x", "one", &["m v1".to_owned()]);
        let once = with_facts_entry(record, &a).unwrap();
        let b = facts_entry("spec/a.facts", "y", "two", &[]);
        let twice = with_facts_entry(&once, &b).unwrap();
        let again = with_facts_entry(&twice, &a).unwrap();
        assert_eq!(twice, again);
        let json: serde_json::Value = serde_json::from_str(&again).unwrap();
        assert_eq!(json["facts"][0]["file"], "spec/a.facts");
        assert_eq!(json["facts"][1]["sources"][0], "m v1");
        assert_eq!(
            json["facts"][1]["sha256"],
            crate::gen_cmd::sha256_hex(b"one")
        );
        assert!(json["generated_from"].is_array());
    }

    #[test]
    fn the_module_is_the_path_under_k8s_io() {
        assert_eq!(
            module_of("k8s.io/api/core/v1/generated.proto"),
            Some("k8s.io/api")
        );
        assert_eq!(
            module_of("k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/generated.proto"),
            Some("k8s.io/kube-aggregator")
        );
        assert_eq!(module_of("other/generated.proto"), None);
    }

    #[test]
    fn a_folder_of_protos_becomes_facts_with_their_sources() {
        let dir = std::env::temp_dir().join(format!("kuber-proto-facts-{}", std::process::id()));
        let tagged = dir.join("v9.9.9");
        let core = tagged.join("k8s.io/api/core/v1");
        let agg = tagged.join("k8s.io/kube-aggregator/pkg/apis/apiregistration/v1");
        fs::create_dir_all(&core).unwrap();
        fs::create_dir_all(&agg).unwrap();
        fs::write(
            core.join("generated.proto"),
            "package k8s.io.api.core.v1;\nmessage A {\n  optional string a = 1;\n}\n",
        )
        .unwrap();
        fs::write(
            agg.join("generated.proto"),
            "package k8s.io.kube_aggregator.pkg.apis.apiregistration.v1;\nmessage S {\n}\n",
        )
        .unwrap();
        let tags = [("k8s.io/kube-aggregator".to_owned(), "v9.9.8".to_owned())];
        let facts = extract(&tagged, &tags).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            facts.sources,
            ["k8s.io/api v9.9.9", "k8s.io/kube-aggregator v9.9.8"]
        );
        assert!(facts.messages.contains_key("io.k8s.api.core.v1.A"));
        assert!(
            facts
                .messages
                .contains_key("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.S")
        );
    }
}
