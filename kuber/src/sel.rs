//! Label and field selectors, built from parts and checked with the API server's own rules, so a
//! bad key or value fails here with a typed error instead of as a 400 from the server.
//!
//! ```
//! use kuber::sel::{FieldSelector, Selector};
//!
//! let labels = Selector::new()
//!     .eq("app", "web")
//!     .in_("tier", ["frontend", "cache"])
//!     .not_exists("legacy")
//!     .build()?;
//! assert_eq!(labels, "app=web,tier in (frontend,cache),!legacy");
//!
//! let fields = FieldSelector::new().eq("metadata.name", "web-0").build()?;
//! assert_eq!(fields, "metadata.name=web-0");
//! # Ok::<(), kuber::sel::SelectorError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::names;

const NAME_RULE: &str = "must be 1 to 63 characters: letters, digits, '-', '_' or '.', \
                         starting and ending with a letter or digit";
const VALUE_RULE: &str = "must be empty or at most 63 characters: letters, digits, '-', '_' \
                          or '.', starting and ending with a letter or digit";
const PREFIX_RULE: &str = "prefix must be a DNS-1123 subdomain: at most 253 characters, \
                           lowercase letters, digits, '-' and '.', each dot-separated part \
                           starting and ending with a letter or digit";

/// What was wrong with a selector; each variant names the key (and value) at fault and the rule.
///
/// ```
/// use kuber::sel::{Selector, SelectorError};
///
/// let err = Selector::new().eq("app", "a b").build().unwrap_err();
/// assert!(matches!(err, SelectorError::InvalidValue { .. }));
/// assert!(err.to_string().contains("\"a b\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A label key that is not a qualified name (`[prefix/]name`).
    #[error("label key {key:?}: {rule}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A label value the server would reject.
    #[error("label {key:?}: value {value:?} {rule}")]
    InvalidValue {
        /// The requirement's key.
        key: String,
        /// The value as given.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// `in`/`notin` with no value (the server rejects `key in ()`).
    #[error("label {key:?}: operator `{op}` needs at least one value")]
    EmptyValues {
        /// The requirement's key.
        key: String,
        /// The operator.
        op: Op,
    },
    /// An operator given the wrong number of values (`=` takes one, exists takes none).
    #[error("label {key:?}: operator `{op}` takes {expected} value(s), got {got}")]
    ValueCount {
        /// The requirement's key.
        key: String,
        /// The operator.
        op: Op,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// An operator name that is not part of the label selector grammar.
    #[error(
        "unknown selector operator {0:?}: expected one of =, ==, !=, in, notin, exists, !, gt, lt"
    )]
    UnknownOperator(String),
    /// A field selector key the server's parser would split or misread.
    #[error("field selector key {key:?}: {rule}")]
    InvalidFieldKey {
        /// The key as given.
        key: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A field selector operator other than `=`, `==`, `!=`.
    #[error("field selector key {key:?}: operator `{op}` is not allowed (only =, ==, !=)")]
    InvalidFieldOperator {
        /// The key.
        key: String,
        /// The operator.
        op: Op,
    },
}

/// A label selector operator, written as the server's parser spells it.
///
/// Parsed from Kuber.jl's symbol names too (`"in"`, `"notin"`, `"exists"`); anything else is
/// [`SelectorError::UnknownOperator`].
///
/// ```
/// use kuber::sel::Op;
///
/// assert_eq!("notin".parse::<Op>()?, Op::NotIn);
/// assert_eq!(Op::NotEq.to_string(), "!=");
/// assert!("like".parse::<Op>().is_err());
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `key=value`
    Eq,
    /// `key==value` (same meaning as `=`)
    DoubleEq,
    /// `key!=value` (also matches objects without the label)
    NotEq,
    /// `key in (v1,v2)`
    In,
    /// `key notin (v1,v2)` (also matches objects without the label)
    NotIn,
    /// `key`: the label is present
    Exists,
    /// `!key`: the label is absent
    DoesNotExist,
    /// `key>n`: the label is an integer greater than `n`
    Gt,
    /// `key<n`: the label is an integer less than `n`
    Lt,
}

impl Op {
    /// How the operator is written in a selector string (`exists` has no symbol: it is written
    /// as the bare key, and `!` goes before the key).
    ///
    /// ```
    /// assert_eq!(kuber::sel::Op::In.as_str(), "in");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::DoubleEq => "==",
            Op::NotEq => "!=",
            Op::In => "in",
            Op::NotIn => "notin",
            Op::Exists => "exists",
            Op::DoesNotExist => "!",
            Op::Gt => ">",
            Op::Lt => "<",
        }
    }

    /// How many values the operator takes: `(min, max)`.
    fn arity(self) -> (usize, usize) {
        match self {
            Op::Eq | Op::DoubleEq | Op::NotEq | Op::Gt | Op::Lt => (1, 1),
            Op::In | Op::NotIn => (1, usize::MAX),
            Op::Exists | Op::DoesNotExist => (0, 0),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Op, SelectorError> {
        Ok(match s {
            "=" | "eq" => Op::Eq,
            "==" => Op::DoubleEq,
            "!=" | "ne" => Op::NotEq,
            "in" => Op::In,
            "notin" => Op::NotIn,
            "exists" => Op::Exists,
            "!" | "notexists" | "doesnotexist" => Op::DoesNotExist,
            ">" | "gt" => Op::Gt,
            "<" | "lt" => Op::Lt,
            other => return Err(SelectorError::UnknownOperator(other.to_owned())),
        })
    }
}

/// One requirement of a label selector: a key, an operator and its values.
///
/// ```
/// use kuber::sel::{Op, Requirement};
///
/// let r = Requirement::new("env", Op::NotIn, ["dev", "test"])?;
/// assert_eq!(r.to_string(), "env notin (dev,test)");
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    /// A checked requirement: the key, every value and the number of values follow the server's
    /// rules for `op`.
    ///
    /// ```
    /// use kuber::sel::{Op, Requirement};
    ///
    /// assert!(Requirement::new("app", Op::In, Vec::<String>::new()).is_err());
    /// ```
    pub fn new<I, V>(
        key: impl Into<String>,
        op: Op,
        values: I,
    ) -> Result<Requirement, SelectorError>
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let r = Requirement::unchecked(key.into(), op, values);
        r.validate()?;
        Ok(r)
    }

    fn unchecked<I, V>(key: String, op: Op, values: I) -> Requirement
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        Requirement {
            key,
            op,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The key.
    ///
    /// ```
    /// # use kuber::sel::{Op, Requirement};
    /// assert_eq!(Requirement::new("app", Op::Exists, [""; 0])?.key(), "app");
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    ///
    /// ```
    /// # use kuber::sel::{Op, Requirement};
    /// assert_eq!(Requirement::new("app", Op::Exists, [""; 0])?.op(), Op::Exists);
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn op(&self) -> Op {
        self.op
    }

    /// The values, in the order given.
    ///
    /// ```
    /// # use kuber::sel::{Op, Requirement};
    /// assert_eq!(Requirement::new("a", Op::In, ["y", "x"])?.values(), ["y", "x"]);
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Checks the requirement against the server's rules.
    fn validate(&self) -> Result<(), SelectorError> {
        validate_key(&self.key)?;
        let (min, max) = self.op.arity();
        let got = self.values.len();
        if got < min || got > max {
            return Err(if matches!(self.op, Op::In | Op::NotIn) {
                SelectorError::EmptyValues {
                    key: self.key.clone(),
                    op: self.op,
                }
            } else {
                SelectorError::ValueCount {
                    key: self.key.clone(),
                    op: self.op,
                    expected: min,
                    got,
                }
            });
        }
        for value in &self.values {
            let bad = |rule: &str| SelectorError::InvalidValue {
                key: self.key.clone(),
                value: value.clone(),
                rule: rule.to_owned(),
            };
            if matches!(self.op, Op::Gt | Op::Lt) {
                // The server parses these as a 64-bit integer.
                // The server parses these as a 64-bit integer, and checks them as label
                // values too, so a negative number is refused.
                value
                    .parse::<i64>()
                    .map_err(|_| bad("must be a 64-bit integer for `gt`/`lt`"))?;
            }
            if !names::is_label_value(value) {
                return Err(bad(VALUE_RULE));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Requirement {
    /// The requirement as the server parses it (`key=v`, `key in (a,b)`, `key`, `!key`, …).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match self.op {
            Op::Exists => f.write_str(key),
            Op::DoesNotExist => write!(f, "!{key}"),
            Op::In | Op::NotIn => write!(f, "{key} {} ({})", self.op, self.values.join(",")),
            op => write!(f, "{key}{op}{}", self.values.join(",")),
        }
    }
}

/// A label selector: requirements joined by `,` (all must hold), in the order they were added.
///
/// The builder methods never fail; [`Selector::build`] checks every requirement and answers the
/// string or the first problem. `Display` writes the string unchecked.
///
/// ```
/// use kuber::sel::Selector;
///
/// let s = Selector::new()
///     .exists("app")
///     .ne("env", "prod")
///     .not_in("tier", ["db"])
///     .gt("replicas", 2);
/// assert_eq!(s.build()?, "app,env!=prod,tier notin (db),replicas>2");
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// An empty selector (it matches every object).
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().build()?, "");
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn new() -> Selector {
        Selector::default()
    }

    fn push<I, V>(mut self, key: impl Into<String>, op: Op, values: I) -> Selector
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.requirements
            .push(Requirement::unchecked(key.into(), op, values));
        self
    }

    /// `key=value`.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().eq("app", "web").to_string(), "app=web");
    /// ```
    pub fn eq(self, key: impl Into<String>, value: impl Into<String>) -> Selector {
        self.push(key, Op::Eq, [value])
    }

    /// `key==value`, for those who write kubectl selectors that way.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().eq2("app", "web").to_string(), "app==web");
    /// ```
    pub fn eq2(self, key: impl Into<String>, value: impl Into<String>) -> Selector {
        self.push(key, Op::DoubleEq, [value])
    }

    /// `key!=value` (objects without the label match too).
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().ne("app", "web").to_string(), "app!=web");
    /// ```
    pub fn ne(self, key: impl Into<String>, value: impl Into<String>) -> Selector {
        self.push(key, Op::NotEq, [value])
    }

    /// `key in (v1,v2,…)`, values in the order given; at least one is needed.
    ///
    /// ```
    /// let s = kuber::sel::Selector::new().in_("env", ["qa", "dev"]);
    /// assert_eq!(s.to_string(), "env in (qa,dev)");
    /// ```
    pub fn in_<I, V>(self, key: impl Into<String>, values: I) -> Selector
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.push(key, Op::In, values)
    }

    /// `key notin (v1,v2,…)` (objects without the label match too); at least one value.
    ///
    /// ```
    /// let s = kuber::sel::Selector::new().not_in("env", ["prod"]);
    /// assert_eq!(s.to_string(), "env notin (prod)");
    /// ```
    pub fn not_in<I, V>(self, key: impl Into<String>, values: I) -> Selector
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.push(key, Op::NotIn, values)
    }

    /// `key`: the label is present, whatever its value.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().exists("app").to_string(), "app");
    /// ```
    pub fn exists(self, key: impl Into<String>) -> Selector {
        self.push(key, Op::Exists, [""; 0])
    }

    /// `!key`: the label is absent.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().not_exists("app").to_string(), "!app");
    /// ```
    pub fn not_exists(self, key: impl Into<String>) -> Selector {
        self.push(key, Op::DoesNotExist, [""; 0])
    }

    /// `key>n`: the label's value is an integer greater than `n`.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().gt("gen", 3).to_string(), "gen>3");
    /// ```
    pub fn gt(self, key: impl Into<String>, n: i64) -> Selector {
        self.push(key, Op::Gt, [n.to_string()])
    }

    /// `key<n`: the label's value is an integer less than `n`.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().lt("gen", 3).to_string(), "gen<3");
    /// ```
    pub fn lt(self, key: impl Into<String>, n: i64) -> Selector {
        self.push(key, Op::Lt, [n.to_string()])
    }

    /// Adds an already checked requirement.
    ///
    /// ```
    /// use kuber::sel::{Op, Requirement, Selector};
    ///
    /// let r = Requirement::new("app", Op::Eq, ["web"])?;
    /// assert_eq!(Selector::new().with(r).build()?, "app=web");
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn with(mut self, requirement: Requirement) -> Selector {
        self.requirements.push(requirement);
        self
    }

    /// The requirements, in the order added.
    ///
    /// ```
    /// assert_eq!(kuber::sel::Selector::new().exists("a").requirements().len(), 1);
    /// ```
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Checks every requirement (first problem wins) and answers the selector string.
    ///
    /// ```
    /// use kuber::sel::Selector;
    ///
    /// assert_eq!(Selector::new().eq("app", "web").build()?, "app=web");
    /// assert!(Selector::new().eq("-app", "web").build().is_err());
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn build(&self) -> Result<String, SelectorError> {
        for r in &self.requirements {
            r.validate()?;
        }
        Ok(self.to_string())
    }
}

impl fmt::Display for Selector {
    /// The selector string, unchecked (see [`Selector::build`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromIterator<Requirement> for Selector {
    fn from_iter<T: IntoIterator<Item = Requirement>>(iter: T) -> Selector {
        Selector {
            requirements: iter.into_iter().collect(),
        }
    }
}

/// Kuber.jl's `sel(label, op, values…)`: one requirement as a string, checked.
///
/// Gives Kuber.jl's strings (`sel("l", In, ["a","b"])` is `"l in (a,b)"`, `sel("l", Exists, [])`
/// is `"l"`) and also covers `=`, `==`, `!=`, `!` that Kuber.jl leaves to raw strings. Unlike
/// Kuber.jl, the operator's value count, the key and the values are checked: `in` with no value
/// or `exists` with values is an error rather than a string the server rejects. Join several
/// with [`join`] (Kuber.jl's `sel(c1, c2, …)`) or use [`Selector`].
///
/// ```
/// use kuber::sel::Op;
///
/// assert_eq!(kuber::sel("l", Op::In, ["a", "b"])?, "l in (a,b)");
/// assert_eq!(kuber::sel("l", Op::Exists, [""; 0])?, "l");
/// assert!(kuber::sel("l", Op::In, [""; 0]).is_err());
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
pub fn sel<I, V>(label: &str, op: Op, values: I) -> Result<String, SelectorError>
where
    I: IntoIterator<Item = V>,
    V: Into<String>,
{
    Requirement::new(label, op, values).map(|r| r.to_string())
}

/// Kuber.jl's `sel(c1, c2, …)`: conditions joined by `", "` (the server ignores the spaces).
///
/// The parts are joined as given, like Kuber.jl; build them with [`fn@sel`] so each is checked.
///
/// ```
/// use kuber::sel::{Op, join};
///
/// let s = join([kuber::sel("a", Op::Exists, [""; 0])?, kuber::sel("b", Op::In, ["x"])?]);
/// assert_eq!(s, "a, b in (x)");
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
pub fn join<I, S>(conditions: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let parts: Vec<S> = conditions.into_iter().collect();
    let parts: Vec<&str> = parts.iter().map(AsRef::as_ref).collect();
    parts.join(", ")
}

/// A field selector: `field=value`, `field==value`, `field!=value` terms joined by `,`.
///
/// Values are escaped as the server's parser expects (`\`, `,` and `=` get a backslash), so any
/// value can be matched. Which fields a kind supports is the server's business
/// (`metadata.name` and `metadata.namespace` work everywhere).
///
/// ```
/// use kuber::sel::FieldSelector;
///
/// let s = FieldSelector::new()
///     .eq("metadata.namespace", "default")
///     .ne("status.phase", "Running");
/// assert_eq!(s.build()?, "metadata.namespace=default,status.phase!=Running");
/// # Ok::<(), kuber::sel::SelectorError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<(String, Op, String)>,
}

impl FieldSelector {
    /// An empty field selector (it matches every object).
    ///
    /// ```
    /// assert_eq!(kuber::sel::FieldSelector::new().build()?, "");
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn new() -> FieldSelector {
        FieldSelector::default()
    }

    /// `field=value`.
    ///
    /// ```
    /// let s = kuber::sel::FieldSelector::new().eq("metadata.name", "a,b");
    /// assert_eq!(s.build()?, r"metadata.name=a\,b");
    /// # Ok::<(), kuber::sel::SelectorError>(())
    /// ```
    pub fn eq(self, field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        self.term(field, Op::Eq, value)
    }

    /// `field==value`.
    ///
    /// ```
    /// let s = kuber::sel::FieldSelector::new().eq2("metadata.name", "web");
    /// assert_eq!(s.to_string(), "metadata.name==web");
    /// ```
    pub fn eq2(self, field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        self.term(field, Op::DoubleEq, value)
    }

    /// `field!=value`.
    ///
    /// ```
    /// let s = kuber::sel::FieldSelector::new().ne("spec.nodeName", "");
    /// assert_eq!(s.to_string(), "spec.nodeName!=");
    /// ```
    pub fn ne(self, field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        self.term(field, Op::NotEq, value)
    }

    /// A term with any operator; only `=`, `==` and `!=` pass [`FieldSelector::build`].
    ///
    /// ```
    /// use kuber::sel::{FieldSelector, Op};
    ///
    /// assert!(FieldSelector::new().term("metadata.name", Op::In, "a").build().is_err());
    /// ```
    pub fn term(
        mut self,
        field: impl Into<String>,
        op: Op,
        value: impl Into<String>,
    ) -> FieldSelector {
        self.terms.push((field.into(), op, value.into()));
        self
    }

    /// Checks every term (first problem wins) and answers the selector string.
    ///
    /// ```
    /// use kuber::sel::FieldSelector;
    ///
    /// assert!(FieldSelector::new().eq("", "x").build().is_err());
    /// ```
    pub fn build(&self) -> Result<String, SelectorError> {
        for (key, op, _) in &self.terms {
            validate_field_key(key)?;
            if !matches!(op, Op::Eq | Op::DoubleEq | Op::NotEq) {
                return Err(SelectorError::InvalidFieldOperator {
                    key: key.clone(),
                    op: *op,
                });
            }
        }
        Ok(self.to_string())
    }
}

impl fmt::Display for FieldSelector {
    /// The selector string, values escaped, keys unchecked (see [`FieldSelector::build`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, op, value)) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{key}{op}")?;
            for c in value.chars() {
                if matches!(c, '\\' | ',' | '=') {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// The server finds a term's operator at the first `=` or `!=` and splits terms at `,`, and does
/// not unescape keys: a key holding any of these (or `\`, or blanks) cannot be expressed.
fn validate_field_key(key: &str) -> Result<(), SelectorError> {
    let bad = |rule: &str| SelectorError::InvalidFieldKey {
        key: key.to_owned(),
        rule: rule.to_owned(),
    };
    if key.is_empty() {
        return Err(bad("must not be empty"));
    }
    if key
        .chars()
        .any(|c| matches!(c, '=' | '!' | ',' | '\\') || c.is_whitespace())
    {
        return Err(bad(
            "must not contain '=', '!', ',', '\\' or whitespace (the server would split it)",
        ));
    }
    Ok(())
}

/// A qualified name: `[prefix/]name`, the prefix a DNS-1123 subdomain.
fn validate_key(key: &str) -> Result<(), SelectorError> {
    let bad = |rule: String| SelectorError::InvalidKey {
        key: key.to_owned(),
        rule,
    };
    let (prefix, name) = match key.split_once('/') {
        None => (None, key),
        Some((prefix, name)) => (Some(prefix), name),
    };
    if let Some(prefix) = prefix {
        if name.contains('/') {
            return Err(bad("must contain at most one '/'".into()));
        }
        if prefix.is_empty() {
            return Err(bad("prefix before '/' must not be empty".into()));
        }
        if !names::is_dns1123_subdomain(prefix) {
            return Err(bad(format!("{PREFIX_RULE} (got {prefix:?})")));
        }
    }
    if !names::is_qualified_name(name) {
        let what = if prefix.is_some() {
            "name after '/' "
        } else {
            ""
        };
        return Err(bad(format!("{what}{NAME_RULE}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
