//! The options of writes as the real server decodes them: `dryRun` (query, or a DeleteOptions
//! body) and DeleteOptions (the body when there is one, else the query: never both, as
//! apiserver's `DeleteResource`/`DeleteCollection` handlers read them).

use serde_json::Value;

use crate::request::Query;
use crate::select::{FieldSelector, LabelSelector};
use crate::status::{self, Failure};
use crate::store::{Continue, Deletion, ListQuery, Policy, ReadFrom, default_policy};

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

    fn from_query(query: &Query) -> Result<Raw, Failure> {
        let first = |name: &str| query.get(name).map(str::to_owned);
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
            dry_run: query.all("dryRun").map(str::to_owned).collect(),
            propagation: first("propagationPolicy"),
            orphan,
            precondition_rv: None,
            precondition_uid: None,
        })
    }
}

fn invalid(message: String) -> Failure {
    status::invalid_options(
        "DeleteOptions",
        "propagationPolicy",
        "FieldValueInvalid",
        &message,
    )
}

/// The policy of a delete from its DeleteOptions' `propagationPolicy` and `orphanDependents`.
fn policy(
    kind: &kuber_api::KindInfo,
    named: Option<&str>,
    orphan: Option<bool>,
) -> Result<Policy, Failure> {
    let chosen = match named {
        None => None,
        Some("Background") => Some(Policy::Background),
        Some("Foreground") => Some(Policy::Foreground),
        Some("Orphan") => Some(Policy::Orphan),
        Some(other) => {
            return Err(status::invalid_options(
                "DeleteOptions",
                "propagationPolicy",
                "FieldValueNotSupported",
                &format!(
                    "Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            ));
        }
    };
    match (chosen, orphan) {
        (Some(p), Some(_)) => Err(invalid(format!(
            "Invalid value: \"{}\": orphanDependents and deletionPropagation cannot be both set",
            match p {
                Policy::Background => "Background",
                Policy::Foreground => "Foreground",
                Policy::Orphan => "Orphan",
            }
        ))),
        (Some(p), None) => Ok(p),
        (None, Some(true)) => Ok(Policy::Orphan),
        (None, Some(false)) => Ok(Policy::Background),
        (None, None) => Ok(default_policy(kind)),
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

/// The options of a delete of `kind`: from `body` when it is not empty, else from `query`.
pub fn delete_options(
    kind: &kuber_api::KindInfo,
    body: &[u8],
    query: &Query,
) -> Result<Deletion, Failure> {
    let raw = if body.is_empty() {
        Raw::from_query(query)?
    } else {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            status::bad_request(format!("the body of the request is not valid JSON: {e}"))
        })?;
        Raw::from_body(&value)?
    };
    deletion(kind, raw)
}

/// The `deleteOptions` of an Eviction, whose `dryRun` may also come as the create's.
pub fn eviction_options(
    kind: &kuber_api::KindInfo,
    options: Option<&Value>,
    create_dry_run: bool,
) -> Result<Deletion, Failure> {
    let raw = match options {
        None | Some(Value::Null) => Raw::default(),
        Some(v) => Raw::from_body(v)?,
    };
    let mut options = deletion(kind, raw)?;
    options.dry_run |= create_dry_run;
    Ok(options)
}

fn deletion(kind: &kuber_api::KindInfo, raw: Raw) -> Result<Deletion, Failure> {
    let dry_run = dry_run(raw.dry_run.iter().map(String::as_str), OptionsKind::Delete)?;
    let policy = policy(kind, raw.propagation.as_deref(), raw.orphan)?;
    Ok(Deletion {
        dry_run,
        policy,
        precondition_rv: raw.precondition_rv,
        precondition_uid: raw.precondition_uid,
    })
}

/// Checks `resourceVersion`, `resourceVersionMatch` and `sendInitialEvents` as the real server
/// does; watch answers need `sendInitialEvents` with `NotOlderThan`.
fn read_from(
    rv: Option<&str>,
    rv_match: Option<&str>,
    send_initial_events: Option<&str>,
    watch: bool,
) -> Result<ReadFrom, Failure> {
    let rv = rv.filter(|r| !r.is_empty());
    let rv_match = rv_match.filter(|m| !m.is_empty());
    if let Some(m) = rv_match
        && m != "Exact"
        && m != "NotOlderThan"
    {
        return Err(status::invalid_list_options(
            "resourceVersionMatch",
            "FieldValueNotSupported",
            &format!(
                "Unsupported value: \"{m}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
            ),
        ));
    }
    if send_initial_events.is_some() {
        if !watch {
            return Err(status::invalid_list_options(
                "sendInitialEvents",
                "FieldValueForbidden",
                "Forbidden: sendInitialEvents is forbidden for list",
            ));
        }
        if rv_match != Some("NotOlderThan") {
            return Err(status::invalid_list_options(
                "resourceVersionMatch",
                "FieldValueForbidden",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
    } else if watch && rv_match.is_some() {
        return Err(status::invalid_list_options(
            "resourceVersionMatch",
            "FieldValueForbidden",
            "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ));
    }
    let Some(rv) = rv else {
        if rv_match.is_some() && send_initial_events.is_none() {
            return Err(status::invalid_list_options(
                "resourceVersionMatch",
                "FieldValueForbidden",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        return Ok(ReadFrom::Latest);
    };
    let n: u64 = rv
        .parse()
        .map_err(|_| status::invalid_resource_version(rv))?;
    Ok(match rv_match {
        Some("Exact") if n == 0 => {
            return Err(status::invalid_list_options(
                "resourceVersionMatch",
                "FieldValueForbidden",
                "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
        Some("Exact") => ReadFrom::Exact(n),
        _ if n == 0 => ReadFrom::Any,
        _ => ReadFrom::NotOlderThan(n),
    })
}

/// A list's or watch's query: selectors for `kind`, paging, which state.
pub fn list_query(
    kind: &kuber_api::KindInfo,
    q: &Query,
    watching: bool,
) -> Result<ListQuery, Failure> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
        .map_err(|e| status::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse_for(
        q.get("fieldSelector").unwrap_or(""),
        kind.group,
        kind.plural,
    )
    .map_err(|e| status::bad_request(e.to_string()))?;
    let from = read_from(
        q.get("resourceVersion"),
        q.get("resourceVersionMatch"),
        q.get("sendInitialEvents"),
        watching,
    )?;
    let continue_from =
        match q.get("continue").filter(|t| !t.is_empty()) {
            Some(token) => Some(Continue::parse(token).ok_or_else(|| {
                status::bad_request(format!("continue key is not valid: {token}"))
            })?),
            None => None,
        };
    Ok(ListQuery {
        labels,
        fields,
        selecting: q.get("labelSelector").is_some_and(|s| !s.is_empty())
            || q.get("fieldSelector").is_some_and(|s| !s.is_empty()),
        limit: q.get("limit").and_then(|l| l.parse::<usize>().ok()),
        continue_from,
        from,
    })
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
        let q = |raw: &str| Query::parse(Some(raw));
        let from_body = delete_options(kind, br#"{"dryRun":["All"]}"#, &q("")).unwrap();
        assert!(from_body.dry_run);
        let from_query = delete_options(kind, b"", &q("dryRun=All")).unwrap();
        assert!(from_query.dry_run);
        // A body wins over the query entirely.
        let both = delete_options(kind, b"{}", &q("dryRun=All")).unwrap();
        assert!(!both.dry_run);
        let wrong = delete_options(kind, br#"{"dryRun":"All"}"#, &q("")).unwrap_err();
        assert_eq!(wrong.code, 400);
        let bad = delete_options(kind, br#"{"dryRun":["Some"]}"#, &q("")).unwrap_err();
        assert_eq!(bad.code, 422);
        assert!(
            bad.body["message"]
                .as_str()
                .unwrap()
                .starts_with("DeleteOptions.meta.k8s.io")
        );
    }
}
