//! The options of writes as the real server decodes them: `dryRun` (query, or a DeleteOptions
//! body) and DeleteOptions (the body when there is one, else the query: never both, as
//! apiserver's `DeleteResource`/`DeleteCollection` handlers read them).

use serde_json::Value;

use crate::status::{self, Failure};
use crate::store::Policy;

/// Which options a verb's `dryRun` belongs to, for the 422 that names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionsKind {
    Create,
    Update,
    Patch,
    Delete,
}

impl OptionsKind {
    fn name(self) -> &'static str {
        match self {
            OptionsKind::Create => "CreateOptions",
            OptionsKind::Update => "UpdateOptions",
            OptionsKind::Patch => "PatchOptions",
            OptionsKind::Delete => "DeleteOptions",
        }
    }
}

/// `dryRun` values: none (a real write) or every one `All` (the only value the real server
/// supports); anything else is its 422 (`ValidateDryRun`).
pub fn dry_run<'a>(
    values: impl IntoIterator<Item = &'a str>,
    kind: OptionsKind,
) -> Result<bool, Failure> {
    let values: Vec<&str> = values.into_iter().collect();
    if values.iter().all(|v| *v == "All") {
        return Ok(!values.is_empty());
    }
    // Go's %#v of a []string.
    let shown: Vec<String> = values
        .iter()
        .map(|v| Value::String((*v).to_owned()).to_string())
        .collect();
    Err(status::invalid_options(
        kind.name(),
        "dryRun",
        "FieldValueNotSupported",
        &format!(
            "Unsupported value: []string{{{}}}: supported values: \"All\"",
            shown.join(", ")
        ),
    ))
}

/// A delete's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub policy: Policy,
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

/// What a DeleteOptions carries before the kind's default policy is applied.
#[derive(Default)]
struct Raw {
    dry_run: Vec<String>,
    propagation: Option<String>,
    orphan: Option<bool>,
    precondition_rv: Option<String>,
    precondition_uid: Option<String>,
}

fn decode_error(field: &str, want: &str, got: &Value) -> Failure {
    let what = match got {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    };
    status::bad_request(format!(
        "json: cannot unmarshal {what} into Go struct field DeleteOptions.{field} of type {want}"
    ))
}

impl Raw {
    fn from_body(body: &Value) -> Result<Raw, Failure> {
        let Some(body) = body.as_object() else {
            return Err(decode_error("", "v1.DeleteOptions", body));
        };
        let text = |field: &str| -> Result<Option<String>, Failure> {
            match body.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(decode_error(field, "string", other)),
            }
        };
        let dry_run = match body.get("dryRun") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| decode_error("dryRun", "string", v))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(decode_error("dryRun", "[]string", other)),
        };
        let orphan = match body.get("orphanDependents") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => return Err(decode_error("orphanDependents", "bool", other)),
        };
        let pre = |field: &str| {
            body.get("preconditions")
                .and_then(|p| p.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Raw {
            dry_run,
            propagation: text("propagationPolicy")?,
            orphan,
            precondition_rv: pre("resourceVersion"),
            precondition_uid: pre("uid"),
        })
    }

    fn from_query(query: &[(String, String)]) -> Result<Raw, Failure> {
        let first = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let orphan = match first("orphanDependents") {
            None => None,
            Some(v) => Some(parse_bool(&v).ok_or_else(|| {
                status::bad_request(format!(
                    "strconv.ParseBool: parsing {}: invalid syntax",
                    Value::String(v)
                ))
            })?),
        };
        Ok(Raw {
            dry_run: query
                .iter()
                .filter(|(k, _)| k == "dryRun")
                .map(|(_, v)| v.clone())
                .collect(),
            propagation: first("propagationPolicy"),
            orphan,
            precondition_rv: None,
            precondition_uid: None,
        })
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

impl DeleteOptions {
    /// The options of a delete of `kind`: from `body` when it is not empty, else from `query`.
    pub fn read(
        kind: &kuber_api::KindInfo,
        body: &[u8],
        query: &[(String, String)],
    ) -> Result<DeleteOptions, Failure> {
        let raw = if body.is_empty() {
            Raw::from_query(query)?
        } else {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                status::bad_request(format!("the body of the request is not valid JSON: {e}"))
            })?;
            Raw::from_body(&value)?
        };
        Self::from_raw(kind, raw)
    }

    /// The `deleteOptions` of an Eviction, whose `dryRun` may also come as the create's.
    pub fn of_eviction(
        kind: &kuber_api::KindInfo,
        options: Option<&Value>,
        create_dry_run: bool,
    ) -> Result<DeleteOptions, Failure> {
        let raw = match options {
            None | Some(Value::Null) => Raw::default(),
            Some(v) => Raw::from_body(v)?,
        };
        let mut options = Self::from_raw(kind, raw)?;
        options.dry_run |= create_dry_run;
        Ok(options)
    }

    fn from_raw(kind: &kuber_api::KindInfo, raw: Raw) -> Result<DeleteOptions, Failure> {
        let dry_run = dry_run(raw.dry_run.iter().map(String::as_str), OptionsKind::Delete)?;
        let policy = crate::store::delete_policy(kind, raw.propagation.as_deref(), raw.orphan)?;
        Ok(DeleteOptions {
            dry_run,
            policy,
            precondition_rv: raw.precondition_rv,
            precondition_uid: raw.precondition_uid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_takes_all_and_refuses_the_rest_as_the_real_server() {
        assert_eq!(dry_run([], OptionsKind::Create).ok(), Some(false));
        assert_eq!(
            dry_run(["All", "All"], OptionsKind::Create).ok(),
            Some(true)
        );
        let f = dry_run(["All", "x"], OptionsKind::Patch).unwrap_err();
        assert_eq!(f.code, 422);
        assert_eq!(
            f.body["message"],
            "PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"All\", \"x\"}: supported values: \"All\""
        );
        assert_eq!(dry_run([""], OptionsKind::Delete).unwrap_err().code, 422);
    }

    #[test]
    fn delete_options_come_from_the_body_else_the_query() {
        let kind = kuber_api::registry::find("ConfigMap", Some("v1")).unwrap();
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let from_body = DeleteOptions::read(kind, br#"{"dryRun":["All"]}"#, &[]).unwrap();
        assert!(from_body.dry_run);
        let from_query = DeleteOptions::read(kind, b"", &q(&[("dryRun", "All")])).unwrap();
        assert!(from_query.dry_run);
        // A body wins over the query entirely.
        let both = DeleteOptions::read(kind, b"{}", &q(&[("dryRun", "All")])).unwrap();
        assert!(!both.dry_run);
        let wrong = DeleteOptions::read(kind, br#"{"dryRun":"All"}"#, &[]).unwrap_err();
        assert_eq!(wrong.code, 400);
        let bad = DeleteOptions::read(kind, br#"{"dryRun":["Some"]}"#, &[]).unwrap_err();
        assert_eq!(bad.code, 422);
        assert!(
            bad.body["message"]
                .as_str()
                .unwrap()
                .starts_with("DeleteOptions.meta.k8s.io")
        );
    }
}
