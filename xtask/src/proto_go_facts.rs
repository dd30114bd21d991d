//! `cargo xtask proto-go-facts`: how the Go types of the built-in kinds hold each protobuf field
//! (value, pointer, slice, map, bytes) and their json tag options, as one facts-only file,
//! `spec/proto-go.facts`, beside `spec/proto.facts`. The protobuf generator needs both to write
//! what the apiserver writes (gogo-protobuf writes a non-pointer field even when zero) and to decode
//! to what the JSON read gives (`omitempty` drops zero values).
//!
//! The facts come from reflection over the registered Go types, by our program
//! `tests/controlplane/proto-go-facts` (`go run` in the module that pins the control plane, so
//! maintainers only: users never need Go). Every line is cross-checked against `spec/proto.facts`.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use codegen::proto::{Label, ProtoFacts};

use crate::cluster::{GO_TAGS, MODULE_DIR, go_command, go_env};
use crate::layout::workspace_root;
use crate::proto_facts::{FACTS_FILE, record_facts, write_or_check};

/// Where the facts live in the workspace.
pub const GO_FACTS_FILE: &str = "spec/proto-go.facts";
/// Our Go program, a package of [`MODULE_DIR`].
const PROGRAM: &str = "./proto-go-facts";
const HEADER: &str = "# kuber proto go facts: message\tfield\tgo\tjson";

pub fn main(args: &[String]) -> Result<(), String> {
    let mut check = false;
    for arg in args {
        match arg.as_str() {
            "--check" => check = true,
            other => return Err(format!("proto-go-facts: unknown argument `{other}`")),
        }
    }
    let started = Instant::now();
    let text = run_program()?;
    let facts = GoFacts::parse(&text)?;
    let root = workspace_root();
    let proto_text =
        std::fs::read_to_string(root.join(FACTS_FILE)).map_err(|e| format!("{FACTS_FILE}: {e}"))?;
    let proto = ProtoFacts::parse(&proto_text, FACTS_FILE).map_err(|e| e.to_string())?;
    let report = cross_check(&facts, &proto)?;
    let stale = "is not what the Go types give: run cargo xtask proto-go-facts".to_owned();
    write_or_check(GO_FACTS_FILE, &text, check, &stale)?;
    record_facts(
        GO_FACTS_FILE,
        "proto go facts",
        &text,
        &facts.sources,
        check,
        &stale,
    )?;
    println!(
        "{GO_FACTS_FILE}: {} lines; {} of {} fields of {FACTS_FILE} have one ({} messages \
         without any: {}); in {:.1} s",
        facts.len(),
        report.covered,
        report.fields,
        report.uncovered.len(),
        report.uncovered.join(" "),
        started.elapsed().as_secs_f64()
    );
    for note in &report.notes {
        println!("  note: {note}");
    }
    Ok(())
}

/// `go run` of our program in the control plane's module, with its flags (so that the
/// Kubernetes packages compiled by `cluster build` come from Go's cache); its output.
fn run_program() -> Result<String, String> {
    let go = go_command()?;
    let mut cmd = Command::new(&go);
    go_env(&mut cmd)
        .current_dir(workspace_root().join(MODULE_DIR))
        .args(["run", "-trimpath", "-tags", GO_TAGS, PROGRAM]);
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "go run {PROGRAM} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("go run {PROGRAM}: {e}"))
}

/// How Go holds a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GoKind {
    Value,
    Pointer,
    Slice,
    Map,
    Bytes,
}

impl GoKind {
    fn from_name(name: &str) -> Option<GoKind> {
        Some(match name {
            "value" => GoKind::Value,
            "pointer" => GoKind::Pointer,
            "slice" => GoKind::Slice,
            "map" => GoKind::Map,
            "bytes" => GoKind::Bytes,
            _ => return None,
        })
    }

    /// The proto label a field of this kind has.
    fn label(self) -> Label {
        match self {
            GoKind::Slice => Label::Repeated,
            GoKind::Map => Label::Map,
            GoKind::Value | GoKind::Pointer | GoKind::Bytes => Label::Optional,
        }
    }
}

#[derive(Debug, PartialEq)]
struct GoField {
    go: GoKind,
    /// `always`, `-`, or the json tag options (`omitempty`, `omitzero`, `inline`) joined by `,`.
    json: String,
}

/// The parsed `spec/proto-go.facts`.
#[derive(Debug, Default)]
struct GoFacts {
    /// `MODULE VERSION`, from the `# source` lines.
    sources: Vec<String>,
    messages: BTreeMap<String, BTreeMap<String, GoField>>,
}

impl GoFacts {
    fn parse(text: &str) -> Result<GoFacts, String> {
        let mut facts = GoFacts::default();
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(format!("{GO_FACTS_FILE}: the first line is not `{HEADER}`"));
        }
        for (i, line) in lines {
            let at = |problem: String| format!("{GO_FACTS_FILE}:{}: {problem}", i + 1);
            if let Some(source) = line.strip_prefix("# source ") {
                facts.sources.push(source.to_owned());
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let [message, field, go, json] = line.split('\t').collect::<Vec<_>>()[..] else {
                return Err(at("not 4 columns".into()));
            };
            let go = GoKind::from_name(go).ok_or_else(|| at(format!("go kind {go:?}")))?;
            let fields = facts.messages.entry(message.to_owned()).or_default();
            let json = json.to_owned();
            if fields
                .insert(field.to_owned(), GoField { go, json })
                .is_some()
            {
                return Err(at(format!("{message} {field} a second time")));
            }
        }
        if facts.sources.is_empty() {
            return Err(format!("{GO_FACTS_FILE}: no `# source` lines"));
        }
        Ok(facts)
    }

    fn len(&self) -> usize {
        self.messages.values().map(BTreeMap::len).sum()
    }
}

#[derive(Debug, Default)]
struct Coverage {
    /// Fields of the proto facts, and how many of them have a Go line.
    fields: usize,
    covered: usize,
    /// Messages of the proto facts with fields and no Go line (no Go struct holds them).
    uncovered: Vec<String>,
    /// Fields some of whose message's fields have lines; kinds that disagree with the label.
    notes: Vec<String>,
}

/// Every Go line names a field of the proto facts (an error otherwise); how many proto fields
/// have a line, and what disagrees.
fn cross_check(go: &GoFacts, proto: &ProtoFacts) -> Result<Coverage, String> {
    let mut extra = Vec::new();
    for (message, fields) in &go.messages {
        let known = proto.messages.get(message);
        for field in fields.keys() {
            if !known.is_some_and(|f| f.iter().any(|p| p.name == *field)) {
                extra.push(format!("{message} {field}"));
            }
        }
    }
    if !extra.is_empty() {
        return Err(format!(
            "{GO_FACTS_FILE} names fields {FACTS_FILE} lacks: {}",
            extra.join(", ")
        ));
    }
    let mut report = Coverage::default();
    for (message, fields) in &proto.messages {
        let lines = go.messages.get(message);
        report.fields += fields.len();
        if lines.is_none() && !fields.is_empty() {
            report.uncovered.push(message.clone());
            continue;
        }
        for field in fields {
            match lines.and_then(|l| l.get(&field.name)) {
                None => report
                    .notes
                    .push(format!("{message} {}: no Go line", field.name)),
                Some(line) => {
                    report.covered += 1;
                    if line.go.label() != field.label {
                        report.notes.push(format!(
                            "{message} {}: Go {:?}, proto {:?}",
                            field.name, line.go, field.label
                        ));
                    }
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = "# kuber proto facts: message\tfield\tnumber\twire\ttype\tlabel
# source k8s.io/api v9.9.9
io.k8s.api.core.v1.A\tname\t1\tlen\tstring\toptional
io.k8s.api.core.v1.A\titems\t2\tlen\tstring\trepeated
io.k8s.api.core.v1.A\tlabels\t3\tlen\tmap<string,string>\tmap
io.k8s.api.core.v1.A\tgone\t4\tvarint\tint32\toptional
io.k8s.api.core.v1.B\tx\t1\tvarint\tint32\toptional
io.k8s.api.core.v1.E
";

    fn sample(extra: &str) -> String {
        format!(
            "{HEADER}
# source k8s.io/api v9.9.9
# custom-marshal
io.k8s.api.core.v1.A\titems\tpointer\tomitempty
io.k8s.api.core.v1.A\tlabels\tmap\tomitempty,omitzero
io.k8s.api.core.v1.A\tname\tvalue\talways
{extra}"
        )
    }

    #[test]
    fn lines_parse_and_cover_the_proto_fields() {
        let go = GoFacts::parse(&sample("")).unwrap();
        assert_eq!(go.sources, ["k8s.io/api v9.9.9"]);
        assert_eq!(go.len(), 3);
        assert_eq!(
            go.messages["io.k8s.api.core.v1.A"]["labels"],
            GoField {
                go: GoKind::Map,
                json: "omitempty,omitzero".into()
            }
        );
        let proto = ProtoFacts::parse(PROTO, "p").unwrap();
        let report = cross_check(&go, &proto).unwrap();
        assert_eq!((report.covered, report.fields), (3, 5));
        // E has no fields, so nothing is missing for it.
        assert_eq!(report.uncovered, ["io.k8s.api.core.v1.B"]);
        assert_eq!(
            report.notes,
            [
                "io.k8s.api.core.v1.A items: Go Pointer, proto Repeated",
                "io.k8s.api.core.v1.A gone: no Go line",
            ]
        );
    }

    #[test]
    fn a_line_proto_lacks_is_an_error() {
        let proto = ProtoFacts::parse(PROTO, "p").unwrap();
        let go = GoFacts::parse(&sample("io.k8s.api.core.v1.C\ty\tvalue\t-\n")).unwrap();
        let e = cross_check(&go, &proto).unwrap_err();
        assert!(e.contains("io.k8s.api.core.v1.C y"), "{e}");
    }

    #[test]
    fn malformed_lines_are_errors() {
        let twice = sample("io.k8s.api.core.v1.A\tname\tvalue\talways\n");
        assert!(GoFacts::parse(&twice).unwrap_err().contains("second time"));
        let kind = sample("io.k8s.api.core.v1.A\tz\tarray\talways\n");
        assert!(GoFacts::parse(&kind).unwrap_err().contains("go kind"));
        let cols = sample("io.k8s.api.core.v1.A\tz\tvalue\n");
        assert!(GoFacts::parse(&cols).unwrap_err().contains("4 columns"));
        assert!(GoFacts::parse("x\n").unwrap_err().contains("first line"));
    }
}
