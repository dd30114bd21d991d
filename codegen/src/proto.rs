//! Protobuf field facts: the messages, field numbers and wire types of Kubernetes'
//! `generated.proto` files, read from the `.proto` sources ([`parse_proto`]) and kept as a
//! facts-only text file (`spec/proto.facts`, [`ProtoFacts::to_text`] / [`ProtoFacts::parse`]).
//!
//! Only facts are kept: names, numbers, types and labels. Comments (upstream prose) are dropped
//! as the sources are read. Message names are the swagger definition names
//! (`k8s.io.api.core.v1.Pod` is `io.k8s.api.core.v1.Pod`), so the generator can join both.

use std::collections::BTreeMap;
use std::fmt;

/// How a value of a field is written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Varint,
    /// Length-delimited: strings, bytes, messages, map entries.
    Len,
    Fixed64,
    Fixed32,
}

impl Wire {
    fn name(self) -> &'static str {
        match self {
            Wire::Varint => "varint",
            Wire::Len => "len",
            Wire::Fixed64 => "i64",
            Wire::Fixed32 => "i32",
        }
    }

    fn from_name(s: &str) -> Option<Wire> {
        Some(match s {
            "varint" => Wire::Varint,
            "len" => Wire::Len,
            "i64" => Wire::Fixed64,
            "i32" => Wire::Fixed32,
            _ => return None,
        })
    }
}

/// A field's type: a scalar, a message (by definition name) or a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoType {
    /// `string`, `int32`, `int64`, `bool`, `bytes`, `double`, …
    Scalar(String),
    Message(String),
    Map {
        key: String,
        value: Box<ProtoType>,
    },
}

impl ProtoType {
    /// The wire type of one value (for a map: of one entry).
    pub fn wire(&self) -> Wire {
        match self {
            ProtoType::Message(_) | ProtoType::Map { .. } => Wire::Len,
            ProtoType::Scalar(s) => scalar_wire(s).unwrap_or(Wire::Len),
        }
    }
}

impl fmt::Display for ProtoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoType::Scalar(s) | ProtoType::Message(s) => f.write_str(s),
            ProtoType::Map { key, value } => write!(f, "map<{key},{value}>"),
        }
    }
}

fn scalar_wire(s: &str) -> Option<Wire> {
    Some(match s {
        "int32" | "int64" | "uint32" | "uint64" | "sint32" | "sint64" | "bool" => Wire::Varint,
        "string" | "bytes" => Wire::Len,
        "double" | "fixed64" | "sfixed64" => Wire::Fixed64,
        "float" | "fixed32" | "sfixed32" => Wire::Fixed32,
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Optional,
    Repeated,
    Map,
}

impl Label {
    fn name(self) -> &'static str {
        match self {
            Label::Optional => "optional",
            Label::Repeated => "repeated",
            Label::Map => "map",
        }
    }
}

/// One field of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoField {
    /// The proto name, which Kubernetes makes the JSON name (`generateName`).
    pub name: String,
    pub number: u32,
    pub ty: ProtoType,
    pub label: Label,
}

/// Every message's fields in file order, by definition name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtoFacts {
    /// `module tag` lines: where the facts come from.
    pub sources: Vec<String>,
    pub messages: BTreeMap<String, Vec<ProtoField>>,
}

/// What is wrong in a `.proto` source or a facts file, and where.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct ProtoError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

const FACTS_HEADER: &str = "# kuber proto facts: message\tfield\tnumber\twire\ttype\tlabel";

/// `k8s.io.api.core.v1` → `io.k8s.api.core.v1`; `k8s.io.kube_aggregator.pkg…` →
/// `io.k8s.kube-aggregator.pkg…` (the Go module's name, as swagger spells it).
pub fn definition_prefix(package: &str) -> String {
    let rest = package.strip_prefix("k8s.io.").unwrap_or(package);
    let mut parts: Vec<String> = rest.split('.').map(str::to_owned).collect();
    if let Some(module) = parts.first_mut() {
        *module = module.replace('_', "-");
    }
    format!("io.k8s.{}", parts.join("."))
}

/// The messages of one `generated.proto` (`file` names it in errors).
pub fn parse_proto(text: &str, file: &str) -> Result<Vec<(String, Vec<ProtoField>)>, ProtoError> {
    let mut parser = Parser {
        file,
        package: None,
        messages: Vec::new(),
        open: None,
    };
    let mut in_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line = strip_comments(raw, &mut in_comment);
        if !line.is_empty() {
            parser.line(line, i + 1)?;
        }
    }
    if let Some((name, _)) = &parser.open {
        return Err(parser.error(
            text.lines().count(),
            format!("message {name} is not closed"),
        ));
    }
    Ok(parser.messages)
}

/// The code of a line: `//` comments and `/* … */` blocks removed.
fn strip_comments<'a>(raw: &'a str, in_comment: &mut bool) -> &'a str {
    let mut line = raw;
    if *in_comment {
        match line.find("*/") {
            Some(end) => {
                *in_comment = false;
                line = &line[end + 2..];
            }
            None => return "",
        }
    }
    // Whichever opens first: `// '*/scale'` is a line comment, not a block.
    let line_comment = line.find("//");
    if let Some(start) = line
        .find("/*")
        .filter(|s| line_comment.is_none_or(|l| *s < l))
    {
        *in_comment = !line[start..].contains("*/");
        line = &line[..start];
    } else if let Some(start) = line_comment {
        line = &line[..start];
    }
    line.trim()
}

struct Parser<'a> {
    file: &'a str,
    package: Option<String>,
    messages: Vec<(String, Vec<ProtoField>)>,
    open: Option<(String, Vec<ProtoField>)>,
}

impl Parser<'_> {
    fn error(&self, line: usize, problem: String) -> ProtoError {
        ProtoError {
            file: self.file.to_owned(),
            line,
            problem,
        }
    }

    fn line(&mut self, line: &str, n: usize) -> Result<(), ProtoError> {
        if let Some(pkg) = line.strip_prefix("package ") {
            self.package = Some(pkg.trim_end_matches(';').trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("message ") {
            if self.open.is_some() {
                return Err(self.error(n, "nested messages are not expected".into()));
            }
            let name = rest.trim_end_matches('{').trim();
            let package = self.package.as_deref().ok_or_else(|| {
                self.error(n, format!("message {name} comes before the package line"))
            })?;
            self.open = Some((format!("{}.{name}", definition_prefix(package)), Vec::new()));
        } else if line == "}" {
            let done = self
                .open
                .take()
                .ok_or_else(|| self.error(n, "`}` closes no message".into()))?;
            self.messages.push(done);
        } else if self.open.is_some() {
            let field = self.field(line, n)?;
            if let Some((_, fields)) = &mut self.open {
                fields.push(field);
            }
        } else if !["syntax ", "import ", "option "]
            .iter()
            .any(|p| line.starts_with(p))
        {
            return Err(self.error(n, format!("unexpected line `{line}`")));
        }
        Ok(())
    }

    /// `optional string name = 1;`, `repeated Foo items = 2;`, `map<string, Bar> m = 3;`.
    fn field(&self, line: &str, n: usize) -> Result<ProtoField, ProtoError> {
        let bad = |what: &str| self.error(n, format!("{what} in field `{line}`"));
        let body = line.strip_suffix(';').ok_or_else(|| bad("no `;`"))?;
        if body.contains('[') {
            return Err(bad("field options are not expected"));
        }
        let (decl, number) = body.rsplit_once('=').ok_or_else(|| bad("no `= number`"))?;
        let number: u32 = number
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=536_870_911).contains(n))
            .ok_or_else(|| bad("a field number that is not 1..2^29-1"))?;
        let decl = decl.trim();
        let (label, ty, name) = if let Some(map) = decl.strip_prefix("map<") {
            let (types, name) = map.split_once('>').ok_or_else(|| bad("an unclosed map<"))?;
            let (key, value) = types
                .split_once(',')
                .ok_or_else(|| bad("a map without ,"))?;
            let ty = ProtoType::Map {
                key: key.trim().to_owned(),
                value: Box::new(self.type_ref(value.trim())),
            };
            (Label::Map, ty, name.trim())
        } else {
            let mut words = decl.split_whitespace();
            let (Some(label), Some(ty), Some(name), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(bad("not `label type name`"));
            };
            let label = match label {
                "optional" => Label::Optional,
                "repeated" => Label::Repeated,
                other => return Err(bad(&format!("the label `{other}`"))),
            };
            (label, self.type_ref(ty), name)
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("a field name that is not an identifier"));
        }
        Ok(ProtoField {
            name: name.to_owned(),
            number,
            ty,
            label,
        })
    }

    /// A scalar, or a message by definition name (`.k8s.io.…Time` or a name of this package).
    fn type_ref(&self, ty: &str) -> ProtoType {
        if scalar_wire(ty).is_some() {
            return ProtoType::Scalar(ty.to_owned());
        }
        match ty.strip_prefix('.') {
            Some(full) => {
                let (package, name) = full.rsplit_once('.').unwrap_or(("", full));
                ProtoType::Message(format!("{}.{name}", definition_prefix(package)))
            }
            None => {
                let package = self.package.as_deref().unwrap_or_default();
                ProtoType::Message(format!("{}.{ty}", definition_prefix(package)))
            }
        }
    }
}

impl ProtoFacts {
    /// Adds one file's messages; a message defined twice is an error.
    pub fn add(
        &mut self,
        file: &str,
        messages: Vec<(String, Vec<ProtoField>)>,
    ) -> Result<(), ProtoError> {
        for (name, fields) in messages {
            if self.messages.insert(name.clone(), fields).is_some() {
                return Err(ProtoError {
                    file: file.to_owned(),
                    line: 0,
                    problem: format!("message {name} is defined a second time"),
                });
            }
        }
        Ok(())
    }

    /// The facts file: a header, `# source` lines, then one tab-separated line per field.
    pub fn to_text(&self) -> String {
        let mut out = String::from(FACTS_HEADER);
        out.push('\n');
        for source in &self.sources {
            out.push_str(&format!("# source {source}\n"));
        }
        for (message, fields) in &self.messages {
            if fields.is_empty() {
                out.push_str(&format!("{message}\n"));
            }
            for f in fields {
                out.push_str(&format!(
                    "{message}\t{}\t{}\t{}\t{}\t{}\n",
                    f.name,
                    f.number,
                    f.ty.wire().name(),
                    f.ty,
                    f.label.name()
                ));
            }
        }
        out
    }

    /// Reads a facts file written by [`ProtoFacts::to_text`].
    pub fn parse(text: &str, file: &str) -> Result<ProtoFacts, ProtoError> {
        let mut facts = ProtoFacts::default();
        for (i, line) in text.lines().enumerate() {
            let error = |problem: String| ProtoError {
                file: file.to_owned(),
                line: i + 1,
                problem,
            };
            if let Some(source) = line.strip_prefix("# source ") {
                facts.sources.push(source.to_owned());
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let fields = facts.messages.entry(cols[0].to_owned()).or_default();
            if cols.len() == 1 {
                continue;
            }
            let field = fact_line(&cols).map_err(error)?;
            fields.push(field);
        }
        Ok(facts)
    }
}

/// One field from its columns: message, field, number, wire, type, label.
fn fact_line(cols: &[&str]) -> Result<ProtoField, String> {
    let [_, name, number, wire, ty, label] = cols else {
        return Err(format!("{} columns; a field has 6", cols.len()));
    };
    let number = number
        .parse()
        .map_err(|_| format!("field {name}: number {number:?}"))?;
    let label = match *label {
        "optional" => Label::Optional,
        "repeated" => Label::Repeated,
        "map" => Label::Map,
        other => return Err(format!("field {name}: label {other:?}")),
    };
    let ty = fact_type(ty);
    let wire = Wire::from_name(wire).ok_or_else(|| format!("field {name}: wire {wire:?}"))?;
    if ty.wire() != wire {
        return Err(format!(
            "field {name}: wire {} does not fit type {ty}",
            wire.name()
        ));
    }
    Ok(ProtoField {
        name: (*name).to_owned(),
        number,
        ty,
        label,
    })
}

fn fact_type(ty: &str) -> ProtoType {
    if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>'))
        && let Some((key, value)) = inner.split_once(',')
    {
        return ProtoType::Map {
            key: key.to_owned(),
            value: Box::new(fact_type(value)),
        };
    }
    if scalar_wire(ty).is_some() {
        ProtoType::Scalar(ty.to_owned())
    } else {
        ProtoType::Message(ty.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
/*
Licence text, dropped.
*/
syntax = "proto2";
package k8s.io.api.core.v1;
import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
option go_package = "k8s.io/api/core/v1";

// A comment, dropped; '*/scale' and '/*' in it too.
message Pod {
  // +optional
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
  repeated string finalizers = 7;
  map<string, string> labels = 11;
  map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 12;
  optional double ratio = 13;
  optional int64 generation = 14;
}

message Empty {
}
"#;

    #[test]
    fn fields_numbers_and_types_are_read_and_prose_is_dropped() {
        let messages = parse_proto(SAMPLE, "core.proto").unwrap();
        assert_eq!(messages.len(), 2);
        let (name, fields) = &messages[0];
        assert_eq!(name, "io.k8s.api.core.v1.Pod");
        let by_name = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(
            by_name("metadata").ty,
            ProtoType::Message("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into())
        );
        assert_eq!(
            by_name("spec").ty,
            ProtoType::Message("io.k8s.api.core.v1.PodSpec".into())
        );
        assert_eq!(by_name("finalizers").label, Label::Repeated);
        assert_eq!(by_name("labels").number, 11);
        assert_eq!(by_name("ratio").ty.wire(), Wire::Fixed64);
        assert_eq!(by_name("generation").ty.wire(), Wire::Varint);
        assert_eq!(messages[1].0, "io.k8s.api.core.v1.Empty");
        assert!(messages[1].1.is_empty());
        let mut facts = ProtoFacts::default();
        facts.add("core.proto", messages).unwrap();
        let text = facts.to_text();
        assert!(!text.contains("Licence") && !text.contains("comment"));
        assert!(text.contains(
            "io.k8s.api.core.v1.Pod\tlimits\t12\tlen\t\
             map<string,io.k8s.apimachinery.pkg.api.resource.Quantity>\tmap\n"
        ));
        assert_eq!(ProtoFacts::parse(&text, "f").unwrap(), facts);
    }

    #[test]
    fn module_names_become_swagger_names() {
        assert_eq!(
            definition_prefix("k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1"),
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"
        );
        assert_eq!(
            definition_prefix("k8s.io.apimachinery.pkg.util.intstr"),
            "io.k8s.apimachinery.pkg.util.intstr"
        );
    }

    #[test]
    fn malformed_sources_name_file_and_line() {
        let cases = [
            (
                "package p;\nmessage A {\n  optional string a = 0;\n}\n",
                3,
                "field number",
            ),
            (
                "package p;\nmessage A {\n  optional string a = 1\n}\n",
                3,
                "no `;`",
            ),
            (
                "package p;\nmessage A {\n  required string a = 1;\n}\n",
                3,
                "label",
            ),
            (
                "package p;\nmessage A {\n  optional string a = 1;\n",
                3,
                "not closed",
            ),
            ("message A {\n}\n", 1, "before the package"),
            ("package p;\nenum E {\n", 2, "unexpected line"),
            ("package p;\n}\n", 2, "closes no message"),
        ];
        for (text, line, problem) in cases {
            let err = parse_proto(text, "x.proto").unwrap_err();
            assert_eq!((err.file.as_str(), err.line), ("x.proto", line), "{text}");
            assert!(err.problem.contains(problem), "{text}: {err}");
        }
    }

    #[test]
    fn a_facts_line_whose_wire_does_not_fit_its_type_is_refused() {
        let err = ProtoFacts::parse("m\tf\t1\tvarint\tstring\toptional\n", "spec/proto.facts")
            .unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.to_string().contains("does not fit"), "{err}");
        let err = ProtoFacts::parse("m\tf\t1\tlen\n", "spec/proto.facts").unwrap_err();
        assert!(err.to_string().contains("4 columns"), "{err}");
    }
}
