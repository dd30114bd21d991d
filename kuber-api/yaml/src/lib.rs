//! A small YAML reader for kubeconfigs and manifests: `granit-parser`'s events → a node tree →
//! a `serde::Deserializer`.
//!
//! Reading is driven by the target type, as Go's `sigs.k8s.io/yaml` is: a string field takes any
//! scalar's text (`name: 123` is the string `"123"`), while untyped targets
//! (`deserialize_any`, e.g. `serde_json::Value`) resolve plain scalars by the YAML 1.2 core
//! schema: `null`/`~`/empty → null, `true`/`false` → bool, `12`/`-3`/`0x1f`/`0o17` → integer,
//! `1.5`/`.inf`/`.nan` → float, anything else a string. Quoted and block scalars are strings.
//! The core tags `!!str`, `!!null`, `!!bool`, `!!int`, `!!float` are honoured; other tags are
//! ignored. Aliases are expanded (within a budget, so an alias bomb is an error), and the merge
//! key `<<` merges mappings in (explicit keys win).
//!
//! Errors give a message and the line/column of the node at fault, never source text or values:
//! kubeconfigs hold tokens.
//!
//! It is the workspace's one YAML reader (kuber-api re-exports it as `kuber_api::yaml`; kuber's
//! manifests, kuber-testserver and xtask use it too). Why this one and not serde-saphyr: the
//! reading rules Kubernetes users expect (a string target takes any scalar's text, as
//! `sigs.k8s.io/yaml`), errors that never quote a value, duplicate keys refused in manifests but
//! last-wins in kubeconfigs (as Go), and about 7 s less in a clean build than serde-saphyr's stack.

extern crate serde_core as serde;

use std::collections::HashMap;
use std::fmt;

use granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Expected, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

/// Collections nested deeper than this (aliases included) are refused, so that recursion over
/// the tree stays well within a thread's stack.
const MAX_DEPTH: usize = 256;

/// What one node costs the alias budget: a fixed part plus its scalar bytes.
const NODE_COST: usize = 32;

/// Reads one YAML document into `T`; empty text is a null document. Duplicate keys are an error.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    Document::parse(text, &Options::default())?.deserialize()
}

/// What to do with a key given twice in one mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DuplicateKeys {
    /// An error naming the key (manifests).
    #[default]
    Error,
    /// The last one wins, as Go's reader does (kubeconfigs).
    LastWins,
}

/// Reading options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Duplicate keys in a mapping.
    pub duplicate_keys: DuplicateKeys,
}

/// A YAML reading error: what was wrong and where (1-based line and column; 0 when unknown),
/// and for a value that did not decode, the path to it (`users[0].user.exec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
    line: usize,
    column: usize,
    /// Innermost segment first, as the error travels up.
    path: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Error {
    fn at(message: impl Into<String>, line: usize, column: usize) -> Error {
        Error {
            message: message.into(),
            line,
            column,
            path: Vec::new(),
        }
    }

    /// Records that the error is inside the value of map key `key` (a key that is not text
    /// shows as `?`). Keys are names, not secrets: values are never shown.
    fn in_key(mut self, key: &Node) -> Error {
        let name = match &key.value {
            Value::Scalar(s) => s.text.clone(),
            _ => "?".to_owned(),
        };
        self.path.push(Segment::Key(name));
        self
    }

    fn in_item(mut self, index: usize) -> Error {
        self.path.push(Segment::Index(index));
        self
    }

    /// The path to the value at fault (`clusters[0].cluster.server`), when it is inside the
    /// document's top value.
    pub fn path(&self) -> Option<String> {
        if self.path.is_empty() {
            return None;
        }
        let mut out = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        Some(out)
    }

    fn at_node(message: impl Into<String>, node: &Node) -> Error {
        Error::at(message, node.line, node.column)
    }

    /// Gives a position to an error raised without one (by a visitor).
    fn or_at(mut self, node: &Node) -> Error {
        if self.line == 0 {
            self.line = node.line;
            self.column = node.column;
        }
        self
    }

    fn scan(e: &ScanError) -> Error {
        let message = match e.kind() {
            // These would quote a character or text of the input.
            ErrorKind::UnexpectedCharacter { .. } => "unexpected character".to_owned(),
            ErrorKind::Custom(_) | ErrorKind::InputDecoding { .. } => "invalid input".to_owned(),
            kind => kind.to_string(),
        };
        let mark = e.marker();
        Error::at(message, mark.line(), mark.col() + 1)
    }

    /// The message, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based line of the node at fault; 0 when unknown.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column of the node at fault; 0 when unknown.
    pub fn column(&self) -> usize {
        self.column
    }
}

/// `at PATH: line L column C: message`, each part when known.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.path() {
            write!(f, "at {path}: ")?;
        }
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(
                f,
                "line {} column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for Error {}

/// Serde's own messages quote the values (`invalid type: string "…"`); these name kinds only.
impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::at(msg.to_string(), 0, 0)
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error::at(
            format!("invalid type: {}, expected {exp}", kind_of(&unexp)),
            0,
            0,
        )
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error::at(
            format!("invalid value: {}, expected {exp}", kind_of(&unexp)),
            0,
            0,
        )
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        Error::at(format!("invalid length {len}, expected {exp}"), 0, 0)
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Error::at(
            format!("unknown variant, expected one of {}", expected.join(", ")),
            0,
            0,
        )
    }

    fn unknown_field(_field: &str, expected: &'static [&'static str]) -> Self {
        Error::at(
            format!("unknown field, expected one of {}", expected.join(", ")),
            0,
            0,
        )
    }
}

fn kind_of(unexp: &Unexpected<'_>) -> &'static str {
    match unexp {
        Unexpected::Bool(_) => "boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "integer",
        Unexpected::Float(_) => "floating point",
        Unexpected::Char(_) => "character",
        Unexpected::Str(_) => "string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "null",
        Unexpected::Option => "option",
        Unexpected::NewtypeStruct => "newtype struct",
        Unexpected::Seq => "sequence",
        Unexpected::Map => "map",
        Unexpected::Enum => "enum",
        Unexpected::UnitVariant => "unit variant",
        Unexpected::NewtypeVariant => "newtype variant",
        Unexpected::TupleVariant => "tuple variant",
        Unexpected::StructVariant => "struct variant",
        Unexpected::Other(_) => "value",
    }
}

/// A parsed YAML document: a tree of nodes with their positions. `Debug` shows no content (a
/// kubeconfig's holds tokens).
#[derive(Clone)]
pub struct Document {
    root: Node,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Document { .. }")
    }
}

impl Document {
    /// Parses text holding at most one document (none: a null document).
    pub fn parse(text: &str, options: &Options) -> Result<Document, Error> {
        let mut docs = Builder::new(text, options).run(true)?;
        let root = docs.pop().unwrap_or_else(|| Node::null(1, 1));
        Ok(Document { root })
    }

    /// Parses text holding any number of documents (`---` separated).
    pub fn parse_all(text: &str, options: &Options) -> Result<Vec<Document>, Error> {
        let docs = Builder::new(text, options).run(false)?;
        Ok(docs.into_iter().map(|root| Document { root }).collect())
    }

    /// Reads the document into `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(self.deserializer())
    }

    /// A `serde::Deserializer` over the document, for callers that drive serde themselves.
    pub fn deserializer(&self) -> Deserializer<'_> {
        Deserializer(&self.root)
    }
}

// ---------------------------------------------------------------------------
// The tree.

#[derive(Clone)]
struct Node {
    value: Value,
    line: usize,
    column: usize,
}

#[derive(Clone)]
enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone)]
struct Scalar {
    text: String,
    plain: bool,
    tag: CoreTag,
}

/// The core-schema tag a scalar carries; `None` for no tag or one we ignore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CoreTag {
    None,
    Str,
    Null,
    Bool,
    Int,
    Float,
}

impl CoreTag {
    fn of(tag: Option<&Tag>) -> CoreTag {
        let Some(tag) = tag else {
            return CoreTag::None;
        };
        // `! text`: the non-specific tag, which makes the scalar a string.
        if tag.handle() == "!" && tag.suffix().is_empty() {
            return CoreTag::Str;
        }
        match tag.core_suffix() {
            Some("str") => CoreTag::Str,
            Some("null") => CoreTag::Null,
            Some("bool") => CoreTag::Bool,
            Some("int") => CoreTag::Int,
            Some("float") => CoreTag::Float,
            _ => CoreTag::None,
        }
    }
}

impl Node {
    fn null(line: usize, column: usize) -> Node {
        Node {
            value: Value::Scalar(Scalar {
                text: String::new(),
                plain: true,
                tag: CoreTag::None,
            }),
            line,
            column,
        }
    }
}

/// A scalar resolved by the core schema (or its tag).
enum Resolved<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a str),
}

impl Scalar {
    fn is_null(&self) -> bool {
        match self.tag {
            CoreTag::Null => true,
            CoreTag::None => self.plain && is_null_text(&self.text),
            _ => false,
        }
    }

    fn resolve(&self) -> Result<Resolved<'_>, &'static str> {
        let text = self.text.as_str();
        match self.tag {
            CoreTag::Str => Ok(Resolved::Str(text)),
            CoreTag::Null => Ok(Resolved::Null),
            CoreTag::Bool => parse_bool(text).map(Resolved::Bool).ok_or("invalid !!bool"),
            CoreTag::Int => parse_int(text).ok_or("invalid !!int"),
            CoreTag::Float => parse_int(text)
                .map(|r| match r {
                    Resolved::I64(v) => Resolved::F64(v as f64),
                    Resolved::U64(v) => Resolved::F64(v as f64),
                    other => other,
                })
                .or_else(|| parse_float(text).map(Resolved::F64))
                .ok_or("invalid !!float"),
            CoreTag::None if !self.plain => Ok(Resolved::Str(text)),
            CoreTag::None => Ok(if is_null_text(text) {
                Resolved::Null
            } else if let Some(b) = parse_bool(text) {
                Resolved::Bool(b)
            } else if let Some(n) = parse_int(text) {
                n
            } else if let Some(f) = parse_float(text) {
                Resolved::F64(f)
            } else {
                Resolved::Str(text)
            }),
        }
    }

    /// Whether the core schema reads it as a string (for duplicate-key comparison).
    fn is_string(&self) -> bool {
        matches!(self.resolve(), Ok(Resolved::Str(_)))
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Decimal with an optional sign, `0x` hex, `0o` octal; too large for 64 bits → `None` (then a
/// float, as Go reads it).
fn parse_int(text: &str) -> Option<Resolved<'static>> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, radix) = if let Some(h) = body.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = body.strip_prefix("0o") {
        (o, 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(match i64::try_from(magnitude) {
            Ok(v) => Resolved::I64(v),
            Err(_) => Resolved::U64(magnitude),
        });
    }
    if magnitude == 1 << 63 {
        return Some(Resolved::I64(i64::MIN));
    }
    i64::try_from(magnitude).ok().map(|v| Resolved::I64(-v))
}

/// `[-+]? (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan` (any of the
/// core schema's three casings).
fn parse_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_digits = count_digits(&bytes[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&bytes[i..]);
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_digits = count_digits(&bytes[i..]);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    text.parse().ok()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

// ---------------------------------------------------------------------------
// Events → tree.

/// A node with what it costs the alias budget and how deep it nests.
struct Built {
    node: Node,
    cost: usize,
    height: usize,
}

/// A collection being read: where it starts, its anchor, and its children so far.
struct Frame {
    line: usize,
    column: usize,
    anchor: usize,
    items: Items,
    cost: usize,
    height: usize,
}

enum Items {
    Seq(Vec<Node>),
    /// Entries, and a key waiting for its value.
    Map(Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    options: &'a Options,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    /// What aliases and anchor copies may still cost.
    budget: usize,
    root: Option<Node>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, options: &'a Options) -> Builder<'a> {
        Builder {
            parser: Parser::new_from_str(text),
            options,
            stack: Vec::new(),
            anchors: HashMap::new(),
            budget: (1 << 20) + text.len().saturating_mul(10),
            root: None,
        }
    }

    fn run(mut self, single: bool) -> Result<Vec<Node>, Error> {
        let mut docs = Vec::new();
        while let Some(next) = self.parser.next() {
            let (event, span) = next.map_err(|e| Error::scan(&e))?;
            let (line, column) = position(&span);
            match event {
                Event::DocumentStart(..) => {
                    if single && !docs.is_empty() {
                        return Err(Error::at(
                            "more than one YAML document where one is expected",
                            line,
                            column,
                        ));
                    }
                    self.anchors.clear();
                }
                Event::DocumentEnd => {
                    docs.push(self.root.take().unwrap_or_else(|| Node::null(line, column)));
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let cost = NODE_COST + text.len();
                    let node = Node {
                        value: Value::Scalar(Scalar {
                            plain: style == ScalarStyle::Plain,
                            tag: CoreTag::of(tag.as_deref()),
                            text: text.into_owned(),
                        }),
                        line,
                        column,
                    };
                    self.finish(
                        Built {
                            node,
                            cost,
                            height: 0,
                        },
                        anchor,
                    )?;
                }
                Event::Alias(id) => {
                    let Some((cost, height)) = self.anchors.get(&id).map(|t| (t.cost, t.height))
                    else {
                        return Err(Error::at("alias to an unknown anchor", line, column));
                    };
                    self.spend(cost, line, column)?;
                    self.check_depth(height, line, column)?;
                    let mut node = self.anchors[&id].node.clone();
                    node.line = line;
                    node.column = column;
                    self.finish(Built { node, cost, height }, 0)?;
                }
                Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                    self.check_depth(1, line, column)?;
                    let items = if matches!(event, Event::SequenceStart(..)) {
                        Items::Seq(Vec::new())
                    } else {
                        Items::Map(Vec::new(), None)
                    };
                    self.stack.push(Frame {
                        line,
                        column,
                        anchor,
                        items,
                        cost: NODE_COST,
                        height: 1,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(Error::at("unbalanced collection end", line, column));
                    };
                    let value = match frame.items {
                        Items::Seq(items) => Value::Seq(items),
                        Items::Map(entries, _) => Value::Map(self.close_map(entries)?),
                    };
                    let node = Node {
                        value,
                        line: frame.line,
                        column: frame.column,
                    };
                    let (cost, height) = (frame.cost, frame.height);
                    self.finish(Built { node, cost, height }, frame.anchor)?;
                }
                _ => {}
            }
        }
        Ok(docs)
    }

    fn spend(&mut self, cost: usize, line: usize, column: usize) -> Result<(), Error> {
        self.budget = self
            .budget
            .checked_sub(cost)
            .ok_or_else(|| Error::at("aliases expand beyond the size limit", line, column))?;
        Ok(())
    }

    fn check_depth(&self, height: usize, line: usize, column: usize) -> Result<(), Error> {
        if self.stack.len() + height > MAX_DEPTH {
            return Err(Error::at(
                format!("collections nest deeper than {MAX_DEPTH} levels"),
                line,
                column,
            ));
        }
        Ok(())
    }

    /// Records an anchor, then hands the node to the collection it is in (or makes it the root).
    fn finish(&mut self, built: Built, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.spend(built.cost, built.node.line, built.node.column)?;
            self.anchors.insert(
                anchor,
                Built {
                    node: built.node.clone(),
                    cost: built.cost,
                    height: built.height,
                },
            );
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.cost = frame.cost.saturating_add(built.cost);
        frame.height = frame.height.max(built.height + 1);
        match &mut frame.items {
            Items::Seq(items) => items.push(built.node),
            Items::Map(entries, key) => match key.take() {
                None => *key = Some(built.node),
                Some(k) => entries.push((k, built.node)),
            },
        }
        Ok(())
    }

    /// Applies the duplicate-key policy, then merges `<<` mappings in under the explicit keys.
    fn close_map(&self, entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, Error> {
        let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        let mut seen: HashMap<(bool, String), usize> = HashMap::new();
        let mut merged: Vec<Node> = Vec::new();
        for (key, value) in entries {
            if is_merge_key(&key) {
                merged.push(value);
                continue;
            }
            let Some(fingerprint) = fingerprint(&key) else {
                out.push((key, value));
                continue;
            };
            match seen.get(&fingerprint) {
                None => {
                    seen.insert(fingerprint, out.len());
                    out.push((key, value));
                }
                Some(&i) => match self.options.duplicate_keys {
                    DuplicateKeys::LastWins => out[i].1 = value,
                    DuplicateKeys::Error => {
                        return Err(Error::at_node(
                            format!("duplicate key `{}`", shown_key(&fingerprint.1)),
                            &key,
                        ));
                    }
                },
            }
        }
        for value in merged {
            let sources = match value.value {
                Value::Map(entries) => vec![entries],
                Value::Seq(items) => {
                    let mut sources = Vec::with_capacity(items.len());
                    for item in items {
                        match item.value {
                            Value::Map(entries) => sources.push(entries),
                            _ => return Err(merge_error(&item)),
                        }
                    }
                    sources
                }
                Value::Scalar(_) => return Err(merge_error(&value)),
            };
            // Earlier mappings win over later ones, explicit keys over all.
            for entries in sources {
                for (key, value) in entries {
                    match fingerprint(&key) {
                        Some(f) if seen.contains_key(&f) => {}
                        Some(f) => {
                            seen.insert(f, out.len());
                            out.push((key, value));
                        }
                        None => out.push((key, value)),
                    }
                }
            }
        }
        Ok(out)
    }
}

fn merge_error(node: &Node) -> Error {
    Error::at_node(
        "the merge key `<<` takes a mapping or a list of mappings",
        node,
    )
}

fn position(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::Scalar(s) if s.plain && s.tag == CoreTag::None && s.text == "<<")
}

/// Scalar keys compare by text and by whether they are strings (`"1"` and `1` differ); other
/// keys are not compared.
fn fingerprint(key: &Node) -> Option<(bool, String)> {
    match &key.value {
        Value::Scalar(s) => Some((s.is_string(), s.text.clone())),
        _ => None,
    }
}

/// Keys are names, not values; still, a long one is cut.
fn shown_key(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Tree → serde.

/// A `serde::Deserializer` over one node of a [`Document`].
#[derive(Clone, Copy)]
pub struct Deserializer<'de>(&'de Node);

impl<'de> Deserializer<'de> {
    fn scalar(&self) -> Option<&'de Scalar> {
        match &self.0.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        self.scalar().is_some_and(Scalar::is_null)
    }

    fn any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.value {
            Value::Scalar(s) => match s.resolve() {
                Ok(Resolved::Null) => visitor.visit_unit(),
                Ok(Resolved::Bool(b)) => visitor.visit_bool(b),
                Ok(Resolved::I64(v)) => visitor.visit_i64(v),
                Ok(Resolved::U64(v)) => visitor.visit_u64(v),
                Ok(Resolved::F64(v)) => visitor.visit_f64(v),
                Ok(Resolved::Str(text)) => visitor.visit_borrowed_str(text),
                Err(message) => Err(Error::at_node(message, self.0)),
            },
            Value::Seq(items) => visitor.visit_seq(Seq::new(items)),
            Value::Map(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn text<V: Visitor<'de>>(self, visitor: V, null_ok: bool) -> Result<V::Value, Error> {
        match self.scalar() {
            Some(s) if !null_ok && s.is_null() => {
                Err(de::Error::invalid_type(Unexpected::Unit, &visitor))
            }
            Some(s) => visitor.visit_borrowed_str(&s.text),
            None => self.any(visitor),
        }
    }

    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            // Go leaves an empty list for null.
            return visitor.visit_seq(Seq::new(&[]));
        }
        self.any(visitor)
    }

    fn map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            // Go leaves an empty map or a zero struct for null.
            return visitor.visit_map(Map {
                entries: [].iter(),
                value: None,
            });
        }
        self.any(visitor)
    }
}

/// Every method runs `$how` and gives errors without a position this node's.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) => $how:ident;)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            $(let _ = $arg;)*
            let node = self.0;
            self.$how(visitor).map_err(|e| e.or_at(node))
        })*
    };
}

impl<'de> Deserializer<'de> {
    fn text_strict<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.text(visitor, false)
    }

    fn text_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.text(visitor, true)
    }

    fn bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.scalar() {
            Some(s) => visitor.visit_borrowed_bytes(s.text.as_bytes()),
            None => self.any(visitor),
        }
    }

    fn option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            visitor.visit_unit()
        } else {
            self.any(visitor)
        }
    }

    fn newtype<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn ignored<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn enumeration<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.value {
            Value::Scalar(_) => visitor.visit_enum(Enum {
                variant: self.0,
                content: None,
            }),
            Value::Map(entries) if entries.len() == 1 => visitor.visit_enum(Enum {
                variant: &entries[0].0,
                content: Some(&entries[0].1),
            }),
            _ => Err(Error::at_node(
                format!(
                    "expected a string or a mapping with one key for {}",
                    &visitor as &dyn Expected
                ),
                self.0,
            )),
        }
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'de> {
    type Error = Error;

    forward! {
        deserialize_any() => any;
        deserialize_bool() => any;
        deserialize_i8() => any;
        deserialize_i16() => any;
        deserialize_i32() => any;
        deserialize_i64() => any;
        deserialize_i128() => any;
        deserialize_u8() => any;
        deserialize_u16() => any;
        deserialize_u32() => any;
        deserialize_u64() => any;
        deserialize_u128() => any;
        deserialize_f32() => any;
        deserialize_f64() => any;
        deserialize_char() => text_strict;
        deserialize_str() => text_strict;
        deserialize_string() => text_strict;
        deserialize_identifier() => text_any;
        deserialize_bytes() => bytes;
        deserialize_byte_buf() => bytes;
        deserialize_option() => option;
        deserialize_unit() => unit;
        deserialize_unit_struct(_name: &'static str) => unit;
        deserialize_newtype_struct(_name: &'static str) => newtype;
        deserialize_seq() => seq;
        deserialize_tuple(_len: usize) => seq;
        deserialize_tuple_struct(_name: &'static str, _len: usize) => seq;
        deserialize_map() => map;
        deserialize_struct(_name: &'static str, _fields: &'static [&'static str]) => map;
        deserialize_enum(_name: &'static str, _variants: &'static [&'static str]) => enumeration;
        deserialize_ignored_any() => ignored;
    }
}

struct Seq<'de>(std::iter::Enumerate<std::slice::Iter<'de, Node>>);

impl<'de> Seq<'de> {
    fn new(items: &'de [Node]) -> Seq<'de> {
        Seq(items.iter().enumerate())
    }
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|(index, node)| {
                seed.deserialize(Deserializer(node))
                    .map_err(|e| e.or_at(node).in_item(index))
            })
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'de> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    /// The entry whose key was read and whose value is next.
    value: Option<&'de (Node, Node)>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(entry);
        let key = &entry.0;
        seed.deserialize(Deserializer(key))
            .map(Some)
            .map_err(|e| e.or_at(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| Error::at("a map value was asked for before its key", 0, 0))?;
        seed.deserialize(Deserializer(value))
            .map_err(|e| e.or_at(value).in_key(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Enum<'de> {
    variant: &'de Node,
    content: Option<&'de Node>,
}

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed
            .deserialize(Deserializer(self.variant))
            .map_err(|e| e.or_at(self.variant))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Enum<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.content {
            None => Ok(()),
            Some(node) if Deserializer(node).is_null() => Ok(()),
            Some(node) => Err(Error::at_node("expected a unit variant", node)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.content {
            Some(node) => seed
                .deserialize(Deserializer(node))
                .map_err(|e| e.or_at(node)),
            None => Err(Error::at_node(
                "expected a variant with content",
                self.variant,
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.content {
            Some(node) => de::Deserializer::deserialize_tuple(Deserializer(node), len, visitor),
            None => Err(Error::at_node(
                "expected a variant with content",
                self.variant,
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.content {
            Some(node) => {
                de::Deserializer::deserialize_struct(Deserializer(node), "", fields, visitor)
            }
            None => Err(Error::at_node(
                "expected a variant with content",
                self.variant,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value as Json, json};

    use super::*;

    fn last_wins() -> Options {
        Options {
            duplicate_keys: DuplicateKeys::LastWins,
        }
    }

    fn err<T: DeserializeOwned + fmt::Debug>(text: &str) -> String {
        from_str::<T>(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_path_to_the_value() {
        let e = from_str::<BTreeMap<String, Vec<BTreeMap<String, u8>>>>("a:\n- {x: 1}\n- {y: z}")
            .unwrap_err();
        assert_eq!(e.path().as_deref(), Some("a[1].y"));
        assert_eq!(e.line(), 3);
        assert_eq!(
            e.to_string(),
            "at a[1].y: line 3 column 7: invalid type: string, expected u8"
        );
        // A parse error or a wrong top value has no path.
        assert_eq!(from_str::<Vec<u8>>("a: 1").unwrap_err().path(), None);
        assert_eq!(from_str::<Vec<u8>>("[1").unwrap_err().path(), None);
    }

    /// As kubectl writes one, plus what people add by hand: comments, flow `[]`/`{}`, quoted
    /// and block scalars, anchors and a merge key.
    #[test]
    fn json_text_reads_as_yaml() {
        let text = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}], "x": null,
            "f": -1.5e3, "b": false, "s": "with \"escapes\" \u00e9"}}"#;
        let value: Json = from_str(text).unwrap();
        assert_eq!(value, serde_json::from_str::<Json>(text).unwrap());
    }

    #[test]
    fn string_targets_take_any_scalar_text() {
        let text = "name: 123\nnamespace: true\nf: 1.5\nhex: 0x1F\nq: '007'\nn: .inf\nempty: ''";
        let map: BTreeMap<String, String> = from_str(text).unwrap();
        let want = [
            ("name", "123"),
            ("namespace", "true"),
            ("f", "1.5"),
            ("hex", "0x1F"),
            ("q", "007"),
            ("n", ".inf"),
            ("empty", ""),
        ];
        for (k, v) in want {
            assert_eq!(map[k], v, "{k}");
        }
        // Non-string keys read as their text too.
        let map: BTreeMap<String, u8> = from_str("1: 1\ntrue: 2").unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["1", "true"]);
        // Plain null is not a string (as serde-saphyr): an error for a string, `None` for an
        // option; a quoted or `!!str` one is text.
        assert_eq!(
            err::<BTreeMap<String, String>>("a: x\nb: ~"),
            "at b: line 2 column 4: invalid type: null, expected a string"
        );
        for null in ["a:", "a: ~", "a: null", "a: NULL", "a: !!null x"] {
            let map: BTreeMap<String, Option<String>> = from_str(null).unwrap();
            assert_eq!(map["a"], None, "{null}");
        }
        let map: BTreeMap<String, Option<String>> = from_str("a: 'null'\nb: !!str ~").unwrap();
        assert_eq!(map["a"].as_deref(), Some("null"));
        assert_eq!(map["b"].as_deref(), Some("~"));
    }

    #[test]
    fn untyped_values_follow_the_core_schema() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, labels: {on: yes}}\n\
                    data:\n  n: 1\n  s: \"1\"\n  neg: -42\n  big: 18446744073709551615\n  \
                    huge: 99999999999999999999\n  hex: 0x1f\n  oct: 0o17\n  f: 1.5\n  e: 1e3\n  \
                    dot: .5\n  b: True\n  no: false\n  z: ~\n  nul: null\n  empty:\n  \
                    text: hello world\n  ver: 1.2.3\n  block: |\n    x\n  tagged: !!str 12\n  \
                    int: !!int \"12\"\n  custom: !thing 7\n";
        let value: Json = from_str(text).unwrap();
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "y", "labels": {"on": "yes"}},
                "data": {
                    "n": 1, "s": "1", "neg": -42, "big": 18446744073709551615u64,
                    "huge": 1e20, "hex": 31, "oct": 15, "f": 1.5, "e": 1000.0, "dot": 0.5,
                    "b": true, "no": false, "z": null, "nul": null, "empty": null,
                    "text": "hello world", "ver": "1.2.3", "block": "x\n", "tagged": "12",
                    "int": 12, "custom": 7
                }
            })
        );
        assert_eq!(from_str::<f64>("-.inf").unwrap(), f64::NEG_INFINITY);
        assert!(from_str::<f64>(".NaN").unwrap().is_nan());
        assert_eq!(from_str::<i8>("-0x80").unwrap(), -128);
        assert_eq!(from_str::<Json>("").unwrap(), Json::Null);
        assert_eq!(from_str::<Json>("# only a comment\n").unwrap(), Json::Null);
        // Numbers and booleans where those are wanted: parsed, or a typed error.
        assert_eq!(from_str::<Vec<u16>>("[1, 0x10, +3]").unwrap(), [1, 16, 3]);
        assert_eq!(
            err::<u8>("300"),
            "line 1 column 1: invalid value: integer, expected u8"
        );
        assert_eq!(
            err::<bool>("'true'"),
            "line 1 column 1: invalid type: string, expected a boolean"
        );
        assert_eq!(err::<Json>("!!int x"), "line 1 column 7: invalid !!int");
    }

    #[test]
    fn enums_options_and_tuples() {
        let ok: Result<u32, String> = from_str("Ok: 5").unwrap();
        assert_eq!(ok, Ok(5));
        let e: Result<u32, String> = from_str("{Err: 5}").unwrap();
        assert_eq!(e, Err("5".to_owned()));
        assert!(
            err::<Result<u32, String>>("[Ok]")
                .contains("expected a string or a mapping with one key")
        );
        assert_eq!(from_str::<(u8, String)>("[1, x]").unwrap(), (1, "x".into()));
        assert_eq!(from_str::<()>("~").unwrap(), ());
        assert_eq!(from_str::<Vec<u8>>("null").unwrap(), Vec::<u8>::new());
        assert_eq!(from_str::<char>("x").unwrap(), 'x');
    }

    #[test]
    fn duplicate_keys_follow_the_policy() {
        let text = "a: 1\nb: 2\na: 3\n";
        assert_eq!(err::<Json>(text), "line 3 column 1: duplicate key `a`");
        let doc = Document::parse(text, &last_wins()).unwrap();
        assert_eq!(doc.deserialize::<Json>().unwrap(), json!({"a": 3, "b": 2}));
        // `1` and `"1"` are different keys; `"a"` and `a` the same.
        assert!(from_str::<Json>("1: x\n'1': y").is_ok());
        assert!(err::<Json>("a: x\n\"a\": y").contains("duplicate key `a`"));
        // Nested, and in flow mappings.
        assert_eq!(
            err::<Json>("x:\n  y: {k: 1, k: 2}"),
            "line 2 column 13: duplicate key `k`"
        );
    }

    #[test]
    fn merge_keys() {
        let text = "base: &b {a: 1, b: 2}\nmore: &m {c: 3, a: 9}\n\
                    one: {<<: *b, b: 20}\nlist: {<<: [*b, *m], d: 4}";
        let value: Json = from_str(text).unwrap();
        assert_eq!(value["one"], json!({"a": 1, "b": 20}));
        assert_eq!(value["list"], json!({"a": 1, "b": 2, "c": 3, "d": 4}));
        assert_eq!(
            err::<Json>("x: {<<: 1}"),
            "line 1 column 9: the merge key `<<` takes a mapping or a list of mappings"
        );
        // Quoted, it is an ordinary key.
        assert_eq!(from_str::<Json>("'<<': 1").unwrap(), json!({"<<": 1}));
    }

    #[test]
    fn errors_name_positions_not_values() {
        const TOKEN: &str = "sk-SECRET-9f8e7d";
        let cases: &[(&str, &str)] = &[
            // Wrong types: kinds only.
            (
                "a: [ok]\nb: [x, {t: sk-SECRET-9f8e7d}]",
                "line 2 column 8: invalid type: map, expected a string",
            ),
            (
                "a: sk-SECRET-9f8e7d",
                "line 1 column 4: invalid type: string, expected a sequence",
            ),
            // Parser errors: granit's message, no text.
            ("a: \"sk-SECRET-9f8e7d", "unclosed quote"),
            (
                "a: b\n c: sk-SECRET-9f8e7d",
                "mapping values are not allowed in this context",
            ),
            (
                "a: `sk-SECRET-9f8e7d",
                "line 1 column 4: unexpected character",
            ),
            ("a: [sk-SECRET-9f8e7d", "unclosed bracket"),
            ("a: *sk-SECRET-9f8e7d", "unknown anchor"),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let message = if i < 2 {
                from_str::<BTreeMap<String, Vec<String>>>(text)
                    .map(drop)
                    .unwrap_err()
                    .to_string()
            } else {
                from_str::<Json>(text).map(drop).unwrap_err().to_string()
            };
            assert!(message.contains(want), "case {i}: {message}");
            assert!(
                message.starts_with("line ") || message.starts_with("at "),
                "case {i}: {message}"
            );
            assert!(!message.contains(TOKEN), "case {i}: {message}");
            assert!(!message.contains("SECRET"), "case {i}: {message}");
        }
    }

    #[test]
    fn debug_shows_no_content() {
        let doc = Document::parse("token: SECRET", &Options::default()).unwrap();
        assert_eq!(format!("{doc:?}"), "Document { .. }");
    }

    #[test]
    fn one_document_or_all() {
        assert_eq!(
            err::<Json>("a: 1\n---\nb: 2\n"),
            "line 2 column 1: more than one YAML document where one is expected"
        );
        let docs = Document::parse_all("a: 1\n---\nb: 2\n---\n", &Options::default()).unwrap();
        let values: Vec<Json> = docs.iter().map(|d| d.deserialize().unwrap()).collect();
        assert_eq!(values, [json!({"a": 1}), json!({"b": 2}), Json::Null]);
        // Anchors do not cross documents.
        assert!(Document::parse_all("a: &x 1\n---\nb: *x\n", &Options::default()).is_err());
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_errors() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in b'b'..=b'k' {
            let prev = level - 1;
            let refs = vec![format!("*{}", prev as char); 10].join(", ");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", level as char, level as char));
        }
        assert!(
            err::<Json>(&bomb).ends_with("aliases expand beyond the size limit"),
            "{}",
            err::<Json>(&bomb)
        );
        // A few levels stay fine.
        let small = bomb.lines().take(3).collect::<Vec<_>>().join("\n");
        let value: Json = from_str(&small).unwrap();
        assert_eq!(value["c"][9][9][9], "x");

        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(from_str::<Json>(&deep).is_err());
        // Deep through an alias: each part is shallow enough, the whole is not.
        let half = 200;
        let text = format!(
            "a: &a {}1{}\nb: {}*a{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        assert!(
            err::<Json>(&text).contains("collections nest deeper than 256 levels"),
            "{}",
            err::<Json>(&text)
        );
    }

    #[test]
    fn malformed_input_never_panics() {
        let pieces = [
            "",
            "a",
            ":",
            " ",
            "\n",
            "- ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "?",
            "&a",
            "*a",
            "!",
            "!!int",
            "'",
            "\"",
            "|",
            ">",
            "#",
            "---",
            "...",
            "<<",
            "\t",
            "%YAML 1.2",
            "\\",
            "@",
            "`",
            "0x",
            "-",
            ".",
            "\u{feff}",
            "é",
        ];
        let mut count = 0;
        for a in pieces {
            for b in pieces {
                for c in ["", " ", "\n", ": ", "\n  "] {
                    for d in pieces {
                        let text = format!("{a}{c}{b}{c}{d}");
                        let _ = from_str::<Json>(&text);
                        let _ = from_str::<BTreeMap<String, String>>(&text);
                        let _ = Document::parse_all(&text, &last_wins());
                        count += 1;
                    }
                }
            }
        }
        assert!(count > 1000);
    }
}
