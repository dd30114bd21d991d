//! Recorded HTTP exchanges with real kube-apiservers: JSON files, each an array of exchanges.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One recorded request and its response. Bodies are the exact text sent; empty when there was
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request_url: String,
    pub request_method: String,
    pub request_body: String,
    pub request_content_type: Option<String>,
    pub response_status_code: u16,
    pub response_body: String,
}

/// Why a replay file could not be used; always names the file.
#[derive(Debug)]
pub enum Error {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// Valid JSON but not an array of exchanges; `index` is the exchange at fault.
    Format {
        path: PathBuf,
        index: Option<usize>,
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Json { path, source } => write!(f, "{}: not JSON: {source}", path.display()),
            Error::Format {
                path,
                index: Some(i),
                message,
            } => {
                write!(f, "{}: exchange #{i}: {message}", path.display())
            }
            Error::Format {
                path,
                index: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Json { source, .. } => Some(source),
            Error::Format { .. } => None,
        }
    }
}

/// Every `*.json` file under `dir` (recursively, sorted by path) with its exchanges.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<(PathBuf, Vec<Exchange>)>, Error> {
    let mut files = Vec::new();
    collect_json(dir.as_ref(), &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let exchanges = load_file(&path)?;
            Ok((path, exchanges))
        })
        .collect()
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// The exchanges of one replay file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Vec<Exchange>, Error> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|e| e.at(path))
}

/// The exchanges in the text of a replay file.
pub fn parse(text: &str) -> Result<Vec<Exchange>, Error> {
    let value: Value = serde_json::from_str(text).map_err(|source| Error::Json {
        path: PathBuf::new(),
        source,
    })?;
    let Value::Array(items) = value else {
        return Err(format_error(None, "expected a JSON array of exchanges"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let obj = item
                .as_object()
                .ok_or_else(|| format_error(Some(i), "expected a JSON object"))?;
            exchange(obj).map_err(|message| format_error(Some(i), message))
        })
        .collect()
}

impl Error {
    /// The same error, naming `path` (parse errors are made before the path is known).
    fn at(self, path: &Path) -> Error {
        let path = path.to_owned();
        match self {
            Error::Io { source, .. } => Error::Io { path, source },
            Error::Json { source, .. } => Error::Json { path, source },
            Error::Format { index, message, .. } => Error::Format {
                path,
                index,
                message,
            },
        }
    }
}

fn format_error(index: Option<usize>, message: impl Into<String>) -> Error {
    Error::Format {
        path: PathBuf::new(),
        index,
        message: message.into(),
    }
}

fn exchange(obj: &Map<String, Value>) -> Result<Exchange, String> {
    let code = obj
        .get("response_status_code")
        .ok_or("missing `response_status_code`")?
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .ok_or("`response_status_code` is not an HTTP status code")?;
    Ok(Exchange {
        request_url: string(obj, "request_url")?,
        request_method: string(obj, "request_method")?,
        request_body: optional_string(obj, "request_body")?.unwrap_or_default(),
        request_content_type: optional_string(obj, "request_content_type")?,
        response_status_code: code,
        response_body: optional_string(obj, "response_body")?.unwrap_or_default(),
    })
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    optional_string(obj, key)?.ok_or_else(|| format!("missing `{key}`"))
}

/// A string member; `None` when absent or `null`.
fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`{key}` is not a string but {}",
            crate::compare::shorten(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exchanges() {
        let text = r#"[{"request_url":"/api/v1/pods","request_method":"GET","request_body":"",
            "request_content_type":null,"response_status_code":200,"response_body":"{}\n"}]"#;
        let ex = parse(text).unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].request_method, "GET");
        assert_eq!(ex[0].request_content_type, None);
        assert_eq!(ex[0].response_status_code, 200);
        assert_eq!(ex[0].response_body, "{}\n");
    }

    #[test]
    fn errors_name_file_and_exchange() {
        let dir = std::env::temp_dir().join(format!("kuber-tests-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.json");
        std::fs::write(
            &file,
            r#"[{"request_url":"/","request_method":"GET","response_status_code":"ok"}]"#,
        )
        .unwrap();
        let err = load_dir(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("bad.json: exchange #0: `response_status_code`"),
            "{err}"
        );
    }

    #[test]
    fn bad_json_and_shapes_are_errors() {
        assert!(matches!(parse("[{"), Err(Error::Json { .. })));
        assert!(matches!(
            parse("{}"),
            Err(Error::Format { index: None, .. })
        ));
        let err = parse(r#"[{"request_method":"GET","response_status_code":200}]"#).unwrap_err();
        assert_eq!(err.to_string(), ": exchange #0: missing `request_url`");
        let err = load_file("/nonexistent/replay.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/nonexistent/replay.json: "), "{err}");
    }
}
