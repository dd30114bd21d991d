//! Environment lookups behind a value, so tests can pass their own variables instead of changing
//! the process environment (tests run in parallel).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the loaders read environment variables: the process environment, or a fixed set.
#[derive(Clone)]
pub struct Env {
    fixed: Option<Arc<HashMap<String, String>>>,
}

impl Env {
    /// The process environment, read at each lookup.
    pub fn process() -> Env {
        Env { fixed: None }
    }

    /// Only these variables; everything else is unset.
    pub fn from_vars<I, K, V>(vars: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Env {
            fixed: Some(Arc::new(vars)),
        }
    }

    /// The variable's value. Unset, empty and non-UTF-8 values are all `None`: Go's tools treat
    /// an empty variable as unset.
    pub fn var(&self, name: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set.
    pub(crate) fn var_any(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.var(n))
    }

    /// The home folder: `HOME`, else (Windows) `USERPROFILE`.
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .or_else(|| {
                if cfg!(windows) {
                    self.var("USERPROFILE")
                } else {
                    None
                }
            })
            .map(PathBuf::from)
    }
}

// Values may hold credentials (proxy passwords), so only the shape is shown.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fixed {
            None => f.write_str("Env(process)"),
            Some(vars) => {
                let mut names: Vec<&String> = vars.keys().collect();
                names.sort();
                f.debug_tuple("Env").field(&names).finish()
            }
        }
    }
}
