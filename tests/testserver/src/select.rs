//! Label selectors (the server's whole grammar) and field selectors.

use std::collections::BTreeMap;

use serde_json::Value;

/// A selector the server would refuse (400 BadRequest), with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {0}")]
    Syntax(String),
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
    #[error("{0:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")]
    UnknownField(String),
    #[error("invalid selector: '{0}'; can't understand '{0}'")]
    FieldTerm(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq,
    NotEq,
    In,
    NotIn,
    Exists,
    NotExists,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

/// A parsed label selector; the empty one matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.text[self.pos..].chars().next()
    }
    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> String {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        let len = rest.find(|c| !is_word(c)).unwrap_or(rest.len());
        self.pos += len;
        rest[..len].to_owned()
    }
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.text.len()
    }
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3,m<4`.
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
        let err = || SelectorError::Syntax(text.to_owned());
        let mut lx = Lexer { text, pos: 0 };
        let mut requirements = Vec::new();
        if lx.at_end() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            let req = if lx.eat("!") {
                let key = lx.word();
                if key.is_empty() {
                    return Err(err());
                }
                Requirement {
                    key,
                    op: Op::NotExists,
                    values: vec![],
                }
            } else {
                let key = lx.word();
                if key.is_empty() {
                    return Err(err());
                }
                let (op, values) = if lx.at_end() || lx.peek() == Some(',') {
                    (Op::Exists, vec![])
                } else if lx.eat("==") || lx.eat("=") {
                    (Op::Eq, vec![lx.word()])
                } else if lx.eat("!=") {
                    (Op::NotEq, vec![lx.word()])
                } else if lx.eat(">") {
                    (Op::Gt, vec![lx.word()])
                } else if lx.eat("<") {
                    (Op::Lt, vec![lx.word()])
                } else {
                    let op = match lx.word().as_str() {
                        "in" => Op::In,
                        "notin" => Op::NotIn,
                        _ => return Err(err()),
                    };
                    if !lx.eat("(") {
                        return Err(err());
                    }
                    let mut values = Vec::new();
                    if !lx.eat(")") {
                        loop {
                            values.push(lx.word());
                            if lx.eat(")") {
                                break;
                            }
                            if !lx.eat(",") {
                                return Err(err());
                            }
                        }
                    }
                    if values.is_empty() {
                        return Err(err());
                    }
                    (op, values)
                };
                if matches!(op, Op::Gt | Op::Lt) && values[0].parse::<i64>().is_err() {
                    return Err(err());
                }
                Requirement { key, op, values }
            };
            requirements.push(req);
            if lx.at_end() {
                break;
            }
            if !lx.eat(",") {
                return Err(err());
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| {
            let value = labels.get(&r.key);
            match r.op {
                Op::Eq | Op::In => value.is_some_and(|v| r.values.contains(v)),
                Op::NotEq | Op::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                Op::Exists => value.is_some(),
                Op::NotExists => value.is_none(),
                Op::Gt | Op::Lt => {
                    let (Some(Ok(have)), Ok(bound)) =
                        (value.map(|v| v.parse::<i64>()), r.values[0].parse::<i64>())
                    else {
                        return false;
                    };
                    if r.op == Op::Gt {
                        have > bound
                    } else {
                        have < bound
                    }
                }
            }
        })
    }

    /// Matches an object's `metadata.labels`.
    pub fn matches_object(&self, object: &Value) -> bool {
        if self.requirements.is_empty() {
            return true;
        }
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        self.matches(&labels)
    }
}

/// One `field=value` or `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    field: &'static Field,
    value: String,
    equal: bool,
}

/// A field a selector may name: where it is in the object, and the value the real server's
/// defaulting would have given it when absent.
#[derive(Debug, PartialEq, Eq)]
struct Field {
    name: &'static str,
    pointer: &'static str,
    absent: &'static str,
}

const fn field(name: &'static str, pointer: &'static str, absent: &'static str) -> Field {
    Field {
        name,
        pointer,
        absent,
    }
}

const METADATA: &[Field] = &[
    field("metadata.name", "/metadata/name", ""),
    field("metadata.namespace", "/metadata/namespace", ""),
];

/// The fields each resource supports besides the metadata ones (the real server's
/// field-label conversion functions), as `(group, plural, fields)`.
const KIND_FIELDS: &[(&str, &str, &[Field])] = &[
    (
        "",
        "pods",
        &[
            field("spec.nodeName", "/spec/nodeName", ""),
            field("spec.restartPolicy", "/spec/restartPolicy", "Always"),
            field(
                "spec.schedulerName",
                "/spec/schedulerName",
                "default-scheduler",
            ),
            field("spec.serviceAccountName", "/spec/serviceAccountName", ""),
            field("spec.hostNetwork", "/spec/hostNetwork", "false"),
            field("status.phase", "/status/phase", "Pending"),
            field("status.podIP", "/status/podIP", ""),
            field("status.nominatedNodeName", "/status/nominatedNodeName", ""),
        ],
    ),
    (
        "",
        "events",
        &[
            field("involvedObject.kind", "/involvedObject/kind", ""),
            field("involvedObject.namespace", "/involvedObject/namespace", ""),
            field("involvedObject.name", "/involvedObject/name", ""),
            field("involvedObject.uid", "/involvedObject/uid", ""),
            field(
                "involvedObject.apiVersion",
                "/involvedObject/apiVersion",
                "",
            ),
            field(
                "involvedObject.resourceVersion",
                "/involvedObject/resourceVersion",
                "",
            ),
            field("involvedObject.fieldPath", "/involvedObject/fieldPath", ""),
            field("reason", "/reason", ""),
            field("reportingComponent", "/reportingComponent", ""),
            field("source", "/source/component", ""),
            field("type", "/type", ""),
        ],
    ),
    ("", "secrets", &[field("type", "/type", "Opaque")]),
    (
        "",
        "namespaces",
        &[field("status.phase", "/status/phase", "")],
    ),
    (
        "",
        "nodes",
        &[field("spec.unschedulable", "/spec/unschedulable", "false")],
    ),
    (
        "",
        "replicationcontrollers",
        &[field("status.replicas", "/status/replicas", "0")],
    ),
    (
        "batch",
        "jobs",
        &[field("status.successful", "/status/successful", "0")],
    ),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        &[field("spec.signerName", "/spec/signerName", "")],
    ),
];

/// A parsed field selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// Splits on unescaped `sep`, keeping escapes.
fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            escaped = c == '\\';
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if !escaped && c == '\\' {
            escaped = true;
        } else {
            out.push(c);
            escaped = false;
        }
    }
    out
}

impl FieldSelector {
    /// A selector over the metadata fields only (what every kind supports).
    #[cfg(test)]
    pub fn parse(text: &str) -> Result<FieldSelector, SelectorError> {
        FieldSelector::parse_for(text, "", "")
    }

    /// A selector over the fields resource `plural` of `group` supports.
    pub fn parse_for(
        text: &str,
        group: &str,
        plural: &str,
    ) -> Result<FieldSelector, SelectorError> {
        let mut terms = Vec::new();
        if text.trim().is_empty() {
            return Ok(FieldSelector { terms });
        }
        let own = KIND_FIELDS
            .iter()
            .find(|(g, p, _)| *g == group && *p == plural)
            .map(|(_, _, fields)| *fields);
        for term in split_unescaped(text, ',') {
            let (name, value, equal) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, v, true)
            } else {
                return Err(SelectorError::FieldTerm(term));
            };
            let name = name.trim();
            let field = METADATA
                .iter()
                .chain(own.unwrap_or_default())
                .find(|f| f.name == name);
            let Some(field) = field else {
                // Kinds with their own conversion answer as the old core code did.
                return Err(match own {
                    Some(_) => SelectorError::UnsupportedField(name.to_owned()),
                    None => SelectorError::UnknownField(name.to_owned()),
                });
            };
            terms.push(FieldTerm {
                field,
                value: unescape(value),
                equal,
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.terms.iter().all(|t| {
            let have = match object.pointer(t.field.pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => t.field.absent.to_owned(),
            };
            (have == t.value) == t.equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_the_whole_grammar() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let yes = [
            "",
            "app=web",
            "app==web",
            "app!=db",
            "app in (web, db)",
            "tier notin (back)",
            "app",
            "!missing",
            "n>4",
            "n<6",
            "app=web, tier in (front),!gone , n > 1",
            "missing!=x",
            "missing notin (x)",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).unwrap().matches(&l), "{s}");
        }
        let no = [
            "app=db",
            "app in (db)",
            "!app",
            "missing",
            "n>5",
            "n<5",
            "x>1",
        ];
        for s in no {
            assert!(!LabelSelector::parse(s).unwrap().matches(&l), "{s}");
        }
    }

    #[test]
    fn refuses_what_the_server_refuses() {
        for s in [
            "app in",
            "app in ()",
            "=x",
            "app=web,",
            "a b",
            "n>x",
            "app in (a",
        ] {
            assert!(LabelSelector::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn field_selectors_on_metadata() {
        let o = serde_json::json!({"metadata": {"name": "a,b", "namespace": "ns"}});
        assert!(
            FieldSelector::parse("metadata.name=a\\,b")
                .unwrap()
                .matches_object(&o)
        );
        assert!(
            FieldSelector::parse("metadata.namespace!=x,metadata.name==a\\,b")
                .unwrap()
                .matches_object(&o)
        );
        assert!(
            !FieldSelector::parse("metadata.namespace=x")
                .unwrap()
                .matches_object(&o)
        );
        assert_eq!(
            FieldSelector::parse("spec.foo=1"),
            Err(SelectorError::UnknownField("spec.foo".into()))
        );
    }
}
