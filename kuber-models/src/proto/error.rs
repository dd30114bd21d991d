//! The error of every protobuf decode: what is wrong, and the field path where.

use std::fmt;

/// A protobuf body that does not decode: the problem and the path of the field it is in
/// (`io.k8s.api.core.v1.Pod.spec.containers[1].ports[0].containerPort: wire type len, expected
/// varint`).
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    problem: String,
    /// Innermost first: segments are added as the error travels out of the nested messages.
    path: Vec<Segment>,
}

#[derive(Clone, PartialEq, Eq)]
enum Segment {
    /// A message name, the start of a path.
    Root(&'static str),
    Field(&'static str),
    Index(usize),
    Key(String),
    /// A field the model has no name for.
    Number(u32),
}

impl DecodeError {
    #[doc(hidden)]
    pub fn new(problem: impl Into<String>) -> DecodeError {
        DecodeError(Box::new(Inner {
            problem: problem.into(),
            path: Vec::new(),
        }))
    }

    /// The field path, outermost first (`io.k8s.api.core.v1.Pod.spec.containers[1]`).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.0.path.iter().rev() {
            match seg {
                Segment::Root(name) => out.push_str(name),
                Segment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Key(k) => out.push_str(&format!("[{k:?}]")),
                Segment::Number(n) => out.push_str(&format!(".#{n}")),
            }
        }
        out
    }

    /// What is wrong, without the path.
    pub fn problem(&self) -> &str {
        &self.0.problem
    }

    #[doc(hidden)]
    pub fn field(mut self, name: &'static str) -> DecodeError {
        self.0.path.push(Segment::Field(name));
        self
    }

    #[doc(hidden)]
    pub fn index(mut self, i: usize) -> DecodeError {
        self.0.path.push(Segment::Index(i));
        self
    }

    #[doc(hidden)]
    pub fn number(mut self, n: u32) -> DecodeError {
        self.0.path.push(Segment::Number(n));
        self
    }

    #[doc(hidden)]
    pub fn key(mut self, key: &str) -> DecodeError {
        self.0.path.push(Segment::Key(key.to_owned()));
        self
    }

    /// Names the message the path starts from, once.
    #[doc(hidden)]
    pub fn root(mut self, name: &'static str) -> DecodeError {
        if !matches!(self.0.path.last(), Some(Segment::Root(_))) {
            self.0.path.push(Segment::Root(name));
        }
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str(&self.0.problem)
        } else {
            write!(f, "{path}: {}", self.0.problem)
        }
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecodeError({self})")
    }
}

impl std::error::Error for DecodeError {}

impl From<prost::DecodeError> for DecodeError {
    fn from(e: prost::DecodeError) -> Self {
        DecodeError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_outermost_first() {
        let e = DecodeError::new("wire type len, expected varint")
            .field("containerPort")
            .index(0)
            .field("ports")
            .index(1)
            .field("containers")
            .field("spec")
            .root("io.k8s.api.core.v1.Pod")
            .root("ignored");
        assert_eq!(
            e.to_string(),
            "io.k8s.api.core.v1.Pod.spec.containers[1].ports[0].containerPort: wire type len, expected varint"
        );
        let e = DecodeError::new("x").key("a").field("data").root("M");
        assert_eq!(e.path(), "M.data[\"a\"]");
    }
}
